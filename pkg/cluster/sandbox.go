package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tektoncd/pipeline/pkg/apis/pipeline/pod"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"knative.dev/pkg/apis"
	"taskgate.dev/taskgate/pkg/config"
)

// SandboxAccount is the service account sandboxed runs use: no token is
// mounted and it holds no secrets.
const SandboxAccount = "taskgate-sandbox"

// RunOptions bound a sandboxed run.
type RunOptions struct {
	// Timeout is the PipelineRun's timeouts.pipeline; the client gives up
	// Grace later (pods may wait for images and nodes).
	Timeout time.Duration
	Grace   time.Duration
	// Keep leaves the namespace for debugging instead of deleting it.
	Keep bool
	// Egress is what the run's pods may reach (`.taskgate.yaml`
	// sandbox.egress for its Task); nothing when empty.
	Egress []config.Egress
	// Build is what the Task is given for the build's outputs (--image,
	// --source); Objects are created in the sandbox before the run (the
	// checkout's ConfigMaps, see Stage).
	Build   BuildInputs
	Objects []any
}

func (o RunOptions) withDefaults() RunOptions {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.Grace <= 0 {
		o.Grace = 2 * time.Minute
	}
	return o
}

// RunResult is what a sandboxed run did.
type RunResult struct {
	Namespace   string
	PipelineRun string
	Done        bool   // the PipelineRun finished (else the client-side deadline passed)
	Succeeded   bool   // its Succeeded condition is True
	Reason      string // of the Succeeded condition
	Message     string
	Duration    time.Duration
	TaskRuns    []TaskRunResult
	// Given says what the Task was given for the build's outputs (Staged.Given).
	Given []string
}

// TaskRunResult is one TaskRun of a sandboxed run.
type TaskRunResult struct {
	Name, PipelineTask string
	Succeeded          bool
	Reason, Message    string
	Results            map[string]string // string results by name (TEST_OUTPUT)
	Pod                string
	// Log says why a step failed when the condition does not: the end of
	// its log (Tekton's entrypoint says there why it failed a step that
	// exited 0, e.g. results too large) or the kubelet's message for a
	// step that never started.
	Log string
}

// Sandbox creates a throw-away namespace for one run: Pod Security
// "restricted" enforced, a service account without a token, a quota,
// default limits and a default-deny NetworkPolicy (no traffic in or out
// of its pods: a partner's Task cannot reach the cluster's services or
// the internet; the kubelet still pulls images). The returned cleanup deletes the namespace and must be
// deferred: it runs on a fresh context, so an expired or cancelled ctx
// (a deadline, Ctrl-C) still cleans up.
func (c *Client) Sandbox(ctx context.Context, egress ...config.Egress) (string, func() error, error) {
	ns := &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{
		GenerateName: "taskgate-sandbox-",
		Labels: map[string]string{
			"pod-security.kubernetes.io/enforce":         "restricted",
			"pod-security.kubernetes.io/enforce-version": "latest",
			"pod-security.kubernetes.io/warn":            "restricted",
			"pod-security.kubernetes.io/audit":           "restricted",
			"app.kubernetes.io/managed-by":               "taskgate",
		},
	}}
	u, err := toUnstructured(ns)
	if err != nil {
		return "", nil, err
	}
	if _, err := c.create(ctx, u, "", false); err != nil {
		return "", nil, fmt.Errorf("creating the sandbox namespace: %w", err)
	}
	name := u.GetName()
	cleanup := func() error {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		gvr, _ := Resource(schema.FromAPIVersionAndKind("v1", "Namespace"))
		bg := metav1.DeletePropagationBackground
		return c.dyn.Resource(gvr).Delete(dctx, name, metav1.DeleteOptions{PropagationPolicy: &bg})
	}
	no := false
	objs := []any{
		&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta: metav1.ObjectMeta{Name: SandboxAccount}, AutomountServiceAccountToken: &no},
		&corev1.ResourceQuota{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ResourceQuota"},
			ObjectMeta: metav1.ObjectMeta{Name: "taskgate-sandbox"},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
				corev1.ResourcePods:                   resource.MustParse("10"),
				corev1.ResourceRequestsCPU:            resource.MustParse("2"),
				corev1.ResourceRequestsMemory:         resource.MustParse("4Gi"),
				corev1.ResourceLimitsCPU:              resource.MustParse("4"),
				corev1.ResourceLimitsMemory:           resource.MustParse("8Gi"),
				corev1.ResourcePersistentVolumeClaims: resource.MustParse("0"),
				corev1.ResourceSecrets:                resource.MustParse("0"),
				corev1.ResourceServices:               resource.MustParse("0"),
			}}},
		&corev1.LimitRange{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "LimitRange"},
			ObjectMeta: metav1.ObjectMeta{Name: "taskgate-sandbox"},
			Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
				Type:           corev1.LimitTypeContainer,
				Default:        corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
				DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			}}}},
		DenyAll(),
	}
	if len(egress) > 0 {
		objs = append(objs, AllowEgress(egress))
	}
	for _, o := range objs {
		u, err := toUnstructured(o)
		if err == nil {
			_, err = c.create(ctx, u, name, false)
		}
		if err != nil {
			return "", nil, errors2(fmt.Errorf("setting up sandbox %s: %w", name, err), cleanup())
		}
	}
	if err := c.quotaInEffect(ctx, name); err != nil {
		return "", nil, errors2(err, cleanup())
	}
	return name, cleanup, nil
}

// quotaInEffect waits until the controller manager has computed the
// sandbox quota's usage. Before that the API server's quota admission may
// not see the new quota yet (it caches a namespace's empty quota list for
// 30 s), and a pod over it would be admitted: seen on a loaded node.
func (c *Client) quotaInEffect(ctx context.Context, ns string) error {
	gvr, _ := Resource(schema.FromAPIVersionAndKind("v1", "ResourceQuota"))
	ctx, cancel := context.WithTimeout(ctx, quotaWait)
	defer cancel()
	for {
		u, err := c.dyn.Resource(gvr).Namespace(ns).Get(ctx, "taskgate-sandbox", metav1.GetOptions{})
		if err == nil {
			if hard, _, _ := unstructured.NestedMap(u.Object, "status", "hard"); len(hard) > 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the quota of sandbox %s was not in effect after %s (the cluster's controller manager computes it): not running a Task without it", ns, quotaWait)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// quotaWait bounds quotaInEffect.
var quotaWait = 30 * time.Second

// DenyAll is the sandbox's NetworkPolicy: every pod of the namespace,
// both directions, no rule that allows anything.
func DenyAll() *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "taskgate-sandbox-deny-all"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{}, // every pod
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
		}}
}

// AllowEgress is the NetworkPolicy that opens, beside DenyAll (policies
// add up), exactly the configured ranges and TCP ports.
func AllowEgress(egress []config.Egress) *networkingv1.NetworkPolicy {
	tcp := corev1.ProtocolTCP
	var rules []networkingv1.NetworkPolicyEgressRule
	for _, e := range egress {
		r := networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: e.CIDR}}}}
		for _, p := range e.Ports {
			port := intstr.FromInt32(int32(p))
			r.Ports = append(r.Ports, networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: &port})
		}
		rules = append(rules, r)
	}
	return &networkingv1.NetworkPolicy{TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: "taskgate-sandbox-egress"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress:      rules,
		}}
}

// errors2 keeps the first error and notes a failed cleanup.
func errors2(err, cleanupErr error) error {
	if cleanupErr != nil {
		return fmt.Errorf("%w (and deleting the namespace failed: %v)", err, cleanupErr)
	}
	return err
}

// SandboxRun is the PipelineRun a sandbox runs for a Task without the
// build's inputs: placeholders and empty workspaces (see Stage).
func SandboxRun(t *v1.Task) *v1.PipelineRun { return Stage(t, BuildInputs{}, nil).Run }

// Run runs a PipelineRun for real in a fresh sandbox (see Sandbox): its
// task runs use the sandbox's token-less service account and a pod
// template that satisfies "restricted" at the pod level, it times out
// after opts.Timeout, and the client stops waiting opts.Grace later. The
// namespace is deleted when Run returns, whatever happened.
func (c *Client) Run(ctx context.Context, pr *v1.PipelineRun, opts RunOptions) (res *RunResult, err error) {
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout+opts.Grace)
	defer cancel()
	ns, cleanup, err := c.Sandbox(ctx, opts.Egress...)
	if err != nil {
		return nil, err
	}
	if !opts.Keep {
		defer func() {
			if cerr := cleanup(); cerr != nil && err == nil {
				err = fmt.Errorf("deleting sandbox %s: %w", ns, cerr)
			}
		}()
	}
	for _, o := range opts.Objects {
		u, err := toUnstructured(o)
		if err == nil {
			_, err = c.create(ctx, u, ns, false)
		}
		if err != nil {
			return &RunResult{Namespace: ns}, fmt.Errorf("creating the run's inputs in sandbox %s: %w", ns, err)
		}
	}
	pr = pr.DeepCopy()
	no, yes := false, true
	pr.Spec.Timeouts = &v1.TimeoutFields{Pipeline: &metav1.Duration{Duration: opts.Timeout}}
	pr.Spec.TaskRunTemplate.ServiceAccountName = SandboxAccount
	if pr.Spec.TaskRunTemplate.PodTemplate == nil {
		pr.Spec.TaskRunTemplate.PodTemplate = &pod.PodTemplate{}
	}
	tpl := pr.Spec.TaskRunTemplate.PodTemplate
	tpl.AutomountServiceAccountToken = &no
	if tpl.SecurityContext == nil {
		tpl.SecurityContext = &corev1.PodSecurityContext{}
	}
	tpl.SecurityContext.RunAsNonRoot = &yes
	tpl.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	tpl.ImagePullSecrets = nil

	u, err := toUnstructured(pr)
	if err != nil {
		return nil, err
	}
	res = &RunResult{Namespace: ns, PipelineRun: pr.Name}
	start := time.Now()
	if _, err := c.create(ctx, u, ns, false); err != nil {
		return res, err
	}
	res.PipelineRun = u.GetName()
	done, err := c.wait(ctx, ns, res.PipelineRun)
	res.Duration = time.Since(start)
	if done != nil {
		if cond := done.Status.GetCondition(apis.ConditionSucceeded); cond != nil {
			res.Done = !cond.IsUnknown()
			res.Succeeded = cond.IsTrue()
			res.Reason, res.Message = cond.Reason, cond.Message
		}
	}
	// collect what ran even after a deadline: it says where it got stuck
	trs, lerr := c.taskRuns(context.WithoutCancel(ctx), ns, res.PipelineRun)
	res.TaskRuns = trs
	if err == nil {
		err = lerr
	}
	return res, err
}

// wait watches a PipelineRun until its Succeeded condition is final or
// ctx ends; it returns the last state seen.
func (c *Client) wait(ctx context.Context, ns, name string) (*v1.PipelineRun, error) {
	gvr, _ := Resource(schema.FromAPIVersionAndKind("tekton.dev/v1", "PipelineRun"))
	ri := c.dyn.Resource(gvr).Namespace(ns)
	var last *v1.PipelineRun
	for {
		u, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return last, err
		}
		if last, err = fromUnstructured[v1.PipelineRun](u); err != nil || finished(last) {
			return last, err
		}
		w, err := ri.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: u.GetResourceVersion()})
		if err != nil {
			return last, err
		}
		seen, done, err := watchUntilDone(ctx, w)
		if seen != nil {
			last = seen
		}
		if done || err != nil {
			return last, err
		}
		// the server closed the watch: get and watch again
	}
}

// watchUntilDone reads a watch until the PipelineRun finishes, ctx ends
// (an error) or the server closes the watch; it returns the last state
// seen (nil when none).
func watchUntilDone(ctx context.Context, w watch.Interface) (last *v1.PipelineRun, done bool, err error) {
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return last, false, fmt.Errorf("the PipelineRun did not finish: %w", ctx.Err())
		case ev, ok := <-w.ResultChan():
			if !ok {
				return last, false, nil
			}
			u, isObj := ev.Object.(*unstructured.Unstructured)
			if !isObj || (ev.Type != watch.Added && ev.Type != watch.Modified) {
				continue
			}
			if pr, err := fromUnstructured[v1.PipelineRun](u); err == nil {
				last = pr
				if finished(pr) {
					return pr, true, nil
				}
			}
		}
	}
}

func finished(pr *v1.PipelineRun) bool {
	cond := pr.Status.GetCondition(apis.ConditionSucceeded)
	return cond != nil && !cond.IsUnknown()
}

func (c *Client) taskRuns(ctx context.Context, ns, pipelineRun string) ([]TaskRunResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	gvr, _ := Resource(schema.FromAPIVersionAndKind("tekton.dev/v1", "TaskRun"))
	list, err := c.dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun=" + pipelineRun})
	if err != nil {
		return nil, err
	}
	var out []TaskRunResult
	for i := range list.Items {
		tr, err := fromUnstructured[v1.TaskRun](&list.Items[i])
		if err != nil {
			return out, err
		}
		r := TaskRunResult{Name: tr.Name, PipelineTask: tr.Labels["tekton.dev/pipelineTask"], Pod: tr.Status.PodName, Results: map[string]string{}}
		if cond := tr.Status.GetCondition(apis.ConditionSucceeded); cond != nil {
			r.Succeeded, r.Reason, r.Message = cond.IsTrue(), cond.Reason, cond.Message
		}
		for _, res := range tr.Status.Results {
			if res.Value.Type == v1.ParamTypeString {
				r.Results[res.Name] = res.Value.StringVal
			}
		}
		if !r.Succeeded {
			r.Log = c.failedStepLog(ctx, ns, tr)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// failedStepLog says why a step failed when Tekton's condition does not:
// the end of the log of the first step that exited non-zero, else the
// kubelet's message for a step that never started (e.g. "container has
// runAsNonRoot and image will run as root"); "" when neither is known.
func (c *Client) failedStepLog(ctx context.Context, ns string, tr *v1.TaskRun) string {
	if tr.Status.PodName == "" {
		return ""
	}
	for _, st := range tr.Status.Steps {
		if st.Terminated == nil || st.Terminated.ExitCode == 0 || c.core == nil {
			continue
		}
		tail, limit := int64(5), int64(2048)
		data, err := c.core.Pods(ns).GetLogs(tr.Status.PodName, &corev1.PodLogOptions{Container: st.Container, TailLines: &tail, LimitBytes: &limit}).DoRaw(ctx)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(data))
	}
	gvr, _ := Resource(schema.FromAPIVersionAndKind("v1", "Pod"))
	u, err := c.dyn.Resource(gvr).Namespace(ns).Get(ctx, tr.Status.PodName, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	p, err := fromUnstructured[corev1.Pod](u)
	if err != nil {
		return ""
	}
	for _, st := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if w := st.State.Waiting; w != nil && w.Message != "" {
			return fmt.Sprintf("%s: %s: %s", st.Name, w.Reason, w.Message)
		}
	}
	return ""
}

func toUnstructured(obj any) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return u, nil
}

func fromUnstructured[T any](u *unstructured.Unstructured) (*T, error) {
	var out T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

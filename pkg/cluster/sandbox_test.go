package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
	"knative.dev/pkg/apis"
	duckv1 "knative.dev/pkg/apis/duck/v1"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/config"
)

const checkTask = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  params:
    - name: IMAGE_URL
    - name: LEVEL
      default: low
  workspaces:
    - name: source
    - name: creds
      optional: true
  results:
    - name: TEST_OUTPUT
  steps:
    - name: check
      image: registry.example/check
      script: echo
    - image: registry.example/other
      script: echo
`

func TestSandboxRun(t *testing.T) {
	f := parse(t, "hello.yaml", checkTask)
	pr := SandboxRun(f.Task)
	pt := pr.Spec.PipelineSpec.Tasks[0]
	if pr.Name != "hello" || pt.TaskSpec == nil || len(pt.TaskSpec.Steps) != 2 {
		t.Fatalf("PipelineRun does not embed the Task: %+v", pr)
	}
	if len(pt.Params) != 1 || pt.Params[0].Name != "IMAGE_URL" || !strings.Contains(pt.Params[0].Value.StringVal, ".invalid") {
		t.Errorf("params %+v: want a placeholder for IMAGE_URL only", pt.Params)
	}
	if len(pr.Spec.Workspaces) != 1 || pr.Spec.Workspaces[0].Name != "source" || pr.Spec.Workspaces[0].EmptyDir == nil {
		t.Errorf("workspaces %+v: want source on an emptyDir, creds (optional) unbound", pr.Spec.Workspaces)
	}
	ctx := context.Background()
	pr.SetDefaults(ctx)
	if errs := pr.Validate(ctx); errs != nil {
		t.Errorf("Tekton rejects the sandbox PipelineRun: %v", errs)
	}
}

var (
	gvrNS  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	gvrPR  = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "pipelineruns"}
	gvrTR  = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "taskruns"}
	listOf = map[schema.GroupVersionResource]string{
		gvrNS: "NamespaceList", gvrPR: "PipelineRunList", gvrTR: "TaskRunList",
		{Version: "v1", Resource: "serviceaccounts"}:                             "ServiceAccountList",
		{Version: "v1", Resource: "resourcequotas"}:                              "ResourceQuotaList",
		{Version: "v1", Resource: "limitranges"}:                                 "LimitRangeList",
		{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}: "NetworkPolicyList",
	}
)

// fakeCluster is a dynamic fake that names generateName objects and
// records what was created.
func fakeCluster(t *testing.T) (*Client, *dynfake.FakeDynamicClient) {
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listOf)
	dyn.PrependReactor("create", "namespaces", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured)
		if u.GetName() == "" {
			u.SetName(u.GetGenerateName() + "x1")
		}
		return false, nil, nil
	})
	// what the controller manager does: compute the quota's status
	dyn.PrependReactor("create", "resourcequotas", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured)
		hard, _, _ := unstructured.NestedMap(u.Object, "spec", "hard")
		unstructured.SetNestedMap(u.Object, hard, "status", "hard")
		return false, nil, nil
	})
	return NewForDynamic(dyn, "default"), dyn
}

func succeeded(status corev1.ConditionStatus, reason, msg string) duckv1.Status {
	return duckv1.Status{Conditions: duckv1.Conditions{{Type: apis.ConditionSucceeded, Status: status, Reason: reason, Message: msg}}}
}

func deleted(dyn *dynfake.FakeDynamicClient, ns string) bool {
	for _, a := range dyn.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok && a.GetResource() == gvrNS && d.GetName() == ns {
			return true
		}
	}
	return false
}

// The sandbox: restricted Pod Security, a token-less service account,
// quota and limits; the PipelineRun uses them and a timeout; results are
// collected; the namespace is deleted.
func TestRunSucceeds(t *testing.T) {
	c, dyn := fakeCluster(t)
	const out = `{"result":"SKIPPED","timestamp":"2026-01-01T00:00:00Z","successes":0,"failures":0,"warnings":0}`
	dyn.PrependReactor("create", "pipelineruns", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured)
		pr, err := fromUnstructured[v1.PipelineRun](u)
		if err != nil {
			return true, nil, err
		}
		tpl := pr.Spec.TaskRunTemplate
		if tpl.ServiceAccountName != SandboxAccount || tpl.PodTemplate == nil || tpl.PodTemplate.AutomountServiceAccountToken == nil || *tpl.PodTemplate.AutomountServiceAccountToken ||
			pr.Spec.Timeouts == nil || pr.Spec.Timeouts.Pipeline.Duration != time.Minute {
			return true, nil, errors.New("PipelineRun not sandboxed: " + u.GetName())
		}
		// what Tekton would do: finish the run, with a TaskRun and its result
		pr.Status.Status = succeeded(corev1.ConditionTrue, "Succeeded", "Tasks Completed: 1")
		tr := &v1.TaskRun{TypeMeta: metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "TaskRun"}, ObjectMeta: metav1.ObjectMeta{
			Name: "hello-hello", Namespace: a.GetNamespace(), Labels: map[string]string{"tekton.dev/pipelineRun": pr.Name, "tekton.dev/pipelineTask": "hello"}}}
		tr.Status.Status = succeeded(corev1.ConditionTrue, "Succeeded", "All Steps have completed executing")
		tr.Status.Results = []v1.TaskRunResult{{Name: "TEST_OUTPUT", Type: v1.ResultsTypeString, Value: *v1.NewStructuredValues(out)}}
		for _, o := range []any{pr, tr} {
			uo, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
			if err != nil {
				return true, nil, err
			}
			gvr := gvrPR
			if o == any(tr) {
				gvr = gvrTR
			}
			if err := dyn.Tracker().Create(gvr, &unstructured.Unstructured{Object: uo}, a.GetNamespace()); err != nil {
				return true, nil, err
			}
		}
		return true, u, nil
	})
	f := parse(t, "hello.yaml", checkTask)
	res, err := c.Run(context.Background(), SandboxRun(f.Task), RunOptions{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Done || !res.Succeeded || len(res.TaskRuns) != 1 || res.TaskRuns[0].Results["TEST_OUTPUT"] != out {
		t.Fatalf("result %+v", res)
	}
	ns, err := dyn.Tracker().Get(gvrNS, "", res.Namespace)
	if err == nil {
		labels := ns.(*unstructured.Unstructured).GetLabels()
		if labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("namespace labels %v", labels)
		}
	}
	var kinds []string
	for _, a := range dyn.Actions() {
		if a.GetVerb() == "create" {
			kinds = append(kinds, a.GetResource().Resource)
		}
	}
	if got := strings.Join(kinds, ","); got != "namespaces,serviceaccounts,resourcequotas,limitranges,networkpolicies,pipelineruns" {
		t.Errorf("created %s", got)
	}
	// default-deny: every pod, both directions, nothing allowed
	np, err := dyn.Tracker().Get(schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}, res.Namespace, "taskgate-sandbox-deny-all")
	if err != nil {
		t.Fatalf("no NetworkPolicy in the sandbox: %v", err)
	}
	var pol networkingv1.NetworkPolicy
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(np.(*unstructured.Unstructured).Object, &pol); err != nil {
		t.Fatal(err)
	}
	if len(pol.Spec.PodSelector.MatchLabels)+len(pol.Spec.PodSelector.MatchExpressions) != 0 || len(pol.Spec.Ingress)+len(pol.Spec.Egress) != 0 ||
		len(pol.Spec.PolicyTypes) != 2 {
		t.Errorf("NetworkPolicy is not default-deny: %+v", pol.Spec)
	}
	if !deleted(dyn, res.Namespace) {
		t.Error("sandbox namespace not deleted")
	}
	expect(t, RunFindings(f, res, err, RunOptions{Timeout: time.Minute}), at{"hello.yaml", 1, 1, check.Info, "SKIPPED"})
}

// The namespace goes away when the run cannot even start, and when the
// caller gives up (a deadline, Ctrl-C) while waiting.
func TestRunAlwaysDeletesNamespace(t *testing.T) {
	f := parse(t, "hello.yaml", checkTask)

	c, dyn := fakeCluster(t)
	dyn.PrependReactor("create", "pipelineruns", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("admission webhook denied the request")
	})
	res, err := c.Run(context.Background(), SandboxRun(f.Task), RunOptions{Timeout: time.Minute})
	if err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("err %v", err)
	}
	if !deleted(dyn, res.Namespace) {
		t.Error("namespace not deleted after a failed create")
	}

	c, dyn = fakeCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	dyn.PrependWatchReactor("pipelineruns", func(k8stesting.Action) (bool, watch.Interface, error) {
		cancel() // interrupted while waiting for the run
		return false, nil, nil
	})
	res, err = c.Run(ctx, SandboxRun(f.Task), RunOptions{Timeout: time.Minute})
	if !errors.Is(err, context.Canceled) || res == nil || res.Done {
		t.Fatalf("res %+v err %v", res, err)
	}
	if !deleted(dyn, res.Namespace) {
		t.Error("namespace not deleted after an interrupt")
	}
	expect(t, RunFindings(f, res, err, RunOptions{Timeout: time.Minute}), at{"hello.yaml", 17, 5, check.Error, "did not finish"})
}

// A status update seen through the watch ends the wait.
func TestRunWatchesToCompletion(t *testing.T) {
	c, dyn := fakeCluster(t)
	dyn.PrependWatchReactor("pipelineruns", func(a k8stesting.Action) (bool, watch.Interface, error) {
		ns := a.GetNamespace()
		w, err := dyn.Tracker().Watch(gvrPR, ns)
		if err != nil {
			return true, nil, err
		}
		go func() {
			time.Sleep(50 * time.Millisecond)
			obj, err := dyn.Tracker().Get(gvrPR, ns, "hello")
			if err != nil {
				return
			}
			u := obj.(*unstructured.Unstructured)
			unstructured.SetNestedSlice(u.Object, []any{map[string]any{"type": "Succeeded", "status": "False", "reason": "Failed", "message": "boom"}}, "status", "conditions")
			dyn.Tracker().Update(gvrPR, u, ns)
		}()
		return true, w, nil
	})
	f := parse(t, "hello.yaml", checkTask)
	res, err := c.Run(context.Background(), SandboxRun(f.Task), RunOptions{Timeout: time.Minute})
	if err != nil || !res.Done || res.Succeeded || res.Message != "boom" {
		t.Fatalf("res %+v err %v", res, err)
	}
	expect(t, RunFindings(f, res, err, RunOptions{}), at{"hello.yaml", 6, 3, check.Error, "boom"})
}

// How a finished run is judged.
func TestRunFindings(t *testing.T) {
	f := parse(t, "hello.yaml", checkTask)
	ok := func(out string) *RunResult {
		return &RunResult{Namespace: "ns", Done: true, Succeeded: true, TaskRuns: []TaskRunResult{{Succeeded: true, Results: map[string]string{"TEST_OUTPUT": out}}}}
	}
	psa := `pods "hello-hello-pod" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "step-check" must set securityContext.allowPrivilegeEscalation=false)`
	for _, tc := range []struct {
		name string
		res  *RunResult
		err  error
		want at
	}{
		{"valid TEST_OUTPUT", ok(`{"result":"SUCCESS","timestamp":"2026-01-01T00:00:00Z","successes":1,"failures":0,"warnings":0}`), nil, at{"hello.yaml", 1, 1, check.Info, "SUCCESS"}},
		{"not JSON", ok(`SUCCESS`), nil, at{"hello.yaml", 15, 7, check.Error, "not a JSON object"}},
		{"bad result", ok(`{"result":"PASSED","timestamp":"2026-01-01T00:00:00Z","successes":1,"failures":0,"warnings":0}`), nil, at{"hello.yaml", 15, 7, check.Error, `result "PASSED" is not one of`}},
		{"timestamp not RFC 3339", ok(`{"result":"SKIPPED","timestamp":"0","successes":0,"failures":0,"warnings":0}`), nil, at{"hello.yaml", 15, 7, check.Error, `timestamp "0" is not RFC 3339`}},
		{"negative count", ok(`{"result":"FAILURE","timestamp":"2026-01-01T00:00:00Z","successes":0,"failures":-2,"warnings":0}`), nil, at{"hello.yaml", 15, 7, check.Error, "failures -2 is negative"}},
		// a cluster reading results from sidecar logs may take more than a termination message holds
		{"over 4096 bytes", ok(`{"result":"SUCCESS","timestamp":"2026-01-01T00:00:00Z","successes":1,"failures":0,"warnings":0,"note":"` + strings.Repeat("x", 4096) + `"}`), nil, at{"hello.yaml", 15, 7, check.Error, "over Tekton's default limit of 4096 bytes"}},
		// checkTask's optional workspace creds is not bound in the sandbox
		{"ERROR without credentials", ok(`{"result":"ERROR","timestamp":"2026-01-01T00:00:00Z","successes":0,"failures":0,"warnings":0,"note":"no token"}`), nil, at{"hello.yaml", 15, 7, check.Error, "reported ERROR without its credentials (the sandbox gives it no optional workspace creds)"}},
		{"FAILURE is a verdict", ok(`{"result":"FAILURE","timestamp":"2026-01-01T00:00:00Z","successes":0,"failures":2,"warnings":0}`), nil, at{"hello.yaml", 1, 1, check.Info, "FAILURE"}},
		{"no TEST_OUTPUT", &RunResult{Done: true, Succeeded: true, TaskRuns: []TaskRunResult{{Succeeded: true, Results: map[string]string{}}}}, nil, at{"hello.yaml", 15, 7, check.Error, "no TEST_OUTPUT"}},
		{"restricted rejects a step", &RunResult{Done: true, TaskRuns: []TaskRunResult{{Reason: "PodCreationFailed", Message: psa}}}, nil, at{"hello.yaml", 17, 7, check.Error, "allowPrivilegeEscalation"}},
		{"unnamed step fails", &RunResult{Done: true, TaskRuns: []TaskRunResult{{Reason: "Failed", Message: `"step-unnamed-1" exited with code 1`}}}, nil, at{"hello.yaml", 20, 7, check.Error, "exited with code 1"}},
		// Tekton's entrypoint fails a step whose results exceed the
		// termination message, and says so only in the step's log
		{"results too large", &RunResult{Done: true, TaskRuns: []TaskRunResult{{Reason: "Failed", Message: `"step-check" exited with code 1`,
			Log: "2026/01/01 00:00:00 Termination message is above max allowed size 4096, caused by large task result."}}}, nil, at{"hello.yaml", 15, 7, check.Error, "(TEST_OUTPUT with its others) are over Tekton's limit of 4096 bytes"}},
		{"failed step's log", &RunResult{Done: true, TaskRuns: []TaskRunResult{{Reason: "Failed", Message: `"step-check" exited with code 1`, Log: "mkdir: can't create directory '/usr/local/check': Permission denied"}}}, nil, at{"hello.yaml", 17, 7, check.Error, `exited with code 1; mkdir: can't create directory`}},
		{"timed out", &RunResult{Done: true, Reason: "PipelineRunTimeout", Message: `PipelineRun "hello" failed to finish within "1m0s"`, TaskRuns: []TaskRunResult{{PipelineTask: "hello", Reason: "TaskRunCancelled", Message: "TaskRun cancelled as the PipelineRun it belongs to has timed out."}}}, nil, at{"hello.yaml", 17, 5, check.Error, "timed out"}},
		{"cannot start", nil, errors.New("namespaces is forbidden"), at{"hello.yaml", 1, 1, check.Error, "could not start"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, RunFindings(f, tc.res, tc.err, RunOptions{Timeout: time.Minute}), tc.want)
		})
	}
	// Tekton's own containers rejected: a cluster setting, said so
	got := RunFindings(f, &RunResult{Done: true, TaskRuns: []TaskRunResult{{Message: `violates PodSecurity "restricted:latest": (containers "prepare", "place-scripts" must set ...)`}}}, nil, RunOptions{})
	if len(got) != 1 || !strings.Contains(got[0].Help, "set-security-context") {
		t.Errorf("injected containers: %v", got)
	}
}

// Egress the maintainers allow a Task opens exactly those ranges and TCP
// ports, beside the default-deny policy.
func TestSandboxEgress(t *testing.T) {
	c, dyn := fakeCluster(t)
	ns, cleanup, err := c.Sandbox(context.Background(), config.Egress{Task: "icr-scan", CIDR: "203.0.113.0/24", Ports: []int{443}})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	gvr := schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}
	if _, err := dyn.Tracker().Get(gvr, ns, "taskgate-sandbox-deny-all"); err != nil {
		t.Errorf("no default-deny policy beside the egress one: %v", err)
	}
	u, err := dyn.Tracker().Get(gvr, ns, "taskgate-sandbox-egress")
	if err != nil {
		t.Fatal(err)
	}
	var pol networkingv1.NetworkPolicy
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.(*unstructured.Unstructured).Object, &pol); err != nil {
		t.Fatal(err)
	}
	e := pol.Spec.Egress
	if len(pol.Spec.PolicyTypes) != 1 || pol.Spec.PolicyTypes[0] != networkingv1.PolicyTypeEgress || len(pol.Spec.Ingress) != 0 ||
		len(e) != 1 || len(e[0].To) != 1 || e[0].To[0].IPBlock == nil || e[0].To[0].IPBlock.CIDR != "203.0.113.0/24" ||
		len(e[0].Ports) != 1 || e[0].Ports[0].Port.IntValue() != 443 || *e[0].Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("egress policy: %+v", pol.Spec)
	}
}

// Without a computed quota (no controller manager) no Task runs: the
// sandbox fails closed and is deleted.
func TestSandboxWaitsForItsQuota(t *testing.T) {
	wait := quotaWait
	defer func() { quotaWait = wait }()
	quotaWait = 500 * time.Millisecond
	c, dyn := fakeCluster(t)
	dyn.PrependReactor("create", "resourcequotas", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, a.(k8stesting.CreateAction).GetObject(), nil // never stored, never computed
	})
	_, _, err := c.Sandbox(context.Background())
	if err == nil || !strings.Contains(err.Error(), "was not in effect") {
		t.Fatalf("Sandbox: %v", err)
	}
	if !deleted(dyn, "taskgate-sandbox-x1") {
		t.Error("the sandbox was not deleted")
	}
}

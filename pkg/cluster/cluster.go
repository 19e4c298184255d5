// Package cluster checks submissions against a real Kubernetes API
// server with Tekton installed: server-side dry-runs (`dryRun=All`,
// `fieldValidation=Strict`) of the partner Task and of the composed
// Pipelines and PipelineRuns, and a real run of the Task in a throw-away
// sandbox namespace. What the server says becomes findings at file:line.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"gopkg.in/yaml.v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	sigsyaml "sigs.k8s.io/yaml"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Client talks to one cluster through the dynamic client: taskgate needs
// no typed clientset, and Tekton's kinds are CRDs anyway. The core client
// only reads a failed step's log (a subresource the dynamic client
// cannot get); nil, the findings go without it.
type Client struct {
	dyn  dynamic.Interface
	core corev1client.CoreV1Interface
	// Namespace is where dry-runs are made (the kubeconfig context's
	// namespace, or "default").
	Namespace string
}

// New connects with a kubeconfig (empty: $KUBECONFIG or ~/.kube/config)
// and an optional context name.
func New(kubeconfig, kubeContext string) (*Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: kubeContext})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return NewForConfig(cfg, ns)
}

// NewForConfig connects with a REST config.
func NewForConfig(cfg *rest.Config, namespace string) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "taskgate"
	cfg.WarningHandler = nil
	cfg.WarningHandlerWithContext = collector{}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if namespace == "" {
		namespace = "default"
	}
	return &Client{dyn: dyn, core: core, Namespace: namespace}, nil
}

// NewForDynamic wraps a dynamic client (tests pass a fake one).
func NewForDynamic(dyn dynamic.Interface, namespace string) *Client {
	return &Client{dyn: dyn, Namespace: namespace}
}

// Resources the dry-run and the sandbox use, by apiVersion and kind.
var resources = map[schema.GroupVersionKind]string{
	{Group: "tekton.dev", Version: "v1", Kind: "Task"}:                 "tasks",
	{Group: "tekton.dev", Version: "v1", Kind: "Pipeline"}:             "pipelines",
	{Group: "tekton.dev", Version: "v1", Kind: "PipelineRun"}:          "pipelineruns",
	{Group: "tekton.dev", Version: "v1", Kind: "TaskRun"}:              "taskruns",
	{Group: "tekton.dev", Version: "v1beta1", Kind: "Task"}:            "tasks",
	{Group: "tekton.dev", Version: "v1beta1", Kind: "Pipeline"}:        "pipelines",
	{Group: "tekton.dev", Version: "v1beta1", Kind: "StepAction"}:      "stepactions",
	{Group: "tekton.dev", Version: "v1alpha1", Kind: "StepAction"}:     "stepactions",
	{Version: "v1", Kind: "Namespace"}:                                 "namespaces",
	{Version: "v1", Kind: "ServiceAccount"}:                            "serviceaccounts",
	{Version: "v1", Kind: "ResourceQuota"}:                             "resourcequotas",
	{Version: "v1", Kind: "LimitRange"}:                                "limitranges",
	{Version: "v1", Kind: "Pod"}:                                       "pods",
	{Version: "v1", Kind: "ConfigMap"}:                                 "configmaps",
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}: "networkpolicies",
}

// ErrKind is the error for an object of a kind taskgate does not send.
var ErrKind = errors.New("taskgate does not send objects of this kind to a cluster")

// Resource is the API resource of a kind taskgate sends.
func Resource(gvk schema.GroupVersionKind) (schema.GroupVersionResource, error) {
	r, ok := resources[gvk]
	if !ok {
		return schema.GroupVersionResource{}, fmt.Errorf("%w: %s", ErrKind, gvk)
	}
	return gvk.GroupVersion().WithResource(r), nil
}

func (c *Client) resource(obj *unstructured.Unstructured, ns string) (dynamic.ResourceInterface, error) {
	gvr, err := Resource(obj.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	if gvr.Resource == "namespaces" {
		return c.dyn.Resource(gvr), nil
	}
	obj.SetNamespace(ns)
	return c.dyn.Resource(gvr).Namespace(ns), nil
}

// DryRun asks the server to create obj in the client's namespace without
// persisting it (`dryRun=All`): admission, defaulting, schema validation
// and strict decoding (`fieldValidation=Strict`: unknown and duplicate
// fields are errors) all run. It returns the server's warnings.
func (c *Client) DryRun(ctx context.Context, obj *unstructured.Unstructured) ([]string, error) {
	return c.create(ctx, obj, c.Namespace, true)
}

func (c *Client) create(ctx context.Context, obj *unstructured.Unstructured, ns string, dryRun bool) ([]string, error) {
	ri, err := c.resource(obj, ns)
	if err != nil {
		return nil, err
	}
	opts := metav1.CreateOptions{FieldValidation: "Strict", FieldManager: "taskgate"}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	w := &warnings{}
	out, err := ri.Create(context.WithValue(ctx, warningsKey{}, w), obj, opts)
	if err == nil && !dryRun {
		obj.Object = out.Object
	}
	return w.list, err
}

// warnings collects the Warning headers of one request: the handler
// finds the collector in the request's context, so concurrent requests
// do not mix their warnings.
type warnings struct {
	mu   sync.Mutex
	list []string
}

type warningsKey struct{}

type collector struct{}

func (collector) HandleWarningHeaderWithContext(ctx context.Context, code int, _ string, text string) {
	if w, ok := ctx.Value(warningsKey{}).(*warnings); ok && code == 299 {
		w.mu.Lock()
		w.list = append(w.list, text)
		w.mu.Unlock()
	}
}

// Object is what taskgate sends for a manifest: a tekton.dev/v1 document
// as written (so the server judges unknown fields and wrong types itself,
// as `kubectl apply` would), and for a v1beta1 Task or Pipeline the v1
// object Tekton's conversion made of it (the CRDs convert v1beta1 only
// through Tekton's webhook, which a cluster may not reach for a dry-run).
func Object(f *manifest.File) (*unstructured.Unstructured, error) {
	if f == nil || f.Root == nil {
		return nil, fmt.Errorf("the manifest did not parse")
	}
	var raw []byte
	var err error
	switch {
	case f.Converted && f.Task != nil:
		raw, err = typed(f.Task, "tekton.dev/v1", "Task")
	case f.Converted && f.Pipeline != nil:
		raw, err = typed(f.Pipeline, "tekton.dev/v1", "Pipeline")
	case f.Converted && f.StepAction != nil:
		raw, err = typed(f.StepAction, "tekton.dev/v1beta1", "StepAction")
	default:
		raw, err = documentJSON(f.Root)
	}
	if err != nil {
		return nil, err
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(raw); err != nil {
		return nil, err
	}
	if _, err := Resource(obj.GroupVersionKind()); err != nil {
		return nil, err
	}
	return obj, nil
}

// typed serializes a converted object.
func typed(v any, apiVersion, kind string) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["apiVersion"], m["kind"] = apiVersion, kind
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp") // null in Go's zero value
	}
	return json.Marshal(m)
}

// documentJSON is the document as kubectl would send it: YAML to JSON
// with sigs.k8s.io/yaml.
func documentJSON(root *yaml.Node) ([]byte, error) {
	text, err := yaml.Marshal(root)
	if err != nil {
		return nil, err
	}
	return sigsyaml.YAMLToJSON(text)
}

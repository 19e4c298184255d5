package localcp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	sigsyaml "sigs.k8s.io/yaml"
)

// Options configure a control plane.
type Options struct {
	ToolsDir string    // e2e/tools
	Log      io.Writer // progress (the components log to files in Dir)
	// Tekton feature flags set on top of Tekton's defaults.
	FeatureFlags map[string]string
}

// Cluster is a running control plane.
type Cluster struct {
	Dir        string // working directory: data, keys, logs (<component>.log)
	Kubeconfig string
	Config     *rest.Config
	Dynamic    dynamic.Interface
	// Registry is the loopback registry (host:port) the node pulls from;
	// Images the references of the images pushed there at Start (by
	// name: entrypoint, nop, workingdirinit, sidecarlogresults, shell,
	// pause).
	Registry string
	Images   map[string]string
	// PodRegistry is the same registry as pods reach it (on NodeIP).
	PodRegistry string
	// Startup is how long Start took once the binaries were there.
	Startup time.Duration

	procs     []*proc
	listeners []net.Listener // exposeToPods' forwarders
	log       io.Writer
	bridge    bool // the pod bridge was created
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// DefaultFeatureFlags make Tekton's pods pass Pod Security "restricted"
// (set-security-context) and keep runs off PersistentVolumes, which a
// cluster without a storage provisioner cannot bind (coschedule).
var DefaultFeatureFlags = map[string]string{
	"set-security-context": "true",
	"coschedule":           "disabled",
}

const adminToken = "taskgate-e2e-admin"

// Start builds (or finds cached) binaries and starts the control plane
// with Tekton. On error everything started is stopped again.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.FeatureFlags == nil {
		opts.FeatureFlags = DefaultFeatureFlags
	}
	if err := Prerequisites(); err != nil {
		return nil, err
	}
	bins, err := Binaries(ctx, opts.ToolsDir, opts.Log)
	if err != nil {
		return nil, err
	}
	tektonDir, err := ModuleDir(ctx, filepath.Join(opts.ToolsDir, "tekton"), "github.com/tektoncd/pipeline", TektonVersion)
	if err != nil {
		return nil, err
	}
	kwokDir, err := ModuleDir(ctx, filepath.Join(opts.ToolsDir, "kwok"), "sigs.k8s.io/kwok", KwokVersion)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "taskgate-localcp-")
	if err != nil {
		return nil, err
	}
	c = &Cluster{Dir: dir, log: opts.Log}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w (logs in %s)", err, dir)
			c.Stop()
		}
	}()
	start := time.Now()
	var phases []string
	for _, ph := range []struct {
		name string
		run  func() error
	}{
		{"control plane", func() error { return c.startKube(ctx, bins) }},
		{"kwok", func() error { return c.startKwok(ctx, bins, kwokDir) }},
		{"registry", func() error { return c.startRegistry(ctx) }},
		{"step images", func() error { return c.pushStepImages(ctx, bins) }},
		{"node", func() error { return c.startNode(ctx, bins) }},
		{"pod access", c.exposeToPods},
		{"Tekton", func() error { return c.startTekton(ctx, bins, tektonDir, opts.FeatureFlags) }},
		{"bundles resolver", func() error { return c.startResolver(ctx, bins, tektonDir) }},
	} {
		t := time.Now()
		if err := ph.run(); err != nil {
			return c, err
		}
		phases = append(phases, fmt.Sprintf("%s %s", ph.name, time.Since(t).Round(100*time.Millisecond)))
	}
	c.Startup = time.Since(start)
	fmt.Fprintf(opts.Log, "localcp: control plane, node %s and Tekton %s up in %s: %s (%s)\n", NodeName, TektonVersion,
		c.Startup.Round(time.Millisecond), strings.Join(phases, ", "), dir)
	return c, nil
}

func (c *Cluster) startKube(ctx context.Context, bins map[string]string) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]
	if err := c.writeKeys(); err != nil {
		return err
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	if err := c.start("etcd", bins["etcd"], nil,
		"--name=e2e", "--data-dir="+c.path("etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=e2e="+peerURL,
		"--unsafe-no-fsync", // a throw-away cluster: durability buys nothing
	); err != nil {
		return err
	}
	host := fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	if err := c.start("kube-apiserver", bins["kube-apiserver"], nil,
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+strconv.Itoa(apiPort),
		"--cert-dir="+c.path("pki"),
		"--service-account-key-file="+c.path("sa.pub"),
		"--service-account-signing-key-file="+c.path("sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--token-auth-file="+c.path("tokens.csv"),
		"--authorization-mode=Node,RBAC", // the kubelet is system:node:taskgate-node
		"--allow-privileged=true",        // as clusters do: Pod Security, not this flag, refuses privileged pods
		"--service-cluster-ip-range="+serviceSubnet,
		"--endpoint-reconciler-type=none",
		"--kubelet-preferred-address-types=InternalIP", // logs: the node's name resolves nowhere
	); err != nil {
		return err
	}
	if err := c.waitHTTP(ctx, "kube-apiserver", host+"/readyz", 90*time.Second); err != nil {
		return err
	}
	c.Config = &rest.Config{Host: host, BearerToken: adminToken, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, QPS: 50, Burst: 100}
	if c.Dynamic, err = dynamic.NewForConfig(c.Config); err != nil {
		return err
	}
	c.Kubeconfig = c.path("kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: admin, user: {token: %q}}]
contexts: [{name: e2e, context: {cluster: e2e, user: admin, namespace: default}}]
current-context: e2e
`, host, adminToken)
	if err := os.WriteFile(c.Kubeconfig, []byte(kc), 0o600); err != nil {
		return err
	}
	// the controller manager: service accounts, namespace deletion, quota
	// status (without it a ResourceQuota refuses every pod), garbage
	// collection, node lifecycle
	if err := c.start("kube-controller-manager", bins["kube-controller-manager"], nil,
		"--kubeconfig="+c.Kubeconfig, "--leader-elect=false", "--secure-port=0",
		"--service-account-private-key-file="+c.path("sa.key"),
		"--root-ca-file="+c.path("pki", "apiserver.crt"),
		"--use-service-account-credentials=false",
		// the PV binder binds a PipelineRun's volumeClaimTemplate to a PV a
		// test made (there is no provisioner)
		"--controllers=*,-nodeipam,-attachdetach,-persistentvolume-expander,-ephemeral-volume-controller",
	); err != nil {
		return err
	}
	return c.start("kube-scheduler", bins["kube-scheduler"], nil,
		"--kubeconfig="+c.Kubeconfig, "--leader-elect=false", "--secure-port=0")
}

// kwok's own fast node and pod stages plus one that completes Tekton's
// pods (Running → Succeeded, each step container terminated with exit
// code 0 and no message): kwok-node-0 holds the pods of API-only tests,
// which check what Tekton made of a Pipeline, not what a Task did. No
// container runs there and no result comes back.
const tektonPodComplete = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: tekton-pod-complete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.metadata.labels["app.kubernetes.io/managed-by"]'
      operator: 'In'
      values: ['tekton-pipelines']
  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 0
            reason: Completed
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}
      {{ end }}
      phase: Succeeded
`

// KwokNode is the fake node's name; it is tainted KwokTaint, so only a
// pod that tolerates it (and selects it) lands there: every other pod
// runs on the real node.
const (
	KwokNode  = "kwok-node-0"
	KwokTaint = "taskgate.dev/kwok"
)

func (c *Cluster) startKwok(ctx context.Context, bins map[string]string, kwokDir string) error {
	var stages bytes.Buffer
	for _, f := range []string{"node/fast/node-initialize.yaml", "node/heartbeat/node-heartbeat.yaml", "pod/fast/pod-ready.yaml", "pod/fast/pod-delete.yaml"} {
		data, err := os.ReadFile(filepath.Join(kwokDir, "kustomize", "stage", filepath.FromSlash(f)))
		if err != nil {
			return err
		}
		stages.Write(data)
		stages.WriteString("\n---\n")
	}
	stages.WriteString(tektonPodComplete)
	if err := os.WriteFile(c.path("kwok.yaml"), stages.Bytes(), 0o644); err != nil {
		return err
	}
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	if err := c.start("kwok", bins["kwok"], nil,
		"--kubeconfig="+c.Kubeconfig, "--config="+c.path("kwok.yaml"),
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--server-address=127.0.0.1:"+strconv.Itoa(ports[0]),
		"--cidr=10.244.0.0/16", "--node-ip=10.0.0.1",
	); err != nil {
		return err
	}
	node := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{
			"name":        "kwok-node-0",
			"annotations": map[string]any{"kwok.x-k8s.io/node": "fake"},
			"labels":      map[string]any{"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": "kwok-node-0", "type": "kwok"},
		},
		"spec": map[string]any{"taints": []any{map[string]any{"key": KwokTaint, "value": "fake", "effect": "NoSchedule"}}},
	}}
	nodes := c.Dynamic.Resource(schema.GroupVersionResource{Version: "v1", Resource: "nodes"})
	if _, err := nodes.Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return err
	}
	// wait until the node is Ready and schedulable (kwok reports it Ready,
	// the node lifecycle controller then lifts the not-ready taint)
	return c.poll(ctx, "node kwok-node-0 ready", 90*time.Second, func() (bool, error) {
		n, err := nodes.Get(ctx, "kwok-node-0", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		taints, _, _ := unstructured.NestedSlice(n.Object, "spec", "taints")
		others := 0 // the not-ready taint until the node lifecycle controller lifts it
		for _, t := range taints {
			if m, _ := t.(map[string]any); m["key"] != KwokTaint {
				others++
			}
		}
		conds, _, _ := unstructured.NestedSlice(n.Object, "status", "conditions")
		for _, cd := range conds {
			m, _ := cd.(map[string]any)
			if m["type"] == "Ready" && m["status"] == "True" && others == 0 {
				return true, nil
			}
		}
		return false, nil
	})
}

func (c *Cluster) startTekton(ctx context.Context, bins map[string]string, tektonDir string, flags map[string]string) error {
	cfg := filepath.Join(tektonDir, "config")
	files := []string{filepath.Join(cfg, "100-namespace", "100-namespace.yaml")}
	crds, _ := filepath.Glob(filepath.Join(cfg, "300-crds", "*.yaml"))
	cms, _ := filepath.Glob(filepath.Join(cfg, "config-*.yaml"))
	files = append(append(files, crds...), cms...)
	for _, f := range files {
		objs, err := ReadObjects(f)
		if err != nil {
			return err
		}
		for _, o := range objs {
			switch o.GetName() {
			case "feature-flags":
				for k, v := range flags {
					unstructured.SetNestedField(o.Object, v, "data", k)
				}
			case "config-observability":
				// no metrics server: it would bind :9090 on every interface
				unstructured.SetNestedField(o.Object, "none", "data", "metrics-protocol")
			}
			if err := c.Apply(ctx, o); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
	}
	crdRes := c.Dynamic.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"})
	if err := c.poll(ctx, "Tekton CRDs established", 60*time.Second, func() (bool, error) {
		list, err := crdRes.List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, crd := range list.Items {
			if !established(&crd) {
				return false, nil
			}
		}
		return len(list.Items) >= len(crds), nil
	}); err != nil {
		return err
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	env := []string{
		"SYSTEM_NAMESPACE=tekton-pipelines", "KUBERNETES_MIN_VERSION=v1.28.0", "METRICS_DOMAIN=tekton.dev/pipeline",
		"CONFIG_DEFAULTS_NAME=config-defaults", "CONFIG_LOGGING_NAME=config-logging", "CONFIG_OBSERVABILITY_NAME=config-observability",
		"CONFIG_FEATURE_FLAGS_NAME=feature-flags", "CONFIG_LEADERELECTION_NAME=config-leader-election-controller", "CONFIG_SPIRE=config-spire",
		"PROBES_PORT=" + strconv.Itoa(ports[0]), "PROFILING_PORT=" + strconv.Itoa(ports[1]),
	}
	if err := c.start("tekton-controller", bins["tekton-controller"], env,
		"-kubeconfig="+c.Kubeconfig, "-disable-ha",
		"-entrypoint-image="+c.Images["entrypoint"], "-nop-image="+c.Images["nop"],
		"-sidecarlogresults-image="+c.Images["sidecarlogresults"], "-workingdirinit-image="+c.Images["workingdirinit"],
		"-shell-image="+c.Images["shell"], "-shell-image-win=mcr.microsoft.com/powershell:nanoserver",
	); err != nil {
		return err
	}
	return c.waitHTTP(ctx, "tekton-controller", fmt.Sprintf("http://127.0.0.1:%d/readiness", ports[0]), 60*time.Second)
}

// startResolver runs Tekton's bundles resolver out of cluster, with the
// namespace and ConfigMaps of Tekton's config/resolvers (its Deployment's
// environment): a taskRef with `resolver: bundles` is resolved by
// Tekton's own code, pulling from the loopback registry.
func (c *Cluster) startResolver(ctx context.Context, bins map[string]string, tektonDir string) error {
	files, _ := filepath.Glob(filepath.Join(tektonDir, "config", "resolvers", "*.yaml"))
	for _, f := range files {
		objs, err := ReadObjects(f)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if o.GetKind() != "Namespace" && o.GetKind() != "ConfigMap" {
				continue // the Deployment, its Service and RBAC: it runs here as admin
			}
			if o.GetName() == "config-observability" {
				unstructured.SetNestedField(o.Object, "none", "data", "metrics-protocol")
			}
			if err := c.Apply(ctx, o); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
	}
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	env := []string{
		"SYSTEM_NAMESPACE=tekton-pipelines-resolvers", "KUBERNETES_MIN_VERSION=v1.28.0", "METRICS_DOMAIN=tekton.dev/resolution",
		"CONFIG_LOGGING_NAME=config-logging", "CONFIG_OBSERVABILITY_NAME=config-observability", "CONFIG_FEATURE_FLAGS_NAME=feature-flags",
		"CONFIG_LEADERELECTION_NAME=config-leader-election-resolvers",
		"PROBES_PORT=" + strconv.Itoa(ports[0]), "PROFILING_PORT=" + strconv.Itoa(ports[1]),
	}
	if err := c.start("tekton-bundle-resolver", bins["tekton-bundle-resolver"], env, "-kubeconfig="+c.Kubeconfig); err != nil {
		return err
	}
	return c.waitHTTP(ctx, "tekton-bundle-resolver", fmt.Sprintf("http://127.0.0.1:%d/readiness", ports[0]), 60*time.Second)
}

func established(crd *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, cd := range conds {
		if m, _ := cd.(map[string]any); m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// kinds Apply knows.
var kinds = map[string]schema.GroupVersionResource{
	"v1/Namespace":                             {Version: "v1", Resource: "namespaces"},
	"v1/ConfigMap":                             {Version: "v1", Resource: "configmaps"},
	"v1/ServiceAccount":                        {Version: "v1", Resource: "serviceaccounts"},
	"v1/Secret":                                {Version: "v1", Resource: "secrets"},
	"v1/PersistentVolume":                      {Version: "v1", Resource: "persistentvolumes"},
	"rbac.authorization.k8s.io/v1/Role":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	"rbac.authorization.k8s.io/v1/RoleBinding": {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	"admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy":        {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"},
	"admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicybindings"},
	"tekton.dev/v1/TaskRun":                            {Group: "tekton.dev", Version: "v1", Resource: "taskruns"},
	"apiextensions.k8s.io/v1/CustomResourceDefinition": {Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
	"tekton.dev/v1/Task":                               {Group: "tekton.dev", Version: "v1", Resource: "tasks"},
	"tekton.dev/v1/Pipeline":                           {Group: "tekton.dev", Version: "v1", Resource: "pipelines"},
	"tekton.dev/v1/PipelineRun":                        {Group: "tekton.dev", Version: "v1", Resource: "pipelineruns"},
}

var clusterScoped = map[string]bool{"Namespace": true, "CustomResourceDefinition": true, "PersistentVolume": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true}

// Apply creates an object (namespace from the object, "default" when a
// namespaced object has none); one that exists already is left alone.
func (c *Cluster) Apply(ctx context.Context, o *unstructured.Unstructured) error {
	gvr, ok := kinds[o.GetAPIVersion()+"/"+o.GetKind()]
	if !ok {
		return fmt.Errorf("localcp: cannot apply %s %s", o.GetAPIVersion(), o.GetKind())
	}
	var ri dynamic.ResourceInterface = c.Dynamic.Resource(gvr)
	if !clusterScoped[o.GetKind()] {
		ns := o.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		ri = c.Dynamic.Resource(gvr).Namespace(ns)
	}
	_, err := ri.Create(ctx, o, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// ReadObjects reads the documents of a YAML file.
func ReadObjects(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := utilyaml.NewYAMLReader(bufio.NewReader(f))
	var out []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		js, err := sigsyaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(bytes.TrimSpace(js)) == 0 || string(bytes.TrimSpace(js)) == "null" {
			continue
		}
		o := &unstructured.Unstructured{}
		if err := o.UnmarshalJSON(js); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, o)
	}
}

// Stop ends every component, newest first (the node's containers once
// the kubelet is gone), unmounts what the node mounted, deletes the pod
// bridge and removes the working directory unless LOCALCP_KEEP is set.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		if p.name == "containerd" {
			c.stopNode()
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	c.procs = nil
	for _, l := range c.listeners {
		l.Close()
	}
	c.listeners = nil
	c.unmountAll()
	if c.bridge {
		_ = exec.Command("ip", "link", "del", bridgeName).Run()
		c.bridge = false
	}
	if os.Getenv("LOCALCP_KEEP") == "" {
		os.RemoveAll(c.Dir)
	}
}

func (c *Cluster) path(elem ...string) string {
	return filepath.Join(append([]string{c.Dir}, elem...)...)
}

// start runs a component with its output in <Dir>/<name>.log. The
// component dies with the test process (Pdeathsig), so a killed test
// leaves no control plane behind.
func (c *Cluster) start(name, bin string, env []string, args ...string) error {
	return c.startEnv(name, bin, append(os.Environ(), env...), args...)
}

// startEnv is start with exactly env.
func (c *Cluster) startEnv(name, bin string, env []string, args ...string) error {
	log, err := os.Create(c.path(name + ".log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	c.procs = append(c.procs, p)
	return nil
}

// Check reports a component that stopped while the cluster runs, with
// the end of its log.
func (c *Cluster) Check() error {
	for _, p := range c.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v\n%s", p.name, p.err, c.tail(p.name))
		default:
		}
	}
	return nil
}

func (c *Cluster) tail(name string) string {
	data, _ := os.ReadFile(c.path(name + ".log"))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

func (c *Cluster) poll(ctx context.Context, what string, limit time.Duration, ok func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	var last error
	for {
		done, err := ok()
		if done {
			return nil
		}
		last = err
		if err := c.Check(); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: not after %s (last error: %v)", what, limit, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) waitHTTP(ctx context.Context, name, url string, limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	return c.poll(ctx, name+" ready", limit, func() (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := client.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, errors.New(resp.Status)
		}
		return true, nil
	})
}

// writeKeys writes the service-account signing key pair and the token
// file that makes adminToken a cluster admin.
func (c *Cluster) writeKeys() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"sa.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		"tokens.csv": []byte(adminToken + `,admin,admin,"system:masters"` + "\n" +
			nodeToken + `,system:node:` + NodeName + `,node,"system:nodes"` + "\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(c.path(name), data, 0o600); err != nil {
			return err
		}
	}
	return os.MkdirAll(c.path("pki"), 0o700)
}

// freePorts finds n free loopback ports (held open together so they
// differ).
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

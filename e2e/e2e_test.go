//go:build e2e

// End-to-end tests against a real kube-apiserver with Tekton's CRDs and a
// real Tekton controller (package localcp): `make e2e`.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrv1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/pod"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"taskgate.dev/taskgate/e2e/localcp"
	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/cluster"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
)

var (
	cp       *localcp.Cluster
	client   *cluster.Client
	kube     kubernetes.Interface
	taskgate string // the CLI, built for this run
	// busybox images in the loopback registry, by digest, for the Tasks
	// that run for real (registries outside this machine are out of
	// reach): one runs as 65532, the other as root, as most images do
	busybox, busyboxRoot string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	bin, err := os.MkdirTemp("", "taskgate-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	taskgate = filepath.Join(bin, "taskgate")
	if out, err := exec.Command("go", "build", "-o", taskgate, "../cmd/taskgate").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building taskgate: %v\n%s", err, out)
		return 1
	}
	cp, err = localcp.Start(ctx, localcp.Options{ToolsDir: "tools", Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: the local control plane did not start:", err)
		return 1
	}
	defer cp.Stop()
	if client, err = cluster.NewForConfig(cp.Config, "default"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if kube, err = kubernetes.NewForConfig(cp.Config); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, im := range []struct {
		ref        *string
		repo, user string
	}{{&busybox, "e2e/busybox", "65532"}, {&busyboxRoot, "e2e/busybox-root", ""}} {
		img, err := localcp.BusyboxImage([]string{"/bin/sh"}, im.user)
		if err == nil {
			*im.ref, err = cp.Push(ctx, im.repo, img)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e: test images:", err)
			return 1
		}
	}
	start := time.Now()
	code := m.Run()
	fmt.Fprintf(os.Stderr, "e2e: control plane startup %s, tests %s\n", cp.Startup.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if err := cp.Check(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: a component died during the tests:", err)
		return 1
	}
	return code
}

func submission(t *testing.T, dir, file string) *catalog.Submission {
	t.Helper()
	f := manifest.Load(dir, file, manifest.DefaultLimits)
	if f.Root == nil {
		t.Fatalf("%s: %+v", file, f.Problems)
	}
	return &catalog.Submission{Dir: dir, Name: strings.TrimSuffix(file, ".yaml"), Manifest: f}
}

type want struct {
	line, col int
	contains  string
}

func expect(t *testing.T, got []check.Finding, ws ...want) {
	t.Helper()
	if len(got) != len(ws) {
		t.Fatalf("got %d findings, want %d:\n%s", len(got), len(ws), show(got))
	}
	for i, w := range ws {
		g := got[i]
		if g.Line != w.line || g.Column != w.col || !strings.Contains(g.Message, w.contains) || g.Severity != check.Error {
			t.Errorf("finding %d:\n  %s\nwant %d:%d error containing %q", i, g, w.line, w.col, w.contains)
		}
	}
}

func show(fs []check.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	return b.String()
}

// What the real API server says about hand-made Tasks, at file:line.
func TestDryRunTasks(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		file string
		want []want
	}{
		{"good.yaml", nil},
		// fieldValidation=Strict: the server refuses the unknown field (400)
		{"unknown-field.yaml", []want{{10, 7, `unknown field "spec.steps[0].comand"`}}},
		// the CRD's schema: a 422 naming the field
		{"wrong-type.yaml", []want{{9, 13, "spec.steps[0].args: Invalid value: \"string\": spec.steps[0].args in body must be of type array"}}},
		{"invalid-name.yaml", []want{{4, 9, `metadata.name: Invalid value: "Invalid_Name": a lowercase RFC 1123 subdomain`}}},
		// converted client-side: the server accepts the v1 Task
		{"v1beta1.yaml", nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			s := submission(t, "testdata/tasks", tc.file)
			got := client.DryRunSubmission(ctx, s, "")
			expect(t, got, tc.want...)
			for _, f := range got {
				if f.File != tc.file || f.Rule != cluster.RuleDryRun || f.Help == "" {
					t.Errorf("finding %s: wrong file or rule, or no help", f)
				}
			}
		})
	}
}

// Sent as written, a v1beta1 Task needs Tekton's conversion webhook
// (storage is v1): without it the server cannot store it. This is why
// taskgate converts client-side.
func TestV1beta1NeedsConversionWebhook(t *testing.T) {
	f := manifest.Load("testdata/tasks", "v1beta1.yaml", manifest.DefaultLimits)
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(mustJSON(t, f)); err != nil {
		t.Fatal(err)
	}
	_, err := client.DryRun(context.Background(), obj)
	if err == nil || !strings.Contains(err.Error(), "conversion webhook") {
		t.Fatalf("the server accepted a v1beta1 Task without its conversion webhook, or said something else: %v", err)
	}
	t.Logf("the server says: %v", err)
	got := cluster.Findings(cluster.RuleDryRun, err, cluster.Same(f))
	if len(got) != 1 || got[0].Line != 1 || !strings.Contains(got[0].Message, "could not run") {
		t.Errorf("findings %s", show(got))
	}
}

func mustJSON(t *testing.T, f *manifest.File) []byte {
	t.Helper()
	var m map[string]any
	if err := f.Root.Decode(&m); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The rule's own examples, judged by the real server.
func TestDryRunRuleExamples(t *testing.T) {
	c := cluster.DryRun
	set := &check.Settings{Given: map[*check.Input]any{cluster.Connection: &cluster.Target{Ctx: context.Background(), Client: client}}}
	for name, y := range map[string]string{"bad": c.Bad, "fixed": c.Fixed} {
		f := manifest.Parse("example.yaml", []byte(y), manifest.DefaultLimits)
		res := check.Run([]*catalog.Submission{{Dir: ".", Manifest: f}}, []*check.Check{c}, set)
		got := res.Findings()
		if st := res.Submissions[0].Checks[0]; st.Skipped != "" || (name == "bad") != (len(got) > 0) {
			t.Errorf("%s example (%s): %s", name, st.Skipped, show(got))
		}
	}
}

func corpus(t *testing.T) string { return testrepo.Corpus(t, "build-definitions", "pipelines") }

func taskgateCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(taskgate, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

// `taskgate integrate` composes the example Task into every build
// pipeline of the corpus; `taskgate dry-run --composed` sends the Task,
// each composed Pipeline and each PipelineRun to the server: all pass.
// A composed Pipeline the server rejects is reported in its file.
func TestComposedDryRun(t *testing.T) {
	pipelines := corpus(t)
	example := helloWorldCatalog(t)
	out := t.TempDir()
	if text, code := taskgateCLI(t, "integrate", example, "--pipelines", pipelines, "--out", out); code != 0 {
		t.Fatalf("integrate: exit %d\n%s", code, text)
	}
	composed, _ := filepath.Glob(filepath.Join(out, "partners/hello-world/0.1/*/pipelinerun.yaml"))
	if len(composed) == 0 {
		t.Fatal("integrate composed nothing")
	}
	text, code := taskgateCLI(t, "dry-run", example, "--kubeconfig", cp.Kubeconfig, "--composed", out, "--format", "json")
	var rep struct {
		Findings []check.Finding
		Summary  struct{ Submissions, Errors int }
	}
	if err := json.Unmarshal([]byte(text), &rep); err != nil || code != 0 || len(rep.Findings) != 0 || rep.Summary.Submissions != 1 {
		t.Fatalf("dry-run: exit %d, %v\n%s", code, err, text)
	}
	t.Logf("%d composed PipelineRuns and their Pipelines accepted", len(composed))

	// break one composed Pipeline outside the embedded Task: runAfter as
	// a string (the embedded taskSpec itself is preserve-unknown-fields in
	// Tekton's CRD: the server does not judge it, Tekton's webhook and
	// taskgate's integration/compose do)
	p := filepath.Join(filepath.Dir(composed[0]), "pipeline.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	f := manifest.Parse(p, data, manifest.DefaultLimits)
	line := 0
	for i, pt := range f.Pipeline.Spec.Tasks {
		if pt.Name == "hello-world" {
			line, _ = f.KeyPos(fmt.Sprintf("spec.tasks[%d].runAfter", i))
		}
	}
	lines := strings.Split(string(data), "\n")
	if line == 0 || !strings.HasSuffix(lines[line-1], "runAfter:") {
		t.Fatalf("no runAfter for hello-world in %s (line %d)", p, line)
	}
	lines[line-1] += " build-image-index"
	lines = append(lines[:line], lines[line+1:]...) // drop the list element
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	text, code = taskgateCLI(t, "dry-run", example, "--kubeconfig", cp.Kubeconfig, "--composed", out)
	wantAt := fmt.Sprintf("%s:%d:", filepath.ToSlash(p), line)
	if code != 1 || !strings.Contains(text, wantAt) || !strings.Contains(text, "must be of type array") {
		t.Fatalf("exit %d, want a finding at %s:\n%s", code, wantAt, text)
	}
}

// `taskgate dry-run --run` end to end, for real: the example Task (its
// image swapped for the local busybox one, nothing else changed) runs on
// the node without its optional secret, Tekton's entrypoint returns the
// TEST_OUTPUT it wrote, SKIPPED, and the sandbox is deleted afterwards.
func TestCLIRun(t *testing.T) {
	dir := exampleCatalog(t)
	text, code := taskgateCLI(t, "dry-run", dir, "--kubeconfig", cp.Kubeconfig, "--run", "--timeout", "3m", "--format", "json")
	var rep struct{ Findings []check.Finding }
	if err := json.Unmarshal([]byte(text), &rep); err != nil || code != 0 || len(rep.Findings) != 1 {
		t.Fatalf("exit %d, %v\n%s", code, err, text)
	}
	f := rep.Findings[0]
	if f.Rule != cluster.RuleRun || f.Severity != check.Info || f.File != "partners/hello-world/0.1/hello-world.yaml" ||
		!strings.Contains(f.Message, "the Task succeeded") || !strings.Contains(f.Message, "SKIPPED") {
		t.Errorf("finding %s", f)
	}
	ns := regexp.MustCompile(`taskgate-sandbox-[a-z0-9]+`).FindString(f.Message)
	if ns == "" {
		t.Fatalf("no sandbox namespace in %q", f.Message)
	}
	t.Logf("%s", f.Message)
	assertNamespaceGoes(t, ns)
}

// `taskgate dry-run --run --image --source` with real build inputs: an
// image pushed to the registry in the test (its labels name the commit
// and version it was built from) and a git checkout of the project. The
// Task fetches the manifest from the registry, hashes it against
// IMAGE_DIGEST and compares the image's labels with the checkout's HEAD
// and VERSION: it reports SUCCESS only when both inputs are the real
// ones, and FAILURE for an image of another commit or a digest the
// registry does not serve for the tag.
func TestCLIRunRealInputs(t *testing.T) {
	ctx := context.Background()
	// the pods reach the host at the bridge address, not at 127.0.0.1
	registry := forward(t, localcp.NodeIP, cp.Registry)
	version := fmt.Sprintf("1.%d", time.Now().UnixNano()%100000)
	checkout := t.TempDir()
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", checkout, "-c", "user.email=e2e@taskgate.dev", "-c", "user.name=e2e", "-c", "commit.gpgsign=false"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(checkout, "VERSION"), []byte(version), 0o644)
	os.WriteFile(filepath.Join(checkout, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	git("add", ".")
	git("commit", "-q", "-m", "the partner's test project")
	commit := git("rev-parse", "HEAD")

	push := func(tag, vcsRef string) string {
		img, err := localcp.BusyboxImage([]string{"/bin/true"}, "65532")
		if err == nil {
			img, err = withLabels(img, map[string]string{"vcs-ref": vcsRef, "version": version})
		}
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.NewTag(registry+"/e2e/app:"+tag, name.Insecure)
		if err == nil {
			err = remote.Write(ref, img, remote.WithContext(ctx))
		}
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		return d.String()
	}
	built := push("v1", commit)
	push("other", strings.Repeat("0", 40))

	const rel = "partners/image-source-check/0.1/image-source-check.yaml"
	files := map[string]string{
		rel: strings.NewReplacer("BUSYBOX_ROOT", busyboxRoot, "BUSYBOX", busybox).Replace(readFile(t, "testdata/run/image-source-check.yaml")),
		// what production asks for: the registry opened for this Task alone
		".taskgate.yaml": fmt.Sprintf("sandbox:\n  egress:\n    - {task: image-source-check, cidr: %s/32, ports: [%s]}\n", localcp.NodeIP, registry[strings.LastIndex(registry, ":")+1:]),
	}
	for _, p := range []string{"pipelines/mini-build/mini-build.yaml", "pipelines/mini-build-oci-ta/mini-build-oci-ta.yaml"} {
		files[p] = readFile(t, filepath.Join("../examples/catalog", p))
	}
	dir := testrepo.New(t, files)

	for _, tc := range []struct {
		image, result, note string
	}{
		{registry + "/e2e/app:v1", "SUCCESS", built + " is what the registry serves, built from " + commit + " (version " + version + ")"},
		{registry + "/e2e/app:other", "FAILURE", "the image was built from " + strings.Repeat("0", 40) + ", the checkout is at " + commit},
		{registry + "/e2e/app:other@" + built, "FAILURE", "is sha256:"},
	} {
		t.Run(tc.result+" "+tc.image[strings.LastIndex(tc.image, "/")+1:], func(t *testing.T) {
			text, code := taskgateCLI(t, "dry-run", dir, "--kubeconfig", cp.Kubeconfig, "--run", "--timeout", "3m", "--format", "json",
				"--image", tc.image, "--source", checkout)
			var rep struct{ Findings []check.Finding }
			if err := json.Unmarshal([]byte(text), &rep); err != nil || code != 0 || len(rep.Findings) != 1 {
				t.Fatalf("exit %d, %v\n%s", code, err, text)
			}
			f := rep.Findings[0]
			t.Logf("%s", f.Message)
			for _, want := range []string{"the Task succeeded", "as image-url, image-digest", "files) in workspace source",
				`\"result\":\"` + tc.result + `\"`, tc.note} {
				if f.Rule != cluster.RuleRun || f.Severity != check.Info || !strings.Contains(f.Message, want) {
					t.Errorf("want %q in %s", want, f)
				}
			}
			if ns := regexp.MustCompile(`taskgate-sandbox-[a-z0-9]+`).FindString(f.Message); ns != "" {
				assertNamespaceGoes(t, ns)
			} else {
				t.Errorf("no sandbox namespace in %q", f.Message)
			}
		})
	}
}

// forward serves addr's TCP port on host (a free port), for the test's life.
func forward(t *testing.T, host, addr string) string {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				defer out.Close()
				go io.Copy(out, in)
				io.Copy(in, out)
			}()
		}
	}()
	return l.Addr().String()
}

func withLabels(img ggcrv1.Image, labels map[string]string) (ggcrv1.Image, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Config.Labels = labels
	return mutate.ConfigFile(img, cf)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// helloWorldCatalog is a catalog holding the example's passing submission
// alone (examples/catalog also holds one the gate refuses).
func helloWorldCatalog(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "partners", "hello-world"), os.DirFS("../examples/catalog/partners/hello-world")); err != nil {
		t.Fatal(err)
	}
	return root
}

// exampleCatalog copies examples/catalog with the step image replaced by
// the local busybox one (same lines, same script).
func exampleCatalog(t *testing.T) string {
	t.Helper()
	const rel = "partners/hello-world/0.1/hello-world.yaml"
	data, err := os.ReadFile(filepath.Join("../examples/catalog", rel))
	if err != nil {
		t.Fatal(err)
	}
	image := regexp.MustCompile(`(?m)^(\s+image: ).*$`)
	if len(image.FindAll(data, -1)) != 1 {
		t.Fatalf("%s: want one image line", rel)
	}
	return testrepo.New(t, map[string]string{rel: string(image.ReplaceAll(data, []byte("${1}"+busybox)))})
}

// runTask loads a Task of testdata/run with BUSYBOX and BUSYBOX_ROOT
// replaced by the local images.
func runTask(t *testing.T, file string) *manifest.File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata/run", file))
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.NewReplacer("BUSYBOX_ROOT", busyboxRoot, "BUSYBOX", busybox).Replace(string(data)))
	f := manifest.Parse(file, data, manifest.DefaultLimits)
	if f.Task == nil {
		t.Fatalf("%s: %+v", file, f.Problems)
	}
	return f
}

var (
	gvrPR  = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "pipelineruns"}
	gvrPod = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	gvrTR  = schema.GroupVersionResource{Group: "tekton.dev", Version: "v1", Resource: "taskruns"}
	gvrNS  = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

// A composed PipelineRun created for real is accepted by the Tekton
// controller and reconciled into pods. The build pipelines' Tasks come
// from bundles in production: here they are applied from the corpus at
// the versions the pipeline pins, so the controller validates the
// composition against the real Task specs (params, results, workspaces)
// and starts the pipeline. The root task's pod is what its Task says.
func TestComposedPipelineRunReconciled(t *testing.T) {
	pipelines := corpus(t)
	contract, err := pipeline.Load(pipelines)
	if err != nil {
		t.Fatal(err)
	}
	build := contract.Pipeline("docker-build")
	if build == nil {
		t.Fatalf("no docker-build pipeline in %s", pipelines)
	}
	out := t.TempDir()
	if text, code := taskgateCLI(t, "integrate", helloWorldCatalog(t), "--pipelines", pipelines, "--out", out); code != 0 {
		t.Fatalf("integrate: exit %d\n%s", code, text)
	}
	ctx := context.Background()
	ns := namespace(t)
	tasks := map[string]*v1.Task{} // by pipeline task name
	for name, ti := range build.Tasks {
		if ti.Path == "" {
			// only a bundle reference in the corpus (external-task/):
			// a stub with the interface the pipeline uses
			stub := stubTask(t, build, name, ti)
			stub.SetNamespace(ns)
			if err := cp.Apply(ctx, stub); err != nil {
				t.Fatalf("stub %s: %v", ti.Ref, err)
			}
			continue
		}
		rel := ti.Path
		f := manifest.Load(contract.Root, rel, manifest.DefaultLimits)
		obj, err := cluster.Object(f)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		obj.SetNamespace(ns)
		if err := cp.Apply(ctx, obj); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		tasks[name] = f.Task
	}
	var name string
	for _, f := range []string{"pipeline.yaml", "pipelinerun.yaml"} {
		objs, err := localcp.ReadObjects(filepath.Join(out, "partners/hello-world/0.1/docker-build", f))
		if err != nil {
			t.Fatal(err)
		}
		objs[0].SetNamespace(ns)
		if f == "pipelinerun.yaml" {
			tpl, err := runtime.DefaultUnstructuredConverter.ToUnstructured(onKwok())
			if err != nil {
				t.Fatal(err)
			}
			unstructured.SetNestedMap(objs[0].Object, tpl, "spec", "taskRunTemplate", "podTemplate")
		}
		if err := cp.Apply(ctx, objs[0]); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name = objs[0].GetName()
	}
	var p *corev1.Pod
	poll(t, 90*time.Second, "the controller to start the pipeline's init task", func() bool {
		u, err := cp.Dynamic.Resource(gvrPR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pr := fromUnstructured[v1.PipelineRun](t, u)
		if c := pr.Status.GetCondition("Succeeded"); c != nil && c.IsFalse() {
			t.Fatalf("the controller rejects the composed PipelineRun: %s: %s", c.Reason, c.Message)
		}
		pods, err := cp.Dynamic.Resource(gvrPod).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "tekton.dev/pipelineTask=init"})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) == 0 {
			return false
		}
		p = fromUnstructured[corev1.Pod](t, &pods.Items[0])
		return true
	})
	checkSteps(t, tasks["init"], p)
	t.Logf("PipelineRun %s started; pod %s is what Task init says", name, p.Name)
}

// onKwok is the pod template of API-only tests: their pods go to the
// kwok node, which completes them without running anything (their
// images, from quay.io, could not be pulled here).
func onKwok() *pod.Template {
	return &pod.Template{
		NodeSelector: map[string]string{"kubernetes.io/hostname": localcp.KwokNode},
		Tolerations:  []corev1.Toleration{{Key: localcp.KwokTaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
	}
}

// apply creates a typed object in a namespace.
func apply(t *testing.T, ns string, obj any) {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	u.SetNamespace(ns)
	if err := cp.Apply(context.Background(), u); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// stubTask stands in for a Task the corpus only names by bundle: the
// params, workspaces and results the pipeline task uses, one no-op step.
func stubTask(t *testing.T, b *pipeline.Build, name string, ti *pipeline.TaskInfo) *unstructured.Unstructured {
	t.Helper()
	var pt *v1.PipelineTask
	for i := range b.Pipeline.Spec.Tasks {
		if b.Pipeline.Spec.Tasks[i].Name == name {
			pt = &b.Pipeline.Spec.Tasks[i]
		}
	}
	for i := range b.Pipeline.Spec.Finally {
		if b.Pipeline.Spec.Finally[i].Name == name {
			pt = &b.Pipeline.Spec.Finally[i]
		}
	}
	if pt == nil {
		t.Fatalf("no pipeline task %s", name)
	}
	task := &v1.Task{TypeMeta: metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "Task"}, ObjectMeta: metav1.ObjectMeta{Name: ti.Ref}}
	for _, p := range pt.Params {
		task.Spec.Params = append(task.Spec.Params, v1.ParamSpec{Name: p.Name, Type: p.Value.Type})
	}
	for _, w := range pt.Workspaces {
		task.Spec.Workspaces = append(task.Spec.Workspaces, v1.WorkspaceDeclaration{Name: w.Name, Optional: true})
	}
	for r, typ := range ti.Results {
		task.Spec.Results = append(task.Spec.Results, v1.TaskResult{Name: r, Type: typ})
	}
	no, yes, uid := false, true, int64(65532)
	task.Spec.Steps = []v1.Step{{Name: "stub", Image: "registry.invalid/stub", Command: []string{"true"}, SecurityContext: &corev1.SecurityContext{
		RunAsNonRoot: &yes, RunAsUser: &uid, AllowPrivilegeEscalation: &no,
		Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}}}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(task)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u
}

// The sandbox runs the example Task for real on the node: a pod whose
// containers are what the Task says (images, args, env, securityContext),
// with the sandbox's token-less service account and restricted pod
// settings; the step ran as the Task's user without its optional secret,
// says so in its log, and the TEST_OUTPUT it wrote (SKIPPED) comes back
// through Tekton's entrypoint and the TaskRun.
func TestSandboxPods(t *testing.T) {
	ctx := context.Background()
	s := submission(t, exampleCatalog(t), "partners/hello-world/0.1/hello-world.yaml")
	task := s.Manifest.Task
	res, err := client.Run(ctx, cluster.SandboxRun(task), cluster.RunOptions{Timeout: 3 * time.Minute, Keep: true})
	if res != nil {
		defer cp.Dynamic.Resource(gvrNS).Delete(ctx, res.Namespace, metav1.DeleteOptions{})
	}
	if err != nil || !res.Succeeded {
		t.Fatalf("run: %+v, %v", res, err)
	}
	if len(res.TaskRuns) != 1 || !strings.Contains(res.TaskRuns[0].Results["TEST_OUTPUT"], `"result":"SKIPPED"`) {
		t.Fatalf("TaskRuns %+v", res.TaskRuns)
	}
	expectInfo(t, cluster.RunFindings(s.Manifest, res, err, cluster.RunOptions{}), "SKIPPED")

	u, err := cp.Dynamic.Resource(gvrPod).Namespace(res.Namespace).Get(ctx, res.TaskRuns[0].Pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := fromUnstructured[corev1.Pod](t, u)
	checkPod(t, task, p)
	if p.Spec.NodeName != localcp.NodeName {
		t.Errorf("the pod ran on %q, not on the real node %s", p.Spec.NodeName, localcp.NodeName)
	}
	for _, st := range p.Status.ContainerStatuses {
		if st.State.Terminated == nil || st.State.Terminated.ExitCode != 0 || st.ImageID == "" {
			t.Errorf("container %s did not run to exit 0: %+v (image %q)", st.Name, st.State, st.ImageID)
		}
	}
	logs, err := kube.CoreV1().Pods(res.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: "step-check"}).DoRaw(ctx)
	if err != nil || !strings.Contains(string(logs), "no hello-world secret: skipping") {
		t.Errorf("step log %q, %v", logs, err)
	}
}

func checkPod(t *testing.T, task *v1.Task, p *corev1.Pod) {
	t.Helper()
	if p.Spec.ServiceAccountName != cluster.SandboxAccount || p.Spec.AutomountServiceAccountToken == nil || *p.Spec.AutomountServiceAccountToken {
		t.Errorf("pod service account %q, automount %v", p.Spec.ServiceAccountName, p.Spec.AutomountServiceAccountToken)
	}
	for _, v := range p.Spec.Volumes {
		if v.Projected != nil && strings.HasPrefix(v.Name, "kube-api-access") {
			t.Errorf("a service-account token is mounted: %s", v.Name)
		}
	}
	if sc := p.Spec.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v", p.Spec.SecurityContext)
	}
	checkSteps(t, task, p)
}

// checkSteps compares a pod's step containers with the Task: image,
// command and args (after the entrypoint's "--"), the script, env and
// securityContext (the step's, else the stepTemplate's). $(params.*) and
// $(workspaces.*.path) are substituted from the pod's TaskRun; a value
// still holding a Tekton variable is not compared.
func checkSteps(t *testing.T, task *v1.Task, p *corev1.Pod) {
	t.Helper()
	subst := taskRunSubst(t, p)
	literal := func(s string) bool {
		s = subst(s)
		for _, v := range []string{"$(params.", "$(workspaces.", "$(results.", "$(context.", "$(tasks.", "$(steps."} {
			if strings.Contains(s, v) {
				return false
			}
		}
		return true
	}
	containers := map[string]corev1.Container{}
	for _, c := range p.Spec.Containers {
		containers[c.Name] = c
	}
	for i, step := range task.Spec.Steps {
		c, ok := containers["step-"+step.Name]
		if !ok {
			t.Errorf("step %d (%s): no container step-%s in %v", i, step.Name, step.Name, keys(containers))
			continue
		}
		if c.Image != step.Image {
			t.Errorf("step %s: image %q, the Task says %q", step.Name, c.Image, step.Image)
		}
		// Tekton runs the step through its entrypoint: the Task's args
		// follow "--"
		// after "--": the command's tail, then the args
		var rest []string
		if len(step.Command) > 1 {
			rest = append(rest, step.Command[1:]...)
		}
		rest = append(rest, step.Args...)
		if len(rest) > 0 && literal(strings.Join(rest, " ")) {
			var want []string
			for _, a := range rest {
				want = append(want, subst(a))
			}
			if got := afterDashes(c.Args); !reflect.DeepEqual(got, want) {
				t.Errorf("step %s: args %q after --, the Task says %q (all: %q)", step.Name, got, want, c.Args)
			}
		}
		if len(step.Command) > 0 && !strings.Contains(strings.Join(c.Args, " "), "-entrypoint "+step.Command[0]) {
			t.Errorf("step %s: the entrypoint does not run %q: %q", step.Name, step.Command[0], c.Args)
		}
		if step.Script != "" && !strings.Contains(strings.Join(c.Args, " "), "/tekton/scripts/") {
			t.Errorf("step %s: the script is not run: %q", step.Name, c.Args)
		}
		for _, e := range step.Env {
			if e.ValueFrom != nil || !literal(e.Value) {
				continue
			}
			found := false
			for _, ce := range c.Env {
				found = found || (ce.Name == e.Name && ce.Value == subst(e.Value))
			}
			if !found {
				t.Errorf("step %s: env %s=%s missing from %+v", step.Name, e.Name, subst(e.Value), c.Env)
			}
		}
		sc := step.SecurityContext
		if sc == nil && task.Spec.StepTemplate != nil {
			sc = task.Spec.StepTemplate.SecurityContext
		}
		if sc != nil && !reflect.DeepEqual(c.SecurityContext, sc) {
			t.Errorf("step %s: securityContext %+v, the Task says %+v", step.Name, c.SecurityContext, sc)
		}
	}
}

// taskRunSubst replaces what Tekton substitutes in a step: the TaskRun's
// params (and the Task's defaults) and workspace paths.
func taskRunSubst(t *testing.T, p *corev1.Pod) func(string) string {
	t.Helper()
	u, err := cp.Dynamic.Resource(gvrTR).Namespace(p.Namespace).Get(context.Background(), p.Labels["tekton.dev/taskRun"], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr := fromUnstructured[v1.TaskRun](t, u)
	vars := map[string]string{}
	if spec := tr.Status.TaskSpec; spec != nil {
		for _, prm := range spec.Params {
			if prm.Default != nil && prm.Default.Type == v1.ParamTypeString {
				vars["$(params."+prm.Name+")"] = prm.Default.StringVal
			}
		}
		for _, w := range spec.Workspaces {
			vars["$(workspaces."+w.Name+".path)"] = "/workspace/" + w.Name
		}
	}
	for _, prm := range tr.Spec.Params {
		if prm.Value.Type == v1.ParamTypeString {
			vars["$(params."+prm.Name+")"] = prm.Value.StringVal
		}
	}
	return func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, k, v)
		}
		return s
	}
}

func afterDashes(args []string) []string {
	for i, a := range args {
		if a == "--" {
			return args[i+1:]
		}
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func expectInfo(t *testing.T, got []check.Finding, contains string) {
	t.Helper()
	if len(got) != 1 || got[0].Severity != check.Info || !strings.Contains(got[0].Message, contains) {
		t.Errorf("findings:\n%s", show(got))
	}
}

// What the sandbox refuses at admission: Pod Security "restricted"
// rejects a privileged step, the quota a step asking for more CPU than it
// allows. Each is a finding at the step, and the namespace is deleted
// every time.
func TestSandboxRefuses(t *testing.T) {
	ctx := context.Background()
	greedy := submission(t, "testdata/tasks", "good.yaml").Manifest
	greedy.Task = greedy.Task.DeepCopy()
	three := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")}
	greedy.Task.Spec.Steps[0].ComputeResources = corev1.ResourceRequirements{Requests: three, Limits: three}
	for _, tc := range []struct {
		name     string
		f        *manifest.File
		contains string
		line     int
	}{
		{"privileged", submission(t, "testdata/tasks", "privileged.yaml").Manifest, `violates PodSecurity "restricted`, 9},
		{"over quota", greedy, "exceeded quota", 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Tekton retries a pod the quota refuses until the timeout
			opts := cluster.RunOptions{Timeout: 15 * time.Second, Grace: time.Minute}
			start := time.Now()
			res, err := client.Run(ctx, cluster.SandboxRun(tc.f.Task), opts)
			if err != nil || res == nil || !res.Done || res.Succeeded {
				t.Fatalf("run: %+v, %v", res, err)
			}
			got := cluster.RunFindings(tc.f, res, err, opts)
			if len(got) != 1 || got[0].Severity != check.Error || got[0].Line != tc.line || !strings.Contains(got[0].Message, tc.contains) {
				t.Errorf("findings (want line %d, %q):\n%s", tc.line, tc.contains, show(got))
			}
			t.Logf("%s in %s: %s", tc.name, time.Since(start).Round(time.Millisecond), got[0].Message)
			assertNamespaceGoes(t, res.Namespace)
		})
	}
}

// What a run on the real node catches, each a finding where the partner
// fixes it, the namespace deleted afterwards: a Task that exits 0 but
// writes no TEST_OUTPUT; one that writes 1 MiB of it (more than a
// termination message carries: Tekton's entrypoint fails the step); one
// whose image runs as root (the kubelet refuses it under runAsNonRoot);
// one that sleeps past the deadline (Tekton's timeout ends it).
func TestSandboxCaught(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		file     string
		timeout  time.Duration
		line     int
		contains []string
	}{
		{"no-output.yaml", 3 * time.Minute, 7, []string{"the Task succeeded", "TEST_OUTPUT"}},
		{"big-output.yaml", 3 * time.Minute, 7, []string{"TEST_OUTPUT", "4096"}},
		{"needs-root.yaml", 3 * time.Minute, 9, []string{"CreateContainerConfigError", "runAsNonRoot and image will run as root"}},
		{"sleeps.yaml", 20 * time.Second, 9, []string{"timed out", "20s"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f := runTask(t, tc.file)
			opts := cluster.RunOptions{Timeout: tc.timeout, Grace: time.Minute}
			start := time.Now()
			res, err := client.Run(ctx, cluster.SandboxRun(f.Task), opts)
			if res == nil {
				t.Fatalf("run: %v", err)
			}
			got := cluster.RunFindings(f, res, err, opts)
			ok := len(got) == 1 && got[0].Severity == check.Error && got[0].Line == tc.line && got[0].Help != ""
			for _, c := range tc.contains {
				ok = ok && strings.Contains(got[0].Message, c)
			}
			if !ok {
				t.Errorf("findings (want one error at line %d containing %q):\n%s", tc.line, tc.contains, show(got))
			}
			if len(got) > 0 {
				t.Logf("%s in %s: %s", tc.file, time.Since(start).Round(time.Millisecond), got[0])
			}
			assertNamespaceGoes(t, res.Namespace)
		})
	}
}

func assertNamespaceGoes(t *testing.T, ns string) {
	t.Helper()
	ctx := context.Background()
	poll(t, 90*time.Second, "namespace "+ns+" to be deleted", func() bool {
		u, err := cp.Dynamic.Resource(gvrNS).Get(ctx, ns, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true
		}
		if err != nil {
			t.Fatal(err)
		}
		if u.GetDeletionTimestamp() == nil {
			t.Fatalf("namespace %s not being deleted", ns)
		}
		return false
	})
}

// namespace makes a throw-away namespace for a test.
func namespace(t *testing.T, labels ...string) string {
	t.Helper()
	ctx := context.Background()
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"generateName": "e2e-"}}}
	l := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	u.SetLabels(l)
	out, err := cp.Dynamic.Resource(gvrNS).Create(ctx, u, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cp.Dynamic.Resource(gvrNS).Delete(ctx, out.GetName(), metav1.DeleteOptions{}) })
	return out.GetName()
}

func poll(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func fromUnstructured[T any](t *testing.T, u *unstructured.Unstructured) *T {
	t.Helper()
	var out T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

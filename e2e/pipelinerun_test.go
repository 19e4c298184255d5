//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/pod"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"taskgate.dev/taskgate/e2e/localcp"
	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/cluster"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/report"
	"taskgate.dev/taskgate/pkg/report/githubtest"
)

// The registry prefix tasks/ pins our images under; the e2e serves the
// same digests from the loopback registry under cp.Registry.
const pinnedPrefix = "quay.io/taskgate/"

var (
	gateImagesOnce sync.Once
	gateImagesErr  error
	builtDigests   map[string]string // image name → digest imagebuild built from this tree
)

// gateImages builds our step images with cmd/imagebuild, exactly as
// `make images` does, pushes them to the loopback registry and returns
// their digests by name.
func gateImages(t *testing.T) map[string]string {
	t.Helper()
	gateImagesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "taskgate-e2e-images-")
		if err != nil {
			gateImagesErr = err
			return
		}
		defer os.RemoveAll(dir)
		start := time.Now()
		cmd := exec.Command("go", "run", "./cmd/imagebuild", "build", "--out", dir, "--push", cp.Registry+"/taskgate", "--tag", "e2e")
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			gateImagesErr = fmt.Errorf("imagebuild build: %v\n%s", err, out)
			return
		}
		fmt.Fprintf(os.Stderr, "e2e: imagebuild built and pushed the step images in %s:\n%s", time.Since(start).Round(time.Second), out)
		builtDigests = map[string]string{}
		for _, name := range []string{"taskgate", "taskgate-scan"} {
			idx, err := layout.ImageIndexFromPath(filepath.Join(dir, name))
			if err != nil {
				gateImagesErr = err
				return
			}
			m, err := idx.IndexManifest()
			if err != nil || len(m.Manifests) != 1 {
				gateImagesErr = fmt.Errorf("%s: %v, %d images in the layout", name, err, len(m.Manifests))
				return
			}
			builtDigests[name] = m.Manifests[0].Digest.String()
		}
	})
	if gateImagesErr != nil {
		t.Fatal(gateImagesErr)
	}
	return builtDigests
}

var pinRef = regexp.MustCompile(regexp.QuoteMeta(pinnedPrefix) + `([a-z0-9-]+)@(sha256:[0-9a-f]{64})`)

// The digests tasks/ pins are the images imagebuild builds from this
// tree on this machine: what the e2e runs is what a catalog pulls. The
// digests follow the source, the Go toolchain and the host packages the
// images copy (git, shellcheck, ca-certificates, libc and the other
// libraries ldd lists), so a change to any of them needs a new pin.
func TestImagesPinned(t *testing.T) {
	built := gateImages(t)
	pinned := map[string]int{}
	files, _ := filepath.Glob("../tasks/*/*/*.yaml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pinRef.FindAllStringSubmatch(string(data), -1) {
			name, digest := m[1], m[2]
			pinned[name]++
			if built[name] != digest {
				t.Errorf("%s pins %s%s@%s, imagebuild builds %s from this tree: run `make image-digests` and commit tasks/", f, pinnedPrefix, name, digest, built[name])
			}
		}
	}
	for name := range built {
		if pinned[name] == 0 {
			t.Errorf("no Task under tasks/ runs %s%s", pinnedPrefix, name)
		}
	}
	t.Logf("pins %v, built %v", pinned, built)
}

// gateTasks creates tasks/ in ns with our images' registry host rewritten
// to the loopback registry (the digests unchanged), after checking that
// imagebuild built those digests.
func gateTasks(t *testing.T, ns string) {
	t.Helper()
	built := gateImages(t)
	files, _ := filepath.Glob("../tasks/*/*/*.yaml")
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pinRef.FindAllStringSubmatch(string(data), -1) {
			if built[m[1]] != m[2] {
				t.Fatalf("%s pins %s, not the image this tree builds (%s): TestImagesPinned says more", path, m[0], built[m[1]])
			}
		}
		rel, _ := filepath.Rel("..", path)
		f := manifest.Parse(rel, []byte(strings.ReplaceAll(string(data), pinnedPrefix, cp.Registry+"/taskgate/")), manifest.DefaultLimits)
		if f.Task == nil {
			continue
		}
		obj, err := cluster.Object(f)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		obj.SetNamespace(ns)
		if err := cp.Apply(context.Background(), obj); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
	}
}

// gitRemote is a test catalog served to pods by git daemon on the host's
// bridge address.
type gitRemote struct {
	base, head string // main's tip and the pull request's head
	url        string // git://HOST:PORT/acme/catalog.git
	bare       string // the repository on disk
}

// catalogRemote makes the test catalog: main holds the example build
// pipelines, the pull request (refs/pull/1/head, as on GitHub) adds the
// partner's files, then main moves on; merged, the pull request is then
// merged into main (base is main's tip before, head after). git daemon
// serves it until the test ends.
func catalogRemote(t *testing.T, pr map[string]string, merged bool) *gitRemote {
	t.Helper()
	pipelines := map[string]string{"README.md": "# a partner catalog\n"}
	err := filepath.Walk("../examples/catalog/pipelines", func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel("../examples/catalog", p)
		pipelines[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	work := testrepo.PullRequest(t, pipelines, func(root string) { testrepo.Write(t, root, pr) })
	// main moves on after the pull request branched: the clone merges it in
	testrepo.Git(t, work, "checkout", "-q", "main")
	testrepo.Write(t, work, map[string]string{"README.md": "# a partner catalog\n\nPartner Tasks under partners/.\n"})
	testrepo.Git(t, work, "commit", "-qam", "main moves on")
	rev := func(r string) string {
		out, err := exec.Command("git", "-C", work, "rev-parse", r).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	served := t.TempDir()
	r := &gitRemote{base: rev("main"), head: rev("pr"), bare: filepath.Join(served, "acme", "catalog.git")}
	if merged {
		testrepo.Git(t, work, "merge", "-q", "--no-ff", "-m", "Merge pull request #1", "pr")
		r.head = rev("main")
	}
	if out, err := exec.Command("git", "clone", "-q", "--bare", "--branch", "main", work, r.bare).CombinedOutput(); err != nil {
		t.Fatalf("git clone --bare: %v\n%s", err, out)
	}
	testrepo.Git(t, r.bare, "update-ref", "refs/pull/1/head", r.head)
	testrepo.Git(t, r.bare, "branch", "-D", "pr")
	port := freePort(t)
	r.url = fmt.Sprintf("git://%s:%d/acme/catalog.git", localcp.NodeIP, port)
	execPath, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	daemon := exec.Command(filepath.Join(strings.TrimSpace(string(execPath)), "git-daemon"), "--export-all", "--reuseaddr", "--informative-errors",
		"--base-path="+served, "--listen="+localcp.NodeIP, "--port="+strconv.Itoa(port), served)
	log, err := os.Create(filepath.Join(t.TempDir(), "git-daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	// git-daemon itself (`git daemon` would be its parent): it dies with the test
	daemon.Stdout, daemon.Stderr = log, log
	daemon.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		daemon.Process.Kill()
		daemon.Wait()
		log.Close()
	})
	poll(t, 30*time.Second, "git daemon on "+r.url, func() bool {
		return exec.Command("git", "ls-remote", r.url).Run() == nil
	})
	return r
}

// freePort is a free TCP port on the host's bridge address.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", localcp.NodeIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// cloneTask stands in for Konflux's git-clone bundle (quay.io, out of
// reach here): test scaffolding with the params and workspaces the
// Pipeline binds, run with our own image's git (the image has no shell:
// one git command per step). It fetches the revision and the target
// branch (as origin/<target>) and, with mergeTargetBranch, merges the
// target into the revision, as git-clone does. The repository URL is a
// GitHub Enterprise one (the report derives the API from it); our image's
// git has no HTTP transport, so `url.insteadOf` sends it to git daemon.
func cloneTask(t *testing.T, ns, repoURL, gitURL string) {
	t.Helper()
	image := cp.Registry + "/taskgate/taskgate@" + gateImages(t)["taskgate"]
	dir := "$(workspaces.output.path)/source"
	git := func(name string, args ...string) v1.Step {
		return v1.Step{Name: name, Image: image, Command: []string{"git"}, Args: append([]string{"-C", dir,
			"-c", "url." + strings.TrimSuffix(gitURL, "acme/catalog.git") + ".insteadOf=" + strings.TrimSuffix(repoURL, "acme/catalog"),
			"-c", "user.name=git-clone", "-c", "user.email=git-clone@e2e.invalid"}, args...)}
	}
	no, yes, uid := false, true, int64(65532)
	task := &v1.Task{
		TypeMeta:   metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "Task"},
		ObjectMeta: metav1.ObjectMeta{Name: "git-clone"},
		Spec: v1.TaskSpec{
			Params:     []v1.ParamSpec{{Name: "url"}, {Name: "revision"}, {Name: "depth"}, {Name: "mergeTargetBranch", Default: v1.NewStructuredValues("false")}, {Name: "targetBranch", Default: v1.NewStructuredValues("main")}},
			Workspaces: []v1.WorkspaceDeclaration{{Name: "output"}, {Name: "basic-auth", Optional: true}},
			StepTemplate: &v1.StepTemplate{SecurityContext: &corev1.SecurityContext{
				RunAsNonRoot: &yes, RunAsUser: &uid, AllowPrivilegeEscalation: &no,
				Capabilities:   &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			}},
			Steps: []v1.Step{
				{Name: "init", Image: image, Command: []string{"git"}, Args: []string{"init", "-q", "--template=", dir}},
				git("fetch", "fetch", "--no-tags", "$(params.url)", "+refs/heads/$(params.targetBranch):refs/remotes/origin/$(params.targetBranch)", "$(params.revision)"),
				git("checkout", "checkout", "-q", "--detach", "$(params.revision)"),
				// no shell for an `if`: an alias per value of mergeTargetBranch
				git("merge", "-c", "alias.merge-target-true=merge --no-edit origin/$(params.targetBranch)", "-c", "alias.merge-target-false=log -1 --oneline",
					"merge-target-$(params.mergeTargetBranch)"),
				git("show", "log", "--oneline", "--graph", "-5"),
			},
		},
	}
	apply(t, ns, task)
}

// gateNamespace makes a Pod Security "restricted" namespace holding what
// install/ and the README's Install section put in the Repository's
// namespace: tasks/ (images from the loopback registry), the Pipeline (the
// clone task swapped for cloneTask), the dry-run service account, its Role
// and its dry-run-only admission policy.
func gateNamespace(t *testing.T, repoURL, gitURL string) string {
	t.Helper()
	ctx := context.Background()
	ns := namespace(t, "pod-security.kubernetes.io/enforce", "restricted")
	gateTasks(t, ns)
	cloneTask(t, ns, repoURL, gitURL)
	pf := manifest.Load("..", "pipelines/partner-task-validation.yaml", manifest.DefaultLimits)
	if pf.Pipeline == nil {
		t.Fatalf("pipelines/partner-task-validation.yaml: %+v", pf.Problems)
	}
	p := pf.Pipeline.DeepCopy()
	for i := range p.Spec.Tasks {
		if p.Spec.Tasks[i].Name == "clone" {
			p.Spec.Tasks[i].TaskRef = &v1.TaskRef{Name: "git-clone"}
		}
	}
	apply(t, ns, p)
	for _, f := range []string{"../install/dry-run-rbac.yaml", "../install/dry-run-policy.yaml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// the policy is cluster-scoped: one per test namespace
		text := strings.NewReplacer("catalog-ci", ns, "taskgate-dry-run-only", "taskgate-dry-run-only-"+ns).Replace(string(data))
		tmp := filepath.Join(t.TempDir(), filepath.Base(f))
		if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		objs, err := localcp.ReadObjects(tmp)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if err := cp.Apply(ctx, o); err != nil {
				t.Fatalf("%s %s: %v", f, o.GetName(), err)
			}
			if o.GetNamespace() == "" {
				res := map[string]string{"ValidatingAdmissionPolicy": "validatingadmissionpolicies", "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings"}[o.GetKind()]
				gvr := schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: res}
				name := o.GetName()
				t.Cleanup(func() { cp.Dynamic.Resource(gvr).Delete(ctx, name, metav1.DeleteOptions{}) })
			}
		}
	}
	return ns
}

// workspaceVolume is a PersistentVolume the PipelineRun's
// volumeClaimTemplate binds to (there is no provisioner): a directory of
// the host, which the test reads afterwards (the reports).
func workspaceVolume(t *testing.T, ns string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil { // the steps run as 65532
		t.Fatal(err)
	}
	pv := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "PersistentVolume",
		"metadata": map[string]any{"name": "workspace-" + ns},
		"spec": map[string]any{
			"capacity":                      map[string]any{"storage": "1Gi"},
			"accessModes":                   []any{"ReadWriteOnce"},
			"persistentVolumeReclaimPolicy": "Retain",
			"hostPath":                      map[string]any{"path": dir, "type": "Directory"},
		},
	}}
	if err := cp.Apply(context.Background(), pv); err != nil {
		t.Fatal(err)
	}
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}
	t.Cleanup(func() { cp.Dynamic.Resource(gvr).Delete(context.Background(), pv.GetName(), metav1.DeleteOptions{}) })
	return dir
}

// pacPipelineRun reads a PipelineRun of .tekton/ with its placeholders
// filled as Pipelines-as-Code fills them, the `{{ cel: }}` one included
// (for a pull_request event it yields body.pull_request.user.login).
func pacPipelineRun(t *testing.T, file string, vars map[string]string, celValue string) *v1.PipelineRun {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", file))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for k, v := range vars {
		text = strings.ReplaceAll(text, "{{ "+k+" }}", v)
	}
	text = regexp.MustCompile(`\{\{ cel:[^}]*\}\}`).ReplaceAllString(text, celValue)
	if left := regexp.MustCompile(`\{\{[^}]*\}\}`).FindString(text); left != "" {
		t.Fatalf("%s: %s is not filled", file, left)
	}
	f := manifest.Parse(file, []byte(text), manifest.DefaultLimits)
	obj, err := cluster.Object(f)
	if err != nil {
		t.Fatal(err)
	}
	return fromUnstructured[v1.PipelineRun](t, obj)
}

// taskRunLog is what the dashboard shows of one pipeline task.
type taskRunLog struct {
	task, reason string
	succeeded    bool
	results      map[string]string
	steps        map[string]string // step name → its log
	order        []string
}

// waitPipelineRun waits until the run is done and reads every TaskRun's
// status and step logs (through the API server, as the dashboard does).
func waitPipelineRun(t *testing.T, ns, name string, limit time.Duration) (*v1.PipelineRun, map[string]*taskRunLog) {
	t.Helper()
	ctx := context.Background()
	var pr *v1.PipelineRun
	deadline := time.Now().Add(limit)
	for {
		u, err := cp.Dynamic.Resource(gvrPR).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pr = fromUnstructured[v1.PipelineRun](t, u)
		if c := pr.Status.GetCondition("Succeeded"); c != nil && !c.IsUnknown() {
			break
		}
		if time.Now().After(deadline) {
			logs := taskRunLogs(t, ns, name)
			dumpLogs(t, logs)
			pods, _ := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			for _, p := range pods.Items {
				t.Logf("pod %s: %s %+v", p.Name, p.Status.Phase, p.Status.ContainerStatuses)
			}
			t.Fatalf("PipelineRun %s not done after %s: %+v", name, limit, pr.Status.Conditions)
		}
		time.Sleep(time.Second)
	}
	return pr, taskRunLogs(t, ns, name)
}

func taskRunLogs(t *testing.T, ns, pipelineRun string) map[string]*taskRunLog {
	t.Helper()
	ctx := context.Background()
	list, err := cp.Dynamic.Resource(gvrTR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "tekton.dev/pipelineRun=" + pipelineRun})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*taskRunLog{}
	for i := range list.Items {
		tr := fromUnstructured[v1.TaskRun](t, &list.Items[i])
		l := &taskRunLog{task: tr.Labels["tekton.dev/pipelineTask"], steps: map[string]string{}, results: map[string]string{}}
		for _, r := range tr.Status.Results {
			l.results[r.Name] = r.Value.StringVal
		}
		if c := tr.Status.GetCondition("Succeeded"); c != nil {
			l.succeeded, l.reason = c.IsTrue(), c.Reason+": "+c.Message
		}
		for _, st := range tr.Status.Steps {
			l.order = append(l.order, st.Name)
			data, err := kube.CoreV1().Pods(ns).GetLogs(tr.Status.PodName, &corev1.PodLogOptions{Container: st.Container}).DoRaw(ctx)
			if err != nil {
				data = []byte(fmt.Sprintf("(no log: %v)", err))
			}
			l.steps[st.Name] = string(data)
		}
		out[l.task] = l
	}
	return out
}

// dumpLogs prints the step logs in pipeline order, as a partner reads
// them in the dashboard.
func dumpLogs(t *testing.T, logs map[string]*taskRunLog) {
	t.Helper()
	order := []string{"clone", "discover", "validate", "integrate", "dry-run", "bundle", "report"}
	var names []string
	for n := range logs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return index(order, names[i]) < index(order, names[j]) })
	var b strings.Builder
	for _, n := range names {
		l := logs[n]
		fmt.Fprintf(&b, "\n=== %s: succeeded %v (%s)\n", n, l.succeeded, l.reason)
		for _, s := range l.order {
			fmt.Fprintf(&b, "--- step %s\n%s", s, l.steps[s])
		}
	}
	t.Log(b.String())
}

func index(list []string, s string) int {
	for i, x := range list {
		if strings.HasPrefix(s, x) {
			return i
		}
	}
	return len(list)
}

// The pull request PipelineRun of .tekton/ runs end to end on the real
// node, for real: clone (test scaffolding, our image's git) of a local git
// remote of a test catalog with a partner's pull request, discover,
// validate, integrate, dry-run on this cluster with the dry-run service
// account, and report to a fake GitHub the pods reach. Each step runs the
// image imagebuild builds from this tree, by the digest tasks/ pins. The
// run's verdict is the gate's: icr-scan (a real partner submission, from
// the corpus) fails with its findings in the validate step's log, a new
// PR comment and a failing check run; examples/catalog's hello-world
// passes, its earlier comment updated in place and a successful check run.
func TestValidationPipelineRun(t *testing.T) {
	hello := map[string]string{}
	for _, f := range []string{"partners/hello-world/OWNERS", "partners/hello-world/0.1/README.md", "partners/hello-world/0.1/hello-world.yaml"} {
		data, err := os.ReadFile(filepath.Join("../examples/catalog", f))
		if err != nil {
			t.Fatal(err)
		}
		hello[f] = string(data)
	}
	failing, author, wantLog := icrScan(t)
	for _, tc := range []struct {
		name    string
		pr      map[string]string
		author  string
		passes  bool
		wantLog []string // lines of the validate step's log
	}{
		{"icr-scan", failing, author, false, wantLog},
		{"hello-world", hello, "example-partner", true, []string{
			"fits mini-build as image-check after build-container",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			remote := catalogRemote(t, tc.pr, false)
			gh := githubtest.Listen(t, fmt.Sprintf("%s:%d", localcp.NodeIP, freePort(t)))
			repoURL := strings.TrimSuffix(gh.URL, "api/v3/") + "acme/catalog"
			if tc.passes {
				// a passing run only updates an earlier comment (it posts no new one):
				// the one a failing run of this pull request left
				gh.Comments = append(gh.Comments, &githubtest.Comment{ID: 7, User: githubtest.Bot, Body: report.MarkdownMarker + "\nan earlier run: 1 error"})
			}
			ns := gateNamespace(t, repoURL, remote.url)
			dir := workspaceVolume(t, ns)
			secret := "pac-gitauth-e2e"
			apply(t, ns, &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: metav1.ObjectMeta{Name: secret},
				StringData: map[string]string{"git-provider-token": githubtest.Token}})
			pr := pacPipelineRun(t, ".tekton/partner-task-validation-pull-request.yaml", map[string]string{
				"repo_url": repoURL, "revision": remote.head, "target_branch": "main", "pull_request_number": "1", "git_auth_secret": secret,
			}, tc.author)
			apply(t, ns, pr)
			got, logs := waitPipelineRun(t, ns, pr.Name, 10*time.Minute)
			dumpLogs(t, logs)
			c := got.Status.GetCondition("Succeeded")
			t.Logf("PipelineRun %s: %s: %s: %s (%s)", pr.Name, c.Status, c.Reason, c.Message, time.Since(start).Round(time.Second))

			// the verdict is the gate's: what validate wrote, and what the CLI
			// says of the same checkout
			var rep report.JSONReport
			data, err := os.ReadFile(filepath.Join(dir, "taskgate", "report.json"))
			if err == nil {
				err = json.Unmarshal(data, &rep)
			}
			if err != nil {
				t.Fatalf("the validate step's report: %v", err)
			}
			if c.IsTrue() != rep.Summary.Passed || rep.Summary.Passed != tc.passes || rep.Summary.Submissions != 1 {
				t.Errorf("PipelineRun succeeded %v, the gate passed %v (%+v), want %v", c.IsTrue(), rep.Summary.Passed, rep.Summary, tc.passes)
			}
			cli := exec.Command(taskgate, "validate", filepath.Join(dir, "source"), "--format=json", "--changed-from=origin/main", "--config-from-base",
				"--event=pull_request", "--author="+tc.author)
			// the checkout is the steps' (65532): git works on it only if told it is safe
			cli.Env = append(os.Environ(), "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=safe.directory", "GIT_CONFIG_VALUE_0=*")
			out, _ := cli.Output()
			text, code := string(out), cli.ProcessState.ExitCode()
			var local report.JSONReport
			if err := json.Unmarshal([]byte(text), &local); err != nil || local.Summary != rep.Summary || (code == 0) != tc.passes {
				t.Errorf("taskgate validate on the pipeline's checkout: exit %d, %+v; the pipeline's validate: %+v (%v)", code, local.Summary, rep.Summary, err)
			}

			ran := []string{"clone", "discover", "validate", "integrate", "dry-run", "report"}
			skipped := []string{"bundle"}
			if !tc.passes {
				ran, skipped = []string{"clone", "discover", "validate", "report"}, []string{"integrate", "dry-run", "bundle"}
			}
			for _, name := range ran {
				l := logs[name]
				if l == nil {
					t.Errorf("pipeline task %s did not run", name)
					continue
				}
				if wantOK := name != "validate" || tc.passes; l.succeeded != wantOK {
					t.Errorf("pipeline task %s: succeeded %v, want %v (%s)", name, l.succeeded, wantOK, l.reason)
				}
			}
			var skippedNames []string
			for _, s := range got.Status.SkippedTasks {
				skippedNames = append(skippedNames, s.Name)
			}
			sort.Strings(skippedNames)
			if sort.Strings(skipped); strings.Join(skippedNames, ",") != strings.Join(skipped, ",") {
				t.Errorf("skipped %v, want %v", skippedNames, skipped)
			}

			if len(got.Status.Results) != 1 || fmt.Sprint(got.Status.Results[0].Value.ArrayVal) != "[partners/"+tc.name+"/0.1]" {
				t.Errorf("the PipelineRun's results %+v, want submissions [partners/%s/0.1]", got.Status.Results, tc.name)
			}

			// the logs read well
			expectLog(t, logs, "clone", "show", "Merge remote-tracking branch 'origin/main'")
			expectLog(t, logs, "discover", "discover", "partners/"+tc.name+"/0.1")
			// the cluster rules are "not run" in validate: they are dry-run's
			summary := fmt.Sprintf("taskgate: 1 submission(s), %d error(s), %d warning(s), %d info, %d check(s) not run: %s", rep.Summary.Errors, rep.Summary.Warnings, rep.Summary.Infos,
				rep.Summary.NotRun, map[bool]string{true: "passed", false: "FAILED"}[tc.passes])
			for _, line := range append(tc.wantLog, summary) {
				expectLog(t, logs, "validate", "validate", line)
			}
			if tc.passes {
				expectLog(t, logs, "integrate", "integrate", "partners/hello-world/0.1: fits mini-build as image-check: ")
				expectLog(t, logs, "dry-run", "dry-run", "taskgate: 1 submission(s), 0 error(s), 0 warning(s), 0 info, 1 check(s) not run: passed") // cluster/run: only with --run
			}
			verdict := fmt.Sprintf("taskgate report: acme/catalog#1 at %s: the gate %s with %d error(s), %d warning(s)", remote.head, map[bool]string{true: "passed", false: "failed"}[tc.passes], rep.Summary.Errors, rep.Summary.Warnings)
			expectLog(t, logs, "report", "report", verdict)
			expectLog(t, logs, "report", "report", "check run taskgate: ")

			// what GitHub got
			gh.Mu.Lock()
			defer gh.Mu.Unlock()
			if len(gh.Comments) != 1 || gh.Comments[0].User != githubtest.Bot || !strings.HasPrefix(gh.Comments[0].Body, report.MarkdownMarker) ||
				!strings.Contains(gh.Comments[0].Body, "partners/"+tc.name+"/0.1") {
				t.Errorf("comments %+v", gh.Comments)
			} else if tc.passes && (gh.Comments[0].ID != 7 || strings.Contains(gh.Comments[0].Body, "an earlier run")) {
				t.Errorf("the earlier comment was not updated in place: %+v", gh.Comments[0])
			}
			conclusion := map[bool]string{true: "success", false: "failure"}[tc.passes]
			if len(gh.Runs) != 1 || gh.Runs[0].Name != report.CheckRunName || gh.Runs[0].HeadSHA != remote.head || gh.Runs[0].Conclusion != conclusion {
				t.Errorf("check runs %+v, want one %s on %s", gh.Runs, conclusion, remote.head)
			} else if !tc.passes && len(gh.Runs[0].Annotations) == 0 {
				t.Errorf("the failing check run annotates nothing")
			}
			t.Logf("GitHub got: %v", gh.Requests)
		})
	}
}

// icrScan is the partner submission that fails: icr-scan of the corpus
// (build-definitions PR 408, never merged). e2e needs the corpus (as
// TestComposedDryRun does): without it the test fails, it does not skip.
func icrScan(t *testing.T) (files map[string]string, author string, wantLog []string) {
	dir := testrepo.Corpus(t, "build-definitions", "_pull-requests", "pr-408", "partners", "icr-scan")
	files = map[string]string{}
	for _, f := range []string{"OWNERS", "0.1/README.md", "0.1/icr-scan.yaml"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		files["partners/icr-scan/"+f] = string(data)
	}
	return files, "openrefactory", []string{
		"partners/icr-scan/0.1/icr-scan.yaml:19:7: error integration/unbound-param: required param \"iCR-License\"",
		"partners/icr-scan/0.1/icr-scan.yaml:35:16: error secret/as-param: param \"iCR-Password\" holds a credential",
		"partners/icr-scan/0.1/icr-scan.yaml:53:27: error script/param-injection",
		"help: ",
	}
}

func expectLog(t *testing.T, logs map[string]*taskRunLog, task, step, line string) {
	t.Helper()
	l := logs[task]
	if l == nil || !strings.Contains(l.steps[step], line) {
		t.Errorf("the log of %s's step %s has no line %q", task, step, line)
	}
}

// The push PipelineRun of .tekton/ (a pull request adding hello-world
// merged into main) gates the change again and publishes the submission
// as a Tekton bundle to the registry (its bundle-prefix edited, as its
// comment says, to the loopback registry as pods reach it), with the
// trust data Conforma reads as the bundle TaskRun's result. The bundle is
// then pulled back by Tekton's bundles resolver for a TaskRun, which runs
// it. hello-world's image is the local busybox one (the Task unchanged
// otherwise): the bundled Task must run here.
func TestPushPipelineRun(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{}
	for _, f := range []string{"partners/hello-world/OWNERS", "partners/hello-world/0.1/README.md", "partners/hello-world/0.1/hello-world.yaml"} {
		data, err := os.ReadFile(filepath.Join("../examples/catalog", f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = string(data)
	}
	const task = "partners/hello-world/0.1/hello-world.yaml"
	files[task] = regexp.MustCompile(`(?m)^(\s+image: ).*$`).ReplaceAllString(files[task], "${1}"+busybox)
	origin := catalogRemote(t, files, true)
	const repoURL = "https://github.com/acme/catalog" // what Pipelines-as-Code gives; the clone maps it to git daemon
	ns := gateNamespace(t, repoURL, origin.url)
	workspaceVolume(t, ns)
	secret := "pac-gitauth-e2e"
	apply(t, ns, &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: metav1.ObjectMeta{Name: secret},
		StringData: map[string]string{".git-credentials": "", ".gitconfig": ""}})
	apply(t, ns, &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: metav1.ObjectMeta{Name: "taskgate-registry-auth"},
		Type: corev1.SecretTypeDockerConfigJson, StringData: map[string]string{".dockerconfigjson": `{"auths":{}}`}})
	pr := pacPipelineRun(t, ".tekton/partner-task-validation-push.yaml", map[string]string{
		"repo_url": repoURL, "revision": origin.head, "target_branch": "main", "body.before": origin.base, "git_auth_secret": secret,
	}, "")
	prefix := cp.PodRegistry + "/partner-tasks"
	edited := false
	for i, p := range pr.Spec.Params {
		if p.Name == "bundle-prefix" && p.Value.StringVal == "quay.io/CHANGE-ME/partner-tasks" {
			pr.Spec.Params[i].Value = *v1.NewStructuredValues(prefix)
			edited = true
		}
	}
	if !edited {
		t.Fatalf("no bundle-prefix placeholder to edit in %+v", pr.Spec.Params)
	}
	apply(t, ns, pr)
	got, logs := waitPipelineRun(t, ns, pr.Name, 10*time.Minute)
	dumpLogs(t, logs)
	if c := got.Status.GetCondition("Succeeded"); !c.IsTrue() {
		t.Fatalf("the push PipelineRun: %s: %s", c.Reason, c.Message)
	}
	for _, name := range []string{"clone", "discover", "validate", "integrate", "dry-run", "bundle"} {
		if l := logs[name]; l == nil || !l.succeeded {
			t.Errorf("pipeline task %s did not succeed: %+v", name, l)
		}
	}
	if len(got.Status.SkippedTasks) != 1 || got.Status.SkippedTasks[0].Name != "report" {
		t.Errorf("skipped %+v, want only report (no pull request on a push)", got.Status.SkippedTasks)
	}
	b := logs["bundle"]
	if b == nil {
		t.Fatal("no bundle TaskRun")
	}
	trust := b.results["trust-data"]
	t.Logf("trust-data:\n%s", trust)
	repo := prefix + "/task-hello-world"
	expectLog(t, logs, "bundle", "push", "pushing "+repo+"@sha256:")
	expectLog(t, logs, "bundle", "push", "tagged 0.1\n")
	ref := regexp.MustCompile(regexp.QuoteMeta(repo) + `@sha256:[0-9a-f]{64}`).FindString(b.steps["push"])
	if ref == "" {
		t.Fatalf("the push step's log names no bundle by digest")
	}
	digest := strings.TrimPrefix(ref, repo+"@")
	// the registry holds it under its version tag; the trust data trusts that digest there
	tag, err := name.NewTag(cp.Registry+"/partner-tasks/task-hello-world:0.1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(tag)
	if err != nil || desc.Digest.String() != digest {
		t.Errorf("%s in the registry: %v, %v; the push step pushed %s", tag, desc, err, digest)
	}
	if !strings.Contains(trust, "oci://"+repo+":0.1:\n") || !strings.Contains(trust, "ref: "+digest) {
		t.Errorf("the trust data does not trust %s at oci://%s:0.1", digest, repo)
	}

	// the bundle, pulled back by Tekton's bundles resolver, runs
	no, yes := false, true
	tr := &v1.TaskRun{
		TypeMeta:   metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "TaskRun"},
		ObjectMeta: metav1.ObjectMeta{Name: "hello-world-from-bundle"},
		Spec: v1.TaskRunSpec{
			TaskRef: &v1.TaskRef{ResolverRef: v1.ResolverRef{Resolver: "bundles", Params: v1.Params{
				{Name: "bundle", Value: *v1.NewStructuredValues(ref)},
				{Name: "name", Value: *v1.NewStructuredValues("hello-world")},
				{Name: "kind", Value: *v1.NewStructuredValues("task")},
			}}},
			Params: v1.Params{{Name: "image-url", Value: *v1.NewStructuredValues(strings.Split(busybox, "@")[0])},
				{Name: "image-digest", Value: *v1.NewStructuredValues(strings.Split(busybox, "@")[1])}},
			PodTemplate: &pod.Template{AutomountServiceAccountToken: &no, SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}},
		},
	}
	apply(t, ns, tr)
	var run *v1.TaskRun
	poll(t, 3*time.Minute, "the TaskRun of the bundle", func() bool {
		u, err := cp.Dynamic.Resource(gvrTR).Namespace(ns).Get(ctx, tr.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		run = fromUnstructured[v1.TaskRun](t, u)
		c := run.Status.GetCondition("Succeeded")
		return c != nil && !c.IsUnknown()
	})
	c := run.Status.GetCondition("Succeeded")
	var out string
	for _, r := range run.Status.Results {
		if r.Name == "TEST_OUTPUT" {
			out = r.Value.StringVal
		}
	}
	t.Logf("TaskRun %s from %s: %s: %s; TEST_OUTPUT %s", run.Name, ref, c.Reason, c.Message, out)
	if !c.IsTrue() || !strings.Contains(out, `"result":"SKIPPED"`) {
		t.Errorf("the bundled Task did not run to SKIPPED: %s: %s, TEST_OUTPUT %q", c.Reason, c.Message, out)
	}
	if p := run.Status.Provenance; p == nil || p.RefSource == nil || !strings.Contains(p.RefSource.URI, repo) || len(p.RefSource.Digest) == 0 {
		t.Errorf("the TaskRun's provenance does not name the bundle: %+v", run.Status.Provenance)
	} else {
		t.Logf("its provenance: %s %v (Tekton's bundles resolver)", p.RefSource.URI, p.RefSource.Digest)
	}
}

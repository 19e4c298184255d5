// Tests of our own Tasks, tasks/<name>/<version>/<name>.yaml: they pass
// Tekton's validation and our own gate, their steps follow the rules the
// issue sets (our binaries, no scripts, params through the environment,
// non-root, images pinned), and run end to end on this machine as the
// validation Pipeline would run them (without a cluster: each step's
// command is executed after Tekton's and Kubernetes' substitutions).
package tasks_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"taskgate.dev/taskgate/internal/testrepo"
	"testing"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"taskgate.dev/taskgate/pkg/bundle/registrytest"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
	"taskgate.dev/taskgate/pkg/report/githubtest"
	_ "taskgate.dev/taskgate/pkg/rules" // registers every check
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// testdata is a path in the repository's own test corpus (testdata/).
func testdata(t *testing.T, rel string) string { return testrepo.Testdata(t, rel) }

// loadTasks reads every Task under tasks/, strictly, by name.
func loadTasks(t *testing.T) map[string]*manifest.File {
	t.Helper()
	root := repoRoot(t)
	paths, _ := filepath.Glob(filepath.Join(root, "tasks", "*", "*", "*.yaml"))
	if len(paths) < 6 {
		t.Fatalf("%d Tasks under tasks/, want discover, validate, integrate, dry-run, bundle, report", len(paths))
	}
	out := map[string]*manifest.File{}
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		f := manifest.Load(root, filepath.ToSlash(rel), manifest.DefaultLimits)
		for _, pr := range f.Problems {
			t.Errorf("%s:%d:%d: %s: %s", f.Path, pr.Line, pr.Column, pr.Rule, pr.Message)
		}
		if f.Task == nil || f.APIVersion != "tekton.dev/v1" {
			t.Fatalf("%s: not a tekton.dev/v1 Task", rel)
		}
		out[f.Task.Name] = f
	}
	return out
}

func TestTasksValidate(t *testing.T) {
	for name, f := range loadTasks(t) {
		task := f.Task.DeepCopy()
		task.SetDefaults(pipeline.Context())
		if errs := task.Validate(pipeline.Context()); errs != nil {
			t.Errorf("%s: Tekton rejects it: %v", name, errs)
		}
	}
}

// The gate passes our Tasks with no finding at all. tasks/ is laid out
// like a team's task repository (task/<name>/<version>/), so the gate
// runs on a copy under that name: the same files, the real discovery.
func TestTasksPassTheGate(t *testing.T) {
	cat := t.TempDir()
	if err := os.CopyFS(filepath.Join(cat, "task"), os.DirFS(filepath.Join(repoRoot(t), "tasks"))); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(cat, "task", "tasks_test.go"))
	// The maintainers' one waiver: report's step runs the taskgate binary
	// (no shell in its image), which says the github workspace is missing
	// and exits 0 by itself. A waiver is reviewed when it expires.
	waiver := "waivers:\n  - {task: taskgate-report, versions: [\"0.1\"], rule: credentials/no-skip, expires: 2027-12-01,\n     reason: \"taskgate report (no shell in its image) exits 0 by itself without the github workspace\"}\n"
	if err := os.WriteFile(filepath.Join(cat, ".taskgate.yaml"), []byte(waiver), 0o644); err != nil {
		t.Fatal(err)
	}
	repo, err := catalog.Open(cat)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := repo.Discover()
	if err != nil {
		t.Fatal(err)
	}
	settings, err := check.Resolve(repo.Config, check.All())
	if err != nil {
		t.Fatal(err)
	}
	res := check.Run(subs, check.All(), settings)
	if len(res.Submissions) != len(loadTasks(t)) {
		t.Fatalf("the gate found %d submissions", len(res.Submissions))
	}
	for _, f := range res.Findings() {
		t.Errorf("%s\n    help: %s", f, f.Help)
	}
	for _, s := range res.Submissions {
		for _, st := range s.Checks {
			waived := st.Waiver != nil && s.ID == "task/taskgate-report/0.1" && st.Check == "credentials/no-skip"
			// the cluster rules judge only in `taskgate dry-run` (e2e runs them)
			noCluster := strings.HasPrefix(st.Check, "cluster/") && st.NotRun == check.NeedsCluster
			if st.Skipped != "" && !strings.HasPrefix(st.Check, "integration/") && !waived && !noCluster {
				t.Errorf("%s: %s skipped: %s", s.ID, st.Check, st.Skipped)
			}
		}
	}
}

var (
	ourImage = regexp.MustCompile(`^[^@\s]+/(taskgate|taskgate-scan)@sha256:[0-9a-f]{64}$`)
	envRef   = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
)

// The rules the issue sets for our steps.
func TestStepsFollowTheRules(t *testing.T) {
	for name, f := range loadTasks(t) {
		sc := f.Task.Spec.StepTemplate
		if sc == nil || sc.SecurityContext == nil || sc.SecurityContext.RunAsNonRoot == nil || !*sc.SecurityContext.RunAsNonRoot ||
			sc.SecurityContext.AllowPrivilegeEscalation == nil || *sc.SecurityContext.AllowPrivilegeEscalation {
			t.Errorf("%s: the stepTemplate must run as non-root without privilege escalation", name)
		}
		for _, st := range f.Task.Spec.Steps {
			where := name + "/" + st.Name
			if st.Script != "" {
				t.Errorf("%s: a script; steps call our binaries with command/args", where)
			}
			if len(st.Command) != 1 || st.Command[0] != "taskgate" {
				t.Errorf("%s: command %q, want [taskgate]", where, st.Command)
			}
			if !ourImage.MatchString(st.Image) {
				t.Errorf("%s: image %s is not one of ours pinned by digest", where, st.Image)
			}
			env := map[string]bool{}
			for _, e := range st.Env {
				env[e.Name] = true
			}
			for _, a := range append(append([]string{}, st.Command...), st.Args...) {
				if strings.Contains(a, "$(params.") {
					t.Errorf("%s: %q: pass params through env", where, a)
				}
				// Kubernetes leaves $(NAME) of an undefined variable as it is
				for _, m := range envRef.FindAllStringSubmatch(a, -1) {
					if !env[m[1]] {
						t.Errorf("%s: %q uses $(%s), which the step does not define", where, a, m[1])
					}
				}
			}
		}
	}
}

// step is one step made runnable here: Tekton's substitutions done.
type step struct {
	task, name string
	dir        string
	args       []string
	env        []string
	onError    v1.OnErrorType
}

// prepare substitutes a Task's params (given, else defaults), workspace
// paths and result paths as Tekton does, then $(NAME) from the step's env
// in command and args as Kubernetes does.
func prepare(t *testing.T, f *manifest.File, params, workspaces map[string]string, results string) []step {
	t.Helper()
	task := f.Task
	repl := map[string]string{}
	for _, p := range task.Spec.Params {
		v, ok := params[p.Name]
		if !ok {
			if p.Default == nil {
				t.Fatalf("%s: required param %s not given", task.Name, p.Name)
			}
			v = p.Default.StringVal
		}
		repl["params."+p.Name] = v
	}
	for _, w := range task.Spec.Workspaces {
		repl["workspaces."+w.Name+".path"] = workspaces[w.Name] // an unbound optional one is ""
		repl["workspaces."+w.Name+".bound"] = fmt.Sprint(workspaces[w.Name] != "")
	}
	for _, r := range task.Spec.Results {
		repl["results."+r.Name+".path"] = filepath.Join(results, r.Name)
	}
	tekton := regexp.MustCompile(`\$\(((?:params|workspaces|results)\.[^)]+)\)`)
	sub := func(s string) string {
		return tekton.ReplaceAllStringFunc(s, func(m string) string {
			v, ok := repl[m[2:len(m)-1]]
			if !ok {
				t.Fatalf("%s: %s is not a variable of the Task", task.Name, m)
			}
			return v
		})
	}
	var out []step
	for _, st := range task.Spec.Steps {
		s := step{task: task.Name, name: st.Name, dir: sub(st.WorkingDir), onError: st.OnError}
		vars := map[string]string{}
		for _, e := range st.Env {
			if e.ValueFrom != nil {
				vars[e.Name] = "default" // the downward API: the namespace
			} else {
				vars[e.Name] = sub(e.Value)
			}
			s.env = append(s.env, e.Name+"="+vars[e.Name])
		}
		k8s := func(a string) string {
			return envRef.ReplaceAllStringFunc(sub(a), func(m string) string { return vars[m[2:len(m)-1]] })
		}
		for _, a := range append(append([]string{}, st.Command...), st.Args...) {
			s.args = append(s.args, k8s(a))
		}
		out = append(out, s)
	}
	return out
}

// run executes a step with the taskgate binary; it returns the exit code.
func (s step) run(t *testing.T, bin string, extraEnv ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, s.args[1:]...)
	cmd.Dir = s.dir
	cmd.Env = append(append(append(os.Environ(), "HOME="+t.TempDir()), s.env...), extraEnv...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s/%s: %v", s.task, s.name, err)
	}
	t.Logf("%s/%s: taskgate %s → exit %d", s.task, s.name, strings.Join(s.args[1:], " "), code)
	return code, string(out)
}

func buildTaskgate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "taskgate")
	cmd := exec.Command("go", "build", "-o", bin, "taskgate.dev/taskgate/cmd/taskgate")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=partner", "-c", "user.email=partner@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// checkout makes the workspace of a run: source/ is a catalog whose base
// commit holds the example submission and whose head commit adds the
// submission at src (a directory of partners/<task>/).
func checkout(t *testing.T, src, task string) (ws string) {
	t.Helper()
	ws = t.TempDir()
	repo := filepath.Join(ws, "source")
	if err := os.CopyFS(filepath.Join(repo, "partners"), os.DirFS(filepath.Join(repoRoot(t), "examples", "catalog", "partners"))); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "base")
	git(t, repo, "remote", "add", "origin", "https://github.com/acme/catalog")
	if err := os.CopyFS(filepath.Join(repo, "partners", task), os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "add "+task)
	return ws
}

// A pull request adding testdata's failing license-scan submission: the validate
// step fails with file:line findings in its log, and the report step
// posts the comment and the annotated check run.
func TestPullRequestRunsLocally(t *testing.T) {
	pr := testdata(t, "build-definitions/_pull-requests/pr-1/partners/license-scan")
	pipes := testdata(t, "build-definitions")
	tasks := loadTasks(t)
	bin := buildTaskgate(t)
	ws := checkout(t, pr, "license-scan")
	results := t.TempDir()
	src := map[string]string{"source": ws}

	steps := prepare(t, tasks["taskgate-discover"], map[string]string{"changed-from": "HEAD~1"}, src, results)
	if code, out := steps[0].run(t, bin); code != 0 {
		t.Fatalf("discover: exit %d\n%s", code, out)
	}
	var subs []string
	data, _ := os.ReadFile(filepath.Join(results, "submissions"))
	if err := json.Unmarshal(data, &subs); err != nil || strings.Join(subs, ",") != "partners/license-scan/0.1" {
		t.Errorf("discover's result %s: want [partners/license-scan/0.1]", data)
	}

	steps = prepare(t, tasks["taskgate-validate"], map[string]string{"changed-from": "HEAD~1", "author": "partner-dev", "pipelines": pipes}, src, results)
	code, out := steps[0].run(t, bin)
	if code != 1 || !strings.Contains(out, "partners/license-scan/0.1/license-scan.yaml:33:25: error script/param-injection:") || !strings.Contains(out, "FAILED") {
		t.Fatalf("validate: exit %d, want 1 and file:line findings in the log:\n%s", code, out)
	}
	for _, f := range []string{"report.json", "comment.md"} {
		if _, err := os.Stat(filepath.Join(ws, "taskgate", f)); err != nil {
			t.Errorf("validate did not write %s: %v", f, err)
		}
	}

	gh := githubtest.New(t)
	secret := t.TempDir()
	os.WriteFile(filepath.Join(secret, "git-provider-token"), []byte(githubtest.Token), 0o600)
	steps = prepare(t, tasks["taskgate-report"], map[string]string{"repo-url": "https://github.com/acme/catalog", "pull-request-number": "408", "revision": "0123456789abcdef0123456789abcdef01234567"},
		map[string]string{"source": ws, "github": secret}, results)
	if steps[0].onError != v1.Continue {
		t.Error("the report step must not turn a failure to post into the pipeline's verdict (onError: continue)")
	}
	// the step talks to the API of --repo-url's host; here the fake stands in for it
	steps[0].args = append(steps[0].args, "--api-url="+gh.URL)
	if code, out = steps[0].run(t, bin); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, out)
	}
	comment, _ := os.ReadFile(filepath.Join(ws, "taskgate", "comment.md"))
	if len(gh.Comments) != 1 || gh.Comments[0].Body != string(comment) || len(gh.Runs) != 1 || len(gh.Runs[0].Annotations) == 0 {
		t.Errorf("want the comment and an annotated check run: %d comments, %d runs", len(gh.Comments), len(gh.Runs))
	}

	// Without the github workspace the report says so and succeeds.
	steps = prepare(t, tasks["taskgate-report"], map[string]string{"repo-url": "https://github.com/acme/catalog", "pull-request-number": "408", "revision": "0123456789abcdef0123456789abcdef01234567"},
		map[string]string{"source": ws}, results)
	if code, out = steps[0].run(t, bin, "GITHUB_TOKEN="); code != 0 || !strings.Contains(out, "no GitHub token") {
		t.Errorf("report without a token: exit %d\n%s", code, out)
	}
	// a pull request whose author did not come through fails closed
	if code, out := prepare(t, tasks["taskgate-validate"], map[string]string{"changed-from": "HEAD~1", "pipelines": pipes}, src, t.TempDir())[0].run(t, bin); code != 1 ||
		!strings.Contains(out, "error owners/unauthorized: the pull request's author is empty") {
		t.Errorf("validate without an author: exit %d, want 1 and owners/unauthorized failing closed:\n%s", code, out)
	}
}

// A push adding a submission that passes: discover lists it, the gate
// passes, integrate composes it, and the bundle step (run per submission,
// as the matrix does) pushes it to a real registry with the credentials
// of the registry-auth workspace and writes the trust data result.
func TestPushRunsLocally(t *testing.T) {
	pipes := testdata(t, "build-definitions")
	tasks := loadTasks(t)
	bin := buildTaskgate(t)
	// a second version of the example submission
	src := t.TempDir()
	example := filepath.Join(repoRoot(t), "examples", "catalog", "partners", "hello-world", "0.1")
	os.MkdirAll(filepath.Join(src, "0.2"), 0o755)
	for _, f := range []string{"README.md", "hello-world.yaml"} {
		data, _ := os.ReadFile(filepath.Join(example, f))
		os.WriteFile(filepath.Join(src, "0.2", f), []byte(strings.ReplaceAll(string(data), `app.kubernetes.io/version: "0.1"`, `app.kubernetes.io/version: "0.2"`)), 0o644)
	}
	ws := checkout(t, src, "hello-world")
	results := t.TempDir()
	source := map[string]string{"source": ws}

	steps := prepare(t, tasks["taskgate-discover"], map[string]string{"changed-from": "HEAD~1"}, source, results)
	if code, out := steps[0].run(t, bin); code != 0 {
		t.Fatalf("discover: exit %d\n%s", code, out)
	}
	data, _ := os.ReadFile(filepath.Join(results, "submissions"))
	var subs []string
	if json.Unmarshal(data, &subs); len(subs) != 1 {
		t.Fatalf("discover: %s", data)
	}

	steps = prepare(t, tasks["taskgate-validate"], map[string]string{"changed-from": "HEAD~1", "pipelines": pipes, "event-type": "push"}, source, results)
	if code, out := steps[0].run(t, bin); code != 0 || !strings.Contains(out, "passed") {
		t.Fatalf("validate: exit %d\n%s", code, out)
	}
	steps = prepare(t, tasks["taskgate-integrate"], map[string]string{"pipelines": pipes}, source, results)
	if code, out := steps[0].run(t, bin); code != 0 {
		t.Fatalf("integrate: exit %d\n%s", code, out)
	}
	if composed, _ := filepath.Glob(filepath.Join(ws, "taskgate", "composed", subs[0], "*", "pipelinerun.yaml")); len(composed) == 0 {
		t.Errorf("integrate composed nothing for %s", subs[0])
	}

	reg := registrytest.Start(t, registrytest.WithAuth("bot", "hunter2"))
	auth := t.TempDir()
	cfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, base64.StdEncoding.EncodeToString([]byte("bot:hunter2")))
	os.WriteFile(filepath.Join(auth, "config.json"), []byte(cfg), 0o600)
	steps = prepare(t, tasks["taskgate-bundle"], map[string]string{"submission": subs[0], "bundle-prefix": reg.Host + "/catalog", "pipelines": pipes},
		map[string]string{"source": ws, "registry-auth": auth}, results)
	code, out := steps[0].run(t, bin)
	if code != 0 {
		t.Fatalf("bundle: exit %d\n%s", code, out)
	}
	trust, _ := os.ReadFile(filepath.Join(results, "trust-data"))
	if !strings.Contains(string(trust), reg.Host+"/catalog/task-hello-world") || !strings.Contains(string(trust), "trusted_task_rules") {
		t.Errorf("trust-data result:\n%s", trust)
	}
	tags := reg.Tags(t, "catalog/task-hello-world")
	sort.Strings(tags)
	if len(tags) != 2 || tags[0] != "0.2" {
		t.Errorf("tags %v, want 0.2 and 0.2-<commit>", tags)
	}
}

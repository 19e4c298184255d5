// Tests of the validation Pipeline and of the Pipelines-as-Code
// PipelineRuns in ../.tekton (Go does not look into dot directories, so
// they are tested here): each decodes strictly and passes Tekton's own
// validation, every reference resolves and binds, and the triggers fire
// on the events they claim.
package pipelines_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"taskgate.dev/taskgate/internal/testrepo"
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	kjson "sigs.k8s.io/json"
	sigyaml "sigs.k8s.io/yaml"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
)

const pipelineFile = "partner-task-validation.yaml"

// repoRoot is the repository, found from this test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// loadPipeline decodes the Pipeline strictly, as the API server would.
func loadPipeline(t *testing.T) *v1.Pipeline {
	t.Helper()
	f := manifest.Load(repoRoot(t), "pipelines/"+pipelineFile, manifest.DefaultLimits)
	for _, p := range f.Problems {
		t.Errorf("%s:%d:%d: %s: %s", f.Path, p.Line, p.Column, p.Rule, p.Message)
	}
	if f.Pipeline == nil {
		t.Fatalf("%s: not a tekton.dev/v1 Pipeline", f.Path)
	}
	return f.Pipeline
}

// loadTasks reads our Tasks, tasks/<name>/<version>/<name>.yaml, by name.
func loadTasks(t *testing.T) map[string]*v1.Task {
	t.Helper()
	root := repoRoot(t)
	paths, err := filepath.Glob(filepath.Join(root, "tasks", "*", "*", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Tasks under tasks/: %v", err)
	}
	tasks := map[string]*v1.Task{}
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		f := manifest.Load(root, filepath.ToSlash(rel), manifest.DefaultLimits)
		if f.Task == nil || len(f.Problems) > 0 {
			t.Fatalf("%s: %v", rel, f.Problems)
		}
		tasks[f.Task.Name] = f.Task
	}
	return tasks
}

func TestPipelineValidates(t *testing.T) {
	p := loadPipeline(t)
	if errs := pipeline.Validate(p); errs != nil {
		t.Fatalf("Tekton rejects %s: %v", pipelineFile, errs)
	}
	// Tekton's validation is not blind: a dangling runAfter is rejected.
	broken := p.DeepCopy()
	broken.Spec.Tasks[1].RunAfter = []string{"no-such-task"}
	if pipeline.Validate(broken) == nil {
		t.Error("a runAfter naming no task should fail validation")
	}
}

// Every Task the Pipeline runs by name is one of ours, and binds: every
// param passed is declared, every required param is passed, every
// workspace is declared and every required one bound.
func TestPipelineBindsOurTasks(t *testing.T) {
	p := loadPipeline(t)
	tasks := loadTasks(t)
	used := map[string]bool{}
	pipelineWS := map[string]bool{}
	for _, w := range p.Spec.Workspaces {
		pipelineWS[w.Name] = w.Optional
	}
	for _, pt := range append(append([]v1.PipelineTask{}, p.Spec.Tasks...), p.Spec.Finally...) {
		if pt.TaskRef == nil || pt.TaskRef.Resolver != "" {
			continue // the clone: a bundle, checked below
		}
		task, ok := tasks[pt.TaskRef.Name]
		if !ok {
			t.Errorf("task %s runs %q, which is not under tasks/", pt.Name, pt.TaskRef.Name)
			continue
		}
		used[task.Name] = true
		given := map[string]bool{}
		for _, prm := range pt.Params {
			given[prm.Name] = true
		}
		if pt.Matrix != nil {
			for _, prm := range pt.Matrix.Params {
				given[prm.Name] = true
			}
		}
		declared := map[string]bool{}
		for _, ps := range task.Spec.Params {
			declared[ps.Name] = true
			if ps.Default == nil && !given[ps.Name] {
				t.Errorf("task %s: %s's required param %s is not passed", pt.Name, task.Name, ps.Name)
			}
		}
		for name := range given {
			if !declared[name] {
				t.Errorf("task %s passes param %s, which %s does not declare", pt.Name, name, task.Name)
			}
		}
		bound := map[string]string{}
		for _, w := range pt.Workspaces {
			bound[w.Name] = w.Workspace
		}
		for _, w := range task.Spec.Workspaces {
			pw, ok := bound[w.Name]
			switch {
			case !ok && !w.Optional:
				t.Errorf("task %s: %s's workspace %s is not bound", pt.Name, task.Name, w.Name)
			case ok && pipelineWS[pw] && !w.Optional:
				t.Errorf("task %s: required workspace %s is bound to the optional pipeline workspace %s", pt.Name, w.Name, pw)
			}
			delete(bound, w.Name)
		}
		for name := range bound {
			t.Errorf("task %s binds workspace %s, which %s does not declare", pt.Name, name, task.Name)
		}
	}
	for name := range tasks {
		if !used[name] {
			t.Errorf("Task %s is not used by the Pipeline", name)
		}
	}
	// the matrix fans out over discover's array result
	var bundle *v1.PipelineTask
	for i := range p.Spec.Tasks {
		if p.Spec.Tasks[i].Name == "bundle" {
			bundle = &p.Spec.Tasks[i]
		}
	}
	if bundle == nil || bundle.Matrix == nil || bundle.Matrix.Params[0].Value.StringVal != "$(tasks.discover.results.submissions[*])" {
		t.Fatalf("bundle should fan out over discover's submissions: %+v", bundle)
	}
	if r := tasks["taskgate-discover"].Spec.Results; len(r) != 1 || r[0].Name != "submissions" || r[0].Type != v1.ResultsTypeArray {
		t.Errorf("taskgate-discover should declare the array result submissions: %+v", r)
	}
}

// The clone is the real Konflux git-clone Task, pinned by digest to a pin
// the build-definitions corpus carries.
func TestCloneIsAPinnedBundle(t *testing.T) {
	p := loadPipeline(t)
	clone := p.Spec.Tasks[0]
	if clone.Name != "clone" || clone.TaskRef == nil || clone.TaskRef.Resolver != "bundles" {
		t.Fatalf("the first task should clone through the bundles resolver: %+v", clone.TaskRef)
	}
	params := map[string]string{}
	for _, prm := range clone.TaskRef.Params {
		params[prm.Name] = prm.Value.StringVal
	}
	if !regexp.MustCompile(`^quay\.io/konflux-ci/tekton-catalog/task-git-clone:[0-9.]+@sha256:[0-9a-f]{64}$`).MatchString(params["bundle"]) || params["name"] != "git-clone" || params["kind"] != "task" {
		t.Errorf("clone ref %v: want git-clone from a digest-pinned konflux bundle", params)
	}
	corpus := testrepo.Corpus(t, "build-definitions")
	data, err := os.ReadFile(filepath.Join(corpus, "external-task", "git-clone", "0.2", "git-clone.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "task_bundle: " + params["bundle"]; strings.TrimSpace(string(data)) != want {
		t.Errorf("the corpus pins %q, the Pipeline uses %q", strings.TrimSpace(string(data)), params["bundle"])
	}
	// the params we pass exist in the git-clone Task of that corpus
	gc := manifest.Load(corpus, "task/git-clone/0.2/git-clone.yaml", manifest.DefaultLimits)
	if gc.Task == nil {
		t.Fatalf("corpus git-clone: %v", gc.Problems)
	}
	declared := map[string]bool{}
	for _, ps := range gc.Task.Spec.Params {
		declared[ps.Name] = true
	}
	for _, prm := range clone.Params {
		if !declared[prm.Name] {
			t.Errorf("git-clone has no param %s", prm.Name)
		}
	}
}

// pacVariables are Pipelines-as-Code's placeholders with sample values
// of a pull request event (and the push event's body.before).
var pacVariables = map[string]string{
	"repo_url":            "https://github.com/acme/catalog",
	"repo_owner":          "acme",
	"repo_name":           "catalog",
	"revision":            "0123456789abcdef0123456789abcdef01234567",
	"sender":              "partner-dev",
	"source_branch":       "add-icr-scan",
	"target_branch":       "main",
	"pull_request_number": "408",
	"git_auth_secret":     "pac-gitauth-abcde",
	"event_type":          "pull_request",
	"body.before":         "89abcdef0123456789abcdef0123456789abcdef",
}

var placeholder = regexp.MustCompile(`\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}`)

// render substitutes `{{ name }}` as Pipelines-as-Code does; an unknown
// name is an error (a typo would reach the cluster verbatim).
func render(src []byte) ([]byte, error) {
	var unknown []string
	out := placeholder.ReplaceAllFunc(src, func(m []byte) []byte {
		name := string(placeholder.FindSubmatch(m)[1])
		v, ok := pacVariables[name]
		if !ok {
			unknown = append(unknown, "{{ "+name+" }}")
		}
		return []byte(v)
	})
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown Pipelines-as-Code variables %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

// pipelineRuns renders and strictly decodes .tekton/*.yaml.
func pipelineRuns(t *testing.T) map[string]*v1.PipelineRun {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(repoRoot(t), ".tekton", "*.yaml"))
	if len(paths) != 2 {
		t.Fatalf(".tekton holds %d PipelineRuns, want 2 (pull request, push)", len(paths))
	}
	runs := map[string]*v1.PipelineRun{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		rendered, err := render(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// the loader's YAML checks: one document, no duplicate keys, limits
		if f := manifest.Parse(".tekton/"+name, rendered, manifest.DefaultLimits); len(f.Problems) > 0 || f.Kind != "PipelineRun" {
			t.Fatalf("%s: kind %q, problems %v", name, f.Kind, f.Problems)
		}
		js, err := sigyaml.YAMLToJSON(rendered)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		pr := &v1.PipelineRun{}
		strict, err := kjson.UnmarshalStrict(js, pr)
		if err != nil || len(strict) > 0 {
			t.Fatalf("%s does not decode strictly as a tekton.dev/v1 PipelineRun: %v %v", name, err, strict)
		}
		if pr.APIVersion != "tekton.dev/v1" {
			t.Errorf("%s: apiVersion %s", name, pr.APIVersion)
		}
		runs[name] = pr
	}
	return runs
}

func TestPipelineRunsValidateAndBind(t *testing.T) {
	p := loadPipeline(t)
	declared := map[string]v1.ParamSpec{}
	for _, ps := range p.Spec.Params {
		declared[ps.Name] = ps
	}
	for name, pr := range pipelineRuns(t) {
		cp := pr.DeepCopy()
		cp.SetDefaults(pipeline.Context())
		if errs := cp.Validate(pipeline.Context()); errs != nil {
			t.Errorf("%s: Tekton rejects it: %v", name, errs)
		}
		if pr.Spec.PipelineRef == nil || pr.Spec.PipelineRef.Name != p.Name {
			t.Errorf("%s: runs %+v, want the Pipeline %s", name, pr.Spec.PipelineRef, p.Name)
			continue
		}
		given := map[string]string{}
		for _, prm := range pr.Spec.Params {
			if _, ok := declared[prm.Name]; !ok {
				t.Errorf("%s passes param %s, which the Pipeline does not declare", name, prm.Name)
			}
			given[prm.Name] = prm.Value.StringVal
		}
		for _, ps := range p.Spec.Params {
			if ps.Default == nil {
				if _, ok := given[ps.Name]; !ok {
					t.Errorf("%s: the Pipeline's required param %s is not passed", name, ps.Name)
				}
			}
		}
		bound := map[string]bool{}
		for _, w := range pr.Spec.Workspaces {
			bound[w.Name] = true
		}
		for _, w := range p.Spec.Workspaces {
			if !w.Optional && !bound[w.Name] {
				t.Errorf("%s: the Pipeline's workspace %s is not bound", name, w.Name)
			}
			delete(bound, w.Name)
		}
		for w := range bound {
			t.Errorf("%s binds workspace %s, which the Pipeline does not declare", name, w)
		}
		// the steps' user (65532) writes the reports beside the checkout
		if pt := pr.Spec.TaskRunTemplate.PodTemplate; pt == nil || pt.SecurityContext == nil || pt.SecurityContext.FSGroup == nil || *pt.SecurityContext.FSGroup != 65532 {
			t.Errorf("%s: want fsGroup 65532 in the pod template", name)
		}
	}
	// A placeholder with a typo is caught.
	if _, err := render([]byte(`value: "{{ revison }}"`)); err == nil {
		t.Error("render should reject an unknown placeholder")
	}
}

// The pull request run gets what the gate needs from the event.
func TestPullRequestRunParams(t *testing.T) {
	runs := pipelineRuns(t)
	params := func(pr *v1.PipelineRun) map[string]string {
		m := map[string]string{}
		for _, prm := range pr.Spec.Params {
			m[prm.Name] = prm.Value.StringVal
		}
		return m
	}
	got := params(runs["partner-task-validation-pull-request.yaml"])
	for k, want := range map[string]string{
		"revision": pacVariables["revision"], "sender": "partner-dev", "pull-request-number": "408", "repo-url": pacVariables["repo_url"],
		"changed-from": "origin/main", "merge-target-branch": "true", "event-type": "pull_request",
	} {
		if got[k] != want {
			t.Errorf("pull request run: param %s = %q, want %q", k, got[k], want)
		}
	}
	push := params(runs["partner-task-validation-push.yaml"])
	if push["changed-from"] != pacVariables["body.before"] || push["event-type"] != "push" || push["bundle-prefix"] == "" || push["pull-request-number"] != "" {
		t.Errorf("push run params %v", push)
	}
}

// pathChanged is Pipelines-as-Code's CEL function: does a file the event
// changes match the glob (gobwas/glob without separators: `*` crosses `/`)?
func pathChanged(files []string) func(ref.Val) ref.Val {
	return func(v ref.Val) ref.Val {
		glob := regexp.QuoteMeta(v.Value().(string))
		glob = strings.NewReplacer(`\*`, `.*`, `\?`, `.`).Replace(glob)
		re := regexp.MustCompile("^" + glob + "$")
		for _, f := range files {
			if re.MatchString(f) {
				return types.True
			}
		}
		return types.False
	}
}

// The triggers fire on the events they claim, and only on those.
func TestTriggers(t *testing.T) {
	type event struct {
		kind, target string
		files        []string
	}
	cases := map[string][]struct {
		event event
		fires bool
	}{
		"partner-task-validation-pull-request.yaml": {
			{event{"pull_request", "main", []string{"partners/icr-scan/0.1/icr-scan.yaml", "partners/icr-scan/OWNERS"}}, true},
			{event{"pull_request", "main", []string{"README.md", "pipelines/docker-build/docker-build.yaml"}}, false},
			{event{"pull_request", "release-1", []string{"partners/icr-scan/0.1/icr-scan.yaml"}}, false},
			{event{"push", "main", []string{"partners/icr-scan/0.1/icr-scan.yaml"}}, false},
		},
		"partner-task-validation-push.yaml": {
			{event{"push", "main", []string{"partners/icr-scan/0.1/README.md"}}, true},
			{event{"push", "main", []string{"docs/index.md"}}, false},
			{event{"pull_request", "main", []string{"partners/icr-scan/0.1/README.md"}}, false},
		},
	}
	runs := pipelineRuns(t)
	var names []string
	for n := range runs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		expr := runs[name].Annotations["pipelinesascode.tekton.dev/on-cel-expression"]
		if expr == "" {
			t.Errorf("%s: no pipelinesascode.tekton.dev/on-cel-expression", name)
			continue
		}
		for _, c := range cases[name] {
			env, err := cel.NewEnv(
				cel.Variable("event", cel.StringType), cel.Variable("target_branch", cel.StringType),
				cel.Variable("source_branch", cel.StringType), cel.Variable("event_title", cel.StringType),
				cel.Variable("body", cel.DynType), cel.Variable("headers", cel.DynType),
				cel.Function("pathChanged", cel.MemberOverload("string_pathChanged", []*cel.Type{cel.StringType}, cel.BoolType,
					cel.UnaryBinding(pathChanged(c.event.files)))),
			)
			if err != nil {
				t.Fatal(err)
			}
			ast, iss := env.Compile(expr)
			if iss.Err() != nil {
				t.Fatalf("%s: %q does not compile: %v", name, expr, iss.Err())
			}
			prg, err := env.Program(ast)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := prg.Eval(map[string]any{"event": c.event.kind, "target_branch": c.event.target, "source_branch": "topic",
				"event_title": "a change", "body": map[string]any{}, "headers": map[string]any{}})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if out.Value() != c.fires {
				t.Errorf("%s on %+v: fires %v, want %v", name, c.event, out.Value(), c.fires)
			}
		}
	}
}

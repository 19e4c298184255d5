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
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/pod"
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
}

// pacVariables are Pipelines-as-Code's placeholders with sample values
// of a pull request event.
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
}

// pacEvent is what Pipelines-as-Code templates a PipelineRun from: its
// variables, and `body`, the webhook's payload (GitHub's, trimmed to the
// fields read here).
type pacEvent struct {
	name string
	vars map[string]string
	body map[string]any
}

func with(vars map[string]string, k, v string) map[string]string {
	out := map[string]string{}
	for a, b := range vars {
		out[a] = b
	}
	out[k] = v
	return out
}

var (
	// partner-dev opens pull request 408
	prOpened = pacEvent{"pull_request opened", pacVariables, map[string]any{
		"action":       "opened",
		"pull_request": map[string]any{"number": 408, "user": map[string]any{"login": "partner-dev"}},
		"sender":       map[string]any{"login": "partner-dev"},
	}}
	// a maintainer pushes a fix to the PR's branch: the sender is the maintainer
	prSynchronized = pacEvent{"pull_request synchronize by a maintainer", with(pacVariables, "sender", "maintainer-bob"), map[string]any{
		"action":       "synchronize",
		"pull_request": map[string]any{"number": 408, "user": map[string]any{"login": "partner-dev"}},
		"sender":       map[string]any{"login": "maintainer-bob"},
	}}
	// a maintainer comments /retest: GitHub sends issue_comment, the
	// commented issue is the pull request, its user the PR's author
	retestComment = pacEvent{"/retest comment by a maintainer", with(with(pacVariables, "sender", "maintainer-bob"), "event_type", "retest-all-comment"), map[string]any{
		"action":  "created",
		"issue":   map[string]any{"number": 408, "user": map[string]any{"login": "partner-dev"}, "pull_request": map[string]any{"url": "https://api.github.com/repos/acme/catalog/pulls/408"}},
		"comment": map[string]any{"body": "/retest", "user": map[string]any{"login": "maintainer-bob"}},
		"sender":  map[string]any{"login": "maintainer-bob"},
	}}
	pushed = pacEvent{"push", with(pacVariables, "pull_request_number", ""), map[string]any{
		"before": "89abcdef0123456789abcdef0123456789abcdef",
		"sender": map[string]any{"login": "maintainer-bob"},
	}}
)

// placeholder is Pipelines-as-Code's `{{ ... }}` (keys.ParamsRe).
var placeholder = regexp.MustCompile(`\{\{([^}]{2,})\}\}`)

// render substitutes placeholders as Pipelines-as-Code does: a `body...`
// or `cel: ...` key is a CEL expression over the payload (body) and the
// variables (pac), anything else a variable; an unknown name, or an
// expression that does not evaluate, is an error (it would reach the
// cluster verbatim).
func render(src []byte, ev pacEvent) ([]byte, error) {
	var bad []string
	out := placeholder.ReplaceAllFunc(src, func(m []byte) []byte {
		key := strings.TrimSpace(string(placeholder.FindSubmatch(m)[1]))
		if expr, isCEL := strings.CutPrefix(key, "cel:"); isCEL || strings.HasPrefix(key, "body") {
			v, err := evalCEL(strings.TrimSpace(expr), ev)
			if err != nil {
				bad = append(bad, fmt.Sprintf("{{ %s }}: %v", key, err))
			}
			return []byte(v)
		}
		v, ok := ev.vars[key]
		if !ok {
			bad = append(bad, "unknown Pipelines-as-Code variable {{ "+key+" }}")
		}
		return []byte(v)
	})
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return out, nil
}

func evalCEL(expr string, ev pacEvent) (string, error) {
	env, err := cel.NewEnv(cel.Variable("body", cel.MapType(cel.StringType, cel.DynType)), cel.Variable("pac", cel.MapType(cel.StringType, cel.StringType)))
	if err != nil {
		return "", err
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return "", iss.Err()
	}
	prg, err := env.Program(ast)
	if err != nil {
		return "", err
	}
	out, _, err := prg.Eval(map[string]any{"body": ev.body, "pac": ev.vars})
	if err != nil {
		return "", err
	}
	return fmt.Sprint(out.Value()), nil
}

// pipelineRuns renders and strictly decodes .tekton/*.yaml: the pull
// request run for a pull request event, the push run for a push.
func pipelineRuns(t *testing.T) map[string]*v1.PipelineRun { return pipelineRunsFor(t, prOpened) }

func pipelineRunsFor(t *testing.T, pr pacEvent) map[string]*v1.PipelineRun {
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
		ev := pr
		if strings.Contains(name, "push") {
			ev = pushed
		}
		rendered, err := render(raw, ev)
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
		// no fixed fsGroup: OpenShift's SCCs refuse one outside the namespace's range
		pods := []*pod.PodTemplate{pr.Spec.TaskRunTemplate.PodTemplate}
		for _, ts := range pr.Spec.TaskRunSpecs {
			pods = append(pods, ts.PodTemplate)
		}
		for _, pt := range pods {
			if pt != nil && pt.SecurityContext != nil && pt.SecurityContext.FSGroup != nil {
				t.Errorf("%s: fsGroup %d in a pod template", name, *pt.SecurityContext.FSGroup)
			}
		}
	}
	// A placeholder with a typo, or an expression over a field the payload lacks, is caught.
	for _, bad := range []string{`value: "{{ revison }}"`, `value: "{{ body.pull_request.user.login }}"`} {
		if _, err := render([]byte(bad), retestComment); err == nil {
			t.Errorf("render should reject %s", bad)
		}
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
		"revision": pacVariables["revision"], "author": "partner-dev", "pull-request-number": "408", "repo-url": pacVariables["repo_url"],
		"changed-from": "origin/main", "merge-target-branch": "true", "event-type": "pull_request",
	} {
		if got[k] != want {
			t.Errorf("pull request run: param %s = %q, want %q", k, got[k], want)
		}
	}
	push := params(runs["partner-task-validation-push.yaml"])
	if push["changed-from"] != pushed.body["before"] || push["event-type"] != "push" || push["bundle-prefix"] == "" || push["pull-request-number"] != "" {
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

// The author owners/unauthorized judges is the pull request's, whoever
// triggered the run: its opener, a maintainer pushing to its branch, a
// maintainer commenting /retest (an issue_comment event).
func TestAuthorIsThePullRequests(t *testing.T) {
	for _, ev := range []pacEvent{prOpened, prSynchronized, retestComment} {
		pr := pipelineRunsFor(t, ev)["partner-task-validation-pull-request.yaml"]
		got := ""
		for _, prm := range pr.Spec.Params {
			if prm.Name == "author" {
				got = prm.Value.StringVal
			}
		}
		if got != "partner-dev" {
			t.Errorf("%s: author %q, want the PR's author partner-dev (sender is %s)", ev.name, got, ev.vars["sender"])
		}
	}
	// an event without a pull request gives no author, which fails closed
	pr := pipelineRunsFor(t, pacEvent{"no pull request", pacVariables, map[string]any{"sender": map[string]any{"login": "x"}}})["partner-task-validation-pull-request.yaml"]
	for _, prm := range pr.Spec.Params {
		if prm.Name == "author" && prm.Value.StringVal != "" {
			t.Errorf("no pull request in the payload: author %q", prm.Value.StringVal)
		}
	}
	// the validate Task is told it judges a pull request, so that an empty author fails closed
	p := loadPipeline(t)
	for _, pt := range p.Spec.Tasks {
		if pt.Name == "validate" {
			params := map[string]string{}
			for _, prm := range pt.Params {
				params[prm.Name] = prm.Value.StringVal
			}
			if params["author"] != "$(params.author)" || params["event-type"] != "$(params.event-type)" {
				t.Errorf("validate params %v", params)
			}
		}
	}
}

// yamlDoc reads a YAML file of the repository (several documents allowed)
// as generic objects.
func yamlDocs(t *testing.T, rel string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, part := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(part, "")) == "" {
			continue
		}
		var d map[string]any
		if err := sigyaml.UnmarshalStrict([]byte(part), &d); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		docs = append(docs, d)
	}
	return docs
}

func get(d map[string]any, path ...string) any {
	var v any = d
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// What validates a pull request does not come from it: Pipelines-as-Code
// reads .tekton/ from the default branch (the Repository we ship), and
// the runs refer to the Pipeline and Tasks installed in the cluster, or
// to bundles pinned by digest; nothing is embedded, fetched by git from
// the PR's revision, or pulled in by PaC's remote-task annotations.
func TestGateIsNotFromThePullRequest(t *testing.T) {
	repo := yamlDocs(t, "install/repository.yaml")
	if len(repo) != 1 || repo[0]["apiVersion"] != "pipelinesascode.tekton.dev/v1alpha1" || repo[0]["kind"] != "Repository" ||
		get(repo[0], "spec", "settings", "pipelinerun_provenance") != "default_branch" {
		t.Errorf("install/repository.yaml: want a Repository with settings.pipelinerun_provenance: default_branch, got %v", repo)
	}
	readme, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil || !strings.Contains(string(readme), "pipelinerun_provenance: default_branch") {
		t.Error("README's Repository does not set pipelinerun_provenance: default_branch")
	}
	digest := regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)
	checkRef := func(where string, r *v1.TaskRef) {
		switch {
		case r == nil:
			t.Errorf("%s: an embedded spec, not a reference", where)
		case r.Resolver == "" && r.Name != "":
			// a Task the maintainers installed in the namespace (README: Install)
		case r.Resolver == "bundles":
			for _, p := range r.Params {
				if p.Name == "bundle" && !digest.MatchString(p.Value.StringVal) {
					t.Errorf("%s: bundle %s is not pinned by digest", where, p.Value.StringVal)
				}
			}
		default:
			t.Errorf("%s: resolver %q can fetch what the PR holds", where, r.Resolver)
		}
	}
	for name, pr := range pipelineRuns(t) {
		if pr.Spec.PipelineSpec != nil || pr.Spec.PipelineRef == nil || pr.Spec.PipelineRef.Resolver != "" {
			t.Errorf("%s: want a reference to the installed Pipeline, got spec %v ref %+v", name, pr.Spec.PipelineSpec != nil, pr.Spec.PipelineRef)
		}
		for k := range pr.Annotations {
			if k == "pipelinesascode.tekton.dev/pipeline" || k == "pipelinesascode.tekton.dev/task" || strings.HasPrefix(k, "pipelinesascode.tekton.dev/task-") {
				t.Errorf("%s: annotation %s makes PaC fetch a Pipeline or Task", name, k)
			}
		}
	}
	p := loadPipeline(t)
	for _, pt := range append(append([]v1.PipelineTask{}, p.Spec.Tasks...), p.Spec.Finally...) {
		if pt.TaskSpec != nil {
			t.Errorf("pipeline task %s embeds its Task", pt.Name)
			continue
		}
		checkRef("pipeline task "+pt.Name, pt.TaskRef)
	}
}

// Credentials: no pod gets a service-account token but the dry-run's,
// which gets a dedicated account; only report sees the GitHub token
// (PaC's git_auth_secret key git-provider-token); the dry-run account may
// only create Tekton objects, and only as dry runs.
func TestEachCredentialInOneStep(t *testing.T) {
	p := loadPipeline(t)
	all := append(append([]v1.PipelineTask{}, p.Spec.Tasks...), p.Spec.Finally...)
	for name, pr := range pipelineRuns(t) {
		for _, pt := range all {
			spec := pr.GetTaskRunSpec(pt.Name) // how Tekton merges taskRunTemplate and taskRunSpecs
			mounts := spec.PodTemplate != nil && spec.PodTemplate.AutomountServiceAccountToken != nil && *spec.PodTemplate.AutomountServiceAccountToken
			if pt.Name == "dry-run" {
				if !mounts || spec.ServiceAccountName != "taskgate-dry-run" {
					t.Errorf("%s: dry-run runs as %q with a token %v, want taskgate-dry-run with one", name, spec.ServiceAccountName, mounts)
				}
				continue
			}
			if mounts || spec.PodTemplate == nil || spec.PodTemplate.AutomountServiceAccountToken == nil {
				t.Errorf("%s: task %s gets a service-account token (automountServiceAccountToken must be false)", name, pt.Name)
			}
			if spec.ServiceAccountName == "taskgate-dry-run" {
				t.Errorf("%s: task %s runs as the dry-run account", name, pt.Name)
			}
		}
		// the PaC secret: the token under git-provider-token goes to the github workspace only
		for _, w := range pr.Spec.Workspaces {
			if w.Secret == nil || w.Secret.SecretName != pacVariables["git_auth_secret"] {
				continue
			}
			keys := map[string]bool{}
			for _, it := range w.Secret.Items {
				keys[it.Key] = true
			}
			if w.Name == "github" {
				if len(keys) != 1 || !keys["git-provider-token"] {
					t.Errorf("%s: the github workspace should hold git-provider-token alone: %v", name, keys)
				}
			} else if len(keys) == 0 || keys["git-provider-token"] {
				t.Errorf("%s: workspace %s binds the whole PaC secret or its token: items %v", name, w.Name, keys)
			}
		}
	}
	// in the Pipeline, the github workspace reaches report alone
	for _, pt := range all {
		for _, w := range pt.Workspaces {
			if w.Workspace == "github" && pt.Name != "report" {
				t.Errorf("pipeline task %s is given the github workspace", pt.Name)
			}
		}
	}
	// the dry-run account: create on Tekton's tasks, pipelines and pipelineruns, nothing else
	rbac := yamlDocs(t, "install/dry-run-rbac.yaml")
	kinds := map[string]map[string]any{}
	for _, d := range rbac {
		kinds[d["kind"].(string)] = d
	}
	if sa := kinds["ServiceAccount"]; sa == nil || get(sa, "metadata", "name") != "taskgate-dry-run" || sa["automountServiceAccountToken"] != false {
		t.Errorf("dry-run ServiceAccount: %v", sa)
	}
	rules, _ := get(kinds["Role"], "rules").([]any)
	if len(rules) != 1 || fmt.Sprint(get(rules[0].(map[string]any), "verbs")) != "[create]" ||
		fmt.Sprint(get(rules[0].(map[string]any), "apiGroups")) != "[tekton.dev]" ||
		fmt.Sprint(get(rules[0].(map[string]any), "resources")) != "[tasks pipelines pipelineruns]" {
		t.Errorf("dry-run Role rules: %v", rules)
	}
	if subj, _ := get(kinds["RoleBinding"], "subjects").([]any); len(subj) != 1 || get(subj[0].(map[string]any), "name") != "taskgate-dry-run" || get(kinds["RoleBinding"], "roleRef", "name") != "taskgate-dry-run" {
		t.Errorf("dry-run RoleBinding: %v", kinds["RoleBinding"])
	}
	// the admission policy refuses that account anything but a dry run
	policy := yamlDocs(t, "install/dry-run-policy.yaml")
	if len(policy) != 2 || policy[0]["kind"] != "ValidatingAdmissionPolicy" || policy[1]["kind"] != "ValidatingAdmissionPolicyBinding" ||
		get(policy[1], "spec", "policyName") != get(policy[0], "metadata", "name") || fmt.Sprint(get(policy[1], "spec", "validationActions")) != "[Deny]" {
		t.Fatalf("install/dry-run-policy.yaml: %v", policy)
	}
	match := get(policy[0], "spec", "matchConditions").([]any)[0].(map[string]any)["expression"].(string)
	valid := get(policy[0], "spec", "validations").([]any)[0].(map[string]any)["expression"].(string)
	env, err := cel.NewEnv(cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)))
	if err != nil {
		t.Fatal(err)
	}
	eval := func(expr string, req map[string]any) bool {
		ast, iss := env.Compile(expr)
		if iss.Err() != nil {
			t.Fatalf("%q: %v", expr, iss.Err())
		}
		prg, _ := env.Program(ast)
		out, _, err := prg.Eval(map[string]any{"request": req})
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		return out.Value() == true
	}
	account := "system:serviceaccount:catalog-ci:taskgate-dry-run"
	for _, c := range []struct {
		user    string
		dryRun  bool
		refused bool
	}{{account, true, false}, {account, false, true}, {"system:serviceaccount:catalog-ci:pipeline", false, false}} {
		req := map[string]any{"userInfo": map[string]any{"username": c.user}, "dryRun": c.dryRun}
		if refused := eval(match, req) && !eval(valid, req); refused != c.refused {
			t.Errorf("%s, dryRun %v: refused %v, want %v", c.user, c.dryRun, refused, c.refused)
		}
	}
}

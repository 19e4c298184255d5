package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"taskgate.dev/taskgate/pkg/manifest"
)

// mini returns a path in the repository's own hand-made build-definitions
// (testdata/build-definitions): docker-build (a source workspace),
// docker-build-oci-ta (trusted artifacts), a template, an older contract.
func mini(t testing.TB, rel string) string {
	return testrepo.Testdata(t, "build-definitions", rel)
}

func load(t testing.TB, dir string) *Contract {
	t.Helper()
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The hand-made build pipelines.
var both = []string{"docker-build", "docker-build-oci-ta"}

func task(t testing.TB, repo, rel string) *v1.Task {
	t.Helper()
	f := manifest.Load(repo, rel, manifest.DefaultLimits)
	if f.Task == nil {
		t.Fatalf("%s: not a Task: %+v", rel, f.Problems)
	}
	return f.Task
}

func TestLoad(t *testing.T) {
	c := load(t, mini(t, ""))
	if !strings.HasSuffix(c.Dir, "build-definitions/pipelines") {
		t.Errorf("Dir = %s, want the repository's pipelines/", c.Dir)
	}
	if got := strings.Join(c.Names(), ","); got != strings.Join(both, ",") {
		t.Fatalf("pipelines %s, want %v; ignored %v", got, both, c.Ignored)
	}
	for _, name := range both {
		b := c.Pipeline(name)
		if b.Producer != "build-image-index" {
			t.Errorf("%s: producer %q, want build-image-index", name, b.Producer)
		}
		if len(b.Gate) != 1 || b.Gate[0].Input != "$(params.skip-checks)" || b.Gate[0].Values[0] != "false" {
			t.Errorf("%s: gate %+v, want skip-checks in [false]", name, b.Gate)
		}
		if b.Tasks["init"].Version != "0.4" {
			t.Errorf("%s: taskRef.version of init not kept: %q", name, b.Tasks["init"].Version)
		}
		for _, p := range b.Pipeline.Spec.Tasks {
			if p.TaskRef != nil && p.TaskRef.Params != nil {
				t.Errorf("%s: task %s got a resolver ref", name, p.Name)
			}
		}
		// where the pipeline runs its own Tasks
		roles := map[string]Slot{}
		for _, pl := range b.Places {
			roles[pl.Info.Name] = pl.Role
		}
		for task, want := range map[string]Slot{"init": Builder, "clone-repository": Builder, "build-container": Builder, "build-image-index": Builder,
			"clair-scan": ImageCheck, "deprecated-base-image-check": ImageCheck, "sast-shell-check": SourceCheck, "apply-tags": PostBuild} {
			if roles[task] != want {
				t.Errorf("%s: %s is a %s, want %s", name, task, roles[task], want)
			}
		}
	}
	// the template is not a build pipeline; kustomization.yaml is no directory
	if len(c.Ignored) != 1 || !strings.Contains(c.Ignored[0], "template-build") || !strings.Contains(c.Ignored[0], "$REPLACE_ME") {
		t.Errorf("template-build should be ignored as a template: ignored %v", c.Ignored)
	}
	db, ta := c.Pipeline("docker-build"), c.Pipeline("docker-build-oci-ta")
	if db.SourceWorkspace != "workspace" {
		t.Errorf("docker-build source workspace %q, want workspace", db.SourceWorkspace)
	}
	if ta.SourceWorkspace != "" {
		t.Errorf("docker-build-oci-ta has no source workspace, got %q", ta.SourceWorkspace)
	}
	// gated by build-source-image, not by the checks' gate: post-build
	for _, pl := range db.Places {
		if pl.Info.Name == "build-source-image" && pl.Role != PostBuild {
			t.Errorf("build-source-image is a %s, want post-build", pl.Role)
		}
	}
	// resolved Tasks: in task/ and in external-sources/
	if p := db.Tasks["clair-scan"].Path; p != "task/clair-scan/0.3/clair-scan.yaml" {
		t.Errorf("clair-scan resolved to %q", p)
	}
	if p := ta.Tasks["sast-snyk-check"].Path; p != "external-sources/konflux-ci/konflux-sast-tasks/task/sast-snyk-check-oci-ta/0.5/sast-snyk-check-oci-ta.yaml" {
		t.Errorf("sast-snyk-check-oci-ta resolved to %q", p)
	}
	if db.Tasks["clair-scan"].Results["TEST_OUTPUT"] == "" || !db.Tasks["clair-scan"].Declared["IMAGES_PROCESSED"] {
		t.Errorf("clair-scan's declared results not read: %v", db.Tasks["clair-scan"].Results)
	}
	// both pipelines run clair-scan 0.3: resolved once, the same for both
	if db.Tasks["clair-scan"].Path != ta.Tasks["clair-scan"].Path || ta.Tasks["clair-scan"].Results["TEST_OUTPUT"] == "" {
		t.Errorf("clair-scan in docker-build-oci-ta: %+v", ta.Tasks["clair-scan"])
	}
	// prefetch-dependencies is not in the repository: its results are
	// those the pipeline references, and it declares none
	if pf := ta.Tasks["prefetch-dependencies"]; pf.Path != "" || pf.Results["SOURCE_ARTIFACT"] == "" || pf.Results["CACHI2_ARTIFACT"] == "" || len(pf.Declared) != 0 {
		t.Errorf("prefetch-dependencies: path %q results %v declared %v", pf.Path, pf.Results, pf.Declared)
	}
	if in := ta.Inputs[Norm("SOURCE_ARTIFACT")]; in.Value.StringVal != "$(tasks.prefetch-dependencies.results.SOURCE_ARTIFACT)" {
		t.Errorf("SOURCE_ARTIFACT input %+v", in)
	}
	if in := db.Inputs[Norm("TARGET_DIRS")]; in.Value.StringVal != "$(params.sast-target-dirs)" || in.From != "sast-shell-check" {
		t.Errorf("TARGET_DIRS input %+v", in)
	}
}

func TestLoadADRTime(t *testing.T) {
	c := load(t, mini(t, "_history/2023-03-06-adr-time/pipelines"))
	if got := strings.Join(c.Names(), ","); got != "docker-build" {
		t.Fatalf("pipelines %s, want docker-build (ignored: %v)", got, c.Ignored)
	}
	for _, b := range c.Pipelines {
		if b.Producer != "build-container" {
			t.Errorf("%s: producer %q, want build-container", b.Name, b.Producer)
		}
		if !b.File.Converted {
			t.Errorf("%s: the v1beta1 pipeline should have been converted", b.Name)
		}
		// its finally summary is a place; init is unresolved, yet a builder
		if pl := b.Places[len(b.Places)-1]; pl.Role != Finally || pl.Info.Name != "show-summary" || !pl.Info.Finally {
			t.Errorf("%s: last place %+v, want the finally show-summary", b.Name, pl)
		}
		if ti := b.Tasks["init"]; ti.Path != "" || ti.Results["build"] == "" {
			t.Errorf("%s: init %+v: its result build is known from the when that reads it", b.Name, ti)
		}
	}
}

// The contract follows the pipelines: rename the producer and the checks
// follow it.
func TestContractFollowsPipelines(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(mini(t, "pipelines/docker-build"), "docker-build.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "pipelines", "my-build")
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(src), "build-image-index", "assemble")
	text = strings.ReplaceAll(text, "skip-checks", "no-tests")
	if err := os.WriteFile(filepath.Join(p, "my-build.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := c.Pipeline("my-build")
	if b == nil || b.Producer != "assemble" || b.Gate[0].Input != "$(params.no-tests)" {
		t.Fatalf("contract did not follow the pipeline: %+v", b)
	}
	fit := b.Fit(task(t, "testdata", "image-check.yaml"), ImageCheck, nil)
	if !fit.OK() || fit.Params[0].Value != "$(tasks.assemble.results.IMAGE_URL)" {
		t.Fatalf("fit %+v", fit)
	}

	// without the pipeline's own results, the producer is the last task
	// (in DAG order) producing both IMAGE_URL and IMAGE_DIGEST, not
	// build-container which also does
	start, end := strings.Index(text, "\n  results:\n"), strings.Index(text, "\n  tasks:\n")
	if start < 0 || end < start {
		t.Fatal("docker-build.yaml changed shape")
	}
	if err := os.WriteFile(filepath.Join(p, "my-build.yaml"), []byte(text[:start]+text[end:]), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b := c.Pipeline("my-build"); b == nil || len(b.Pipeline.Spec.Results) != 0 || b.Producer != "assemble" {
		t.Fatalf("producer without pipeline results: %+v", b)
	}
}

// The same check Task binds to the producer of each pipeline: today's
// build-image-index, the ADR-time build-container.
func TestSameCheckBindsToEachProducer(t *testing.T) {
	sameCheckBindsToEachProducer(t, mini, "", "_history/2023-03-06-adr-time/pipelines")
}

// sameCheckBindsToEachProducer is TestSameCheckBindsToEachProducer on the
// build pipelines of root's dirs, shared with the corpus sweep.
func sameCheckBindsToEachProducer(t *testing.T, root func(testing.TB, string) string, dirs ...string) {
	t.Helper()
	check := task(t, "testdata", "image-check.yaml")
	slot, _, err := InferSlot(check)
	if err != nil || slot != ImageCheck {
		t.Fatalf("slot %s %v, want image-check", slot, err)
	}
	for _, dir := range dirs {
		c := load(t, root(t, dir))
		for _, b := range c.Pipelines {
			fit := b.Fit(check, slot, nil)
			if !fit.OK() {
				t.Errorf("%s %s: %v", dir, b.Name, fit.Problems())
				continue
			}
			want := map[string]string{
				"image-url":    "$(tasks." + b.Producer + ".results.IMAGE_URL)",
				"IMAGE_DIGEST": "$(tasks." + b.Producer + ".results.IMAGE_DIGEST)",
			}
			for _, bd := range fit.Params {
				if want[bd.Name] != bd.Value {
					t.Errorf("%s %s: %s bound to %s, want %s", dir, b.Name, bd.Name, bd.Value, want[bd.Name])
				}
				delete(want, bd.Name)
			}
			if len(want) > 0 {
				t.Errorf("%s %s: not bound %v (level has a default and no source)", dir, b.Name, want)
			}
			pt := fit.Composed.Spec.Tasks[fit.Index]
			if pt.Name != "partner-image-check" || len(pt.RunAfter) != 1 || pt.RunAfter[0] != b.Producer || pt.TaskSpec == nil {
				t.Errorf("%s %s: inserted %+v", dir, b.Name, pt)
			}
			if len(pt.When) != 1 || pt.When[0].Input != "$(params.skip-checks)" {
				t.Errorf("%s %s: when %+v, want the checks' skip-checks gate", dir, b.Name, pt.When)
			}
			// Tekton's own validation, again, on the composed Pipeline and its run
			if errs := Validate(fit.Composed); errs != nil {
				t.Errorf("%s %s: composed Pipeline rejected: %v", dir, b.Name, errs)
			}
			pr := fit.PipelineRun()
			if errs := pr.Validate(Context()); errs != nil {
				t.Errorf("%s %s: PipelineRun rejected: %v", dir, b.Name, errs)
			}
		}
	}
	adr := load(t, root(t, "_history/2023-03-06-adr-time/pipelines")).Pipeline("docker-build")
	if fit := adr.Fit(check, ImageCheck, nil); fit.Params[0].Value != "$(tasks.build-container.results.IMAGE_URL)" {
		t.Errorf("ADR-time docker-build: image-url bound to %s", fit.Params[0].Value)
	}
}

func TestPartners(t *testing.T) {
	root := mini(t, "")
	c := load(t, root)

	// hello-summary has one param, with a default, and reads nothing of
	// the build: it goes in finally, where it never blocks the build
	hello := task(t, root, "partners/hello-summary/0.1/hello-summary.yaml")
	slot, _, _ := InferSlot(hello)
	if slot != "" {
		t.Fatalf("hello-summary slot %s, want none (not a check: placed per pipeline)", slot)
	}
	for _, b := range c.Pipelines {
		fit := b.Judge(hello, slot, false, nil)
		if !fit.OK() || !fit.InFinally || fit.Slot != Finally || len(fit.Params) != 0 {
			t.Errorf("hello-summary in %s: %s %v", b.Name, fit.Slot, fit.Problems())
		}
		if errs := Validate(fit.Composed); errs != nil {
			t.Errorf("hello-summary in %s rejected: %v", b.Name, errs)
		}
	}

	// license-scan (v1beta1) needs a license and a server no pipeline has,
	// and a source workspace the trusted-artifacts pipeline lacks
	scan := task(t, mini(t, "_pull-requests/pr-1"), "partners/license-scan/0.1/license-scan.yaml")
	for _, b := range c.Pipelines {
		fit := b.Fit(scan, SourceCheck, nil)
		var unbound []string
		for _, u := range fit.UnboundParams {
			unbound = append(unbound, u.Name)
		}
		if strings.Join(unbound, ",") != "LICENSE,server-url" {
			t.Errorf("license-scan in %s: unbound %v, want LICENSE, server-url", b.Name, unbound)
		}
		if missing := len(fit.MissingWorkspaces) > 0; missing != (b.SourceWorkspace == "") {
			t.Errorf("license-scan in %s: missing workspaces %v, source workspace %q", b.Name, fit.MissingWorkspaces, b.SourceWorkspace)
		}
		if fit.OK() || fit.Composed != nil {
			t.Errorf("license-scan should not compose into %s", b.Name)
		}
	}
}

func TestWorkspaceOnlyWherePipelinesLackIt(t *testing.T) {
	c := load(t, mini(t, ""))
	ws := task(t, "testdata", "source-workspace.yaml")
	for _, name := range both {
		b := c.Pipeline(name)
		fit := b.Fit(ws, SourceCheck, nil)
		lacks := strings.Contains(name, "oci-ta")
		if lacks != (len(fit.MissingWorkspaces) == 1) || lacks == fit.OK() {
			t.Errorf("%s: missing %v ok %v", name, fit.MissingWorkspaces, fit.OK())
		}
		if !lacks && fit.Workspaces[0].Value != "workspace" {
			t.Errorf("%s: source bound to %v", name, fit.Workspaces)
		}
	}
}

func TestMapping(t *testing.T) {
	c := load(t, mini(t, ""))
	b := c.Pipeline("docker-build")
	check := task(t, "testdata", "image-check.yaml")
	m, err := ParseMapping("level=$(params.output-image), image-url = $(tasks.build-container.results.IMAGE_URL)")
	if err != nil {
		t.Fatal(err)
	}
	fit := b.Fit(check, ImageCheck, m)
	got := map[string]string{}
	for _, bd := range fit.Params {
		got[bd.Name] = bd.Value
	}
	if got["level"] != "$(params.output-image)" || got["image-url"] != "$(tasks.build-container.results.IMAGE_URL)" || !fit.OK() {
		t.Errorf("mapping not applied: %v %v", got, fit.Problems())
	}
	// a mapping naming what the pipeline lacks leaves the param unbound
	m, _ = ParseMapping("level=$(tasks.no-such-task.results.X)")
	if fit := b.Fit(check, ImageCheck, m); len(fit.UnboundParams) != 1 || !strings.Contains(fit.UnboundParams[0].Why, "no-such-task") {
		t.Errorf("bad mapping: %+v", fit.UnboundParams)
	}
	m, _ = ParseMapping("level=$(params.nope)")
	if fit := b.Fit(check, ImageCheck, m); len(fit.UnboundParams) != 1 || !strings.Contains(fit.UnboundParams[0].Why, "param nope") {
		t.Errorf("bad mapping: %+v", fit.UnboundParams)
	}
	for _, bad := range []string{"level", "=x", "a=1,a=2"} {
		if _, err := ParseMapping(bad); err == nil {
			t.Errorf("ParseMapping(%q) accepted", bad)
		}
	}
	if u := m.Unknown(check); len(u) != 0 {
		t.Errorf("Unknown %v", u)
	}
	m, _ = ParseMapping("nope=1")
	if u := m.Unknown(check); len(u) != 1 {
		t.Errorf("Unknown %v", u)
	}
}

// A broken composition is rejected by Tekton's validation: a cycle, a
// runAfter of a task that does not exist, an execution status read
// outside finally.
func TestBrokenCompositionRejected(t *testing.T) {
	c := load(t, mini(t, ""))
	b := c.Pipeline("docker-build-oci-ta")
	fit := b.Fit(task(t, "testdata", "image-check.yaml"), ImageCheck, nil)
	if !fit.OK() {
		t.Fatal(fit.Problems())
	}
	cyc := fit.Composed.DeepCopy()
	for i := range cyc.Spec.Tasks {
		if cyc.Spec.Tasks[i].Name == b.Producer {
			cyc.Spec.Tasks[i].RunAfter = append(cyc.Spec.Tasks[i].RunAfter, fit.TaskName)
		}
	}
	if errs := Validate(cyc); errs == nil || !strings.Contains(errs.Error(), "cycle") {
		t.Errorf("a cycle was accepted: %v", errs)
	}
	dangling := fit.Composed.DeepCopy()
	dangling.Spec.Tasks[fit.Index].RunAfter = []string{"no-such-task"}
	if errs := Validate(dangling); errs == nil {
		t.Error("runAfter of a missing task was accepted")
	}

	status := task(t, "testdata", "image-check.yaml")
	m, _ := ParseMapping("level=$(tasks.status)")
	fit = b.Fit(status, ImageCheck, m)
	if len(fit.Errors) == 0 || fit.OK() || !strings.HasPrefix(fit.Errors[0].Paths[0], fit.FieldPath()) {
		t.Fatalf("$(tasks.status) outside finally was accepted: %+v", fit.Errors)
	}
	// in finally the same binding is valid
	if fit := b.Fit(status, Finally, m); !fit.OK() {
		t.Errorf("$(tasks.status) in finally rejected: %v", fit.Problems())
	}
}

func TestInferSlot(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want Slot
		bad  bool
	}{
		{"params: [{name: IMAGE_URL}]\n  results: [{name: TEST_OUTPUT}]", ImageCheck, false},
		{"params: [{name: image-digest}]\n  results: [{name: TEST_OUTPUT}]", ImageCheck, false},
		{"params: [{name: image-url}, {name: SOURCE_ARTIFACT}]\n  results: [{name: TEST_OUTPUT}]", SourceCheck, false},
		{"workspaces: [{name: src}]\n  results: [{name: TEST_OUTPUT}]", SourceCheck, false},
		{"workspaces: [{name: creds, optional: true}]\n  results: [{name: TEST_OUTPUT}]", ImageCheck, false},
		// no TEST_OUTPUT: no check, whatever it takes (buildah, git-clone)
		{"params: [{name: IMAGE_URL}]", "", false},
		{"workspaces: [{name: source}]", "", false},
		{"params: [{name: message, default: hi}]", "", false},
	} {
		f := manifest.Parse("t.yaml", []byte("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec:\n  "+tc.spec+"\n  steps: [{name: s, image: x, script: x}]\n"), manifest.DefaultLimits)
		got, _, err := InferSlot(f.Task)
		if got != tc.want || err != nil {
			t.Errorf("%s: slot %s %v, want %s", tc.spec, got, err, tc.want)
		}
	}
	tk := &v1.Task{}
	tk.Annotations = map[string]string{SlotAnnotation: "finally"}
	tk.Spec.Params = v1.ParamSpecs{{Name: "image-url"}}
	if s, _, _ := InferSlot(tk); s != Finally {
		t.Errorf("annotation did not override: %s", s)
	}
	tk.Annotations[SlotAnnotation] = "pre-build"
	if _, _, err := InferSlot(tk); err == nil {
		t.Error("an unknown slot was accepted")
	}
}

func TestNotAPipelinesDir(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("a missing directory loaded")
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "pipelines", "x"), 0o755)
	os.WriteFile(filepath.Join(dir, "pipelines", "x", "x.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "pipelines", "y"), 0o755)
	os.WriteFile(filepath.Join(dir, "pipelines", "y", "y.yaml"), []byte("apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: y}\nspec:\n  tasks: [{name: a, taskRef: {name: a}, bogus: 1}]\n"), 0o644)
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Pipelines) != 0 || len(c.Ignored) != 2 {
		t.Errorf("pipelines %v ignored %v", c.Names(), c.Ignored)
	}
}

func TestComposedName(t *testing.T) {
	n := ComposedName("docker-build-multi-platform-oci-ta", "a-very-long-partner-task-name-indeed")
	if len(n) > 63 || !strings.HasPrefix(n, "docker-build-multi-platform-oci-ta-with-") {
		t.Errorf("%s (%d)", n, len(n))
	}
	if ComposedName("a", "b") != "a-with-b" {
		t.Error(ComposedName("a", "b"))
	}
}

// The five build pipelines the acceptance names (the real corpus holds more).
var five = []string{"docker-build", "docker-build-oci-ta", "docker-build-oci-ta-min", "docker-build-multi-platform-oci-ta", "fbc-builder"}

// corpus is a path in the real build-definitions (../shared/corpus): the
// benchmarks and the corpus sweep need it, and fail without it.
func corpus(t testing.TB, rel string) string {
	return testrepo.Corpus(t, "build-definitions", rel)
}

// go test -bench . ./pkg/pipeline: loading the pipelines and deriving the
// contract, and composing + validating one Task into all of them.
func BenchmarkLoad(b *testing.B) {
	dir := corpus(b, "")
	for b.Loop() {
		if _, err := Load(dir); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadFive(b *testing.B) {
	dir := corpus(b, "")
	// the five named pipelines alone, in a copy of the repository layout
	tmp := b.TempDir()
	for _, n := range five {
		os.MkdirAll(filepath.Join(tmp, "pipelines", n), 0o755)
		data, _ := os.ReadFile(filepath.Join(dir, "pipelines", n, n+".yaml"))
		os.WriteFile(filepath.Join(tmp, "pipelines", n, n+".yaml"), data, 0o644)
	}
	// Tasks are resolved inside the repository only (no symlinks out): copy them
	for _, sub := range []string{"task", "external-sources"} {
		filepath.WalkDir(filepath.Join(dir, sub), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			os.MkdirAll(filepath.Dir(filepath.Join(tmp, rel)), 0o755)
			data, _ := os.ReadFile(p)
			return os.WriteFile(filepath.Join(tmp, rel), data, 0o644)
		})
	}
	for b.Loop() {
		c, err := Load(tmp)
		if err != nil || len(c.Pipelines) != 5 {
			b.Fatal(err, c.Names())
		}
	}
}

func BenchmarkFitOnePipeline(b *testing.B) {
	c := load(b, corpus(b, ""))
	t := task(b, "testdata", "image-check.yaml")
	p := c.Pipeline("docker-build")
	for b.Loop() {
		if !p.Fit(t, ImageCheck, nil).OK() {
			b.Fatal("no fit")
		}
	}
}

func BenchmarkFitFive(b *testing.B) {
	c := load(b, corpus(b, ""))
	t := task(b, "testdata", "image-check.yaml")
	for b.Loop() {
		for _, n := range five {
			if !c.Pipeline(n).Fit(t, ImageCheck, nil).OK() {
				b.Fatal("no fit")
			}
		}
	}
}

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
)

// mini is a path in the repository's hand-made build-definitions
// (testdata/build-definitions): docker-build, docker-build-oci-ta, the
// Tasks they run, the 2023 contract, partner submissions.
func mini(t *testing.T, rel string) string {
	return testrepo.Testdata(t, "build-definitions", rel)
}

// submission makes a submission of one in-memory Task, composed into the
// build pipelines of pipelines ("" for none).
func submission(t *testing.T, yaml, pipelines string) *catalog.Submission {
	t.Helper()
	repo := &catalog.Repo{Root: t.TempDir(), Limits: manifest.DefaultLimits, PipelinesDir: pipelines}
	m := manifest.Parse("partners/t/0.1/t.yaml", []byte(yaml), manifest.DefaultLimits)
	for _, p := range m.Problems {
		if p.Rule != manifest.RuleSchema || !strings.Contains(p.Message, "unknown field") {
			t.Fatalf("test Task does not load: %+v", p)
		}
	}
	return &catalog.Submission{Repo: repo, Layout: "partners", Name: "t", Version: "0.1", Dir: "partners/t/0.1", TaskPath: m.Path, Manifest: m}
}

// open loads a real submission of a repository on disk.
func open(t *testing.T, root, dir, pipelines string) *catalog.Submission {
	t.Helper()
	repo, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	repo.PipelinesDir = pipelines
	s, err := repo.Submission(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(c *check.Check, s *catalog.Submission) []check.Finding {
	out := check.Apply(c, s)
	for i := range out {
		if out[i].Severity == 0 {
			out[i].Severity = c.Severity
		}
	}
	return out
}

func errorsOf(fs []check.Finding) []check.Finding {
	var out []check.Finding
	for _, f := range fs {
		if f.Severity == check.Error {
			out = append(out, f)
		}
	}
	return out
}

// every finding is actionable and placed
func sane(t *testing.T, fs []check.Finding) {
	t.Helper()
	for _, f := range fs {
		if f.Line < 1 || f.Column < 1 || f.File == "" || f.Message == "" {
			t.Errorf("finding without a place or message: %+v", f)
		}
	}
}

func TestBadAndFixed(t *testing.T) {
	pipes := mini(t, "")
	for _, c := range Checks {
		if c.Bad == "" || c.Fixed == "" {
			t.Errorf("%s: Bad and Fixed are required", c.ID)
			continue
		}
		bad := run(c, submission(t, c.Bad, pipes))
		fixed := run(c, submission(t, c.Fixed, pipes))
		sane(t, bad)
		if len(errorsOf(bad)) == 0 {
			t.Errorf("%s: Bad does not trigger the rule", c.ID)
		}
		if len(fixed) != 0 {
			t.Errorf("%s: Fixed still triggers it: %v", c.ID, fixed)
		}
	}
}

func anyContains(fs []check.Finding, s string) bool {
	for _, f := range fs {
		if strings.Contains(f.Message, s) {
			return true
		}
	}
	return false
}

// A partner Task taking nothing from the build composes cleanly into
// every build pipeline, in finally.
func TestHelloSummary(t *testing.T) {
	s := open(t, mini(t, ""), "partners/hello-summary/0.1", "") // the repository's own pipelines/
	for _, c := range Checks {
		fs := run(c, s)
		sane(t, fs)
		if errs := errorsOf(fs); len(errs) > 0 {
			t.Errorf("%s: %v", c.ID, errs)
		}
	}
	in := summary(t, s)
	if len(in.Fits) != 2 {
		t.Fatalf("one verdict per build pipeline expected, got %+v", in)
	}
	for _, f := range in.Fits {
		if !f.Fits || f.Slot != "finally" {
			t.Errorf("%+v", f)
		}
	}
	if len(in.Lines) != 2 || !strings.Contains(in.Lines[1], "docker-build, docker-build-oci-ta") {
		t.Errorf("the summary of a Task fitting everywhere alike is one line of fits: %q", in.Lines)
	}
	c, err := pipeline.Load(PipelinesDir(s.Repo))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Analyze(c, s)
	if err != nil || len(got) != len(in.Fits) {
		t.Fatalf("Analyze: %v %d", err, len(got))
	}
}

// summary runs the integration rules through the driver and returns the
// submission's integration summary.
func summary(t *testing.T, s *catalog.Submission) *check.Integration {
	t.Helper()
	res := check.Run([]*catalog.Submission{s}, Checks, nil)
	in := res.Submissions[0].Integration
	if in == nil {
		t.Fatal("no integration summary")
	}
	return in
}

func fitsOf(in *check.Integration, pipeline string) check.Fit {
	for _, f := range in.Fits {
		if f.Pipeline == pipeline {
			return f
		}
	}
	return check.Fit{}
}

// license-scan (a PR, v1beta1) needs params no build pipeline provides.
func TestLicenseScan(t *testing.T) {
	s := open(t, mini(t, "_pull-requests/pr-1"), "partners/license-scan/0.1", mini(t, ""))
	fs := run(UnboundParam, s)
	sane(t, fs)
	var names []string
	for _, f := range fs {
		if f.Rule != "" && f.Rule != UnboundParam.ID {
			t.Errorf("rule %s", f.Rule)
		}
		names = append(names, f.Message[:strings.Index(f.Message, " (no default)")])
		if !strings.Contains(f.Message, "all 2 build pipelines (docker-build, docker-build-oci-ta)") || !strings.Contains(f.Help, "IMAGE_URL") || !strings.Contains(f.Help, "taskgate.dev/bind") {
			t.Errorf("the finding should name the pipelines and what binds: %+v", f)
		}
	}
	if strings.Join(names, ";") != `required param "LICENSE";required param "server-url"` {
		t.Errorf("unbound params %v, want LICENSE and server-url", names)
	}
	// at the params' lines in the file
	if len(fs) != 2 || fs[0].Line != 16 || fs[1].Line != 19 {
		t.Fatalf("findings %v, want lines 16 and 19", fs)
	}
	// its source workspace: told for the trusted-artifacts pipeline only
	ws := run(Workspace, s)
	if len(ws) != 1 || !strings.Contains(ws[0].Message, `workspace "source"`) || !strings.Contains(ws[0].Message, "by docker-build-oci-ta (1 of 2") || ws[0].Line != 23 {
		t.Errorf("workspace findings %v", ws)
	}
}

// A check fitting the pipelines with a source workspace has no error: it
// fits some of its targets; the others are in its summary. Targeted at
// the trusted-artifacts pipelines alone, its workspace is an error there.
func TestWorkspaceTrustedArtifactsOnly(t *testing.T) {
	s := open(t, "testdata/repo", "partners/source-scan/0.1", mini(t, ""))
	for _, c := range Checks {
		if fs := run(c, s); len(fs) != 0 {
			t.Errorf("%s: %v", c.ID, fs)
		}
	}
	in := summary(t, s)
	if f := fitsOf(in, "docker-build"); !f.Fits || f.Slot != "source-check" {
		t.Errorf("docker-build: %+v", f)
	}
	if f := fitsOf(in, "docker-build-oci-ta"); f.Fits || !strings.Contains(f.Reason, "workspace source not provided") {
		t.Errorf("docker-build-oci-ta: %+v", f)
	}
	data, err := os.ReadFile("testdata/repo/partners/source-scan/0.1/source-scan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	targeted := strings.Replace(string(data), "  name: source-scan\n", "  name: source-scan\n  annotations:\n    taskgate.dev/pipelines: docker-build-oci-ta\n", 1)
	s = submission(t, targeted, mini(t, ""))
	fs := run(Workspace, s)
	sane(t, fs)
	if len(fs) != 1 {
		t.Fatalf("want one finding, got %v", fs)
	}
	f := fs[0]
	list := f.Message[strings.Index(f.Message, "provided by ")+len("provided by "):]
	named := strings.Split(list[:strings.Index(list, " (")], ", ")
	if strings.Join(named, ",") != "docker-build-oci-ta" {
		t.Errorf("named %v, want docker-build-oci-ta alone (it lacks a source workspace): %s", named, f.Message)
	}
	if !strings.Contains(f.Message, "SOURCE_ARTIFACT") || !strings.Contains(f.Help, "taskgate.dev/pipelines") || !strings.Contains(f.Help, "docker-build") {
		t.Errorf("not actionable: %s / %s", f.Message, f.Help)
	}
	if f.Line != 15 { // spec.workspaces[source]
		t.Errorf("line %d", f.Line)
	}
	if len(run(UnboundParam, s))+len(run(Compose, s))+len(run(TestOutput, s)) != 0 {
		t.Errorf("other findings: %v %v %v", run(UnboundParam, s), run(Compose, s), run(TestOutput, s))
	}
}

// A Tekton rejection of the composed Pipeline is mapped back to the line
// that causes it.
func TestComposeErrorMapped(t *testing.T) {
	composeErrorMapped(t, mini(t, ""), mini(t, "_history/2023-03-06-adr-time/pipelines"))
}

// composeErrorMapped is TestComposeErrorMapped on the build pipelines of
// pipes (status-report fails in all 2 of them) and of history (an older
// contract), shared with the corpus sweep.
func composeErrorMapped(t *testing.T, pipes, history string) {
	t.Helper()
	s := open(t, "testdata/repo", "partners/status-report/0.1", pipes)
	fs := run(Compose, s)
	sane(t, fs)
	if len(fs) != 1 || fs[0].Line != 7 || !strings.Contains(fs[0].Message, "execution status") || !strings.Contains(fs[0].Message, "all 2 build pipelines") {
		t.Fatalf("compose findings %v", fs)
	}
	if in := summary(t, s); len(in.Fits) != 2 || in.Fits[0].Fits || !strings.Contains(in.Fits[0].Reason, "Tekton rejects") {
		t.Errorf("fits %+v", in.Fits)
	}
	// an error inside the embedded Task points at the Task's own line
	y := "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  params:\n  - name: image-url\n  results:\n  - name: TEST_OUTPUT\n  steps:\n  - name: s\n    image: x\n    script: |\n      echo $(params.nope)\n"
	fs = run(Compose, submission(t, y, history))
	if len(fs) != 1 || fs[0].Line != 13 || !strings.Contains(fs[0].Message, "non-existent variable") {
		t.Errorf("%v", fs)
	}
}

func TestAnnotations(t *testing.T) { annotations(t, mini(t, ""), 1) }

// annotations: each malformed taskgate.dev annotation is one finding at
// its line, and targeting one of the build pipelines of pipes leaves the
// others (how many: others) not considered; shared with the corpus sweep.
func annotations(t *testing.T, pipes string, others int) {
	t.Helper()
	task := func(ann string) string {
		return "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\n  annotations:\n" + ann + "spec:\n  params:\n  - name: image-url\n  steps:\n  - name: s\n    image: x\n    script: echo\n"
	}
	for _, tc := range []struct{ ann, want string }{
		{"    taskgate.dev/slot: pre-build\n", "is not a slot"},
		{"    taskgate.dev/bind: image-url\n", "not NAME=VALUE"},
		{"    taskgate.dev/bind: nope=1\n", "neither a param nor a workspace"},
		{"    taskgate.dev/pipelines: docker-build,nope\n", `"nope", which is not one of the build pipelines`},
	} {
		fs := run(Compose, submission(t, task(tc.ann), pipes))
		sane(t, fs)
		if len(fs) != 1 || !strings.Contains(fs[0].Message, tc.want) || fs[0].Line != 6 {
			t.Errorf("%q: %v", tc.ann, fs)
		}
	}
	// targeting restricts the pipelines; the others are not considered
	s := submission(t, task("    taskgate.dev/pipelines: docker-build\n"), pipes)
	in := summary(t, s)
	if want := fmt.Sprintf("not considered: %d (not named by taskgate.dev/pipelines)", others); len(in.Fits) != 1 || in.Fits[0].Pipeline != "docker-build" || !strings.Contains(strings.Join(in.Lines, "\n"), want) {
		t.Errorf("fits %+v", in)
	}
}

// Without build pipelines the rules say integration was not checked, once.
func TestNoPipelines(t *testing.T) {
	s := submission(t, Compose.Fixed, "")
	var all []check.Finding
	for _, c := range Checks {
		all = append(all, run(c, s)...)
	}
	if len(all) != 1 || all[0].Severity != check.Info || !strings.Contains(all[0].Message, "integration was not checked") || !strings.Contains(all[0].Help, "--pipelines") {
		t.Errorf("%v", all)
	}
	// a directory holding only a template is no better
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "template-build"), 0o755)
	data, err := os.ReadFile(mini(t, "pipelines/template-build/template-build.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "template-build", "template-build.yaml"), data, 0o644)
	fs := run(Compose, submission(t, Compose.Fixed, dir))
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "$REPLACE_ME") {
		t.Errorf("%v", fs)
	}
}

func TestTestOutput(t *testing.T) {
	head := "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\nspec:\n  params:\n  - name: image-url\n  results:\n  - name: TEST_OUTPUT\n"
	step := func(script string) string {
		return "  steps:\n  - name: s\n    image: x\n    script: |\n" + indent(script, "      ")
	}
	for _, tc := range []struct {
		name, yaml, want string
		line, col        int
	}{
		{"not written", head + step("echo hi\n"), "no step writes", 9, 5},
		{"missing keys", head + step(`echo '{"result":"SUCCESS"}' > $(results.TEST_OUTPUT.path)`+"\n"), "lacks timestamp, successes, failures, warnings", 13, 13},
		{"no value", head + step(`echo "{\"result\":\"$R\",\"timestamp\":0,\"successes\":0,\"failures\":0,\"warnings\":0}" > $(results.TEST_OUTPUT.path)`+"\n"), "no script writes a TEST_OUTPUT result among", 13, 13},
		{"bad helper value", head + step("source /utils.sh\nOUT=$(make_result_json -r PASSED -s 1)\necho \"$OUT\" > $(results.TEST_OUTPUT.path)\n# SUCCESS otherwise\n"), "make_result_json -r PASSED", 15, 33},
		{"credentials without SKIPPED", head + "  volumes:\n  - name: creds\n    secret:\n      secretName: partner\n" + step("source /utils.sh\nmake_result_json -r SUCCESS > $(results.TEST_OUTPUT.path)\n"), "reads credentials (secret volume creds)", 11, 5},
	} {
		fs := run(TestOutput, submission(t, tc.yaml, ""))
		if len(fs) != 1 || !strings.Contains(fs[0].Message, tc.want) || fs[0].Line != tc.line || fs[0].Column != tc.col {
			t.Errorf("%s: %v", tc.name, fs)
		}
	}
	// finally Tasks report nothing
	if fs := run(TestOutput, submission(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: t}\nspec:\n  steps: [{name: s, image: x, script: echo}]\n", "")); len(fs) != 0 {
		t.Errorf("finally: %v", fs)
	}
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return pre + strings.Join(lines, "\n"+pre) + "\n"
}

// The build pipelines' own checks pass the static TEST_OUTPUT check.
func TestTestOutputOnPipelineChecks(t *testing.T) {
	if n := testOutputOfPipelineChecks(t, mini(t, "")); n != 5 {
		t.Errorf("%d check Tasks found, want 5", n)
	}
}

// testOutputOfPipelineChecks judges the TEST_OUTPUT of every check Task
// (one declaring it) of root's task/ and external-sources/, returning how
// many there were.
func testOutputOfPipelineChecks(t *testing.T, root string) int {
	var files []string
	for _, glob := range []string{"task/*/*/*.yaml", "external-sources/*/*/task/*/*/*.yaml"} {
		m, _ := filepath.Glob(filepath.Join(root, glob))
		files = append(files, m...)
	}
	checked := 0
	for _, abs := range files {
		rel, _ := filepath.Rel(root, abs)
		m := manifest.Load(root, rel, manifest.DefaultLimits)
		if m.Task == nil {
			continue
		}
		declares := false
		for _, r := range m.Task.Spec.Results {
			declares = declares || r.Name == "TEST_OUTPUT"
		}
		if !declares {
			continue
		}
		checked++
		if fs := testOutputFindings(m, m.Task, "check", func(st v1.Step) string { return stepText(st, nil) }); len(fs) > 0 {
			t.Errorf("%s: %v", rel, fs)
		}
	}
	return checked
}

// Through the driver, in parallel: every submission shares one contract
// per directory and gets the same verdict as alone.
func TestThroughDriver(t *testing.T) {
	pipes := mini(t, "")
	repo, err := catalog.Open("testdata/repo")
	if err != nil {
		t.Fatal(err)
	}
	repo.PipelinesDir = pipes
	subs, err := repo.Discover()
	if err != nil || len(subs) != 2 {
		t.Fatalf("%v %d", err, len(subs))
	}
	subs = append(subs, open(t, mini(t, "_pull-requests/pr-1"), "partners/license-scan/0.1", pipes))
	res := check.Run(subs, Checks, nil)
	count := map[string]int{}
	for _, f := range res.Findings() {
		count[f.Submission+" "+f.Rule+" "+f.Severity.String()]++
	}
	want := map[string]int{
		"partners/license-scan/0.1 integration/unbound-param error": 2,
		"partners/license-scan/0.1 integration/workspace error":     1,
		"partners/status-report/0.1 integration/compose error":      1,
	}
	if len(count) != len(want) {
		t.Errorf("findings %v, want %v", count, want)
	}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%s: %d findings, want %d (all: %v)", k, count[k], n, count)
		}
	}
}

//go:build corpus

package integration

// The sweep over the real build-definitions (../shared/corpus), run by
// `make corpus`; integration_test.go tests the same on testdata/.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/pipeline"
)

func corpus(t *testing.T, rel string) string {
	return testrepo.Corpus(t, "build-definitions", rel)
}

// The only partner Task ever merged composes cleanly into every build
// pipeline, in finally: it takes nothing from the build.
func TestCorpusExampleHelloWorld(t *testing.T) {
	root := corpus(t, "")
	s := open(t, root, "partners/example-hello-world/0.1", "") // the repository's own pipelines/
	for _, c := range Checks {
		fs := run(c, s)
		sane(t, fs)
		if errs := errorsOf(fs); len(errs) > 0 {
			t.Errorf("%s: %v", c.ID, errs)
		}
	}
	in := summary(t, s)
	if len(in.Fits) < 5 {
		t.Fatalf("one verdict per build pipeline expected, got %+v", in)
	}
	for _, f := range in.Fits {
		if !f.Fits || f.Slot != "finally" {
			t.Errorf("%+v", f)
		}
	}
	if len(in.Lines) > 3 {
		t.Errorf("the summary of a Task fitting everywhere alike takes %d lines: %q", len(in.Lines), in.Lines)
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

// icr-scan (PR 408, v1beta1) needs params no build pipeline provides.
func TestCorpusICRScan(t *testing.T) {
	s := open(t, corpus(t, "_pull-requests/pr-408"), "partners/icr-scan/0.1", corpus(t, ""))
	fs := run(UnboundParam, s)
	sane(t, fs)
	var names []string
	for _, f := range fs {
		if f.Rule != "" && f.Rule != UnboundParam.ID {
			t.Errorf("rule %s", f.Rule)
		}
		names = append(names, f.Message[:strings.Index(f.Message, " (no default)")])
		if !strings.Contains(f.Message, "all ") || !strings.Contains(f.Message, "docker-build-oci-ta") || !strings.Contains(f.Help, "IMAGE_URL") {
			t.Errorf("the finding should name the pipelines and what binds: %+v", f)
		}
	}
	if strings.Join(names, ";") != `required param "iCR-License";required param "Server-URL"` {
		t.Errorf("unbound params %v, want iCR-License and Server-URL", names)
	}
	// at the params' lines in the file
	if fs[0].Line != 19 || fs[1].Line != 26 {
		t.Errorf("lines %d, %d", fs[0].Line, fs[1].Line)
	}
	// its source workspace: told for the trusted-artifacts pipelines only
	ws := run(Workspace, s)
	if len(ws) != 1 || !strings.Contains(ws[0].Message, `workspace "source"`) || strings.Contains(ws[0].Message, "docker-build,") || strings.Contains(ws[0].Message, "docker-build (") {
		t.Errorf("workspace findings %v", ws)
	}
}

// A check fitting the pipelines with a source workspace has no error: it
// fits some of its targets; the others are in its summary. Targeted at
// the trusted-artifacts pipelines alone, its workspace is an error there.

// A check fitting the pipelines with a source workspace has no error: it
// fits some of its targets; the others are in its summary. Targeted at
// the trusted-artifacts pipelines alone, its workspace is an error there.
func TestCorpusWorkspaceTrustedArtifactsOnly(t *testing.T) {
	s := open(t, "testdata/repo", "partners/source-scan/0.1", corpus(t, ""))
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
	targeted := strings.Replace(string(data), "  name: source-scan\n", "  name: source-scan\n  annotations:\n    taskgate.dev/pipelines: docker-build-oci-ta,docker-build-oci-ta-min,docker-build-multi-platform-oci-ta,fbc-builder\n", 1)
	s = submission(t, targeted, corpus(t, ""))
	fs := run(Workspace, s)
	sane(t, fs)
	if len(fs) != 1 {
		t.Fatalf("want one finding, got %v", fs)
	}
	f := fs[0]
	list := f.Message[strings.Index(f.Message, "provided by ")+len("provided by "):]
	named := strings.Split(list[:strings.Index(list, " (")], ", ")
	for _, n := range named {
		if !strings.Contains(n, "oci-ta") && n != "fbc-builder" {
			t.Errorf("%s has a source workspace but is named: %s", n, f.Message)
		}
	}
	for _, want := range []string{"docker-build-oci-ta", "docker-build-oci-ta-min", "docker-build-multi-platform-oci-ta", "fbc-builder"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("%s lacks a source workspace but is not named: %s", want, f.Message)
		}
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
func TestCorpusComposeErrorMapped(t *testing.T) {
	hist := corpus(t, "_history/2023-03-06-adr-time/pipelines")
	composeErrorMapped(t, hist, hist)
}

func TestCorpusAnnotations(t *testing.T) { annotations(t, corpus(t, ""), 11) }

// The real build pipelines' own checks pass the static TEST_OUTPUT
// check: no false positives on the real thing.
func TestCorpusTestOutputOnRealChecks(t *testing.T) {
	if n := testOutputOfPipelineChecks(t, corpus(t, "")); n < 10 {
		t.Errorf("only %d real check Tasks found", n)
	}
}

// Every Task version a real build pipeline runs today (and at two
// earlier points) fits every pipeline that runs it.
func TestCorpusEveryTaskThePipelinesRunFitsThem(t *testing.T) {
	root := corpus(t, "")
	history, _ := filepath.Glob(filepath.Join(root, "_history", "*", "pipelines"))
	n := oracle(t, root, filepath.Join(root, "pipelines"))
	if n < 30 {
		t.Fatalf("only %d Task versions referenced by the HEAD pipelines: is the corpus complete?", n)
	}
	if len(history) < 2 {
		t.Fatalf("history snapshots: %v", history)
	}
	for _, dir := range history {
		oracle(t, root, dir)
	}
}

// Both catalogs of the corpus against every build pipeline: the findings
// and summaries are those of validating each composed Pipeline whole.
func TestCorpusTaskByTaskFindingsAreWhole(t *testing.T) {
	bd := testrepo.Corpus(t, "build-definitions")
	n := 0
	for _, root := range []string{bd, testrepo.Corpus(t, "tektoncd-catalog")} {
		n += sameFindings(t, root, filepath.Join(bd, "pipelines"))
	}
	if n < 350 {
		t.Errorf("only %d submissions judged: is the corpus complete?", n)
	}
}

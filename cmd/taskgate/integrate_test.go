package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"

	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
)

// buildDefinitions is a path in the hand-made build-definitions of testdata/.
func buildDefinitions(t *testing.T, rel string) string {
	return testrepo.Testdata(t, "build-definitions", rel)
}

func TestIntegrate(t *testing.T) {
	pipes := buildDefinitions(t, "")
	// a repository holding its merged partner Task
	repo := t.TempDir()
	src := filepath.Join(pipes, "partners", "hello-summary", "0.1", "hello-summary.yaml")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(repo, "partners", "hello-summary", "0.1")
	os.MkdirAll(dst, 0o755)
	os.WriteFile(filepath.Join(dst, "hello-summary.yaml"), data, 0o644)

	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"integrate", repo, "--pipelines", pipes, "--out", out}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s %s", code, stdout.String(), stderr.String())
	}
	written, _ := filepath.Glob(filepath.Join(out, "partners", "hello-summary", "0.1", "*", "pipeline.yaml"))
	if len(written) != 2 || strings.Count(stdout.String(), "fits ") != len(written) {
		t.Fatalf("wrote %d pipelines: %s", len(written), stdout.String())
	}
	for _, p := range written {
		dir, _ := filepath.Rel(out, filepath.Dir(p))
		// what was written loads strictly and passes Tekton's validation
		f := manifest.Load(out, filepath.Join(dir, "pipeline.yaml"), manifest.DefaultLimits)
		if f.Pipeline == nil || len(f.Problems) > 0 {
			t.Fatalf("%s: %+v", p, f.Problems)
		}
		if errs := pipeline.Validate(f.Pipeline); errs != nil {
			t.Errorf("%s: %v", p, errs)
		}
		pr, err := os.ReadFile(filepath.Join(filepath.Dir(p), "pipelinerun.yaml"))
		if err != nil || !strings.Contains(string(pr), "name: "+f.Pipeline.Name) || !strings.Contains(string(pr), "kind: PipelineRun") {
			t.Errorf("%s: PipelineRun %s %v", p, pr, err)
		}
		if !strings.Contains(string(pr), "output-image") || !strings.Contains(string(pr), ".invalid") {
			t.Errorf("%s: required params need placeholders: %s", p, pr)
		}
	}

	// license-scan fits nowhere: exit 1, nothing written, the reasons printed
	out = t.TempDir()
	stdout.Reset()
	if code := run([]string{"integrate", buildDefinitions(t, "_pull-requests/pr-1"), "--pipelines", pipes, "--out", out}, &stdout, &stderr); code != exitFindings {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stdout.String(), "param LICENSE unbound") {
		t.Errorf("%s", stdout.String())
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}

	// usage
	if code := run([]string{"integrate", repo}, &stdout, &stderr); code != exitUsage {
		t.Errorf("no --out: exit %d", code)
	}
	if code := run([]string{"integrate", repo, "--pipelines", filepath.Join(repo, "nope"), "--out", out}, &stdout, &stderr); code != exitUsage {
		t.Errorf("missing pipelines: exit %d", code)
	}
}

// With --changed-from only the submissions a change touches are composed:
// an older submission that fits nothing cannot fail someone else's PR.
func TestIntegrateChangedFrom(t *testing.T) {
	pipes := buildDefinitions(t, "")
	example, err := os.ReadFile(filepath.Join(pipes, "partners", "hello-summary", "0.1", "hello-summary.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	repo := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  params:\n    - name: needs-something\n  steps:\n    - image: alpine\n      script: echo\n")
	git(t, repo, "init", "-q", "-b", "main")
	git(t, repo, "add", "-A")
	git(t, repo, "commit", "-qm", "base")
	dst := filepath.Join(repo, "partners", "hello-summary", "0.1")
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "hello-summary.yaml"), example, 0o644); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	code, stdout, stderr := runCLI("integrate", repo, "--pipelines", pipes, "--changed-from", "main", "--out", out)
	if code != exitOK || strings.Contains(stdout, "partners/demo") || !strings.Contains(stdout, "partners/hello-summary/0.1: fits docker-build") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	// without it the unrelated demo Task, which binds nowhere, fails the run
	if code, stdout, _ := runCLI("integrate", repo, "--pipelines", pipes, "--out", t.TempDir()); code != exitFindings || !strings.Contains(stdout, "partners/demo/0.1: does not fit") {
		t.Errorf("all submissions: exit %d\n%s", code, stdout)
	}
}

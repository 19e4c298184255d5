package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// writeRepo makes a catalog with one submission whose Task is given.
func writeRepo(t *testing.T, taskYAML string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"partners/demo/OWNERS":        "approvers: [someone]\n",
		"partners/demo/0.1/README.md": "# demo\n",
		"partners/demo/0.1/demo.yaml": taskYAML,
	}
	testrepo.Write(t, root, files)
	return root
}

// The README's first command: the example catalog holds a submission that
// passes and one that fails; the report shows where each fits in the
// pipelines the example ships, the failing one's errors, each at its line
// with its fix, and nothing unchecked, on far less than a screen.
func TestExampleCatalog(t *testing.T) {
	code, out, errOut := runCLI("validate", "../../examples/catalog")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFindings, out, errOut)
	}
	if !strings.Contains(out, "2 submission(s), 3 error(s), 0 warning(s), 0 info, 4 check(s) not run: FAILED") {
		t.Errorf("summary missing:\n%s", out)
	}
	for _, want := range []string{
		"partners/image-size-check/0.1/image-size-check.yaml:31:7: error image/unpinned: ",
		"partners/image-size-check/0.1/image-size-check.yaml:46:47: error script/param-injection: $(params.image-url)",
		"partners/image-size-check/0.1/image-size-check.yaml:46:67: error script/param-injection: $(params.image-digest)",
		"partners/hello-world/0.1/hello-world.yaml: integration: fits 2 of 2 build pipelines",
		"partners/image-size-check/0.1/image-size-check.yaml: integration: fits 2 of 2 build pipelines",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	if strings.Count(out, "    help: ") != 3 || regexp.MustCompile(`hello-world\.yaml:\d`).MatchString(out) || strings.Contains(out, "not checked") || strings.Count(out, "\n") > 24 {
		t.Errorf("want three errors with their help, none on hello-world, nothing unchecked, in a few lines:\n%s", out)
	}
}

func TestExitCodes(t *testing.T) {
	broken := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  steps:\n    - image: alpine\n      scirpt: echo\n")
	code, out, _ := runCLI("validate", broken)
	if code != exitFindings {
		t.Fatalf("a Task with an unknown field must fail with %d, got %d\n%s", exitFindings, code, out)
	}
	if !strings.Contains(out, "partners/demo/0.1/demo.yaml:8:7: error tekton/schema: unknown field \"spec.steps[0].scirpt\"") {
		t.Errorf("compiler-style line missing:\n%s", out)
	}
	if !strings.Contains(out, "    help: ") {
		t.Errorf("help missing:\n%s", out)
	}

	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"validate", "--format", "yaml", broken},
		{"validate", "--no-such-flag"},
		{"validate", "/does/not/exist"},
		{"validate", broken, broken},
		{"validate", "--changed-from", "HEAD", broken}, // not a git repository
	} {
		if code, _, errOut := runCLI(args...); code != exitUsage || errOut == "" {
			t.Errorf("%v: want exit %d with a message, got %d %q", args, exitUsage, code, errOut)
		}
	}
	bad := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  steps: []\n")
	if err := os.WriteFile(filepath.Join(bad, ".taskgate.yaml"), []byte("disable: [layout/typo]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI("validate", bad); code != exitUsage || !strings.Contains(errOut, `unknown rule "layout/typo"`) {
		t.Errorf("a misspelt rule in .taskgate.yaml: got %d %q", code, errOut)
	}
}

func TestFlagsAfterPathAndOutputFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.json")
	code, stdout, errOut := runCLI("validate", "../../examples/catalog", "--format", "json", "--output", out)
	if code != exitFindings || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, errOut)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Findings []map[string]any `json:"findings"`
		Summary  struct {
			Submissions int  `json:"submissions"`
			Errors      int  `json:"errors"`
			Passed      bool `json:"passed"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if rep.Summary.Submissions != 2 || rep.Summary.Errors != 3 || rep.Summary.Passed || len(rep.Findings) != 3 {
		t.Errorf("json summary: %+v", rep)
	}
}

func TestEveryFormatRenders(t *testing.T) {
	broken := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  steps:\n    - image: alpine\n      scirpt: echo\n")
	for _, format := range []string{"text", "json", "sarif", "junit", "markdown", "github"} {
		code, out, errOut := runCLI("validate", "--format", format, broken)
		if code != exitFindings || !strings.Contains(out, "demo.yaml") {
			t.Errorf("%s: exit %d, output lacks the file\n%s%s", format, code, out, errOut)
		}
	}
}

// A clean submission's text report fits on one screen, its integration
// summary included: the example's pipelines and testdata's.
func TestCleanSubmissionFitsOnOneScreen(t *testing.T) {
	for _, dir := range []string{"../../examples/catalog/pipelines", testrepo.Testdata(t, "build-definitions", "pipelines")} {
		cleanFitsOnOneScreen(t, dir)
	}
}

// cleanFitsOnOneScreen validates the example's passing submission alone
// against the pipelines of dir.
func cleanFitsOnOneScreen(t *testing.T, dir string) {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "partners", "hello-world"), os.DirFS("../../examples/catalog/partners/hello-world")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("validate", root, "--pipelines", dir)
	if code != exitOK {
		t.Fatalf("%s: exit %d\n%s%s", dir, code, out, errOut)
	}
	if n := strings.Count(out, "\n"); n >= 25 || !strings.Contains(out, "hello-world.yaml: integration: fits ") || strings.Contains(out, "integration/") {
		t.Errorf("%s: %d lines:\n%s", dir, n, out)
	}
}

// -v lists the infos the text format otherwise only counts.
func TestVerboseListsInfos(t *testing.T) {
	root := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  steps:\n    - name: s\n      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8\n      script: echo hi\n")
	_, quiet, _ := runCLI("validate", root)
	_, verbose, _ := runCLI("validate", root, "-v")
	if !strings.Contains(quiet, "info finding(s) not shown (-v shows them)") || strings.Contains(quiet, ": info ") {
		t.Errorf("without -v:\n%s", quiet)
	}
	if strings.Contains(verbose, "not shown") || !strings.Contains(verbose, ": info script/shebang: ") {
		t.Errorf("with -v:\n%s", verbose)
	}
}

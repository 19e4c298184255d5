package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/report"
	"taskgate.dev/taskgate/pkg/report/githubtest"
)

// The validation Pipeline's two halves: validate writes text to the log
// and json + markdown for the report step, which posts them.
func TestValidateThenReport(t *testing.T) {
	prFiles := buildDefinitions(t, "_pull-requests/pr-1")
	pipes := buildDefinitions(t, "")
	out := t.TempDir()
	jsonFile, mdFile := filepath.Join(out, "report.json"), filepath.Join(out, "comment.md")
	code, text, errOut := runCLI("validate", prFiles, "--pipelines", pipes, "--also", "json="+jsonFile, "--also", "markdown="+mdFile)
	if code != exitFindings {
		t.Fatalf("validate: exit %d, want %d\n%s%s", code, exitFindings, text, errOut)
	}
	if !strings.Contains(text, "partners/license-scan/0.1/license-scan.yaml:33:25: error script/param-injection:") {
		t.Errorf("the log must name file:line of each failing check:\n%s", text)
	}
	// --also gives what --format gives
	for format, file := range map[string]string{"json": jsonFile, "markdown": mdFile} {
		_, want, _ := runCLI("validate", prFiles, "--pipelines", pipes, "--format", format)
		if got, _ := os.ReadFile(file); string(got) != want {
			t.Errorf("--also %s=FILE differs from --format %s", format, format)
		}
	}
	var res report.JSONReport
	data, _ := os.ReadFile(jsonFile)
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}

	gh := githubtest.New(t)
	token := filepath.Join(t.TempDir(), "git-provider-token")
	os.WriteFile(token, []byte(githubtest.Token+"\n"), 0o600)
	args := []string{"report", "--json", jsonFile, "--markdown", mdFile, "--repo-url", "https://github.com/acme/catalog",
		"--pr", "408", "--sha", "0123456789abcdef0123456789abcdef01234567", "--api-url", gh.URL}
	code, stdout, stderr := runCLI(append(args, "--token-file", token)...)
	if code != exitOK {
		t.Fatalf("report: exit %d\n%s%s", code, stdout, stderr)
	}
	md, _ := os.ReadFile(mdFile)
	if len(gh.Comments) != 1 || gh.Comments[0].Body != string(md) {
		t.Errorf("want the Markdown report as the one comment, got %d comments", len(gh.Comments))
	}
	annotated := res.Summary.Errors + res.Summary.Warnings
	if len(gh.Runs) != 1 || len(gh.Runs[0].Annotations) != annotated || gh.Runs[0].Conclusion != "failure" {
		t.Fatalf("want one failing check run with %d annotations: %+v", annotated, gh.Runs)
	}
	if a := gh.Runs[0].Annotations[0]; a["path"] != "partners/license-scan/0.1/license-scan.yaml" || a["start_line"] == nil {
		t.Errorf("annotation %v: want the submission file and its line", a)
	}
	if !strings.Contains(stdout, "comment created: https://github.com/acme/catalog/pull/1#issuecomment-") {
		t.Errorf("the log should say what was posted:\n%s", stdout)
	}

	// A re-run (/retest) updates the same comment.
	if code, stdout, stderr = runCLI(append(args, "--token-file", token)...); code != exitOK || len(gh.Comments) != 1 || !strings.Contains(stdout, "comment updated") {
		t.Errorf("re-run: exit %d, %d comments\n%s%s", code, len(gh.Comments), stdout, stderr)
	}

	// No token mounted: nothing posted, and the log says so.
	t.Setenv("GITHUB_TOKEN", "")
	requests := len(gh.Requests)
	code, stdout, _ = runCLI(append(args, "--token-file", filepath.Join(t.TempDir(), "absent"))...)
	if code != exitOK || len(gh.Requests) != requests || !strings.Contains(stdout, "no GitHub token") || !strings.Contains(stdout, "absent is missing or empty") {
		t.Errorf("no token: exit %d, %d new requests\n%s", code, len(gh.Requests)-requests, stdout)
	}
	// A wrong token: the failure is an exit status, not a silent pass.
	t.Setenv("GITHUB_TOKEN", "wrong")
	if code, _, stderr = runCLI(args...); code != exitFindings || !strings.Contains(stderr, "401") {
		t.Errorf("wrong token: exit %d, want %d and the 401 said\n%s", code, exitFindings, stderr)
	}
}

func TestReportInputs(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "comment.md")
	js := filepath.Join(dir, "report.json")
	base := []string{"report", "--json", js, "--markdown", md, "--repo-url", "https://github.com/acme/catalog", "--pr", "1", "--sha", "abc"}

	// validate stopped before writing its report: nothing to post, not an error
	code, stdout, _ := runCLI(base...)
	if code != exitOK || !strings.Contains(stdout, "the gate did not finish") {
		t.Errorf("missing report: exit %d\n%s", code, stdout)
	}
	os.WriteFile(js, []byte(`{"findings":[],"summary":{"passed":true}}`), 0o644)
	os.WriteFile(md, []byte("# not ours\n"), 0o644)
	if code, _, stderr := runCLI(base...); code != exitUsage || !strings.Contains(stderr, "not a taskgate Markdown report") {
		t.Errorf("foreign markdown: exit %d\n%s", code, stderr)
	}
	for _, args := range [][]string{
		{"report"},
		{"report", "--json", js, "--markdown", md, "--repo-url", "https://github.com/acme/catalog", "--sha", "abc"},          // no --pr
		{"report", "--json", js, "--markdown", md, "--repo-url", "git@github.com:acme/catalog", "--pr", "1", "--sha", "abc"}, // not a URL
	} {
		if code, _, _ := runCLI(args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// git runs git in dir, failing the test on error.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// A pull request that switches a rule off in .taskgate.yaml is judged by
// the base's configuration with --config-from-base.
func TestValidateConfigFromBase(t *testing.T) {
	root := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  steps:\n    - image: alpine\n      command: [\"true\"]\n")
	git(t, root, "init", "-q", "-b", "main")
	git(t, root, "add", ".")
	git(t, root, "commit", "-q", "-m", "base")
	os.WriteFile(filepath.Join(root, ".taskgate.yaml"), []byte("disable: [image/unpinned, tekton/conventions]\n"), 0o644)
	os.WriteFile(filepath.Join(root, "partners/demo/0.1/README.md"), []byte("# demo, changed\n"), 0o644)

	code, out, _ := runCLI("validate", root, "--changed-from", "main")
	if code != exitOK || strings.Contains(out, "error image/unpinned") || !strings.Contains(out, "not run: partners/demo/0.1 image/unpinned, tekton/conventions (disabled): disabled in .taskgate.yaml\n") {
		t.Fatalf("the PR's own config should switch the rule off without the flag (and the report say so): exit %d\n%s", code, out)
	}
	code, out, errOut := runCLI("validate", root, "--changed-from", "main", "--config-from-base")
	if code != exitFindings || !strings.Contains(out, "error image/unpinned") {
		t.Errorf("with --config-from-base the base's rules apply: exit %d\n%s%s", code, out, errOut)
	}
	// a base configuration that is broken is an error, not an empty config
	os.WriteFile(filepath.Join(root, ".taskgate.yaml"), []byte("disabel: [x]\n"), 0o644)
	git(t, root, "add", ".")
	git(t, root, "commit", "-q", "-m", "broken config")
	os.WriteFile(filepath.Join(root, ".taskgate.yaml"), []byte("{}\n"), 0o644)
	if code, _, errOut := runCLI("validate", root, "--changed-from", "HEAD", "--config-from-base"); code != exitUsage || !strings.Contains(errOut, "disabel") {
		t.Errorf("broken base config: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI("validate", root, "--config-from-base"); code != exitUsage || !strings.Contains(errOut, "needs --changed-from") {
		t.Errorf("--config-from-base alone: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runCLI("validate", root, "--also", "html=x.html"); code != exitUsage || !strings.Contains(errOut, "unknown format") {
		t.Errorf("--also with an unknown format: exit %d\n%s", code, errOut)
	}
}

func TestDiscover(t *testing.T) {
	root := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  steps:\n    - image: alpine\n")
	for _, f := range []string{"partners/other/0.1/other.yaml", "partners/other/0.2/other.yaml"} {
		os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(root, f), []byte("kind: Task\n"), 0o644)
	}
	git(t, root, "init", "-q", "-b", "main")
	git(t, root, "add", ".")
	git(t, root, "commit", "-q", "-m", "base")

	code, out, _ := runCLI("discover", root)
	if code != exitOK || out != "partners/demo/0.1\npartners/other/0.1\npartners/other/0.2\n" {
		t.Errorf("all submissions: exit %d\n%s", code, out)
	}
	os.WriteFile(filepath.Join(root, "partners/other/0.2/README.md"), []byte("# other\n"), 0o644)
	git(t, root, "rm", "-q", "-r", "partners/demo")
	result := filepath.Join(t.TempDir(), "submissions")
	code, out, _ = runCLI("discover", root, "--changed-from", "main", "--result", result)
	data, _ := os.ReadFile(result)
	if code != exitOK || out != "partners/other/0.2\n" || string(data) != `["partners/other/0.2"]` {
		t.Errorf("changed submissions (a deleted one is not listed): exit %d\n%s\nresult %s", code, out, data)
	}
	git(t, root, "add", ".")
	git(t, root, "commit", "-q", "-m", "change")
	code, _, errOut := runCLI("discover", root, "--changed-from", "HEAD", "--result", result)
	data, _ = os.ReadFile(result)
	if code != exitOK || string(data) != `[]` || !strings.Contains(errOut, "no submission") {
		t.Errorf("no change: want an empty array, got exit %d, %s\n%s", code, data, errOut)
	}
	if code, _, _ := runCLI("discover", root, "--changed-from", "no-such-rev"); code != exitUsage {
		t.Errorf("unknown revision: exit %d, want %d", code, exitUsage)
	}
}

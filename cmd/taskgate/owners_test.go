package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// prRepo commits the example catalog and a pipeline on main, then changes
// the pipeline on a branch: a PR touching no submission.
func prRepo(t *testing.T) string {
	t.Helper()
	root := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  steps:\n    - image: alpine\n      script: echo\n")
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", root, "-c", "user.email=t@t", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	pipeline := filepath.Join(root, "pipelines", "build.yaml")
	if err := os.MkdirAll(filepath.Dir(pipeline), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pipeline, []byte("kind: Pipeline\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-qm", "base")
	git("checkout", "-qb", "pr")
	if err := os.WriteFile(pipeline, []byte("kind: Pipeline # changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("commit", "-qam", "change the pipeline")
	return root
}

func TestValidateAuthor(t *testing.T) {
	root := prRepo(t)
	code, out, errOut := runCLI("validate", root, "--changed-from", "main", "--author", "eve")
	if code != exitFindings || !strings.Contains(out, "pipelines/build.yaml:1:1: error owners/unauthorized: eve may not change pipelines/build.yaml") {
		t.Errorf("a pipeline change by a non-maintainer: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(errOut, "nothing to validate") {
		t.Errorf("the change is judged, yet stderr says nothing is: %q", errOut)
	}
	if code, out, errOut := runCLI("validate", root, "--changed-from", "main", "--author", "eve", "--maintainers", "bob,Eve"); code != exitOK {
		t.Errorf("a maintainer's pipeline change: exit %d\n%s%s", code, out, errOut)
	}
	// without --author the rule does not apply, and validate says nothing more
	if code, out, _ := runCLI("validate", root, "--changed-from", "main"); code != exitOK || strings.Contains(out, "owners/") {
		t.Errorf("no --author: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"validate", root, "--author", "eve"}, // needs --changed-from
		{"validate", root, "--changed-from", "main", "--author", "eve", "--maintainers", "org/team"},
		{"validate", root, "--changed-from", "main", "--author", "eve", "--maintainers", filepath.Join(t.TempDir(), "none.yaml")},
	} {
		if code, _, errOut := runCLI(args...); code != exitUsage || errOut == "" {
			t.Errorf("%v: want exit %d with a message, got %d", args, exitUsage, code)
		}
	}
}

// On a pull request the author must be known: empty, or a placeholder
// Pipelines-as-Code left unsubstituted, fails closed with one finding
// naming what nobody could judge, even for a maintainer-only change.
func TestValidatePullRequestNeedsAuthor(t *testing.T) {
	root := prRepo(t)
	for _, author := range []string{"", "  ", `{{ cel: has(body.pull_request) ? body.pull_request.user.login : "" }}`, "{{ body.pull_request.user.login }}", "eve;rm"} {
		code, out, errOut := runCLI("validate", root, "--changed-from", "main", "--event", "pull_request", "--author", author, "--maintainers", "bob")
		if code != exitFindings || strings.Count(out, "error owners/unauthorized") != 1 || !strings.Contains(out, "pipelines/build.yaml:1:1: error owners/unauthorized: the pull request's author is") ||
			!strings.Contains(out, "fails closed") {
			t.Errorf("--author %q: exit %d\n%s%s", author, code, out, errOut)
		}
	}
	// a maintainer, a bot account and a partner are judged as usual
	if code, out, errOut := runCLI("validate", root, "--changed-from", "main", "--event", "pull_request", "--author", "bob", "--maintainers", "bob"); code != exitOK {
		t.Errorf("a maintainer: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCLI("validate", root, "--changed-from", "main", "--event", "pull_request", "--author", "renovate[bot]"); code != exitFindings || !strings.Contains(out, "renovate[bot] may not change pipelines/build.yaml") {
		t.Errorf("a bot: exit %d\n%s", code, out)
	}
	// a push is merged work: no author, no owners verdict
	if code, out, errOut := runCLI("validate", root, "--changed-from", "main", "--event", "push", "--author", ""); code != exitOK || strings.Contains(out, "owners/") {
		t.Errorf("push: exit %d\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{
		{"validate", root, "--event", "pull_request"}, // needs --changed-from
		{"validate", root, "--changed-from", "main", "--event", "merge_group"},
	} {
		if code, _, errOut := runCLI(args...); code != exitUsage || errOut == "" {
			t.Errorf("%v: want exit %d with a message, got %d", args, exitUsage, code)
		}
	}
}

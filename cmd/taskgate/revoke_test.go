package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

func TestRevokeThenValidateDeletion(t *testing.T) {
	corpus := testrepo.Testdata(t, "build-definitions")
	root := t.TempDir()
	copyFile := func(from, to string) {
		data, err := os.ReadFile(filepath.Join(corpus, from))
		if err == nil {
			err = os.MkdirAll(filepath.Dir(filepath.Join(root, to)), 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(root, to), data, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	copyFile("pipelines/docker-build/docker-build.yaml", "pipelines/docker-build/docker-build.yaml")
	copyFile("task/git-clone/0.2/git-clone.yaml", "task/git-clone/0.2/git-clone.yaml")
	copyFile("task/git-clone/0.2/git-clone.yaml", "task/git-clone/0.3/git-clone.yaml")
	copyFile("task/summary/0.4/summary.yaml", "task/summary/0.4/summary.yaml")
	git(t, root, "init", "-q")
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "base")

	// referenced: propose the deprecation, then apply it
	code, out, errOut := runCLI("revoke", "git-clone/0.2", root, "--expires-on", "2027-01-31T00:00:00Z")
	if code != exitOK || !strings.Contains(out, "pipelines/docker-build/docker-build.yaml:51:21: taskRef {name: git-clone, version: \"0.2\"}") ||
		!strings.Contains(out, "+    build.appstudio.redhat.com/expires-on: \"2027-01-31T00:00:00Z\"") ||
		!strings.Contains(out, "Please use git-clone 0.3 instead.") {
		t.Fatalf("revoke proposal: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut = runCLI("revoke", "git-clone/0.2", root, "--expires-on", "2027-01-31T00:00:00Z", "--apply"); code != exitOK {
		t.Fatalf("revoke --apply: exit %d\n%s%s", code, out, errOut)
	}
	data, _ := os.ReadFile(filepath.Join(root, "task/git-clone/0.2/git-clone.yaml"))
	if !strings.Contains(string(data), `build.appstudio.redhat.com/expires-on: "2027-01-31T00:00:00Z"`) {
		t.Errorf("--apply did not annotate the Task:\n%.400s", data)
	}

	// unreferenced: propose, then do, the git rm
	code, out, _ = runCLI("revoke", "summary", root)
	if code != exitOK || !strings.Contains(out, "git rm -r -- task/summary") {
		t.Errorf("unreferenced revoke: exit %d\n%s", code, out)
	}
	if code, out, errOut = runCLI("revoke", "summary", root, "--apply"); code != exitOK {
		t.Fatalf("revoke --apply (rm): exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "task/summary")); !os.IsNotExist(err) {
		t.Errorf("task/summary still there: %v", err)
	}

	if code, _, errOut = runCLI("revoke", "nope/0.1", root); code != exitUsage || !strings.Contains(errOut, "no submission nope/0.1") {
		t.Errorf("unknown task: exit %d\n%s", code, errOut)
	}

	// a PR that deletes the still-referenced version fails validate
	git(t, root, "commit", "-q", "-am", "deprecate")
	git(t, root, "rm", "-r", "-q", "task/git-clone/0.2")
	code, out, _ = runCLI("validate", root, "--changed-from", "HEAD")
	if code != exitFindings || !strings.Contains(out, "pipelines/docker-build/docker-build.yaml:51:21: error revoke/still-referenced:") {
		t.Errorf("validate of the deletion: exit %d\n%s", code, out)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

// exampleFiles is the example catalog with its passing submission alone,
// as files to write.
func exampleFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	src := filepath.Join("..", "..", "examples", "catalog")
	if err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(src, p)
		if rel = filepath.ToSlash(rel); !strings.HasPrefix(rel, "partners/") || strings.HasPrefix(rel, "partners/hello-world/") {
			files[rel] = string(data) // the passing submission alone
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return files
}

// A stray file or directory inside a task's directory is not a second
// submission: the change still counts one, with one layout/path error on
// each stray path and nothing else about it (no "no Task manifest", no
// README), whole-catalog or as a pull request.
func TestStrayIsNotASecondSubmission(t *testing.T) {
	files := exampleFiles(t)
	strays := map[string]string{
		"partners/hello-world/0.1/notes/x.yaml": "partners/hello-world/0.1/notes",
		"partners/hello-world/tmp/scratch.txt":  "partners/hello-world/tmp",
	}
	root := testrepo.PullRequest(t, files, func(root string) {
		for f := range strays {
			testrepo.Write(t, root, map[string]string{f: "a: b\n"})
		}
	})
	for _, args := range [][]string{{"validate", root}, {"validate", root, "--changed-from", "main"}} {
		code, out, errOut := runCLI(args...)
		if code != exitFindings || !strings.Contains(out, "taskgate: 1 submission(s), 2 error(s), 0 warning(s)") {
			t.Errorf("%v: exit %d, want one submission with two errors:\n%s%s", args, code, out, errOut)
		}
		for _, stray := range strays {
			if n := strings.Count("\n"+out, "\n"+stray+":1:1: error layout/path: "+stray+" is not part of"); n != 1 {
				t.Errorf("%v: %d layout/path errors on %s:\n%s", args, n, stray, out)
			}
		}
		for _, noise := range []string{"no Task manifest", "layout/readme", "not of the form N.N"} {
			if strings.Contains(out, noise) {
				t.Errorf("%v: %q about a stray:\n%s", args, noise, out)
			}
		}
	}
}

// A change to a file outside any submission is judged for owners only,
// by a stand-in that is not a submission: one Task is still 1 submission.
func TestFileOutsideSubmissionsIsNotASubmission(t *testing.T) {
	root := testrepo.PullRequest(t, exampleFiles(t), func(root string) {
		testrepo.Write(t, root, map[string]string{"NOTES.md": "notes\n", "partners/hello-world/0.1/README.md": "# hello-world, changed\n"})
	})
	code, out, errOut := runCLI("validate", root, "--changed-from", "main", "--author", "example-partner", "--maintainers", "bob")
	if code != exitFindings || !strings.Contains(out, "taskgate: 1 submission(s), 1 error(s)") || !strings.Contains(out, "NOTES.md:1:1: error owners/unauthorized") {
		t.Errorf("exit %d, want one submission and NOTES.md's owners error:\n%s%s", code, out, errOut)
	}
}

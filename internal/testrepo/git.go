package testrepo

import (
	"os/exec"
	"testing"
)

// Git runs git in dir with a fixed identity and no signing, failing the
// test when it fails.
func Git(tb testing.TB, dir string, args ...string) {
	tb.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=t@t", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// PullRequest writes base into a new repository committed on main, then
// lets change edit the working tree (files, symlinks, anything) and
// commits that on a branch: a pull request for `validate --changed-from
// main`.
func PullRequest(tb testing.TB, base map[string]string, change func(root string)) string {
	tb.Helper()
	root := New(tb, base)
	Git(tb, root, "init", "-q", "-b", "main")
	Git(tb, root, "add", "-A")
	Git(tb, root, "commit", "-qm", "base")
	Git(tb, root, "checkout", "-qb", "pr")
	change(root)
	Git(tb, root, "add", "-A")
	Git(tb, root, "commit", "-qm", "the change", "--allow-empty")
	return root
}

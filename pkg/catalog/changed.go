package catalog

import (
	"bytes"
	"fmt"
	"os/exec"
	"path"
	"sort"
	"strings"
)

// Change is what a pull request (or a working tree) changes relative to a
// base revision.
type Change struct {
	Base    string   // the merge base the diff was taken from
	Paths   []string // changed, added or deleted files, repo-relative
	Deleted []string // the deleted ones among them
}

// ChangedFrom lists the files that differ between the merge base of rev
// and HEAD and the working tree (committed, staged, unstaged and untracked
// files): what a PR touches, or what a partner is about to push.
func (r *Repo) ChangedFrom(rev string) (*Change, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("--changed-from %q: not a revision", rev)
	}
	base, err := r.git("merge-base", rev, "HEAD")
	if err != nil {
		return nil, fmt.Errorf("--changed-from %s: %v", rev, err)
	}
	c := &Change{Base: strings.TrimSpace(base)}
	diff, err := r.git("diff", "--name-status", "--no-renames", "-z", c.Base, "--")
	if err != nil {
		return nil, err
	}
	fields := strings.Split(strings.TrimSuffix(diff, "\x00"), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		status, file := fields[i], fields[i+1]
		c.Paths = append(c.Paths, file)
		if status == "D" {
			c.Deleted = append(c.Deleted, file)
		}
	}
	untracked, err := r.git("ls-files", "-z", "--others", "--exclude-standard")
	if err != nil {
		return nil, err
	}
	for _, f := range strings.Split(untracked, "\x00") {
		if f != "" {
			c.Paths = append(c.Paths, f)
		}
	}
	sort.Strings(c.Paths)
	return c, nil
}

func (r *Repo) git(args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", r.Root}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// holdsStray says whether p is one of the submission's stray paths or
// inside one.
func (s *Submission) holdsStray(p string) bool {
	for _, st := range s.Strays {
		if p == st || strings.HasPrefix(p, st+"/") {
			return true
		}
	}
	return false
}

// Touched keeps the submissions a change touches: a file inside the
// version directory (or the directory itself, when it is a symlink), the
// task's OWNERS/README (which belong to every version), or a stray path
// reported with it. A version whose directory was deleted entirely is not
// returned here; revocation checks handle deletions.
func (c *Change) Touched(subs []*Submission) []*Submission {
	var out []*Submission
	for _, s := range subs {
		taskDir := path.Join(s.Layout, s.Name)
		for _, p := range c.Paths {
			if p == s.Dir || strings.HasPrefix(p, s.Dir+"/") || path.Dir(p) == taskDir || s.holdsStray(p) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// Package revoke holds the rules that make removing a Task safe:
// revoke/still-referenced (a deleted Task or version that the repository
// still uses) and deprecation/expired (a version past its announced
// removal date), plus the deprecation edit `taskgate revoke` proposes.
package revoke

import (
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// The Konflux deprecation annotations (see build-definitions' archived-tasks/).
const (
	ExpiresOn     = "build.appstudio.redhat.com/expires-on"
	ExpiryMessage = "build.appstudio.redhat.com/expiry-message"
)

// Checks are the revocation rules.
var Checks = []*check.Check{StillReferenced, Expired}

// WarnWithin is how close an expiry date turns into a warning.
const WarnWithin = 14 * 24 * time.Hour

// Now is the clock of deprecation/expired (tests set it).
var Now = time.Now

// StillReferenced reports, for each Task version a change deletes, every
// place of the repository that still uses it. A deleted version has no
// submission of its own, so `validate --changed-from` builds one per
// deleted version with Deleted and runs this check on it alone; on
// ordinary submissions it finds nothing.
var StillReferenced = &check.Check{
	ID:       "revoke/still-referenced",
	Doc:      "a deleted Task or version still referenced by a pipeline, a Task, a git-resolver path, a bundle ref or a task_bundle pin (checked on `validate --changed-from`)",
	Severity: check.Error,
	Help:     "point the reference at a version that stays, or keep this version and deprecate it first: `taskgate revoke <task>/<version>` sets " + ExpiresOn + " and tells when removing it is safe",
	Bad: `# this change deletes partners/hello/0.1/
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: build
spec:
  tasks:
    - name: hello
      taskRef:
        name: hello
        version: "0.1"
`,
	Fixed: `# this change deletes partners/hello/0.1/; 0.2 stays
apiVersion: tekton.dev/v1
kind: Pipeline
metadata:
  name: build
spec:
  tasks:
    - name: hello
      taskRef:
        name: hello
        version: "0.2"
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission
		return check.FromProblems(s, "revoke/still-referenced")
	},
}

// Deleted returns one submission per Task version the change deletes (its
// manifest is gone), carrying the references that still use it as
// problems for StillReferenced. A version whose
// `external-task/<name>/<version>/` pin exists has moved to another
// repository: references resolve through the pin, so none is reported.
func Deleted(repo *catalog.Repo, change *catalog.Change) ([]*catalog.Submission, error) {
	var targets []Target
	seen := map[string]bool{}
	for _, p := range change.Deleted {
		parts := strings.Split(p, "/")
		if len(parts) != 4 || !isLayout(parts[0]) || parts[3] != parts[1]+".yaml" || seen[p] {
			continue
		}
		seen[p] = true
		if exists(repo.Root, p) {
			continue // deleted and re-added: not a deletion
		}
		t := Target{Layout: parts[0], Name: parts[1], Version: parts[2]}
		t.Last = len(versions(repo.Root, t.Layout, t.Name)) == 0
		targets = append(targets, t)
	}
	var live []Target
	for _, t := range targets {
		if !exists(repo.Root, path.Join("external-task", t.Name, t.Version)) {
			live = append(live, t)
		}
	}
	refs, err := References(repo.Root, live)
	if err != nil {
		return nil, err
	}
	var out []*catalog.Submission
	for _, t := range targets {
		s := &catalog.Submission{Repo: repo, Layout: t.Layout, Name: t.Name, Version: t.Version, Dir: t.Dir()}
		s.TaskPath = path.Join(s.Dir, t.Name+".yaml")
		for _, r := range refs {
			if r.Target == t {
				s.Problems = append(s.Problems, Problem(r, versions(repo.Root, t.Layout, t.Name)))
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// Problem turns a reference into a problem of rule StillReferenced;
// remaining are the Task's versions that stay.
func Problem(r Reference, remaining []string) manifest.Problem {
	t := r.Target
	move := "move this reference to a version that stays"
	if len(remaining) > 0 {
		move = fmt.Sprintf("move this reference to a version that stays (remaining: %s)", strings.Join(remaining, ", "))
	}
	return manifest.Problem{Path: r.File, Rule: StillReferenced.ID, Line: r.Line, Column: r.Column,
		Message: fmt.Sprintf("%s still refers to %s %s, which this change deletes (%s)", r.What, t.Name, t.Version, t.Dir()),
		Help:    fmt.Sprintf("%s, or restore %s and deprecate it first (`taskgate revoke %s/%s`)", move, t.Dir(), t.Name, t.Version)}
}

// versions lists the remaining version directories of a Task that still
// hold its manifest.
func versions(root, layout, name string) []string {
	des, err := os.ReadDir(filepath.Join(root, layout, name))
	if err != nil {
		return nil
	}
	var out []string
	for _, de := range des {
		if de.IsDir() && exists(root, path.Join(layout, name, de.Name(), name+".yaml")) {
			out = append(out, de.Name())
		}
	}
	return out
}

func exists(root, rel string) bool {
	_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
	return err == nil
}

func isLayout(s string) bool {
	for _, l := range catalog.Layouts {
		if s == l {
			return true
		}
	}
	return false
}

// Expired judges a Task version's announced removal date.
var Expired = &check.Check{
	ID:       "deprecation/expired",
	Doc:      "`" + ExpiresOn + "` in the past or unparsable (error), or within 14 days (warning)",
	Severity: check.Error,
	Help:     "delete the version once nothing references it (`taskgate revoke <task>/<version>` checks and prints the `git rm`), or, if the removal was postponed, move " + ExpiresOn + " forward",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  annotations:
    build.appstudio.redhat.com/expires-on: "2024-06-01T00:00:00Z"
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  annotations:
    build.appstudio.redhat.com/expires-on: "2099-06-01T00:00:00Z"
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		m := s.Manifest
		if m == nil || m.Root == nil {
			return nil
		}
		key := "metadata.annotations[" + ExpiresOn + "]"
		n := m.Node(key)
		if n == nil {
			return nil
		}
		when, err := time.Parse(time.RFC3339, strings.TrimSpace(n.Value))
		if err != nil {
			return []check.Finding{check.At(m, key, "%s %q is not an RFC 3339 timestamp, so nobody can tell when this version goes away", ExpiresOn, n.Value).
				WithHelp(fmt.Sprintf("write it as %s: %q (UTC midnight of the removal day)", ExpiresOn, "2026-01-31T00:00:00Z"))}
		}
		now := Now()
		msg := ""
		if mn := m.Node("metadata.annotations[" + ExpiryMessage + "]"); mn != nil && mn.Value != "" {
			msg = ": " + strings.Join(strings.Fields(mn.Value), " ")
		}
		day := when.UTC().Format("2006-01-02")
		switch left := when.Sub(now); {
		case left <= 0:
			return []check.Finding{check.At(m, key, "%s %s expired on %s (%d day(s) ago)%s", s.Name, s.Version, day, int(-left.Hours()/24), msg)}
		case left <= WarnWithin:
			f := check.At(m, key, "%s %s expires in %d day(s), on %s%s", s.Name, s.Version, int(math.Ceil(left.Hours()/24)), day, msg).
				WithHelp("pipelines still using this version stop being trusted then: move them to a newer version, or move " + ExpiresOn + " forward if the removal is postponed")
			f.Severity = check.Warning
			return []check.Finding{f}
		}
		return nil
	},
	Environment: check.Clock, // judged against today
}

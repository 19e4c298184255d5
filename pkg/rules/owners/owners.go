// Package owners holds owners/unauthorized: in a shared catalog, partner A
// must not change partner B's Task. Who may change what is read from what
// is already merged (OWNERS and CODEOWNERS at the merge base), so a pull
// request cannot authorize itself.
//
// Only approvers change a Task: in Prow, reviewers /lgtm and approvers
// /approve, and a PR merges on an approver's word; a PR whose author is an
// approver is approved by its author. A reviewer's PR therefore needs an
// approver, and the finding names them.
package owners

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// ID is the rule's id.
const ID = "owners/unauthorized"

// Checks are the owner rules.
var Checks = []*check.Check{Unauthorized}

// Unauthorized judges the pull request's author against the owners of
// every submission the PR changes. It runs per submission; what no
// submission holds goes to the Repository stand-in.
var Unauthorized = &check.Check{
	ID:       ID,
	Doc:      "the PR author is not an approver (OWNERS) or code owner (CODEOWNERS) of a submission the PR changes, or not a maintainer for files outside submissions (needs `--author` and `--changed-from`)",
	Severity: check.Error,
	Help:     "an approver of the submission (its OWNERS at the merge base, or a new Task's new OWNERS) or its CODEOWNERS owner makes the change; catalog maintainers (`--maintainers`) change everything else",
	Bad: `# partners/hello/OWNERS at the merge base
approvers:
  - alice
reviewers:
  - mallory
# mallory's PR changes partners/hello/0.1/hello.yaml:
#   taskgate validate --changed-from origin/main --author mallory
`,
	Fixed: `# partners/hello/OWNERS at the merge base: alice made mallory an approver in an earlier PR
approvers:
  - alice
  - mallory
reviewers:
  - mallory
# mallory's PR changes partners/hello/0.1/hello.yaml:
#   taskgate validate --changed-from origin/main --author mallory
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		r := s.Repo
		if r != nil && r.Change != nil && r.AuthorRequired && !ValidLogin(r.Author) {
			if s.Dir == RepositoryID {
				return []check.Finding{unknownAuthor(r, s.Files)}
			}
			return nil // the stand-in holds every changed file and says it once
		}
		if r == nil || r.Change == nil || norm(r.Author) == "" || isMaintainer(r, norm(r.Author)) {
			return nil
		}
		if s.Dir == RepositoryID {
			return judgeRest(s)
		}
		return judge(s, changedFiles(s))
	},
}

// RepositoryID names the stand-in submission of Repository in reports.
const RepositoryID = "(repository)"

// Repository returns a stand-in submission holding the changed files that
// no per-submission run of Unauthorized judges: files outside every
// submission (pipelines/, CODEOWNERS, the gate itself), versions the
// change deletes, and refused submissions (a symlink where a directory
// should be: no check but input/limits runs on them). `validate` runs Unauthorized
// on it alone. subs are the submissions the main run checks; nil means
// there is nothing left to judge, or no PR author was given.
func Repository(r *catalog.Repo, subs []*catalog.Submission) *catalog.Submission {
	if r.Change == nil {
		return nil
	}
	if r.AuthorRequired && !ValidLogin(r.Author) {
		// nobody to judge: every changed file fails closed, in one finding
		if len(r.Change.Paths) == 0 {
			return nil
		}
		return &catalog.Submission{Repo: r, Dir: RepositoryID, Name: RepositoryID, TaskPath: r.Change.Paths[0], Files: r.Change.Paths}
	}
	if norm(r.Author) == "" {
		return nil
	}
	judged := map[string]bool{}
	for _, s := range subs {
		if s.Refused {
			continue
		}
		for _, f := range changedFiles(s) {
			judged[f] = true
		}
	}
	var rest []string
	for _, p := range r.Change.Paths {
		if !judged[p] {
			rest = append(rest, p)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	return &catalog.Submission{Repo: r, Dir: RepositoryID, Name: RepositoryID, TaskPath: rest[0], Files: rest}
}

// login is a GitHub login (alphanumerics and hyphens, at most 39), or an
// App's bot account (`name[bot]`).
var login = regexp.MustCompile(`^@?[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?$`)

// ValidLogin says whether a pull request's author is a login at all: not
// empty, and not a placeholder Pipelines-as-Code left unsubstituted.
func ValidLogin(author string) bool { return login.MatchString(strings.TrimSpace(author)) }

// unknownAuthor is the fail-closed verdict on a pull request whose author
// is unknown: nobody can say the change is allowed.
func unknownAuthor(r *catalog.Repo, files []string) check.Finding {
	what := "empty"
	if strings.TrimSpace(r.Author) != "" {
		what = fmt.Sprintf("%q, not a GitHub login", r.Author)
	}
	return check.InFile(files[0], "the pull request's author is %s, so nobody can tell who may change %s: the owners check fails closed", what, list(files)).
		WithHelp("pass the author of the pull request itself as --author (Pipelines-as-Code >= 0.41: `{{ cel: has(body.pull_request) ? body.pull_request.user.login : (has(body.issue) ? body.issue.user.login : '') }}`, as .tekton/ does); the author of a push is not judged (--event push)")
}

// changedFiles are the changed paths that belong to a submission: inside
// its version directory, or its task's own files (OWNERS, README.md), as
// catalog.Change.Touched counts them.
func changedFiles(s *catalog.Submission) []string {
	taskDir := path.Join(s.Layout, s.Name)
	var out []string
	for _, p := range s.Repo.Change.Paths {
		if p == s.Dir || strings.HasPrefix(p, s.Dir+"/") || path.Dir(p) == taskDir {
			out = append(out, p)
		}
	}
	return out
}

// judgeRest groups the stand-in's files by the submission they would
// belong to (<layout>/<task>/<version>, or <layout>/<task> for task-level
// files) and judges each group; the rest needs a maintainer.
func judgeRest(s *catalog.Submission) []check.Finding {
	r := s.Repo
	groups := map[string][]string{}
	var dirs []string
	for _, p := range s.Files {
		dir := unitOf(p)
		if groups[dir] == nil {
			dirs = append(dirs, dir)
		}
		groups[dir] = append(groups[dir], p)
	}
	var out []check.Finding
	for _, dir := range dirs {
		files := groups[dir]
		parts := strings.Split(dir, "/")
		switch len(parts) {
		case 3:
			sub, err := r.Submission(dir)
			if err != nil {
				return append(out, check.InFile(files[0], "cannot judge who may change %s: %v", dir, err))
			}
			out = append(out, judge(sub, files)...)
		case 2:
			out = append(out, judge(&catalog.Submission{Repo: r, Layout: parts[0], Name: parts[1], Dir: dir}, files)...)
		default:
			out = append(out, outside(r, files))
		}
	}
	return out
}

// unitOf is the submission directory a path would belong to, "" for a
// path outside every submission.
func unitOf(p string) string {
	parts := strings.Split(p, "/")
	isLayout := false
	for _, l := range catalog.Layouts {
		isLayout = isLayout || parts[0] == l
	}
	switch {
	case !isLayout || len(parts) < 3:
		return ""
	case len(parts) == 3:
		return path.Join(parts[:2]...)
	default:
		return path.Join(parts[:3]...)
	}
}

// outside judges files that belong to no submission: maintainers only.
func outside(r *catalog.Repo, files []string) check.Finding {
	author := norm(r.Author)
	who := "no `--maintainers` list was given, so nobody is"
	if r.Maintainers != nil && len(r.Maintainers.Logins) > 0 {
		who = "the maintainers are " + strings.Join(r.Maintainers.Logins, ", ")
	}
	return check.InFile(files[0], "%s may not change %s: files outside every submission need a catalog maintainer, and %s", author, list(files), who).
		WithHelp("ask a catalog maintainer to make this change, and keep your PR to your own submissions (" +
			strings.Join(catalog.Layouts, "/, ") + "/<task>/<version>/)")
}

// judge reports, in one finding, the changed files of a submission the
// author may not change.
func judge(s *catalog.Submission, files []string) []check.Finding {
	if len(files) == 0 {
		return nil
	}
	r := s.Repo
	author := norm(r.Author)
	auth, err := authorityOf(s)
	if err != nil {
		return []check.Finding{check.InFile(files[0], "cannot read who owned %s at the merge base: %v", s.Dir, err).
			WithHelp("fetch enough history for the merge base (e.g. `git fetch --unshallow`), then validate again")}
	}
	if auth.approves(r.Maintainers, author) {
		return nil
	}
	co, err := r.CodeOwnersAt(r.Change.Base)
	if err != nil {
		return []check.Finding{check.InFile(files[0], "cannot read CODEOWNERS at the merge base: %v", err)}
	}
	var denied []string
	lines := map[*catalog.CodeOwnersRule]bool{}
	for _, f := range files {
		rule := co.OwnersOf(f)
		if rule != nil && anyNames(r.Maintainers, rule.Owners, author) {
			continue
		}
		denied = append(denied, f)
		if rule != nil {
			lines[rule] = true
		}
	}
	if len(denied) == 0 {
		return nil
	}
	at := denied[0]
	for _, f := range denied {
		if path.Base(f) == "OWNERS" { // who owns the Task: the change that matters most
			at = f
			break
		}
	}
	msg := fmt.Sprintf("%s may not change %s: %s; %s", author, list(denied), auth.describe(r.Maintainers, author), describeCodeOwners(co, lines, r.Maintainers))
	return []check.Finding{check.InFile(at, "%s", msg).WithHelp(auth.help(author, lines, r.Maintainers))}
}

// authority is who owns a submission: the OWNERS that applied to it at the
// merge base; for a Task new in this change, its new OWNERS.
type authority struct {
	lists   []*catalog.Owners
	isNew   bool   // the task had no file at the merge base
	base    string // short merge base, for messages
	taskDir string
}

func authorityOf(s *catalog.Submission) (*authority, error) {
	r := s.Repo
	taskDir := path.Join(s.Layout, s.Name)
	a := &authority{base: r.Change.Base, taskDir: taskDir}
	if len(a.base) > 12 {
		a.base = a.base[:12]
	}
	files, err := r.ListAt(r.Change.Base, taskDir+"/")
	if err != nil {
		return nil, err
	}
	candidates := []string{path.Join(s.Dir, "OWNERS"), path.Join(taskDir, "OWNERS")}
	if len(files) == 0 {
		// a new Task: its author writes the first OWNERS, which must name them
		a.isNew = true
		for _, c := range candidates {
			if data, err := manifest.ReadFile(r.Root, c, r.Limits.MaxFileBytes); err == nil {
				a.lists = append(a.lists, catalog.ParseOwners(c, data))
				break
			}
		}
		return a, a.expandAliases(r)
	}
	var paths []string
	for _, c := range candidates {
		if contains(files, c) {
			paths = []string{c}
			break
		}
	}
	if paths == nil { // a new version of a task whose versions each have OWNERS: all of them decide
		for _, f := range files {
			if path.Base(f) == "OWNERS" && path.Dir(path.Dir(f)) == taskDir {
				paths = append(paths, f)
			}
		}
	}
	for _, p := range paths {
		data, err := r.ShowAt(r.Change.Base, p)
		if err != nil {
			return nil, err
		}
		a.lists = append(a.lists, catalog.ParseOwners(p, data))
	}
	return a, a.expandAliases(r)
}

// expandAliases replaces Prow aliases in the owner lists by their members,
// as OWNERS_ALIASES had them at the merge base: a change cannot add its
// author to an alias for itself.
func (a *authority) expandAliases(r *catalog.Repo) error {
	aliases, err := r.AliasesAt(r.Change.Base)
	if err != nil {
		return err
	}
	for _, o := range a.lists {
		o.Approvers, o.Reviewers = aliases.Expand(o.Approvers), aliases.Expand(o.Reviewers)
	}
	return nil
}

func (a *authority) approves(m *catalog.Maintainers, author string) bool {
	for _, o := range a.lists {
		if anyNames(m, o.Approvers, author) {
			return true
		}
	}
	return false
}

func (a *authority) where() string {
	if a.isNew {
		return "(new in this change)"
	}
	return "at the merge base " + a.base
}

// describe says which owner lists were read and what they hold.
func (a *authority) describe(m *catalog.Maintainers, author string) string {
	if len(a.lists) == 0 {
		if a.isNew {
			return fmt.Sprintf("the new Task has no OWNERS (%s/OWNERS) naming them", a.taskDir)
		}
		return fmt.Sprintf("no OWNERS applied to %s at the merge base %s", a.taskDir, a.base)
	}
	var parts []string
	for _, o := range a.lists {
		var d string
		switch {
		case o.Empty:
			d = "is empty"
		case !o.Parsed:
			d = "is not in Prow format (`approvers:` / `reviewers:` lists), so it names nobody taskgate can match"
		case len(o.Approvers) == 0:
			d = "lists no approvers"
		default:
			d = "lists approvers " + strings.Join(o.Approvers, ", ")
		}
		if anyNames(m, o.Reviewers, author) {
			d += " (" + author + " is a reviewer there: reviewers review, approvers change a Task)"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", o.Path, a.where(), d))
	}
	return strings.Join(parts, "; ")
}

// help names who may make or approve the change.
func (a *authority) help(author string, lines map[*catalog.CodeOwnersRule]bool, m *catalog.Maintainers) string {
	if a.isNew {
		p := path.Join(a.taskDir, "OWNERS")
		if len(a.lists) > 0 {
			p = a.lists[0].Path
		}
		return fmt.Sprintf("the author of a new Task answers for it: add %s to `approvers:` in %s", author, p)
	}
	var who []string
	for _, o := range a.lists {
		who = append(who, o.Approvers...)
	}
	for rule := range lines {
		who = append(who, rule.Owners...)
	}
	if m != nil {
		who = append(who, m.Logins...)
	}
	who = dedupe(who)
	h := "nobody but a catalog maintainer may approve it"
	if len(who) > 0 {
		h = "who may make or approve this change: " + strings.Join(who, ", ")
	}
	owners := path.Join(a.taskDir, "OWNERS")
	if len(a.lists) == 1 {
		owners = a.lists[0].Path
	}
	return h + fmt.Sprintf("; to maintain this Task yourself, an approver first adds %s to `approvers:` in %s in a PR of their own", author, owners)
}

// describeCodeOwners says which CODEOWNERS lines covered the denied files.
func describeCodeOwners(co *catalog.CodeOwners, lines map[*catalog.CodeOwnersRule]bool, m *catalog.Maintainers) string {
	if co == nil {
		return "there is no CODEOWNERS"
	}
	if len(lines) == 0 {
		return co.Path + " has no line for it"
	}
	var rules []*catalog.CodeOwnersRule
	for r := range lines {
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].Line < rules[j].Line })
	var parts []string
	for _, r := range rules {
		d := fmt.Sprintf("%s line %d (`%s`) names %s", co.Path, r.Line, r.Pattern, strings.Join(r.Owners, " "))
		if len(r.Owners) == 0 {
			d = fmt.Sprintf("%s line %d (`%s`) names nobody", co.Path, r.Line, r.Pattern)
		}
		var unknown []string
		for _, o := range r.Owners {
			if strings.Contains(o, "/") && !knownTeam(m, o) {
				unknown = append(unknown, o)
			}
		}
		if len(unknown) > 0 {
			d += fmt.Sprintf(" (who is in %s is unknown: say it in a `--maintainers` file under `teams:`)", strings.Join(unknown, ", "))
		}
		parts = append(parts, d)
	}
	return strings.Join(parts, "; ")
}

// list names files, at most five.
func list(files []string) string {
	if len(files) <= 5 {
		return strings.Join(files, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(files[:5], ", "), len(files)-5)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range list {
		if k := norm(x); !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	return out
}

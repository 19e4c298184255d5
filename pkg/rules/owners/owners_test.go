package owners

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=t@t", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if content == "" { // "" deletes
			if err := os.RemoveAll(p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const task = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: %s\nspec:\n  steps:\n    - name: a\n      image: alpine\n      script: echo\n"

func taskYAML(name string) string { return strings.Replace(task, "%s", name, 1) }

// pr makes a repository holding base on main, then commits change on a
// branch (a "" value deletes the path): a pull request.
func pr(t *testing.T, base, change map[string]string) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, base)
	git(t, root, "init", "-q", "-b", "main")
	git(t, root, "add", "-A")
	git(t, root, "commit", "-qm", "base")
	git(t, root, "checkout", "-qb", "pr")
	write(t, root, change)
	git(t, root, "add", "-A")
	git(t, root, "commit", "-qm", "the change")
	return root
}

// validate runs owners/unauthorized as `validate --changed-from main
// --author AUTHOR` does: on every touched submission, then on the
// repository stand-in.
func validate(t *testing.T, root, author string, m *catalog.Maintainers) []check.Finding {
	t.Helper()
	r, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if r.Change, err = r.ChangedFrom("main"); err != nil {
		t.Fatal(err)
	}
	r.Author, r.Maintainers = author, m
	all, err := r.Discover()
	if err != nil {
		t.Fatal(err)
	}
	subs := r.Change.Touched(all)
	res := check.Run(subs, Checks, nil)
	if rest := Repository(r, subs); rest != nil {
		res.Submissions = append(res.Submissions, check.Run([]*catalog.Submission{rest}, Checks, nil).Submissions...)
	}
	return res.Findings()
}

var hello = map[string]string{
	"partners/hello/OWNERS":         "approvers:\n  - alice\nreviewers:\n  - mallory\n",
	"partners/hello/0.1/hello.yaml": taskYAML("hello"),
	"partners/hello/0.1/README.md":  "# hello\n",
}

func merged(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

var editHello = map[string]string{"partners/hello/0.1/hello.yaml": taskYAML("hello") + "  description: better\n"}

// one asserts a single finding at a file whose message holds every part.
func one(t *testing.T, fs []check.Finding, file string, parts ...string) check.Finding {
	t.Helper()
	if len(fs) != 1 {
		t.Fatalf("want 1 finding at %s, got %d: %+v", file, len(fs), fs)
	}
	f := fs[0]
	if f.Rule != ID || f.Severity != check.Error || f.File != file || f.Line != 1 || f.Help == "" {
		t.Errorf("finding: %+v", f)
	}
	for _, p := range parts {
		if !strings.Contains(f.Message+" | "+f.Help, p) {
			t.Errorf("%q missing from\n%s\nhelp: %s", p, f.Message, f.Help)
		}
	}
	return f
}

func none(t *testing.T, fs []check.Finding) {
	t.Helper()
	if len(fs) != 0 {
		t.Errorf("want no finding, got %+v", fs)
	}
}

func TestAuthorInOwners(t *testing.T) {
	root := pr(t, hello, editHello)
	none(t, validate(t, root, "alice", nil))
	none(t, validate(t, root, "@ALICE", nil)) // logins compare case-insensitively, with or without @
	none(t, validate(t, root, "", nil))       // no --author: the rule does not apply
}

func TestAuthorNotInOwners(t *testing.T) {
	root := pr(t, hello, editHello)
	one(t, validate(t, root, "eve", nil), "partners/hello/0.1/hello.yaml",
		"eve may not change partners/hello/0.1/hello.yaml",
		"partners/hello/OWNERS at the merge base", "lists approvers alice",
		"there is no CODEOWNERS", "who may make or approve this change: alice")
	// a reviewer is not an approver (Prow: reviewers /lgtm, approvers /approve)
	one(t, validate(t, root, "mallory", nil), "partners/hello/0.1/hello.yaml", "mallory is a reviewer there")
}

func TestCodeOwners(t *testing.T) {
	base := merged(hello, map[string]string{
		".github/CODEOWNERS": "* @maint\n/partners/hello/ @carol @org/hello-team\n",
	})
	root := pr(t, base, editHello)
	none(t, validate(t, root, "carol", nil))
	none(t, validate(t, root, "Carol", nil))
	// a team matches only when --maintainers says who is in it
	one(t, validate(t, root, "dave", nil), "partners/hello/0.1/hello.yaml",
		".github/CODEOWNERS line 2 (`/partners/hello/`) names @carol @org/hello-team",
		"who is in @org/hello-team is unknown")
	none(t, validate(t, root, "dave", &catalog.Maintainers{Teams: map[string][]string{"org/hello-team": {"Dave"}}}))
	one(t, validate(t, root, "dave", &catalog.Maintainers{Teams: map[string][]string{"org/other": {"dave"}}}), "partners/hello/0.1/hello.yaml")
}

func TestOwnersChangeNeedsAnExistingOwner(t *testing.T) {
	takeover := map[string]string{"partners/hello/OWNERS": "approvers:\n  - alice\n  - eve\n"}
	root := pr(t, hello, merged(takeover, editHello))
	// the OWNERS at the merge base decide, not the one the PR brings
	one(t, validate(t, root, "eve", nil), "partners/hello/OWNERS",
		"eve may not change partners/hello/0.1/hello.yaml, partners/hello/OWNERS", "at the merge base")
	none(t, validate(t, pr(t, hello, takeover), "alice", nil))
}

func TestTwoPartnersNeedBoth(t *testing.T) {
	base := merged(hello, map[string]string{
		"partners/bye/OWNERS":       "approvers: [bob]\n",
		"partners/bye/0.1/bye.yaml": taskYAML("bye"),
	})
	root := pr(t, base, merged(editHello, map[string]string{"partners/bye/0.1/bye.yaml": taskYAML("bye") + "  description: x\n"}))
	one(t, validate(t, root, "alice", nil), "partners/bye/0.1/bye.yaml", "alice may not change partners/bye/0.1/bye.yaml", "partners/bye/OWNERS", "bob")
	one(t, validate(t, root, "bob", nil), "partners/hello/0.1/hello.yaml", "bob may not change partners/hello")
	if fs := validate(t, root, "eve", nil); len(fs) != 2 {
		t.Errorf("a stranger gets one finding per submission, got %+v", fs)
	}
	none(t, validate(t, root, "root", &catalog.Maintainers{Logins: []string{"root"}})) // maintainers change any submission
}

func TestOutsideSubmissionsNeedsAMaintainer(t *testing.T) {
	base := merged(hello, map[string]string{"pipelines/build/build.yaml": "kind: Pipeline\n"})
	root := pr(t, base, merged(editHello, map[string]string{"pipelines/build/build.yaml": "kind: Pipeline # changed\n", "partners/README.md": "x\n"}))
	one(t, validate(t, root, "alice", nil), "partners/README.md",
		"alice may not change partners/README.md, pipelines/build/build.yaml", "no `--maintainers` list was given")
	one(t, validate(t, root, "alice", &catalog.Maintainers{Logins: []string{"bob"}}), "partners/README.md", "the maintainers are bob")
	none(t, validate(t, root, "alice", &catalog.Maintainers{Logins: []string{"@Alice"}}))
	none(t, validate(t, root, "alice", &catalog.Maintainers{Logins: []string{"org/admins"}, Teams: map[string][]string{"@org/admins": {"alice"}}}))

	// a PR touching only pipelines/ is judged too
	only := pr(t, base, map[string]string{"pipelines/build/build.yaml": "kind: Pipeline # changed\n"})
	one(t, validate(t, only, "alice", nil), "pipelines/build/build.yaml")
}

func TestNewSubmission(t *testing.T) {
	add := map[string]string{
		"partners/new/OWNERS":       "approvers: [Carol]\n",
		"partners/new/0.1/new.yaml": taskYAML("new"),
	}
	none(t, validate(t, pr(t, hello, add), "carol", nil))
	one(t, validate(t, pr(t, hello, add), "dave", nil), "partners/new/OWNERS",
		"partners/new/OWNERS (new in this change) lists approvers Carol", "add dave to `approvers:` in partners/new/OWNERS")
	noOwners := pr(t, hello, map[string]string{"partners/new/0.1/new.yaml": taskYAML("new")})
	one(t, validate(t, noOwners, "carol", nil), "partners/new/0.1/new.yaml", "the new Task has no OWNERS (partners/new/OWNERS) naming them")

	// a new version of someone else's Task: the Task's OWNERS decide, not the new version's own
	v2 := map[string]string{"partners/hello/0.2/OWNERS": "approvers: [eve]\n", "partners/hello/0.2/hello.yaml": taskYAML("hello")}
	one(t, validate(t, pr(t, hello, v2), "eve", nil), "partners/hello/0.2/OWNERS", "partners/hello/OWNERS at the merge base")
	none(t, validate(t, pr(t, hello, v2), "alice", nil))
	// versions that each have OWNERS: a new version needs an owner of one of them
	perVersion := map[string]string{"partners/x/0.1/OWNERS": "approvers: [ann]\n", "partners/x/0.1/x.yaml": taskYAML("x")}
	x2 := map[string]string{"partners/x/0.2/OWNERS": "approvers: [eve]\n", "partners/x/0.2/x.yaml": taskYAML("x")}
	one(t, validate(t, pr(t, perVersion, x2), "eve", nil), "partners/x/0.2/OWNERS", "partners/x/0.1/OWNERS at the merge base", "lists approvers ann")
	none(t, validate(t, pr(t, perVersion, x2), "ann", nil))
}

func TestDeletedVersionAndSkipAnnotation(t *testing.T) {
	base := merged(hello, map[string]string{"partners/hello/0.2/hello.yaml": taskYAML("hello")})
	del := map[string]string{"partners/hello/0.1": ""}
	one(t, validate(t, pr(t, base, del), "eve", nil), "partners/hello/0.1/README.md", "eve may not change partners/hello/0.1/README.md, partners/hello/0.1/hello.yaml")
	none(t, validate(t, pr(t, base, del), "alice", nil))

	// an author cannot exempt themselves with a skip annotation
	skip := strings.Replace(taskYAML("hello"), "metadata:\n", "metadata:\n  annotations:\n    taskgate.dev/skip: \"owners/unauthorized # mine now\"\n", 1)
	root := pr(t, hello, map[string]string{"partners/hello/0.1/hello.yaml": skip})
	one(t, validate(t, root, "eve", nil), "partners/hello/0.1/hello.yaml", "eve may not change partners/hello/0.1/hello.yaml")
	none(t, validate(t, root, "alice", nil))
}

func TestBadAndFixed(t *testing.T) {
	for _, tc := range []struct {
		owners string
		want   int
	}{{Unauthorized.Bad, 1}, {Unauthorized.Fixed, 0}} {
		base := merged(hello, map[string]string{"partners/hello/OWNERS": tc.owners})
		if fs := validate(t, pr(t, base, editHello), "mallory", nil); len(fs) != tc.want {
			t.Errorf("OWNERS\n%s: want %d finding(s), got %+v", tc.owners, tc.want, fs)
		}
	}
}

func TestLoadMaintainers(t *testing.T) {
	root := pr(t, merged(hello, map[string]string{"MAINTAINERS.yaml": "maintainers: [bob]\nteams:\n  org/a: [carol]\n"}),
		map[string]string{"MAINTAINERS.yaml": "maintainers: [bob, eve]\n"})
	r, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadMaintainers(r, "bob, @Carol")
	if err != nil || strings.Join(m.Logins, ",") != "bob,@Carol" {
		t.Errorf("list: %+v %v", m, err)
	}
	for _, bad := range []string{"org/team", " , ", filepath.Join(t.TempDir(), "missing.yaml")} {
		if _, err := LoadMaintainers(r, bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	file := filepath.Join(t.TempDir(), "m.yaml")
	write(t, filepath.Dir(file), map[string]string{"m.yaml": "maintainers: [bob]\nteams: {org/a: [carol]}\n"})
	if m, err := LoadMaintainers(r, file); err != nil || m.Logins[0] != "bob" || m.Teams["org/a"][0] != "carol" {
		t.Errorf("file: %+v %v", m, err)
	}
	write(t, filepath.Dir(file), map[string]string{"m.yaml": "maintainer: [bob]\n"})
	if _, err := LoadMaintainers(r, file); err == nil || !strings.Contains(err.Error(), "maintainer not found") {
		t.Errorf("a misspelt key must be refused, got %v", err)
	}
	// inside the repository, a PR's own edit of the file does not count
	if r.Change, err = r.ChangedFrom("main"); err != nil {
		t.Fatal(err)
	}
	m, err = LoadMaintainers(r, filepath.Join(root, "MAINTAINERS.yaml"))
	if err != nil || strings.Join(m.Logins, ",") != "bob" {
		t.Errorf("file in the repository must be read at the merge base: %+v %v", m, err)
	}
	write(t, root, map[string]string{"NEW.yaml": "maintainers: [eve]\n"})
	if _, err := LoadMaintainers(r, filepath.Join(root, "NEW.yaml")); err == nil || !strings.Contains(err.Error(), "merge base") {
		t.Errorf("a maintainers file the PR adds must be refused, got %v", err)
	}
}

// Prow's OWNERS_ALIASES: an approver that names an alias stands for its
// members, as the aliases were at the merge base.
func TestOwnersAliases(t *testing.T) {
	base := merged(hello, map[string]string{
		"OWNERS_ALIASES":        "aliases:\n  hello-approvers: [carol]\n",
		"partners/hello/OWNERS": "approvers: [hello-approvers]\n",
	})
	none(t, validate(t, pr(t, base, editHello), "carol", nil))
	one(t, validate(t, pr(t, base, editHello), "eve", nil), "partners/hello/0.1/hello.yaml", "lists approvers carol")
	// a PR that adds its author to the alias is judged by the aliases already merged
	selfAdd := merged(editHello, map[string]string{"OWNERS_ALIASES": "aliases:\n  hello-approvers: [carol, eve]\n"})
	fs := validate(t, pr(t, base, selfAdd), "eve", nil)
	if len(fs) != 2 || !strings.Contains(fs[0].Message+fs[1].Message, "eve may not change partners/hello/0.1/hello.yaml") {
		t.Errorf("eve adding herself to an alias: %v", fs)
	}
	// an OWNERS_ALIASES that cannot be read at the merge base is a finding, never an approval
	broken := merged(base, map[string]string{"OWNERS_ALIASES": "aliasses:\n  hello-approvers: [eve]\n"})
	one(t, validate(t, pr(t, broken, editHello), "eve", nil), "partners/hello/0.1/hello.yaml", "OWNERS_ALIASES")
}

package catalog

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"taskgate.dev/taskgate/internal/testrepo"
	"testing"
)

const taskYAML = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: %s\nspec:\n  steps:\n    - image: alpine\n      script: echo\n"

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	testrepo.Write(t, root, files)
}

func task(name string) string { return strings.ReplaceAll(taskYAML, "%s", name) }

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write(t, root, map[string]string{
		"partners/README.md":                       "how to submit",
		"partners/hello/OWNERS":                    "approvers: [alice]\n",
		"partners/hello/0.1/hello.yaml":            task("hello"),
		"partners/hello/0.1/README.md":             "# hello",
		"partners/hello/0.2/hello.yaml":            task("hello"),
		"partners/misnamed/0.1/other.yaml":         task("misnamed"),
		"partners/empty/0.1/notes.txt":             "x",
		"task/team-task/0.3/team-task.yaml":        task("team-task"),
		"task/team-task/0.3/OWNERS":                "RHTAP Build team\n",
		"pipelines/docker-build/docker-build.yaml": "kind: Pipeline\n",
	})
	write(t, outside, map[string]string{"evil.yaml": task("evil")})
	if err := os.MkdirAll(filepath.Join(root, "partners/evil/0.1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "evil.yaml"), filepath.Join(root, "partners/evil/0.1/evil.yaml")); err != nil {
		t.Fatal(err)
	}
	repo, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := repo.Discover()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	byID := map[string]*Submission{}
	for _, s := range subs {
		ids = append(ids, s.ID())
		byID[s.ID()] = s
	}
	want := []string{"partners/empty/0.1", "partners/evil/0.1", "partners/hello/0.1", "partners/hello/0.2", "partners/misnamed/0.1", "task/team-task/0.3"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("discovered %v, want %v", ids, want)
	}

	hello := byID["partners/hello/0.1"]
	if hello.Manifest == nil || hello.Manifest.Task == nil || hello.Readme != "partners/hello/0.1/README.md" ||
		hello.Owners == nil || hello.Owners.Path != "partners/hello/OWNERS" || !reflect.DeepEqual(hello.Owners.Approvers, []string{"alice"}) {
		t.Errorf("hello/0.1: %+v owners %+v", hello, hello.Owners)
	}
	if byID["partners/hello/0.2"].Readme != "" {
		t.Error("0.2 has no README of its own nor at the task level")
	}
	if m := byID["partners/misnamed/0.1"].Manifest; m == nil || m.Path != "partners/misnamed/0.1/other.yaml" {
		t.Errorf("the only YAML of a directory is loaded even when misnamed: %+v", m)
	}
	if byID["partners/empty/0.1"].Manifest != nil {
		t.Error("no YAML, no manifest")
	}
	if o := byID["task/team-task/0.3"].Owners; o == nil || o.Parsed || o.Empty {
		t.Errorf("plain-text OWNERS is kept as present but unparsed: %+v", o)
	}
	evil := byID["partners/evil/0.1"]
	if evil.Manifest != nil || len(evil.Problems) != 1 || !strings.Contains(evil.Problems[0].Message, "leaves the repository") {
		t.Errorf("a symlink out of the repository must be refused unread: manifest %+v problems %+v", evil.Manifest, evil.Problems)
	}
}

func TestCodeOwners(t *testing.T) {
	co := ParseCodeOwners("CODEOWNERS", []byte(`# comment
*                     @org/maintainers
/partners/hello/      @alice @org/hello-team
partners/**/OWNERS    @org/owners-admins
*.md                  @docs # trailing comment
`))
	for _, tc := range []struct {
		path  string
		owner string
	}{
		{"pipelines/x.yaml", "@org/maintainers"},
		{"partners/hello/0.1/hello.yaml", "@alice"},
		{"partners/hello/OWNERS", "@org/owners-admins"},
		{"partners/hello/0.1/README.md", "@docs"},
		{"partners/other/0.1/other.yaml", "@org/maintainers"},
	} {
		r := co.OwnersOf(tc.path)
		if r == nil || r.Owners[0] != tc.owner {
			t.Errorf("%s: got %+v, want %s", tc.path, r, tc.owner)
		}
	}
	var none *CodeOwners
	if none.OwnersOf("x") != nil {
		t.Error("no CODEOWNERS, no owner")
	}
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=t@t", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestChangedFrom(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"partners/a/OWNERS":     "approvers: [a]\n",
		"partners/a/0.1/a.yaml": task("a"),
		"partners/b/0.1/b.yaml": task("b"),
		"partners/c/0.1/c.yaml": task("c"),
		"partners/d/0.1/d.yaml": task("d"),
		"README.md":             "catalog",
	})
	git(t, root, "init", "-q", "-b", "main")
	git(t, root, "add", "-A")
	git(t, root, "commit", "-qm", "base")
	git(t, root, "checkout", "-qb", "pr")
	write(t, root, map[string]string{"partners/a/OWNERS": "approvers: [a, z]\n", "partners/b/0.1/b.yaml": task("b") + "# edit\n"})
	git(t, root, "commit", "-qam", "pr change")
	write(t, root, map[string]string{"partners/e/0.1/e.yaml": task("e")}) // untracked, not yet committed
	if err := os.Remove(filepath.Join(root, "partners/c/0.1/c.yaml")); err != nil {
		t.Fatal(err)
	}

	repo, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	change, err := repo.ChangedFrom("main")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"partners/a/OWNERS", "partners/b/0.1/b.yaml", "partners/c/0.1/c.yaml", "partners/e/0.1/e.yaml"}; !reflect.DeepEqual(change.Paths, want) {
		t.Errorf("paths %v, want %v", change.Paths, want)
	}
	if !reflect.DeepEqual(change.Deleted, []string{"partners/c/0.1/c.yaml"}) {
		t.Errorf("deleted %v", change.Deleted)
	}
	subs, _ := repo.Discover()
	var ids []string
	for _, s := range change.Touched(subs) {
		ids = append(ids, s.ID())
	}
	// c/0.1 still exists as a directory (its file was deleted): it is touched
	if want := []string{"partners/a/0.1", "partners/b/0.1", "partners/c/0.1", "partners/e/0.1"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("touched %v, want %v", ids, want)
	}

	if _, err := repo.ChangedFrom("no-such-branch"); err == nil || !strings.Contains(err.Error(), "no-such-branch") {
		t.Errorf("unknown revision: %v", err)
	}
	if _, err := repo.ChangedFrom("--output=/tmp/x"); err == nil {
		t.Error("an option must not pass as a revision")
	}
}

// Symlinks where task or version directories belong are refused
// submissions, never followed; a link to a file inside the repository
// (a shared OWNERS) is read under the loader's rules.
func TestDiscoverRefusesDirectoryLinks(t *testing.T) {
	root := testrepo.New(t, map[string]string{
		"partners/hello/0.1/hello.yaml": task("hello"),
		"shared/OWNERS":                 "approvers: [alice]\n",
	})
	for link, target := range map[string]string{
		"partners/hello/OWNERS": "../../shared/OWNERS", // a file inside: fine
		"partners/hello/0.2":    "0.1",                 // a directory inside: refused
		"partners/alias":        "hello",
		"partners/gone/0.1":     "/nonexistent",
		"partners/etc":          "/etc",
		"task":                  "partners",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, link)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := r.Discover()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range subs {
		d := s.Dir
		if s.Refused {
			d += " refused"
			if len(s.Problems) != 1 || !strings.Contains(s.Problems[0].Message, "is a symlink") || s.Manifest != nil || len(s.Files) != 0 {
				t.Errorf("%s: %+v", s.Dir, s)
			}
		}
		got = append(got, d)
	}
	want := []string{"partners/alias refused", "partners/etc refused", "partners/gone/0.1 refused", "partners/hello/0.1", "partners/hello/0.2 refused", "task refused"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if h := subs[3]; h.Owners == nil || len(h.Owners.Approvers) != 1 || len(h.Problems) != 0 {
		t.Errorf("a linked OWNERS inside the repository is read: %+v %+v", h.Owners, h.Problems)
	}
}

// A stray file or directory around a Task is not a submission of its own:
// one layout problem on the stray path, with the task's newest version,
// and a change to it touches that version.
func TestStraysAreNotSubmissions(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"partners/foo/OWNERS":               "approvers: [alice]\n",
		"partners/foo/README.md":            "# foo\n",
		"partners/foo/0.9/foo.yaml":         task("foo"),
		"partners/foo/0.9/notes/x.yaml":     "a: b\n",
		"partners/foo/0.9/tests/run.yaml":   "kind: Pipeline\n",
		"partners/foo/0.9/samples/use.yaml": "kind: PipelineRun\n",
		"partners/foo/0.10/foo.yaml":        task("foo"),
		"partners/foo/tmp/scratch.txt":      "x",
		"partners/foo/stray.txt":            "x",
		"partners/foo/v1/foo.yaml":          task("foo"), // a version misnamed: still judged (layout/path names it)
		"partners/bar/OWNERS":               "approvers: [bob]\n",
		"partners/bar/bar.yaml":             task("bar"),      // the Task outside any version: judged where it is
		"partners/baz/tmp/notes.txt":        "no Task at all", // no version: the directory stays loud
	})
	repo, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := repo.Discover()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]*Submission{}
	var ids []string
	for _, s := range subs {
		ids = append(ids, s.ID())
		byID[s.ID()] = s
	}
	if want := []string{"partners/bar", "partners/baz/tmp", "partners/foo/0.10", "partners/foo/0.9", "partners/foo/v1"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("discovered %d: %v, want %v", len(ids), ids, want)
	}
	problems := func(s *Submission) (out []string) {
		for _, p := range s.Problems {
			if p.Rule == RuleLayout {
				out = append(out, p.Path)
			}
		}
		return out
	}
	if got := problems(byID["partners/foo/0.9"]); !reflect.DeepEqual(got, []string{"partners/foo/0.9/notes"}) {
		t.Errorf("0.9: layout problems %v, want its notes/ only (tests/ and samples/ belong)", got)
	}
	if got := problems(byID["partners/foo/0.10"]); !reflect.DeepEqual(got, []string{"partners/foo/stray.txt", "partners/foo/tmp"}) {
		t.Errorf("0.10 (the newest): layout problems %v, want the task directory's strays", got)
	}
	if got := problems(byID["partners/foo/v1"]); len(got) != 0 {
		t.Errorf("v1: %v", got)
	}
	for _, f := range byID["partners/foo/0.9"].Files {
		if strings.Contains(f, "/notes/") {
			t.Errorf("a stray directory's files are not the submission's: %s", f)
		}
	}
	if m := byID["partners/bar"].Manifest; m == nil || m.Task == nil || byID["partners/bar"].Version != "" {
		t.Errorf("partners/bar/bar.yaml is judged where it is: %+v", byID["partners/bar"])
	}
	change := &Change{Paths: []string{"partners/foo/tmp/scratch.txt"}}
	if got := change.Touched(subs); len(got) != 1 || got[0].ID() != "partners/foo/0.10" {
		t.Errorf("a change to a stray touches %v, want partners/foo/0.10", got)
	}
}

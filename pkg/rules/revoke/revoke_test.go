package revoke

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"taskgate.dev/taskgate/internal/testrepo"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// corpus is shared/corpus/build-definitions, seen from this package
// (the -tags corpus sweep).
func corpus(t *testing.T) string { return testrepo.Corpus(t, "build-definitions") }

// testdata is testdata/build-definitions, hand-made in its shapes.
func testdata(t *testing.T) string { return testrepo.Testdata(t, "build-definitions") }

// repoWith builds a git repository from files (repo path → content, or
// "testdata:<path>" or "corpus:<path>" to copy a file of either) and
// commits them.
func repoWith(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		for prefix, dir := range map[string]func(*testing.T) string{"corpus:": corpus, "testdata:": testdata} {
			if src, ok := strings.CutPrefix(content, prefix); ok {
				data, err := os.ReadFile(filepath.Join(dir(t), src))
				if err != nil {
					t.Fatal(err)
				}
				content = string(data)
			}
		}
		write(t, root, rel, content)
	}
	git(t, root, "init", "-q")
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "base")
	return root
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func git(t *testing.T, root string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", root, "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// stillReferenced runs the rule the way validate --changed-from does.
func stillReferenced(t *testing.T, root string) []check.Finding {
	t.Helper()
	repo, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	change, err := repo.ChangedFrom("HEAD")
	if err != nil {
		t.Fatal(err)
	}
	deleted, err := Deleted(repo, change)
	if err != nil {
		t.Fatal(err)
	}
	return check.Run(deleted, []*check.Check{StillReferenced}, nil).Findings()
}

func places(fs []check.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column))
	}
	return out
}

func TestStillReferencedBadAndFixed(t *testing.T) {
	task := func(v string) string {
		return "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: hello\n  labels:\n    app.kubernetes.io/version: \"" + v + "\"\nspec:\n  steps: [{name: s, image: x, script: echo}]\n"
	}
	for _, tc := range []struct {
		name, pipeline string
		want           int
	}{{"bad", StillReferenced.Bad, 1}, {"fixed", StillReferenced.Fixed, 0}} {
		root := repoWith(t, map[string]string{
			"partners/hello/0.1/hello.yaml": task("0.1"),
			"partners/hello/0.2/hello.yaml": task("0.2"),
			"pipelines/build.yaml":          tc.pipeline,
		})
		git(t, root, "rm", "-r", "-q", "partners/hello/0.1")
		if fs := stillReferenced(t, root); len(fs) != tc.want {
			t.Errorf("%s: %d finding(s), want %d: %v", tc.name, len(fs), tc.want, fs)
		}
	}
}

func TestReferenceForms(t *testing.T) {
	files := map[string]string{
		// bundles resolver, version stream tag
		"pipelines/a.yaml": `apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: a}
spec:
  tasks:
    - name: x
      taskRef:
        resolver: bundles
        params:
          - name: bundle
            value: quay.io/org/catalog/task-hello:0.1-0123abc@sha256:0000000000000000000000000000000000000000000000000000000000000000
          - name: name
            value: hello
          - name: kind
            value: task
    - name: y # another version: no finding
      taskRef:
        resolver: bundles
        params:
          - {name: bundle, value: "quay.io/org/catalog/task-hello:0.10"}
          - {name: name, value: hello}
    - name: z # legacy v1beta1 bundle field
      taskRef:
        bundle: quay.io/org/catalog/task-hello:0.1
        name: hello
`,
		// a one-line pin
		"external-task/other/0.1/other.yaml": "task_bundle: quay.io/org/catalog/task-hello:0.1.3@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
		// a kustomize patch replacing a whole taskRef, and a name-only patch
		"pipelines/p/patch.yaml": `- op: replace
  path: /spec/tasks/3/taskRef
  value:
    name: hello
    version: "0.1"
- op: replace
  path: /spec/tasks/1/taskRef/name
  value: hello
`,
		// a git resolver ref into another repository: not ours
		"pipelines/b.yaml": `spec:
  tasks:
    - taskRef:
        resolver: git
        params:
          - {name: url, value: "https://github.com/elsewhere/tasks.git"}
          - {name: pathInRepo, value: partners/hello/0.1/hello.yaml}
`,
	}
	root := t.TempDir()
	for rel, c := range files {
		write(t, root, rel, c)
	}
	git(t, root, "init", "-q")
	git(t, root, "remote", "add", "origin", "git@github.com:example/catalog.git")

	refs, err := References(root, []Target{{Layout: "partners", Name: "hello", Version: "0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range refs {
		got = append(got, r.String())
	}
	want := []string{
		"external-task/other/0.1/other.yaml:1:14: task_bundle pin quay.io/org/catalog/task-hello:0.1.3@sha256:0000000000000000000000000000000000000000000000000000000000000000",
		"pipelines/a.yaml:11:20: bundle quay.io/org/catalog/task-hello:0.1-0123abc@sha256:0000000000000000000000000000000000000000000000000000000000000000",
		"pipelines/a.yaml:24:17: bundle quay.io/org/catalog/task-hello:0.1",
		`pipelines/p/patch.yaml:4:11: taskRef {name: hello, version: "0.1"}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("references:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// when the whole Task goes, versionless refs (StepAction-style `ref`,
	// name-only taskRefs) count too; a bundle tagged with another version
	// (task-hello:0.10) still does not: that bundle stays published
	write(t, root, "task/s/0.1/s.yaml", "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: s}\nspec:\n  steps:\n    - ref:\n        name: hello\n")
	refs, err = References(root, []Target{{Layout: "partners", Name: "hello", Version: "0.1", Last: true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 5 || refs[len(refs)-1].String() != "task/s/0.1/s.yaml:7:15: taskRef {name: hello} (no version; every version is going away)" {
		t.Errorf("with the whole Task gone: %v", refs)
	}
}

func TestExpiredBadFixedAndUnparsable(t *testing.T) {
	defer func(old func() time.Time) { Now = old }(Now)
	Now = func() time.Time { return time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) }
	run := func(src string) []check.Finding {
		return check.Apply(Expired, &catalog.Submission{Name: "hello", Version: "0.1", Manifest: manifest.Parse("t.yaml", []byte(src), manifest.DefaultLimits)})
	}
	if fs := run(Expired.Bad); len(fs) != 1 || !strings.Contains(fs[0].Message, "expired on 2024-06-01") {
		t.Errorf("Bad: %v", fs)
	}
	if fs := run(Expired.Fixed); len(fs) != 0 {
		t.Errorf("Fixed: %v", fs)
	}
	fs := run(strings.Replace(Expired.Bad, `"2024-06-01T00:00:00Z"`, `"June 2024"`, 1))
	if len(fs) != 1 || fs[0].Line != 6 || !strings.Contains(fs[0].Message, "not an RFC 3339 timestamp") {
		t.Errorf("unparsable: %v", fs)
	}
}

// Deleting versions the pipelines still run: a taskRef {name, version}
// and a test pipeline's git resolver path are errors; a version moved to
// another repository (a one-line pin) takes its references along.
func TestStillReferencedOnTestdata(t *testing.T) {
	root := repoWith(t, map[string]string{
		"pipelines/docker-build/docker-build.yaml":     "testdata:pipelines/docker-build/docker-build.yaml",
		"pipelines/template-build/template-build.yaml": "testdata:pipelines/template-build/template-build.yaml",
		"task/clair-scan/0.3/clair-scan.yaml":          "testdata:task/clair-scan/0.3/clair-scan.yaml",
		"task/git-clone/0.1/git-clone.yaml":            "testdata:task/git-clone/0.2/git-clone.yaml",
		"task/git-clone/0.2/git-clone.yaml":            "testdata:task/git-clone/0.2/git-clone.yaml",
		"task/git-clone/0.2/tests/test-git-clone.yaml": `apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: test-git-clone}
spec:
  tasks:
    - name: clone
      taskRef:
        resolver: git
        params:
          - {name: url, value: https://github.com/acme/build-definitions}
          - {name: revision, value: main}
          - {name: pathInRepo, value: task/git-clone/0.1/git-clone.yaml}
`,
		"task/buildah/0.10/buildah.yaml":          "testdata:task/buildah/0.10/buildah.yaml",
		"external-task/buildah/0.10/buildah.yaml": "task_bundle: quay.io/konflux-ci/tekton-catalog/task-buildah:0.10@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
	})
	for _, dir := range []string{"task/clair-scan/0.3", "task/git-clone/0.1", "task/buildah/0.10"} {
		git(t, root, "rm", "-r", "-q", dir)
	}
	fs := stillReferenced(t, root)
	want := []string{
		"pipelines/docker-build/docker-build.yaml:104:21",    // taskRef {name: clair-scan, version: "0.3"}
		"task/git-clone/0.2/tests/test-git-clone.yaml:12:39", // pathInRepo
	}
	if got := places(fs); !slices.Equal(got, want) {
		t.Fatalf("findings at %v, want %v\n%v", got, want, fs)
	}
	for _, f := range fs {
		if f.Rule != StillReferenced.ID || f.Severity != check.Error || f.Help == "" {
			t.Errorf("finding not actionable: %+v", f)
		}
	}
	if m := fs[0].Message; !strings.Contains(m, `taskRef {name: clair-scan, version: "0.3"}`) || !strings.Contains(m, "task/clair-scan/0.3") {
		t.Errorf("message: %s", m)
	}
	if h := fs[1].Help; !strings.Contains(h, "(remaining: 0.2)") {
		t.Errorf("help should name the version that stays: %s", h)
	}
	if !strings.Contains(fs[1].Message, "git resolver pathInRepo task/git-clone/0.1/git-clone.yaml") {
		t.Errorf("message: %s", fs[1].Message)
	}
}

func TestExpiredOnTestdata(t *testing.T) {
	dir := testdata(t)
	defer func(old func() time.Time) { Now = old }(Now)
	Now = func() time.Time { return time.Date(2025, 1, 20, 12, 0, 0, 0, time.UTC) }
	for rel, want := range map[string]string{
		"archived-tasks/sanity-check/0.1/sanity-check.yaml":   "warning:8:44:sanity-check 0.1 expires in 11 day(s), on 2025-01-31: sanity-check 0.1 is deprecated and will be removed on 2025-01-31. Please use deprecated-image-check instead.",
		"archived-tasks/clair-scan/0.2/clair-scan.yaml":       "error:6:44:clair-scan 0.2 expired on 2024-06-01 (233 day(s) ago)",
		"archived-tasks/inspect-image/0.1/inspect-image.yaml": "", // in 26 days: not yet said
		"task/clair-scan/0.3/clair-scan.yaml":                 "", // no expiry annotation
	} {
		parts := strings.Split(rel, "/")
		s := &catalog.Submission{Name: parts[1], Version: parts[2], Manifest: manifest.Load(dir, rel, manifest.DefaultLimits)}
		fs := check.Apply(Expired, s)
		got := ""
		if len(fs) == 1 {
			if fs[0].Severity == 0 { // the check's own, as the driver fills in
				fs[0].Severity = Expired.Severity
			}
			got = fmt.Sprintf("%s:%d:%d:%s", fs[0].Severity, fs[0].Line, fs[0].Column, fs[0].Message)
		}
		if len(fs) > 1 || !strings.HasPrefix(got, want) || (want == "") != (got == "") {
			t.Errorf("%s: got %q (%d findings), want %q", rel, got, len(fs), want)
		}
	}
}

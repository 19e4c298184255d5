package revoke

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"taskgate.dev/taskgate/internal/testrepo"
	"testing"
	"time"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// corpus is shared/corpus/build-definitions, seen from this package.
func corpus(t *testing.T) string { return testrepo.Corpus(t, "build-definitions") }

// repoWith builds a git repository from files (repo path → content, or
// "corpus:<path>" to copy a corpus file) and commits them.
func repoWith(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		if src, ok := strings.CutPrefix(content, "corpus:"); ok {
			data, err := os.ReadFile(filepath.Join(corpus(t), src))
			if err != nil {
				t.Fatal(err)
			}
			content = string(data)
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

func TestStillReferencedOnCorpus(t *testing.T) {
	root := repoWith(t, map[string]string{
		"pipelines/docker-build/docker-build.yaml":                                      "corpus:pipelines/docker-build/docker-build.yaml",
		"pipelines/template-build/template-build.yaml":                                  "corpus:pipelines/template-build/template-build.yaml",
		"task/ecosystem-cert-preflight-checks/0.2/ecosystem-cert-preflight-checks.yaml": "corpus:task/ecosystem-cert-preflight-checks/0.2/ecosystem-cert-preflight-checks.yaml",
		// referenced by the test pipeline through the git resolver (0.1 is
		// the 0.2 manifest under an old version, for this test)
		"task/package-operator-package/0.1/tests/test-package-operator-package-happy-path.yaml": "corpus:task/package-operator-package/0.1/tests/test-package-operator-package-happy-path.yaml",
		"task/git-clone/0.1/git-clone.yaml":                                                     "corpus:task/git-clone/0.2/git-clone.yaml",
		"task/git-clone/0.2/git-clone.yaml":                                                     "corpus:task/git-clone/0.2/git-clone.yaml",
		// moved to another repository: the pin takes over the references
		"task/buildah/0.10/buildah.yaml":          "corpus:task/buildah/0.10/buildah.yaml",
		"external-task/buildah/0.10/buildah.yaml": "corpus:external-task/buildah/0.10/buildah.yaml",
	})
	for _, dir := range []string{"task/ecosystem-cert-preflight-checks/0.2", "task/git-clone/0.1", "task/buildah/0.10"} {
		git(t, root, "rm", "-r", "-q", dir)
	}

	fs := stillReferenced(t, root)
	want := []string{
		"pipelines/docker-build/docker-build.yaml:278:13",                                             // taskRef {name, version: "0.2"}
		"pipelines/template-build/template-build.yaml:194:15",                                         // the kustomize base
		"task/package-operator-package/0.1/tests/test-package-operator-package-happy-path.yaml:28:20", // pathInRepo
	}
	if got := places(fs); !slices.Equal(got, want) {
		t.Fatalf("findings at %v, want %v\n%v", got, want, fs)
	}
	for _, f := range fs {
		if f.Rule != StillReferenced.ID || f.Severity != check.Error || f.Help == "" {
			t.Errorf("finding not actionable: %+v", f)
		}
	}
	if m := fs[0].Message; !strings.Contains(m, `taskRef {name: ecosystem-cert-preflight-checks, version: "0.2"}`) || !strings.Contains(m, "task/ecosystem-cert-preflight-checks/0.2") {
		t.Errorf("message: %s", m)
	}
	if h := fs[2].Help; !strings.Contains(h, "(remaining: 0.2)") {
		t.Errorf("help should name the version that stays: %s", h)
	}
	if !strings.Contains(fs[2].Message, "git resolver pathInRepo task/git-clone/0.1/git-clone.yaml") {
		t.Errorf("message: %s", fs[2].Message)
	}
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

func TestExpiredOnArchivedTasks(t *testing.T) {
	dir := corpus(t)
	defer func(old func() time.Time) { Now = old }(Now)
	Now = func() time.Time { return time.Date(2025, 1, 20, 12, 0, 0, 0, time.UTC) }

	want := map[string]string{
		"inspect-image":                      "warning:6:44:expires in 11 day(s), on 2025-01-31",
		"fbc-validation":                     "warning:6:44:expires in 11 day(s), on 2025-01-31",
		"deprecated-image-check":             "error:9:44:expired on 2024-06-01 (233 day(s) ago)",
		"coverity-availability-check-oci-ta": "",
		"sbom-json-check":                    "",
		"clair-scan":                         "", // no expiry annotation
	}
	for name, w := range want {
		rel := fmt.Sprintf("archived-tasks/%s/0.2/%s.yaml", name, name)
		s := &catalog.Submission{Name: name, Version: "0.2", Manifest: manifest.Load(dir, rel, manifest.DefaultLimits)}
		fs := check.Apply(Expired, s)
		got := ""
		if len(fs) == 1 {
			if fs[0].Severity == 0 { // the check's own, as the driver fills in
				fs[0].Severity = Expired.Severity
			}
			got = fmt.Sprintf("%s:%d:%d:%s", fs[0].Severity, fs[0].Line, fs[0].Column, fs[0].Message)
		}
		if len(fs) > 1 || !strings.HasPrefix(got, strings.Replace(w, "expire", name+" 0.2 expire", 1)) {
			t.Errorf("%s: got %q (%d findings), want prefix %q", name, got, len(fs), w)
		}
	}

	// the expiry message travels with the finding
	Now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	s := &catalog.Submission{Name: "coverity-availability-check-oci-ta", Version: "0.2",
		Manifest: manifest.Load(dir, "archived-tasks/coverity-availability-check-oci-ta/0.2/coverity-availability-check-oci-ta.yaml", manifest.DefaultLimits)}
	fs := check.Apply(Expired, s)
	if len(fs) != 1 || fs[0].Severity != 0 || !strings.Contains(fs[0].Message, "Please use coverity-availability-check instead.") {
		t.Errorf("expired with message: %+v", fs)
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

package security

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

// corpus returns a directory of the real corpus (the -tags corpus sweep:
// it fails without it).
func corpus(t *testing.T, rel string) string { return testrepo.Corpus(t, rel) }

// realSub loads a submission of a corpus repository, e.g.
// ("build-definitions", "partners/example-hello-world/0.1").
func realSub(t *testing.T, repo, dir string) *catalog.Submission {
	t.Helper()
	r, err := catalog.Open(corpus(t, repo))
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Submission(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Manifest == nil || (s.Manifest.Task == nil && s.Manifest.StepAction == nil) {
		t.Fatalf("%s/%s: no decoded manifest (%v)", repo, dir, s.Manifest)
	}
	return s
}

// handmade writes a repository with partners/x/0.1/x.yaml holding task
// (and any other files) and returns that submission.
func handmade(t *testing.T, task string, files map[string]string) *catalog.Submission {
	t.Helper()
	s := handmadeAny(t, task, files)
	if s.Manifest == nil || len(s.Manifest.Problems) > 0 {
		t.Fatalf("hand-made task does not load: %+v", s.Manifest)
	}
	return s
}

// handmadeAny is handmade for manifests that may not load.
func handmadeAny(t *testing.T, task string, files map[string]string) *catalog.Submission {
	t.Helper()
	root := t.TempDir()
	all := map[string]string{"partners/x/0.1/x.yaml": task}
	for k, v := range files {
		all[k] = v
	}
	testrepo.Write(t, root, all)
	r, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Submission("partners/x/0.1")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// taskYAML wraps a spec excerpt (indented by two) into a Task.
func taskYAML(spec string) string {
	return "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: x\nspec:\n" + indent(spec, "  ")
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// run runs one check the way the driver does (severities defaulted).
func run(c *check.Check, s *catalog.Submission) []check.Finding {
	return check.Run([]*catalog.Submission{s}, []*check.Check{c}, nil).Findings()
}

// only keeps findings of a severity.
func only(fs []check.Finding, sev check.Severity) []check.Finding {
	var out []check.Finding
	for _, f := range fs {
		if f.Severity == sev {
			out = append(out, f)
		}
	}
	return out
}

// lines lists the lines findings point at.
func lines(fs []check.Finding) []int {
	var out []int
	for _, f := range fs {
		out = append(out, f.Line)
	}
	return out
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// wantLines asserts the findings of a severity are exactly at lines.
func wantLines(t *testing.T, fs []check.Finding, sev check.Severity, want ...int) {
	t.Helper()
	got := lines(only(fs, sev))
	if !sameInts(got, want) {
		t.Errorf("%s findings at lines %v, want %v:\n%s", sev, got, want, dump(fs))
	}
}

func dump(fs []check.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.String() + "\n")
	}
	return b.String()
}

// mustContain asserts some finding's message contains every part.
func mustContain(t *testing.T, fs []check.Finding, parts ...string) {
	t.Helper()
	for _, f := range fs {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(f.Message, p)
		}
		if ok {
			return
		}
	}
	t.Errorf("no finding mentions %q:\n%s", parts, dump(fs))
}

// Package ruletest is what the rule packages' tests share: a hand-made
// Task as a submission, one of testdata/ or of the real corpus, and
// running one check.
package ruletest

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

// Sub writes a repository holding one Task (or StepAction) as
// partners/x/0.1/x.yaml and returns its submission; a manifest that does
// not load fails the test.
func Sub(t testing.TB, task string) *catalog.Submission {
	t.Helper()
	root := testrepo.New(t, map[string]string{"partners/x/0.1/x.yaml": task})
	r, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Submission("partners/x/0.1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Manifest == nil || (s.Manifest.Task == nil && s.Manifest.StepAction == nil) {
		t.Fatalf("hand-made Task does not load:\n%s", task)
	}
	return s
}

// TestdataSub loads a submission of the repository's own test corpus,
// e.g. ("build-definitions", "partners/hello-summary/0.1").
func TestdataSub(t testing.TB, repo, dir string) *catalog.Submission {
	t.Helper()
	return open(t, testrepo.Testdata(t, repo), dir)
}

// CorpusSub loads a real submission of the shared corpus (the -tags
// corpus sweep: it fails without the corpus).
func CorpusSub(t testing.TB, repo, dir string) *catalog.Submission {
	t.Helper()
	return open(t, testrepo.Corpus(t, repo), dir)
}

func open(t testing.TB, root, dir string) *catalog.Submission {
	t.Helper()
	r, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Submission(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Run runs one check on one submission through the driver.
func Run(c *check.Check, s *catalog.Submission) []check.Finding {
	return check.Run([]*catalog.Submission{s}, []*check.Check{c}, nil).Findings()
}

// Of keeps the findings of one rule.
func Of(fs []check.Finding, rule string) []check.Finding {
	var out []check.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// Dump lists findings one per line, for test failures.
func Dump(fs []check.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.String() + "\n")
	}
	return b.String()
}

// Examples checks every rule's documentation: Doc, Help, Bad and Fixed
// are set, Bad fires the rule and Fixed does not.
func Examples(t *testing.T, checks []*check.Check) {
	for _, c := range checks {
		t.Run(c.ID, func(t *testing.T) {
			if c.Doc == "" || c.Help == "" || c.Bad == "" || c.Fixed == "" {
				t.Fatal("Doc, Help, Bad and Fixed are required")
			}
			if fs := Of(Run(c, Sub(t, c.Bad)), c.ID); len(fs) == 0 {
				t.Errorf("Bad does not fire %s", c.ID)
			}
			if fs := Of(Run(c, Sub(t, c.Fixed)), c.ID); len(fs) != 0 {
				t.Errorf("Fixed fires %s:\n%s", c.ID, Dump(fs))
			}
		})
	}
}

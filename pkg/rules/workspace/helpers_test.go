package workspace

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

// sub writes a repository holding one Task and returns its submission.
func sub(t *testing.T, task string) *catalog.Submission {
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
	if s.Manifest == nil || s.Manifest.Task == nil {
		t.Fatalf("hand-made Task does not load:\n%s", task)
	}
	return s
}

// corpusSub loads a real submission of the shared corpus.
func corpusSub(t *testing.T, repo, dir string) *catalog.Submission {
	t.Helper()
	r, err := catalog.Open(testrepo.Corpus(t, repo))
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Submission(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(c *check.Check, s *catalog.Submission) []check.Finding {
	return check.Run([]*catalog.Submission{s}, []*check.Check{c}, nil).Findings()
}

// of keeps the findings of one rule.
func of(fs []check.Finding, rule string) []check.Finding {
	var out []check.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func dump(fs []check.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.String() + "\n")
	}
	return b.String()
}

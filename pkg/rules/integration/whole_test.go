package integration

import (
	"encoding/json"
	"testing"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/pipeline"
)

// findings is what the integration rules say about a submission against
// a contract, as JSON: each rule's findings and the summary.
func findings(t *testing.T, c *pipeline.Contract, s *catalog.Submission) string {
	t.Helper()
	a := newAnalysis(s, &loaded{contract: c})
	pass := &check.Pass{Repo: s.Repo, Submission: s, ResultOf: map[*check.Input]any{Analysis: a}}
	out := map[string]any{"summary": a.summary()}
	for _, ch := range Checks {
		if len(ch.Requires) == 1 && ch.Requires[0] == Analysis {
			out[ch.ID] = ch.Run(pass)
		}
	}
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// sameFindings judges every submission of a repository against the build
// pipelines of dir, validating the composed Pipelines task by task (what
// the gate does) and whole (the oracle), and wants the same JSON.
func sameFindings(t *testing.T, root, dir string) int {
	t.Helper()
	fast, err := pipeline.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := pipeline.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	whole.ValidateWhole()
	repo, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := repo.Discover()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subs {
		if got, want := findings(t, fast, s), findings(t, whole, s); got != want {
			t.Errorf("%s against %s:\ntask by task %s\nwhole        %s", s.ID(), dir, got, want)
		}
	}
	return len(subs)
}

// The same on the repository and pipelines shipped here.
func TestTaskByTaskFindingsAreWholeOnFixtures(t *testing.T) {
	if n := sameFindings(t, "testdata/repo", mini(t, "pipelines")); n < 2 {
		t.Errorf("only %d submissions in testdata/repo", n)
	}
}

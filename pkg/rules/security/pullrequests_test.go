package security

import (
	"fmt"
	"sort"
	"testing"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

// verdict lists "line severity rule" for every finding of this family.
func verdict(s *catalog.Submission) []string {
	var out []string
	for _, f := range check.Run([]*catalog.Submission{s}, Checks, nil).Findings() {
		out = append(out, fmt.Sprintf("%d %s %s", f.Line, f.Severity, f.Rule))
	}
	sort.Strings(out)
	return out
}

func wantVerdict(t *testing.T, s *catalog.Submission, want []string) {
	t.Helper()
	got := verdict(s)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got\n  %q\nwant\n  %q", got, want)
	}
}

package security

import (
	"fmt"
	"sort"
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
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

// testdata's failing partner PR (license-scan, v1beta1): from these
// families, its unset allowPrivilegeEscalation and its image by tag.
func TestLicenseScanPR(t *testing.T) {
	wantVerdict(t, ruletest.TestdataSub(t, "build-definitions/_pull-requests/pr-1", "partners/license-scan/0.1"), []string{
		"27 warning privilege/escalation",
		"29 error image/unpinned",
	})
}

// testdata's merged partner Task passes every rule of these families.
func TestHelloSummaryPasses(t *testing.T) {
	for _, f := range check.Run([]*catalog.Submission{ruletest.TestdataSub(t, "build-definitions", "partners/hello-summary/0.1")}, Checks, nil).Findings() {
		if f.Severity == check.Error {
			t.Errorf("error on hello-summary: %s", f)
		}
	}
}

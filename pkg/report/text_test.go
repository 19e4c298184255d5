package report

import (
	"bytes"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
)

// What a partner must act on comes first: errors, then warnings; infos
// are counted, and listed last with -v.
func TestTextOrdersBySeverity(t *testing.T) {
	f := func(sev check.Severity, line int, rule string) check.Finding {
		return check.Finding{Rule: rule, Severity: sev, File: "partners/x/0.1/x.yaml", Line: line, Column: 1, Message: rule}
	}
	res := &check.Result{Submissions: []check.SubmissionResult{{ID: "partners/x/0.1", Findings: []check.Finding{
		f(check.Info, 1, "a/info"), f(check.Warning, 2, "b/warning"), f(check.Error, 9, "c/error"), f(check.Info, 10, "d/info"),
	}}}}
	rules := func(out string) (got []string) {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "partners/") {
				got = append(got, strings.Fields(l)[2])
			}
		}
		return got
	}
	var b bytes.Buffer
	if err := WriteWith(&b, "text", res, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rules(b.String()), " "); got != "c/error: b/warning:" || !strings.Contains(b.String(), "2 info finding(s) not shown (-v shows them)\n") {
		t.Errorf("default text:\n%s", b.String())
	}
	b.Reset()
	if err := WriteWith(&b, "text", res, Options{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rules(b.String()), " "); got != "c/error: b/warning: a/info: d/info:" || strings.Contains(b.String(), "not shown") {
		t.Errorf("verbose text:\n%s", b.String())
	}
}

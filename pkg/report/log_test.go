package report_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
)

// pacErrorDetection is Pipelines-as-Code's default
// error-detection-simple-regexp (pkg/params/settings/config.go): each
// matching log line of a failed task becomes a failure annotation.
var pacErrorDetection = regexp.MustCompile(`^(?P<filename>[^:]*):(?P<line>[0-9]+):(?P<column>[0-9]+)?([ ]*)?(?P<error>.*)`)

// The log format gives PaC exactly the errors: each as file:line:col, and
// no warning, info, help text or forged line from a message.
func TestLogTripsPaCOnErrorsOnly(t *testing.T) {
	for name, res := range map[string]*check.Result{"hand-made": nastyResult(), "build-definitions": buildDefinitions(t)} {
		t.Run(name, func(t *testing.T) {
			out := render(t, "log", res)
			want := map[string]int{}
			for _, f := range res.Findings() {
				// a path with a colon cannot be told apart by PaC's regexp
				if f.Severity == check.Error && !strings.Contains(f.File, ":") {
					want[fmt.Sprintf("%s:%d", f.File, f.Line)]++
				}
			}
			if len(want) == 0 && name == "build-definitions" {
				t.Fatal("no error findings: nothing would show the format works")
			}
			got := map[string]int{}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "::") {
					t.Errorf("a message forged a line of its own: %q", line)
				}
				m := pacErrorDetection.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				if !strings.Contains(m[5], " error ") && !strings.HasPrefix(m[5], "error ") {
					t.Errorf("PaC would annotate a line that is not an error: %q", line)
				}
				got[m[1]+":"+m[2]]++
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("%s: %d error annotation(s), want %d", k, got[k], n)
				}
			}
			for k := range got {
				if want[k] == 0 {
					t.Errorf("%s: annotated, but no error there", k)
				}
			}
			if name == "hand-made" && !strings.Contains(out, "warning layout/readme: no README ]]> here (") {
				t.Errorf("warnings must still be in the log:\n%s", out)
			}
		})
	}
	// The text format, for people and editors, keeps file:line:col for every severity.
	warning := check.Finding{Rule: "layout/readme", Severity: check.Warning, File: "partners/a/0.1/a.yaml", Line: 3, Column: 1, Message: "m"}
	res := &check.Result{Submissions: []check.SubmissionResult{{ID: "partners/a/0.1", Findings: []check.Finding{warning}}}}
	if text := render(t, "text", res); !pacErrorDetection.MatchString(text) {
		t.Errorf("text format changed: %q", text)
	}
}

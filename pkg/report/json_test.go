package report_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/report"
)

// The JSON report is written element by element; its bytes are those
// encoding/json gives the whole JSONReport, indented by two spaces.
func TestJSONIsEncodingJSONOfTheReport(t *testing.T) {
	for name, res := range map[string]*check.Result{
		"empty":             {},
		"nasty":             nastyResult(),
		"build-definitions": buildDefinitions(t),
	} {
		out := render(t, "json", res)
		var r report.JSONReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
		if len(r.Submissions) != len(res.Submissions) || len(r.Findings) != len(res.Findings()) {
			t.Errorf("%s: %d submissions and %d findings, want %d and %d", name, len(r.Submissions), len(r.Findings), len(res.Submissions), len(res.Findings()))
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if out != want.String() {
			t.Errorf("%s: the report is not what encoding/json writes:\n%s\nwant\n%s", name, out, want.String())
		}
	}
}

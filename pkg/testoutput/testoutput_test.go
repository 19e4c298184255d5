package testoutput

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want string // a part of the error; "" when valid
	}{
		{Example, ""},
		// an offset timestamp, note and namespace
		{`{"result":"SUCCESS","timestamp":"2024-05-02T14:08:51+00:00","note":"Task sast-snyk-check completed: Refer to Tekton task result SCAN_OUTPUT for vulnerabilities.","namespace":"default","successes":0,"failures":0,"warnings":0}`, ""},
		{`{"result":"WARNING","timestamp":"2024-05-02T14:08:51.123Z","successes":3,"failures":0,"warnings":2}`, ""},
		{`{"result":"SKIPPED","timestamp":"0","successes":0,"failures":0,"warnings":0}`, `timestamp "0" is not RFC 3339`},
		{`{"result":"SKIPPED","timestamp":"2024-05-02","successes":0,"failures":0,"warnings":0}`, `timestamp "2024-05-02" is not RFC 3339`},
		{`{"result":"SKIPPED","timestamp":1714658931,"successes":0,"failures":0,"warnings":0}`, `timestamp 1714658931 is not an RFC 3339 string`},
		{`{"result":"PASSED","timestamp":"2024-05-02T14:08:51Z","successes":1,"failures":0,"warnings":0}`, `result "PASSED" is not one of`},
		{`{"result":"success","timestamp":"2024-05-02T14:08:51Z","successes":1,"failures":0,"warnings":0}`, `result "success"`},
		{`{"result":"FAILURE","timestamp":"2024-05-02T14:08:51Z","successes":-1,"failures":1,"warnings":0}`, `successes -1 is negative`},
		{`{"result":"FAILURE","timestamp":"2024-05-02T14:08:51Z","successes":1.5,"failures":"1","warnings":0}`, `successes 1.5 is not an integer; failures "1" is not an integer`},
		{`{"result":"SUCCESS","timestamp":"2024-05-02T14:08:51Z","successes":1,"failures":0}`, `warnings (missing) is not an integer`},
		{`{"result":"SUCCESS","timestamp":"2024-05-02T14:08:51Z","successes":1,"failures":0,"warnings":0,"note":7}`, `note 7 is not a string`},
		{`{}`, `no result; timestamp (missing)`},
		{`null`, `not a JSON object`},
		{`[1]`, `not a JSON object`},
		{`{"result":"SUCCESS"} {"result":"FAILURE"}`, `more than one JSON value`},
		{`SUCCESS`, `not a JSON object`},
		{``, `not a JSON object`},
	} {
		got, err := Parse(c.raw)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.raw, err)
		case c.want == "" && got.Result == "":
			t.Errorf("%s: no result parsed", c.raw)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: error %v, want %q", c.raw, err, c.want)
		}
	}
}

// Package testoutput validates TEST_OUTPUT, the JSON result every check
// Task of a Konflux build pipeline writes (ADR 0030) and Conforma reads:
// one validator, for every place taskgate reads one.
package testoutput

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Results are the values of `result`.
var Results = []string{"SUCCESS", "FAILURE", "WARNING", "SKIPPED", "ERROR"}

// Example is a valid TEST_OUTPUT, for help texts.
const Example = `{"result":"SKIPPED","timestamp":"2026-01-01T00:00:00Z","successes":0,"failures":0,"warnings":0,"note":"why"}`

// Shape says what a valid TEST_OUTPUT holds, for help texts.
const Shape = `{"result":"SUCCESS|FAILURE|WARNING|SKIPPED|ERROR","timestamp":"<RFC 3339, e.g. $(date -u +%Y-%m-%dT%H:%M:%SZ)>","successes":N,"failures":N,"warnings":N}, N >= 0; "note" and "namespace" optional strings`

// TestOutput is a valid TEST_OUTPUT.
type TestOutput struct {
	Result                        string
	Timestamp                     time.Time
	Successes, Failures, Warnings int64
	Note, Namespace               string
}

// Parse validates raw against the ADR 0030 shape and says every way it
// falls short, not just the first.
func Parse(raw string) (*TestOutput, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	if doc == nil {
		return nil, fmt.Errorf("not a JSON object: null")
	}
	var out TestOutput
	var bad []string
	switch r, _ := doc["result"].(string); {
	case doc["result"] == nil:
		bad = append(bad, "no result")
	case !contains(Results, r):
		bad = append(bad, fmt.Sprintf("result %s is not one of %s", show(doc["result"]), strings.Join(Results, ", ")))
	default:
		out.Result = r
	}
	if ts, ok := doc["timestamp"].(string); !ok {
		bad = append(bad, "timestamp "+orMissing(doc["timestamp"])+" is not an RFC 3339 string")
	} else if t, err := time.Parse(time.RFC3339, ts); err != nil {
		bad = append(bad, fmt.Sprintf("timestamp %q is not RFC 3339 (e.g. 2026-01-01T00:00:00Z)", ts))
	} else {
		out.Timestamp = t
	}
	for _, c := range []struct {
		key string
		to  *int64
	}{{"successes", &out.Successes}, {"failures", &out.Failures}, {"warnings", &out.Warnings}} {
		n, ok := doc[c.key].(json.Number)
		v, err := n.Int64()
		switch {
		case !ok || err != nil:
			bad = append(bad, c.key+" "+orMissing(doc[c.key])+" is not an integer")
		case v < 0:
			bad = append(bad, fmt.Sprintf("%s %d is negative", c.key, v))
		default:
			*c.to = v
		}
	}
	for _, c := range []struct {
		key string
		to  *string
	}{{"note", &out.Note}, {"namespace", &out.Namespace}} {
		if v, has := doc[c.key]; has {
			s, ok := v.(string)
			if !ok {
				bad = append(bad, c.key+" "+show(v)+" is not a string")
			}
			*c.to = s
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(bad, "; "))
	}
	return &out, nil
}

func orMissing(v any) string {
	if v == nil {
		return "(missing)"
	}
	return show(v)
}

// show writes a value for a message, cut short: it is the Task's output.
func show(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	out := fmt.Sprint(v)
	if enc.Encode(v) == nil {
		out = strings.TrimSpace(b.String())
	}
	if len(out) <= 80 {
		return out
	}
	cut := 80
	for cut > 0 && !utf8.RuneStart(out[cut]) {
		cut--
	}
	return out[:cut] + "..."
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

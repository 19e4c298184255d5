package cluster

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/testoutput"
)

const fuzzTask = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: check
spec:
  results:
    - name: TEST_OUTPUT
  steps:
    - name: scan
      image: alpine
      script: echo
`

// FuzzTestOutput feeds arbitrary TEST_OUTPUT results, as a partner's Task
// writes them, to the sandboxed run's judge: one finding, an error
// unless the result follows the convention, and a message that stays
// short (the Task's text is cut to 300 bytes, quoted) and valid UTF-8 whatever
// the Task wrote.
func FuzzTestOutput(f *testing.F) {
	for _, s := range []string{
		`{"result":"SUCCESS","timestamp":"2024-01-01T00:00:00Z","successes":1,"failures":0,"warnings":0}`,
		`{"result":"SKIPPED","timestamp":"0","successes":0,"failures":0,"warnings":0,"note":"no credentials"}`,
		`{"result":"` + strings.Repeat("x", 4000) + `"}`,
		`{"result":"FAILURE","timestamp":1700000000,"successes":0,"failures":3,"warnings":0,"namespace":"default"}`,
		`{"result":"SUCCESS","successes":-1,"failures":0,"warnings":0}`,
		`{"result":"SUCCESS","successes":1e3,"failures":0,"warnings":0}`,
		`{"result":"success"}`, `[]`, `null`, `"SUCCESS"`, ``, "{\"result\":\"SUCCESS\"}\n\x1b[31mforged\n",
		strings.Repeat(`{"a":`, 10000), strings.Repeat("é", 200),
	} {
		f.Add(s)
	}
	m := manifest.Parse("partners/check/0.1/check.yaml", []byte(fuzzTask), manifest.DefaultLimits)
	if m.Task == nil {
		f.Fatalf("the Task does not load: %+v", m.Problems)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		res := &RunResult{Namespace: "taskgate-sandbox-x", Done: true, Succeeded: true, Duration: time.Second,
			TaskRuns: []TaskRunResult{{Name: "tr", PipelineTask: "check", Succeeded: true, Results: map[string]string{"TEST_OUTPUT": raw}}}}
		fs := RunFindings(m, res, nil, RunOptions{Timeout: time.Minute})
		if len(fs) != 1 {
			t.Fatalf("want one finding, got %+v", fs)
		}
		fd := fs[0]
		if fd.Rule != RuleRun || fd.Line < 1 || fd.Column < 1 || fd.Help == "" || !utf8.ValidString(fd.Message) || len(fd.Message) > 2000 {
			t.Fatalf("bad finding %+v", fd)
		}
		_, err := testoutput.Parse(raw)
		valid := err == nil
		if fd.Severity == check.Info && !valid {
			t.Fatalf("%q passes: %+v", raw, fd)
		}
	})
}

package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/config"
)

// A directory name with a newline must not forge a finding line of its own.
func TestTextEscapesWhatTheRepositoryWrites(t *testing.T) {
	forged := "partners/x\npartners/ok/0.1/ok.yaml:1:1: info fake/rule: all good\x1b[8m/0.1/x.yaml"
	res := &check.Result{Submissions: []check.SubmissionResult{{ID: "partners/x", Findings: []check.Finding{{
		Rule: "layout/path", Severity: check.Error, File: forged, Line: 1, Column: 1,
		Message: "name \u202eevil\u202c here\r", Help: "rename it\nnow",
	}}}}}
	var b bytes.Buffer
	if err := Text(&b, res, Options{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("one finding, its help's two lines and the summary are 4 lines, got %d:\n%s", len(lines), b.String())
	}
	want := `partners/x\npartners/ok/0.1/ok.yaml:1:1: info fake/rule: all good\x1b[8m/0.1/x.yaml:1:1: error layout/path: name \u202eevil\u202c here\r`
	if lines[0] != want || lines[1] != `    help: rename it` || lines[2] != `          now` {
		t.Errorf("got\n%s\n%s\n%s\nwant\n%s", lines[0], lines[1], lines[2], want)
	}
	b.Reset()
	if err := Log(&b, res, Options{}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], `partners/x\npartners/ok`) || strings.Contains(b.String(), "\x1b") {
		t.Errorf("log: %q", b.String())
	}
}

func TestWaiversAreListed(t *testing.T) {
	w := &config.Waiver{Task: "hello", Versions: []string{"0.1"}, Rule: "privilege/privileged", Reason: "buildah\nneeds it", Expires: "2999-01-01", Line: 3}
	res := &check.Result{Submissions: []check.SubmissionResult{{ID: "partners/hello/0.1", Checks: []*check.Status{
		{Check: "privilege/privileged", Skipped: "waived", NotRun: check.Waived, Waiver: w}, {Check: "image/registry"},
	}}}}
	var text, log, js, gh, md, sarif, junit bytes.Buffer
	for _, f := range []struct {
		b   *bytes.Buffer
		fmt string
	}{{&text, "text"}, {&log, "log"}, {&js, "json"}, {&gh, "github"}, {&md, "markdown"}, {&sarif, "sarif"}, {&junit, "junit"}} {
		if err := Write(f.b, f.fmt, res); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(text.String(), "waived: partners/hello/0.1 privilege/privileged until 2999-01-01 (.taskgate.yaml:3): buildah\\nneeds it\n") {
		t.Errorf("text:\n%s", text.String())
	}
	if !strings.Contains(log.String(), "waived: partners/hello/0.1 privilege/privileged until 2999-01-01 (.taskgate.yaml, line 3): buildah needs it\n") {
		t.Errorf("log:\n%s", log.String())
	}
	var r JSONReport
	if err := json.Unmarshal(js.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if s := r.Submissions[0]; len(s.Waived) != 1 || s.Waived[0].Rule != "privilege/privileged" || s.Waived[0].Line != 3 || s.Checks[0].Status != "not-run" || s.Checks[0].Reason != "waived" || s.Checks[1].Status != "passed" {
		t.Errorf("json: %+v", r.Submissions)
	}
	if !strings.Contains(gh.String(), "::notice file=.taskgate.yaml,line=3,title=waived privilege/privileged::privilege/privileged is not checked on partners/hello/0.1 until 2999-01-01: buildah%0Aneeds it\n") {
		t.Errorf("github:\n%s", gh.String())
	}
	if !strings.Contains(sarif.String(), `"waivers": [`) || !strings.Contains(sarif.String(), `"submission": "partners/hello/0.1",`) {
		t.Errorf("sarif: %s", sarif.String())
	}
	if !strings.Contains(junit.String(), `<skipped message="waived: waived">`) {
		t.Errorf("junit: %s", junit.String())
	}
	if !strings.Contains(md.String(), "🛂 waived until 2999-01-01") || strings.Contains(md.String(), "privileged][], [image") {
		t.Errorf("markdown: a waived check is listed as waived, never among the passed:\n%s", md.String())
	}
}

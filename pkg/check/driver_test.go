package check

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/config"
	"taskgate.dev/taskgate/pkg/manifest"
)

func submission(t *testing.T, name, yaml string) *catalog.Submission {
	t.Helper()
	path := "partners/" + name + "/0.1/" + name + ".yaml"
	return &catalog.Submission{Repo: &catalog.Repo{}, Layout: "partners", Name: name, Version: "0.1",
		Dir: "partners/" + name + "/0.1", TaskPath: path, Manifest: manifest.Parse(path, []byte(yaml), manifest.DefaultLimits)}
}

func task(annotations string) string {
	return "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\n  annotations:\n" + annotations +
		"spec:\n  steps:\n    - name: a\n      image: alpine\n      script: echo\n"
}

// every step is a finding at the step's line, so order and counts show.
var perStep = &Check{ID: "test/per-step", Doc: "d", Severity: Warning, Help: "h",
	Run: func(s *catalog.Submission) []Finding {
		var out []Finding
		for i := range s.Manifest.Task.Spec.Steps {
			out = append(out, At(s.Manifest, "spec.steps["+string(rune('0'+i))+"]", "step %d", i))
		}
		return out
	}}

var crashing = &Check{ID: "test/crash", Doc: "d", Severity: Warning, Help: "h",
	Run: func(s *catalog.Submission) []Finding { panic("boom") }}

var errorsOnName = &Check{ID: "test/name", Doc: "d", Severity: Error, Help: "h",
	Run: func(s *catalog.Submission) []Finding {
		f := At(s.Manifest, "metadata.name", "named")
		info := At(s.Manifest, "kind", "an info")
		info.Severity = Info
		return []Finding{f, info}
	}}

func TestRunDefaultsAndOrder(t *testing.T) {
	subs := []*catalog.Submission{submission(t, "b", task("    x: y\n")), submission(t, "a", task("    x: y\n"))}
	res := Run(subs, []*Check{perStep, errorsOnName}, nil)
	fs := res.Findings()
	var got []string
	for _, f := range fs {
		got = append(got, f.String())
	}
	want := []string{
		"partners/a/0.1/a.yaml:2:7: info test/name: an info",
		"partners/a/0.1/a.yaml:4:9: error test/name: named",
		"partners/a/0.1/a.yaml:9:7: warning test/per-step: step 0",
		"partners/b/0.1/b.yaml:2:7: info test/name: an info",
		"partners/b/0.1/b.yaml:4:9: error test/name: named",
		"partners/b/0.1/b.yaml:9:7: warning test/per-step: step 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if fs[0].Help != "h" || fs[0].Submission != "partners/a/0.1" {
		t.Errorf("help/submission not filled in: %+v", fs[0])
	}
	if res.Count(Error) != 2 || res.Count(Warning) != 2 || res.Count(Info) != 2 {
		t.Errorf("counts: %d %d %d", res.Count(Error), res.Count(Warning), res.Count(Info))
	}
}

func TestCrashingCheckFailsTheGate(t *testing.T) {
	res := Run([]*catalog.Submission{submission(t, "a", task("    x: y\n"))}, []*Check{crashing}, nil)
	fs := res.Findings()
	if len(fs) != 1 || fs[0].Severity != Error || !strings.Contains(fs[0].Message, "crashed on this submission (boom)") {
		t.Fatalf("a crash must be an error finding, got %+v", fs)
	}
}

func TestSettings(t *testing.T) {
	checks := []*Check{perStep, errorsOnName}
	set, err := Resolve(&config.Config{Disable: []string{"test/per-step"}, Severity: map[string]string{"test/name": "warning"}}, checks)
	if err != nil {
		t.Fatal(err)
	}
	res := Run([]*catalog.Submission{submission(t, "a", task("    x: y\n"))}, checks, set)
	for _, f := range res.Findings() {
		if f.Rule == "test/per-step" {
			t.Errorf("disabled rule reported: %+v", f)
		}
		if f.Severity != Warning {
			t.Errorf("re-levelled rule kept %s: %+v", f.Severity, f)
		}
	}
	if st := res.Submissions[0].Checks[0]; st.Skipped != "disabled in .taskgate.yaml" {
		t.Errorf("status of a disabled check: %+v", st)
	}
	for _, bad := range []*config.Config{
		{Disable: []string{"test/typo"}},
		{Severity: map[string]string{"test/typo": "error"}},
		{Severity: map[string]string{"test/name": "fatal"}},
	} {
		if _, err := Resolve(bad, checks); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
	if set, err := Resolve(&config.Config{Severity: map[string]string{"test/name": "off"}}, checks); err != nil || !set.disabled["test/name"] {
		t.Errorf("severity off must disable: %v", err)
	}
}

func TestSkipAnnotation(t *testing.T) {
	Register(perStep) // SkipCheck looks rules up in the registry
	checks := []*Check{perStep, SkipCheck}

	withReason := submission(t, "a", task(`    taskgate.dev/skip: "test/per-step # the step is reviewed by hand"`+"\n"))
	res := Run([]*catalog.Submission{withReason}, checks, nil)
	if n := len(res.Findings()); n != 0 {
		t.Errorf("a skip with a reason must skip: %+v", res.Findings())
	}
	if st := res.Submissions[0].Checks[0]; !strings.Contains(st.Skipped, "the step is reviewed by hand") {
		t.Errorf("the skip reason is not recorded: %+v", st)
	}

	for _, tc := range []struct{ value, part string }{
		{`"test/per-step"`, "gives no reason"},
		{`"test/nope # because"`, `unknown rule "test/nope"`},
		{`"config/skip # no"`, "cannot be skipped"},
		{`"# only a reason"`, "names no rule"},
	} {
		s := submission(t, "a", task("    taskgate.dev/skip: "+tc.value+"\n"))
		res := Run([]*catalog.Submission{s}, checks, nil)
		var skipFindings []Finding
		for _, f := range res.Findings() {
			if f.Rule == SkipCheckID {
				skipFindings = append(skipFindings, f)
			}
		}
		if len(skipFindings) == 0 || !strings.Contains(skipFindings[0].Message, tc.part) || skipFindings[0].Line != 6 || skipFindings[0].Severity != Error {
			t.Errorf("%s: want a config/skip error at line 6 mentioning %q, got %+v", tc.value, tc.part, skipFindings)
		}
	}
	// without a reason nothing is skipped
	s := submission(t, "a", task(`    taskgate.dev/skip: "test/per-step"`+"\n"))
	res = Run([]*catalog.Submission{s}, checks, nil)
	found := false
	for _, f := range res.Findings() {
		found = found || f.Rule == "test/per-step"
	}
	if !found {
		t.Error("a skip without a reason must not skip")
	}
}

func TestSeverityText(t *testing.T) {
	for _, s := range []Severity{Error, Warning, Info} {
		b, _ := s.MarshalText()
		var back Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%v round-trips to %v (%v)", s, back, err)
		}
	}
	if _, err := ParseSeverity("default"); err == nil {
		t.Error("default is not a severity one can set")
	}
}

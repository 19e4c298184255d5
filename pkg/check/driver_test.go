package check

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
	Run: func(pass *Pass) []Finding {
		s := pass.Submission

		var out []Finding
		for i := range s.Manifest.Task.Spec.Steps {
			out = append(out, At(s.Manifest, "spec.steps["+string(rune('0'+i))+"]", "step %d", i))
		}
		return out
	}}

var crashing = &Check{ID: "test/crash", Doc: "d", Severity: Warning, Help: "h",
	Run: func(pass *Pass) []Finding { panic("boom") }}

var errorsOnName = &Check{ID: "test/name", Doc: "d", Severity: Error, Help: "h",
	Run: func(pass *Pass) []Finding {
		s := pass.Submission

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

func TestInputsOncePerSubmissionAndRun(t *testing.T) {
	var perRun, perSub atomic.Int32
	runIn := &Input{Name: "run input", PerRun: true, Compute: func(p *Pass) (any, error) {
		if p.Submission != nil {
			t.Error("a per-run input sees a submission")
		}
		perRun.Add(1)
		return "contract", nil
	}}
	subIn := &Input{Name: "sub input", Requires: []*Input{runIn}, Compute: func(p *Pass) (any, error) {
		perSub.Add(1)
		return p.ResultOf[runIn].(string) + "+" + p.Submission.Name, nil
	}}
	reader := func(id string) *Check {
		return &Check{ID: id, Doc: "d", Severity: Info, Help: "h", Requires: []*Input{subIn}, Run: func(p *Pass) []Finding {
			return []Finding{At(p.Submission.Manifest, "metadata.name", "%s", p.ResultOf[subIn])}
		}}
	}
	repo := &catalog.Repo{}
	var subs []*catalog.Submission
	for _, n := range []string{"a", "b", "c"} {
		s := submission(t, n, task("    x: y\n"))
		s.Repo = repo
		subs = append(subs, s)
	}
	res := Run(subs, []*Check{reader("test/r1"), reader("test/r2")}, nil)
	if perRun.Load() != 1 || perSub.Load() != 3 {
		t.Errorf("per-run input computed %d times (want 1), per-submission %d (want 3)", perRun.Load(), perSub.Load())
	}
	if fs := res.Findings(); len(fs) != 6 || fs[0].Message != "contract+a" {
		t.Errorf("findings: %v", fs)
	}
}

// A value the run gives for an input is what the checks read; without
// one the input is computed.
func TestGivenInput(t *testing.T) {
	in := &Input{Name: "cluster", PerRun: true, Compute: func(*Pass) (any, error) { return "computed", nil }}
	c := &Check{ID: "test/reads", Doc: "d", Severity: Info, Help: "h", Requires: []*Input{in}, Run: func(p *Pass) []Finding {
		return []Finding{At(p.Submission.Manifest, "metadata.name", "%s", p.ResultOf[in])}
	}}
	s := submission(t, "a", task("    x: y\n"))
	s.Repo = &catalog.Repo{}
	for given, want := range map[any]string{nil: "computed", "given": "given"} {
		set := &Settings{}
		if given != nil {
			set.Given = map[*Input]any{in: given}
		}
		if fs := Run([]*catalog.Submission{s}, []*Check{c}, set).Findings(); len(fs) != 1 || fs[0].Message != want {
			t.Errorf("given %v: %v, want %q", given, fs, want)
		}
	}
}

func TestFailingInputIsAnErrorNotAPass(t *testing.T) {
	broken := &Input{Name: "build pipelines", Compute: func(*Pass) (any, error) { return nil, errors.New("no such directory") }}
	crash := &Input{Name: "analysis", Compute: func(*Pass) (any, error) { panic("boom") }}
	c1 := &Check{ID: "test/needs-broken", Doc: "d", Severity: Info, Help: "h", Requires: []*Input{broken}, Run: func(*Pass) []Finding { t.Error("ran without its input"); return nil }}
	c2 := &Check{ID: "test/needs-crash", Doc: "d", Severity: Info, Help: "h", Requires: []*Input{crash}, Run: func(*Pass) []Finding { t.Error("ran without its input"); return nil }}
	res := Run([]*catalog.Submission{submission(t, "a", task("    x: y\n"))}, []*Check{c1, c2}, nil)
	fs := res.Findings()
	if len(fs) != 2 {
		t.Fatalf("want one error per check, got %v", fs)
	}
	for _, f := range fs {
		if f.Severity != Error || !strings.Contains(f.Message, "could not run") {
			t.Errorf("not an error saying the check did not run: %s", f)
		}
	}
	if !strings.Contains(fs[0].Message, "build pipelines: no such directory") || !strings.Contains(fs[1].Message, "crashed") {
		t.Errorf("messages do not say why: %v", fs)
	}
}

// a check that takes longer than any budget here
var slow = &Check{ID: "test/slow", Doc: "what slow checks", Severity: Warning, Help: "h",
	Run: func(*Pass) []Finding { time.Sleep(2 * time.Second); return nil }}

func TestBudget(t *testing.T) {
	set := &Settings{severity: map[string]Severity{"test/slow": Info}, Budget: Budget{PerSubmission: 200 * time.Millisecond}}
	subs := []*catalog.Submission{submission(t, "a", task("    x: y\n"))}
	start := time.Now()
	res := Run(subs, []*Check{slow, errorsOnName}, set)
	if d := time.Since(start); d > time.Second {
		t.Errorf("the run waited %s for a check past its budget", d)
	}
	var late []Finding
	for _, f := range res.Findings() {
		if f.Rule == "test/slow" {
			late = append(late, f)
		}
	}
	// an unchecked submission is an error, whatever the repository's severity for the rule
	if len(late) != 1 || late[0].Severity != Error || !strings.Contains(late[0].Message, "test/slow did not finish within this submission's share (200ms)") ||
		!strings.Contains(late[0].Message, "not checked for what slow checks") || late[0].File != "partners/a/0.1/a.yaml" {
		t.Fatalf("want one error for the slow check, got %+v", late)
	}
	if res.Count(Error) != 2 {
		t.Errorf("the other check's findings are lost: %+v", res.Findings())
	}
}

// A run's total budget is shared: a submission past its share is not
// checked, and says so.
func TestRunBudget(t *testing.T) {
	var subs []*catalog.Submission
	for _, n := range []string{"a", "b", "c", "d"} {
		subs = append(subs, submission(t, n, task("    x: y\n")))
	}
	set := &Settings{Budget: Budget{PerSubmission: time.Minute, Total: 300 * time.Millisecond}}
	start := time.Now()
	res := Run(subs, []*Check{slow, slow}, set)
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("the run took %s for a 300ms budget", d)
	}
	for _, sr := range res.Submissions {
		if len(sr.Findings) != 2 || sr.Errors() != 2 {
			t.Errorf("%s: want both checks reported unchecked, got %+v", sr.ID, sr.Findings)
		}
		for _, f := range sr.Findings {
			if !strings.Contains(f.Message, "test/slow") || !strings.Contains(f.Message, "time budget") {
				t.Errorf("%s: %s", sr.ID, f.Message)
			}
		}
	}
}

// A check whose required input is absent is not run, with the input's
// reason, and the inputs it requires after that one are never computed.
func TestAbsentInputStopsTheCheck(t *testing.T) {
	computed := false
	conn := &Input{Name: "cluster", PerRun: true, Compute: func(*Pass) (any, error) { return nil, nil },
		Absent: func(v any) string {
			if v == nil {
				return "needs a cluster"
			}
			return ""
		}}
	costly := &Input{Name: "composition", Compute: func(*Pass) (any, error) { computed = true; return 1, nil }}
	c := &Check{ID: "test/cluster", Doc: "d", Severity: Error, Help: "h", Requires: []*Input{conn, costly}, Run: func(p *Pass) []Finding {
		return []Finding{At(p.Submission.Manifest, "metadata.name", "ran")}
	}}
	s := submission(t, "a", task("    x: y\n"))
	s.Repo = &catalog.Repo{}
	res := Run([]*catalog.Submission{s}, []*Check{c}, &Settings{})
	if fs := res.Findings(); len(fs) != 0 || computed {
		t.Errorf("findings %v, composition computed %v", fs, computed)
	}
	if st := res.Submissions[0].Checks; len(st) != 1 || st[0].Skipped != "needs a cluster" || st[0].NotRun != NeedsCluster {
		t.Errorf("status %+v", st)
	}
	set := &Settings{Given: map[*Input]any{conn: "a cluster"}}
	if fs := Run([]*catalog.Submission{s}, []*Check{c}, set).Findings(); len(fs) != 1 || !computed {
		t.Errorf("with a cluster: findings %v, composition computed %v", fs, computed)
	}
}

// A per-run input with Announce is shown every submission a check
// requiring it will judge (through a per-submission input too), with
// the inputs it asks for, before any check runs; a submission whose
// check is disabled is not shown.
func TestAnnounce(t *testing.T) {
	names := &Input{Name: "names", Compute: func(p *Pass) (any, error) { return p.Submission.Name, nil }}
	var shown atomic.Int32
	batch := &Input{Name: "batch", PerRun: true, AnnounceRequires: []*Input{names},
		Compute:  func(*Pass) (any, error) { return new(atomic.Int32), nil },
		Announce: func(v any, p *Pass) { v.(*atomic.Int32).Add(1); shown.Add(int32(len(p.ResultOf[names].(string)))) }}
	through := &Input{Name: "through", Requires: []*Input{batch}, Compute: func(p *Pass) (any, error) { return p.ResultOf[batch], nil }}
	waits := &Check{ID: "test/batch", Doc: "d", Severity: Warning, Help: "h", Requires: []*Input{through},
		Run: func(p *Pass) []Finding {
			return []Finding{InFile(p.Submission.TaskPath, "announced %d", p.ResultOf[through].(*atomic.Int32).Load())}
		}}
	repo := &catalog.Repo{}
	var subs []*catalog.Submission
	for _, name := range []string{"a", "bb", "ccc", "dddd"} {
		s := submission(t, name, task("    x: y\n"))
		s.Repo = repo
		subs = append(subs, s)
	}
	subs[3].Manifest = manifest.Parse(subs[3].TaskPath, []byte(task("    taskgate.dev/skip: \"test/batch # not for this one\"\n")), manifest.DefaultLimits)
	res := Run(subs, []*Check{waits}, nil)
	for _, s := range res.Submissions[:3] {
		if len(s.Findings) != 1 || s.Findings[0].Message != "announced 3" {
			t.Errorf("%s: %v", s.ID, s.Findings)
		}
	}
	if n := shown.Load(); n != 1+2+3 {
		t.Errorf("announce saw names of total length %d, want 6", n)
	}
}

// A check that crashed or lacked its input did not finish: its status
// says so, and no severity override turns its error into a pass.
func TestCrashOrFailedInputIsUnfinished(t *testing.T) {
	broken := &Input{Name: "build pipelines", Compute: func(*Pass) (any, error) { return nil, errors.New("no such directory") }}
	needs := &Check{ID: "test/needs-broken", Doc: "d", Severity: Info, Help: "h", Requires: []*Input{broken}, Run: func(*Pass) []Finding { return nil }}
	set := &Settings{severity: map[string]Severity{"test/crash": Info, "test/needs-broken": Info}}
	res := Run([]*catalog.Submission{submission(t, "a", task("    x: y\n"))}, []*Check{crashing, needs}, set)
	for _, st := range res.Submissions[0].Checks {
		if st.NotRun != Unfinished || st.Outcome() != "not-run" || st.Errors != 1 || !strings.Contains(st.Skipped, "this is a taskgate bug") && !strings.Contains(st.Skipped, "no such directory") {
			t.Errorf("%s: %+v, want unfinished with one error saying why", st.Check, st)
		}
	}
	if res.Count(Error) != 2 {
		t.Errorf("want 2 errors whatever the severity: %v", res.Findings())
	}
}

// A finished submission holds its statuses as pointers to the run's one
// copy of each distinct status: a catalog's verdicts stay small.
func TestEqualStatusesAreShared(t *testing.T) {
	var subs []*catalog.Submission
	for _, n := range []string{"a", "b", "c"} {
		subs = append(subs, submission(t, n, task("    x: y\n")))
	}
	subs = append(subs, submission(t, "d", task("    "+SkipAnnotation+": \"test/name # reviewed by hand\"\n")))
	res := Run(subs, []*Check{perStep, errorsOnName}, nil)
	a, d := res.Submissions[0], res.Submissions[3]
	for i := range res.Submissions {
		for j, st := range res.Submissions[i].Checks {
			if st != a.Checks[j] && *st == *a.Checks[j] {
				t.Errorf("submission %d, check %s: an equal status is not shared", i, st.Check)
			}
		}
	}
	if d.Checks[0] != a.Checks[0] || d.Checks[1] == a.Checks[1] || d.Checks[1].Skipped == "" || a.Checks[1].Errors != 1 {
		t.Errorf("statuses: %+v %+v, want the skipped check's own and the other shared", *d.Checks[1], *a.Checks[1])
	}
}

package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/gate"
	"taskgate.dev/taskgate/pkg/report"
)

// exampleCatalog is the repository's example catalog with its passing
// submission alone (a Task, its OWNERS and README, two build pipelines),
// as files to write.
func exampleCatalog(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	root := filepath.Join("..", "..", "examples", "catalog")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		if rel = filepath.ToSlash(rel); !strings.HasPrefix(rel, "partners/") || strings.HasPrefix(rel, "partners/hello-world/") {
			files[rel] = string(data) // the passing submission alone
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

const helloID, helloFile = "partners/hello-world/0.1", "partners/hello-world/0.1/hello-world.yaml"

// Each way a check can end up not run, made to happen for real through
// the gate's run, is reported as not run, with its reason, in every
// format, and never as passed.
func TestEveryFormatSaysWhyACheckDidNotRun(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(t *testing.T, files map[string]string)
		plan   func(p *gate.Plan)
		rule   string
		kind   check.NotRun
		reason string // in the status's reason, and so in every format
	}{
		{name: "tool absent", rule: "script/shellcheck", kind: check.Unavailable, reason: "shellcheck is not installed",
			change: func(t *testing.T, _ map[string]string) { t.Setenv("PATH", t.TempDir()) }},
		{name: "pipelines absent", rule: "integration/compose", kind: check.Unavailable, reason: "integration was not checked",
			change: func(_ *testing.T, files map[string]string) {
				for p := range files {
					if strings.HasPrefix(p, "pipelines/") {
						delete(files, p)
					}
				}
			}},
		{name: "disabled", rule: "layout/readme", kind: check.Disabled, reason: "disabled in .taskgate.yaml",
			change: func(_ *testing.T, files map[string]string) { files[".taskgate.yaml"] = "disable: [layout/readme]\n" }},
		{name: "severity off", rule: "tekton/conventions", kind: check.Disabled, reason: "disabled in .taskgate.yaml",
			change: func(_ *testing.T, files map[string]string) {
				files[".taskgate.yaml"] = "severity:\n  tekton/conventions: off\n"
			}},
		{name: "waived", rule: "privilege/privileged", kind: check.Waived, reason: "builds images in the step until the rootless builder lands",
			change: func(_ *testing.T, files map[string]string) {
				files[".taskgate.yaml"] = "waivers:\n  - task: hello-world\n    versions: [\"0.1\"]\n    rule: privilege/privileged\n" +
					"    reason: \"builds images in the step until the rootless builder lands\"\n    expires: 2999-01-01\n"
			}},
		{name: "skipped by the Task", rule: "tekton/conventions", kind: check.TaskSkipped, reason: "generated from upstream",
			change: func(_ *testing.T, files map[string]string) {
				files[helloFile] = strings.Replace(files[helloFile], "  annotations:\n",
					"  annotations:\n    taskgate.dev/skip: \"tekton/conventions # generated from upstream; Hub metadata is added at release\"\n", 1)
			}},
		{name: "needs a cluster", rule: "cluster/dry-run", kind: check.NeedsCluster, reason: "needs a cluster (taskgate dry-run)"},
		{name: "budget exceeded", rule: "tekton/schema", kind: check.Unfinished, reason: "time budget",
			plan: func(p *gate.Plan) { p.Settings.Budget = check.Budget{PerSubmission: 1} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			files := exampleCatalog(t)
			if c.change != nil {
				c.change(t, files)
			}
			plan, err := gate.Prepare(gate.Options{Root: testrepo.New(t, files)})
			if err != nil {
				t.Fatal(err)
			}
			if c.plan != nil {
				c.plan(plan)
			}
			res := plan.Run()
			if len(res.Submissions) != 1 {
				t.Fatalf("%d submissions, want the example's one", len(res.Submissions))
			}
			var st *check.Status
			for i := range res.Submissions[0].Checks {
				if s := res.Submissions[0].Checks[i]; s.Check == c.rule {
					st = s
				}
			}
			if st == nil || st.NotRun != c.kind || !strings.Contains(st.Skipped, c.reason) || st.Outcome() != "not-run" {
				t.Fatalf("status of %s: %+v, want %s: %q", c.rule, st, c.kind, c.reason)
			}
			if c.kind == check.Unfinished && res.Count(check.Error) == 0 {
				t.Error("a check that did not finish must fail the gate")
			}
			out := map[string]string{}
			for _, format := range report.Formats {
				out[format] = render(t, format, res)
				reason := c.reason
				if format == "markdown" { // escaped, as every text from the run
					reason = strings.NewReplacer("(", `\(`, ")", `\)`).Replace(reason)
				}
				if !strings.Contains(out[format], reason) && format != "github" {
					t.Errorf("%s does not say why %s did not run (%q):\n%s", format, c.rule, c.reason, out[format])
				}
			}
			checkTextNotRun(t, "text", out["text"], *st)
			checkTextNotRun(t, "log", out["log"], *st)
			checkJSONNotRun(t, out["json"], *st)
			checkJUnitNotRun(t, out["junit"], *st)
			checkSARIFNotRun(t, out["sarif"], *st)
			checkMarkdownNotRun(t, out["markdown"], *st)
			checkGitHubNotRun(t, out["github"], *st)
		})
	}
}

func checkTextNotRun(t *testing.T, format, out string, st check.Status) {
	t.Helper()
	// the rules not run for the same reason share a line: "not run: <who> a/x, b/y (<kind>): <reason>"
	line := regexp.MustCompile(`(?m)^not run: ` + regexp.QuoteMeta(helloID) + ` ([^ ]+, )*` + regexp.QuoteMeta(st.Check) + `(, [^ ]+)* \(`)
	if st.NotRun == check.Waived {
		line = regexp.MustCompile(`(?m)^waived: ` + regexp.QuoteMeta(helloID+" "+st.Check+" until 2999-01-01"))
	}
	if !line.MatchString(out) {
		t.Errorf("%s: no line %s:\n%s", format, line, out)
	}
	if !strings.Contains(out, "check(s) not run: ") {
		t.Errorf("%s: the summary does not count the checks not run:\n%s", format, out)
	}
}

func checkJSONNotRun(t *testing.T, out string, st check.Status) {
	t.Helper()
	var r report.JSONReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Summary.NotRun == 0 {
		t.Errorf("json: summary.notRun is 0")
	}
	for _, c := range r.Submissions[0].Checks {
		if c.Rule == st.Check {
			if c.Status != "not-run" || c.NotRun != st.NotRun || c.Reason != st.Skipped {
				t.Errorf("json: %+v, want not-run (%s): %q", c, st.NotRun, st.Skipped)
			}
			return
		}
	}
	t.Errorf("json: no status for %s", st.Check)
}

func checkJUnitNotRun(t *testing.T, out string, st check.Status) {
	t.Helper()
	doc := parseJUnit(t, out)
	var errs int
	for _, suite := range doc.Suites {
		skipped := 0
		for _, c := range suite.Cases {
			if c.Skipped != nil {
				skipped++
			}
			if c.Error != nil {
				errs++
			}
			if c.Name != st.Check {
				continue
			}
			switch {
			case st.NotRun == check.Unfinished && (c.Error == nil || !strings.Contains(c.Error.Message, st.Skipped)):
				t.Errorf("junit: %s did not finish, want an <error> saying why: %+v", st.Check, c)
			case st.NotRun != check.Unfinished && (c.Skipped == nil || !strings.Contains(c.Skipped.Message, st.Skipped)):
				t.Errorf("junit: %s did not run, want <skipped> saying why: %+v", st.Check, c)
			}
		}
		if suite.Skipped != skipped || skipped+errs == 0 {
			t.Errorf("junit: testsuite skipped=%d for %d skipped testcases (%d errors)", suite.Skipped, skipped, errs)
		}
	}
	if doc.Errors != errs {
		t.Errorf("junit: errors=%d for %d <error> testcases", doc.Errors, errs)
	}
}

func checkSARIFNotRun(t *testing.T, out string, st check.Status) {
	t.Helper()
	if err := sarifSchema(t).Validate(parseJSON(t, out)); err != nil {
		t.Fatalf("sarif fails the schema: %v", err)
	}
	type note struct {
		Level          string
		Message        struct{ Text string }
		AssociatedRule struct {
			ID    string
			Index int
		}
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct{ Rules []struct{ ID string } }
			}
			Invocations []struct {
				ExecutionSuccessful            bool
				ToolExecutionNotifications     []note
				ToolConfigurationNotifications []note
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || len(log.Runs) != 1 || len(log.Runs[0].Invocations) != 1 {
		t.Fatalf("sarif: %v", err)
	}
	run := log.Runs[0]
	inv := run.Invocations[0]
	notes, config := inv.ToolExecutionNotifications, false
	switch st.NotRun {
	case check.Disabled, check.Waived, check.TaskSkipped, check.NeedsCluster:
		notes, config = inv.ToolConfigurationNotifications, true
	}
	if inv.ExecutionSuccessful != (config && len(inv.ToolExecutionNotifications) == 0) {
		t.Errorf("sarif: executionSuccessful %v with %d execution notifications (%s)", inv.ExecutionSuccessful, len(inv.ToolExecutionNotifications), st.NotRun)
	}
	for _, n := range notes {
		if n.AssociatedRule.ID == st.Check {
			if run.Tool.Driver.Rules[n.AssociatedRule.Index].ID != st.Check || !strings.Contains(n.Message.Text, st.Skipped) {
				t.Errorf("sarif: notification %+v, want rule %s and %q", n, st.Check, st.Skipped)
			}
			return
		}
	}
	t.Errorf("sarif: no notification for %s (configuration: %v)", st.Check, config)
}

func checkMarkdownNotRun(t *testing.T, out string, st check.Status) {
	t.Helper()
	row := "| [" + st.Check + "][] | "
	i := strings.Index(out, row)
	if i < 0 {
		t.Fatalf("markdown: no row for %s:\n%s", st.Check, out)
	}
	cell := out[i+len(row):]
	cell = cell[:strings.Index(cell, "\n")]
	want := map[check.NotRun]string{check.Waived: "🛂 waived", check.Unfinished: "⛔ not finished"}[st.NotRun]
	if want == "" {
		want = "⏭️ not run"
	}
	if !strings.HasPrefix(cell, want) {
		t.Errorf("markdown: %s row %q, want %q", st.Check, cell, want)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "passed: ") && strings.Contains(l, "["+st.Check+"][]") {
			t.Errorf("markdown: %s is among the passed: %s", st.Check, l)
		}
	}
	if !strings.Contains(out, "not run") {
		t.Errorf("markdown: the verdict does not count the checks not run")
	}
}

func checkGitHubNotRun(t *testing.T, out string, st check.Status) {
	t.Helper()
	anns, other := parseAnnotations(t, out)
	if len(other) != 1 || !strings.Contains(other[0], "not run") {
		t.Errorf("github: the summary line does not count the checks not run: %q", other)
	}
	if st.NotRun == check.Disabled || st.NotRun == check.NeedsCluster {
		return // the catalog's or the command's choice: counted in the summary line
	}
	title := "not run: " + st.Check
	if st.NotRun == check.Waived {
		title = "waived " + st.Check
	}
	for _, a := range anns {
		if a.title == title {
			if st.NotRun != check.Waived && !strings.Contains(a.message, st.Skipped) {
				t.Errorf("github: %+v does not say why", a)
			}
			return
		}
	}
	t.Errorf("github: no annotation %q:\n%s", title, out)
}

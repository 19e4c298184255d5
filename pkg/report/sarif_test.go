// The format tests run the real checks (pkg/rules, whose families may use
// pkg/report: an import cycle from package report), so they are in package
// report_test. The helpers they share are in this file.
package report_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"taskgate.dev/taskgate/internal/testrepo"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/report"
	_ "taskgate.dev/taskgate/pkg/rules"
)

// corpus returns a directory of the repository's own test corpus
// (testdata/: hand-made build-definitions, partner submissions).
func corpus(t *testing.T, rel string) string { return testrepo.Testdata(t, rel) }

// validate runs every registered check on a repository, as `taskgate validate` does.
func validate(t *testing.T, root string) *check.Result {
	t.Helper()
	repo, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	subs, err := repo.Discover()
	if err != nil {
		t.Fatal(err)
	}
	set, err := check.Resolve(repo.Config, check.All())
	if err != nil {
		t.Fatal(err)
	}
	res := check.Run(subs, check.All(), set)
	if len(res.Submissions) == 0 {
		t.Fatalf("%s: no submission", root)
	}
	return res
}

var buildDefs struct {
	once sync.Once
	res  *check.Result
}

// buildDefinitions is the result over testdata's build-definitions (its
// pipelines' Tasks and a partner Task: 14 submissions, findings of most
// rules), computed once.
func buildDefinitions(t *testing.T) *check.Result {
	t.Helper()
	dir := corpus(t, "build-definitions")
	buildDefs.once.Do(func() { buildDefs.res = validate(t, dir) })
	if buildDefs.res == nil {
		t.Fatal("validating the corpus failed")
	}
	return buildDefs.res
}

// nastyText is what a partner's YAML can put into a message: Markdown,
// HTML, XML terminators, a control character, workflow-command syntax
// after a line break, and the escape characters of each format.
const nastyText = "image `a|b` <script>alert(1)</script> ]]> &amp; 100% [click](https://evil.example) ![i](https://evil.example/x.png) *bold* ~~gone~~ $x$\r\n::error file=evil.yaml::injected\x01, key: value"

// nastyHelp has several lines, one of them a code fence.
const nastyHelp = "pin `img@sha256:…` | <i>not</i> a tag\r\n```\n</code></pre><script>x</script>\n  50%"

const nastyFile = "partners/we ird,na:me/0.1/t%#.yaml"

// nastyResult is a hand-made result: one submission with nasty findings, a
// skipped check and a finding of a rule the result does not list, and one
// clean submission.
func nastyResult() *check.Result {
	checks := []*check.Check{
		{ID: "image/unpinned", Doc: "image not pinned by digest", Severity: check.Error, Help: "pin the image by digest"},
		{ID: "image/registry", Doc: "image outside the allowed registries", Severity: check.Error, Help: "use an allowed registry"},
		{ID: "layout/readme", Doc: "missing README", Severity: check.Warning},
	}
	id := "partners/we|ird/0.1"
	bad := check.SubmissionResult{ID: id, Name: "we|ird", Version: "0.1", File: nastyFile,
		Checks: []*check.Status{
			{Check: "image/unpinned", Errors: 2},
			{Check: "image/registry", Skipped: "skipped by taskgate.dev/skip: mirror | <b>proxy</b> `x`", NotRun: check.TaskSkipped},
			{Check: "layout/readme", Warnings: 1},
		},
		Findings: []check.Finding{
			{Rule: "image/unpinned", Severity: check.Error, File: nastyFile, Line: 7, Column: 14, Message: nastyText, Help: nastyHelp, Submission: id},
			{Rule: "image/unpinned", Severity: check.Error, File: nastyFile, Line: 9, Column: 3, Message: "second <error>", Submission: id},
			{Rule: "layout/readme", Severity: check.Warning, File: nastyFile, Line: 1, Column: 1, Message: "no README ]]> here", Help: "add one", Submission: id},
			{Rule: "tekton/made-up", Severity: check.Info, File: nastyFile, Line: 2, Column: 5, Message: "a rule the result does not list", Submission: id},
		},
	}
	check.Sort(bad.Findings)
	good := check.SubmissionResult{ID: "partners/fine/0.1", File: "partners/fine/0.1/fine.yaml",
		Checks: []*check.Status{{Check: "image/unpinned"}, {Check: "image/registry"}, {Check: "layout/readme"}}}
	return &check.Result{Checks: checks, Submissions: []check.SubmissionResult{bad, good}}
}

// testDocBase is where the format tests say the rule reference is.
const testDocBase = "https://docs.example.com/taskgate/rules.md"

func docURL(rule string) string { return report.Options{DocBase: testDocBase}.RuleURL(rule) }

// render writes a result in a format, rules linked at testDocBase.
func render(t *testing.T, format string, res *check.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.WriteWith(&b, format, res, report.Options{DocBase: testDocBase}); err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return b.String()
}

func TestEveryFormatIsWired(t *testing.T) {
	for _, f := range report.Formats {
		if out := render(t, f, nastyResult()); out == "" {
			t.Errorf("%s wrote nothing", f)
		}
	}
}

// sarifSchema compiles the OASIS SARIF 2.1.0 schema (testdata/README.md
// says where the copy comes from), with format assertions on.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func parseJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return v
}

// sarifDoc is the part of a SARIF log the tests read back.
type sarifDoc struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID               string `json:"id"`
					ShortDescription struct{ Text string }
					Help             *struct{ Text string }
					HelpURI          string `json:"helpUri"`
					Default          struct {
						Level string `json:"level"`
					} `json:"defaultConfiguration"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct{ Text string }
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine   int `json:"startLine"`
						StartColumn int `json:"startColumn"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
		} `json:"results"`
	} `json:"runs"`
}

var sarifLevels = map[check.Severity]string{check.Error: "error", check.Warning: "warning", check.Info: "note"}

// checkSARIF validates out against the schema and checks that it says
// exactly what the result says.
func checkSARIF(t *testing.T, sch *jsonschema.Schema, res *check.Result, out string) sarifDoc {
	t.Helper()
	if err := sch.Validate(parseJSON(t, out)); err != nil {
		t.Fatalf("SARIF output fails the SARIF 2.1.0 schema: %v", err)
	}
	var doc sarifDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 || doc.Runs[0].Tool.Driver.Name != "taskgate" {
		t.Fatalf("want one run of taskgate, SARIF 2.1.0: %+v", doc)
	}
	run := doc.Runs[0]
	rules := run.Tool.Driver.Rules
	for i, c := range res.Checks {
		r := rules[i]
		if r.ID != c.ID || r.ShortDescription.Text != c.Doc || r.HelpURI != docURL(c.ID) || r.Default.Level != sarifLevels[c.Severity] {
			t.Errorf("rule %d = %+v, want check %s", i, r, c.ID)
		}
		if c.Help != "" && (r.Help == nil || r.Help.Text != c.Help) {
			t.Errorf("rule %s: help %+v, want %q", c.ID, r.Help, c.Help)
		}
	}
	fs := res.Findings()
	if len(run.Results) != len(fs) {
		t.Fatalf("%d results for %d findings", len(run.Results), len(fs))
	}
	for i, f := range fs {
		r := run.Results[i]
		if r.RuleID != f.Rule || rules[r.RuleIndex].ID != f.Rule {
			t.Errorf("result %d: ruleId %s, rules[%d] %s; want %s", i, r.RuleID, r.RuleIndex, rules[r.RuleIndex].ID, f.Rule)
		}
		if r.Level != sarifLevels[f.Severity] {
			t.Errorf("result %d: level %s for %s", i, r.Level, f.Severity)
		}
		if !strings.Contains(r.Message.Text, f.Message) || !strings.Contains(r.Message.Text, f.Help) {
			t.Errorf("result %d: message %q lacks the finding's message or help", i, r.Message.Text)
		}
		loc := r.Locations[0].PhysicalLocation
		u, err := url.Parse(loc.ArtifactLocation.URI)
		if err != nil || u.Path != f.File || u.IsAbs() || loc.ArtifactLocation.URIBaseID != "%SRCROOT%" {
			t.Errorf("result %d: uri %q (base %s), want relative %q", i, loc.ArtifactLocation.URI, loc.ArtifactLocation.URIBaseID, f.File)
		}
		if loc.Region.StartLine != f.Line || loc.Region.StartColumn != f.Column {
			t.Errorf("result %d: region %d:%d, want %d:%d", i, loc.Region.StartLine, loc.Region.StartColumn, f.Line, f.Column)
		}
	}
	return doc
}

func TestSARIFCorpus(t *testing.T) {
	sch := sarifSchema(t)
	res := buildDefinitions(t)
	out := render(t, "sarif", res)
	doc := checkSARIF(t, sch, res, out)
	if n := len(doc.Runs[0].Results); n == 0 {
		t.Fatal("the build-definitions corpus gives findings; SARIF has none")
	}
	if len(doc.Runs[0].Tool.Driver.Rules) != len(res.Checks) {
		t.Errorf("%d rules for %d checks", len(doc.Runs[0].Tool.Driver.Rules), len(res.Checks))
	}
	if again := render(t, "sarif", res); again != out {
		t.Error("two renderings of the same result differ")
	}
	// Deterministic across runs of the (parallel) driver too.
	pr := corpus(t, "build-definitions/_pull-requests/pr-1")
	if a, b := render(t, "sarif", validate(t, pr)), render(t, "sarif", validate(t, pr)); a != b {
		t.Error("two runs over the same submission render different SARIF")
	}
}

func TestSARIFHandMade(t *testing.T) {
	res := nastyResult()
	doc := checkSARIF(t, sarifSchema(t), res, render(t, "sarif", res))
	rules := doc.Runs[0].Tool.Driver.Rules
	// The finding of a rule the result does not list gets a rule of its own.
	if last := rules[len(rules)-1]; len(rules) != len(res.Checks)+1 || last.ID != "tekton/made-up" || last.HelpURI != docURL("tekton/made-up") {
		t.Errorf("rules = %+v, want the checks then tekton/made-up", rules)
	}
	if uri := doc.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI; !strings.Contains(uri, "we%20ird") || strings.Contains(uri, "#") {
		t.Errorf("uri %q: space and # must be escaped", uri)
	}
}

func TestSARIFNoFindings(t *testing.T) {
	res := &check.Result{Checks: nastyResult().Checks}
	out := render(t, "sarif", res)
	checkSARIF(t, sarifSchema(t), res, out)
	if !strings.Contains(out, `"results": []`) {
		t.Error("a clean run must say `results: []` (SARIF: no results, as opposed to unknown)")
	}
}

// The schema test can fail: documents broken in ways a writer could break
// them are rejected.
func TestSARIFSchemaRejectsBrokenLogs(t *testing.T) {
	sch := sarifSchema(t)
	valid := render(t, "sarif", nastyResult())
	if err := sch.Validate(parseJSON(t, valid)); err != nil {
		t.Fatal(err)
	}
	breakers := map[string]func(log map[string]any){
		"no version": func(log map[string]any) { delete(log, "version") },
		"level fatal": func(log map[string]any) {
			result(log)["level"] = "fatal"
		},
		"line 0": func(log map[string]any) {
			loc := result(log)["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)
			loc["region"].(map[string]any)["startLine"] = 0
		},
		"message without text": func(log map[string]any) { result(log)["message"] = map[string]any{} },
		"unknown property":     func(log map[string]any) { log["extra"] = true },
		"ruleIndex -2":         func(log map[string]any) { result(log)["ruleIndex"] = -2 },
		"helpUri not a URI": func(log map[string]any) {
			driver := log["runs"].([]any)[0].(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any)
			driver["rules"].([]any)[0].(map[string]any)["helpUri"] = "docs/rules.md#x"
		},
	}
	for name, breakIt := range breakers {
		var log map[string]any
		if err := json.Unmarshal([]byte(valid), &log); err != nil {
			t.Fatal(err)
		}
		breakIt(log)
		b, err := json.Marshal(log)
		if err != nil {
			t.Fatal(err)
		}
		err = sch.Validate(parseJSON(t, string(b)))
		if err == nil {
			t.Errorf("%s: the schema accepted a broken SARIF log", name)
			continue
		}
		t.Logf("%s: rejected: %.200v", name, err)
	}
}

func result(log map[string]any) map[string]any {
	run := log["runs"].([]any)[0].(map[string]any)
	return run["results"].([]any)[0].(map[string]any)
}

// GitHub's SARIF requirements a REST upload must meet itself: rules with a
// fullDescription, the tool's version, and partialFingerprints that stay
// the same when the finding's lines move (GitHub matches alerts by them).
func TestSARIFFingerprintsSurviveLineMoves(t *testing.T) {
	src := corpus(t, "build-definitions/_pull-requests/pr-1")
	moved := t.TempDir()
	var taskFile string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".yaml") && strings.Contains(string(data), "kind: Task") && taskFile == "" {
			taskFile = rel
		}
		testrepo.Write(t, moved, map[string]string{rel: string(data)})
		return nil
	})
	if err != nil || taskFile == "" {
		t.Fatalf("copy: %v (task %q)", err, taskFile)
	}
	type result struct {
		RuleID    string
		Locations []struct {
			PhysicalLocation struct {
				ArtifactLocation struct{ URI string }
				Region           struct{ StartLine int }
			}
		}
		PartialFingerprints map[string]string
	}
	type log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Version string
					Rules   []struct {
						ID              string
						FullDescription struct{ Text string }
					}
				}
			}
			Results []result
		}
	}
	read := func(root string) log {
		var l log
		if err := json.Unmarshal([]byte(render(t, "sarif", validate(t, root))), &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	// the same checkout before and after: messages may name its path
	before := read(moved)
	data, err := os.ReadFile(filepath.Join(moved, taskFile))
	if err != nil {
		t.Fatal(err)
	}
	testrepo.Write(t, moved, map[string]string{taskFile: "# three lines\n# the partner\n# added\n" + string(data)})
	after := read(moved)
	if before.Runs[0].Tool.Driver.Version == "" {
		t.Error("tool.driver.version is empty")
	}
	for _, r := range before.Runs[0].Tool.Driver.Rules {
		if r.FullDescription.Text == "" {
			t.Errorf("rule %s has no fullDescription", r.ID)
		}
	}
	prints := func(l log) map[string]int {
		m := map[string]int{}
		for _, r := range l.Runs[0].Results {
			fp := r.PartialFingerprints[report.FingerprintKey]
			if fp == "" {
				t.Errorf("%s: no partialFingerprints[%s]", r.RuleID, report.FingerprintKey)
			}
			m[fp]++
		}
		return m
	}
	b, a := prints(before), prints(after)
	if len(before.Runs[0].Results) == 0 {
		t.Fatal("the partner PR gives no findings: nothing to compare")
	}
	for fp, n := range b {
		if n != 1 {
			t.Errorf("fingerprint %s on %d results: each result needs its own", fp, n)
		}
		if a[fp] != n {
			t.Errorf("fingerprint %s lost when lines moved", fp)
		}
	}
	movedLines := 0
	for i, r := range after.Runs[0].Results {
		if r.Locations[0].PhysicalLocation.ArtifactLocation.URI == filepath.ToSlash(taskFile) && i < len(before.Runs[0].Results) &&
			r.Locations[0].PhysicalLocation.Region.StartLine != before.Runs[0].Results[i].Locations[0].PhysicalLocation.Region.StartLine {
			movedLines++
		}
	}
	if movedLines == 0 {
		t.Errorf("no finding in %s moved: the test did not move anything", taskFile)
	}
}

// Package report renders the gate's result for people and tools: compiler
// style text, JSON, SARIF 2.1.0, JUnit XML, Markdown (the PR comment) and
// GitHub workflow annotations.
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/config"
	"taskgate.dev/taskgate/pkg/rules/owners"
)

// Formats lists the accepted --format values.
var Formats = []string{"text", "log", "json", "sarif", "junit", "markdown", "github"}

// writers maps a format to its renderer; each lives in its own file.
var writers = map[string]func(io.Writer, *check.Result, Options) error{
	"text":     Text,
	"json":     JSON,
	"sarif":    SARIF,
	"junit":    JUnit,
	"markdown": Markdown,
	"github":   GitHub,
	"log":      Log,
}

// Options change how a result reads, not what it says.
type Options struct {
	// Verbose lists every info finding in the text format (by default
	// their count: what a partner must act on comes first).
	Verbose bool
	// DocBase is where the rule reference (docs/rules.md) is published,
	// an absolute http(s) URL (--doc-base, .taskgate.yaml docBase:);
	// rules link their section there. Empty: no address is known, so
	// nothing links and rules name the shipped file (see RuleRef).
	DocBase string
}

// RulesFile is the rule reference shipped in taskgate's repository,
// generated from the registry (`make docs`).
const RulesFile = "docs/rules.md"

// RuleAnchor is the fragment of a rule's section in the rule reference:
// GitHub's anchor of its `### <id>` heading.
func RuleAnchor(rule string) string {
	return strings.NewReplacer("/", "", ".", "").Replace(strings.ToLower(rule))
}

// RuleURL links a rule's section of the rule reference at DocBase, or is
// "" when no base is known: a link must lead somewhere.
func (o Options) RuleURL(rule string) string {
	if o.DocBase == "" {
		return ""
	}
	return strings.TrimSuffix(o.DocBase, "#") + "#" + RuleAnchor(rule)
}

// RuleRef says where a rule is documented: its URL, else its section of
// the shipped rule reference (docs/rules.md#imagedigest).
func (o Options) RuleRef(rule string) string {
	if u := o.RuleURL(rule); u != "" {
		return u
	}
	return RulesFile + "#" + RuleAnchor(rule)
}

// Write renders a result in a format.
func Write(w io.Writer, format string, res *check.Result) error {
	return WriteWith(w, format, res, Options{})
}

// WriteWith renders a result in a format with options.
func WriteWith(w io.Writer, format string, res *check.Result, o Options) error {
	fn, ok := writers[format]
	if !ok {
		return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	return fn(w, res, o)
}

// Summary counts what the gate found.
type Summary struct {
	Submissions int `json:"submissions"`
	Errors      int `json:"errors"`
	Warnings    int `json:"warnings"`
	Infos       int `json:"infos"`
	// NotRun counts the checks that did not run on a submission (or did
	// not finish), waived ones included: `passed` says nothing of them.
	NotRun int  `json:"notRun"`
	Passed bool `json:"passed"`
}

// Summarize counts a result. The stand-in for the changed files outside
// any submission (owners.RepositoryID, judged for owners only) is not a
// submission: its findings count, it does not.
func Summarize(res *check.Result) Summary {
	s := Summary{Errors: res.Count(check.Error), Warnings: res.Count(check.Warning), Infos: res.Count(check.Info),
		NotRun: countNotRun(res)}
	for _, sub := range res.Submissions {
		if sub.ID != owners.RepositoryID {
			s.Submissions++
		}
	}
	s.Passed = s.Errors == 0
	return s
}

// writeHelp writes a help under its finding, a multi-line one (a YAML
// snippet to paste) as indented lines: an indented line cannot pass for
// a finding of its own, so its line breaks need no escaping.
func writeHelp(w io.Writer, help string) {
	for i, line := range strings.Split(strings.TrimSuffix(help, "\n"), "\n") {
		prefix := "    help: "
		if i > 0 {
			prefix = "          "
		}
		fmt.Fprintf(w, "%s%s\n", prefix, EscapeControls(line))
	}
}

// Text writes compiler-style lines, `file:line:col: severity rule:
// message`, each followed by its help: errors first, then warnings, then
// the infos (only their count unless o.Verbose); then the checks that did
// not run and why, the waivers in effect, the integration summaries and a
// one-line summary. What comes from the repository has its control
// characters escaped: one finding is one line, whatever the names it quotes.
func Text(w io.Writer, res *check.Result, o Options) error {
	all := res.Findings()
	infos := 0
	for _, sev := range []check.Severity{check.Error, check.Warning, check.Info} {
		for _, f := range all {
			if f.Severity != sev {
				continue
			}
			if sev == check.Info && !o.Verbose {
				infos++
				continue
			}
			fmt.Fprintf(w, "%s:%d:%d: %s %s: %s\n", EscapeControls(f.File), f.Line, f.Column, f.Severity, EscapeControls(f.Rule), EscapeControls(f.Message))
			if f.Help != "" {
				writeHelp(w, f.Help)
			}
		}
	}
	if infos > 0 {
		fmt.Fprintf(w, "%d info finding(s) not shown (-v shows them)\n", infos)
	}
	for _, l := range notRunLines(res, EscapeControls) {
		fmt.Fprintln(w, l)
	}
	for _, wv := range Waivers(res) {
		fmt.Fprintf(w, "waived: %s %s until %s (%s:%d): %s\n", EscapeControls(wv.Submission), wv.Rule, wv.Expires, wv.File, wv.Line, EscapeControls(wv.Reason))
	}
	writeIntegration(w, res, EscapeControls)
	return summaryLine(w, res)
}

// writeIntegration writes each submission's integration summary: its
// first line after the file, the others indented.
func writeIntegration(w io.Writer, res *check.Result, clean func(string) string) {
	for _, sub := range res.Submissions {
		if sub.Integration == nil {
			continue
		}
		for i, l := range sub.Integration.Lines {
			if i == 0 {
				fmt.Fprintf(w, "%s: integration: %s\n", clean(sub.File), clean(l))
				continue
			}
			fmt.Fprintf(w, "    %s\n", clean(strings.TrimLeft(l, " ")))
		}
	}
}

func summaryLine(w io.Writer, res *check.Result) error {
	s := Summarize(res)
	verdict := "passed"
	if !s.Passed {
		verdict = "FAILED"
	}
	notRun := ""
	if s.NotRun > 0 {
		notRun = fmt.Sprintf(", %d check(s) not run", s.NotRun)
	}
	_, err := fmt.Fprintf(w, "taskgate: %d submission(s), %d error(s), %d warning(s), %d info%s: %s\n",
		s.Submissions, s.Errors, s.Warnings, s.Infos, notRun, verdict)
	return err
}

// Log writes text for a pipeline's log that Pipelines-as-Code's error
// detection reads as taskgate means it. PaC turns every log line of a
// failed task that starts `file:line:` into a failure annotation (its
// default error-detection-simple-regexp), so only errors take that form;
// warnings and infos put the rule first, where their first colon is not
// followed by a line number. Line breaks in messages become spaces: a
// partner's text cannot forge a line of its own.
func Log(w io.Writer, res *check.Result, _ Options) error {
	replacer := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
	oneLine := func(s string) string { return EscapeControls(replacer.Replace(s)) } // and no ESC or bidi control either
	for _, f := range res.Findings() {
		msg := oneLine(f.Message)
		if f.Severity == check.Error {
			fmt.Fprintf(w, "%s:%d:%d: %s %s: %s\n", EscapeControls(f.File), f.Line, f.Column, f.Severity, f.Rule, msg)
		} else {
			fmt.Fprintf(w, "%s %s: %s (%s, line %d, column %d)\n", f.Severity, f.Rule, msg, EscapeControls(f.File), f.Line, f.Column)
		}
		if f.Help != "" {
			fmt.Fprintf(w, "    help: %s\n", oneLine(f.Help))
		}
	}
	for _, l := range notRunLines(res, oneLine) {
		fmt.Fprintln(w, l)
	}
	for _, wv := range Waivers(res) {
		fmt.Fprintf(w, "waived: %s %s until %s (%s, line %d): %s\n", EscapeControls(wv.Submission), wv.Rule, wv.Expires, wv.File, wv.Line, oneLine(wv.Reason))
	}
	writeIntegration(w, res, oneLine)
	return summaryLine(w, res)
}

// JSONReport is the shape of --format json (documented in DESIGN.md).
type JSONReport struct {
	Findings    []check.Finding  `json:"findings"`
	Summary     Summary          `json:"summary"`
	Submissions []JSONSubmission `json:"submissions"`
}

// JSONSubmission is the verdict on one submission.
type JSONSubmission struct {
	ID     string `json:"id"`
	File   string `json:"file"`
	Errors int    `json:"errors"`
	Passed bool   `json:"passed"`
	// Checks is every check's status on the submission.
	Checks []JSONCheck `json:"checks"`
	Waived []Waived    `json:"waived,omitempty"`
	// Fits is the integration verdict per build pipeline considered
	// (absent when the integration rules did not run).
	Fits []check.Fit `json:"fits,omitempty"`
}

// JSONCheck is one check's status on a submission: passed, failed (an
// error finding) or not-run, with the kind of reason (disabled, waived,
// skipped, unavailable, refused, unfinished) and the reason itself.
type JSONCheck struct {
	Rule     string       `json:"rule"`
	Status   string       `json:"status"`
	NotRun   check.NotRun `json:"notRun,omitempty"`
	Reason   string       `json:"reason,omitempty"`
	Errors   int          `json:"errors,omitempty"`
	Warnings int          `json:"warnings,omitempty"`
	Infos    int          `json:"infos,omitempty"`
}

// Waived is a waiver in effect: a rule that did not run on a submission
// because the maintainers waived it (File:Line is where).
type Waived struct {
	Submission string `json:"-"`
	Rule       string `json:"rule"`
	Reason     string `json:"reason"`
	Expires    string `json:"expires"`
	File       string `json:"file"`
	Line       int    `json:"line"`
}

// Waivers lists the waivers in effect in a result, by submission and rule.
func Waivers(res *check.Result) []Waived {
	var out []Waived
	for _, s := range res.Submissions {
		for _, st := range s.Checks {
			if w := st.Waiver; w != nil {
				out = append(out, Waived{Submission: s.ID, Rule: st.Check, Reason: w.Reason, Expires: w.Expires, File: config.FileName, Line: w.Line})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Submission != out[j].Submission {
			return out[i].Submission < out[j].Submission
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

// JSON writes the machine-readable report: a JSONReport, indented by two
// spaces, written element by element so that a catalog's report is never
// held whole in memory (its bytes are what encoding/json gives the whole).
func JSON(w io.Writer, res *check.Result, _ Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	findings := res.Findings()
	order := make([]int, len(res.Submissions))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return res.Submissions[order[i]].ID < res.Submissions[order[j]].ID })
	bw.WriteString("{\n  \"findings\": ")
	err := jsonArray(bw, len(findings), func(i int) any { return findings[i] })
	if err == nil {
		bw.WriteString(",\n  \"summary\": ")
		err = jsonValue(bw, "  ", Summarize(res))
	}
	if err == nil {
		bw.WriteString(",\n  \"submissions\": ")
		err = jsonArray(bw, len(order), func(i int) any { return jsonSubmission(res.Submissions[order[i]]) })
	}
	if err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// jsonArray writes n elements as an array at the report's second level.
func jsonArray(w *bufio.Writer, n int, elem func(int) any) error {
	if n == 0 {
		_, err := w.WriteString("[]")
		return err
	}
	w.WriteString("[")
	for i := range n {
		if i > 0 {
			w.WriteString(",")
		}
		w.WriteString("\n    ")
		if err := jsonValue(w, "    ", elem(i)); err != nil {
			return err
		}
	}
	_, err := w.WriteString("\n  ]")
	return err
}

func jsonValue(w *bufio.Writer, prefix string, v any) error {
	b, err := json.MarshalIndent(v, prefix, "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// jsonSubmission is a submission's verdict in the JSON report.
func jsonSubmission(s check.SubmissionResult) JSONSubmission {
	js := JSONSubmission{ID: s.ID, File: s.File, Errors: s.Errors(), Passed: s.Errors() == 0, Checks: []JSONCheck{}}
	js.Waived = append(js.Waived, Waivers(&check.Result{Submissions: []check.SubmissionResult{s}})...)
	if s.Integration != nil {
		js.Fits = s.Integration.Fits
	}
	for _, st := range s.Checks {
		jc := JSONCheck{Rule: st.Check, Status: st.Outcome(), Reason: st.Skipped, Errors: st.Errors, Warnings: st.Warnings, Infos: st.Infos}
		if !st.Ran() {
			jc.NotRun = st.NotRun
		}
		js.Checks = append(js.Checks, jc)
	}
	return js
}

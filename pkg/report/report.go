// Package report renders the gate's result for people and tools: compiler
// style text, JSON, SARIF 2.1.0, JUnit XML, Markdown (the PR comment) and
// GitHub workflow annotations.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/config"
)

// Formats lists the accepted --format values.
var Formats = []string{"text", "log", "json", "sarif", "junit", "markdown", "github"}

// writers maps a format to its renderer; each lives in its own file.
var writers = map[string]func(io.Writer, *check.Result) error{
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
}

// Write renders a result in a format.
func Write(w io.Writer, format string, res *check.Result) error {
	return WriteWith(w, format, res, Options{})
}

// WriteWith renders a result in a format with options.
func WriteWith(w io.Writer, format string, res *check.Result, o Options) error {
	if format == "text" {
		return TextWith(w, res, o)
	}
	fn, ok := writers[format]
	if !ok {
		return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	return fn(w, res)
}

// Summary counts what the gate found.
type Summary struct {
	Submissions int  `json:"submissions"`
	Errors      int  `json:"errors"`
	Warnings    int  `json:"warnings"`
	Infos       int  `json:"infos"`
	Passed      bool `json:"passed"`
}

// Summarize counts a result.
func Summarize(res *check.Result) Summary {
	s := Summary{Submissions: len(res.Submissions), Errors: res.Count(check.Error), Warnings: res.Count(check.Warning), Infos: res.Count(check.Info)}
	s.Passed = s.Errors == 0
	return s
}

// Text writes the text format without infos (see TextWith).
func Text(w io.Writer, res *check.Result) error { return TextWith(w, res, Options{}) }

// TextWith writes compiler-style lines, `file:line:col: severity rule:
// message`, each followed by its help: errors first, then warnings, then
// the infos (only their count unless o.Verbose); then the waivers in
// effect, the integration summaries and a one-line summary. What comes
// from the repository has its control characters escaped: one finding is
// one line, whatever the names it quotes.
func TextWith(w io.Writer, res *check.Result, o Options) error {
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
				fmt.Fprintf(w, "    help: %s\n", EscapeControls(f.Help))
			}
		}
	}
	if infos > 0 {
		fmt.Fprintf(w, "%d info finding(s) not shown (-v shows them)\n", infos)
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
	_, err := fmt.Fprintf(w, "taskgate: %d submission(s), %d error(s), %d warning(s), %d info: %s\n",
		s.Submissions, s.Errors, s.Warnings, s.Infos, verdict)
	return err
}

// Log writes text for a pipeline's log that Pipelines-as-Code's error
// detection reads as taskgate means it. PaC turns every log line of a
// failed task that starts `file:line:` into a failure annotation (its
// default error-detection-simple-regexp), so only errors take that form;
// warnings and infos put the rule first, where their first colon is not
// followed by a line number. Line breaks in messages become spaces: a
// partner's text cannot forge a line of its own.
func Log(w io.Writer, res *check.Result) error {
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
	ID      string            `json:"id"`
	File    string            `json:"file"`
	Errors  int               `json:"errors"`
	Passed  bool              `json:"passed"`
	Skipped map[string]string `json:"skipped,omitempty"`
	Waived  []Waived          `json:"waived,omitempty"`
	// Fits is the integration verdict per build pipeline considered
	// (absent when the integration rules did not run).
	Fits []check.Fit `json:"fits,omitempty"`
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

// JSON writes the machine-readable report.
func JSON(w io.Writer, res *check.Result) error {
	r := JSONReport{Findings: res.Findings(), Summary: Summarize(res), Submissions: []JSONSubmission{}}
	if r.Findings == nil {
		r.Findings = []check.Finding{}
	}
	for _, s := range res.Submissions {
		js := JSONSubmission{ID: s.ID, File: s.File, Errors: s.Errors(), Passed: s.Errors() == 0}
		for _, wv := range Waivers(&check.Result{Submissions: []check.SubmissionResult{s}}) {
			js.Waived = append(js.Waived, wv)
		}
		if s.Integration != nil {
			js.Fits = s.Integration.Fits
		}
		for _, st := range s.Checks {
			if st.Skipped != "" && st.Waiver == nil {
				if js.Skipped == nil {
					js.Skipped = map[string]string{}
				}
				js.Skipped[st.Check] = st.Skipped
			}
		}
		r.Submissions = append(r.Submissions, js)
	}
	sort.Slice(r.Submissions, func(i, j int) bool { return r.Submissions[i].ID < r.Submissions[j].ID })
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
)

type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Cases    []junitCase `xml:"testcase"`
		// SystemOut carries the integration summary.
		SystemOut string `xml:"system-out,omitempty"`
	}
	junitCase struct {
		Classname string        `xml:"classname,attr"`
		Name      string        `xml:"name,attr"`
		File      string        `xml:"file,attr,omitempty"`
		Failure   *junitFailure `xml:"failure"`
		Error     *junitFailure `xml:"error"`
		Skipped   *junitSkipped `xml:"skipped"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
)

// JUnit writes JUnit XML: a testsuite per submission, a testcase per check
// (classname the rule family), failed by its error findings; warnings and
// infos go to the testcase's system-out. A check that did not run is
// skipped, with why; one that did not finish (out of time, crashed, part
// of its input unchecked) is an error, JUnit's "could not complete": it
// fails the gate, which a skip would hide from a CI that counts failures.
func JUnit(w io.Writer, res *check.Result, _ Options) error {
	out := junitSuites{Name: "taskgate", Suites: []junitSuite{}}
	for _, s := range res.Submissions {
		suite := junitSuite{Name: s.ID}
		if s.Integration != nil {
			suite.SystemOut = "integration: " + strings.Join(s.Integration.Lines, "\n")
		}
		byRule := map[string][]check.Finding{}
		for _, f := range s.Findings {
			byRule[f.Rule] = append(byRule[f.Rule], f)
		}
		for _, st := range s.Checks {
			suite.Cases = append(suite.Cases, junitTestcase(*st, s.File, byRule[st.Check]))
			delete(byRule, st.Check)
		}
		// Findings of a rule without a status still show (never drop one).
		var rest []string
		for rule := range byRule {
			rest = append(rest, rule)
		}
		sort.Strings(rest)
		for _, rule := range rest {
			suite.Cases = append(suite.Cases, junitTestcase(check.Status{Check: rule}, s.File, byRule[rule]))
		}
		for _, c := range suite.Cases {
			suite.Tests++
			if c.Failure != nil {
				suite.Failures++
			}
			if c.Error != nil {
				suite.Errors++
			}
			if c.Skipped != nil {
				suite.Skipped++
			}
		}
		out.Tests += suite.Tests
		out.Failures += suite.Failures
		out.Errors += suite.Errors
		out.Skipped += suite.Skipped
		out.Suites = append(out.Suites, suite)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitTestcase(st check.Status, file string, fs []check.Finding) junitCase {
	rule := st.Check
	family, _, _ := strings.Cut(rule, "/")
	c := junitCase{Classname: family, Name: rule, File: file}
	if !st.Ran() && st.NotRun != check.Unfinished {
		c.Skipped = &junitSkipped{Message: notRunLabel(st) + ": " + st.Skipped}
	}
	var errs, others strings.Builder
	n := 0
	for _, f := range fs {
		b := &others
		if f.Severity == check.Error {
			b = &errs
			n++
		}
		fmt.Fprintf(b, "%s:%d:%d: %s: %s\n", f.File, f.Line, f.Column, f.Severity, f.Message)
		if f.Help != "" {
			fmt.Fprintf(b, "    help: %s\n", f.Help)
		}
	}
	switch {
	case st.NotRun == check.Unfinished:
		c.Error = &junitFailure{Message: notRunLabel(st) + ": " + st.Skipped, Type: rule, Text: errs.String()}
	case n > 0:
		c.Failure = &junitFailure{Message: fmt.Sprintf("%s: %s", plural(n, "error"), firstError(fs)), Type: rule, Text: errs.String()}
	}
	c.SystemOut = others.String()
	return c
}

func firstError(fs []check.Finding) string {
	for _, f := range fs {
		if f.Severity == check.Error {
			return f.Message
		}
	}
	return ""
}

// plural writes "1 error", "2 errors".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

package report_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
)

// junitDoc is JUnit XML read back with encoding/xml, independently of the
// writer's types.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func parseJUnit(t *testing.T, out string) junitDoc {
	t.Helper()
	if !strings.HasPrefix(out, xml.Header) {
		t.Errorf("no XML declaration: %.60q", out)
	}
	// Well-formed: the tokenizer reads it to the end.
	d := xml.NewDecoder(strings.NewReader(out))
	for {
		_, err := d.Token()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("JUnit output is not well-formed XML: %v", err)
			}
			break
		}
	}
	var doc junitDoc
	if err := xml.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// checkJUnit checks that the XML says what the result says.
func checkJUnit(t *testing.T, res *check.Result, doc junitDoc) {
	t.Helper()
	if len(doc.Suites) != len(res.Submissions) {
		t.Fatalf("%d testsuites for %d submissions", len(doc.Suites), len(res.Submissions))
	}
	tests, failures, skipped := 0, 0, 0
	for i, s := range res.Submissions {
		suite := doc.Suites[i]
		if suite.Name != s.ID {
			t.Errorf("testsuite %d named %q, want %q", i, suite.Name, s.ID)
		}
		if len(suite.Cases) < len(s.Checks) || suite.Tests != len(suite.Cases) {
			t.Errorf("%s: %d testcases (tests=%d) for %d checks", s.ID, len(suite.Cases), suite.Tests, len(s.Checks))
		}
		for j, st := range s.Checks {
			c := suite.Cases[j]
			family, _, _ := strings.Cut(st.Check, "/")
			if c.Name != st.Check || c.Classname != family {
				t.Errorf("%s: testcase %s.%s, want %s.%s", s.ID, c.Classname, c.Name, family, st.Check)
			}
			// a check that did not finish is an error (it fails the gate);
			// one that did not run is skipped, saying why
			unfinished := st.NotRun == check.Unfinished
			if (c.Failure != nil) != (st.Errors > 0 && !unfinished) || (c.Error != nil) != unfinished {
				t.Errorf("%s %s: failure %v, error %v with %d errors (%s)", s.ID, st.Check, c.Failure != nil, c.Error != nil, st.Errors, st.NotRun)
			}
			if c.Error != nil && !strings.HasSuffix(c.Error.Message, ": "+st.Skipped) {
				t.Errorf("%s %s: error %q does not say why (%q)", s.ID, st.Check, c.Error.Message, st.Skipped)
			}
			if (c.Skipped != nil) != (!st.Ran() && !unfinished) || (c.Skipped != nil && !strings.HasSuffix(c.Skipped.Message, ": "+st.Skipped)) {
				t.Errorf("%s %s: skipped %+v, want %q", s.ID, st.Check, c.Skipped, st.Skipped)
			}
		}
		byRule := map[string]int{}
		for j, c := range suite.Cases {
			byRule[c.Name] = j
		}
		for _, f := range s.Findings {
			c := suite.Cases[byRule[f.Rule]]
			where := fmt.Sprintf("%s:%d:%d: %s: %s", f.File, f.Line, f.Column, f.Severity, firstLine(f.Message))
			text := c.SystemOut
			if f.Severity == check.Error {
				text = c.Failure.Text
			}
			if !strings.Contains(text, where) || !strings.Contains(text, firstLine(f.Help)) {
				t.Errorf("%s %s: %q does not hold the finding %q with its help", s.ID, f.Rule, text, where)
			}
		}
		tests += suite.Tests
		failures += suite.Failures
		skipped += suite.Skipped
	}
	if doc.Tests != tests || doc.Failures != failures || doc.Skipped != skipped {
		t.Errorf("testsuites counts %d/%d/%d, suites add up to %d/%d/%d", doc.Tests, doc.Failures, doc.Skipped, tests, failures, skipped)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\r")
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func TestJUnitCorpus(t *testing.T) {
	res := buildDefinitions(t)
	doc := parseJUnit(t, render(t, "junit", res))
	checkJUnit(t, res, doc)
	if doc.Failures == 0 || doc.Tests != len(res.Submissions)*len(res.Checks) {
		t.Errorf("tests=%d failures=%d, want %d tests and some failures", doc.Tests, doc.Failures, len(res.Submissions)*len(res.Checks))
	}
}

func TestJUnitHandMade(t *testing.T) {
	res := nastyResult()
	doc := parseJUnit(t, render(t, "junit", res))
	checkJUnit(t, res, doc)
	bad := doc.Suites[0]
	if len(bad.Cases) != 4 || bad.Cases[3].Name != "tekton/made-up" || bad.Cases[3].Classname != "tekton" {
		t.Fatalf("want the 3 checks then tekton/made-up: %+v", bad.Cases)
	}
	if bad.Failures != 1 || bad.Skipped != 1 || doc.Suites[1].Failures != 0 {
		t.Errorf("failures/skipped = %d/%d, want 1/1", bad.Failures, bad.Skipped)
	}
	// Text survives the round trip: markup stays text, the control
	// character (not allowed in XML 1.0) becomes U+FFFD.
	f := bad.Cases[0].Failure
	if !strings.HasPrefix(f.Message, "2 errors: ") || !strings.Contains(f.Text, "<script>alert(1)</script> ]]> &amp; 100%") ||
		!strings.Contains(f.Text, "\uFFFD") || strings.ContainsRune(f.Text, '\x01') {
		t.Errorf("failure = %+v", f)
	}
	if out := bad.Cases[2].SystemOut; !strings.Contains(out, "warning: no README ]]> here") {
		t.Errorf("the warning is not in system-out: %q", out)
	}
}

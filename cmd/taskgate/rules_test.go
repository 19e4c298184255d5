package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/report"
)

func TestRulesLists(t *testing.T) {
	code, out, errOut := runCLI("rules")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	all := check.All()
	if len(all) < 10 || len(strings.Split(strings.TrimSpace(out), "\n")) != len(all)+1 {
		t.Fatalf("want a header and %d rules:\n%s", len(all), out)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 {
			lines[f[0]] = strings.Join(f[1:], " ")
		}
	}
	for _, c := range all {
		if want := c.Severity.String() + " " + strings.Join(strings.Fields(c.Doc), " "); lines[c.ID] != want {
			t.Errorf("`taskgate rules` says %q for %s, want %q", lines[c.ID], c.ID, want)
		}
	}
	for _, args := range [][]string{{"rules", "--format", "yaml"}, {"rules", "extra"}} {
		if code, _, errOut := runCLI(args...); code != exitUsage || errOut == "" {
			t.Errorf("%v: want exit 2 with a message, got %d", args, code)
		}
	}
}

// Every rule carries what `explain` and docs/rules.md print.
func TestEveryRuleIsDocumented(t *testing.T) {
	for _, c := range check.All() {
		if c.Doc == "" || c.Help == "" || strings.TrimSpace(c.Bad) == "" || strings.TrimSpace(c.Fixed) == "" {
			t.Errorf("%s: Doc, Help, Bad and Fixed are all required", c.ID)
		}
		if c.Bad == c.Fixed {
			t.Errorf("%s: Bad and Fixed are the same", c.ID)
		}
	}
}

func TestExplain(t *testing.T) {
	explains := func(t *testing.T, id string) {
		c := check.Lookup(id)
		if c == nil {
			t.Fatalf("%s is not registered", id)
		}
		code, out, errOut := runCLI("explain", id)
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, part := range []string{id + " (" + c.Severity.String() + ")", c.Doc, c.Help, indent(c.Bad), indent(c.Fixed), "Reference: docs/rules.md#" + report.RuleAnchor(id)} {
			if !strings.Contains(out, part) {
				t.Errorf("explain %s lacks\n%s\nin\n%s", id, part, out)
			}
		}
		if strings.Index(out, indent(c.Bad)) > strings.Index(out, indent(c.Fixed)) {
			t.Error("the rejected example comes before the fixed one")
		}
	}
	t.Run("lint", func(t *testing.T) { explains(t, "layout/version-label") })
	t.Run("doc-base", func(t *testing.T) {
		code, out, errOut := runCLI("explain", "--doc-base", "https://example.com/taskgate/docs/rules.md", "image/digest")
		if code != exitOK || !strings.Contains(out, "Reference: https://example.com/taskgate/docs/rules.md#imagedigest\n") {
			t.Errorf("exit %d\n%s%s", code, out, errOut)
		}
		if code, _, errOut := runCLI("explain", "--doc-base", "docs/rules.md", "image/digest"); code != exitUsage || !strings.Contains(errOut, "not an absolute http(s) URL") {
			t.Errorf("a relative --doc-base: exit %d: %s", code, errOut)
		}
	})
	t.Run("param-injection", func(t *testing.T) { explains(t, "script/param-injection") })
	t.Run("owners", func(t *testing.T) { explains(t, "owners/unauthorized") })

	for _, tc := range []struct{ arg, want string }{
		{"layout/pth", "did you mean layout/path?"},
		{"Layout/Readme", "did you mean layout/readme?"},
		{"readme", "layout/readme"},
		{"zzzzzzzzzz", "`taskgate rules` lists them"},
	} {
		code, out, errOut := runCLI("explain", tc.arg)
		if code != exitUsage || out != "" || !strings.Contains(errOut, `unknown rule "`+tc.arg+`"`) || !strings.Contains(errOut, tc.want) {
			t.Errorf("explain %s: exit %d, stderr %q, want %q", tc.arg, code, errOut, tc.want)
		}
	}
	if check.Lookup("script/param-injection") != nil {
		if _, _, errOut := runCLI("explain", "param-injection"); !strings.Contains(errOut, "did you mean script/param-injection?") {
			t.Errorf("a rule named without its family: %q", errOut)
		}
	}
	for _, args := range [][]string{{"explain"}, {"explain", "a", "b"}} {
		if code, _, _ := runCLI(args...); code != exitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

// docs/rules.md is generated from the registry; this fails when a rule
// changed and nobody regenerated it.
func TestDocsUpToDate(t *testing.T) {
	var want bytes.Buffer
	writeRulesMarkdown(&want, check.All())
	have, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatalf("%v: generate it with `make docs`", err)
	}
	if !bytes.Equal(have, want.Bytes()) {
		h, w := strings.Split(string(have), "\n"), strings.Split(want.String(), "\n")
		i := 0
		for i < len(h) && i < len(w) && h[i] == w[i] {
			i++
		}
		line := func(l []string) string {
			if i < len(l) {
				return l[i]
			}
			return "(end of file)"
		}
		t.Fatalf("docs/rules.md is stale: run `make docs` (go run ./cmd/taskgate rules --format markdown > docs/rules.md) and commit it\nline %d: have %q\n          want %q", i+1, line(h), line(w))
	}
}

// githubAnchor is the id GitHub gives a heading: lower case, punctuation
// other than '-' and '_' dropped, spaces to '-', repeats suffixed -1, -2.
func githubAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestDocAnchorsMatchRuleAnchor(t *testing.T) {
	data, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]int{}
	fence := ""
	for _, l := range strings.Split(string(data), "\n") {
		if trimmed := strings.TrimLeft(l, "`"); len(l)-len(trimmed) >= 3 {
			switch mark := l[:len(l)-len(trimmed)]; {
			case fence == "":
				fence = mark
			case mark == fence && trimmed == "":
				fence = ""
			}
			continue
		}
		if fence == "" && strings.HasPrefix(l, "#") {
			anchors[githubAnchor(strings.TrimLeft(l, "#"))]++
		}
	}
	if fence != "" {
		t.Fatal("an unclosed code fence")
	}
	for a, n := range anchors {
		if n > 1 {
			t.Errorf("anchor #%s is used by %d headings: GitHub would number them", a, n)
		}
	}
	for _, c := range check.All() {
		if frag := report.RuleAnchor(c.ID); anchors[frag] != 1 {
			t.Errorf("%s links #%s, but docs/rules.md has no heading with that anchor", c.ID, frag)
		}
	}
}

// Every finding of a failing run links its rule's section where the docs
// are published: --doc-base, else .taskgate.yaml's docBase; with neither,
// nothing links (a PR comment resolves no relative link to taskgate's
// docs, SARIF wants absolute URIs) and the comment names the shipped file.
func TestReportsLinkRuleDocs(t *testing.T) {
	const fromConfig, fromFlag = "https://docs.example.com/taskgate/v1/rules.md", "https://github.com/acme/taskgate/blob/main/docs/rules.md"
	for _, c := range []struct {
		name, config, flag, want string
	}{
		{"none", "", "", ""},
		{"config", "docBase: " + fromConfig + "\n", "", fromConfig},
		{"flag over config", "docBase: " + fromConfig + "\n", fromFlag, fromFlag},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  steps:\n    - image: alpine\n      scirpt: echo\n")
			testrepo.Write(t, root, map[string]string{"README.md": "catalog\n", ".taskgate.yaml": c.config})
			testrepo.Git(t, root, "init", "-q", "-b", "main")
			testrepo.Git(t, root, "add", "README.md", ".taskgate.yaml")
			testrepo.Git(t, root, "commit", "-qm", "base") // the partner's files are the (uncommitted) change
			args := []string{"validate", root, "--changed-from", "HEAD", "--author", "eve"}
			if c.flag != "" {
				args = append(args, "--doc-base", c.flag)
			}
			url := func(rule string) string { return report.Options{DocBase: c.want}.RuleURL(rule) }

			code, out, errOut := runCLI(append(args, "--format", "json")...)
			var rep struct {
				Findings []check.Finding `json:"findings"`
			}
			if code != exitFindings || json.Unmarshal([]byte(out), &rep) != nil {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			fired := map[string]bool{}
			for _, f := range rep.Findings {
				fired[f.Rule] = true
			}
			for _, want := range []string{"tekton/schema", "owners/unauthorized"} {
				if !fired[want] {
					t.Errorf("%s did not fire: %+v", want, rep.Findings)
				}
			}

			_, md, _ := runCLI(append(args, "--format", "markdown")...)
			_, sarif, _ := runCLI(append(args, "--format", "sarif")...)
			var log struct {
				Runs []struct {
					Tool struct {
						Driver struct {
							InformationURI *string `json:"informationUri"`
							Rules          []struct {
								ID      string  `json:"id"`
								HelpURI *string `json:"helpUri"`
							} `json:"rules"`
						} `json:"driver"`
					} `json:"tool"`
					Results []struct {
						RuleID    string `json:"ruleId"`
						RuleIndex int    `json:"ruleIndex"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(sarif), &log); err != nil || len(log.Runs) != 1 {
				t.Fatalf("sarif: %v\n%s", err, sarif)
			}
			run := log.Runs[0]
			if info := run.Tool.Driver.InformationURI; (info == nil) != (c.want == "") || (info != nil && *info != c.want) {
				t.Errorf("informationUri %v, want %q (absent when empty)", info, c.want)
			}
			linked := map[string]bool{}
			for _, r := range run.Results {
				if r.RuleIndex < 0 || r.RuleIndex >= len(run.Tool.Driver.Rules) {
					t.Fatalf("result %s: ruleIndex %d out of range", r.RuleID, r.RuleIndex)
				}
				rule := run.Tool.Driver.Rules[r.RuleIndex]
				if rule.ID != r.RuleID || (rule.HelpURI == nil) != (c.want == "") || (rule.HelpURI != nil && *rule.HelpURI != url(r.RuleID)) {
					t.Errorf("result %s: rule %s helpUri %v, want %q (absent when empty)", r.RuleID, rule.ID, rule.HelpURI, url(r.RuleID))
				}
				linked[r.RuleID] = true
			}
			for rule := range fired {
				if !linked[rule] {
					t.Errorf("sarif: no result for %s", rule)
				}
				switch {
				case c.want != "" && !strings.Contains(md, "\n["+rule+"]: "+url(rule)+"\n"):
					t.Errorf("markdown: no link to %s", url(rule))
				case c.want == "" && (strings.Contains(md, "["+rule+"]") || !strings.Contains(md, "`"+rule+"`")):
					t.Errorf("markdown: %s must be named, not linked", rule)
				}
			}
			if c.want == "" && (strings.Contains(md, "https://") || !strings.Contains(md, "`taskgate explain RULE`")) {
				t.Errorf("markdown without a doc base: no address, and say where rules are explained:\n%s", md)
			}
		})
	}
	if code, _, errOut := runCLI("validate", "../../examples/catalog", "--doc-base", "ftp://x/rules.md"); code != exitUsage || !strings.Contains(errOut, "--doc-base") {
		t.Errorf("a bad --doc-base: exit %d: %s", code, errOut)
	}
}

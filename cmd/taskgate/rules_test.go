package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"taskgate.dev/taskgate/pkg/check"
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
		for _, part := range []string{id + " (" + c.Severity.String() + ")", c.Doc, c.Help, indent(c.Bad), indent(c.Fixed), check.DocURL(id)} {
			if !strings.Contains(out, part) {
				t.Errorf("explain %s lacks\n%s\nin\n%s", id, part, out)
			}
		}
		if strings.Index(out, indent(c.Bad)) > strings.Index(out, indent(c.Fixed)) {
			t.Error("the rejected example comes before the fixed one")
		}
	}
	t.Run("lint", func(t *testing.T) { explains(t, "layout/version-label") })
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

func TestDocAnchorsMatchDocURL(t *testing.T) {
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
		_, frag, _ := strings.Cut(check.DocURL(c.ID), "#")
		if anchors[frag] != 1 {
			t.Errorf("%s links %s, but docs/rules.md has no heading with that anchor", c.ID, check.DocURL(c.ID))
		}
	}
}

// Every finding of a failing run links its rule's section, in the PR
// comment (Markdown) and in code scanning (SARIF helpUri).
func TestReportsLinkRuleDocs(t *testing.T) {
	root := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  steps:\n    - image: alpine\n      scirpt: echo\n")
	gitCmd := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", root, "-c", "user.email=t@t", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "README.md"), []byte("catalog\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitCmd("init", "-q", "-b", "main")
	gitCmd("add", "README.md")
	gitCmd("commit", "-qm", "base") // the partner's files are the (uncommitted) change
	args := []string{"validate", root, "--changed-from", "HEAD", "--author", "eve"}

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
					Rules []struct {
						ID      string `json:"id"`
						HelpURI string `json:"helpUri"`
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
	linked := map[string]bool{}
	for _, r := range run.Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(run.Tool.Driver.Rules) {
			t.Fatalf("result %s: ruleIndex %d out of range", r.RuleID, r.RuleIndex)
		}
		if rule := run.Tool.Driver.Rules[r.RuleIndex]; rule.ID != r.RuleID || rule.HelpURI != check.DocURL(r.RuleID) {
			t.Errorf("result %s: rule %+v, want helpUri %s", r.RuleID, rule, check.DocURL(r.RuleID))
		}
		linked[r.RuleID] = true
	}
	for rule := range fired {
		if !linked[rule] {
			t.Errorf("sarif: no result for %s", rule)
		}
		if !strings.Contains(md, check.DocURL(rule)) {
			t.Errorf("markdown: no link to %s", check.DocURL(rule))
		}
	}
}

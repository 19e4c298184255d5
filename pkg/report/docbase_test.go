package report_test

import (
	"bytes"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/report"
)

// Without a doc base no address is known: nothing links (a link must lead
// somewhere), the comment names each rule and says where rules are
// explained, and SARIF leaves its URIs out (it wants them absolute).
func TestNoDocBaseLinksNothing(t *testing.T) {
	res := nastyResult()
	var md, sarif bytes.Buffer
	if err := report.Write(&md, "markdown", res); err != nil {
		t.Fatal(err)
	}
	if err := report.Write(&sarif, "sarif", res); err != nil {
		t.Fatal(err)
	}
	s := parseMarkdown(t, md.String())
	if len(s.links) != 0 || len(s.bad) != 0 {
		t.Errorf("links %q, bad markup %q: want none", s.links, s.bad)
	}
	for _, want := range []string{"| `image/registry` | ⏭️ not run", "`image/unpinned`: image", "`taskgate explain RULE` explains a rule"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if err := sarifSchema(t).Validate(parseJSON(t, sarif.String())); err != nil {
		t.Errorf("SARIF without a doc base fails the schema: %v", err)
	}
	if strings.Contains(sarif.String(), `"helpUri"`) || strings.Contains(sarif.String(), `"informationUri"`) {
		t.Errorf("SARIF without a doc base has URIs:\n%s", sarif.String())
	}
}

func TestRuleRef(t *testing.T) {
	for _, c := range []struct{ base, rule, url, ref string }{
		{"", "image/digest", "", "docs/rules.md#imagedigest"},
		{"https://x.example/taskgate/rules.md", "layout/version-label", "https://x.example/taskgate/rules.md#layoutversion-label", "https://x.example/taskgate/rules.md#layoutversion-label"},
	} {
		o := report.Options{DocBase: c.base}
		if got := o.RuleURL(c.rule); got != c.url {
			t.Errorf("RuleURL(%q) at %q = %q, want %q", c.rule, c.base, got, c.url)
		}
		if got := o.RuleRef(c.rule); got != c.ref {
			t.Errorf("RuleRef(%q) at %q = %q, want %q", c.rule, c.base, got, c.ref)
		}
	}
}

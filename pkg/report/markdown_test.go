package report_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/report"
)

// GitHub's comment limit is 65536 characters; the writer keeps below 60000.
const commentLimit = 60000

// gfm renders like GitHub (GFM tables, strikethrough, autolinks), raw
// HTML passed through, so that any HTML the writer lets in shows.
var gfm = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))

// mdShape is what a comment contains once parsed as GFM.
type mdShape struct {
	tables, items int
	cellsPerRow   map[int]int // number of cells -> rows with that many
	codeSpans     []string
	codeBlocks    []string
	links         []string // destinations
	bad           []string // markup the writer must never produce from data
}

func parseMarkdown(t *testing.T, src string) mdShape {
	t.Helper()
	s := mdShape{cellsPerRow: map[int]int{}}
	source := []byte(src)
	doc := gfm.Parser().Parse(text.NewReader(source))
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *east.Table:
			s.tables++
		case *east.TableRow, *east.TableHeader:
			s.cellsPerRow[n.ChildCount()]++
		case *ast.ListItem:
			s.items++
		case *ast.CodeSpan:
			s.codeSpans = append(s.codeSpans, string(n.Text(source)))
		case *ast.FencedCodeBlock:
			var b strings.Builder
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				b.Write(seg.Value(source))
			}
			s.codeBlocks = append(s.codeBlocks, b.String())
		case *ast.Link:
			s.links = append(s.links, string(n.Destination))
		case *ast.RawHTML:
			var b strings.Builder
			for i := 0; i < n.Segments.Len(); i++ {
				seg := n.Segments.At(i)
				b.Write(seg.Value(source))
			}
			if b.String() != "<br>" {
				s.bad = append(s.bad, "raw HTML "+b.String())
			}
		case *ast.HTMLBlock:
			if l := n.Lines(); l.Len() != 1 || strings.TrimSpace(string(source[l.At(0).Start:l.At(0).Stop])) != report.MarkdownMarker {
				s.bad = append(s.bad, "HTML block")
			}
		case *ast.Emphasis:
			if !omittedLine.MatchString("**" + string(n.Text(source)) + "**") { // the writer's own
				s.bad = append(s.bad, fmt.Sprintf("emphasis %q", n.Text(source)))
			}
		case *ast.Heading:
			if n.Level < 2 || n.Level > 3 { // the writer's own are ## and ###
				s.bad = append(s.bad, fmt.Sprintf("heading %q", n.Text(source)))
			}
		case *ast.Image, *east.Strikethrough:
			s.bad = append(s.bad, fmt.Sprintf("%s %q", n.Kind(), n.Text(source)))
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func toHTML(t *testing.T, src string) string {
	t.Helper()
	var b bytes.Buffer
	if err := gfm.Convert([]byte(src), &b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var omittedLine = regexp.MustCompile(`\*\*(\d+) more findings? omitted\*\*`)

// findingsShown counts the finding items and the findings said omitted.
func findingsShown(t *testing.T, src string) (shown, omitted int) {
	t.Helper()
	for _, l := range strings.Split(src, "\n") {
		if strings.HasPrefix(l, "- ") {
			shown++
		}
	}
	if m := omittedLine.FindStringSubmatch(src); m != nil {
		omitted, _ = strconv.Atoi(m[1])
	}
	return shown, omitted
}

func TestMarkdownEscapesSubmissionText(t *testing.T) {
	res := nastyResult()
	src := render(t, "markdown", res)
	if !strings.HasPrefix(src, report.MarkdownMarker+"\n## ❌ taskgate: failed\n") {
		t.Errorf("want the marker and a failed verdict first: %.80q", src)
	}
	s := parseMarkdown(t, src)
	if len(s.bad) > 0 {
		t.Errorf("submission text turned into markup: %q", s.bad)
	}
	// The clean submission has no table: one line names its checks.
	if s.tables != 1 || len(s.cellsPerRow) != 1 || s.cellsPerRow[2] != 1+3 {
		t.Errorf("tables %d, rows by cell count %v: want 1 table of 2 columns (1 header, 3 rows)", s.tables, s.cellsPerRow)
	}
	if s.items != 4 || len(s.codeSpans) != 4 || s.codeSpans[0] != nastyFile+":7:14" {
		t.Errorf("items %d, code spans %q: want one per finding, errors first, the location verbatim", s.items, s.codeSpans)
	}
	if !strings.Contains(src, "\n✅ 3 checks passed: [image/unpinned][], [image/registry][], [layout/readme][].\n") {
		t.Errorf("the clean submission's checks should share one line:\n%s", src)
	}
	for _, l := range s.links {
		if !strings.HasPrefix(l, testDocBase+"#") {
			t.Errorf("link to %q: only rule documentation may be linked", l)
		}
	}
	if len(s.links) != 3+4+3 {
		t.Errorf("%d rule links, want 10 (3 table rows, 4 findings, 3 passed checks)", len(s.links))
	}
	out := toHTML(t, src)
	for _, want := range []string{
		"image `a|b` &lt;script&gt;alert(1)&lt;/script&gt; ]]&gt; &amp;amp; 100%", // the message, as text
		"mirror | &lt;b&gt;proxy&lt;/b&gt; `x`",                                   // the skip reason, in one cell
		"$x$ ::error file=evil.yaml::injected\uFFFD, key: value",                  // CRLF a space, control char replaced
		`<a href="` + docURL("image/unpinned") + `">image/unpinned</a>: image`,    // the rule links its doc
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered comment lacks %q:\n%s", want, out)
		}
	}
	// The help of several lines is one code block, verbatim.
	if want := "pin `img@sha256:…` | <i>not</i> a tag\n```\n</code></pre><script>x</script>\n  50%\n"; len(s.codeBlocks) != 1 || s.codeBlocks[0] != want {
		t.Errorf("code blocks %q, want [%q]", s.codeBlocks, want)
	}
	if strings.Contains(src, "\x01") || !strings.Contains(src, `a\|b`) {
		t.Error("`|` must be escaped and control characters dropped")
	}
}

func TestMarkdownCorpus(t *testing.T) {
	res := buildDefinitions(t)
	src := render(t, "markdown", res)
	if len(src) > commentLimit {
		t.Fatalf("comment of %d bytes, over %d", len(src), commentLimit)
	}
	total := len(res.Findings())
	shown, omitted := findingsShown(t, src)
	if shown+omitted != total || shown == 0 {
		t.Errorf("%d findings shown + %d omitted, want %d in all", shown, omitted, total)
	}
	s := parseMarkdown(t, src)
	if len(s.bad) > 0 || len(s.cellsPerRow) != 1 || s.cellsPerRow[2] == 0 {
		t.Errorf("bad markup %q or table rows %v", s.bad, s.cellsPerRow)
	}
	// Failed submissions come first: the first finding shown is the first
	// error of the first submission with errors.
	for _, sub := range res.Submissions {
		if sub.Errors() > 0 {
			f := bySeverity(sub.Findings)[0]
			if want := fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column); s.codeSpans[0] != want {
				t.Errorf("first finding at %s, want %s (%s)", s.codeSpans[0], want, sub.ID)
			}
			break
		}
	}
	if strings.Index(src, "### ✅") < strings.LastIndex(src, "### ❌") && strings.Contains(src, "### ✅") {
		t.Error("a passed submission is listed before a failed one")
	}
}

func TestMarkdownOneRealSubmission(t *testing.T) {
	res := validate(t, corpus(t, "build-definitions/_pull-requests/pr-1"))
	src := render(t, "markdown", res)
	title := "## ✅ taskgate: passed"
	if res.Count(check.Error) > 0 {
		title = "## ❌ taskgate: failed"
	}
	if !strings.Contains(src, title) || strings.Contains(src, "omitted") {
		t.Errorf("want %q, nothing omitted:\n%s", title, src)
	}
	s := parseMarkdown(t, src)
	rows := 1 // the header
	for _, st := range res.Submissions[0].Checks {
		if st.Errors+st.Warnings+st.Infos > 0 || st.Skipped != "" {
			rows++
		} else if !strings.Contains(src, "["+st.Check+"][]") {
			t.Errorf("passed check %s is not named", st.Check)
		}
	}
	if len(s.bad) > 0 || s.cellsPerRow[2] != rows || s.items != len(res.Findings()) {
		t.Errorf("bad markup %q, table rows %v (want %d), items %d", s.bad, s.cellsPerRow, rows, s.items)
	}
	for i, f := range bySeverity(res.Findings()) {
		item := fmt.Sprintf("%s %s `%s:%d:%d` [%s][]: ", severityIcons[f.Severity], f.Severity, f.File, f.Line, f.Column, f.Rule)
		if !strings.Contains(src, "\n- "+item) || !strings.Contains(src, "\n["+f.Rule+"]: "+docURL(f.Rule)+"\n") {
			t.Errorf("want the finding %q and its rule's link definition:\n%s", item, src)
		}
		if s.codeSpans[i] != fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column) {
			t.Errorf("finding %d shown at %s", i, s.codeSpans[i])
		}
	}
}

// bySeverity orders findings as the comment lists them: errors, warnings,
// infos, each in file order.
func bySeverity(fs []check.Finding) []check.Finding {
	var out []check.Finding
	for _, sev := range []check.Severity{check.Error, check.Warning, check.Info} {
		for _, f := range fs {
			if f.Severity == sev {
				out = append(out, f)
			}
		}
	}
	return out
}

var severityIcons = map[check.Severity]string{check.Error: "❌", check.Warning: "⚠️", check.Info: "ℹ️"}

func TestMarkdownCapsLongReports(t *testing.T) {
	sub := check.SubmissionResult{ID: "partners/big/0.1", File: "partners/big/0.1/big.yaml", Checks: []*check.Status{{Check: "image/unpinned", Errors: 3000}}}
	for i := range 3000 {
		sub.Findings = append(sub.Findings, check.Finding{Rule: "image/unpinned", Severity: check.Error, File: sub.File, Line: i + 1, Column: 3,
			Message: "image " + strings.Repeat("x", 60) + " is not pinned", Help: "pin it by digest"})
	}
	late := check.SubmissionResult{ID: "partners/late/0.1", File: "partners/late/0.1/late.yaml", Checks: []*check.Status{{Check: "image/unpinned"}}}
	res := &check.Result{Checks: nastyResult().Checks[:1], Submissions: []check.SubmissionResult{late, sub}}
	src := render(t, "markdown", res)
	if len(src) > commentLimit || len(src) < commentLimit-2000 {
		t.Errorf("comment of %d bytes, want just under %d", len(src), commentLimit)
	}
	shown, omitted := findingsShown(t, src)
	if shown+omitted != 3000 || omitted == 0 {
		t.Errorf("%d shown + %d omitted, want 3000 and some omitted", shown, omitted)
	}
	if !strings.Contains(src, "omitted** (and the tables of 1 more submission): this comment is capped") {
		t.Errorf("the clean submission (listed last) should be the omitted table:\n%s", src[len(src)-600:])
	}
	// The rule's link definition survives the cut.
	if s := parseMarkdown(t, src); len(s.links) != shown+1 {
		t.Errorf("%d links for %d findings shown and 1 table row", len(s.links), shown)
	}
}

func TestMarkdownPassed(t *testing.T) {
	res := nastyResult()
	res.Submissions = res.Submissions[1:]
	src := render(t, "markdown", res)
	if !strings.Contains(src, "## ✅ taskgate: passed\n\n1 submission checked: 0 errors, 0 warnings, 0 infos.") || strings.Contains(src, "\n- ") {
		t.Errorf("want a clean pass:\n%s", src)
	}
}

func TestMarkdownSaysASharedHelpOnce(t *testing.T) {
	sub := check.SubmissionResult{ID: "partners/a/0.1", File: "partners/a/0.1/a.yaml", Checks: []*check.Status{{Check: "integration/fit", Infos: 3}}}
	for i, help := range []string{"shared help", "shared help", "other help"} {
		sub.Findings = append(sub.Findings, check.Finding{Rule: "integration/fit", Severity: check.Info, File: sub.File, Line: 4, Column: 9, Message: fmt.Sprintf("does not fit p%d", i), Help: help})
	}
	src := render(t, "markdown", &check.Result{Submissions: []check.SubmissionResult{sub}})
	if strings.Count(src, "help: shared help") != 1 || strings.Count(src, "help: other help") != 1 || strings.Count(src, "\n- ") != 3 {
		t.Errorf("want three findings and each help said once:\n%s", src)
	}
}

package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/config"
)

// MarkdownMarker starts the PR comment, so that the bot finds and updates
// its one comment instead of posting a new one on every run.
const MarkdownMarker = "<!-- taskgate-report -->"

// markdownLimit caps the comment below GitHub's 65536-character limit
// (counted in bytes here, never fewer than GitHub's characters).
const markdownLimit = 60000

// Markdown writes the PR comment: the verdict, then per submission (failed
// ones first) a table of the checks that found something or did not run
// (and why), one line naming the checks that passed, and its findings,
// errors first. Rules link their section at o.DocBase; without one they
// are named, and the last line says where they are explained. Everything taken from
// the submission is escaped, so a partner's YAML cannot break or inject
// into the comment. Past markdownLimit the rest is left out, with a line
// that says how much.
func Markdown(w io.Writer, res *check.Result, o Options) error {
	s := Summarize(res)
	var out strings.Builder
	out.WriteString(MarkdownMarker + "\n")
	notRun := ""
	if s.NotRun > 0 {
		notRun = ", " + plural(s.NotRun, "check") + " not run"
	}
	switch {
	case !s.Passed:
		out.WriteString("## ❌ taskgate: failed\n\n")
	case s.Warnings > 0:
		fmt.Fprintf(&out, "## ✅ taskgate: passed, with warnings%s\n\n", notRun)
	default:
		fmt.Fprintf(&out, "## ✅ taskgate: passed%s\n\n", notRun)
	}
	fmt.Fprintf(&out, "%s checked: %s, %s, %s%s.\n", plural(s.Submissions, "submission"),
		plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(s.Infos, "info"), notRun)
	ruleRef := func(rule string) string {
		if o.DocBase == "" {
			return codeSpan(rule)
		}
		return "[" + mdEscape(rule) + "][]"
	}

	subs := append([]check.SubmissionResult(nil), res.Submissions...)
	sort.SliceStable(subs, func(i, j int) bool { return rank(subs[i]) < rank(subs[j]) })

	// Rules link to their documentation by reference ([rule][]), defined
	// once at the end: a table row stays short.
	rules := map[string]bool{}
	type block struct {
		text     string
		findings int // findings it shows; 0 for a submission's heading and table
	}
	var blocks []block
	for _, sub := range subs {
		var b strings.Builder
		fmt.Fprintf(&b, "\n### %s %s\n", verdictIcon(sub.Errors() == 0), mdEscape(sub.ID))
		// The table shows the checks with something to say, worst first;
		// the clean ones share one line, so that the failures stand out.
		var rows []check.Status
		var passed []string
		for _, st := range sub.Checks {
			rules[st.Check] = true
			if st.Ran() && st.Errors+st.Warnings+st.Infos == 0 {
				passed = append(passed, ruleRef(st.Check))
				continue
			}
			rows = append(rows, *st)
		}
		sort.SliceStable(rows, func(i, j int) bool { return statusRank(rows[i]) < statusRank(rows[j]) })
		if len(rows) > 0 {
			b.WriteString("\n| check | result |\n|---|---|\n")
			for _, st := range rows {
				fmt.Fprintf(&b, "| %s | %s |\n", ruleRef(st.Check), statusCell(st))
			}
		}
		if len(passed) > 0 {
			noun := "check"
			if len(rows) > 0 {
				noun = "more check"
			}
			fmt.Fprintf(&b, "\n✅ %s passed: %s.\n", plural(len(passed), noun), strings.Join(passed, ", "))
		}
		if in := sub.Integration; in != nil && len(in.Lines) > 0 {
			// a quote, a paragraph per line: set apart from the findings
			b.WriteString("\n")
			for i, l := range in.Lines {
				if i == 0 {
					l = "integration: " + l
				} else {
					b.WriteString(">\n")
				}
				fmt.Fprintf(&b, "> %s\n", mdEscape(strings.TrimSpace(l)))
			}
		}
		if len(sub.Findings) > 0 {
			b.WriteString("\n")
		}
		blocks = append(blocks, block{text: b.String()})
		// Errors first, then warnings, then infos; each in file order.
		fs := append([]check.Finding(nil), sub.Findings...)
		sort.SliceStable(fs, func(i, j int) bool { return sevRank(fs[i].Severity) < sevRank(fs[j].Severity) })
		for i, f := range fs {
			rules[f.Rule] = true
			// a help repeated by the finding before it is said once
			if i > 0 && fs[i-1].Rule == f.Rule && fs[i-1].Help == f.Help {
				f.Help = ""
			}
			blocks = append(blocks, block{text: findingItem(f, ruleRef), findings: 1})
		}
	}
	var defs strings.Builder
	defs.WriteString("\n")
	if o.DocBase == "" {
		fmt.Fprintf(&defs, "`taskgate explain RULE` explains a rule, with a rejected and a fixed example (taskgate's %s).\n", RulesFile)
	}
	for _, r := range sortedKeys(rules) {
		if u := o.RuleURL(r); u != "" {
			fmt.Fprintf(&defs, "[%s]: %s\n", mdEscape(r), u)
		}
	}

	budget := markdownLimit - defs.Len() - 300 // room for the "omitted" line
	findings, subsLeft := 0, 0
	cut := false
	for _, b := range blocks {
		if !cut && out.Len()+len(b.text) > budget {
			cut = true
		}
		if !cut {
			out.WriteString(b.text)
			continue
		}
		findings += b.findings
		if b.findings == 0 {
			subsLeft++
		}
	}
	if cut {
		fmt.Fprintf(&out, "\n**%s omitted**", plural(findings, "more finding"))
		if subsLeft > 0 {
			fmt.Fprintf(&out, " (and the tables of %s)", plural(subsLeft, "more submission"))
		}
		fmt.Fprintf(&out, ": this comment is capped at %d characters; see the full report in the job's log, or run `taskgate validate` locally.\n", markdownLimit)
	}
	out.WriteString(defs.String())
	_, err := io.WriteString(w, out.String())
	return err
}

// rank orders submissions for the reader: failed, then warned, then clean.
func rank(s check.SubmissionResult) int {
	switch {
	case s.Errors() > 0:
		return 0
	case len(s.Findings) > 0:
		return 1
	}
	return 2
}

// statusRank orders table rows: errors (and checks that did not finish),
// warnings, not run, infos.
func statusRank(st check.Status) int {
	switch {
	case st.Errors > 0 || st.NotRun == check.Unfinished:
		return 0
	case st.Warnings > 0:
		return 1
	case !st.Ran():
		return 2
	}
	return 3
}

// sevRank orders findings: errors, warnings, then infos (and anything else).
func sevRank(s check.Severity) int {
	if s == check.Error || s == check.Warning {
		return int(s)
	}
	return int(check.Info)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func verdictIcon(passed bool) string {
	if passed {
		return "✅"
	}
	return "❌"
}

func statusCell(st check.Status) string {
	switch {
	case st.Waiver != nil:
		return "🛂 waived until " + mdEscape(st.Waiver.Expires) + " by the maintainers (" + mdEscape(config.FileName) + fmt.Sprintf(":%d): ", st.Waiver.Line) + mdEscape(st.Waiver.Reason)
	case st.NotRun == check.Unfinished:
		return "⛔ " + notRunLabel(st) + ": " + mdEscape(st.Skipped)
	case !st.Ran():
		return "⏭️ not run (" + notRunLabel(st) + "): " + mdEscape(st.Skipped)
	case st.Errors > 0:
		cell := "❌ " + plural(st.Errors, "error")
		if st.Warnings > 0 {
			cell += ", " + plural(st.Warnings, "warning")
		}
		return cell
	case st.Warnings > 0:
		return "⚠️ " + plural(st.Warnings, "warning")
	case st.Infos > 0:
		return "✅ (" + plural(st.Infos, "info") + ")"
	}
	return "✅"
}

var severityIcon = map[check.Severity]string{check.Error: "❌", check.Warning: "⚠️", check.Info: "ℹ️"}

// findingItem is one list item: location, linked rule, message, help. A
// help of several lines (often a YAML excerpt) goes in a code block.
func findingItem(f check.Finding, ruleRef func(string) string) string {
	icon := severityIcon[f.Severity]
	if icon == "" {
		icon = "ℹ️"
	}
	item := fmt.Sprintf("- %s %s %s %s: %s", icon, f.Severity, codeSpan(fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)), ruleRef(f.Rule), mdEscape(f.Message))
	help := strings.TrimRight(strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(f.Help), "\n")
	switch {
	case help == "":
	case !strings.Contains(help, "\n"):
		item += "<br>help: " + mdEscape(help)
	default:
		// Verbatim in a code block indented into the list item, its fence
		// longer than any backtick run of the text so no line can close it.
		fence := strings.Repeat("`", max(3, longestRun(help, '`')+1))
		item += "<br>help:\n\n  " + fence + "\n"
		for _, l := range strings.Split(help, "\n") {
			item += "  " + dropControls(l) + "\n"
		}
		item += "  " + fence
	}
	return item + "\n"
}

// mdEscaper neutralizes Markdown and HTML in text from a submission: the
// characters that make inline markup (code, emphasis, links and images,
// table cells, strikethrough, math) are backslash-escaped, `<`, `>` and
// `&` become entities, and line breaks become spaces so that text stays
// inside its table cell or list item (it never starts a line).
// Mentions (@login) are left as they are: they notify, but cannot break
// the comment.
var mdEscaper = func() *strings.Replacer {
	pairs := []string{"<", "&lt;", ">", "&gt;", "&", "&amp;", "\r\n", " ", "\n", " ", "\r", " "}
	for _, c := range "\\`*_[]()!|~$" {
		pairs = append(pairs, string(c), `\`+string(c))
	}
	return strings.NewReplacer(pairs...)
}()

func mdEscape(s string) string { return dropControls(mdEscaper.Replace(s)) }

// dropControls replaces control characters (tabs become spaces).
func dropControls(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r < ' ' || r == 0x7f:
			return '\uFFFD'
		}
		return r
	}, s)
}

func longestRun(s string, c rune) int {
	longest, run := 0, 0
	for _, r := range s {
		if r == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// codeSpan shows s verbatim in a code span whose backtick fence is longer
// than any run of backticks inside it.
func codeSpan(s string) string {
	s = dropControls(strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s))
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

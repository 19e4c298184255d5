package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/config"
	"taskgate.dev/taskgate/pkg/report"
)

// `taskgate rules` and `taskgate explain` print the registry itself, and
// docs/rules.md is `taskgate rules --format markdown`: one source.

func runRules(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rules", stderr)
	format := fs.String("format", "text", "text (one line per rule) or markdown (docs/rules.md)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(rest) > 0 {
		fmt.Fprintln(stderr, "taskgate rules: no arguments (see `taskgate explain RULE` for one rule)")
		return exitUsage
	}
	switch *format {
	case "text":
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RULE\tSEVERITY\tFINDS")
		for _, c := range check.All() {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, c.Severity, c.Doc)
		}
		tw.Flush()
	case "markdown":
		writeRulesMarkdown(stdout, check.All())
	default:
		fmt.Fprintf(stderr, "taskgate rules: unknown format %q (want text or markdown)\n", *format)
		return exitUsage
	}
	return exitOK
}

func runExplain(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("explain", stderr)
	base := fs.String("doc-base", "", docBaseUsage)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(rest) != 1 {
		fmt.Fprintln(stderr, "usage: taskgate explain RULE (`taskgate rules` lists them)")
		return exitUsage
	}
	if _, err := docBase(*base, nil); err != nil {
		fmt.Fprintf(stderr, "taskgate explain: %v\n", err)
		return exitUsage
	}
	c := check.Lookup(rest[0])
	if c == nil {
		msg := fmt.Sprintf("taskgate explain: unknown rule %q", rest[0])
		if near := suggest(rest[0], check.All()); len(near) > 0 {
			msg += "; did you mean " + strings.Join(near, " or ") + "?"
		} else {
			msg += "; `taskgate rules` lists them"
		}
		fmt.Fprintln(stderr, msg)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s (%s)\n%s\n\nHow to fix:\n%s\nRejected:\n%s\nFixed:\n%s\n%s\nReference: %s\n",
		c.ID, c.Severity, c.Doc, indent(c.Help), indent(example(c.Bad)), indent(example(c.Fixed)), switchOff(c), report.Options{DocBase: *base}.RuleRef(c.ID))
	return exitOK
}

// switchOff says how a repository or a Task turns the rule off.
func switchOff(c *check.Check) string {
	s := fmt.Sprintf("Turn it off or re-level it for a repository in %s (`disable: [%s]`, `severity: {%s: warning}`)", config.FileName, c.ID, c.ID)
	if strings.HasPrefix(c.ID, "config/") {
		return s + "; no Task can skip it, and it cannot be waived."
	}
	if check.Protected(c.ID) {
		return s + fmt.Sprintf("; no Task can skip it: the maintainers waive it for one Task, with a reason and an end date:\n    waivers: [{task: NAME, versions: [\"0.1\"], rule: %s, reason: \"...\", expires: YYYY-MM-DD}]", c.ID)
	}
	return s + fmt.Sprintf("; skip it for one Task, with a reason reviewers read:\n    %s: \"%s # why this Task may break the rule\"", check.SkipAnnotation, c.ID)
}

func example(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(no example yet)\n"
	}
	return strings.TrimRight(s, "\n") + "\n"
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "    " + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// writeRulesMarkdown renders docs/rules.md. Each rule is a `### <id>`
// heading, whose GitHub anchor is what report.Options.RuleURL links to.
func writeRulesMarkdown(w io.Writer, checks []*check.Check) {
	var b strings.Builder
	b.WriteString("<!-- Generated from the rule registry by `make docs` (taskgate rules --format markdown). Do not edit. -->\n")
	b.WriteString("# taskgate rules\n\n")
	b.WriteString("Every finding names its rule and links its section here. `taskgate rules` lists the rules;\n")
	b.WriteString("`taskgate explain RULE` prints a rule's section in a terminal.\n\n")
	b.WriteString("A repository re-levels or turns rules off in `" + config.FileName + "`:\n\n")
	b.WriteString("```yaml\nseverity:\n  tekton/conventions: info\ndisable: [layout/readme]\n```\n\n")
	b.WriteString("and one Task skips a rule with an annotation that gives the reason:\n\n")
	b.WriteString("```yaml\nmetadata:\n  annotations:\n    " + check.SkipAnnotation + ": \"tekton/conventions # generated from upstream; Hub metadata is added at release\"\n```\n\n")
	b.WriteString("A Task cannot skip the security rules (`privilege/`, `image/`, `script/`, `secret/`, `credentials/`), `owners/` or `config/`:\n")
	b.WriteString("such a skip is itself a `" + check.SkipCheckID + "` error and the rule runs. The maintainers waive them for one Task in `" + config.FileName + "`\n")
	b.WriteString("(read from the base branch), each waiver with a reason and an end date; every waiver in effect is listed in the report, and an expired one is a `" + check.WaiverCheckID + "` error:\n\n")
	b.WriteString("```yaml\nwaivers:\n  - task: buildah-partner\n    versions: [\"0.1\"]      # or [\"*\"]: every version\n    rule: privilege/privileged\n    reason: \"builds images in the step until the rootless builder lands\"\n    expires: 2027-03-31   # from this day on the rule runs again\n```\n\n")
	b.WriteString("| rule | severity | finds |\n|---|---|---|\n")
	for _, c := range checks {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", c.ID, report.RuleAnchor(c.ID), c.Severity, strings.ReplaceAll(c.Doc, "|", `\|`))
	}
	family := ""
	for _, c := range checks {
		if f, _, _ := strings.Cut(c.ID, "/"); f != family {
			family = f
			fmt.Fprintf(&b, "\n## %s\n", family)
		}
		fmt.Fprintf(&b, "\n### %s\n\n**%s**: %s\n\nHow to fix: %s\n", c.ID, c.Severity, c.Doc, c.Help)
		for _, ex := range []struct{ title, text string }{{"Rejected", c.Bad}, {"Fixed", c.Fixed}} {
			fence := "```"
			for strings.Contains(ex.text, fence) {
				fence += "`"
			}
			fmt.Fprintf(&b, "\n%s:\n\n%syaml\n%s%s\n", ex.title, fence, example(ex.text), fence)
		}
	}
	io.WriteString(w, b.String())
}

// suggest returns up to three rule ids close to a misspelt one, nearest
// first: by edit distance to the whole id or to its part after the family.
func suggest(q string, checks []*check.Check) []string {
	type cand struct {
		id string
		d  int
	}
	var cands []cand
	max := len(q) / 3
	if max < 2 {
		max = 2
	}
	for _, c := range checks {
		_, short, _ := strings.Cut(c.ID, "/")
		d := min(levenshtein(q, c.ID), levenshtein(q, short))
		if len(q) >= 3 && strings.Contains(c.ID, q) {
			d = min(d, 1)
		}
		if d <= max {
			cands = append(cands, cand{c.ID, d})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].d != cands[j].d {
			return cands[i].d < cands[j].d
		}
		return cands[i].id < cands[j].id
	})
	var out []string
	for i := 0; i < len(cands) && i < 3; i++ {
		out = append(out, cands[i].id)
	}
	return out
}

func levenshtein(a, b string) int {
	a, b = strings.ToLower(a), strings.ToLower(b)
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

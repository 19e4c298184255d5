package report_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
)

// annotation is a workflow command read back as the runner reads it.
type annotation struct {
	command, file, title, message string
	line, col                     int
}

var (
	commandLine = regexp.MustCompile(`^::(error|warning|notice) ([^:]*)::(.*)$`)
	// The runner's unescaping (actions/runner, ActionCommand.cs).
	unescapeProperty = strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",")
	unescapeData     = strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n")
)

// parseAnnotations splits the output into annotations and other lines.
func parseAnnotations(t *testing.T, out string) (anns []annotation, other []string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		m := commandLine.FindStringSubmatch(l)
		if m == nil {
			other = append(other, l)
			continue
		}
		a := annotation{command: m[1], message: unescapeData.Replace(m[3])}
		props := strings.Split(m[2], ",")
		notRun := len(props) == 2 && strings.Contains(m[2], "title=not run%3A ")
		waived := len(props) == 3 && strings.Contains(m[2], "title=waived ")
		if len(props) != 4 && !notRun && !waived {
			t.Errorf("want 4 properties (file, line, col, title), file and title for a check not run, or file, line and title for a waiver: %q", m[2])
		}
		for _, p := range props {
			k, v, _ := strings.Cut(p, "=")
			v = unescapeProperty.Replace(v)
			switch k {
			case "file":
				a.file = v
			case "title":
				a.title = v
			case "line":
				a.line, _ = strconv.Atoi(v)
			case "col":
				a.col, _ = strconv.Atoi(v)
			default:
				t.Errorf("unknown property %q in %q", k, l)
			}
		}
		anns = append(anns, a)
	}
	return anns, other
}

var ghCommands = map[check.Severity]string{check.Error: "error", check.Warning: "warning", check.Info: "notice"}

func checkAnnotations(t *testing.T, res *check.Result, out string) {
	t.Helper()
	all, other := parseAnnotations(t, out)
	var anns, notRun []annotation
	for _, a := range all {
		if strings.HasPrefix(a.title, "not run: ") {
			notRun = append(notRun, a)
		} else {
			anns = append(anns, a)
		}
	}
	fs := res.Findings()
	if len(anns) != len(fs) || len(other) != 1 || !strings.HasPrefix(other[0], "taskgate: ") {
		t.Fatalf("%d annotations for %d findings, other lines %q", len(anns), len(fs), other)
	}
	// each check that did not run for want of something, or that the Task
	// skipped, is an annotation; the disabled and waived ones are counted
	var want []string
	for _, s := range res.Submissions {
		for _, st := range s.Checks {
			if !st.Ran() && st.Waiver == nil && st.NotRun != check.Disabled && st.NotRun != check.NeedsCluster {
				want = append(want, st.Check)
			}
		}
	}
	if len(notRun) != len(want) {
		t.Errorf("%d not-run annotations for %v", len(notRun), want)
	}
	for i, a := range notRun {
		if i < len(want) && (a.title != "not run: "+want[i] || (a.command != "warning" && a.command != "notice")) {
			t.Errorf("not-run annotation %d: %+v, want %s", i, a, want[i])
		}
	}
	for i, f := range fs {
		// control characters other than line breaks (which the command encodes) are escaped
		esc := strings.NewReplacer("\x01", `\x01`, "\x1b", `\x1b`).Replace
		want := annotation{command: ghCommands[f.Severity], file: esc(f.File), line: f.Line, col: f.Column, title: f.Rule, message: esc(f.Message)}
		if f.Help != "" {
			want.message += "\nhelp: " + esc(f.Help)
		}
		if anns[i] != want {
			t.Errorf("annotation %d:\n got %+v\nwant %+v", i, anns[i], want)
		}
	}
}

func TestGitHubCorpus(t *testing.T) {
	res := buildDefinitions(t)
	checkAnnotations(t, res, render(t, "github", res))
}

func TestGitHubHandMade(t *testing.T) {
	res := nastyResult()
	out := render(t, "github", res)
	// The message's CRLF + "::error ..." stays inside its annotation.
	if n := strings.Count(out, "\n"); n != len(res.Findings())+1+1 { // and the skipped check
		t.Errorf("%d lines for %d findings and a summary:\n%s", n, len(res.Findings()), out)
	}
	if !strings.Contains(out, "::error file=partners/we ird%2Cna%3Ame/0.1/t%25#.yaml,line=7,col=14,title=image/unpinned::image `a|b`") ||
		!strings.Contains(out, "100%25") || !strings.Contains(out, "$x$%0D%0A::error file=evil.yaml::injected") {
		t.Errorf("escaping:\n%s", out)
	}
	if !strings.Contains(out, "::notice file=partners/we ird%2Cna%3Ame/0.1/t%25#.yaml,title=not run%3A image/registry::image/registry did not run on partners/we|ird/0.1 (skipped by the Task): skipped by taskgate.dev/skip: mirror") {
		t.Errorf("the skipped check:\n%s", out)
	}
	checkAnnotations(t, res, out)
}

package report

import (
	"fmt"
	"io"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
)

// GitHub writes GitHub Actions workflow commands, one annotation per
// finding (`::error file=F,line=L,col=C,title=RULE::message`), a warning
// on the submission's file for each check that did not run for want of
// something or did not finish, a notice for each one its Task skipped or
// the maintainers waived, then a summary line for the log (which counts
// the disabled ones too).
func GitHub(w io.Writer, res *check.Result, _ Options) error {
	for _, f := range res.Findings() {
		msg := escapeInline(f.Message)
		if f.Help != "" {
			msg += "\nhelp: " + escapeInline(f.Help)
		}
		if _, err := fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", githubCommand(f.Severity),
			ghProperty(EscapeControls(f.File)), f.Line, f.Column, ghProperty(f.Rule), ghData(msg)); err != nil {
			return err
		}
	}
	for _, wv := range Waivers(res) {
		if _, err := fmt.Fprintf(w, "::notice file=%s,line=%d,title=%s::%s\n", ghProperty(wv.File), wv.Line, ghProperty("waived "+wv.Rule),
			ghData(escapeInline(fmt.Sprintf("%s is not checked on %s until %s: %s", wv.Rule, wv.Submission, wv.Expires, wv.Reason)))); err != nil {
			return err
		}
	}
	for _, n := range notRuns(res, false) {
		st := n.Status
		if st.NotRun == check.Disabled || st.NotRun == check.NeedsCluster {
			continue // the repository's or the command's choice, the same on every submission: the summary counts it
		}
		cmd := "warning"
		if st.NotRun == check.TaskSkipped {
			cmd = "notice"
		}
		if _, err := fmt.Fprintf(w, "::%s file=%s,title=%s::%s\n", cmd, ghProperty(EscapeControls(n.File)), ghProperty("not run: "+st.Check),
			ghData(escapeInline(fmt.Sprintf("%s did not run on %s (%s): %s", st.Check, n.Submission, notRunLabel(st), st.Skipped)))); err != nil {
			return err
		}
	}
	s := Summarize(res)
	notRun := ""
	if s.NotRun > 0 {
		notRun = ", " + plural(s.NotRun, "check") + " not run"
	}
	_, err := fmt.Fprintf(w, "taskgate: %s, %s, %s, %s%s\n", plural(s.Submissions, "submission"),
		plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(s.Infos, "info"), notRun)
	return err
}

func githubCommand(s check.Severity) string {
	switch s {
	case check.Error:
		return "error"
	case check.Warning:
		return "warning"
	}
	return "notice"
}

// GitHub's escaping (actions/toolkit, command.ts): data escapes `%`, CR
// and LF, so a message cannot end the command and start another; property
// values also escape `:` and `,`, which delimit properties.
var (
	ghDataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghPropertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func ghData(s string) string     { return ghDataEscaper.Replace(s) }
func ghProperty(s string) string { return ghPropertyEscaper.Replace(s) }

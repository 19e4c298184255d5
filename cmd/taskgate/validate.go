package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/config"
	"taskgate.dev/taskgate/pkg/gate"
	"taskgate.dev/taskgate/pkg/report"
)

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr)
	changedFrom := fs.String("changed-from", "", "validate only the submissions changed since `REV` (merge base with HEAD, plus uncommitted changes)")
	format := fs.String("format", "text", "output format: "+strings.Join(report.Formats, ", "))
	output := fs.String("output", "", "write the report to `FILE` instead of standard output")
	pipelines := fs.String("pipelines", "", "compose Tasks into the build pipelines of `DIR` (a build-definitions checkout or its pipelines/; default: PATH/pipelines)")
	author := fs.String("author", "", "the pull request's author (`LOGIN`, from the pull request, not whoever triggered the run): owners/unauthorized checks they may change what the change touches (needs --changed-from)")
	event := fs.String("event", "", "`EVENT` a pipeline judges: pull_request (an empty or malformed --author fails owners/unauthorized closed) or push (merged work: no author)")
	maintainers := fs.String("maintainers", "", "catalog maintainers: a comma-separated `LIST` of logins, or a YAML FILE (maintainers: [...], teams: {org/team: [...]})")
	configFromBase := fs.Bool("config-from-base", false, "read "+config.FileName+" as it was at the merge base of --changed-from: a pull request cannot switch rules off for itself")
	cacheDir := fs.String("cache", "", "keep verdicts in `DIR` between runs: a submission whose files, pipelines, StepActions, configuration and settings did not change (with the same build of taskgate) is not checked again")
	verbose := fs.Bool("v", false, "text format: list the info findings too (by default only their count)")
	docBaseFlag := fs.String("doc-base", "", docBaseUsage)
	var also alsoFlag
	fs.Var(&also, "also", "also write the report as `FORMAT=FILE` (repeatable), e.g. --also markdown=comment.md")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(paths) > 1 {
		fmt.Fprintln(stderr, "taskgate validate: at most one PATH (the catalog repository)")
		return exitUsage
	}
	if !contains(report.Formats, *format) {
		fmt.Fprintf(stderr, "taskgate validate: unknown format %q (want one of %s)\n", *format, strings.Join(report.Formats, ", "))
		return exitUsage
	}
	plan, err := gate.Prepare(gate.Options{Root: first(paths), PipelinesDir: *pipelines, ChangedFrom: *changedFrom,
		ConfigFromBase: *configFromBase, Author: *author, Maintainers: *maintainers, Event: *event, Cache: *cacheDir})
	if err != nil { // may quote the repository (a path, a symlink's target): one line, escaped
		fmt.Fprintf(stderr, "taskgate validate: %s\n", report.EscapeControls(err.Error()))
		return exitUsage
	}
	if plan.Note != "" {
		fmt.Fprintf(stderr, "taskgate validate: %s\n", report.EscapeControls(plan.Note))
	}
	base, err := docBase(*docBaseFlag, plan.Repo.Config)
	if err != nil {
		fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
		return exitUsage
	}
	tuneGC(len(plan.Submissions))
	res := plan.Run()
	opts := report.Options{Verbose: *verbose, DocBase: base}
	if err := writeReport(*output, stdout, *format, res, opts); err != nil {
		fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
		return exitUsage
	}
	if err := also.write(res, opts); err != nil {
		fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
		return exitUsage
	}
	if res.Count(check.Error) > 0 {
		return exitFindings
	}
	return exitOK
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeReport writes the report to FILE, or to stdout when FILE is "",
// as it is rendered: a catalog's report is not held whole in memory.
func writeReport(file string, stdout io.Writer, format string, res *check.Result, opts report.Options) error {
	if file == "" {
		return render(stdout, format, res, opts)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := render(f, format, res, opts); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func render(w io.Writer, format string, res *check.Result, opts report.Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := report.WriteWith(bw, format, res, opts); err != nil {
		return err
	}
	return bw.Flush()
}

// first is the one positional PATH, or "" (the current directory).
func first(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	return paths[0]
}

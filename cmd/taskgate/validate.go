package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/report"
	_ "taskgate.dev/taskgate/pkg/rules" // registers every check
)

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr)
	changedFrom := fs.String("changed-from", "", "validate only the submissions changed since `REV` (merge base with HEAD, plus uncommitted changes)")
	format := fs.String("format", "text", "output format: "+strings.Join(report.Formats, ", "))
	output := fs.String("output", "", "write the report to `FILE` instead of standard output")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(paths) > 1 {
		fmt.Fprintln(stderr, "taskgate validate: at most one PATH (the catalog repository)")
		return exitUsage
	}
	root := "."
	if len(paths) == 1 {
		root = paths[0]
	}
	if !contains(report.Formats, *format) {
		fmt.Fprintf(stderr, "taskgate validate: unknown format %q (want one of %s)\n", *format, strings.Join(report.Formats, ", "))
		return exitUsage
	}

	repo, err := catalog.Open(root)
	if err != nil {
		fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
		return exitUsage
	}
	checks := check.All()
	settings, err := check.Resolve(repo.Config, checks)
	if err != nil {
		fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
		return exitUsage
	}
	subs, err := repo.Discover()
	if err != nil {
		fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
		return exitUsage
	}
	if *changedFrom != "" {
		change, err := repo.ChangedFrom(*changedFrom)
		if err != nil {
			fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
			return exitUsage
		}
		subs = change.Touched(subs)
		if len(subs) == 0 {
			fmt.Fprintf(stderr, "taskgate validate: the change from %s touches no submission (%d file(s) changed): nothing to validate\n", *changedFrom, len(change.Paths))
		}
	} else if len(subs) == 0 {
		fmt.Fprintf(stderr, "taskgate validate: no submission found under %s (looked for %s/<task>/<version>/)\n", root, strings.Join(catalog.Layouts, "/, "))
	}

	res := check.Run(subs, checks, settings)
	var buf bytes.Buffer
	if err := report.Write(&buf, *format, res); err != nil {
		fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
		return exitUsage
	}
	if *output != "" {
		if err := os.WriteFile(*output, buf.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
			return exitUsage
		}
	} else if _, err := stdout.Write(buf.Bytes()); err != nil {
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

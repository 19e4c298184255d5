package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/config"
	"taskgate.dev/taskgate/pkg/report"
	_ "taskgate.dev/taskgate/pkg/rules" // registers every check
	"taskgate.dev/taskgate/pkg/rules/owners"
	"taskgate.dev/taskgate/pkg/rules/revoke"
)

func runValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr)
	changedFrom := fs.String("changed-from", "", "validate only the submissions changed since `REV` (merge base with HEAD, plus uncommitted changes)")
	format := fs.String("format", "text", "output format: "+strings.Join(report.Formats, ", "))
	output := fs.String("output", "", "write the report to `FILE` instead of standard output")
	pipelines := fs.String("pipelines", "", "compose Tasks into the build pipelines of `DIR` (a build-definitions checkout or its pipelines/; default: PATH/pipelines)")
	author := fs.String("author", "", "the pull request's author (`LOGIN`; Pipelines-as-Code: {{ sender }}): owners/unauthorized checks they may change what the change touches (needs --changed-from)")
	maintainers := fs.String("maintainers", "", "catalog maintainers: a comma-separated `LIST` of logins, or a YAML FILE (maintainers: [...], teams: {org/team: [...]})")
	configFromBase := fs.Bool("config-from-base", false, "read "+config.FileName+" as it was at the merge base of --changed-from: a pull request cannot switch rules off for itself")
	var also alsoFlag
	fs.Var(&also, "also", "also write the report as `FORMAT=FILE` (repeatable), e.g. --also markdown=comment.md")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if *configFromBase && *changedFrom == "" {
		fmt.Fprintln(stderr, "taskgate validate: --config-from-base needs --changed-from REV")
		return exitUsage
	}
	if *author != "" && *changedFrom == "" {
		fmt.Fprintln(stderr, "taskgate validate: --author needs --changed-from REV (who may change what depends on what the change touches)")
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
	repo.PipelinesDir = *pipelines
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
	var deleted []*catalog.Submission // Task versions the change deletes
	var rest *catalog.Submission      // changed files owners/unauthorized judges outside the per-submission runs
	if *changedFrom != "" {
		change, err := repo.ChangedFrom(*changedFrom)
		if err != nil {
			fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
			return exitUsage
		}
		subs = change.Touched(subs)
		repo.Change, repo.Author = change, *author
		if *configFromBase {
			if repo.Config, err = configAt(repo, change.Base); err == nil {
				settings, err = check.Resolve(repo.Config, checks)
			}
			if err != nil {
				fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
				return exitUsage
			}
		}
		if repo.Maintainers, err = owners.LoadMaintainers(repo, *maintainers); err != nil {
			fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
			return exitUsage
		}
		rest = owners.Repository(repo, subs)
		if deleted, err = revoke.Deleted(repo, change); err != nil {
			fmt.Fprintf(stderr, "taskgate validate: %v\n", err)
			return exitUsage
		}
		if len(subs)+len(deleted) == 0 && rest == nil {
			fmt.Fprintf(stderr, "taskgate validate: the change from %s touches no submission (%d file(s) changed): nothing to validate\n", *changedFrom, len(change.Paths))
		}
	} else if len(subs) == 0 {
		fmt.Fprintf(stderr, "taskgate validate: no submission found under %s (looked for %s/<task>/<version>/)\n", root, strings.Join(catalog.Layouts, "/, "))
	}

	res := check.Run(subs, checks, settings)
	// a deleted version has no files left to check: only whether it is still used
	res.Submissions = append(res.Submissions, check.Run(deleted, []*check.Check{revoke.StillReferenced}, settings).Submissions...)
	if rest != nil {
		res.Submissions = append(res.Submissions, check.Run([]*catalog.Submission{rest}, owners.Checks, settings).Submissions...)
	}
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
	if err := also.write(res); err != nil {
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

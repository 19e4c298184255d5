package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"taskgate.dev/taskgate/pkg/catalog"
)

// runDiscover lists the submissions of a catalog, or those a change
// touches, one directory per line; --result also writes them as a JSON
// array (a Tekton array result, which a Pipeline can fan out with matrix).
func runDiscover(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("discover", stderr)
	changedFrom := fs.String("changed-from", "", "only the submissions changed since `REV` (as validate --changed-from); deleted ones are not listed")
	result := fs.String("result", "", "also write the list as a JSON array to `FILE` (e.g. $(results.submissions.path))")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(paths) > 1 {
		fmt.Fprintln(stderr, "usage: taskgate discover [PATH] [--changed-from REV] [--result FILE]")
		return exitUsage
	}
	root := "."
	if len(paths) == 1 {
		root = paths[0]
	}
	repo, err := catalog.Open(root)
	if err != nil {
		fmt.Fprintf(stderr, "taskgate discover: %v\n", err)
		return exitUsage
	}
	subs, err := repo.Discover()
	if err != nil {
		fmt.Fprintf(stderr, "taskgate discover: %v\n", err)
		return exitUsage
	}
	if *changedFrom != "" {
		change, err := repo.ChangedFrom(*changedFrom)
		if err != nil {
			fmt.Fprintf(stderr, "taskgate discover: %v\n", err)
			return exitUsage
		}
		subs = change.Touched(subs)
	}
	dirs := []string{}
	for _, s := range subs {
		dirs = append(dirs, s.Dir)
		fmt.Fprintln(stdout, s.Dir)
	}
	if len(dirs) == 0 {
		fmt.Fprintln(stderr, "taskgate discover: no submission")
	}
	if *result != "" {
		data, _ := json.Marshal(dirs)
		if err := os.WriteFile(*result, data, 0o644); err != nil {
			fmt.Fprintf(stderr, "taskgate discover: %v\n", err)
			return exitUsage
		}
	}
	return exitOK
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
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
	plan, ok := openCatalog("discover", paths, *changedFrom, stderr)
	if !ok {
		return exitUsage
	}
	dirs := []string{}
	for _, s := range plan.Submissions {
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

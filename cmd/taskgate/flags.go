package main

import (
	"flag"
	"fmt"
	"io"

	"taskgate.dev/taskgate/pkg/catalog"
)

// parseInterleaved parses flags that may come before or after positional
// arguments (`taskgate validate . --format json`), which package flag
// alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("taskgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// openCatalog opens the catalog at the single optional PATH argument and
// lists its submissions, or with changedFrom those a change touches. It
// prints why on stderr and returns ok=false when it cannot.
func openCatalog(cmd string, paths []string, changedFrom string, stderr io.Writer) (repo *catalog.Repo, subs []*catalog.Submission, change *catalog.Change, ok bool) {
	if len(paths) > 1 {
		fmt.Fprintf(stderr, "taskgate %s: at most one PATH (the catalog repository)\n", cmd)
		return nil, nil, nil, false
	}
	root := "."
	if len(paths) == 1 {
		root = paths[0]
	}
	fail := func(err error) (*catalog.Repo, []*catalog.Submission, *catalog.Change, bool) {
		fmt.Fprintf(stderr, "taskgate %s: %v\n", cmd, err)
		return nil, nil, nil, false
	}
	repo, err := catalog.Open(root)
	if err != nil {
		return fail(err)
	}
	if subs, err = repo.Discover(); err != nil {
		return fail(err)
	}
	if changedFrom != "" {
		if change, err = repo.ChangedFrom(changedFrom); err != nil {
			return fail(err)
		}
		subs = change.Touched(subs)
	}
	return repo, subs, change, true
}

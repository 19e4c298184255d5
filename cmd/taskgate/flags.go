package main

import (
	"flag"
	"fmt"
	"io"

	"taskgate.dev/taskgate/pkg/config"
	"taskgate.dev/taskgate/pkg/gate"
)

const docBaseUsage = "link each rule to its section of the rule reference published at `URL` (taskgate's docs/rules.md; default: " + config.FileName + "'s docBase, else no link: reports name the rule and docs/rules.md)"

// docBase is where reports link the rules: --doc-base, else the catalog's
// docBase:, else none.
func docBase(flagValue string, cfg *config.Config) (string, error) {
	if flagValue != "" {
		if err := config.CheckDocBase(flagValue); err != nil {
			return "", fmt.Errorf("--doc-base: %v", err)
		}
		return flagValue, nil
	}
	if cfg != nil {
		return cfg.DocBase, nil
	}
	return "", nil
}

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

// openCatalog prepares a gate run over PATH (at most one) and the
// change, reporting bad usage on stderr.
func openCatalog(cmd string, paths []string, changedFrom string, stderr io.Writer) (*gate.Plan, bool) {
	if len(paths) > 1 {
		fmt.Fprintf(stderr, "taskgate %s: at most one PATH (the catalog repository)\n", cmd)
		return nil, false
	}
	plan, err := gate.Prepare(gate.Options{Root: first(paths), ChangedFrom: changedFrom})
	if err != nil {
		fmt.Fprintf(stderr, "taskgate %s: %v\n", cmd, err)
		return nil, false
	}
	return plan, true
}

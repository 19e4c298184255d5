package main

import (
	"flag"
	"io"
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

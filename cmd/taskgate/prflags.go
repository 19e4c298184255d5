package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/report"
)

// Flags validate takes in the validation Pipeline.

// alsoFlag is validate's repeatable --also FORMAT=FILE: the same result in
// more formats from one run (the pipeline's log gets text, the report
// step reads json and markdown).
type alsoFlag []struct{ format, file string }

func (a *alsoFlag) String() string { return "" }

func (a *alsoFlag) Set(v string) error {
	format, file, ok := strings.Cut(v, "=")
	if !ok || file == "" {
		return fmt.Errorf("want FORMAT=FILE, e.g. markdown=comment.md")
	}
	if !contains(report.Formats, format) {
		return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(report.Formats, ", "))
	}
	*a = append(*a, struct{ format, file string }{format, file})
	return nil
}

// write renders res in each --also format to its file.
func (a alsoFlag) write(res *check.Result, o report.Options) error {
	for _, x := range a {
		var b bytes.Buffer
		if err := report.WriteWith(&b, x.format, res, o); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(x.file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(x.file, b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

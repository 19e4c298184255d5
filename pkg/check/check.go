// Package check defines what a check is, what it finds, and the driver
// that runs checks over submissions (modelled on golang.org/x/tools/go/analysis).
package check

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Severity of a finding. Only errors fail the gate.
type Severity int

// The zero Severity means "the check's default".
const (
	Error Severity = iota + 1
	Warning
	Info
)

var severityNames = []string{"default", "error", "warning", "info"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if i > 0 && strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want error, warning, info or off)", s)
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// Finding is one actionable result: what rule, how bad, where, what, and
// how to fix it. File is repository-relative; Line and Column start at 1.
type Finding struct {
	Rule       string   `json:"rule"`
	Severity   Severity `json:"severity"`
	File       string   `json:"file"`
	Line       int      `json:"line"`
	Column     int      `json:"column"`
	Message    string   `json:"message"`
	Help       string   `json:"help"`
	Submission string   `json:"submission,omitempty"`
	// unchecked marks a finding that says something went unchecked: it
	// stays an error whatever severity the repository gives its rule.
	unchecked bool
}

// Unchecked marks f as saying that something was not checked: an error
// that no severity override turns into a pass.
func (f Finding) Unchecked() Finding {
	f.Severity, f.unchecked = Error, true
	return f
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d:%d: %s %s: %s", f.File, f.Line, f.Column, f.Severity, f.Rule, f.Message)
}

// Check is one rule of the public catalog.
type Check struct {
	ID       string   // stable, e.g. "tekton/schema"
	Doc      string   // one line: what it finds
	Severity Severity // default severity of its findings
	Help     string   // how to fix, used when a finding brings none
	// Bad and Fixed are short YAML excerpts: a manifest the rule rejects
	// and the same manifest fixed (`taskgate explain` prints them).
	Bad, Fixed string
	// Requires lists the inputs Run reads from Pass.ResultOf; the driver
	// computes each once and does not run the check when one fails.
	Requires []*Input
	// Run returns the check's findings; a finding without a severity gets
	// the check's.
	Run func(pass *Pass) []Finding
	// Environment, when set, fingerprints what the verdict depends on
	// besides the submission, the inputs and the settings (a tool on the
	// machine): a memo serves a kept verdict only under the same
	// fingerprint. ok false (Clock: the time) means never from a memo.
	Environment func() (fingerprint string, ok bool)
}

// At builds a finding at a field path of a manifest (`spec.steps[0].image`);
// a path the YAML lacks points at its nearest existing parent.
func At(f *manifest.File, path, format string, args ...any) Finding {
	line, col := f.Pos(path)
	return Finding{File: f.Path, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

// AtNode builds a finding at a YAML node of a file.
func AtNode(file string, n *yaml.Node, format string, args ...any) Finding {
	line, col := 1, 1
	if n != nil {
		line, col = n.Line, n.Column
	}
	return Finding{File: file, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
}

// InFile builds a finding about a whole file (its first line).
func InFile(file, format string, args ...any) Finding {
	return Finding{File: file, Line: 1, Column: 1, Message: fmt.Sprintf(format, args...)}
}

// WithHelp sets the help of a finding and returns it.
func (f Finding) WithHelp(help string) Finding {
	f.Help = help
	return f
}

// FromProblems turns the loader's problems of one rule into findings.
func FromProblems(s *catalog.Submission, rule string) []Finding {
	var out []Finding
	add := func(file string, ps []manifest.Problem) {
		for _, p := range ps {
			if p.Rule != rule {
				continue
			}
			if p.Path != "" {
				file = p.Path
			}
			out = append(out, Finding{File: file, Line: p.Line, Column: p.Column, Message: p.Message, Help: p.Help})
		}
	}
	add(s.Dir, s.Problems)
	if s.Manifest != nil {
		add(s.Manifest.Path, s.Manifest.Problems)
	}
	return out
}

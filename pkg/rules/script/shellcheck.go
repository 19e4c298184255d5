package script

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	"taskgate.dev/taskgate/internal/rlimit"
	"taskgate.dev/taskgate/pkg/check"
)

// LookShellcheck finds the shellcheck binary (a variable: tests replace it).
var LookShellcheck = func() (string, error) { return exec.LookPath("shellcheck") }

// shellcheckLimits bound one shellcheck run, on the child itself: 1,000
// distinct variables take shellcheck 35 s and 3 GB, 1,500 nested `if` 73 s.
// Real Tasks need a fraction: the largest script of the corpus takes
// 0.25 s of CPU and 50 MB.
// CPU time is the bound; the wall clock is a backstop for a child that
// waits, generous because on a loaded machine wall time measures the load
// (at load 23 on 2 cores shellcheck got 0.8 s of CPU in 8 s), and shorter
// than the submission's 10 s so that the finding names shellcheck.
var shellcheckLimits = rlimit.Limits{CPU: 2 * time.Second, AddressSpace: 256 << 20, Wall: 8 * time.Second}

// maskedCodes are the shellcheck codes that Tekton variable masking makes
// meaningless: `[ "$(params.x)" = true ]` becomes a comparison of two
// constants once masked, and is no bug. SC1091 (a sourced file not
// followed) is meaningless too: the image's files are not at hand.
var maskedCodes = map[int]bool{
	1091: true, // not following sourced file
	2050: true, // this expression is constant
	2078: true, // this expression is constant
	2157: true, // argument to -n is always true due to literal strings
	2158: true, // [ false ] is true
	2193: true, // the arguments to this comparison can never be equal
	2194: true, // this word is constant
	2195: true, // this pattern will never match the case statement's word
}

// shellcheckShells maps our shell languages to shellcheck's --shell.
var shellcheckShells = map[string]string{"bash": "bash", "sh": "sh", "mksh": "ksh"}

// Shellcheck runs shellcheck on every embedded shell script.
var Shellcheck = &check.Check{
	ID:       "script/shellcheck",
	Doc:      "shellcheck findings on embedded scripts, mapped back to the YAML line",
	Severity: check.Warning,
	Help:     "fix the script as shellcheck says (each code is explained at https://www.shellcheck.net/wiki/), or silence one line with `# shellcheck disable=SCxxxx` and a comment saying why",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: cleanup
spec:
  steps:
    - name: clean
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      workingDir: /workspace/source
      script: |
        #!/bin/bash
        cd build
        rm -rf *
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: cleanup
spec:
  steps:
    - name: clean
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      workingDir: /workspace/source
      script: |
        #!/bin/bash
        cd build || exit 1
        rm -rf ./*
`,
	Requires:    []*check.Input{Parsed, shellchecker},
	Run:         runShellcheck,
	Environment: shellcheckEnvironment, // which shellcheck runs, or none
}

func runShellcheck(pass *check.Pass) []check.Finding {
	var out []check.Finding
	for _, sc := range Of(pass) {
		if sc.Shell != "" && shellcheckShells[sc.Shell] == "" {
			f := sc.At(0, "shellcheck does not check %s scripts: the script of %s is not checked", sc.Shell, sc.Where).
				WithHelp("write the script for bash or sh to have it checked")
			f.Severity = check.Info
			out = append(out, f)
		}
	}
	scripts := checkable(Of(pass))
	if len(scripts) == 0 {
		return out
	}
	b := pass.ResultOf[shellchecker].(*batcher)
	if b.missing != nil {
		// not passed: every format says the check did not run, and why
		pass.NotRun(fmt.Sprintf("shellcheck is not installed (%d shell script(s) not checked)", len(scripts)))
		f := scripts[0].At(0, "shellcheck is not installed, so script/shellcheck did not run on the %d shell script(s) of this Task", len(scripts)).
			WithHelp("install shellcheck and run the gate again (Debian/Ubuntu: `apt-get install shellcheck`, Fedora: `dnf install ShellCheck`, macOS: `brew install shellcheck`)")
		f.Severity = check.Info
		return append(out, f)
	}
	for i, r := range b.check(scripts) {
		if r.err != nil {
			out = append(out, failed(scripts[i], r.err.Error()))
			continue
		}
		out = append(out, findings(scripts[i], r.comments)...)
	}
	return out
}

type comment struct {
	File         string
	Line, Column int
	Level        string
	Code         int
	Message      string
}

// dialect is the --shell shellcheck checks a script as.
func dialect(sc *Script) string {
	if path.Base(sc.Interpreter) == "dash" {
		return "dash"
	}
	return shellcheckShells[sc.Shell]
}

// shellcheckRun runs shellcheck once on texts, written to files of a
// temporary directory, and returns each text's comments.
func shellcheckRun(bin, dialect string, texts []string) ([][]comment, error) {
	dir, err := os.MkdirTemp("", "taskgate-shellcheck-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	args := []string{"--norc", "--format=json", "--shell=" + dialect, "--"}
	for i, text := range texts {
		name := strconv.Itoa(i) + ".sh"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			return nil, err
		}
		args = append(args, name)
	}
	cmd, cancel, err := rlimit.Command(shellcheckLimits, bin, args...)
	if err != nil {
		return nil, err
	}
	defer cancel()
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	// shellcheck exits 1 when it has comments: only other failures are failures
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		if why := rlimit.Explain(cmd, shellcheckLimits, stderr.String()); why != "" {
			return nil, fmt.Errorf("%s", why)
		}
		return nil, fmt.Errorf("%v: %s", err, firstLine(stderr.String()))
	}
	var comments []comment
	if err := json.Unmarshal(stdout.Bytes(), &comments); err != nil {
		return nil, fmt.Errorf("unreadable output: %v", err)
	}
	out := make([][]comment, len(texts))
	for _, c := range comments {
		i, err := strconv.Atoi(strings.TrimSuffix(c.File, ".sh"))
		if err != nil || i < 0 || i >= len(texts) {
			return nil, fmt.Errorf("a comment on an unknown file %q", c.File)
		}
		out[i] = append(out[i], c)
	}
	return out, nil
}

// findings maps shellcheck's comments on a script back to the YAML.
func findings(sc *Script, comments []comment) []check.Finding {
	masked := sc.Masked()
	env := envNames(sc)
	var out []check.Finding
	for _, c := range comments {
		if maskedCodes[c.Code] || (c.Code == 2154 && env.has(c.Message)) {
			continue
		}
		lines := strings.SplitN(masked, "\n", c.Line+1)
		col := 1
		if c.Line >= 1 && c.Line <= len(lines) {
			col = byteColumn(lines[c.Line-1], c.Column)
		}
		f := sc.At(sc.Offset(c.Line, col), "SC%d (%s): %s", c.Code, c.Level, c.Message)
		f.Help = fmt.Sprintf("see https://www.shellcheck.net/wiki/SC%d; fix the script, or silence this line with `# shellcheck disable=SC%d` and a comment saying why", c.Code, c.Code)
		switch c.Level {
		case "error":
			f.Severity = check.Error
		case "warning":
			f.Severity = check.Warning
		default: // info, style
			f.Severity = check.Info
		}
		out = append(out, f)
	}
	return out
}

// failed says a script went unchecked: an error, since an unchecked
// script must not pass (a partner could make shellcheck give up on purpose).
func failed(sc *Script, why string) check.Finding {
	f := sc.At(0, "shellcheck could not check the scripts of this Task (%s), so the script of %s is not checked", why, sc.Where).
		WithHelp("run `shellcheck` on the script locally: a script that takes it this long or this much memory is too large or too convoluted to embed; split it or move it into the image")
	f.Severity = check.Error
	return f.Unchecked()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// byteColumn turns shellcheck's column (characters, tabs to the next
// multiple of 8) into a 1-based byte column of the line.
func byteColumn(line string, col int) int {
	visual := 1
	for i, r := range line {
		if visual >= col {
			return i + 1
		}
		if r == '\t' {
			visual += 8 - (visual-1)%8
		} else {
			visual++
		}
	}
	return len(line) + 1
}

// names is the set of environment variables a step declares.
type names struct {
	all bool // envFrom: any name may be set
	set map[string]bool
}

var notAssigned = regexp.MustCompile(`^(\S+) is referenced but not assigned`)

// has says whether an SC2154 message names a declared variable.
func (n names) has(msg string) bool {
	m := notAssigned.FindStringSubmatch(msg)
	return n.all || (m != nil && n.set[m[1]])
}

// envNames collects the env of the script's container and of the
// stepTemplate: variables from there are assigned, whatever shellcheck
// says.
func envNames(sc *Script) names {
	n := names{set: map[string]bool{}}
	add := func(c *yaml.Node) {
		if mapValue(c, "envFrom") != nil {
			n.all = true
		}
		if env := mapValue(c, "env"); env != nil {
			for _, e := range env.Content {
				if name := mapValue(e, "name"); name != nil {
					n.set[name.Value] = true
				}
			}
		}
	}
	add(sc.Container)
	add(mapValue(mapValue(sc.File.Root, "spec"), "stepTemplate"))
	return n
}

// Package script holds the rules on the scripts a Task embeds: in the
// `script` of steps, sidecars and StepActions, and in `sh -c` / `bash -c`
// (or `python -c`, `node -e`...) commands and args (stepTemplate included). Scripts are judged as the
// shell sees them after Tekton's substitution, with every position mapped
// back to the YAML file.
package script

import (
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Checks are the script rules, in catalog order.
var Checks = []*check.Check{Syntax, Shellcheck, ParamInjection, Shebang}

// Script is one embedded script of a manifest.
type Script struct {
	File  *manifest.File
	Field string     // field path of the script: spec.steps[0].script, spec.steps[1].args[0]
	Where string     // for messages: `step "build"`, `the stepTemplate`
	Node  *yaml.Node // the scalar holding the script
	// Container is the step, sidecar, stepTemplate or StepAction spec
	// mapping the script belongs to.
	Container *yaml.Node
	Text      string // the script as written, Tekton variables included
	// Shell is the shell language (bash, sh, mksh, zsh) or "" when the
	// interpreter is no shell; Interpreter is the program that runs the
	// script (from the shebang or the command), for messages.
	Shell       string
	Interpreter string
	// Shebang says the script names its interpreter (a `#!` line, or the
	// command of `sh -c`); without one Tekton runs it with /bin/sh.
	Shebang bool
	flag    string // the option that hands it over: -c, -e
	masked  string
	// the map of the script's bytes to the file (8 bytes a byte) is made
	// when a finding needs it: a run holds every submission's scripts
	ix      *lineIndex
	srcOnce sync.Once
	src     *Source
	// each parse is done once, whichever rule asks first
	parsed, asBash lazyParse
}

type lazyParse struct {
	once sync.Once
	file *syntax.File
	err  error
}

// Parsed is the scripts of a submission's manifest (Scripts), shared by
// the rules that read them: each script is parsed at most once per run,
// whichever rule asks first.
var Parsed = &check.Input{Name: "embedded scripts", Compute: func(p *check.Pass) (any, error) {
	return Scripts(p.Submission.Manifest), nil
}}

// Of returns the scripts of a pass whose check requires Parsed.
func Of(p *check.Pass) []*Script {
	scripts, _ := p.ResultOf[Parsed].([]*Script)
	return scripts
}

func newScript(m *manifest.File, ix *lineIndex, c container, field string, n *yaml.Node) *Script {
	return &Script{File: m, Field: field, Where: c.where, Node: n, Container: c.node, Text: n.Value, masked: Mask(n.Value), ix: ix}
}

// Pos returns the file line and column of byte offset off of the script.
func (s *Script) Pos(off int) (line, col int) {
	s.srcOnce.Do(func() { s.src = newSource(s.ix, s.Node) })
	return s.src.Pos(off)
}

// Offset returns the byte offset of a 1-based line and byte column of
// the script.
func (s *Script) Offset(line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(s.Text[off:], '\n')
		if i < 0 {
			return len(s.Text)
		}
		off += i + 1
	}
	return min(off+max(col, 1)-1, len(s.Text))
}

// At builds a finding at byte offset off of the script.
func (s *Script) At(off int, format string, args ...any) check.Finding {
	f := check.At(s.File, s.Field, format, args...)
	f.Line, f.Column = s.Pos(off)
	return f
}

// Scripts lists the scripts embedded in a Task or StepAction: the
// stepTemplate's, the steps', the sidecars'. It reads the YAML (not the decoded object) so that a Task with a
// schema problem still has its scripts checked.
func Scripts(m *manifest.File) []*Script {
	if m == nil || m.Root == nil || (m.Kind != "Task" && m.Kind != "StepAction") {
		return nil
	}
	ix := newLineIndex(m.Data)
	var out []*Script
	for _, c := range containers(m) {
		if n := mapValue(c.node, "script"); n != nil && n.Kind == yaml.ScalarNode && strings.TrimSpace(n.Value) != "" {
			s := newScript(m, ix, c, c.path+".script", n)
			s.Shell, s.Interpreter, s.Shebang = interpreter(n.Value)
			out = append(out, s)
		}
		if s := shellArg(m, ix, c); s != nil {
			out = append(out, s)
		}
	}
	return out
}

type container struct {
	path, where string
	node        *yaml.Node
}

func containers(m *manifest.File) []container {
	spec := mapValue(m.Root, "spec")
	if spec == nil {
		return nil
	}
	if m.Kind == "StepAction" {
		return []container{{"spec", "the StepAction", spec}}
	}
	var out []container
	if n := mapValue(spec, "stepTemplate"); n != nil && n.Kind == yaml.MappingNode {
		out = append(out, container{"spec.stepTemplate", "the stepTemplate", n})
	}
	for _, list := range []struct{ field, kind string }{{"steps", "step"}, {"sidecars", "sidecar"}} {
		seq := mapValue(spec, list.field)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		for i, n := range seq.Content {
			if n.Kind != yaml.MappingNode {
				continue
			}
			where := list.kind + " " + strconv.Itoa(i)
			if name := mapValue(n, "name"); name != nil && name.Value != "" {
				where = list.kind + " " + strconv.Quote(name.Value)
			}
			out = append(out, container{"spec." + list.field + "[" + strconv.Itoa(i) + "]", where, n})
		}
	}
	return out
}

// shells maps interpreter names to the shell language they speak.
var shells = map[string]string{
	"sh": "sh", "dash": "sh", "ash": "sh", "busybox": "sh",
	"bash": "bash", "bats": "bash",
	"ksh": "mksh", "mksh": "mksh", "pdksh": "mksh",
	"zsh": "zsh",
}

// interpreter reads the shebang as Tekton does: a script that does not
// start with `#!` (after leading blanks) runs with /bin/sh.
func interpreter(script string) (shell, program string, shebang bool) {
	cleaned := strings.TrimSpace(script)
	if !strings.HasPrefix(cleaned, "#!") {
		return "sh", "/bin/sh", false
	}
	line, _, _ := strings.Cut(cleaned[2:], "\n")
	if strings.HasPrefix(line, "win") {
		return "", "Windows " + strings.TrimSpace(strings.TrimPrefix(line, "win")), true
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return "", "#!", true
	}
	program = fields[0]
	args := fields[1:]
	// #!/usr/bin/env [-S] bash, #!/bin/busybox sh
	for (path.Base(program) == "env" || path.Base(program) == "busybox") && len(args) > 0 {
		for len(args) > 0 && strings.HasPrefix(args[0], "-") {
			args = args[1:]
		}
		if len(args) == 0 {
			break
		}
		program, args = args[0], args[1:]
	}
	return shells[path.Base(program)], program, true
}

// codeFlags are the options with which an interpreter runs its next
// argument as code (`python3 -c CODE`, `node -e CODE`).
func codeFlags(program string) []string {
	switch {
	case program == "python" || strings.HasPrefix(program, "python2") || strings.HasPrefix(program, "python3"):
		return []string{"-c"}
	case program == "node" || program == "nodejs":
		return []string{"-e", "--eval", "-p", "--print"}
	case program == "perl":
		return []string{"-e", "-E"}
	case program == "ruby":
		return []string{"-e"}
	case program == "php":
		return []string{"-r"}
	}
	return nil
}

// codeArg finds the code an interpreter runs from its arguments: the word
// after its code flag; a file operand first means there is none.
func codeArg(m *manifest.File, ix *lineIndex, c container, program string, flags []string, rest []word) *Script {
	for i, w := range rest {
		a := w.node.Value
		switch {
		case slices.Contains(flags, a) && i+1 < len(rest):
			s := newScript(m, ix, c, rest[i+1].path, rest[i+1].node)
			s.Interpreter, s.Shebang, s.flag = program, true, a
			return s
		case strings.HasPrefix(a, "-"):
		default:
			return nil
		}
	}
	return nil
}

// word is one word of a container's command and args, with its field path.
type word struct {
	path string
	node *yaml.Node
}

// shellArg finds a script passed as the command string of `sh -c` (or
// bash, with flags such as `-ec`) in a container's command and args.
func shellArg(m *manifest.File, ix *lineIndex, c container) *Script {
	var argv []word
	for _, field := range []string{"command", "args"} {
		seq := mapValue(c.node, field)
		if seq == nil || seq.Kind != yaml.SequenceNode {
			continue
		}
		for i, n := range seq.Content {
			if n.Kind != yaml.ScalarNode {
				return nil
			}
			argv = append(argv, word{c.path + "." + field + "[" + strconv.Itoa(i) + "]", n})
		}
	}
	i := 0
	for i < len(argv) && path.Base(argv[i].node.Value) == "env" {
		i++
	}
	if i >= len(argv) {
		return nil
	}
	program := argv[i].node.Value
	if flags := codeFlags(path.Base(program)); flags != nil {
		return codeArg(m, ix, c, program, flags, argv[i+1:])
	}
	shell := shells[path.Base(program)]
	if shell == "" || path.Base(program) == "busybox" {
		return nil
	}
	dashC := false
	for i++; i < len(argv); i++ {
		a := argv[i].node.Value
		switch {
		case a == "":
			return nil
		case a == "-o" || a == "+o" || a == "-O" || a == "+O":
			i++ // the option's argument
		case (a[0] == '-' || a[0] == '+') && len(a) > 1 && a != "--": // -ec, +x
			dashC = dashC || (a[0] == '-' && a[1] != '-' && strings.ContainsRune(a[1:], 'c'))
		case a == "--":
		default:
			if !dashC {
				return nil // `sh file.sh`: a file, not a script we can see
			}
			s := newScript(m, ix, c, argv[i].path, argv[i].node)
			s.Shell, s.Interpreter, s.Shebang = shell, program, true
			return s
		}
	}
	return nil
}

// tektonVar matches a Tekton variable reference: `$(params.x)`,
// `$(params["x.y"])`, `$(results.r.path)`, `$(context.taskRun.name)`...
// It never spans parentheses or blanks, so `$(echo $(params.x))` matches
// only the inner reference and real command substitutions never match.
var tektonVar = regexp.MustCompile(`\$\((?:params|inputs|outputs|resources|results|steps|step|workspaces|context|credentials|artifacts|tasks)[.\[][^()\s]*\)`)

// Vars returns the byte ranges of the Tekton variable references in text.
func Vars(text string) [][]int { return tektonVar.FindAllStringIndex(text, -1) }

// Masked returns the script with every Tekton variable reference replaced
// by a word of the same length (`$(params.x)` → `TKN________`), so that
// the shell parser sees a plain word where Tekton will splice a value and
// every offset stays where it was.
func (s *Script) Masked() string { return s.masked }

// Mask replaces Tekton variable references by same-length placeholders.
func Mask(text string) string {
	return tektonVar.ReplaceAllStringFunc(text, func(v string) string {
		return "TKN" + strings.Repeat("_", len(v)-3)
	})
}

// mapValue finds a key in a mapping node (exact match), through aliases.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			for v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			return v
		}
	}
	return nil
}

// forScripts runs fn over every script of the pass's submission.
func forScripts(pass *check.Pass, fn func(*Script) []check.Finding) []check.Finding {
	var out []check.Finding
	for _, sc := range Of(pass) {
		out = append(out, fn(sc)...)
	}
	return out
}

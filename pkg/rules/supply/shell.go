package supply

import (
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/rules/script"
)

// parsed is one shell script of a submission with its syntax tree.
type parsed struct {
	sc   *script.Script
	file *syntax.File
}

// shellScripts returns the parsed shell scripts of a pass (its check
// requires script.Parsed); scripts that do not parse or are not shell are
// script/syntax's to report.
func shellScripts(pass *check.Pass) []parsed {
	var out []parsed
	for _, sc := range script.Of(pass) {
		if sc.Shell == "" {
			continue
		}
		f, err := sc.Parse()
		if err != nil && sc.Shell == "sh" {
			// bash features under /bin/sh: it is bash on the usual images,
			// so read the script as bash runs it (script/syntax reports
			// the portability)
			f, err = sc.ParseBash()
		}
		if err == nil {
			out = append(out, parsed{sc, f})
		}
	}
	return out
}

// each runs fn over every parsed shell script and collects its findings.
func each(pass *check.Pass, fn func(p parsed) []check.Finding) []check.Finding {
	var out []check.Finding
	for _, p := range shellScripts(pass) {
		out = append(out, fn(p)...)
	}
	return out
}

// at is a finding at a node of a script.
func (p parsed) at(n syntax.Node, format string, args ...any) check.Finding {
	return p.sc.At(int(n.Pos().Offset()), format, args...)
}

// wrappers run the command that follows them.
var wrappers = map[string]bool{"sudo": true, "env": true, "exec": true, "command": true, "nohup": true, "time": true, "nice": true, "doas": true, "retry": true, "timeout": true}

// command is a simple command with the wrappers (sudo, env, exec) taken
// off: its program's base name and its arguments.
type command struct {
	call *syntax.CallExpr
	name string
	args []*syntax.Word
}

func callOf(st *syntax.Stmt) *command {
	if st == nil {
		return nil
	}
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || len(call.Args) == 0 {
		return nil
	}
	words := call.Args
	for len(words) > 1 {
		name := path.Base(lit(words[0]))
		if !wrappers[name] {
			break
		}
		rest := words[1:]
		// env's assignments and any wrapper's flags
		for len(rest) > 0 {
			a := lit(rest[0])
			if strings.HasPrefix(a, "-") || (name == "env" && strings.Contains(a, "=")) || (name == "timeout" && a != "" && a[0] >= '0' && a[0] <= '9') {
				rest = rest[1:]
				continue
			}
			break
		}
		if len(rest) == 0 {
			break // `env`, `env -0`: the wrapper is the command
		}
		words = rest
	}
	return &command{call: call, name: path.Base(lit(words[0])), args: words[1:]}
}

// lit is a word's text with quotes removed; expansions keep their source
// form ($X, ${X}, $(...)) so that callers can tell them from text.
func lit(w *syntax.Word) string {
	var b strings.Builder
	var part func(p syntax.WordPart)
	part = func(p syntax.WordPart) {
		switch p := p.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				part(q)
			}
		case *syntax.ParamExp:
			b.WriteString("$")
			if p.Param != nil {
				b.WriteString("{" + p.Param.Value + "}")
			}
		default:
			b.WriteString("$(…)")
		}
	}
	for _, p := range w.Parts {
		part(p)
	}
	return b.String()
}

// literal says whether a word is plain text: no expansion and no Tekton
// variable (masked as TKN___ by the script package).
func literal(w *syntax.Word) bool {
	s := lit(w)
	return !strings.Contains(s, "$") && !strings.Contains(s, "TKN_")
}

// stages flattens a pipeline (`a | b | c`) into its commands; a statement
// that is no pipeline is one stage.
func stages(st *syntax.Stmt) []*syntax.Stmt {
	if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
		return append(stages(b.X), stages(b.Y)...)
	}
	return []*syntax.Stmt{st}
}

// pipelines visits every pipeline of two or more commands once (`a | b |
// c` nests as a | (b | c): the inner pipe is not a pipeline of its own).
func pipelines(f *syntax.File, fn func([]*syntax.Stmt)) {
	inner := map[*syntax.Stmt]bool{}
	syntax.Walk(f, func(n syntax.Node) bool {
		st, ok := n.(*syntax.Stmt)
		if !ok {
			return true
		}
		if b, ok := st.Cmd.(*syntax.BinaryCmd); ok && (b.Op == syntax.Pipe || b.Op == syntax.PipeAll) {
			inner[b.X], inner[b.Y] = true, true
			if !inner[st] {
				fn(stages(st))
			}
		}
		return true
	})
}

// substs returns the statements of the command and process substitutions
// in a word: `$(curl …)`, `<(curl …)`.
func substs(w *syntax.Word) [][]*syntax.Stmt {
	var out [][]*syntax.Stmt
	syntax.Walk(w, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.CmdSubst:
			out = append(out, n.Stmts)
			return false
		case *syntax.ProcSubst:
			out = append(out, n.Stmts)
			return false
		}
		return true
	})
	return out
}

// hasFlag says whether args hold a short flag letter (`-d`, `-xd`) or
// one of the long ones.
func hasFlag(args []*syntax.Word, short string, long ...string) bool {
	for _, w := range args {
		a := lit(w)
		if a == "--" {
			return false
		}
		for _, l := range long {
			if a == l || strings.HasPrefix(a, l+"=") {
				return true
			}
		}
		if short != "" && len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a[1:], short) {
			return true
		}
	}
	return false
}

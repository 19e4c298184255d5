package security

import (
	"bytes"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
	scripts "taskgate.dev/taskgate/pkg/rules/script"
)

// tektonVar matches Tekton's `$(params.x)`-style substitutions, which a
// shell parser would read as command substitutions.
var tektonVar = regexp.MustCompile(`\$\((?:params|context|workspaces|results|steps|step|tasks|inputs|outputs|resources|artifacts)[.\[][^()]*\)`)

// script is a step's script, parsed as shell when it is one.
type script struct {
	src   string       // as written (Tekton variables unmasked)
	file  *syntax.File // nil when not shell or unparsable
	shell bool
	err   error // the parse error of a shell script
}

// parseScript masks Tekton variables with same-length placeholders (so
// offsets, lines and columns stay those of the original) and parses the
// script as bash. Scripts with a non-shell shebang are not parsed.
func parseScript(src string) *script {
	sc := &script{src: src}
	if !isShell(src) {
		return sc
	}
	sc.shell = true
	if sc.err = scripts.CheckBounds(src); sc.err != nil {
		return sc // script/syntax reports it; a parser could not take it
	}
	masked := tektonVar.ReplaceAllStringFunc(src, func(m string) string { return strings.Repeat("_", len(m)) })
	sc.file, sc.err = syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(masked), "")
	if sc.err != nil {
		sc.file = nil
	}
	return sc
}

// isShell: Tekton runs a script without a shebang with /bin/sh.
func isShell(src string) bool {
	first, _, _ := strings.Cut(strings.TrimLeft(src, " \t\n"), "\n")
	if !strings.HasPrefix(first, "#!") {
		return true
	}
	f := strings.Fields(strings.TrimPrefix(first, "#!"))
	if len(f) == 0 {
		return true
	}
	interp := path.Base(f[0])
	if interp == "env" {
		interp = ""
		for _, a := range f[1:] {
			if !strings.HasPrefix(a, "-") {
				interp = path.Base(a)
				break
			}
		}
	}
	switch interp {
	case "sh", "bash", "ash", "dash", "ksh", "mksh", "zsh", "busybox":
		return true
	}
	return false
}

// text is the original source of a node (Tekton variables included).
func (sc *script) text(n syntax.Node) string {
	a, b := int(n.Pos().Offset()), int(n.End().Offset())
	if a < 0 || b > len(sc.src) || a > b {
		return ""
	}
	return sc.src[a:b]
}

// lit is a word's value when it is plain text, quotes removed.
func (sc *script) lit(w *syntax.Word) string {
	var b strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					return sc.text(w)
				}
				b.WriteString(l.Value)
			}
		default:
			return sc.text(w)
		}
	}
	return b.String()
}

// calls visits every simple command of the script with its arguments'
// literal values.
func (sc *script) calls(fn func(call *syntax.CallExpr, args []string)) {
	if sc.file == nil {
		return
	}
	syntax.Walk(sc.file, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.CallExpr); ok && len(c.Args) > 0 {
			args := make([]string, len(c.Args))
			for i, w := range c.Args {
				args[i] = sc.lit(w)
			}
			fn(c, args)
		}
		return true
	})
}

// scriptAt builds a finding at a line:column of a container's script,
// mapped back to the YAML: a `script: |` block's first line is the line
// after the key.
func scriptAt(c *container, line, col int, format string, args ...any) check.Finding {
	p := c.path + ".script"
	n := c.file.Node(p)
	if n == nil {
		return at(c.file, p, format, args...)
	}
	f := check.AtNode(c.file.Path, n, format, args...)
	switch {
	case n.Style&(yaml.LiteralStyle) != 0:
		f.Line = n.Line + line
		f.Column = indentOf(c.file.Data, f.Line) + col
	case line == 1 && n.Style == 0:
		f.Column = n.Column + col - 1
	default:
		// folded or quoted scalars do not keep the script's lines
		f.Message += " (script line " + strconv.Itoa(line) + ")"
	}
	return f
}

// indentOf counts the leading spaces of a 1-based line of data.
func indentOf(data []byte, line int) int {
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return 0
		}
		data = data[i+1:]
	}
	n := 0
	for n < len(data) && data[n] == ' ' {
		n++
	}
	return n
}

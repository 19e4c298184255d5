package security

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// The guard analysis of credentials/no-skip: walk a parsed script in
// order and find, per credential, the first use no test protects. A use
// is protected when it sits in a branch entered because a test said the
// credential is present, or comes after a branch entered because it is
// missing that ends in `exit 0`. The direction of a test is read from its
// operator (-f/-n/= "true" say present, -z/!/= "false" say missing); an
// unclear one counts both ways. Commands in if/while conditions are
// probes, not uses: failing there takes another branch.

// guards are the credentials known present at a point of the script.
type guards map[*cred]bool

func (g guards) with(add func(*cred) bool, creds []*cred) guards {
	out := guards{}
	for k, v := range g {
		out[k] = v
	}
	for _, c := range creds {
		if add(c) {
			out[c] = true
		}
	}
	return out
}

// pol is what a test's success says about a credential.
type pol int

const (
	polNone    pol = iota // the test does not look at it
	polPresent            // success means present
	polAbsent             // success means missing
	polUnknown            // it looks at it, the direction is unclear
)

func (p pol) flip() pol {
	switch p {
	case polPresent:
		return polAbsent
	case polAbsent:
		return polPresent
	}
	return p
}

// present: success may mean present; absent: success may mean missing.
func (p pol) present() bool { return p == polPresent || p == polUnknown }
func (p pol) absent() bool  { return p == polAbsent || p == polUnknown }

// analysis walks a script in order, tracking which credentials are
// guarded, and records the first unguarded use of each.
type analysis struct {
	sc    *script
	creds []*cred
	first map[*cred]syntax.Pos
	funcs []*syntax.FuncDecl
	// probing > 0 inside if/while conditions: reading a credential there
	// tests it
	probing int
}

func (a *analysis) list(stmts []*syntax.Stmt, g guards) guards {
	for _, s := range stmts {
		g = a.stmt(s, g)
	}
	return g
}

// stmt processes one statement and returns the guards after it.
func (a *analysis) stmt(s *syntax.Stmt, g guards) guards {
	if s == nil {
		return g
	}
	for _, r := range s.Redirs {
		if r.Hdoc != nil && quotedWord(r.Word) {
			continue // a quoted here-document is text, not code
		}
		a.uses(r.Word, g)
		a.uses(r.Hdoc, g)
	}
	switch x := s.Cmd.(type) {
	case *syntax.IfClause:
		return a.ifClause(x, g)
	case *syntax.BinaryCmd:
		if x.Op != syntax.AndStmt && x.Op != syntax.OrStmt {
			a.stmt(x.X, g)
			a.stmt(x.Y, g)
			return g
		}
		g = a.stmt(x.X, g)
		p := a.polarity(x.X)
		and := x.Op == syntax.AndStmt
		// `test && use`, `test || use`: Y runs when X succeeded / failed
		a.stmt(x.Y, g.with(func(c *cred) bool {
			if and {
				return p[c].present()
			}
			return p[c].absent()
		}, a.creds))
		if exits(x.Y) { // `[ -f x ] || exit 0`
			g = g.with(func(c *cred) bool {
				if and {
					return p[c].absent()
				}
				return p[c].present()
			}, a.creds)
		}
		return g
	case *syntax.Block:
		return a.list(x.Stmts, g)
	case *syntax.Subshell:
		a.list(x.Stmts, g) // an exit in a subshell does not end the script
	case *syntax.WhileClause:
		a.probing++
		a.list(x.Cond, g)
		a.probing--
		a.list(x.Do, g)
	case *syntax.ForClause:
		a.uses(x.Loop, g)
		a.list(x.Do, g)
	case *syntax.CaseClause:
		for _, it := range x.Items {
			a.list(it.Stmts, g)
		}
	case *syntax.FuncDecl:
		a.funcs = append(a.funcs, x)
	case *syntax.TestClause:
		// a test is not a use
	case *syntax.TimeClause:
		return a.stmt(x.Stmt, g)
	case *syntax.DeclClause:
		a.assigns(x.Args, g)
	case *syntax.CallExpr:
		switch {
		case isTest(a.sc, x):
		case len(x.Args) == 0:
			a.assigns(x.Assigns, g)
		default:
			a.uses(x, g)
		}
	default:
		a.uses(s.Cmd, g)
	}
	return g
}

// ifClause: a branch entered on a test that says "present" is guarded; a
// branch entered when the credential is missing that exits 0 guards the
// rest of the script.
func (a *analysis) ifClause(x *syntax.IfClause, g guards) guards {
	earlierPresent, earlierAbsent := map[*cred]bool{}, map[*cred]bool{}
	exitsAbsent := map[*cred]bool{}
	for cl := x; cl != nil; cl = cl.Else {
		// reaching this branch means every earlier test failed
		in := g.with(func(c *cred) bool { return earlierAbsent[c] }, a.creds)
		if len(cl.Cond) == 0 { // else
			a.list(cl.Then, in)
			for _, c := range a.creds {
				if earlierPresent[c] && exits(cl.Then...) {
					exitsAbsent[c] = true
				}
			}
			break
		}
		a.probing++ // a command failing in a condition takes another branch
		a.list(cl.Cond, in)
		a.probing--
		p := a.polarity(cl.Cond[len(cl.Cond)-1])
		a.list(cl.Then, in.with(func(c *cred) bool { return p[c].present() }, a.creds))
		for _, c := range a.creds {
			if (p[c].absent() || earlierPresent[c]) && exits(cl.Then...) {
				exitsAbsent[c] = true
			}
			if p[c].present() {
				earlierPresent[c] = true
			}
			if p[c].absent() {
				earlierAbsent[c] = true
			}
		}
	}
	return g.with(func(c *cred) bool { return exitsAbsent[c] }, a.creds)
}

// exits: the statements include a clean `exit 0`.
func exits(stmts ...*syntax.Stmt) bool {
	for _, s := range stmts {
		switch x := s.Cmd.(type) {
		case *syntax.CallExpr:
			if len(x.Args) == 2 && x.Args[0].Lit() == "exit" && x.Args[1].Lit() == "0" {
				return true
			}
		case *syntax.Block:
			if exits(x.Stmts...) {
				return true
			}
		case *syntax.BinaryCmd:
			if x.Op != syntax.Pipe && exits(x.X, x.Y) {
				return true
			}
		}
	}
	return false
}

func quotedWord(w *syntax.Word) bool {
	if w == nil {
		return false
	}
	for _, p := range w.Parts {
		switch p.(type) {
		case *syntax.SglQuoted, *syntax.DblQuoted:
			return true
		}
	}
	return strings.Contains(w.Lit(), `\`)
}

func isTest(sc *script, x *syntax.CallExpr) bool {
	if len(x.Args) == 0 {
		return false
	}
	switch sc.lit(x.Args[0]) {
	case "[", "test", "[[":
		return true
	}
	return false
}

// assigns: `P=/etc/secret/token` names the credential (P becomes an
// alias); `T=$(cat /etc/secret/token)` uses it.
func (a *analysis) assigns(as []*syntax.Assign, g guards) {
	for _, as := range as {
		if as.Value == nil || as.Name == nil {
			continue
		}
		if hasSubst(as.Value) {
			a.uses(as.Value, g)
			continue
		}
		for _, c := range a.creds {
			switch {
			case g[c]:
				// set only where the credential is known present
			case a.refs(as.Value, c, false):
				c.vars[as.Name.Value] = true
			case a.refs(as.Value, c, true):
				c.flags[as.Name.Value] = true
			}
		}
	}
}

func hasSubst(w *syntax.Word) bool {
	found := false
	syntax.Walk(w, func(n syntax.Node) bool {
		switch n.(type) {
		case *syntax.CmdSubst, *syntax.ProcSubst:
			found = true
		}
		return !found
	})
	return found
}

// refs: a word names the credential (test: or its bound flag).
func (a *analysis) refs(w *syntax.Word, c *cred, test bool) bool {
	if w == nil {
		return false
	}
	txt := a.sc.text(w)
	if test && (hasPath(txt, c.paths) || c.bound != "" && strings.Contains(txt, c.bound)) || !test && c.usedIn(txt) {
		return true
	}
	found := false
	syntax.Walk(w, func(n syntax.Node) bool {
		if pe, ok := n.(*syntax.ParamExp); ok && pe.Param != nil {
			if c.vars[pe.Param.Value] || test && c.flags[pe.Param.Value] {
				found = true
			}
		}
		return !found
	})
	return found
}

// uses records the first unguarded use of each credential under n.
func (a *analysis) uses(n syntax.Node, g guards) {
	if n == nil || a.probing > 0 {
		return
	}
	if w, ok := n.(*syntax.Word); ok && w == nil {
		return
	}
	syntax.Walk(n, func(n syntax.Node) bool {
		w, ok := n.(*syntax.Word)
		if !ok {
			return true
		}
		for _, c := range a.creds {
			if g[c] || !a.refs(w, c, false) {
				continue
			}
			if prev, seen := a.first[c]; !seen || w.Pos().Offset() < prev.Offset() {
				a.first[c] = w.Pos()
			}
		}
		return false
	})
}

// polarity says, per credential, what the success of a condition means.
func (a *analysis) polarity(s *syntax.Stmt) map[*cred]pol {
	m := map[*cred]pol{}
	switch x := s.Cmd.(type) {
	case *syntax.CallExpr:
		if isTest(a.sc, x) {
			args := x.Args[1:]
			if n := len(args); n > 0 && (args[n-1].Lit() == "]" || args[n-1].Lit() == "]]") {
				args = args[:n-1]
			}
			m = a.testArgs(args)
			break
		}
		// `if grep -q x /etc/secret/f`: success means it was there
		for _, w := range x.Args {
			for _, c := range a.creds {
				if a.refs(w, c, false) {
					m[c] = polPresent
				}
			}
		}
	case *syntax.TestClause:
		m = a.testExpr(x.X)
	case *syntax.BinaryCmd:
		if x.Op == syntax.AndStmt || x.Op == syntax.OrStmt {
			m = combine(a.polarity(x.X), a.polarity(x.Y), x.Op == syntax.AndStmt)
		}
	case *syntax.Block:
		if n := len(x.Stmts); n > 0 {
			m = a.polarity(x.Stmts[n-1])
		}
	case *syntax.Subshell:
		if n := len(x.Stmts); n > 0 {
			m = a.polarity(x.Stmts[n-1])
		}
	}
	if s.Negated {
		for c, p := range m {
			m[c] = p.flip()
		}
	}
	return m
}

func combine(l, r map[*cred]pol, and bool) map[*cred]pol {
	m := map[*cred]pol{}
	for _, side := range []map[*cred]pol{l, r} {
		for c := range side {
			lv, rv := l[c], r[c]
			switch {
			case lv == rv:
				m[c] = lv
			case and && lv == polNone:
				m[c] = rv
			case and && rv == polNone:
				m[c] = lv
			default: // `a || b` succeeding says nothing sure about a
				m[c] = polUnknown
			}
		}
	}
	return m
}

// testArgs reads `[ ... ]` / `test ...`.
func (a *analysis) testArgs(ws []*syntax.Word) map[*cred]pol {
	m := map[*cred]pol{}
	neg := false
	for len(ws) > 0 && ws[0].Lit() == "!" {
		neg, ws = !neg, ws[1:]
	}
	for _, c := range a.creds {
		p := polNone
		switch len(ws) {
		case 1:
			if a.refs(ws[0], c, true) {
				p = polPresent // [ "$TOKEN" ]: non-empty
			}
		case 2:
			if a.refs(ws[1], c, true) {
				p = unaryPol(a.sc.lit(ws[0]))
			}
		case 3:
			switch {
			case a.refs(ws[0], c, true):
				p = binaryPol(a.sc.lit(ws[1]), a.sc.lit(ws[2]))
			case a.refs(ws[2], c, true):
				p = binaryPol(a.sc.lit(ws[1]), a.sc.lit(ws[0]))
			}
		default:
			for _, w := range ws {
				if a.refs(w, c, true) {
					p = polUnknown
				}
			}
		}
		if neg {
			p = p.flip()
		}
		if p != polNone {
			m[c] = p
		}
	}
	return m
}

// testExpr reads `[[ ... ]]`.
func (a *analysis) testExpr(e syntax.TestExpr) map[*cred]pol {
	m := map[*cred]pol{}
	switch x := e.(type) {
	case *syntax.Word:
		for _, c := range a.creds {
			if a.refs(x, c, true) {
				m[c] = polPresent
			}
		}
	case *syntax.ParenTest:
		return a.testExpr(x.X)
	case *syntax.UnaryTest:
		if x.Op == syntax.TsNot {
			m = a.testExpr(x.X)
			for c, p := range m {
				m[c] = p.flip()
			}
			return m
		}
		if w, ok := x.X.(*syntax.Word); ok {
			for _, c := range a.creds {
				if a.refs(w, c, true) {
					m[c] = unaryPol(x.Op.String())
				}
			}
		}
	case *syntax.BinaryTest:
		if x.Op == syntax.AndTest || x.Op == syntax.OrTest {
			return combine(a.testExpr(x.X), a.testExpr(x.Y), x.Op == syntax.AndTest)
		}
		xw, _ := x.X.(*syntax.Word)
		yw, _ := x.Y.(*syntax.Word)
		if xw == nil || yw == nil {
			return m
		}
		for _, c := range a.creds {
			switch {
			case a.refs(xw, c, true):
				m[c] = binaryPol(x.Op.String(), a.sc.lit(yw))
			case a.refs(yw, c, true):
				m[c] = binaryPol(x.Op.String(), a.sc.lit(xw))
			}
		}
	}
	return m
}

func unaryPol(op string) pol {
	switch op {
	case "-z":
		return polAbsent
	case "-n", "-e", "-a", "-f", "-d", "-r", "-s", "-x", "-L", "-h", "-w", "-p", "-S", "-b", "-c", "-g", "-u", "-k", "-O", "-G", "-N":
		return polPresent
	}
	return polUnknown
}

// binaryPol: comparing a credential (or its bound flag) with a literal.
func binaryPol(op, other string) pol {
	other = strings.Trim(other, `"'`)
	eq := op == "=" || op == "=="
	if !eq && op != "!=" {
		return polUnknown
	}
	var p pol
	switch other {
	case "true":
		p = polPresent
	case "false", "":
		p = polAbsent
	default:
		return polUnknown
	}
	if !eq {
		p = p.flip()
	}
	return p
}

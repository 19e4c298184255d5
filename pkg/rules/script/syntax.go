package script

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/pkg/check"
)

var languages = map[string]syntax.LangVariant{
	"bash": syntax.LangBash,
	"sh":   syntax.LangPOSIX,
	"mksh": syntax.LangMirBSDKorn,
	"zsh":  syntax.LangZsh,
}

// Syntax parses every embedded shell script.
var Syntax = &check.Check{
	ID:       "script/syntax",
	Doc:      "embedded script that does not parse (bash/sh, per its shebang; no shebang is /bin/sh)",
	Severity: check.Error,
	Help:     "fix the shell syntax at this line; `bash -n` (or `sh -n` for a script without a shebang) reports the same locally",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: greet
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: |
        #!/bin/bash
        if [ -f /etc/motd ]; then
          cat /etc/motd
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: greet
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: |
        #!/bin/bash
        if [ -f /etc/motd ]; then
          cat /etc/motd
        fi
`,
	Requires: []*check.Input{Parsed},
	Run:      func(pass *check.Pass) []check.Finding { return forScripts(pass, parse) },
}

func parse(sc *Script) []check.Finding {
	if sc.Shell == "" {
		what := sc.Interpreter + ", not a shell"
		if strings.Contains(sc.Interpreter, "$(") {
			what = "an interpreter that " + sc.Interpreter + " chooses at run time"
		}
		f := sc.At(0, "%s runs its script with %s: script/syntax and script/shellcheck check shell scripts only, so this script is not checked", sc.Where, what).
			WithHelp("nothing to fix if the interpreter is intended; review the script by hand (or move it into the image, where its own linters run)")
		f.Severity = check.Info
		return []check.Finding{f}
	}
	_, err := sc.parse()
	var pe syntax.ParseError
	var le syntax.LangError
	var be *BoundsError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &be):
		return []check.Finding{sc.At(0, "%s is not parsed: %s; script/syntax, script/shellcheck and the rules that read scripts (script/param-injection through a second shell, credentials/no-skip, the sudo and container-engine checks) did not check it", sc.describe(), be.Msg).
			WithHelp("move the script into a file of the image (or split it between steps): an embedded script stays well under these limits")}
	case errors.As(err, &le):
		// a bash feature under /bin/sh works where /bin/sh is bash (UBI,
		// Fedora) and breaks where it is not (Alpine, Debian, distroless)
		f := sc.At(int(le.Pos.Offset()), "%s: %s", sc.describe(), strings.TrimPrefix(le.Error(), le.Pos.String()+": "))
		f.Severity = check.Warning
		if sc.Shebang {
			f.Help = fmt.Sprintf("write it the %s way, or run the script with the shell it is written for", sc.Shell)
		} else {
			f.Help = "the script has no shebang, so Tekton runs it with /bin/sh: start it with `#!/bin/bash` if it needs bash, or write it in POSIX sh"
		}
		return []check.Finding{f}
	case errors.As(err, &pe):
		return []check.Finding{sc.At(int(pe.Pos.Offset()), "%s does not parse: %s", sc.describe(), pe.Text)}
	}
	return []check.Finding{sc.At(0, "%s does not parse: %v", sc.describe(), err)}
}

// Parse parses the masked script in its shell's language; other rule
// families parse scripts through it, so every script is bounded alike.
func (s *Script) Parse() (*syntax.File, error) { return s.parse() }

// parse parses the masked script in its shell's language, once it is
// known to be within the bounds a parser handles (a *BoundsError if not).
func (s *Script) parse() (*syntax.File, error) {
	s.parsed.once.Do(func() { s.parsed.file, s.parsed.err = s.parseAs(s.Shell) })
	return s.parsed.file, s.parsed.err
}

// ParseBash parses the script as bash reads it: a /bin/sh script with
// bash features runs that way on the images where /bin/sh is bash.
func (s *Script) ParseBash() (*syntax.File, error) {
	if s.Shell == "bash" {
		return s.parse()
	}
	s.asBash.once.Do(func() { s.asBash.file, s.asBash.err = s.parseAs("bash") })
	return s.asBash.file, s.asBash.err
}

func (s *Script) parseAs(shell string) (*syntax.File, error) {
	if err := CheckBounds(s.Text); err != nil {
		return nil, err
	}
	return syntax.NewParser(syntax.Variant(languages[shell])).Parse(strings.NewReader(s.Masked()), "")
}

// describe names the script for messages: `the bash script of step "build"`.
func (s *Script) describe() string {
	if !s.Shebang {
		return "the script of " + s.Where + " (no shebang: /bin/sh)"
	}
	if strings.HasSuffix(s.Field, ".script") {
		lang := s.Shell
		if lang == "" {
			lang = path.Base(s.Interpreter)
		}
		return "the " + lang + " script of " + s.Where
	}
	flag := s.flag
	if flag == "" {
		flag = "-c"
	}
	return "the `" + s.Interpreter + " " + flag + "` script of " + s.Where
}

package script

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/report"
)

// TestExamples: every rule's Bad fires the rule, its Fixed does not.
func TestExamples(t *testing.T) {
	for _, c := range Checks {
		t.Run(c.ID, func(t *testing.T) {
			if c.ID == Shellcheck.ID {
				needShellcheck(t)
			}
			if c.Bad == "" || c.Fixed == "" {
				t.Fatal("Bad and Fixed are required")
			}
			if fs := run(c, sub(t, c.Bad)); len(fs) == 0 {
				t.Error("Bad does not fire the rule")
			}
			if fs := run(c, sub(t, c.Fixed)); len(fs) != 0 {
				t.Errorf("Fixed fires the rule: %v", fs)
			}
		})
	}
}

const task = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: t
spec:
  params:
    - name: url
    - name: mode
      enum: [fast, slow]
  steps:
    - name: s
      image: x
`

func TestSyntax(t *testing.T) {
	fs := run(Syntax, sub(t, task+`      script: |
        #!/bin/bash
        for f in *; do
          echo "$f" "$(params.url)"
        if true; then echo; fi
`))
	// the `for` is never closed: reported at the `for`
	if got := at(fs); !reflect.DeepEqual(got, []string{"15:9 error"}) {
		t.Errorf("unclosed for: %v", got)
	}
	if len(fs) == 1 && !strings.Contains(fs[0].Message, `bash script of step "s" does not parse`) {
		t.Errorf("message: %s", fs[0].Message)
	}

	// a bash array in a script without a shebang: Tekton runs /bin/sh
	fs = run(Syntax, sub(t, task+`      script: |
        set -e
        args=(a b)
`))
	if got := at(fs); !reflect.DeepEqual(got, []string{"15:14 warning"}) || !strings.Contains(fs[0].Help, "#!/bin/bash") {
		t.Errorf("array under /bin/sh: %v %v", got, fs)
	}
	if fs := run(Syntax, sub(t, task+"      script: |\n        #!/bin/bash\n        args=(a b)\n")); len(fs) != 0 {
		t.Errorf("array under bash: %v", fs)
	}

	// `sh -c` strings are scripts too; an error in a quoted scalar maps
	// inside the quotes
	fs = run(Syntax, sub(t, task+`      command: ["/bin/sh", "-c", "echo 'unterminated"]
`))
	if got := at(fs); !reflect.DeepEqual(got, []string{"13:40 error"}) {
		t.Errorf("sh -c: %v %v", got, fs)
	}

	// non-shell interpreters are said to be skipped, never silently
	fs = run(Syntax, sub(t, task+"      script: |\n        #!/usr/bin/env python3\n        print('$(params.url)')\n"))
	if len(fs) != 1 || fs[0].Severity != check.Info || !strings.Contains(fs[0].Message, "python3, not a shell") {
		t.Errorf("python: %v", fs)
	}
}

func TestShellcheck(t *testing.T) {
	needShellcheck(t)
	fs := run(Shellcheck, sub(t, task+`      env:
        - name: mode
          value: $(params.mode)
      script: |
        #!/bin/bash
        if [ "$(params.mode)" = "fast" ]; then echo "$mode"; fi
        case $(params.url) in x) ;; esac
        	echo $(ls)
        [ -n "$(params.url)" ] && echo "$undefined"
`))
	// masked comparisons (SC2050, SC2194, SC2157) and $mode from env
	// (SC2154) are not reported; `echo $(ls)` is (SC2005, SC2046: after
	// a tab, shellcheck's column 15 is column 15 here too), and so is
	// $undefined (SC2154)
	var got []string
	for _, f := range fs {
		got = append(got, f.Message[:6]+" "+at([]check.Finding{f})[0])
	}
	want := []string{"SC2046 20:15 warning", "SC2005 20:15 info", "SC2154 21:41 warning"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}

	// scripts of several steps and dialects, one of them twice: each
	// finding lands in its own step
	fs = run(Shellcheck, sub(t, task+`      script: |
        #!/bin/bash
        cd /tmp; echo $(ls)
    - name: b
      image: x
      script: |
        [[ -f x ]] && echo ok
    - name: c
      image: x
      script: |
        #!/bin/bash
        cd /tmp; echo $(ls)
`))
	got = nil
	for _, f := range fs {
		got = append(got, f.Message[:6]+" "+at([]check.Finding{f})[0])
	}
	want = []string{"SC2164 15:9 warning", "SC2046 15:23 warning", "SC2005 15:23 info",
		"SC3010 19:9 warning",
		"SC2164 24:9 warning", "SC2046 24:23 warning", "SC2005 24:23 info"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("several scripts: got %v, want %v", got, want)
	}

	// shellcheck's error level is an error finding
	fs = run(Shellcheck, sub(t, task+"      script: |\n        #!/bin/bash\n        for a in $@; do echo \"$a\"; done\n"))
	var errs []string
	for _, f := range fs {
		if f.Severity == check.Error {
			errs = append(errs, f.Message[:6]+" "+at([]check.Finding{f})[0])
		}
	}
	if !reflect.DeepEqual(errs, []string{"SC2068 15:18 error"}) {
		t.Errorf("unquoted $@: %v", errs)
	}
	if fs := run(Shellcheck, ruletest.TestdataSub(t, "build-definitions", "task/git-clone/0.2")); len(fs) != 0 {
		t.Errorf("git-clone 0.2: %v", fs)
	}
}

func TestShellcheckFails(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "shellcheck")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho 'shellcheck: internal error' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	look := LookShellcheck
	defer func() { LookShellcheck = look }()
	LookShellcheck = func() (string, error) { return broken, nil }
	fs := run(Shellcheck, sub(t, task+"      script: echo TestShellcheckFails\n"))
	// an unchecked script fails the gate
	if got := at(fs); !reflect.DeepEqual(got, []string{"13:15 error"}) || !strings.Contains(fs[0].Message, "shellcheck: internal error") {
		t.Errorf("broken shellcheck: %v", fs)
	}
}

func TestShellcheckAbsent(t *testing.T) {
	look := LookShellcheck
	defer func() { LookShellcheck = look }()
	LookShellcheck = func() (string, error) { return "", errors.New("not found") }
	fs := run(Shellcheck, sub(t, task+"      script: echo one\n    - name: two\n      image: x\n      script: echo two\n"))
	if len(fs) != 1 || fs[0].Severity != check.Info || !strings.Contains(fs[0].Message, "shellcheck is not installed") || !strings.Contains(fs[0].Message, "2 shell script") {
		t.Errorf("without shellcheck: %v", fs)
	}
}

// A check that did not run is never reported as passed, in any format.
func TestShellcheckAbsentIsNotPassed(t *testing.T) {
	look := LookShellcheck
	defer func() { LookShellcheck = look }()
	LookShellcheck = func() (string, error) { return "", errors.New("not found") }
	res := check.Run([]*catalog.Submission{sub(t, task+"      script: echo one\n")}, []*check.Check{Shellcheck}, nil)
	if st := res.Submissions[0].Checks[0]; st.NotRun != check.Unavailable || !strings.HasPrefix(st.Skipped, "shellcheck is not installed") {
		t.Fatalf("status %+v", st)
	}
	for format, want := range map[string]string{
		"markdown": "⏭️ not run (not available): shellcheck is not installed",
		"junit":    `<skipped message="not available: shellcheck is not installed`,
		"json":     `"notRun": "unavailable",` + "\n" + `          "reason": "shellcheck is not installed`,
		"text":     "not run: partners/t/0.1 script/shellcheck (not available): shellcheck is not installed",
	} {
		var b strings.Builder
		if err := report.Write(&b, format, res); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), want) || strings.Contains(b.String(), "script/shellcheck][] | ✅") {
			t.Errorf("%s does not say script/shellcheck did not run:\n%s", format, b.String())
		}
	}
}

func TestParamInjection(t *testing.T) {
	fs := run(ParamInjection, sub(t, task+`      env:
        - name: URL
          value: $(params.url)
      script: |
        #!/bin/bash
        git clone "$(params.url)" --depth=1 $(workspaces.src.path)
        echo $(params.mode) $(context.taskRun.name) $(results.r.path)
        echo "$(steps.build.results.digest)" $(steps.build.results.digest.path)
    - name: c
      image: x
      command: [bash, -c]
      args: ["curl -d '$(params.url)' $(params.url)", "$(params.url)"]
`))
	// the enum param, paths and context are not the caller's; the args
	// after the -c string are positional parameters, data
	// one finding per value per step: step c pastes the url twice
	if got := at(fs); !reflect.DeepEqual(got, []string{"18:20 error", "20:15 error", "24:24 error"}) {
		t.Errorf("got %v", got)
	}
	if !strings.HasSuffix(fs[2].Message, "(also at 24:39 in this step)") || strings.Contains(fs[0].Message, "also at") {
		t.Errorf("the other places are not listed: %q / %q", fs[2].Message, fs[0].Message)
	}
	if !strings.Contains(fs[0].Help, `already has this value in its env as URL: write "${URL}"`) {
		t.Errorf("help does not reuse the env entry: %s", fs[0].Help)
	}
	if !strings.Contains(fs[2].Help, "  env:\n    - name: URL\n      value: $(params.url)\n") {
		t.Errorf("help does not show the env entry: %s", fs[2].Help)
	}

	// a value from env handed to ssh's remote shell is parsed again;
	// ${X@Q} quotes it for that shell
	fs = run(ParamInjection, sub(t, task+`      env:
        - name: URL
          value: $(params.url)
      script: |
        #!/bin/bash
        ssh -i key -o BatchMode=yes "$HOST" git clone "$URL"
        ssh -p 22 "$HOST" git clone "${URL@Q}" "$(printf %q "$URL")"
        eval "echo $URL"
`))
	if got := at(fs); !reflect.DeepEqual(got, []string{"18:56 error", "20:20 error"}) {
		t.Errorf("reparsed: %v", got)
	}
}

// The code argument of python -c, node -e, perl -e is a script too: a
// param pasted there is code; one passed through env is data.
func TestParamInjectionInterpreters(t *testing.T) {
	fs := run(ParamInjection, sub(t, task+`      command: [python3, -c]
      args: ["import sys; print('$(params.url)')"]
    - name: n
      image: x
      command: [node, -e, "console.log('$(params.url)')"]
    - name: ok
      image: x
      env: [{name: URL, value: $(params.url)}]
      command: [python3, -c, "import os; print(os.environ['URL'])"]
    - name: file
      image: x
      command: [python3, run.py, -c, "$(params.url)"]
`))
	if got := at(fs); !reflect.DeepEqual(got, []string{"14:34 error", "17:41 error"}) {
		t.Errorf("got %v\n%v", got, fs)
	}
	if len(fs) == 2 && !strings.Contains(fs[1].Message, "`node -e` script") {
		t.Errorf("message: %s", fs[1].Message)
	}
	if len(fs) > 0 && !strings.Contains(fs[0].Help, `os.environ["URL"]`) {
		t.Errorf("help: %s", fs[0].Help)
	}
}

// testdata's failing partner PR pastes two params into its script, which
// parses.
func TestLicenseScanPR(t *testing.T) {
	s := ruletest.TestdataSub(t, "build-definitions/_pull-requests/pr-1", "partners/license-scan/0.1")
	if got := at(run(ParamInjection, s)); !reflect.DeepEqual(got, []string{"33:25 error", "33:52 error"}) {
		t.Errorf("script/param-injection at %v, want 33:25 and 33:52", got)
	}
	if fs := run(Syntax, s); len(fs) != 0 {
		t.Errorf("script/syntax: %v", fs)
	}
}

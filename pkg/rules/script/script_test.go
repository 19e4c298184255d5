package script

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"mvdan.cc/sh/v3/syntax"
	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// corpus returns a repository of the real corpus (the -tags corpus
// sweep: it fails without it).
func corpus(t *testing.T, repo string) *catalog.Repo {
	t.Helper()
	r, err := catalog.Open(testrepo.Corpus(t, repo))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// corpusSub loads one submission of the corpus.
func corpusSub(t *testing.T, repo, dir string) *catalog.Submission {
	t.Helper()
	s, err := corpus(t, repo).Submission(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Manifest == nil || s.Manifest.Root == nil {
		t.Fatalf("%s/%s: no manifest", repo, dir)
	}
	return s
}

// sub makes a submission of a hand-written manifest.
func sub(t *testing.T, doc string) *catalog.Submission {
	t.Helper()
	m := manifest.Parse("partners/t/0.1/t.yaml", []byte(doc), manifest.DefaultLimits)
	if m.Root == nil {
		t.Fatalf("manifest does not load: %+v", m.Problems)
	}
	return &catalog.Submission{Layout: "partners", Name: "t", Version: "0.1", Dir: "partners/t/0.1", TaskPath: m.Path, Manifest: m}
}

// needShellcheck skips a test without shellcheck, unless CI demands it.
func needShellcheck(t *testing.T) {
	t.Helper()
	if _, err := LookShellcheck(); err != nil {
		if os.Getenv("TASKGATE_REQUIRE_SHELLCHECK") != "" {
			t.Fatalf("shellcheck is required (TASKGATE_REQUIRE_SHELLCHECK is set): %v", err)
		}
		t.Skip("shellcheck is not installed")
	}
}

// run runs one check and gives every finding its rule and severity, as
// the driver does.
func run(c *check.Check, s *catalog.Submission) []check.Finding {
	fs := check.Apply(c, s)
	for i := range fs {
		if fs[i].Rule == "" {
			fs[i].Rule = c.ID
		}
		if fs[i].Severity == 0 {
			fs[i].Severity = c.Severity
		}
	}
	return fs
}

// at lists findings as "line:col severity" for compact assertions.
func at(fs []check.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d:%d %s", f.Line, f.Column, f.Severity))
	}
	return out
}

func TestInterpreter(t *testing.T) {
	for _, c := range []struct {
		script, shell, program string
		shebang                bool
	}{
		{"echo hi", "sh", "/bin/sh", false},
		{"\n\n  #!/bin/bash\necho", "bash", "/bin/bash", true}, // Tekton trims before looking
		{"#!/usr/bin/env bash\n", "bash", "bash", true},
		{"#!/usr/bin/env -S bash -e\n", "bash", "bash", true},
		{"#!/bin/sh -e\n", "sh", "/bin/sh", true},
		{"#!/bin/dash\n", "sh", "/bin/dash", true},
		{"#!/bin/busybox sh\n", "sh", "sh", true},
		{"#!/bin/mksh\n", "mksh", "/bin/mksh", true},
		{"#!/usr/bin/zsh\n", "zsh", "/usr/bin/zsh", true},
		{"#!/usr/bin/env python3\nprint(1)", "", "python3", true},
		{"#!/usr/libexec/platform-python\n", "", "/usr/libexec/platform-python", true},
		{"#!win pwsh.exe\n", "", "Windows pwsh.exe", true},
	} {
		shell, program, shebang := interpreter(c.script)
		if shell != c.shell || program != c.program || shebang != c.shebang {
			t.Errorf("interpreter(%q) = %q, %q, %v; want %q, %q, %v", c.script, shell, program, shebang, c.shell, c.program, c.shebang)
		}
	}
}

func TestMask(t *testing.T) {
	for in, refs := range map[string][]string{
		`echo "$(params.url)"`:                    {"$(params.url)"},
		`x=$(echo $(params.a) | tr a b)`:          {"$(params.a)"}, // not the command substitution around it
		`cat $(results.digest.path)`:              {"$(results.digest.path)"},
		`echo $(params["a.b"]) $(params['c'])`:    {`$(params["a.b"])`, `$(params['c'])`},
		`n=$(( $(params.n) + 1 ))`:                {"$(params.n)"},
		`echo $(context.taskRun.name)`:            {"$(context.taskRun.name)"},
		`echo $(steps.build.results.digest.path)`: {"$(steps.build.results.digest.path)"},
		`echo $(date) $(params) $(results x.y)`:   nil, // no Tekton reference
	} {
		want := in
		for _, r := range refs {
			want = strings.Replace(want, r, "TKN"+strings.Repeat("_", len(r)-3), 1)
		}
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScripts(t *testing.T) {
	s := sub(t, `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: t
spec:
  stepTemplate:
    command: [/bin/bash, -ec]
    args: ["echo template"]
  steps:
    - name: script
      image: x
      script: echo one
    - name: dash-c
      image: x
      command: ["sh"]
      args: ["-o", "pipefail", "+x", "-euc", "echo two", "arg0"]
    - name: env
      image: x
      command: [/usr/bin/env, bash, -c, "echo three"]
    - name: file
      image: x
      command: [sh, ./run.sh, -c]
    - name: not-a-shell
      image: x
      command: [python3, -c, "print(4)"]
    - name: node-split
      image: x
      command: [node]
      args: [--no-warnings, -e, "console.log(6)"]
    - name: perl-file
      image: x
      command: [perl, run.pl, -e, "print 7"]
  sidecars:
    - name: side
      image: x
      script: |
        #!/usr/bin/env python3
        print(5)
`)
	var got []string
	for _, sc := range Scripts(s.Manifest) {
		got = append(got, sc.Field+"="+sc.Shell+":"+strings.TrimSpace(sc.Text))
	}
	want := []string{
		"spec.stepTemplate.args[0]=bash:echo template",
		"spec.steps[0].script=sh:echo one",
		"spec.steps[1].args[4]=sh:echo two",
		"spec.steps[2].command[3]=bash:echo three",
		"spec.steps[4].command[2]=:print(4)",
		"spec.steps[5].args[2]=:console.log(6)",
		"spec.sidecars[0].script=:#!/usr/bin/env python3\nprint(5)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("scripts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	sa := sub(t, `apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata:
  name: t
spec:
  image: x
  script: |
    #!/bin/bash
    echo "$(params.msg)"
`)
	scs := Scripts(sa.Manifest)
	if len(scs) != 1 || scs[0].Field != "spec.script" || scs[0].Where != "the StepAction" {
		t.Fatalf("StepAction scripts = %+v", scs)
	}
	if line, col := scs[0].Pos(strings.Index(scs[0].Text, "$(params")); line != 9 || col != 11 {
		t.Errorf("StepAction $(params.msg) at %d:%d, want 9:11", line, col)
	}
}

// The rules of a run share a submission's scripts (script.Parsed), and
// each script is parsed once, whichever rule asks first.
func TestParsedOnce(t *testing.T) {
	s := sub(t, task+"      script: |\n        a=(1 2); echo \"${a[@]}\"\n")
	var mu sync.Mutex
	seen := map[*syntax.File]int{}
	record := &check.Check{ID: "test/parsed", Doc: "d", Severity: check.Info, Help: "h", Requires: []*check.Input{Parsed},
		Run: func(p *check.Pass) []check.Finding {
			sc := Of(p)[0]
			_, err := sc.Parse()
			b, berr := sc.ParseBash()
			if err == nil || berr != nil || b == nil {
				t.Errorf("a bash array under /bin/sh: parsed as sh %v, as bash %v", err, berr)
			}
			mu.Lock()
			seen[b]++
			mu.Unlock()
			return nil
		}}
	other := *record
	other.ID = "test/parsed-too"
	check.Run([]*catalog.Submission{s}, []*check.Check{record, &other, Syntax, ParamInjection}, nil)
	if len(seen) != 1 {
		t.Errorf("two checks of one run got %d syntax trees of one script, want 1", len(seen))
	}
}

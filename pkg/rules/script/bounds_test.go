package script

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"taskgate.dev/taskgate/pkg/check"
)

func TestBounds(t *testing.T) {
	deep := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "true" + strings.Repeat(close, n)
	}
	for name, c := range map[string]struct {
		text string
		want string // in the error; "" accepts
	}{
		"400,000 nested (":       {deep("(", ")", 400_000), "bytes, over the"},
		"3,000 nested (":         {deep("(", ")", 3000), "opens 3000"},
		"3,000 nested $(":        {deep("echo $(", ")", 3000), "opens 3000"},
		"2,500 nested if":        {deep("if true; then\n", "fi\n", 2500), "opens 2500"},
		"2,500 nested while":     {deep("while true; do\n", "done\n", 2500), "opens 2500"},
		"2,500 nested backquote": {deep("`", "`", 2500), "opens 5000"},
		// quoting, comments and heredocs hide nothing from the count
		"closers in quotes":      {strings.Repeat(`( ")" `, 2500), "opens 2500"},
		"parens in a heredoc":    {"cat <<'EOF'\n'\nEOF\n" + deep("(", ")", 2500) + "\n'", "opens 2500"},
		"1,000 nested (":         {deep("(", ")", 1000), ""},
		"words are not keywords": {strings.Repeat("echo diff done iffy cased dot\n", 3000), ""},
	} {
		start := time.Now()
		err := CheckBounds(c.text)
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("%s: the scan took %s", name, d)
		}
		var be *BoundsError
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: refused: %v", name, err)
		case c.want != "" && (!errors.As(err, &be) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error with %q", name, err, c.want)
		}
	}
}

// A script out of bounds is a script/syntax error at the script, and
// shellcheck is not run on it.
func TestSyntaxOutOfBounds(t *testing.T) {
	doc := `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: t
spec:
  steps:
    - name: deep
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: |
        #!/bin/bash
        ` + strings.Repeat("(", 3000) + "true" + strings.Repeat(")", 3000) + "\n"
	s := sub(t, doc)
	fs := run(Syntax, s)
	if len(fs) != 1 || fs[0].Severity != check.Error || fs[0].Line != 10 || !strings.Contains(fs[0].Message, "is not parsed") {
		t.Fatalf("script/syntax: %v", fs)
	}
	for _, f := range run(Shellcheck, s) {
		t.Errorf("shellcheck ran on it: %v", f)
	}
}

// shellcheck runs under CPU and memory limits: 1,000 distinct variables
// took it 35 s and 3 GB; now the script is an error naming what was not
// checked, within the gate's budget.
func TestShellcheckLimits(t *testing.T) {
	needShellcheck(t)
	var b strings.Builder
	b.WriteString("      script: |\n        #!/bin/bash\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "        v%d=$1\n", i)
	}
	b.WriteString("        echo")
	for i := range 1000 {
		fmt.Fprintf(&b, ` "$v%d"`, i)
	}
	b.WriteString("\n")
	// the limits (CPU, memory, wall clock) stop shellcheck; which one
	// fires first depends on the machine's load, so no time is asserted
	fs := run(Shellcheck, sub(t, task+b.String()))
	if len(fs) != 1 || fs[0].Severity != check.Error || fs[0].Line != 14 ||
		!strings.Contains(fs[0].Message, "shellcheck could not check") || !strings.Contains(fs[0].Message, "is not checked") {
		t.Fatalf("want one error at the script, got %v", fs)
	}
	t.Log(fs[0].Message)
}

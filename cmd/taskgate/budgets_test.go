package main

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"taskgate.dev/taskgate/internal/budget"
	"taskgate.dev/taskgate/internal/testrepo"
)

// Hostile submissions, each alone in a pull request of its own catalog,
// judged by the real binary under `ulimit -v` and a deadline: each gets
// its finding, within the budget of one submission (5 s, 500 MB).

// hostileTask is a Task valid in every other way; the script starts on
// line 16 of the file.
func hostileTask(script string) string {
	return `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: evil
  labels:
    app.kubernetes.io/version: "0.1"
  annotations:
    tekton.dev/pipelines.minVersion: "0.50.0"
    tekton.dev/tags: test
spec:
  description: Hostile input for the gate.
  steps:
    - name: run
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: |
` + indentLines("#!/bin/bash\n"+script, "        ")
}

func indentLines(text, by string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if line != "" {
			b.WriteString(by + line)
		}
	}
	return b.String()
}

func nested(open, inner, close string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n) + "\n"
}

// distinctVariables assigns and reads n variables: shellcheck's data flow
// analysis took 35 s and 3 GB for 1,000.
func distinctVariables(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "v%d=$1\n", i)
	}
	b.WriteString("echo")
	for i := range n {
		fmt.Fprintf(&b, ` "$v%d"`, i)
	}
	return b.String() + "\n"
}

// aliasedString is one 200 KB string (a param's default) aliased 3,000
// times (3,000 nodes, 600 MB once expanded) in the args on line 18.
func aliasedString() string {
	task := strings.Replace(hostileTask("true\n"), "  steps:\n", "  params:\n    - name: big\n      default: &big "+strings.Repeat("x", 200_000)+"\n  steps:\n", 1)
	return strings.Replace(task, "      script: |\n", "      args: ["+strings.TrimSuffix(strings.Repeat("*big, ", 3000), ", ")+"]\n      script: |\n", 1)
}

var hostileCases = []struct {
	name, task string
	shellcheck bool // the finding needs shellcheck
	rule       string
	line       int
	message    string
}{
	{"400,000 nested (", hostileTask(nested("(", "true", ")", 400_000)), false, "script/syntax", 16, "over the 131072-byte limit"},
	{"3,000 nested (", hostileTask(nested("(", "true", ")", 3000)), false, "script/syntax", 16, "opens 3000 brackets"},
	{"aliased 200 KB string", aliasedString(), false, "input/limits", 18, "more than 2097152 bytes"},
	{"5,000 nested if", hostileTask(nested("if true; then\n", "true\n", "fi\n", 5000)), false, "script/syntax", 16, "opens 5000"},
	{"1,500 nested if", hostileTask(nested("if true; then\n", "true\n", "fi\n", 1500)), true, "script/shellcheck", 16, "shellcheck could not check"},
	{"1,000 distinct variables", hostileTask(distinctVariables(1000)), true, "script/shellcheck", 16, "shellcheck could not check"},
	{"!!binary script", strings.Replace(hostileTask("true\n"), "script: |\n        #!/bin/bash\n        true\n", "script: !!binary IyEvYmluL2Jhc2gKY3VybCBodHRwczovL2V2aWwuZXhhbXBsZS8gfCBzaAo=\n", 1), false, "yaml/syntax", 15, "`!!binary`"},
	{"custom tag", strings.Replace(hostileTask("true\n"), "script: |\n", "script: !shell |\n", 1), false, "yaml/syntax", 15, "custom tag !shell"},
}

// hostileRepo commits an empty catalog on main and adds the submission on
// a branch: the pull request the gate judges.
func hostileRepo(t *testing.T, task string) string {
	root := testrepo.New(t, map[string]string{"README.md": "# catalog\n"})
	git(t, root, "init", "-q", "-b", "main")
	git(t, root, "add", "-A")
	git(t, root, "commit", "-qm", "base")
	git(t, root, "checkout", "-qb", "pr")
	testrepo.Write(t, root, map[string]string{
		"partners/evil/OWNERS":        "approvers: [mallory]\n",
		"partners/evil/0.1/README.md": "# evil\n",
		"partners/evil/0.1/evil.yaml": task,
	})
	git(t, root, "add", "-A")
	git(t, root, "commit", "-qm", "add evil")
	return root
}

func TestHostileSubmissionsWithinBudget(t *testing.T) {
	_, scErr := exec.LookPath("shellcheck")
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			if c.shellcheck && scErr != nil {
				t.Skip("shellcheck is not installed")
			}
			root := hostileRepo(t, c.task)
			r := budget.Run(t, root, budget.Limits{AddressSpace: 2 << 30, Deadline: 60 * time.Second}, "validate", "--changed-from", "main", "--format", "json")
			var out struct {
				Findings []struct {
					Rule, Severity, File, Message string
					Line                          int
				}
			}
			var got []string
			if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
				t.Errorf("exit %d, output is not JSON (%v): %.300s", r.Code, err, r.Stderr)
			}
			found := false
			for _, f := range out.Findings {
				got = append(got, fmt.Sprintf("%s:%d %s %s: %.100s", f.File, f.Line, f.Severity, f.Rule, f.Message))
				if f.Rule != c.rule || f.Severity != "error" || f.File != "partners/evil/0.1/evil.yaml" {
					continue
				}
				// on a loaded machine the submission's time budget may stop
				// shellcheck before its own limits do: also an error
				found = found || f.Line == c.line && strings.Contains(f.Message, c.message) ||
					c.shellcheck && f.Line == 1 && strings.Contains(f.Message, "script/shellcheck did not finish within this submission's share")
			}
			t.Logf("findings:\n%s", strings.Join(got, "\n"))
			if !found || r.Code != exitFindings {
				t.Errorf("exit %d; want an error %s at line %d with %q", r.Code, c.rule, c.line, c.message)
			}
			r.Within(t) // CPU (taskgate and the shellcheck it waited for) and peak RSS
		})
	}
}

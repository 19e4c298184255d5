package refs

import (
	"taskgate.dev/taskgate/pkg/check"
)

// UnusedParam finds params nothing in the Task reads: the caller sets a
// value that changes nothing (often a typo, or a leftover of a rename).
var UnusedParam = &check.Check{
	ID:       "tekton/unused-param",
	Doc:      "a param that no field of the Task or StepAction refers to",
	Severity: check.Warning,
	Help:     "remove the param, or use it (`$(params.<name>)`, through the step's env in scripts)",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  params:
    - name: greeting
      default: hello
  steps:
    - name: hello
      image: ` + image + `
      script: echo hello
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  params:
    - name: greeting
      default: hello
  steps:
    - name: hello
      image: ` + image + `
      env:
        - name: GREETING
          value: $(params.greeting)
      script: echo "$GREETING"
`,
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		if !judged(m) {
			return nil
		}
		used := map[string]bool{}
		for _, r := range references(m) {
			if r.kind == "params" {
				used[r.name] = true
			}
		}
		params := value(value(m.Root, "spec"), "params")
		if params == nil {
			return nil
		}
		var out []check.Finding
		for _, p := range params.Content {
			n := value(p, "name")
			if n == nil || used[n.Value] {
				continue
			}
			out = append(out, check.AtNode(m.Path, n, "param %s is declared but nothing in the %s refers to it: a value the caller sets changes nothing", n.Value, m.Kind))
		}
		return out
	},
}

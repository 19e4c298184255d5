package refs

import (
	"strconv"

	"gopkg.in/yaml.v3"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// DuplicateEnv finds an env name set twice in one container: Kubernetes
// keeps the last, so the first (often a secret) silently never arrives.
var DuplicateEnv = &check.Check{
	ID:       "tekton/duplicate-env",
	Doc:      "the same env name twice in one step, sidecar, stepTemplate or StepAction: only the last one counts",
	Severity: check.Warning,
	Help:     "keep one entry per name (a step's own entry already overrides the stepTemplate's: that is not a duplicate)",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: ` + image + `
      env:
        - name: GREETING
          value: hello
        - name: GREETING
          value: hi
      script: echo "$GREETING"
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  steps:
    - name: hello
      image: ` + image + `
      env:
        - name: GREETING
          value: hello
      script: echo "$GREETING"
`,
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		if !judged(m) {
			return nil
		}
		var out []check.Finding
		for _, c := range holders(m) {
			seen := map[string]int{}
			env := value(c.node, "env")
			if env == nil {
				continue
			}
			for i, e := range env.Content {
				n := value(e, "name")
				if n == nil {
					continue
				}
				if first, dup := seen[n.Value]; dup {
					out = append(out, check.AtNode(m.Path, n, "%s sets env %s twice (entries %d and %d): only the last one reaches the container", c.what, n.Value, first+1, i+1))
					continue
				}
				seen[n.Value] = i
			}
		}
		return out
	},
}

type holder struct {
	what string
	node *yaml.Node
}

// holders are the container specs of a Task or StepAction.
func holders(m *manifest.File) []holder {
	spec := value(m.Root, "spec")
	if m.Kind == "StepAction" {
		return []holder{{"the StepAction", spec}}
	}
	out := []holder{}
	if t := value(spec, "stepTemplate"); t != nil {
		out = append(out, holder{"the stepTemplate", t})
	}
	for _, list := range []string{"steps", "sidecars"} {
		seq := value(spec, list)
		if seq == nil {
			continue
		}
		for i, n := range seq.Content {
			what := list[:len(list)-1] + " " + strconv.Itoa(i)
			if name := value(n, "name"); name != nil && name.Value != "" {
				what = list[:len(list)-1] + " " + strconv.Quote(name.Value)
			}
			out = append(out, holder{what, n})
		}
	}
	return out
}

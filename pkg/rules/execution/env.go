package execution

import (
	"fmt"

	"taskgate.dev/taskgate/pkg/check"
)

// hijackers are the variables that choose which code runs before or
// instead of the program a step names.
var hijackers = map[string]string{
	"PATH":            "which program every command name runs",
	"LD_PRELOAD":      "a library loaded into every program",
	"LD_LIBRARY_PATH": "where every program loads its libraries from",
	"LD_AUDIT":        "a library loaded into every program",
	"BASH_ENV":        "a file every non-interactive bash runs first",
	"ENV":             "a file every sh runs first",
}

// EnvOverride finds env entries that change which code a step runs.
var EnvOverride = &check.Check{
	ID:       "execution/env-override",
	Doc:      "env (steps, stepTemplate, sidecars, StepActions) sets `PATH`, `LD_PRELOAD`, `LD_LIBRARY_PATH`, `LD_AUDIT`, `BASH_ENV` or `ENV`: the code a step runs is not the code it names",
	Severity: check.Error,
	Help:     "remove the entry and call programs by their absolute path (or set PATH inside the script, where reviewers see it); build the image with its libraries instead of preloading them",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: build-info
spec:
  stepTemplate:
    env:
      - name: LD_PRELOAD
        value: /workspace/source/.hook.so
  steps:
    - name: info
      image: ` + image + `
      script: uname -a
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: build-info
spec:
  steps:
    - name: info
      image: ` + image + `
      script: uname -a
`,
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		var out []check.Finding
		for _, c := range containers(m) {
			for i, e := range c.env {
				why, bad := hijackers[e.Name]
				if !bad {
					continue
				}
				out = append(out, check.At(m, fmt.Sprintf("%s.env[%d].name", c.path, i), "%s sets %s, %s: the code that runs is not the code the step names", c.what, e.Name, why))
			}
		}
		return out
	},
}

package execution

import (
	"fmt"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"taskgate.dev/taskgate/pkg/check"
)

// Checks are the execution-surface rules, in catalog order.
var Checks = []*check.Check{ImageParam, EnvOverride, RemoteStepAction, CheckSidecar, ContinueOnError}

const checkTask = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: image-lint
spec:
  params:
    - name: image-url
  results:
    - name: TEST_OUTPUT
  steps:
    - name: lint
      image: ` + image + `
      env:
        - name: IMAGE
          value: $(params.image-url)
      script: |
        #!/bin/sh
        lint "$IMAGE" && result=SUCCESS || result=FAILURE
        printf '{"result":"%s","timestamp":"%s","successes":0,"failures":0,"warnings":0}' "$result" "$(date -u +%FT%TZ)" > "$(results.TEST_OUTPUT.path)"
`

// CheckSidecar finds sidecars in a check Task: a check reads its inputs
// and reports; a sidecar runs beside it for the whole Task, unreviewed by
// the check's verdict, free to call out.
var CheckSidecar = &check.Check{
	ID:       "execution/check-sidecar",
	Doc:      "a check Task runs a sidecar: a process beside the check for its whole run, with the step's network and no verdict of its own",
	Severity: check.Error,
	Help:     "do the work in a step; a check needs no service running beside it (a registry or database a test needs belongs in the test's own pipeline)",
	Bad: checkTask + `  sidecars:
    - name: helper
      image: ` + image + `
      script: |
        #!/bin/sh
        while true; do sleep 60; done
`,
	Fixed: checkTask,
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		ok, what := isCheck(m)
		if !ok {
			return nil
		}
		var out []check.Finding
		for i, sc := range m.Task.Spec.Sidecars {
			out = append(out, check.At(m, fmt.Sprintf("spec.sidecars[%d]", i), "%s runs sidecar %q beside its steps", what, sc.Name))
		}
		return out
	},
}

// ContinueOnError finds check steps whose failure is ignored: the check
// then reports whatever its last step writes, SUCCESS included.
var ContinueOnError = &check.Check{
	ID:       "execution/continue-on-error",
	Doc:      "a step of a check Task has `onError: continue`: the check passes while its work failed",
	Severity: check.Error,
	Help:     "let the step fail; or have a later step read its exit code (`$(steps.step-<name>.exitCode.path)`, i.e. /tekton/steps/step-<name>/exitCode) and report FAILURE or ERROR in TEST_OUTPUT",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: image-lint
spec:
  params:
    - name: image-url
  results:
    - name: TEST_OUTPUT
  steps:
    - name: lint
      image: ` + image + `
      onError: continue
      env:
        - name: IMAGE
          value: $(params.image-url)
      script: |
        #!/bin/sh
        lint "$IMAGE"
    - name: report
      image: ` + image + `
      script: |
        #!/bin/sh
        printf '{"result":"SUCCESS","timestamp":"%s","successes":1,"failures":0,"warnings":0}' "$(date -u +%FT%TZ)" > "$(results.TEST_OUTPUT.path)"
`,
	Fixed: checkTask,
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		ok, what := isCheck(m)
		if !ok {
			return nil
		}
		var out []check.Finding
		steps := m.Task.Spec.Steps
		for i, st := range steps {
			if st.OnError == v1.Continue && !exitCodeRead(st.Name, steps[i+1:]) {
				out = append(out, check.At(m, fmt.Sprintf("spec.steps[%d].onError", i), "step %q of %s continues when it fails: the Task's verdict no longer says whether the check ran", st.Name, what))
			}
		}
		return out
	},
}

// exitCodeRead says whether a later step reads the exit code of step
// name (Tekton writes it to /tekton/steps/step-<name>/exitCode): then the
// failure is reported, not ignored.
func exitCodeRead(name string, later []v1.Step) bool {
	if name == "" {
		return false
	}
	for _, st := range later {
		text := st.Script + strings.Join(st.Command, " ") + strings.Join(st.Args, " ")
		if strings.Contains(text, "/tekton/steps/step-"+name+"/exitCode") || strings.Contains(text, "$(steps.step-"+name+".exitCode.path)") {
			return true
		}
	}
	return false
}

package resources

import (
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
)

// NoTimeout finds check Tasks none of whose steps is bounded in time: a
// hung check holds every build that inserts it until the pipeline's own
// timeout (an hour by default) and keeps its requests reserved.
var NoTimeout = &check.Check{
	ID:       "resources/no-timeout",
	Doc:      "a check Task none of whose steps sets `timeout`: a hung check holds the build until the pipeline's timeout",
	Severity: check.Warning,
	Help:     "set `timeout` on the step that does the work (e.g. `timeout: 30m`, a margin over its slowest real run) and report ERROR in TEST_OUTPUT when it is hit",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: image-scan
spec:
  results:
    - name: TEST_OUTPUT
  steps:
    - name: scan
      image: ` + image + `
      script: echo scan
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: image-scan
spec:
  results:
    - name: TEST_OUTPUT
  steps:
    - name: scan
      image: ` + image + `
      timeout: 30m
      script: echo scan
`,
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		if !isCheck(m) {
			return nil
		}
		for _, st := range m.Task.Spec.Steps {
			if st.Timeout != nil && st.Timeout.Duration > 0 {
				return nil
			}
		}
		f := check.At(m, "spec.steps", "no step of this check Task sets a timeout: if it hangs, every build that inserts it waits for the pipeline's timeout")
		if k := manifest.MapKey(m.Node("spec"), "steps"); k != nil {
			f.Line, f.Column = k.Line, k.Column
		}
		return []check.Finding{f}
	},
}

// isCheck: one of the build's checks (it declares TEST_OUTPUT or a check
// slot), the way the integration rules place it.
func isCheck(m *manifest.File) bool {
	if m == nil || m.Task == nil {
		return false
	}
	slot, _, err := pipeline.InferSlot(m.Task)
	return err == nil && slot.IsCheck()
}

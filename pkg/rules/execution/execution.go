// Package execution holds the rules on what a Task makes run inside a
// tenant's build besides its reviewed steps: images a caller chooses
// (execution/image-param), environment that changes which code runs
// (execution/env-override), StepActions fetched at run time
// (execution/remote-stepaction), and, in check Tasks, sidecars and steps
// whose failure is ignored.
package execution

import (
	"fmt"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
)

// container is one container spec of a Task or StepAction, as written.
type container struct {
	what  string // for messages: `step "build"`, `the stepTemplate`
	path  string // field path: spec.steps[0], spec.stepTemplate, spec
	image string
	env   []corev1.EnvVar
}

// containers lists the steps, sidecars, stepTemplate of a Task, or the
// StepAction itself.
func containers(m *manifest.File) []container {
	var out []container
	switch {
	case m == nil:
	case m.Task != nil:
		spec := m.Task.Spec
		if t := spec.StepTemplate; t != nil {
			out = append(out, container{"the stepTemplate", "spec.stepTemplate", t.Image, t.Env})
		}
		for i, st := range spec.Steps {
			out = append(out, container{fmt.Sprintf("step %q", st.Name), fmt.Sprintf("spec.steps[%d]", i), st.Image, st.Env})
		}
		for i, sc := range spec.Sidecars {
			out = append(out, container{fmt.Sprintf("sidecar %q", sc.Name), fmt.Sprintf("spec.sidecars[%d]", i), sc.Image, sc.Env})
		}
	case m.StepAction != nil:
		out = append(out, container{"the StepAction", "spec", m.StepAction.Spec.Image, m.StepAction.Spec.Env})
	}
	return out
}

// params of the manifest (Task or StepAction).
func params(m *manifest.File) v1.ParamSpecs {
	switch {
	case m == nil:
	case m.Task != nil:
		return m.Task.Spec.Params
	case m.StepAction != nil:
		return m.StepAction.Spec.Params
	}
	return nil
}

// isCheck says whether a Task is one of the build pipeline's checks.
func isCheck(m *manifest.File) (bool, string) {
	if m == nil || m.Task == nil {
		return false, ""
	}
	slot, why, err := pipeline.InferSlot(m.Task)
	if err != nil || !slot.IsCheck() {
		return false, ""
	}
	return true, fmt.Sprintf("this %s Task (%s)", slot, why)
}

// image is a pinned image for the examples.
const image = "registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8"

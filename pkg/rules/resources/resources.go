// Package resources holds the rule on what one container of a Task may
// take from the tenant's namespace: every build that inserts the Task
// pays its requests, and its limits decide how much a runaway step eats.
package resources

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/config"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Checks are the resource rules.
var Checks = []*check.Check{Excessive, NoTimeout}

// Defaults: what the build pipelines' own heaviest steps (buildah) ask.
const (
	DefaultMaxCPU    = "4"
	DefaultMaxMemory = "8Gi"
)

const image = "registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8"

// Excessive finds requests and limits above the catalog's bounds.
var Excessive = &check.Check{
	ID:       "resources/excessive",
	Doc:      "a step, sidecar or stepTemplate requests (or is limited to) more CPU or memory than `.taskgate.yaml` allows (default " + DefaultMaxCPU + " CPU, " + DefaultMaxMemory + " per container)",
	Severity: check.Error,
	Help:     "ask for what the step needs (the pod's peak, e.g. from `kubectl top pod`), at most resources.maxCPU / resources.maxMemory of .taskgate.yaml; maintainers raise those bounds for the catalog, not a Task for itself",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: scan
spec:
  steps:
    - name: scan
      image: ` + image + `
      computeResources:
        requests:
          cpu: "200"
          memory: 2Ti
      script: echo scan
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: scan
spec:
  steps:
    - name: scan
      image: ` + image + `
      computeResources:
        requests:
          cpu: 500m
          memory: 1Gi
        limits:
          memory: 2Gi
      script: echo scan
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission
		m := s.Manifest
		max, err := bounds(s.Repo.Config)
		if err != nil {
			return []check.Finding{check.InFile(".taskgate.yaml", "%v", err)}
		}
		var out []check.Finding
		for _, c := range containers(m) {
			for _, kind := range []struct {
				name string
				list corev1.ResourceList
			}{{"requests", c.res.Requests}, {"limits", c.res.Limits}} {
				for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					q, ok := kind.list[r]
					if !ok || q.Cmp(max[r]) <= 0 {
						continue
					}
					bound := max[r]
					why := "every build that inserts the Task reserves it"
					if kind.name == "limits" {
						why = "a runaway step may take all of it from the tenant's quota"
					}
					out = append(out, check.At(m, fmt.Sprintf("%s.computeResources.%s.%s", c.path, kind.name, r),
						"%s %s %s %s, over the %s per container this catalog allows: %s", c.what, kind.name, q.String(), r, bound.String(), why))
				}
			}
		}
		return out
	},
}

// bounds reads the catalog's limits (config.Parse has checked them).
func bounds(c *config.Config) (map[corev1.ResourceName]resource.Quantity, error) {
	cpu, mem := DefaultMaxCPU, DefaultMaxMemory
	if c != nil && c.Resources.MaxCPU != "" {
		cpu = c.Resources.MaxCPU
	}
	if c != nil && c.Resources.MaxMemory != "" {
		mem = c.Resources.MaxMemory
	}
	qc, err := resource.ParseQuantity(cpu)
	if err != nil {
		return nil, fmt.Errorf("resources.maxCPU %q: %v", cpu, err)
	}
	qm, err := resource.ParseQuantity(mem)
	if err != nil {
		return nil, fmt.Errorf("resources.maxMemory %q: %v", mem, err)
	}
	return map[corev1.ResourceName]resource.Quantity{corev1.ResourceCPU: qc, corev1.ResourceMemory: qm}, nil
}

type container struct {
	what, path string
	res        corev1.ResourceRequirements
}

func containers(m *manifest.File) []container {
	var out []container
	switch {
	case m == nil:
	case m.Task != nil:
		spec := m.Task.Spec
		if t := spec.StepTemplate; t != nil {
			out = append(out, container{"the stepTemplate", "spec.stepTemplate", t.ComputeResources})
		}
		for i, st := range spec.Steps {
			out = append(out, container{fmt.Sprintf("step %q", st.Name), fmt.Sprintf("spec.steps[%d]", i), st.ComputeResources})
		}
		for i, sc := range spec.Sidecars {
			out = append(out, container{fmt.Sprintf("sidecar %q", sc.Name), fmt.Sprintf("spec.sidecars[%d]", i), sc.ComputeResources})
		}
	case m.StepAction != nil:
		// a StepAction's resources are the step's that uses it
	}
	return out
}

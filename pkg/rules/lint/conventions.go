package lint

import (
	"strconv"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
)

// Conventions asks for the metadata the Tekton catalog and Tekton Hub expect.
var Conventions = &check.Check{
	ID:       "tekton/conventions",
	Doc:      "description, `tekton.dev/pipelines.minVersion`, tags, display name, param docs",
	Severity: check.Warning,
	Help:     "add the metadata users and Tekton Hub read: spec.description, the tekton.dev/* annotations, a description per param",
	Bad: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
spec:
  params:
    - name: greeting
      default: hello
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      env:
        - name: GREETING
          value: $(params.greeting)
      script: echo "$GREETING"
`,
	Fixed: `# partners/hello/0.1/hello.yaml
apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  annotations:
    tekton.dev/pipelines.minVersion: "0.50.0"
    tekton.dev/tags: "example"
    tekton.dev/displayName: "Hello"
spec:
  description: Prints a greeting, to show how a partner Task is laid out.
  params:
    - name: greeting
      description: What to print.
      default: hello
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      env:
        - name: GREETING
          value: $(params.greeting)
      script: echo "$GREETING"
`,
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		m := s.Manifest
		if m == nil || m.Task == nil {
			return nil
		}
		var out []check.Finding
		if strings.TrimSpace(m.Task.Spec.Description) == "" {
			out = append(out, check.At(m, "spec", "the Task has no spec.description").
				WithHelp("add spec.description: one sentence on what the Task does, then its inputs and outputs"))
		}
		for _, a := range []struct{ key, example string }{
			{"tekton.dev/pipelines.minVersion", `"0.50.0"`},
			{"tekton.dev/tags", `"security, image-scan"`},
			{"tekton.dev/displayName", `"My Task"`},
		} {
			if _, ok := m.Task.Annotations[a.key]; !ok {
				out = append(out, check.At(m, "metadata.annotations", "metadata.annotations has no %s", a.key).
					WithHelp("add `"+a.key+": "+a.example+"` under metadata.annotations"))
			}
		}
		for i, p := range m.Task.Spec.Params {
			if strings.TrimSpace(p.Description) == "" {
				out = append(out, check.At(m, "spec.params["+strconv.Itoa(i)+"]", "param %q has no description", p.Name).
					WithHelp("add a description saying what the param is for and what its default means"))
			}
		}
		return out
	},
}

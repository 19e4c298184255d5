package execution

import (
	"fmt"
	"regexp"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
)

var commit = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// RemoteStepAction finds steps whose code is fetched at run time from a
// place that can change after review.
var RemoteStepAction = &check.Check{
	ID:       "execution/remote-stepaction",
	Doc:      "a step's StepAction comes from a remote resolver (http, hub, cluster, a git branch or tag, a bundle by tag): what runs is not what was reviewed",
	Severity: check.Error,
	Help:     "commit the StepAction to this repository and refer to it by name, or pin it: a bundle by digest (`bundle: quay.io/org/step@sha256:…`), git by a full commit (`revision: <40 hex>`)",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: clone
spec:
  steps:
    - name: clone
      ref:
        resolver: git
        params:
          - name: url
            value: https://github.com/example/steps.git
          - name: revision
            value: main
          - name: pathInRepo
            value: stepaction/git-clone/git-clone.yaml
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: clone
spec:
  steps:
    - name: clone
      ref:
        resolver: git
        params:
          - name: url
            value: https://github.com/example/steps.git
          - name: revision
            value: 4f1a2b3c4d5e6f708192a3b4c5d6e7f809112233
          - name: pathInRepo
            value: stepaction/git-clone/git-clone.yaml
`,
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		if m == nil || m.Task == nil {
			return nil
		}
		var out []check.Finding
		for i, st := range m.Task.Spec.Steps {
			if st.Ref == nil || st.Ref.Resolver == "" {
				continue
			}
			param := func(name string) (string, int) {
				for j, p := range st.Ref.Params {
					if p.Name == name {
						return p.Value.StringVal, j
					}
				}
				return "", -1
			}
			p := fmt.Sprintf("spec.steps[%d].ref", i)
			where := func(j int) string {
				if j < 0 {
					return p + ".resolver"
				}
				return fmt.Sprintf("%s.params[%d].value", p, j)
			}
			switch r := string(st.Ref.Resolver); r {
			case "bundles":
				b, j := param("bundle")
				if !strings.Contains(b, "@sha256:") {
					out = append(out, check.At(m, where(j), "step %q runs a StepAction from bundle %q, a tag: whoever pushes the tag changes what runs", st.Name, b))
				}
			case "git":
				rev, j := param("revision")
				if !commit.MatchString(rev) {
					what := "no revision (the default branch)"
					if rev != "" {
						what = fmt.Sprintf("revision %q, not a commit", rev)
					}
					out = append(out, check.At(m, where(j), "step %q runs a StepAction from git at %s: whoever pushes there changes what runs", st.Name, what))
				}
			default:
				out = append(out, check.At(m, p+".resolver", "step %q runs a StepAction fetched by the %s resolver at run time: it can change after review and the gate never sees it", st.Name, r))
			}
		}
		return out
	},
}

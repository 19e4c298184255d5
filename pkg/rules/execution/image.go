package execution

import (
	"regexp"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
)

// ImageParam finds step images a param chooses: the default may be
// pinned and reviewed, but whoever runs the Task runs any image instead.
var ImageParam = &check.Check{
	ID:       "execution/image-param",
	Doc:      "a step, sidecar or StepAction image taken from a param: the caller swaps the reviewed image for any other",
	Severity: check.Error,
	Help:     "write the pinned image in the step; if the Task must offer a choice, give the param an `enum` of images pinned by digest (Tekton refuses any other value)",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: lint
spec:
  params:
    - name: LINTER_IMAGE
      default: ` + image + `
  steps:
    - name: lint
      image: $(params.LINTER_IMAGE)
      script: echo lint
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: lint
spec:
  params:
    - name: LINTER_IMAGE
      default: ` + image + `
      enum:
        - ` + image + `
  steps:
    - name: lint
      image: $(params.LINTER_IMAGE)
      script: echo lint
`,
	Run: func(pass *check.Pass) []check.Finding {
		m := pass.Submission.Manifest
		pinnedEnum := map[string]bool{}
		for _, p := range params(m) {
			pinned := len(p.Enum) > 0
			for _, e := range p.Enum {
				pinned = pinned && strings.Contains(e, "@sha256:")
			}
			pinnedEnum[p.Name] = pinned
		}
		var out []check.Finding
		for _, c := range containers(m) {
			for _, name := range paramRefs(c.image) {
				if pinnedEnum[name] {
					continue
				}
				out = append(out, check.At(m, c.path+".image", "%s runs the image of param %s: whoever runs the Task chooses what runs in the build, whatever its default", c.what, name))
			}
		}
		return out
	},
}

var paramRef = regexp.MustCompile(`\$\((?:inputs\.)?params(?:\.([^.\[\]()\s]+)|\[["']([^"']+)["']\])`)

// paramRefs names the params a value refers to.
func paramRefs(v string) []string {
	var out []string
	for _, m := range paramRef.FindAllStringSubmatch(v, -1) {
		out = append(out, m[1]+m[2])
	}
	return out
}

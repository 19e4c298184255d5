package integration

import (
	"fmt"
	"regexp"

	"taskgate.dev/taskgate/pkg/check"
)

// chainsHint matches the result names Tekton Chains reads as the
// subjects and materials of a build's provenance (its type hints).
var chainsHint = regexp.MustCompile(`^(?i:IMAGES|CHAINS-GIT_(URL|COMMIT)|.*IMAGE_(URL|DIGEST)|.*ARTIFACT_(URI|DIGEST|INPUTS|OUTPUTS))$`)

// Provenance keeps checks from speaking for the build.
var Provenance = &check.Check{
	ID:       "integration/provenance",
	Doc:      "a check (or any Task not taking the place of one that emits them) emits results Tekton Chains reads as the build's provenance: IMAGE_URL, IMAGE_DIGEST, *_IMAGE_URL, IMAGES, *ARTIFACT_OUTPUTS, CHAINS-GIT_URL, ...",
	Severity: check.Error,
	Help: "rename the result so that Chains does not read it (it reads IMAGE_URL/IMAGE_DIGEST and *IMAGE_URL/*IMAGE_DIGEST, IMAGES, *ARTIFACT_URI/*ARTIFACT_DIGEST, *ARTIFACT_INPUTS/*ARTIFACT_OUTPUTS, CHAINS-GIT_URL/CHAINS-GIT_COMMIT), " +
		"e.g. SCANNED_IMAGE_REF, or report what was scanned in TEST_OUTPUT's note",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: image-lint
spec:
  params:
  - name: image-url
  results:
  - name: TEST_OUTPUT
  - name: IMAGE_URL   # Chains signs and attests whatever this says
  steps:
  - name: lint
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    script: echo -n quay.io/evil/other > "$(results.IMAGE_URL.path)"
`,
	Fixed: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: image-lint
spec:
  params:
  - name: image-url
  results:
  - name: TEST_OUTPUT
  - name: SCANNED_IMAGE_REF
  steps:
  - name: lint
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    script: echo -n "$IMAGE" > "$(results.SCANNED_IMAGE_REF.path)"
`,
	Requires: requires,
	Run: func(pass *check.Pass) []check.Finding {
		a := pass.ResultOf[Analysis].(*analysis)
		if a.task == nil {
			return nil
		}
		var out []check.Finding
		for _, r := range a.task.Spec.Results {
			if !chainsHint.MatchString(r.Name) {
				continue
			}
			if why := a.speaksForBuild(r.Name); why != "" {
				out = append(out, check.At(a.m, "spec.results["+r.Name+"]",
					"result %s is read by Tekton Chains as what the build produced or was built from, and %s: the build's provenance would name whatever the Task writes there", r.Name, why))
			}
		}
		return out
	},
}

// speaksForBuild says why a Task may not emit a provenance result ("" when
// it may): a check never may; another Task only when it takes the place
// of one of the pipelines' own Tasks that emits it (a builder).
func (a *analysis) speaksForBuild(result string) string {
	if a.slot.IsCheck() {
		return fmt.Sprintf("the Task is a %s (%s)", a.slot, a.slotWhy)
	}
	var where []string
	for _, f := range a.fits {
		if !f.OK() {
			continue
		}
		if f.Place != nil && f.Replace && f.Place.Emits[result] {
			return "" // a builder: emitting it is its job
		}
		where = append(where, fmt.Sprintf("%s as %s", f.Build.Name, f.Slot))
	}
	if len(where) == 0 {
		return "" // it fits nowhere: the other rules say why
	}
	return "the Task would run in " + list(where) + ", where no Task of the pipeline emits it"
}

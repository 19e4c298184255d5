package integration

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	"gopkg.in/yaml.v3"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
	"taskgate.dev/taskgate/pkg/rules/stepactions"
)

// The build pipelines' convention for a check's report (DESIGN.md).
const testOutput = "TEST_OUTPUT"

var (
	resultValues = []string{"SUCCESS", "FAILURE", "WARNING", "SKIPPED", "ERROR"}
	shapeKeys    = []string{"result", "timestamp", "successes", "failures", "warnings"}
	// the build pipelines' helper (konflux-test utils.sh) writes the whole shape
	helper      = regexp.MustCompile(`\bmake[_-]result[_-]json\b`)
	helperValue = regexp.MustCompile(`make[_-]result[_-]json\b[^\n]*?\s(?:-r|--result)[\s=]+["']?([A-Za-z_$]+)`)
	stepResult  = regexp.MustCompile(`^\$\(steps\.([^.]+)\.results\.`)
	anyValue    = regexp.MustCompile(`\b(` + strings.Join(resultValues, "|") + `)\b`)
)

// TestOutput checks a check Task's TEST_OUTPUT statically.
var TestOutput = &check.Check{
	ID:       "integration/test-output",
	Doc:      "a check Task (image-check, source-check) without a valid `TEST_OUTPUT` result",
	Severity: check.Error,
	Help: "declare result TEST_OUTPUT and write to $(results.TEST_OUTPUT.path) the JSON " +
		`{"result":"SUCCESS|FAILURE|WARNING|SKIPPED|ERROR","timestamp":"<RFC 3339>","successes":N,"failures":N,"warnings":N}` +
		" (konflux-test's make_result_json writes it); report SKIPPED, and exit 0, when credentials are missing",
	Bad: `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: image-lint
spec:
  params:
  - name: image-url
  results:
  - name: TEST_OUTPUT   # declared, never written: the build reads nothing
  steps:
  - name: lint
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    script: echo "linting $IMAGE"
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
    description: the check's verdict (build pipeline convention)
  steps:
  - name: lint
    image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    script: |
      #!/bin/sh
      printf '{"result":"%s","timestamp":"%s","successes":%d,"failures":%d,"warnings":%d}' \
        SUCCESS "$(date -u +%Y-%m-%dT%H:%M:%SZ)" 1 0 0 > "$(results.TEST_OUTPUT.path)"
`,
	Requires: []*check.Input{stepactions.Index},
	Run: func(pass *check.Pass) []check.Finding {
		s := pass.Submission

		m := s.Manifest
		if m == nil || m.Task == nil {
			return nil
		}
		slot, why, err := pipeline.InferSlot(m.Task)
		if err != nil || !slot.IsCheck() {
			return nil // a bad slot is integration/compose's; builders and finally Tasks report nothing
		}
		actions := stepactions.Of(pass)
		return testOutputFindings(m, m.Task, fmt.Sprintf("this %s Task (%s)", slot, why), func(st v1.Step) string { return stepText(st, named(actions, st, s.Dir)) })
	},
}

func testOutputFindings(m *manifest.File, t *v1.Task, what string, stepText func(v1.Step) string) []check.Finding {
	declared := false
	for _, r := range t.Spec.Results {
		if r.Name == testOutput {
			declared = true
		}
	}
	if !declared {
		at := "spec.results"
		if m.Node(at) == nil {
			at = "spec"
		}
		return []check.Finding{check.At(m, at, "%s must declare result %s: the build pipelines read every check's verdict from it", what, testOutput)}
	}
	writer := -1
	var scripts []string
	template := ""
	if t.Spec.StepTemplate != nil {
		for _, e := range t.Spec.StepTemplate.Env {
			template += "\n" + e.Value
		}
	}
	for i, st := range t.Spec.Steps {
		text := stepText(st)
		scripts = append(scripts, text)
		if writer < 0 && writes(text+template) {
			writer = i
		}
	}
	// or the result takes a step's result: `value: $(steps.<step>.results.<r>)`
	for _, r := range t.Spec.Results {
		if r.Name != testOutput || r.Value == nil || writer >= 0 {
			continue
		}
		if sm := stepResult.FindStringSubmatch(r.Value.StringVal); sm != nil {
			for i, st := range t.Spec.Steps {
				if st.Name == sm[1] {
					writer = i
				}
			}
		}
	}
	if writer < 0 {
		return []check.Finding{check.At(m, "spec.results["+testOutput+"]", "%s declares %s but no step writes $(results.%s.path)", what, testOutput, testOutput)}
	}
	all := strings.Join(scripts, "\n")
	if strings.TrimSpace(all) == "" {
		f := check.At(m, fmt.Sprintf("spec.steps[%d]", writer), "the %s JSON cannot be checked: no step has a script (the writer runs a command)", testOutput)
		f.Severity = check.Info
		return []check.Finding{f}
	}
	var out []check.Finding
	if !helper.MatchString(all) {
		var missing []string
		for _, k := range shapeKeys {
			if !regexp.MustCompile(`\b` + k + `\b`).MatchString(all) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			out = append(out, check.At(m, fmt.Sprintf("spec.steps[%d].script", writer), "the %s the scripts write lacks %s: the JSON needs result, timestamp, successes, failures and warnings", testOutput, strings.Join(missing, ", ")))
		}
	}
	if !anyValue.MatchString(all) {
		out = append(out, check.At(m, fmt.Sprintf("spec.steps[%d].script", writer), "no script writes a %s result among %s", testOutput, strings.Join(resultValues, ", ")))
	}
	for i, st := range t.Spec.Steps {
		for _, loc := range helperValue.FindAllStringSubmatchIndex(st.Script, -1) {
			v := st.Script[loc[2]:loc[3]]
			if strings.HasPrefix(v, "$") || contains(resultValues, v) {
				continue
			}
			line, col := scriptLine(m, i, st.Script, loc[2])
			out = append(out, check.Finding{File: m.Path, Line: line, Column: col,
				Message: fmt.Sprintf("%s: %s results are %s", st.Script[loc[0]:loc[1]], testOutput, strings.Join(resultValues, ", "))})
		}
	}
	if at, cred := Credential(t); cred != "" && !regexp.MustCompile(`\bSKIPPED\b`).MatchString(all) {
		out = append(out, check.At(m, at, "the Task reads credentials (%s) but no script reports %s SKIPPED when they are missing", cred, testOutput).
			WithHelp("when the secret is absent, write {\"result\":\"SKIPPED\",...} to $(results.TEST_OUTPUT.path) and exit 0: the build must not fail for a partner's missing credentials"))
	}
	return out
}

// writes tells whether a step's text names TEST_OUTPUT's file: in its
// script (directly, through tee or a shell variable), its command or
// args, or an env var the script writes through.
func writes(text string) bool {
	return strings.Contains(text, "$(results."+testOutput+".path)") || strings.Contains(text, "/tekton/results/"+testOutput) ||
		strings.Contains(text, "$(step.results."+testOutput+".path)")
}

// stepText is what a step runs: its script, command, args and env values
// (`bash -c <script>`, `OUT=$(results.TEST_OUTPUT.path)`), and those of
// the StepAction it refers to.
func stepText(st v1.Step, action *v1beta1.StepAction) string {
	parts := append(append([]string{st.Script}, st.Command...), st.Args...)
	for _, e := range st.Env {
		parts = append(parts, e.Value)
	}
	if action != nil {
		sa := action.Spec
		parts = append(append(append(parts, sa.Script), sa.Command...), sa.Args...)
		for _, e := range sa.Env {
			parts = append(parts, e.Value)
		}
	}
	return strings.Join(parts, "\n")
}

// Credential finds the first secret the Task reads: a secret volume or an
// env from a secret.
func Credential(t *v1.Task) (path, what string) {
	for i, v := range t.Spec.Volumes {
		if v.Secret != nil {
			return "spec.volumes[" + strconv.Itoa(i) + "]", "secret volume " + v.Name
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					return "spec.volumes[" + strconv.Itoa(i) + "]", "secret volume " + v.Name
				}
			}
		}
	}
	for i, st := range t.Spec.Steps {
		for j, e := range st.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				return fmt.Sprintf("spec.steps[%d].env[%d]", i, j), "env " + e.Name + " from secret " + e.ValueFrom.SecretKeyRef.Name
			}
		}
		for j, e := range st.EnvFrom {
			if e.SecretRef != nil {
				return fmt.Sprintf("spec.steps[%d].envFrom[%d]", i, j), "env from secret " + e.SecretRef.Name
			}
		}
	}
	return "", ""
}

// scriptLine maps an offset inside step i's script to file line:column.
func scriptLine(m *manifest.File, i int, script string, off int) (int, int) {
	n := m.Node(fmt.Sprintf("spec.steps[%d].script", i))
	if n == nil {
		line, col := m.Pos(fmt.Sprintf("spec.steps[%d]", i))
		return line, col
	}
	k := strings.Count(script[:off], "\n")
	within := off - (strings.LastIndex(script[:off], "\n") + 1)
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
		return n.Line + k, n.Column
	}
	// block scalar: content starts on the next line, at the block's indent
	line := n.Line + 1 + k
	lines := strings.Split(string(m.Data), "\n")
	if line > len(lines) {
		return n.Line, n.Column
	}
	start := strings.LastIndex(script[:off], "\n") + 1
	own := len(script[start:]) - len(strings.TrimLeft(script[start:], " "))
	indent := len(lines[line-1]) - len(strings.TrimLeft(lines[line-1], " ")) - own
	return line, indent + within + 1
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

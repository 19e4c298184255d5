package refs

import (
	"fmt"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
	"taskgate.dev/taskgate/pkg/check"
)

// Every rule's Bad example fires it and its Fixed example does not.
func TestExamples(t *testing.T) { ruletest.Examples(t, Checks) }

// positions lists line:col of the findings of a rule.
func positions(fs []check.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d:%d", f.Line, f.Column))
	}
	return strings.Join(out, " ")
}

const task = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: x
spec:
  params:
    - name: secret
    - name: image
      description: e.g. $(params.IMAGE) in a pipeline
      default: $(params.IMAGE)
    - name: unused
      description: mentions $(params.unused) only here
  workspaces:
    - name: source
  results:
    - name: out
  volumes:
    - name: v
      secret:
        secretName: $(params.nosecret)
  steps:
    - name: a
      image: $(params.image)
      workingDir: $(workspaces.source.path)/$(workspaces.nows.path)
      env:
        - name: TOKEN
          valueFrom:
            secretKeyRef: {name: "$(params.undeclared)", key: token}
        - name: S
          value: $(params.secret)
        - name: S
          value: $(results.out.path) $(results.nores.path)
      script: echo "$(params.tektonsees)"
  sidecars:
    - name: side
      image: $(params.image)
      args: ["$(params.side)", "$(params['dotted.name'])"]
`

func TestUndefined(t *testing.T) {
	fs := ruletest.Of(ruletest.Run(Undefined, ruletest.Sub(t, task)), Undefined.ID)
	// not: the default and description, the script (tekton/schema's)
	if got, want := positions(fs), "20:21 24:45 28:35 32:38 37:15 37:32"; got != want {
		t.Errorf("at %s, want %s:\n%s", got, want, ruletest.Dump(fs))
	}
	if len(fs) > 0 && !strings.Contains(fs[0].Message, `$(params.nosecret) names param "nosecret", which the Task does not declare (params: image, secret, unused)`) {
		t.Errorf("message: %s", fs[0].Message)
	}
}

func TestDuplicateEnv(t *testing.T) {
	fs := ruletest.Of(ruletest.Run(DuplicateEnv, ruletest.Sub(t, task)), DuplicateEnv.ID)
	if got := positions(fs); got != "31:17" {
		t.Errorf("at %s:\n%s", got, ruletest.Dump(fs))
	}
	// a step overriding the stepTemplate's entry is no duplicate
	fs = ruletest.Of(ruletest.Run(DuplicateEnv, ruletest.Sub(t, `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: x
spec:
  stepTemplate:
    env: [{name: A, value: "1"}]
  steps:
    - name: a
      image: x
      env: [{name: A, value: "2"}]
      script: echo
`)), DuplicateEnv.ID)
	if len(fs) != 0 {
		t.Errorf("override reported:\n%s", ruletest.Dump(fs))
	}
}

func TestUnusedParam(t *testing.T) {
	fs := ruletest.Of(ruletest.Run(UnusedParam, ruletest.Sub(t, task)), UnusedParam.ID)
	if got := positions(fs); got != "11:13" {
		t.Errorf("at %s:\n%s", got, ruletest.Dump(fs))
	}
}

package gate

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

const task = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  labels: {app.kubernetes.io/version: "0.1"}
spec:
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:` + "0000000000000000000000000000000000000000000000000000000000000000" + `
      securityContext: {privileged: true}
      script: echo hello
`

func TestPrepareAndRun(t *testing.T) {
	root := testrepo.New(t, map[string]string{
		"partners/hello/OWNERS":         "approvers: [someone]\n",
		"partners/hello/0.1/README.md":  "# hello\n",
		"partners/hello/0.1/hello.yaml": task,
	})
	p, err := Prepare(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Submissions) != 1 || p.Note != "" || p.Change != nil || p.Rest != nil {
		t.Fatalf("plan: %d submissions, note %q", len(p.Submissions), p.Note)
	}
	res := p.Run()
	var privileged bool
	for _, f := range res.Findings() {
		privileged = privileged || f.Rule == "privilege/privileged" && f.File == "partners/hello/0.1/hello.yaml" && f.Line == 10
	}
	if !privileged {
		t.Errorf("no privilege/privileged finding at hello.yaml:10 in %v", res.Findings())
	}
}

func TestPrepareRefusesOptionsThatNeedAChange(t *testing.T) {
	for _, o := range []Options{{ConfigFromBase: true}, {Author: "someone"}} {
		if _, err := Prepare(o); err == nil || !strings.Contains(err.Error(), "--changed-from") {
			t.Errorf("Prepare(%+v): %v, want an error naming --changed-from", o, err)
		}
	}
}

func TestPrepareSaysWhenThereIsNothing(t *testing.T) {
	p, err := Prepare(Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Note, "no submission found") {
		t.Errorf("note %q", p.Note)
	}
}

package resources

import (
	"strconv"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/config"
)

func TestExamples(t *testing.T) {
	c := Excessive
	if c.Doc == "" || c.Help == "" || c.Bad == "" || c.Fixed == "" {
		t.Fatal("Doc, Help, Bad and Fixed are required")
	}
	if fs := ruletest.Of(ruletest.Run(c, ruletest.Sub(t, c.Bad)), c.ID); len(fs) != 2 {
		t.Errorf("Bad: want the CPU and the memory:\n%s", ruletest.Dump(fs))
	}
	if fs := ruletest.Of(ruletest.Run(c, ruletest.Sub(t, c.Fixed)), c.ID); len(fs) != 0 {
		t.Errorf("Fixed fires %s:\n%s", c.ID, ruletest.Dump(fs))
	}
}

const task = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: x
spec:
  stepTemplate:
    computeResources:
      limits: {memory: 9Gi}
  steps:
    - name: a
      image: x
      computeResources:
        requests: {cpu: "4", memory: 8Gi}
        limits: {cpu: 4001m}
      script: echo
  sidecars:
    - name: s
      image: x
      computeResources:
        requests: {memory: 1Ti}
`

func TestBounds(t *testing.T) {
	// defaults: exactly 4 CPU and 8Gi pass; one millicore over does not
	s := ruletest.Sub(t, task)
	fs := ruletest.Of(ruletest.Run(Excessive, s), Excessive.ID)
	if got := lines(fs); got != "8 14 20" {
		t.Errorf("at lines %s:\n%s", got, ruletest.Dump(fs))
	}
	// the catalog's own bounds
	s.Repo.Config = &config.Config{Resources: config.Resources{MaxCPU: "8", MaxMemory: "2Ti"}}
	if fs := ruletest.Of(ruletest.Run(Excessive, s), Excessive.ID); len(fs) != 0 {
		t.Errorf("raised bounds:\n%s", ruletest.Dump(fs))
	}
	s.Repo.Config = &config.Config{Resources: config.Resources{MaxMemory: "4Gi"}}
	if got := lines(ruletest.Of(ruletest.Run(Excessive, s), Excessive.ID)); got != "8 13 14 20" {
		t.Errorf("lowered memory bound: at lines %s", got)
	}
}

func TestNoTimeout(t *testing.T) {
	c := NoTimeout
	if fs := ruletest.Of(ruletest.Run(c, ruletest.Sub(t, c.Bad)), c.ID); len(fs) != 1 || fs[0].Line != 8 {
		t.Errorf("Bad:\n%s", ruletest.Dump(fs))
	}
	if fs := ruletest.Of(ruletest.Run(c, ruletest.Sub(t, c.Fixed)), c.ID); len(fs) != 0 {
		t.Errorf("Fixed fires %s:\n%s", c.ID, ruletest.Dump(fs))
	}
	// not a check Task: nothing to say
	if fs := ruletest.Of(ruletest.Run(c, ruletest.Sub(t, task)), c.ID); len(fs) != 0 {
		t.Errorf("a non-check Task:\n%s", ruletest.Dump(fs))
	}
	// the hand-made clair-scan bounds none of its steps
	if fs := ruletest.Of(ruletest.Run(c, ruletest.TestdataSub(t, "build-definitions", "task/clair-scan/0.3")), c.ID); len(fs) != 1 {
		t.Errorf("clair-scan: %s", ruletest.Dump(fs))
	}
}

func lines(fs []check.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, strconv.Itoa(f.Line))
	}
	return strings.Join(out, " ")
}

package execution

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
	"taskgate.dev/taskgate/pkg/check"
)

// Every rule's Bad example fires it and its Fixed example does not.
func TestExamples(t *testing.T) { ruletest.Examples(t, Checks) }

const head = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: x\n"

// want asserts the findings of a rule point at exactly these lines.
func want(t *testing.T, c *check.Check, task string, lines ...int) []check.Finding {
	t.Helper()
	fs := ruletest.Of(ruletest.Run(c, ruletest.Sub(t, task)), c.ID)
	var got []int
	for _, f := range fs {
		got = append(got, f.Line)
	}
	if len(got) != len(lines) {
		t.Fatalf("%s at lines %v, want %v:\n%s", c.ID, got, lines, ruletest.Dump(fs))
	}
	for i := range got {
		if got[i] != lines[i] {
			t.Fatalf("%s at lines %v, want %v:\n%s", c.ID, got, lines, ruletest.Dump(fs))
		}
	}
	return fs
}

func TestImageParam(t *testing.T) {
	want(t, ImageParam, head+`spec:
  params:
    - name: img
      default: `+image+`
    - name: tag
    - name: pinned
      enum: ["`+image+`"]
    - name: tags
      enum: [latest, "1.0"]
  stepTemplate:
    image: $(params.img)
  steps:
    - name: a
      image: quay.io/x/y:$(params.tag)
      script: echo
    - name: b
      image: $(params.pinned)
      script: echo
    - name: c
      image: quay.io/x/y:$(params.tags)
      script: echo
    - name: d
      image: `+image+`
      script: echo $(params.img)
  sidecars:
    - name: s
      image: $(params["img"])
`, 15, 18, 24, 31)
}

func TestEnvOverride(t *testing.T) {
	fs := want(t, EnvOverride, head+`spec:
  stepTemplate:
    env:
      - name: PATH
        value: /workspace/source/bin:/usr/bin
  steps:
    - name: a
      image: `+image+`
      env:
        - name: BASH_ENV
          value: /workspace/source/.env
        - name: PATHS
          value: a
        - name: ENV
          value: /tmp/rc
      script: echo
  sidecars:
    - name: s
      image: `+image+`
      env: [{name: LD_PRELOAD, value: /x.so}]
`, 8, 14, 18, 24)
	if !strings.Contains(fs[0].Message, "the stepTemplate sets PATH") {
		t.Errorf("message: %s", fs[0].Message)
	}
	// a StepAction submission is judged the same way
	want(t, EnvOverride, "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata:\n  name: x\nspec:\n  image: "+image+"\n  env: [{name: LD_LIBRARY_PATH, value: /w}]\n  script: echo\n", 7)
}

func TestRemoteStepAction(t *testing.T) {
	ref := func(resolver, params string) string {
		return "    - name: s\n      ref:\n        resolver: " + resolver + "\n        params:\n" + params
	}
	p := func(name, value string) string {
		return "          - name: " + name + "\n            value: " + value + "\n"
	}
	want(t, RemoteStepAction, head+"spec:\n  steps:\n"+
		ref("git", p("url", "https://x.example/s.git")+p("revision", "v1.0"))+ // 9: a tag
		ref("git", p("url", "https://x.example/s.git"))+ // 15: no revision
		ref("git", p("url", "https://x.example/s.git")+p("revision", "e96f4c79387f635a1a49cb3298541ab25b3ddada"))+
		ref("bundles", p("bundle", "quay.io/x/s:0.1")+p("name", "s")+p("kind", "StepAction"))+ // 37
		ref("bundles", p("bundle", "quay.io/x/s:0.1@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8")+p("name", "s"))+
		ref("http", p("url", "https://x.example/s.yaml")), // 55
		14, 17, 34, 49)
}

const checkHead = head + `spec:
  results:
    - name: TEST_OUTPUT
  steps:
`

func TestCheckOnly(t *testing.T) {
	side := "  sidecars:\n    - name: beacon\n      image: " + image + "\n      script: while true; do curl -s https://x.example; sleep 60; done\n"
	step := "    - name: s\n      image: " + image + "\n      onError: continue\n      script: lint\n"
	want(t, CheckSidecar, checkHead+step+side, 14)
	want(t, ContinueOnError, checkHead+step+side, 11)
	// not a check: a builder may run a sidecar and tolerate a failing step
	want(t, CheckSidecar, head+"spec:\n  steps:\n"+step+side)
	want(t, ContinueOnError, head+"spec:\n  steps:\n"+step+side)
	// a later step that reads the exit code reports the failure
	reads := "    - name: report\n      image: " + image + "\n      script: |\n        code=$(cat /tekton/steps/step-s/exitCode)\n"
	want(t, ContinueOnError, checkHead+step+reads)
	// a slot annotation makes a check too
	want(t, ContinueOnError, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: x\n  annotations:\n    taskgate.dev/slot: image-check\nspec:\n  steps:\n"+step, 11)
}

package security

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"taskgate.dev/taskgate/pkg/check"
)

func TestJudgeImage(t *testing.T) {
	digest := "@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8"
	allowed := []string{"quay.io/konflux-ci", "registry.access.redhat.com"}
	for _, c := range []struct{ img, rule, msg string }{
		{"alpine", ruleUnpinned, "no tag"},
		{"alpine:3.20", ruleUnpinned, `tag "3.20"`},
		{"localhost:5000/tool", ruleUnpinned, "no tag"},
		{"registry.access.redhat.com/ubi9:9.1" + digest, "", ""}, // tag and digest
		{"quay.io/org/tool@sha256:95413c8d", ruleDigest, "digest"},
		{"quay.io/org/tool@sha512:" + strings.Repeat("a", 128), ruleDigest, "unsupported digest algorithm"},
		{"quay.io/org/tool@@sha256:x", ruleDigest, "digest"},
		{"Quay.io/Org/Tool:1", ruleDigest, "not a valid image reference"},
		{"docker.io/library/alpine" + digest, ruleRegistry, "index.docker.io/library/alpine"},
		{"quay.io/konflux-ci/tool" + digest, "", ""},
		{"quay.io/konflux-ci-evil/tool" + digest, ruleRegistry, "outside"},
		{"registry.access.redhat.com/ubi9" + digest, "", ""},
	} {
		msg, rule := judgeImage(c.img, allowed)
		if rule != c.rule || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %s %q, want %s %q", c.img, rule, msg, c.rule, c.msg)
		}
	}
	// without a list every registry is fine, docker.io short names too
	for _, img := range []string{"alpine" + digest, "quay.io/org/tool:1.0" + digest} {
		if msg, rule := judgeImage(img, nil); rule != "" {
			t.Errorf("%s: %s %s", img, rule, msg)
		}
	}
}

func TestAllowedRepo(t *testing.T) {
	for _, c := range []struct {
		img     string
		allowed []string
		ok      bool
	}{
		{"alpine", []string{"docker.io"}, true},
		{"alpine", []string{"docker.io/library"}, true},
		{"alpine", []string{"library/alpine"}, true},
		{"docker.io/library/alpine", []string{"index.docker.io/library/alpine"}, true},
		{"quay.io/org/tool", []string{"quay.io/org/"}, true},
		{"quay.io/org/tool", []string{"quay.io/or"}, false},
		{"quay.io/org2/tool", []string{"quay.io/org"}, false},
		{"quay.io.evil.com/org/tool", []string{"quay.io"}, false},
		{"localhost:5000/xy", []string{"localhost:5000"}, true},
		{"ghcr.io/x/y", []string{"quay.io", "ghcr.io/x"}, true},
	} {
		ref, err := name.ParseReference(c.img)
		if err != nil {
			t.Fatal(err)
		}
		if got := allowedRepo(ref.Context(), c.allowed); got != c.ok {
			t.Errorf("%s in %v: %v, want %v", c.img, c.allowed, got, c.ok)
		}
	}
}

func TestImagesFromParamsAndStepActions(t *testing.T) {
	task := taskYAML(`params:
  - name: TOOL
    default: quay.io/org/tool:1.0
  - name: TAG
    default: "2.0"
  - name: RUNTIME
stepTemplate:
  image: quay.io/org/base:latest
steps:
  - name: a
    image: $(params.TOOL)
  - name: b
    image: quay.io/org/other:$(params.TAG)
  - name: c
    image: $(params.RUNTIME)
  - name: d
    ref:
      name: scan
    params:
      - name: scanner
        value: $(params.TOOL)
  - name: e
    ref:
      name: scan
  - name: f
    ref:
      name: elsewhere
  - name: g
    ref:
      resolver: git
`)
	stepAction := `apiVersion: tekton.dev/v1beta1
kind: StepAction
metadata:
  name: scan
spec:
  params:
    - name: scanner
      default: quay.io/org/scanner@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
  image: $(params.scanner)
  script: echo scanning
`
	s := handmade(t, task, map[string]string{"stepactions/scan/0.1/scan.yaml": stepAction})
	fs := run(Unpinned, s)
	// errors: TOOL's default (steps a and d: d passes TOOL to the
	// StepAction), the template's image, b's composed image
	wantLines(t, fs, check.Error, 8, 13, 18)
	mustContain(t, fs, `step "a", step "d" (StepAction scan)`, "quay.io/org/tool:1.0")
	mustContain(t, fs, "stepTemplate", "quay.io/org/base:latest")
	mustContain(t, fs, `"quay.io/org/other:2.0"`)
	// RUNTIME has no default
	wantLines(t, fs, check.Warning, 11)
	// f's StepAction is not in the repository, g's is fetched at run time
	wantLines(t, fs, check.Info, 31, 34)
	mustContain(t, fs, `"elsewhere", which is not in this repository`)
	mustContain(t, fs, "git resolver")
	for _, f := range fs {
		if strings.Contains(f.Message, `step "e"`) {
			t.Errorf("step e runs the StepAction's pinned default: %s", f)
		}
	}
}

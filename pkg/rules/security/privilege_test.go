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

func TestPrivilegedReal(t *testing.T) {
	// the tektoncd catalog's buildah runs its steps privileged
	fs := run(Privileged, realSub(t, tc, "task/buildah/0.2"))
	wantLines(t, fs, check.Error, 74, 89)
	mustContain(t, fs, `step "build"`, "privileged: true")
	wantLines(t, run(Privileged, realSub(t, bd, hello)), check.Error)
}

func TestEscalationReal(t *testing.T) {
	// every step of oracle-cloud-storage-download sets it false
	if fs := run(Escalation, realSub(t, tc, "task/oracle-cloud-storage-download/0.1")); len(fs) > 0 {
		t.Errorf("want no finding:\n%s", dump(fs))
	}
	// hello-world leaves it unset: a warning at spec.steps, naming the step
	fs := run(Escalation, realSub(t, bd, hello))
	wantLines(t, fs, check.Warning, 21)
	wantLines(t, fs, check.Error)
	mustContain(t, fs, `step "main-step"`)
}

func TestRootReal(t *testing.T) {
	// icr-scan declares runAsNonRoot: true and a non-zero user
	if fs := run(Root, realSub(t, pr408, icrScan)); len(fs) > 0 {
		t.Errorf("want no finding:\n%s", dump(fs))
	}
	fs := run(Root, realSub(t, tc, "task/kaniko/0.6"))
	wantLines(t, fs, check.Error, 60)
	fs = run(Root, realSub(t, bd, "task/buildah/0.10"))
	wantLines(t, fs, check.Error, 561, 756, 832, 936, 1029, 1030)
}

func TestCapabilitiesReal(t *testing.T) {
	fs := run(Capabilities, realSub(t, tc, "task/buildpacks-phases/0.3"))
	wantLines(t, fs, check.Error, 384)
	mustContain(t, fs, "SYS_ADMIN, SETFCAP")
	// Konflux's buildah adds SETFCAP to its build and push steps
	fs = run(Capabilities, realSub(t, bd, "task/buildah/0.10"))
	wantLines(t, fs, check.Error, 563, 758)
	if fs := run(Capabilities, realSub(t, bd, hello)); len(fs) > 0 {
		t.Errorf("want no finding:\n%s", dump(fs))
	}
}

func TestHostReal(t *testing.T) {
	// kind mounts the node's /lib/modules and cgroups
	fs := run(Host, realSub(t, tc, "task/kind/0.1"))
	wantLines(t, fs, check.Error, 70, 74)
	mustContain(t, fs, "/lib/modules")
	// paketo drives podman through its socket (warnings, script lines
	// mapped to YAML lines); `podman.socket` (the systemd unit) is not one
	fs = run(Host, realSub(t, bd, "task/build-paketo-builder-oci-ta/0.2"))
	wantLines(t, fs, check.Warning, 250, 353)
	if fs := run(Host, realSub(t, bd, hello)); len(fs) > 0 {
		t.Errorf("want no finding:\n%s", dump(fs))
	}
}

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

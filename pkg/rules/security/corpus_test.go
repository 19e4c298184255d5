//go:build corpus

package security

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

func TestCorpusNotOptionalReal(t *testing.T) {
	if fs := run(NotOptional, realSub(t, bd, hello)); len(fs) > 0 {
		t.Errorf("hello-world's secret is optional:\n%s", dump(fs))
	}
	// `optional: false` is pointed at
	fs := run(NotOptional, realSub(t, pr2356, cosaBuild))
	wantLines(t, fs, check.Error, 83)
	mustContain(t, fs, `secret volume "ssh"`)
	// secretKeyRef env, and a workspace named like a credential
	fs = run(NotOptional, realSub(t, tc, "task/send-to-webhook-slack/0.1"))
	wantLines(t, fs, check.Error, 46)
	mustContain(t, fs, `reads env URL from secret "$(params.webhook-secret)" key "url" without optional: true`)
	fs = run(NotOptional, realSub(t, tc, "task/gcs-upload/0.3"))
	wantLines(t, fs, check.Error, 20)
	mustContain(t, fs, `workspace "credentials"`)
	// "kubernetes manifests" in a description is not a credential
	if fs := run(NotOptional, realSub(t, tc, "task/blue-green-deploy/0.2")); len(fs) > 0 {
		t.Errorf("want no finding:\n%s", dump(fs))
	}
}

func TestCorpusNoSkipReal(t *testing.T) {
	// if [ -f /etc/secret/show-me ]; then sha256sum /etc/secret/show-me; fi
	if fs := run(NoSkip, realSub(t, bd, hello)); len(fs) > 0 {
		t.Errorf("hello-world guards its secret:\n%s", dump(fs))
	}
	for _, c := range []struct{ repo, dir string }{
		// SNYK_TOKEN_PATH=/etc/secrets/snyk_token; if [ -f "$SNYK_TOKEN_PATH" ]; ... else exit 0
		{bd + "/external-sources/konflux-ci/konflux-sast-tasks", "task/sast-snyk-check/0.5"},
		// SECRET_MOUNT set only inside `if [ -d /mnt/additional-secret ]`
		{bd, "task/run-script-oci-ta/0.1"},
		// `elif find /entitlement ...`: a probe in a condition; the
		// optional secret's directory itself always exists
		{bd, "task/buildah/0.10"},
		// if [ "${WORKSPACE_SSH_DIRECTORY_BOUND}" = "true" ]
		{tc, "task/git-clone/0.9"},
	} {
		if fs := run(NoSkip, realSub(t, c.repo, c.dir)); len(fs) > 0 {
			t.Errorf("%s guards its credentials:\n%s", c.dir, dump(fs))
		}
	}
	// rsync copies the optional ssh-directory workspace unconditionally
	fs := run(NoSkip, realSub(t, tc, "task/rsync/0.1"))
	wantLines(t, fs, check.Error, 47)
	mustContain(t, fs, `workspace "ssh-directory"`)
	// a python script: the gate says it cannot verify it
	fs = run(NoSkip, realSub(t, tc, "task/sendmail/0.2"))
	wantLines(t, fs, check.Warning, 39)
	mustContain(t, fs, "env PORT", "env PASSWORD", "not a shell script")
}

func TestCorpusUnpinnedReal(t *testing.T) {
	if fs := run(Unpinned, realSub(t, bd, hello)); len(fs) > 0 {
		t.Errorf("hello-world pins its image:\n%s", dump(fs))
	}
	// a tag only
	fs := run(Unpinned, realSub(t, bd, "task/clair-scan/0.3"))
	wantLines(t, fs, check.Error, 92)
	mustContain(t, fs, `"quay.io/konflux-ci/clair-in-ci:6064895"`, `tag "6064895"`)
	// image: $(params.gitInitImage): reported at the param's default
	fs = run(Unpinned, realSub(t, tc, "task/git-clone/0.5"))
	wantLines(t, fs, check.Error, 102)
	mustContain(t, fs, "runs this value as its image", "git-init:v0.21.0")
	// docker.io/python:$(inputs.params.PYTHON), default latest: at the image
	fs = run(Unpinned, realSub(t, tc, "task/pylint/0.1"))
	wantLines(t, fs, check.Error, 41)
	mustContain(t, fs, `"docker.io/python:latest"`)
	// a param without a default: one warning at the param, naming its steps
	fs = run(Unpinned, realSub(t, tc, "task/buildpacks-phases/0.1"))
	wantLines(t, fs, check.Warning, 28)
	mustContain(t, fs, `step "copy-stack-toml", step "detect", step "build"`, "no default")
}

func TestCorpusRegistryReal(t *testing.T) {
	allowed := []string{"registry.access.redhat.com", "quay.io/konflux-ci"}
	s := realSub(t, bd, hello)
	s.Repo.Config.Images.AllowedRegistries = allowed
	if fs := run(Registry, s); len(fs) > 0 {
		t.Errorf("hello-world's image is allowed:\n%s", dump(fs))
	}
	s = realSub(t, pr408, icrScan)
	s.Repo.Config.Images.AllowedRegistries = allowed
	fs := run(Registry, s)
	wantLines(t, fs, check.Error, 39)
	mustContain(t, fs, "index.docker.io/openrefactory/icr-java-tekton", "outside the allowed registries")
	// no list: every registry is allowed
	s.Repo.Config.Images.AllowedRegistries = nil
	if fs := run(Registry, s); len(fs) > 0 {
		t.Errorf("an empty list allows all:\n%s", dump(fs))
	}
}

// No real Task has a broken digest: hello-world with its digest cut short
// stands in for the failing one.
func TestCorpusDigestReal(t *testing.T) {
	s := realSub(t, bd, hello)
	if fs := run(Digest, s); len(fs) > 0 {
		t.Errorf("hello-world's digest is valid:\n%s", dump(fs))
	}
	broken := strings.Replace(string(s.Manifest.Data), "2f463ab8", "", 1)
	fs := run(Digest, handmade(t, broken, nil))
	wantLines(t, fs, check.Error, 23)
	mustContain(t, fs, "digest does not parse")
	if fs := run(Unpinned, handmade(t, broken, nil)); len(fs) > 0 {
		t.Errorf("an invalid digest is image/digest's, not image/unpinned's:\n%s", dump(fs))
	}
}

func TestCorpusPrivilegedReal(t *testing.T) {
	// the tektoncd catalog's buildah runs its steps privileged
	fs := run(Privileged, realSub(t, tc, "task/buildah/0.2"))
	wantLines(t, fs, check.Error, 74, 89)
	mustContain(t, fs, `step "build"`, "privileged: true")
	wantLines(t, run(Privileged, realSub(t, bd, hello)), check.Error)
}

func TestCorpusEscalationReal(t *testing.T) {
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

func TestCorpusRootReal(t *testing.T) {
	// icr-scan declares runAsNonRoot: true and a non-zero user
	if fs := run(Root, realSub(t, pr408, icrScan)); len(fs) > 0 {
		t.Errorf("want no finding:\n%s", dump(fs))
	}
	fs := run(Root, realSub(t, tc, "task/kaniko/0.6"))
	wantLines(t, fs, check.Error, 60)
	fs = run(Root, realSub(t, bd, "task/buildah/0.10"))
	wantLines(t, fs, check.Error, 561, 756, 832, 936, 1029, 1030)
}

func TestCorpusCapabilitiesReal(t *testing.T) {
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

func TestCorpusHostReal(t *testing.T) {
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

// PR #2356 (cosa-build, never merged): what a reviewer names from these
// families — a required ssh secret used without a guard, root,
// SETFCAP, an unpinned builder image run by `podman run --privileged`.
func TestCorpusPR2356CosaBuild(t *testing.T) {
	wantVerdict(t, realSub(t, pr2356, cosaBuild), []string{
		"19 error image/unpinned",           // BUILDER_IMAGE default :latest, run by `podman run`
		"83 error credentials/not-optional", // ssh secret: optional: false
		"89 warning privilege/escalation",   // stepTemplate: unset for every step
		"144 error credentials/no-skip",     // cp /ssh/id_rsa in the else branch
		"222 warning privilege/privileged",  // podman run --privileged (over ssh)
		"246 error privilege/capabilities",  // build: add SETFCAP
		"299 error privilege/capabilities",  // push: add SETFCAP
		"301 error privilege/root",          // push: runAsUser: 0
		"397 error privilege/root",          // prepare-sboms: runAsUser: 0
	})
}

// PR #408 (icr-scan, v1beta1, never merged) is stopped by the script and
// secret families (param injection, a password param with a default);
// from these families only the unset allowPrivilegeEscalation is said,
// and, where the catalog allows only Red Hat and Quay registries, its
// docker.io image.
func TestCorpusPR408IcrScan(t *testing.T) {
	s := realSub(t, pr408, icrScan)
	wantVerdict(t, s, []string{"37 warning privilege/escalation"})
	s.Repo.Config.Images.AllowedRegistries = []string{"quay.io", "registry.redhat.io", "registry.access.redhat.com"}
	wantVerdict(t, s, []string{"37 warning privilege/escalation", "39 error image/registry"})
}

// The only partner Task ever merged passes every rule of these families.
func TestCorpusHelloWorldPasses(t *testing.T) {
	for _, f := range check.Run([]*catalog.Submission{realSub(t, bd, hello)}, Checks, nil).Findings() {
		if f.Severity == check.Error {
			t.Errorf("error on hello-world: %s", f)
		}
	}
}

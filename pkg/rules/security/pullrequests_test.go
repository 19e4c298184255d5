package security

import (
	"fmt"
	"sort"
	"testing"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

// verdict lists "line severity rule" for every finding of this family.
func verdict(s *catalog.Submission) []string {
	var out []string
	for _, f := range check.Run([]*catalog.Submission{s}, Checks, nil).Findings() {
		out = append(out, fmt.Sprintf("%d %s %s", f.Line, f.Severity, f.Rule))
	}
	sort.Strings(out)
	return out
}

func wantVerdict(t *testing.T, s *catalog.Submission, want []string) {
	t.Helper()
	got := verdict(s)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got\n  %q\nwant\n  %q", got, want)
	}
}

// PR #2356 (cosa-build, never merged): what a reviewer names from these
// families — a required ssh secret used without a guard, root,
// SETFCAP, an unpinned builder image run by `podman run --privileged`.
func TestPR2356CosaBuild(t *testing.T) {
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
func TestPR408IcrScan(t *testing.T) {
	s := realSub(t, pr408, icrScan)
	wantVerdict(t, s, []string{"37 warning privilege/escalation"})
	s.Repo.Config.Images.AllowedRegistries = []string{"quay.io", "registry.redhat.io", "registry.access.redhat.com"}
	wantVerdict(t, s, []string{"37 warning privilege/escalation", "39 error image/registry"})
}

// The only partner Task ever merged passes every rule of these families.
func TestHelloWorldPasses(t *testing.T) {
	for _, f := range check.Run([]*catalog.Submission{realSub(t, bd, hello)}, Checks, nil).Findings() {
		if f.Severity == check.Error {
			t.Errorf("error on hello-world: %s", f)
		}
	}
}

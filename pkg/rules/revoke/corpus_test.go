//go:build corpus

package revoke

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

func TestDeprecateCorpusTasks(t *testing.T) {
	deprecate(t, corpus(t), []deprecateCase{
		{"task/build-helm-chart-oci-ta/0.3/build-helm-chart-oci-ta.yaml", 3, 0},                                 // no annotations yet (v1beta1)
		{"task/deprecated-image-check/0.5/deprecated-image-check.yaml", 2, 0},                                   // annotations without expiry
		{"task/summary/0.4/summary.yaml", 2, 1},                                                                 // expires-on already set
		{"archived-tasks/coverity-availability-check-oci-ta/0.2/coverity-availability-check-oci-ta.yaml", 2, 3}, // both set, message over two lines
	})
}

func TestStillReferencedOnCorpus(t *testing.T) {
	root := repoWith(t, map[string]string{
		"pipelines/docker-build/docker-build.yaml":                                      "corpus:pipelines/docker-build/docker-build.yaml",
		"pipelines/template-build/template-build.yaml":                                  "corpus:pipelines/template-build/template-build.yaml",
		"task/ecosystem-cert-preflight-checks/0.2/ecosystem-cert-preflight-checks.yaml": "corpus:task/ecosystem-cert-preflight-checks/0.2/ecosystem-cert-preflight-checks.yaml",
		// referenced by the test pipeline through the git resolver (0.1 is
		// the 0.2 manifest under an old version, for this test)
		"task/package-operator-package/0.1/tests/test-package-operator-package-happy-path.yaml": "corpus:task/package-operator-package/0.1/tests/test-package-operator-package-happy-path.yaml",
		"task/git-clone/0.1/git-clone.yaml":                                                     "corpus:task/git-clone/0.2/git-clone.yaml",
		"task/git-clone/0.2/git-clone.yaml":                                                     "corpus:task/git-clone/0.2/git-clone.yaml",
		// moved to another repository: the pin takes over the references
		"task/buildah/0.10/buildah.yaml":          "corpus:task/buildah/0.10/buildah.yaml",
		"external-task/buildah/0.10/buildah.yaml": "corpus:external-task/buildah/0.10/buildah.yaml",
	})
	for _, dir := range []string{"task/ecosystem-cert-preflight-checks/0.2", "task/git-clone/0.1", "task/buildah/0.10"} {
		git(t, root, "rm", "-r", "-q", dir)
	}

	fs := stillReferenced(t, root)
	want := []string{
		"pipelines/docker-build/docker-build.yaml:278:13",                                             // taskRef {name, version: "0.2"}
		"pipelines/template-build/template-build.yaml:194:15",                                         // the kustomize base
		"task/package-operator-package/0.1/tests/test-package-operator-package-happy-path.yaml:28:20", // pathInRepo
	}
	if got := places(fs); !slices.Equal(got, want) {
		t.Fatalf("findings at %v, want %v\n%v", got, want, fs)
	}
	for _, f := range fs {
		if f.Rule != StillReferenced.ID || f.Severity != check.Error || f.Help == "" {
			t.Errorf("finding not actionable: %+v", f)
		}
	}
	if m := fs[0].Message; !strings.Contains(m, `taskRef {name: ecosystem-cert-preflight-checks, version: "0.2"}`) || !strings.Contains(m, "task/ecosystem-cert-preflight-checks/0.2") {
		t.Errorf("message: %s", m)
	}
	if h := fs[2].Help; !strings.Contains(h, "(remaining: 0.2)") {
		t.Errorf("help should name the version that stays: %s", h)
	}
	if !strings.Contains(fs[2].Message, "git resolver pathInRepo task/git-clone/0.1/git-clone.yaml") {
		t.Errorf("message: %s", fs[2].Message)
	}
}

func TestCorpusExpiredOnArchivedTasks(t *testing.T) {
	dir := corpus(t)
	defer func(old func() time.Time) { Now = old }(Now)
	Now = func() time.Time { return time.Date(2025, 1, 20, 12, 0, 0, 0, time.UTC) }

	want := map[string]string{
		"inspect-image":                      "warning:6:44:expires in 11 day(s), on 2025-01-31",
		"fbc-validation":                     "warning:6:44:expires in 11 day(s), on 2025-01-31",
		"deprecated-image-check":             "error:9:44:expired on 2024-06-01 (233 day(s) ago)",
		"coverity-availability-check-oci-ta": "",
		"sbom-json-check":                    "",
		"clair-scan":                         "", // no expiry annotation
	}
	for name, w := range want {
		rel := fmt.Sprintf("archived-tasks/%s/0.2/%s.yaml", name, name)
		s := &catalog.Submission{Name: name, Version: "0.2", Manifest: manifest.Load(dir, rel, manifest.DefaultLimits)}
		fs := check.Apply(Expired, s)
		got := ""
		if len(fs) == 1 {
			if fs[0].Severity == 0 { // the check's own, as the driver fills in
				fs[0].Severity = Expired.Severity
			}
			got = fmt.Sprintf("%s:%d:%d:%s", fs[0].Severity, fs[0].Line, fs[0].Column, fs[0].Message)
		}
		if len(fs) > 1 || !strings.HasPrefix(got, strings.Replace(w, "expire", name+" 0.2 expire", 1)) {
			t.Errorf("%s: got %q (%d findings), want prefix %q", name, got, len(fs), w)
		}
	}

	// the expiry message travels with the finding
	Now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	s := &catalog.Submission{Name: "coverity-availability-check-oci-ta", Version: "0.2",
		Manifest: manifest.Load(dir, "archived-tasks/coverity-availability-check-oci-ta/0.2/coverity-availability-check-oci-ta.yaml", manifest.DefaultLimits)}
	fs := check.Apply(Expired, s)
	if len(fs) != 1 || fs[0].Severity != 0 || !strings.Contains(fs[0].Message, "Please use coverity-availability-check instead.") {
		t.Errorf("expired with message: %+v", fs)
	}
}

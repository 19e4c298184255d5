//go:build corpus

package execution

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
	"taskgate.dev/taskgate/pkg/check"
)

// Real Tasks: the catalog's buildah lets the caller pick its builder
// image; Konflux's fbc-inject-lifecycle reads the exit codes of the steps
// it lets continue; the partner example does none of this.
func TestCorpus(t *testing.T) {
	for _, tc := range []struct {
		repo, dir string
		c         *check.Check
		want      int
	}{
		{"tektoncd-catalog", "task/buildah/0.9", ImageParam, 1},
		{"tektoncd-catalog", "task/tekton-catalog-publish/0.1", EnvOverride, 0}, // a param named PATH is no env
		{"build-definitions/external-sources/konflux-ci/konflux-operator-tasks", "task/fbc-inject-lifecycle-oci-ta/0.1", ContinueOnError, 0},
		{"build-definitions", "task/fbc-fips-check-oci-ta/0.1", RemoteStepAction, 0}, // git, pinned by commit
	} {
		t.Run(tc.dir+"/"+tc.c.ID, func(t *testing.T) {
			fs := ruletest.Of(ruletest.Run(tc.c, ruletest.CorpusSub(t, tc.repo, tc.dir)), tc.c.ID)
			if len(fs) != tc.want {
				t.Errorf("%d findings, want %d:\n%s", len(fs), tc.want, ruletest.Dump(fs))
			}
		})
	}
	for _, c := range Checks {
		if fs := ruletest.Of(ruletest.Run(c, ruletest.CorpusSub(t, "build-definitions", "partners/example-hello-world/0.1")), c.ID); len(fs) > 0 {
			t.Errorf("example-hello-world:\n%s", ruletest.Dump(fs))
		}
	}
}

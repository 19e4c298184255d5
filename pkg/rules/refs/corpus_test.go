//go:build corpus

package refs

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
	"taskgate.dev/taskgate/pkg/check"
)

// Real Tasks: the catalog's anchore-cli names a secret by a param it
// never declares, git-cli 0.3 a workspace it lacks, terraform-cli 0.2 sets
// HTTP_PROXY twice; Konflux's clair-scan keeps a param nothing reads.
func TestCorpus(t *testing.T) {
	for _, tc := range []struct {
		repo, dir string
		c         *check.Check
		want      int
	}{
		{"tektoncd-catalog", "task/anchore-cli/0.1", Undefined, 2},
		{"tektoncd-catalog", "task/git-cli/0.3", Undefined, 1},
		{"tektoncd-catalog", "task/rhacs-image-check/4.0", Undefined, 0}, // only in a default
		{"tektoncd-catalog", "task/terraform-cli/0.2", DuplicateEnv, 2},
		{"build-definitions", "task/clair-scan/0.3", UnusedParam, 1},
		{"build-definitions", "task/buildah/0.10", Undefined, 0},
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

//go:build corpus

package supply

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
	"taskgate.dev/taskgate/pkg/check"
)

// Real Tasks: codecov fetches its uploader and runs it; the Konflux
// hello-world does nothing of the kind; pytest installs pytest unpinned.
func TestCorpus(t *testing.T) {
	for _, tc := range []struct {
		repo, dir string
		c         *check.Check
		want      int
	}{
		{"tektoncd-catalog", "task/codecov/0.2", DownloadExec, 1},
		{"tektoncd-catalog", "task/pytest/0.2", FloatingPackage, 2},
		{"tektoncd-catalog", "task/skopeo-copy/0.4", FloatingImage, 0},
		{"build-definitions", "task/update-infra-deployments/0.1", ClusterCredentials, 0},
		{"build-definitions", "partners/example-hello-world/0.1", DownloadExec, 0},
		{"build-definitions", "partners/example-hello-world/0.1", Exfiltration, 0},
	} {
		t.Run(tc.dir+"/"+tc.c.ID, func(t *testing.T) {
			fs := ruletest.Of(ruletest.Run(tc.c, ruletest.CorpusSub(t, tc.repo, tc.dir)), tc.c.ID)
			if len(fs) != tc.want {
				t.Errorf("%d findings, want %d:\n%s", len(fs), tc.want, ruletest.Dump(fs))
			}
		})
	}
}

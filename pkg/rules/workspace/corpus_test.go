//go:build corpus

package workspace

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
)

// Real Tasks: Konflux's gitleaks check writes its reports into the
// shared workspace and the source tree; its unicode check writes only in
// its own hacbs/<task> directory; the partner example writes nothing.
func TestCorpus(t *testing.T) {
	for _, tc := range []struct {
		repo, dir string
		want      int
	}{
		{"build-definitions/external-sources/konflux-ci/konflux-sast-tasks", "task/sast-gitleaks-check/0.1", 6},
		{"build-definitions/external-sources/konflux-ci/konflux-sast-tasks", "task/sast-unicode-check/0.4", 0},
		{"build-definitions", "partners/example-hello-world/0.1", 0},
	} {
		if fs := ruletest.Of(ruletest.Run(WritesSource, ruletest.CorpusSub(t, tc.repo, tc.dir)), WritesSource.ID); len(fs) != tc.want {
			t.Errorf("%s: %d findings, want %d:\n%s", tc.dir, len(fs), tc.want, ruletest.Dump(fs))
		}
	}
}

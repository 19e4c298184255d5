//go:build corpus

package resources

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"testing"

	"taskgate.dev/taskgate/internal/ruletest"
)

// Real Tasks: Konflux's sast-shell-check limits its step to 8 CPUs; its
// clair-scan stays within the defaults; so does the partner example.
func TestCorpus(t *testing.T) {
	for _, tc := range []struct {
		repo, dir string
		want      int
	}{
		{"build-definitions", "task/sast-shell-check/0.1", 1},
		{"build-definitions", "task/clair-scan/0.3", 0},
		{"build-definitions", "partners/example-hello-world/0.1", 0},
	} {
		if fs := ruletest.Of(ruletest.Run(Excessive, ruletest.CorpusSub(t, tc.repo, tc.dir)), Excessive.ID); len(fs) != tc.want {
			t.Errorf("%s: %d findings, want %d:\n%s", tc.dir, len(fs), tc.want, ruletest.Dump(fs))
		}
	}
}

// Konflux's clamav-scan bounds none of its steps.
func TestCorpusNoTimeout(t *testing.T) {
	if fs := ruletest.Of(ruletest.Run(NoTimeout, ruletest.CorpusSub(t, "build-definitions", "task/clamav-scan/0.3")), NoTimeout.ID); len(fs) != 1 {
		t.Errorf("clamav-scan: %s", ruletest.Dump(fs))
	}
}

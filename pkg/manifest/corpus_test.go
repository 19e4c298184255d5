//go:build corpus

package manifest

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

// No file of the corpus comes near the limits.
func TestCorpusWithinLimits(t *testing.T) {
	half := Limits{MaxFileBytes: DefaultLimits.MaxFileBytes / 2, MaxNodes: DefaultLimits.MaxNodes / 2, MaxDepth: DefaultLimits.MaxDepth / 2, MaxScalarBytes: DefaultLimits.MaxScalarBytes / 2}
	n := 0
	err := filepath.WalkDir(testrepo.Corpus(t), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for _, pr := range Parse(p, data, half).Problems {
			if pr.Rule == RuleLimits {
				t.Errorf("%s: %s", p, pr.Message)
			}
		}
		return nil
	})
	if err != nil || n < 100 {
		t.Fatalf("%d files: %v", n, err)
	}
}

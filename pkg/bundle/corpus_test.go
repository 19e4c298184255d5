//go:build corpus

package bundle

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"os"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

// A real 47 KB Task (buildah-remote-oci-ta from the corpus) verifies.
func TestCorpusLargeTaskVerifies(t *testing.T) {
	path := testrepo.Corpus(t, "build-definitions", "task", "buildah-remote-oci-ta", "0.10", "buildah-remote-oci-ta.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	verifyLarge(t, path, data)
}

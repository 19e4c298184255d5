//go:build corpus

package rules_test

// The sweep over the real corpus (../shared/corpus), run by `make corpus`.

import (
	"path/filepath"
	"testing"
)

func TestEveryCorpusFile(t *testing.T) {
	for _, name := range []string{"build-definitions", "tektoncd-catalog"} {
		everyFile(t, filepath.Join(corpusDir(t), name), 60, 230)
	}
}

// The only partner Task ever merged into build-definitions has no error.
func TestCorpusExampleHelloWorldHasNoError(t *testing.T) {
	noError(t, filepath.Join(corpusDir(t), "build-definitions"), "partners/example-hello-world/0.1")
}

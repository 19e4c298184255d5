//go:build corpus

package gate

import (
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

// The real build-definitions with its 13 build pipelines: a warm cache
// gives the report computed afresh.
func TestCorpusCache(t *testing.T) {
	warmIsCold(t, testrepo.Corpus(t, "build-definitions"), 60)
}

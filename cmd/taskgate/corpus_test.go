//go:build corpus

package main

import (
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

// The example's passing submission against the real build pipelines
// (make corpus): a clean pass on one screen.
func TestCorpusCleanSubmissionFitsOnOneScreen(t *testing.T) {
	cleanFitsOnOneScreen(t, testrepo.Corpus(t, "build-definitions", "pipelines"))
}

//go:build corpus

package main

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

// The example against the real build pipelines (make corpus): still a
// clean pass on one screen.
func TestCorpusExampleFitsOnOneScreen(t *testing.T) {
	code, out, errOut := runCLI("validate", "../../examples/catalog", "--pipelines", testrepo.Corpus(t, "build-definitions", "pipelines"))
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out, "\n"); n >= 25 || !strings.Contains(out, "hello-world.yaml: integration: fits ") || strings.Contains(out, "integration/") {
		t.Errorf("%d lines:\n%s", n, out)
	}
}

// Package testrepo gives tests what they share: catalog repositories
// written into a temporary directory, the repository's own test corpus
// (testdata/), and the real corpus beside the project (../shared/corpus,
// or $TASKGATE_CORPUS) for the extra sweep `make corpus` runs.
package testrepo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Write creates files (repo-relative path → content) under root.
func Write(tb testing.TB, root string, files map[string]string) {
	tb.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// New writes files into a new temporary repository and returns its root.
func New(tb testing.TB, files map[string]string) string {
	tb.Helper()
	root := tb.TempDir()
	Write(tb, root, files)
	return root
}

// Testdata returns a path inside the repository's own test corpus
// (testdata/ at the module root: hand-made build pipelines, Tasks and
// partner submissions in the shapes of the real ones), failing the test
// when it is not there. Every test can rely on it: it ships with the code.
func Testdata(tb testing.TB, rel ...string) string {
	tb.Helper()
	root, err := moduleRoot()
	if err != nil {
		tb.Fatalf("testdata: no taskgate module above the test: %v", err)
	}
	dir := filepath.Join(append([]string{root, "testdata"}, rel...)...)
	if _, err := os.Stat(dir); err != nil {
		tb.Fatalf("testdata: %v", err)
	}
	return dir
}

// Corpus returns a path inside the real corpus (../shared/corpus beside
// the project, or $TASKGATE_CORPUS). The sweep over it (files built with
// -tags corpus, run by `make corpus`), the benchmarks and e2e call it; an
// absent corpus fails the test: none passes by skipping.
func Corpus(tb testing.TB, rel ...string) string {
	tb.Helper()
	dir, err := corpusPath(rel...)
	if err != nil {
		tb.Fatalf("the real corpus is required here (make corpus; set TASKGATE_CORPUS or put it at ../shared/corpus): %v", err)
	}
	return dir
}

// corpusPath is where the real corpus (or a path inside it) is, or an
// error saying it is absent.
func corpusPath(rel ...string) (string, error) {
	base := os.Getenv("TASKGATE_CORPUS")
	if base == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", err
		}
		base = filepath.Join(root, "..", "shared", "corpus")
	}
	dir := filepath.Join(append([]string{base}, rel...)...)
	if _, err := os.Stat(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// moduleRoot is the nearest directory above the test's that holds
// taskgate's go.mod (not a nested module's, such as policytest/).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(data) == "taskgate.dev/taskgate" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

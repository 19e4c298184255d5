// Package testrepo gives tests what they share: catalog repositories
// written into a temporary directory, and the real corpus beside the
// project (../shared/corpus, or $TASKGATE_CORPUS).
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

// Corpus returns a path inside the shared corpus, skipping the test when
// the corpus is not on this machine.
func Corpus(tb testing.TB, rel ...string) string {
	tb.Helper()
	dir, err := CorpusPath(rel...)
	if err != nil {
		tb.Skipf("corpus not available: %v", err)
	}
	return dir
}

// CorpusPath is Corpus for what must run without the corpus too (fuzz
// seeds): an error says it is absent.
func CorpusPath(rel ...string) (string, error) {
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

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// validate --cache: a re-run prints what the first run printed, with the
// same exit status, and an unusable cache directory is bad usage.
func TestValidateCache(t *testing.T) {
	root := writeRepo(t, "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: demo\nspec:\n  steps:\n    - image: alpine\n      scirpt: echo\n")
	dir := filepath.Join(t.TempDir(), "cache")
	code, out, errOut := runCLI("validate", root, "--cache", dir)
	if code != exitFindings {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFindings, out, errOut)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*", "*")); len(entries) != 1 {
		t.Errorf("%d cache entries for one submission: %v", len(entries), entries)
	}
	code2, out2, _ := runCLI("validate", root, "--cache", dir)
	if code2 != code || out2 != out {
		t.Errorf("the re-run differs: exit %d\n%s\nwant exit %d\n%s", code2, out2, code, out)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI("validate", root, "--cache", file); code != exitUsage {
		t.Errorf("--cache FILE: exit %d, want %d (%s)", code, exitUsage, errOut)
	}
}

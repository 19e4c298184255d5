package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/pkg/bundle/registrytest"
)

// bundleRepo copies the bundle package's gated fixture into a git repository.
func bundleRepo(t *testing.T) string {
	t.Helper()
	src := "../../pkg/bundle/testdata/repo"
	root := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err == nil {
			err = os.MkdirAll(filepath.Join(root, filepath.Dir(rel)), 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(root, rel), data, 0o644)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	git(t, root, "init", "-q")
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "init")
	return root
}

func TestBundleCommands(t *testing.T) {
	reg := registrytest.Start(t)
	root := bundleRepo(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // anonymous: the test registry has no auth

	if code, _, errOut := runCLI("bundle"); code != exitUsage || !strings.Contains(errOut, "bundle build") {
		t.Errorf("bare `bundle`: exit %d\n%s", code, errOut)
	}
	if code, _, _ := runCLI("bundle", "push", "--repo", root); code != exitUsage {
		t.Errorf("push without REF and --task: exit %d", code)
	}

	out := filepath.Join(t.TempDir(), "layout")
	code, stdout, errOut := runCLI("bundle", "build", "--repo", root, "--task", "partners/hello/0.1", "--output", out)
	if code != exitOK || !strings.HasPrefix(stdout, "sha256:") {
		t.Fatalf("build: exit %d\n%s%s", code, stdout, errOut)
	}
	digest := strings.Fields(stdout)[0]
	if _, err := os.Stat(filepath.Join(out, "oci-layout")); err != nil {
		t.Errorf("no OCI layout written: %v", err)
	}

	trust := filepath.Join(t.TempDir(), "trust.yaml")
	code, stdout, errOut = runCLI("bundle", "push", reg.Host+"/catalog", "--repo", root, "--task", "partners/hello/0.1", "--trust-data", trust)
	ref := strings.TrimSpace(stdout)
	if code != exitOK || ref != reg.Host+"/catalog/task-hello@"+digest {
		t.Fatalf("push: exit %d, printed %q (built %s)\n%s", code, ref, digest, errOut)
	}
	if data, err := os.ReadFile(trust); err != nil || !strings.Contains(string(data), "trusted_task_rules:") || !strings.Contains(string(data), digest) {
		t.Errorf("trust data: %v\n%s", err, data)
	}

	code, stdout, errOut = runCLI("bundle", "verify", ref, "--repo", root, "--task", "partners/hello/0.1")
	if code != exitOK || !strings.Contains(stdout, "exactly as partners/hello/0.1/hello.yaml defines it") {
		t.Fatalf("verify: exit %d\n%s%s", code, stdout, errOut)
	}

	// a Task that fails the gate is refused before anything reaches the registry
	bad := bundleRepo(t)
	if err := os.Remove(filepath.Join(bad, "partners/hello/OWNERS")); err != nil {
		t.Fatal(err)
	}
	git(t, bad, "commit", "-q", "-am", "drop OWNERS")
	code, _, errOut = runCLI("bundle", "push", reg.Host+"/refused", "--repo", bad, "--task", "partners/hello/0.1")
	if code != exitFindings || !strings.Contains(errOut, "does not pass the gate") || !strings.Contains(errOut, "layout/owners") {
		t.Errorf("refused push: exit %d\n%s", code, errOut)
	}
	if repos := reg.Repositories(t); len(repos) != 1 {
		t.Errorf("the refused push reached the registry: %v", repos)
	}
}

// Naming the submission through the repository, from outside it, gets the
// flags to use instead of a bare refusal.
func TestBundleTaskPathHintsAtRepo(t *testing.T) {
	code, _, errOut := runCLI("bundle", "build", "--task", "../../examples/catalog/partners/hello-world/0.1")
	if code == exitOK || !strings.Contains(errOut, "did you mean --repo ../../examples/catalog --task partners/hello-world/0.1?") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

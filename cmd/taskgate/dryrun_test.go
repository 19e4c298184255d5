package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without a reachable cluster the dry-run is a finding per submission,
// never a silent pass; bad usage is exit 2. (e2e/ runs it against a real
// API server.)
func TestDryRunWithoutCluster(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"../../examples/catalog", "--kubeconfig", kc}, exitFindings, "hello-world.yaml:1:1: error cluster/dry-run: the dry-run could not run"},
		{[]string{"../../examples/catalog", "--kubeconfig", filepath.Join(dir, "missing")}, exitUsage, "kubeconfig"},
		{[]string{"../../examples/catalog", "--kubeconfig", kc, "--composed", filepath.Join(dir, "missing")}, exitUsage, "taskgate integrate --out"},
		{[]string{"../../examples/catalog", "--kubeconfig", kc, "--format", "yaml"}, exitUsage, "unknown format"},
		{[]string{"../../examples/catalog", "--kubeconfig", kc, "--timeout", "0s", "--run"}, exitUsage, "--timeout"},
		{[]string{"../../examples/catalog", "--kubeconfig", kc, "--source", "."}, exitUsage, "add --run"},
		{[]string{"../../examples/catalog", "--kubeconfig", kc, "--run", "--source", filepath.Join(dir, "missing")}, exitUsage, "--source: "},
		{[]string{"../../examples/catalog", "--kubeconfig", kc, "--run", "--image", "Not/A:Ref:"}, exitUsage, "--image: "},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"dry-run"}, tc.args...), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.out) {
			t.Errorf("dry-run %q: exit %d, want %d with %q\n%s%s", tc.args, code, tc.code, tc.out, stdout.String(), stderr.String())
		}
	}
}

// validate runs without a cluster: the cluster rules are listed as not
// run, with what runs them, in every format that lists checks; never as
// passed.
func TestValidateSaysClusterRulesNotRun(t *testing.T) {
	for format, wants := range map[string][]string{
		"json": {`"rule": "cluster/dry-run",` + "\n" + `          "status": "not-run",` + "\n" + `          "notRun": "needs-cluster",` + "\n" + `          "reason": "needs a cluster (taskgate dry-run)"`,
			`"reason": "needs a cluster (taskgate dry-run)"`},
		"markdown": {"| `cluster/dry-run` | ⏭️ not run (run by another command): needs a cluster \\(taskgate dry-run\\) |", "| `cluster/run` | ⏭️ not run (run by another command): needs a cluster \\(taskgate dry-run\\) |"},
		"junit":    {`<skipped message="run by another command: needs a cluster (taskgate dry-run)">`, `<skipped message="run by another command: needs a cluster (taskgate dry-run)">`},
		"text":     {"not run: partners/hello-world/0.1, partners/image-size-check/0.1 cluster/dry-run, cluster/run (run by another command): needs a cluster (taskgate dry-run)\n"},
	} {
		var stdout, stderr bytes.Buffer
		// exit 1: the example catalog holds a submission that fails on purpose
		code := run([]string{"validate", "../../examples/catalog", "--format", format}, &stdout, &stderr)
		out := stdout.String()
		for _, want := range wants {
			if code != exitFindings || !strings.Contains(out, want) {
				t.Errorf("validate --format %s: exit %d, want %q in\n%s%s", format, code, want, out, stderr.String())
			}
		}
		if strings.Contains(out, "cluster/dry-run` | ✅") || strings.Contains(out, "`cluster/run`, ") {
			t.Errorf("--format %s says a cluster rule passed:\n%s", format, out)
		}
	}
}

//go:build kind

// The e2e on a kind cluster with Tekton's release installed (webhooks,
// resolvers, real pods): run by run.sh, which sets KUBECONFIG. It cannot
// run on a machine without Docker and network.
package kind

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/cluster"
	"taskgate.dev/taskgate/pkg/manifest"
)

func connect(t *testing.T) *cluster.Client {
	t.Helper()
	if os.Getenv("KUBECONFIG") == "" {
		t.Fatal("KUBECONFIG is not set: run e2e/kind/run.sh")
	}
	c, err := cluster.New("", "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func load(t *testing.T, dir, file string) *catalog.Submission {
	t.Helper()
	f := manifest.Load(dir, file, manifest.DefaultLimits)
	if f.Root == nil {
		t.Fatalf("%s: %+v", file, f.Problems)
	}
	return &catalog.Submission{Dir: dir, Manifest: f}
}

// The same Tasks as the local e2e, now with Tekton's webhooks in the
// path: the same verdicts at the same lines.
func TestDryRun(t *testing.T) {
	c := connect(t)
	for file, want := range map[string]string{
		"good.yaml":          "",
		"v1beta1.yaml":       "",
		"unknown-field.yaml": `10:7: error cluster/dry-run: the API server rejects unknown field "spec.steps[0].comand"`,
		"wrong-type.yaml":    "9:13: error cluster/dry-run: the API server rejects spec.steps[0].args",
		"invalid-name.yaml":  "4:9: error cluster/dry-run: the API server rejects metadata.name",
	} {
		t.Run(file, func(t *testing.T) {
			got := c.DryRunSubmission(context.Background(), load(t, "../testdata/tasks", file), "")
			var lines []string
			for _, f := range got {
				lines = append(lines, f.String())
			}
			text := strings.Join(lines, "\n")
			if (want == "") != (len(got) == 0) || !strings.Contains(text, want) {
				t.Errorf("findings:\n%s\nwant one containing %q", text, want)
			}
		})
	}
}

// A real run: the example's check runs in a restricted sandbox without
// its optional secret and reports SKIPPED; a privileged step is refused.
func TestSandboxRun(t *testing.T) {
	c := connect(t)
	opts := cluster.RunOptions{Timeout: 5 * time.Minute}
	s := load(t, "../../examples/catalog", "partners/hello-world/0.1/hello-world.yaml")
	got := c.RunSubmission(context.Background(), s, nil, opts)
	if len(got) != 1 || got[0].Severity != check.Info || !strings.Contains(got[0].Message, `"result":"SKIPPED"`) {
		t.Errorf("hello-world: %v", got)
	}
	got = c.RunSubmission(context.Background(), load(t, "../testdata/tasks", "privileged.yaml"), nil, opts)
	if len(got) != 1 || got[0].Severity != check.Error || !strings.Contains(got[0].Message, "PodSecurity") {
		t.Errorf("privileged: %v", got)
	}
}

// The CLI end to end: dry-run and run of the example catalog pass.
func TestCLI(t *testing.T) {
	out, err := exec.Command("go", "run", "../../cmd/taskgate", "dry-run", "../../examples/catalog", "--run", "--timeout", "5m").CombinedOutput()
	if err != nil {
		t.Fatalf("taskgate dry-run --run: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

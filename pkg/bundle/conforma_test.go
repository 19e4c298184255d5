package bundle

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// What policytest/ evaluates with Conforma's own rego: the trust data file
// `bundle push` writes for a real bundle of testdata/repo, and that
// bundle's references and manifest annotations (Conforma reads the version
// there). The policy test lives in its own module to keep OPA out of this
// one, so these files are its input, and this test fails when they are
// stale.
const (
	conformaBundle = "testdata/conforma/bundle.json"
	conformaTrust  = "testdata/conforma/trust-data.yaml"
)

func TestConformaInputIsCurrent(t *testing.T) {
	b := build(t, gitRepo(t), Options{})
	m, err := b.Image.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	p := &Pushed{Repository: "registry.example/catalog/task-hello", Digest: b.Digest.String(), Version: b.Submission.Version}
	p.Immutable = p.Version + "-" + b.Commit
	in := map[string]any{
		"bundle":      p.Repository + ":" + p.Version + "@" + p.Digest,
		"immutable":   p.Repository + ":" + p.Immutable + "@" + p.Digest,
		"annotations": m.Annotations,
	}
	bundleJSON, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	trust, err := Trust(p, "hello", time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC)).YAML(p.Ref())
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][]byte{conformaBundle: append(bundleJSON, '\n'), conformaTrust: trust} {
		if os.Getenv("TASKGATE_UPDATE") != "" {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(filepath.FromSlash(file))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale (%v): regenerate it with TASKGATE_UPDATE=1 go test ./pkg/bundle -run TestConformaInputIsCurrent, then run the policy test (make test)", file, err)
		}
	}
}

package revoke

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"taskgate.dev/taskgate/pkg/manifest"
)

func TestDeprecateRefusesFlowStyle(t *testing.T) {
	f := manifest.Parse("t.yaml", []byte("apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: hello}\nspec:\n  steps: [{name: s, image: x}]\n"), manifest.DefaultLimits)
	if _, err := Deprecate(f, time.Now(), "m"); err == nil || !strings.Contains(err.Error(), "by hand") {
		t.Errorf("flow-style metadata: %v", err)
	}
}

// deprecate edits each file of dir with Deprecate and checks the edit:
// the lines it adds and removes, that the Task still loads with the
// annotations set and nothing else changed, and that git applies the diff.
func deprecate(t *testing.T, dir string, cases []deprecateCase) {
	when := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	msg := `hello 0.1 is deprecated: use "hello" 0.2 instead.`
	for _, tc := range cases {
		t.Run(filepath.Base(tc.file), func(t *testing.T) {
			f := manifest.Load(dir, tc.file, manifest.DefaultLimits)
			e, err := Deprecate(f, when, msg)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(e.Diff, "\n+") - 1; got != tc.added { // minus the +++ header
				t.Errorf("added %d lines, want %d:\n%s", got, tc.added, e.Diff)
			}
			if got := strings.Count(e.Diff, "\n-"); got != tc.cut {
				t.Errorf("removed %d lines, want %d:\n%s", got, tc.cut, e.Diff)
			}

			g := manifest.Parse(tc.file, e.Data, manifest.DefaultLimits)
			if len(g.Problems) != 0 || g.Task == nil {
				t.Fatalf("the edited Task does not load: %+v\n%s", g.Problems, e.Data)
			}
			if a := g.Task.Annotations; a[ExpiresOn] != "2027-01-31T00:00:00Z" || a[ExpiryMessage] != msg {
				t.Errorf("annotations after the edit: %v", a)
			}
			for k, v := range f.Task.Annotations {
				if k != ExpiresOn && k != ExpiryMessage && g.Task.Annotations[k] != v {
					t.Errorf("annotation %s lost: %q", k, g.Task.Annotations[k])
				}
			}
			if f.Task.Spec.Description != g.Task.Spec.Description || len(f.Task.Spec.Steps) != len(g.Task.Spec.Steps) {
				t.Error("the edit touched the spec")
			}

			// the diff is what it says: git applies it to the original
			root := t.TempDir()
			write(t, root, tc.file, string(f.Data))
			write(t, root, "edit.diff", e.Diff)
			git(t, root, "init", "-q")
			git(t, root, "apply", "--unidiff-zero", "edit.diff")
			applied, err := os.ReadFile(filepath.Join(root, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if string(applied) != string(e.Data) {
				t.Errorf("git apply of the diff gives another file:\n%s", e.Diff)
			}
		})
	}
}

type deprecateCase struct {
	file       string
	added, cut int // lines the edit adds and removes
}

func TestDeprecateTestdataTasks(t *testing.T) {
	deprecate(t, testdata(t), []deprecateCase{
		{"task/init/0.4/init.yaml", 3, 0},                           // no annotations yet
		{"partners/hello-summary/0.1/hello-summary.yaml", 2, 0},     // annotations without expiry
		{"archived-tasks/clair-scan/0.2/clair-scan.yaml", 2, 1},     // expires-on already set
		{"archived-tasks/sanity-check/0.1/sanity-check.yaml", 2, 3}, // both set, message over two lines
	})
}

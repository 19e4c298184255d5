package lint

import (
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

func init() {
	// config/skip looks the rules it names up in the registry
	check.Register(check.SkipCheck)
	check.Register(Checks...)
}

// A submission every lint rule accepts; each example replaces one file.
var baseline = map[string]string{
	"partners/hello/OWNERS":        "approvers: [alice]\n",
	"partners/hello/0.1/README.md": "# hello\n\nPrints a greeting.\n",
	"partners/hello/0.1/hello.yaml": `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: hello
  labels:
    app.kubernetes.io/version: "0.1"
  annotations:
    tekton.dev/pipelines.minVersion: "0.50.0"
    tekton.dev/tags: "example"
    tekton.dev/displayName: "Hello"
spec:
  description: Prints a greeting.
  steps:
    - name: hello
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      script: echo hello
`,
}

// runExample writes the baseline, then the example over the file its first
// line names (`# partners/hello/OWNERS ...`; the rest is the content), and
// runs one check on the submission.
func runExample(t *testing.T, c *check.Check, example string) []check.Finding {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{}
	for k, v := range baseline {
		files[k] = v
	}
	if example != "" {
		header, content, _ := strings.Cut(example, "\n")
		fields := strings.Fields(strings.TrimPrefix(header, "#"))
		if !strings.HasPrefix(header, "# partners/") || len(fields) == 0 {
			t.Fatalf("%s: an example starts with `# <path of the file>`, got %q", c.ID, header)
		}
		rel := strings.TrimRight(fields[0], ":,")
		if rel == "partners/hello/0.1/hello.yaml" {
			content = example // a manifest keeps its comment: line numbers stay true
		}
		files[rel] = content
	}
	testrepo.Write(t, root, files)
	r, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Submission("partners/hello/0.1")
	if err != nil {
		t.Fatal(err)
	}
	return check.Apply(c, s)
}

// Every lint rule's Bad is rejected by it and its Fixed accepted: the
// examples `taskgate explain` prints are true.
func TestExamples(t *testing.T) {
	for _, c := range append([]*check.Check{check.SkipCheck}, Checks...) {
		t.Run(c.ID, func(t *testing.T) {
			if fs := runExample(t, c, ""); len(fs) != 0 {
				t.Fatalf("the baseline must pass: %+v", fs)
			}
			if c.Bad == "" || c.Fixed == "" {
				t.Fatal("Bad and Fixed are required")
			}
			if fs := runExample(t, c, c.Bad); len(fs) == 0 {
				t.Errorf("Bad is not rejected:\n%s", c.Bad)
			} else {
				for _, f := range fs {
					if f.Rule != "" && f.Rule != c.ID || f.Line < 1 || f.Message == "" {
						t.Errorf("finding: %+v", f)
					}
				}
			}
			if fs := runExample(t, c, c.Fixed); len(fs) != 0 {
				t.Errorf("Fixed is rejected: %+v\n%s", fs, c.Fixed)
			}
		})
	}
}

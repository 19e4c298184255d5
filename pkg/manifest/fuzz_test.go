package manifest

import (
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse feeds arbitrary bytes to the loader: it must return, never
// panic, and every problem must have a line.
func FuzzParse(f *testing.F) {
	f.Add([]byte(goodTask))
	f.Add([]byte(located))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("apiVersion: tekton.dev/v1beta1\nkind: Task\nspec: {steps: [{image: x, script: y}]}\n"))
	f.Add([]byte("--- \n---\n"))
	if seeds, _ := filepath.Glob("../../../shared/corpus/build-definitions/partners/*/*/*.yaml"); len(seeds) > 0 {
		for _, s := range seeds {
			if data, err := os.ReadFile(s); err == nil {
				f.Add(data)
			}
		}
	}
	lim := Limits{MaxFileBytes: 64 << 10, MaxNodes: 5000, MaxDepth: 32}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := Parse("fuzz.yaml", data, lim)
		for _, p := range m.Problems {
			if p.Line < 1 || p.Column < 1 || p.Rule == "" || p.Message == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
		if m.Root != nil {
			m.Pos("spec.steps[0].image")
		}
	})
}

// FuzzLocate feeds arbitrary field paths to the position mapper over a
// real document: it must always return a node with a line.
func FuzzLocate(f *testing.F) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(located), &doc); err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{"spec.steps[1].env[0].value", "spec.params[IMAGE]", "a[", "[]", "..", "spec.steps[99999999999999999999]", "spec[-1]"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		n, _ := Locate(doc.Content[0], path)
		if n == nil || n.Line < 1 {
			t.Fatalf("%q: no position", path)
		}
	})
}

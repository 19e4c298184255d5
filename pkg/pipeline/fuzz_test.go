package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/manifest"
)

// FuzzLoad writes a build pipeline and a Task it may use from fuzz input
// into a repository and reads the contract: it never fails on the
// directory, never panics, and the pipeline is either in the contract or
// listed as ignored, with the reason; what loads can be fitted a check.
func FuzzLoad(f *testing.F) {
	seedTask, _ := os.ReadFile(filepath.Join("testdata", "image-check.yaml"))
	f.Add([]byte("apiVersion: tekton.dev/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n  tasks:\n    - name: build\n      taskRef: {name: t, version: \"0.1\"}\n"), seedTask)
	f.Add([]byte("kind: Pipeline\n"), []byte(""))
	f.Add([]byte("a: &a [*a]\n"), []byte("!!binary x"))
	for _, name := range []string{"docker-build", "docker-build-oci-ta", "template-build"} {
		data, err := os.ReadFile(filepath.Join(testrepo.Testdata(f, "build-definitions", "pipelines"), name, name+".yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, seedTask)
	}
	check := manifest.Parse("image-check.yaml", seedTask, manifest.DefaultLimits).Task
	if check == nil {
		f.Fatal("testdata/image-check.yaml does not load")
	}
	f.Fuzz(func(t *testing.T, pipelineYAML, taskYAML []byte) {
		root := t.TempDir()
		testrepo.Write(t, root, map[string]string{
			"pipelines/p/p.yaml": string(pipelineYAML),
			"task/t/0.1/t.yaml":  string(taskYAML),
		})
		c, err := Load(root)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if len(c.Pipelines)+len(c.Ignored) != 1 {
			t.Fatalf("the pipeline is neither loaded nor ignored: %+v", c)
		}
		for _, b := range c.Pipelines {
			b.Fit(check, ImageCheck, nil)
		}
	})
}

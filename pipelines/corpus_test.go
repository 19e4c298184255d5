//go:build corpus

package pipelines_test

// The sweep over the real corpus (../shared/corpus), run by `make corpus`.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/manifest"
)

// The clone bundle is the one build-definitions pins, and the params we
// pass exist in its git-clone Task.
func TestCorpusCloneMatchesBuildDefinitions(t *testing.T) {
	clone := loadPipeline(t).Spec.Tasks[0]
	params := map[string]string{}
	if clone.TaskRef != nil {
		for _, prm := range clone.TaskRef.Params {
			params[prm.Name] = prm.Value.StringVal
		}
	}
	corpus := testrepo.Corpus(t, "build-definitions")
	data, err := os.ReadFile(filepath.Join(corpus, "external-task", "git-clone", "0.2", "git-clone.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "task_bundle: " + params["bundle"]; strings.TrimSpace(string(data)) != want {
		t.Errorf("the corpus pins %q, the Pipeline uses %q", strings.TrimSpace(string(data)), params["bundle"])
	}
	// the params we pass exist in the git-clone Task of that corpus
	gc := manifest.Load(corpus, "task/git-clone/0.2/git-clone.yaml", manifest.DefaultLimits)
	if gc.Task == nil {
		t.Fatalf("corpus git-clone: %v", gc.Problems)
	}
	declared := map[string]bool{}
	for _, ps := range gc.Task.Spec.Params {
		declared[ps.Name] = true
	}
	for _, prm := range clone.Params {
		if !declared[prm.Name] {
			t.Errorf("git-clone has no param %s", prm.Name)
		}
	}
}

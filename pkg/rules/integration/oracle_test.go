package integration

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"testing"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	"taskgate.dev/taskgate/pkg/pipeline"
)

// referenced lists the Task files the pipelines of dir refer to by
// taskRef {name, version}, found under root (task/<n>/<v>/ or
// external-sources/*/*/task/<n>/<v>/), each with the pipelines using it.
func referenced(t *testing.T, dir, root string) map[string][]string {
	t.Helper()
	c, err := pipeline.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Pipelines) == 0 {
		t.Fatalf("no pipeline loaded from %s: %v", dir, c.Ignored)
	}
	out := map[string][]string{}
	for _, b := range c.Pipelines {
		for _, ti := range b.Tasks {
			if ti.Ref == "" || ti.Version == "" {
				continue
			}
			tail := path.Join("task", ti.Ref, ti.Version, ti.Ref+".yaml")
			found := []string{filepath.Join(root, tail)}
			more, _ := filepath.Glob(filepath.Join(root, "external-sources", "*", "*", tail))
			for _, abs := range append(found, more...) {
				if _, err := os.Stat(abs); err != nil {
					continue
				}
				rel, _ := filepath.Rel(root, abs)
				rel = filepath.ToSlash(rel)
				if !contains(out[rel], b.Name) {
					out[rel] = append(out[rel], b.Name)
				}
				break
			}
		}
	}
	return out
}

// asSubmission lays a Task file of the corpus out as a submission judged
// against the pipelines of pipelines.
func asSubmission(t *testing.T, root, rel, pipelines string) *catalog.Submission {
	repo, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	repo.PipelinesDir = pipelines
	dir := path.Dir(rel)
	return &catalog.Submission{Repo: repo, Layout: "task", Name: path.Base(path.Dir(dir)), Version: path.Base(dir),
		Dir: dir, TaskPath: rel, Files: []string{rel}, Manifest: manifest.Load(root, rel, repo.Limits)}
}

// Every Task version a build pipeline runs fits, with no integration
// error, every pipeline that runs it: the pipelines are the ground truth.
// The list comes from the pipelines' own taskRefs (the hand-made ones
// here; the real ones in the corpus sweep).
func TestEveryTaskThePipelinesRunFitsThem(t *testing.T) {
	root := mini(t, "")
	// prefetch-dependencies* is not in the repository: 13 Task versions
	if n := oracle(t, root, filepath.Join(root, "pipelines")); n != 13 {
		t.Errorf("%d Task versions referenced and present, want 13", n)
	}
}

// oracle judges every Task the pipelines of dir run (found under root)
// against those pipelines, and returns how many there were.
func oracle(t *testing.T, root, dir string) int {
	t.Helper()
	refs := referenced(t, dir, root)
	var files []string
	for f := range refs {
		files = append(files, f)
	}
	sort.Strings(files)
	var subs []*catalog.Submission
	for _, f := range files {
		subs = append(subs, asSubmission(t, root, f, dir))
	}
	res := check.Run(subs, Checks, nil)
	for i, sr := range res.Submissions {
		for _, f := range sr.Findings {
			if f.Severity == check.Error {
				t.Errorf("%s: %s", dir, f)
			}
		}
		if sr.Integration == nil {
			t.Errorf("%s: no integration summary", files[i])
			continue
		}
		fits := map[string]check.Fit{}
		for _, f := range sr.Integration.Fits {
			fits[f.Pipeline] = f
		}
		for _, p := range refs[files[i]] {
			if f := fits[p]; !f.Fits {
				t.Errorf("%s does not fit %s, which runs it: %+v", files[i], p, f)
			}
		}
	}
	t.Logf("%s: %d Task versions referenced and present", dir, len(files))
	return len(files)
}

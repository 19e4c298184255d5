package rules_test

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
	_ "taskgate.dev/taskgate/pkg/rules"
)

// corpusDir is the real corpus, ../shared/corpus beside the project's
// root: the benchmarks and the sweep (-tags corpus) need it.
func corpusDir(tb testing.TB) string { return testrepo.Corpus(tb) }

func mustOpen(tb testing.TB, dir string) *catalog.Repo {
	tb.Helper()
	repo, err := catalog.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return repo
}

// everyYAML wraps every YAML file of a corpus as a one-file submission,
// so Pipelines, kustomizations and tests get the full rule set too.
func everyYAML(tb testing.TB, repo *catalog.Repo) []*catalog.Submission {
	var subs []*catalog.Submission
	err := filepath.WalkDir(repo.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return err
		}
		rel, _ := filepath.Rel(repo.Root, p)
		rel = filepath.ToSlash(rel)
		dir := path.Dir(rel)
		subs = append(subs, &catalog.Submission{
			Repo: repo, Layout: "task", Name: strings.TrimSuffix(path.Base(rel), path.Ext(rel)), Version: path.Base(dir),
			Dir: dir, TaskPath: rel, Files: []string{rel}, Manifest: manifest.Load(repo.Root, rel, repo.Limits),
		})
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return subs
}

// Every rule runs on every submission and every YAML file of
// testdata/build-definitions without crashing, each finding placed and
// actionable.
func TestEveryTestdataFile(t *testing.T) {
	everyFile(t, testrepo.Testdata(t, "build-definitions"), 14, 20)
}

// everyFile runs every rule on the submissions of the repository at root
// and on each of its YAML files alone, and checks each finding; it wants
// at least subs submissions and files YAML files.
func everyFile(t *testing.T, root string, subs, files int) int {
	repo := mustOpen(t, root)
	discovered, err := repo.Discover()
	if err != nil {
		t.Fatal(err)
	}
	yamls := everyYAML(t, repo)
	if len(discovered) < subs || len(yamls) < files {
		t.Fatalf("%s: only %d submissions and %d YAML files", root, len(discovered), len(yamls))
	}
	total := 0
	for _, subs := range [][]*catalog.Submission{discovered, yamls} {
		res := check.Run(subs, check.All(), nil)
		for _, f := range res.Findings() {
			total++
			if f.File == "" || f.Line < 1 || f.Column < 1 || f.Rule == "" || f.Message == "" || f.Help == "" || f.Severity == 0 {
				t.Errorf("finding without a place, rule, message or help: %+v", f)
			}
			if check.Lookup(f.Rule) == nil {
				t.Errorf("finding of an unregistered rule: %+v", f)
			}
			if strings.Contains(f.Message, "crashed") {
				t.Errorf("a check crashed: %+v", f)
			}
			if _, err := os.Stat(filepath.Join(repo.Root, f.File)); err != nil && !strings.Contains(f.Message, "expected") {
				t.Errorf("finding points at a file that does not exist: %+v", f)
			}
		}
	}
	t.Logf("%s: %d findings", root, total)
	return total
}

// A partner Task that does things right has no error.
func TestGoodPartnerHasNoError(t *testing.T) {
	noError(t, testrepo.Testdata(t, "build-definitions"), "partners/hello-summary/0.1")
}

func noError(t *testing.T, root, dir string) {
	t.Helper()
	sub, err := mustOpen(t, root).Submission(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Manifest == nil || sub.Manifest.Task == nil {
		t.Fatalf("%s did not load", dir)
	}
	res := check.Run([]*catalog.Submission{sub}, check.All(), nil)
	for _, f := range res.Findings() {
		if f.Severity == check.Error {
			t.Errorf("error on %s: %s", dir, f)
		}
	}
}

// ruleSets are what the benchmarks measure: the foundation's lint rules
// alone, everything but shellcheck (an external process, measured on its
// own), and every registered rule.
func ruleSets() map[string][]*check.Check {
	var lint, inProcess []*check.Check
	for _, c := range check.All() {
		if c.ID != "script/shellcheck" {
			inProcess = append(inProcess, c)
		}
		if c.ID == check.SkipCheckID || strings.HasPrefix(c.ID, "yaml/") || strings.HasPrefix(c.ID, "input/") ||
			strings.HasPrefix(c.ID, "layout/") || strings.HasPrefix(c.ID, "tekton/") {
			lint = append(lint, c)
		}
	}
	return map[string][]*check.Check{"lint": lint, "in-process": inProcess, "all": check.All()}
}

// BenchmarkCorpus runs discovery and the checks over every submission of
// both corpora (363 Tasks), with the build pipelines of build-definitions.
func BenchmarkCorpus(b *testing.B) {
	corpus := corpusDir(b)
	for _, set := range []string{"lint", "in-process", "all"} {
		checks := ruleSets()[set]
		b.Run(set, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n = 0
				for _, name := range []string{"build-definitions", "tektoncd-catalog"} {
					repo := mustOpen(b, filepath.Join(corpus, name))
					repo.PipelinesDir = filepath.Join(corpus, "build-definitions")
					subs, err := repo.Discover()
					if err != nil {
						b.Fatal(err)
					}
					n += len(subs)
					check.Run(subs, checks, nil)
				}
			}
			b.ReportMetric(float64(n), "submissions")
		})
	}
}

// BenchmarkOneTask measures one submission end to end: open the
// repository, load the Task, run the checks (integration composes it into
// the corpus' build pipelines, loaded once per process as in a CLI run).
func BenchmarkOneTask(b *testing.B) {
	dir := filepath.Join(corpusDir(b), "build-definitions")
	for _, set := range []string{"lint", "in-process", "all"} {
		checks := ruleSets()[set]
		b.Run(set, func(b *testing.B) {
			for b.Loop() {
				repo := mustOpen(b, dir)
				sub, err := repo.Submission("partners/example-hello-world/0.1")
				if err != nil {
					b.Fatal(err)
				}
				check.Run([]*catalog.Submission{sub}, checks, nil)
			}
		})
	}
}

package gate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/cache"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/report"
	"taskgate.dev/taskgate/pkg/rules/revoke"
	"taskgate.dev/taskgate/pkg/rules/script"
)

// counting counts the verdicts a memo serves.
type counting struct {
	check.Memo
	hits int
}

func (c *counting) Get(key string) (*check.Verdict, bool) {
	v, ok := c.Memo.Get(key)
	if ok {
		c.hits++
	}
	return v, ok
}

// greet is a second submission: a script shellcheck warns about, and a
// removal date judged against the clock.
const greet = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: greet
  labels: {app.kubernetes.io/version: "0.1"}
  annotations:
    build.appstudio.redhat.com/expires-on: "2099-01-01T00:00:00Z"
spec:
  params:
    - name: who
  steps:
    - name: greet
      image: registry.access.redhat.com/ubi9/ubi-minimal@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      securityContext: {privileged: true}
      args: ["$(params.who)"]
      script: |
        #!/bin/sh
        echo hello $1
`

// cacheRepo is the example catalog's hello-world and its two build
// pipelines, with greet beside hello-world.
func cacheRepo(t *testing.T) string {
	t.Helper()
	files := map[string]string{
		"partners/greet/OWNERS":         "approvers: [someone]\n",
		"partners/greet/0.1/README.md":  "# greet\n",
		"partners/greet/0.1/greet.yaml": greet,
	}
	src := filepath.Join("..", "..", "examples", "catalog")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(src, p)
		if rel = filepath.ToSlash(rel); strings.HasPrefix(rel, "pipelines/") || strings.HasPrefix(rel, "partners/hello-world/") {
			files[rel] = string(data)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return testrepo.New(t, files)
}

// reportOf is what a partner sees: the JSON and the verbose text report.
func reportOf(t *testing.T, res *check.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := report.JSON(&b, res, report.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteWith(&b, "text", res, report.Options{Verbose: true}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A warm cache gives the report a run without one gives, and changing
// any one input a verdict depends on invalidates what it changes.
func TestCacheServesTheSameReportAndInvalidates(t *testing.T) {
	now := time.Date(2098, 12, 20, 0, 0, 0, 0, time.UTC) // greet expires in 12 days
	defer func(f func() time.Time) { revoke.Now = f }(revoke.Now)
	revoke.Now = func() time.Time { return now }
	root, dir := cacheRepo(t), t.TempDir()
	tool := "build-1"
	run := func(withCache bool) (string, int) {
		t.Helper()
		p, err := Prepare(Options{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		if !withCache {
			return reportOf(t, p.Run()), 0
		}
		c, err := cache.OpenFor(dir, tool)
		if err != nil {
			t.Fatal(err)
		}
		memo := &counting{Memo: c}
		p.Settings.Memo = memo
		return reportOf(t, p.Run()), memo.hits
	}
	check := func(what string, wantHits int) {
		t.Helper()
		want, _ := run(false)
		got, hits := run(true)
		if got != want {
			t.Errorf("%s: the report with the cache differs from the one without:\n%s\nwant\n%s", what, got, want)
		}
		if hits != wantHits {
			t.Errorf("%s: %d verdict(s) served from the cache, want %d", what, hits, wantHits)
		}
		if again, hits := run(true); again != want || hits != 2 {
			t.Errorf("%s: the next run served %d verdict(s) (want 2), same report: %v", what, hits, again == want)
		}
	}
	check("cold", 0)
	first, _ := run(false)
	for _, want := range []string{"script/shellcheck", "privilege/privileged", "expires in 12 day(s)", "fits mini-build as"} {
		if !strings.Contains(first, want) {
			t.Fatalf("the fixture's report lacks %q: the test would prove nothing\n%s", want, first)
		}
	}
	write := func(rel, content string) {
		t.Helper()
		testrepo.Write(t, root, map[string]string{rel: content})
	}
	read := func(rel string) string {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	write("partners/greet/0.1/greet.yaml", strings.Replace(greet, "echo hello $1", `echo "hello $1"`, 1))
	check("a submission's manifest", 1)
	write("partners/greet/0.1/README.md", "")
	check("a submission's README", 1)
	write("partners/greet/0.1/samples/run.yaml", "kind: TaskRun\n")
	check("a new file in a submission", 1)
	write("partners/hello-world/OWNERS", "approvers: []\n")
	check("a task directory's OWNERS", 1)
	write(".taskgate.yaml", "images:\n  allowedRegistries: [quay.io/konflux-ci]\n")
	check("the configuration", 0)
	write("pipelines/mini-build/mini-build.yaml", strings.Replace(read("pipelines/mini-build/mini-build.yaml"), "skip-checks", "skip-the-checks", -1))
	check("a build pipeline", 0)
	write("stepactions/fetch/fetch.yaml", "apiVersion: tekton.dev/v1beta1\nkind: StepAction\nmetadata: {name: fetch}\nspec:\n  image: alpine\n  script: echo\n")
	check("a StepAction", 0)
	tool = "build-2"
	check("the build of taskgate", 0)

	// the machine: which shellcheck runs is part of every key
	defer func(f func() (string, error)) { script.LookShellcheck = f }(script.LookShellcheck)
	script.LookShellcheck = func() (string, error) { return "", errors.New("not installed") }
	check("shellcheck uninstalled", 0)
	// the clock: verdicts still served, the ones on the clock judged afresh
	now = now.AddDate(0, 0, 30)
	check("the day greet expired", 2)
	if last, _ := run(true); !strings.Contains(last, "expired on 2099-01-01") {
		t.Errorf("the expiry is not judged against today:\n%s", last)
	}
}

// Over testdata's build-definitions with its build pipelines: the report
// served from a warm cache is the one computed afresh (a cold cache
// serves nothing; the test above shows it equals a run without one).
func TestCacheOverTestdata(t *testing.T) {
	warmIsCold(t, filepath.Join("..", "..", "testdata", "build-definitions"), 2)
}

func warmIsCold(t *testing.T, root string, atLeast int) {
	dir := t.TempDir()
	run := func() (string, int, int) {
		p, err := Prepare(Options{Root: root, PipelinesDir: root, Cache: dir})
		if err != nil {
			t.Fatal(err)
		}
		memo := &counting{Memo: p.Settings.Memo}
		p.Settings.Memo = memo
		return reportOf(t, p.Run()), memo.hits, len(p.Submissions)
	}
	want, hits, _ := run()
	if hits != 0 {
		t.Fatalf("a cold cache served %d verdicts", hits)
	}
	if !strings.Contains(want, "fits ") {
		t.Fatalf("nothing composed into the build pipelines of %s: the test would prove little", root)
	}
	warm, hits, n := run()
	if warm != want {
		t.Errorf("the report from a warm cache differs from the one computed afresh")
	}
	if hits != n || n < atLeast {
		t.Errorf("%d of %d submissions served from a warm cache", hits, n)
	}
}

package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"taskgate.dev/taskgate/pkg/catalog"
)

const taskDir = "partners/hello/0.1"

// gitRepo copies testdata/repo into a fresh git repository with one
// commit (fixed author and dates: the commit, and so the digest, is the
// same on every run) and returns its root.
func gitRepo(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	err := filepath.WalkDir("testdata/repo", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("testdata/repo", p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	runGit(t, root, "init", "-q")
	runGit(t, root, "remote", "add", "origin", "git@github.com:example/partner-tasks.git")
	commit(t, root, "init")
	return root
}

func runGit(t testing.TB, root string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", root, "-c", "user.name=taskgate", "-c", "user.email=taskgate@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func commit(t testing.TB, root, msg string) string {
	runGit(t, root, "add", "-A")
	runGit(t, root, "commit", "-q", "-m", msg)
	return runGit(t, root, "rev-parse", "HEAD")
}

func build(t testing.TB, root string, o Options) *Bundle {
	t.Helper()
	repo, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(repo, taskDir, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuildIsDeterministicAndTektonShaped(t *testing.T) {
	root := gitRepo(t)
	start := time.Now()
	b1 := build(t, root, Options{})
	t.Logf("bundle build (gate + image): %v, %d bytes, %s", time.Since(start), b1.Size, b1.Digest)
	b2 := build(t, root, Options{})
	if b1.Digest != b2.Digest {
		t.Fatalf("two builds of the same commit differ: %s vs %s", b1.Digest, b2.Digest)
	}

	// the layouts on disk are byte-identical too
	dirs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	for i, b := range []*Bundle{b1, b2} {
		if err := b.WriteLayout(dirs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := tree(t, dirs[0]), tree(t, dirs[1]); a != b {
		t.Fatalf("layouts differ:\n%s\n---\n%s", a, b)
	}
	// and writing over an existing layout replaces it
	if err := b1.WriteLayout(dirs[0]); err != nil {
		t.Fatalf("rewriting a layout: %v", err)
	}

	// read it back from disk as any OCI tool would
	p, err := layout.FromPath(dirs[0])
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != b1.Digest || im.Manifests[0].Annotations[AnnotationRefName] != "0.1" {
		t.Fatalf("index.json: %+v", im.Manifests)
	}
	img, err := p.Image(b1.Digest)
	if err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	head := runGit(t, root, "rev-parse", "HEAD")
	want := map[string]string{
		AnnotationSource:        "https://github.com/example/partner-tasks.git",
		AnnotationRevision:      head,
		AnnotationVersion:       "0.1",
		AnnotationURL:           "https://github.com/example/partner-tasks/tree/" + head + "/partners/hello/0.1",
		AnnotationDocumentation: "https://github.com/example/partner-tasks/blob/" + head + "/partners/hello/0.1/README.md",
		AnnotationDescription:   "Greets the image a build produced and reports SUCCESS as TEST_OUTPUT. Used by taskgate's bundle tests.",
	}
	for k, v := range want {
		if m.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, m.Annotations[k], v)
		}
	}
	if len(m.Layers) != 1 {
		t.Fatalf("want one layer per resource, got %d", len(m.Layers))
	}
	la := m.Layers[0].Annotations
	if la["dev.tekton.image.apiVersion"] != "v1" || la["dev.tekton.image.kind"] != "task" || la["dev.tekton.image.name"] != "hello" {
		t.Errorf("layer annotations: %v", la)
	}
	layers, _ := img.Layers()
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	name, content := untar(t, rc)
	if name != "hello" || !bytes.HasPrefix(content, []byte(`{"apiVersion":"tekton.dev/v1","kind":"Task"`)) {
		t.Errorf("layer holds %q: %.80s", name, content)
	}
}

func TestBuildWithoutGitOrWithOverrides(t *testing.T) {
	// a plain directory: no revision, so no revision/source annotations,
	// and an image created at the epoch (still deterministic)
	root := gitRepo(t)
	if err := os.RemoveAll(filepath.Join(root, ".git")); err != nil {
		t.Fatal(err)
	}
	b := build(t, root, Options{})
	if b.Commit != "" || b.Annotations[AnnotationRevision] != "" || b.Annotations[AnnotationSource] != "" {
		t.Errorf("no git, yet commit %q annotations %v", b.Commit, b.Annotations)
	}
	if b.Annotations[AnnotationVersion] != "0.1" {
		t.Errorf("version annotation: %v", b.Annotations)
	}
	cfg, _ := b.Image.ConfigFile()
	if !cfg.Created.Time.Equal(time.Unix(0, 0)) {
		t.Errorf("created %v, want the epoch", cfg.Created)
	}

	b = build(t, root, Options{Source: "https://git.example.com/team/tasks", Revision: "0123456789abcdef0123456789abcdef01234567", Documentation: "https://docs.example.com/hello"})
	if b.Annotations[AnnotationURL] != "https://git.example.com/team/tasks/tree/0123456789abcdef0123456789abcdef01234567/partners/hello/0.1" ||
		b.Annotations[AnnotationDocumentation] != "https://docs.example.com/hello" {
		t.Errorf("overrides: %v", b.Annotations)
	}
}

func TestGateRefusesBadTask(t *testing.T) {
	root := gitRepo(t)
	if err := os.Remove(filepath.Join(root, "partners/hello/OWNERS")); err != nil {
		t.Fatal(err)
	}
	repo, err := catalog.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(repo, taskDir, Options{})
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("a Task without OWNERS must be refused, got %v", err)
	}
	if !strings.Contains(err.Error(), "error layout/owners") || !strings.Contains(err.Error(), "partners/hello/0.1/hello.yaml:1:1") {
		t.Errorf("the refusal must list the findings with file:line:\n%v", err)
	}

	if _, err := Build(repo, "partners/nope/0.1", Options{}); err == nil || !strings.Contains(err.Error(), "no such submission") {
		t.Errorf("missing submission: %v", err)
	}
}

func TestCleanRemote(t *testing.T) {
	for in, want := range map[string]string{
		"git@github.com:org/repo.git":                     "https://github.com/org/repo.git",
		"https://x-access-token:s3cr3t@github.com/o/r":    "https://github.com/o/r",
		"ssh://git@gitlab.example.com/group/sub/r.git":    "https://gitlab.example.com/group/sub/r.git",
		"https://github.com/konflux-ci/build-definitions": "https://github.com/konflux-ci/build-definitions",
		"": "",
	} {
		if got := cleanRemote(in); got != want {
			t.Errorf("cleanRemote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRepository(t *testing.T) {
	for prefix, want := range map[string]string{
		"quay.io/org/catalog":  "quay.io/org/catalog/task-hello",
		"127.0.0.1:5000":       "127.0.0.1:5000/task-hello",
		"127.0.0.1:5000/team/": "127.0.0.1:5000/team/task-hello",
		"quay.io/org/cat:0.1":  "",
		"quay.io/org/cat@sha256:0000000000000000000000000000000000000000000000000000000000000000": "",
		"Quay.io/UPPER": "",
	} {
		r, err := Repository(prefix, "hello")
		switch {
		case want == "" && err == nil:
			t.Errorf("Repository(%q) = %s, want an error", prefix, r)
		case want != "" && (err != nil || r.String() != want):
			t.Errorf("Repository(%q) = %v, %v; want %s", prefix, r, err, want)
		}
	}
}

func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		b.WriteString(rel + "\n" + string(data) + "\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func untar(t *testing.T, r io.Reader) (string, []byte) {
	t.Helper()
	zr, err := gzip.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	h, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("the layer holds more than one file")
	}
	return h.Name, data
}

// An unrelated commit changes neither the bundle nor its fixed tag: the
// revision is the last commit that touched the submission.
func TestRevisionIsLastCommitTouchingTheTask(t *testing.T) {
	root := gitRepo(t)
	first := runGit(t, root, "rev-parse", "HEAD")
	before := build(t, root, Options{})
	if err := os.WriteFile(filepath.Join(root, "unrelated.md"), []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if head := commit(t, root, "unrelated"); head == first {
		t.Fatal("no new commit")
	}
	after := build(t, root, Options{})
	if after.Commit != first || after.Digest != before.Digest {
		t.Errorf("after an unrelated commit: revision %s (want %s), digest %s (want %s)", after.Commit, first, after.Digest, before.Digest)
	}
	task := filepath.Join(root, taskDir, "hello.yaml")
	data, _ := os.ReadFile(task)
	if err := os.WriteFile(task, append(data, []byte("# touched\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	touched := commit(t, root, "touch the task")
	if got := build(t, root, Options{}); got.Commit != touched {
		t.Errorf("after a commit touching the Task: revision %s, want %s", got.Commit, touched)
	}
}

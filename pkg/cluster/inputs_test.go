package cluster

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/pipeline"
	"taskgate.dev/taskgate/pkg/rules/integration"
)

const imageCheck = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: check
spec:
  params:
    - name: image-url
    - name: image-digest
    - name: LEVEL
      default: low
  workspaces:
    - name: source
    - name: creds
      optional: true
  results:
    - name: TEST_OUTPUT
  steps:
    - name: check
      image: registry.example/check
      script: echo
`

var app = &Image{URL: "registry.example/team/app:v1", Digest: "sha256:" + strings.Repeat("ab", 32)}

func source(t *testing.T, files map[string]string) *Source {
	t.Helper()
	dir := t.TempDir()
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	s, err := ReadSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func params(pt v1.PipelineTask) map[string]string {
	out := map[string]string{}
	for _, p := range pt.Params {
		out[p.Name] = p.Value.StringVal
	}
	return out
}

// valid checks the staged PipelineRun as Tekton would.
func valid(t *testing.T, pr *v1.PipelineRun) {
	t.Helper()
	ctx := context.Background()
	pr = pr.DeepCopy()
	pr.SetDefaults(ctx)
	if errs := pr.Validate(ctx); errs != nil {
		t.Errorf("Tekton rejects the staged PipelineRun: %v", errs)
	}
}

// Without a pipeline that fits, a check gets the image by the names the
// pipelines bind by and the checkout in its non-optional workspace, where
// the pipelines' source workspace goes; credentials stay out.
func TestStageByName(t *testing.T) {
	f := parse(t, "check.yaml", imageCheck)
	src := source(t, map[string]string{"README.md": "app\n", "hack/test.sh": "#!/bin/sh\n", ".git/HEAD": "ref: refs/heads/main\n"})
	st := Stage(f.Task, BuildInputs{Image: app, Source: src}, nil)
	pt := st.Run.Spec.PipelineSpec.Tasks[0]
	if got := params(pt); len(got) != 2 || got["image-url"] != app.URL || got["image-digest"] != app.Digest {
		t.Errorf("params %v: want the image's URL and digest, LEVEL's default", got)
	}
	ws := st.Run.Spec.Workspaces
	if len(ws) != 1 || ws[0].Name != "source" || ws[0].Projected == nil {
		t.Fatalf("workspaces %+v: want source projected from the checkout, creds unbound", ws)
	}
	if len(st.Objects) != 1 || len(ws[0].Projected.Sources) != 1 {
		t.Fatalf("%d ConfigMaps for three small files", len(st.Objects))
	}
	cm := st.Objects[0].(*corev1.ConfigMap)
	files := map[string]string{}
	for _, it := range ws[0].Projected.Sources[0].ConfigMap.Items {
		files[it.Path] = string(cm.BinaryData[it.Key])
		if exec := *it.Mode == 0o755; exec != (it.Path == "hack/test.sh") {
			t.Errorf("%s has mode %o", it.Path, *it.Mode)
		}
	}
	if files["README.md"] != "app\n" || files[".git/HEAD"] != "ref: refs/heads/main\n" || len(files) != 3 {
		t.Errorf("the workspace would hold %v", files)
	}
	if g := strings.Join(st.Given, "; "); !strings.Contains(g, "image "+app.String()+" as image-url, image-digest") || !strings.Contains(g, "(3 files) in workspace source") {
		t.Errorf("given %q", g)
	}
	valid(t, st.Run)

	// no inputs: placeholders and an empty workspace, as before
	st = Stage(f.Task, BuildInputs{}, nil)
	if got := params(st.Run.Spec.PipelineSpec.Tasks[0]); !strings.Contains(got["image-url"], ".invalid") || len(st.Objects) != 0 || len(st.Given) != 0 ||
		st.Run.Spec.Workspaces[0].EmptyDir == nil {
		t.Errorf("without inputs: %v, %d objects, given %v", got, len(st.Objects), st.Given)
	}
}

// A Task's params and workspaces are bound as the build pipeline it fits
// binds them: here a mapping that joins IMAGE_URL and IMAGE_DIGEST, and a
// workspace of another name bound to the pipeline's source workspace.
func TestStageAsThePipelineBinds(t *testing.T) {
	c, err := pipeline.Load("../../examples/catalog/pipelines")
	if err != nil {
		t.Fatal(err)
	}
	f := parse(t, "partners/ref/0.1/ref.yaml", `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: ref
  annotations:
    taskgate.dev/bind: "IMAGE=$(tasks.build-container.results.IMAGE_URL)@$(tasks.build-container.results.IMAGE_DIGEST)"
spec:
  params:
    - name: IMAGE
  workspaces:
    - name: code
  results:
    - name: TEST_OUTPUT
  steps:
    - name: check
      image: registry.example/check
      script: echo
`)
	fits, err := integration.Analyze(c, &catalog.Submission{Dir: "partners/ref/0.1", Name: "ref", Version: "0.1", Manifest: f})
	if err != nil {
		t.Fatal(err)
	}
	var ok []*pipeline.Fit
	for _, fit := range fits {
		if fit.OK() {
			ok = append(ok, fit)
		}
	}
	place := placeOf(ok)
	if place == nil || place.Build.SourceWorkspace == "" {
		t.Fatalf("no fit with a source workspace among %d", len(ok))
	}
	st := Stage(f.Task, BuildInputs{Image: app, Source: source(t, map[string]string{"main.go": "package main\n"})}, place)
	if got := params(st.Run.Spec.PipelineSpec.Tasks[0]); got["IMAGE"] != app.String() {
		t.Errorf("IMAGE = %q, want %s", got["IMAGE"], app)
	}
	if ws := st.Run.Spec.Workspaces; len(ws) != 1 || ws[0].Name != "code" || ws[0].Projected == nil {
		t.Errorf("workspaces %+v: want code holding the checkout", ws)
	}
	valid(t, st.Run)
}

// A checkout too large for ConfigMaps is split; each stays under the 1 MiB
// a ConfigMap holds.
func TestSourceSplits(t *testing.T) {
	big := strings.Repeat("x", 300<<10)
	src := source(t, map[string]string{"a": big, "b": big, "c": big})
	cms, proj := src.configMaps()
	if len(cms) != 2 || len(proj.Sources) != 2 {
		t.Fatalf("%d ConfigMaps, %d projections for 900 KiB", len(cms), len(proj.Sources))
	}
	for _, cm := range cms {
		n := 0
		for _, d := range cm.BinaryData {
			n += len(d)
		}
		if n > 1<<20 {
			t.Errorf("%s holds %d bytes", cm.Name, n)
		}
	}
}

func TestReadSourceRefuses(t *testing.T) {
	worktree := t.TempDir()
	os.WriteFile(filepath.Join(worktree, ".git"), []byte("gitdir: /elsewhere\n"), 0o644)
	huge := t.TempDir()
	if err := os.WriteFile(filepath.Join(huge, "blob"), nil, 0o644); err != nil || os.Truncate(filepath.Join(huge, "blob"), 2<<20) != nil {
		t.Fatal(err)
	}
	dots := t.TempDir()
	os.WriteFile(filepath.Join(dots, "..hidden"), []byte("x"), 0o644)
	links := t.TempDir()
	os.WriteFile(filepath.Join(links, "a"), []byte("x"), 0o644)
	os.Symlink("a", filepath.Join(links, "b"))
	for dir, want := range map[string]string{
		worktree:                          "is a git worktree",
		huge:                              "blob is 2048 KiB",
		dots:                              "a name starting with ..",
		t.TempDir():                       "holds no file",
		filepath.Join(links, "a"):         "not a directory",
		filepath.Join(t.TempDir(), "nil"): "no such file",
	} {
		if _, err := ReadSource(dir); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ReadSource(%s): %v, want %q", dir, err, want)
		}
	}
	s, err := ReadSource(links)
	if err != nil || len(s.Files) != 1 || s.Symlinks != 1 {
		t.Errorf("a symlink is left out: %+v, %v", s, err)
	}
}

// --image by tag asks the registry for the digest; by digest it is taken
// as written, the URL without it.
func TestResolveImage(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	tag, _ := name.NewTag(host + "/team/app:v1")
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	ctx := context.Background()
	for ref, want := range map[string]Image{
		host + "/team/app:v1":               {URL: host + "/team/app:v1", Digest: d.String()},
		host + "/team/app:v1@" + d.String(): {URL: host + "/team/app:v1", Digest: d.String()},
		"quay.io/team/app@" + app.Digest:    {URL: "quay.io/team/app", Digest: app.Digest},
	} {
		got, err := ResolveImage(ctx, ref)
		if err != nil || *got != want {
			t.Errorf("ResolveImage(%s) = %+v, %v; want %+v", ref, got, err, want)
		}
	}
	for _, ref := range []string{host + "/team/app:missing", "Not A Ref"} {
		if _, err := ResolveImage(ctx, ref); err == nil {
			t.Errorf("ResolveImage(%s): no error", ref)
		}
	}
}

// The checkout's ConfigMaps are created in the sandbox before the
// PipelineRun that reads them.
func TestRunCreatesInputsFirst(t *testing.T) {
	c, dyn := fakeCluster(t)
	dyn.PrependReactor("create", "pipelineruns", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("stop here")
	})
	f := parse(t, "check.yaml", imageCheck)
	st := Stage(f.Task, BuildInputs{Source: source(t, map[string]string{"VERSION": "1.0"})}, nil)
	_, err := c.Run(context.Background(), st.Run, RunOptions{Timeout: time.Minute, Objects: st.Objects})
	if err == nil || !strings.Contains(err.Error(), "stop here") {
		t.Fatalf("Run: %v", err)
	}
	var order []string
	for _, a := range dyn.Actions() {
		if a.GetVerb() == "create" && (a.GetResource().Resource == "configmaps" || a.GetResource().Resource == "pipelineruns") {
			order = append(order, a.GetNamespace()+"/"+a.GetResource().Resource)
		}
	}
	if strings.Join(order, ",") != "taskgate-sandbox-x1/configmaps,taskgate-sandbox-x1/pipelineruns" {
		t.Errorf("created %v", order)
	}
	if !deleted(dyn, "taskgate-sandbox-x1") {
		t.Error("the sandbox was not deleted")
	}
}

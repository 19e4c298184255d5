package cluster

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"taskgate.dev/taskgate/pkg/pipeline"
)

// BuildInputs are what a build pipeline hands a Task, for a sandboxed
// run to stand in with: the image the build pushed (IMAGE_URL and
// IMAGE_DIGEST, the results the checks are fed) and the checkout in the
// source workspace. Without them the run gets placeholders (`.invalid`
// hosts) and empty workspaces.
type BuildInputs struct {
	Image  *Image
	Source *Source
}

// Image is a pushed image as the build pipelines pass it on.
type Image struct {
	URL    string // IMAGE_URL: repository and tag, no digest
	Digest string // IMAGE_DIGEST: sha256:...
}

func (i *Image) String() string { return i.URL + "@" + i.Digest }

// ResolveImage reads `--image REF`: REF by digest (repo[:tag]@sha256:...)
// is taken as written; by tag, its digest is asked of the registry (with
// the credentials of the local Docker config, if any).
func ResolveImage(ctx context.Context, ref string) (*Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("%q is not an image reference: %v", ref, err)
	}
	if d, ok := r.(name.Digest); ok {
		return &Image{URL: strings.TrimSuffix(ref, "@"+d.DigestStr()), Digest: d.DigestStr()}, nil
	}
	desc, err := remote.Head(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return nil, fmt.Errorf("the digest of %s: %v (or give it: REF@sha256:...)", ref, err)
	}
	return &Image{URL: ref, Digest: desc.Digest.String()}, nil
}

// Source is a checkout read for the source workspace: every regular file
// under its directory, .git included (the build's git-clone leaves one),
// symlinks left out. It reaches the pod as ConfigMaps projected into one
// read-only volume: a check reads the sources, it does not change them.
type Source struct {
	Dir      string
	Files    []SourceFile // by path
	Size     int64
	Symlinks int // not carried: a ConfigMap holds files only
}

// SourceFile is one file of a Source.
type SourceFile struct {
	Path string // slash-separated, relative
	Data []byte
	Exec bool
}

// The limits of a Source: a ConfigMap holds at most 1 MiB, and a
// checkout past a few MiB is no test project.
const (
	MaxSource     = 8 << 20
	maxSourceFile = 1000 << 10
	sourceChunk   = 700 << 10
)

// ReadSource reads a checkout for the source workspace.
func ReadSource(dir string) (*Source, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	if fi, err := os.Lstat(filepath.Join(dir, ".git")); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("%s is a git worktree: its .git points outside it; use a clone (git clone %s DIR)", dir, dir)
	}
	s := &Source{Dir: dir}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			s.Symlinks++
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file", rel)
		}
		for _, el := range strings.Split(rel, "/") {
			if strings.HasPrefix(el, "..") { // Kubernetes refuses such volume paths
				return fmt.Errorf("%s: a name starting with .. cannot be carried into the pod", rel)
			}
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Size() > maxSourceFile {
			return fmt.Errorf("%s is %d KiB: the sandbox carries files of at most %d KiB", rel, fi.Size()>>10, maxSourceFile>>10)
		}
		if s.Size += fi.Size(); s.Size > MaxSource {
			return fmt.Errorf("over %d MiB: the sandbox carries a test project, not a large repository", MaxSource>>20)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s.Files = append(s.Files, SourceFile{Path: rel, Data: data, Exec: fi.Mode()&0o111 != 0})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if len(s.Files) == 0 {
		return nil, fmt.Errorf("%s holds no file", dir)
	}
	return s, nil
}

// configMaps splits the files into ConfigMaps of at most sourceChunk
// bytes (one file alone may be larger) and the projection that puts each
// file back at its path, with its mode.
func (s *Source) configMaps() ([]*corev1.ConfigMap, *corev1.ProjectedVolumeSource) {
	var cms []*corev1.ConfigMap
	proj := &corev1.ProjectedVolumeSource{}
	var size int
	for i, f := range s.Files {
		if len(cms) == 0 || (size+len(f.Data) > sourceChunk && size > 0) {
			cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("taskgate-source-%d", len(cms))}, BinaryData: map[string][]byte{}}
			cms = append(cms, cm)
			proj.Sources = append(proj.Sources, corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name}}})
			size = 0
		}
		key := fmt.Sprintf("f%d", i)
		cms[len(cms)-1].BinaryData[key] = f.Data
		mode := int32(0o644)
		if f.Exec {
			mode = 0o755
		}
		p := proj.Sources[len(proj.Sources)-1].ConfigMap
		p.Items = append(p.Items, corev1.KeyToPath{Key: key, Path: f.Path, Mode: &mode})
		size += len(f.Data)
	}
	return cms, proj
}

// Staged is a Task's sandboxed run: the PipelineRun, the objects it
// reads (created in the sandbox first), and what it was given, for the
// verdict's message.
type Staged struct {
	Run     *v1.PipelineRun
	Objects []any
	Given   []string
}

var imageResult = regexp.MustCompile(`\$\(tasks\.[a-z0-9-]+\.results\.(IMAGE_URL|IMAGE_DIGEST)\)`)

// Stage is the PipelineRun a sandbox runs for a Task: the Task alone,
// embedded. Its params and workspaces are bound as fit binds them in a
// build pipeline (nil: by name, as the pipelines bind checks): the image
// producer's IMAGE_URL and IMAGE_DIGEST (and the pipeline's output-image)
// become in.Image, the build's source workspace holds in.Source. A
// required param bound to anything else gets the placeholder of
// pkg/pipeline, a non-optional workspace an emptyDir; optional ones
// (where credentials go) get nothing: a Task must succeed without them.
func Stage(t *v1.Task, in BuildInputs, fit *pipeline.Fit) *Staged {
	pt := v1.PipelineTask{Name: t.Name, TaskSpec: &v1.EmbeddedTask{TaskSpec: *t.Spec.DeepCopy()}}
	pr := &v1.PipelineRun{TypeMeta: metav1.TypeMeta{APIVersion: "tekton.dev/v1", Kind: "PipelineRun"},
		ObjectMeta: metav1.ObjectMeta{Name: t.Name, Labels: map[string]string{"app.kubernetes.io/managed-by": "taskgate", "taskgate.dev/task": t.Name}}}
	st := &Staged{Run: pr}
	bound, source := map[string]string{}, map[string]bool{}
	if fit != nil {
		for _, b := range fit.Params {
			bound[b.Name] = b.Value
		}
		for _, b := range fit.Workspaces {
			source[b.Name] = fit.Build.SourceWorkspace != "" && b.Value == fit.Build.SourceWorkspace
		}
	} else {
		for _, p := range t.Spec.Params {
			switch pipeline.Norm(p.Name) {
			case "imageurl":
				bound[p.Name] = "$(tasks.build.results.IMAGE_URL)"
			case "imagedigest":
				bound[p.Name] = "$(tasks.build.results.IMAGE_DIGEST)"
			}
		}
		for _, w := range t.Spec.Workspaces {
			source[w.Name] = !w.Optional // the pipelines' fallback: the source workspace
		}
	}
	var imageParams []string
	for _, p := range t.Spec.Params {
		expr, ok := bound[p.Name]
		val := expr
		if in.Image != nil && ok && paramIsString(p) {
			val = strings.ReplaceAll(val, "$(params.output-image)", in.Image.URL)
			val = imageResult.ReplaceAllStringFunc(val, func(m string) string {
				if strings.HasSuffix(m, "IMAGE_URL)") {
					return in.Image.URL
				}
				return in.Image.Digest
			})
			if val != expr && !strings.Contains(val, "$(") {
				pt.Params = append(pt.Params, v1.Param{Name: p.Name, Value: *v1.NewStructuredValues(val)})
				imageParams = append(imageParams, p.Name)
				continue
			}
		}
		if p.Default == nil {
			pt.Params = append(pt.Params, v1.Param{Name: p.Name, Value: pipeline.Placeholder(p)})
		}
	}
	switch {
	case len(imageParams) > 0:
		st.Given = append(st.Given, fmt.Sprintf("image %s as %s", in.Image, strings.Join(imageParams, ", ")))
	case in.Image != nil:
		st.Given = append(st.Given, fmt.Sprintf("no param takes the image %s", in.Image))
	}
	var proj *corev1.ProjectedVolumeSource
	if in.Source != nil {
		var cms []*corev1.ConfigMap
		cms, proj = in.Source.configMaps()
		for _, cm := range cms {
			st.Objects = append(st.Objects, cm)
		}
	}
	var sourceWS []string
	for _, w := range t.Spec.Workspaces {
		b := v1.WorkspaceBinding{Name: w.Name}
		switch {
		case source[w.Name] && proj != nil:
			b.Projected = proj
			sourceWS = append(sourceWS, w.Name)
		case w.Optional:
			continue
		default:
			b.EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
		pt.Workspaces = append(pt.Workspaces, v1.WorkspacePipelineTaskBinding{Name: w.Name, Workspace: w.Name})
		pr.Spec.Workspaces = append(pr.Spec.Workspaces, b)
	}
	if in.Source != nil {
		what := fmt.Sprintf("the checkout %s (%d files)", in.Source.Dir, len(in.Source.Files))
		if len(sourceWS) == 0 {
			st.Given = append(st.Given, "no workspace takes "+what)
		} else {
			st.Given = append(st.Given, what+" in workspace "+strings.Join(sourceWS, ", "))
		}
	}
	spec := &v1.PipelineSpec{Tasks: []v1.PipelineTask{pt}}
	for _, w := range pr.Spec.Workspaces {
		spec.Workspaces = append(spec.Workspaces, v1.PipelineWorkspaceDeclaration{Name: w.Name})
	}
	pr.Spec.PipelineSpec = spec
	return st
}

func paramIsString(p v1.ParamSpec) bool {
	return p.Type == "" || p.Type == v1.ParamTypeString
}

// placeOf picks the build pipeline whose binding a sandboxed run copies:
// the first that shares sources through a workspace (a checkout can be
// handed over), else the first; nil when none fits.
func placeOf(fits []*pipeline.Fit) *pipeline.Fit {
	sorted := append([]*pipeline.Fit(nil), fits...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return sorted[i].Build.SourceWorkspace != "" && sorted[j].Build.SourceWorkspace == ""
	})
	if len(sorted) == 0 {
		return nil
	}
	return sorted[0]
}

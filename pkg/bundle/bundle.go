// Package bundle publishes a gated Task as a Tekton bundle: an OCI image
// with one layer per resource, laid out exactly as Tekton's bundle
// resolver (github.com/tektoncd/pipeline/pkg/remote/oci) reads it; pushes
// it without ever moving an immutable tag; verifies it by pulling it back
// through Tekton's own resolver; and emits the data policy engines need to
// trust it.
//
// The image is built with go-containerregistry directly rather than with
// tektoncd/cli's pkg/bundle: requiring that module adds ~73 modules to the
// build graph and raises k8s.io/* for the whole repository, for ~60 lines
// of code. The layer is byte-identical to what `tkn bundle push` (v0.46.0)
// writes for the same file; the manifest uses OCI media types so that its
// org.opencontainers.image.* annotations are spec-conformant.
package bundle

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	gcr "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/remote/oci"
	sigyaml "sigs.k8s.io/yaml"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/gate"
)

// OCI annotation keys (image-spec annotations.md).
const (
	AnnotationSource        = "org.opencontainers.image.source"
	AnnotationRevision      = "org.opencontainers.image.revision"
	AnnotationURL           = "org.opencontainers.image.url"
	AnnotationVersion       = "org.opencontainers.image.version"
	AnnotationDescription   = "org.opencontainers.image.description"
	AnnotationDocumentation = "org.opencontainers.image.documentation"
	AnnotationRefName       = "org.opencontainers.image.ref.name"
)

const versionLabel = "app.kubernetes.io/version"

// Options override what the repository says about itself.
type Options struct {
	Source        string // repository URL (default: git remote origin, credentials stripped)
	Revision      string // commit (default: the last commit that touched the submission)
	URL           string // web page of the Task (default: <source>/tree/<revision>/<dir>)
	Documentation string // README URL (default: <source>/blob/<revision>/<readme>)
}

// Bundle is a built, gated Tekton bundle of one Task version.
type Bundle struct {
	Submission  *catalog.Submission
	Task        *v1.Task // the source Task as Tekton decodes it (v1)
	Image       gcr.Image
	Digest      gcr.Hash
	Size        int64 // manifest + config + layer bytes, as stored in a registry
	Annotations map[string]string
	Commit      string // the revision the bundle claims to come from
	// Dirty is set when the submission's files differ from Commit: the
	// bundle would not be what the revision annotation says.
	Dirty bool
}

// RefusedError is the gate's refusal: the submission has error findings.
type RefusedError struct {
	Submission string
	Findings   []check.Finding
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s does not pass the gate (%d error finding(s)); only gated Tasks are bundled:", e.Submission, len(e.Findings))
	for _, f := range e.Findings {
		fmt.Fprintf(&b, "\n  %s", f)
	}
	return b.String()
}

// Build gates the submission at dir (`partners/<task>/<version>`) and
// builds its bundle in memory. The same files and revision always give the
// same digest: the image's created time is the commit's time, not now.
func Build(repo *catalog.Repo, dir string, o Options) (*Bundle, error) {
	s, err := repo.Submission(dir)
	if err != nil {
		return nil, err
	}
	if len(s.Files) == 0 {
		return nil, fmt.Errorf("%s: no such submission in %s", dir, repo.Root)
	}
	if err := refuseFailing(repo, s); err != nil {
		return nil, err
	}
	m := s.Manifest
	if m.Task == nil {
		return nil, fmt.Errorf("%s: only Tasks are bundled, this is a %s %s", m.Path, m.APIVersion, m.Kind)
	}
	// The layer holds the resource as JSON, like `tkn bundle push`: Tekton's
	// resolver decodes either, and JSON has one spelling per value.
	raw, err := sigyaml.YAMLToJSON(m.Data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", m.Path, err)
	}

	g := gitInfo(repo.Root, s.Dir)
	b := &Bundle{Submission: s, Task: m.Task, Commit: first(o.Revision, g.commit), Dirty: g.dirty && o.Revision == ""}
	b.Annotations = annotations(s, m.Task, g, o, b.Commit)
	created := time.Unix(0, 0).UTC()
	if b.Commit == g.commit && !g.time.IsZero() {
		created = g.time
	}
	b.Image, err = image(m.Task.Name, m.APIVersion, m.Kind, raw, b.Annotations, created)
	if err != nil {
		return nil, err
	}
	if b.Digest, err = b.Image.Digest(); err != nil {
		return nil, err
	}
	b.Size, err = size(b.Image)
	return b, err
}

// refuseFailing runs the gate on the submission, honouring the
// repository's .taskgate.yaml, and refuses on any error finding.
func refuseFailing(repo *catalog.Repo, s *catalog.Submission) error {
	plan, err := gate.For(repo, s)
	if err != nil {
		return err
	}
	res := plan.Run()
	var errs []check.Finding
	for _, f := range res.Findings() {
		if f.Severity == check.Error {
			errs = append(errs, f)
		}
	}
	if len(errs) > 0 {
		return &RefusedError{Submission: s.ID(), Findings: errs}
	}
	if s.Manifest == nil {
		return fmt.Errorf("%s: no Task manifest", s.ID())
	}
	return nil
}

// image builds the bundle: OCI media types, the image annotations on the
// manifest, one gzip'd tar layer holding the resource, annotated with the
// three dev.tekton.image.* keys Tekton's resolver requires.
func image(name, apiVersion, kind string, raw []byte, ann map[string]string, created time.Time) (gcr.Image, error) {
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	// no ModTime, owner or mode beyond 0600: nothing that varies between builds
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(raw)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(raw); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	tarBytes := tb.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img = mutate.Annotations(img, ann).(gcr.Image)
	version := apiVersion[strings.LastIndex(apiVersion, "/")+1:]
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, Annotations: map[string]string{
		oci.APIVersionAnnotation: version, // "v1", as tkn writes it
		oci.KindAnnotation:       strings.ToLower(kind),
		oci.TitleAnnotation:      name,
	}})
	if err != nil {
		return nil, err
	}
	return mutate.CreatedAt(img, gcr.Time{Time: created})
}

func size(img gcr.Image) (int64, error) {
	m, err := img.Manifest()
	if err != nil {
		return 0, err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return 0, err
	}
	n := int64(len(raw)) + m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	return n, nil
}

func annotations(s *catalog.Submission, t *v1.Task, g git, o Options, commit string) map[string]string {
	source := first(o.Source, g.source)
	a := map[string]string{
		AnnotationSource:        source,
		AnnotationRevision:      commit,
		AnnotationVersion:       first(t.Labels[versionLabel], s.Version),
		AnnotationDescription:   strings.Join(strings.Fields(t.Spec.Description), " "),
		AnnotationURL:           o.URL,
		AnnotationDocumentation: o.Documentation,
	}
	if web := webURL(source); web != "" && commit != "" {
		if a[AnnotationURL] == "" {
			a[AnnotationURL] = web + "/tree/" + commit + "/" + s.Dir
		}
		if a[AnnotationDocumentation] == "" && s.Readme != "" {
			a[AnnotationDocumentation] = web + "/blob/" + commit + "/" + s.Readme
		}
	}
	for k, v := range a {
		if v == "" {
			delete(a, k)
		}
	}
	return a
}

// WriteLayout writes the bundle as an OCI image layout in dir, tagged with
// the Task's version. An existing layout there is replaced; any other
// non-empty directory is refused.
func (b *Bundle) WriteLayout(dir string) error {
	if des, err := os.ReadDir(dir); err == nil && len(des) > 0 {
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			return fmt.Errorf("%s is not empty and holds no OCI layout: refusing to overwrite it", dir)
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(b.Image, layout.WithAnnotations(map[string]string{AnnotationRefName: b.Submission.Version}))
}

// git is what the repository's git says about the submission.
type git struct {
	source, commit string
	time           time.Time
	dirty          bool
}

func gitInfo(root, dir string) git {
	run := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", root}, args...)...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	var g git
	if run("rev-parse", "--verify", "-q", "HEAD") == "" {
		return g
	}
	// The bundle's revision is the last commit that touched the Task
	// version, as Konflux's fixed tags are (build-definitions
	// hack/build-and-push.sh): an unrelated commit gives the same bundle,
	// the same digest and the same <version>-<commit> tag.
	g.commit = run("log", "-1", "--format=%H", "HEAD", "--", dir)
	if g.commit == "" {
		return g
	}
	g.source = cleanRemote(run("remote", "get-url", "origin"))
	if sec, err := strconv.ParseInt(run("show", "-s", "--format=%ct", g.commit), 10, 64); err == nil {
		g.time = time.Unix(sec, 0).UTC()
	}
	g.dirty = run("status", "--porcelain", "--untracked-files=all", "--", dir) != ""
	return g
}

var scpLike = regexp.MustCompile(`^[A-Za-z0-9._-]+@([A-Za-z0-9.-]+):(.+)$`)

// cleanRemote turns a git remote into a URL fit for an annotation:
// scp-like SSH remotes become https, credentials are dropped.
func cleanRemote(remote string) string {
	if m := scpLike.FindStringSubmatch(remote); m != nil {
		return "https://" + m[1] + "/" + strings.TrimPrefix(m[2], "/")
	}
	if i := strings.Index(remote, "://"); i >= 0 {
		rest := remote[i+3:]
		if at := strings.Index(rest, "@"); at >= 0 && at < strings.IndexAny(rest+"/", "/") {
			rest = rest[at+1:] // user:token@host
		}
		scheme := remote[:i]
		if scheme == "ssh" || scheme == "git" {
			scheme = "https"
		}
		return scheme + "://" + rest
	}
	return remote
}

// webURL is the browsable form of a source URL (https hosts only).
func webURL(source string) string {
	if !strings.HasPrefix(source, "https://") {
		return ""
	}
	return strings.TrimSuffix(strings.TrimSuffix(source, "/"), ".git")
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// errNoCommit explains why an unversioned bundle cannot be pushed.
var errNoCommit = errors.New("the bundle has no revision: commit the submission (a bundle's revision is the last commit that touched it), or pass --revision")

package bundle

import (
	"archive/tar"
	"context"
	"fmt"
	"io"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	"github.com/tektoncd/pipeline/pkg/client/clientset/versioned/scheme"
	"github.com/tektoncd/pipeline/pkg/remote/oci"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Verify pulls a digest-pinned bundle through Tekton's own bundle reader
// (pkg/remote/oci: its compliance checks of the layer annotations and its
// decoding) and checks that it holds exactly the source Task: the same
// name, labels, annotations and spec once decoded as a v1 Task.
//
// Tekton v1.15.0's pkg/remote/oci reads a layer with a single Read, which
// comes back short for Tasks over a gzip block (~30 KB): the decode then
// fails. The cluster's bundles resolver (pkg/resolution/resolver/bundle,
// too heavy to import) reads with io.ReadFull; Verify then does the same
// and says so in note.
func Verify(ctx context.Context, ref string, want *v1.Task, keychain authn.Keychain) (note string, err error) {
	d, err := name.NewDigest(ref)
	if err != nil {
		return "", fmt.Errorf("%q: verify needs a digest-pinned reference (REPOSITORY@sha256:...), the one `taskgate bundle push` prints: %v", ref, err)
	}
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	r := oci.NewResolver(ref, keychain)
	objs, err := r.List(ctx) // also Tekton's compliance checks of the layer annotations
	if err != nil {
		return "", fmt.Errorf("Tekton's resolver cannot read %s: %w", ref, err)
	}
	if len(objs) != 1 || objs[0].Kind != "task" || objs[0].Name != want.Name {
		return "", fmt.Errorf("%s holds %v; want exactly one object, task %q", ref, objs, want.Name)
	}
	obj, _, err := r.Get(ctx, "task", want.Name)
	if err != nil {
		var ferr error
		if obj, ferr = readFull(ctx, d, keychain); ferr != nil {
			return "", fmt.Errorf("Tekton's resolver cannot get task %q from %s: %w (reading the layer in full: %v)", want.Name, ref, err, ferr)
		}
		note = fmt.Sprintf("tektoncd/pipeline pkg/remote/oci could not decode the layer (%v); read in full as the cluster's bundles resolver does", err)
	}
	got := &v1.Task{}
	switch t := obj.(type) {
	case *v1.Task:
		got = t
	case *v1beta1.Task:
		if err := t.ConvertTo(ctx, got); err != nil {
			return note, fmt.Errorf("%s: Tekton cannot convert the v1beta1 Task to v1: %w", ref, err)
		}
	default:
		return note, fmt.Errorf("%s: task %q decodes as %T, not a Tekton Task", ref, want.Name, obj)
	}
	type view struct {
		Name                string
		Labels, Annotations map[string]string
		Spec                v1.TaskSpec
	}
	g := view{got.Name, got.Labels, got.Annotations, got.Spec}
	w := view{want.Name, want.Labels, want.Annotations, want.Spec}
	if !equality.Semantic.DeepEqual(g, w) {
		return note, fmt.Errorf("%s differs from the source Task (-source +bundle):\n%s", ref, cmp.Diff(w, g))
	}
	return note, nil
}

// readFull decodes the bundle's single layer the way
// pkg/resolution/resolver/bundle reads it (io.ReadFull of the tar entry).
func readFull(ctx context.Context, ref name.Digest, keychain authn.Keychain) (runtime.Object, error) {
	img, err := remote.Image(ref, remote.WithAuthFromKeychain(keychain), remote.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		return nil, fmt.Errorf("want one layer: %d, %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	h, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("layer is not a tarball: %v", err)
	}
	if h.Size > manifest.DefaultLimits.MaxFileBytes {
		return nil, fmt.Errorf("the layer's resource is %d bytes, over the %d-byte limit", h.Size, manifest.DefaultLimits.MaxFileBytes)
	}
	data := make([]byte, h.Size)
	if _, err := io.ReadFull(tr, data); err != nil {
		return nil, err
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	return obj, err
}

package localcp

import (
	"archive/tar"
	"io"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// A step image as containerd and Tekton need it: the platform in the
// config (containerd's matcher refuses an image without one), the binary
// at /ko-app/<name> as its entrypoint, a non-root user; the same inputs
// give the same digest, so a run's images are the previous run's.
func TestStepImage(t *testing.T) {
	build := func(data string) string {
		layer, err := tarLayer([]tarEntry{{name: "ko-app/", dir: true}, {name: "ko-app/nop", data: []byte(data), mode: 0o755}})
		if err != nil {
			t.Fatal(err)
		}
		img, err := image(layer, []string{"/ko-app/nop"}, "65532")
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != "linux" || cf.Architecture != "amd64" || cf.Config.User != "65532" || len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/ko-app/nop" {
			t.Errorf("config %+v", cf)
		}
		if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
			t.Errorf("manifest media type %s", mt)
		}
		layers, _ := img.Layers()
		if len(layers) != 1 {
			t.Fatalf("%d layers", len(layers))
		}
		rc, err := layers[0].Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		tr := tar.NewReader(rc)
		var files []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, h.Name)
			if h.Name == "ko-app/nop" && (h.Mode != 0o755 || h.ModTime.Unix() != 0) {
				t.Errorf("%s: mode %o, time %v", h.Name, h.Mode, h.ModTime)
			}
		}
		if len(files) != 2 || files[1] != "ko-app/nop" {
			t.Errorf("layer files %v", files)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	a, b, other := build("binary"), build("binary"), build("another binary")
	if a != b || a == other {
		t.Errorf("digests %s, %s, %s: want the same for the same binary, another for another", a, b, other)
	}
}

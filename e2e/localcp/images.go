package localcp

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrv1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The Debian programs the node and its images are made of.
var (
	RegistryBinary = "/usr/bin/docker-registry" // docker-registry
	BusyboxBinary  = "/bin/busybox"             // busybox-static
)

// startRegistry runs Debian's docker-registry (CNCF distribution) on
// loopback with its storage in Dir: containerd pulls from it, the test
// pushes to it. Nothing leaves the machine.
func (c *Cluster) startRegistry(ctx context.Context) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	c.Registry = fmt.Sprintf("127.0.0.1:%d", ports[0])
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n",
		c.path("registry"), c.Registry)
	if err := os.WriteFile(c.path("registry.yml"), []byte(cfg), 0o600); err != nil {
		return err
	}
	// REGISTRY_* variables would override the file
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			env = append(env, kv)
		}
	}
	if err := c.startEnv("registry", RegistryBinary, env, "serve", c.path("registry.yml")); err != nil {
		return err
	}
	return c.waitHTTP(ctx, "registry", "http://"+c.Registry+"/v2/", 30*time.Second)
}

// pushStepImages pushes Tekton's step images (each binary at
// /ko-app/<name>, as Tekton's pod builder expects), the shell image and
// the pod sandbox ("pause") image, and records their references.
func (c *Cluster) pushStepImages(ctx context.Context, bins map[string]string) error {
	c.Images = map[string]string{}
	for _, n := range []string{"entrypoint", "nop", "workingdirinit", "sidecarlogresults"} {
		data, err := os.ReadFile(bins[n])
		if err != nil {
			return err
		}
		layer, err := tarLayer([]tarEntry{{name: "ko-app/", dir: true}, {name: "ko-app/" + n, data: data, mode: 0o755}})
		if err != nil {
			return err
		}
		img, err := image(layer, []string{"/ko-app/" + n}, "65532")
		if err != nil {
			return err
		}
		if c.Images[n], err = c.Push(ctx, "tekton/"+n, img); err != nil {
			return err
		}
	}
	// the shell image writes the Task's scripts (Tekton's place-scripts);
	// the pause image holds a pod's namespaces until the pod goes (no
	// process namespace is shared, so nothing needs reaping)
	for _, im := range []struct {
		name string
		cmd  []string
	}{
		{"shell", []string{"/bin/sh"}},
		{"pause", []string{"/bin/sleep", "2147483647"}},
	} {
		img, err := BusyboxImage(im.cmd, "65532")
		if err != nil {
			return err
		}
		if c.Images[im.name], err = c.Push(ctx, "e2e/"+im.name, img); err != nil {
			return err
		}
	}
	return nil
}

// BusyboxImage is an image of Debian's static busybox with every applet
// linked into /bin, /sbin, /usr/bin and /usr/sbin, a writable /tmp, the
// given command and user ("" for root, as most images run).
func BusyboxImage(cmd []string, user string) (ggcrv1.Image, error) {
	bb, err := os.ReadFile(BusyboxBinary)
	if err != nil {
		return nil, fmt.Errorf("%w (Debian package busybox-static)", err)
	}
	out, err := exec.Command(BusyboxBinary, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %w", BusyboxBinary, err)
	}
	entries := []tarEntry{{name: "bin/", dir: true}, {name: "sbin/", dir: true}, {name: "usr/", dir: true},
		{name: "usr/bin/", dir: true}, {name: "usr/sbin/", dir: true}, {name: "tmp/", dir: true, mode: 0o1777},
		{name: "etc/", dir: true}, {name: "etc/passwd", data: []byte("root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/sh\n"), mode: 0o644},
		{name: "bin/busybox", data: bb, mode: 0o755}}
	for _, applet := range strings.Fields(string(out)) {
		if applet != "bin/busybox" {
			entries = append(entries, tarEntry{name: applet, link: "/bin/busybox"})
		}
	}
	layer, err := tarLayer(entries)
	if err != nil {
		return nil, err
	}
	return image(layer, cmd, user)
}

// image is a linux/amd64 OCI image of one layer (containerd's platform
// matcher refuses an image whose config names no platform).
func image(layer ggcrv1.Layer, entrypoint []string, user string) (ggcrv1.Image, error) {
	img, err := mutate.AppendLayers(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Config.Entrypoint = entrypoint
	cf.Config.User = user
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	return mutate.ConfigFile(img, cf)
}

type tarEntry struct {
	name, link string
	data       []byte
	mode       int64
	dir        bool
}

// tarLayer is an uncompressed layer: gzip would only cost CPU on
// loopback. Every timestamp is zero, so the same inputs give the same
// digest.
func tarLayer(entries []tarEntry) (ggcrv1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		switch {
		case e.dir:
			h.Typeflag = tar.TypeDir
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		case e.link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, e.link, 0o777
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Clean(e.name), err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return static.NewLayer(buf.Bytes(), types.OCIUncompressedLayer), nil
}

// Push writes an image to the loopback registry as <registry>/<repo> and
// returns its reference by digest (what a Task pins).
func (c *Cluster) Push(ctx context.Context, repo string, img ggcrv1.Image) (string, error) {
	ref, err := name.NewTag(c.Registry+"/"+repo+":e2e", name.Insecure)
	if err != nil {
		return "", err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithTransport(http.DefaultTransport)); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return c.Registry + "/" + repo + "@" + d.String(), nil
}

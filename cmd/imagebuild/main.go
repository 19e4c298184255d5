// Command imagebuild builds taskgate's step images without a container
// engine: the static taskgate binary, a non-root user, CA certificates
// and the host tools a step needs (git; shellcheck in the scan image) with
// the shared libraries ldd lists, as deterministic OCI layouts (the same
// inputs give the same digests: every timestamp is SOURCE_DATE_EPOCH, 0
// by default). It can push them, check them by running them with chroot,
// and pin their digests in the Tasks.
//
//	imagebuild build  [--out DIR] [--push PREFIX] [--tag TAG]
//	imagebuild verify [--out DIR]
//	imagebuild pin    [--out DIR] --registry PREFIX DIR...
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	gcr "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const usage = `usage:
  imagebuild build  [--out DIR] [--push PREFIX] [--tag TAG]   build the step images as OCI layouts DIR/<image> (and push them to PREFIX/<image>:TAG)
  imagebuild verify [--out DIR]                               run each image's smoke commands in its root filesystem with chroot (root only)
  imagebuild pin    [--out DIR] --registry PREFIX DIR...      pin our images in the YAML under DIR... to PREFIX/<image>@<digest of DIR/<image>>`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("imagebuild "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", filepath.Join("bin", "images"), "the OCI layouts, one directory per image")
	push := fs.String("push", "", "build: push each image to `PREFIX`/<image>")
	tag := fs.String("tag", "latest", "build: the tag pushed images get")
	registry := fs.String("registry", "", "pin: the registry `PREFIX` the Tasks pull from, e.g. quay.io/taskgate")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	var err error
	switch args[0] {
	case "build":
		err = build(*out, *push, *tag, stdout)
	case "verify":
		err = verify(*out, stdout)
	case "pin":
		err = pin(*out, *registry, fs.Args(), stdout)
	default:
		fmt.Fprintf(stderr, "imagebuild: unknown command %q\n%s\n", args[0], usage)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "imagebuild %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func goarch() string { return runtime.GOARCH }

// Epoch is SOURCE_DATE_EPOCH (reproducible-builds.org), else 0.
func Epoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

// CompileTaskgate builds the static binary the images hold.
func CompileTaskgate(dir string) (string, error) {
	bin := filepath.Join(dir, "taskgate")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", bin, "taskgate.dev/taskgate/cmd/taskgate")
	// the build's own settings, whatever the caller's environment says
	// (GOFLAGS could add tags, GOAMD64 or GOEXPERIMENT change the code):
	// the same source and Go toolchain give the same binary
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch(), "GOAMD64=v1", "GOFLAGS=-mod=readonly", "GOEXPERIMENT=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

func build(out, push, tag string, log io.Writer) error {
	epoch, err := Epoch()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "imagebuild-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := CompileTaskgate(tmp)
	if err != nil {
		return err
	}
	st, err := os.Stat(bin)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "taskgate binary: %.1f MB (static, stripped)\n", mb(st.Size()))
	for _, spec := range Images {
		img, err := Build(spec, bin, epoch)
		if err != nil {
			return fmt.Errorf("%s: %v", spec.Name, err)
		}
		dir := filepath.Join(out, spec.Name)
		if err := WriteLayout(dir, img); err != nil {
			return fmt.Errorf("%s: %v", spec.Name, err)
		}
		digest, _ := img.Digest()
		compressed, uncompressed, err := Sizes(img)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "%-14s %s  %.1f MB compressed, %.1f MB on disk  %s\n", spec.Name, digest, mb(compressed), mb(uncompressed), dir)
		if push != "" {
			ref, err := Push(context.Background(), img, push, spec.Name, tag)
			if err != nil {
				return err
			}
			fmt.Fprintf(log, "%-14s pushed %s\n", "", ref)
		}
	}
	return nil
}

func mb(n int64) float64 { return float64(n) / 1e6 }

// WriteLayout writes an image as the only one of a fresh OCI layout.
func WriteLayout(dir string, img gcr.Image) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img)
}

// ReadLayout reads the image WriteLayout wrote.
func ReadLayout(dir string) (gcr.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %v (run `make images` first)", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) != 1 {
		return nil, fmt.Errorf("%s: %d images in the layout, want 1", dir, len(m.Manifests))
	}
	return idx.Image(m.Manifests[0].Digest)
}

// Sizes are the bytes a pull transfers (compressed layers, config,
// manifest) and the bytes the layers unpack to.
func Sizes(img gcr.Image) (compressed, uncompressed int64, err error) {
	layers, err := img.Layers()
	if err != nil {
		return 0, 0, err
	}
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return 0, 0, err
		}
		compressed += n
		rc, err := l.Uncompressed()
		if err != nil {
			return 0, 0, err
		}
		u, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return 0, 0, err
		}
		uncompressed += u
	}
	raw, err := img.RawConfigFile()
	if err != nil {
		return 0, 0, err
	}
	m, err := img.RawManifest()
	return compressed + int64(len(raw)+len(m)), uncompressed, err
}

// Push writes an image to prefix/<name>:tag with the Docker config's
// credentials and returns its digest reference.
func Push(ctx context.Context, img gcr.Image, prefix, imageName, tag string) (string, error) {
	ref, err := name.NewTag(strings.TrimSuffix(prefix, "/") + "/" + imageName + ":" + tag)
	if err != nil {
		return "", fmt.Errorf("push prefix %q: %v", prefix, err)
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return "", fmt.Errorf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return ref.Context().Digest(d.String()).String(), nil
}

func verify(out string, log io.Writer) error {
	if os.Geteuid() != 0 {
		fmt.Fprintln(log, "imagebuild verify: skipped: running the images with chroot needs root")
		return nil
	}
	for _, spec := range Images {
		img, err := ReadLayout(filepath.Join(out, spec.Name))
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "%s:\n", spec.Name)
		if err := Verify(img, spec, log); err != nil {
			return err
		}
	}
	return nil
}

func pin(out, registry string, dirs []string, log io.Writer) error {
	if len(dirs) == 0 {
		return fmt.Errorf("name the directories to pin in, e.g. tasks")
	}
	digests := map[string]string{}
	for _, spec := range Images {
		img, err := ReadLayout(filepath.Join(out, spec.Name))
		if err != nil {
			return err
		}
		d, err := img.Digest()
		if err != nil {
			return err
		}
		digests[spec.Name] = d.String()
	}
	changed, err := Pin(digests, registry, dirs...)
	for _, f := range changed {
		fmt.Fprintf(log, "pinned %s\n", f)
	}
	if err == nil && len(changed) == 0 {
		fmt.Fprintln(log, "every image already pinned to the built digests")
	}
	return err
}

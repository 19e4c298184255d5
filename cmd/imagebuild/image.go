package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	gcr "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image is one step image. Every image holds the same static taskgate
// binary (it has every subcommand) on a base of /etc files, a non-root
// user and CA certificates; Tools are host binaries copied in with the
// shared libraries ldd lists. images/<Name>/Containerfile builds the same
// image where a container engine exists.
type Image struct {
	Name        string
	Description string
	Tools       []string // absolute host paths, e.g. /usr/bin/git
	Smoke       []Smoke  // what `imagebuild verify` runs in the image, as its user
}

// Smoke is a command that must succeed in the image's root filesystem and
// print Want. /tmp/smoke holds a git repository with one submission whose
// script shellcheck warns about (SC2086).
type Smoke struct {
	Args []string
	Want string
}

// Images are the step images. git: validate/discover --changed-from and
// bundle's commit metadata run git. shellcheck: script/shellcheck, which
// `validate` and `bundle` (it gates before building) run, only in the scan
// image: the steps that hold a GitHub token or cluster credentials
// (report, dry-run) run without a 19 MB Haskell binary they never use.
// Layers are per part, so the two images share all but the shellcheck one.
var Images = []Image{
	{
		Name:        "taskgate",
		Description: "taskgate, the admission gate for partner Tekton Tasks: discover, integrate, dry-run, report",
		Tools:       []string{"/usr/bin/git"},
		Smoke: []Smoke{
			{[]string{"git", "--version"}, "git version"},
			// git works as the non-root user on a repository root owns
			{[]string{"taskgate", "discover", "/tmp/smoke", "--changed-from", "HEAD~1"}, "partners/smoke/0.1"},
			{[]string{"taskgate", "validate", "-v", "/tmp/smoke"}, "shellcheck is not installed"},
		},
	},
	{
		Name:        "taskgate-scan",
		Description: "taskgate with shellcheck: validate (lint, scan, privileges) and bundle",
		Tools:       []string{"/usr/bin/git", "/usr/bin/shellcheck"},
		Smoke: []Smoke{
			{[]string{"shellcheck", "--version"}, "version: "},
			{[]string{"taskgate", "discover", "/tmp/smoke", "--changed-from", "HEAD~1"}, "partners/smoke/0.1"},
			// the gate runs shellcheck, on a script that is not ASCII
			{[]string{"taskgate", "validate", "-v", "/tmp/smoke"}, "SC2086"},
		},
	},
}

// The image's user and layout.
const (
	UID        = 65532
	Home       = "/home/nonroot"
	BinaryPath = "/usr/local/bin/taskgate"
	caCerts    = "/etc/ssl/certs/ca-certificates.crt"
	// mozillaCerts are the certificates of Debian's ca-certificates
	// package. The host's ca-certificates.crt is not what goes in: it also
	// holds what the machine added (/usr/local/share/ca-certificates, e.g.
	// a CI sandbox's egress proxy CA, made anew at each boot), which would
	// make every machine build different images, each trusting its own CA.
	mozillaCerts = "/usr/share/ca-certificates/mozilla"
)

// caBundle concatenates the package's certificates in name order, as
// update-ca-certificates would with no local additions.
func caBundle() ([]byte, error) {
	paths, err := filepath.Glob(filepath.Join(mozillaCerts, "*.crt"))
	if err == nil && len(paths) == 0 {
		err = fmt.Errorf("no certificates in %s", mozillaCerts)
	}
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %v (apt-get install ca-certificates)", err)
	}
	sort.Strings(paths)
	var out bytes.Buffer
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("CA certificates: %v", err)
		}
		out.Write(bytes.TrimRight(data, "\n"))
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// file is one entry of a layer.
type file struct {
	path string // absolute, in the image
	mode int64  // permission bits (and setuid/sticky), type by dir/data
	dir  bool
	uid  int
	data []byte
}

// baseFiles are the /etc files and directories every image has: a
// non-root user (uid 65532, as distroless' nonroot), the CA certificates
// of Debian's ca-certificates for registries and the GitHub API, and a git configuration that trusts any
// repository owner: the workspace is cloned by another user.
func baseFiles() ([]file, error) {
	certs, err := caBundle()
	if err != nil {
		return nil, err
	}
	return []file{
		{path: "/etc/passwd", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", UID, UID, Home))},
		{path: "/etc/group", mode: 0o644, data: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", UID))},
		{path: "/etc/gitconfig", mode: 0o644, data: []byte("[safe]\n\tdirectory = *\n")},
		{path: caCerts, mode: 0o644, data: certs},
		{path: "/tmp", mode: 0o1777, dir: true},
		{path: Home, mode: 0o755, dir: true, uid: UID},
	}, nil
}

var lddPath = regexp.MustCompile(`(?m)(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)$`)

// toolFiles is a host binary and the shared libraries (and loader) it
// loads, each at the path ldd names; files already in have are left out.
func toolFiles(bin string, have map[string]bool) ([]file, error) {
	out, err := exec.Command("ldd", bin).CombinedOutput()
	paths := []string{bin}
	switch {
	case err == nil:
		for _, m := range lddPath.FindAllStringSubmatch(string(out), -1) {
			paths = append(paths, m[1])
		}
	case !strings.Contains(string(out), "not a dynamic executable"):
		return nil, fmt.Errorf("ldd %s: %v: %s", bin, err, out)
	}
	var files []file
	for _, p := range paths {
		if have[p] {
			continue
		}
		have[p] = true
		data, err := os.ReadFile(p) // follows symlinks: the library itself
		if err != nil {
			return nil, fmt.Errorf("%s: %v", bin, err)
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		files = append(files, file{path: p, mode: int64(st.Mode().Perm()), data: data})
	}
	return files, nil
}

// layerTar writes files as a tar, parents first, sorted, owned by root
// unless said otherwise, every time the epoch: the same files give the
// same bytes.
func layerTar(files []file, epoch time.Time) []byte {
	entries := map[string]file{}
	for _, f := range files {
		for d := path.Dir(f.path); d != "/"; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = file{path: d, mode: 0o755, dir: true}
			}
		}
		entries[f.path] = f
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		f := entries[n]
		h := &tar.Header{Name: strings.TrimPrefix(n, "/"), Mode: f.mode, Uid: f.uid, Gid: f.uid, ModTime: epoch, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err) // writing to memory with valid headers cannot fail
		}
		tw.Write(f.data)
	}
	tw.Close()
	return buf.Bytes()
}

// part is one layer and what made it.
type part struct {
	name  string
	files []file
}

// Build assembles an image from the taskgate binary at bin, with OCI
// media types and every timestamp at epoch.
func Build(img Image, bin string, epoch time.Time) (gcr.Image, error) {
	base, err := baseFiles()
	if err != nil {
		return nil, err
	}
	parts := []part{{fmt.Sprintf("base: /etc/passwd, /etc/group (nonroot 65532), /etc/gitconfig, CA certificates (host: %s)", hostVersion(mozillaCerts)), base}}
	have := map[string]bool{}
	for _, t := range img.Tools {
		fs, err := toolFiles(t, have)
		if err != nil {
			return nil, err
		}
		parts = append(parts, part{fmt.Sprintf("%s and its shared libraries (host: %s)", t, hostVersion(t)), fs})
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	parts = append(parts, part{"taskgate: static, CGO_ENABLED=0 -trimpath -ldflags=-s -w", []file{{path: BinaryPath, mode: 0o755, data: data}}})

	created := gcr.Time{Time: epoch}
	out := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	out = mutate.ConfigMediaType(out, types.OCIConfigJSON)
	for _, p := range parts {
		raw := layerTar(p.files, epoch)
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
			tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
		if err != nil {
			return nil, err
		}
		if out, err = mutate.Append(out, mutate.Addendum{Layer: layer, History: gcr.History{Created: created, CreatedBy: "imagebuild: " + p.name}}); err != nil {
			return nil, err
		}
	}
	cf, err := out.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = created
	cf.OS, cf.Architecture = "linux", goarch()
	cf.Config = gcr.Config{
		User:       fmt.Sprintf("%d:%d", UID, UID),
		Entrypoint: []string{BinaryPath},
		WorkingDir: Home,
		Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + Home, "LANG=C.UTF-8"},
		Labels: map[string]string{
			"org.opencontainers.image.title":       img.Name,
			"org.opencontainers.image.description": img.Description,
			"org.opencontainers.image.source":      "https://github.com/taskgate/taskgate",
		},
	}
	return mutate.ConfigFile(out, cf)
}

// hostVersion names the Debian package a tool came from, for the layer's
// history (what a reader of the image wants to know).
func hostVersion(bin string) string {
	real, err := filepath.EvalSymlinks(bin)
	if err != nil {
		real = bin
	}
	out, err := exec.Command("dpkg-query", "-S", real).Output()
	if err != nil {
		return "unknown package"
	}
	pkg, _, _ := strings.Cut(strings.TrimSpace(string(out)), ":")
	v, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil {
		return pkg
	}
	return pkg + " " + string(v)
}

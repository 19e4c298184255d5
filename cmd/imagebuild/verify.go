package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	gcr "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// Verify runs an image's smoke commands in its flattened root filesystem
// with chroot, as the image's user and environment: the proof that the
// binaries and the libraries copied from the host run there, without a
// container engine. It needs root (chroot(2)).
func Verify(img gcr.Image, spec Image, log io.Writer) error {
	root, err := os.MkdirTemp("", "imagebuild-rootfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	if err := os.Chmod(root, 0o755); err != nil { // it is the image's /: MkdirTemp made it 0700
		return err
	}
	if err := extract(img, root); err != nil {
		return err
	}
	// a container runtime provides /dev; git needs /dev/null
	if err := os.MkdirAll(filepath.Join(root, "dev"), 0o755); err != nil {
		return err
	}
	if err := syscall.Mknod(filepath.Join(root, "dev", "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		return fmt.Errorf("/dev/null: %v", err)
	}
	if err := os.Chmod(filepath.Join(root, "dev", "null"), 0o666); err != nil { // mknod honours the umask
		return err
	}
	// and /proc: the gate starts shellcheck under limits through /proc/self/exe
	proc := filepath.Join(root, "proc")
	if err := os.MkdirAll(proc, 0o555); err != nil {
		return err
	}
	if err := syscall.Mount("proc", proc, "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mounting /proc: %v", err)
	}
	defer syscall.Unmount(proc, syscall.MNT_DETACH)
	if err := smokeRepo(filepath.Join(root, "tmp", "smoke")); err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	for _, s := range spec.Smoke {
		args := append([]string{"--userspec=" + cf.Config.User, root}, s.Args...)
		cmd := exec.Command("chroot", args...)
		cmd.Env = cf.Config.Env
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), s.Want) {
			return fmt.Errorf("%s: `%s` in the image: %v, want output containing %q:\n%s", spec.Name, strings.Join(s.Args, " "), err, s.Want, out)
		}
		fmt.Fprintf(log, "  %s: ok: %s\n", strings.Join(s.Args, " "), lineWith(string(out), s.Want))
	}
	return nil
}

// lineWith is the line of out that shows what was wanted.
func lineWith(out, want string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, want) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// extract writes the image's flattened filesystem under root. Only what
// Build makes is expected: directories and regular files.
func extract(img gcr.Image, root string) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(root, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, root+string(filepath.Separator)) {
			return fmt.Errorf("%s: leaves the root filesystem", h.Name)
		}
		mode := os.FileMode(h.Mode).Perm()
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unexpected entry type %c", h.Name, h.Typeflag)
		}
		// chmod after chown: chown clears setuid bits, and the sticky /tmp must stay sticky
		if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
			return err
		}
		if h.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
	}
}

// smokeTask is a Task that passes the gate except for one shellcheck
// finding (SC2086, $IMAGE_URL unquoted), with a script that is not ASCII.
const smokeTask = `apiVersion: tekton.dev/v1
kind: Task
metadata:
  name: smoke
  labels:
    app.kubernetes.io/version: "0.1"
  annotations:
    tekton.dev/pipelines.minVersion: "0.50.0"
    tekton.dev/tags: "image-check"
    tekton.dev/displayName: "Smoke test"
spec:
  description: A check that only prints the image it is given.
  params:
    - name: image-url
      type: string
      description: The image the build pipeline produced.
  results:
    - name: TEST_OUTPUT
      description: The verdict.
  steps:
    - name: check
      image: registry.access.redhat.com/ubi9/ubi-minimal:9.1.0-1829@sha256:95413c8dacaac773421428947a431c1cb099d19b4b1125df77d5d1cd2f463ab8
      securityContext:
        runAsNonRoot: true
        allowPrivilegeEscalation: false
        capabilities:
          drop: ["ALL"]
      env:
        - name: IMAGE_URL
          value: $(params.image-url)
      script: |
        #!/bin/sh
        # vérifie l'image ✓
        echo checking $IMAGE_URL
        printf '{"result":"SUCCESS","timestamp":"%s","successes":1,"failures":0,"warnings":0}' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$(results.TEST_OUTPUT.path)"
`

// smokeRepo makes a git repository, owned by root like a workspace cloned
// by another user, whose last commit adds the smoke submission.
func smokeRepo(dir string) error {
	files := map[string]string{
		"README.md":                     "# smoke\n",
		"partners/smoke/OWNERS":         "approvers: [someone]\n",
		"partners/smoke/0.1/README.md":  "# smoke\n",
		"partners/smoke/0.1/smoke.yaml": smokeTask,
	}
	git := func(args ...string) error {
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=imagebuild", "-c", "user.email=imagebuild@invalid", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(files["README.md"]), 0o644); err != nil {
		return err
	}
	for _, step := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "base"}} {
		if err := git(step...); err != nil {
			return err
		}
	}
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := git("add", "."); err != nil {
		return err
	}
	return git("commit", "-q", "-m", "add partners/smoke/0.1")
}

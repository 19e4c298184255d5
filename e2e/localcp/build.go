// Package localcp runs a Kubernetes cluster with Tekton on this machine
// without Docker, for end-to-end tests: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler on 127.0.0.1; one real node
// (a kubelet on Debian's containerd, runc and CNI plugins) and, tainted
// beside it for API-only tests, a kwok node; the Tekton Pipelines
// controller, whose step images are pushed to a registry on loopback.
// Every Go binary is built from the Go module proxy (the modules under
// e2e/tools pin the versions) and cached.
package localcp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// The versions e2e/tools/*/go.mod pin.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.7.3"
	KwokVersion       = "v0.8.0"
	TektonVersion     = "v1.15.0"
)

// binary is one command built from a module under e2e/tools. A static
// one goes into an image (Tekton's step images run in any base image,
// busybox's included, so they cannot need a libc).
type binary struct {
	name, module, pkg, version, ldflags string
	static                              bool
}

var kubeLDFlags = fmt.Sprintf("-X k8s.io/component-base/version.gitVersion=%s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=%s",
	KubernetesVersion, strings.Split(KubernetesVersion, ".")[1])

var binaries = []binary{
	{"etcd", "etcd", "go.etcd.io/etcd/server/v3", EtcdVersion, "", false},
	{"kube-apiserver", "kube", "k8s.io/kubernetes/cmd/kube-apiserver", KubernetesVersion, kubeLDFlags, false},
	{"kube-controller-manager", "kube", "k8s.io/kubernetes/cmd/kube-controller-manager", KubernetesVersion, kubeLDFlags, false},
	{"kube-scheduler", "kube", "k8s.io/kubernetes/cmd/kube-scheduler", KubernetesVersion, kubeLDFlags, false},
	{"kubelet", "kube", "k8s.io/kubernetes/cmd/kubelet", KubernetesVersion, kubeLDFlags, false},
	{"kwok", "kwok", "sigs.k8s.io/kwok/cmd/kwok", KwokVersion, "", false},
	{"tekton-controller", "tekton", "github.com/tektoncd/pipeline/cmd/controller", TektonVersion, "", false},
	// Tekton's resolvers process with the bundles resolver only (our own
	// main: cmd/resolvers needs modules the tools module does not carry)
	{"tekton-bundle-resolver", "tekton", "taskgate.dev/taskgate/e2e/tools/tekton/cmd/bundle-resolver", TektonVersion, "", false},
	// the step images' binaries (see images.go)
	{"entrypoint", "tekton", "github.com/tektoncd/pipeline/cmd/entrypoint", TektonVersion, "", true},
	{"nop", "tekton", "github.com/tektoncd/pipeline/cmd/nop", TektonVersion, "", true},
	{"workingdirinit", "tekton", "github.com/tektoncd/pipeline/cmd/workingdirinit", TektonVersion, "", true},
	{"sidecarlogresults", "tekton", "github.com/tektoncd/pipeline/cmd/sidecarlogresults", TektonVersion, "", true},
}

// CacheDir is where built binaries are kept between runs:
// $TASKGATE_E2E_CACHE, else $XDG_CACHE_HOME/taskgate-e2e (~/.cache/...).
func CacheDir() (string, error) {
	if d := os.Getenv("TASKGATE_E2E_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "taskgate-e2e"), nil
}

// Binaries returns the path of every binary, building the missing ones
// (minutes the first time: kube-apiserver alone is a large build). A
// binary is keyed by its module's go.mod and go.sum, its flags and the Go
// version, so changing a pin rebuilds it and nothing else does.
func Binaries(ctx context.Context, toolsDir string, log io.Writer) (map[string]string, error) {
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, b := range binaries {
		dir := filepath.Join(toolsDir, b.module)
		key, err := cacheKey(dir, b)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(cache, fmt.Sprintf("%s-%s-%s", b.name, b.version, key), b.name)
		if _, err := os.Stat(path); err != nil {
			if err := build(ctx, dir, b, path, log); err != nil {
				return nil, err
			}
		}
		out[b.name] = path
	}
	return out, nil
}

func cacheKey(moduleDir string, b binary) (string, error) {
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(moduleDir, f))
		if err != nil {
			return "", err
		}
		h.Write(data)
	}
	// a command of the tools module itself: its source is an input too
	if local, ok := strings.CutPrefix(b.pkg, "taskgate.dev/taskgate/e2e/tools/"+b.module+"/"); ok {
		srcs, _ := filepath.Glob(filepath.Join(moduleDir, filepath.FromSlash(local), "*.go"))
		for _, f := range srcs {
			data, err := os.ReadFile(f)
			if err != nil {
				return "", err
			}
			h.Write(data)
		}
	}
	fmt.Fprintln(h, b.pkg, b.ldflags, runtime.GOOS, runtime.GOARCH, runtime.Version())
	if b.static {
		fmt.Fprintln(h, "CGO_ENABLED=0")
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// build writes the binary next to its final path and renames it there,
// so an interrupted build leaves nothing that looks finished.
func build(ctx context.Context, moduleDir string, b binary, path string, log io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.tmp%d", path, os.Getpid())
	start := time.Now()
	fmt.Fprintf(log, "localcp: building %s %s (cached in %s)\n", b.name, b.version, filepath.Dir(path))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", strings.TrimSpace("-s -w "+b.ldflags), "-o", tmp, b.pkg)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly -buildvcs=false", "GOWORK=off")
	if b.static {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("building %s in %s: %v\n%s", b.name, moduleDir, err, out)
	}
	fmt.Fprintf(log, "localcp: built %s in %s\n", b.name, time.Since(start).Round(time.Second))
	return os.Rename(tmp, path)
}

// ModuleDir is where a module of a tools module lives in the module
// cache (downloading it if needed): Tekton's config/ is read from there.
func ModuleDir(ctx context.Context, toolsModule, module, version string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = toolsModule
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	var m struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &m); jerr != nil || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s: %v %s", module, version, err, m.Error)
	}
	return m.Dir, nil
}

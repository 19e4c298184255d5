// Package registrytest starts a real OCI registry for tests: Debian's
// docker-registry (CNCF distribution) on 127.0.0.1, with its own storage
// under t.TempDir(), stopped when the test ends.
package registrytest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Binary is the registry program (Debian package docker-registry).
var Binary = "/usr/bin/docker-registry"

// RequireEnv, when set, turns a missing registry binary into a failure
// instead of a skip (CI installs the package and sets it).
const RequireEnv = "TASKGATE_REQUIRE_REGISTRY"

// Registry is a running registry.
type Registry struct {
	Host     string // 127.0.0.1:PORT, usable in image references
	Storage  string // its filesystem storage directory
	User     string // set when started WithAuth
	Password string
}

// Option configures Start.
type Option func(*config)

type config struct{ user, password string }

// WithAuth makes the registry require HTTP basic auth (htpasswd, bcrypt).
func WithAuth(user, password string) Option {
	return func(c *config) { c.user, c.password = user, password }
}

// Start runs a registry for the duration of the test. It skips the test
// when the binary is missing, unless RequireEnv is set.
func Start(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("%s is required (%s is set): %v; install it with `apt-get install -y docker-registry`", Binary, RequireEnv, err)
		}
		t.Skipf("%s not installed (apt-get install -y docker-registry); set %s to make this a failure", Binary, RequireEnv)
	}
	dir := t.TempDir()
	r := &Registry{Storage: filepath.Join(dir, "storage"), User: c.user, Password: c.password}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	r.Host = fmt.Sprintf("127.0.0.1:%d", port)

	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, r.Storage, r.Host)
	if c.user != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(c.password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(c.user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: taskgate-test\n    path: %s\n", htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	cmd := exec.Command(Binary, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// REGISTRY_* variables override the config file: keep the host's out.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", Binary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	deadline := time.Now().Add(10 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("%s exited before it was ready (%v):\n%s", Binary, err, logs.String())
		default:
		}
		// 200 without auth, 401 with: either way the registry answers.
		if resp, err := client.Get("http://" + r.Host + "/v2/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer on %s within 10s:\n%s", Binary, r.Host, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Repositories lists the registry's repositories straight from its
// storage directory, so that no credentials or API quirks stand between a
// test and the truth of what was pushed.
func (r *Registry) Repositories(t testing.TB) []string {
	t.Helper()
	root := filepath.Join(r.Storage, "docker", "registry", "v2", "repositories")
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return filepath.SkipAll
		}
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "_manifests" {
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			out = append(out, filepath.ToSlash(rel))
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Manifests lists every manifest digest stored in a repository (tagged or
// not): a push that stopped half way leaves one here.
func (r *Registry) Manifests(t testing.TB, repo string) []string {
	t.Helper()
	return r.list(t, filepath.Join(r.repoDir(repo), "_manifests", "revisions", "sha256"), "sha256:")
}

// Tags lists a repository's tags from storage.
func (r *Registry) Tags(t testing.TB, repo string) []string {
	t.Helper()
	return r.list(t, filepath.Join(r.repoDir(repo), "_manifests", "tags"), "")
}

func (r *Registry) repoDir(repo string) string {
	return filepath.Join(r.Storage, "docker", "registry", "v2", "repositories", filepath.FromSlash(repo))
}

func (r *Registry) list(t testing.TB, dir, prefix string) []string {
	des, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		out = append(out, prefix+de.Name())
	}
	return out
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

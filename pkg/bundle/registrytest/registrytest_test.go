package registrytest

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// recorder stands in for the test to see whether Start skips or fails.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(f string, a ...any) {
	r.skipped = fmt.Sprintf(f, a...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.failed = fmt.Sprintf(f, a...)
	runtime.Goexit()
}

func startWith(t *testing.T) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Start(r)
	}()
	<-done
	return r
}

func TestMissingBinarySkipsUnlessRequired(t *testing.T) {
	defer func(b string) { Binary = b }(Binary)
	Binary = "/nonexistent/docker-registry"

	t.Setenv(RequireEnv, "")
	if r := startWith(t); r.skipped == "" || r.failed != "" {
		t.Errorf("without %s a missing registry must skip: %+v", RequireEnv, r)
	}
	t.Setenv(RequireEnv, "1")
	if r := startWith(t); r.failed == "" || !strings.Contains(r.failed, "apt-get install -y docker-registry") {
		t.Errorf("with %s a missing registry must fail: %+v", RequireEnv, r)
	}
}

func TestStartServesTheAPI(t *testing.T) {
	for _, opts := range [][]Option{nil, {WithAuth("u", "p")}} {
		reg := Start(t, opts...)
		resp, err := http.Get("http://" + reg.Host + "/v2/_catalog")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusOK
		if opts != nil {
			want = http.StatusUnauthorized
		}
		if resp.StatusCode != want {
			t.Errorf("catalog with %d option(s): HTTP %d, want %d", len(opts), resp.StatusCode, want)
		}
		if repos := reg.Repositories(t); len(repos) != 0 {
			t.Errorf("a fresh registry holds %v", repos)
		}
	}
}

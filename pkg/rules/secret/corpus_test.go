//go:build corpus

package secret

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/check"
)

func TestAsParamCorpus(t *testing.T) {
	// konflux buildah: ACTIVATION_KEY, ENTITLEMENT_SECRET, ADDITIONAL_SECRET
	// name Secrets mounted as volumes
	for _, c := range []struct{ repo, dir string }{
		{"build-definitions", "task/buildah/0.10"},
		{"build-definitions", "partners/example-hello-world/0.1"},
		{"tektoncd-catalog", "task/oracle-cloud-storage-upload/0.2"},
		{"tektoncd-catalog", "task/orka-full/0.1"},
	} {
		if fs := check.Apply(AsParam, corpusSub(t, c.repo, c.dir)); len(fs) != 0 {
			t.Errorf("%s: %v", c.dir, fs)
		}
	}
	fs := check.Apply(AsParam, corpusSub(t, "tektoncd-catalog", "task/maven/0.4"))
	if got := at(t, AsParam, fs); !reflect.DeepEqual(got, []string{"44:13", "52:13"}) || !strings.Contains(fs[0].Message, `"SERVER_PASSWORD"`) {
		t.Errorf("maven 0.4: %v", fs)
	}
}

// TestPullRequests: the partner PRs are stopped by secret/as-param where
// a reviewer would name it, and have no leaked secret.
func TestCorpusPullRequests(t *testing.T) {
	icr := corpusSub(t, "build-definitions/_pull-requests/pr-408", "partners/icr-scan/0.1")
	fs := check.Apply(AsParam, icr)
	// - name: iCR-License (no default); - name: iCR-Password / default: admin
	if got := at(t, AsParam, fs); !reflect.DeepEqual(got, []string{"19:13", "35:16"}) {
		t.Errorf("icr-scan: %v", fs)
	}
	cosa := corpusSub(t, "build-definitions/_pull-requests/pr-2356", "partners/cosa-build/0.1")
	for name, s := range map[string]*catalog.Submission{"icr-scan": icr, "cosa-build": cosa} {
		if fs := check.Apply(Leaked, s); len(fs) != 0 {
			t.Errorf("%s: secret/leaked: %v", name, fs)
		}
	}
	if fs := check.Apply(AsParam, cosa); len(fs) != 0 {
		t.Errorf("cosa-build: secret/as-param: %v", fs)
	}
}

// TestLeakedCorpus scans every manifest of the corpus, which holds no
// credential (checked by hand), and measures the cost: the rules are read
// once, then every manifest is scanned (compiling the rules it needs).
func TestLeakedCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the whole corpus")
	}
	var subs []*catalog.Submission
	for _, repo := range []string{"build-definitions", "tektoncd-catalog"} {
		r, err := catalog.Open(corpusDir(t, repo))
		if err != nil {
			t.Fatal(err)
		}
		all, err := r.Discover()
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, all...)
	}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start, wall := cpu(), time.Now()
	if _, err := gitleaks(); err != nil {
		t.Fatal(err)
	}
	built := cpu()
	for _, s := range subs {
		if fs := check.Apply(Leaked, s); len(fs) != 0 {
			t.Errorf("false positive: %v", fs)
		}
	}
	t.Logf("%d submissions: rules read in %v CPU, scan %v CPU, %v wall in all",
		len(subs), built-start, cpu()-built, time.Since(wall))
}

// Real Tasks: the catalog's github-add-comment 0.1 reads its token into
// env; the partner example reads no secret.
func TestInEnvCorpus(t *testing.T) {
	fs := check.Apply(InEnv, corpusSub(t, "tektoncd-catalog", "task/github-add-comment/0.1"))
	if len(fs) != 1 || fs[0].Line != 48 || !strings.Contains(fs[0].Message, `Secret "github" key "token" into env GITHUBTOKEN`) {
		t.Errorf("github-add-comment 0.1: %v", fs)
	}
	if fs := check.Apply(InEnv, corpusSub(t, "build-definitions", "partners/example-hello-world/0.1")); len(fs) != 0 {
		t.Errorf("example-hello-world: %v", fs)
	}
}

// Every manifest of the corpus: the scanner, compiling only the rules a
// text has keywords of, finds what gitleaks with every rule finds.
func TestScanLikeGitleaksCorpus(t *testing.T) {
	texts := map[string]string{}
	for _, repo := range []string{"build-definitions", "tektoncd-catalog"} {
		r, err := catalog.Open(corpusDir(t, repo))
		if err != nil {
			t.Fatal(err)
		}
		subs, err := r.Discover()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range subs {
			if s.Manifest != nil {
				texts[repo+"/"+s.Manifest.Path] = string(s.Manifest.Data)
			}
		}
	}
	if len(texts) < 300 {
		t.Fatalf("only %d manifests in the corpus", len(texts))
	}
	scanLikeGitleaks(t, texts)
}

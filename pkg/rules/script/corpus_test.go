//go:build corpus

package script

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Every script of the corpus is within the bounds, with room to spare.
func TestBoundsCorpus(t *testing.T) {
	n := 0
	err := filepath.WalkDir(testrepo.Corpus(t), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, sc := range Scripts(manifest.Parse(p, data, manifest.DefaultLimits)) {
			n++
			if err := CheckBounds(sc.Text); err != nil {
				t.Errorf("%s (%s): %v", p, sc.Where, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Fatalf("only %d scripts in the corpus: is it complete?", n)
	}
}

func TestSyntaxCorpus(t *testing.T) {
	// konflux's git-clone: bash scripts full of Tekton variables
	if fs := run(Syntax, corpusSub(t, "build-definitions", "task/git-clone/0.2")); len(fs) != 0 {
		t.Errorf("git-clone 0.2: %v", fs)
	}
	// tektoncd catalog buildah 0.8: `BUILD_ARGS=()` under /bin/sh
	fs := run(Syntax, corpusSub(t, "tektoncd-catalog", "task/buildah/0.8"))
	if got := at(fs); !reflect.DeepEqual(got, []string{"103:18 warning"}) || !strings.Contains(fs[0].Message, "arrays are a bash") {
		t.Errorf("buildah 0.8: %v %v", got, fs)
	}
}

func TestParamInjectionCorpus(t *testing.T) {
	// the example partner Task passes its param through env
	if fs := run(ParamInjection, corpusSub(t, "build-definitions", "partners/example-hello-world/0.1")); len(fs) != 0 {
		t.Errorf("example-hello-world: %v", fs)
	}
	fs := run(ParamInjection, corpusSub(t, "tektoncd-catalog", "task/git-batch-merge/0.2"))
	got := at(fs)
	// `if [[ "$(params.deleteExisting)" == "true" ]] ; then`, among 12
	if len(fs) != 12 || got[1] != "106:16 error" || !strings.HasPrefix(fs[1].Message, "$(params.deleteExisting) is pasted") {
		t.Errorf("git-batch-merge 0.2: %v", fs)
	}
}

// TestPullRequests: the two partner PRs of build-definitions that were
// never merged are stopped by the rules a reviewer would name.
func TestCorpusPullRequests(t *testing.T) {
	for _, c := range []struct {
		repo, dir string
		want      []string
	}{
		{"build-definitions/_pull-requests/pr-408", "partners/icr-scan/0.1", []string{
			// echo "LICENSE_KEY $(params.iCR-License)" >> config
			"53:27 error",
			// sh configure_run.sh "$(params.Git-Revision)" "$(params.Server-URL)" "$(params.iCR-Username)" "$(params.iCR-Password)"
			"55:30 error", "55:55 error", "55:78 error", "55:103 error",
		}},
		{"build-definitions/_pull-requests/pr-2356", "partners/cosa-build/0.1", []string{
			// ssh $SSH_ARGS "$SSH_HOST" podman run ... -e IMAGE="$IMAGE" -e VARIANT="$VARIANT" ... "$BUILDER_IMAGE"
			"224:21 error", "225:23 error", "233:12 error",
		}},
	} {
		fs := run(ParamInjection, corpusSub(t, c.repo, c.dir))
		if got := at(fs); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: script/param-injection at %v, want %v", c.dir, got, c.want)
		}
		if fs := run(Syntax, corpusSub(t, c.repo, c.dir)); len(fs) != 0 {
			t.Errorf("%s: script/syntax: %v", c.dir, fs)
		}
	}
}

// TestExampleHelloWorld: the only partner Task ever merged passes the
// script rules (an unquoted `echo $MESSAGE` is a shellcheck info).
func TestCorpusExampleHelloWorld(t *testing.T) {
	needShellcheck(t)
	s := corpusSub(t, "build-definitions", "partners/example-hello-world/0.1")
	var got []string
	for _, c := range Checks {
		for _, f := range run(c, s) {
			got = append(got, f.Rule+" "+f.Message[:6]+" "+at([]check.Finding{f})[0])
		}
	}
	if !reflect.DeepEqual(got, []string{"script/shellcheck SC2086 26:12 info"}) {
		t.Errorf("example-hello-world: %v", got)
	}
}

// Real Tasks: the catalog's pylint 0.1 script has no shebang; Konflux's
// hello-world example starts with one.
func TestShebangCorpus(t *testing.T) {
	if fs := run(Shebang, corpusSub(t, "tektoncd-catalog", "task/pylint/0.1")); len(fs) != 1 || fs[0].Line != 44 {
		t.Errorf("pylint 0.1: %v", fs)
	}
	if fs := run(Shebang, corpusSub(t, "build-definitions", "partners/example-hello-world/0.1")); len(fs) != 0 {
		t.Errorf("example-hello-world: %v", fs)
	}
	// a script that is a param: the value brings its first line
	if fs := run(Shebang, corpusSub(t, "tektoncd-catalog", "task/openshift-client-python/0.1")); len(fs) != 0 {
		t.Errorf("openshift-client-python: %v", fs)
	}
	// the command string of sh -c is no script file: it has no shebang line
	if fs := run(Shebang, sub(t, task+"      command: [sh, -c, \"echo hi\"]\n")); len(fs) != 0 {
		t.Errorf("sh -c: %v", fs)
	}
}

// shellcheck on real Tasks: its error level is an error finding; a clean
// Task has none.
func TestCorpusShellcheck(t *testing.T) {
	needShellcheck(t)
	fs := run(Shellcheck, corpusSub(t, "tektoncd-catalog", "task/black/0.2"))
	var errs []string
	for _, f := range fs {
		if f.Severity == check.Error {
			errs = append(errs, f.Message[:6]+" "+at([]check.Finding{f})[0])
		}
	}
	if !reflect.DeepEqual(errs, []string{"SC2068 41:15 error"}) {
		t.Errorf("black 0.2: %v", errs)
	}
	if fs := run(Shellcheck, corpusSub(t, "build-definitions", "task/git-clone/0.2")); len(fs) != 0 {
		t.Errorf("git-clone 0.2: %v", fs)
	}
}

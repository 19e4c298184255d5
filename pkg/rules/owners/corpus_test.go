//go:build corpus

package owners

// The sweep over the real corpus (../shared/corpus), run by `make
// corpus`; the other tests of the package run on testdata/.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
	"taskgate.dev/taskgate/pkg/catalog"
)

// The corpus: the only partner Task ever merged has a plain-text OWNERS,
// and two partner PRs brought Prow OWNERS.
func TestCorpus(t *testing.T) {
	corpus := testrepo.Corpus(t, "build-definitions")
	read := func(dir string) map[string]string {
		out := map[string]string{}
		err := filepath.Walk(filepath.Join(corpus, dir), func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			rel, _ := filepath.Rel(filepath.Join(corpus, dir), p)
			out[filepath.ToSlash(rel)] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	base := read(".")
	for k := range base {
		if !strings.HasPrefix(k, "partners/") && k != "pipelines/docker-build/docker-build.yaml" {
			delete(base, k)
		}
	}
	icr := read("_pull-requests/pr-408")
	root := pr(t, base, icr)
	none(t, validate(t, root, "openrefactory", nil)) // the PR's author is its approver
	one(t, validate(t, root, "someone", nil), "partners/icr-scan/OWNERS", "(new in this change) lists approvers openrefactory")

	edit := map[string]string{"partners/example-hello-world/0.1/example-hello-world.yaml": base["partners/example-hello-world/0.1/example-hello-world.yaml"] + "# edited\n"}
	one(t, validate(t, pr(t, base, edit), "rhtap-build", nil), "partners/example-hello-world/0.1/example-hello-world.yaml",
		"partners/example-hello-world/OWNERS at the merge base", "is not in Prow format")
	none(t, validate(t, pr(t, base, edit), "rhtap-build", &catalog.Maintainers{Logins: []string{"rhtap-build"}}))
}

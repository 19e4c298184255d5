package integration

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// StepActions indexes the repository's StepActions by name, once per run:
// a step that refers to one runs its script, which may be what writes a
// result.
var StepActions = &check.Input{Name: "StepActions of the repository", PerRun: true, Compute: func(p *check.Pass) (any, error) {
	ix := stepActionIndex{}
	if p.Repo == nil || p.Repo.Root == "" {
		return ix, nil
	}
	n := 0
	_ = filepath.WalkDir(p.Repo.Root, func(abs string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil
		case d.IsDir():
			if abs != p.Repo.Root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		case !d.Type().IsRegular() || !(strings.HasSuffix(abs, ".yaml") || strings.HasSuffix(abs, ".yml")):
			return nil
		}
		if n++; n > 20000 {
			return filepath.SkipAll // bounded: a huge repository is not read whole
		}
		if info, err := d.Info(); err != nil || info.Size() > p.Repo.Limits.MaxFileBytes {
			return nil
		}
		data, err := os.ReadFile(abs)
		if err != nil || !bytes.Contains(data, []byte("StepAction")) {
			return nil
		}
		rel, err := filepath.Rel(p.Repo.Root, abs)
		if err != nil {
			return nil
		}
		if f := manifest.Load(p.Repo.Root, filepath.ToSlash(rel), p.Repo.Limits); f.StepAction != nil && f.Name != "" {
			ix[f.Name] = append(ix[f.Name], f)
		}
		return nil
	})
	for _, fs := range ix {
		sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
	}
	return ix, nil
}}

type stepActionIndex map[string][]*manifest.File

// named resolves a step's ref: the StepAction of that name in the
// submission's directory, else the first in the repository; nil when the
// step has no ref, a remote one, or one not in the repository.
func (ix stepActionIndex) named(st v1.Step, dir string) *v1beta1.StepAction {
	if st.Ref == nil || st.Ref.Resolver != "" || st.Ref.Name == "" {
		return nil
	}
	all := ix[st.Ref.Name]
	for _, f := range all {
		if strings.HasPrefix(f.Path, dir+"/") || path.Dir(f.Path) == dir {
			return f.StepAction
		}
	}
	if len(all) > 0 {
		return all[0].StepAction
	}
	return nil
}

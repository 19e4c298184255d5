// Package stepactions indexes a repository's StepActions by name, once per
// run, for the checks that follow a step's `ref` to what it runs.
package stepactions

import (
	"bytes"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"taskgate.dev/taskgate/pkg/check"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Files are the repository's StepAction manifests by metadata.name, each
// list sorted by path.
type Files map[string][]*manifest.File

// maxScan bounds the files read while looking for StepActions.
const maxScan = 20000

// Index is the per-run input: every StepAction of the repository, read
// through the loader's rules (no link out, size cap).
var Index = &check.Input{Name: "StepActions of the repository", PerRun: true, Digest: digest, Compute: func(p *check.Pass) (any, error) {
	ix := Files{}
	if p.Repo == nil || p.Repo.Root == "" {
		return ix, nil
	}
	r := p.Repo
	n := 0
	_ = filepath.WalkDir(r.Root, func(abs string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if abs != r.Root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			return nil
		}
		if n++; n > maxScan {
			return filepath.SkipAll // bounded: a huge repository is not read whole
		}
		rel, err := filepath.Rel(r.Root, abs)
		if err != nil {
			return nil
		}
		data, err := manifest.ReadFile(r.Root, rel, r.Limits.MaxFileBytes)
		if err != nil || !bytes.Contains(data, []byte("StepAction")) {
			return nil
		}
		if f := manifest.Parse(filepath.ToSlash(rel), data, r.Limits); f.StepAction != nil && f.Name != "" {
			ix[f.Name] = append(ix[f.Name], f)
		}
		return nil
	})
	for _, fs := range ix {
		sort.Slice(fs, func(i, j int) bool { return fs[i].Path < fs[j].Path })
	}
	return ix, nil
}}

// Of is the index a check that Requires Index was given.
func Of(p *check.Pass) Files {
	ix, _ := p.ResultOf[Index].(Files)
	return ix
}

// Named returns the StepActions called name: those inside the
// submission's directory dir when there are any (they ship with it), else
// every one in the repository (any of them may be the one applied).
func (ix Files) Named(name, dir string) []*manifest.File {
	all := ix[name]
	var local []*manifest.File
	for _, f := range all {
		if strings.HasPrefix(f.Path, dir+"/") || path.Dir(f.Path) == dir {
			local = append(local, f)
		}
	}
	if len(local) > 0 {
		return local
	}
	return all
}

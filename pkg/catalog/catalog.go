// Package catalog finds the Task submissions of a catalog repository:
// `partners/<task>/<version>/<task>.yaml` in a central catalog and
// `task/<task>/<version>/<task>.yaml` in a team's own task repository,
// with their OWNERS, README and the files around them.
package catalog

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"taskgate.dev/taskgate/pkg/config"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Layouts are the top-level directories that hold submissions.
var Layouts = []string{"partners", "task"}

// Repo is a catalog repository on disk.
type Repo struct {
	Root       string // absolute
	Config     *config.Config
	CodeOwners *CodeOwners // nil when the repository has none
	Limits     manifest.Limits
	// PipelinesDir holds the build pipelines the integration rules compose
	// into (`--pipelines DIR`); empty means Root's pipelines/.
	PipelinesDir string

	// The pull request under validation (pr.go), set by `validate
	// --changed-from REV --author LOGIN --maintainers LIST|FILE`: what it
	// changes, who opened it, who maintains the catalog. Nil/empty otherwise.
	Change      *Change
	Author      string
	Maintainers *Maintainers
	// AuthorRequired is set on a pull request's run (`validate --event
	// pull_request`): an empty or malformed Author fails owners closed
	// instead of skipping them.
	AuthorRequired bool
}

// Submission is one version of one Task: `<layout>/<name>/<version>/`.
type Submission struct {
	Repo    *Repo
	Layout  string // "partners" or "task"
	Name    string // the <task> directory
	Version string // the <version> directory
	Dir     string // repo-relative, e.g. partners/hello/0.1

	// TaskPath is where the manifest must be (<dir>/<name>.yaml);
	// Manifest is the loaded manifest: the one at TaskPath, else the only
	// YAML file of the directory, else nil.
	TaskPath string
	Manifest *manifest.File

	Files  []string // repo-relative files of the version directory (recursive)
	Owners *Owners  // OWNERS of the version or of the task directory, nil if none
	Readme string   // repo-relative README.md of the version (or task) directory, "" if none

	// Problems found while discovering (symlinks out of the repository).
	Problems []manifest.Problem
}

// ID names the submission in reports: partners/hello/0.1.
func (s *Submission) ID() string { return s.Dir }

// Open prepares a repository for discovery: configuration and CODEOWNERS.
func Open(root string) (*Repo, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	cfg, err := config.Load(abs)
	if err != nil {
		return nil, err
	}
	r := &Repo{Root: abs, Config: cfg, Limits: manifest.DefaultLimits}
	r.CodeOwners, err = loadCodeOwners(r)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Discover lists every submission in the repository, sorted by directory.
func (r *Repo) Discover() ([]*Submission, error) {
	var subs []*Submission
	for _, layout := range Layouts {
		names, err := r.readDir(layout)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			if !name.IsDir() {
				continue
			}
			versions, err := r.readDir(path.Join(layout, name.Name()))
			if err != nil {
				return nil, err
			}
			for _, v := range versions {
				if v.IsDir() {
					subs = append(subs, r.load(layout, name.Name(), v.Name()))
				}
			}
		}
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Dir < subs[j].Dir })
	return subs, nil
}

// Submission loads the submission at a repo-relative directory
// (`partners/<name>/<version>`).
func (r *Repo) Submission(dir string) (*Submission, error) {
	parts := strings.Split(path.Clean(filepath.ToSlash(dir)), "/")
	if len(parts) != 3 || !isLayout(parts[0]) {
		// a path through the repository (examples/catalog/partners/x/0.1): name the repository
		for i := len(parts) - 3; i > 0; i-- {
			if isLayout(parts[i]) {
				repo := filepath.Join(r.Root, filepath.Join(parts[:i]...))
				if cwd, err := os.Getwd(); err == nil {
					if rel, err := filepath.Rel(cwd, repo); err == nil {
						repo = rel
					}
				}
				return nil, fmt.Errorf("%s is not a submission directory of %s (<layout>/<task>/<version>): did you mean --repo %s --task %s?",
					dir, r.Root, repo, path.Join(parts[i:]...))
			}
		}
		return nil, fmt.Errorf("%s is not a submission directory (<layout>/<task>/<version>)", dir)
	}
	return r.load(parts[0], parts[1], parts[2]), nil
}

func isLayout(s string) bool {
	for _, l := range Layouts {
		if s == l {
			return true
		}
	}
	return false
}

// entry is a directory entry with symlinks that stay inside the
// repository resolved.
type entry struct {
	name  string
	isDir bool
}

func (e entry) Name() string { return e.name }
func (e entry) IsDir() bool  { return e.isDir }

// readDir lists a repo-relative directory; missing directories are empty.
// Symlinks are followed only while they stay inside the repository.
func (r *Repo) readDir(rel string) ([]entry, error) {
	des, err := os.ReadDir(filepath.Join(r.Root, filepath.FromSlash(rel)))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []entry
	for _, de := range des {
		e := entry{name: de.Name(), isDir: de.IsDir()}
		if de.Type()&fs.ModeSymlink != 0 {
			abs, err := manifest.Resolve(r.Root, path.Join(rel, de.Name()))
			if err != nil {
				continue // reported by the submission that contains it
			}
			st, err := os.Stat(abs)
			e.isDir = err == nil && st.IsDir()
		}
		out = append(out, e)
	}
	return out, nil
}

func (r *Repo) load(layout, name, version string) *Submission {
	s := &Submission{Repo: r, Layout: layout, Name: name, Version: version}
	s.Dir = path.Join(layout, name, version)
	s.TaskPath = path.Join(s.Dir, name+".yaml")
	s.walkFiles(s.Dir)
	var yamls []string
	for _, f := range s.Files {
		if path.Dir(f) == s.Dir && (strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".yml")) {
			yamls = append(yamls, f)
		}
	}
	switch {
	case contains(s.Files, s.TaskPath):
		s.Manifest = manifest.Load(r.Root, s.TaskPath, r.Limits)
	case len(yamls) == 1:
		s.Manifest = manifest.Load(r.Root, yamls[0], r.Limits)
	}
	taskDir := path.Join(layout, name)
	for _, dir := range []string{s.Dir, taskDir} {
		if s.Owners == nil && r.isFile(path.Join(dir, "OWNERS")) {
			s.Owners = loadOwners(r, path.Join(dir, "OWNERS"))
		}
		if s.Readme == "" && r.isFile(path.Join(dir, "README.md")) {
			s.Readme = path.Join(dir, "README.md")
		}
	}
	return s
}

// walkFiles records every regular file under dir; symlinks that leave
// the repository become input/limits problems and are not followed.
func (s *Submission) walkFiles(dir string) {
	entries, err := os.ReadDir(filepath.Join(s.Repo.Root, filepath.FromSlash(dir)))
	if err != nil {
		return
	}
	for _, de := range entries {
		rel := path.Join(dir, de.Name())
		isDir := de.IsDir()
		if de.Type()&fs.ModeSymlink != 0 {
			abs, err := manifest.Resolve(s.Repo.Root, rel)
			if err != nil {
				s.Problems = append(s.Problems, manifest.Problem{Path: rel, Rule: manifest.RuleLimits, Line: 1, Column: 1,
					Message: fmt.Sprintf("%s: %v", rel, err),
					Help:    "replace the symlink by the file itself: a submission holds regular files inside the repository"})
				continue
			}
			st, err := os.Stat(abs)
			isDir = err == nil && st.IsDir()
		}
		if isDir {
			if strings.Count(rel, "/") < 8 { // bounded: symlink loops inside the repo end here
				s.walkFiles(rel)
			}
			continue
		}
		s.Files = append(s.Files, rel)
	}
}

func (r *Repo) isFile(rel string) bool {
	abs, err := manifest.Resolve(r.Root, rel)
	if err != nil {
		return false
	}
	st, err := os.Stat(abs)
	return err == nil && st.Mode().IsRegular()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

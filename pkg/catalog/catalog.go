// Package catalog finds the Task submissions of a catalog repository:
// `partners/<task>/<version>/<task>.yaml` in a central catalog and
// `task/<task>/<version>/<task>.yaml` in a team's own task repository,
// with their OWNERS, README and the files around them.
package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

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
	// ReadmeBlank: the README holds only white space (one refused by the
	// loader's rules is an input/limits problem instead).
	ReadmeBlank bool

	// Problems found while discovering (symlinks, files refused unread,
	// stray files and directories).
	Problems []manifest.Problem
	// Strays are the paths around the submission that belong to none
	// (partners/foo/tmp, partners/foo/0.1/notes): a layout/path problem
	// each, and a change to one touches the submission.
	Strays []string
	// Refused is a symlink where a submission directory would be: nothing
	// of it was read, only its input/limits finding is reported.
	Refused bool

	unread bool // listed, not loaded (see List)
}

// ID names the submission in reports: partners/hello/0.1.
func (s *Submission) ID() string { return s.Dir }

// Option changes how Open prepares a repository.
type Option func(*openOptions)

type openOptions struct{ configRev string }

// ConfigAt reads the configuration as it was at the merge base of rev and
// HEAD (`validate --config-from-base`): the working tree's .taskgate.yaml
// is never opened, so a change cannot switch rules off for itself.
func ConfigAt(rev string) Option { return func(o *openOptions) { o.configRev = rev } }

// Open prepares a repository for discovery: configuration and CODEOWNERS.
func Open(root string, opts ...Option) (*Repo, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
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
	r := &Repo{Root: abs, Limits: manifest.DefaultLimits}
	if o.configRev == "" {
		r.Config, err = config.Load(abs)
	} else {
		r.Config, err = r.configAt(o.configRev)
	}
	if err != nil {
		return nil, err
	}
	r.CodeOwners, err = loadCodeOwners(r)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// configAt reads the configuration at the merge base of rev and HEAD; none
// there is an empty configuration.
func (r *Repo) configAt(rev string) (*config.Config, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("%q: not a revision", rev)
	}
	base, err := r.git("merge-base", rev, "HEAD")
	if err != nil {
		return nil, fmt.Errorf("%s as of %s: %v", config.FileName, rev, err)
	}
	base = strings.TrimSpace(base)
	data, err := r.ShowAt(base, config.FileName)
	if errors.Is(err, fs.ErrNotExist) {
		return &config.Config{}, nil
	}
	if err == nil {
		var cfg *config.Config
		if cfg, err = config.Parse(data); err == nil {
			return cfg, nil
		}
	}
	return nil, fmt.Errorf("%v (as of %s, the merge base with %s)", err, short(base), rev)
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// Discover lists every submission in the repository, sorted by directory,
// and loads them (in parallel). A symlink where a layout, task or version
// directory would be is never followed: it becomes a refused submission
// carrying the finding.
func (r *Repo) Discover() ([]*Submission, error) {
	subs, err := r.List()
	if err != nil {
		return nil, err
	}
	loadAll(subs)
	return subs, nil
}

// loadAll loads listed submissions in place, in parallel.
func loadAll(subs []*Submission) {
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				subs[i] = subs[i].Load()
			}
		}()
	}
	for i := range subs {
		next <- i
	}
	close(next)
	wg.Wait()
}

// List is Discover without reading anything but directories: each
// submission is only listed (its files are read by Load), so a run can
// load, check and drop them one at a time instead of holding them all.
// Refused submissions (symlinks) are complete as listed.
func (r *Repo) List() ([]*Submission, error) {
	var subs []*Submission
	for _, layout := range Layouts {
		if isSymlink(r.abs(layout)) {
			subs = append(subs, r.refused(layout, "", "", layout))
			continue
		}
		names, err := r.readDir(layout)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			taskDir := path.Join(layout, name.Name())
			switch {
			case r.refusedLink(taskDir, name):
				subs = append(subs, r.refused(layout, name.Name(), "", taskDir))
				continue
			case !name.IsDir():
				continue
			}
			entries, err := r.readDir(taskDir)
			if err != nil {
				return nil, err
			}
			subs = append(subs, r.loadTask(layout, name.Name(), entries)...)
		}
	}
	sort.Slice(subs, func(i, j int) bool { return subs[i].Dir < subs[j].Dir })
	return subs, nil
}

// listed is a submission found and not yet read: its place only.
func (r *Repo) listed(layout, name, version string) *Submission {
	if link := r.symlinkOn(layout, name, version); link != "" {
		return r.refused(layout, name, version, link)
	}
	dir := path.Join(layout, name, version)
	return &Submission{Repo: r, Layout: layout, Name: name, Version: version, Dir: dir, TaskPath: path.Join(dir, name+".yaml"), unread: true}
}

// Load returns the submission with its files read: a new one when s is
// only listed (s itself stays light), else s.
func (s *Submission) Load() *Submission {
	if !s.unread {
		return s
	}
	l := s.Repo.load(s.Layout, s.Name, s.Version)
	// what listing found around it (stray paths) stays with it
	l.Strays, l.Problems = append(l.Strays, s.Strays...), append(l.Problems, s.Problems...)
	return l
}

// Listed says whether the submission is only listed (see List): its
// files are not read yet.
func (s *Submission) Listed() bool { return s.unread }

// RuleLayout is the rule of the problems discovery finds in a
// submission's layout (stray files and directories).
const RuleLayout = "layout/path"

// taskFiles may sit in a task directory beside its versions.
var taskFiles = map[string]bool{"OWNERS": true, "OWNERS_ALIASES": true, "README.md": true}

// versionDirs may sit in a version directory beside the Task: what
// catalogs keep with a Task (Tekton's catalog: tests/, samples/).
var versionDirs = map[string]bool{"tests": true, "samples": true}

var versionName = regexp.MustCompile(`^v?[0-9]`)

// loadTask lists the versions of one task directory. A directory is a
// version when its name is one (0.1, or an attempt such as v1 that
// layout/path then names) or it holds the Task (<task>.yaml); anything
// else beside the versions but OWNERS and README.md is a stray, not a
// second submission: one layout error on the stray path, reported with
// the task's newest version. A task directory without versions keeps its
// directories as submissions, and a Task written in it directly is
// judged there: nothing a change adds is left unjudged.
func (r *Repo) loadTask(layout, name string, entries []fs.DirEntry) []*Submission {
	taskDir := path.Join(layout, name)
	var subs []*Submission
	var strays, dirs []string
	for _, e := range entries {
		rel := path.Join(taskDir, e.Name())
		switch {
		case r.refusedLink(rel, e):
			subs = append(subs, r.listed(layout, name, e.Name()))
		case e.IsDir() && (versionName.MatchString(e.Name()) || r.exists(path.Join(rel, name+".yaml"))):
			subs = append(subs, r.listed(layout, name, e.Name()))
		case e.IsDir():
			dirs = append(dirs, e.Name())
			strays = append(strays, rel)
		case !taskFiles[e.Name()] && e.Type()&fs.ModeSymlink == 0:
			strays = append(strays, rel)
		}
	}
	switch {
	case len(subs) > 0:
	case r.exists(path.Join(taskDir, name+".yaml")):
		// the Task outside any version: judged where it is, and moved
		return []*Submission{r.listed(layout, name, "")}
	default:
		for _, d := range dirs {
			subs = append(subs, r.listed(layout, name, d))
		}
		return subs
	}
	newest := subs[0]
	for _, s := range subs[1:] {
		if !s.Refused && (newest.Refused || olderVersion(newest.Version, s.Version)) {
			newest = s
		}
	}
	for _, p := range strays {
		newest.addStray(p, fmt.Sprintf("%s is not part of any submission: a task directory holds its versions (%s/<N.N>/), OWNERS and README.md, so nothing in it is checked", p, taskDir),
			fmt.Sprintf("remove %s, or move what it holds into a version directory (%s/%s/)", p, taskDir, newest.Version))
	}
	return subs
}

// olderVersion compares N.N versions numerically (0.9 < 0.10); other
// names sort before them, by name.
func olderVersion(a, b string) bool {
	na, okA := versionNumbers(a)
	nb, okB := versionNumbers(b)
	switch {
	case okA != okB:
		return okB
	case !okA:
		return a < b
	case na[0] != nb[0]:
		return na[0] < nb[0]
	}
	return na[1] < nb[1]
}

func versionNumbers(v string) ([2]int, bool) {
	var n [2]int
	maj, min, ok := strings.Cut(v, ".")
	if !ok {
		return n, false
	}
	var err1, err2 error
	n[0], err1 = strconv.Atoi(maj)
	n[1], err2 = strconv.Atoi(min)
	return n, err1 == nil && err2 == nil
}

// addStray records a stray path: a layout problem, and a path whose
// change touches the submission.
func (s *Submission) addStray(rel, message, help string) {
	s.Strays = append(s.Strays, rel)
	s.Problems = append(s.Problems, manifest.Problem{Path: rel, Rule: RuleLayout, Line: 1, Column: 1, Message: message, Help: help})
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

func (r *Repo) abs(rel string) string { return filepath.Join(r.Root, filepath.FromSlash(rel)) }

// refusedLink says whether an entry where a task or version directory
// would be is a symlink to anything but a regular file inside the
// repository (a directory, a dangling or outside target): such a link is
// a refused submission. A link to a file there (OWNERS, README.md) is read
// under the loader's rules.
func (r *Repo) refusedLink(rel string, e fs.DirEntry) bool {
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	abs, err := manifest.Resolve(r.Root, rel)
	if err != nil {
		return true
	}
	st, err := os.Stat(abs) // stat only: nothing behind the link is read
	return err != nil || !st.Mode().IsRegular()
}

func isSymlink(abs string) bool {
	st, err := os.Lstat(abs)
	return err == nil && st.Mode()&fs.ModeSymlink != 0
}

// readDir lists a repo-relative directory without following any symlink
// in it; missing directories are empty.
func (r *Repo) readDir(rel string) ([]fs.DirEntry, error) {
	des, err := os.ReadDir(r.abs(rel))
	if os.IsNotExist(err) {
		return nil, nil
	}
	return des, err
}

// symlinkHelp is how to fix a symlinked directory.
const symlinkHelp = "commit the directory itself: the gate never follows a symlinked directory (it could point outside the repository, at another partner's Task, or at itself)"

// refused is the submission a symlinked directory stands where (link is
// the symlink, repo-relative): it holds nothing but the finding, so a link
// is never silently skipped and never followed.
func (r *Repo) refused(layout, name, version, link string) *Submission {
	s := &Submission{Repo: r, Layout: layout, Name: name, Version: version, Dir: link, TaskPath: link, Refused: true}
	target, _ := os.Readlink(r.abs(link))
	s.Problems = append(s.Problems, manifest.Problem{Path: link, Rule: manifest.RuleLimits, Line: 1, Column: 1,
		Message: fmt.Sprintf("%s is a symlink (to %s) where a directory belongs: it is not followed, so nothing in it is checked", link, target),
		Help:    symlinkHelp})
	return s
}

// maxFiles bounds the files of one submission (the largest in the corpus
// has a few dozen).
const maxFiles = 1000

// symlinkOn is the first of a submission's layout, task and version
// directories that is a symlink, or "".
func (r *Repo) symlinkOn(layout, name, version string) string {
	for _, link := range []string{layout, path.Join(layout, name), path.Join(layout, name, version)} {
		if isSymlink(r.abs(link)) {
			return link
		}
	}
	return ""
}

func (r *Repo) load(layout, name, version string) *Submission {
	if link := r.symlinkOn(layout, name, version); link != "" {
		return r.refused(layout, name, version, link)
	}
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
		if p := path.Join(dir, "OWNERS"); s.Owners == nil && r.exists(p) {
			var refused *manifest.ReadError
			if s.Owners, refused = loadOwners(r, p); refused != nil {
				s.Problems = append(s.Problems, readProblem(refused))
			}
		}
		if p := path.Join(dir, "README.md"); s.Readme == "" && r.exists(p) {
			s.Readme = p
			data, err := manifest.ReadFile(r.Root, p, r.Limits.MaxFileBytes)
			if err != nil {
				s.Problems = append(s.Problems, readProblem(err.(*manifest.ReadError)))
			}
			s.ReadmeBlank = err == nil && len(bytes.TrimSpace(data)) == 0
		}
	}
	return s
}

func readProblem(e *manifest.ReadError) manifest.Problem {
	return manifest.Problem{Path: e.Path, Rule: manifest.RuleLimits, Line: 1, Column: 1, Message: e.Message, Help: e.Help}
}

// walkFiles records every file under dir. It never follows a symlink: one
// to a directory, or leaving the repository, is an input/limits problem;
// one to a file inside the repository is kept (the loader reads it under
// its rules).
func (s *Submission) walkFiles(dir string) {
	problem := func(rel, help, format string, args ...any) {
		s.Problems = append(s.Problems, manifest.Problem{Path: rel, Rule: manifest.RuleLimits, Line: 1, Column: 1,
			Message: fmt.Sprintf(format, args...), Help: help})
	}
	full := false
	var walk func(dir string)
	walk = func(dir string) {
		entries, err := os.ReadDir(s.Repo.abs(dir))
		if err != nil {
			return
		}
		for _, de := range entries {
			rel := path.Join(dir, de.Name())
			if de.Type()&fs.ModeSymlink != 0 {
				abs, err := manifest.Resolve(s.Repo.Root, rel)
				if err != nil {
					problem(rel, "replace the symlink by the file itself: a submission holds regular files inside the repository", "%s: %v", rel, err)
					continue
				}
				if st, err := os.Stat(abs); err == nil && st.IsDir() {
					target, _ := os.Readlink(s.Repo.abs(rel))
					problem(rel, symlinkHelp, "%s is a symlink to a directory (%s): it is not followed, so nothing in it is checked", rel, target)
					continue
				}
			}
			if de.IsDir() {
				if dir == s.Dir && !versionDirs[de.Name()] {
					s.addStray(rel, fmt.Sprintf("%s is not part of the submission: a version directory holds the Task, README.md and OWNERS, with tests/ and samples/, so nothing in it is checked", rel),
						fmt.Sprintf("remove %s, or keep only tests and samples beside the Task (in %s/tests/ or %s/samples/)", rel, s.Dir, s.Dir))
					continue
				}
				walk(rel)
				continue
			}
			if full {
				return
			}
			if len(s.Files) == maxFiles {
				full = true
				problem(dir, "keep a submission to its Task, README.md, OWNERS and a few tests or samples",
					"the submission holds more than %d files: the rest (from %s on) are not checked", maxFiles, rel)
				return
			}
			s.Files = append(s.Files, rel)
		}
	}
	walk(dir)
}

// exists says whether a repo-relative path names something (a symlink
// included: reading it decides whether it is acceptable).
func (r *Repo) exists(rel string) bool {
	_, err := os.Lstat(r.abs(rel))
	return err == nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

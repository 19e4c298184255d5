package catalog

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"taskgate.dev/taskgate/pkg/manifest"
)

// Maintainers says who maintains the catalog and who is in the teams that
// CODEOWNERS and OWNERS name (GitHub does not tell a static check).
type Maintainers struct {
	Logins []string            // may change anything, files outside submissions included; may name teams
	Teams  map[string][]string // "org/team" (as written, with or without @) → member logins
}

// ListAt lists the files under repo-relative paths at a revision
// (`git ls-tree -r`); a path missing there lists nothing.
func (r *Repo) ListAt(rev string, paths ...string) ([]string, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("%q: not a revision", rev)
	}
	out, err := r.git(append([]string{"ls-tree", "-r", "--name-only", "-z", rev, "--"}, paths...)...)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range strings.Split(out, "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// ShowAt reads a file as it was at a revision, under the loader's rules:
// a regular file (a symlink, a submodule or a directory there is
// refused), at most the repository's file limit. A file missing there
// unwraps to fs.ErrNotExist.
func (r *Repo) ShowAt(rev, rel string) ([]byte, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("%q: not a revision", rev)
	}
	refuse := func(err error, format string, args ...any) error {
		return &manifest.ReadError{Path: rel, Message: fmt.Sprintf(format, args...) + " at " + short(rev),
			Help: "keep the file a regular file of at most 1 MiB", Err: err}
	}
	// <mode> <type> <object> <size>\t<path>
	entry, err := r.git("ls-tree", "-l", "-z", rev, "--", rel)
	if err != nil {
		return nil, err
	}
	meta, name, _ := strings.Cut(strings.TrimSuffix(entry, "\x00"), "\t")
	fields := strings.Fields(meta)
	if meta == "" || name != rel {
		return nil, refuse(fs.ErrNotExist, "no such file")
	}
	if len(fields) != 4 || fields[0] == "120000" || fields[1] != "blob" {
		return nil, refuse(nil, "not a regular file (git: %s)", meta)
	}
	max := r.Limits.MaxFileBytes
	if max == 0 {
		max = manifest.DefaultLimits.MaxFileBytes
	}
	if size, err := strconv.ParseInt(fields[3], 10, 64); err != nil || size > max {
		return nil, refuse(nil, "the file is %s bytes, over the %d-byte limit", fields[3], max)
	}
	out, err := r.git("cat-file", "blob", fields[2])
	return []byte(out), err
}

// CodeOwnersAt parses the CODEOWNERS file a revision had, nil if none.
func (r *Repo) CodeOwnersAt(rev string) (*CodeOwners, error) {
	have, err := r.ListAt(rev, codeOwnersPaths...)
	if err != nil {
		return nil, err
	}
	for _, rel := range codeOwnersPaths { // GitHub's order, not ls-tree's
		if contains(have, rel) {
			data, err := r.ShowAt(rev, rel)
			if err != nil {
				return nil, err
			}
			return ParseCodeOwners(rel, data), nil
		}
	}
	return nil, nil
}

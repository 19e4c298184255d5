package catalog

import (
	"fmt"
	"strings"
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

// ShowAt reads a file as it was at a revision (`git show REV:path`).
func (r *Repo) ShowAt(rev, rel string) ([]byte, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("%q: not a revision", rev)
	}
	out, err := r.git("show", rev+":"+rel)
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

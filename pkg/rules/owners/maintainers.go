package owners

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
	"taskgate.dev/taskgate/pkg/catalog"
	"taskgate.dev/taskgate/pkg/manifest"
)

// norm compares logins as GitHub does: case-insensitively, with or
// without a leading @.
func norm(login string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(login), "@"))
}

// names says whether an owner entry stands for the author: the same
// login, or a team (or Prow alias) whose members the maintainers file
// lists. An e-mail address in CODEOWNERS never matches a login.
func names(m *catalog.Maintainers, entry, author string) bool {
	e := norm(entry)
	if e == author {
		return true
	}
	if m == nil {
		return false
	}
	for team, members := range m.Teams {
		if norm(team) == e {
			for _, member := range members {
				if norm(member) == author {
					return true
				}
			}
		}
	}
	return false
}

func anyNames(m *catalog.Maintainers, entries []string, author string) bool {
	for _, e := range entries {
		if names(m, e, author) {
			return true
		}
	}
	return false
}

func knownTeam(m *catalog.Maintainers, team string) bool {
	if m == nil {
		return false
	}
	for t := range m.Teams {
		if norm(t) == norm(team) {
			return true
		}
	}
	return false
}

func isMaintainer(r *catalog.Repo, author string) bool {
	return r.Maintainers != nil && anyNames(r.Maintainers, r.Maintainers.Logins, author)
}

// LoadMaintainers reads `--maintainers`: a comma-separated list of logins,
// or a YAML file (a path that exists or ends in .yaml/.yml):
//
//	maintainers: [alice, org/catalog-admins]   # may change anything
//	teams:                                      # who is in the teams CODEOWNERS and OWNERS name
//	  org/catalog-admins: [bob]
//	  org/partner-a: [carol, dave]
//
// When a change is validated, a file inside the repository is read as it
// was at the merge base: a PR cannot make its own author a maintainer.
func LoadMaintainers(r *catalog.Repo, arg string) (*catalog.Maintainers, error) {
	if strings.TrimSpace(arg) == "" {
		return nil, nil
	}
	st, statErr := os.Stat(arg)
	if statErr != nil && !strings.HasSuffix(arg, ".yaml") && !strings.HasSuffix(arg, ".yml") {
		return maintainersList(arg)
	}
	data, err := readMaintainersFile(r, arg, st, statErr)
	if err != nil {
		return nil, fmt.Errorf("--maintainers %s: %v", arg, err)
	}
	var m catalog.Maintainers
	var doc struct {
		Maintainers []string            `yaml:"maintainers"`
		Teams       map[string][]string `yaml:"teams"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("--maintainers %s: %v (want `maintainers: [login, ...]` and `teams: {org/team: [login, ...]}`)", arg, err)
	}
	m.Logins, m.Teams = doc.Maintainers, doc.Teams
	return &m, nil
}

func maintainersList(arg string) (*catalog.Maintainers, error) {
	m := &catalog.Maintainers{}
	for _, l := range strings.FieldsFunc(arg, func(r rune) bool { return r == ',' || r == ' ' }) {
		if strings.Contains(l, "/") {
			return nil, fmt.Errorf("--maintainers: %q is a team or a path; a team's members are unknown from a list: name it in a file with `teams: {%s: [login, ...]}`", l, strings.TrimPrefix(l, "@"))
		}
		m.Logins = append(m.Logins, l)
	}
	if len(m.Logins) == 0 {
		return nil, fmt.Errorf("--maintainers %q names nobody", arg)
	}
	return m, nil
}

func readMaintainersFile(r *catalog.Repo, arg string, st os.FileInfo, statErr error) ([]byte, error) {
	abs, err := filepath.Abs(arg)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(r.Root, abs)
	inside := err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	if inside && r.Change != nil {
		data, err := r.ShowAt(r.Change.Base, filepath.ToSlash(rel))
		if err != nil {
			return nil, fmt.Errorf("not readable at the merge base %s (a maintainers file inside the repository is read as merged, so a PR cannot name its own author): %v", r.Change.Base, err)
		}
		return data, nil
	}
	if inside {
		return manifest.ReadFile(r.Root, rel, 1<<20)
	}
	if statErr != nil {
		return nil, statErr
	}
	// the maintainers' own file (a ConfigMap mount is a symlink into its
	// directory): read under the loader's rules relative to its directory
	return manifest.ReadFile(filepath.Dir(abs), filepath.Base(abs), 1<<20)
}

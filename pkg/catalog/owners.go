package catalog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"gopkg.in/yaml.v3"
	"taskgate.dev/taskgate/pkg/manifest"
)

// Owners is an OWNERS file. Prow's format (approvers/reviewers lists) is
// parsed; anything else is kept as text (Prow-less catalogs wrote team
// names in plain text) with Parsed false.
type Owners struct {
	Path      string
	Approvers []string
	Reviewers []string
	Parsed    bool
	Empty     bool
}

// loadOwners reads an OWNERS file under the loader's rules; one refused
// (a symlink out, a device, too large) owns nothing, and the refusal is
// kept as a problem of the submission.
func loadOwners(r *Repo, rel string) (*Owners, *manifest.ReadError) {
	data, err := manifest.ReadFile(r.Root, rel, r.Limits.MaxFileBytes)
	if err != nil {
		return &Owners{Path: rel, Empty: true}, err.(*manifest.ReadError)
	}
	return ParseOwners(rel, data), nil
}

// ParseOwners parses OWNERS text: Prow's
// approvers/reviewers lists, or unparsed text.
func ParseOwners(rel string, data []byte) *Owners {
	o := &Owners{Path: rel}
	if len(bytes.TrimSpace(data)) == 0 {
		o.Empty = true
		return o
	}
	var prow struct {
		Approvers []string `yaml:"approvers"`
		Reviewers []string `yaml:"reviewers"`
	}
	if len(data) <= 1<<20 && yaml.Unmarshal(data, &prow) == nil && len(prow.Approvers)+len(prow.Reviewers) > 0 {
		o.Approvers, o.Reviewers, o.Parsed = prow.Approvers, prow.Reviewers, true
	}
	return o
}

// CodeOwners is a parsed CODEOWNERS file (GitHub syntax: the last
// matching pattern wins).
type CodeOwners struct {
	Path  string
	Rules []CodeOwnersRule
}

// CodeOwnersRule is one line: a pattern and its owners.
type CodeOwnersRule struct {
	Line    int
	Pattern string
	Owners  []string
	match   codeOwnersPattern
}

// codeOwnersPaths are the places GitHub looks, in its order.
var codeOwnersPaths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

func loadCodeOwners(r *Repo) (*CodeOwners, error) {
	for _, rel := range codeOwnersPaths {
		data, err := manifest.ReadFile(r.Root, rel, r.Limits.MaxFileBytes)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%v (%s)", err, err.(*manifest.ReadError).Help)
		}
		return ParseCodeOwners(rel, data), nil
	}
	return nil, nil
}

// ParseCodeOwners parses CODEOWNERS text; lines it cannot use are skipped.
func ParseCodeOwners(rel string, data []byte) *CodeOwners {
	co := &CodeOwners{Path: rel}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		co.Rules = append(co.Rules, CodeOwnersRule{Line: n, Pattern: fields[0], Owners: fields[1:], match: compileCodeOwners(fields[0])})
	}
	return co
}

// OwnersOf returns the rule that decides who owns a repo-relative path
// (the last matching line), or nil.
func (co *CodeOwners) OwnersOf(rel string) *CodeOwnersRule {
	if co == nil {
		return nil
	}
	var hit *CodeOwnersRule
	for i := range co.Rules {
		if co.Rules[i].match.matches(rel) {
			hit = &co.Rules[i]
		}
	}
	return hit
}

// AliasesFile is Prow's OWNERS_ALIASES at the repository root.
const AliasesFile = "OWNERS_ALIASES"

// Aliases are Prow's OWNERS_ALIASES (`aliases: {name: [login, ...]}`): an
// OWNERS approver or reviewer that names an alias stands for its members.
type Aliases map[string][]string

// ParseAliases decodes OWNERS_ALIASES strictly: a misspelt key would
// silently leave an alias empty.
func ParseAliases(data []byte) (Aliases, error) {
	if len(data) > 1<<20 {
		return nil, fmt.Errorf("%s: larger than 1 MiB", AliasesFile)
	}
	var doc struct {
		Aliases map[string][]string `yaml:"aliases"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %v (want `aliases: {name: [login, ...]}`)", AliasesFile, err)
	}
	out := Aliases{}
	for name, members := range doc.Aliases {
		out[strings.ToLower(name)] = members
	}
	return out, nil
}

// Expand replaces every alias among names by its members (Prow compares
// aliases case-insensitively); other names are kept.
func (a Aliases) Expand(names []string) []string {
	var out []string
	for _, n := range names {
		if members, ok := a[strings.ToLower(strings.TrimSpace(n))]; ok {
			out = append(out, members...)
			continue
		}
		out = append(out, n)
	}
	return out
}

// AliasesAt reads OWNERS_ALIASES as a revision had it; none there is no
// alias.
func (r *Repo) AliasesAt(rev string) (Aliases, error) {
	data, err := r.ShowAt(rev, AliasesFile)
	if errors.Is(err, fs.ErrNotExist) {
		return Aliases{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseAliases(data)
}

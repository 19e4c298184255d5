package catalog

import (
	"bufio"
	"bytes"
	"os"
	"regexp"
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

func loadOwners(r *Repo, rel string) *Owners {
	abs, err := manifest.Resolve(r.Root, rel)
	if err != nil {
		return &Owners{Path: rel, Empty: true}
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return &Owners{Path: rel, Empty: true}
	}
	return ParseOwners(rel, data)
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
	if len(data) < 1<<20 && yaml.Unmarshal(data, &prow) == nil && len(prow.Approvers)+len(prow.Reviewers) > 0 {
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
	match   *regexp.Regexp
}

// codeOwnersPaths are the places GitHub looks, in its order.
var codeOwnersPaths = []string{".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"}

func loadCodeOwners(r *Repo) (*CodeOwners, error) {
	for _, rel := range codeOwnersPaths {
		if !r.isFile(rel) {
			continue
		}
		abs, err := manifest.Resolve(r.Root, rel)
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(abs)
		if err != nil {
			return nil, err
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
		re, err := regexp.Compile(codeOwnersRegexp(fields[0]))
		if err != nil {
			continue
		}
		co.Rules = append(co.Rules, CodeOwnersRule{Line: n, Pattern: fields[0], Owners: fields[1:], match: re})
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
		if co.Rules[i].match.MatchString(rel) {
			hit = &co.Rules[i]
		}
	}
	return hit
}

// codeOwnersRegexp translates a gitignore-style CODEOWNERS pattern.
func codeOwnersRegexp(p string) string {
	anchored := strings.HasPrefix(p, "/") || strings.Contains(strings.TrimSuffix(p, "/"), "/")
	p = strings.TrimPrefix(p, "/")
	dirOnly := strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	var b strings.Builder
	if anchored {
		b.WriteString("^")
	} else {
		b.WriteString("(^|/)")
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case strings.HasPrefix(p[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(p[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if dirOnly {
		b.WriteString("/.*$")
	} else {
		b.WriteString("(/.*)?$")
	}
	return b.String()
}

package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"taskgate.dev/taskgate/internal/testrepo"
)

// seedOwners are the OWNERS files of the repository's test corpus.
func seedOwners(tb testing.TB) [][]byte {
	dir := testrepo.Testdata(tb, "build-definitions")
	var out [][]byte
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "OWNERS" {
			if data, err := os.ReadFile(p); err == nil {
				out = append(out, data)
			}
		}
		return nil
	})
	return out
}

// FuzzParseOwners: an OWNERS file never crashes the parser, and a parsed
// one holds exactly what its YAML says.
func FuzzParseOwners(f *testing.F) {
	for _, s := range seedOwners(f) {
		f.Add(s)
	}
	f.Add([]byte("approvers:\n  - alice\nreviewers:\n  - bob\n"))
	f.Add([]byte("@org/team-a\n"))
	f.Add([]byte("approvers: &a [x]\nreviewers: *a\n"))
	f.Add([]byte("approvers: [a, [b]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o := ParseOwners("OWNERS", data)
		if o.Path != "OWNERS" || (o.Parsed && o.Empty) || (o.Parsed && len(o.Approvers)+len(o.Reviewers) == 0) {
			t.Fatalf("inconsistent %+v", o)
		}
	})
}

// FuzzParseAliases: OWNERS_ALIASES either decodes or is an error naming
// the file; expanding never loses a name that is not an alias.
func FuzzParseAliases(f *testing.F) {
	f.Add([]byte("aliases:\n  team-a: [alice, bob]\n  Team-B: []\n"), "team-a,carol")
	f.Add([]byte("aliases: {a: [b], A: [c]}\n"), "a")
	f.Add([]byte("aliases:\n  x: &m [y]\n  z: *m\n"), "z,x")
	f.Add([]byte("alias: {}\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, names string) {
		a, err := ParseAliases(data)
		if err != nil {
			if !strings.Contains(err.Error(), AliasesFile) {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		in := strings.Split(names, ",")
		out := a.Expand(in)
		for _, n := range in {
			if _, alias := a[strings.ToLower(strings.TrimSpace(n))]; !alias && !contains(out, n) {
				t.Fatalf("%q lost: %v → %v", n, in, out)
			}
		}
	})
}

// FuzzCodeOwners: any CODEOWNERS text parses without a crash into rules
// whose patterns compile, and matching any path terminates with the last
// matching line.
func FuzzCodeOwners(f *testing.F) {
	f.Add([]byte(githubExample), "docs/build-app/troubleshooting.md")
	f.Add([]byte("/partners/café/ @alice\n/partners/caf?/ @bob\n"), "partners/café/0.1/café.yaml")
	f.Add([]byte("\\#x @a\n**/**/** @b\n[a-z]* @c\n!neg @d\n"), "a/b/c")
	f.Add([]byte("*\xff @x\n"), "\xff")
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		co := ParseCodeOwners("CODEOWNERS", data)
		for _, r := range co.Rules {
			if r.Line < 1 || r.Pattern == "" || len(r.match.segs) == 0 {
				t.Fatalf("bad rule %+v", r)
			}
		}
		if hit := co.OwnersOf(path); hit != nil {
			for i := len(co.Rules) - 1; i >= 0; i-- {
				if co.Rules[i].match.matches(path) {
					if &co.Rules[i] != hit {
						t.Fatalf("%s: line %d decided, the last match is line %d", path, hit.Line, co.Rules[i].Line)
					}
					break
				}
			}
		}
	})
}

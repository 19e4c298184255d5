package catalog

import (
	"strings"
	"testing"
)

// githubExample is the example CODEOWNERS of GitHub's documentation
// ("About code owners"), comments shortened.
const githubExample = `# default owners for everything in the repo
*       @global-owner1 @global-owner2
# the last matching pattern takes the most precedence
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
# build/logs at the root and any of its subdirectories
/build/logs/ @doctocat
# docs/getting-started.md, not docs/build-app/troubleshooting.md
docs/* docs@example.com
# an apps directory anywhere in the repository
apps/ @octocat
# docs at the root and any of its subdirectories
/docs/ @doctocat
/scripts/ @doctocat @octocat
# a logs directory anywhere: /build/logs, /scripts/logs, /deeply/nested/logs
**/logs @octocat
/apps/ @octocat
/apps/github @doctocat
`

func TestCodeOwnersAsGitHubDocumentsThem(t *testing.T) {
	full := ParseCodeOwners("CODEOWNERS", []byte(githubExample))
	for _, tc := range []struct {
		co     string // "" is the full example
		path   string
		owners string // "" is no matching line; "-" a line naming nobody
	}{
		{"", "README.md", "@global-owner1 @global-owner2"},
		{"", "src/app.js", "@js-owner"},
		{"", "main.go", "docs@example.com"},
		{"", "notes/a.txt", "@octo-org/octocats"},
		{"", "build/logs/x.log", "@octocat"}, // **/logs comes after /build/logs/
		{"", "build/logs/deep/x.log", "@octocat"},
		{"", "docs/getting-started.md", "@doctocat"},
		{"", "scripts/deploy.sh", "@doctocat @octocat"},
		{"", "scripts/logs/a", "@octocat"},
		{"", "deeply/nested/logs/a.txt", "@octocat"},
		{"", "src/apps/x.txt", "@octocat"},
		{"", "apps/github/x", "@doctocat"},
		{"", "apps/other.js", "@octocat"},
		// each rule alone
		{"docs/* docs@example.com", "docs/getting-started.md", "docs@example.com"},
		{"docs/* docs@example.com", "docs/build-app/troubleshooting.md", ""},
		{"docs/* docs@example.com", "src/docs/x.md", ""}, // a slash inside anchors at the root
		{"/build/logs/ @doctocat", "build/logs/a/b/c.log", "@doctocat"},
		{"/build/logs/ @doctocat", "x/build/logs/c.log", ""},
		{"/build/logs/ @doctocat", "build/logs", ""}, // a directory pattern: what is inside
		{"apps/ @octocat", "a/b/apps/c/d.txt", "@octocat"},
		{"**/logs @octocat", "logs", "@octocat"},
		{"**/logs @octocat", "logs/today.txt", "@octocat"},
		{"**/logs @octocat", "catalogs/x", ""},
		{"docs/** @x", "docs/a/b/c", "@x"},
		{"a/**/b @x", "a/b", "@x"},
		{"a/**/b @x", "a/x/y/b/z", "@x"},
		{"*.js @js", "deep/er/app.js", "@js"},
		{"*.js @js", "app.jsx", ""},
		{"/apps/ @octocat\n/apps/github\n", "apps/github/x", "-"},
		{"/apps/ @octocat\n/apps/github\n", "apps/gitlab/x", "@octocat"},
		{"/a?c @x", "abc", "@x"},
		{"/a?c @x", "a/c", ""},
		{`\#notes @x`, "#notes", "@x"},
		// non-ASCII: one rune is one character, for ? and * alike
		{"/partners/café/ @alice", "partners/café/0.1/café.yaml", "@alice"},
		{"/partners/caf?/ @alice", "partners/café/0.1/café.yaml", "@alice"},
		{"/partners/*é/ @alice", "partners/café/OWNERS", "@alice"},
		{"/partners/日本/ @bob", "partners/日本/0.1/x.yaml", "@bob"},
		{"/partners/日?/ @bob", "partners/日本/0.1/x.yaml", "@bob"},
		{"/partners/café/ @alice", "partners/cafe/0.1/cafe.yaml", ""},
		{"/Docs/ @x", "docs/a.md", ""}, // case-sensitive
		{"* @x", "a/b/c.txt", "@x"},
		{"/* @x", "README.md", "@x"},
		{"/* @x", "docs/a.md", ""}, // like docs/*: direct children only
		{"docs/** @x", "docs", ""}, // a trailing **: what is inside
		{"/a**b @x", "axyb", "@x"}, // ** inside a segment is a *
		{"/a**b @x", "ax/yb", ""},
		{"/[ab] @x", "[ab]", "@x"}, // no character ranges
		{"/[ab] @x", "a", ""},
		{"partners//x @x", "partners/x", ""},
	} {
		co := full
		if tc.co != "" {
			co = ParseCodeOwners("CODEOWNERS", []byte(tc.co))
		}
		got := ""
		if r := co.OwnersOf(tc.path); r != nil {
			got = strings.Join(r.Owners, " ")
			if got == "" {
				got = "-"
			}
		}
		if got != tc.owners {
			name := tc.co
			if name == "" {
				name = "GitHub's example"
			}
			t.Errorf("%s: %s is owned by %q, want %q", name, tc.path, got, tc.owners)
		}
	}
}

func TestAliases(t *testing.T) {
	a, err := ParseAliases([]byte("aliases:\n  Partner-A: [carol, dave]\n  empty: []\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(a.Expand([]string{"partner-a", "alice", "EMPTY"}), ","); got != "carol,dave,alice" {
		t.Errorf("expanded %q", got)
	}
	for _, bad := range []string{"alias:\n  a: [b]\n", "aliases: [a, b]\n", "aliases:\n  a: b\n"} {
		if _, err := ParseAliases([]byte(bad)); err == nil || !strings.Contains(err.Error(), AliasesFile) {
			t.Errorf("%q: want an error naming %s, got %v", bad, AliasesFile, err)
		}
	}
}

package catalog

import "strings"

// codeOwnersPattern is a CODEOWNERS pattern as GitHub documents it:
// gitignore syntax where a leading `/` or a `/` inside anchors the pattern
// at the root (otherwise it matches at any depth), `dir/` matches
// everything below dir, a `**` segment any number of directories (a
// trailing one: everything inside), and a last segment `*` (`docs/*`)
// files directly inside only, not nested ones. Within a segment `*` and
// `?` never cross a `/`, `\` escapes the next character (`\#`), and `[`
// is literal: CODEOWNERS has no character ranges. Matching is segment by
// segment and rune by rune, with no regular expression: a 1 MiB CODEOWNERS
// costs its parse, not a compiled automaton per line.
type codeOwnersPattern struct {
	segs    [][]globToken
	dirOnly bool // `dir/`: what is below, not the path itself
	direct  bool // last segment `*`: direct children only
}

type globToken struct {
	kind byte // 'l' literal, '?' one rune, '*' any run of runes, 'S' a `**` segment
	r    rune
}

func compileCodeOwners(p string) codeOwnersPattern {
	anchored := strings.HasPrefix(p, "/") || strings.Contains(strings.TrimSuffix(p, "/"), "/")
	p = strings.TrimPrefix(p, "/")
	var c codeOwnersPattern
	c.dirOnly = strings.HasSuffix(p, "/")
	p = strings.TrimSuffix(p, "/")
	c.direct = !c.dirOnly && (p == "*" || strings.HasSuffix(p, "/*"))
	if !anchored {
		c.segs = append(c.segs, []globToken{{kind: 'S'}})
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "**" {
			c.segs = append(c.segs, []globToken{{kind: 'S'}})
			continue
		}
		var toks []globToken
		rs := []rune(seg)
		for i := 0; i < len(rs); i++ {
			switch r := rs[i]; {
			case r == '*':
				if len(toks) == 0 || toks[len(toks)-1].kind != '*' { // `a**b` is `a*b` (gitignore)
					toks = append(toks, globToken{kind: '*'})
				}
			case r == '?':
				toks = append(toks, globToken{kind: '?'})
			case r == '\\' && i+1 < len(rs):
				i++
				toks = append(toks, globToken{kind: 'l', r: rs[i]})
			default:
				toks = append(toks, globToken{kind: 'l', r: r})
			}
		}
		c.segs = append(c.segs, toks)
	}
	return c
}

// matches says whether the pattern owns a repo-relative file path.
func (c *codeOwnersPattern) matches(path string) bool {
	parts := strings.Split(path, "/")
	n := len(c.segs)
	// m[i][j]: the first i pattern segments match the first j path segments
	m := make([][]bool, n+1)
	for i := range m {
		m[i] = make([]bool, len(parts)+1)
	}
	m[0][0] = true
	for i := 1; i <= n; i++ {
		seg := c.segs[i-1]
		star := len(seg) == 1 && seg[0].kind == 'S'
		for j := 0; j <= len(parts); j++ {
			switch {
			case star && i == n: // a trailing `**`: one or more segments
				m[i][j] = j > 0 && (m[i-1][j-1] || m[i][j-1])
			case star:
				m[i][j] = m[i-1][j] || j > 0 && m[i][j-1]
			default:
				m[i][j] = j > 0 && m[i-1][j-1] && globMatch(seg, []rune(parts[j-1]))
			}
		}
	}
	for k := 1; k <= len(parts); k++ {
		if !m[n][k] {
			continue
		}
		switch {
		case c.dirOnly && k < len(parts), c.direct && k == len(parts), !c.dirOnly && !c.direct:
			return true
		}
	}
	return false
}

// globMatch matches one segment: the classic wildcard walk, backtracking
// only to the last `*` (linear in practice, quadratic at worst).
func globMatch(toks []globToken, s []rune) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for si < len(s) {
		switch {
		case ti < len(toks) && toks[ti].kind == '*':
			starT, starS = ti, si
			ti++
		case ti < len(toks) && (toks[ti].kind == '?' || toks[ti].kind == 'l' && toks[ti].r == s[si]):
			ti++
			si++
		case starT >= 0:
			starS++
			ti, si = starT+1, starS
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].kind == '*' {
		ti++
	}
	return ti == len(toks)
}

package script

import (
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// TestSourcePos maps markers (@1, @2, ...) written in YAML scalars back to
// where they are in the file, for every scalar style and tricky
// indentation. Each marker appears once in the file and once in the value.
func TestSourcePos(t *testing.T) {
	cases := map[string]string{
		"literal in a sequence":                   "spec:\n  steps:\n    - name: a\n      script: |\n        #!/bin/sh\n        echo @1\n          indented @2\n",
		"literal, deep indentation":               "a:\n  b:\n    - - c:\n            d: |\n                       far @1\n                       x @2\n",
		"literal strip, blank lines inside":       "s: |-\n\n  first @1\n\n\n  after blanks @2\n\n",
		"literal keep":                            "s: |+\n  x @1\n\n  y @2\n\n\n",
		"literal explicit indentation":            "s: |2\n     three more @1\n   base @2\n",
		"literal, comment after indicator":        "s: | # the script\n    @1 start\n    end @2\n",
		"literal tagged":                          "s: !!str |\n  tagged @1\n",
		"literal with tabs and unicode":           "s: |\n  x\téà @1\n  ∀x\t@2\n",
		"literal, CRLF":                           "s: |\r\n  crlf @1\r\n  second @2\r\n",
		"literal after a blank line in the value": "s: |\n  a\n  \n  b @1\n",
		"folded":                    "s: >\n  folded line @1\n  joined @2\n\n  new paragraph @3\n",
		"folded, more indented":     "s: >-\n  a\n    more @1\n  back @2\n",
		"double quoted":             "s: \"echo \\\"q\\\" \\t@1 \\u00e9 @2\"\n",
		"double quoted, multi-line": "s: \"first @1\n  second @2\\\n  continued @3\"\n",
		"single quoted":             "s: 'it''s @1 and ''@2'''\n",
		"single quoted, multi-line": "s: 'one @1\n\n  two @2'\n",
		"plain":                     "s: echo @1\n",
		"plain, multi-line":         "k:\n  s: echo\n    @1 next\n    and @2\n",
		"flow sequence":             "args: [\"-c\", \"echo @1\"]\n",
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			var root yaml.Node
			if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
				t.Fatal(err)
			}
			checked := 0
			walk(&root, func(n *yaml.Node) {
				if n.Kind != yaml.ScalarNode || !strings.Contains(n.Value, "@") {
					return
				}
				src := NewSource([]byte(doc), n)
				for i := 1; strings.Contains(n.Value, "@"+string(rune('0'+i))); i++ {
					marker := "@" + string(rune('0'+i))
					wantLine, wantCol := posOf(doc, marker)
					line, col := src.Pos(strings.Index(n.Value, marker))
					if line != wantLine || col != wantCol {
						t.Errorf("%s: got %d:%d, want %d:%d (value %q)", marker, line, col, wantLine, wantCol, n.Value)
					}
					checked++
				}
			})
			if checked == 0 {
				t.Fatal("no marker checked")
			}
		})
	}
}

func walk(n *yaml.Node, fn func(*yaml.Node)) {
	fn(n)
	for _, c := range n.Content {
		walk(c, fn)
	}
}

// posOf is the 1-based line and rune column of the first s in doc.
func posOf(doc, s string) (int, int) {
	i := strings.Index(doc, s)
	before := doc[:i]
	line := strings.Count(before, "\n") + 1
	return line, utf8.RuneCountInString(before[strings.LastIndex(before, "\n")+1:]) + 1
}

func TestByteColumn(t *testing.T) {
	for _, c := range []struct {
		line     string
		col, off int
	}{
		{"echo $x", 6, 6},
		{"\techo $x", 14, 7}, // a tab advances to column 9
		{"a\t$x", 9, 3},      // ... from wherever it starts
		{"ab\t\t$x", 17, 5},  // two tabs
		{"echo é $x", 8, 9},  // shellcheck counts characters, we count bytes
		{"short", 40, len("short") + 1},
	} {
		if got := byteColumn(c.line, c.col); got != c.off {
			t.Errorf("byteColumn(%q, %d) = %d, want %d", c.line, c.col, got, c.off)
		}
	}
}

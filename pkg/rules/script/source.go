package script

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// lineIndex finds lines and columns in a file's bytes.
type lineIndex struct {
	data  []byte
	start []int // byte offset where each line starts
}

func newLineIndex(data []byte) *lineIndex {
	ix := &lineIndex{data: data, start: []int{0}}
	for i, b := range data {
		if b == '\n' {
			ix.start = append(ix.start, i+1)
		}
	}
	return ix
}

// offset turns a 1-based line and rune column (yaml.v3's positions) into
// a byte offset.
func (ix *lineIndex) offset(line, col int) int {
	if line < 1 {
		return 0
	}
	if line > len(ix.start) {
		return len(ix.data)
	}
	off := ix.start[line-1]
	for c := 1; c < col && off < len(ix.data) && ix.data[off] != '\n'; c++ {
		_, n := utf8.DecodeRune(ix.data[off:])
		off += n
	}
	return off
}

// pos turns a byte offset into a 1-based line and rune column.
func (ix *lineIndex) pos(off int) (line, col int) {
	off = max(0, min(off, len(ix.data)))
	line = sort.Search(len(ix.start), func(i int) bool { return ix.start[i] > off })
	return line, utf8.RuneCount(ix.data[ix.start[line-1]:off]) + 1
}

// text returns a line (1-based) without its line break.
func (ix *lineIndex) text(line int) string {
	if line < 1 || line > len(ix.start) {
		return ""
	}
	end := len(ix.data)
	if line < len(ix.start) {
		end = ix.start[line] - 1
	}
	return strings.TrimSuffix(string(ix.data[ix.start[line-1]:end]), "\r")
}

// Source maps byte offsets in the value of a YAML scalar back to the file
// the scalar was read from. Literal blocks (`|`) map exactly, line by
// line; folded, quoted and plain scalars are aligned character by
// character, undoing escapes and line folding (as well as one can).
type Source struct {
	ix *lineIndex
	at []int // file offset of each value byte, plus one for the end
}

// NewSource maps the value of scalar node n of the file data.
func NewSource(data []byte, n *yaml.Node) *Source {
	return newSource(newLineIndex(data), n)
}

func newSource(ix *lineIndex, n *yaml.Node) *Source {
	s := &Source{ix: ix, at: make([]int, len(n.Value)+1)}
	start := ix.offset(n.Line, n.Column)
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		s.literal(n)
	case n.Style&yaml.FoldedStyle != 0:
		next := ix.offset(n.Line+1, 1)
		s.align(n.Value, next, 0)
	case n.Style&yaml.DoubleQuotedStyle != 0:
		s.align(n.Value, start, '"')
	case n.Style&yaml.SingleQuotedStyle != 0:
		s.align(n.Value, start, '\'')
	default:
		s.align(n.Value, start, 0)
	}
	return s
}

// literal maps a literal block: line k of the value is line k+1 after
// the block's indicator, and each value line ends the file line (what
// precedes it is the block's indentation).
func (s *Source) literal(n *yaml.Node) {
	off := 0
	indent := 0
	for k, vl := range strings.Split(n.Value, "\n") {
		line := n.Line + 1 + k
		text := s.ix.text(line)
		lineStart := s.ix.offset(line, 1)
		if strings.HasSuffix(text, vl) && vl != "" {
			indent = len(text) - len(vl)
		}
		base := lineStart + min(indent, len(text))
		for i := range len(vl) {
			s.at[off+i] = base + i
		}
		off += len(vl)
		if off < len(n.Value) { // the line break
			s.at[off] = lineStart + len(text)
			off++
		}
	}
	s.at[len(n.Value)] = s.ix.offset(n.Line+1, 1)
	if len(n.Value) > 0 {
		s.at[len(n.Value)] = s.at[len(n.Value)-1] + 1
	}
}

// align walks the value and the file together from offset j: equal bytes
// map to each other, a folded line break (a space or a newline in the
// value) maps to the file's line break, escapes (`\t`, a doubled single quote) map to
// where they are written, and anything else in the file (indentation, quotes)
// is skipped.
func (s *Source) align(v string, j int, quote byte) {
	data := s.ix.data
	if quote != 0 && j < len(data) && data[j] == quote {
		j++
	}
	i := 0
	for i < len(v) && j < len(data) {
		c := data[j]
		switch {
		case quote == '"' && c == '\\' && j+1 < len(data):
			if data[j+1] == '\n' || data[j+1] == '\r' { // escaped line break: nothing in the value
				j += 2
				for j < len(data) && (data[j] == '\n' || data[j] == ' ' || data[j] == '\t') {
					j++
				}
				continue
			}
			width, size := escape(data[j+1:])
			for k := 0; k < size && i < len(v); k++ {
				s.at[i] = j
				i++
			}
			j += width
		case quote == '\'' && c == '\'' && j+1 < len(data) && data[j+1] == '\'':
			s.at[i] = j
			i++
			j += 2
		case c == v[i], c == '\n' && (v[i] == ' ' || v[i] == '\n'):
			s.at[i] = j
			i++
			j++
		default:
			j++
		}
	}
	last := j
	if i > 0 {
		last = s.at[i-1] + 1
	}
	for ; i <= len(v); i++ {
		s.at[i] = min(last, len(data))
	}
}

// escape measures a double-quoted escape (after its backslash): the bytes
// it takes in the file (with the backslash) and in the value.
func escape(b []byte) (width, size int) {
	hex := map[byte]int{'x': 2, 'u': 4, 'U': 8}[b[0]]
	switch {
	case hex > 0:
		if len(b) <= hex {
			return 1 + len(b), 1
		}
		r, err := strconv.ParseUint(string(b[1:1+hex]), 16, 32)
		size := utf8.RuneLen(rune(r))
		if err != nil || size < 0 {
			size = 1
		}
		return 2 + hex, size
	case b[0] == 'N' || b[0] == '_':
		return 2, 2 // U+0085, U+00A0
	case b[0] == 'L' || b[0] == 'P':
		return 2, 3 // U+2028, U+2029
	}
	return 2, 1
}

// Pos returns the file line and column (1-based, in characters like
// yaml.v3) of byte offset off of the value.
func (s *Source) Pos(off int) (line, col int) {
	return s.ix.pos(s.at[max(0, min(off, len(s.at)-1))])
}

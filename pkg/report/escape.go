package report

import (
	"fmt"
	"strings"
	"unicode"
)

// EscapeControls makes text from the repository (file names, messages
// quoting YAML, helps) safe for line-oriented output: a control character
// (a newline in a directory name would start a forged log line, an ESC
// would recolour or hide it) or a bidirectional override (which reorders
// what a reader sees) is written as a Go escape (`\n`, `\x1b`, `\u202e`).
// A backslash stays as it is: an escape is only ever a hint to the reader.
func EscapeControls(s string) string { return escape(s, false) }

// escapeInline is EscapeControls for formats that encode line breaks
// themselves (GitHub's workflow commands write them as %0A): CR and LF
// are kept for the encoder, every other control is escaped.
func escapeInline(s string) string { return escape(s, true) }

func escape(s string, keepLines bool) string {
	needs := func(r rune) bool { return needsEscape(r) && !(keepLines && (r == '\n' || r == '\r')) }
	if strings.IndexFunc(s, needs) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !needs(r):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r != '\t' && unicode.IsControl(r) || r == unicode.ReplacementChar ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c ||
		r == 0x2028 || r == 0x2029
}

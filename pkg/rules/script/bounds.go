package script

import "fmt"

// Bounds every script must keep before a parser sees it. mvdan.cc/sh and
// shellcheck parse recursively: 400,000 nested `(` overflow Go's stack,
// which is fatal (recover cannot catch it). The largest script of the
// corpus is ~15 KB with ~200 opening brackets, so real Tasks stay far
// below both.
const (
	MaxScriptBytes = 128 << 10
	// MaxOpenings bounds the constructs that can nest (brackets, `$(`,
	// backquotes, `if`, `case`, `do`). It counts them all, nested or not,
	// quoted or not: nesting can never be deeper than that count, and no
	// quoting, heredoc or comment trick can hide an opening from it.
	MaxOpenings = 2000
)

// BoundsError says why a script is refused unparsed.
type BoundsError struct{ Msg string }

func (e *BoundsError) Error() string { return e.Msg }

// CheckBounds scans a script once, without recursion, and refuses what a
// parser could not handle within the gate's budget.
func CheckBounds(text string) error {
	if len(text) > MaxScriptBytes {
		return &BoundsError{fmt.Sprintf("the script is %d bytes, over the %d-byte limit the gate parses", len(text), MaxScriptBytes)}
	}
	n := 0
	word := func(i int) bool { return i < 0 || i >= len(text) || !isWordByte(text[i]) }
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '(', '{', '`':
			n++
		case 'i', 'c', 'd':
			if !word(i - 1) {
				continue
			}
			for _, kw := range [...]string{"if", "case", "do"} {
				if len(text)-i >= len(kw) && text[i:i+len(kw)] == kw && word(i+len(kw)) {
					n++
				}
			}
		}
	}
	if n > MaxOpenings {
		return &BoundsError{fmt.Sprintf("the script opens %d brackets, substitutions and compound commands (`(`, `{`, `$(`, backquotes, `if`, `case`, `do`), over the %d the gate parses: it may nest too deeply to parse safely", n, MaxOpenings)}
	}
	return nil
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

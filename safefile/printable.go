package safefile

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// unprintable says whether a rune is escaped by Printable: a control character, a
// bidirectional override (which reorders the rest of the line), or a byte that is not UTF-8
// (which decodes as utf8.RuneError).
func unprintable(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// Printable returns s with control characters and bytes that are not UTF-8 escaped as Go
// escapes them in a quoted string ("\x1b", "\n"), and everything else as it is: a name or
// file name printed to the terminal cannot colour it, move the cursor or break a table line.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if unprintable(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, size := 0, 0; i < len(s); i += size {
		var r rune
		r, size = utf8.DecodeRuneInString(s[i:])
		if unprintable(r) {
			q := strconv.QuoteToASCII(s[i : i+size])
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteString(s[i : i+size])
	}
	return b.String()
}

// PrintableLines is Printable for a message of several lines: each line is escaped, and the
// line breaks between them kept.
func PrintableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		lines[i] = Printable(line)
	}
	return strings.Join(lines, "\n")
}

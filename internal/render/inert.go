package render

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Inert makes text from the store safe to print on a terminal as one line
// (a table cell, a field of show's page, a line of a message): every
// character that could steer the terminal instead of being drawn is
// written out visibly. ESC becomes `\x1b`, BEL `\x07`, NUL `\x00`, DEL
// `\x7f`; newline, tab and carriage return become `\n`, `\t` and `\r`, so
// a row stays one line; C1 controls such as CSI (U+009B) and the bidi
// overrides that reorder what is shown (U+202E and the like) become
// `\u009b`, `\u202e`; a byte that is not UTF-8 becomes `\xNN`. An OSC
// that would retitle the window or a `\x1b[2J` that would clear the
// screen is then only text. Everything else, emoji and CJK included,
// passes through unchanged, and so does a backslash: the result is for
// reading, not for parsing back (JSON output is the exact form).
//
// Job data comes from handlers, third-party scripts and anyone who can
// insert a row, so every string read from the store goes through Inert
// (or InertBlock) before it reaches a human format.
func Inert(s string) string { return inert(s, false) }

// InertBlock is Inert for text shown as a block of lines, such as a stack
// trace: newline and tab stay as layout, and the CR of a CRLF line end is
// dropped. A CR anywhere else, which would let the rest of a line
// overwrite its start, is still made visible.
func InertBlock(s string) string { return inert(s, true) }

func inert(s string, block bool) string {
	// The common case, printable ASCII, is returned as it is without a
	// copy, so a listing pays one pass over its bytes.
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	if clean(s[i:], block) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			writeHex(&b, `\x`, uint32(s[i]), 2)
		case block && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case block && r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
			// CRLF: the LF that follows keeps the layout.
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < utf8.RuneSelf && unsafeRune(r):
			writeHex(&b, `\x`, uint32(r), 2)
		case unsafeRune(r):
			writeHex(&b, `\u`, uint32(r), 4)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// clean reports whether s needs no escaping at all.
func clean(s string, block bool) bool {
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		case block && (r == '\n' || r == '\t'):
		case unsafeRune(r):
			return false
		}
	}
	return true
}

// unsafeRune reports whether r acts on a terminal rather than being drawn:
// the C0 controls and DEL, the C1 controls (which some terminals obey even
// UTF-8 encoded, U+009B being CSI), the bidi controls that reorder the
// text around them, and the line and paragraph separators.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return true
	case r < 0x80:
		return false
	case r <= 0x9f:
		return true
	case r == '\u2028', r == '\u2029':
		return true
	}
	return unicode.Is(unicode.Bidi_Control, r)
}

func writeHex(b *strings.Builder, prefix string, v uint32, digits int) {
	const hex = "0123456789abcdef"
	b.WriteString(prefix)
	for d := digits - 1; d >= 0; d-- {
		b.WriteByte(hex[(v>>(4*uint(d)))&0xf])
	}
}

// inertJSON escapes, as \uXXXX, what encoding/json leaves raw but a
// terminal obeys: DEL, the C1 controls and the bidi controls (it already
// escapes the C0 controls and U+2028/9). Outside its strings JSON is
// ASCII, so every such character is inside a string and the escape keeps
// the document's value. A byte that is not UTF-8, which a stored raw
// value may hold, becomes \ufffd, as encoding/json does for a Go string.
func inertJSON(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] < 0x7f {
		i++
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case r >= 0x7f && unsafeRune(r):
			out = appendU(out, r)
		default:
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

func appendU(out []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(out, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

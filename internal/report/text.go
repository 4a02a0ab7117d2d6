package report

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// fallback spells characters Windows-1252 lacks with characters it has.
var fallback = map[rune]string{
	'→': "->", '←': "<-", '↔': "<->", '⇒': "=>", '⇐': "<=", '⇔': "<=>",
	'≤': "<=", '≥': ">=", '≠': "!=", '≈': "~", '−': "-", '∗': "*",
	'‐': "-", '‑': "-", '‒': "-", '―': "-", '′': "'", '″': "\"",
	'✓': "v", '✔': "v", '✗': "x", '✘': "x", '●': "•", '▪': "•", '◦': "•",
	'\u2002': " ", '\u2003': " ", '\u2009': " ", '\u202f': " ", '\u2007': " ",
	'\u200b': "", '\u200c': "", '\u200d': "", '\u2060': "", '\ufeff': "",
	'ı': "i", 'ł': "l", 'Ł': "L", 'ő': "ö", 'ű': "ü", 'Ő': "Ö", 'Ű': "Ü",
	'ș': "s", 'ț': "t", 'Ș': "S", 'Ț': "T", 'ş': "s", 'ţ': "t", 'ğ': "g", 'ă': "a", 'ą': "a", 'ę': "e",
	'ć': "c", 'č': "c", 'ď': "d", 'ě': "e", 'ń': "n", 'ň': "n", 'ř': "r", 'ś': "s", 'ť': "t", 'ů': "u", 'ź': "z", 'ż': "z",
	'Ć': "C", 'Č': "C", 'Ď': "D", 'Ě': "E", 'Ń': "N", 'Ň': "N", 'Ř': "R", 'Ś': "S", 'Ť': "T", 'Ů': "U", 'Ź': "Z", 'Ż': "Z",
}

// encoder turns UTF-8 into the Windows-1252 bytes of the PDF's core
// fonts with fpdf's translator, after replacing what the code page cannot
// hold.
type encoder struct {
	tr func(string) string
	ok map[rune]bool // whether the translator encodes a rune
}

func newEncoder(tr func(string) string) *encoder {
	return &encoder{tr: tr, ok: map[rune]bool{}}
}

// encodable reports whether the code page holds r: the translator maps
// what it cannot encode to ".".
func (e *encoder) encodable(r rune) bool {
	ok, seen := e.ok[r]
	if !seen {
		ok = e.tr(string(r)) != "."
		e.ok[r] = ok
	}
	return ok
}

// clean returns s with every character the code page holds, plain
// equivalents or "?" for the others, invalid UTF-8 as "?", tabs as
// spaces, and other control characters and combining marks left out;
// newlines are kept when multiline is set and become spaces otherwise.
func (e *encoder) clean(s string, multiline bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteByte('?')
		case r == '\n':
			if multiline {
				b.WriteByte('\n')
			} else {
				b.WriteByte(' ')
			}
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		case r < 0x80:
			b.WriteRune(r)
		case unicode.Is(unicode.Mn, r):
		case e.encodable(r):
			b.WriteRune(r)
		default:
			if f, ok := fallback[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteByte('?')
			}
		}
	}
	return b.String()
}

// enc returns s cleaned, cut to maxText characters, and encoded.
func (e *encoder) enc(s string, multiline bool) string {
	return e.tr(e.clean(capRunes(s, maxText), multiline))
}

// maxText caps any one text of the report, in characters.
const maxText = 4000

// capRunes returns s cut to n characters, ending in "..." when cut.
func capRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	k := 0
	for i := range s {
		if k == n {
			return s[:i] + "..."
		}
		k++
	}
	return s
}

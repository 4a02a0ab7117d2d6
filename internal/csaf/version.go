package csaf

import (
	"strings"
)

// A version is a firmware or software version broken into comparable parts:
// "V4.5 SP1 Upd 2" is 4, 5, sp, 1, upd, 2. Numbers compare numerically,
// words by rank (pre-releases first, service packs after updates and
// letters) and then alphabetically. A version ending in a wildcard ("2.x",
// "R15x") equals every version that starts with the same parts.
type version struct {
	parts []vpart
	wild  bool
}

// A vpart is one number (word == "") or one word of a version. A word
// glued to the number before it ("4a" in "15.2(4a)EA5", "D" in "1.03D")
// marks a rebuild of that number and sorts after anything else there.
type vpart struct {
	n     uint64
	word  string
	glued bool
}

// versionPrefixWords may stand before the first digit of a version
// ("Version 2.1", "FW 1.2.3", "MX-V5.1", "HiOS 07.0.02", "BIOS V20.01").
var versionPrefixWords = map[string]bool{
	"version": true, "versions": true, "firmware": true, "release": true, "bios": true,
	"build": true, "wincc": true, "hios": true, "rev": true, "revision": true,
	"software": true, "runtime": true,
}

// versionWords may appear after the first digit of a version; any other
// word longer than three letters makes the text something else than a
// version ("5 digits of serial number", "with BSP").
var versionWords = map[string]string{
	"update": "upd", "upd": "upd", "u": "upd",
	"sp": "sp", "servicepack": "sp", "service": "sp", "pack": "",
	"hotfix": "hf", "hotfixes": "hf", "hf": "hf",
	"patch": "p", "build": "", "bn": "", "nr": "", "release": "r",
	"alpha": "alpha", "beta": "beta", "rc": "rc", "pre": "pre", "dev": "dev",
	"snapshot": "snapshot", "revision": "r", "rev": "r",
}

// preRelease words sort before the release they qualify (2.0 rc1 < 2.0).
var preRelease = map[string]bool{"alpha": true, "beta": true, "rc": true, "pre": true, "dev": true, "snapshot": true}

// maxVersionParts bounds the parts kept for one version; no real version
// has more, and hostile text cannot make a version grow without limit.
const maxVersionParts = 16

// parseVersion reads a version from free text. It reports false when the
// text has no digit or reads as something other than a version.
func parseVersion(s string) (version, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	first := strings.IndexFunc(s, isDigit)
	if first < 0 {
		return version{}, false
	}
	// Whatever stands before the first digit must be a known prefix word
	// or short letters ("V", "R", "FW", "MX-V", "SE").
	for _, w := range strings.FieldsFunc(s[:first], notLetter) {
		if len(w) > 3 && !versionPrefixWords[w] {
			return version{}, false
		}
	}
	var v version
	rest := s[first:]
	for i := 0; i < len(rest); {
		c := rest[i]
		switch {
		case isDigit(rune(c)):
			j := i
			for j < len(rest) && isDigit(rune(rest[j])) {
				j++
			}
			num := strings.TrimLeft(rest[i:j], "0")
			if len(num) > 18 { // larger than any version part; keep it as text
				v.parts = append(v.parts, vpart{word: num})
			} else {
				var n uint64
				for k := 0; k < len(num); k++ {
					n = n*10 + uint64(num[k]-'0')
				}
				v.parts = append(v.parts, vpart{n: n})
			}
			i = j
		case c >= 'a' && c <= 'z':
			j := i
			for j < len(rest) && rest[j] >= 'a' && rest[j] <= 'z' {
				j++
			}
			w := rest[i:j]
			i = j
			if w == "x" && (j >= len(rest) || !isLetter(rune(rest[j]))) {
				v.wild = true
				return v, len(v.parts) > 0
			}
			glued := i-len(w) > 0 && isDigit(rune(rest[i-len(w)-1]))
			if norm, ok := versionWords[w]; ok {
				if norm != "" {
					v.parts = append(v.parts, vpart{word: norm, glued: glued})
				}
				continue
			}
			if len(w) > 3 {
				return version{}, false
			}
			v.parts = append(v.parts, vpart{word: w, glued: glued})
		case c == '*' || c == '?' && i == len(rest)-1:
			v.wild = true
			return v, len(v.parts) > 0
		default:
			i++
		}
		if len(v.parts) > maxVersionParts {
			return version{}, false
		}
	}
	return v, len(v.parts) > 0
}

func isDigit(r rune) bool  { return r >= '0' && r <= '9' }
func isLetter(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }
func notLetter(r rune) bool {
	return !isLetter(r)
}

// wordRank orders qualifier words: pre-releases, then letters and other
// words, then service packs.
func wordRank(w string) int {
	switch {
	case preRelease[w]:
		return 0
	case w == "sp":
		return 3
	}
	return 2
}

// compareVersions returns -1, 0 or +1 as a is older than, the same as, or
// newer than b. A wildcard on either side makes versions that agree up to
// the wildcard equal.
func compareVersions(a, b version) int {
	n := max(len(a.parts), len(b.parts))
	for i := 0; i < n; i++ {
		if a.wild && i >= len(a.parts) || b.wild && i >= len(b.parts) {
			return 0
		}
		var pa, pb *vpart
		if i < len(a.parts) {
			pa = &a.parts[i]
		}
		if i < len(b.parts) {
			pb = &b.parts[i]
		}
		if c := comparePart(pa, pb); c != 0 {
			return c
		}
	}
	return 0
}

// comparePart compares one part of two versions; nil is a missing part,
// which equals zero, sorts after a pre-release word and before any other
// word.
func comparePart(a, b *vpart) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -comparePart(b, nil)
	case b == nil:
		if a.word == "" {
			if a.n == 0 {
				return 0
			}
			return 1
		}
		if preRelease[a.word] {
			return -1
		}
		return 1
	}
	switch {
	case a.word == "" && b.word == "":
		switch {
		case a.n < b.n:
			return -1
		case a.n > b.n:
			return 1
		}
		return 0
	case a.word == "":
		return 1 // 14.1 is newer than 14 SP1
	case b.word == "":
		return -1
	}
	if a.glued != b.glued && !preRelease[a.word] && !preRelease[b.word] {
		if a.glued {
			return 1 // 15.2(4a)EA5 is newer than 15.2(4)EA5
		}
		return -1
	}
	if ra, rb := wordRank(a.word), wordRank(b.word); ra != rb {
		if ra < rb {
			return -1
		}
		return 1
	}
	return strings.Compare(a.word, b.word)
}

// String formats v for messages: numbers joined by dots, words spaced.
func (v version) String() string {
	var b strings.Builder
	for i, p := range v.parts {
		if i > 0 {
			if p.word == "" && v.parts[i-1].word == "" {
				b.WriteByte('.')
			} else {
				b.WriteByte(' ')
			}
		}
		if p.word == "" {
			b.WriteString(uitoa(p.n))
		} else {
			b.WriteString(p.word)
		}
	}
	if v.wild {
		b.WriteString(".x")
	}
	return b.String()
}

func uitoa(n uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}

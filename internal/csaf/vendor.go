package csaf

import (
	"slices"
	"strings"
)

// A vendorAlias gives the canonical key of one manufacturer and the names,
// former names, brands and subsidiaries it is written as in advisories,
// device identities (CIP, BACnet, PROFINET, Modbus) and the OUI registry.
type vendorAlias struct {
	key   string
	names []string
}

// vendorAliases is the vendor table. Names are matched as whole words of
// the normalized text (see normName), so "ge" matches "General Electric
// (GE)" but not "Sage".
var vendorAliases = []vendorAlias{
	{"abb", []string{"abb", "asea brown boveri"}},
	{"advantech", []string{"advantech", "b+b smartworx", "bb smartworx"}},
	{"automationdirect", []string{"automationdirect", "automation direct"}},
	{"aveva", []string{"aveva"}},
	{"b&r", []string{"b&r", "b & r", "b and r", "bernecker", "br automation"}},
	{"beckhoff", []string{"beckhoff"}},
	{"belden", []string{"belden", "hirschmann", "garrettcom", "tofino"}},
	{"bosch", []string{"bosch"}},
	{"cisco", []string{"cisco"}},
	{"codesys", []string{"codesys", "3s smart", "3s smart software solutions"}},
	{"delta electronics", []string{"delta electronics", "delta industrial automation"}},
	{"digi", []string{"digi international", "digi"}},
	{"eaton", []string{"eaton", "cutler hammer"}},
	{"emerson", []string{"emerson", "fisher rosemount", "rosemount", "fisher controls", "bristol babcock"}},
	{"enea", []string{"enea"}},
	{"fuji electric", []string{"fuji electric"}},
	{"ge", []string{"general electric", "ge", "ge digital", "ge vernova", "ge grid solutions", "ge intelligent platforms", "ge fanuc", "multilin", "mds"}},
	{"green hills", []string{"green hills"}},
	{"hitachi energy", []string{"hitachi energy", "abb power grids"}},
	{"hms", []string{"hms networks", "hms industrial networks", "hms", "ewon", "anybus", "intesis"}},
	{"honeywell", []string{"honeywell"}},
	{"iconics", []string{"iconics"}},
	{"inductive automation", []string{"inductive automation"}},
	{"johnson controls", []string{"johnson controls", "jci"}},
	{"mitsubishi electric", []string{"mitsubishi electric", "mitsubishi", "melco"}},
	{"mobotix", []string{"mobotix"}},
	{"moxa", []string{"moxa"}},
	{"omron", []string{"omron"}},
	{"opto 22", []string{"opto 22", "opto22"}},
	{"phoenix contact", []string{"phoenix contact", "phoenix", "innominate"}},
	{"prosoft", []string{"prosoft"}},
	{"red lion", []string{"red lion", "n tron"}},
	{"rockwell automation", []string{"rockwell automation", "rockwell", "allen bradley"}},
	{"schneider electric", []string{"schneider electric", "schneider", "telemecanique", "modicon", "square d", "pro face", "apc"}},
	{"sel", []string{"schweitzer engineering laboratories", "schweitzer", "sel"}},
	{"siemens", []string{"siemens"}},
	{"triangle microworks", []string{"triangle microworks"}},
	{"tridium", []string{"tridium"}},
	{"wago", []string{"wago"}},
	{"westermo", []string{"westermo"}},
	{"wind river", []string{"wind river", "windriver"}},
	{"yokogawa", []string{"yokogawa"}},
}

// legalWords are company-form words dropped from vendor names that are not
// in the table before they are compared.
var legalWords = map[string]bool{
	"inc": true, "incorporated": true, "corp": true, "corporation": true, "co": true,
	"company": true, "ltd": true, "limited": true, "llc": true, "gmbh": true, "ag": true,
	"sa": true, "kg": true, "bv": true, "oy": true, "ab": true, "srl": true, "spa": true,
	"plc": true, "the": true, "and": true, "&": true, "group": true, "international": true,
	"technologies": true, "technology": true, "systems": true, "industries": true,
}

// normName lower-cases s and replaces every character other than a letter,
// a digit, '&' or '+' with a space, collapsing runs; the result is padded
// with one space on each side so whole words can be found with
// strings.Contains(" word ").
func normName(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '&' || r == '+' || r > 0x7f && isWordRune(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// isWordRune accepts letters outside ASCII (accented names).
func isWordRune(r rune) bool {
	return r != 0xfffd && r != 0xa0 && (r < 0x2000 || r > 0x206f) && r != 0xae && r != 0x2122
}

var normAliases = func() [][]string {
	out := make([][]string, len(vendorAliases))
	for i, a := range vendorAliases {
		for _, n := range a.names {
			out[i] = append(out[i], normName(n))
		}
	}
	return out
}()

// vendorKeys returns the canonical keys of the vendors named in s, sorted:
// one for "Rockwell Automation/Allen-Bradley", two for "Red Lion,
// AutomationDirect", five for "ABB, Phoenix Contact, Schneider Electric,
// Siemens, and WAGO". A name that is not in the table gives one key made of
// its words without company forms ("Acme Controls GmbH" → "acme controls").
func vendorKeys(s string) []string {
	n := normName(s)
	if strings.TrimSpace(n) == "" {
		return nil
	}
	var keys []string
	for i, names := range normAliases {
		for _, a := range names {
			if strings.Contains(n, a) {
				keys = append(keys, vendorAliases[i].key)
				break
			}
		}
	}
	if len(keys) == 0 {
		var words []string
		for _, w := range strings.Fields(n) {
			if !legalWords[w] {
				words = append(words, w)
			}
		}
		if len(words) == 0 {
			words = strings.Fields(n)
		}
		keys = append(keys, strings.Join(words, " "))
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// relatedVendors are vendors that sell the same products under either
// name: Hitachi Energy is the former ABB Power Grids (TropOS, RTU500,
// XMC20, FOX615 are sold under both names).
var relatedVendors = map[[2]string]string{
	{"abb", "hitachi energy"}: "Hitachi Energy took over ABB Power Grids",
}

// vendorsMatch reports whether two vendor key sets name a common vendor.
// Keys outside the table also match when one is the other followed by
// more words ("acme" and "acme controls").
func vendorsMatch(a, b []string) (string, bool) {
	for _, x := range a {
		for _, y := range b {
			if x == y || strings.HasPrefix(x, y+" ") || strings.HasPrefix(y, x+" ") {
				return x, true
			}
		}
	}
	return "", false
}

// vendorsRelated reports whether two vendor key sets name related
// vendors, and why.
func vendorsRelated(a, b []string) (string, bool) {
	for _, x := range a {
		for _, y := range b {
			if why, ok := relatedVendors[[2]string{x, y}]; ok {
				return why, true
			}
			if why, ok := relatedVendors[[2]string{y, x}]; ok {
				return why, true
			}
		}
	}
	return "", false
}

// vendorDisplay is the name shown for a canonical key of the table, and
// false for a key made from a name outside it.
func vendorDisplay(key string) (string, bool) {
	for _, a := range vendorAliases {
		if a.key == key {
			if len(a.names[0]) > 3 {
				return titleWords(a.names[0]), true
			}
			return strings.ToUpper(a.key), true
		}
	}
	return "", false
}

func titleWords(s string) string {
	w := strings.Fields(s)
	for i, x := range w {
		w[i] = strings.ToUpper(x[:1]) + x[1:]
	}
	return strings.Join(w, " ")
}

// vendorPhrases are the vendor names removed from product names before
// they are compared ("Allen-Bradley CompactLogix 5370", "Mitsubishi
// Electric Q06UDEHCPU", "Digi ConnectPort"), longest first. Aliases of three
// letters or fewer are left out: they are also product words.
var vendorPhrases = func() []string {
	var out []string
	for _, a := range vendorAliases {
		for _, n := range a.names {
			if len(n) > 3 {
				out = append(out, n)
				if strings.Contains(n, " ") {
					out = append(out, strings.ReplaceAll(n, " ", "-"))
				}
			}
		}
	}
	out = append(out, "general electric (ge)", "(ge)")
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}()

// stripVendors removes whole-word vendor names from the lower-case name s.
// A name glued to other letters, digits or a hyphen ("SEL-751") stays.
func stripVendors(s string) string {
	for _, p := range vendorPhrases {
		for from := 0; ; {
			i := strings.Index(s[from:], p)
			if i < 0 {
				break
			}
			i += from
			j := i + len(p)
			if (i == 0 || !glued(s[i-1])) && (j == len(s) || !glued(s[j])) {
				s = s[:i] + " " + s[j:]
				from = i + 1
			} else {
				from = i + 1
			}
			if from >= len(s) {
				break
			}
		}
	}
	return s
}

// glued reports whether c joins the characters on both sides into one word.
func glued(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

package csaf

import (
	"regexp"
	"slices"
	"strings"
)

// A tokKind says what a token of a product name is.
type tokKind uint8

const (
	tkWord  tokKind = iota // a word without digits: "compactlogix", "scalance"
	tkModel                // a model designation with digits: "x208", "1756-l8x", "5370"
	tkVer                  // a version inside the name: "v7.4" in "SIMATIC WinCC V7.4"
	tkNum                  // a short bare number: "5" in "SIPROTEC 5", "8" in "Ignition 8"
)

// A group is one token of an advisory's product name with its
// alternatives: "Q04/06/10UDEHCPU" is one group of three models, "PN/DP"
// one group of two words. The group is matched when any alternative is.
type group struct {
	alts     []string // squashed (see squash)
	kind     tokKind
	optional bool // from a parenthesised remark: helps, never required
	wild     bool // some alternative has a wildcard
	stop     bool // only stop words: kept for matching, not required
}

// An acronym is a parenthesised abbreviation of the words before it:
// "Site Edition (SE)".
type acronym struct {
	abbr  string
	words []string
}

// A nameInfo is a product name broken up for matching.
type nameInfo struct {
	ids      []string // order numbers, squashed and upper-case
	groups   []group
	acronyms []acronym
	series   bool // the name speaks of a series
}

// stopWords say nothing about which product is meant.
var stopWords = map[string]bool{
	"the": true, "an": true, "and": true, "or": true, "for": true, "with": true, "of": true,
	"on": true, "in": true, "to": true, "by": true, "all": true, "any": true, "other": true,
	"version": true, "versions": true, "ver": true, "firmware": true, "fw": true,
	"series": true, "family": true, "families": true, "product": true, "products": true,
	"model": true, "models": true, "variant": true, "variants": true, "incl": true,
	"including": true, "included": true, "related": true, "based": true, "running": true,
	"using": true, "used": true, "type": true, "types": true, "controller": true,
	"controllers": true, "plc": true, "plcs": true, "cpu": true, "cpus": true, "device": true,
	"devices": true, "module": true, "modules": true, "unit": true, "units": true,
	"system": true, "systems": true, "industrial": true, "ethernet": true, "switch": true,
	"switches": true, "managed": true, "modular": true, "hardware": true, "hw": true,
	"software": true, "application": true, "applications": true, "package": true,
	"kit": true, "platform": true, "solution": true, "solutions": true, "engine": true,
	"engines": true, "discontinued": true, "eol": true, "sold": true, "limited": true,
	"regions": true, "only": true, "affected": true, "prior": true, "later": true,
	"before": true, "earlier": true, "release": true, "releases": true, "runtime": true,
	"serial": true, "number": true, "numbers": true, "also": true,
	"part": true, "setup": true, "containing": true, "are": true, "is": true, "not": true,
	"be": true, "this": true, "these": true, "under": true, "current": true, "support": true,
	"programmable": true, "logic": true, "automation": true,
	"embedded": true, "distribution": true, "protection": true, "relay": true,
	"relays": true, "range": true, "line": true, "lines": true, "io": true,
	"framework": true, "dcs": true, "reference": true, "references": true,
}

// qualifierWords set a product apart from the plain model of the same
// name ("Armor CompactLogix 5370 L3", "ControlLogix5570 redundancy"): a
// device that does not say them matches with medium confidence at best.
var qualifierWords = map[string]bool{
	"armor": true, "redundancy": true, "redundant": true, "softwarecontroller": true,
	"simulator": true, "simulation": true, "emulate": true, "emulator": true,
	"thermal": true, "hardened": true, "sil2": true, "safety": true, "xtr": true,
}

// strongModel reports whether a squashed model designation is specific
// enough to identify a product on its own: letters and digits ("sel751",
// "x208", "cp635") or five digits and more ("750881"), unlike a bare
// family number ("5370", "750").
func strongModel(s string) bool {
	letters, digits := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z':
			letters++
		case c >= '0' && c <= '9':
			digits++
		}
	}
	return digits > 0 && (letters > 0 || digits >= 5)
}

// exclusiveWords are product-line words of one vendor: a device of one
// line is never a product of another ("ControlLogix" is not "GuardLogix",
// "SIMATIC" is not "SIPLUS").
var exclusiveWords = []map[string]bool{
	{"controllogix": true, "compactlogix": true, "guardlogix": true, "micrologix": true, "softlogix": true, "flexlogix": true, "drivelogix": true},
	{"simatic": true, "siplus": true, "scalance": true, "sinumerik": true, "siprotec": true, "sinamics": true, "sicam": true, "ruggedcom": true, "sinema": true, "sinec": true, "siveillance": true, "desigo": true, "sipass": true, "simocode": true, "sentron": true, "teamcenter": true},
	{"panelview": true, "stratix": true, "armorstratix": true, "powerflex": true, "factorytalk": true, "rslinx": true, "rslogix": true},
	{"cosy": true, "flexy": true},
	{"deltav": true, "ovation": true, "roc": true, "controlwave": true},
}

var (
	// mlfbRe finds Siemens order numbers (MLFB): 6ES7 315-2EH14-0AB0,
	// 6GK5208-0BA10-2AA3, 6GT2002-0JD00, 6AG1 315-2EH14-7AB0.
	mlfbRe = mustQuick(`\b6[a-z]{2}\d\s?\d{3}-?[0-9a-z]{5}(?:-?[0-9a-z]{4})?\b`)
	// s7Re joins "S7 1500" and "S7-1500" into one token.
	s7Re  = mustQuick(`\bs7[\s-]?(\d{3,4})\b`)
	et2Re = mustQuick(`\bet\s+200`)
	// articleRe is a bare seven-digit article number (Phoenix Contact).
	articleRe = regexp.MustCompile(`^\d{7}$`)
	// verTokRe is a version written inside a product name: V7.4, V14, v3.
	verTokRe = regexp.MustCompile(`^v\d+(?:\.\d+)*$`)
	// specRe is a Mitsubishi placeholder legend: "x=32,64,80," "y=T,R,".
	specRe = mustQuick(`\b[xyzXYZ]=\S*`)
	// containingRe is a component remark: "containing the CmpUserMgr".
	containingRe = mustQuick(`\bcontaining\s+(?:the\s+)?\S+`)
	// cpuSuffixRe glues "CPU" to the model before it: "R00/01/02 CPU".
	cpuSuffixRe = mustQuick(`(\d|\))\s+cpu\b`)
	// seriesRe is a series named by its first model: "uc-8100".
	seriesRe  = regexp.MustCompile(`^([a-z]+-?\d{2,})00$`)
	acronymRe = regexp.MustCompile(`^[A-Z]{2,6}$`)
)

// acronymList recognizes a name that is only a list of product-line
// abbreviations ("RSP RSPE RSPS RSPL MSP EES EESX GRS OS RED") and makes
// it one group: any of them.
func acronymList(name string) (group, bool) {
	f := strings.Fields(name)
	if len(f) < 3 {
		return group{}, false
	}
	g := group{kind: tkWord}
	for _, w := range f {
		if !acronymRe.MatchString(w) {
			return group{}, false
		}
		g.alts = append(g.alts, strings.ToLower(w))
	}
	slices.Sort(g.alts)
	g.alts = slices.Compact(g.alts)
	return g, true
}

// markPlaceholders turns the lower-case x, y and z that Mitsubishi writes
// inside upper-case model names ("FX5U-xMy/z") into '*'.
func markPlaceholders(s string) string {
	b := []byte(s)
	start := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != ' ' {
			continue
		}
		tok := b[start:i]
		upper := 0
		for _, c := range tok {
			if c >= 'A' && c <= 'Z' {
				upper++
			}
		}
		if upper >= 2 {
			for j, c := range tok {
				if c != 'x' && c != 'y' && c != 'z' {
					continue
				}
				before := j > 0 && tok[j-1] >= 'a' && tok[j-1] <= 'z'
				after := j+1 < len(tok) && tok[j+1] >= 'a' && tok[j+1] <= 'z'
				if !before && !after {
					tok[j] = '*'
				}
			}
		}
		start = i + 1
	}
	return string(b)
}

// squash lower-cases s and drops the characters people write in model
// names inconsistently: "SEL-751" and "SEL 751" and "sel751" agree.
func squash(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c == '-' || c == '.' || c == ' ' || c == '_':
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// normID is the comparable form of an order number: upper-case letters
// and digits only.
func normID(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		case c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	return string(b)
}

// isID reports whether a token is an order or catalog number: at least ten
// letters and digits, three of them digits, one a letter (1783-SAD2T2SBK9,
// 1SAP520100R0001), or a seven-digit article number.
func isID(tok string) bool {
	if strings.ContainsAny(tok, "*") || hasWildX(tok) {
		return false
	}
	n := normID(tok)
	if articleRe.MatchString(n) {
		return true
	}
	if len(n) < 10 || strings.ContainsRune(tok, '_') {
		return false
	}
	digits, letters, run := 0, 0, 0
	for i := 0; i < len(n); i++ {
		if n[i] >= '0' && n[i] <= '9' {
			digits++
			run = 0
		} else {
			letters++
			run++
			if run > 4 {
				return false // a word, not a catalog number
			}
		}
	}
	return digits >= 3 && letters >= 1
}

// hasWildX reports whether a model token uses x as a placeholder:
// "1756-L8x", "ILC 1x0", "ILC 3xx", "AFS66X-S", "750-81xx/xxx-xxx". An x
// is a placeholder after a digit or another x, when followed by the end, a
// digit, an x or a separator.
func hasWildX(tok string) bool {
	t := strings.ToLower(tok)
	for i := 1; i < len(t); i++ {
		if t[i] != 'x' {
			continue
		}
		prev := t[i-1]
		if !(prev >= '0' && prev <= '9' || prev == 'x' || prev == '/' || prev == '-') {
			continue
		}
		if prev == '/' || prev == '-' {
			// "/xxx": a run of at least two x.
			if i+1 < len(t) && t[i+1] == 'x' {
				return true
			}
			continue
		}
		if i+1 == len(t) {
			return true
		}
		next := t[i+1]
		if next >= '0' && next <= '9' || next == 'x' || next == '-' || next == '/' {
			return true
		}
	}
	return false
}

// globMatch reports whether the squashed token s matches the squashed
// pattern p, where '*' stands for any run of characters, x for any one
// character (patterns are only tokens found to use x as a placeholder) and
// "(en)" for optional letters.
func globMatch(p, s string) bool {
	return globAt(p, s, 0)
}

func globAt(p, s string, depth int) bool {
	if depth > 64 {
		return false
	}
	lastX := false
	for len(p) > 0 {
		switch {
		case p[0] == '*':
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			for i := 0; i <= len(s); i++ {
				if globAt(p, s[i:], depth+1) {
					return true
				}
			}
			return false
		case p[0] == '(':
			end := strings.IndexByte(p, ')')
			if end < 0 {
				return false
			}
			opt := p[1:end]
			if strings.HasPrefix(s, opt) && globAt(p[end+1:], s[len(opt):], depth+1) {
				return true
			}
			p = p[end+1:]
			lastX = false
		case p[0] == 'x' && len(s) > 0:
			p, s = p[1:], s[1:]
			lastX = true
		case len(s) > 0 && p[0] == s[0]:
			p, s = p[1:], s[1:]
			lastX = false
		default:
			return false
		}
	}
	// "1756-L8x" also covers 1756-L83E: letters may follow a final
	// placeholder.
	return len(s) == 0 || lastX && isLetters(s)
}

// expandSlash splits a token with slashes into the models it lists:
// "q04/06/10udehcpu" → q04udehcpu q06udehcpu q10udehcpu; "nie55/nie59" →
// nie55 nie59; "eagle20/30" → eagle20 eagle30; "afs660/665s" → afs660s
// afs665s afs660. A WAGO variant suffix ("750-8207/025-001") is part of
// the model; an all-placeholder variant ("750-831/xxx-xxx") also matches
// the model without it.
func expandSlash(tok string) []string {
	if strings.ContainsRune(tok, '*') {
		return []string{tok} // a pattern: "fx5u(c)-**m*/**"
	}
	parts := strings.Split(tok, "/")
	var nonEmpty []string
	for _, p := range parts {
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	if len(nonEmpty) < 2 {
		return []string{strings.Trim(tok, "/")}
	}
	last := nonEmpty[len(nonEmpty)-1]
	if variantRe.MatchString(last) && len(nonEmpty) == 2 {
		if strings.Trim(last, "x-") == "" {
			return []string{tok, nonEmpty[0]}
		}
		return []string{tok}
	}
	// A list of numbers sharing the first part's letters and the last
	// part's suffix: prefix, numbers, suffix.
	first := nonEmpty[0]
	lp := leadingLetters(first)
	coreFirst := first[len(lp):]
	ld := leadingDigits(last)
	suffix := last[len(ld):]
	if lp != "" && isDigits(coreFirst) && ld != "" {
		ok := true
		for _, m := range nonEmpty[1 : len(nonEmpty)-1] {
			if !isDigits(m) {
				ok = false
			}
		}
		if ok {
			out := make([]string, 0, len(nonEmpty)+1)
			for i, p := range nonEmpty {
				core := p
				switch i {
				case 0:
					core = coreFirst
				case len(nonEmpty) - 1:
					core = ld
				}
				out = append(out, lp+core+suffix)
			}
			if len(suffix) == 1 && isLetters(suffix) {
				// "AFS660/665S" may also mean AFS660 and AFS665S.
				out = append(out, lp+coreFirst)
			}
			return out
		}
	}
	return nonEmpty
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

var variantRe = regexp.MustCompile(`^[0-9x]{3}-[0-9x]{3}$`)

func leadingLetters(s string) string {
	i := 0
	for i < len(s) && s[i] >= 'a' && s[i] <= 'z' {
		i++
	}
	return s[:i]
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// shape reduces a token to its pattern of letters (a), digits (9) and
// separators (-), runs collapsed: "315-2" → "9-9", "x208" → "a9". Two
// different models of the same shape are different products.
func shape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		var k byte
		switch {
		case c >= 'a' && c <= 'z':
			k = 'a'
		case c >= '0' && c <= '9':
			k = '9'
		default:
			k = '-'
		}
		if len(b) == 0 || b[len(b)-1] != k {
			b = append(b, k)
		}
	}
	return string(b)
}

// stem drops a plural s from longer words: "engines" → "engine".
func stem(w string) string {
	if len(w) >= 5 && w[len(w)-1] == 's' && w[len(w)-2] != 's' && w[len(w)-2] != 'u' {
		return w[:len(w)-1]
	}
	return w
}

// splitName breaks a lower-case product name into its plain part and the
// parenthesised remarks that follow a space.
func splitName(s string) (plain string, remarks []string) {
	var b strings.Builder
	for {
		i := strings.Index(s, "(")
		if i < 0 {
			b.WriteString(s)
			break
		}
		if i > 0 && s[i-1] != ' ' {
			// glued: "fx5u(c)", "02.07.07(10)"; keep it in the token
			j := strings.IndexByte(s[i:], ')')
			if j < 0 {
				b.WriteString(s)
				break
			}
			b.WriteString(s[:i+j+1])
			s = s[i+j+1:]
			continue
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			b.WriteString(s[:i])
			remarks = append(remarks, s[i+1:])
			break
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		remarks = append(remarks, s[i+1:i+j])
		s = s[i+j+1:]
	}
	return b.String(), remarks
}

// tokenize breaks text into tokens, keeping the characters that belong to
// model names ("-", "/", ".", "*", glued parentheses).
func tokenize(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		switch r {
		case ' ', '\t', ',', ';', ':', '&', '+', '[', ']', '"', '\'', '!', '|', '=', '<', '>', '#', '?', '®', '™':
			return true
		}
		return r == 0xa0
	})
}

// analyzeName breaks a product name into order numbers and token groups.
// extraIDs are order numbers given apart from the name (model numbers of
// the product identification helper).
func analyzeName(name string, extraIDs []string) nameInfo {
	var ni nameInfo
	if g, ok := acronymList(name); ok {
		ni.groups = append(ni.groups, g)
		return ni
	}
	s := strings.ToLower(markPlaceholders(specRe.ReplaceAllString(name, " ")))
	s = strings.ReplaceAll(s, "software controller", "softwarecontroller")
	s = containingRe.ReplaceAllString(s, " ")
	s = cpuSuffixRe.ReplaceAllString(s, "${1}cpu")
	for _, m := range mlfbRe.FindAllString(s, -1) {
		ni.ids = append(ni.ids, normID(m))
	}
	s = mlfbRe.ReplaceAllString(s, " ")
	s = stripVendors(s)
	s = s7Re.ReplaceAllString(s, "s7-$1")
	s = et2Re.ReplaceAllString(s, "et200")
	for _, id := range extraIDs {
		if n := normID(id); n != "" {
			ni.ids = append(ni.ids, n)
		}
	}
	ni.series = strings.Contains(s, "series")
	plain, remarks := splitName(s)
	prev := ni.addTokens(plain, false)
	for _, r := range remarks {
		toks := tokenize(r)
		if len(toks) == 1 && len(toks[0]) >= 2 && len(toks[0]) <= 6 && isLetters(toks[0]) {
			if words := initialsOf(prev, toks[0]); words != nil {
				ni.acronyms = append(ni.acronyms, acronym{abbr: toks[0], words: words})
				continue
			}
		}
		ni.addTokens(r, true)
	}
	// A remark holds the model when the name has none: "Network
	// Automation Engine (NAE55 only)".
	if !slices.ContainsFunc(ni.groups, func(g group) bool { return g.kind == tkModel && !g.optional }) {
		for i := range ni.groups {
			if ni.groups[i].kind == tkModel {
				ni.groups[i].optional = false
			}
		}
	}
	// A name made only of stop words ("Automation Runtime") is identified
	// by them, when there are at least two ("Series B" says nothing).
	if !ni.hasIdentity() {
		n := 0
		for _, g := range ni.groups {
			if g.stop && !g.optional {
				n++
			}
		}
		for i := range ni.groups {
			ni.groups[i].stop = n < 2 && ni.groups[i].stop
		}
	}
	slices.Sort(ni.ids)
	ni.ids = slices.Compact(ni.ids)
	return ni
}

// isStopWord reports whether a word, or its singular, is a stop word.
func isStopWord(w string) bool { return stopWords[w] || stopWords[stem(w)] }

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

// initialsOf returns the last len(abbr) words of prev when their initials
// spell abbr ("site edition" and "se").
func initialsOf(prev []string, abbr string) []string {
	if len(prev) < len(abbr) {
		return nil
	}
	words := prev[len(prev)-len(abbr):]
	for i, w := range words {
		if w == "" || w[0] != abbr[i] {
			return nil
		}
	}
	return slices.Clone(words)
}

// addTokens adds the groups of one part of a name and returns its word
// tokens in order (for acronyms).
func (ni *nameInfo) addTokens(s string, optional bool) []string {
	var words []string
	for _, tok := range tokenize(s) {
		tok = strings.Trim(tok, ".-/()")
		if tok == "" {
			continue
		}
		if isID(tok) {
			ni.ids = append(ni.ids, normID(tok))
		}
		alts := expandSlash(tok)
		g := group{optional: optional}
		hasDigit := strings.ContainsFunc(tok, isDigit)
		switch {
		case !hasDigit:
			g.kind = tkWord
			var stops []string
			for _, a := range alts {
				for _, w := range strings.FieldsFunc(a, func(r rune) bool { return r == '-' || r == '.' || r == '(' || r == ')' || r == '*' }) {
					if len(w) < 2 {
						continue
					}
					st := stem(w)
					if isStopWord(w) {
						stops = append(stops, st)
						continue
					}
					g.alts = append(g.alts, st)
				}
			}
			if len(g.alts) == 0 {
				g.alts, g.stop = stops, true
			}
			words = append(words, strings.Trim(tok, "-."))
		case verTokRe.MatchString(tok):
			g.kind = tkVer
			g.alts = []string{tok[1:]}
		case isDigits(tok) && len(tok) <= 2:
			g.kind = tkNum
			g.alts = []string{tok}
			g.optional = true
		default:
			g.kind = tkModel
			for _, a := range alts {
				if ni.series {
					// "UC-8100 Series" is UC-81xx.
					if m := seriesRe.FindStringSubmatch(a); m != nil {
						a = m[1] + "xx"
					}
				}
				if strings.ContainsRune(a, '*') || hasWildX(a) || strings.Contains(a, "(") {
					g.wild = true
				}
				g.alts = append(g.alts, squash(a))
			}
		}
		if len(g.alts) == 0 {
			continue
		}
		slices.Sort(g.alts)
		g.alts = slices.Compact(g.alts)
		ni.groups = append(ni.groups, g)
	}
	return words
}

// hasIdentity reports whether the name says anything that can identify a
// product: a required model or word, or an order number.
func (ni *nameInfo) hasIdentity() bool {
	if len(ni.ids) > 0 {
		return true
	}
	for _, g := range ni.groups {
		if !g.optional && !g.stop && (g.kind == tkModel || g.kind == tkWord) {
			return true
		}
	}
	return false
}

// hasGroupIdentity reports whether the name has a required model or word
// besides its order numbers.
func (ni *nameInfo) hasGroupIdentity() bool {
	for _, g := range ni.groups {
		if !g.optional && !g.stop && (g.kind == tkModel || g.kind == tkWord) {
			return true
		}
	}
	return false
}

// looksLikeModel reports whether the name of a product_version branch is a
// model or order number rather than a version ("1783-SAD2T2SBK9",
// "HEN04103", "S7-1211", "CODESYS Control for PFC200", "2404577").
func looksLikeModel(s string) bool {
	t := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(t, "vers:") || t == "" {
		return false
	}
	if strings.Contains(t, "xxx") || strings.Contains(t, "/") && strings.Contains(t, "-") {
		return true
	}
	if articleRe.MatchString(t) {
		return true
	}
	first := strings.IndexFunc(t, isDigit)
	if first < 0 {
		return true
	}
	for _, w := range strings.FieldsFunc(t[:first], notLetter) {
		if !versionPrefixWords[w] && w != "v" && w != "r" && w != "fw" && w != "mx" && w != "vx" && w != "sr" {
			return true
		}
	}
	// A segment alternating letters and digits three times is a catalog
	// number, not a version ("sad2t2sbk9").
	for _, seg := range strings.FieldsFunc(t, func(r rune) bool { return r == '-' || r == ' ' || r == '/' }) {
		runs := 0
		prev := byte(0)
		for i := 0; i < len(seg); i++ {
			k := byte('9')
			if seg[i] >= 'a' && seg[i] <= 'z' {
				k = 'a'
			}
			if k != prev {
				runs++
				prev = k
			}
		}
		if runs >= 5 {
			return true
		}
	}
	return false
}

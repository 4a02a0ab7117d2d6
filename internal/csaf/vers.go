package csaf

import (
	"regexp"
	"slices"
	"strings"
)

// An op is the comparator of one range constraint.
type op uint8

const (
	opEQ op = iota
	opNE
	opLT
	opLE
	opGT
	opGE
)

var opNames = [...]string{opEQ: "=", opNE: "!=", opLT: "<", opLE: "<=", opGT: ">", opGE: ">="}

// A constraint is one comparator and version of a range.
type constraint struct {
	op op
	v  version
}

// A versRange is the set of versions a product entry covers, read from a
// `vers:` range, a CSAF product_version_range branch or a free-text range
// ("<= 8.3.5", ">= V2.0 < V3.0", "All versions < V1.03", "1.0 to 2.3",
// "5.1 | 6.0", "2.8.2 and 2.8.19"). Unknown holds the parts that could not
// be read as a version; a version outside the readable parts may still be
// inside those.
type versRange struct {
	all     bool
	cons    []constraint
	unknown []string
}

// rangeVerdict is how a version relates to a range.
type rangeVerdict uint8

const (
	rangeOut     rangeVerdict = iota // the version is outside the range
	rangeIn                          // the version is inside the range
	rangeUnknown                     // the range cannot tell (unreadable parts)
)

var (
	// parenComment is a parenthesised remark after a space: "(CVE-... only)",
	// "(ME)", "(These products are sold in limited regions)". Parentheses
	// glued to a version ("02.07.07(10)", "15.2(4)EA7") stay.
	parenComment = regexp.MustCompile(`\s+\([^()]*\)`)
	allVersions  = regexp.MustCompile(`^all\s+(?:versions?|variants|firmware(?:\s+versions?)?|releases)\b`)
	andLater     = regexp.MustCompile(`^(.+?)\s+(?:and|or)\s+(?:later|newer|higher|above|greater|after)$`)
	andPrior     = regexp.MustCompile(`^(.+?)\s+(?:and|or)\s+(?:prior|earlier|older|below|lower|before)(?:\s+versions?)?$`)
	priorTo      = regexp.MustCompile(`^(?:prior\s+to|before|earlier\s+than|older\s+than|below|up\s+to)\s+(.+)$`)
	upToIncl     = regexp.MustCompile(`\s*up\s+to\s+and\s+including\s*`)
	spanSep      = regexp.MustCompile(`^(.+?)\s*(?:\s-\s|\s–\s|—|\sto\s|\sthrough\s|\sthru\s)\s*(.+)$`)
	intSpan      = regexp.MustCompile(`^(\d+)-(\d+)$`)
	constraintRe = regexp.MustCompile(`(<=|>=|!=|=<|=>|<|>|=)?\s*([^<>=!]+)`)
)

// parseRange reads the versions a product entry covers from the name of a
// product_version (point is true: a single version or a "|" list of them)
// or product_version_range branch, or from any free-text range.
func parseRange(s string, point bool) versRange {
	var r versRange
	t := strings.TrimSpace(s)
	if t == "" {
		r.all = true
		return r
	}
	lower := strings.ToLower(t)
	if strings.HasPrefix(lower, "vers:") {
		rest := lower[len("vers:"):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			rest = rest[i+1:]
		}
		rest = strings.TrimSpace(rest)
		if rest == "*" || rest == "" {
			r.all = true
			return r
		}
		for _, c := range strings.Split(rest, "|") {
			r.addConstraints(c, false)
		}
		r.sort()
		return r
	}
	lower = parenComment.ReplaceAllString(lower, "")
	lower = strings.ReplaceAll(lower, "_", " ")
	lower = strings.TrimSpace(strings.Join(strings.Fields(lower), " "))
	lower = strings.TrimSuffix(lower, " are affected")
	lower = strings.TrimSuffix(lower, " including hotfixes")
	if m := allVersions.FindString(lower); m != "" {
		rest := strings.TrimSpace(lower[len(m):])
		if rest == "" || !strings.ContainsAny(rest, "<>=") && !strings.ContainsFunc(rest, isDigit) {
			r.all = true
			return r
		}
		lower = rest
	}
	lower = upToIncl.ReplaceAllString(lower, " | <= ")
	for _, part := range strings.Split(lower, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		r.addPhrase(part, point)
	}
	r.sort()
	return r
}

// addPhrase reads one "|"-separated part of a free-text range.
func (r *versRange) addPhrase(p string, point bool) {
	// Words before the first comparator that carry no digit name a part
	// of the product ("BIOS < V20.01.10"): drop them.
	if i := strings.IndexAny(p, "<>="); i > 0 && !strings.ContainsFunc(p[:i], isDigit) {
		p = strings.TrimSpace(p[i:])
	}
	switch {
	case andLater.MatchString(p):
		r.addConstraints(">="+andLater.FindStringSubmatch(p)[1], point)
	case andPrior.MatchString(p):
		r.addConstraints("<="+andPrior.FindStringSubmatch(p)[1], point)
	case priorTo.MatchString(p):
		r.addConstraints("<"+priorTo.FindStringSubmatch(p)[1], point)
	case intSpan.MatchString(p):
		m := intSpan.FindStringSubmatch(p)
		if len(m[1]) <= len(m[2]) && m[1] < m[2] || len(m[1]) < len(m[2]) {
			r.addConstraints(">="+m[1], point)
			r.addConstraints("<="+m[2], point)
		} else {
			r.addConstraints(p, point)
		}
	case !strings.ContainsAny(p, "<>=") && spanSep.MatchString(p):
		m := spanSep.FindStringSubmatch(p)
		r.addConstraints(">="+m[1], point)
		r.addConstraints("<="+m[2], point)
	case !strings.ContainsAny(p, "<>=") && strings.Contains(p, " and "):
		for _, q := range strings.Split(p, " and ") {
			r.addConstraints(q, point)
		}
	default:
		r.addConstraints(p, point)
	}
}

// addConstraints reads one or more comparator-version pairs
// (">= V1.1.0 < V2.0"). A version without comparator is an exact version.
func (r *versRange) addConstraints(s string, _ bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	if s == "*" {
		r.all = true
		return
	}
	for _, m := range constraintRe.FindAllStringSubmatch(s, -1) {
		text := strings.TrimSpace(m[2])
		if text == "" {
			continue
		}
		var o op
		switch m[1] {
		case "", "=":
			o = opEQ
		case "!=":
			o = opNE
		case "<":
			o = opLT
		case "<=", "=<":
			o = opLE
		case ">":
			o = opGT
		case ">=", "=>":
			o = opGE
		}
		if lo, hi, ok := digitPlaceholder(text); ok {
			// "R15x": releases 150 to 159.
			switch o {
			case opEQ:
				r.cons = append(r.cons, constraint{opGE, lo}, constraint{opLE, hi})
			case opGE, opGT:
				r.cons = append(r.cons, constraint{opGE, lo})
			case opLE:
				r.cons = append(r.cons, constraint{opLE, hi})
			case opLT:
				r.cons = append(r.cons, constraint{opLT, lo})
			}
			continue
		}
		v, ok := parseVersion(text)
		if !ok {
			r.unknown = append(r.unknown, strings.TrimSpace(m[0]))
			continue
		}
		if (o == opEQ || o == opLE) && len(v.parts) == 1 && v.parts[0].word == "" {
			// A bare major version ("Versions 20-33", "version 10 and
			// prior", "<=50") covers its minor versions: 33.011 is in
			// version 33.
			v.wild = true
		}
		if o == opEQ && v.wild {
			// "2.x" as a point is every 2.* version.
			r.cons = append(r.cons, constraint{opGE, v}, constraint{opLE, v})
			continue
		}
		r.cons = append(r.cons, constraint{o, v})
	}
}

var digitPlaceholderRe = regexp.MustCompile(`^(?i)r?(\d+)x$`)

// digitPlaceholder reads a release written with a digit placeholder,
// "R15x", as the versions 150 to 159.
func digitPlaceholder(s string) (lo, hi version, ok bool) {
	m := digitPlaceholderRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || len(m[1]) > 17 {
		return lo, hi, false
	}
	var n uint64
	for i := 0; i < len(m[1]); i++ {
		n = n*10 + uint64(m[1][i]-'0')
	}
	lo = version{parts: []vpart{{n: n * 10}}}
	hi = version{parts: []vpart{{n: n*10 + 9}}, wild: true}
	return lo, hi, true
}

// sort orders the constraints by version, as the vers specification
// requires, keeping the written order of equal versions.
func (r *versRange) sort() {
	slices.SortStableFunc(r.cons, func(a, b constraint) int { return compareVersions(a.v, b.v) })
}

// majorsOnly reports whether every bound is a bare number ("version 10
// and prior"), as WAGO writes firmware indexes.
func (r *versRange) majorsOnly() bool {
	if r.all || len(r.cons) == 0 {
		return false
	}
	for _, c := range r.cons {
		if len(c.v.parts) != 1 || c.v.parts[0].word != "" {
			return false
		}
	}
	return true
}

// readable reports whether the range gives at least one usable bound.
func (r *versRange) readable() bool { return r.all || len(r.cons) > 0 }

// contains reports whether v lies in the range. The constraints are read
// as in the vers specification: "=" versions are points, "!=" versions are
// excluded, a lower bound followed by an upper bound is an interval, an
// upper bound with no lower bound before it starts at the lowest version
// and a lower bound with no upper bound after it has no end. Consecutive
// bounds of the same direction widen the interval rather than being an
// error, since free-text ranges repeat them.
func (r *versRange) contains(v version) rangeVerdict {
	if r.all {
		return rangeIn
	}
	in := false
	for _, c := range r.cons {
		switch c.op {
		case opNE:
			if compareVersions(v, c.v) == 0 {
				return rangeOut
			}
		case opEQ:
			if compareVersions(v, c.v) == 0 {
				in = true
			}
		}
	}
	if !in {
		in = r.inIntervals(v)
	}
	switch {
	case in:
		return rangeIn
	case len(r.unknown) > 0:
		return rangeUnknown
	}
	return rangeOut
}

// inIntervals walks the sorted bounds and reports whether v falls between a
// lower bound (or the start) and the next upper bound (or the end).
func (r *versRange) inIntervals(v version) bool {
	lowerOpen := false // a lower bound is pending
	var lower constraint
	sawBound := false
	for _, c := range r.cons {
		switch c.op {
		case opGT, opGE:
			sawBound = true
			if !lowerOpen {
				lower, lowerOpen = c, true
			}
		case opLT, opLE:
			sawBound = true
			if !lowerOpen || aboveLower(v, lower) {
				if belowUpper(v, c) {
					return true
				}
			}
			lowerOpen = false
		}
	}
	return sawBound && lowerOpen && aboveLower(v, lower)
}

func aboveLower(v version, c constraint) bool {
	cmp := compareVersions(v, c.v)
	return cmp > 0 || cmp == 0 && c.op == opGE
}

func belowUpper(v version, c constraint) bool {
	cmp := compareVersions(v, c.v)
	return cmp < 0 || cmp == 0 && c.op == opLE
}

// String writes the range in vers-like notation for reasons and tests:
// "*" for every version, otherwise the constraints joined by "|", with
// unreadable parts in braces.
func (r versRange) String() string {
	if r.all {
		return "*"
	}
	var parts []string
	for _, c := range r.cons {
		o := opNames[c.op]
		if c.op == opEQ {
			o = ""
		}
		parts = append(parts, o+c.v.String())
	}
	for _, u := range r.unknown {
		parts = append(parts, "{"+u+"}")
	}
	return strings.Join(parts, "|")
}

package csaf

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// A Device is what the inventory knows about one asset, as its protocols
// reported it. Every field may be empty.
type Device struct {
	Vendor      string // "Rockwell Automation/Allen-Bradley", "Siemens", "WAGO"
	Model       string // model or order number: "1756-L83E/B", "6ES7 315-2EH14-0AB0"
	Product     string // product name: "CPU 315-2 PN/DP", "SCALANCE X208", "Metasys NAE55"
	ProductCode string // article or order number; a plain vendor product code (CIP, Modbus) is ignored
	Firmware    string // "V3.2.6", "33.011", "4.5 SP1 Upd 2"; empty when unknown
}

// A Verdict says how sure a match is that a device is affected.
type Verdict uint8

const (
	// PossiblyAffected: the device may be affected, but the firmware is
	// unknown or unreadable, the advisory's version range cannot be read,
	// the vendor is unknown, or the product name matches only in part.
	PossiblyAffected Verdict = iota + 1
	// Affected: vendor and product match and the firmware is inside an
	// affected range.
	Affected
)

// String returns "affected" or "possibly affected".
func (v Verdict) String() string {
	switch v {
	case Affected:
		return "affected"
	case PossiblyAffected:
		return "possibly affected"
	}
	return "not affected"
}

// A Match is one advisory that concerns a device. Versions outside the
// affected ranges, fixed versions and products listed as not affected give
// no Match.
type Match struct {
	Advisory *Advisory
	// Product is the advisory product the device was matched to (the best
	// one when several are).
	Product *Product
	Verdict Verdict
	// Confidence is from 0 to 1: how sure the match is, combining the
	// vendor, product and version evidence (see Level).
	Confidence float64
	// Reasons say, in order, why the vendor, the product and the version
	// matched, and what is uncertain.
	Reasons []string
	// CVEs and Vulnerabilities are those of the advisory that concern the
	// device with this verdict, in document order.
	CVEs            []string
	Vulnerabilities []*Vulnerability
	// Remediations are the advisory's remediations for Product, in
	// document order, without repeats.
	Remediations []Remediation
	// FixedIn is the first fixed version when a vendor fix names one
	// ("Update to V2.9.4 or later"), else "".
	FixedIn string
}

// Level names the confidence: "high" from 0.8, "medium" from 0.5, else
// "low".
func (m *Match) Level() string {
	switch {
	case m.Confidence >= 0.8:
		return "high"
	case m.Confidence >= 0.5:
		return "medium"
	}
	return "low"
}

// A Catalog holds advisories and an index of their products for matching.
// It is safe for concurrent use once built.
type Catalog struct {
	// Advisories are sorted by tracking ID.
	Advisories []*Advisory

	byID    map[string]*Advisory
	advs    []catAdvisory
	vendors []vendorAdvisories // by vendor key, sorted
	index   productIndex
	scratch sync.Pool // *scratch

	// names remembers prepared device names: an inventory has many
	// devices of few models.
	namesMu sync.Mutex
	names   map[nameKey]*preparedName
}

// vendorAdvisories lists the advisories that name one vendor.
type vendorAdvisories struct {
	keys []string // the one vendor key, as vendorsMatch takes it
	advs []int32  // indexes into Catalog.advs
}

// catAdvisory is one advisory's matching data.
type catAdvisory struct {
	adv     *Advisory
	entries []entry
	first   int32 // catalog-wide number of entries[0] (see productIndex)
	vulns   []vulnRefs
	rems    [][]remRef // by entry: the remediations that name its product
	vendors []string
}

// A remRef is one remediation of an advisory: the index of its
// vulnerability, its index there, and the number of its category and
// details text (remediations with the same number say the same).
type remRef struct {
	vuln, rem, text int32
}

// vulnRefs are the product status lists of one vulnerability, resolved to
// entries: the affected products (known, first, last affected) and those
// that rule the vulnerability out (fixed, first fixed, known not
// affected), each in document order.
type vulnRefs struct {
	affected, excluding []productRef
}

// A productRef is a product ID of a status list and its entry, -1 when the
// product tree does not define it.
type productRef struct {
	id    string
	entry int32
}

// An entry is one product of an advisory prepared for matching.
type entry struct {
	prod     *Product
	vendors  []string
	name     nameInfo
	display  string // the name shown in reasons
	rng      versRange
	rngText  string
	noRange  bool   // the advisory gives no version for the product
	fwIndex  bool   // the range counts WAGO firmware indexes ("< FW14")
	fixed    string // first fixed version named by a vendor fix, if any
	fixedVer version
}

// NewCatalog indexes advisories for matching. Advisories with the same
// tracking ID are reduced to the newest.
func NewCatalog(advs ...*Advisory) *Catalog {
	c := &Catalog{byID: map[string]*Advisory{}}
	c.Advisories = dedupe(advs)
	byVendor := map[string][]int32{}
	first := int32(0)
	for i, a := range c.Advisories {
		c.byID[a.ID] = a
		ca := prepare(a)
		ca.first = first
		first += int32(len(ca.entries))
		c.advs = append(c.advs, ca)
		for _, k := range ca.vendors {
			byVendor[k] = append(byVendor[k], int32(i))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(byVendor)) {
		c.vendors = append(c.vendors, vendorAdvisories{keys: []string{k}, advs: byVendor[k]})
	}
	c.index = buildIndex(c.advs)
	return c
}

// Advisory returns the advisory with the tracking ID, or nil.
func (c *Catalog) Advisory(id string) *Advisory { return c.byID[id] }

// Len returns the number of advisories.
func (c *Catalog) Len() int { return len(c.Advisories) }

// prepare builds the matching entries of one advisory's products.
func prepare(a *Advisory) catAdvisory {
	if a.products == nil {
		// An advisory built by hand rather than by Parse.
		a.products = make(map[string]*Product, len(a.Products))
		for _, p := range a.Products {
			a.products[p.ID] = p
		}
	}
	ca := catAdvisory{adv: a}
	index := make(map[string]int32, len(a.Products))
	fixedIn := fixedVersions(a)
	for _, p := range a.Products {
		e := entry{prod: p}
		var nameText string
		var ids []string
		switch r := p.Relationship; {
		case r != nil && r.Platform != nil:
			plat := r.Platform
			e.vendors = vendorKeys(firstNonEmpty(plat.Vendor, p.Vendor))
			nameText = strings.TrimSpace(plat.Family + " " + firstNonEmpty(plat.ProductName, plat.Name) + " " + plat.Model)
			ids = append(ids, plat.ModelNumbers...)
			e.display = p.Name
		default:
			e.vendors = vendorKeys(p.Vendor)
			nameText = strings.TrimSpace(p.Family + " " + p.ProductName + " " + p.Model)
			if p.ProductName == "" && p.Family == "" {
				nameText = p.Name
			}
			e.display = firstNonEmpty(strings.TrimSpace(p.Family+" "+p.ProductName+" "+p.Model), p.Name)
			ids = append(ids, p.ModelNumbers...)
		}
		// Order numbers written only in the full name count too (a
		// branch may misspell one the full name gets right).
		for _, id := range mlfbRe.FindAllString(strings.ToLower(p.Name), -1) {
			ids = append(ids, normID(id))
		}
		e.name = analyzeName(nameText, ids)
		switch {
		case p.VersionRange != "":
			e.rng, e.rngText = parseRange(p.VersionRange, false), p.VersionRange
		case p.Version != "":
			e.rng, e.rngText = parseRange(p.Version, true), p.Version
		default:
			e.rng.all, e.noRange = true, true
		}
		e.fwIndex = fwIndexRe.MatchString(e.rngText)
		if f, ok := fixedIn[p.ID]; ok && e.rng.all {
			e.fixed, e.fixedVer = f.text, f.v
		} else if ok {
			e.fixed = f.text
		}
		index[p.ID] = int32(len(ca.entries))
		ca.entries = append(ca.entries, e)
		ca.vendors = append(ca.vendors, e.vendors...)
	}
	slices.Sort(ca.vendors)
	ca.vendors = slices.Compact(ca.vendors)
	refs := func(lists ...[]string) []productRef {
		var out []productRef
		for _, list := range lists {
			for _, id := range list {
				i, ok := index[id]
				if !ok {
					i = -1
				}
				out = append(out, productRef{id, i})
			}
		}
		return out
	}
	ca.rems = make([][]remRef, len(ca.entries))
	texts := map[string]int32{}
	for vi, v := range a.Vulnerabilities {
		ca.vulns = append(ca.vulns, vulnRefs{
			affected:  refs(v.KnownAffected, v.FirstAffected, v.LastAffected),
			excluding: refs(v.Fixed, v.FirstFixed, v.KnownNotAffected),
		})
		for ri, r := range v.Remediations {
			k := r.Category + "\x00" + r.Details
			t, ok := texts[k]
			if !ok {
				t = int32(len(texts))
				texts[k] = t
			}
			rr := remRef{int32(vi), int32(ri), t}
			for _, id := range r.ProductIDs {
				if i, ok := index[id]; ok && (len(ca.rems[i]) == 0 || ca.rems[i][len(ca.rems[i])-1] != rr) {
					ca.rems[i] = append(ca.rems[i], rr)
				}
			}
		}
	}
	return ca
}

// fixedVersionRe finds the version a vendor fix names: "Update to V2.9.4
// or later", "Version 49 or later", "fixed in firmware version 2.26.2.4".
var fixedVersionRe = regexp.MustCompile(`(?i)(?:fixed in (?:firmware |software )?(?:version |release )?([vr]?\d+(?:\.\d+)+[a-z0-9]*)|(?:^|[\s:(])([vr]?\d+(?:\.\d+)*[a-z]?(?:\s+(?:sp|upd|update|hf)\s?\d+)*)\s+(?:or|and)\s+(?:later|higher|newer|above))`)

type fixedVersion struct {
	text string
	v    version
}

// fixedVersions reads the first fixed version of each product from the
// vendor-fix remediations that name one version for it: a remediation for
// that affected product alone, or one whose text starts with the product's
// name ("SIMATIC IPC477E: Update to V21.01.07 or higher").
func fixedVersions(a *Advisory) map[string]fixedVersion {
	out := map[string]fixedVersion{}
	conflict := map[string]bool{}
	for _, v := range a.Vulnerabilities {
		for _, r := range v.Remediations {
			if r.Category != "vendor_fix" || strings.Contains(strings.ToLower(r.Details), "prior to") {
				continue
			}
			ms := fixedVersionRe.FindAllStringSubmatch(r.Details, -1)
			if len(ms) != 1 {
				continue
			}
			text := firstNonEmpty(ms[0][1], ms[0][2])
			ver, ok := parseVersion(text)
			if !ok {
				continue
			}
			var affected []string
			for _, id := range r.ProductIDs {
				if v.Affects(id) {
					affected = append(affected, id)
				}
			}
			for _, id := range affected {
				p := a.products[id]
				if p == nil {
					continue
				}
				if len(affected) > 1 && (p.ProductName == "" || !strings.HasPrefix(strings.ToLower(r.Details), strings.ToLower(p.ProductName))) {
					continue
				}
				if prev, ok := out[id]; ok && compareVersions(prev.v, ver) != 0 {
					conflict[id] = true
				}
				out[id] = fixedVersion{text, ver}
			}
		}
	}
	for id := range conflict {
		delete(out, id)
	}
	return out
}

// level grades how well a product name matches a device.
type level uint8

const (
	lvlNone level = iota
	lvlMedium
	lvlHigh
)

// dtok is one model token of a device.
type dtok struct {
	s       string // squashed
	shape   string
	derived int  // index+1 into devInfo.derived when derived, else 0
	extra   bool // a split or joined form, not written as such
}

// devInfo is a Device prepared for matching.
type devInfo struct {
	vendors  []string
	ids      []string
	models   []dtok
	words    []string
	rawWords []string
	vers     []string // versions written in the name ("v7.4" → "7.4")
	derived  []derivedName
	fw       version
	fwOK     bool
	fwText   string
	label    string // how the device is named in reasons

	vendorText string
}

// fwIndexRe finds a range written in WAGO firmware indexes ("< FW14",
// ">FW16 up to and including FW26"); fwIndexOf reads the index of a
// firmware written "01.07.13(10)".
var (
	fwIndexRe   = regexp.MustCompile(`(?i)\bfw\s?\d`)
	fwIndexOfRe = mustQuick(`\((\d{1,3})\)\s*$`)
)

var devSplitRe = regexp.MustCompile(`^([a-z]{2,})(\d{2,}[a-z]?)$`)

// setFirmware reads the device's firmware version.
func (di *devInfo) setFirmware(fw string) {
	di.fwText = strings.TrimSpace(fw)
	di.fw, di.fwOK = version{}, false
	if di.fwText != "" {
		di.fw, di.fwOK = parseVersion(di.fwText)
	}
}

// prepareDeviceName prepares what names a device (vendor, model, product
// and product code), leaving the firmware unset. The result is only read
// by matching, so devices that differ only in firmware can share it.
func prepareDeviceName(d Device) *devInfo {
	di := &devInfo{vendorText: strings.TrimSpace(d.Vendor)}
	if d.Vendor != "" {
		di.vendors = vendorKeys(d.Vendor)
	}
	code := strings.TrimSpace(d.ProductCode)
	if isDigits(code) && !articleRe.MatchString(code) {
		code = "" // a numeric product code (CIP, Modbus) identifies nothing across vendors
	}
	text := strings.ToLower(strings.Join([]string{d.Model, d.Product, code}, " ; "))
	di.label = strings.TrimSpace(strings.Join(nonEmpty(d.Vendor, d.Product, d.Model), " "))
	di.derived = deriveFamilies(text)
	addText := func(s string, derived int) {
		ni := analyzeName(s, nil)
		di.ids = append(di.ids, ni.ids...)
		for _, g := range ni.groups {
			switch g.kind {
			case tkWord:
				di.words = append(di.words, g.alts...)
				if derived == 0 && !g.stop {
					di.rawWords = append(di.rawWords, g.alts...)
				}
			case tkVer:
				di.vers = append(di.vers, g.alts...)
			default:
				for _, a := range g.alts {
					di.models = append(di.models, dtok{s: a, shape: shape(a), derived: derived})
				}
			}
		}
		// Full tokens with slashes ("fx5u-32mt/es", "1756-l83e/b") stay
		// whole besides their parts, so patterns see them.
		for _, tok := range tokenize(strings.ToLower(s)) {
			if strings.Contains(tok, "/") && strings.ContainsFunc(tok, isDigit) {
				sq := squash(strings.Trim(tok, "/"))
				di.models = append(di.models, dtok{s: sq, shape: shape(sq), derived: derived, extra: true})
			}
		}
	}
	for _, s := range []string{d.Model, d.Product, code} {
		if s != "" {
			addText(s, 0)
		}
	}
	// A model or code written with spaces ("9EX9 910-0AA00-0AB0") is one
	// order number.
	for _, s := range []string{d.Model, code} {
		if s = strings.TrimSpace(s); strings.Contains(s, " ") && isID(s) {
			di.ids = append(di.ids, normID(s))
		}
	}
	for i, dn := range di.derived {
		addText(dn.name, i+1)
	}
	// Split "axc1050" into "axc" "1050" and add dash prefixes of
	// "eds-g516e-4gsfp" ("eds-g516e"), so that model names written
	// differently still meet.
	for _, tok := range tokenize(text) {
		tok = strings.Trim(tok, ".-/()")
		if m := devSplitRe.FindStringSubmatch(tok); m != nil {
			di.models = append(di.models, dtok{s: m[2], shape: shape(m[2]), extra: true})
			di.words = append(di.words, m[1])
		}
		segs := strings.Split(tok, "-")
		for k := len(segs) - 1; k >= 1; k-- {
			pre := strings.Join(segs[:k], "-")
			if strings.ContainsFunc(pre, isDigit) {
				sq := squash(pre)
				di.models = append(di.models, dtok{s: sq, shape: shape(sq), extra: true})
			}
		}
	}
	slices.Sort(di.ids)
	di.ids = slices.Compact(di.ids)
	return di
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if strings.TrimSpace(x) != "" {
			out = append(out, strings.TrimSpace(x))
		}
	}
	return out
}

// nameMatch is the outcome of comparing a device with one product name.
type nameMatch struct {
	lvl     level
	byID    string
	reasons []string
}

// matchName compares the device with an advisory product name. The rules,
// in order:
//
//  1. An order number of the device listed for the product matches with
//     high confidence; when both give order numbers and none is shared,
//     they are different products.
//  2. A name with model designations needs one of them matched by a model
//     of the device (equal after squashing, or by the name's placeholders
//     and patterns, or by a family the device's catalog number belongs
//     to), and no other model of the same shape ("315-2" is not "317-2").
//  3. Words of the name the device lacks lower the match to medium, unless
//     a specific model designation matched ("SEL-751" for "SEL-751 Feeder
//     Protection Relay") and none of them is a qualifier ("Armor",
//     "redundancy"); a device word of the same vendor's other product line
//     ("GuardLogix" for "ControlLogix") rules the match out.
//  4. A name made only of words needs all of them; it matches with high
//     confidence only when the device's name has no other word (a model
//     number is fine: "Metasys" names the line an NAE55 belongs to).
//  5. A version inside the name ("WinCC V7.4") must agree with the name
//     or the firmware of the device.
func matchName(n *nameInfo, d *devInfo, explain bool) nameMatch {
	for _, id := range n.ids {
		if slices.Contains(d.ids, id) {
			return nameMatch{lvl: lvlHigh, byID: id}
		}
	}
	if len(n.ids) > 0 && len(d.ids) > 0 {
		return nameMatch{}
	}
	if !n.hasGroupIdentity() {
		// Nothing but order numbers, and the device has none of them.
		return nameMatch{}
	}
	var (
		modelsTotal, modelsMatched int
		unmatchedShapes            []string
		unmatchedWords             []string
		verMissing                 bool
		usedDerived                []int
		strong, qualifier          bool
		wordsTotal, wordsMatched   int
	)
	for gi := range n.groups {
		g := &n.groups[gi]
		switch g.kind {
		case tkModel:
			ok, tok := modelGroupMatch(g, d)
			if !g.optional {
				modelsTotal++
			}
			if ok {
				if !g.optional {
					modelsMatched++
					if strongModel(tok.s) {
						strong = true
					}
				}
				if tok.derived > 0 {
					usedDerived = append(usedDerived, tok.derived-1)
				}
			} else if !g.optional && !g.wild {
				for _, a := range g.alts {
					unmatchedShapes = append(unmatchedShapes, shape(a))
				}
			}
		case tkWord:
			if g.optional || g.stop {
				continue
			}
			wordsTotal++
			if wordGroupMatch(g, n, d) {
				wordsMatched++
				continue
			}
			unmatchedWords = append(unmatchedWords, g.alts[0])
			if slices.ContainsFunc(g.alts, func(a string) bool { return qualifierWords[a] }) {
				qualifier = true
			}
			for _, a := range g.alts {
				for _, ex := range exclusiveWords {
					if !ex[a] {
						continue
					}
					for _, w := range d.words {
						if w != a && ex[w] {
							return nameMatch{}
						}
					}
				}
			}
		case tkVer:
			if !verGroupMatch(g, d) {
				if d.fwOK {
					return nameMatch{}
				}
				verMissing = true
			}
		}
	}
	if modelsTotal > 0 && modelsMatched == 0 {
		return nameMatch{}
	}
	// A device model that matches nothing in the name but has the shape
	// of a model the name requires and the device lacks is another model.
	if len(unmatchedShapes) > 0 {
		for _, t := range d.models {
			if t.extra || !slices.Contains(unmatchedShapes, t.shape) {
				continue
			}
			if !tokenInName(t, n) {
				return nameMatch{}
			}
		}
	}
	m := nameMatch{}
	switch {
	case modelsMatched > 0 && !strong && wordsTotal > 0 && wordsMatched == 0:
		// A bare number ("300") with none of the name's words is a
		// coincidence: "VSN300" is not "800xA for MOD 300".
		return nameMatch{}
	case modelsMatched > 0:
		m.lvl = lvlHigh
		if len(unmatchedWords) > 0 && (!strong || qualifier) {
			m.lvl = lvlMedium
			if explain {
				m.reasons = append(m.reasons, fmt.Sprintf("the advisory's product name has %s, which the device does not report", quoteList(unmatchedWords)))
			}
		}
	default:
		if len(unmatchedWords) > 0 {
			return nameMatch{}
		}
		m.lvl = lvlHigh
		var extra []string
		for _, w := range d.rawWords {
			if !nameHasWord(n, w) {
				extra = append(extra, w)
			}
		}
		if len(extra) > 0 {
			m.lvl = lvlMedium
			if explain {
				m.reasons = append(m.reasons, fmt.Sprintf("the device's name also has %s, which the advisory's does not", quoteList(extra)))
			}
		}
	}
	if verMissing && m.lvl == lvlHigh {
		m.lvl = lvlMedium
		if explain {
			m.reasons = append(m.reasons, "the advisory names a product version the device does not report")
		}
	}
	if explain {
		slices.Sort(usedDerived)
		for _, i := range slices.Compact(usedDerived) {
			dn := d.derived[i]
			m.reasons = append(m.reasons, fmt.Sprintf("%s is %s (%s)", dn.from, titleWords(dn.name), dn.why))
		}
	}
	return m
}

// modelGroupMatch reports whether a model of the device matches the group,
// and which.
func modelGroupMatch(g *group, d *devInfo) (bool, dtok) {
	for _, a := range g.alts {
		for _, t := range d.models {
			if t.s == a || g.wild && globMatch(a, t.s) {
				return true, t
			}
		}
	}
	return false, dtok{}
}

func wordGroupMatch(g *group, n *nameInfo, d *devInfo) bool {
	for _, a := range g.alts {
		if slices.Contains(d.words, a) {
			return true
		}
		for _, ac := range n.acronyms {
			if slices.Contains(ac.words, a) && slices.Contains(d.words, ac.abbr) {
				return true
			}
		}
	}
	return false
}

// verGroupMatch checks a version written in the name against the versions
// in the device's name and its firmware.
func verGroupMatch(g *group, d *devInfo) bool {
	for _, a := range g.alts {
		if slices.Contains(d.vers, a) {
			return true
		}
		if d.fwOK {
			want, ok := parseVersion(a)
			if !ok {
				continue
			}
			want.wild = true
			if compareVersions(d.fw, want) == 0 {
				return true
			}
		}
	}
	return false
}

// tokenInName reports whether a device model token matches any model of
// the name, required or not.
func tokenInName(t dtok, n *nameInfo) bool {
	for gi := range n.groups {
		g := &n.groups[gi]
		if g.kind != tkModel && g.kind != tkNum {
			continue
		}
		for _, a := range g.alts {
			if t.s == a || g.wild && globMatch(a, t.s) {
				return true
			}
		}
	}
	return false
}

func nameHasWord(n *nameInfo, w string) bool {
	for _, g := range n.groups {
		if g.kind == tkWord && slices.Contains(g.alts, w) {
			return true
		}
	}
	for _, ac := range n.acronyms {
		if ac.abbr == w || slices.Contains(ac.words, w) {
			return true
		}
	}
	return isStopWord(w)
}

func quoteList(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, ", ")
}

// result is the evaluation of one advisory product for one device.
type result struct {
	ok      bool // vendor and product match and the version is not excluded
	verdict Verdict
	conf    float64
	lvl     level
	vv      rangeVerdict
	reasons []string
}

// evaluate compares a device with one advisory product. The reasons are
// written only when explain is true; the rest of the result is the same.
func evaluate(e *entry, d *devInfo, explain bool) result {
	var r result
	vendorKnown := len(d.vendors) > 0
	related := false
	var vendorKey, relatedWhy string
	if vendorKnown {
		if k, ok := vendorsMatch(d.vendors, e.vendors); ok {
			vendorKey = k
		} else if why, ok := vendorsRelated(d.vendors, e.vendors); ok {
			related, relatedWhy = true, why
		} else {
			return r
		}
	}
	nm := matchName(&e.name, d, explain)
	if nm.lvl == lvlNone {
		return r
	}
	switch {
	case !vendorKnown:
		if explain {
			r.reasons = append(r.reasons, "vendor unknown")
		}
	case related:
		if explain {
			r.reasons = append(r.reasons, fmt.Sprintf("vendor %q is related to the advisory's %q (%s)", d.vendorText, e.prod.Vendor, relatedWhy))
		}
	default:
		if !explain {
			break
		}
		if name, ok := vendorDisplay(vendorKey); ok {
			r.reasons = append(r.reasons, fmt.Sprintf("vendor %q is %s, as is the advisory's %q", d.vendorText, name, e.prod.Vendor))
		} else {
			r.reasons = append(r.reasons, fmt.Sprintf("vendor %q matches the advisory's %q", d.vendorText, e.prod.Vendor))
		}
	}
	r.lvl = nm.lvl
	conf := 0.9
	switch {
	case nm.byID != "":
		conf = 0.95
		if explain {
			r.reasons = append(r.reasons, fmt.Sprintf("order number %s is listed for %q", nm.byID, e.display))
		}
	case nm.lvl == lvlHigh:
		if explain {
			r.reasons = append(r.reasons, fmt.Sprintf("product %q matches %q", d.label, e.display))
		}
	default:
		conf = 0.6
		if explain {
			r.reasons = append(r.reasons, fmt.Sprintf("product %q partly matches %q", d.label, e.display))
		}
	}
	r.reasons = append(r.reasons, nm.reasons...)

	// Version.
	switch {
	case !d.fwOK && d.fwText == "":
		r.vv = rangeUnknown
		if explain {
			r.reasons = append(r.reasons, fmt.Sprintf("firmware unknown; affected versions: %s", e.rangeDesc()))
		}
		conf *= 0.65
	case !d.fwOK:
		r.vv = rangeUnknown
		if explain {
			r.reasons = append(r.reasons, fmt.Sprintf("firmware %q is not a version this can compare; affected versions: %s", d.fwText, e.rangeDesc()))
		}
		conf *= 0.65
	case e.fixed != "" && e.rng.all && len(e.fixedVer.parts) > 0:
		if compareVersions(d.fw, e.fixedVer) >= 0 {
			r.vv = rangeOut
		} else {
			r.vv = rangeIn
			if explain {
				r.reasons = append(r.reasons, fmt.Sprintf("firmware %s is older than %s, the fixed version the vendor fix names", d.fwText, e.fixed))
			}
		}
	default:
		fw := d.fw
		if e.fwIndex || e.rng.majorsOnly() {
			if m := fwIndexOfRe.FindStringSubmatch(d.fwText); m != nil {
				fw, _ = parseVersion(m[1])
				if explain {
					r.reasons = append(r.reasons, fmt.Sprintf("firmware %s has firmware index FW%s", d.fwText, m[1]))
				}
			}
		}
		r.vv = e.rng.contains(fw)
		switch r.vv {
		case rangeIn:
			if e.noRange {
				if explain {
					r.reasons = append(r.reasons, "the advisory gives no version range for the product: every version is affected")
				}
				conf *= 0.9
			} else {
				if explain {
					r.reasons = append(r.reasons, fmt.Sprintf("firmware %s is within the affected versions %s", d.fwText, e.rangeDesc()))
				}
				if e.rng.all {
					conf *= 0.95
				}
			}
		case rangeUnknown:
			if explain {
				r.reasons = append(r.reasons, fmt.Sprintf("firmware %s is outside the readable part of %q; the rest cannot be compared", d.fwText, e.rngText))
			}
			conf *= 0.6
		}
	}
	if r.vv == rangeOut {
		return r
	}
	if !vendorKnown {
		conf *= 0.7
	}
	if related {
		conf *= 0.9
	}
	r.ok = true
	r.conf = conf
	if vendorKnown && r.lvl == lvlHigh && r.vv == rangeIn {
		r.verdict = Affected
	} else {
		r.verdict = PossiblyAffected
	}
	return r
}

// rangeDesc describes the entry's affected versions for reasons.
func (e *entry) rangeDesc() string {
	switch {
	case e.noRange:
		return "not given"
	case e.rngText != "":
		return fmt.Sprintf("%q", strings.TrimSpace(e.rngText))
	}
	return "all"
}

// Match returns the advisories that concern the device, best verdict
// first, then by confidence and advisory ID. A device matches an
// advisory's product when the vendors agree (see vendorKeys), the product
// names agree (see matchName) and the firmware is inside the product's
// affected versions. A vulnerability whose fixed or not-affected products
// include the device at the same or better product match is left out.
func (c *Catalog) Match(d Device) []Match {
	s := c.getScratch()
	defer c.scratch.Put(s)
	pn := c.prepareName(d, s)
	di := *pn.di // shares the name's slices, which matching only reads
	di.setFirmware(d.Firmware)
	return c.match(&di, pn.cands, s)
}

// match compares a prepared device with the candidate entries found for
// it (see candidates).
func (c *Catalog) match(di *devInfo, cands []int32, s *scratch) []Match {
	var out []Match
	for len(cands) > 0 {
		ai := c.index.entryAdv[cands[0]]
		ca := &c.advs[ai]
		n := 1
		for n < len(cands) && c.index.entryAdv[cands[n]] == ai {
			n++
		}
		x := s.advEval(ca, di)
		for _, g := range cands[:n] {
			x.state[g-ca.first] = entryCandidate
		}
		cands = cands[n:]
		if m, ok := matchAdvisory(x); ok {
			out = append(out, m)
		}
	}
	slices.SortStableFunc(out, func(a, b Match) int {
		switch {
		case a.Verdict != b.Verdict:
			return int(b.Verdict) - int(a.Verdict)
		case a.Confidence != b.Confidence:
			if a.Confidence > b.Confidence {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Advisory.ID, b.Advisory.ID)
	})
	return out
}

// States of an entry while one advisory is matched.
const (
	entryOther     uint8 = iota // the device cannot match the product name
	entryCandidate              // not evaluated yet
	entryDone                   // evaluated; see advEval.results
)

// advEval evaluates the entries of one advisory for one device, each at
// most once, and only those the index found as candidates.
type advEval struct {
	ca      *catAdvisory
	d       *devInfo
	state   []uint8
	results []result
}

// result returns the evaluation of entry i, or nil when the entry is
// unknown or the device cannot match its product name.
func (x *advEval) result(i int32) *result {
	if i < 0 {
		return nil
	}
	switch x.state[i] {
	case entryOther:
		return nil
	case entryCandidate:
		x.results[i] = evaluate(&x.ca.entries[i], x.d, false)
		x.state[i] = entryDone
	}
	return &x.results[i]
}

// matchAdvisory combines the product results of one advisory into a Match.
func matchAdvisory(x *advEval) (Match, bool) {
	type vres struct {
		vi   int
		best *result
		ref  productRef
	}
	var vr []vres
	ca := x.ca
	for vi := range ca.vulns {
		refs := &ca.vulns[vi]
		var best *result
		var bestRef productRef
		for _, p := range refs.affected {
			r := x.result(p.entry)
			if r == nil || !r.ok {
				continue
			}
			if best == nil || better(r, best) {
				best, bestRef = r, p
			}
		}
		if best == nil {
			continue
		}
		excluded := false
		for _, p := range refs.excluding {
			r := x.result(p.entry)
			if r != nil && r.lvl >= best.lvl && r.lvl != lvlNone && r.vv == rangeIn {
				excluded = true
			}
		}
		if !excluded {
			vr = append(vr, vres{vi, best, bestRef})
		}
	}
	if len(vr) == 0 {
		return Match{}, false
	}
	top := 0
	for i := range vr {
		if better(vr[i].best, vr[top].best) {
			top = i
		}
	}
	best := vr[top].best
	e := &ca.entries[vr[top].ref.entry]
	m := Match{
		Advisory:   ca.adv,
		Product:    ca.adv.products[vr[top].ref.id],
		Verdict:    best.verdict,
		Confidence: best.conf,
		Reasons:    evaluate(e, x.d, true).reasons,
		FixedIn:    e.fixed,
	}
	// The vulnerabilities of the best verdict, and the remediations for
	// the product among theirs, without repeats; both are in document
	// order.
	n := 0
	for _, r := range vr {
		if r.best.verdict == best.verdict {
			n++
		}
	}
	m.Vulnerabilities = make([]*Vulnerability, 0, n)
	var texts []int32
	var picked []remRef
	rems := ca.rems[vr[top].ref.entry]
	for _, r := range vr {
		if r.best.verdict != best.verdict {
			continue
		}
		v := ca.adv.Vulnerabilities[r.vi]
		m.Vulnerabilities = append(m.Vulnerabilities, v)
		if v.CVE != "" {
			m.CVEs = append(m.CVEs, v.CVE)
		}
		for len(rems) > 0 && int(rems[0].vuln) < r.vi {
			rems = rems[1:]
		}
		for ; len(rems) > 0 && int(rems[0].vuln) == r.vi; rems = rems[1:] {
			if !slices.Contains(texts, rems[0].text) {
				texts = append(texts, rems[0].text)
				picked = append(picked, rems[0])
			}
		}
	}
	if len(picked) > 0 {
		m.Remediations = make([]Remediation, len(picked))
		for i, p := range picked {
			m.Remediations[i] = ca.adv.Vulnerabilities[p.vuln].Remediations[p.rem]
		}
	}
	return m, true
}

// better orders product results: verdict, then confidence.
func better(a, b *result) bool {
	if a.verdict != b.verdict {
		return a.verdict > b.verdict
	}
	return a.conf > b.conf
}

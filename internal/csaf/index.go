package csaf

import "slices"

// A productIndex finds the advisory products a device can match by name,
// so that matching compares a device with a few products rather than with
// every product of its vendor's advisories (or of every advisory when the
// vendor is unknown).
//
// Entries are numbered across the catalog: advisory i's entries are
// first, first+1, ... (see catAdvisory.first). Each entry is listed under
// the tokens one of which a device needs for matchName to accept the
// product name:
//
//   - its order numbers (rule 1 of matchName);
//   - when the name has required models, every alternative of each of
//     them (rule 2); alternatives of groups with placeholders are
//     patterns, tried against every model token of the device;
//   - otherwise one required word group (rule 4 needs all of them): each
//     alternative, and the abbreviations of acronyms that spell one. The
//     group whose words the fewest entries need is chosen.
//
// A device is compared with the union of the entries listed under its
// order numbers, model tokens and words; every other entry would fail
// matchName, so the result is the same as comparing it with all.
type productIndex struct {
	entryAdv []int32            // entry → index into Catalog.advs
	ids      map[string][]int32 // order number → entries
	models   map[string][]int32 // squashed model → entries
	words    map[string][]int32 // word → entries
	patterns []pattern          // model patterns ("1756l8x", "fx5u(c)**m*/**")
	// byFirst lists the patterns that start with a literal byte;
	// anyFirst those that start with a placeholder.
	byFirst  map[byte][]int32
	anyFirst []int32
}

// A pattern is a model alternative with placeholders and the entries that
// need it.
type pattern struct {
	p       string
	entries []int32
}

// buildIndex indexes the entries of the catalog's advisories.
func buildIndex(advs []catAdvisory) productIndex {
	x := productIndex{
		ids:     map[string][]int32{},
		models:  map[string][]int32{},
		words:   map[string][]int32{},
		byFirst: map[byte][]int32{},
	}
	// How many entries need each word, to pick the rarest group.
	need := map[string]int{}
	for ai := range advs {
		for ei := range advs[ai].entries {
			x.entryAdv = append(x.entryAdv, int32(ai))
			n := &advs[ai].entries[ei].name
			if !n.hasGroupIdentity() || requiresModel(n) {
				continue
			}
			for gi := range n.groups {
				if g := &n.groups[gi]; requiredWord(g) {
					for _, k := range wordKeys(g, n) {
						need[k]++
					}
				}
			}
		}
	}
	patterns := map[string]int32{}
	add := func(m map[string][]int32, k string, e int32) {
		if l := m[k]; len(l) == 0 || l[len(l)-1] != e {
			m[k] = append(l, e)
		}
	}
	for ai := range advs {
		ca := &advs[ai]
		for ei := range ca.entries {
			e := ca.first + int32(ei)
			n := &ca.entries[ei].name
			for _, id := range n.ids {
				add(x.ids, id, e)
			}
			if !n.hasGroupIdentity() {
				continue
			}
			if requiresModel(n) {
				for gi := range n.groups {
					g := &n.groups[gi]
					if g.kind != tkModel || g.optional {
						continue
					}
					for _, a := range g.alts {
						add(x.models, a, e)
						if !g.wild {
							continue
						}
						pi, ok := patterns[a]
						if !ok {
							pi = int32(len(x.patterns))
							patterns[a] = pi
							x.patterns = append(x.patterns, pattern{p: a})
							if a != "" && a[0] != 'x' && a[0] != '*' && a[0] != '(' {
								x.byFirst[a[0]] = append(x.byFirst[a[0]], pi)
							} else {
								x.anyFirst = append(x.anyFirst, pi)
							}
						}
						if p := &x.patterns[pi]; len(p.entries) == 0 || p.entries[len(p.entries)-1] != e {
							p.entries = append(p.entries, e)
						}
					}
				}
				continue
			}
			var best []string
			bestCost := -1
			for gi := range n.groups {
				g := &n.groups[gi]
				if !requiredWord(g) {
					continue
				}
				keys := wordKeys(g, n)
				cost := 0
				for _, k := range keys {
					cost += need[k]
				}
				if bestCost < 0 || cost < bestCost {
					best, bestCost = keys, cost
				}
			}
			for _, k := range best {
				add(x.words, k, e)
			}
		}
	}
	return x
}

// requiresModel reports whether the name has a required model group.
func requiresModel(n *nameInfo) bool {
	return slices.ContainsFunc(n.groups, func(g group) bool { return g.kind == tkModel && !g.optional })
}

// requiredWord reports whether matchName requires the word group.
func requiredWord(g *group) bool { return g.kind == tkWord && !g.optional && !g.stop }

// wordKeys returns the device words any of which matches the word group
// (see wordGroupMatch): its alternatives and the abbreviations of the
// name's acronyms that spell one.
func wordKeys(g *group, n *nameInfo) []string {
	keys := slices.Clone(g.alts)
	for _, ac := range n.acronyms {
		if slices.ContainsFunc(g.alts, func(a string) bool { return slices.Contains(ac.words, a) }) {
			keys = append(keys, ac.abbr)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// scratch is the working memory of one Match call, reused through
// Catalog.scratch.
type scratch struct {
	gen   uint32
	entry []uint32 // entry → gen when already listed as a candidate
	adv   []uint32 // advisory → gen when its vendor matches the device's
	cands []int32
	eval  advEval
}

// getScratch takes a scratch from the pool, or makes one.
func (c *Catalog) getScratch() *scratch {
	if s, ok := c.scratch.Get().(*scratch); ok {
		return s
	}
	return &scratch{entry: make([]uint32, len(c.index.entryAdv)), adv: make([]uint32, len(c.advs))}
}

// next starts a new candidate search.
func (s *scratch) next() {
	s.gen++
	if s.gen == 0 {
		clear(s.entry)
		clear(s.adv)
		s.gen = 1
	}
}

// advEval returns an evaluator for the entries of one advisory, with no
// candidate marked.
func (s *scratch) advEval(ca *catAdvisory, d *devInfo) *advEval {
	x := &s.eval
	n := len(ca.entries)
	x.ca, x.d = ca, d
	x.state = slices.Grow(x.state[:0], n)[:n]
	clear(x.state)
	x.results = slices.Grow(x.results[:0], n)[:n]
	return x
}

// candidates appends to out the entries the device can match, sorted: the
// entries the index lists under its order numbers, model tokens and words,
// in advisories of its vendor (of any vendor when it has none).
func (c *Catalog) candidates(di *devInfo, s *scratch, out []int32) []int32 {
	s.next()
	byVendor := len(di.vendors) > 0
	if byVendor {
		for _, v := range c.vendors {
			_, ok := vendorsMatch(di.vendors, v.keys)
			if !ok {
				_, ok = vendorsRelated(di.vendors, v.keys)
			}
			if ok {
				for _, ai := range v.advs {
					s.adv[ai] = s.gen
				}
			}
		}
	}
	add := func(entries []int32) {
		for _, e := range entries {
			if s.entry[e] == s.gen {
				continue
			}
			s.entry[e] = s.gen
			if !byVendor || s.adv[c.index.entryAdv[e]] == s.gen {
				out = append(out, e)
			}
		}
	}
	x := &c.index
	for _, id := range di.ids {
		add(x.ids[id])
	}
	for _, w := range di.words {
		add(x.words[w])
	}
	for _, t := range di.models {
		add(x.models[t.s])
		if t.s != "" {
			for _, pi := range x.byFirst[t.s[0]] {
				if p := &x.patterns[pi]; globMatch(p.p, t.s) {
					add(p.entries)
				}
			}
		}
		for _, pi := range x.anyFirst {
			if p := &x.patterns[pi]; globMatch(p.p, t.s) {
				add(p.entries)
			}
		}
	}
	slices.Sort(out)
	return out
}

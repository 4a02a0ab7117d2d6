package postgres

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

// qb builds a WHERE clause with numbered parameters.
type qb struct {
	conds []string
	args  []any
}

// arg adds a parameter and returns its placeholder.
func (b *qb) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *qb) add(cond string) { b.conds = append(b.conds, cond) }

// and returns the conditions joined with AND, extra ones appended.
func (b *qb) and(extra ...string) string {
	c := append(slices.Clone(b.conds), extra...)
	if len(c) == 0 {
		return "true"
	}
	return strings.Join(c, " AND ")
}

func (b *qb) where(extra ...string) string { return " WHERE " + b.and(extra...) }

// eq returns col = v for one value, col = ANY(vals) for several (which
// the planner cannot use for an ordered index walk).
func eq[T any](b *qb, col string, vals []T) string {
	if len(vals) == 1 {
		return col + " = " + b.arg(vals[0])
	}
	return col + " = ANY(" + b.arg(vals) + ")"
}

// in adds eq's condition.
func in[T any](b *qb, col string, vals []T) { b.add(eq(b, col, vals)) }

// The facet dimensions coded by the dictionary, in filter.dims order, and
// the enumerated ones, in filter.enums order.
var (
	dimCols  = [6]string{"sensor", "site", "zone", "type", "category", "protocol"}
	enumCols = [3]string{"severity", "status", "engine"}
)

// dimIDs returns a combination's dictionary ids in dimCols order.
func (k *combo) dimIDs() [6]int32 {
	return [6]int32{k.sensor, k.site, k.zone, k.typ, k.category, k.protocol}
}

// term is one search term resolved against the dictionary.
type term struct {
	ids    []int32        // the strings the term matches
	combos map[int32]bool // the combinations with a facet dimension among them
	addrs  []int32        // the addresses of the parties whose text it matches
}

// filter is an alert query resolved against the dictionary.
type filter struct {
	q     store.AlertQuery
	dims  [6][]int32 // per dimCols; nil when not filtered
	enums [3][]int16 // per enumCols
	devs  []int32    // nil when not filtered
	terms []term
	none  bool // nothing can match
	// other: what makes none true is outside the facet dimensions (a
	// device or a term no alert can have), so no facet counts anything.
	other bool
}

// resolve normalizes q and maps its values to dictionary ids.
func (d *DB) resolve(ctx context.Context, q store.AlertQuery) (*filter, error) {
	r, err := store.ResolveAlertQuery(ctx, q, d.lookups)
	if err != nil {
		return nil, err
	}
	q = r.Query
	f := &filter{q: q, dims: r.Dims, devs: r.Devices, none: r.None, other: r.Other}
	f.enums = [3][]int16{store.Enums[int16](q.Severities), store.Enums[int16](q.Statuses), store.Enums[int16](q.Engines)}
	if q.Text != "" {
		if f.terms, err = d.matchText(ctx, q.Text); err != nil {
			return nil, err
		}
		for _, t := range f.terms {
			f.other = f.other || len(t.ids) == 0
		}
	}
	f.none = f.none || f.other
	return f, nil
}

// matchText resolves each term of text to the dictionary strings it
// matches (store.TermMatches) and the combinations and parties that have
// them.
func (d *DB) matchText(ctx context.Context, text string) ([]term, error) {
	if err := d.dict.refresh(ctx, d.pool); err != nil {
		return nil, d.fail("dictionary", err)
	}
	if err := d.combos.refresh(ctx, d.pool); err != nil {
		return nil, d.fail("facet combinations", err)
	}
	var out []term
	for _, t := range strings.Fields(text) {
		tw := store.Words(t)
		if len(tw) == 0 {
			continue
		}
		tm := term{ids: d.dict.match(tw), combos: map[int32]bool{}}
		set := make(map[int32]bool, len(tm.ids))
		for _, id := range tm.ids {
			set[id] = true
			// A party's text begins with its address (PartyKey), and is
			// " name" for a party without one (address id 0).
			s, _ := d.dict.str(id)
			first, _, _ := strings.Cut(s, " ")
			var addr int32 = -1
			if first == "" {
				addr = 0
			} else if a, err := store.NormalizeAddr(first); err == nil && a == first {
				if aid, ok := d.dict.id(a); ok {
					addr = aid
				}
			}
			if addr >= 0 && !slices.Contains(tm.addrs, addr) {
				tm.addrs = append(tm.addrs, addr)
			}
		}
		d.combos.all(func(id int32, k combo) {
			for _, v := range k.dimIDs() {
				if set[v] {
					tm.combos[id] = true
					return
				}
			}
		})
		out = append(out, tm)
	}
	return out, nil
}

// where adds f's conditions on alerts a to b: with dims, those on the
// facet dimensions; with devs, the devices filter (callers that query
// each device in its own branch leave it out).
func (f *filter) where(b *qb, dims, devs bool) {
	if dims {
		for i, ids := range f.dims {
			if ids != nil {
				in(b, "a."+dimCols[i], ids)
			}
		}
		for i, vals := range f.enums {
			if len(vals) > 0 {
				in(b, "a."+enumCols[i], vals)
			}
		}
	}
	if devs && f.devs != nil {
		p := b.arg(f.devs)
		b.add("(a.src = ANY(" + p + ") OR a.dst = ANY(" + p + "))")
	}
	if !f.q.From.IsZero() {
		b.add("a.last_ns >= " + b.arg(f.q.From.UnixNano()))
	}
	if !f.q.Until.IsZero() {
		b.add("a.last_ns < " + b.arg(f.q.Until.UnixNano()))
	}
	for _, t := range f.terms {
		ids := b.arg(t.ids)
		c := "a.srct = ANY(" + ids + ") OR a.dstt = ANY(" + ids + ")"
		if len(t.combos) > 0 {
			c = "a.combo = ANY(" + b.arg(members(t.combos)) + ") OR " + c
		}
		b.add("(" + c + ")")
	}
}

// members returns a set's members, sorted.
func members(m map[int32]bool) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// cubeRow is one row of alert_counts.
type cubeRow struct {
	combo  int32
	status int16
	n      int64
	key    combo
}

// cube reads the alert counts per combination and status.
func (d *DB) cube(ctx context.Context) ([]cubeRow, error) {
	rows, err := d.pool.Query(ctx, "SELECT combo, status, n FROM alert_counts WHERE n > 0")
	if err != nil {
		return nil, d.fail("alert counts", err)
	}
	return d.scanCube(ctx, rows)
}

// scanCube reads rows of (combo, status, count).
func (d *DB) scanCube(ctx context.Context, rows pgx.Rows) ([]cubeRow, error) {
	var out []cubeRow
	var r cubeRow
	if _, err := pgx.ForEachRow(rows, []any{&r.combo, &r.status, &r.n}, func() error {
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, d.fail("alert counts", err)
	}
	for i := range out {
		k, err := d.comboKey(ctx, out[i].combo)
		if err != nil {
			return nil, err
		}
		out[i].key = k
	}
	return out, nil
}

// matchDims reports whether a cube row passes f's dimension filters.
func (f *filter) matchDims(r *cubeRow) bool {
	for i, v := range r.key.dimIDs() {
		if f.dims[i] != nil && !slices.Contains(f.dims[i], v) {
			return false
		}
	}
	for i, v := range [3]int16{r.key.severity, r.status, r.key.engine} {
		if len(f.enums[i]) > 0 && !slices.Contains(f.enums[i], v) {
			return false
		}
	}
	return true
}

// filtersDims reports whether f filters on a facet dimension.
func (f *filter) filtersDims() bool {
	for _, ids := range f.dims {
		if ids != nil {
			return true
		}
	}
	for _, v := range f.enums {
		if len(v) > 0 {
			return true
		}
	}
	return false
}

// cubeText reports whether every term matches one of the combination's
// facet dimensions.
func (f *filter) cubeText(c int32) bool {
	for _, t := range f.terms {
		if !t.combos[c] {
			return false
		}
	}
	return true
}

// textCombos returns the combinations every term matches by a facet
// dimension.
func (f *filter) textCombos() []int32 {
	var out []int32
	for c := range f.terms[0].combos {
		if f.cubeText(c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// partyAddrs returns the addresses of the parties the terms matched.
func (f *filter) partyAddrs() []int32 {
	var out []int32
	for _, t := range f.terms {
		for _, a := range t.addrs {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Thresholds of the page planner (variables so that tests can force
// either plan).
var (
	// walkCost weighs the merged walks against walking the order's index:
	// a page merges walks when walks×matched×walkCost < total alerts.
	walkCost int64 = 1
	// maxBranches bounds the per-value index walks merged for a page.
	maxBranches = 64
	// maxPartyAddrs bounds the parties whose alerts facet counting looks
	// up by index; a search term matching more parties (such as "10")
	// makes it read every alert.
	maxPartyAddrs = 500
)

// sortKeys returns the columns of an order, most significant first.
func sortKeys(s store.Sort) []string {
	switch s {
	case store.SortSeverity:
		return []string{"severity", "last_ns", "rid"}
	case store.SortFirstDetection:
		return []string{"first_ns", "rid"}
	}
	return []string{"last_ns", "rid"}
}

// orderBy returns "ORDER BY" the keys of alias in direction dir.
func orderBy(alias string, keys []string, dir string) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = alias + k + dir
	}
	return " ORDER BY " + strings.Join(parts, ", ")
}

// deviceBranches returns one query per device and role of the alerts
// matching b that involve the device, as sel + " WHERE ..." + tail; an
// alert whose source and destination are both among devs is in one
// branch only, so that the branches' union needs no deduplication.
func deviceBranches(b *qb, devs []int32, sel, tail string) []string {
	all := b.arg(devs)
	var parts []string
	for _, dev := range devs {
		p := b.arg(dev)
		parts = append(parts, "("+sel+b.where("a.src = "+p)+tail+")")
		parts = append(parts, "("+sel+b.where("a.dst = "+p, "a.src <> ALL("+all+")")+tail+")")
	}
	return parts
}

// Alerts returns one page of alerts. When few alerts match (by the
// counts per combination), the page merges ordered walks of the
// combination index for each combination that can match, and of the party
// indexes for each party the text matches; otherwise it walks the order's
// index, filtering, which PostgreSQL's planner picks among the indexes.
func (d *DB) Alerts(ctx context.Context, q store.AlertQuery) (store.AlertPage, error) {
	var page store.AlertPage
	if err := d.reading(); err != nil {
		return page, err
	}
	f, err := d.resolve(ctx, q)
	if err != nil {
		return page, err
	}
	q = f.q
	var cur store.Cursor
	if q.Cursor != "" {
		if cur, err = store.DecodeCursor(q.Cursor); err != nil {
			return page, err
		}
	}
	if f.none {
		return page, nil
	}
	keys := sortKeys(q.Sort)
	dir, cmp := " DESC", " < "
	if q.Ascending {
		dir, cmp = " ASC", " > "
	}
	type branch struct {
		col string
		id  int32
	}
	var branches []branch
	if f.devs == nil && (f.filtersDims() || len(f.terms) > 0) {
		cube, err := d.cube(ctx)
		if err != nil {
			return page, err
		}
		var total, matched int64
		per := map[int32]bool{} // the combinations that can match
		for i := range cube {
			r := &cube[i]
			total += r.n
			if f.matchDims(r) && f.cubeText(r.combo) {
				matched += r.n
				per[r.combo] = true
			}
		}
		// Walking the order's index reads about limit×total/matched rows
		// to fill a page; merging ordered walks of the combination index,
		// one per combination that can match (and of the party indexes for
		// the parties the text matched), about limit rows per walk.
		for _, c := range members(per) {
			branches = append(branches, branch{"combo", c})
		}
		if len(f.terms) > 0 {
			for _, a := range f.partyAddrs() {
				branches = append(branches, branch{"src", a}, branch{"dst", a})
			}
		}
		if len(branches) == 0 {
			return page, nil
		}
		if len(branches) > maxBranches || int64(len(branches))*matched*walkCost >= total {
			branches = nil
		}
	}
	// A walk of the combination index needs only the conditions its
	// combination does not settle (status, time, cursor): repeating the
	// others, which the planner takes as independent of the combination,
	// makes it expect too few rows and collect and sort them all instead.
	// Each set of conditions is built only when a walk uses it (a
	// parameter no condition uses has no type).
	needLean := slices.ContainsFunc(branches, func(br branch) bool { return br.col == "combo" })
	needFull := len(branches) == 0 || slices.ContainsFunc(branches, func(br branch) bool { return br.col != "combo" })
	b := &qb{}
	if needFull {
		f.where(b, true, false)
	}
	var lean []string
	if needLean {
		if len(f.enums[1]) > 0 {
			lean = append(lean, eq(b, "a.status", f.enums[1]))
		}
		if !q.From.IsZero() {
			lean = append(lean, "a.last_ns >= "+b.arg(q.From.UnixNano()))
		}
		if !q.Until.IsZero() {
			lean = append(lean, "a.last_ns < "+b.arg(q.Until.UnixNano()))
		}
	}
	if q.Cursor != "" {
		vals := []int64{cur.A, cur.B, cur.C}[:len(keys)]
		cols := make([]string, len(keys))
		ps := make([]string, len(keys))
		for i, k := range keys {
			cols[i] = "a." + k
			ps[i] = b.arg(vals[i])
		}
		c := "(" + strings.Join(cols, ", ") + ")" + cmp + "(" + strings.Join(ps, ", ") + ")"
		if needFull {
			b.add(c)
		}
		lean = append(lean, c)
	}
	n := b.arg(q.Limit + 1)
	sel := "SELECT " + keyCols + " FROM alerts a"
	tail := orderBy("a.", keys, dir) + " LIMIT " + n
	var inner string
	switch {
	case f.devs != nil:
		// One ordered walk per device and role, merged: a busy device does
		// not make the query sort all its alerts.
		inner = "SELECT * FROM (" + strings.Join(deviceBranches(b, f.devs, sel, tail), " UNION ALL ") + ") a" + tail
	case len(branches) > 0:
		parts := make([]string, len(branches))
		union := " UNION ALL " // an alert has one combination
		// A combination has one severity: its walk in (last_ns, rid)
		// order gives its first alerts in the severity order too.
		comboTail := tail
		if q.Sort == store.SortSeverity {
			comboTail = orderBy("a.", keys[1:], dir) + " LIMIT " + n
		}
		for i, br := range branches {
			if br.col == "combo" {
				parts[i] = "(" + sel + " WHERE " + strings.Join(append(slices.Clone(lean), "a.combo = "+b.arg(br.id)), " AND ") + comboTail + ")"
			} else {
				parts[i] = "(" + sel + b.where("a."+br.col+" = "+b.arg(br.id)) + tail + ")"
				union = " UNION " // a party's alerts may have a matched combination, or the other party
			}
		}
		inner = "SELECT * FROM (" + strings.Join(parts, union) + ") a" + tail
	default:
		inner = sel + b.where() + tail
	}
	query := "SELECT " + alertCols + " FROM (" + inner + ") a" + alertJoin + orderBy("a.", keys, dir)
	rows, err := d.pool.Query(ctx, query, b.args...)
	if err != nil {
		return page, d.fail("querying alerts", err)
	}
	rs, err := d.scanAlerts(rows)
	if err != nil {
		return page, err
	}
	if len(rs) > q.Limit {
		rs = rs[:q.Limit]
		last := rs[len(rs)-1]
		var c store.Cursor
		switch q.Sort {
		case store.SortSeverity:
			c = store.Cursor{A: last.severity, B: last.last, C: last.rid}
		case store.SortFirstDetection:
			c = store.Cursor{A: last.first, B: last.rid}
		default:
			c = store.Cursor{A: last.last, B: last.rid}
		}
		page.Next = c.Encode()
	}
	page.Alerts = make([]*store.AlertRecord, len(rs))
	for i := range rs {
		page.Alerts[i] = rs[i].rec
	}
	if err := d.markMuted(ctx, page.Alerts); err != nil {
		return page, err
	}
	return page, nil
}

// AlertFacets counts alerts per value of every dimension. With no filter
// outside the facet dimensions, the counts are those the triggers keep.
// With text (and no devices or time), they are the kept counts of the
// combinations whose facet dimensions match every term, plus a count of
// the other alerts the text matches through a party, found through the
// party indexes. Otherwise the alerts the other filters select are counted
// by combination and status, from the indexes alone for a time range or
// devices.
func (d *DB) AlertFacets(ctx context.Context, q store.AlertQuery) (store.Facets, error) {
	if err := d.reading(); err != nil {
		return store.Facets{}, err
	}
	f, err := d.resolve(ctx, q)
	if err != nil {
		return store.Facets{}, err
	}
	if f.other {
		return store.ComputeFacets(nil, f.q), nil
	}
	var rows []cubeRow
	if f.devs == nil && f.q.From.IsZero() && f.q.Until.IsZero() {
		cube, err := d.cube(ctx)
		if err != nil {
			return store.Facets{}, err
		}
		for i := range cube {
			if f.cubeText(cube[i].combo) {
				rows = append(rows, cube[i])
			}
		}
		if addrs := f.partyAddrs(); len(f.terms) > 0 && len(addrs) > 0 {
			// Alerts the text matches through a party and not through
			// their facet dimensions alone.
			b := &qb{}
			f.where(b, false, false)
			if c := f.textCombos(); len(c) > 0 {
				b.add("a.combo <> ALL(" + b.arg(c) + ")")
			}
			var query string
			if len(addrs) <= maxPartyAddrs {
				all := b.arg(addrs)
				query = "SELECT combo, status, count(*) FROM (" +
					"SELECT a.combo, a.status FROM alerts a" + b.where("a.src = ANY("+all+")") +
					" UNION ALL SELECT a.combo, a.status FROM alerts a" + b.where("a.dst = ANY("+all+")", "a.src <> ALL("+all+")") +
					") a GROUP BY 1, 2"
			} else {
				query = "SELECT a.combo, a.status, count(*) FROM alerts a" + b.where() + " GROUP BY 1, 2"
			}
			more, err := d.pool.Query(ctx, query, b.args...)
			if err != nil {
				return store.Facets{}, d.fail("counting alerts", err)
			}
			mr, err := d.scanCube(ctx, more)
			if err != nil {
				return store.Facets{}, err
			}
			rows = append(rows, mr...)
		}
	} else {
		b := &qb{}
		f.where(b, false, false)
		var query string
		if f.devs != nil {
			all := b.arg(f.devs)
			query = "SELECT combo, status, count(*) FROM (" +
				"SELECT a.combo, a.status FROM alerts a" + b.where("a.src = ANY("+all+")") +
				" UNION ALL SELECT a.combo, a.status FROM alerts a" + b.where("a.dst = ANY("+all+")", "a.src <> ALL("+all+")") +
				") a GROUP BY 1, 2"
		} else {
			query = "SELECT a.combo, a.status, count(*) FROM alerts a" + b.where() + " GROUP BY 1, 2"
		}
		res, err := d.pool.Query(ctx, query, b.args...)
		if err != nil {
			return store.Facets{}, d.fail("counting alerts", err)
		}
		if rows, err = d.scanCube(ctx, res); err != nil {
			return store.Facets{}, err
		}
	}
	cube, err := d.cubeRows(ctx, rows)
	if err != nil {
		return store.Facets{}, err
	}
	return store.ComputeFacets(cube, f.q), nil
}

// cubeRows returns rows with their combinations by their strings.
func (d *DB) cubeRows(ctx context.Context, rows []cubeRow) ([]store.CubeRow, error) {
	cube := make([]store.CubeRow, len(rows))
	for i := range rows {
		r, k := &rows[i], &rows[i].key
		s, err := d.strs(ctx, &k.sensor, &k.site, &k.zone, &k.typ, &k.category, &k.protocol)
		if err != nil {
			return nil, err
		}
		cube[i] = store.CubeRow{Sensor: s[0], Site: s[1], Zone: s[2], Type: s[3], Category: s[4], Protocol: s[5],
			Severity: alert.Severity(k.severity), Status: alert.Status(r.status), Engine: alert.Engine(k.engine), Count: r.n}
	}
	return cube, nil
}

// FacetCounters returns the rows of alert_counts with their
// combinations, zero counts included (storetest.Counters).
func (d *DB) FacetCounters(ctx context.Context) ([]store.CubeRow, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	res, err := d.pool.Query(ctx, "SELECT combo, status, n FROM alert_counts")
	if err != nil {
		return nil, d.fail("alert counts", err)
	}
	rows, err := d.scanCube(ctx, res)
	if err != nil {
		return nil, err
	}
	return d.cubeRows(ctx, rows)
}

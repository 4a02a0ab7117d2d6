package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

// cond is a WHERE clause being built, with its arguments.
type cond struct {
	sql  []string
	args []any
	none bool // nothing can match
}

func (c *cond) add(s string, args ...any) {
	c.sql = append(c.sql, s)
	c.args = append(c.args, args...)
}

func (c *cond) where() string {
	if len(c.sql) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(c.sql, " AND ")
}

// in adds "col IN (ids)", or marks the condition unmatchable when ids is
// empty.
func (c *cond) in(col string, ids []int64) {
	if len(ids) == 0 {
		c.none = true
		return
	}
	c.add(col+" IN ("+placeholders(len(ids))+")", anys(ids)...)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func anys[T any](v []T) []any {
	out := make([]any, len(v))
	for i := range v {
		out[i] = v[i]
	}
	return out
}

// hourNs is the width of the hour buckets the alert and event indexes
// lead with; it appears as a literal in the SQL, as the indexes need.
const hourNs = int64(time.Hour)

const hourOf = "(a.last_ns / 3600000000000)"

func jsonIDs(ids []int64) string {
	if len(ids) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

func jsonIn(col string) string { return col + " IN (SELECT value FROM json_each(?))" }

// term is one resolved search term.
type term struct {
	ids   map[int64]bool // dictionary strings the term matches
	list  string         // the same ids as a JSON array, for json_each
	addrs []int64        // the addresses of the matched party texts
}

// filter is an alert query resolved against the dictionary.
type filter struct {
	q     store.AlertQuery
	dims  [6][]int64 // ids per dictDims; nil when not filtered
	enums [3][]int64 // severity, status, engine
	devs  []int64
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
	f.enums = [3][]int64{store.Enums[int64](q.Severities), store.Enums[int64](q.Statuses), store.Enums[int64](q.Engines)}
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
// matches (store.TermMatches).
func (d *DB) matchText(ctx context.Context, text string) ([]term, error) {
	if err := d.dict.refresh(ctx, d.r); err != nil {
		return nil, fmt.Errorf("sqlite: dictionary: %w", err)
	}
	var out []term
	for _, t := range strings.Fields(text) {
		tw := store.Words(t)
		if len(tw) == 0 {
			continue
		}
		ids := d.dict.match(tw)
		tm := term{ids: map[int64]bool{}}
		list := make([]int64, 0, len(ids))
		for _, id := range ids {
			tm.ids[id] = true
			list = append(list, id)
			s, _ := d.dict.str(id)
			first, _, _ := strings.Cut(s, " ")
			if a, err := store.NormalizeAddr(first); err == nil && a == first {
				if aid, ok := d.dict.id(a); ok && !slices.Contains(tm.addrs, aid) {
					tm.addrs = append(tm.addrs, aid)
				}
			}
		}
		b, _ := json.Marshal(list)
		tm.list = string(b)
		out = append(out, tm)
	}
	return out, nil
}

// cubeRow is one combination with alerts and their count.
type cubeRow struct {
	cid int64
	k   combo
	n   int64
}

// cubeCache keeps the last alert_counts read. It is current while no
// write of this DB committed since (gen) and for cubeTTL at most, after
// which writes of other processes show.
type cubeCache struct {
	mu   sync.Mutex
	gen  int64
	at   time.Time
	rows []cubeRow
}

const cubeTTL = time.Second

// cube returns alert_counts, from the cache when it is current. The
// returned slice must not be changed.
func (d *DB) cube(ctx context.Context) ([]cubeRow, error) {
	gen := d.gen.Load()
	d.cubes.mu.Lock()
	if d.cubes.rows != nil && d.cubes.gen == gen && time.Since(d.cubes.at) < cubeTTL {
		rows := d.cubes.rows
		d.cubes.mu.Unlock()
		return rows, nil
	}
	d.cubes.mu.Unlock()
	at := time.Now()
	rows, err := d.readCube(ctx)
	if err != nil {
		return nil, err
	}
	d.cubes.mu.Lock()
	d.cubes.gen, d.cubes.at, d.cubes.rows = gen, at, rows
	d.cubes.mu.Unlock()
	return rows, nil
}

// readCube reads alert_counts with the combinations counted.
func (d *DB) readCube(ctx context.Context) ([]cubeRow, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT c.cid, c.sensor, c.site, c.zone, c.type, c.category, c.protocol, c.severity, c.status, c.engine, n.n
		FROM alert_counts n JOIN combos c ON c.cid = n.cid`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: alert counts: %w", err)
	}
	defer rows.Close()
	var out []cubeRow
	for rows.Next() {
		var r cubeRow
		k := &r.k
		if err := rows.Scan(&r.cid, &k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &k[7], &k[8], &r.n); err != nil {
			return nil, fmt.Errorf("sqlite: alert counts: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: alert counts: %w", err)
	}
	return out, nil
}

// filtersDims reports whether f filters on a facet dimension.
func (f *filter) filtersDims() bool {
	for _, ids := range f.dims {
		if ids != nil {
			return true
		}
	}
	for _, ids := range f.enums {
		if len(ids) > 0 {
			return true
		}
	}
	return false
}

// matchDims reports whether a combination passes f's dimension filters.
func (f *filter) matchDims(k *combo) bool {
	for i, ids := range f.dims {
		if ids != nil && !slices.Contains(ids, k[i]) {
			return false
		}
	}
	for i, ids := range f.enums {
		if len(ids) > 0 && !slices.Contains(ids, k[6+i]) {
			return false
		}
	}
	return true
}

// termCube reports whether term t matches a facet dimension of k.
func (t *term) cube(k *combo) bool {
	for _, id := range k[:6] {
		if t.ids[id] {
			return true
		}
	}
	return false
}

// cubeText reports whether every term matches a facet dimension of k.
func (f *filter) cubeText(k *combo) bool {
	for i := range f.terms {
		if !f.terms[i].cube(k) {
			return false
		}
	}
	return true
}

// partyAddrs returns the addresses of the parties the terms matched.
func (f *filter) partyAddrs() []int64 {
	var out []int64
	for _, t := range f.terms {
		for _, a := range t.addrs {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// conds adds to c the filters of f on alerts a: the facet dimensions
// (as the combinations that pass them, when dims is set), the time range
// and the text; devices are left to the caller. Only the time range may
// use an index (alerts_last), and only when timeIndex is set, so that the
// caller's choice of index stands.
func (f *filter) conds(c *cond, cube []cubeRow, dims, timeIndex bool) {
	if dims && f.filtersDims() {
		var ids []int64
		for i := range cube {
			if f.matchDims(&cube[i].k) {
				ids = append(ids, cube[i].cid)
			}
		}
		c.add(jsonIn("+a.cid"), jsonIDs(ids))
	}
	last := "+a.last_ns"
	if timeIndex {
		last = "a.last_ns"
	}
	if !f.q.From.IsZero() {
		c.add(last+" >= ?", f.q.From.UnixNano())
	}
	if !f.q.Until.IsZero() {
		c.add(last+" < ?", f.q.Until.UnixNano())
	}
	for i := range f.terms {
		t := &f.terms[i]
		var ids []int64
		for j := range cube {
			if t.cube(&cube[j].k) {
				ids = append(ids, cube[j].cid)
			}
		}
		c.add("("+jsonIn("+a.cid")+" OR "+jsonIn("+a.srct")+" OR "+jsonIn("+a.dstt")+")", jsonIDs(ids), t.list, t.list)
	}
}

// span returns the hours holding alerts, within f's time range and
// [lo, hi] (nanoseconds, 0 for open), oldest first.
func (d *DB) span(ctx context.Context, f *filter, lo, hi int64) ([]int64, error) {
	var min, max sql.NullInt64
	if err := d.r.QueryRowContext(ctx, "SELECT (SELECT min(last_ns) FROM alerts), (SELECT max(last_ns) FROM alerts)").Scan(&min, &max); err != nil {
		return nil, fmt.Errorf("sqlite: alerts: %w", err)
	}
	if !min.Valid {
		return nil, nil
	}
	from, until := min.Int64, max.Int64
	if !f.q.From.IsZero() {
		from = maxInt(from, f.q.From.UnixNano())
	}
	if !f.q.Until.IsZero() {
		until = minInt(until, f.q.Until.UnixNano()-1)
	}
	if lo != 0 {
		from = maxInt(from, lo)
	}
	if hi != 0 {
		until = minInt(until, hi)
	}
	var out []int64
	for h := from / hourNs; h <= until/hourNs && from <= until; h++ {
		out = append(out, h)
	}
	return out, nil
}

func maxInt(a, b int64) int64 { return max(a, b) }
func minInt(a, b int64) int64 { return min(a, b) }

// Thresholds of the page planner (variables so that tests can force
// either plan).
var (
	// walkShare: when at least 1/walkShare of the alerts match, a page
	// walks the order's index, filtering on the combination it holds.
	walkShare int64 = 1000
	// maxBranches bounds the parties whose alerts are walked separately
	// for a page.
	maxBranches = 64
	// maxPartyAddrs bounds the parties whose alerts facet counting looks
	// up by index; a search term matching more parties (such as "10")
	// makes it read every alert.
	maxPartyAddrs = 500
)

// orderKeys returns the sort columns of q.
func orderKeys(q *store.AlertQuery) []string {
	switch q.Sort {
	case store.SortSeverity:
		return []string{"severity", "last_ns", "rid"}
	case store.SortFirstDetection:
		return []string{"first_ns", "rid"}
	}
	return []string{"last_ns", "rid"}
}

// sortRows orders alert rows as q asks and removes duplicates.
func sortRows(rs []alertRow, q *store.AlertQuery) []alertRow {
	key := func(r *alertRow) [3]int64 {
		switch q.Sort {
		case store.SortSeverity:
			return [3]int64{r.severity, r.last, r.rid}
		case store.SortFirstDetection:
			return [3]int64{r.first, r.rid, 0}
		}
		return [3]int64{r.last, r.rid, 0}
	}
	slices.SortFunc(rs, func(a, b alertRow) int {
		ka, kb := key(&a), key(&b)
		c := cmp.Or(cmp.Compare(ka[0], kb[0]), cmp.Compare(ka[1], kb[1]), cmp.Compare(ka[2], kb[2]))
		if !q.Ascending {
			c = -c
		}
		return c
	})
	return slices.CompactFunc(rs, func(a, b alertRow) bool { return a.rid == b.rid })
}

// hourWalk returns up to n alerts matching lead (a condition served by an
// index leading with the hour) and c, in q's order. For the last
// detection order it queries a few hours at a time from the start of the
// order, doubling the hours each time, until n are found; for the other
// orders it queries every hour at once.
func (d *DB) hourWalk(ctx context.Context, hours []int64, lead string, leadArgs []any, c cond, q *store.AlertQuery, n int) ([]alertRow, error) {
	keys := orderKeys(q)
	dir := " DESC"
	if q.Ascending {
		dir = " ASC"
	}
	order := make([]string, len(keys))
	for i, k := range keys {
		order[i] = "a." + k + dir
	}
	orderBy := " ORDER BY " + strings.Join(order, ", ")
	if !q.Ascending {
		hours = slices.Clone(hours)
		slices.Reverse(hours)
	}
	chunk := len(hours)
	if q.Sort == store.SortLastDetection {
		chunk = 1
	}
	var out []alertRow
	for i := 0; i < len(hours) && len(out) < n; {
		part := hours[i:min(i+chunk, len(hours))]
		i += len(part)
		chunk *= 2
		w := append([]string{jsonIn(hourOf), lead}, c.sql...)
		args := append(append([]any{jsonIDs(part)}, leadArgs...), c.args...)
		rows, err := d.r.QueryContext(ctx, "SELECT "+alertCols+alertFrom+" WHERE "+strings.Join(w, " AND ")+orderBy+" LIMIT ?",
			append(args, n-len(out))...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: querying alerts: %w", err)
		}
		rs, err := scanAlerts(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// Alerts returns one page of alerts.
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
	keys := orderKeys(&q)
	var after cond
	var lo, hi int64 // bounds of last_ns the cursor implies
	if q.Cursor != "" {
		cur, err := store.DecodeCursor(q.Cursor)
		if err != nil {
			return page, err
		}
		cols := make([]string, len(keys))
		for i, k := range keys {
			cols[i] = "a." + k
		}
		cmpOp := "<"
		if q.Ascending {
			cmpOp = ">"
		}
		after.add("("+strings.Join(cols, ", ")+") "+cmpOp+" ("+placeholders(len(keys))+")", []any{cur.A, cur.B, cur.C}[:len(keys)]...)
		if q.Sort == store.SortLastDetection {
			if q.Ascending {
				lo = cur.A
			} else {
				hi = cur.A
			}
		}
	}
	if f.none {
		return page, nil
	}
	n := q.Limit + 1
	var cube []cubeRow
	if f.filtersDims() || len(f.terms) > 0 {
		if cube, err = d.cube(ctx); err != nil {
			return page, err
		}
	}
	conds := func(timeIndex bool) cond {
		var c cond
		f.conds(&c, cube, true, timeIndex)
		c.sql, c.args = append(c.sql, after.sql...), append(c.args, after.args...)
		return c
	}

	// Plan: walk the order's index, filtering, when enough alerts match
	// for a page to be found early; else walk hour by hour the index of
	// the matching combinations, or of the parties.
	walk := len(f.devs) == 0
	var rare []int64 // combinations to walk
	var parties []int64
	if len(f.devs) > 0 {
		parties = f.devs
	} else if cube != nil {
		var total, matched int64
		for i := range cube {
			total += cube[i].n
			if f.matchDims(&cube[i].k) && f.cubeText(&cube[i].k) {
				matched += cube[i].n
				if cube[i].n > 0 {
					rare = append(rare, cube[i].cid)
				}
			}
		}
		parties = f.partyAddrs()
		walk = matched*walkShare >= total || len(parties) > maxBranches
	}
	var rs []alertRow
	if walk {
		c := conds(true)
		dir := " DESC"
		if q.Ascending {
			dir = " ASC"
		}
		order := make([]string, len(keys))
		for i, k := range keys {
			order[i] = "a." + k + dir
		}
		rows, err := d.r.QueryContext(ctx, "SELECT "+alertCols+alertFrom+c.where()+" ORDER BY "+strings.Join(order, ", ")+" LIMIT ?", append(c.args, n)...)
		if err != nil {
			return page, fmt.Errorf("sqlite: querying alerts: %w", err)
		}
		if rs, err = scanAlerts(rows); err != nil {
			return page, err
		}
	} else {
		hours, err := d.span(ctx, f, lo, hi)
		if err != nil {
			return page, err
		}
		c := conds(false)
		if len(rare) > 0 {
			r, err := d.hourWalk(ctx, hours, jsonIn("a.cid"), []any{jsonIDs(rare)}, c, &q, n)
			if err != nil {
				return page, err
			}
			rs = append(rs, r...)
		}
		for _, p := range parties {
			for _, role := range []string{"a.src", "a.dst"} {
				r, err := d.hourWalk(ctx, hours, role+" = ?", []any{p}, c, &q, n)
				if err != nil {
					return page, err
				}
				rs = append(rs, r...)
			}
		}
		rs = sortRows(rs, &q)
	}
	if len(rs) > q.Limit {
		rs = rs[:q.Limit]
		last := rs[len(rs)-1]
		var cur store.Cursor
		switch q.Sort {
		case store.SortSeverity:
			cur = store.Cursor{A: last.severity, B: last.last, C: last.rid}
		case store.SortFirstDetection:
			cur = store.Cursor{A: last.first, B: last.rid}
		default:
			cur = store.Cursor{A: last.last, B: last.rid}
		}
		page.Next = cur.Encode()
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

// countCids adds to counts the alerts per combination a query selects
// (its columns: cid, count).
func (d *DB) countCids(ctx context.Context, counts map[int64]int64, query string, args ...any) error {
	rows, err := d.r.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: counting alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, n int64
		if err := rows.Scan(&cid, &n); err != nil {
			return fmt.Errorf("sqlite: counting alerts: %w", err)
		}
		counts[cid] += n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: counting alerts: %w", err)
	}
	return nil
}

// AlertFacets counts alerts per value of every dimension: from
// alert_counts when only facet dimensions are filtered; with text, from
// the counts of the combinations that match it plus a count of the
// alerts it matches by party, found through the party indexes; with
// devices or a time range, by counting the alerts they select per
// combination in the indexes alone.
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
	cube, err := d.cube(ctx)
	if err != nil {
		return store.Facets{}, err
	}
	counts := map[int64]int64{}
	timed := len(f.devs) == 0 && (!f.q.From.IsZero() || !f.q.Until.IsZero())
	var c cond
	f.conds(&c, cube, false, timed)
	switch {
	case len(f.devs) > 0:
		hours, err := d.span(ctx, f, 0, 0)
		if err != nil {
			return store.Facets{}, err
		}
		devs := jsonIDs(f.devs)
		// As source, then as destination of an alert whose source is not
		// one of them.
		for _, w := range []struct {
			lead string
			args []any
		}{
			{jsonIn("a.src"), []any{devs}},
			{jsonIn("a.dst") + " AND NOT " + jsonIn("+a.src"), []any{devs, devs}},
		} {
			all := append([]string{jsonIn(hourOf), w.lead}, c.sql...)
			args := append(append([]any{jsonIDs(hours)}, w.args...), c.args...)
			if err := d.countCids(ctx, counts, "SELECT a.cid, count(*) FROM alerts a WHERE "+strings.Join(all, " AND ")+" GROUP BY 1", args...); err != nil {
				return store.Facets{}, err
			}
		}
	case timed:
		if err := d.countCids(ctx, counts, "SELECT a.cid, count(*) FROM alerts a INDEXED BY alerts_last"+c.where()+" GROUP BY 1", c.args...); err != nil {
			return store.Facets{}, err
		}
	default:
		var all []int64 // combinations every term matches
		for i := range cube {
			if f.cubeText(&cube[i].k) {
				counts[cube[i].cid] += cube[i].n
				all = append(all, cube[i].cid)
			}
		}
		if addrs := f.partyAddrs(); len(addrs) > 0 {
			// Alerts the text matches through a party and not through
			// their combination alone.
			c.add("NOT "+jsonIn("+a.cid"), jsonIDs(all))
			if len(addrs) <= maxPartyAddrs {
				hours, err := d.span(ctx, f, 0, 0)
				if err != nil {
					return store.Facets{}, err
				}
				hj, aj := jsonIDs(hours), jsonIDs(addrs)
				c.add("a.rid IN (SELECT rid FROM alerts a WHERE "+jsonIn(hourOf)+" AND "+jsonIn("a.src")+
					" UNION SELECT rid FROM alerts a WHERE "+jsonIn(hourOf)+" AND "+jsonIn("a.dst")+")", hj, aj, hj, aj)
			}
			if err := d.countCids(ctx, counts, "SELECT a.cid, count(*) FROM alerts a"+c.where()+" GROUP BY 1", c.args...); err != nil {
				return store.Facets{}, err
			}
		}
	}
	byCid := make(map[int64]*combo, len(cube))
	for i := range cube {
		byCid[cube[i].cid] = &cube[i].k
	}
	rows := make([]store.CubeRow, 0, len(counts))
	for cid, n := range counts {
		k := byCid[cid]
		if k == nil || n == 0 {
			continue
		}
		r, err := d.cubeRow(ctx, k, n)
		if err != nil {
			return store.Facets{}, err
		}
		rows = append(rows, r)
	}
	return store.ComputeFacets(rows, f.q), nil
}

// cubeRow returns the combination k, counting n alerts, by its strings.
func (d *DB) cubeRow(ctx context.Context, k *combo, n int64) (store.CubeRow, error) {
	r := store.CubeRow{Severity: alert.Severity(k[6]), Status: alert.Status(k[7]), Engine: alert.Engine(k[8]), Count: n}
	for j, p := range []*string{&r.Sensor, &r.Site, &r.Zone, &r.Type, &r.Category, &r.Protocol} {
		var err error
		if *p, err = d.str(ctx, k[j]); err != nil {
			return r, err
		}
	}
	return r, nil
}

// FacetCounters returns the rows of alert_counts with their combinations,
// zero counts included (storetest.Counters).
func (d *DB) FacetCounters(ctx context.Context) ([]store.CubeRow, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	cube, err := d.readCube(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]store.CubeRow, len(cube))
	for i := range cube {
		if out[i], err = d.cubeRow(ctx, &cube[i].k, cube[i].n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

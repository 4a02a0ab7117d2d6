package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// insertEvents stores a batch of events from arrays, one element per
// event (keys distinct), skipping those already stored. $11 and $12 bound
// the batch's times: when no event is stored in that range, as in steady
// ingest, one probe of the key index stands for the per-event checks.
//
// Checking and inserting plainly costs less than ON CONFLICT DO NOTHING's
// speculative insertion; an event a concurrent transaction inserts in
// between makes the insert fail with a unique violation, and it is run
// again. OFFSET 0 keeps the per-event check a probe of the key index: as a
// join, the planner may hash the whole table instead.
const insertEvents = `INSERT INTO events (time_ns, id, sensor, type, device, device_id, peer, peer_id, alert_id, detail)
SELECT * FROM unnest($1::int8[], $2::int8[], $3::int4[], $4::int4[], $5::int4[], $6::int8[], $7::int4[], $8::int8[], $9::text[], $10::text[])
	AS t(time_ns, id, sensor, type, device, device_id, peer, peer_id, alert_id, detail)
WHERE NOT (SELECT EXISTS (SELECT 1 FROM events WHERE time_ns BETWEEN $11 AND $12))
	OR NOT EXISTS (SELECT 1 FROM events e WHERE e.time_ns = t.time_ns AND e.id = t.id OFFSET 0)`

// PutEvents adds timeline events, ignoring those already stored.
func (d *DB) PutEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	if len(events) > store.MaxBatch {
		return fmt.Errorf("%w: %d events in one batch (at most %d)", store.ErrInvalid, len(events), store.MaxBatch)
	}
	m := len(events)
	var (
		times, ids, devIDs, peerIDs = make([]int64, 0, m), make([]int64, 0, m), make([]int64, 0, m), make([]int64, 0, m)
		alertIDs, details           = make([]string, 0, m), make([]string, 0, m)
		strs                        = make([]string, 0, 4*m)
		seen                        = make(map[[2]int64]struct{}, m)
	)
	for i := range events {
		e := events[i]
		if err := store.CheckEvent(&e); err != nil {
			return err
		}
		k := [2]int64{e.Time.UnixNano(), e.ID}
		if _, dup := seen[k]; dup {
			continue // the same event twice in the batch
		}
		seen[k] = struct{}{}
		times, ids, devIDs, peerIDs = append(times, k[0]), append(ids, e.ID), append(devIDs, int64(e.DeviceID)), append(peerIDs, int64(e.PeerID))
		alertIDs, details = append(alertIDs, e.AlertID), append(details, e.Detail)
		strs = append(strs, e.Sensor, e.Type, e.Device, e.Peer)
	}
	n := len(times)
	from, until := slices.Min(times), slices.Max(times)
	if err := d.reading(); err != nil {
		return err
	}
	if err := d.ensureStrings(ctx, strs); err != nil {
		return err
	}
	var dims [4][]int32
	for j := range dims {
		dims[j] = make([]int32, n)
	}
	for i := range n {
		for j := range dims {
			dims[j][i], _ = d.dict.id(strs[4*i+j])
		}
	}
	if d.closed.Load() {
		return store.ErrClosed
	}
	// One statement: atomic without a transaction of its own.
	for attempt := 1; ; attempt++ {
		_, err := d.pool.Exec(ctx, insertEvents, times, ids, dims[0], dims[1], dims[2], devIDs, dims[3], peerIDs, alertIDs, details, from, until)
		if err == nil {
			break
		}
		if attempt == maxAttempts || !retryable(err) {
			return d.fail(fmt.Sprintf("storing %d events", n), err)
		}
	}
	d.maint.grew(ctx, tableEvents, int64(n))
	return nil
}

const eventCols = "e.time_ns, e.id, e.sensor, e.type, e.device, e.device_id, e.peer, e.peer_id, e.alert_id, e.detail"

func (d *DB) scanEvents(ctx context.Context, rows pgx.Rows) ([]store.Event, error) {
	out := []store.Event{}
	var ids [][4]int32 // sensor, type, device, peer of each event
	var (
		e                store.Event
		t, devID, peerID int64
		k                [4]int32
	)
	if _, err := pgx.ForEachRow(rows, []any{&t, &e.ID, &k[0], &k[1], &k[2], &devID, &k[3], &peerID, &e.AlertID, &e.Detail}, func() error {
		e.Time, e.DeviceID, e.PeerID = store.Time(t), inventory.DeviceID(devID), inventory.DeviceID(peerID)
		out = append(out, e)
		ids = append(ids, k)
		return nil
	}); err != nil {
		return nil, d.fail("reading events", err)
	}
	for i := range out {
		e := &out[i]
		s, err := d.strs(ctx, &ids[i][0], &ids[i][1], &ids[i][2], &ids[i][3])
		if err != nil {
			return nil, err
		}
		e.Sensor, e.Type, e.Device, e.Peer = s[0], s[1], s[2], s[3]
	}
	return out, nil
}

// Events returns one page of the timeline.
func (d *DB) Events(ctx context.Context, q store.EventQuery) (store.EventPage, error) {
	page := store.EventPage{Events: []store.Event{}}
	if err := d.reading(); err != nil {
		return page, err
	}
	q, err := q.Normalize()
	if err != nil {
		return page, err
	}
	var cur store.Cursor
	if q.Cursor != "" {
		if cur, err = store.DecodeCursor(q.Cursor); err != nil {
			return page, err
		}
	}
	b := &qb{}
	none := false // nothing can match
	if len(q.Sensors) > 0 {
		ids, err := d.lookups(ctx, q.Sensors)
		if err != nil {
			return page, err
		}
		none = none || len(ids) == 0
		if len(ids) > 0 {
			in(b, "e.sensor", ids)
		}
	}
	if len(q.Types) > 0 {
		ids, err := d.lookups(ctx, q.Types)
		if err != nil {
			return page, err
		}
		none = none || len(ids) == 0
		if len(ids) > 0 {
			in(b, "e.type", ids)
		}
	}
	if q.AlertID != "" {
		b.add("e.alert_id = " + b.arg(q.AlertID) + " AND e.alert_id <> ''")
	}
	if !q.From.IsZero() {
		b.add("e.time_ns >= " + b.arg(q.From.UnixNano()))
	}
	if !q.Until.IsZero() {
		b.add("e.time_ns < " + b.arg(q.Until.UnixNano()))
	}
	dir, cmp := " DESC", " < "
	if q.Ascending {
		dir, cmp = " ASC", " > "
	}
	if q.Cursor != "" {
		b.add("(e.time_ns, e.id)" + cmp + "(" + b.arg(cur.A) + ", " + b.arg(cur.B) + ")")
	}
	var devs []int32
	if len(q.Devices) > 0 {
		if devs, err = d.lookups(ctx, q.Devices); err != nil {
			return page, err
		}
		devs = store.Distinct(devs...)
		if len(devs) == 0 {
			none = true
		}
	}
	if none {
		return page, nil
	}
	order := " ORDER BY time_ns" + dir + ", id" + dir
	n := b.arg(q.Limit + 1)
	var query string
	if len(devs) > 0 {
		query = "SELECT * FROM (" + strings.Join(eventBranches(b, devs, order+" LIMIT "+n), " UNION ALL ") + ") e" + order + " LIMIT " + n
	} else {
		query = "SELECT " + eventCols + " FROM events e" + b.where() + order + " LIMIT " + n
	}
	rows, err := d.pool.Query(ctx, query, b.args...)
	if err != nil {
		return page, d.fail("querying events", err)
	}
	evs, err := d.scanEvents(ctx, rows)
	if err != nil {
		return page, err
	}
	if len(evs) > q.Limit {
		evs = evs[:q.Limit]
		last := evs[len(evs)-1]
		page.Next = store.Cursor{A: last.Time.UnixNano(), B: last.ID}.Encode()
	}
	page.Events = evs
	return page, nil
}

// eventBranches returns one ordered query per device and role of the
// events matching b; an event whose device and peer are both among devs
// is in one branch only.
func eventBranches(b *qb, devs []int32, tail string) []string {
	all := b.arg(devs)
	var parts []string
	for _, dev := range devs {
		p := b.arg(dev)
		parts = append(parts, "(SELECT "+eventCols+" FROM events e"+b.where("e.device = "+p, "e.device <> 0")+tail+")")
		parts = append(parts, "(SELECT "+eventCols+" FROM events e"+b.where("e.peer = "+p, "e.peer <> 0", "e.device <> ALL("+all+")")+tail+")")
	}
	return parts
}

// RelatedEvents returns the events of the alert's devices around its time.
func (d *DB) RelatedEvents(ctx context.Context, id string, window time.Duration, limit int) ([]store.Event, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	if window < 0 {
		return nil, fmt.Errorf("%w: negative window %v", store.ErrInvalid, window)
	}
	limit, err := store.RelatedLimit(limit)
	if err != nil {
		return nil, err
	}
	_, src, dst, first, last, err := d.alertKeys(ctx, id)
	if err != nil {
		return nil, err
	}
	devs := store.Distinct(src, dst)
	if len(devs) == 0 {
		return []store.Event{}, nil
	}
	b := &qb{}
	b.add("e.time_ns >= " + b.arg(first-int64(window)))
	b.add("e.time_ns <= " + b.arg(last+int64(window)))
	n := b.arg(limit)
	order := " ORDER BY time_ns, id"
	query := "SELECT * FROM (" + strings.Join(eventBranches(b, devs, order+" LIMIT "+n), " UNION ALL ") + ") e" + order + " LIMIT " + n
	rows, err := d.pool.Query(ctx, query, b.args...)
	if err != nil {
		return nil, d.fail("related events of "+id, err)
	}
	return d.scanEvents(ctx, rows)
}

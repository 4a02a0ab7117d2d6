package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// eventsPerStatement is how many events one INSERT carries.
const eventsPerStatement = 50

const insertEvent = "(?,?,?,?,?,?,?,?,?,?)"

// PutEvents adds timeline events, ignoring those already stored.
func (d *DB) PutEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	if len(events) > store.MaxBatch {
		return fmt.Errorf("%w: %d events in one batch (at most %d)", store.ErrInvalid, len(events), store.MaxBatch)
	}
	evs := make([]store.Event, len(events))
	for i := range events {
		evs[i] = events[i]
		if err := store.CheckEvent(&evs[i]); err != nil {
			return err
		}
	}
	err := d.write(ctx, func(w *wtx) error {
		many, err := w.PrepareContext(ctx, "INSERT OR IGNORE INTO events VALUES "+strings.TrimSuffix(strings.Repeat(insertEvent+",", eventsPerStatement), ","))
		if err != nil {
			return fmt.Errorf("sqlite: storing events: %w", err)
		}
		defer many.Close()
		one, err := w.PrepareContext(ctx, "INSERT OR IGNORE INTO events VALUES "+insertEvent)
		if err != nil {
			return fmt.Errorf("sqlite: storing events: %w", err)
		}
		defer one.Close()
		args := make([]any, 0, 10*eventsPerStatement)
		for i := range evs {
			e := &evs[i]
			var ids [4]int64
			for j, s := range [4]string{e.Sensor, e.Type, e.Device, e.Peer} {
				if ids[j], err = w.id(s); err != nil {
					return err
				}
			}
			args = append(args, e.Time.UnixNano(), e.ID, ids[0], ids[1], ids[2], int64(e.DeviceID), ids[3], int64(e.PeerID), e.AlertID, e.Detail)
			if len(args) == cap(args) {
				if _, err := many.ExecContext(ctx, args...); err != nil {
					return fmt.Errorf("sqlite: storing events: %w", err)
				}
				args = args[:0]
			}
		}
		for i := 0; i < len(args); i += 10 {
			if _, err := one.ExecContext(ctx, args[i:i+10]...); err != nil {
				return fmt.Errorf("sqlite: storing events: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.grew(ctx, int64(len(evs)))
	return nil
}

const eventCols = "e.time_ns AS time_ns, e.id AS id, e.sensor, e.type, e.device, e.device_id, e.peer, e.peer_id, e.alert_id, e.detail"

func (d *DB) scanEvents(ctx context.Context, rows *sql.Rows) ([]store.Event, error) {
	defer rows.Close()
	out := []store.Event{}
	for rows.Next() {
		var e store.Event
		var t, devID, peerID int64
		var ids [4]int64
		if err := rows.Scan(&t, &e.ID, &ids[0], &ids[1], &ids[2], &devID, &ids[3], &peerID, &e.AlertID, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: reading events: %w", err)
		}
		var err error
		for i, p := range []*string{&e.Sensor, &e.Type, &e.Device, &e.Peer} {
			if *p, err = d.str(ctx, ids[i]); err != nil {
				return nil, err
			}
		}
		e.Time, e.DeviceID, e.PeerID = store.Time(t), inventory.DeviceID(devID), inventory.DeviceID(peerID)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading events: %w", err)
	}
	return out, nil
}

// hour is the width of the time buckets the device indexes lead with.
const hour = int64(time.Hour)

// bucketsPerQuery is how many hours one query of deviceEvents covers.
const bucketsPerQuery = 48

// deviceEvents returns up to n events whose role column ("device" or
// "peer") is dev, with from <= time <= until and the extra conditions, in
// time order (ascending or descending), walking the hours from the start
// of the order until n are found.
func (d *DB) deviceEvents(ctx context.Context, role string, dev, from, until int64, asc bool, extra cond, n int) ([]store.Event, error) {
	if from > until || n <= 0 {
		return nil, nil
	}
	dir := " DESC"
	if asc {
		dir = " ASC"
	}
	var out []store.Event
	first, last := from/hour, until/hour
	for lo := first; lo <= last && len(out) < n; lo += bucketsPerQuery {
		buckets := make([]any, 0, bucketsPerQuery)
		for b := lo; b <= last && b < lo+bucketsPerQuery; b++ {
			if asc {
				buckets = append(buckets, b)
			} else {
				buckets = append(buckets, last-(b-first))
			}
		}
		w := append([]string{"(e.time_ns / 3600000000000) IN (" + placeholders(len(buckets)) + ")",
			"e." + role + " = ?", "e." + role + " <> 0", "e.time_ns >= ?", "e.time_ns <= ?"}, extra.sql...)
		args := append(append(buckets, dev, from, until), extra.args...)
		rows, err := d.r.QueryContext(ctx, "SELECT "+eventCols+" FROM events e WHERE "+strings.Join(w, " AND ")+
			" ORDER BY e.time_ns"+dir+", e.id"+dir+" LIMIT ?", append(args, n-len(out))...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: events of a device: %w", err)
		}
		evs, err := d.scanEvents(ctx, rows)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

// timeSpan returns the times of the oldest and newest events.
func (d *DB) timeSpan(ctx context.Context) (int64, int64, error) {
	var lo, hi sql.NullInt64
	if err := d.r.QueryRowContext(ctx, "SELECT (SELECT min(time_ns) FROM events), (SELECT max(time_ns) FROM events)").Scan(&lo, &hi); err != nil {
		return 0, 0, fmt.Errorf("sqlite: events: %w", err)
	}
	if !lo.Valid {
		return 1, 0, nil
	}
	return lo.Int64, hi.Int64, nil
}

// mergeEvents merges event lists into one in time order, without
// duplicates, keeping at most n.
func mergeEvents(lists [][]store.Event, asc bool, n int) []store.Event {
	var all []store.Event
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.SortFunc(all, func(a, b store.Event) int {
		c := cmp.Or(cmp.Compare(a.Time.UnixNano(), b.Time.UnixNano()), cmp.Compare(a.ID, b.ID))
		if !asc {
			c = -c
		}
		return c
	})
	all = slices.CompactFunc(all, func(a, b store.Event) bool { return a.ID == b.ID && a.Time.Equal(b.Time) })
	if len(all) > n {
		all = all[:n]
	}
	return all
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
	var c cond
	if len(q.Sensors) > 0 {
		ids, err := d.lookups(ctx, q.Sensors)
		if err != nil {
			return page, err
		}
		c.in("+e.sensor", ids)
	}
	if len(q.Types) > 0 {
		ids, err := d.lookups(ctx, q.Types)
		if err != nil {
			return page, err
		}
		col := "e.type"
		if len(ids) > 1 || len(q.Devices) > 0 || q.AlertID != "" {
			col = "+e.type" // walk time in order rather than sort
		}
		c.in(col, ids)
	}
	if q.AlertID != "" {
		c.add("e.alert_id = ? AND e.alert_id <> ''", q.AlertID)
	}
	dir, cmpOp := " DESC", "<"
	if q.Ascending {
		dir, cmpOp = " ASC", ">"
	}
	var cur store.Cursor
	if q.Cursor != "" {
		if cur, err = store.DecodeCursor(q.Cursor); err != nil {
			return page, err
		}
		c.add("(e.time_ns, e.id) "+cmpOp+" (?, ?)", cur.A, cur.B)
	}
	var devs []int64
	if len(q.Devices) > 0 {
		if devs, err = d.lookups(ctx, q.Devices); err != nil {
			return page, err
		}
		if len(devs) == 0 {
			c.none = true
		}
	}
	if c.none {
		return page, nil
	}
	n := q.Limit + 1
	var evs []store.Event
	if len(devs) > 0 {
		from, until, err := d.timeSpan(ctx)
		if err != nil {
			return page, err
		}
		if !q.From.IsZero() {
			from = max(from, q.From.UnixNano())
		}
		if !q.Until.IsZero() {
			until = min(until, q.Until.UnixNano()-1)
		}
		if q.Cursor != "" {
			if q.Ascending {
				from = max(from, cur.A)
			} else {
				until = min(until, cur.A)
			}
		}
		var lists [][]store.Event
		for _, role := range []string{"device", "peer"} {
			for _, dev := range devs {
				l, err := d.deviceEvents(ctx, role, dev, from, until, q.Ascending, c, n)
				if err != nil {
					return page, err
				}
				lists = append(lists, l)
			}
		}
		evs = mergeEvents(lists, q.Ascending, n)
	} else {
		if !q.From.IsZero() {
			c.add("e.time_ns >= ?", q.From.UnixNano())
		}
		if !q.Until.IsZero() {
			c.add("e.time_ns < ?", q.Until.UnixNano())
		}
		rows, err := d.r.QueryContext(ctx, "SELECT "+eventCols+" FROM events e"+c.where()+
			" ORDER BY e.time_ns"+dir+", e.id"+dir+" LIMIT ?", append(c.args, n)...)
		if err != nil {
			return page, fmt.Errorf("sqlite: querying events: %w", err)
		}
		if evs, err = d.scanEvents(ctx, rows); err != nil {
			return page, err
		}
	}
	if len(evs) > q.Limit {
		evs = evs[:q.Limit]
		last := evs[len(evs)-1]
		page.Next = store.Cursor{A: last.Time.UnixNano(), B: last.ID}.Encode()
	}
	page.Events = evs
	return page, nil
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
	from, until := first-int64(window), last+int64(window)
	var lists [][]store.Event
	for _, dev := range store.Distinct(src, dst) {
		for _, role := range []string{"device", "peer"} {
			l, err := d.deviceEvents(ctx, role, dev, from, until, true, cond{}, limit)
			if err != nil {
				return nil, err
			}
			lists = append(lists, l)
		}
	}
	out := mergeEvents(lists, true, limit)
	if out == nil {
		out = []store.Event{}
	}
	return out, nil
}

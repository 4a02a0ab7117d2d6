package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/store"
)

const upsertAlert = `INSERT INTO alerts(id, sensor, site, zone, type, category, protocol, src, dst, srct, dstt,
	severity, status, engine, first_ns, last_ns, count, updated_ns, cid)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT(id) DO UPDATE SET
	first_ns = min(first_ns, excluded.first_ns),
	last_ns = max(last_ns, excluded.last_ns),
	count = max(count, excluded.count),
	updated_ns = excluded.updated_ns,
	site = iif(excluded.last_ns >= last_ns, excluded.site, site),
	zone = iif(excluded.last_ns >= last_ns, excluded.zone, zone),
	category = iif(excluded.last_ns >= last_ns, excluded.category, category),
	protocol = iif(excluded.last_ns >= last_ns, excluded.protocol, protocol),
	severity = iif(severity_set, severity, iif(excluded.last_ns >= last_ns, excluded.severity, severity)),
	engine = iif(excluded.last_ns >= last_ns, excluded.engine, engine),
	srct = iif(excluded.last_ns >= last_ns, excluded.srct, srct),
	dstt = iif(excluded.last_ns >= last_ns, excluded.dstt, dstt)
RETURNING rid, last_ns, cid, sensor, site, zone, type, category, protocol, severity, status, engine`

// upsertDoc stores an alert's JSON; PutAlerts runs it only when the copy
// being stored is the most recently detected.
const upsertDoc = `INSERT INTO alert_docs(rid, doc) VALUES (?, ?) ON CONFLICT(rid) DO UPDATE SET doc = excluded.doc`

// PutAlerts upserts alerts by id; see store.Store.
func (d *DB) PutAlerts(ctx context.Context, alerts []*alert.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	if err := store.CheckAlerts(alerts); err != nil {
		return err
	}
	docs, err := encodeAll(alerts)
	if err != nil {
		return err
	}
	err = d.write(ctx, func(w *wtx) error { return w.putAlerts(alerts, docs) })
	if err != nil {
		return err
	}
	d.grew(ctx, int64(len(alerts)))
	return store.PutPackets(ctx, "sqlite", alerts, d.hasEvidence, d.PutEvidence)
}

// hasEvidence says whether the alert's evidence is stored.
func (d *DB) hasEvidence(ctx context.Context, alertID string) bool {
	_, err := d.evidenceInfo(ctx, alertID)
	return err == nil
}

// alertsPerStatement is how many alerts one INSERT carries.
const alertsPerStatement = 32

// alertRowArgs are the values of one alert row, in insertAlert's order.
type alertRowArgs struct {
	a    *alert.Alert
	doc  []byte
	args [19]any
	k    combo
	cid  int64
	last int64
}

// putAlerts stores alerts: new ones with a multi-row INSERT that skips
// those already stored, which then go through upsertAlert one by one.
func (w *wtx) putAlerts(alerts []*alert.Alert, docs [][]byte) error {
	ctx := w.ctx
	now := w.now.UnixNano()
	rows := make([]alertRowArgs, len(alerts))
	for i, a := range alerts {
		var ids [10]int64
		var err error
		for j, s := range [10]string{a.Sensor, a.Site, a.Zone, a.Type, a.Category, a.Protocol, store.PartyKey(a.Source),
			store.PartyKey(a.Destination), store.PartyText(a.Source), store.PartyText(a.Destination)} {
			if ids[j], err = w.id(s); err != nil {
				return err
			}
		}
		status := store.IngestStatus(a)
		r := &rows[i]
		r.a, r.doc, r.last = a, docs[i], store.LastSeen(a).UnixNano()
		r.k = combo{ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], int64(a.Severity), int64(status), int64(a.Engine)}
		if r.cid, err = w.cid(r.k); err != nil {
			return err
		}
		r.args = [19]any{a.ID, ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7], ids[8], ids[9],
			int(a.Severity), int(status), int(a.Engine), a.FirstDetection.UnixNano(), r.last, int64(a.Count), now, r.cid}
	}
	var update []*alertRowArgs
	for lo := 0; lo < len(rows); lo += alertsPerStatement {
		chunk := rows[lo:min(lo+alertsPerStatement, len(rows))]
		args := make([]any, 0, 19*len(chunk))
		for i := range chunk {
			args = append(args, chunk[i].args[:]...)
		}
		res, err := w.QueryContext(ctx, insertAlerts(len(chunk)), args...)
		if err != nil {
			return fmt.Errorf("sqlite: storing alerts: %w", err)
		}
		inserted := map[string]int64{}
		for res.Next() {
			var id string
			var rid int64
			if err := res.Scan(&id, &rid); err != nil {
				res.Close()
				return fmt.Errorf("sqlite: storing alerts: %w", err)
			}
			inserted[id] = rid
		}
		res.Close()
		if err := res.Err(); err != nil {
			return fmt.Errorf("sqlite: storing alerts: %w", err)
		}
		docArgs := make([]any, 0, 2*len(chunk))
		for i := range chunk {
			r := &chunk[i]
			if rid, ok := inserted[r.a.ID]; ok {
				docArgs = append(docArgs, rid, r.doc)
				delete(inserted, r.a.ID) // a second copy in the batch is an update
			} else {
				update = append(update, r)
			}
		}
		if len(docArgs) > 0 {
			q := "INSERT INTO alert_docs(rid, doc) VALUES " + strings.TrimSuffix(strings.Repeat("(?,?),", len(docArgs)/2), ",")
			if _, err := w.ExecContext(ctx, q, docArgs...); err != nil {
				return fmt.Errorf("sqlite: storing alerts: %w", err)
			}
		}
	}
	if len(update) == 0 {
		return nil
	}
	st, err := w.PrepareContext(ctx, upsertAlert)
	if err != nil {
		return fmt.Errorf("sqlite: storing alerts: %w", err)
	}
	defer st.Close()
	sd, err := w.PrepareContext(ctx, upsertDoc)
	if err != nil {
		return fmt.Errorf("sqlite: storing alerts: %w", err)
	}
	defer sd.Close()
	for _, r := range update {
		var rid, stored, storedCid int64
		var got combo
		err = st.QueryRowContext(ctx, r.args[:]...).Scan(&rid, &stored, &storedCid, &got[0], &got[1], &got[2], &got[3], &got[4], &got[5],
			&got[6], &got[7], &got[8])
		if err != nil {
			return fmt.Errorf("sqlite: storing alert %s: %w", r.a.ID, err)
		}
		if got != r.k || storedCid != r.cid {
			// The stored status (or older fields) make another
			// combination.
			if err := w.setCid(rid, got, storedCid); err != nil {
				return err
			}
		}
		if r.last >= stored {
			if _, err := sd.ExecContext(ctx, rid, r.doc); err != nil {
				return fmt.Errorf("sqlite: storing alert %s: %w", r.a.ID, err)
			}
		}
	}
	return nil
}

var insertAlertsCache sync.Map // number of rows → statement text

// insertAlerts returns the INSERT of n new alerts, skipping those stored.
func insertAlerts(n int) string {
	if q, ok := insertAlertsCache.Load(n); ok {
		return q.(string)
	}
	q := `INSERT INTO alerts(id, sensor, site, zone, type, category, protocol, src, dst, srct, dstt,
	severity, status, engine, first_ns, last_ns, count, updated_ns, cid) VALUES ` +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?),", n), ",") +
		" ON CONFLICT(id) DO NOTHING RETURNING id, rid"
	insertAlertsCache.Store(n, q)
	return q
}

// encodeAll encodes alerts as JSON, on every CPU.
func encodeAll(alerts []*alert.Alert) ([][]byte, error) {
	docs := make([][]byte, len(alerts))
	i, err := store.Parallel(len(alerts), func(i int) error {
		a := alerts[i]
		if a.Status == 0 { // stored as New: the copy says so too
			c := *a
			c.Status = alert.New
			a = &c
		}
		var err error
		docs[i], err = json.Marshal(a)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: encoding alert %s: %w", alerts[i].ID, err)
	}
	return docs, nil
}

// alertCols are the columns scanAlert reads, from alerts a joined with
// alert_docs d and evidence e.
const alertCols = `a.id AS id, d.doc AS doc, a.status AS status, a.count AS count, a.first_ns AS first_ns,
	a.last_ns AS last_ns, a.updated_ns AS updated_ns, a.severity AS severity, a.rid AS rid,
	e.size AS esize, e.stored_ns AS estored`

const alertFrom = ` FROM alerts a JOIN alert_docs d ON d.rid = a.rid LEFT JOIN evidence e ON e.alert_id = a.id`

// alertRow is a scanned alert with its sort keys.
type alertRow struct {
	rec      *store.AlertRecord
	severity int64
	first    int64
	last     int64
	rid      int64
}

func scanAlerts(rows *sql.Rows) ([]alertRow, error) {
	defer rows.Close()
	var out []alertRow
	for rows.Next() {
		var (
			id          string
			doc         []byte
			status      int
			count       int64
			r           alertRow
			updated     int64
			esize, estn sql.NullInt64
		)
		if err := rows.Scan(&id, &doc, &status, &count, &r.first, &r.last, &updated, &r.severity, &r.rid, &esize, &estn); err != nil {
			return nil, fmt.Errorf("sqlite: reading alert: %w", err)
		}
		var a alert.Alert
		if err := json.Unmarshal(doc, &a); err != nil {
			return nil, fmt.Errorf("sqlite: decoding alert %s: %w", id, err)
		}
		var size, stored *int64
		if esize.Valid {
			size, stored = &esize.Int64, &estn.Int64
		}
		r.rec = store.NewAlertRecord(a, id, alert.Status(status), alert.Severity(r.severity), count, r.first, r.last, updated, size, stored)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reading alerts: %w", err)
	}
	return out, nil
}

// markMuted sets Muted on the records whose pattern is muted.
func (d *DB) markMuted(ctx context.Context, recs []*store.AlertRecord) error {
	return store.ApplyMutes(ctx, recs, d.Mutes)
}

// Alert returns one alert.
func (d *DB) Alert(ctx context.Context, id string) (*store.AlertRecord, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, "SELECT "+alertCols+alertFrom+" WHERE a.id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: alert %s: %w", id, err)
	}
	rs, err := scanAlerts(rows)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
	}
	if err := d.markMuted(ctx, []*store.AlertRecord{rs[0].rec}); err != nil {
		return nil, err
	}
	return rs[0].rec, nil
}

// alertKeys returns an alert's row id and its source and destination ids.
func (d *DB) alertKeys(ctx context.Context, id string) (rid, src, dst, first, last int64, err error) {
	err = d.r.QueryRowContext(ctx, "SELECT rid, src, dst, first_ns, last_ns FROM alerts WHERE id = ?", id).Scan(&rid, &src, &dst, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
	} else if err != nil {
		err = fmt.Errorf("sqlite: alert %s: %w", id, err)
	}
	return
}

// RelatedAlerts returns other alerts of the alert's devices.
func (d *DB) RelatedAlerts(ctx context.Context, id string, limit int) ([]*store.AlertRecord, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	limit, err := store.RelatedLimit(limit)
	if err != nil {
		return nil, err
	}
	rid, src, dst, _, _, err := d.alertKeys(ctx, id)
	if err != nil {
		return nil, err
	}
	q := store.AlertQuery{Sort: store.SortLastDetection}
	hours, err := d.span(ctx, &filter{q: q}, 0, 0)
	if err != nil {
		return nil, err
	}
	var c cond
	c.add("a.rid <> ?", rid)
	var rs []alertRow
	for _, dev := range store.Distinct(src, dst) {
		for _, role := range []string{"a.src", "a.dst"} {
			r, err := d.hourWalk(ctx, hours, role+" = ?", []any{dev}, c, &q, limit)
			if err != nil {
				return nil, err
			}
			rs = append(rs, r...)
		}
	}
	rs = sortRows(rs, &q)
	out := make([]*store.AlertRecord, 0, min(limit, len(rs)))
	for i := range rs[:min(limit, len(rs))] {
		out = append(out, rs[i].rec)
	}
	return out, d.markMuted(ctx, out)
}

// loadAlert reads an alert in a write transaction.
func (w *wtx) loadAlert(id string) (*alert.Alert, error) {
	var doc []byte
	var status, severity int
	var first, last, count int64
	err := w.QueryRowContext(w.ctx, "SELECT d.doc, a.status, a.severity, a.first_ns, a.last_ns, a.count FROM alerts a JOIN alert_docs d ON d.rid = a.rid WHERE a.id = ?", id).
		Scan(&doc, &status, &severity, &first, &last, &count)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: alert %s: %w", id, err)
	}
	a := &alert.Alert{}
	if err := json.Unmarshal(doc, a); err != nil {
		return nil, fmt.Errorf("sqlite: decoding alert %s: %w", id, err)
	}
	store.SetStored(a, id, alert.Status(status), alert.Severity(severity), count, first, last)
	return a, nil
}

// setCid points alert rid at combination k, if it is not already.
func (w *wtx) setCid(rid int64, k combo, old int64) error {
	cid, err := w.cid(k)
	if err != nil || cid == old {
		return err
	}
	if _, err := w.ExecContext(w.ctx, "UPDATE alerts SET cid = ? WHERE rid = ?", cid, rid); err != nil {
		return fmt.Errorf("sqlite: alert counts: %w", err)
	}
	return nil
}

// setStatus moves one alert and records it.
func (w *wtx) setStatus(id string, from, to alert.Status, actor, action, reason string) error {
	if from != to {
		var rid, cid int64
		var k combo
		err := w.QueryRowContext(w.ctx, `UPDATE alerts SET status = ?, updated_ns = ? WHERE id = ?
			RETURNING rid, cid, sensor, site, zone, type, category, protocol, severity, status, engine`, int(to), w.now.UnixNano(), id).
			Scan(&rid, &cid, &k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &k[7], &k[8])
		if err != nil {
			return fmt.Errorf("sqlite: alert %s status: %w", id, err)
		}
		if err := w.setCid(rid, k, cid); err != nil {
			return err
		}
	}
	return w.history(id, from, to, actor, action, reason)
}

// history records a change of an alert in its history and the audit log.
func (w *wtx) history(id string, from, to alert.Status, actor, action, reason string) error {
	return w.record(store.Change(id, actor, action, from, to, reason))
}

// record adds h to its alert's history and to the audit log.
func (w *wtx) record(h store.StatusChange) error {
	_, err := w.ExecContext(w.ctx, `INSERT INTO history(alert_id, time_ns, actor, action, from_status, to_status, from_severity, to_severity, reason)
		VALUES (?,?,?,?,?,?,?,?,?)`, h.AlertID, w.now.UnixNano(), h.Actor, h.Action, int(h.From), int(h.To), int(h.FromSeverity), int(h.ToSeverity), h.Reason)
	if err != nil {
		return fmt.Errorf("sqlite: alert %s history: %w", h.AlertID, err)
	}
	return w.audit(h.Audit())
}

// SetStatus moves alerts to status, all or none.
func (d *DB) SetStatus(ctx context.Context, ids []string, status alert.Status, actor, reason string) error {
	if err := store.CheckStatus(status, reason); err != nil {
		return err
	}
	ids, err := store.AlertIDs(ids)
	if err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		for _, id := range ids {
			var from int
			err := w.QueryRowContext(ctx, "SELECT status FROM alerts WHERE id = ?", id).Scan(&from)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
			}
			if err != nil {
				return fmt.Errorf("sqlite: alert %s: %w", id, err)
			}
			if !store.Transition(alert.Status(from), status) {
				return fmt.Errorf("%w: alert %s cannot go from %v to %v", store.ErrInvalid, id, alert.Status(from), status)
			}
			if err := w.setStatus(id, alert.Status(from), status, actor, store.ActionStatus, reason); err != nil {
				return err
			}
		}
		return nil
	})
}

// BulkSetStatus moves every matching alert whose transition is allowed.
func (d *DB) BulkSetStatus(ctx context.Context, q store.AlertQuery, status alert.Status, actor, reason string) (int64, error) {
	if err := store.CheckStatus(status, reason); err != nil {
		return 0, err
	}
	if err := d.reading(); err != nil {
		return 0, err
	}
	f, c, err := d.bulkCond(ctx, q)
	if err != nil || f.none {
		return 0, err
	}
	c.in("a.status", store.Enums[int64](store.Sources(status)))
	var n int64
	err = d.write(ctx, func(w *wtx) error {
		now := w.now.UnixNano()
		if _, err := w.ExecContext(ctx, `INSERT INTO history(alert_id, time_ns, actor, action, from_status, to_status, reason)
			SELECT a.id, ?, ?, ?, a.status, ?, ? FROM alerts a`+c.where(),
			append([]any{now, actor, store.ActionStatus, int(status), reason}, c.args...)...); err != nil {
			return fmt.Errorf("sqlite: bulk status history: %w", err)
		}
		// Each combination moves to the same one with the new status.
		if err := w.moveCombos(comboStatus, int64(status)); err != nil {
			return err
		}
		res, err := w.ExecContext(ctx, `UPDATE alerts SET status = ?, updated_ns = ?,
			cid = coalesce((SELECT new FROM temp.cid_moves WHERE old = alerts.cid), cid)
			WHERE rid IN (SELECT a.rid FROM alerts a`+c.where()+")",
			append([]any{int(status), now}, c.args...)...)
		if err != nil {
			return fmt.Errorf("sqlite: bulk status: %w", err)
		}
		n, _ = res.RowsAffected()
		return w.audit(store.AuditBulk(actor, store.AuditBulkStatus, n, status, f.q, reason))
	})
	return n, err
}

// Learn adds the alert's pattern to the baseline and closes it.
func (d *DB) Learn(ctx context.Context, id, actor string) (baseline.Entry, error) {
	var e baseline.Entry
	err := d.write(ctx, func(w *wtx) error {
		a, err := w.loadAlert(id)
		if err != nil {
			return err
		}
		rec, to, err := store.Learning(a)
		if err != nil {
			return err
		}
		e = rec.Entry
		if err := w.putBaseline(a.Sensor, []baseline.Record{rec}); err != nil {
			return err
		}
		return w.setStatus(id, a.Status, to, actor, store.ActionLearn, e.String())
	})
	return e, err
}

// Mute suppresses the alert's pattern.
func (d *DB) Mute(ctx context.Context, id, actor string) error {
	return d.write(ctx, func(w *wtx) error {
		a, err := w.loadAlert(id)
		if err != nil {
			return err
		}
		m := store.MuteOf(a)
		res, err := w.ExecContext(ctx, `INSERT INTO mutes(sensor, type, src, dst, key, alert_id, actor, created_ns)
			VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`, m.Sensor, m.Type, m.Source, m.Destination, m.Key, id, actor, w.now.UnixNano())
		if err != nil {
			return fmt.Errorf("sqlite: muting alert %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return w.history(id, a.Status, a.Status, actor, store.ActionMute, "")
	})
}

// Unmute removes the alert's mute.
func (d *DB) Unmute(ctx context.Context, id, actor string) error {
	return d.write(ctx, func(w *wtx) error {
		a, err := w.loadAlert(id)
		if err != nil {
			return err
		}
		m := store.MuteOf(a)
		res, err := w.ExecContext(ctx, "DELETE FROM mutes WHERE sensor = ? AND type = ? AND src = ? AND dst = ? AND key = ?",
			m.Sensor, m.Type, m.Source, m.Destination, m.Key)
		if err != nil {
			return fmt.Errorf("sqlite: unmuting alert %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return w.history(id, a.Status, a.Status, actor, store.ActionUnmute, "")
	})
}

// Mutes returns every muted pattern.
func (d *DB) Mutes(ctx context.Context) ([]store.Mute, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, "SELECT id, sensor, type, src, dst, key, alert_id, actor, created_ns, suppressed FROM mutes ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlite: mutes: %w", err)
	}
	defer rows.Close()
	var out []store.Mute
	for rows.Next() {
		var m store.Mute
		var created int64
		if err := rows.Scan(&m.ID, &m.Sensor, &m.Type, &m.Source, &m.Destination, &m.Key, &m.AlertID, &m.Actor, &created, &m.Suppressed); err != nil {
			return nil, fmt.Errorf("sqlite: mutes: %w", err)
		}
		m.Created = store.Time(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Comment adds a comment to an alert.
func (d *DB) Comment(ctx context.Context, id, author, text string) (store.Comment, error) {
	c, err := store.NewComment(id, author, text)
	if err != nil {
		return c, err
	}
	err = d.write(ctx, func(w *wtx) error {
		var one int
		if err := w.QueryRowContext(ctx, "SELECT 1 FROM alerts WHERE id = ?", id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
		} else if err != nil {
			return fmt.Errorf("sqlite: alert %s: %w", id, err)
		}
		c.Time = w.now
		if err := w.QueryRowContext(ctx, "INSERT INTO comments(alert_id, author, text, time_ns) VALUES (?,?,?,?) RETURNING id",
			id, author, text, w.now.UnixNano()).Scan(&c.ID); err != nil {
			return fmt.Errorf("sqlite: comment on %s: %w", id, err)
		}
		return w.audit(store.AuditComment(c))
	})
	return c, err
}

// exists fails with ErrNotFound when there is no alert id.
func (d *DB) exists(ctx context.Context, id string) error {
	var one int
	err := d.r.QueryRowContext(ctx, "SELECT 1 FROM alerts WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("sqlite: alert %s: %w", id, err)
	}
	return nil
}

// Comments returns an alert's comments, oldest first.
func (d *DB) Comments(ctx context.Context, id string) ([]store.Comment, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	if err := d.exists(ctx, id); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, "SELECT id, author, text, time_ns FROM comments WHERE alert_id = ? ORDER BY id", id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: comments of %s: %w", id, err)
	}
	defer rows.Close()
	out := []store.Comment{}
	for rows.Next() {
		c := store.Comment{AlertID: id}
		var t int64
		if err := rows.Scan(&c.ID, &c.Author, &c.Text, &t); err != nil {
			return nil, fmt.Errorf("sqlite: comments of %s: %w", id, err)
		}
		c.Time = store.Time(t)
		out = append(out, c)
	}
	return out, rows.Err()
}

// History returns an alert's status changes, oldest first.
func (d *DB) History(ctx context.Context, id string) ([]store.StatusChange, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	if err := d.exists(ctx, id); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, `SELECT time_ns, actor, action, from_status, to_status, from_severity, to_severity, reason
		FROM history WHERE alert_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: history of %s: %w", id, err)
	}
	defer rows.Close()
	out := []store.StatusChange{}
	for rows.Next() {
		h := store.StatusChange{AlertID: id}
		var t int64
		var from, to, fromSev, toSev int
		if err := rows.Scan(&t, &h.Actor, &h.Action, &from, &to, &fromSev, &toSev, &h.Reason); err != nil {
			return nil, fmt.Errorf("sqlite: history of %s: %w", id, err)
		}
		h.Time, h.From, h.To = store.Time(t), alert.Status(from), alert.Status(to)
		h.FromSeverity, h.ToSeverity = alert.Severity(fromSev), alert.Severity(toSev)
		out = append(out, h)
	}
	return out, rows.Err()
}

package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/store"
)

// upsertAlerts stores a batch of alerts from arrays, one element per
// alert (ids distinct): the alerts already stored are updated, count and
// last detection taking the larger value, first detection the smaller,
// the facet dimensions, party text, texts and JSON those of the most
// recently detected copy, the status kept, and the severity kept when a
// person set it; the others are inserted. PutAlerts has already given
// the alerts whose severity a person set that severity (personSeverity),
// so that their combination is known; the statement looks it up only for
// a severity a concurrent transaction set since.
//
// Checking which are stored and inserting the rest plainly costs less than
// INSERT ... ON CONFLICT's speculative insertion; an alert a concurrent
// transaction inserts in between makes the insert fail with a unique
// violation, and the transaction is run again. One probe of the key index
// for the whole batch first (stored) skips the update and the per-alert
// checks when, as in steady ingest, every alert is new. OFFSET 0 keeps
// the per-alert check a probe of the key index: as a join, the planner may
// hash the whole table instead.
const upsertAlerts = `WITH i AS (
	SELECT * FROM unnest($1::text[], $2::int4[], $3::int4[], $4::int4[], $5::int4[], $6::int4[], $7::int4[], $8::int4[],
		$9::int4[], $10::int4[], $11::int4[], $12::int4[], $13::int2[], $14::int2[], $15::int2[], $16::int8[], $17::int8[],
		$18::int8[], $19::int4[], $20::bytea[])
	AS t(id, combo, sensor, site, zone, type, category, protocol, src, dst, srct, dstt, severity, status, engine,
		first_ns, last_ns, count, text, doc)
), e AS MATERIALIZED (
	SELECT EXISTS (SELECT 1 FROM alerts WHERE id = ANY($1)) AS stored
), u AS (
	UPDATE alerts a SET
		first_ns = least(a.first_ns, i.first_ns),
		last_ns = greatest(a.last_ns, i.last_ns),
		count = greatest(a.count, i.count),
		updated_ns = $21,
		combo = CASE WHEN i.last_ns < a.last_ns THEN a.combo
			WHEN NOT a.severity_set OR i.severity = a.severity THEN i.combo
			ELSE coalesce((SELECT c.id FROM combos c WHERE (c.sensor, c.site, c.zone, c.type, c.category, c.protocol, c.severity, c.engine)
				= (i.sensor, i.site, i.zone, i.type, i.category, i.protocol, a.severity, i.engine)), a.combo) END,
		sensor = CASE WHEN i.last_ns >= a.last_ns THEN i.sensor ELSE a.sensor END,
		site = CASE WHEN i.last_ns >= a.last_ns THEN i.site ELSE a.site END,
		zone = CASE WHEN i.last_ns >= a.last_ns THEN i.zone ELSE a.zone END,
		type = CASE WHEN i.last_ns >= a.last_ns THEN i.type ELSE a.type END,
		category = CASE WHEN i.last_ns >= a.last_ns THEN i.category ELSE a.category END,
		protocol = CASE WHEN i.last_ns >= a.last_ns THEN i.protocol ELSE a.protocol END,
		severity = CASE WHEN a.severity_set THEN a.severity WHEN i.last_ns >= a.last_ns THEN i.severity ELSE a.severity END,
		engine = CASE WHEN i.last_ns >= a.last_ns THEN i.engine ELSE a.engine END,
		srct = CASE WHEN i.last_ns >= a.last_ns THEN i.srct ELSE a.srct END,
		dstt = CASE WHEN i.last_ns >= a.last_ns THEN i.dstt ELSE a.dstt END,
		text = CASE WHEN i.last_ns >= a.last_ns THEN i.text ELSE a.text END,
		doc = CASE WHEN i.last_ns >= a.last_ns THEN i.doc ELSE a.doc END
	FROM i WHERE (SELECT stored FROM e) AND a.id = i.id
)
INSERT INTO alerts (id, combo, sensor, site, zone, type, category, protocol, src, dst, srct, dstt,
	severity, status, engine, first_ns, last_ns, count, updated_ns, text, doc)
SELECT id, combo, sensor, site, zone, type, category, protocol, src, dst, srct, dstt,
	severity, status, engine, first_ns, last_ns, count, $21, text, doc
FROM i WHERE NOT (SELECT stored FROM e) OR NOT EXISTS (SELECT 1 FROM alerts x WHERE x.id = i.id OFFSET 0)`

// PutAlerts upserts alerts by id; see store.Store.
func (d *DB) PutAlerts(ctx context.Context, alerts []*alert.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	if err := store.CheckAlerts(alerts); err != nil {
		return err
	}
	if err := d.reading(); err != nil {
		return err
	}
	batch := store.MergeBatch(alerts)
	if err := d.personSeverity(ctx, batch); err != nil {
		return err
	}
	n := len(batch)
	args, err := d.alertArgs(ctx, batch)
	if err != nil {
		return err
	}
	err = d.write(ctx, func(w *wtx) error {
		_, err := w.Exec(ctx, upsertAlerts, append(args, w.now.UnixNano())...)
		if err != nil {
			return d.fail(fmt.Sprintf("storing %d alerts", n), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.maint.grew(ctx, tableAlerts, int64(n))
	if d.evDir == "" {
		return nil
	}
	return store.PutPackets(ctx, "postgres", batch, d.hasEvidence, d.PutEvidence)
}

// hasEvidence says whether the alert's evidence is stored.
func (d *DB) hasEvidence(ctx context.Context, alertID string) bool {
	_, err := d.evidenceFile(ctx, alertID)
	return err == nil
}

// personSeverity replaces the alerts of batch whose stored severity a
// person set (SetSeverity) by copies with that severity, so that ingest
// keeps it.
func (d *DB) personSeverity(ctx context.Context, batch []*alert.Alert) error {
	ids := make([]string, len(batch))
	for i, a := range batch {
		ids[i] = a.ID
	}
	rows, err := d.pool.Query(ctx, "SELECT id, severity FROM alerts WHERE severity_set AND id = ANY($1)", ids)
	if err != nil {
		return d.fail("alert severities", err)
	}
	set := map[string]alert.Severity{}
	var id string
	var sev int16
	_, err = pgx.ForEachRow(rows, []any{&id, &sev}, func() error {
		set[id] = alert.Severity(sev)
		return nil
	})
	if err != nil {
		return d.fail("alert severities", err)
	}
	store.KeepSeverity(batch, set)
	return nil
}

// alertArgs returns the parameters of upsertAlerts but the last (the
// time), one array per column, adding the batch's strings and facet
// combinations to the dictionaries.
func (d *DB) alertArgs(ctx context.Context, batch []*alert.Alert) ([]any, error) {
	n := len(batch)
	docs, texts, err := encodeAll(batch)
	if err != nil {
		return nil, err
	}
	textIDs, err := d.ensureTexts(ctx, texts)
	if err != nil {
		return nil, err
	}
	const k = 10 // strings per alert
	strs := make([]string, 0, k*n)
	for _, a := range batch {
		strs = append(strs, a.Sensor, a.Site, a.Zone, a.Type, a.Category, a.Protocol, store.PartyKey(a.Source), store.PartyKey(a.Destination),
			store.PartyText(a.Source), store.PartyText(a.Destination))
	}
	if err := d.ensureStrings(ctx, strs); err != nil {
		return nil, err
	}
	var (
		ids                      = make([]string, n)
		combos                   = make([]int32, n)
		dims                     [k][]int32
		severity, status, engine = make([]int16, n), make([]int16, n), make([]int16, n)
		first, last, count       = make([]int64, n), make([]int64, n), make([]int64, n)
		ck                       = make([]combo, n)
	)
	for j := range dims {
		dims[j] = make([]int32, n)
	}
	for i, a := range batch {
		for j := range dims {
			dims[j][i], _ = d.dict.id(strs[k*i+j])
		}
		ids[i] = a.ID
		severity[i], status[i], engine[i] = int16(a.Severity), int16(a.Status), int16(a.Engine)
		first[i], last[i], count[i] = a.FirstDetection.UnixNano(), a.LastDetection.UnixNano(), int64(min(a.Count, 1<<63-1))
		ck[i] = combo{dims[0][i], dims[1][i], dims[2][i], dims[3][i], dims[4][i], dims[5][i], severity[i], engine[i]}
	}
	if err := d.ensureCombos(ctx, ck); err != nil {
		return nil, err
	}
	for i, c := range ck {
		combos[i], _ = d.combos.id(c)
	}
	return []any{ids, combos, dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6], dims[7],
		dims[8], dims[9], severity, status, engine, first, last, count, textIDs, docs}, nil
}

// alertTexts are the catalogue texts of an alert, which the alerts of a
// type share and the texts table keeps once. The names are those of
// alert.Alert's JSON.
type alertTexts struct {
	Description string   `json:"description"`
	Tactics     []string `json:"tactics"`
	Techniques  []string `json:"techniques"`
	Remediation []string `json:"remediation"`
}

// textDoc is the JSON of an alert's catalogue texts and its hash.
type textDoc struct {
	hash [16]byte
	doc  []byte
}

// encodeAll encodes alerts as JSON without their catalogue texts, and the
// texts apart, on every CPU.
func encodeAll(alerts []*alert.Alert) ([][]byte, []textDoc, error) {
	docs := make([][]byte, len(alerts))
	texts := make([]textDoc, len(alerts))
	i, err := store.Parallel(len(alerts), func(i int) error {
		a := *alerts[i]
		t := alertTexts{a.Description, a.Tactics, a.Techniques, a.Remediation}
		a.Description, a.Tactics, a.Techniques, a.Remediation = "", nil, nil, nil
		var err error
		if docs[i], err = json.Marshal(&a); err != nil {
			return err
		}
		if texts[i].doc, err = json.Marshal(&t); err != nil {
			return err
		}
		h := sha256.Sum256(texts[i].doc)
		copy(texts[i].hash[:], h[:])
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: encoding alert %s: %w", alerts[i].ID, err)
	}
	return docs, texts, nil
}

// alertCols are the columns of a page of alerts, selected from the alerts
// a (with the sort keys) joined with texts x and evidence e.
const alertCols = `a.id, a.doc, x.doc, a.status, a.count, a.first_ns, a.last_ns, a.updated_ns, a.severity, a.rid, e.size, e.stored_ns`

// keyCols are the columns of alerts an inner page query selects.
const keyCols = `a.rid, a.id, a.text, a.doc, a.status, a.count, a.first_ns, a.last_ns, a.updated_ns, a.severity`

const alertJoin = ` LEFT JOIN texts x ON x.id = a.text LEFT JOIN evidence e ON e.alert_id = a.id`

// alertRow is a scanned alert with its sort keys.
type alertRow struct {
	rec      *store.AlertRecord
	severity int64
	first    int64
	last     int64
	rid      int64
}

func (d *DB) scanAlerts(rows pgx.Rows) ([]alertRow, error) {
	defer rows.Close()
	var out []alertRow
	for rows.Next() {
		var (
			id          string
			doc, text   []byte
			status, sev int16
			count       int64
			updated     int64
			r           alertRow
			esize, estn *int64
		)
		if err := rows.Scan(&id, &doc, &text, &status, &count, &r.first, &r.last, &updated, &sev, &r.rid, &esize, &estn); err != nil {
			return nil, d.fail("reading alert", err)
		}
		var a alert.Alert
		if err := decodeAlert(&a, doc, text); err != nil {
			return nil, fmt.Errorf("postgres: decoding alert %s: %w", id, err)
		}
		r.rec = store.NewAlertRecord(a, id, alert.Status(status), alert.Severity(sev), count, r.first, r.last, updated, esize, estn)
		r.severity = int64(sev)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, d.fail("reading alerts", err)
	}
	return out, nil
}

// decodeAlert decodes an alert's JSON and then its catalogue texts.
func decodeAlert(a *alert.Alert, doc, text []byte) error {
	if err := json.Unmarshal(doc, a); err != nil {
		return err
	}
	if text == nil {
		return nil
	}
	return json.Unmarshal(text, a)
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
	rows, err := d.pool.Query(ctx, "SELECT "+alertCols+" FROM alerts a"+alertJoin+" WHERE a.id = $1", id)
	if err != nil {
		return nil, d.fail("alert "+id, err)
	}
	rs, err := d.scanAlerts(rows)
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

// alertKeys returns an alert's row id, its source and destination ids and
// its detection times.
func (d *DB) alertKeys(ctx context.Context, id string) (rid int64, src, dst int32, first, last int64, err error) {
	err = d.pool.QueryRow(ctx, "SELECT rid, src, dst, first_ns, last_ns FROM alerts WHERE id = $1", id).Scan(&rid, &src, &dst, &first, &last)
	if errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
	} else if err != nil {
		err = d.fail("alert "+id, err)
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
	devs := store.Distinct(src, dst)
	if len(devs) == 0 {
		return []*store.AlertRecord{}, nil
	}
	b := &qb{}
	b.add("a.rid <> " + b.arg(rid))
	n := b.arg(limit)
	keys := sortKeys(store.SortLastDetection)
	parts := deviceBranches(b, devs, "SELECT "+keyCols+" FROM alerts a", orderBy("a.", keys, " DESC")+" LIMIT "+n)
	inner := "SELECT * FROM (" + strings.Join(parts, " UNION ALL ") + ") a" + orderBy("a.", keys, " DESC") + " LIMIT " + n
	rows, err := d.pool.Query(ctx, "SELECT "+alertCols+" FROM ("+inner+") a"+alertJoin+orderBy("a.", keys, " DESC"), b.args...)
	if err != nil {
		return nil, d.fail("related alerts of "+id, err)
	}
	rs, err := d.scanAlerts(rows)
	if err != nil {
		return nil, err
	}
	out := make([]*store.AlertRecord, len(rs))
	for i := range rs {
		out[i] = rs[i].rec
	}
	return out, d.markMuted(ctx, out)
}

// loadAlert reads an alert in a write transaction, locking its row.
func (w *wtx) loadAlert(id string) (*alert.Alert, error) {
	var doc, text []byte
	var status, severity int16
	var first, last, count int64
	err := w.QueryRow(w.ctx, `SELECT a.doc, x.doc, a.status, a.severity, a.first_ns, a.last_ns, a.count FROM alerts a
		LEFT JOIN texts x ON x.id = a.text WHERE a.id = $1 FOR UPDATE OF a`, id).Scan(&doc, &text, &status, &severity, &first, &last, &count)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
	}
	if err != nil {
		return nil, w.d.fail("alert "+id, err)
	}
	a := &alert.Alert{}
	if err := decodeAlert(a, doc, text); err != nil {
		return nil, fmt.Errorf("postgres: decoding alert %s: %w", id, err)
	}
	store.SetStored(a, id, alert.Status(status), alert.Severity(severity), int64(count), first, last)
	return a, nil
}

// history records status changes (or learn, mute, unmute actions) of
// alerts in their history and in the audit log, in the order given.
func (w *wtx) history(ids []string, from []int16, to alert.Status, actor, action, reason string) error {
	_, err := w.Exec(w.ctx, `INSERT INTO history(alert_id, time_ns, actor, action, from_status, to_status, reason)
		SELECT id, $3, $4, $5, f, $6, $7 FROM unnest($1::text[], $2::int2[]) WITH ORDINALITY AS t(id, f, i) ORDER BY i`,
		ids, from, w.now.UnixNano(), actor, action, int16(to), reason)
	if err != nil {
		return w.d.fail("alert history", err)
	}
	changes := make([]store.StatusChange, len(ids))
	for i, id := range ids {
		changes[i] = store.Change(id, actor, action, alert.Status(from[i]), to, reason)
	}
	return w.auditChanges(changes)
}

// auditChanges adds the audit log entries of history entries, in order.
func (w *wtx) auditChanges(changes []store.StatusChange) error {
	actors := make([]string, len(changes))
	actions := make([]string, len(changes))
	objects := make([]string, len(changes))
	details := make([]string, len(changes))
	for i := range changes {
		e := changes[i].Audit()
		actors[i], actions[i], objects[i], details[i] = e.Actor, e.Action, e.Object, e.Detail
	}
	_, err := w.Exec(w.ctx, `INSERT INTO audit(time_ns, actor, action, object, detail)
		SELECT $5, a, ac, o, dt FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS t(a, ac, o, dt, i) ORDER BY i`,
		actors, actions, objects, details, w.now.UnixNano())
	if err != nil {
		return w.d.fail("audit log", err)
	}
	return nil
}

// setStatus moves one alert and records it.
func (w *wtx) setStatus(id string, from, to alert.Status, actor, action, reason string) error {
	if from != to {
		if _, err := w.Exec(w.ctx, "UPDATE alerts SET status = $1, updated_ns = $2 WHERE id = $3", int16(to), w.now.UnixNano(), id); err != nil {
			return w.d.fail("alert "+id+" status", err)
		}
	}
	return w.history([]string{id}, []int16{int16(from)}, to, actor, action, reason)
}

// SetStatus moves alerts to status, all or none.
func (d *DB) SetStatus(ctx context.Context, ids []string, status alert.Status, actor, reason string) error {
	if err := store.CheckStatus(status, reason); err != nil {
		return err
	}
	uids, err := store.AlertIDs(ids)
	if err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		rows, err := w.Query(ctx, "SELECT id, status FROM alerts WHERE id = ANY($1) ORDER BY id FOR UPDATE", uids)
		if err != nil {
			return d.fail("alert status", err)
		}
		from := map[string]int16{}
		var id string
		var st int16
		if _, err := pgx.ForEachRow(rows, []any{&id, &st}, func() error {
			from[id] = st
			return nil
		}); err != nil {
			return d.fail("alert status", err)
		}
		froms := make([]int16, len(uids))
		for i, id := range uids {
			f, ok := from[id]
			if !ok {
				return fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
			}
			if !store.Transition(alert.Status(f), status) {
				return fmt.Errorf("%w: alert %s cannot go from %v to %v", store.ErrInvalid, id, alert.Status(f), status)
			}
			froms[i] = f
		}
		if _, err := w.Exec(ctx, "UPDATE alerts SET status = $1, updated_ns = $2 WHERE id = ANY($3)", int16(status), w.now.UnixNano(), uids); err != nil {
			return d.fail("alert status", err)
		}
		return w.history(uids, froms, status, actor, store.ActionStatus, reason)
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
	f, err := d.resolve(ctx, q)
	if err != nil || f.none {
		return 0, err
	}
	q = f.q
	b := &qb{}
	f.where(b, true, true)
	in(b, "a.status", store.Enums[int16](store.Sources(status)))
	var n int64
	err = d.write(ctx, func(w *wtx) error {
		args := append(slices.Clone(b.args), int16(status), w.now.UnixNano(), actor, reason)
		k := len(b.args)
		ps, pn, pa, pr := "$"+strconv.Itoa(k+1), "$"+strconv.Itoa(k+2), "$"+strconv.Itoa(k+3), "$"+strconv.Itoa(k+4)
		err := w.QueryRow(ctx, `WITH o AS (SELECT a.id, a.status AS old FROM alerts a`+b.where()+` ORDER BY a.id FOR UPDATE),
			m AS (UPDATE alerts a SET status = `+ps+`, updated_ns = `+pn+` FROM o WHERE a.id = o.id RETURNING a.id, a.rid, o.old),
			h AS (INSERT INTO history(alert_id, time_ns, actor, action, from_status, to_status, reason)
				SELECT id, `+pn+`, `+pa+`, 'status', old, `+ps+`, `+pr+` FROM m ORDER BY rid)
			SELECT count(*) FROM m`, args...).Scan(&n)
		if err != nil {
			return d.fail("bulk status change", err)
		}
		return w.audit(store.AuditBulk(actor, store.AuditBulkStatus, n, status, q, reason))
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
		tag, err := w.Exec(ctx, `INSERT INTO mutes(sensor, type, src, dst, key, alert_id, actor, created_ns)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`, m.Sensor, m.Type, m.Source, m.Destination, m.Key, id, actor, w.now.UnixNano())
		if err != nil {
			return d.fail("muting alert "+id, err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return w.history([]string{id}, []int16{int16(a.Status)}, a.Status, actor, store.ActionMute, "")
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
		tag, err := w.Exec(ctx, "DELETE FROM mutes WHERE sensor = $1 AND type = $2 AND src = $3 AND dst = $4 AND key = $5",
			m.Sensor, m.Type, m.Source, m.Destination, m.Key)
		if err != nil {
			return d.fail("unmuting alert "+id, err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return w.history([]string{id}, []int16{int16(a.Status)}, a.Status, actor, store.ActionUnmute, "")
	})
}

// Mutes returns every muted pattern.
func (d *DB) Mutes(ctx context.Context) ([]store.Mute, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, "SELECT id, sensor, type, src, dst, key, alert_id, actor, created_ns, suppressed FROM mutes ORDER BY id")
	if err != nil {
		return nil, d.fail("mutes", err)
	}
	var out []store.Mute
	var m store.Mute
	var created, suppressed int64
	if _, err := pgx.ForEachRow(rows, []any{&m.ID, &m.Sensor, &m.Type, &m.Source, &m.Destination, &m.Key, &m.AlertID, &m.Actor, &created, &suppressed}, func() error {
		m.Created, m.Suppressed = store.Time(created), uint64(suppressed)
		out = append(out, m)
		return nil
	}); err != nil {
		return nil, d.fail("mutes", err)
	}
	return out, nil
}

// Comment adds a comment to an alert.
func (d *DB) Comment(ctx context.Context, id, author, text string) (store.Comment, error) {
	c, err := store.NewComment(id, author, text)
	if err != nil {
		return c, err
	}
	err = d.write(ctx, func(w *wtx) error {
		var one int
		if err := w.QueryRow(ctx, "SELECT 1 FROM alerts WHERE id = $1", id).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
		} else if err != nil {
			return d.fail("alert "+id, err)
		}
		c.Time = w.now
		if err := w.QueryRow(ctx, "INSERT INTO comments(alert_id, author, text, time_ns) VALUES ($1, $2, $3, $4) RETURNING id",
			id, author, text, w.now.UnixNano()).Scan(&c.ID); err != nil {
			return d.fail("comment on "+id, err)
		}
		return w.audit(store.AuditComment(c))
	})
	if err != nil {
		c.ID, c.Time = 0, time.Time{}
	}
	return c, err
}

// exists fails with ErrNotFound when there is no alert id.
func (d *DB) exists(ctx context.Context, id string) error {
	var one int
	err := d.pool.QueryRow(ctx, "SELECT 1 FROM alerts WHERE id = $1", id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
	}
	if err != nil {
		return d.fail("alert "+id, err)
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
	rows, err := d.pool.Query(ctx, "SELECT id, author, text, time_ns FROM comments WHERE alert_id = $1 ORDER BY id", id)
	if err != nil {
		return nil, d.fail("comments of "+id, err)
	}
	out := []store.Comment{}
	c := store.Comment{AlertID: id}
	var t int64
	if _, err := pgx.ForEachRow(rows, []any{&c.ID, &c.Author, &c.Text, &t}, func() error {
		c.Time = store.Time(t)
		out = append(out, c)
		return nil
	}); err != nil {
		return nil, d.fail("comments of "+id, err)
	}
	return out, nil
}

// History returns an alert's status changes, oldest first.
func (d *DB) History(ctx context.Context, id string) ([]store.StatusChange, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	if err := d.exists(ctx, id); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, `SELECT time_ns, actor, action, from_status, to_status, from_severity, to_severity, reason
		FROM history WHERE alert_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, d.fail("history of "+id, err)
	}
	out := []store.StatusChange{}
	h := store.StatusChange{AlertID: id}
	var t int64
	var from, to, fromSev, toSev int16
	if _, err := pgx.ForEachRow(rows, []any{&t, &h.Actor, &h.Action, &from, &to, &fromSev, &toSev, &h.Reason}, func() error {
		h.Time, h.From, h.To = store.Time(t), alert.Status(from), alert.Status(to)
		h.FromSeverity, h.ToSeverity = alert.Severity(fromSev), alert.Severity(toSev)
		out = append(out, h)
		return nil
	}); err != nil {
		return nil, d.fail("history of "+id, err)
	}
	return out, nil
}

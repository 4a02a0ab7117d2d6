package postgres

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

// newCombo is the combination of alert a at severity $1 (a subquery for
// an UPDATE of alerts a): its own combination with the severity changed,
// which severityCombos added.
const newCombo = `(SELECT n.id FROM combos c JOIN combos n USING (sensor, site, zone, type, category, protocol, engine)
	WHERE c.id = a.combo AND n.severity = $1)`

// severityCombos adds, in the transaction, the combinations that the
// alerts a matching where (with args from $2) take at severity sev, and
// returns those it added, to be cached once committed.
func (w *wtx) severityCombos(sev alert.Severity, where string, args []any) (map[combo]int32, error) {
	rows, err := w.Query(w.ctx, `INSERT INTO combos(sensor, site, zone, type, category, protocol, severity, engine)
		SELECT DISTINCT c.sensor, c.site, c.zone, c.type, c.category, c.protocol, $1::int2, c.engine FROM combos c
		WHERE c.id IN (SELECT a.combo FROM alerts a`+where+`) ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
		ON CONFLICT DO NOTHING RETURNING id, sensor, site, zone, type, category, protocol, severity, engine`,
		append([]any{int16(sev)}, args...)...)
	if err != nil {
		return nil, w.d.fail("facet combinations", err)
	}
	added := map[combo]int32{}
	var id int32
	var k combo
	if _, err := pgx.ForEachRow(rows, []any{&id, &k.sensor, &k.site, &k.zone, &k.typ, &k.category, &k.protocol, &k.severity, &k.engine}, func() error {
		added[k] = id
		return nil
	}); err != nil {
		return nil, w.d.fail("facet combinations", err)
	}
	return added, nil
}

// SetSeverity changes the severity of alerts, all or none.
func (d *DB) SetSeverity(ctx context.Context, ids []string, sev alert.Severity, actor, reason string) error {
	if err := store.CheckSeverity(sev, reason); err != nil {
		return err
	}
	uids, err := store.AlertIDs(ids)
	if err != nil {
		return err
	}
	var added map[combo]int32
	err = d.write(ctx, func(w *wtx) error {
		added = nil
		rows, err := w.Query(ctx, "SELECT id, status, severity FROM alerts WHERE id = ANY($1) ORDER BY id FOR UPDATE", uids)
		if err != nil {
			return d.fail("alert severity", err)
		}
		type state struct{ status, severity int16 }
		stored := map[string]state{}
		var id string
		var st state
		if _, err := pgx.ForEachRow(rows, []any{&id, &st.status, &st.severity}, func() error {
			stored[id] = st
			return nil
		}); err != nil {
			return d.fail("alert severity", err)
		}
		var changed []string
		var statuses, froms []int16
		for _, id := range uids {
			st, ok := stored[id]
			if !ok {
				return fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
			}
			if alert.Severity(st.severity) != sev {
				changed = append(changed, id)
				statuses, froms = append(statuses, st.status), append(froms, st.severity)
			}
		}
		if len(changed) == 0 {
			return nil
		}
		if added, err = w.severityCombos(sev, " WHERE a.id = ANY($2)", []any{changed}); err != nil {
			return err
		}
		if _, err := w.Exec(ctx, `UPDATE alerts a SET severity = $1, severity_set = true, updated_ns = $2, combo = `+newCombo+`
			WHERE a.id = ANY($3)`, int16(sev), w.now.UnixNano(), changed); err != nil {
			return d.fail("alert severity", err)
		}
		return w.severityHistory(changed, statuses, froms, sev, actor, reason)
	})
	if err == nil {
		d.combos.merge(added)
	}
	return err
}

// severityHistory records severity changes of alerts (with their
// statuses and former severities) in their history and the audit log,
// in the order given.
func (w *wtx) severityHistory(ids []string, statuses, froms []int16, to alert.Severity, actor, reason string) error {
	_, err := w.Exec(w.ctx, `INSERT INTO history(alert_id, time_ns, actor, action, from_status, to_status, from_severity, to_severity, reason)
		SELECT id, $4, $5, $6, st, st, f, $7, $8 FROM unnest($1::text[], $2::int2[], $3::int2[]) WITH ORDINALITY AS t(id, st, f, i) ORDER BY i`,
		ids, statuses, froms, w.now.UnixNano(), actor, store.ActionSeverity, int16(to), reason)
	if err != nil {
		return w.d.fail("alert history", err)
	}
	changes := make([]store.StatusChange, len(ids))
	for i, id := range ids {
		changes[i] = store.SeverityChange(id, actor, alert.Status(statuses[i]), alert.Severity(froms[i]), to, reason)
	}
	return w.auditChanges(changes)
}

// BulkSetSeverity changes the severity of every matching alert not
// already at sev.
func (d *DB) BulkSetSeverity(ctx context.Context, q store.AlertQuery, sev alert.Severity, actor, reason string) (int64, error) {
	if err := store.CheckSeverity(sev, reason); err != nil {
		return 0, err
	}
	if err := d.reading(); err != nil {
		return 0, err
	}
	q.Cursor, q.Limit = "", 0
	f, err := d.resolve(ctx, q)
	if err != nil || f.none {
		return 0, err
	}
	q = f.q
	// The conditions' parameters start at $2: $1 is the severity.
	b := &qb{args: []any{int16(sev)}}
	f.where(b, true, true)
	b.add("a.severity <> $1")
	var n int64
	var added map[combo]int32
	err = d.write(ctx, func(w *wtx) error {
		added = nil
		if _, err := w.Exec(ctx, "SELECT a.id FROM alerts a"+b.where()+" ORDER BY a.id FOR UPDATE", b.args...); err != nil {
			return d.fail("bulk severity change", err)
		}
		var err error
		if added, err = w.severityCombos(sev, b.where(), b.args[1:]); err != nil {
			return err
		}
		k := len(b.args)
		pn, pa, pr := "$"+strconv.Itoa(k+1), "$"+strconv.Itoa(k+2), "$"+strconv.Itoa(k+3)
		err = w.QueryRow(ctx, `WITH o AS (SELECT a.id, a.severity AS old FROM alerts a`+b.where()+` ORDER BY a.id FOR UPDATE),
			m AS (UPDATE alerts a SET severity = $1, severity_set = true, updated_ns = `+pn+`, combo = `+newCombo+`
				FROM o WHERE a.id = o.id RETURNING a.id, a.rid, a.status, o.old),
			h AS (INSERT INTO history(alert_id, time_ns, actor, action, from_status, to_status, from_severity, to_severity, reason)
				SELECT id, `+pn+`, `+pa+`, 'severity', status, status, old, $1, `+pr+` FROM m ORDER BY rid)
			SELECT count(*) FROM m`, append(b.args, w.now.UnixNano(), actor, reason)...).Scan(&n)
		if err != nil {
			return d.fail("bulk severity change", err)
		}
		return w.audit(store.AuditBulk(actor, store.AuditBulkSeverity, n, sev, q, reason))
	})
	if err == nil {
		d.combos.merge(added)
	}
	return n, err
}

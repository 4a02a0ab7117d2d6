package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

// Positions in a combo of the dimensions bulk changes move.
const (
	comboSeverity = 6
	comboStatus   = 7
)

// bulkCond resolves q for a bulk change (Cursor and Limit ignored) and
// returns the condition on alerts a that selects what it matches; f.none
// when nothing can.
func (d *DB) bulkCond(ctx context.Context, q store.AlertQuery) (*filter, cond, error) {
	var c cond
	q.Cursor, q.Limit = "", 0
	f, err := d.resolve(ctx, q)
	if err != nil || f.none {
		return f, c, err
	}
	cube, err := d.cube(ctx)
	if err != nil {
		return nil, c, err
	}
	f.conds(&c, cube, true, true)
	if len(f.devs) > 0 {
		hours, err := d.span(ctx, f, 0, 0)
		if err != nil {
			return nil, c, err
		}
		hj, dj := jsonIDs(hours), jsonIDs(f.devs)
		c.add("a.rid IN (SELECT rid FROM alerts a WHERE "+jsonIn(hourOf)+" AND "+jsonIn("a.src")+
			" UNION SELECT rid FROM alerts a WHERE "+jsonIn(hourOf)+" AND "+jsonIn("a.dst")+")", hj, dj, hj, dj)
	}
	return f, c, nil
}

// moveCombos fills temp.cid_moves with, for every combination that has
// alerts and whose dimension dim (comboSeverity, comboStatus) is not v,
// the id of the same combination with v, adding those that are new.
func (w *wtx) moveCombos(dim int, v int64) error {
	rows, err := w.QueryContext(w.ctx, `SELECT c.cid, c.sensor, c.site, c.zone, c.type, c.category, c.protocol, c.severity, c.status, c.engine
		FROM combos c JOIN alert_counts n ON n.cid = c.cid`)
	if err != nil {
		return fmt.Errorf("sqlite: alert counts: %w", err)
	}
	moves := map[int64]combo{}
	for rows.Next() {
		var cid int64
		var k combo
		if err := rows.Scan(&cid, &k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &k[7], &k[8]); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: alert counts: %w", err)
		}
		if k[dim] != v {
			k[dim] = v
			moves[cid] = k
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: alert counts: %w", err)
	}
	if _, err := w.ExecContext(w.ctx, "CREATE TEMP TABLE IF NOT EXISTS cid_moves (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)"); err != nil {
		return fmt.Errorf("sqlite: alert counts: %w", err)
	}
	if _, err := w.ExecContext(w.ctx, "DELETE FROM temp.cid_moves"); err != nil {
		return fmt.Errorf("sqlite: alert counts: %w", err)
	}
	for old, k := range moves {
		cid, err := w.cid(k)
		if err != nil {
			return err
		}
		if _, err := w.ExecContext(w.ctx, "INSERT INTO temp.cid_moves VALUES (?, ?)", old, cid); err != nil {
			return fmt.Errorf("sqlite: alert counts: %w", err)
		}
	}
	return nil
}

// SetSeverity changes the severity of alerts, all or none.
func (d *DB) SetSeverity(ctx context.Context, ids []string, sev alert.Severity, actor, reason string) error {
	if err := store.CheckSeverity(sev, reason); err != nil {
		return err
	}
	ids, err := store.AlertIDs(ids)
	if err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		for _, id := range ids {
			var from, status int
			err := w.QueryRowContext(ctx, "SELECT severity, status FROM alerts WHERE id = ?", id).Scan(&from, &status)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: alert %q", store.ErrNotFound, id)
			}
			if err != nil {
				return fmt.Errorf("sqlite: alert %s: %w", id, err)
			}
			if alert.Severity(from) == sev {
				continue
			}
			var rid, cid int64
			var k combo
			err = w.QueryRowContext(ctx, `UPDATE alerts SET severity = ?, severity_set = 1, updated_ns = ? WHERE id = ?
				RETURNING rid, cid, sensor, site, zone, type, category, protocol, severity, status, engine`, int(sev), w.now.UnixNano(), id).
				Scan(&rid, &cid, &k[0], &k[1], &k[2], &k[3], &k[4], &k[5], &k[6], &k[7], &k[8])
			if err != nil {
				return fmt.Errorf("sqlite: alert %s severity: %w", id, err)
			}
			if err := w.setCid(rid, k, cid); err != nil {
				return err
			}
			if err := w.record(store.SeverityChange(id, actor, alert.Status(status), alert.Severity(from), sev, reason)); err != nil {
				return err
			}
		}
		return nil
	})
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
	f, c, err := d.bulkCond(ctx, q)
	if err != nil || f.none {
		return 0, err
	}
	c.add("a.severity <> ?", int(sev))
	var n int64
	err = d.write(ctx, func(w *wtx) error {
		now := w.now.UnixNano()
		if _, err := w.ExecContext(ctx, `INSERT INTO history(alert_id, time_ns, actor, action, from_status, to_status, from_severity, to_severity, reason)
			SELECT a.id, ?, ?, ?, a.status, a.status, a.severity, ?, ? FROM alerts a`+c.where()+" ORDER BY a.rid",
			append([]any{now, actor, store.ActionSeverity, int(sev), reason}, c.args...)...); err != nil {
			return fmt.Errorf("sqlite: bulk severity history: %w", err)
		}
		if err := w.moveCombos(comboSeverity, int64(sev)); err != nil {
			return err
		}
		res, err := w.ExecContext(ctx, `UPDATE alerts SET severity = ?, severity_set = 1, updated_ns = ?,
			cid = coalesce((SELECT new FROM temp.cid_moves WHERE old = alerts.cid), cid)
			WHERE rid IN (SELECT a.rid FROM alerts a`+c.where()+")",
			append([]any{int(sev), now}, c.args...)...)
		if err != nil {
			return fmt.Errorf("sqlite: bulk severity: %w", err)
		}
		n, _ = res.RowsAffected()
		return w.audit(store.AuditBulk(actor, store.AuditBulkSeverity, n, sev, f.q, reason))
	})
	return n, err
}

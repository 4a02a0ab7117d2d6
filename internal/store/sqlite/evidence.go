package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/evidencedir"
)

// PutEvidence stores an alert's pcapng and applies retention.
func (d *DB) PutEvidence(ctx context.Context, alertID string, pcapng []byte) error {
	return d.PutEvidenceBatch(ctx, []store.Evidence{{AlertID: alertID, Pcapng: pcapng}})
}

// PutEvidenceBatch stores the evidence of several alerts, as PutEvidence
// would one after the other, with one transaction and one directory sync.
func (d *DB) PutEvidenceBatch(ctx context.Context, evs []store.Evidence) error {
	if err := evidencedir.CheckBatch(evs); err != nil {
		return err
	}
	if err := d.reading(); err != nil {
		return err
	}
	if len(evs) == 0 {
		return nil
	}
	files, err := d.evDir.Stage(evs)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	defer evidencedir.Discard(files)
	var kept evidencedir.Kept
	err = d.write(ctx, func(w *wtx) error {
		for _, f := range files {
			if err := w.putEvidence(f, &kept); err != nil {
				return err
			}
		}
		if err := d.evDir.Commit(files); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.evDir.Remove(kept.Unreferenced())
	return nil
}

// putEvidence records one evidence file and removes the records of the
// oldest files of other alerts until the total is within the cap.
func (w *wtx) putEvidence(f *evidencedir.File, kept *evidencedir.Kept) error {
	ctx := w.ctx
	var one int
	if err := w.QueryRowContext(ctx, "SELECT 1 FROM alerts WHERE id = ?", f.AlertID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: alert %q", store.ErrNotFound, f.AlertID)
	} else if err != nil {
		return fmt.Errorf("sqlite: alert %s: %w", f.AlertID, err)
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO evidence VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET file = excluded.file,
		size = excluded.size, stored_ns = excluded.stored_ns`, f.AlertID, f.Name, f.Size, w.now.UnixNano()); err != nil {
		return fmt.Errorf("sqlite: evidence of %s: %w", f.AlertID, err)
	}
	kept.Keep(f.Name)
	limit := w.d.opts.EvidenceCap()
	if limit < 0 {
		return nil
	}
	var total int64
	if err := w.QueryRowContext(ctx, "SELECT coalesce(sum(size), 0) FROM evidence").Scan(&total); err != nil {
		return fmt.Errorf("sqlite: evidence size: %w", err)
	}
	if total <= limit {
		return nil
	}
	rows, err := w.QueryContext(ctx, "SELECT alert_id, file, size FROM evidence WHERE alert_id <> ? ORDER BY stored_ns, rowid", f.AlertID)
	if err != nil {
		return fmt.Errorf("sqlite: evidence retention: %w", err)
	}
	var drop []string
	for total > limit && rows.Next() {
		var id, file string
		var size int64
		if err := rows.Scan(&id, &file, &size); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: evidence retention: %w", err)
		}
		drop = append(drop, id)
		kept.Drop(file)
		total -= size
	}
	rows.Close()
	for _, id := range drop {
		if _, err := w.ExecContext(ctx, "DELETE FROM evidence WHERE alert_id = ?", id); err != nil {
			return fmt.Errorf("sqlite: evidence retention: %w", err)
		}
	}
	return nil
}

// evidenceInfo returns the file name of an alert's stored evidence.
func (d *DB) evidenceInfo(ctx context.Context, alertID string) (string, error) {
	var file string
	err := d.r.QueryRowContext(ctx, "SELECT file FROM evidence WHERE alert_id = ?", alertID).Scan(&file)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: no evidence for alert %q", store.ErrNotFound, alertID)
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: evidence of %s: %w", alertID, err)
	}
	return file, nil
}

// Evidence returns an alert's stored pcapng.
func (d *DB) Evidence(ctx context.Context, alertID string) ([]byte, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	file, err := d.evidenceInfo(ctx, alertID)
	if err != nil {
		return nil, err
	}
	b, err := d.evDir.Read(alertID, file)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return b, err
}

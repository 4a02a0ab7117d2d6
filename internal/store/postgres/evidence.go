package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/evidencedir"
)

// evidenceLock is the key of the advisory lock that serializes evidence
// retention across processes ("otwevd" in ASCII).
const evidenceLock = 0x6f7477657664

// PutEvidence stores an alert's pcapng in the evidence directory and
// applies retention. Without an evidence directory (Options.EvidenceDir)
// it fails with ErrInvalid.
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
	if d.evDir == "" {
		return fmt.Errorf("%w: postgres: no evidence directory configured (Options.EvidenceDir)", store.ErrInvalid)
	}
	if len(evs) == 0 {
		return nil
	}
	files, err := d.evDir.Stage(evs)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer evidencedir.Discard(files)
	var kept evidencedir.Kept
	err = d.write(ctx, func(w *wtx) error {
		kept.Reset()
		if _, err := w.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(evidenceLock)); err != nil {
			return d.fail("evidence lock", err)
		}
		for _, f := range files {
			if err := w.putEvidence(f, &kept); err != nil {
				return err
			}
		}
		if err := d.evDir.Commit(files); err != nil {
			return fmt.Errorf("postgres: %w", err)
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
	ctx, d := w.ctx, w.d
	var one int
	if err := w.QueryRow(ctx, "SELECT 1 FROM alerts WHERE id = $1", f.AlertID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: alert %q", store.ErrNotFound, f.AlertID)
	} else if err != nil {
		return d.fail("alert "+f.AlertID, err)
	}
	if _, err := w.Exec(ctx, `INSERT INTO evidence(alert_id, file, size, stored_ns) VALUES ($1, $2, $3, $4)
		ON CONFLICT (alert_id) DO UPDATE SET file = excluded.file, size = excluded.size, stored_ns = excluded.stored_ns`,
		f.AlertID, f.Name, f.Size, w.now.UnixNano()); err != nil {
		return d.fail("evidence of "+f.AlertID, err)
	}
	kept.Keep(f.Name)
	limit := d.opts.EvidenceCap()
	if limit < 0 {
		return nil
	}
	// The oldest files that must go for the rest to fit: those whose newer
	// files (this one included) already fill the cap.
	rows, err := w.Query(ctx, `SELECT alert_id, file FROM (
			SELECT alert_id, file, sum(size) OVER (ORDER BY alert_id = $1 DESC, stored_ns DESC, seq DESC) AS kept
			FROM evidence) x
		WHERE kept > $2 AND alert_id <> $1`, f.AlertID, limit)
	if err != nil {
		return d.fail("evidence retention", err)
	}
	var drop []string
	var id, file string
	if _, err := pgx.ForEachRow(rows, []any{&id, &file}, func() error {
		drop = append(drop, id)
		kept.Drop(file)
		return nil
	}); err != nil {
		return d.fail("evidence retention", err)
	}
	if len(drop) > 0 {
		if _, err := w.Exec(ctx, "DELETE FROM evidence WHERE alert_id = ANY($1)", drop); err != nil {
			return d.fail("evidence retention", err)
		}
	}
	return nil
}

// evidenceFile returns the file name of an alert's stored evidence.
func (d *DB) evidenceFile(ctx context.Context, alertID string) (string, error) {
	var file string
	err := d.pool.QueryRow(ctx, "SELECT file FROM evidence WHERE alert_id = $1", alertID).Scan(&file)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%w: no evidence for alert %q", store.ErrNotFound, alertID)
	}
	if err != nil {
		return "", d.fail("evidence of "+alertID, err)
	}
	return file, nil
}

// Evidence returns an alert's stored pcapng.
func (d *DB) Evidence(ctx context.Context, alertID string) ([]byte, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	file, err := d.evidenceFile(ctx, alertID)
	if err != nil {
		return nil, err
	}
	if d.evDir == "" {
		return nil, fmt.Errorf("%w: postgres: evidence of alert %q is stored but no evidence directory is configured", store.ErrNotFound, alertID)
	}
	b, err := d.evDir.Read(alertID, file)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return b, err
}

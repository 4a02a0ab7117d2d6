package postgres

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/store"
)

// evidenceLock is the key of the advisory lock that serializes evidence
// retention across processes ("otwevd" in ASCII).
const evidenceLock = 0x6f7477657664

// checkPcapng reports whether b starts with a pcapng section header block
// (block type 0x0A0D0D0A and a byte-order magic in either byte order).
func checkPcapng(b []byte) error {
	if len(b) < 28 || !bytes.Equal(b[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) ||
		!(bytes.Equal(b[8:12], []byte{0x1a, 0x2b, 0x3c, 0x4d}) || bytes.Equal(b[8:12], []byte{0x4d, 0x3c, 0x2b, 0x1a})) {
		return fmt.Errorf("%w: evidence is not a pcapng file", store.ErrInvalid)
	}
	return nil
}

// evidenceName names the file of an alert's evidence: the id itself when
// it is a plain name, else a hash of it.
func evidenceName(alertID string) string {
	plain := alertID != "" && len(alertID) <= 64
	for _, r := range alertID {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			plain = false
		}
	}
	if plain {
		return alertID + ".pcapng"
	}
	h := sha1.Sum([]byte(alertID))
	return hex.EncodeToString(h[:]) + ".pcapng"
}

// PutEvidence stores an alert's pcapng in the evidence directory and
// applies retention. Without an evidence directory (Options.EvidenceDir)
// it fails with ErrInvalid.
func (d *DB) PutEvidence(ctx context.Context, alertID string, pcapng []byte) error {
	if err := checkPcapng(pcapng); err != nil {
		return err
	}
	if err := d.reading(); err != nil {
		return err
	}
	if d.evDir == "" {
		return fmt.Errorf("%w: postgres: no evidence directory configured (Options.EvidenceDir)", store.ErrInvalid)
	}
	if err := os.MkdirAll(d.evDir, 0o750); err != nil {
		return fmt.Errorf("postgres: evidence directory: %w", err)
	}
	name := evidenceName(alertID)
	tmp, err := os.CreateTemp(d.evDir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("postgres: evidence of %s: %w", alertID, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(pcapng); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("postgres: writing evidence of %s: %w", alertID, err)
	}
	var victims []string
	err = d.write(ctx, func(w *wtx) error {
		victims = victims[:0]
		if _, err := w.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(evidenceLock)); err != nil {
			return d.fail("evidence lock", err)
		}
		var one int
		if err := w.QueryRow(ctx, "SELECT 1 FROM alerts WHERE id = $1", alertID).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: alert %q", store.ErrNotFound, alertID)
		} else if err != nil {
			return d.fail("alert "+alertID, err)
		}
		if _, err := w.Exec(ctx, `INSERT INTO evidence(alert_id, file, size, stored_ns) VALUES ($1, $2, $3, $4)
			ON CONFLICT (alert_id) DO UPDATE SET file = excluded.file, size = excluded.size, stored_ns = excluded.stored_ns`,
			alertID, name, len(pcapng), w.now.UnixNano()); err != nil {
			return d.fail("evidence of "+alertID, err)
		}
		if limit := d.opts.EvidenceCap(); limit >= 0 {
			// The oldest files that must go for the rest to fit: those
			// whose newer files (this one included) already fill the cap.
			rows, err := w.Query(ctx, `SELECT alert_id, file FROM (
					SELECT alert_id, file, sum(size) OVER (ORDER BY alert_id = $1 DESC, stored_ns DESC, seq DESC) AS kept
					FROM evidence) x
				WHERE kept > $2 AND alert_id <> $1`, alertID, limit)
			if err != nil {
				return d.fail("evidence retention", err)
			}
			var drop []string
			var id, file string
			if _, err := pgx.ForEachRow(rows, []any{&id, &file}, func() error {
				drop = append(drop, id)
				victims = append(victims, file)
				return nil
			}); err != nil {
				return d.fail("evidence retention", err)
			}
			if len(drop) > 0 {
				if _, err := w.Exec(ctx, "DELETE FROM evidence WHERE alert_id = ANY($1)", drop); err != nil {
					return d.fail("evidence retention", err)
				}
			}
		}
		if err := os.Rename(tmp.Name(), filepath.Join(d.evDir, name)); err != nil {
			return fmt.Errorf("postgres: storing evidence of %s: %w", alertID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range victims {
		if f != name {
			_ = os.Remove(filepath.Join(d.evDir, f))
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
	b, err := os.ReadFile(filepath.Join(d.evDir, file))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: evidence file of alert %q is missing", store.ErrNotFound, alertID)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: reading evidence of %s: %w", alertID, err)
	}
	return b, nil
}

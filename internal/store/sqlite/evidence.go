package sqlite

import (
	"bytes"
	"context"
	"crypto/sha1"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/otwatch/otwatch/internal/store"
)

// checkPcapng reports whether b starts with a pcapng section header block
// (block type 0x0A0D0D0A and a byte-order magic in either byte order).
func checkPcapng(b []byte) error {
	if len(b) < 28 || !bytes.Equal(b[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) ||
		!(bytes.Equal(b[8:12], []byte{0x1a, 0x2b, 0x3c, 0x4d}) || bytes.Equal(b[8:12], []byte{0x4d, 0x3c, 0x2b, 0x1a})) {
		return fmt.Errorf("%w: evidence is not a pcapng file", store.ErrInvalid)
	}
	return nil
}

// evidenceFile names the file of an alert's evidence: the id itself when
// it is a plain name, else a hash of it.
func evidenceFile(alertID string) string {
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

// PutEvidence stores an alert's pcapng and applies retention.
func (d *DB) PutEvidence(ctx context.Context, alertID string, pcapng []byte) error {
	if err := checkPcapng(pcapng); err != nil {
		return err
	}
	if err := d.reading(); err != nil {
		return err
	}
	if err := os.MkdirAll(d.evDir, 0o750); err != nil {
		return fmt.Errorf("sqlite: evidence directory: %w", err)
	}
	name := evidenceFile(alertID)
	tmp, err := os.CreateTemp(d.evDir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("sqlite: evidence of %s: %w", alertID, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(pcapng); err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sqlite: writing evidence of %s: %w", alertID, err)
	}
	var victims []string
	err = d.write(ctx, func(w *wtx) error {
		var one int
		if err := w.QueryRowContext(ctx, "SELECT 1 FROM alerts WHERE id = ?", alertID).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: alert %q", store.ErrNotFound, alertID)
		} else if err != nil {
			return fmt.Errorf("sqlite: alert %s: %w", alertID, err)
		}
		if _, err := w.ExecContext(ctx, `INSERT INTO evidence VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET file = excluded.file,
			size = excluded.size, stored_ns = excluded.stored_ns`, alertID, name, len(pcapng), w.now.UnixNano()); err != nil {
			return fmt.Errorf("sqlite: evidence of %s: %w", alertID, err)
		}
		if limit := d.opts.EvidenceCap(); limit >= 0 {
			var total int64
			if err := w.QueryRowContext(ctx, "SELECT coalesce(sum(size), 0) FROM evidence").Scan(&total); err != nil {
				return fmt.Errorf("sqlite: evidence size: %w", err)
			}
			if total > limit {
				rows, err := w.QueryContext(ctx, "SELECT alert_id, file, size FROM evidence WHERE alert_id <> ? ORDER BY stored_ns, rowid", alertID)
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
					victims = append(victims, file)
					total -= size
				}
				rows.Close()
				for _, id := range drop {
					if _, err := w.ExecContext(ctx, "DELETE FROM evidence WHERE alert_id = ?", id); err != nil {
						return fmt.Errorf("sqlite: evidence retention: %w", err)
					}
				}
			}
		}
		if err := os.Rename(tmp.Name(), filepath.Join(d.evDir, name)); err != nil {
			return fmt.Errorf("sqlite: storing evidence of %s: %w", alertID, err)
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

// evidenceInfo returns the stored evidence of an alert.
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
	b, err := os.ReadFile(filepath.Join(d.evDir, file))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: evidence file of alert %q is missing", store.ErrNotFound, alertID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: reading evidence of %s: %w", alertID, err)
	}
	return b, nil
}

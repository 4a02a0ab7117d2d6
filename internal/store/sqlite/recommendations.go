package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/otwatch/otwatch/internal/recommend"
	"github.com/otwatch/otwatch/internal/store"
)

const recommendationCols = "id, device, title, status, reason, actor, changed_ns"

func scanRecommendation(sc interface{ Scan(...any) error }) (store.RecommendationStatus, error) {
	var r store.RecommendationStatus
	var status int
	var changed int64
	if err := sc.Scan(&r.ID, &r.Device, &r.Title, &status, &r.Reason, &r.Actor, &changed); err != nil {
		return r, err
	}
	r.Status, r.Changed = recommend.Status(status), store.Time(changed)
	return r, nil
}

// SetRecommendationStatus records a person's decision on a
// recommendation.
func (d *DB) SetRecommendationStatus(ctx context.Context, r store.RecommendationStatus, actor string) (store.RecommendationStatus, error) {
	var out store.RecommendationStatus
	err := d.write(ctx, func(w *wtx) error {
		var stored *store.RecommendationStatus
		old, err := scanRecommendation(w.QueryRowContext(ctx, "SELECT "+recommendationCols+" FROM recommendation_status WHERE id = ?", r.ID))
		switch {
		case err == nil:
			stored = &old
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("sqlite: recommendation %s: %w", r.ID, err)
		}
		next, from, err := store.NextRecommendationStatus(stored, r, actor, w.now)
		if err != nil {
			return err
		}
		args := []any{next.ID, next.Device, next.Title, int(next.Status), next.Reason, next.Actor, next.Changed.UnixNano()}
		if _, err := w.ExecContext(ctx, "INSERT OR REPLACE INTO recommendation_status("+recommendationCols+") VALUES (?,?,?,?,?,?,?)", args...); err != nil {
			return fmt.Errorf("sqlite: storing recommendation %s: %w", next.ID, err)
		}
		if _, err := w.ExecContext(ctx, "INSERT INTO recommendation_history("+recommendationCols+") VALUES (?,?,?,?,?,?,?)", args...); err != nil {
			return fmt.Errorf("sqlite: recommendation %s history: %w", next.ID, err)
		}
		out = next
		return w.audit(store.AuditRecommendation(actor, from, next))
	})
	if err != nil {
		return store.RecommendationStatus{}, err
	}
	return out, nil
}

// RecommendationStatuses returns stored recommendation statuses by ID.
func (d *DB) RecommendationStatuses(ctx context.Context, ids []string) (map[string]store.RecommendationStatus, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	q := "SELECT " + recommendationCols + " FROM recommendation_status"
	var args []any
	if len(ids) > 0 {
		q += " WHERE id IN (SELECT value FROM json_each(?))"
		args = append(args, jsonStrings(ids))
	}
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recommendation statuses: %w", err)
	}
	defer rows.Close()
	out := map[string]store.RecommendationStatus{}
	for rows.Next() {
		r, err := scanRecommendation(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: recommendation statuses: %w", err)
		}
		out[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: recommendation statuses: %w", err)
	}
	return out, nil
}

// RecommendationHistory returns a recommendation's status changes, oldest
// first.
func (d *DB) RecommendationHistory(ctx context.Context, id string) ([]store.RecommendationStatus, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, "SELECT "+recommendationCols+" FROM recommendation_history WHERE id = ? ORDER BY seq", id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: history of recommendation %s: %w", id, err)
	}
	defer rows.Close()
	out := []store.RecommendationStatus{}
	for rows.Next() {
		r, err := scanRecommendation(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: history of recommendation %s: %w", id, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: history of recommendation %s: %w", id, err)
	}
	return out, nil
}

// jsonStrings encodes strings as a JSON array, for json_each.
func jsonStrings(ss []string) string {
	b, _ := json.Marshal(ss)
	return string(b)
}

package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/recommend"
	"github.com/otwatch/otwatch/internal/store"
)

const recommendationCols = "id, device, title, status, reason, actor, changed_ns"

// scanRecommendations reads rows of recommendationCols.
func (d *DB) scanRecommendations(rows pgx.Rows, what string, fn func(store.RecommendationStatus)) error {
	var r store.RecommendationStatus
	var status int16
	var changed int64
	if _, err := pgx.ForEachRow(rows, []any{&r.ID, &r.Device, &r.Title, &status, &r.Reason, &r.Actor, &changed}, func() error {
		r.Status, r.Changed = recommend.Status(status), store.Time(changed)
		fn(r)
		return nil
	}); err != nil {
		return d.fail(what, err)
	}
	return nil
}

// SetRecommendationStatus records a person's decision on a
// recommendation.
func (d *DB) SetRecommendationStatus(ctx context.Context, r store.RecommendationStatus, actor string) (store.RecommendationStatus, error) {
	var out store.RecommendationStatus
	err := d.write(ctx, func(w *wtx) error {
		// A placeholder row (status 0, replaced below or rolled back)
		// makes the row lock serialize every change of a recommendation,
		// its first one included.
		if _, err := w.Exec(ctx, `INSERT INTO recommendation_status(`+recommendationCols+`) VALUES ($1, '', '', 0, '', '', 0)
			ON CONFLICT (id) DO NOTHING`, r.ID); err != nil {
			return d.fail("recommendation "+r.ID, err)
		}
		var stored *store.RecommendationStatus
		rows, err := w.Query(ctx, "SELECT "+recommendationCols+" FROM recommendation_status WHERE id = $1 AND status <> 0 FOR UPDATE", r.ID)
		if err != nil {
			return d.fail("recommendation "+r.ID, err)
		}
		if err := d.scanRecommendations(rows, "recommendation "+r.ID, func(s store.RecommendationStatus) { stored = &s }); err != nil {
			return err
		}
		next, from, err := store.NextRecommendationStatus(stored, r, actor, w.now)
		if err != nil {
			return err
		}
		args := []any{next.ID, next.Device, next.Title, int16(next.Status), next.Reason, next.Actor, next.Changed.UnixNano()}
		if _, err := w.Exec(ctx, `UPDATE recommendation_status SET device = $2, title = $3, status = $4, reason = $5, actor = $6, changed_ns = $7
			WHERE id = $1`, args...); err != nil {
			return d.fail("storing recommendation "+next.ID, err)
		}
		if _, err := w.Exec(ctx, "INSERT INTO recommendation_history("+recommendationCols+") VALUES ($1, $2, $3, $4, $5, $6, $7)", args...); err != nil {
			return d.fail("recommendation "+next.ID+" history", err)
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
		q += " WHERE id = ANY($1)"
		args = append(args, ids)
	}
	rows, err := d.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, d.fail("recommendation statuses", err)
	}
	out := map[string]store.RecommendationStatus{}
	if err := d.scanRecommendations(rows, "recommendation statuses", func(r store.RecommendationStatus) { out[r.ID] = r }); err != nil {
		return nil, err
	}
	return out, nil
}

// RecommendationHistory returns a recommendation's status changes, oldest
// first.
func (d *DB) RecommendationHistory(ctx context.Context, id string) ([]store.RecommendationStatus, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, "SELECT "+recommendationCols+" FROM recommendation_history WHERE id = $1 ORDER BY seq", id)
	if err != nil {
		return nil, d.fail("history of recommendation "+id, err)
	}
	out := []store.RecommendationStatus{}
	if err := d.scanRecommendations(rows, "history of recommendation "+id, func(r store.RecommendationStatus) { out = append(out, r) }); err != nil {
		return nil, err
	}
	return out, nil
}

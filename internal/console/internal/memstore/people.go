package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

// setSeverity changes one alert's severity and records it.
func (s *Store) setSeverity(a *store.AlertRecord, sev alert.Severity, actor, reason string) {
	from := a.Severity
	now := s.opts.Time()
	a.Severity, a.Updated = sev, now
	s.severitySet[a.ID] = true
	s.history = append(s.history, store.StatusChange{AlertID: a.ID, Time: now, Actor: actor, Action: store.ActionSeverity,
		From: a.Status, To: a.Status, FromSeverity: from, ToSeverity: sev, Reason: reason})
}

// SetSeverity changes the severity of alerts, all or none.
func (s *Store) SetSeverity(_ context.Context, ids []string, sev alert.Severity, actor, reason string) error {
	if err := store.CheckSeverity(sev, reason); err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("%w: no alert ids", store.ErrInvalid)
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, id := range ids {
		if _, ok := s.alerts[id]; !ok {
			return notFound("alert", id)
		}
	}
	for _, id := range ids {
		a := s.alerts[id]
		if a.Severity == sev {
			continue
		}
		from := a.Severity
		s.setSeverity(a, sev, actor, reason)
		s.addAudit(actor, store.AuditSeverity, "alert:"+id, store.SeverityDetail(from, sev, reason))
	}
	return nil
}

// BulkSetSeverity changes the severity of every matching alert not
// already at sev.
func (s *Store) BulkSetSeverity(_ context.Context, q store.AlertQuery, sev alert.Severity, actor, reason string) (int64, error) {
	if err := store.CheckSeverity(sev, reason); err != nil {
		return 0, err
	}
	q.Cursor, q.Limit = "", 0
	q, err := q.Normalize()
	if err != nil {
		return 0, err
	}
	if err := s.lock(); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	matched := s.matching(&q)
	slices.SortFunc(matched, func(a, b *store.AlertRecord) int { return cmp.Compare(a.ID, b.ID) })
	var n int64
	for _, a := range matched {
		if a.Severity != sev {
			s.setSeverity(a, sev, actor, reason)
			n++
		}
	}
	s.addAudit(actor, store.AuditBulkSeverity, "alerts", fmt.Sprintf("%d alerts → %v; %s", n, sev, reason))
	return n, nil
}

// SetRecommendationStatus records a person's decision on a
// recommendation.
func (s *Store) SetRecommendationStatus(_ context.Context, r store.RecommendationStatus, actor string) (store.RecommendationStatus, error) {
	if err := s.lock(); err != nil {
		return store.RecommendationStatus{}, err
	}
	defer s.mu.Unlock()
	var stored *store.RecommendationStatus
	if old, ok := s.recs[r.ID]; ok {
		stored = &old
	}
	next, from, err := store.NextRecommendationStatus(stored, r, actor, s.opts.Time())
	if err != nil {
		return store.RecommendationStatus{}, err
	}
	s.recs[next.ID] = next
	s.recHistory = append(s.recHistory, next)
	s.addAudit(actor, store.ActionRecommendationStatus, "recommendation:"+next.ID, store.RecommendationDetail(from, next))
	return next, nil
}

// RecommendationStatuses returns stored recommendation statuses by ID.
func (s *Store) RecommendationStatuses(_ context.Context, ids []string) (map[string]store.RecommendationStatus, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := map[string]store.RecommendationStatus{}
	for id, r := range s.recs {
		if len(ids) == 0 || slices.Contains(ids, id) {
			out[id] = r
		}
	}
	return out, nil
}

// RecommendationHistory returns a recommendation's status changes, oldest
// first.
func (s *Store) RecommendationHistory(_ context.Context, id string) ([]store.RecommendationStatus, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := []store.RecommendationStatus{}
	for _, r := range s.recHistory {
		if r.ID == id {
			out = append(out, r)
		}
	}
	return out, nil
}

// PutSession adds or replaces a console session.
func (s *Store) PutSession(_ context.Context, ses store.Session) error {
	if err := store.CheckSession(&ses); err != nil {
		return err
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.sessions[ses.Key] = ses
	return nil
}

// Session returns the session with key.
func (s *Store) Session(_ context.Context, key string) (store.Session, error) {
	if err := s.lock(); err != nil {
		return store.Session{}, err
	}
	defer s.mu.Unlock()
	ses, ok := s.sessions[key]
	if !ok {
		return store.Session{}, fmt.Errorf("%w: session", store.ErrNotFound)
	}
	return ses, nil
}

// TouchSession sets a session's LastSeen.
func (s *Store) TouchSession(_ context.Context, key string, seen time.Time) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	ses, ok := s.sessions[key]
	if !ok {
		return fmt.Errorf("%w: session", store.ErrNotFound)
	}
	ses.LastSeen = seen
	s.sessions[key] = ses
	return nil
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(_ context.Context, key string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.sessions, key)
	return nil
}

// DeleteUserSessions removes every session of user.
func (s *Store) DeleteUserSessions(_ context.Context, user string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for k, ses := range s.sessions {
		if ses.User == user {
			delete(s.sessions, k)
		}
	}
	return nil
}

// ExpireSessions removes expired and idle sessions.
func (s *Store) ExpireSessions(_ context.Context, now, idleBefore time.Time) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for k, ses := range s.sessions {
		if !now.Before(ses.Expires) || ses.LastSeen.Before(idleBefore) {
			delete(s.sessions, k)
		}
	}
	return nil
}

// PutToken adds an API token.
func (s *Store) PutToken(_ context.Context, t store.Token) error {
	if err := store.CheckToken(&t); err != nil {
		return err
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, o := range s.tokens {
		if o.ID == t.ID || o.Hash == t.Hash {
			return fmt.Errorf("%w: a token with id %s or its hash exists", store.ErrConflict, t.ID)
		}
	}
	s.tokens[t.ID] = t
	return nil
}

// tokenWhere returns the first token keep accepts.
func (s *Store) tokenWhere(keep func(store.Token) bool) (store.Token, error) {
	if err := s.lock(); err != nil {
		return store.Token{}, err
	}
	defer s.mu.Unlock()
	for _, t := range s.tokens {
		if keep(t) {
			return t, nil
		}
	}
	return store.Token{}, fmt.Errorf("%w: token", store.ErrNotFound)
}

// TokenByHash returns the token whose secret hashes to hash.
func (s *Store) TokenByHash(_ context.Context, hash string) (store.Token, error) {
	return s.tokenWhere(func(t store.Token) bool { return t.Hash == hash })
}

// Token returns a token by ID.
func (s *Store) Token(_ context.Context, id string) (store.Token, error) {
	return s.tokenWhere(func(t store.Token) bool { return t.ID == id })
}

// Tokens returns the tokens of user, or of every user when user is "",
// by creation time then ID.
func (s *Store) Tokens(_ context.Context, user string) ([]store.Token, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := []store.Token{}
	for _, t := range s.tokens {
		if user == "" || t.User == user {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b store.Token) int { return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.ID, b.ID)) })
	return out, nil
}

// TouchToken sets a token's LastUsed.
func (s *Store) TouchToken(_ context.Context, id string, used time.Time) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	t, ok := s.tokens[id]
	if !ok {
		return notFound("token", id)
	}
	t.LastUsed = used
	s.tokens[id] = t
	return nil
}

// DeleteToken removes a token.
func (s *Store) DeleteToken(_ context.Context, id string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.tokens[id]; !ok {
		return notFound("token", id)
	}
	delete(s.tokens, id)
	return nil
}

// DeleteUserTokens removes every token of user.
func (s *Store) DeleteUserTokens(_ context.Context, user string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.User == user {
			delete(s.tokens, id)
		}
	}
	return nil
}

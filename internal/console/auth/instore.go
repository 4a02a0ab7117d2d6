package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/otwatch/otwatch/internal/store"
)

// InStore keeps sessions and API tokens in a store.Store, so that they
// outlive the console process: a restarted console keeps its users
// logged in and its tokens working. It is a SessionStore and a
// TokenStore, and what New uses when Options leave them nil.
type InStore struct {
	st store.Store
}

var (
	_ SessionStore = (*InStore)(nil)
	_ TokenStore   = (*InStore)(nil)
)

// StoreSessions returns the sessions and tokens kept in st.
func StoreSessions(st store.Store) *InStore { return &InStore{st: st} }

// noSession turns the store's ErrNotFound into ErrNoSession (which the
// error then matches too).
func noSession(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNoSession, err)
	}
	return err
}

// PutSession adds or replaces a session.
func (s *InStore) PutSession(ctx context.Context, ses Session) error {
	return s.st.PutSession(ctx, store.Session(ses))
}

// Session returns a session by key; ErrNoSession when none.
func (s *InStore) Session(ctx context.Context, key string) (Session, error) {
	ses, err := s.st.Session(ctx, key)
	if err != nil {
		return Session{}, noSession(err)
	}
	return Session(ses), nil
}

// TouchSession sets a session's LastSeen; ErrNoSession when none.
func (s *InStore) TouchSession(ctx context.Context, key string, seen time.Time) error {
	return noSession(s.st.TouchSession(ctx, key, seen))
}

// DeleteSession removes a session; removing a missing one is no error.
func (s *InStore) DeleteSession(ctx context.Context, key string) error {
	return s.st.DeleteSession(ctx, key)
}

// DeleteUserSessions removes every session of user.
func (s *InStore) DeleteUserSessions(ctx context.Context, user string) error {
	return s.st.DeleteUserSessions(ctx, user)
}

// ExpireSessions removes the sessions that expired or were idle.
func (s *InStore) ExpireSessions(ctx context.Context, now, idleBefore time.Time) error {
	return s.st.ExpireSessions(ctx, now, idleBefore)
}

// PutToken adds a token; a duplicate ID or hash is store.ErrConflict.
func (s *InStore) PutToken(ctx context.Context, t Token) error {
	return s.st.PutToken(ctx, store.Token(t))
}

// TokenByHash returns the token whose secret hashes to hash;
// ErrNoSession when none.
func (s *InStore) TokenByHash(ctx context.Context, hash string) (Token, error) {
	t, err := s.st.TokenByHash(ctx, hash)
	if err != nil {
		return Token{}, noSession(err)
	}
	return Token(t), nil
}

// Token returns a token by ID; ErrNoSession when none.
func (s *InStore) Token(ctx context.Context, id string) (Token, error) {
	t, err := s.st.Token(ctx, id)
	if err != nil {
		return Token{}, noSession(err)
	}
	return Token(t), nil
}

// Tokens returns the tokens of user, or of every user when user is "",
// by creation time then ID.
func (s *InStore) Tokens(ctx context.Context, user string) ([]Token, error) {
	ts, err := s.st.Tokens(ctx, user)
	if err != nil {
		return nil, err
	}
	out := make([]Token, len(ts))
	for i, t := range ts {
		out[i] = Token(t)
	}
	return out, nil
}

// TouchToken sets a token's LastUsed; ErrNoSession when none.
func (s *InStore) TouchToken(ctx context.Context, id string, used time.Time) error {
	return noSession(s.st.TouchToken(ctx, id, used))
}

// DeleteToken removes a token; ErrNoSession when none.
func (s *InStore) DeleteToken(ctx context.Context, id string) error {
	return noSession(s.st.DeleteToken(ctx, id))
}

// DeleteUserTokens removes every token of user.
func (s *InStore) DeleteUserTokens(ctx context.Context, user string) error {
	return s.st.DeleteUserTokens(ctx, user)
}

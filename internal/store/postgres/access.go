package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/store"
)

// PutSession adds or replaces a console session.
func (d *DB) PutSession(ctx context.Context, s store.Session) error {
	if err := store.CheckSession(&s); err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		if _, err := w.Exec(ctx, `INSERT INTO sessions(`+store.SessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (key) DO UPDATE SET user_name = excluded.user_name, csrf = excluded.csrf, ip = excluded.ip,
			created_ns = excluded.created_ns, seen_ns = excluded.seen_ns, expires_ns = excluded.expires_ns`,
			s.Key, s.User, s.CSRF, s.IP, store.Nanos(s.Created), store.Nanos(s.LastSeen), store.Nanos(s.Expires)); err != nil {
			return d.fail("storing session", err)
		}
		return nil
	})
}

// Session returns the session with key.
func (d *DB) Session(ctx context.Context, key string) (store.Session, error) {
	if err := d.reading(); err != nil {
		return store.Session{}, err
	}
	s, err := store.ScanSession(d.pool.QueryRow(ctx, "SELECT "+store.SessionColumns+" FROM sessions WHERE key = $1", key))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Session{}, fmt.Errorf("%w: session", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, d.fail("session", err)
	}
	return s, nil
}

// change runs one statement in a write transaction; with missing set,
// changing no row is ErrNotFound (missing names what).
func (d *DB) change(ctx context.Context, what, missing, query string, args ...any) error {
	return d.write(ctx, func(w *wtx) error {
		tag, err := w.Exec(ctx, query, args...)
		if err != nil {
			return d.fail(what, err)
		}
		if missing != "" && tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s", store.ErrNotFound, missing)
		}
		return nil
	})
}

// TouchSession sets a session's LastSeen.
func (d *DB) TouchSession(ctx context.Context, key string, seen time.Time) error {
	return d.change(ctx, "touching session", "session", "UPDATE sessions SET seen_ns = $1 WHERE key = $2", store.Nanos(seen), key)
}

// DeleteSession removes a session.
func (d *DB) DeleteSession(ctx context.Context, key string) error {
	return d.change(ctx, "deleting session", "", "DELETE FROM sessions WHERE key = $1", key)
}

// DeleteUserSessions removes every session of user.
func (d *DB) DeleteUserSessions(ctx context.Context, user string) error {
	return d.change(ctx, "deleting sessions of "+user, "", "DELETE FROM sessions WHERE user_name = $1", user)
}

// ExpireSessions removes expired and idle sessions.
func (d *DB) ExpireSessions(ctx context.Context, now, idleBefore time.Time) error {
	return d.change(ctx, "expiring sessions", "", "DELETE FROM sessions WHERE expires_ns <= $1 OR seen_ns < $2", store.Nanos(now), store.Nanos(idleBefore))
}

// PutToken adds an API token.
func (d *DB) PutToken(ctx context.Context, t store.Token) error {
	if err := store.CheckToken(&t); err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		tag, err := w.Exec(ctx, "INSERT INTO tokens("+store.TokenColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
			t.ID, t.User, t.Name, t.Hash, store.Nanos(t.Created), store.Nanos(t.LastUsed), store.Nanos(t.Expires))
		if err != nil {
			return d.fail("storing token "+t.ID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: a token with id %s or its hash exists", store.ErrConflict, t.ID)
		}
		return nil
	})
}

// tokens returns the tokens of a query on store.TokenColumns.
func (d *DB) tokens(ctx context.Context, query string, args ...any) ([]store.Token, error) {
	if err := d.reading(); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, d.fail("tokens", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Token, error) { return store.ScanToken(r) })
	if err != nil {
		return nil, d.fail("tokens", err)
	}
	return out, nil
}

// token returns the token a column matches.
func (d *DB) token(ctx context.Context, col, v string) (store.Token, error) {
	out, err := d.tokens(ctx, "SELECT "+store.TokenColumns+" FROM tokens WHERE "+col+" = $1", v)
	if err != nil {
		return store.Token{}, err
	}
	if len(out) == 0 {
		return store.Token{}, fmt.Errorf("%w: token", store.ErrNotFound)
	}
	return out[0], nil
}

// TokenByHash returns the token whose secret hashes to hash.
func (d *DB) TokenByHash(ctx context.Context, hash string) (store.Token, error) {
	return d.token(ctx, "hash", hash)
}

// Token returns a token by ID.
func (d *DB) Token(ctx context.Context, id string) (store.Token, error) {
	return d.token(ctx, "id", id)
}

// Tokens returns the tokens of user, or of every user when user is "".
func (d *DB) Tokens(ctx context.Context, user string) ([]store.Token, error) {
	if user == "" {
		return d.tokens(ctx, "SELECT "+store.TokenColumns+" FROM tokens ORDER BY created_ns, id")
	}
	return d.tokens(ctx, "SELECT "+store.TokenColumns+" FROM tokens WHERE user_name = $1 ORDER BY created_ns, id", user)
}

// TouchToken sets a token's LastUsed.
func (d *DB) TouchToken(ctx context.Context, id string, used time.Time) error {
	return d.change(ctx, "touching token "+id, "token "+id, "UPDATE tokens SET used_ns = $1 WHERE id = $2", store.Nanos(used), id)
}

// DeleteToken removes a token.
func (d *DB) DeleteToken(ctx context.Context, id string) error {
	return d.change(ctx, "deleting token "+id, "token "+id, "DELETE FROM tokens WHERE id = $1", id)
}

// DeleteUserTokens removes every token of user.
func (d *DB) DeleteUserTokens(ctx context.Context, user string) error {
	return d.change(ctx, "deleting tokens of "+user, "", "DELETE FROM tokens WHERE user_name = $1", user)
}

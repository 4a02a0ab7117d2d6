package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/otwatch/otwatch/internal/store"
)

// PutSession adds or replaces a console session.
func (d *DB) PutSession(ctx context.Context, s store.Session) error {
	if err := store.CheckSession(&s); err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		if _, err := w.ExecContext(ctx, "INSERT OR REPLACE INTO sessions("+store.SessionColumns+") VALUES (?,?,?,?,?,?,?)",
			s.Key, s.User, s.CSRF, s.IP, store.Nanos(s.Created), store.Nanos(s.LastSeen), store.Nanos(s.Expires)); err != nil {
			return fmt.Errorf("sqlite: storing session: %w", err)
		}
		return nil
	})
}

// Session returns the session with key.
func (d *DB) Session(ctx context.Context, key string) (store.Session, error) {
	if err := d.reading(); err != nil {
		return store.Session{}, err
	}
	s, err := store.ScanSession(d.r.QueryRowContext(ctx, "SELECT "+store.SessionColumns+" FROM sessions WHERE key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Session{}, fmt.Errorf("%w: session", store.ErrNotFound)
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("sqlite: session: %w", err)
	}
	return s, nil
}

// TouchSession sets a session's LastSeen.
func (d *DB) TouchSession(ctx context.Context, key string, seen time.Time) error {
	return d.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, "UPDATE sessions SET seen_ns = ? WHERE key = ?", store.Nanos(seen), key)
		if err != nil {
			return fmt.Errorf("sqlite: touching session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: session", store.ErrNotFound)
		}
		return nil
	})
}

// exec runs one statement in a write transaction.
func (d *DB) exec(ctx context.Context, what, query string, args ...any) error {
	return d.write(ctx, func(w *wtx) error {
		if _, err := w.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("sqlite: %s: %w", what, err)
		}
		return nil
	})
}

// DeleteSession removes a session.
func (d *DB) DeleteSession(ctx context.Context, key string) error {
	return d.exec(ctx, "deleting session", "DELETE FROM sessions WHERE key = ?", key)
}

// DeleteUserSessions removes every session of user.
func (d *DB) DeleteUserSessions(ctx context.Context, user string) error {
	return d.exec(ctx, "deleting sessions of "+user, "DELETE FROM sessions WHERE user_name = ?", user)
}

// ExpireSessions removes expired and idle sessions.
func (d *DB) ExpireSessions(ctx context.Context, now, idleBefore time.Time) error {
	return d.exec(ctx, "expiring sessions", "DELETE FROM sessions WHERE expires_ns <= ? OR seen_ns < ?", store.Nanos(now), store.Nanos(idleBefore))
}

// PutToken adds an API token.
func (d *DB) PutToken(ctx context.Context, t store.Token) error {
	if err := store.CheckToken(&t); err != nil {
		return err
	}
	return d.write(ctx, func(w *wtx) error {
		n, err := w.count("SELECT count(*) FROM tokens WHERE id = ? OR hash = ?", t.ID, t.Hash)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: a token with id %s or its hash exists", store.ErrConflict, t.ID)
		}
		if _, err := w.ExecContext(ctx, "INSERT INTO tokens("+store.TokenColumns+") VALUES (?,?,?,?,?,?,?)",
			t.ID, t.User, t.Name, t.Hash, store.Nanos(t.Created), store.Nanos(t.LastUsed), store.Nanos(t.Expires)); err != nil {
			return fmt.Errorf("sqlite: storing token %s: %w", t.ID, err)
		}
		return nil
	})
}

// token returns the token a column matches.
func (d *DB) token(ctx context.Context, col, v string) (store.Token, error) {
	if err := d.reading(); err != nil {
		return store.Token{}, err
	}
	t, err := store.ScanToken(d.r.QueryRowContext(ctx, "SELECT "+store.TokenColumns+" FROM tokens WHERE "+col+" = ?", v))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, fmt.Errorf("%w: token", store.ErrNotFound)
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("sqlite: token: %w", err)
	}
	return t, nil
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
	if err := d.reading(); err != nil {
		return nil, err
	}
	var c cond
	if user != "" {
		c.add("user_name = ?", user)
	}
	rows, err := d.r.QueryContext(ctx, "SELECT "+store.TokenColumns+" FROM tokens"+c.where()+" ORDER BY created_ns, id", c.args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: tokens: %w", err)
	}
	defer rows.Close()
	out := []store.Token{}
	for rows.Next() {
		t, err := store.ScanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: tokens: %w", err)
	}
	return out, nil
}

// TouchToken sets a token's LastUsed.
func (d *DB) TouchToken(ctx context.Context, id string, used time.Time) error {
	return d.write(ctx, func(w *wtx) error {
		res, err := w.ExecContext(ctx, "UPDATE tokens SET used_ns = ? WHERE id = ?", store.Nanos(used), id)
		if err != nil {
			return fmt.Errorf("sqlite: touching token %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: token %q", store.ErrNotFound, id)
		}
		return nil
	})
}

// DeleteToken removes a token.
func (d *DB) DeleteToken(ctx context.Context, id string) error {
	return d.write(ctx, func(w *wtx) error { return w.deleteRow("tokens", "token", id) })
}

// DeleteUserTokens removes every token of user.
func (d *DB) DeleteUserTokens(ctx context.Context, user string) error {
	return d.exec(ctx, "deleting tokens of "+user, "DELETE FROM tokens WHERE user_name = ?", user)
}

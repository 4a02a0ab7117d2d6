package auth

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/sqlite"
)

// TestRestartKeepsSessions logs in and makes a token through one Auth,
// then checks them through a second Auth over the same store and through
// a third over the database reopened, as a restarted console has.
func TestRestartKeepsSessions(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "otwatch.db")
	openDB := func() store.Store {
		t.Helper()
		st, err := sqlite.Open(ctx, path, store.Options{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	opts := Options{Params: testParams, Now: clk.Now}
	st := openDB()
	first := New(st, opts)
	if _, _, err := first.Bootstrap(ctx, "admin", "admin password 123"); err != nil {
		t.Fatal(err)
	}
	_, cookie, err := first.Login(ctx, "admin", "admin password 123", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	tok, secret, err := first.CreateToken(ctx, "admin", "sensor plant-a", 0, "admin")
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Minute)

	check := func(what string, a *Auth, wantSession, wantToken bool) {
		t.Helper()
		p, err := a.SessionPrincipal(ctx, cookie)
		switch {
		case wantSession && (err != nil || p.User != "admin" || p.Method != MethodSession):
			t.Errorf("%s: session: %+v, %v; want admin's", what, p, err)
		case !wantSession && !errors.Is(err, ErrUnauthenticated):
			t.Errorf("%s: ended session: %+v, %v; want ErrUnauthenticated", what, p, err)
		}
		p, err = a.TokenPrincipal(ctx, secret)
		switch {
		case wantToken && (err != nil || p.User != "admin" || p.Token == nil || p.Token.ID != tok.ID):
			t.Errorf("%s: token: %+v, %v; want admin's %s", what, p, err, tok.ID)
		case !wantToken && !errors.Is(err, ErrUnauthenticated):
			t.Errorf("%s: deleted token: %+v, %v; want ErrUnauthenticated", what, p, err)
		}
	}
	check("second Auth", New(st, opts), true, true)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	restarted := New(openDB(), opts)
	check("after reopening the database", restarted, true, true)
	ts, err := restarted.Tokens(ctx, "admin")
	if err != nil || len(ts) != 1 || ts[0].ID != tok.ID || ts[0].Name != "sensor plant-a" || ts[0].LastUsed.IsZero() {
		t.Errorf("Tokens after restart = %+v, %v; want %s, used", ts, err, tok.ID)
	}
	p, err := restarted.SessionPrincipal(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := restarted.DeleteToken(ctx, tok.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	check("after logout and token deletion", restarted, false, false)
	if _, err := restarted.Token(ctx, tok.ID); !errors.Is(err, ErrNoSession) {
		t.Errorf("Token(deleted) = %v, want ErrNoSession", err)
	}
	if err := restarted.DeleteToken(ctx, tok.ID, "admin"); !errors.Is(err, ErrNoSession) {
		t.Errorf("DeleteToken(deleted) = %v, want ErrNoSession", err)
	}
}

// TestStoreSessionsIdle checks that a session kept in the store ends
// after the idle timeout, and that a login removes the expired ones.
func TestStoreSessionsIdle(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	st := openStore(t, store.Options{Now: clk.Now})
	a := New(st, Options{Params: testParams, Now: clk.Now, IdleTimeout: 10 * time.Minute})
	if _, _, err := a.Bootstrap(ctx, "admin", "admin password 123"); err != nil {
		t.Fatal(err)
	}
	s1, old, err := a.Login(ctx, "admin", "admin password 123", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(11 * time.Minute)
	if _, err := a.SessionPrincipal(ctx, old); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("idle session: %v, want ErrUnauthenticated", err)
	}
	if _, err := st.Session(ctx, s1.Key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("idle session still stored: %v", err)
	}
	s2, _, err := a.Login(ctx, "admin", "admin password 123", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Session(ctx, s2.Key)
	if err != nil || got.User != "admin" || got.CSRF != s2.CSRF || !got.Expires.Equal(s2.Expires) {
		t.Errorf("stored session %+v, %v; want %+v", got, err, s2)
	}
}

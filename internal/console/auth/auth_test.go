package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/sqlite"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	st    store.Store
	a     *Auth
	clk   *clock
	admin string // admin's password
}

const analystPW = "analyst password 1"

// openStore returns the store the tests keep users in: a new SQLite
// database in a temporary directory, closed when the test ends.
func openStore(t *testing.T, opts store.Options) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "otwatch.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newFixture(t *testing.T, secure bool) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	st := openStore(t, store.Options{Now: clk.Now})
	f := &fixture{st: st, clk: clk}
	f.a = New(st, Options{Params: testParams, Secure: secure, Now: clk.Now})
	ctx := context.Background()
	created, pw, err := f.a.Bootstrap(ctx, "", "")
	if err != nil || !created {
		t.Fatalf("Bootstrap = %v, %v", created, err)
	}
	f.admin = pw
	if _, err := f.a.CreateUser(ctx, store.User{Name: "ana", Role: store.RoleAnalyst}, analystPW, "admin"); err != nil {
		t.Fatal(err)
	}
	return f
}

// login logs in and returns a request carrying the session cookie.
func (f *fixture) login(t *testing.T, name, pw string) (*http.Request, Session) {
	t.Helper()
	s, secret, err := f.a.Login(context.Background(), name, pw, "192.0.2.1")
	if err != nil {
		t.Fatalf("Login(%s) = %v", name, err)
	}
	rec := httptest.NewRecorder()
	f.a.SetSessionCookie(rec, secret)
	r := httptest.NewRequest("GET", "/api/v1/me", nil)
	for _, c := range rec.Result().Cookies() {
		r.AddCookie(c)
	}
	return r, s
}

func (f *fixture) audit(t *testing.T, action string) []store.AuditEntry {
	t.Helper()
	p, err := f.st.Audit(context.Background(), store.AuditQuery{Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return p.Entries
}

func TestBootstrap(t *testing.T) {
	f := newFixture(t, false)
	if len(f.admin) != 26 {
		t.Errorf("generated password %q, want 26 characters", f.admin)
	}
	u, err := f.st.User(context.Background(), "admin")
	if err != nil || u.Role != store.RoleAdmin || !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, f.admin) {
		t.Fatalf("admin = %+v, %v", u, err)
	}
	created, pw, err := f.a.Bootstrap(context.Background(), "", "another password")
	if created || pw != "" || err != nil {
		t.Errorf("second Bootstrap = %v, %q, %v; want nothing done", created, pw, err)
	}
	f.login(t, "admin", f.admin)

	// On an empty store: a short password is refused and creates no
	// user, so a later Bootstrap with a given password still happens.
	a := New(openStore(t, store.Options{}), Options{Params: testParams})
	if _, _, err := a.Bootstrap(context.Background(), "", "short"); !errors.Is(err, ErrWeakPassword) {
		t.Errorf("Bootstrap with a short password = %v, want ErrWeakPassword", err)
	}
	if created, pw, err := a.Bootstrap(context.Background(), "root", "given password 123"); !created || pw != "given password 123" || err != nil {
		t.Errorf("Bootstrap with password = %v, %q, %v", created, pw, err)
	}
	if _, _, err := a.Login(context.Background(), "root", "given password 123", "::1"); err != nil {
		t.Errorf("login with the given password: %v", err)
	}
}

func TestLoginSession(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	r, s := f.login(t, "ana", analystPW)
	c, _ := r.Cookie(f.a.CookieName())
	if len(c.Value) != 43 { // 256 bits in unpadded base64
		t.Errorf("session id %q has %d characters, want 43", c.Value, len(c.Value))
	}
	if s.Key == c.Value || s.Key != hashSecret(c.Value) {
		t.Errorf("session key %q must be the SHA-256 of the cookie, not the cookie", s.Key)
	}
	if len(s.CSRF) != 43 || s.CSRF == c.Value {
		t.Errorf("CSRF token %q", s.CSRF)
	}
	p, err := f.a.Authenticate(r)
	if err != nil || p.User != "ana" || p.Role != store.RoleAnalyst || p.Method != MethodSession {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	if got := f.audit(t, "login"); len(got) != 1 || got[0].Actor != "ana" || !strings.Contains(got[0].Detail, "192.0.2.1") {
		t.Errorf("login audit = %+v", got)
	}

	for _, tt := range []struct{ name, user, pw string }{
		{"wrong password", "ana", analystPW + "x"},
		{"unknown user", "bob", analystPW},
		{"empty", "", ""},
	} {
		if _, _, err := f.a.Login(ctx, tt.user, tt.pw, "192.0.2.2"); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("%s: Login = %v, want ErrInvalidCredentials", tt.name, err)
		}
	}
	if got := f.audit(t, "login.failed"); len(got) != 3 {
		t.Errorf("%d login.failed audit entries, want 3: %+v", len(got), got)
	}

	// Idle expiry: a request within the idle timeout keeps it alive.
	f.clk.Add(50 * time.Minute)
	if _, err := f.a.Authenticate(r); err != nil {
		t.Fatalf("after 50 min: %v", err)
	}
	f.clk.Add(50 * time.Minute)
	if _, err := f.a.Authenticate(r); err != nil {
		t.Fatalf("after 100 min with activity at 50: %v", err)
	}
	f.clk.Add(61 * time.Minute)
	if _, err := f.a.Authenticate(r); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("after 61 idle minutes: %v, want ErrUnauthenticated", err)
	}
	if got, err := f.st.Session(ctx, s.Key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session kept after idle expiry: %+v, %v", got, err)
	}

	// Absolute expiry, whatever the activity.
	r, _ = f.login(t, "ana", analystPW)
	for range 12 {
		f.clk.Add(59 * time.Minute)
		if _, err := f.a.Authenticate(r); err != nil {
			t.Fatalf("active session ended early: %v", err)
		}
	}
	f.clk.Add(13 * time.Minute)
	if _, err := f.a.Authenticate(r); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("after 12h: %v, want ErrUnauthenticated", err)
	}

	// Logout, and disabling a user, end sessions.
	r, _ = f.login(t, "ana", analystPW)
	p, _ = f.a.Authenticate(r)
	if err := f.a.Logout(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(r); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("after logout: %v", err)
	}
	r, _ = f.login(t, "ana", analystPW)
	if _, err := f.a.UpdateUser(ctx, "ana", UserUpdate{Disabled: new(true)}, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(r); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("session of a disabled user: %v", err)
	}
	if _, _, err := f.a.Login(ctx, "ana", analystPW, "192.0.2.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("login of a disabled user: %v", err)
	}

	// Garbage cookies are not looked up.
	for _, v := range []string{"", "x", strings.Repeat("A", 43) + "=", strings.Repeat("!", 43)} {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: f.a.CookieName(), Value: v})
		if _, err := f.a.Authenticate(r); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("cookie %q: %v", v, err)
		}
	}
}

func TestRoleFollowsUser(t *testing.T) {
	f := newFixture(t, false)
	r, _ := f.login(t, "ana", analystPW)
	if _, err := f.a.UpdateUser(context.Background(), "ana", UserUpdate{Role: new(store.RoleReadOnly)}, "admin"); err != nil {
		t.Fatal(err)
	}
	p, err := f.a.Authenticate(r)
	if err != nil || p.Role != store.RoleReadOnly || p.Allowed(store.RoleAnalyst) || !p.Allowed(store.RoleReadOnly) {
		t.Errorf("after demotion: %+v, %v", p, err)
	}
}

func TestAllows(t *testing.T) {
	roles := []store.Role{store.RoleReadOnly, store.RoleAnalyst, store.RoleAdmin}
	for i, have := range roles {
		for j, need := range roles {
			if got := Allows(have, need); got != (i >= j) {
				t.Errorf("Allows(%s, %s) = %v", have, need, got)
			}
		}
		if Allows("root", have) || Allows("", have) {
			t.Errorf("unknown role allowed %s", have)
		}
	}
}

func TestCSRF(t *testing.T) {
	f := newFixture(t, false)
	_, s := f.login(t, "ana", analystPW)
	sp := &Principal{User: "ana", Role: store.RoleAnalyst, Method: MethodSession, Session: &s}
	tp := &Principal{User: "ana", Role: store.RoleAnalyst, Method: MethodToken, Token: &Token{ID: "tok_x"}}
	form := func(v string) *http.Request {
		r := httptest.NewRequest("POST", "/alerts/x/status", strings.NewReader(url.Values{CSRFField: {v}, "status": {"Closed"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	withHeader := func(method, v string) *http.Request {
		r := httptest.NewRequest(method, "/api/v1/alerts/x/status", strings.NewReader(`{}`))
		if v != "" {
			r.Header.Set(CSRFHeader, v)
		}
		return r
	}
	tests := []struct {
		name string
		r    *http.Request
		p    *Principal
		ok   bool
	}{
		{"GET needs none", withHeader("GET", ""), sp, true},
		{"HEAD needs none", withHeader("HEAD", ""), sp, true},
		{"POST without", withHeader("POST", ""), sp, false},
		{"POST wrong", withHeader("POST", s.CSRF[:42]+"x"), sp, false},
		{"POST header", withHeader("POST", s.CSRF), sp, true},
		{"PUT header", withHeader("PUT", s.CSRF), sp, true},
		{"DELETE without", withHeader("DELETE", ""), sp, false},
		{"PATCH without", withHeader("PATCH", ""), sp, false},
		{"form field", form(s.CSRF), sp, true},
		{"form field wrong", form("nope"), sp, false},
		{"token needs none", withHeader("POST", ""), tp, true},
	}
	for _, tt := range tests {
		err := CheckCSRF(tt.r, tt.p)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrCSRF)) {
			t.Errorf("%s: CheckCSRF = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}

	origin := []struct {
		origin, fetchSite string
		ok                bool
	}{
		{"", "", true},
		{"https://console.example:8443", "same-origin", true},
		{"https://evil.example", "", false},
		{"", "cross-site", false},
		{"::bad", "", false},
	}
	for _, tt := range origin {
		r := httptest.NewRequest("POST", "https://console.example:8443/api/v1/login", nil)
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		if tt.fetchSite != "" {
			r.Header.Set("Sec-Fetch-Site", tt.fetchSite)
		}
		if err := CheckOrigin(r); (err == nil) != tt.ok {
			t.Errorf("CheckOrigin(origin %q, fetch-site %q) = %v, want ok=%v", tt.origin, tt.fetchSite, err, tt.ok)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	// Five failures lock the user name, even with the right password and
	// from another address.
	for i := range 5 {
		if _, _, err := f.a.Login(ctx, "ana", "wrong password!", "198.51.100.1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	_, _, err := f.a.Login(ctx, "ANA", analystPW, "198.51.100.2")
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
		t.Fatalf("sixth login = %v, want a rate limit of at most a minute", err)
	}
	// Other users are not affected; a minute gives one more try.
	f.login(t, "admin", f.admin)
	f.clk.Add(time.Minute)
	f.login(t, "ana", analystPW)
	// A success resets the user's count.
	for range 4 {
		_, _, _ = f.a.Login(ctx, "ana", "wrong password!", "198.51.100.3")
	}
	f.login(t, "ana", analystPW)

	// Twenty attempts from one address exhaust it, whatever the user.
	g := newFixture(t, false)
	for i := range 20 {
		if _, _, err := g.a.Login(ctx, "nobody"+string(rune('a'+i)), "x", "203.0.113.9"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, _, err := g.a.Login(ctx, "admin", g.admin, "203.0.113.9"); !errors.Is(err, ErrRateLimited) {
		t.Errorf("21st attempt from one address = %v, want ErrRateLimited", err)
	}
	if _, _, err := g.a.Login(ctx, "admin", g.admin, "203.0.113.10"); err != nil {
		t.Errorf("another address = %v", err)
	}
	g.clk.Add(6 * time.Second)
	if _, _, err := g.a.Login(ctx, "admin", g.admin, "203.0.113.9"); err != nil {
		t.Errorf("after 6 s = %v", err)
	}
	// Rate-limited attempts are not audited one by one.
	if n := len(g.audit(t, "login.failed")); n != 20 {
		t.Errorf("%d login.failed entries, want 20", n)
	}
}

func TestLimiter(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	l := NewLimiter(3, 10*time.Second)
	l.Now = clk.Now
	for i := range 3 {
		if ok, _ := l.Allow("k"); !ok {
			t.Fatalf("token %d refused", i)
		}
	}
	if ok, wait := l.Allow("k"); ok || wait != 10*time.Second {
		t.Errorf("empty bucket: %v, %v; want false, 10s", ok, wait)
	}
	if ok, wait := l.Check("k"); ok || wait != 10*time.Second {
		t.Errorf("Check on empty bucket: %v, %v", ok, wait)
	}
	clk.Add(4 * time.Second)
	if ok, wait := l.Check("k"); ok || wait != 6*time.Second {
		t.Errorf("after 4s: %v, %v; want false, 6s", ok, wait)
	}
	clk.Add(6 * time.Second)
	if ok, _ := l.Allow("k"); !ok {
		t.Error("after 10s: refused")
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Error("other key refused")
	}
	l.Reset("k")
	if ok, _ := l.Check("k"); !ok {
		t.Error("after Reset: refused")
	}

	small := NewLimiter(1, time.Hour)
	small.MaxKeys = 100
	for i := range 1000 {
		small.Allow(string(rune(i)))
	}
	if n := small.Len(); n > 100 {
		t.Errorf("limiter holds %d keys, want at most 100", n)
	}
}

func TestTokens(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	tok, secret, err := f.a.CreateToken(ctx, "ana", "sensor plant-a", 24*time.Hour, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) != len(TokenPrefix)+43 {
		t.Errorf("secret %q", secret)
	}
	kept, err := f.st.Token(ctx, tok.ID)
	if err != nil || kept.Hash != hashSecret(secret) || strings.Contains(kept.Hash, secret[len(TokenPrefix):]) {
		t.Errorf("token kept as %+v, %v: want only the hash of the secret", kept, err)
	}
	bearer := func(h string) *http.Request {
		r := httptest.NewRequest("POST", "/api/v1/alerts/x/status", nil)
		r.Header.Set("Authorization", h)
		return r
	}
	p, err := f.a.Authenticate(bearer("Bearer " + secret))
	if err != nil || p.User != "ana" || p.Role != store.RoleAnalyst || p.Method != MethodToken || p.Token.ID != tok.ID {
		t.Fatalf("Authenticate(bearer) = %+v, %v", p, err)
	}
	if err := CheckCSRF(bearer("Bearer "+secret), p); err != nil {
		t.Errorf("token request needs CSRF: %v", err)
	}
	if got, _ := f.st.Token(ctx, tok.ID); !got.LastUsed.Equal(f.clk.Now()) {
		t.Errorf("LastUsed = %v, want %v", got.LastUsed, f.clk.Now())
	}
	// A malformed Authorization header is refused even with a valid cookie.
	r, _ := f.login(t, "admin", f.admin)
	r.Header.Set("Authorization", "Basic YWRtaW46eA==")
	if _, err := f.a.Authenticate(r); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("Basic auth with cookie: %v", err)
	}
	for _, h := range []string{"Bearer", "Bearer " + secret + "x", "Bearer otw_" + strings.Repeat("A", 43), "Token " + secret, "Bearer " + secret[len(TokenPrefix):]} {
		if _, err := f.a.Authenticate(bearer(h)); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Authorization %q: %v", h, err)
		}
	}
	f.clk.Add(24 * time.Hour)
	if _, err := f.a.Authenticate(bearer("Bearer " + secret)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("expired token: %v", err)
	}
	tok2, secret2, err := f.a.CreateToken(ctx, "ana", "script", 0, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.DeleteToken(ctx, tok2.ID, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(bearer("Bearer " + secret2)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("deleted token: %v", err)
	}
	if err := f.a.DeleteToken(ctx, tok2.ID, "admin"); !errors.Is(err, ErrNoSession) {
		t.Errorf("deleting twice: %v", err)
	}
	if n := len(f.audit(t, "token.create")) + len(f.audit(t, "token.delete")); n != 3 {
		t.Errorf("%d token audit entries, want 3", n)
	}
	for _, tt := range []struct{ owner, name string }{{"ana", ""}, {"ana", strings.Repeat("n", 101)}, {"ana", "two\nlines"}, {"ghost", "x"}} {
		if _, _, err := f.a.CreateToken(ctx, tt.owner, tt.name, 0, "admin"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateToken(%q, %q) = %v, want ErrInvalid", tt.owner, tt.name, err)
		}
	}
	// Deleting the user removes its tokens.
	_, secret3, _ := f.a.CreateToken(ctx, "ana", "script", 0, "admin")
	if err := f.a.DeleteUser(ctx, "ana", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(bearer("Bearer " + secret3)); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("token of a deleted user: %v", err)
	}
	if ts, _ := f.a.Tokens(ctx, "ana"); len(ts) != 0 {
		t.Errorf("tokens of deleted user: %+v", ts)
	}
}

func TestUsers(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	bad := []struct {
		name string
		u    store.User
		pw   string
		err  error
	}{
		{"duplicate", store.User{Name: "ana", Role: store.RoleAnalyst}, analystPW, store.ErrConflict},
		{"bad name", store.User{Name: "a b", Role: store.RoleAnalyst}, analystPW, store.ErrInvalid},
		{"empty name", store.User{Name: "", Role: store.RoleAnalyst}, analystPW, store.ErrInvalid},
		{"bad role", store.User{Name: "bob", Role: "root"}, analystPW, store.ErrInvalid},
		{"weak password", store.User{Name: "bob", Role: store.RoleAnalyst}, "short", ErrWeakPassword},
		{"multi-line full name", store.User{Name: "bob", FullName: "a\nb", Role: store.RoleAnalyst}, analystPW, store.ErrInvalid},
	}
	for _, tt := range bad {
		if _, err := f.a.CreateUser(ctx, tt.u, tt.pw, "admin"); !errors.Is(err, tt.err) {
			t.Errorf("%s: CreateUser = %v, want %v", tt.name, err, tt.err)
		}
	}
	// The last enabled admin cannot be demoted, disabled or removed.
	for _, ch := range []UserUpdate{{Role: new(store.RoleAnalyst)}, {Disabled: new(true)}} {
		if _, err := f.a.UpdateUser(ctx, "admin", ch, "admin"); !errors.Is(err, ErrLastAdmin) || !errors.Is(err, store.ErrConflict) {
			t.Errorf("UpdateUser(admin, %+v) = %v, want ErrLastAdmin", ch, err)
		}
	}
	if err := f.a.DeleteUser(ctx, "admin", "admin"); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("DeleteUser(last admin) = %v", err)
	}
	if _, err := f.a.UpdateUser(ctx, "ana", UserUpdate{Role: new(store.RoleAdmin)}, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := f.a.DeleteUser(ctx, "admin", "ana"); err != nil {
		t.Errorf("DeleteUser(admin) with another admin = %v", err)
	}
	// Setting a password ends the user's sessions; the new one works.
	r, _ := f.login(t, "ana", analystPW)
	if _, err := f.a.UpdateUser(ctx, "ana", UserUpdate{Password: new("a brand new password")}, "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(r); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("session after password reset: %v", err)
	}
	f.login(t, "ana", "a brand new password")
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	r1, _ := f.login(t, "ana", analystPW)
	r2, _ := f.login(t, "ana", analystPW)
	p, _ := f.a.Authenticate(r1)
	if err := f.a.ChangePassword(ctx, p, "not it at all", "a brand new password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong current password: %v", err)
	}
	if err := f.a.ChangePassword(ctx, p, analystPW, "short"); !errors.Is(err, ErrWeakPassword) {
		t.Errorf("weak new password: %v", err)
	}
	if err := f.a.ChangePassword(ctx, p, analystPW, "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(r1); err != nil {
		t.Errorf("the changing session ended: %v", err)
	}
	if _, err := f.a.Authenticate(r2); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("the other session survived: %v", err)
	}
	if _, _, err := f.a.Login(ctx, "ana", analystPW, "192.0.2.1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("old password still works: %v", err)
	}
	f.login(t, "ana", "a brand new password")
}

func TestRehashOnLogin(t *testing.T) {
	f := newFixture(t, false)
	ctx := context.Background()
	old := Params{Time: 2, Memory: 32, Threads: 1, SaltLen: 16, KeyLen: 32}
	h, _ := old.Hash(analystPW)
	u, _ := f.st.User(ctx, "ana")
	u.PasswordHash = h
	if err := f.st.PutUser(ctx, u, "test"); err != nil {
		t.Fatal(err)
	}
	f.login(t, "ana", analystPW)
	u, _ = f.st.User(ctx, "ana")
	if p, _, _, err := ParseHash(u.PasswordHash); err != nil || p != testParams {
		t.Errorf("after login the hash has %+v, %v; want %+v", p, err, testParams)
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		f := newFixture(t, secure)
		rec := httptest.NewRecorder()
		f.a.SetSessionCookie(rec, "secret")
		c := rec.Result().Cookies()[0]
		wantName := "otwatch_session"
		if secure {
			wantName = "__Host-otwatch_session"
		}
		if c.Name != wantName || !c.HttpOnly || c.Secure != secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
			t.Errorf("secure=%v: cookie %+v", secure, c)
		}
		rec = httptest.NewRecorder()
		f.a.ClearSessionCookie(rec)
		if c := rec.Result().Cookies()[0]; c.MaxAge >= 0 || c.Name != wantName {
			t.Errorf("cleared cookie %+v", c)
		}
	}
}

func TestMiddleware(t *testing.T) {
	f := newFixture(t, false)
	var seen *Principal
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = FromContext(r.Context())
		w.WriteHeader(204)
	})
	api, page := f.a.RequireAPI(next), f.a.RequirePage(next)

	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/alerts", nil))
	var body map[string]string
	if rec.Code != 401 || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body["error"] == "" || rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("API without auth: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	rec = httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest("GET", "/alerts?severity=High", nil))
	if rec.Code != 303 || rec.Header().Get("Location") != "/login?next=%2Falerts%3Fseverity%3DHigh" {
		t.Errorf("page without auth: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest("POST", "/alerts", nil))
	if rec.Code != 401 {
		t.Errorf("page POST without auth: %d", rec.Code)
	}

	r, s := f.login(t, "ana", analystPW)
	r.Method = "POST"
	rec = httptest.NewRecorder()
	api.ServeHTTP(rec, r)
	if rec.Code != 403 || seen != nil {
		t.Errorf("cookie POST without CSRF: %d", rec.Code)
	}
	r.Header.Set(CSRFHeader, s.CSRF)
	rec = httptest.NewRecorder()
	api.ServeHTTP(rec, r)
	if rec.Code != 204 || seen == nil || seen.User != "ana" {
		t.Errorf("cookie POST with CSRF: %d %+v", rec.Code, seen)
	}
	seen = nil
	rec = httptest.NewRecorder()
	r.Method = "GET"
	page.ServeHTTP(rec, r)
	if rec.Code != 204 || seen == nil || CSRFToken(r.WithContext(WithPrincipal(r.Context(), seen))) != s.CSRF {
		t.Errorf("page GET with session: %d", rec.Code)
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/alerts?x=1", "/alerts?x=1"},
		{"", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"/a\r\nSet-Cookie: x", "/"},
		{"javascript:alert(1)", "/"},
	}
	for _, tt := range tests {
		if got := SafeNext(tt.in); got != tt.want {
			t.Errorf("SafeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClientIP(t *testing.T) {
	st := openStore(t, store.Options{})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header.Add("X-Forwarded-For", "10.0.0.1, 198.51.100.4")
	if got := New(st, Options{}).ClientIP(r); got != "192.0.2.7" {
		t.Errorf("without TrustProxy: %s", got)
	}
	if got := New(st, Options{TrustProxy: true}).ClientIP(r); got != "198.51.100.4" {
		t.Errorf("with TrustProxy: %s", got)
	}
}

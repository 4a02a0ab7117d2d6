package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/otwatch/otwatch/internal/store"
)

// Errors of authentication and authorization.
var (
	// ErrUnauthenticated: the request carries no valid session or token.
	ErrUnauthenticated = errors.New("auth: not logged in")
	// ErrInvalidCredentials: wrong user name or password, or a disabled
	// user (the three are not told apart).
	ErrInvalidCredentials = errors.New("auth: invalid user name or password")
	// ErrRateLimited: too many login attempts; see RateLimitError.
	ErrRateLimited = errors.New("auth: too many login attempts")
	// ErrForbidden: the user's role does not allow the request.
	ErrForbidden = errors.New("auth: not allowed")
	// ErrCSRF: a state-changing request made with the session cookie lacks
	// the session's CSRF token.
	ErrCSRF = errors.New("auth: missing or wrong CSRF token")
	// ErrLastAdmin: the change would leave no enabled admin. It wraps
	// store.ErrConflict.
	ErrLastAdmin = fmt.Errorf("%w: the console must keep at least one enabled admin", store.ErrConflict)
)

// RateLimitError is ErrRateLimited with how long to wait.
type RateLimitError struct {
	RetryAfter time.Duration
}

// Error describes the limit.
func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%v; retry in %v", ErrRateLimited, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Method is how a request was authenticated.
type Method string

// Authentication methods.
const (
	MethodSession Method = "session"
	MethodToken   Method = "token"
)

// Principal is who makes a request.
type Principal struct {
	User     string
	FullName string
	Role     store.Role
	Method   Method
	Session  *Session // the session, when Method is MethodSession
	Token    *Token   // the token, when Method is MethodToken
}

// Allowed reports whether the principal's role is need or more.
func (p *Principal) Allowed(need store.Role) bool { return Allows(p.Role, need) }

// Allows reports whether role have includes role need: admin includes
// analyst, which includes readonly.
func Allows(have, need store.Role) bool {
	rank := func(r store.Role) int {
		switch r {
		case store.RoleReadOnly:
			return 1
		case store.RoleAnalyst:
			return 2
		case store.RoleAdmin:
			return 3
		}
		return 0
	}
	return rank(have) > 0 && rank(have) >= rank(need)
}

// Options tune an Auth. The zero value gives the defaults.
type Options struct {
	// Params hash new passwords; DefaultParams when zero. Stored hashes
	// with other parameters still verify and are rehashed at login.
	Params Params
	// Secure marks cookies Secure and names the session cookie with the
	// __Host- prefix; set it when the console serves TLS.
	Secure bool
	// SessionTTL is a session's absolute lifetime (default 12h);
	// IdleTimeout ends a session not used for that long (default 1h).
	SessionTTL  time.Duration
	IdleTimeout time.Duration
	// IPLimit limits login attempts per client address (default: bursts
	// of 20, then one every 6 s); UserLimit limits failed logins per user
	// name (default: 5, then one a minute).
	IPLimit   *Limiter
	UserLimit *Limiter
	// MaxHashing bounds the password hashes computed at once (default 2),
	// so logins cannot exhaust memory (Params.Memory each).
	MaxHashing int
	// TrustProxy takes the client address from the last X-Forwarded-For
	// hop (for a console behind a reverse proxy); off by default, as a
	// client could otherwise pick its own address.
	TrustProxy bool
	// LoginPath is where RequirePage sends people who are not logged in
	// (default "/login").
	LoginPath string
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Logger receives problems that do not fail a request; slog.Default
	// when nil.
	Logger *slog.Logger
}

// Default session lifetimes and rate limits.
const (
	DefaultSessionTTL  = 12 * time.Hour
	DefaultIdleTimeout = time.Hour
	// touchEvery bounds how often a session's or token's last use is
	// written.
	touchEvery = time.Minute
	// MaxTokensPerUser bounds a user's API tokens.
	MaxTokensPerUser = 100
)

// Auth authenticates console requests and manages users, sessions and
// API tokens over a store. It is safe for concurrent use.
type Auth struct {
	st      store.Store
	opts    Options
	ipLimit *Limiter
	uLimit  *Limiter
	hashSem chan struct{}
	log     *slog.Logger

	dummyOnce sync.Once
	dummy     string // hash verified for unknown users, to keep timing even
}

// New returns an Auth over st.
func New(st store.Store, opts Options) *Auth {
	if opts.Params == (Params{}) {
		opts.Params = DefaultParams
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxHashing <= 0 {
		opts.MaxHashing = 2
	}
	if opts.LoginPath == "" {
		opts.LoginPath = "/login"
	}
	a := &Auth{st: st, opts: opts, ipLimit: opts.IPLimit, uLimit: opts.UserLimit,
		hashSem: make(chan struct{}, opts.MaxHashing), log: opts.Logger}
	if a.ipLimit == nil {
		a.ipLimit = NewLimiter(20, 6*time.Second)
	}
	if a.uLimit == nil {
		a.uLimit = NewLimiter(5, time.Minute)
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	for _, l := range []*Limiter{a.ipLimit, a.uLimit} {
		if l.Now == nil {
			l.Now = a.now
		}
	}
	return a
}

// Store returns the store the Auth keeps users in.
func (a *Auth) Store() store.Store { return a.st }

// Secure reports whether cookies are marked Secure.
func (a *Auth) Secure() bool { return a.opts.Secure }

func (a *Auth) now() time.Time {
	if a.opts.Now != nil {
		return a.opts.Now().UTC()
	}
	return time.Now().UTC()
}

// hash hashes a password with the configured parameters, waiting for a
// hashing slot.
func (a *Auth) hash(ctx context.Context, password string) (string, error) {
	if err := a.acquire(ctx); err != nil {
		return "", err
	}
	defer a.release()
	return a.opts.Params.Hash(password)
}

// verify checks password against encoded, waiting for a hashing slot.
func (a *Auth) verify(ctx context.Context, encoded, password string) (bool, Params, error) {
	if err := a.acquire(ctx); err != nil {
		return false, Params{}, err
	}
	defer a.release()
	return VerifyPassword(encoded, password)
}

func (a *Auth) acquire(ctx context.Context) error {
	select {
	case a.hashSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("auth: waiting to hash a password: %w", ctx.Err())
	}
}

func (a *Auth) release() { <-a.hashSem }

// dummyHash returns a hash of a random password with the configured
// parameters, verified when the user does not exist so that the answer
// takes as long as for a wrong password.
func (a *Auth) dummyHash() string {
	a.dummyOnce.Do(func() {
		a.dummy, _ = a.opts.Params.Hash(GeneratePassword())
	})
	return a.dummy
}

// audit appends to the audit log.
func (a *Auth) audit(ctx context.Context, actor, action, object, detail string) error {
	err := a.st.AddAudit(ctx, store.AuditEntry{Time: a.now(), Actor: actor, Action: action, Object: object, Detail: detail})
	if err != nil {
		return fmt.Errorf("auth: audit log: %w", err)
	}
	return nil
}

// auditQuiet appends to the audit log, logging a failure instead of
// returning it (for logins, which must not fail because of it).
func (a *Auth) auditQuiet(ctx context.Context, actor, action, object, detail string) {
	if err := a.audit(ctx, actor, action, object, detail); err != nil {
		a.log.Error("console audit log", "action", action, "actor", actor, "err", err)
	}
}

// userName matches a valid user name.
var userName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// CheckUserName reports whether name may name a user: 1 to 64 letters,
// digits, '.', '_', '@' or '-', starting with a letter or digit.
func CheckUserName(name string) error {
	if !userName.MatchString(name) {
		return fmt.Errorf("%w: user name %q (want 1-64 letters, digits, '.', '_', '@' or '-')", store.ErrInvalid, clip(name))
	}
	return nil
}

// clip shortens s for messages and the audit log.
func clip(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:64]) + "…"
	}
	return s
}

// Bootstrap creates the first admin when the store has no user: user name
// with password, or a generated password when password is "". It
// returns whether it created the user and the password it set. With users
// present it changes nothing.
func (a *Auth) Bootstrap(ctx context.Context, name, password string) (bool, string, error) {
	users, err := a.st.Users(ctx)
	if err != nil {
		return false, "", fmt.Errorf("auth: listing users: %w", err)
	}
	if len(users) > 0 {
		return false, "", nil
	}
	if name == "" {
		name = "admin"
	}
	if password == "" {
		password = GeneratePassword()
	}
	if _, err := a.CreateUser(ctx, store.User{Name: name, FullName: "Administrator", Role: store.RoleAdmin}, password, "otwatch"); err != nil {
		return false, "", err
	}
	return true, password, nil
}

// Login checks a user name and password from client address ip and
// starts a session. It returns the session and the secret the cookie
// carries (see SetSessionCookie). Wrong credentials are
// ErrInvalidCredentials; too many attempts a *RateLimitError.
func (a *Auth) Login(ctx context.Context, name, password, ip string) (Session, string, error) {
	if ok, wait := a.ipLimit.Allow("ip:" + ip); !ok {
		return Session{}, "", &RateLimitError{RetryAfter: wait}
	}
	ukey := "user:" + strings.ToLower(name)
	if ok, wait := a.uLimit.Check(ukey); !ok {
		return Session{}, "", &RateLimitError{RetryAfter: wait}
	}
	fail := func(reason string) (Session, string, error) {
		a.uLimit.Allow(ukey)
		a.auditQuiet(ctx, clip(name), "login.failed", "user:"+clip(name), fmt.Sprintf("from %s: %s", ip, reason))
		return Session{}, "", ErrInvalidCredentials
	}
	if name == "" || len(name) > 128 || len(password) > MaxPasswordLen {
		return fail("malformed credentials")
	}
	u, err := a.st.User(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		_, _, _ = a.verify(ctx, a.dummyHash(), password)
		return fail("unknown user")
	case err != nil:
		return Session{}, "", fmt.Errorf("auth: looking up user: %w", err)
	}
	ok, params, err := a.verify(ctx, u.PasswordHash, password)
	switch {
	case err != nil && ctx.Err() != nil:
		return Session{}, "", err
	case err != nil:
		a.log.Error("console login: stored password hash unusable", "user", u.Name, "err", err)
		return fail("unusable password hash")
	case !ok:
		return fail("wrong password")
	case u.Disabled:
		return fail("user disabled")
	}
	a.uLimit.Reset(ukey)
	if params != a.opts.Params {
		if h, err := a.hash(ctx, password); err == nil {
			u.PasswordHash = h
			if err := a.st.PutUser(ctx, u, u.Name); err != nil {
				a.log.Error("console login: rehashing password", "user", u.Name, "err", err)
			}
		}
	}
	now := a.now()
	_ = a.st.ExpireSessions(ctx, now, now.Add(-a.opts.IdleTimeout))
	secret := randomID(32)
	s := Session{Key: hashSecret(secret), User: u.Name, CSRF: randomID(32), IP: ip,
		Created: now, LastSeen: now, Expires: now.Add(a.opts.SessionTTL)}
	if err := a.st.PutSession(ctx, s); err != nil {
		return Session{}, "", fmt.Errorf("auth: saving session: %w", err)
	}
	a.auditQuiet(ctx, u.Name, "login", "user:"+u.Name, "from "+ip)
	return s, secret, nil
}

// Logout ends the principal's session (a token principal has none).
func (a *Auth) Logout(ctx context.Context, p *Principal) error {
	if p.Session == nil {
		return nil
	}
	if err := a.st.DeleteSession(ctx, p.Session.Key); err != nil {
		return fmt.Errorf("auth: ending session: %w", err)
	}
	a.auditQuiet(ctx, p.User, "logout", "user:"+p.User, "")
	return nil
}

// SessionPrincipal returns who the session with cookie secret belongs
// to: ErrUnauthenticated when it does not exist, has expired or its user
// is gone or disabled.
func (a *Auth) SessionPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if !validSecret(secret, "") {
		return nil, ErrUnauthenticated
	}
	key := hashSecret(secret)
	s, err := a.st.Session(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated
	} else if err != nil {
		return nil, fmt.Errorf("auth: reading session: %w", err)
	}
	now := a.now()
	if !now.Before(s.Expires) || now.Sub(s.LastSeen) >= a.opts.IdleTimeout {
		_ = a.st.DeleteSession(ctx, key)
		return nil, ErrUnauthenticated
	}
	u, err := a.activeUser(ctx, s.User)
	if err != nil {
		return nil, err
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		if err := a.st.TouchSession(ctx, key, now); err == nil {
			s.LastSeen = now
		}
	}
	return &Principal{User: u.Name, FullName: u.FullName, Role: u.Role, Method: MethodSession, Session: &s}, nil
}

// TokenPrincipal returns who the API token secret belongs to:
// ErrUnauthenticated when it does not exist, has expired or its user is
// gone or disabled.
func (a *Auth) TokenPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if !validSecret(secret, TokenPrefix) {
		return nil, ErrUnauthenticated
	}
	t, err := a.st.TokenByHash(ctx, hashSecret(secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnauthenticated
	} else if err != nil {
		return nil, fmt.Errorf("auth: reading token: %w", err)
	}
	now := a.now()
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return nil, ErrUnauthenticated
	}
	u, err := a.activeUser(ctx, t.User)
	if err != nil {
		return nil, err
	}
	if now.Sub(t.LastUsed) >= touchEvery {
		if err := a.st.TouchToken(ctx, t.ID, now); err == nil {
			t.LastUsed = now
		}
	}
	return &Principal{User: u.Name, FullName: u.FullName, Role: u.Role, Method: MethodToken, Token: &t}, nil
}

// activeUser returns user name, ErrUnauthenticated when it is gone or
// disabled.
func (a *Auth) activeUser(ctx context.Context, name string) (store.User, error) {
	u, err := a.st.User(ctx, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return u, ErrUnauthenticated
	case err != nil:
		return u, fmt.Errorf("auth: reading user %s: %w", name, err)
	case u.Disabled || !store.ValidRole(u.Role):
		return u, ErrUnauthenticated
	}
	return u, nil
}

// CreateUser adds user u with password, acting as actor. A name in use is
// store.ErrConflict; a bad name or role store.ErrInvalid; a weak password
// ErrWeakPassword.
func (a *Auth) CreateUser(ctx context.Context, u store.User, password, actor string) (store.User, error) {
	if err := CheckUserName(u.Name); err != nil {
		return u, err
	}
	if !store.ValidRole(u.Role) {
		return u, fmt.Errorf("%w: role %q (want admin, analyst or readonly)", store.ErrInvalid, clip(string(u.Role)))
	}
	if err := checkFullName(u.FullName); err != nil {
		return u, err
	}
	if err := CheckPassword(u.Name, password); err != nil {
		return u, err
	}
	if _, err := a.st.User(ctx, u.Name); err == nil {
		return u, fmt.Errorf("%w: user %s exists", store.ErrConflict, u.Name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("auth: reading user %s: %w", u.Name, err)
	}
	h, err := a.hash(ctx, password)
	if err != nil {
		return u, err
	}
	now := a.now()
	u.PasswordHash, u.Created, u.Updated = h, now, now
	if err := a.st.PutUser(ctx, u, actor); err != nil {
		return u, fmt.Errorf("auth: creating user %s: %w", u.Name, err)
	}
	return a.st.User(ctx, u.Name)
}

func checkFullName(s string) error {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > 200 || strings.ContainsAny(s, "\x00\r\n") {
		return fmt.Errorf("%w: full name must be one line of at most 200 characters", store.ErrInvalid)
	}
	return nil
}

// UserUpdate is a change to a user; nil fields stay as they are.
type UserUpdate struct {
	FullName *string
	Role     *store.Role
	Disabled *bool
	Password *string
}

// UpdateUser changes user name, acting as actor. Demoting or disabling
// the last enabled admin is ErrLastAdmin. Disabling a user or setting its
// password ends its sessions.
func (a *Auth) UpdateUser(ctx context.Context, name string, ch UserUpdate, actor string) (store.User, error) {
	u, err := a.st.User(ctx, name)
	if err != nil {
		return u, fmt.Errorf("auth: user %s: %w", clip(name), err)
	}
	wasAdmin := u.Role == store.RoleAdmin && !u.Disabled
	if ch.FullName != nil {
		if err := checkFullName(*ch.FullName); err != nil {
			return u, err
		}
		u.FullName = *ch.FullName
	}
	if ch.Role != nil {
		if !store.ValidRole(*ch.Role) {
			return u, fmt.Errorf("%w: role %q (want admin, analyst or readonly)", store.ErrInvalid, clip(string(*ch.Role)))
		}
		u.Role = *ch.Role
	}
	if ch.Disabled != nil {
		u.Disabled = *ch.Disabled
	}
	if ch.Password != nil {
		if err := CheckPassword(u.Name, *ch.Password); err != nil {
			return u, err
		}
	}
	if wasAdmin && (u.Role != store.RoleAdmin || u.Disabled) {
		if err := a.keepAdmin(ctx, u.Name); err != nil {
			return u, err
		}
	}
	if ch.Password != nil {
		if u.PasswordHash, err = a.hash(ctx, *ch.Password); err != nil {
			return u, err
		}
	}
	u.Updated = a.now()
	if err := a.st.PutUser(ctx, u, actor); err != nil {
		return u, fmt.Errorf("auth: updating user %s: %w", u.Name, err)
	}
	if u.Disabled || ch.Password != nil {
		if err := a.st.DeleteUserSessions(ctx, u.Name); err != nil {
			return u, fmt.Errorf("auth: ending sessions of %s: %w", u.Name, err)
		}
	}
	if ch.Password != nil {
		if err := a.audit(ctx, actor, "user.password", "user:"+u.Name, "password set"); err != nil {
			return u, err
		}
	}
	return a.st.User(ctx, u.Name)
}

// keepAdmin fails with ErrLastAdmin when name is the only enabled admin.
func (a *Auth) keepAdmin(ctx context.Context, name string) error {
	users, err := a.st.Users(ctx)
	if err != nil {
		return fmt.Errorf("auth: listing users: %w", err)
	}
	for _, o := range users {
		if o.Name != name && o.Role == store.RoleAdmin && !o.Disabled {
			return nil
		}
	}
	return ErrLastAdmin
}

// DeleteUser removes user name with its sessions and tokens, acting as
// actor. Removing the last enabled admin is ErrLastAdmin.
func (a *Auth) DeleteUser(ctx context.Context, name, actor string) error {
	u, err := a.st.User(ctx, name)
	if err != nil {
		return fmt.Errorf("auth: user %s: %w", clip(name), err)
	}
	if u.Role == store.RoleAdmin && !u.Disabled {
		if err := a.keepAdmin(ctx, u.Name); err != nil {
			return err
		}
	}
	if err := a.st.DeleteUser(ctx, u.Name, actor); err != nil {
		return fmt.Errorf("auth: deleting user %s: %w", u.Name, err)
	}
	if err := a.st.DeleteUserSessions(ctx, u.Name); err != nil {
		return fmt.Errorf("auth: ending sessions of %s: %w", u.Name, err)
	}
	if err := a.st.DeleteUserTokens(ctx, u.Name); err != nil {
		return fmt.Errorf("auth: removing tokens of %s: %w", u.Name, err)
	}
	return nil
}

// ChangePassword sets the principal's own password after checking the
// current one (rate limited like a login); the principal's other
// sessions end.
func (a *Auth) ChangePassword(ctx context.Context, p *Principal, current, password string) error {
	ukey := "user:" + strings.ToLower(p.User)
	if ok, wait := a.uLimit.Check(ukey); !ok {
		return &RateLimitError{RetryAfter: wait}
	}
	u, err := a.st.User(ctx, p.User)
	if err != nil {
		return fmt.Errorf("auth: user %s: %w", p.User, err)
	}
	if len(current) > MaxPasswordLen {
		return ErrInvalidCredentials
	}
	ok, _, err := a.verify(ctx, u.PasswordHash, current)
	if err != nil && ctx.Err() != nil {
		return err
	}
	if !ok {
		a.uLimit.Allow(ukey)
		a.auditQuiet(ctx, p.User, "user.password.failed", "user:"+p.User, "wrong current password")
		return ErrInvalidCredentials
	}
	if err := CheckPassword(u.Name, password); err != nil {
		return err
	}
	if u.PasswordHash, err = a.hash(ctx, password); err != nil {
		return err
	}
	u.Updated = a.now()
	if err := a.st.PutUser(ctx, u, p.User); err != nil {
		return fmt.Errorf("auth: setting password of %s: %w", u.Name, err)
	}
	if err := a.st.DeleteUserSessions(ctx, u.Name); err != nil {
		return fmt.Errorf("auth: ending sessions of %s: %w", u.Name, err)
	}
	if p.Session != nil {
		s := *p.Session
		s.LastSeen = a.now()
		if err := a.st.PutSession(ctx, s); err != nil {
			return fmt.Errorf("auth: keeping session: %w", err)
		}
	}
	return a.audit(ctx, p.User, "user.password", "user:"+u.Name, "own password changed")
}

// CreateToken makes an API token for user owner, named name, valid for
// ttl (0: until deleted), acting as actor. It returns the token and its
// secret, which is shown once and not kept.
func (a *Auth) CreateToken(ctx context.Context, owner, name string, ttl time.Duration, actor string) (Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "\x00\r\n") {
		return Token{}, "", fmt.Errorf("%w: token name must be one line of 1 to 100 characters", store.ErrInvalid)
	}
	if ttl < 0 {
		return Token{}, "", fmt.Errorf("%w: negative token lifetime", store.ErrInvalid)
	}
	if _, err := a.activeUser(ctx, owner); errors.Is(err, ErrUnauthenticated) {
		return Token{}, "", fmt.Errorf("%w: user %q does not exist or is disabled", store.ErrInvalid, clip(owner))
	} else if err != nil {
		return Token{}, "", err
	}
	have, err := a.st.Tokens(ctx, owner)
	if err != nil {
		return Token{}, "", fmt.Errorf("auth: listing tokens: %w", err)
	}
	if len(have) >= MaxTokensPerUser {
		return Token{}, "", fmt.Errorf("%w: user %s already has %d tokens", store.ErrConflict, owner, len(have))
	}
	secret := newTokenSecret()
	now := a.now()
	t := Token{ID: "tok_" + randomID(9), User: owner, Name: name, Hash: hashSecret(secret), Created: now}
	if ttl > 0 {
		t.Expires = now.Add(ttl)
	}
	if err := a.st.PutToken(ctx, t); err != nil {
		return Token{}, "", fmt.Errorf("auth: saving token: %w", err)
	}
	if err := a.audit(ctx, actor, "token.create", "user:"+owner, fmt.Sprintf("token %s %q", t.ID, name)); err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

// Tokens returns the API tokens of user, or of everyone when user is "".
func (a *Auth) Tokens(ctx context.Context, user string) ([]Token, error) {
	ts, err := a.st.Tokens(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("auth: listing tokens: %w", err)
	}
	return ts, nil
}

// Token returns one API token; ErrNoSession when there is none.
func (a *Auth) Token(ctx context.Context, id string) (Token, error) {
	t, err := a.st.Token(ctx, id)
	return t, noSession(err)
}

// DeleteToken removes API token id, acting as actor.
func (a *Auth) DeleteToken(ctx context.Context, id, actor string) error {
	t, err := a.Token(ctx, id)
	if err != nil {
		return err
	}
	if err := a.st.DeleteToken(ctx, id); err != nil {
		return fmt.Errorf("auth: deleting token %s: %w", id, noSession(err))
	}
	return a.audit(ctx, actor, "token.delete", "user:"+t.User, fmt.Sprintf("token %s %q", t.ID, t.Name))
}

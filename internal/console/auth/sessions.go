package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// ErrNoSession: the session or token asked for does not exist (or has
// expired).
var ErrNoSession = errors.New("auth: no such session or token")

// Session is a logged-in browser. The cookie carries a random 256-bit id;
// the server keeps only its SHA-256 (Key), so a copy of the session table
// does not let anyone take over a session.
type Session struct {
	Key      string    // hex SHA-256 of the cookie value
	User     string    // user name
	CSRF     string    // the session's CSRF token
	IP       string    // client address at login
	Created  time.Time // login time
	LastSeen time.Time // last request
	Expires  time.Time // absolute end, whatever the activity
}

// SessionStore keeps sessions. Implementations are safe for concurrent
// use.
type SessionStore interface {
	// PutSession adds or replaces a session by Key.
	PutSession(ctx context.Context, s Session) error
	// Session returns the session with key; ErrNoSession when none.
	Session(ctx context.Context, key string) (Session, error)
	// TouchSession sets a session's LastSeen.
	TouchSession(ctx context.Context, key string, seen time.Time) error
	// DeleteSession removes a session; removing a missing one is no error.
	DeleteSession(ctx context.Context, key string) error
	// DeleteUserSessions removes every session of user.
	DeleteUserSessions(ctx context.Context, user string) error
	// ExpireSessions removes sessions that expired (Expires) or were idle
	// (LastSeen older than idleBefore) at now.
	ExpireSessions(ctx context.Context, now, idleBefore time.Time) error
}

// Token is an API token: a bearer secret for scripts and sensors, acting
// as its user. Only the SHA-256 of the secret is kept: the secret has 256
// bits of entropy, so a fast hash is enough to make a stolen table
// useless (unlike a password, it cannot be guessed).
type Token struct {
	ID       string    `json:"id"`   // public id, shown in lists
	User     string    `json:"user"` // owner, whose role the token has
	Name     string    `json:"name"` // what it is for ("sensor plant-a")
	Hash     string    `json:"-"`    // hex SHA-256 of the secret
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
	// Expires is when the token stops working; zero for never.
	Expires time.Time `json:"expires,omitzero"`
}

// TokenStore keeps API tokens. Implementations are safe for concurrent
// use.
type TokenStore interface {
	// PutToken adds a token.
	PutToken(ctx context.Context, t Token) error
	// TokenByHash returns the token whose secret hashes to hash;
	// ErrNoSession when none.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// Token returns a token by ID; ErrNoSession when none.
	Token(ctx context.Context, id string) (Token, error)
	// Tokens returns the tokens of user, or of every user when user is "",
	// by creation time.
	Tokens(ctx context.Context, user string) ([]Token, error)
	// TouchToken sets a token's LastUsed.
	TouchToken(ctx context.Context, id string, used time.Time) error
	// DeleteToken removes a token; ErrNoSession when none.
	DeleteToken(ctx context.Context, id string) error
	// DeleteUserTokens removes every token of user.
	DeleteUserTokens(ctx context.Context, user string) error
}

// TokenPrefix begins every API token secret, so that secret scanners and
// people can recognise one.
const TokenPrefix = "otw_"

// randomID returns n random bytes in unpadded URL-safe base64.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret returns the hex SHA-256 of a session id or token secret.
func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// newTokenSecret returns a new token secret: TokenPrefix and 256 random
// bits.
func newTokenSecret() string { return TokenPrefix + randomID(32) }

// validSecret reports whether s has the form of a session id or token
// secret, so that garbage is rejected before it is hashed and looked up.
func validSecret(s string, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

// MemSessions is a SessionStore in memory: sessions end when the process
// does.
type MemSessions struct {
	mu sync.Mutex
	m  map[string]Session
}

// NewMemSessions returns an empty MemSessions.
func NewMemSessions() *MemSessions { return &MemSessions{m: map[string]Session{}} }

// PutSession adds or replaces a session.
func (ms *MemSessions) PutSession(_ context.Context, s Session) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.m[s.Key] = s
	return nil
}

// Session returns a session by key.
func (ms *MemSessions) Session(_ context.Context, key string) (Session, error) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s, ok := ms.m[key]
	if !ok {
		return Session{}, ErrNoSession
	}
	return s, nil
}

// TouchSession sets a session's LastSeen.
func (ms *MemSessions) TouchSession(_ context.Context, key string, seen time.Time) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	s, ok := ms.m[key]
	if !ok {
		return ErrNoSession
	}
	s.LastSeen = seen
	ms.m[key] = s
	return nil
}

// DeleteSession removes a session.
func (ms *MemSessions) DeleteSession(_ context.Context, key string) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	delete(ms.m, key)
	return nil
}

// DeleteUserSessions removes every session of user.
func (ms *MemSessions) DeleteUserSessions(_ context.Context, user string) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for k, s := range ms.m {
		if s.User == user {
			delete(ms.m, k)
		}
	}
	return nil
}

// ExpireSessions removes expired and idle sessions.
func (ms *MemSessions) ExpireSessions(_ context.Context, now, idleBefore time.Time) error {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for k, s := range ms.m {
		if !now.Before(s.Expires) || s.LastSeen.Before(idleBefore) {
			delete(ms.m, k)
		}
	}
	return nil
}

// Len returns the number of sessions kept.
func (ms *MemSessions) Len() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.m)
}

// MemTokens is a TokenStore in memory: tokens end when the process does.
type MemTokens struct {
	mu     sync.Mutex
	byID   map[string]Token
	byHash map[string]string // hash → id
}

// NewMemTokens returns an empty MemTokens.
func NewMemTokens() *MemTokens {
	return &MemTokens{byID: map[string]Token{}, byHash: map[string]string{}}
}

// PutToken adds a token.
func (mt *MemTokens) PutToken(_ context.Context, t Token) error {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	if _, dup := mt.byID[t.ID]; dup {
		return fmt.Errorf("auth: duplicate token id %s", t.ID)
	}
	mt.byID[t.ID] = t
	mt.byHash[t.Hash] = t.ID
	return nil
}

// TokenByHash returns a token by the hash of its secret.
func (mt *MemTokens) TokenByHash(_ context.Context, hash string) (Token, error) {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	id, ok := mt.byHash[hash]
	if !ok {
		return Token{}, ErrNoSession
	}
	return mt.byID[id], nil
}

// Token returns a token by ID.
func (mt *MemTokens) Token(_ context.Context, id string) (Token, error) {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	t, ok := mt.byID[id]
	if !ok {
		return Token{}, ErrNoSession
	}
	return t, nil
}

// Tokens returns the tokens of user ("" for all), by creation time.
func (mt *MemTokens) Tokens(_ context.Context, user string) ([]Token, error) {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	out := []Token{}
	for _, t := range mt.byID {
		if user == "" || t.User == user {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// TouchToken sets a token's LastUsed.
func (mt *MemTokens) TouchToken(_ context.Context, id string, used time.Time) error {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	t, ok := mt.byID[id]
	if !ok {
		return ErrNoSession
	}
	t.LastUsed = used
	mt.byID[id] = t
	return nil
}

// DeleteToken removes a token.
func (mt *MemTokens) DeleteToken(_ context.Context, id string) error {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	t, ok := mt.byID[id]
	if !ok {
		return ErrNoSession
	}
	delete(mt.byID, id)
	delete(mt.byHash, t.Hash)
	return nil
}

// DeleteUserTokens removes every token of user.
func (mt *MemTokens) DeleteUserTokens(_ context.Context, user string) error {
	mt.mu.Lock()
	defer mt.mu.Unlock()
	for id, t := range mt.byID {
		if t.User == user {
			delete(mt.byID, id)
			delete(mt.byHash, t.Hash)
		}
	}
	return nil
}

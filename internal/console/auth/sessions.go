package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/otwatch/otwatch/internal/store"
)

// ErrNoSession: the session or token asked for does not exist (or has
// expired).
var ErrNoSession = errors.New("auth: no such session or token")

// Session is a logged-in browser, kept in the store: the cookie carries a
// random 256-bit id and the store only its SHA-256 (Key).
type Session = store.Session

// Token is an API token, kept in the store: a bearer secret for scripts
// and sensors, acting as its user. Only the SHA-256 of the secret (Hash)
// is kept: the secret has 256 bits of entropy, so a fast hash is enough
// to make a stolen table useless (unlike a password, it cannot be
// guessed).
type Token = store.Token

// TokenPrefix begins every API token secret, so that secret scanners and
// people can recognise one.
const TokenPrefix = "otw_"

// noSession turns the store's ErrNotFound into ErrNoSession (which the
// error then matches too).
func noSession(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNoSession, err)
	}
	return err
}

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

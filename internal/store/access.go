package store

import (
	"fmt"
	"strings"
	"time"
)

// Session is a logged-in console browser. The cookie carries a random
// secret; the store keeps only its SHA-256 (Key), so a copy of the table
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

// Token is an API token of a console user, for scripts and sensors. Only
// the SHA-256 of its secret (Hash) is kept.
type Token struct {
	ID       string    // public id, shown in lists
	User     string    // owner, whose role the token has
	Name     string    // what it is for ("sensor plant-a")
	Hash     string    // hex SHA-256 of the secret
	Created  time.Time // creation time
	LastUsed time.Time // last use; zero when never used
	Expires  time.Time // when it stops working; zero for never
}

// maxAccessField bounds the length of a session's or token's keys and
// names, in bytes.
const maxAccessField = 256

// CheckSession reports whether s is fit to be stored: ErrInvalid without
// Key or User, or with a field longer than 256 bytes.
func CheckSession(s *Session) error {
	if strings.TrimSpace(s.Key) == "" || strings.TrimSpace(s.User) == "" {
		return fmt.Errorf("%w: session without key or user", ErrInvalid)
	}
	for _, f := range []string{s.Key, s.User, s.CSRF, s.IP} {
		if len(f) > maxAccessField {
			return fmt.Errorf("%w: session field longer than %d bytes", ErrInvalid, maxAccessField)
		}
	}
	return nil
}

// CheckToken reports whether t is fit to be stored: ErrInvalid without
// ID, User or Hash, or with a field longer than 256 bytes.
func CheckToken(t *Token) error {
	if strings.TrimSpace(t.ID) == "" || strings.TrimSpace(t.User) == "" || strings.TrimSpace(t.Hash) == "" {
		return fmt.Errorf("%w: token without id, user or hash", ErrInvalid)
	}
	for _, f := range []string{t.ID, t.User, t.Name, t.Hash} {
		if len(f) > maxAccessField {
			return fmt.Errorf("%w: token field longer than %d bytes", ErrInvalid, maxAccessField)
		}
	}
	return nil
}

package store

import "time"

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

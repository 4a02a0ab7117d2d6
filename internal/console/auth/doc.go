// Package auth authenticates console users and authorizes what they do.
//
// Users and their roles (admin, analyst, readonly) live in the store's
// users table; passwords are kept as argon2id hashes (see Params). A user
// logs in with name and password and gets a session: a random 256-bit id
// in an HttpOnly, SameSite=Lax cookie (Secure when the console serves
// TLS), expiring on the server after an idle period and at an absolute
// limit. Each session has a CSRF token that every state-changing request
// made with the cookie must carry, in the X-CSRF-Token header or the
// csrf_token form field. Scripts and sensors use API tokens instead: a
// random secret sent as "Authorization: Bearer otw_...", kept only as its
// SHA-256 hash, acting with the role of the user who owns it; token
// requests need no CSRF token, since a browser never sends one on its own.
//
// Logins are rate limited per client address and per user name; logins,
// logouts, password changes and token changes are written to the store's
// audit log.
//
// Sessions and tokens are kept in the store, so that a console restart
// keeps people logged in and tokens working.
package auth

// Package console is otwatch's console server: it composes the REST API
// (internal/console/api) and the web pages behind one http.Handler with
// authentication (internal/console/auth) and security headers, and serves
// it over TLS, with a self-signed certificate it generates and keeps when
// none is given, until its context ends, then shuts down gracefully.
package console

package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Names used on the wire.
const (
	// CSRFHeader carries the CSRF token on script requests.
	CSRFHeader = "X-CSRF-Token"
	// CSRFField carries the CSRF token in HTML forms.
	CSRFField = "csrf_token"
	// cookieName is the session cookie without TLS; with TLS it gets the
	// __Host- prefix, which browsers accept only from a secure origin, for
	// path / and without a Domain.
	cookieName = "otwatch_session"
)

// CookieName returns the name of the session cookie.
func (a *Auth) CookieName() string {
	if a.opts.Secure {
		return "__Host-" + cookieName
	}
	return cookieName
}

// SetSessionCookie sets the cookie of a session started by Login: HttpOnly,
// SameSite=Lax, Secure when the console serves TLS, path /. It has no
// Expires, so the browser drops it when it closes; the server ends the
// session at s.Expires or after the idle timeout anyway.
func (a *Auth) SetSessionCookie(w http.ResponseWriter, secret string) {
	http.SetCookie(w, &http.Cookie{Name: a.CookieName(), Value: secret, Path: "/",
		HttpOnly: true, Secure: a.opts.Secure, SameSite: http.SameSiteLaxMode})
}

// ClearSessionCookie removes the session cookie.
func (a *Auth) ClearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: a.CookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.opts.Secure, SameSite: http.SameSiteLaxMode})
}

// ClientIP returns the client's address: the connection's peer, or with
// Options.TrustProxy the last X-Forwarded-For hop.
func (a *Auth) ClientIP(r *http.Request) string {
	if a.opts.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			hops := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Authenticate returns who makes r: the owner of the bearer token in the
// Authorization header if there is one (a malformed header is not
// answered with the cookie), else of the session cookie.
// ErrUnauthenticated when neither is valid.
func (a *Auth) Authenticate(r *http.Request) (*Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, ErrUnauthenticated
		}
		return a.TokenPrincipal(r.Context(), strings.TrimSpace(secret))
	}
	c, err := r.Cookie(a.CookieName())
	if err != nil {
		return nil, ErrUnauthenticated
	}
	return a.SessionPrincipal(r.Context(), c.Value)
}

// safeMethod reports whether a method changes nothing (RFC 9110 9.2.1).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions || m == http.MethodTrace
}

// CheckCSRF checks that a state-changing request made with a session
// cookie carries the session's CSRF token, in the CSRFHeader header or
// the CSRFField form field; it compares in constant time. Requests with
// a safe method or an API token pass.
func CheckCSRF(r *http.Request, p *Principal) error {
	if safeMethod(r.Method) || p.Method != MethodSession || p.Session == nil {
		return nil
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
			got = r.PostFormValue(CSRFField)
		}
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.Session.CSRF)) != 1 {
		return ErrCSRF
	}
	return nil
}

// CheckOrigin rejects a request that a browser marks as sent from another
// site (Sec-Fetch-Site: cross-site, or an Origin header naming another
// host), for the requests that have no session yet to hold a CSRF token:
// logins.
func CheckOrigin(r *http.Request) error {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return ErrCSRF
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return ErrCSRF
		}
	}
	return nil
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal the middleware put in ctx, nil when
// none.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// CSRFToken returns the CSRF token of the session making r, for pages to
// put in their forms and scripts; "" when r is not made with a session.
func CSRFToken(r *http.Request) string {
	if p := FromContext(r.Context()); p != nil && p.Session != nil {
		return p.Session.CSRF
	}
	return ""
}

// writeJSONError writes {"error": msg} with code.
func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// RequireAPI authenticates API requests: without a valid session or
// token it answers 401 with a JSON error; a session request that changes
// state without the CSRF token gets 403. Otherwise it calls next with
// the principal in the context (FromContext).
func (a *Auth) RequireAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				a.log.Error("console authentication", "err", err)
				writeJSONError(w, http.StatusServiceUnavailable, "authentication is unavailable")
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="otwatch"`)
			writeJSONError(w, http.StatusUnauthorized, "authentication required: log in or send an API token")
			return
		}
		if err := CheckCSRF(r, p); err != nil {
			writeJSONError(w, http.StatusForbidden, "missing or wrong CSRF token (send the session's token in the "+CSRFHeader+" header)")
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// RequirePage authenticates page requests: without a valid session a GET
// or HEAD is redirected (303) to the login page with the page to return
// to in ?next=, and any other method gets 401. A form post without the
// session's CSRF token gets 403. Otherwise it calls next with the
// principal in the context. API tokens are accepted too.
func (a *Auth) RequirePage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				a.log.Error("console authentication", "err", err)
				http.Error(w, "authentication is unavailable", http.StatusServiceUnavailable)
				return
			}
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, a.opts.LoginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in", http.StatusUnauthorized)
			return
		}
		if err := CheckCSRF(r, p); err != nil {
			http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// SafeNext returns next if it is a path on this site ("/alerts?x=1"),
// else "/": a login page redirects there, and must not be turned into an
// open redirect.
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\x00") {
		return "/"
	}
	return next
}

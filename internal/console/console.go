package console

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/otwatch/otwatch/internal/console/api"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/store"
)

// PagesFunc makes the handler of the web pages. It gets the store and the
// Auth; pages that need a login wrap themselves in Auth.RequirePage, and
// put auth.CSRFToken(r) into their forms.
type PagesFunc func(st store.Store, a *auth.Auth) http.Handler

// Options configure the console handler. The zero value gives the
// defaults.
type Options struct {
	// Auth authenticates requests; when nil, one is made over the store
	// with sessions and tokens kept in memory.
	Auth *auth.Auth
	// TLS says the console is served over TLS: session cookies are Secure
	// (when Auth is made here) and responses carry
	// Strict-Transport-Security.
	TLS bool
	// Pages makes the web pages, served for every path outside the API;
	// without it "/" answers with a pointer to the API.
	Pages PagesFunc
	// Logger receives server errors; slog.Default when nil.
	Logger *slog.Logger
	// Version is the otwatch version the API document states.
	Version string
	// Advisories are the vendor advisories the API matches devices
	// against (their vulnerabilities, recommendations and risk); nil for
	// none. The pages get theirs from Pages.
	Advisories *csaf.Catalog
}

// New returns the console handler over st: the API under /api/v1 and the
// pages everywhere else, every response with security headers.
func New(st store.Store, opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	a := opts.Auth
	if a == nil {
		a = auth.New(st, auth.Options{Secure: opts.TLS, Logger: opts.Logger})
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", api.New(st, a, api.Options{Logger: opts.Logger, Version: opts.Version, Advisories: opts.Advisories}))
	if opts.Pages != nil {
		mux.Handle("/", opts.Pages(st, a))
	} else {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("otwatch console: the REST API is at " + api.Prefix + "/ (described by " + api.Prefix + "/openapi.json)\n"))
		})
	}
	return secure(mux, opts.TLS, opts.Logger)
}

// secure sets the security headers of every response and turns a panic
// outside the API into a 500.
func secure(next http.Handler, tls bool, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.Error("console panic", "method", r.Method, "path", r.URL.Path, "panic", v)
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if strings.HasPrefix(r.URL.Path, api.Prefix+"/") {
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		}
		if tls {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

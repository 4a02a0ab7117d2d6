package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/console/vulns"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/devmap"
	"github.com/otwatch/otwatch/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options tune the pages. The zero value gives the defaults.
type Options struct {
	// Logger receives server-side errors; slog.Default when nil.
	Logger *slog.Logger
	// Advisories are the vendor advisories matched against devices for
	// their Vulnerabilities tab, advisory recommendations, risk and the
	// fleet's Vulnerabilities page; nil leaves those empty.
	Advisories *csaf.Catalog
	// Location is the time zone pages show times in and read times typed
	// into filters in; UTC when nil.
	Location *time.Location
	// Now returns the current time (relative time ranges, report dates);
	// time.Now when nil.
	Now func() time.Time
	// APIPrefix is where the REST API is mounted, for the download links
	// it serves; "/api/v1" when empty.
	APIPrefix string
}

// Handler returns the pages over st with default options. It has the
// signature of console.PagesFunc.
func Handler(st store.Store, a *auth.Auth) http.Handler { return New(st, a, Options{}) }

// Pages returns a console.PagesFunc that makes the pages with opts.
func Pages(opts Options) func(store.Store, *auth.Auth) http.Handler {
	return func(st store.Store, a *auth.Auth) http.Handler { return New(st, a, opts) }
}

// server serves the pages.
type server struct {
	st      store.Store
	auth    *auth.Auth
	fleet   *vulns.Fleet
	opts    Options
	log     *slog.Logger
	loc     *time.Location
	pages   map[string]*template.Template
	static  map[string]staticFile
	version string // hash of the static files, for cache busting
	mux     *http.ServeMux
}

// staticFile is an embedded file served under /static/.
type staticFile struct {
	body  []byte
	ctype string
}

// New returns the pages over st, authenticating with a.
func New(st store.Store, a *auth.Auth, opts Options) http.Handler {
	s := &server{st: st, auth: a, opts: opts, log: opts.Logger, loc: opts.Location, mux: http.NewServeMux(),
		fleet: vulns.New(st, vulns.Options{Advisories: opts.Advisories})}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.opts.APIPrefix == "" {
		s.opts.APIPrefix = "/api/v1"
	}
	s.loadStatic()
	s.pages = parseTemplates(s.funcs())
	s.routes()
	return s
}

// ServeHTTP sets the headers every page carries and routes the request.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

func (s *server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// routes registers every page and form handler.
func (s *server) routes() {
	s.mux.HandleFunc("GET /static/{file}", s.serveStatic)
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.page("POST /logout", store.RoleReadOnly, s.logout)
	s.page("GET /{$}", store.RoleReadOnly, func(w http.ResponseWriter, r *http.Request, _ *auth.Principal) error {
		http.Redirect(w, r, "/alerts", http.StatusSeeOther)
		return nil
	})

	s.page("GET /alerts", store.RoleReadOnly, s.alertsPage)
	s.page("POST /alerts/bulk", store.RoleAnalyst, s.bulkAction)
	s.page("GET /alerts/{id}", store.RoleReadOnly, s.alertPage)
	s.page("GET /alerts/{id}/pane", store.RoleReadOnly, s.alertPane)
	s.page("GET /alerts/{id}/report.pdf", store.RoleReadOnly, s.alertPDF)
	s.page("POST /alerts/{id}/status", store.RoleAnalyst, s.alertStatus)
	s.page("POST /alerts/{id}/learn", store.RoleAnalyst, s.alertLearn)
	s.page("POST /alerts/{id}/mute", store.RoleAnalyst, s.alertMute)
	s.page("POST /alerts/{id}/unmute", store.RoleAnalyst, s.alertUnmute)
	s.page("POST /alerts/{id}/comments", store.RoleAnalyst, s.alertComment)

	s.page("GET /devices", store.RoleReadOnly, s.devicesPage)
	s.page("GET /devices/{sensor}/{id}", store.RoleReadOnly, s.devicePage)
	s.page("POST /devices/{sensor}/{id}/override", store.RoleAnalyst, s.deviceOverride)
	s.page("POST /devices/{sensor}/{id}/override/delete", store.RoleAnalyst, s.deviceOverrideDelete)
	s.page("POST /devices/{sensor}/{id}/recommendations/{rec}/status", store.RoleAnalyst, s.recommendationStatus)

	s.page("GET /vulnerabilities", store.RoleReadOnly, s.vulnerabilitiesPage)

	s.page("GET /map", store.RoleReadOnly, s.mapPage)
	s.page("GET /events", store.RoleReadOnly, s.eventsPage)

	s.page("GET /sites", store.RoleReadOnly, s.sitesPage)
	s.page("POST /sites", store.RoleAdmin, s.sitePut)
	s.page("POST /sites/{id}/delete", store.RoleAdmin, siteConfigDelete(s.st.DeleteSite))
	s.page("POST /zones", store.RoleAdmin, s.zonePut)
	s.page("POST /zones/{id}/delete", store.RoleAdmin, siteConfigDelete(s.st.DeleteZone))
	s.page("POST /sensors", store.RoleAdmin, s.sensorPut)
	s.page("POST /sensors/{id}/mode", store.RoleAdmin, s.sensorMode)
	s.page("POST /sensors/{id}/delete", store.RoleAdmin, siteConfigDelete(s.st.DeleteSensor))

	s.page("GET /audit", store.RoleAnalyst, s.auditPage)

	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	})
}

// handlerFunc is a page or form handler: it gets the principal and
// returns an error for the wrapper to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error

// page registers h behind the login check, requiring role need.
func (s *server) page(pattern string, need store.Role, h handlerFunc) {
	s.mux.Handle(pattern, s.auth.RequirePage(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		p := auth.FromContext(r.Context())
		if p == nil || !p.Allowed(need) {
			role := store.Role("none")
			if p != nil {
				role = p.Role
			}
			s.errorPage(w, r, http.StatusForbidden, fmt.Sprintf("Your role (%s) may not do this; it needs the %s role.", role, need))
			return
		}
		if err := h(w, r, p); err != nil {
			s.fail(w, r, err)
		}
	})))
}

// badInput is an error shown to the user as a 400 with its message.
type badInput struct{ msg string }

func (e *badInput) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &badInput{msg: fmt.Sprintf(format, args...)}
}

// status returns the HTTP status and message of a handler error.
func status(err error) (int, string) {
	var bi *badInput
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &bi):
		return http.StatusBadRequest, bi.msg
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "The form is too large."
	case errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, cleanErr(err)
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, cleanErr(err)
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, cleanErr(err)
	case errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "The console is shutting down or the request was cancelled."
	}
	return http.StatusInternalServerError, "Something went wrong on the server; it has been logged."
}

// cleanErr drops package prefixes from an error message.
func cleanErr(err error) string {
	msg := err.Error()
	for _, p := range []string{"store: ", "auth: ", "web: ", "inventory: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return msg
}

// fail answers a handler error with an error page.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := status(err)
	if code >= 500 {
		s.log.Error("console page", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.errorPage(w, r, code, msg)
}

// errorData is the data of the error page.
type errorData struct {
	*base
	Code    int
	Status  string
	Message string
}

func (s *server) errorPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	b := s.newBase(r, http.StatusText(code), "")
	s.render(w, code, "error", &errorData{base: b, Code: code, Status: http.StatusText(code), Message: msg})
}

// base is what every page's layout needs.
type base struct {
	Title   string
	Nav     string // the active navigation entry
	User    *auth.Principal
	CSRF    string
	CanEdit bool // analyst or admin: alert and device actions
	IsAdmin bool // admin: sites, zones, sensors
	Flash   string
	Crumbs  []crumb
	Version string
	API     string
	// Self is the page's own path and query, for links that come back.
	Self string
}

// crumb is one step of the breadcrumbs.
type crumb struct {
	Label string
	Href  string
}

func (s *server) newBase(r *http.Request, title, nav string) *base {
	b := &base{Title: title, Nav: nav, Version: s.version, API: s.opts.APIPrefix, Self: r.URL.RequestURI()}
	if p := auth.FromContext(r.Context()); p != nil {
		b.User = p
		b.CSRF = auth.CSRFToken(r)
		b.CanEdit = p.Allowed(store.RoleAnalyst)
		b.IsAdmin = p.Allowed(store.RoleAdmin)
	}
	b.Flash = flashText[r.URL.Query().Get("done")]
	return b
}

// flashText are the messages a redirect after a change may show, by the
// code in its ?done= parameter (codes, not text, so that a link cannot
// make the console say anything).
var flashText = map[string]string{
	"learned":   "Learned: the entry was added to the sensor's baseline and the alert closed.",
	"muted":     "Muted: this exact pattern no longer raises alerts.",
	"unmuted":   "Unmuted.",
	"status":    "Status changed.",
	"commented": "Comment added.",
	"bulk":      "The selected alerts were updated.",
	"override":  "Overrides saved; the sensor applies them from its next inventory update.",
	"saved":     "Saved.",
	"deleted":   "Deleted.",
	"mode":      "Sensor mode switched.",
	"recstatus": "Recommendation status changed.",
}

// render executes page's template into a buffer, then writes it.
func (s *server) render(w http.ResponseWriter, code int, page string, data any) {
	t := s.pages[page]
	var buf bytes.Buffer
	if t == nil {
		s.log.Error("console page: no template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("console page: rendering", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// renderFragment executes a named template without the layout.
func (s *server) renderFragment(w http.ResponseWriter, page, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("console page: rendering", "page", page, "fragment", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

// pageNames are the page templates; each is parsed with layout.html and
// parts.html.
var pageNames = []string{"error", "login", "alerts", "alert", "devices", "device", "map", "events", "sites", "audit", "vulnerabilities"}

func parseTemplates(funcs template.FuncMap) map[string]*template.Template {
	common := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html"))
	out := make(map[string]*template.Template, len(pageNames))
	for _, n := range pageNames {
		t := template.Must(common.Clone())
		out[n] = template.Must(t.ParseFS(templateFS, "templates/"+n+".html"))
	}
	return out
}

// loadStatic reads the embedded static files and the map stylesheet.
func (s *server) loadStatic() {
	s.static = map[string]staticFile{}
	h := sha256.New()
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		s.static[path.Base(p)] = staticFile{body: b, ctype: ctypeOf(p)}
		h.Write(b)
		return nil
	})
	s.static["devmap.css"] = staticFile{body: []byte(devmap.Stylesheet), ctype: "text/css; charset=utf-8"}
	h.Write([]byte(devmap.Stylesheet))
	s.version = hex.EncodeToString(h.Sum(nil))[:12]
}

func ctypeOf(p string) string {
	switch path.Ext(p) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

func (s *server) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.static[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	if r.URL.Query().Get("v") == s.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(f.body)
}

// redirect answers a form post with 303 to to, adding ?done=code.
func redirect(w http.ResponseWriter, r *http.Request, to, code string) {
	to = auth.SafeNext(to)
	if code != "" {
		to = setParam(to, "done", code)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// setParam returns the path-and-query u with parameter k set to v (or
// removed when v is "").
func setParam(u, k, v string) string {
	p, q, _ := strings.Cut(u, "?")
	vals := parseQuery(q)
	if v == "" {
		vals.Del(k)
	} else {
		vals.Set(k, v)
	}
	if e := vals.Encode(); e != "" {
		return p + "?" + e
	}
	return p
}

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/console/api/openapi"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/console/vulns"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/store"
)

// Prefix is the path every API route is under.
const Prefix = "/api/v1"

// MaxBody is the largest request body accepted, in bytes.
const MaxBody = 1 << 20

// Options tune the API. The zero value gives the defaults.
type Options struct {
	// Logger receives server-side errors; slog.Default when nil.
	Logger *slog.Logger
	// MaxExportRows caps the rows of a CSV export (default 100,000).
	MaxExportRows int
	// Version is the otwatch version the OpenAPI document states.
	Version string
	// Advisories are the vendor advisories devices are matched against
	// for their vulnerabilities, recommendations and risk; nil for none.
	Advisories *csaf.Catalog
}

// API serves the REST API. It is an http.Handler for the paths under
// Prefix.
type API struct {
	st     store.Store
	auth   *auth.Auth
	fleet  *vulns.Fleet
	opts   Options
	log    *slog.Logger
	routes []*route
	doc    *openapi.Document
	docRaw []byte
	mux    *http.ServeMux
}

// New returns the API over st, authenticating with a.
func New(st store.Store, a *auth.Auth, opts Options) *API {
	if opts.MaxExportRows <= 0 {
		opts.MaxExportRows = 100000
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	api := &API{st: st, auth: a, opts: opts, log: opts.Logger, mux: http.NewServeMux(),
		fleet: vulns.New(st, vulns.Options{Advisories: opts.Advisories})}
	if api.log == nil {
		api.log = slog.Default()
	}
	api.routes = api.table()
	api.doc = api.document()
	raw, err := json.Marshal(api.doc)
	if err != nil {
		panic(fmt.Sprintf("api: encoding the OpenAPI document: %v", err)) // a bug in the table
	}
	api.docRaw = raw
	for _, rt := range api.routes {
		api.mux.Handle(rt.method+" "+Prefix+rt.path, api.handler(rt))
	}
	api.mux.Handle(Prefix+"/", a.RequireAPI(http.HandlerFunc(api.notFound)))
	return api
}

// Document returns the OpenAPI document of the API.
func (a *API) Document() *openapi.Document { return a.doc }

// ServeHTTP routes an API request. A panic in a handler becomes a 500.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			a.log.Error("console API panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			writeError(w, http.StatusInternalServerError, "internal error")
		}
	}()
	a.mux.ServeHTTP(w, r)
}

// notFound answers paths no route matches: 405 when another method
// would, else 404.
func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, rt := range a.routes {
		if matchPath(rt.path, strings.TrimPrefix(r.URL.Path, Prefix)) {
			allow = append(allow, rt.method)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	writeError(w, http.StatusNotFound, "no such API endpoint: "+r.URL.Path)
}

// matchPath reports whether path matches a route pattern with {name}
// wildcards, one segment each.
func matchPath(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if !(strings.HasPrefix(ps[i], "{") && xs[i] != "") && ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// call is one request being handled.
type call struct {
	api *API
	rt  *route
	w   http.ResponseWriter
	r   *http.Request
	ctx context.Context
	p   *auth.Principal // nil on public routes
}

// actor returns the name the audit log records for the caller.
func (c *call) actor() string {
	if c.p == nil {
		return ""
	}
	return c.p.User
}

// handler wraps a route: authentication (unless public), role, then
// parameters, then the handler.
func (a *API) handler(rt *route) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		c := &call{api: a, rt: rt, w: w, r: r, ctx: r.Context(), p: auth.FromContext(r.Context())}
		if !rt.public && !c.p.Allowed(rt.role) {
			writeError(w, http.StatusForbidden, fmt.Sprintf("the %s role may not %s (needs %s)", c.p.Role, strings.ToLower(rt.summary), rt.role))
			return
		}
		if err := a.checkParams(rt, r); err != nil {
			a.respond(c, nil, err)
			return
		}
		v, err := rt.h(c)
		a.respond(c, v, err)
	})
	if rt.public {
		return h
	}
	return a.auth.RequireAPI(h)
}

// Response values a handler may return besides a JSON value.
type (
	// noContent is answered with 204 and no body.
	noContent struct{}
	// download is a non-JSON body sent as a file.
	download struct {
		contentType, filename string
		body                  []byte
	}
	// stream is a non-JSON body written as it is produced; errors after
	// the first byte can only be logged.
	stream struct {
		contentType, filename string
		write                 func(w io.Writer) error
	}
)

func (a *API) respond(c *call, v any, err error) {
	w := c.w
	if err != nil {
		code, msg := a.status(err)
		if code == http.StatusInternalServerError || code == http.StatusServiceUnavailable {
			a.log.Error("console API", "method", c.r.Method, "path", c.r.URL.Path, "user", c.actor(), "err", err)
		}
		var rl *auth.RateLimitError
		if errors.As(err, &rl) {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(rl.RetryAfter.Seconds()))))
		}
		writeError(w, code, msg)
		return
	}
	switch v := v.(type) {
	case noContent:
		w.WriteHeader(http.StatusNoContent)
	case *download:
		setDownload(w, v.contentType, v.filename)
		w.Header().Set("Content-Length", strconv.Itoa(len(v.body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(v.body)
	case *stream:
		setDownload(w, v.contentType, v.filename)
		w.WriteHeader(http.StatusOK)
		if err := v.write(w); err != nil {
			a.log.Error("console API: streaming response", "path", c.r.URL.Path, "err", err)
		}
	default:
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(v); err != nil {
			a.log.Error("console API: encoding response", "path", c.r.URL.Path, "err", err)
			writeError(w, http.StatusInternalServerError, "internal error")
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		code := c.rt.status
		if code == 0 {
			code = http.StatusOK
		}
		w.WriteHeader(code)
		_, _ = w.Write(buf.Bytes())
	}
}

func setDownload(w http.ResponseWriter, ctype, filename string) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if filename != "" {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	}
}

// apiError is an error with its HTTP status.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

// errorf returns an error answered with code.
func errorf(code int, format string, args ...any) error {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// badRequest returns a 400 error.
func badRequest(format string, args ...any) error {
	return errorf(http.StatusBadRequest, format, args...)
}

// status maps an error to its HTTP status and the message the client
// sees.
func (a *API) status(err error) (int, string) {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae.code, ae.msg
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mbe.Limit)
	case errors.Is(err, auth.ErrRateLimited):
		return http.StatusTooManyRequests, clean(err)
	case errors.Is(err, auth.ErrInvalidCredentials):
		return http.StatusUnauthorized, clean(err)
	case errors.Is(err, auth.ErrCSRF), errors.Is(err, auth.ErrForbidden):
		return http.StatusForbidden, clean(err)
	case errors.Is(err, store.ErrInvalid), errors.Is(err, auth.ErrWeakPassword):
		return http.StatusBadRequest, clean(err)
	case errors.Is(err, store.ErrNotFound), errors.Is(err, auth.ErrNoSession):
		return http.StatusNotFound, clean(err)
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, clean(err)
	case errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "the console is shutting down or the request was cancelled"
	}
	return http.StatusInternalServerError, "internal error"
}

// clean drops the package prefixes of our error messages.
func clean(err error) string {
	msg := err.Error()
	for _, p := range []string{"store: ", "auth: "} {
		msg = strings.ReplaceAll(msg, p, "")
	}
	return msg
}

// writeError writes {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Del("Content-Disposition")
	w.WriteHeader(code)
	b, _ := json.Marshal(errorBody{Error: msg})
	_, _ = w.Write(append(b, '\n'))
}

// errorBody is the body of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// decode reads the JSON request body into dst after checking it against
// the route's body schema.
func (c *call) decode(dst any) error {
	if c.rt.body == nil {
		return nil
	}
	if ct := c.r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return errorf(http.StatusUnsupportedMediaType, "request body must be application/json, not %q", ct)
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return badRequest("reading request body: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return badRequest("request body required: a JSON object")
	}
	if err := c.api.doc.ValidateJSON(c.rt.body, data); err != nil {
		var ve *openapi.ValidationError
		if errors.As(err, &ve) {
			return badRequest("invalid request body: %s", strings.ReplaceAll(ve.Error(), "$", "body"))
		}
		return badRequest("invalid request body: %s", strings.TrimPrefix(err.Error(), "openapi: "))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badRequest("invalid request body: %v", err)
	}
	return nil
}

// parseTime parses an RFC 3339 time parameter ("" is the zero time).
func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, badRequest("%s: %q is not an RFC 3339 time (2006-01-02T15:04:05Z)", name, s)
	}
	return t.UTC(), nil
}

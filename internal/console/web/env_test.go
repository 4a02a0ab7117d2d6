package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/console"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/testenv"
)

// env is the whole console (API and pages) over the fixture, served by
// an httptest server.
type env struct {
	t   testing.TB
	f   *fixture
	au  *auth.Auth
	srv *httptest.Server
}

// fastParams hash passwords quickly for tests.
var fastParams = auth.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	return newEnvWith(tb, Options{}, nil)
}

// newEnvWith is newEnv with the pages' options and the API's advisories.
func newEnvWith(tb testing.TB, opts Options, apiAdvisories *csaf.Catalog) *env {
	tb.Helper()
	f := newFixture(tb)
	au := auth.New(f.st, auth.Options{Params: fastParams,
		IPLimit: auth.NewLimiter(10000, time.Millisecond), UserLimit: auth.NewLimiter(10000, time.Millisecond)})
	ctx := context.Background()
	for name, u := range fixtureUsers {
		if _, err := au.CreateUser(ctx, store.User{Name: name, Role: u.role}, u.pw, "test"); err != nil {
			tb.Fatal(err)
		}
	}
	h := console.New(f.st, console.Options{Auth: au, Pages: Pages(opts), Advisories: apiAdvisories})
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &env{t: tb, f: f, au: au, srv: srv}
}

// user is a browser-like client: a cookie jar, no automatic redirects.
type user struct {
	e    *env
	c    *http.Client
	csrf string
}

// anon returns a client that is not logged in.
func (e *env) anon() *user {
	jar, _ := cookiejar.New(nil)
	return &user{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// as logs in through the login form.
func (e *env) as(name string) *user {
	e.t.Helper()
	u := e.anon()
	res := u.post("/login", url.Values{"name": {name}, "password": {fixtureUsers[name].pw}, "next": {"/alerts"}})
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/alerts" {
		e.t.Fatalf("login as %s: %d %s", name, res.code, res.body)
	}
	page := u.get("/alerts")
	m := regexp.MustCompile(`name="csrf-token" content="([^"]+)"`).FindStringSubmatch(page.body)
	if m == nil {
		e.t.Fatalf("no CSRF token on the alerts page of %s", name)
	}
	u.csrf = m[1]
	return u
}

// response is what a request got.
type response struct {
	code   int
	header http.Header
	body   string
}

func (u *user) do(method, path string, form url.Values) response {
	u.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u.e.srv.URL+path, body)
	if err != nil {
		u.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := u.c.Do(req)
	if err != nil {
		u.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		u.e.t.Fatal(err)
	}
	return response{code: res.StatusCode, header: res.Header, body: string(b)}
}

func (u *user) get(path string) response { u.e.t.Helper(); return u.do("GET", path, nil) }

// post sends a form as is.
func (u *user) post(path string, form url.Values) response {
	u.e.t.Helper()
	return u.do("POST", path, form)
}

// submit sends a form with the session's CSRF token.
func (u *user) submit(path string, form url.Values) response {
	u.e.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set(auth.CSRFField, u.csrf)
	return u.do("POST", path, f)
}

// ok fails the test unless the response is 200.
func (r response) ok(t testing.TB, what string) response {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("%s: %d\n%s", what, r.code, clipBody(r.body))
	}
	return r
}

func clipBody(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// deviceWithIP returns the plant's device with an IP.
func deviceWithIP(t testing.TB, p *plant, ip string) *inventory.Device {
	t.Helper()
	for i := range p.snap.Devices {
		if slices.Contains(p.snap.Devices[i].IPs, ip) {
			return &p.snap.Devices[i]
		}
	}
	t.Fatalf("the simulated plant has no device %s", ip)
	return nil
}

// devicePage returns the path of the page of the fixture sensor's device
// d.
func devicePage(d *inventory.Device) string {
	return "/devices/" + fixtureSensor + "/" + strconv.Itoa(int(d.ID))
}

// pdfText returns the words pdftotext reads in a PDF, one space apart;
// without pdftotext it skips the test (or fails it in strict mode).
func pdfText(t testing.TB, pdf string) string {
	t.Helper()
	pdftotext := testenv.Program(t, "pdftotext", "poppler-utils")
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, []byte(pdf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", stderrOf(err))
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/store"
)

// selfService are the state-changing routes a read-only user may call:
// they change only the caller's own session or password.
var selfService = map[string]bool{"logout": true, "changePassword": true}

// samplePath fills a route's wildcards with objects the fixture has.
func (e *env) samplePath(rt *route) string {
	e.t.Helper()
	ctx := context.Background()
	p := rt.path
	switch {
	case strings.HasPrefix(p, "/alerts/{id}"):
		p = strings.Replace(p, "{id}", e.ids["plc-stop"], 1)
	case strings.HasPrefix(p, "/devices/{sensor}/{id}"):
		p = strings.Replace(strings.Replace(p, "{sensor}", "s1", 1), "{id}", "2", 1)
	case strings.HasPrefix(p, "/sites/"):
		p = strings.Replace(p, "{id}", "plant", 1)
	case strings.HasPrefix(p, "/zones/"):
		p = strings.Replace(p, "{id}", "cell1", 1)
	case strings.HasPrefix(p, "/sensors/"):
		p = strings.Replace(p, "{id}", "s1", 1)
	case strings.HasPrefix(p, "/users/"):
		p = strings.Replace(p, "{name}", "ana", 1)
	case strings.HasPrefix(p, "/exclusions/"):
		rs, _ := e.st.Exclusions(ctx)
		p = strings.Replace(p, "{id}", itoa(rs[0].ID), 1)
	case strings.HasPrefix(p, "/recommendations/"):
		p = strings.Replace(p, "{id}", e.recommendationID(), 1)
	case strings.HasPrefix(p, "/tokens/"):
		ts, _ := e.au.Tokens(ctx, "")
		p = strings.Replace(p, "{id}", ts[0].ID, 1)
	}
	if strings.Contains(p, "{") {
		e.t.Fatalf("no sample for %s", rt.path)
	}
	return p
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// validBodies are well-formed bodies for the routes that take one, so
// that a refusal cannot be put down to bad input.
func (e *env) validBody(rt *route) any {
	switch rt.id {
	case "login":
		return map[string]string{"name": "ana", "password": analystPW}
	case "changePassword":
		return map[string]string{"current_password": readonlyPW, "new_password": "another password 1"}
	case "createToken":
		return map[string]any{"name": "x"}
	case "setAlertsStatus":
		return map[string]any{"ids": []string{e.ids["plc-stop"]}, "status": "Active"}
	case "bulkAlertStatus":
		return map[string]any{"filter": map[string]any{}, "status": "Closed"}
	case "learnAlerts":
		return map[string]any{"ids": []string{e.ids["new-device"]}}
	case "setAlertsSeverity":
		return map[string]any{"ids": []string{e.ids["plc-stop"]}, "severity": "Low"}
	case "bulkAlertSeverity":
		return map[string]any{"filter": map[string]any{}, "severity": "Low"}
	case "setAlertStatus":
		return map[string]string{"status": "Closed"}
	case "addComment":
		return map[string]string{"text": "x"}
	case "putDeviceOverride":
		return map[string]any{"name": "x"}
	case "setRecommendationStatus":
		return map[string]string{"status": "in_progress"}
	case "createSite":
		return map[string]string{"id": "x", "name": "x"}
	case "updateSite":
		return map[string]string{"name": "x"}
	case "createZone":
		return map[string]string{"id": "x", "site": "plant", "name": "x"}
	case "updateZone":
		return map[string]string{"site": "plant", "name": "x"}
	case "createSensor":
		return map[string]string{"id": "x", "name": "x"}
	case "updateSensor":
		return map[string]string{"name": "x"}
	case "setSensorMode":
		return map[string]string{"mode": "learning"}
	case "createExclusion", "updateExclusion":
		return map[string]any{"name": "x", "sensor": "s1"}
	case "createUser":
		return map[string]any{"name": "x", "role": "admin", "password": "x password 123"}
	case "updateUser":
		return map[string]any{"role": "admin"}
	}
	if rt.body != nil {
		e.t.Fatalf("no valid body for %s", rt.id)
	}
	return nil
}

// TestRoles tries every endpoint with each role, by session and by API
// token, and checks that a role below the route's gets 403 and that none
// of those attempts changed anything.
func TestRoles(t *testing.T) {
	e := newEnv(t)
	ro, an := e.as("rita"), e.as("ana")
	roTok, anTok := e.token("rita"), e.token("ana")
	before := e.snapshot()
	for _, rt := range e.api.routes {
		if rt.public {
			continue
		}
		if rt.changes() && rt.role == readonly && !selfService[rt.id] {
			t.Errorf("%s changes state but read-only users may call it", rt.id)
		}
		path, body := e.samplePath(rt), e.validBody(rt)
		for _, tc := range []struct {
			name string
			c    *client
			role store.Role
		}{{"readonly session", ro, readonly}, {"readonly token", roTok, readonly}, {"analyst session", an, analyst}, {"analyst token", anTok, analyst}} {
			if auth.Allows(tc.role, rt.role) {
				continue
			}
			rec := tc.c.do(rt.method, path, body)
			if rec.Code != http.StatusForbidden {
				t.Errorf("%s: %s %s %s = %d %s, want 403", tc.name, rt.id, rt.method, path, rec.Code, rec.Body)
				continue
			}
			if m := decodeJSON[errorBody](t, rec); !strings.Contains(m.Error, string(tc.role)) {
				t.Errorf("%s: %s: message %q does not name the role", tc.name, rt.id, m.Error)
			}
			e.checkResponse(rt.id, rec)
		}
	}
	if after := e.snapshot(); after != before {
		t.Errorf("refused requests changed the store:\n%s", diffLines(before, after))
	}
	// Every state-changing endpoint but the self-service ones is refused
	// to read-only users: count them so a new one cannot slip through.
	n := 0
	for _, rt := range e.api.routes {
		if rt.changes() && !rt.public && !selfService[rt.id] {
			n++
		}
	}
	if n < 25 {
		t.Errorf("only %d state-changing routes were tried", n)
	}
}

// TestUnauthenticated checks that every non-public endpoint, and unknown
// paths, answer 401 without credentials or with bad ones.
func TestUnauthenticated(t *testing.T) {
	e := newEnv(t)
	_ = e.token("admin")
	bad := []*client{e.anon(), {e: e, bearer: "otw_" + strings.Repeat("A", 43)},
		{e: e, cookie: &http.Cookie{Name: e.au.CookieName(), Value: strings.Repeat("A", 43)}, csrf: "x"}}
	for _, rt := range e.api.routes {
		if rt.public {
			continue
		}
		for i, c := range bad {
			rec := c.do(rt.method, e.samplePath(rt), e.validBody(rt))
			if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("credentials %d: %s %s = %d, want 401 with WWW-Authenticate", i, rt.method, rt.path, rec.Code)
				continue
			}
			e.checkResponse(rt.id, rec)
		}
	}
	if rec := e.anon().do("GET", "/no/such/thing", nil); rec.Code != http.StatusUnauthorized {
		t.Errorf("unknown path without credentials = %d, want 401", rec.Code)
	}
}

// TestCSRF checks that every state-changing endpoint refuses a cookie
// request without the session's CSRF token (and one with a wrong token in
// a form), while the same request with an API token needs none.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	ad := e.as("admin")
	_ = e.token("admin")
	noCSRF := &client{e: e, cookie: ad.cookie, noCSRF: true}
	before := e.snapshot()
	for _, rt := range e.api.routes {
		if !rt.changes() || rt.public {
			continue
		}
		path := e.samplePath(rt)
		rec := noCSRF.do(rt.method, path, e.validBody(rt))
		if rec.Code != http.StatusForbidden || !strings.Contains(decodeJSON[errorBody](t, rec).Error, "CSRF") {
			t.Errorf("%s %s without CSRF token = %d %s, want 403", rt.method, path, rec.Code, rec.Body)
		}
		// An HTML form post with a wrong token.
		r := httptest.NewRequest(rt.method, Prefix+path, strings.NewReader(url.Values{auth.CSRFField: {"wrong"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(ad.cookie)
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden {
			t.Errorf("%s %s form post with a wrong CSRF token = %d, want 403", rt.method, path, w.Code)
		}
	}
	if after := e.snapshot(); after != before {
		t.Errorf("requests without CSRF token changed the store:\n%s", diffLines(before, after))
	}
	// A cross-site login is refused.
	r := httptest.NewRequest("POST", Prefix+"/login", strings.NewReader(`{"name":"admin","password":"`+adminPW+`"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Origin", "https://evil.example")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
		t.Errorf("cross-site login = %d with cookies %v, want 403 and none", w.Code, w.Result().Cookies())
	}
	// With an API token the same change needs no CSRF token.
	if rec := e.token("ana").do("POST", "/alerts/"+e.ids["plc-stop"]+"/status", map[string]string{"status": "Active"}); rec.Code != 200 {
		t.Errorf("token request = %d %s", rec.Code, rec.Body)
	}
}

// diffLines returns the lines of b that differ from a's.
func diffLines(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := range max(len(al), len(bl)) {
		x, y := "", ""
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "- "+x, "+ "+y)
		}
	}
	return strings.Join(out, "\n")
}

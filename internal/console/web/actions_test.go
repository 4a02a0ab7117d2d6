package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/store"
)

// pick returns the first plant alert of type typ.
func (e *env) pick(typ string) *alert.Alert {
	e.t.Helper()
	for _, a := range e.f.plant.alerts {
		if a.Type == typ {
			return a
		}
	}
	e.t.Fatalf("the simulated plant raised no %s alert", typ)
	return nil
}

func (e *env) record(id string) *store.AlertRecord {
	e.t.Helper()
	r, err := e.f.st.Alert(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// audited returns the audit entries of an action on an object.
func (e *env) audited(action, object string) []store.AuditEntry {
	e.t.Helper()
	p, err := e.f.st.Audit(context.Background(), store.AuditQuery{Action: action, Object: object, Limit: store.MaxLimit})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Entries
}

// state is what a failed or refused change must leave as it was.
func (e *env) state() string {
	e.t.Helper()
	ctx := context.Background()
	var b strings.Builder
	add := func(v any, err error) {
		if err != nil {
			e.t.Fatal(err)
		}
		j, _ := json.Marshal(v)
		b.Write(j)
		b.WriteByte('\n')
	}
	page, err := e.f.st.Alerts(ctx, store.AlertQuery{Limit: store.MaxLimit})
	add(page, err)
	for _, a := range page.Alerts {
		add(e.f.st.Comments(ctx, a.ID))
		add(e.f.st.History(ctx, a.ID))
	}
	add(e.f.st.Mutes(ctx))
	add(e.f.st.Baseline(ctx, fixtureSensor))
	add(e.f.st.Sites(ctx))
	add(e.f.st.Zones(ctx, ""))
	add(e.f.st.Sensors(ctx))
	add(e.f.st.Overrides(ctx))
	audit, err := e.f.st.Audit(ctx, store.AuditQuery{Limit: store.MaxLimit})
	for _, a := range audit.Entries {
		if !strings.HasPrefix(a.Action, "login") {
			add(a, err)
		}
	}
	return b.String()
}

// TestAlertActions changes alerts through the page forms and checks the
// store: status, Learn (the detector's baseline entry is added), Mute and
// Unmute, comments and bulk changes, each audited with the user.
func TestAlertActions(t *testing.T) {
	e := newEnv(t)
	u := e.as("ana")
	ctx := context.Background()
	stop, write, scan := e.pick("s7comm.plc_stop"), e.pick("policy.new_write"), e.pick("scan.plc")
	page := "/alerts/" + stop.ID

	res := u.submit(page+"/status", url.Values{"status": {"Active"}, "back": {page + "?tab=timeline"}})
	if res.code != http.StatusSeeOther || res.header.Get("Location") != page+"?done=status&tab=timeline" {
		t.Fatalf("status change: %d to %q", res.code, res.header.Get("Location"))
	}
	if r := e.record(stop.ID); r.Status != alert.Active {
		t.Errorf("after Acknowledge the alert is %v", r.Status)
	}
	if h, _ := e.f.st.History(ctx, stop.ID); len(h) != 1 || h[0].Actor != "ana" || h[0].To != alert.Active {
		t.Errorf("history %+v", h)
	}
	if body := u.get(page+"?done=status").ok(t, "after").body; !strings.Contains(body, flashText["status"]) {
		t.Error("no confirmation after the status change")
	}

	// Learn: the detector's entry goes into the sensor's baseline.
	body := u.get("/alerts/"+write.ID).ok(t, "learnable").body
	if write.Learn == nil || !strings.Contains(body, htmlText(write.Learn.String())) {
		t.Fatalf("the Learn button does not show the entry it adds (%v)", write.Learn)
	}
	if res := u.submit("/alerts/"+write.ID+"/learn", nil); res.code != http.StatusSeeOther {
		t.Fatalf("learn: %d %s", res.code, res.body)
	}
	if r := e.record(write.ID); r.Status != alert.Closed {
		t.Errorf("a learned alert is %v, want Closed", r.Status)
	}
	recs, err := e.f.st.Baseline(ctx, fixtureSensor)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(recs, func(r baseline.Record) bool { return r.Entry == *write.Learn }) {
		t.Errorf("the baseline lacks the learned entry %v", write.Learn)
	}
	if len(e.audited("alert.learn", "alert:"+write.ID)) != 1 {
		t.Error("the learn is not audited")
	}
	// Learning an alert that cannot be learned is refused.
	if res := u.submit(page+"/learn", nil); res.code != http.StatusBadRequest {
		t.Errorf("learning %s: %d, want 400", stop.Type, res.code)
	}

	// Mute and unmute.
	u.submit(page+"/mute", nil)
	mutes, _ := e.f.st.Mutes(ctx)
	want := store.MuteOf(stop)
	if len(mutes) != 1 || mutes[0].Type != want.Type || mutes[0].Source != want.Source || mutes[0].Destination != want.Destination {
		t.Errorf("mutes %+v, want the pattern %+v", mutes, want)
	}
	if !e.record(stop.ID).Muted || !strings.Contains(u.get(page).body, `data-action="unmute"`) {
		t.Error("a muted alert is not shown muted")
	}
	u.submit(page+"/unmute", nil)
	if e.record(stop.ID).Muted {
		t.Error("unmute left the alert muted")
	}

	// Comments: text kept as typed, shown escaped.
	text := "Checked with <b>operations</b>: planned stop\nsecond line"
	u.submit(page+"/comments", url.Values{"text": {text}})
	cs, _ := e.f.st.Comments(ctx, stop.ID)
	if len(cs) != 1 || cs[0].Text != text || cs[0].Author != "ana" {
		t.Errorf("comments %+v", cs)
	}
	if body := u.get(page).body; !strings.Contains(body, "Checked with &lt;b&gt;operations&lt;/b&gt;") {
		t.Error("the comment is not shown, escaped")
	}

	// Bulk: close two selected alerts; then move every New Medium alert
	// matching a filter to Active.
	res = u.submit("/alerts/bulk", url.Values{"id": {stop.ID, scan.ID}, "action": {"Closed"}, "scope": {"selected"}, "back": {"/alerts?severity=High"}})
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/alerts?done=bulk&severity=High" {
		t.Fatalf("bulk close: %d %q", res.code, res.header.Get("Location"))
	}
	for _, id := range []string{stop.ID, scan.ID} {
		if r := e.record(id); r.Status != alert.Closed {
			t.Errorf("bulk close left %s %v", r.Type, r.Status)
		}
	}
	u.submit("/alerts/bulk", url.Values{"action": {"Active"}, "scope": {"filter"}, "filter": {"severity=Medium&status=New"}})
	for _, a := range e.f.plant.alerts {
		r := e.record(a.ID)
		if a.Severity == alert.Medium && r.Status != alert.Active {
			t.Errorf("bulk by filter left Medium %s %v", a.Type, r.Status)
		}
	}
	if len(e.audited("alert.bulk_status", "")) != 1 {
		t.Error("the bulk change by filter is not audited")
	}

	// Severity: lower the selected stop alert, then raise every Low alert
	// matching a filter to Medium.
	res = u.submit("/alerts/bulk", url.Values{"id": {stop.ID}, "action": {"severity:Low"}, "reason": {"test PLC"}})
	if res.code != http.StatusSeeOther {
		t.Fatalf("bulk severity: %d", res.code)
	}
	if r := e.record(stop.ID); r.Severity != alert.Low {
		t.Errorf("bulk severity left %s at %v, want Low", r.Type, r.Severity)
	}
	if len(e.audited("alert.severity", "alert:"+stop.ID)) != 1 {
		t.Error("the severity change is not audited")
	}
	u.submit("/alerts/bulk", url.Values{"action": {"severity:Medium"}, "scope": {"filter"}, "filter": {"severity=Low"}})
	for _, a := range e.f.plant.alerts {
		if r := e.record(a.ID); r.Severity == alert.Low {
			t.Errorf("bulk severity by filter left %s Low", a.Type)
		}
	}
}

// TestReadOnly checks that a read-only user sees no action and that the
// server refuses every change it posts anyway.
func TestReadOnly(t *testing.T) {
	e := newEnv(t)
	u := e.as("rita")
	a := e.f.plant.alerts[0]
	formRE := regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	for _, p := range []string{"/alerts", "/alerts/" + a.ID, "/alerts/" + a.ID + "/pane", "/devices", "/devices/" + fixtureSensor + "/1", "/sites", "/map", "/events"} {
		for _, m := range formRE.FindAllStringSubmatch(u.get(p).ok(t, p).body, -1) {
			if m[1] != "/logout" {
				t.Errorf("%s: a read-only user gets the form %s", p, m[1])
			}
		}
	}
	before := e.state()
	for _, c := range stateChanges(e, a) {
		if res := u.submit(c.path, c.form); res.code != http.StatusForbidden {
			t.Errorf("read-only POST %s: %d, want 403", c.path, res.code)
		}
	}
	if res := u.get("/audit"); res.code != http.StatusForbidden {
		t.Errorf("read-only audit log: %d, want 403", res.code)
	}
	if after := e.state(); after != before {
		t.Errorf("refused changes changed the store:\n%s\n%s", before, after)
	}
}

// change is a state-changing form post.
type change struct {
	path string
	form url.Values
}

// stateChanges lists a valid post of every state-changing form.
func stateChanges(e *env, a *alert.Alert) []change {
	dev := "/devices/" + fixtureSensor + "/1"
	return []change{
		{"/alerts/" + a.ID + "/status", url.Values{"status": {"Closed"}}},
		{"/alerts/" + a.ID + "/learn", nil},
		{"/alerts/" + a.ID + "/mute", nil},
		{"/alerts/" + a.ID + "/unmute", nil},
		{"/alerts/" + a.ID + "/comments", url.Values{"text": {"hello"}}},
		{"/alerts/bulk", url.Values{"id": {a.ID}, "action": {"Closed"}}},
		{"/alerts/bulk", url.Values{"scope": {"filter"}, "action": {"Closed"}, "filter": {""}}},
		{"/alerts/bulk", url.Values{"id": {a.ID}, "action": {"severity:Low"}}},
		{dev + "/override", url.Values{"name": {"renamed"}}},
		{dev + "/override/delete", nil},
		{"/sites", url.Values{"id": {"south"}, "name": {"South"}}},
		{"/sites/north/delete", nil},
		{"/zones", url.Values{"id": {"cell-9"}, "site": {"north"}}},
		{"/zones/cell-1/delete", nil},
		{"/sensors", url.Values{"id": {"new-sensor"}}},
		{"/sensors/" + fixtureSensor + "/mode", url.Values{"mode": {"learning"}}},
		{"/sensors/spare/delete", nil},
	}
}

// TestCSRF checks that a form post without the session's CSRF token, or
// with another, is refused and changes nothing, and that logged-out posts
// get 401.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	u := e.as("admin")
	a := e.f.plant.alerts[0]
	before := e.state()
	for _, c := range stateChanges(e, a) {
		if res := u.post(c.path, c.form); res.code != http.StatusForbidden {
			t.Errorf("POST %s without CSRF token: %d, want 403", c.path, res.code)
		}
		f := url.Values{"csrf_token": {"not-the-token"}}
		for k, v := range c.form {
			f[k] = v
		}
		if res := u.post(c.path, f); res.code != http.StatusForbidden {
			t.Errorf("POST %s with a wrong CSRF token: %d, want 403", c.path, res.code)
		}
		if res := e.anon().post(c.path, c.form); res.code != http.StatusUnauthorized {
			t.Errorf("anonymous POST %s: %d, want 401", c.path, res.code)
		}
	}
	if after := e.state(); after != before {
		t.Errorf("refused posts changed the store")
	}
	// A logout needs the token too.
	if res := u.post("/logout", nil); res.code != http.StatusForbidden {
		t.Errorf("logout without CSRF token: %d", res.code)
	}
}

// TestLogin checks the login page: redirects, wrong passwords, a form
// from another site, open redirects, and logging out.
func TestLogin(t *testing.T) {
	e := newEnv(t)
	anon := e.anon()
	for _, p := range []string{"/", "/alerts", "/alerts?severity=High", "/devices/" + fixtureSensor + "/1", "/map", "/audit"} {
		res := anon.get(p)
		if res.code != http.StatusSeeOther || res.header.Get("Location") != "/login?next="+url.QueryEscape(p) {
			t.Errorf("anonymous GET %s: %d to %q", p, res.code, res.header.Get("Location"))
		}
	}
	login := func(name, pw, next string, hdr map[string]string) response {
		f := url.Values{"name": {name}, "password": {pw}, "next": {next}}
		req, _ := http.NewRequest("POST", e.srv.URL+"/login", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		c := e.anon()
		r, err := c.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return response{code: r.StatusCode, header: r.Header, body: b.String()}
	}
	pw := fixtureUsers["ana"].pw
	tests := []struct {
		name     string
		user, pw string
		next     string
		hdr      map[string]string
		code     int
		location string
	}{
		{"ok", "ana", pw, "/devices", nil, http.StatusSeeOther, "/devices"},
		{"wrong password", "ana", "nope", "/", nil, http.StatusUnauthorized, ""},
		{"unknown user", "nobody", pw, "/", nil, http.StatusUnauthorized, ""},
		{"open redirect", "ana", pw, "//evil.example/x", nil, http.StatusSeeOther, "/"},
		{"absolute next", "ana", pw, "https://evil.example/", nil, http.StatusSeeOther, "/"},
		{"cross-site form", "ana", pw, "/", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden, ""},
		{"cross-site fetch", "ana", pw, "/", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, ""},
	}
	for _, tc := range tests {
		res := login(tc.user, tc.pw, tc.next, tc.hdr)
		if res.code != tc.code || res.header.Get("Location") != tc.location {
			t.Errorf("%s: %d to %q, want %d to %q", tc.name, res.code, res.header.Get("Location"), tc.code, tc.location)
		}
		if tc.code == http.StatusSeeOther {
			c := res.header.Get("Set-Cookie")
			if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
				t.Errorf("%s: session cookie %q", tc.name, c)
			}
		} else if res.header.Get("Set-Cookie") != "" {
			t.Errorf("%s: a failed login sets a cookie", tc.name)
		}
	}
	if e := e.audited("login.failed", ""); len(e) != 2 {
		t.Errorf("%d failed logins audited, want 2", len(e))
	}

	u := e.as("ana")
	if res := u.get("/login?next=/map"); res.code != http.StatusSeeOther || res.header.Get("Location") != "/map" {
		t.Errorf("the login page of a logged-in user: %d %q", res.code, res.header.Get("Location"))
	}
	if res := u.submit("/logout", nil); res.code != http.StatusSeeOther || res.header.Get("Location") != "/login" {
		t.Errorf("logout: %d %q", res.code, res.header.Get("Location"))
	}
	if res := u.get("/alerts"); res.code != http.StatusSeeOther {
		t.Errorf("after logout /alerts gives %d", res.code)
	}
}

// TestBadInput gives every page and form malformed input: each answers a
// 4xx with a message, never a 500, and changes nothing.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	u := e.as("admin")
	a := e.f.plant.alerts[0]
	stop := e.pick("s7comm.plc_stop")
	long := strings.Repeat("x", store.MaxTextLen+1)
	gets := []struct {
		path string
		code int
	}{
		{"/alerts?severity=Bogus", 400},
		{"/alerts?status=Open", 400},
		{"/alerts?engine=magic", 400},
		{"/alerts?from=yesterday", 400},
		{"/alerts?from=2026-01-02&until=2026-01-01", 400},
		{"/alerts?range=1y", 400},
		{"/alerts?sort=name", 400},
		{"/alerts?cursor=%ff%fe", 400},
		{"/alerts?cursor=eyJhIjoiYiJ9", 400},
		{"/alerts?device=not-an-address", 400},
		{"/alerts?q=" + long, 400},
		{"/alerts/no-such-alert", 404},
		{"/alerts/no-such-alert/pane", 404},
		{"/alerts/no-such-alert/report.pdf", 404},
		{"/devices?purdue=x", 400},
		{"/devices?purdue=9", 400},
		{"/devices?type=robot", 400},
		{"/devices?inactive=maybe", 400},
		{"/devices?sort=colour", 400},
		{"/devices?device=zz", 400},
		{"/devices/" + fixtureSensor + "/abc", 400},
		{"/devices/" + fixtureSensor + "/0", 400},
		{"/devices/" + fixtureSensor + "/99999", 404},
		{"/devices/nowhere/1", 404},
		{"/events?device=zz", 400},
		{"/events?from=x", 400},
		{"/events?cursor=zz", 400},
		{"/map?level=9", 400},
		{"/map?type=robot", 400},
		{"/map?device=x", 400},
		{"/audit?cursor=zz", 400},
		{"/no/such/page", 404},
		{"/static/nothing.js", 404},
	}
	for _, g := range gets {
		res := u.get(g.path)
		if res.code != g.code {
			t.Errorf("GET %s: %d, want %d\n%s", g.path, res.code, g.code, clipBody(res.body))
		}
	}
	before := e.state()
	posts := []struct {
		path string
		form url.Values
		code int
	}{
		{"/alerts/" + a.ID + "/status", url.Values{"status": {"Bogus"}}, 400},
		{"/alerts/" + a.ID + "/status", url.Values{"status": {"New"}}, 400},
		{"/alerts/no-such-alert/status", url.Values{"status": {"Closed"}}, 404},
		{"/alerts/" + stop.ID + "/learn", nil, 400},
		{"/alerts/no-such-alert/mute", nil, 404},
		{"/alerts/" + a.ID + "/comments", url.Values{"text": {"   "}}, 400},
		{"/alerts/" + a.ID + "/comments", url.Values{"text": {strings.Repeat("é", store.MaxCommentLen+1)}}, 400},
		{"/alerts/bulk", url.Values{"action": {"Closed"}}, 400},
		{"/alerts/bulk", url.Values{"id": {a.ID}, "action": {"frob"}}, 400},
		{"/alerts/bulk", url.Values{"id": {a.ID, "no-such-alert"}, "action": {"Closed"}}, 404},
		{"/alerts/bulk", url.Values{"id": {a.ID, stop.ID}, "action": {"learn"}}, 400},
		{"/alerts/bulk", url.Values{"scope": {"filter"}, "action": {"learn"}}, 400},
		{"/alerts/bulk", url.Values{"scope": {"filter"}, "action": {"Closed"}, "filter": {"severity=Huge"}}, 400},
		{"/alerts/bulk", url.Values{"id": {a.ID}, "action": {"severity:Huge"}}, 400},
		{"/alerts/bulk", url.Values{"id": {a.ID, "no-such-alert"}, "action": {"severity:Low"}}, 404},
		{"/devices/" + fixtureSensor + "/1/override", url.Values{"purdue": {"9"}}, 400},
		{"/devices/" + fixtureSensor + "/1/override", url.Values{"type": {"robot"}}, 400},
		{"/devices/" + fixtureSensor + "/1/override", url.Values{"authorized": {"perhaps"}}, 400},
		{"/devices/" + fixtureSensor + "/1/override", url.Values{}, 400},
		{"/devices/" + fixtureSensor + "/99999/override", url.Values{"name": {"x"}}, 404},
		{"/sites", url.Values{"id": {"bad id!"}}, 400},
		{"/sites", url.Values{"id": {""}}, 400},
		{"/sites/north/delete", nil, 409},
		{"/zones", url.Values{"id": {"z"}, "site": {"north"}, "subnets": {"10.1.2.0/33"}}, 400},
		{"/zones", url.Values{"id": {"z"}, "site": {"nowhere"}}, 400},
		{"/zones/cell-1/delete", nil, 409},
		{"/sensors", url.Values{"id": {"s"}, "zone": {"nowhere"}}, 400},
		{"/sensors/" + fixtureSensor + "/mode", url.Values{"mode": {"asleep"}}, 400},
		{"/sensors/nowhere/mode", url.Values{"mode": {"learning"}}, 404},
	}
	for _, p := range posts {
		res := u.submit(p.path, p.form)
		if res.code != p.code {
			t.Errorf("POST %s %v: %d, want %d\n%s", p.path, p.form, res.code, p.code, clipBody(res.body))
		}
		if !strings.Contains(res.body, `<section class="error-page">`) {
			t.Errorf("POST %s: the answer is not an error page with a message", p.path)
		}
	}
	if after := e.state(); after != before {
		t.Errorf("rejected posts changed the store")
	}
}

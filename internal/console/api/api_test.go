package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/console/auth"
	_ "github.com/otwatch/otwatch/internal/detect/engines" // the alert type catalogue
	"github.com/otwatch/otwatch/internal/store"
)

type alertJSON struct {
	ID, Type, Title, Status, Severity string
	Muted                             bool
}

type pageJSON struct {
	Alerts []alertJSON
	Next   string
}

// names maps alert ids back to the fixture's names.
func (e *env) names(as []alertJSON) []string {
	var out []string
	for _, a := range as {
		for n, id := range e.ids {
			if id == a.ID {
				out = append(out, n)
			}
		}
	}
	return out
}

// The fixture's alerts, by last detection (10:01 to 10:05): plc-stop,
// new-device, scan, malware, violation.
func TestListAlerts(t *testing.T) {
	e := newEnv(t)
	ro := e.as("rita")
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"violation", "malware", "scan", "new-device", "plc-stop"}},
		{"order=asc", []string{"plc-stop", "new-device", "scan", "malware", "violation"}},
		{"sort=severity", []string{"plc-stop", "malware", "scan", "new-device", "violation"}},
		{"sort=first_detection&order=asc", []string{"plc-stop", "new-device", "scan", "malware", "violation"}},
		{"severity=High", []string{"malware", "scan"}},
		{"severity=High&severity=Critical", []string{"malware", "scan", "plc-stop"}},
		{"sensor=s2", []string{"malware", "scan"}},
		{"zone=cell1&engine=policy", []string{"new-device"}},
		{"engine=Operational", []string{"plc-stop"}},
		{"device=10.1.2.10", []string{"violation", "new-device", "plc-stop"}},
		{"device=00:1B:1B:01:02:03", nil}, // alerts match parties by IP when they have one
		{"q=plc", []string{"plc-stop"}},
		{"q=SCAN", []string{"scan"}},
		{"protocol=modbus&category=Illegal+commands", []string{"violation"}},
		{"type=malware.indicator", []string{"malware"}},
		{"from=2025-03-01T10:03:30Z", []string{"violation", "malware"}},
		{"from=2025-03-01T10:03:30Z&until=2030-01-01T00:00:00Z", []string{"violation", "malware"}},
		{"until=2025-03-01T10:02:30Z", []string{"new-device", "plc-stop"}},
		{"q=10.1.2", []string{"violation", "scan", "new-device", "plc-stop"}},
		{"q=plc+sto", []string{"plc-stop"}},
		{"status=Closed", nil},
		{"severity=&sensor=", []string{"violation", "malware", "scan", "new-device", "plc-stop"}}, // empty form values
	}
	for _, tt := range tests {
		rec := ro.do("GET", "/alerts?"+tt.query, nil)
		if rec.Code != 200 {
			t.Errorf("%s: %d %s", tt.query, rec.Code, rec.Body)
			continue
		}
		if got := e.names(decodeJSON[pageJSON](t, rec).Alerts); !slices.Equal(got, tt.want) {
			t.Errorf("GET /alerts?%s = %v, want %v", tt.query, got, tt.want)
		}
	}
	// Keyset pages of 2 walk every alert once, in order.
	var got []string
	cursor := ""
	for range 5 {
		rec := ro.do("GET", "/alerts?limit=2&cursor="+url.QueryEscape(cursor), nil)
		p := decodeJSON[pageJSON](t, rec)
		got = append(got, e.names(p.Alerts)...)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if want := tests[0].want; !slices.Equal(got, want) {
		t.Errorf("paged = %v, want %v", got, want)
	}
}

func TestFacets(t *testing.T) {
	e := newEnv(t)
	rec := e.as("rita").do("GET", "/alerts/facets?severity=High", nil)
	f := decodeJSON[store.Facets](t, rec)
	if f.Total != 2 {
		t.Errorf("total = %d, want 2", f.Total)
	}
	// The severity facet ignores the severity filter: one alert of each
	// other severity, two High, most severe first.
	want := []store.FacetCount{{Value: "Critical", Count: 1}, {Value: "High", Count: 2}, {Value: "Medium", Count: 1}, {Value: "Low", Count: 1}}
	if !slices.Equal(f.Counts[store.DimSeverity], want) {
		t.Errorf("severity facet = %v, want %v", f.Counts[store.DimSeverity], want)
	}
	if want := []store.FacetCount{{Value: "s2", Count: 2}}; !slices.Equal(f.Counts[store.DimSensor], want) {
		t.Errorf("sensor facet = %v, want %v", f.Counts[store.DimSensor], want)
	}
}

func TestAlertLifecycle(t *testing.T) {
	e := newEnv(t)
	an := e.as("ana")
	ctx := context.Background()
	stop := "/alerts/" + e.ids["plc-stop"]
	rec := an.do("POST", stop+"/status", map[string]string{"status": "Active", "reason": "on it"})
	if a := decodeJSON[alertJSON](t, rec); rec.Code != 200 || a.Status != "Active" {
		t.Fatalf("status change: %d %s", rec.Code, rec.Body)
	}
	for _, st := range []string{"Closed", "Active", "Closed"} { // close, reopen, close
		if rec := an.do("POST", stop+"/status", map[string]string{"status": st}); rec.Code != 200 {
			t.Fatalf("-> %s: %d %s", st, rec.Code, rec.Body)
		}
	}
	if rec := an.do("POST", stop+"/status", map[string]string{"status": "New"}); rec.Code != 400 {
		t.Errorf("Closed -> New = %d, want 400", rec.Code)
	}
	h := decodeJSON[struct{ History []store.StatusChange }](t, an.do("GET", stop+"/history", nil)).History
	if len(h) != 4 || h[0].Actor != "ana" || h[0].Reason != "on it" || h[3].To.String() != "Closed" {
		t.Errorf("history = %+v", h)
	}
	audit, _ := e.st.Audit(ctx, store.AuditQuery{Actor: "ana", Object: "alert:" + e.ids["plc-stop"]})
	if len(audit.Entries) != 4 {
		t.Errorf("%d audit entries for the alert, want 4", len(audit.Entries))
	}

	// Bulk by filter: sensor s2's two New alerts move to Active.
	rec = an.do("POST", "/alerts/bulk-status", map[string]any{"filter": map[string]any{"sensor": []string{"s2"}, "q": ""}, "status": "Active"})
	if c := decodeJSON[changed](t, rec); rec.Code != 200 || c.Changed != 2 {
		t.Errorf("bulk = %d %s, want 2 changed", rec.Code, rec.Body)
	}
	for _, k := range []string{"scan", "malware"} { // the alerts of s2
		if a, err := e.st.Alert(ctx, e.ids[k]); err != nil || a.Status != alert.Active {
			t.Errorf("%s after the bulk change: %v, %v; want Active", k, a.Status, err)
		}
	}
	// By ids, all or nothing: plc-stop is Closed and cannot be closed again.
	rec = an.do("POST", "/alerts/status", map[string]any{"ids": []string{e.ids["violation"], e.ids["plc-stop"]}, "status": "Closed"})
	if rec.Code != 400 {
		t.Errorf("closing a closed alert in a batch = %d, want 400", rec.Code)
	}
	if a, _ := e.st.Alert(ctx, e.ids["violation"]); a.Status.String() != "New" {
		t.Errorf("violation is %v after a failed batch, want New", a.Status)
	}

	// Severity: one alert by id, then by filter; both in the history and
	// the audit log, and a sensor re-sending the alert keeps it.
	rec = an.do("POST", "/alerts/severity", map[string]any{"ids": []string{e.ids["violation"]}, "severity": "Medium", "reason": "test bench"})
	if c := decodeJSON[changed](t, rec); rec.Code != 200 || c.Changed != 1 {
		t.Errorf("severity = %d %s, want 1 changed", rec.Code, rec.Body)
	}
	if a, _ := e.st.Alert(ctx, e.ids["violation"]); a.Severity != alert.Medium {
		t.Errorf("violation severity = %v after the change, want Medium", a.Severity)
	}
	hv := decodeJSON[struct{ History []store.StatusChange }](t, an.do("GET", "/alerts/"+e.ids["violation"]+"/history", nil)).History
	if n := len(hv); n == 0 || hv[n-1].Action != store.ActionSeverity || hv[n-1].FromSeverity != alert.Low || hv[n-1].ToSeverity != alert.Medium || hv[n-1].Reason != "test bench" {
		t.Errorf("violation history = %+v, want a severity change from Low to Medium last", hv)
	}
	rec = an.do("POST", "/alerts/bulk-severity", map[string]any{"filter": map[string]any{"sensor": []string{"s2"}}, "severity": "Critical"})
	if c := decodeJSON[changed](t, rec); rec.Code != 200 || c.Changed != 2 {
		t.Errorf("bulk severity = %d %s, want 2 changed", rec.Code, rec.Body)
	}
	for _, k := range []string{"scan", "malware"} {
		if a, err := e.st.Alert(ctx, e.ids[k]); err != nil || a.Severity != alert.Critical {
			t.Errorf("%s after the bulk severity change: %v, %v; want Critical", k, a.Severity, err)
		}
	}
	if a, _ := e.st.Alert(ctx, e.ids["violation"]); a.Severity != alert.Medium {
		t.Errorf("violation (sensor s1) severity = %v after the bulk change of s2, want Medium still", a.Severity)
	}
	if rec := e.as("rita").do("POST", "/alerts/bulk-severity", map[string]any{"filter": map[string]any{}, "severity": "Low"}); rec.Code != 403 {
		t.Errorf("read-only bulk severity = %d, want 403", rec.Code)
	}

	// Learn: the preview shows the entry; learning adds it and closes.
	nd := "/alerts/" + e.ids["new-device"]
	prev := decodeJSON[struct {
		Learnable bool
		Entry     *baseline.Entry
		Text      string
	}](t, an.do("GET", nd+"/learn", nil))
	if !prev.Learnable || prev.Entry == nil || prev.Entry.Kind != baseline.KindConnection || prev.Text != "connection client=10.1.1.99 server=10.1.2.10 protocol=modbus port=502" {
		t.Errorf("preview = %+v", prev)
	}
	res := decodeJSON[learnResult](t, an.do("POST", nd+"/learn", nil))
	if res.Entry != *prev.Entry {
		t.Errorf("learned %+v, preview said %+v", res.Entry, prev.Entry)
	}
	recs, _ := e.st.Baseline(ctx, "s1")
	if !slices.ContainsFunc(recs, func(r baseline.Record) bool { return r.Entry == res.Entry && r.Source == "learn" }) {
		t.Errorf("baseline of s1 = %+v, lacks the learned entry", recs)
	}
	if a, _ := e.st.Alert(ctx, e.ids["new-device"]); a.Status.String() != "Closed" {
		t.Errorf("learned alert is %v, want Closed", a.Status)
	}
	// Without a Learn entry, the preview is the pattern the store's Learn
	// documentation describes.
	prev2 := decodeJSON[struct{ Entry *baseline.Entry }](t, an.do("GET", "/alerts/"+e.ids["scan"]+"/learn", nil))
	if prev2.Entry == nil || prev2.Entry.String() != "pattern client=10.1.1.99 server=10.1.2.0 function=scan.tcp target=tcp" {
		t.Errorf("scan preview = %+v", prev2.Entry)
	}
	res2 := decodeJSON[struct{ Entries []learnResult }](t, an.do("POST", "/alerts/learn", map[string]any{"ids": []string{e.ids["scan"]}}))
	if len(res2.Entries) != 1 || res2.Entries[0].Entry != *prev2.Entry {
		t.Errorf("bulk learn = %+v", res2)
	}

	// Mute and unmute.
	if a := decodeJSON[alertJSON](t, an.do("POST", stop+"/mute", nil)); !a.Muted {
		t.Error("mute: not muted")
	}
	ms := decodeJSON[struct{ Mutes []store.Mute }](t, an.do("GET", "/mutes", nil)).Mutes
	if len(ms) != 1 || ms[0].AlertID != e.ids["plc-stop"] || ms[0].Actor != "ana" || ms[0].Destination != "10.1.2.10" {
		t.Errorf("mutes = %+v", ms)
	}
	if a := decodeJSON[alertJSON](t, an.do("DELETE", stop+"/mute", nil)); a.Muted {
		t.Error("unmute: still muted")
	}

	// Comments carry their author.
	rec = an.do("POST", stop+"/comments", map[string]string{"text": "PLC restarted by the vendor"})
	if c := decodeJSON[store.Comment](t, rec); rec.Code != 201 || c.Author != "ana" || c.Text != "PLC restarted by the vendor" {
		t.Errorf("comment = %d %s", rec.Code, rec.Body)
	}
	if cs := decodeJSON[struct{ Comments []store.Comment }](t, an.do("GET", stop+"/comments", nil)).Comments; len(cs) != 1 {
		t.Errorf("comments = %+v", cs)
	}
}

func TestPcapDownload(t *testing.T) {
	e := newEnv(t)
	rec := e.as("rita").do("GET", "/alerts/"+e.ids["plc-stop"]+"/pcap", nil)
	want, err := e.st.Evidence(context.Background(), e.ids["plc-stop"])
	if err != nil || len(want) == 0 {
		t.Fatalf("the fixture's evidence of plc-stop: %d bytes, %v", len(want), err)
	}
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), want) {
		t.Fatalf("pcap = %d, %d bytes", rec.Code, rec.Body.Len())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/x-pcapng" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename=otwatch-alert-`+e.ids["plc-stop"]+`.pcapng` {
		t.Errorf("Content-Disposition %q", cd)
	}
	audit, _ := e.st.Audit(context.Background(), store.AuditQuery{Action: "alert.pcap"})
	if len(audit.Entries) != 1 || audit.Entries[0].Actor != "rita" {
		t.Errorf("pcap audit = %+v", audit.Entries)
	}
	for _, tc := range []struct {
		magic []byte
		ct    string
	}{
		{[]byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0}, "application/vnd.tcpdump.pcap"},
		{[]byte{0x4d, 0x3c, 0xb2, 0xa1, 2, 0}, "application/vnd.tcpdump.pcap"},
		{[]byte{0x0a, 0x0d, 0x0d, 0x0a}, "application/x-pcapng"},
		{[]byte("GIF89a"), "application/octet-stream"},
	} {
		if ct, _ := captureType(tc.magic); ct != tc.ct {
			t.Errorf("captureType(% x) = %s, want %s", tc.magic, ct, tc.ct)
		}
	}
}

func TestExportCSV(t *testing.T) {
	e := newEnv(t)
	rec := e.as("rita").do("GET", "/alerts/export.csv?sort=severity", nil)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("export = %d %v", rec.Code, rec.Header())
	}
	rows, err := csv.NewReader(rec.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || !slices.Equal(rows[0], csvColumns) {
		t.Fatalf("rows = %v", rows)
	}
	col := func(name string) int { return slices.Index(csvColumns, name) }
	if rows[1][col("severity")] != "Critical" || rows[1][col("id")] != e.ids["plc-stop"] || rows[1][col("source")] != "10.1.1.50" ||
		rows[1][col("first_detection")] != "2025-03-01T10:00:00Z" || rows[1][col("count")] != "2" || rows[1][col("sensor")] != "s1" {
		t.Errorf("first row = %v", rows[1])
	}
	last := rows[5]
	if last[col("title")] != `'=HYPERLINK("http://evil") malformed Modbus` {
		t.Errorf("formula title exported as %q, want it neutralised with a leading '", last[col("title")])
	}
	if rec := e.as("rita").do("GET", "/alerts/export.csv?severity=Low", nil); strings.Count(rec.Body.String(), "\n") != 2 {
		t.Errorf("filtered export:\n%s", rec.Body)
	}
	small := New(e.st, e.au, Options{MaxExportRows: 2})
	rw := httptest.NewRecorder()
	r := httptest.NewRequest("GET", Prefix+"/alerts/export.csv", nil)
	r.Header.Set("Authorization", "Bearer "+e.token("rita").bearer)
	small.ServeHTTP(rw, r)
	if n := strings.Count(rw.Body.String(), "\n"); n != 3 {
		t.Errorf("export capped at 2 rows has %d lines", n)
	}
}

func TestDevices(t *testing.T) {
	e := newEnv(t)
	ro, an := e.as("rita"), e.as("ana")
	p := decodeJSON[struct{ Devices []store.DeviceRecord }](t, ro.do("GET", "/devices?sensor=s1&sort=name&order=asc", nil))
	if len(p.Devices) != 3 || p.Devices[0].Site != "plant" || p.Devices[0].Zone != "cell1" {
		t.Errorf("devices = %+v", p.Devices)
	}
	if p := decodeJSON[struct{ Devices []store.DeviceRecord }](t, ro.do("GET", "/devices?type=plc&q=s7", nil)); len(p.Devices) != 1 || p.Devices[0].Name != "plc-1" {
		t.Errorf("PLCs = %+v", p.Devices)
	}
	// The PLC (10.1.2.10) is the destination of plc-stop, new-device and
	// violation.
	got := e.names(decodeJSON[pageJSON](t, ro.do("GET", "/devices/s1/2/alerts", nil)).Alerts)
	if want := []string{"violation", "new-device", "plc-stop"}; !slices.Equal(got, want) {
		t.Errorf("PLC alerts = %v, want %v", got, want)
	}
	if got := e.names(decodeJSON[pageJSON](t, ro.do("GET", "/devices/s1/2/alerts?severity=Critical", nil)).Alerts); !slices.Equal(got, []string{"plc-stop"}) {
		t.Errorf("PLC critical alerts = %v", got)
	}
	// Its events: the alert (as peer) and the mode change, newest first.
	ev := decodeJSON[store.EventPage](t, ro.do("GET", "/devices/s1/2/timeline", nil)).Events
	if len(ev) != 2 || ev[0].Type != "mode_change" || ev[1].Type != "alert" {
		t.Errorf("PLC timeline = %+v", ev)
	}
	cs := decodeJSON[struct{ Connections []map[string]any }](t, ro.do("GET", "/devices/s1/2/connections", nil)).Connections
	if len(cs) != 1 || cs[0]["protocol"] != "s7comm" {
		t.Errorf("connections = %+v", cs)
	}
	rec := an.do("PUT", "/devices/s1/2/override", map[string]any{"name": "PLC line 1", "purdue_level": 1, "authorized": true})
	o := decodeJSON[store.DeviceOverride](t, rec)
	if rec.Code != 200 || o.Addr != "00:1b:1b:04:05:06" || o.Name != "PLC line 1" || *o.Purdue != 1 || o.Actor != "ana" {
		t.Errorf("override = %d %s", rec.Code, rec.Body)
	}
	// A device known only by IP is kept by its IP.
	rec = an.do("PUT", "/devices/s1/3/override", map[string]any{"type": "engineering_workstation"})
	if o := decodeJSON[store.DeviceOverride](t, rec); o.Addr != "10.1.1.99" {
		t.Errorf("override of IP-only device kept by %q", o.Addr)
	}
	if rec := an.do("DELETE", "/devices/s1/2/override", nil); rec.Code != 204 {
		t.Errorf("delete override = %d", rec.Code)
	}
	if os := decodeJSON[struct{ Overrides []store.DeviceOverride }](t, ro.do("GET", "/overrides", nil)).Overrides; len(os) != 1 {
		t.Errorf("overrides = %+v", os)
	}
	ev = decodeJSON[store.EventPage](t, ro.do("GET", "/events?type=new_device&type=firmware_change&order=asc", nil)).Events
	if len(ev) != 2 || ev[0].Type != "new_device" || ev[1].Sensor != "s2" {
		t.Errorf("events = %+v", ev)
	}
	ev = decodeJSON[store.EventPage](t, ro.do("GET", "/alerts/"+e.ids["plc-stop"]+"/events?window=600", nil)).Events
	if len(ev) != 2 || ev[0].Type != "alert" || ev[1].Type != "mode_change" {
		t.Errorf("events around plc-stop (10 min) = %+v", ev)
	}
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	rec := e.do(nil, "POST", "/login", map[string]string{"name": "ana", "password": analystPW})
	if rec.Code != 200 {
		t.Fatalf("login = %d %s", rec.Code, rec.Body)
	}
	ck := rec.Result().Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteLaxMode || ck[0].Name != e.au.CookieName() {
		t.Errorf("cookie %+v", ck)
	}
	m := decodeJSON[me](t, rec)
	if m.Name != "ana" || m.Role != store.RoleAnalyst || m.Auth != "session" || m.CSRFToken == "" || m.Expires.IsZero() {
		t.Errorf("login answer %+v", m)
	}
	c := &client{e: e, cookie: ck[0], csrf: m.CSRFToken}
	if got := decodeJSON[me](t, c.do("GET", "/me", nil)); got.CSRFToken != m.CSRFToken || got.FullName != "Ana Lyst" {
		t.Errorf("me = %+v", got)
	}
	rec = c.do("POST", "/logout", nil)
	if rec.Code != 204 || rec.Result().Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout = %d %v", rec.Code, rec.Result().Cookies())
	}
	if rec := c.do("GET", "/me", nil); rec.Code != 401 {
		t.Errorf("after logout: %d", rec.Code)
	}
	audit, _ := e.st.Audit(context.Background(), store.AuditQuery{Actor: "ana"})
	var actions []string
	for _, a := range audit.Entries {
		actions = append(actions, a.Action)
	}
	if !slices.Contains(actions, "login") || !slices.Contains(actions, "logout") {
		t.Errorf("audit actions of ana = %v", actions)
	}
}

func TestLoginRateLimitAPI(t *testing.T) {
	e := newEnv(t)
	e.au = auth.New(e.st, auth.Options{Params: auth.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}})
	e.api = New(e.st, e.au, Options{})
	e.h = e.api
	for i := range 5 {
		if rec := e.do(nil, "POST", "/login", map[string]string{"name": "ana", "password": "wrong password"}); rec.Code != 401 {
			t.Fatalf("attempt %d = %d", i, rec.Code)
		}
	}
	rec := e.do(nil, "POST", "/login", map[string]string{"name": "ana", "password": analystPW})
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "60" {
		t.Errorf("sixth attempt = %d, Retry-After %q; want 429, 60", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func TestTokensAPI(t *testing.T) {
	e := newEnv(t)
	an, ad := e.as("ana"), e.as("admin")
	rec := an.do("POST", "/tokens", map[string]any{"name": "sensor plant-a", "expires_in_days": 1})
	created := decodeJSON[struct {
		Token  token
		Secret string
	}](t, rec)
	if rec.Code != 201 || created.Token.User != "ana" || created.Token.Name != "sensor plant-a" || !strings.HasPrefix(created.Secret, auth.TokenPrefix) ||
		created.Token.Expires.Sub(created.Token.Created) != 24*time.Hour {
		t.Fatalf("create token = %d %s", rec.Code, rec.Body)
	}
	kept, err := e.st.Token(context.Background(), created.Token.ID)
	if err != nil {
		t.Fatal(err)
	}
	noHash := func(what string, rec *httptest.ResponseRecorder) {
		t.Helper()
		if body := rec.Body.String(); strings.Contains(body, kept.Hash) || strings.Contains(strings.ToLower(body), `"hash"`) {
			t.Errorf("%s carries the token hash: %s", what, body)
		}
	}
	noHash("create token", rec)
	tok := &client{e: e, bearer: created.Secret}
	if m := decodeJSON[me](t, tok.do("GET", "/me", nil)); m.Name != "ana" || m.Auth != "token" || m.CSRFToken != "" {
		t.Errorf("me by token = %+v", m)
	}
	if rec := an.do("GET", "/tokens?user=admin", nil); rec.Code != 403 {
		t.Errorf("analyst listing admin's tokens = %d", rec.Code)
	}
	if rec := an.do("POST", "/tokens", map[string]string{"name": "x", "user": "rita"}); rec.Code != 403 {
		t.Errorf("analyst making rita a token = %d", rec.Code)
	}
	adTok := decodeJSON[struct{ Token token }](t, ad.do("POST", "/tokens", map[string]string{"name": "for rita", "user": "rita"})).Token
	if rec := an.do("DELETE", "/tokens/"+adTok.ID, nil); rec.Code != 403 {
		t.Errorf("analyst deleting rita's token = %d", rec.Code)
	}
	rec = ad.do("GET", "/tokens", nil)
	noHash("token list", rec)
	all := decodeJSON[struct{ Tokens []token }](t, rec).Tokens
	mine := decodeJSON[struct{ Tokens []token }](t, an.do("GET", "/tokens", nil)).Tokens
	if len(all) != 2 || len(mine) != 1 || mine[0].ID != created.Token.ID {
		t.Errorf("tokens: all %+v, ana's %+v", all, mine)
	}
	if rec := ad.do("DELETE", "/tokens/"+created.Token.ID, nil); rec.Code != 204 {
		t.Errorf("admin deleting ana's token = %d", rec.Code)
	}
	if rec := tok.do("GET", "/me", nil); rec.Code != 401 {
		t.Errorf("deleted token = %d", rec.Code)
	}
}

func TestUsersAPI(t *testing.T) {
	e := newEnv(t)
	ad := e.as("admin")
	rec := ad.do("POST", "/users", map[string]any{"name": "bob", "full_name": "Bob", "role": "readonly", "password": "bob's long password"})
	if u := decodeJSON[store.User](t, rec); rec.Code != 201 || u.Name != "bob" || u.Role != store.RoleReadOnly || strings.Contains(rec.Body.String(), "argon2") {
		t.Fatalf("create user = %d %s", rec.Code, rec.Body)
	}
	if rec := e.do(nil, "POST", "/login", map[string]string{"name": "bob", "password": "bob's long password"}); rec.Code != 200 {
		t.Errorf("bob's login = %d", rec.Code)
	}
	bob := e.do(nil, "POST", "/login", map[string]string{"name": "bob", "password": "bob's long password"}).Result().Cookies()[0]
	if rec := ad.do("PUT", "/users/bob", map[string]any{"role": "analyst", "password": "bob's newer password"}); rec.Code != 200 {
		t.Errorf("update = %d %s", rec.Code, rec.Body)
	}
	if rec := (&client{e: e, cookie: bob}).do("GET", "/me", nil); rec.Code != 401 {
		t.Errorf("bob's session after a password reset = %d", rec.Code)
	}
	if rec := e.do(nil, "POST", "/login", map[string]string{"name": "bob", "password": "bob's newer password"}); decodeJSON[me](t, rec).Role != store.RoleAnalyst {
		t.Errorf("bob after update: %s", rec.Body)
	}
	us := decodeJSON[struct{ Users []store.User }](t, ad.do("GET", "/users", nil)).Users
	if len(us) != 4 {
		t.Errorf("users = %+v", us)
	}
	if rec := ad.do("DELETE", "/users/bob", nil); rec.Code != 204 {
		t.Errorf("delete = %d", rec.Code)
	}
	audit := decodeJSON[struct{ Entries []store.AuditEntry }](t, ad.do("GET", "/audit?object=user:bob", nil)).Entries
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	for _, want := range []string{"user.put", "user.password", "user.delete", "login"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit of user:bob lacks %s: %v", want, actions)
		}
	}
}

func TestConfigAPI(t *testing.T) {
	e := newEnv(t)
	ad, an := e.as("admin"), e.as("ana")
	if rec := ad.do("POST", "/sensors/s2/mode", map[string]string{"mode": "operational"}); decodeJSON[store.Sensor](t, rec).Mode != store.ModeOperational {
		t.Errorf("mode switch = %d %s", rec.Code, rec.Body)
	}
	// Updating a sensor without a mode keeps its mode.
	rec := ad.do("PUT", "/sensors/s2", map[string]string{"name": "Sensor two", "site": "plant", "zone": "cell1"})
	if s := decodeJSON[store.Sensor](t, rec); s.Mode != store.ModeOperational || s.Zone != "cell1" || s.Name != "Sensor two" {
		t.Errorf("sensor update = %d %s", rec.Code, rec.Body)
	}
	rec = an.do("POST", "/exclusions", map[string]any{"name": "maintenance", "subnet": "10.1.2.7/24", "device": "10.1.1.50"})
	x := decodeJSON[store.Exclusion](t, rec)
	if rec.Code != 201 || x.Subnet.String() != "10.1.2.0/24" || x.Author != "ana" || x.ID == 0 {
		t.Errorf("exclusion = %d %s", rec.Code, rec.Body)
	}
	if zs := decodeJSON[struct{ Zones []store.Zone }](t, an.do("GET", "/zones?site=plant", nil)).Zones; len(zs) != 1 || zs[0].Subnets[0].String() != "10.1.2.0/24" {
		t.Errorf("zones = %+v", zs)
	}
}

func TestAlertTypes(t *testing.T) {
	e := newEnv(t)
	ts := decodeJSON[struct{ Types []alertType }](t, e.as("rita").do("GET", "/alert-types", nil)).Types
	i := slices.IndexFunc(ts, func(x alertType) bool { return x.ID == "s7comm.plc_stop" })
	if len(ts) < 20 || i < 0 || ts[i].Severity.String() == "Unknown" {
		t.Errorf("%d alert types; s7comm.plc_stop at %d", len(ts), i)
	}
}

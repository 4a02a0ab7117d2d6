package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/evidence"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/sqlite"
)

// t0 is the fixture's reference time.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// Passwords of the fixture's users.
const (
	adminPW    = "admin password 1"
	analystPW  = "analyst password 1"
	readonlyPW = "readonly password 1"
)

// env is an API over a SQLite store holding a small plant: a site
// with a zone and two sensors, alerts of every engine, events, devices,
// an exclusion rule, and one user per role.
type env struct {
	t   *testing.T
	st  store.Store
	au  *auth.Auth
	api *API
	h   http.Handler
	ids map[string]string // alert ids by name
}

// openStore returns the store the tests run on: a new SQLite database in
// a temporary directory, closed when the test ends.
func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "otwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := openStore(t)
	au := auth.New(st, auth.Options{Params: auth.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32},
		IPLimit: auth.NewLimiter(1000, time.Millisecond), UserLimit: auth.NewLimiter(1000, time.Millisecond)})
	e := &env{t: t, st: st, au: au, ids: map[string]string{}}
	cat, errs := csaf.Load("testdata/advisory.json")
	if len(errs) > 0 {
		t.Fatalf("loading the test advisory: %v", errs)
	}
	e.api = New(st, au, Options{Version: "test", Advisories: cat})
	e.h = e.api
	e.seed()
	return e
}

func pcapng(t *testing.T) []byte {
	t.Helper()
	frame := bytes.Repeat([]byte{0xaa}, 60)
	var buf bytes.Buffer
	err := evidence.WritePcapng(&buf, []evidence.Packet{{Timestamp: t0, LinkType: layers.LinkTypeEthernet, Data: frame, Length: len(frame), Comment: "trigger"}},
		evidence.WriteOptions{Comment: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *env) seed() {
	t, ctx := e.t, context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := e.au.Bootstrap(ctx, "admin", adminPW)
	must(err)
	_, err = e.au.CreateUser(ctx, store.User{Name: "ana", FullName: "Ana Lyst", Role: store.RoleAnalyst}, analystPW, "admin")
	must(err)
	_, err = e.au.CreateUser(ctx, store.User{Name: "rita", Role: store.RoleReadOnly}, readonlyPW, "admin")
	must(err)
	must(e.st.PutSite(ctx, store.Site{ID: "plant", Name: "Plant"}, "admin"))
	must(e.st.PutZone(ctx, store.Zone{ID: "cell1", Site: "plant", Name: "Cell 1", Subnets: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")}}, "admin"))
	must(e.st.PutSensor(ctx, store.Sensor{ID: "s1", Name: "Sensor 1", Site: "plant", Zone: "cell1", Mode: store.ModeOperational}, "admin"))
	must(e.st.PutSensor(ctx, store.Sensor{ID: "s2", Name: "Sensor 2", Site: "plant", Mode: store.ModeLearning}, "admin"))

	hmi := alert.Party{IP: netip.MustParseAddr("10.1.1.50"), MAC: dissect.MAC{0, 0x1b, 0x1b, 1, 2, 3}, Port: 49152}
	plc := alert.Party{IP: netip.MustParseAddr("10.1.2.10"), MAC: dissect.MAC{0, 0x1b, 0x1b, 4, 5, 6}, Port: 102}
	laptop := alert.Party{IP: netip.MustParseAddr("10.1.1.99")}
	mk := func(name, typ string, sev alert.Severity, eng alert.Engine, cat, proto, sensor string, src, dst alert.Party, first time.Duration) *alert.Alert {
		f := t0.Add(first)
		a := &alert.Alert{ID: alert.ID(sensor, typ, src.Key(), dst.Key(), "", f), Type: typ, Title: name + " from " + src.String(),
			Description: "what happened", Severity: sev, Status: alert.New, Engine: eng, Category: cat, Protocol: proto, Source: src, Destination: dst,
			Sensor: sensor, Site: "plant", FirstDetection: f, LastDetection: f.Add(time.Minute), Count: 2,
			Tactics: []string{"TA0106"}, Techniques: []string{"T0816"}, Remediation: []string{"Check the PLC"}}
		if sensor == "s1" {
			a.Zone = "cell1"
		}
		e.ids[name] = a.ID
		return a
	}
	stop := mk("plc-stop", "s7.plc_stop", alert.Critical, alert.Operational, "Restart/Stop command", "s7comm", "s1", hmi, plc, 0)
	stop.Operation = &dissect.Operation{Time: t0, Protocol: "s7comm", Transport: "tcp", Client: dissect.Endpoint{IP: hmi.IP, Port: 49152},
		Server: dissect.Endpoint{IP: plc.IP, Port: 102}, FunctionCode: 0x29, FunctionName: "PLC Stop", Class: dissect.ClassRestart,
		Result: dissect.Result{Status: dissect.StatusOK}, Request: true, Response: true, Packets: []dissect.PacketRef{{Flow: 1, Index: 3, Frame: 17}},
		Attrs: []dissect.Attr{{Key: "pi", Value: "P_PROGRAM"}}, Detail: "S7 PLC STOP sent by 10.1.1.50 to 10.1.2.10"}
	stop.Details = []dissect.Attr{{Key: "function", Value: "stop"}}
	stop.Evidence = []dissect.PacketRef{{Flow: 1, Index: 3}}
	newDev := mk("new-device", "policy.new_device", alert.Medium, alert.Policy, "Abnormal communication", "modbus", "s1", laptop, plc, time.Minute)
	newDev.Learnable = true
	newDev.Learn = &baseline.Entry{Kind: baseline.KindConnection, Client: laptop.IP, Server: plc.IP, Protocol: "modbus", Port: 502}
	scan := mk("scan", "scan.tcp", alert.High, alert.Anomaly, "Scan", "", "s2", laptop, alert.Party{IP: netip.MustParseAddr("10.1.2.0")}, 2*time.Minute)
	scan.Learnable = true
	scan.Key = "tcp"
	malware := mk("malware", "malware.indicator", alert.High, alert.Malware, "Suspicious malware activity", "dns", "s2", hmi, alert.Party{IP: netip.MustParseAddr("198.51.100.7")}, 3*time.Minute)
	malware.Tactics, malware.Techniques, malware.Remediation = nil, nil, nil
	viol := mk("violation", "modbus.malformed", alert.Low, alert.Protocol, "Illegal commands", "modbus", "s1", hmi, plc, 4*time.Minute)
	viol.Title = "=HYPERLINK(\"http://evil\") malformed Modbus"
	must(e.st.PutAlerts(ctx, []*alert.Alert{stop, newDev, scan, malware, viol}))
	must(e.st.PutEvidence(ctx, stop.ID, pcapng(t)))

	devs := []inventory.Device{
		{ID: 1, MAC: "00:1b:1b:01:02:03", IPs: []string{"10.1.1.50"}, Name: "hmi-1", Vendor: "Siemens", Type: inventory.TypeHMI, Purdue: 2,
			FirstSeen: t0, LastSeen: t0.Add(time.Hour), Serves: []inventory.Service{{Protocol: "http", Transport: "tcp", Port: 80}},
			Uses:  []inventory.Service{{Protocol: "s7comm", Transport: "tcp", Port: 102}},
			Facts: []inventory.Fact{{Key: "vendor", Value: "Siemens", Source: "oui", Rank: 1, First: t0, Last: t0, Best: true}}},
		{ID: 2, MAC: "00:1b:1b:04:05:06", IPs: []string{"10.1.2.10"}, Name: "plc-1", Vendor: "Siemens", Model: "S7-1500", Firmware: "V2.9",
			Type: inventory.TypePLC, Purdue: 1, FirstSeen: t0, LastSeen: t0.Add(time.Hour), Authorized: true,
			Serves: []inventory.Service{{Protocol: "s7comm", Transport: "tcp", Port: 102, Classes: []string{"read", "restart"}}}},
		{ID: 3, IPs: []string{"10.1.1.99"}, Type: inventory.TypeUnknown, Purdue: -1, FirstSeen: t0.Add(time.Minute), LastSeen: t0.Add(2 * time.Minute)},
	}
	must(e.st.PutDevices(ctx, "s1", devs))
	must(e.st.PutConnections(ctx, "s1", []inventory.Connection{{Client: 1, Server: 2, Protocol: "s7comm", Transport: "tcp", Port: 102,
		First: t0, Last: t0.Add(time.Hour), PacketsTo: 10, PacketsFr: 10, BytesTo: 1000, BytesFr: 900, ClassMask: 1 << dissect.ClassRestart,
		Classes: []string{"restart"}, Requests: 5, Interval: 1.5, Regular: true}}))
	must(e.st.PutEvents(ctx, []store.Event{
		{Time: t0.Add(-10 * time.Minute), Sensor: "s1", Type: "new_device", Device: "10.1.1.99", DeviceID: 3, Detail: "new device"},
		{Time: t0, Sensor: "s1", Type: "alert", Device: "10.1.1.50", Peer: "10.1.2.10", AlertID: stop.ID, Detail: "S7 PLC stop"},
		{Time: t0.Add(5 * time.Minute), Sensor: "s1", Type: "mode_change", Device: "10.1.2.10", DeviceID: 2, Detail: "PLC in STOP"},
		{Time: t0.Add(48 * time.Hour), Sensor: "s2", Type: "firmware_change", Device: "10.9.9.9", Detail: "later"},
	}))
	_, err = e.st.PutExclusion(ctx, store.Exclusion{Name: "scanner", Type: "scan.*", Device: "10.1.1.200"}, "admin")
	must(err)
}

// client makes requests as one user, by session or by token.
type client struct {
	e      *env
	cookie *http.Cookie
	csrf   string
	bearer string
	noCSRF bool
}

// as logs in as user (a session, with its CSRF token).
func (e *env) as(user string) *client {
	e.t.Helper()
	pw := map[string]string{"admin": adminPW, "ana": analystPW, "rita": readonlyPW}[user]
	rec := e.do(nil, "POST", "/login", map[string]string{"name": user, "password": pw})
	if rec.Code != 200 {
		e.t.Fatalf("login %s: %d %s", user, rec.Code, rec.Body)
	}
	var m struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m.CSRF == "" {
		e.t.Fatalf("login %s: %s", user, rec.Body)
	}
	return &client{e: e, cookie: rec.Result().Cookies()[0], csrf: m.CSRF}
}

// token returns a client using a new API token of user.
func (e *env) token(user string) *client {
	e.t.Helper()
	_, secret, err := e.au.CreateToken(context.Background(), user, "test", 0, user)
	if err != nil {
		e.t.Fatal(err)
	}
	return &client{e: e, bearer: secret}
}

// anon is a client without credentials.
func (e *env) anon() *client { return &client{e: e} }

// do sends a request to the API; body is JSON-encoded unless it is a
// string or []byte, sent as is.
func (e *env) do(c *client, method, path string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, Prefix+path, rd)
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if c != nil {
		if c.cookie != nil {
			r.AddCookie(c.cookie)
			if !c.noCSRF {
				r.Header.Set(auth.CSRFHeader, c.csrf)
			}
		}
		if c.bearer != "" {
			r.Header.Set("Authorization", "Bearer "+c.bearer)
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	return rec
}

func (c *client) do(method, path string, body any) *httptest.ResponseRecorder {
	c.e.t.Helper()
	return c.e.do(c, method, path, body)
}

// json decodes a response body.
func decodeJSON[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("response %d %q: %v", rec.Code, rec.Body, err)
	}
	return v
}

// snapshot returns the store's state, to check that a failed request
// changed nothing.
func (e *env) snapshot() string {
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
	add(e.st.Alerts(ctx, store.AlertQuery{Limit: store.MaxLimit}))
	for _, id := range e.ids {
		add(e.st.Comments(ctx, id))
		add(e.st.History(ctx, id))
	}
	add(e.st.Mutes(ctx))
	add(e.st.Sites(ctx))
	add(e.st.Zones(ctx, ""))
	add(e.st.Sensors(ctx))
	add(e.st.Exclusions(ctx))
	add(e.st.Overrides(ctx))
	add(e.st.Users(ctx))
	add(e.st.Baseline(ctx, "s1"))
	add(e.st.Baseline(ctx, "s2"))
	add(e.st.RecommendationStatuses(ctx, nil))
	ts, err := e.au.Tokens(ctx, "")
	for i := range ts {
		ts[i].LastUsed = time.Time{} // using a token is not a change
	}
	add(ts, err)
	p, err := e.st.Audit(ctx, store.AuditQuery{Limit: store.MaxLimit})
	var changes []store.AuditEntry
	for _, a := range p.Entries {
		if a.Action != "login" && !strings.HasSuffix(a.Action, ".failed") { // attempts, not changes
			changes = append(changes, a)
		}
	}
	add(changes, err)
	return b.String()
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recommendationID returns the ID of the first recommendation for the
// fixture's PLC (s1/2): the update the test advisory calls for.
func (e *env) recommendationID() string {
	e.t.Helper()
	rec, err := e.st.Device(context.Background(), "s1", 2)
	if err != nil {
		e.t.Fatal(err)
	}
	d, err := e.api.fleet.Device(context.Background(), rec)
	if err != nil || len(d.Recommendations) == 0 {
		e.t.Fatalf("no recommendation for the PLC: %v", err)
	}
	return d.Recommendations[0].ID
}

package web

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/storetest"
)

// synthAlerts makes n alerts of the registered alert types spread over
// sensors "synth-0" to "synth-<sensors-1>", three sites and 5,000
// devices, one a second from 2026-01-01, deterministically.
func synthAlerts(n, sensors int) []*alert.Alert {
	types := detect.Types()
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dev := func() alert.Party {
		i := rng.IntN(5000)
		return alert.Party{IP: netip.AddrFrom4([4]byte{10, 20, byte(i / 250), byte(1 + i%250)}), Port: uint16(1024 + rng.IntN(60000))}
	}
	out := make([]*alert.Alert, n)
	for i := range out {
		t := types[rng.IntN(len(types))]
		sensor := "synth-" + strconv.Itoa(i%sensors)
		src, dst := dev(), dev()
		first := start.Add(time.Duration(i) * time.Second)
		proto := t.Protocol
		if proto == "" {
			proto = []string{"modbus", "s7comm", "enip", "dnp3", "tcp"}[rng.IntN(5)]
		}
		key := strconv.Itoa(i)
		out[i] = &alert.Alert{ID: alert.ID(sensor, t.ID, src.Key(), dst.Key(), key, first), Type: t.ID,
			Title: alert.Expand(t.Title, src, dst, proto, "detail "+key), Description: t.Description,
			Severity: t.Severity, Status: alert.New, Engine: t.Engine, Category: t.Category, Protocol: proto, Source: src, Destination: dst,
			Sensor: sensor, Site: "site-" + strconv.Itoa(i%sensors%3), Zone: "zone-" + strconv.Itoa(i%sensors%6), Key: key,
			FirstDetection: first, LastDetection: first.Add(time.Duration(rng.IntN(3600)) * time.Second), Count: uint64(1 + rng.IntN(20)),
			Techniques: t.Techniques, Remediation: t.Remediation, Learnable: t.Learnable}
	}
	return out
}

// synthDevices makes a sensor's inventory of n devices on /24 subnets of
// 10.30.0.0/16, at every Purdue level, each the client of two others.
func synthDevices(n int) ([]inventory.Device, []inventory.Connection) {
	rng := rand.New(rand.NewPCG(2, uint64(n)))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	devs := make([]inventory.Device, n)
	for i := range devs {
		typ := inventory.Types[i%len(inventory.Types)]
		devs[i] = inventory.Device{ID: inventory.DeviceID(i + 1), IPs: []string{fmt.Sprintf("10.30.%d.%d", i/200, 1+i%200)},
			MAC: fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff), Name: fmt.Sprintf("dev-%04d", i),
			Type: typ, Purdue: i % 6, FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	}
	var conns []inventory.Connection
	protos := []string{"modbus", "s7comm", "enip", "http", "dns"}
	for i := range devs {
		for k := 0; k < 2; k++ {
			j := rng.IntN(n)
			if j == i {
				continue
			}
			conns = append(conns, inventory.Connection{Client: devs[i].ID, Server: devs[j].ID, Protocol: protos[(i+k)%len(protos)],
				Transport: "tcp", Port: uint16(100 + k), First: t0, Last: t0.Add(time.Hour), PacketsTo: 10, PacketsFr: 10})
		}
	}
	return devs, conns
}

// loadAlerts stores alerts in batches.
func loadAlerts(tb testing.TB, st store.Store, alerts []*alert.Alert) {
	tb.Helper()
	for len(alerts) > 0 {
		k := min(len(alerts), 1000)
		if err := st.PutAlerts(context.Background(), alerts[:k]); err != nil {
			tb.Fatal(err)
		}
		alerts = alerts[k:]
	}
}

// benchServer is the pages over a fresh store, with a logged-in session.
type benchServer struct {
	st     store.Store
	h      http.Handler
	cookie *http.Cookie
}

func newBenchServer(tb testing.TB) *benchServer {
	tb.Helper()
	st, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	au := auth.New(st, auth.Options{Params: fastParams})
	if _, err := au.CreateUser(context.Background(), store.User{Name: "ana", Role: store.RoleAnalyst}, "analyst password 1", "bench"); err != nil {
		tb.Fatal(err)
	}
	_, secret, err := au.Login(context.Background(), "ana", "analyst password 1", "127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	return &benchServer{st: st, h: New(st, au, Options{}), cookie: &http.Cookie{Name: au.CookieName(), Value: secret}}
}

// get serves one page and fails unless it is a 200.
func (s *benchServer) get(tb testing.TB, path string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(s.cookie)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("%s: %d %s", path, rec.Code, clipBody(rec.Body.String()))
	}
	return rec
}

// BenchmarkAlertsPage renders the first page of the alerts grid, server
// side, with its facets, over 1,000,000 × OTWATCH_BENCH_SCALE alerts in
// a SQLite store (10,000 when the variable is unset).
func BenchmarkAlertsPage(b *testing.B) {
	scale, err := storetest.Scale()
	if err != nil {
		b.Fatal(err)
	}
	n := int(float64(storetest.FullAlerts) * scale)
	s := newBenchServer(b)
	loadAlerts(b, s.st, synthAlerts(n, 10))
	for _, bc := range []struct{ name, path string }{
		{"default", "/alerts"},
		{"by_severity", "/alerts?sort=severity"},
		{"sensor_and_severity", "/alerts?sensor=synth-3&severity=High"},
		{"grouped_by_engine", "/alerts?group=engine"},
		{"text", "/alerts?q=modbus"},
		{"device", "/alerts?device=10.20.3.7"},
		{"last_day", "/alerts?from=2026-01-12T00:00&sort=severity"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var bytes int
			for b.Loop() {
				bytes = s.get(b, bc.path).Body.Len()
			}
			b.ReportMetric(float64(n), "alerts")
			b.ReportMetric(float64(bytes), "bytes/page")
		})
	}
}

// BenchmarkMapPage renders the device map page of a sensor with 2,000
// devices.
func BenchmarkMapPage(b *testing.B) {
	s := newBenchServer(b)
	devs, conns := synthDevices(2000)
	ctx := context.Background()
	if err := s.st.PutSensor(ctx, store.Sensor{ID: "big", Name: "Big"}, "bench"); err != nil {
		b.Fatal(err)
	}
	if err := s.st.PutDevices(ctx, "big", devs); err != nil {
		b.Fatal(err)
	}
	if err := s.st.PutConnections(ctx, "big", conns); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var bytes int
	for b.Loop() {
		bytes = s.get(b, "/map?sensor=big").Body.Len()
	}
	b.ReportMetric(float64(bytes), "bytes/page")
}

// TestMapPageScale draws the map of a sensor with 2,000 devices: every
// device is on it once, with its link, and a filter keeps the devices of
// one level.
func TestMapPageScale(t *testing.T) {
	s := newBenchServer(t)
	devs, conns := synthDevices(2000)
	ctx := context.Background()
	if err := s.st.PutSensor(ctx, store.Sensor{ID: "big", Name: "Big"}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.st.PutDevices(ctx, "big", devs); err != nil {
		t.Fatal(err)
	}
	if err := s.st.PutConnections(ctx, "big", conns); err != nil {
		t.Fatal(err)
	}
	body := s.get(t, "/map?sensor=big").Body.String()
	if n := strings.Count(body, "data-device-id="); n != len(devs) {
		t.Errorf("the map draws %d devices, the sensor has %d", n, len(devs))
	}
	if n := strings.Count(body, `<a href="/devices/big/`); n != len(devs) {
		t.Errorf("%d device links, want %d", n, len(devs))
	}
	lvl := 0
	for _, d := range devs {
		if d.Purdue == 2 {
			lvl++
		}
	}
	body = s.get(t, "/map?sensor=big&level=2").Body.String()
	if n := strings.Count(body, "data-device-id="); n != lvl {
		t.Errorf("filtered on level 2, the map draws %d devices, want %d", n, lvl)
	}
}

package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/sqlite"
)

// benchAlerts returns how many alerts the benchmarks store:
// OTWATCH_BENCH_ALERTS, default 100,000.
func benchAlerts(b *testing.B) int {
	if s := os.Getenv("OTWATCH_BENCH_ALERTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("OTWATCH_BENCH_ALERTS=%q", s)
		}
		return n
	}
	return 100000
}

// BenchmarkListAlerts measures the API's alert grid requests (a page of
// 50 and the facet counts, as the alerts page makes them) on a SQLite
// store of benchAlerts alerts, with the request's authentication.
func BenchmarkListAlerts(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	n := benchAlerts(b)
	sevs := []alert.Severity{alert.Low, alert.Medium, alert.High, alert.Critical}
	batch := make([]*alert.Alert, 0, 10000)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		src := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8 % 4), byte(i)})
		dst := netip.AddrFrom4([4]byte{10, 2, 0, byte(i % 50)})
		f := t0.Add(time.Duration(i) * time.Second)
		sensor := fmt.Sprintf("s%d", i%8)
		typ := fmt.Sprintf("type.%d", i%40)
		batch = append(batch, &alert.Alert{ID: alert.ID(sensor, typ, src.String(), dst.String(), "", f), Type: typ,
			Title: "alert " + typ + " from " + src.String(), Severity: sevs[i%4], Status: alert.New, Engine: alert.Engines()[i%5],
			Category: fmt.Sprintf("cat%d", i%10), Protocol: fmt.Sprintf("proto%d", i%6), Sensor: sensor, Site: "plant",
			Source: alert.Party{IP: src}, Destination: alert.Party{IP: dst}, FirstDetection: f, LastDetection: f, Count: 1})
		if len(batch) == cap(batch) || i == n-1 {
			if err := st.PutAlerts(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	au := auth.New(st, auth.Options{Params: auth.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}})
	if _, err := au.CreateUser(ctx, store.User{Name: "ana", Role: store.RoleAnalyst}, "analyst password", "bench"); err != nil {
		b.Fatal(err)
	}
	_, secret, err := au.CreateToken(ctx, "ana", "bench", 0, "bench")
	if err != nil {
		b.Fatal(err)
	}
	h := New(st, au, Options{})
	for _, q := range []string{"", "severity=Critical", "sensor=s3", "q=type"} {
		for _, path := range []string{"/alerts?limit=50&", "/alerts/facets?"} {
			b.Run(fmt.Sprintf("%s%s", path, q), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					r := httptest.NewRequest("GET", Prefix+path+q, nil)
					r.Header.Set("Authorization", "Bearer "+secret)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != 200 {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		}
	}
}

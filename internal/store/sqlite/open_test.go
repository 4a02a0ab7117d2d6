package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/storetest"
)

// files lists the names in dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestOpenNotSQLite(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
	}{
		{"text", []byte("name,ip\nplc-1,10.1.2.10\n")},
		{"pcap", []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}},
		{"short header", []byte("SQLite for")},
		{"corrupt sqlite", append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xee}, 4096)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "otwatch.db")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := store.Open(context.Background(), path, store.Options{})
			if !errors.Is(err, store.ErrNotDatabase) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open = %v, want ErrNotDatabase naming the file", err)
			}
			got, _ := os.ReadFile(path)
			if !bytes.Equal(got, tt.content) {
				t.Error("the file was changed")
			}
			if fs := files(t, dir); len(fs) != 1 {
				t.Errorf("directory holds %v after a refused open, want only the file", fs)
			}
		})
	}
	_, err := store.Open(context.Background(), t.TempDir(), store.Options{})
	if !errors.Is(err, store.ErrNotDatabase) {
		t.Errorf("Open(directory) = %v, want ErrNotDatabase", err)
	}
}

// TestOpenForeignSQLite checks that a SQLite database of another
// application is refused and left exactly as it was, journal mode
// included.
func TestOpenForeignSQLite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "crm.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'ACME')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	_, err = store.Open(context.Background(), "sqlite:"+path, store.Options{})
	if !errors.Is(err, store.ErrNotDatabase) || !strings.Contains(err.Error(), "another application") {
		t.Fatalf("Open = %v, want ErrNotDatabase (another application)", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("the foreign database was changed")
	}
	if fs := files(t, dir); len(fs) != 1 {
		t.Errorf("directory holds %v, want only crm.db", fs)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "otwatch.db")
	s, err := Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, _ := sql.Open("sqlite", path)
	if _, err := db.Exec("INSERT INTO schema_version VALUES (99, '0099_future.sql', 0)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(context.Background(), path, store.Options{})
	if !errors.Is(err, store.ErrNotDatabase) || !strings.Contains(err.Error(), "99") {
		t.Errorf("Open = %v, want ErrNotDatabase naming version 99", err)
	}
}

func TestMigrationsNumbered(t *testing.T) {
	names, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	if SchemaVersion() != len(names) || SchemaVersion() < 2 {
		t.Errorf("SchemaVersion() = %d with %d files", SchemaVersion(), len(names))
	}
	for i, n := range names {
		if want := fmt.Sprintf("%04d_", i+1); !strings.HasPrefix(n.Name(), want) {
			t.Errorf("migration %d is %s, want %s...", i+1, n.Name(), want)
		}
	}
}

// testAlerts returns n alerts over a few values of every dimension.
func testAlerts(n int, start time.Time) []*alert.Alert {
	out := make([]*alert.Alert, n)
	for i := range out {
		src := alert.Party{IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + i%7)})}
		dst := alert.Party{IP: netip.AddrFrom4([4]byte{10, 0, 1, byte(1 + i%5)}), Name: fmt.Sprintf("plc-%d", i%5)}
		first := start.Add(time.Duration(i) * time.Minute)
		a := &alert.Alert{Type: []string{"s7.plc_stop", "modbus.write", "scan.port"}[i%3], Severity: alert.Severity(1 + i%4),
			Status: alert.Status(1 + i%3), Engine: alert.Engine(1 + i%5), Category: []string{"Scan", "Illegal commands"}[i%2],
			Protocol: []string{"s7comm", "modbus", ""}[i%3], Source: src, Destination: dst, Sensor: fmt.Sprintf("s%d", i%4),
			Site: fmt.Sprintf("site-%d", i%2), Zone: fmt.Sprintf("zone-%d", i%3), FirstDetection: first, LastDetection: first.Add(time.Second),
			Count: 1, Title: fmt.Sprintf("alert %d", i)}
		a.ID = alert.ID(a.Sensor, a.Type, src.Key(), dst.Key(), "", first)
		out[i] = a
	}
	return out
}

// countBy counts alerts per value of a field, by brute force.
func countBy(as []*alert.Alert, keep func(*alert.Alert) bool, field func(*alert.Alert) string) map[string]int64 {
	out := map[string]int64{}
	for _, a := range as {
		if keep(a) {
			out[field(a)]++
		}
	}
	return out
}

func facetMap(f store.Facets, d store.Dim) map[string]int64 {
	out := map[string]int64{}
	for _, c := range f.Counts[d] {
		out[c.Value] = c.Count
	}
	return out
}

// putV1 stores alerts as version 1 of the schema holds them, with plain
// SQL as an otwatch of that version would have.
func putV1(t *testing.T, db *sql.DB, as []*alert.Alert) {
	t.Helper()
	id := func(s string) int64 {
		if s == "" {
			return 0
		}
		if _, err := db.Exec("INSERT OR IGNORE INTO dict(s) VALUES (?)", s); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := db.QueryRow("SELECT id FROM dict WHERE s = ?", s).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, a := range as {
		doc, _ := json.Marshal(a)
		res, err := db.Exec(`INSERT INTO alerts(id, sensor, site, zone, type, category, protocol, src, dst, srct, dstt,
			severity, status, engine, first_ns, last_ns, count, updated_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			a.ID, id(a.Sensor), id(a.Site), id(a.Zone), id(a.Type), id(a.Category), id(a.Protocol),
			id(store.PartyKey(a.Source)), id(store.PartyKey(a.Destination)), id(store.PartyText(a.Source)), id(store.PartyText(a.Destination)),
			int(a.Severity), int(a.Status), int(a.Engine), a.FirstDetection.UnixNano(), a.LastDetection.UnixNano(), int64(a.Count), 0)
		if err != nil {
			t.Fatal(err)
		}
		rid, _ := res.LastInsertId()
		if _, err := db.Exec("INSERT INTO alert_docs VALUES (?, ?)", rid, doc); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrateFromV1 makes a version 1 database holding alerts, opens it
// with this version, and checks that the facet counts added by version 2
// count the old alerts, and keep counting new ones and status changes.
func TestMigrateFromV1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "otwatch.db")
	old, err := open(ctx, path, store.Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	as := testAlerts(90, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	putV1(t, old.w, as)
	var v int
	if err := old.r.QueryRow("SELECT max(version) FROM schema_version").Scan(&v); err != nil || v != 1 {
		t.Fatalf("old database at version %d, %v", v, err)
	}
	old.Close()

	s, err := Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.r.QueryRow("SELECT max(version) FROM schema_version").Scan(&v); err != nil || v != SchemaVersion() {
		t.Fatalf("migrated database at version %d, %v; want %d", v, err, SchemaVersion())
	}
	check := func(what string) {
		t.Helper()
		f, err := s.AlertFacets(ctx, store.AlertQuery{Statuses: []alert.Status{alert.New}})
		if err != nil {
			t.Fatal(err)
		}
		all := func(*alert.Alert) bool { return true }
		isNew := func(a *alert.Alert) bool { return a.Status == alert.New }
		if got, want := facetMap(f, store.DimStatus), countBy(as, all, func(a *alert.Alert) string { return a.Status.String() }); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: status facet %v, want %v", what, got, want)
		}
		if got, want := facetMap(f, store.DimSensor), countBy(as, isNew, func(a *alert.Alert) string { return a.Sensor }); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: sensor facet of New alerts %v, want %v", what, got, want)
		}
		if want := int64(len(countBy(as, isNew, func(a *alert.Alert) string { return a.ID }))); f.Total != want {
			t.Errorf("%s: %d New alerts, want %d", what, f.Total, want)
		}
	}
	check("after migration")
	more := testAlerts(120, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))[90:]
	if err := s.PutAlerts(ctx, more); err != nil {
		t.Fatal(err)
	}
	as = append(as, more...)
	var ids []string
	for _, a := range as[:30] {
		if a.Status == alert.New {
			ids = append(ids, a.ID)
			a.Status = alert.Active
		}
	}
	if err := s.SetStatus(ctx, ids, alert.Active, "ana", ""); err != nil {
		t.Fatal(err)
	}
	check("after new alerts and status changes")
	// Text search works on the old alerts too.
	p, err := s.Alerts(ctx, store.AlertQuery{Text: "plc-3", Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if want := countBy(as, func(a *alert.Alert) bool { return a.Destination.Name == "plc-3" }, func(*alert.Alert) string { return "" })[""]; int64(len(p.Alerts)) != want {
		t.Errorf("text search after migration: %d alerts, want %d", len(p.Alerts), want)
	}
}

func TestPath(t *testing.T) {
	cwd, _ := os.Getwd()
	tests := []struct{ dsn, want string }{
		{"otwatch.db", filepath.Join(cwd, "otwatch.db")},
		{"/var/lib/otwatch/otwatch.db", "/var/lib/otwatch/otwatch.db"},
		{"sqlite:/var/lib/otwatch.db", "/var/lib/otwatch.db"},
		{"sqlite:///var/lib/otwatch.db", "/var/lib/otwatch.db"},
		{"SQLITE:data/x.db", filepath.Join(cwd, "data/x.db")},
		{"file:/tmp/x.db?mode=rwc", "/tmp/x.db"},
		{"/tmp/odd name?.db", "/tmp/odd name?.db"},
	}
	for _, tt := range tests {
		got, err := Path(tt.dsn)
		if err != nil || got != tt.want {
			t.Errorf("Path(%q) = %q, %v; want %q", tt.dsn, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "sqlite:", ":memory:", "sqlite::memory:"} {
		if _, err := Path(bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Path(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// TestOddPath opens a database whose path needs escaping in a URI.
func TestOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir#with?odd%chars")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "otwatch.db")
	s, err := Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}

// TestReopenAndSecondHandle checks that data survives closing, and that
// a second handle on the same file sees what the first writes (the
// dictionary cache included).
func TestReopenAndSecondHandle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "otwatch.db")
	a, err := Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	as := testAlerts(40, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err := a.PutAlerts(ctx, as[:20]); err != nil {
		t.Fatal(err)
	}
	a.Close()
	a, err = Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	late := as[20:]
	for _, x := range late {
		x.Sensor = "late-sensor"
	}
	if err := a.PutAlerts(ctx, late); err != nil {
		t.Fatal(err)
	}
	for _, q := range []store.AlertQuery{{Sensors: []string{"late-sensor"}}, {Text: "late-sen"}} {
		p, err := b.Alerts(ctx, store.AlertQuery{Sensors: q.Sensors, Text: q.Text, Limit: 100})
		if err != nil || len(p.Alerts) != len(late) {
			t.Errorf("second handle, %+v: %d alerts, %v; want %d", q, len(p.Alerts), err, len(late))
		}
		f, err := b.AlertFacets(ctx, q)
		if err != nil || f.Total != int64(len(late)) {
			t.Errorf("second handle facets, %+v: total %d, %v; want %d", q, f.Total, err, len(late))
		}
	}
}

// TestConcurrent runs writers and readers at once: WAL lets queries run
// while a batch is written, and nothing fails with "database is locked".
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "otwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	as := testAlerts(2000, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w * 1000; i < (w+1)*1000; i += 50 {
				if err := s.PutAlerts(ctx, as[i:i+50]); err != nil {
					errs <- err
					return
				}
				if err := s.PutEvents(ctx, []store.Event{{Time: as[i].FirstDetection, Type: "x", Device: "10.0.0.1"}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				if _, err := s.Alerts(ctx, store.AlertQuery{Severities: []alert.Severity{alert.High}}); err != nil {
					errs <- err
					return
				}
				if _, err := s.AlertFacets(ctx, store.AlertQuery{Text: "plc"}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	f, _ := s.AlertFacets(ctx, store.AlertQuery{})
	if f.Total != 2000 {
		t.Errorf("%d alerts stored, want 2000", f.Total)
	}
}

// TestEvidenceNextToDatabase checks the default evidence directory.
func TestEvidenceNextToDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "otwatch.db")
	s, err := Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	as := testAlerts(1, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err := s.PutAlerts(ctx, as); err != nil {
		t.Fatal(err)
	}
	shb := []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0}
	if err := s.PutEvidence(ctx, as[0].ID, shb); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(path+".evidence", as[0].ID+".pcapng")
	if got, err := os.ReadFile(want); err != nil || !bytes.Equal(got, shb) {
		t.Errorf("evidence file %s: %v", want, err)
	}
	if s.EvidenceDir() != path+".evidence" {
		t.Errorf("EvidenceDir() = %s", s.EvidenceDir())
	}
}

// TestMigrateDeviceIDs stores devices with schema version 3, which kept
// no device IDs of its own, and checks that the upgraded database keeps
// their IDs.
func TestMigrateDeviceIDs(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "otwatch.db")
	old, err := open(ctx, path, store.Options{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	storetest.UpgradeDeviceIDs(t, func(sensor string, devs []inventory.Device) {
		if err := old.PutDevices(ctx, sensor, devs); err != nil {
			t.Fatal(err)
		}
	}, func() store.Store {
		old.Close()
		s, err := Open(ctx, path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

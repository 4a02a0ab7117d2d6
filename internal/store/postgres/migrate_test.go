package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/storetest"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// sampleAlerts returns n alerts spread over sensors, types, severities
// and statuses.
func sampleAlerts(n int) []*alert.Alert {
	types := []struct {
		id, category, protocol string
		sev                    alert.Severity
		eng                    alert.Engine
	}{
		{"s7.plc_stop", "Restart/Stop command", "s7comm", alert.Critical, alert.Operational},
		{"modbus.write", "Illegal commands", "modbus", alert.High, alert.Policy},
		{"scan.port", "Scan", "", alert.Medium, alert.Anomaly},
	}
	out := make([]*alert.Alert, n)
	for i := range out {
		ty := types[i%len(types)]
		sensor := fmt.Sprintf("s%d", i%2+1)
		src := alert.Party{IP: netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + i%5)})}
		dst := alert.Party{IP: netip.AddrFrom4([4]byte{10, 0, 1, byte(1 + i%7)}), Name: fmt.Sprintf("plc-%d", i%7)}
		first := t0.Add(time.Duration(i) * time.Minute)
		out[i] = &alert.Alert{
			ID: alert.ID(sensor, ty.id, src.Key(), dst.Key(), "", first), Type: ty.id, Title: ty.id + " seen",
			Severity: ty.sev, Engine: ty.eng, Category: ty.category, Protocol: ty.protocol, Status: alert.Status(1 + i%3),
			Source: src, Destination: dst, Sensor: sensor, Site: "plant-" + sensor, Zone: "cell",
			FirstDetection: first, LastDetection: first.Add(time.Duration(i%4) * time.Second), Count: uint64(1 + i%3),
		}
	}
	return out
}

// countBy counts alerts per value of one field, the oracle facet counts
// are checked against.
func countBy(alerts []*alert.Alert, key func(a *alert.Alert) string) map[string]int64 {
	out := map[string]int64{}
	for _, a := range alerts {
		out[key(a)]++
	}
	return out
}

// checkCounts compares facets with the oracle for the dimensions sampleAlerts varies.
func checkCounts(t *testing.T, what string, f store.Facets, alerts []*alert.Alert) {
	t.Helper()
	if f.Total != int64(len(alerts)) {
		t.Errorf("%s: total %d, want %d", what, f.Total, len(alerts))
	}
	for d, key := range map[store.Dim]func(a *alert.Alert) string{
		store.DimSensor:   func(a *alert.Alert) string { return a.Sensor },
		store.DimType:     func(a *alert.Alert) string { return a.Type },
		store.DimStatus:   func(a *alert.Alert) string { return a.Status.String() },
		store.DimSeverity: func(a *alert.Alert) string { return a.Severity.String() },
		store.DimProtocol: func(a *alert.Alert) string { return a.Protocol },
	} {
		want := countBy(alerts, key)
		got := map[string]int64{}
		for _, c := range f.Counts[d] {
			got[c.Value] = c.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: facet %s = %v, want %v", what, d, got, want)
		}
	}
}

func schemaVersion(t *testing.T, dsn string) int {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v int
	if err := c.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// putV1 stores alerts in the schema of dsn, at version 1. This version's
// PutAlerts needs what later versions add, so the alerts are stored in a
// schema of the current version and their rows copied, in version 1's
// columns.
func putV1(t *testing.T, dsn string, alerts []*alert.Alert) {
	t.Helper()
	ctx := context.Background()
	cur := freshSchema(t)
	s, err := Open(ctx, cur, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutAlerts(ctx, alerts); err != nil {
		t.Fatal(err)
	}
	s.Close()
	c, err := pgx.Connect(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	var from string
	err = c.QueryRow(ctx, "SELECT quote_ident(current_schema())").Scan(&from)
	c.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const cols = `id, combo, sensor, site, zone, type, category, protocol, src, dst, srct, dstt, severity, status, engine,
		first_ns, last_ns, count, updated_ns, text, doc`
	exec(t, dsn,
		"INSERT INTO dict SELECT * FROM "+from+".dict",
		"INSERT INTO combos SELECT * FROM "+from+".combos",
		"INSERT INTO texts SELECT * FROM "+from+".texts",
		"INSERT INTO alerts ("+cols+") SELECT "+cols+" FROM "+from+".alerts ORDER BY rid",
		"SELECT setval(pg_get_serial_sequence('dict', 'id'), max(id)) FROM dict",
		"SELECT setval(pg_get_serial_sequence('combos', 'id'), max(id)) FROM combos",
		"SELECT setval(pg_get_serial_sequence('texts', 'id'), max(id)) FROM texts")
}

func TestMigrationFiles(t *testing.T) {
	files, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 2 || SchemaVersion() != len(files) {
		t.Errorf("SchemaVersion() = %d with %d migration files", SchemaVersion(), len(files))
	}
	for i, m := range migrations {
		if m.Version != i+1 || m.SQL == "" {
			t.Errorf("migration %d: version %d, %d bytes", i, m.Version, len(m.SQL))
		}
	}
}

// TestMigrateOlderSchema stores alerts with the first schema version,
// which has no facet counts, then opens the database with the current
// one: the migration must count the alerts stored before it, and the
// triggers it adds must count those stored after.
func TestMigrateOlderSchema(t *testing.T) {
	dsn := freshSchema(t)
	ctx := context.Background()
	old, err := open(ctx, dsn, store.Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	all := sampleAlerts(40)
	putV1(t, dsn, all[:30])
	if v := schemaVersion(t, dsn); v != 1 {
		t.Fatalf("schema version %d after opening at version 1", v)
	}

	s, err := Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatalf("opening a version 1 schema: %v", err)
	}
	defer s.Close()
	if v := schemaVersion(t, dsn); v != SchemaVersion() {
		t.Errorf("schema version %d after migrating, want %d", v, SchemaVersion())
	}
	f, err := s.AlertFacets(ctx, store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "alerts stored before the migration", f, all[:30])
	if err := s.PutAlerts(ctx, all[30:]); err != nil {
		t.Fatal(err)
	}
	if err := s.SetStatus(ctx, []string{all[1].ID}, alert.Closed, "ana", ""); err != nil {
		t.Fatal(err)
	}
	all[1].Status = alert.Closed
	f, err = s.AlertFacets(ctx, store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, "after more alerts and a status change", f, all)
	// Opening again changes nothing.
	s.Close()
	s2, err := Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer s2.Close()
	f, _ = s2.AlertFacets(ctx, store.AlertQuery{})
	checkCounts(t, "after reopening", f, all)
}

func TestNotOurDatabase(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	exec(t, dsn, "CREATE TABLE customers (id int PRIMARY KEY, name text)", "INSERT INTO customers VALUES (1, 'acme')")
	_, err := Open(ctx, dsn, store.Options{})
	if !errors.Is(err, store.ErrNotDatabase) {
		t.Fatalf("opening another application's schema: %v, want ErrNotDatabase", err)
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var tables []string
	if err := c.QueryRow(ctx, "SELECT array_agg(tablename::text ORDER BY tablename) FROM pg_tables WHERE schemaname = current_schema()").Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(tables) != "[customers]" {
		t.Errorf("refused open left tables %v, want only customers", tables)
	}
}

func TestNewerSchema(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	s, err := Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	exec(t, dsn, fmt.Sprintf("INSERT INTO schema_version VALUES (%d, '9999_future.sql', 0)", SchemaVersion()+1))
	_, err = Open(ctx, dsn, store.Options{})
	if !errors.Is(err, store.ErrNotDatabase) {
		t.Errorf("opening a newer schema: %v, want ErrNotDatabase", err)
	}
	if v := schemaVersion(t, dsn); v != SchemaVersion()+1 {
		t.Errorf("refused open changed the schema version to %d", v)
	}
}

func TestMissingSchema(t *testing.T) {
	dsn := withSearchPath(t, serverDSN(t), "otwatch_no_such_schema")
	_, err := Open(context.Background(), dsn, store.Options{})
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("opening with a search_path of no schema: %v, want ErrInvalid", err)
	}
}

// TestMigrateDeviceIDs stores devices with schema version 3, which kept
// no device IDs of its own, and checks that the upgraded schema keeps
// their IDs.
func TestMigrateDeviceIDs(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	old, err := open(ctx, dsn, store.Options{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	storetest.UpgradeDeviceIDs(t, func(sensor string, devs []inventory.Device) {
		if err := old.PutDevices(ctx, sensor, devs); err != nil {
			t.Fatal(err)
		}
	}, func() store.Store {
		old.Close()
		if v := schemaVersion(t, dsn); v != 3 {
			t.Fatalf("schema version %d before the upgrade, want 3", v)
		}
		s, err := Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

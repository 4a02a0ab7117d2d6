package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/storetest"
	"github.com/otwatch/otwatch/internal/testenv"
)

// serverDSN returns the URL of the test server from OTWATCH_TEST_POSTGRES,
// or skips (fails under OTWATCH_REQUIRE_ALL=1) when it is unset or the
// server does not answer.
func serverDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("OTWATCH_TEST_POSTGRES")
	if dsn == "" {
		testenv.Missing(tb, "OTWATCH_TEST_POSTGRES is not set (a postgres:// URL of a database the tests may create schemas in, "+
			"e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		testenv.Missing(tb, "PostgreSQL at "+store.Redact(dsn)+" is unreachable: "+redactErr(err, dsn))
	}
	c.Close(ctx)
	return dsn
}

var schemaSeq atomic.Int64

// withSearchPath returns dsn with its search_path set to schema.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	tb.Helper()
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("OTWATCH_TEST_POSTGRES: %v", err)
	}
	v := u.Query()
	v.Set("search_path", schema)
	u.RawQuery = v.Encode()
	return u.String()
}

// exec runs statements on the test server outside any store.
func exec(tb testing.TB, dsn string, sqls ...string) {
	tb.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	for _, s := range sqls {
		if _, err := c.Exec(ctx, s); err != nil {
			tb.Fatalf("%s: %v", s, err)
		}
	}
}

// freshSchema creates an empty schema, dropped when the test ends, and
// returns the URL of a connection that uses it.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	dsn := serverDSN(tb)
	name := fmt.Sprintf("otwatch_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, schemaSeq.Add(1))
	exec(tb, dsn, "CREATE SCHEMA "+name)
	tb.Cleanup(func() { exec(tb, dsn, "DROP SCHEMA "+name+" CASCADE") })
	return withSearchPath(tb, dsn, name)
}

// openFresh opens a store in a fresh schema through store.Open, as the
// program does.
func openFresh(tb testing.TB, opts store.Options) store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), freshSchema(tb), opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	serverDSN(t)
	storetest.Run(t, openFresh)
}

// TestConformanceReopen runs the subtests of what survives closing the
// store and opening it again, on one schema.
func TestConformanceReopen(t *testing.T) {
	serverDSN(t)
	storetest.RunReopen(t, func(tb testing.TB) storetest.OpenFunc {
		dsn := freshSchema(tb)
		return func(tb testing.TB, opts store.Options) store.Store {
			tb.Helper()
			s, err := store.Open(context.Background(), dsn, opts)
			if err != nil {
				tb.Fatal(err)
			}
			return s
		}
	})
}

// TestConformancePlans runs the suite with the page planner forced to
// merge per-value index walks whenever it can, and forced to walk the
// order's index, and with facet counting forced to read every alert a
// text term matches by party, so that every plan meets the suite.
func TestConformancePlans(t *testing.T) {
	serverDSN(t)
	defer func(w int64, b, p int) { walkCost, maxBranches, maxPartyAddrs = w, b, p }(walkCost, maxBranches, maxPartyAddrs)
	walkCost, maxBranches = 0, 1<<20
	t.Run("branches", func(t *testing.T) { storetest.Run(t, openFresh) })
	walkCost, maxPartyAddrs = 1<<40, 0
	t.Run("walk", func(t *testing.T) { storetest.Run(t, openFresh) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, openFresh)
}

func TestRegistered(t *testing.T) {
	for _, dsn := range []string{"postgres://u@h/db", "postgresql://h/db", "POSTGRES://h/db"} {
		if b, err := store.BackendOf(dsn); b != "postgres" || err != nil {
			t.Errorf("BackendOf(%q) = %q, %v; want postgres", dsn, b, err)
		}
	}
	found := false
	for _, b := range store.Backends() {
		found = found || b == "postgres"
	}
	if !found {
		t.Errorf("Backends() = %v, want postgres among them", store.Backends())
	}
}

func TestBadDSN(t *testing.T) {
	ctx := context.Background()
	_, err := store.Open(ctx, "postgres://otwatch:secret@[::1/db", store.Options{})
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("malformed URL: %v, want ErrInvalid", err)
	}
	if err != nil && strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows the password: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err = store.Open(ctx, "postgres://otwatch:secret@127.0.0.1:1/db?connect_timeout=5", store.Options{})
	if err == nil {
		t.Fatal("opening a closed port succeeded")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows the password: %v", err)
	}
}

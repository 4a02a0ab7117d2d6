package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/storetest"
)

func openTemp(tb testing.TB, opts store.Options) store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), filepath.Join(tb.TempDir(), "otwatch.db"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, openTemp)
}

// TestConformanceReopen runs the subtests of what survives closing the
// database and opening it again.
func TestConformanceReopen(t *testing.T) {
	storetest.RunReopen(t, func(tb testing.TB) storetest.OpenFunc {
		path := filepath.Join(tb.TempDir(), "otwatch.db")
		return func(tb testing.TB, opts store.Options) store.Store {
			tb.Helper()
			s, err := store.Open(context.Background(), path, opts)
			if err != nil {
				tb.Fatal(err)
			}
			return s
		}
	})
}

// TestConformancePlans runs the suite with the page planner forced to
// merge per-value index walks whenever it can, and forced to walk the
// order's index, so that both plans meet the suite at its small scale.
func TestConformancePlans(t *testing.T) {
	defer func(w int64, b int) { walkShare, maxBranches = w, b }(walkShare, maxBranches)
	walkShare, maxBranches = 1<<40, 1<<20
	t.Run("branches", func(t *testing.T) { storetest.Run(t, openTemp) })
	walkShare = 0
	t.Run("walk", func(t *testing.T) { storetest.Run(t, openTemp) })
}

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, openTemp)
}

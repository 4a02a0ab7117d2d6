package csaf

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/otwatch/otwatch/internal/testenv"
)

// csafDir returns the folder of CISA advisories in the shared reference
// data ($OTWATCH_DATA, or ../shared/data next to the module root), or
// skips the test.
func csafDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("OTWATCH_DATA")
	if d == "" {
		d = filepath.Join(testenv.ModuleRoot(), "..", "shared", "data")
	} else if !filepath.IsAbs(d) {
		d = filepath.Join(testenv.ModuleRoot(), d)
	}
	d = filepath.Join(d, "csaf")
	if _, err := os.Stat(filepath.Join(d, "index.tsv")); err != nil {
		testenv.Missing(t, "CSAF advisories not found under "+d+" (set OTWATCH_DATA)")
	}
	return d
}

var (
	catOnce sync.Once
	catVal  *Catalog
	catErrs []error
)

// sharedCatalog loads the shared advisories once for all tests.
func sharedCatalog(t testing.TB) *Catalog {
	t.Helper()
	dir := csafDir(t)
	catOnce.Do(func() { catVal, catErrs = Load(dir) })
	for _, err := range catErrs {
		t.Errorf("Load: %v", err)
	}
	return catVal
}

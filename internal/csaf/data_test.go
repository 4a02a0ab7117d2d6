package csaf

import (
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
	return filepath.Dir(testenv.Data(t, "csaf/index.tsv", "CSAF advisories"))
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

package enip

import (
	"os"
	"path/filepath"

	"github.com/otwatch/otwatch/internal/testenv"
)

// corpusDir returns $OTWATCH_CORPUS resolved like testenv.Corpus, or ""
// (fuzz seeding must not fail without the corpus).
func corpusDir() string {
	dir := os.Getenv("OTWATCH_CORPUS")
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(testenv.ModuleRoot(), dir)
	}
	return dir
}

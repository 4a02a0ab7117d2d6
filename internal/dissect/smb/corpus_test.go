package smb

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/testenv"
)

// corpusDir returns $OTWATCH_CORPUS resolved like testenv.Corpus does, or
// "" (fuzz seeding must not fail without the corpus).
func corpusDir() string {
	dir := os.Getenv("OTWATCH_CORPUS")
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(testenv.ModuleRoot(), dir)
	}
	return dir
}

// corpusCase is one corpus capture that tshark says carries the protocol.
type corpusCase struct {
	name, capture string
	tsharkArgs    []string
}

// casesWithLayer returns the corpus cases whose oracle protocol hierarchy
// has a TCP path through one of layers (tshark's protocol names).
func casesWithLayer(t testing.TB, dir string, layers ...string) []corpusCase {
	t.Helper()
	oracles, _ := filepath.Glob(filepath.Join(dir, "*", "*", "oracle.json"))
	var out []corpusCase
	for _, o := range oracles {
		b, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		var oracle struct {
			Hierarchy  map[string][2]int `json:"protocol_hierarchy"`
			TsharkArgs []string          `json:"tshark_args"`
		}
		if err := json.Unmarshal(b, &oracle); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		found := false
		for path := range oracle.Hierarchy {
			for _, l := range layers {
				if strings.Contains(path, ":tcp:"+l) || strings.Contains(path, ":tcp:nbss:"+l) {
					found = true
				}
			}
		}
		if !found {
			continue
		}
		caps, _ := filepath.Glob(filepath.Join(filepath.Dir(o), "capture.pcap*"))
		if len(caps) == 0 {
			continue
		}
		rel, _ := filepath.Rel(dir, filepath.Dir(o))
		out = append(out, corpusCase{name: rel, capture: caps[0], tsharkArgs: oracle.TsharkArgs})
	}
	return out
}

package dissecttest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/testenv"
)

// ProtocolCase is one case of the shared corpus's folder for a protocol:
// its name, its tshark oracle and its capture.
type ProtocolCase struct {
	Name, OraclePath, Capture string
}

// ProtocolCases returns every case under $OTWATCH_CORPUS/<protocol>/
// (skipped locally, failed in CI when the corpus is missing). It fails the
// test when there is none, or when a case does not hold exactly one capture.
func ProtocolCases(t testing.TB, protocol string) []ProtocolCase {
	t.Helper()
	dir := testenv.Corpus(t)
	oracles, _ := filepath.Glob(filepath.Join(dir, protocol, "*", "oracle.json"))
	if len(oracles) == 0 {
		t.Fatalf("no %s cases in %s", protocol, dir)
	}
	out := make([]ProtocolCase, 0, len(oracles))
	for _, o := range oracles {
		caps, _ := filepath.Glob(filepath.Join(filepath.Dir(o), "capture.pcap*"))
		if len(caps) != 1 {
			t.Fatalf("%s: captures %v", filepath.Dir(o), caps)
		}
		out = append(out, ProtocolCase{Name: filepath.Base(filepath.Dir(o)), OraclePath: o, Capture: caps[0]})
	}
	return out
}

// ReadOracle decodes the case's oracle.json into v.
func (c ProtocolCase) ReadOracle(t testing.TB, v any) {
	t.Helper()
	b, err := os.ReadFile(c.OraclePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", c.OraclePath, err)
	}
}

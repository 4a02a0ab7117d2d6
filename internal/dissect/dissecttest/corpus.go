package dissecttest

import (
	"encoding/json"
	"fmt"
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

// Oracle is what the dissectors' corpus tests read of a case's
// oracle.json: tshark's packet count, the arguments tshark needed, and per
// protocol the counts of each field's values and the identity records.
type Oracle struct {
	Packets    int                       `json:"packets"`
	TsharkArgs []string                  `json:"tshark_args"`
	Protocols  map[string]OracleProtocol `json:"protocols"`
}

// OracleProtocol is what tshark printed of one protocol in a capture.
type OracleProtocol struct {
	// Fields counts, per field, the occurrences of each value.
	Fields map[string]map[string]int `json:"fields"`
	// Identities are the protocol's identity records, field by field.
	Identities []map[string]any `json:"identities"`
}

// OracleList returns an oracle value that is a string or a list of values
// as a list of strings.
func OracleList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

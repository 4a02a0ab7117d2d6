package lldp

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/testenv"
)

// oracleRecord is one protocols.lldp.identities record of oracle.json.
type oracleRecord map[string]any

// record renders what an operation says in the oracle's terms:
//
//	chassis_id_mac   our chassis_id when its subtype is mac_address
//	chassis_id_text  our chassis_id for a printable locally assigned id
//	                 (the oracle's chassis_id is the same bytes in hex)
//	port_id          our port_id, for the subtypes tshark prints in
//	                 lldp.port.id (not mac_address or network_address,
//	                 which it puts in other fields)
//	system_name      the hostname fact, system_description the attribute
//	management_ip    every management address, 0.0.0.0 included (we make
//	                 no ip fact of the unspecified address)
//	src_mac          the operation's client MAC
func record(op *dissect.Operation) string {
	r := map[string]string{"src_mac": op.Client.MAC.String()}
	switch attr(op, "chassis_id_subtype") {
	case "mac_address":
		r["chassis_id_mac"] = attr(op, "chassis_id")
	case "local":
		r["chassis_id_text"] = attr(op, "chassis_id")
		r["chassis_id"] = hex.EncodeToString([]byte(attr(op, "chassis_id")))
	}
	switch attr(op, "port_id_subtype") {
	case "mac_address", "network_address":
	default:
		r["port_id"] = attr(op, "port_id")
	}
	for _, f := range op.Identity {
		if f.Key == dissect.FactHostname {
			r["system_name"] = f.Value
		}
	}
	if v := attr(op, "system_description"); v != "" {
		r["system_description"] = v
	}
	if v := attr(op, "management_ip"); v != "" {
		r["management_ip"] = v
	}
	return canonical(r)
}

func canonical(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q ", k, m[k])
	}
	return b.String()
}

// TestCorpus compares every LLDPDU of the corpus with the oracle's lldp
// identity records, field by field and frame count by frame count.
func TestCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	oracles, _ := filepath.Glob(filepath.Join(dir, "*", "*", "oracle.json"))
	cases := 0
	for _, o := range oracles {
		var doc struct {
			Protocols map[string]struct {
				Identities []oracleRecord `json:"identities"`
			} `json:"protocols"`
		}
		b, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		sec, ok := doc.Protocols["lldp"]
		if !ok {
			continue
		}
		cases++
		t.Run(filepath.Base(filepath.Dir(o)), func(t *testing.T) {
			want := map[string]int{}
			for _, r := range sec.Identities {
				m := map[string]string{}
				for k, v := range r {
					switch k {
					case "kind", "frames", "src_ip":
						continue
					}
					m[k] = fmt.Sprint(v)
				}
				want[canonical(m)] += int(r["frames"].(float64))
			}
			caps, _ := filepath.Glob(filepath.Join(filepath.Dir(o), "capture.pcap*"))
			got := map[string]int{}
			for _, op := range dissecttest.Operations(t, caps[0], "lldp").Ops {
				if op.Result.Status != dissect.StatusOK {
					t.Errorf("frame %d: %v %s", op.Packets[0].Frame, op.Result.Status, op.Result.Text)
				}
				got[record(op)]++
			}
			for r, n := range want {
				if got[r] != n {
					t.Errorf("oracle record %s in %d frames, ours in %d", r, n, got[r])
				}
			}
			for r, n := range got {
				if _, ok := want[r]; !ok {
					t.Errorf("record %s (%d frames) not in the oracle", r, n)
				}
			}
		})
	}
	if cases == 0 {
		t.Error("no oracle.json has an lldp section")
	}
}

func FuzzDissect(f *testing.F) {
	f.Add(dissecttest.Hex(f, full))
	for _, b := range dissecttest.CorpusPayloads(f, 20, func(p *decode.Packet) bool { return p.EtherType == EtherType }) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		ctx := &dissect.Context{Emitter: dissect.EmitterFunc(func(*dissect.Operation) { n++ })}
		Dissector{}.Dissect(&dissect.Frame{Payload: b}, ctx)
		if n != 1 {
			t.Fatalf("%d operations for one frame, want 1", n)
		}
	})
}

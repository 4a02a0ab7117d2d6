package cdp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/testenv"
)

func facts(op *dissect.Operation) string {
	var parts []string
	for _, f := range op.Identity {
		parts = append(parts, f.Key+"="+f.Value)
	}
	return strings.Join(parts, " ")
}

// An advertisement written TLV by TLV (type, length including the 4-octet
// TLV header, value): version 2, TTL 180, checksum; Device ID "sw1";
// Software Version "IOS 15.2\nCopyright"; Platform "cisco WS-C2960";
// Addresses: one NLPID 0xCC IPv4 10.10.0.2 and one 802.2 IPv6
// 2001:db8::2; Port ID "Gi0/1"; Capabilities 0x28 (switch, igmp); Native
// VLAN 10; Management Addresses: 10.10.0.2 again.
const advert = "02 b4 0000" +
	" 0001 0007 737731" +
	" 0005 0017 494f532031352e320a436f7079726967687400" +
	" 0006 0012 636973636f2057532d4332393630" +
	" 0002 002d 00000002 01 01 cc 0004 0a0a0002" +
	"  02 08 aaaa0300000086dd 0010 20010db8000000000000000000000002" +
	" 0003 0009 4769302f31" +
	" 0004 0008 00000028" +
	" 000a 0006 000a" +
	" 0016 0011 00000001 01 01 cc 0004 0a0a0002"

func TestDissect(t *testing.T) {
	tests := []struct {
		name, in string
		status   dissect.Status
		facts    string
		attrs    map[string]string
	}{
		{"advertisement", advert, dissect.StatusOK,
			"hostname=sw1 firmware=IOS 15.2 model=cisco WS-C2960 ip=10.10.0.2 ip=2001:db8::2",
			map[string]string{"software_version": "IOS 15.2\nCopyright", "port_id": "Gi0/1",
				"capabilities": "switch,igmp", "native_vlan": "10", "ttl": "180"}},
		{"short", "02b4", dissect.StatusMalformed, "", nil},
		{"version 3", "03b40000", dissect.StatusMalformed, "", nil},
		{"TLV length below its header", "02b40000 00010002", dissect.StatusMalformed, "", nil},
		{"address list past its TLV", "02b40000 0002 000d 00000001 01 01 cc 0004 0a", dissect.StatusMalformed, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c dissecttest.Collector
			ctx := &dissect.Context{Emitter: &c}
			src := dissect.MAC{0x00, 0x1e, 0xf6, 0x73, 0x59, 0x81}
			Dissector{}.Dissect(&dissect.Frame{SrcMAC: src, SNAP: true, OUI: OUI, PID: PID, Payload: dissecttest.Hex(t, tt.in)}, ctx)
			if len(c.Ops) != 1 {
				t.Fatalf("%d operations", len(c.Ops))
			}
			op := c.Ops[0]
			if op.Result.Status != tt.status || op.Class != dissect.ClassDiscovery || op.Client.MAC != src {
				t.Errorf("%v %v client %v (%s)", op.Result.Status, op.Class, op.Client.MAC, op.Result.Text)
			}
			if tt.status == dissect.StatusMalformed {
				return
			}
			if op.FunctionCode != 2 || op.FunctionName != "advertisement" {
				t.Errorf("function %d %s", op.FunctionCode, op.FunctionName)
			}
			if got := facts(op); got != tt.facts {
				t.Errorf("facts %q, want %q", got, tt.facts)
			}
			for k, v := range tt.attrs {
				if got := op.Attr(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestCorpus compares every CDP frame of the corpus with the oracle's cdp
// identity records: device_id is our hostname fact, platform our model
// fact, software_version (tshark prints one value per line) our
// software_version attribute split at line breaks, src_mac our client.
func TestCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	oracles, _ := filepath.Glob(filepath.Join(dir, "*", "*", "oracle.json"))
	cases := 0
	for _, o := range oracles {
		var doc struct {
			Protocols map[string]struct {
				Identities []map[string]any `json:"identities"`
			} `json:"protocols"`
		}
		b, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		sec, ok := doc.Protocols["cdp"]
		if !ok {
			continue
		}
		cases++
		t.Run(filepath.Base(filepath.Dir(o)), func(t *testing.T) {
			want := map[string]int{}
			for _, r := range sec.Identities {
				var sw []string
				for _, l := range r["software_version"].([]any) {
					sw = append(sw, l.(string))
				}
				want[fmt.Sprintf("%v|%v|%s|%v", r["device_id"], r["platform"], strings.Join(sw, "\n"), r["src_mac"])] += int(r["frames"].(float64))
			}
			caps, _ := filepath.Glob(filepath.Join(filepath.Dir(o), "capture.pcap*"))
			got := map[string]int{}
			for _, op := range dissecttest.Operations(t, caps[0], "cdp").Ops {
				if op.Result.Status != dissect.StatusOK {
					t.Errorf("frame %d: %v %s", op.Packets[0].Frame, op.Result.Status, op.Result.Text)
				}
				var host, model string
				for _, f := range op.Identity {
					switch f.Key {
					case dissect.FactHostname:
						host = f.Value
					case dissect.FactModel:
						model = f.Value
					}
				}
				got[fmt.Sprintf("%s|%s|%s|%v", host, model, op.Attr("software_version"), op.Client.MAC)]++
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("records\n%v\noracle\n%v", got, want)
			}
		})
	}
	if cases == 0 {
		t.Error("no oracle.json has a cdp section")
	}
}

func FuzzDissect(f *testing.F) {
	f.Add(dissecttest.Hex(f, advert))
	for _, b := range dissecttest.CorpusPayloads(f, 10, func(p *decode.Packet) bool { return p.LLC && p.OUI == OUI && p.PID == PID }) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		ctx := &dissect.Context{Emitter: dissect.EmitterFunc(func(*dissect.Operation) { n++ })}
		Dissector{}.Dissect(&dissect.Frame{SNAP: true, OUI: OUI, PID: PID, Payload: b}, ctx)
		if n != 1 {
			t.Fatalf("%d operations for one frame, want 1", n)
		}
	})
}

func TestNoAllocation(t *testing.T) {
	f := &dissect.Frame{SNAP: true, OUI: OUI, PID: PID, Payload: dissecttest.Hex(t, advert)}
	ctx := &dissect.Context{Emitter: dissecttest.Discard}
	Dissector{}.Dissect(f, ctx)
	if n := testing.AllocsPerRun(100, func() { Dissector{}.Dissect(f, ctx) }); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}

func BenchmarkDissect(b *testing.B) {
	f := &dissect.Frame{SNAP: true, OUI: OUI, PID: PID, Payload: dissecttest.Hex(b, advert)}
	ctx := &dissect.Context{Emitter: dissecttest.Discard}
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Payload)))
	for b.Loop() {
		Dissector{}.Dissect(f, ctx)
	}
}

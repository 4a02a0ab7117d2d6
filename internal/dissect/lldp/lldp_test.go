package lldp

import (
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

func attr(op *dissect.Operation, key string) string {
	var v []string
	for _, a := range op.Attrs {
		if a.Key == key {
			v = append(v, a.Value)
		}
	}
	return strings.Join(v, ",")
}

func facts(op *dissect.Operation) string {
	var parts []string
	for _, f := range op.Identity {
		parts = append(parts, f.Key+"="+f.Value)
	}
	return strings.Join(parts, " ")
}

// LLDPDUs written TLV by TLV from IEEE 802.1AB-2016 clause 8: a TLV header
// is 7 bits of type and 9 bits of length.
const (
	// Chassis ID (0207) subtype 4 MAC 00:0e:8c:ef:75:c9; Port ID (0409)
	// subtype 7 local "port-004"; TTL (0602) 120; Port Description (0808)
	// "Port 4/1"; System Name (0a0a) "switch-a01"; System Description
	// (0c18) "Linux 5.10.0 armv7l SCAL"; System Capabilities (0e04)
	// bridge+router / bridge; Management Address (100c) length 5,
	// IPv4 192.168.1.2, ifIndex 2, interface 1, OID length 0; End (0000).
	full = "0207 04000e8cef75c9 0409 07706f72742d303034 0602 0078 0808 506f727420342f31" +
		" 0a0a 7377697463682d613031 0c18 4c696e757820352e31302e302061726d76376c205343414c" +
		" 0e04 0014 0004 100c 05 01c0a80102 02 00000001 00 0000"
)

func TestDissect(t *testing.T) {
	tests := []struct {
		name, in string
		fn       string
		status   dissect.Status
		facts    string
		attrs    map[string]string
	}{
		{"full", full, "advertisement", dissect.StatusOK,
			"hostname=switch-a01 os=Linux 5.10.0 armv7l SCAL ip=192.168.1.2",
			map[string]string{"chassis_id": "00:0e:8c:ef:75:c9", "chassis_id_subtype": "mac_address",
				"port_id": "port-004", "port_id_subtype": "local", "ttl": "120", "port_description": "Port 4/1",
				"capabilities": "bridge,router", "enabled_capabilities": "bridge", "management_ip": "192.168.1.2"}},
		{"locally assigned chassis id, description not an OS", "0214 07 7369656d656e732d783230382d737769746368" +
			" 0409 07706f72742d303034 0602 0078 0c10 5349454d454e53205343414c414e4345 0000", "advertisement", dissect.StatusOK,
			"product=SIEMENS SCALANCE",
			map[string]string{"chassis_id": "siemens-x208-switch", "chassis_id_subtype": "local"}},
		{"network address chassis id (8.5.2.3), unspecified management address", "0206 05 01 0a0a0132 0402 0331 0602 0078" +
			" 100c 05 01 00000000 02 00000000 00 0000", "advertisement", dissect.StatusOK, "",
			map[string]string{"chassis_id": "10.10.1.50", "chassis_id_subtype": "network_address", "management_ip": "0.0.0.0"}},
		{"shutdown (TTL 0, 8.5.4)", "0207 04000e8cef75c9 0409 07706f72742d303034 0602 0000 0000", "shutdown", dissect.StatusOK, "", nil},
		{"mandatory TLVs out of order", "0409 07706f72742d303034 0207 04000e8cef75c9 0602 0078 0000", "advertisement", dissect.StatusMalformed, "", nil},
		{"TLV past the end", "0207 04000e8cef75c9 0409 07706f72742d30 ", "advertisement", dissect.StatusMalformed, "", nil},
		{"empty", "", "advertisement", dissect.StatusMalformed, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c dissecttest.Collector
			ctx := &dissect.Context{Emitter: &c, Time: dissecttest.Start}
			src := dissect.MAC{0x00, 0x0e, 0x8c, 0xef, 0x75, 0xc9}
			Dissector{}.Dissect(&dissect.Frame{SrcMAC: src, EtherType: EtherType, Payload: dissecttest.Hex(t, tt.in)}, ctx)
			if len(c.Ops) != 1 {
				t.Fatalf("%d operations, want 1", len(c.Ops))
			}
			op := c.Ops[0]
			if op.FunctionName != tt.fn || op.Result.Status != tt.status || op.Class != dissect.ClassDiscovery {
				t.Errorf("%s %v %v, want %s %v discovery (%s)", op.FunctionName, op.Result.Status, op.Class, tt.fn, tt.status, op.Result.Text)
			}
			if op.Client.MAC != src {
				t.Errorf("client %v", op.Client.MAC)
			}
			if tt.status == dissect.StatusMalformed {
				return
			}
			if got := facts(op); got != tt.facts {
				t.Errorf("facts %q, want %q", got, tt.facts)
			}
			for k, v := range tt.attrs {
				if got := attr(op, k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestNoAllocation(t *testing.T) {
	f := &dissect.Frame{EtherType: EtherType, Payload: dissecttest.Hex(t, full)}
	ctx := &dissect.Context{Emitter: dissecttest.Discard}
	Dissector{}.Dissect(f, ctx)
	if n := testing.AllocsPerRun(100, func() { Dissector{}.Dissect(f, ctx) }); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}

func BenchmarkDissect(b *testing.B) {
	f := &dissect.Frame{EtherType: EtherType, Payload: dissecttest.Hex(b, full)}
	ctx := &dissect.Context{Emitter: dissecttest.Discard}
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Payload)))
	for b.Loop() {
		Dissector{}.Dissect(f, ctx)
	}
}

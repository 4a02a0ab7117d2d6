package snmp

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// tsharkSNMP are the fields compared per frame.
var tsharkSNMP = []string{"snmp.version", "snmp.community", "snmp.data", "snmp.name", "snmp.error_status",
	"snmp.agent_addr", "snmp.generic_trap", "snmp.enterprise", "snmp.msgVersion"}

// TestTshark writes the test messages into a capture and checks each
// operation against tshark's decoding of the frames it names: version,
// the community's class (tshark shows the string; we keep only
// public/private/other), PDU type, object names, error status and the
// v1 trap header.
func TestTshark(t *testing.T) {
	mgr := netip.MustParseAddrPort("10.10.1.20:50000")
	agent := netip.MustParseAddrPort("10.10.2.10:161")
	trapRx := netip.MustParseAddrPort("10.10.1.20:162")
	agentOut := netip.MustParseAddrPort("10.10.2.10:40000")
	m1 := net.HardwareAddr{0, 0x1b, 0x1b, 0, 0, 1}
	m2 := net.HardwareAddr{0, 0x80, 0xf4, 0, 0, 2}
	g := func(src, dst netip.AddrPort, b []byte) dissecttest.Datagram {
		sm, dm := m1, m2
		if src == agent || src == agentOut {
			sm, dm = m2, m1
		}
		return dissecttest.Datagram{Src: src, Dst: dst, SrcMAC: sm, DstMAC: dm, Payload: gopacket.Payload(b)}
	}
	path := dissecttest.WriteUDP(t,
		g(mgr, agent, getSystem), g(agent, mgr, respSystem),
		g(mgr, agent, setName), g(agent, mgr, respRO),
		g(mgr, agent, bulk),
		g(agentOut, trapRx, trapV2), g(agentOut, trapRx, trapV1),
		g(mgr, agent, v3Get), g(mgr, agent, v3Priv),
	)
	want := dissecttest.TsharkFrames(t, path, "snmp", tsharkSNMP...)
	ops := dissecttest.Operations(t, path, "snmp").Ops
	seen := map[uint64]bool{}
	for _, op := range ops {
		for i, ref := range op.Packets {
			w, ok := want[ref.Frame]
			if !ok {
				t.Errorf("frame %d not SNMP to tshark", ref.Frame)
				continue
			}
			seen[ref.Frame] = true
			v := w[0]
			if v == "" {
				v = w[8] // SNMPv3 has its own field
			}
			version := map[string]string{"0": "v1", "1": "v2c", "3": "v3"}[v]
			community := ""
			switch w[1] {
			case "":
			case "public", "private":
				community = w[1]
			default:
				community = "other"
			}
			if op.Attr("version") != version || op.Attr("community") != community {
				t.Errorf("frame %d: version %q community %q, tshark says %s %q", ref.Frame, op.Attr("version"), op.Attr("community"), w[0], w[1])
			}
			// The PDU type of this frame: the operation's function for
			// the request (or a lone message), "response" for the
			// answer of a pair.
			code := op.FunctionCode
			if i == 0 && op.Request && op.Response {
				code = PDUResponse
			}
			if op.FunctionName == "encrypted" {
				if w[2] != "" {
					t.Errorf("frame %d: encrypted, tshark decodes PDU %s", ref.Frame, w[2])
				}
				continue
			}
			if strconv.Itoa(code) != w[2] {
				t.Errorf("frame %d: PDU %d, tshark says %s", ref.Frame, code, w[2])
			}
			var names []string
			for _, tg := range op.Targets {
				names = append(names, tg.Name)
			}
			if strings.Join(names, ",") != w[3] {
				t.Errorf("frame %d: objects %v, tshark says %s", ref.Frame, names, w[3])
			}
			if i == 0 && op.Response && strconv.Itoa(op.Result.Code) != w[4] {
				t.Errorf("frame %d: error status %d, tshark says %s", ref.Frame, op.Result.Code, w[4])
			}
			if w[5] != "" {
				ip := ""
				for _, f := range op.Identity {
					if f.Key == dissect.FactIP {
						ip = f.Value
					}
				}
				g, _ := strconv.Atoi(w[6])
				if ip != w[5] || op.Attr("generic_trap") != genericTraps[g] || op.Attr("enterprise") != w[7] {
					t.Errorf("frame %d: trap %s %s %s, tshark says %v", ref.Frame, ip, op.Attr("generic_trap"), op.Attr("enterprise"), w[5:])
				}
			}
		}
	}
	for f := range want {
		if !seen[f] {
			t.Errorf("frame %d: tshark sees SNMP, no operation names it", f)
		}
	}
	if len(ops) != 7 {
		t.Errorf("%d operations, want 7 (two pairs, bulk, two traps, two v3)", len(ops))
	}
}

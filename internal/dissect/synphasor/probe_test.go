package synphasor_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"

	_ "github.com/otwatch/otwatch/internal/dissect/all" // every other dissector's probe competes
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	_ "github.com/otwatch/otwatch/internal/dissect/synphasor"
)

// TestOtherPorts runs C37.118 on ports no dissector claims through the
// whole pipeline, with every built-in dissector registered: the content
// probe must pick synphasor, and only synphasor.
func TestOtherPorts(t *testing.T) {
	// pypmu's command "start" (CMD 2) and data frame (tests/test_frame.py).
	start := dissecttest.Hex(t, "aa4100121e36448560300f0bbfd00002ce00")
	data := dissecttest.Hex(t, "aa0100341e3644853600000041b10000392b0000e36ace7ce36a318304440000"+
		"09c4000042c80000447a0000461c40003c12d43f")
	pdc := netip.MustParseAddrPort("10.10.1.20:50001")
	pmu := netip.MustParseAddrPort("10.10.2.10:14713")
	m1, m2 := net.HardwareAddr{0, 0x1b, 0x1b, 0, 0, 1}, net.HardwareAddr{0, 0x30, 0xa7, 0, 0, 2}
	udp := dissecttest.WriteUDP(t,
		dissecttest.Datagram{Src: pdc, Dst: pmu, SrcMAC: m1, DstMAC: m2, Payload: gopacket.Payload(start)},
		dissecttest.Datagram{Src: pmu, Dst: pdc, SrcMAC: m2, DstMAC: m1, Payload: gopacket.Payload(data)})
	tcp := dissecttest.WriteTCP(t, dissecttest.Conversation{
		Client: pdc, Server: netip.MustParseAddrPort("10.10.2.10:14712"),
		Msgs: []dissecttest.Message{dissecttest.C2S(string(start)), dissecttest.S2C(string(data))},
	})
	for _, path := range []string{udp, tcp} {
		var names []string
		for _, op := range dissecttest.Operations(t, path).Ops {
			switch op.Protocol {
			case "synphasor":
				names = append(names, op.FunctionName)
			case "service":
			default:
				t.Errorf("%s: unexpected operation %s %s", path, op.Protocol, op.FunctionName)
			}
		}
		if len(names) != 2 || names[0] != "turn_on_transmission" || names[1] != "data" {
			t.Errorf("%s: synphasor operations %v, want turn_on_transmission and data", path, names)
		}
	}
}

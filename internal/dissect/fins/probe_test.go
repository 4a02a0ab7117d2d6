package fins_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"

	_ "github.com/otwatch/otwatch/internal/dissect/all" // every other dissector's probe competes
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	_ "github.com/otwatch/otwatch/internal/dissect/fins"
)

// TestOtherPorts runs FINS over UDP and FINS/TCP on ports no dissector
// claims through the whole pipeline, with every built-in dissector
// registered: the content probe must pick fins, and only fins.
func TestOtherPorts(t *testing.T) {
	cmd := dissecttest.Hex(t, "80 00 02 00 0a 00 00 14 00 01 | 01 01 | 82 0064 00 000a")
	rsp := dissecttest.Hex(t, "c0 00 02 00 14 00 00 0a 00 01 | 01 01 | 00 00 | 0001 0002 0003 0004 0005 0006 0007 0008 0009 000a")
	client := netip.MustParseAddrPort("10.10.1.20:50001")
	plc := netip.MustParseAddrPort("10.10.2.10:19600")
	cmac, pmac := net.HardwareAddr{0, 0x1b, 0x1b, 0, 0, 1}, net.HardwareAddr{0, 0, 0x0a, 0, 0, 2}
	udp := dissecttest.WriteUDP(t,
		dissecttest.Datagram{Src: client, Dst: plc, SrcMAC: cmac, DstMAC: pmac, Payload: gopacket.Payload(cmd)},
		dissecttest.Datagram{Src: plc, Dst: client, SrcMAC: pmac, DstMAC: cmac, Payload: gopacket.Payload(rsp)})
	wrap := func(f []byte) string {
		n := 8 + len(f)
		return "FINS" + string([]byte{0, 0, byte(n >> 8), byte(n), 0, 0, 0, 2, 0, 0, 0, 0}) + string(f)
	}
	tcp := dissecttest.WriteTCP(t, dissecttest.Conversation{Client: client, Server: plc, Msgs: []dissecttest.Message{
		dissecttest.C2S(wrap(cmd)), dissecttest.S2C(wrap(rsp)),
	}})
	for _, path := range []string{udp, tcp} {
		ops := dissecttest.Operations(t, path).Ops
		n := 0
		for _, op := range ops {
			switch {
			case op.Protocol == "fins" && op.FunctionName == "memory_area_read" && op.Request && op.Response:
				n++
			case op.Protocol == "service" && op.FunctionName == "fins":
			default:
				t.Errorf("%s: unexpected operation %s %s", path, op.Protocol, op.FunctionName)
			}
		}
		if n != 1 {
			t.Errorf("%s: %d fins operations, want 1", path, n)
		}
	}
}

package hartip_test

import (
	"maps"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"

	_ "github.com/otwatch/otwatch/internal/dissect/all" // every other dissector's probe competes
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	_ "github.com/otwatch/otwatch/internal/dissect/hartip"
)

// TestOtherPorts runs HART-IP on ports no dissector claims through the
// whole pipeline, with every built-in dissector registered: over UDP the
// server answers from a new port, as HCF_SPEC-085 allows, so the answers
// are a flow of their own that the probe must recognise too.
func TestOtherPorts(t *testing.T) {
	// Session Initiate (primary host, 60 s) and command 0 to polling
	// address 0, with their responses.
	req1 := dissecttest.Hex(t, "01 00 00 00 0001 000d 01 0000ea60")
	rsp1 := dissecttest.Hex(t, "01 01 00 00 0001 000d 01 0000ea60")
	req2 := dissecttest.Hex(t, "01 00 03 00 0002 000d 02 80 00 00 82")
	client := netip.MustParseAddrPort("10.10.1.20:50001")
	dev := netip.MustParseAddrPort("10.10.2.10:5094")
	devNew := netip.MustParseAddrPort("10.10.2.10:49152")
	cmac, dmac := net.HardwareAddr{0, 0x1b, 0x1b, 0, 0, 1}, net.HardwareAddr{0, 0x10, 0x26, 0, 0, 2}
	udp := dissecttest.WriteUDP(t,
		dissecttest.Datagram{Src: client, Dst: dev, SrcMAC: cmac, DstMAC: dmac, Payload: gopacket.Payload(req1)},
		dissecttest.Datagram{Src: devNew, Dst: client, SrcMAC: dmac, DstMAC: cmac, Payload: gopacket.Payload(rsp1)},
		dissecttest.Datagram{Src: client, Dst: devNew, SrcMAC: cmac, DstMAC: dmac, Payload: gopacket.Payload(req2)})
	tcp := dissecttest.WriteTCP(t, dissecttest.Conversation{
		Client: client, Server: netip.MustParseAddrPort("10.10.2.10:15094"),
		Msgs: []dissecttest.Message{dissecttest.C2S(string(req1)), dissecttest.S2C(string(rsp1)), dissecttest.C2S(string(req2))},
	})
	// Over UDP the response comes on a flow of its own, so the Session
	// Initiate is two operations: the unanswered request and the response
	// without its request.
	for path, want := range map[string]map[string]int{
		udp: {"session_initiate request": 1, "session_initiate response": 1, "read_unique_identifier request": 1},
		tcp: {"session_initiate request response": 1, "read_unique_identifier request": 1},
	} {
		got := map[string]int{}
		for _, op := range dissecttest.Operations(t, path).Ops {
			switch op.Protocol {
			case "hartip":
				k := op.FunctionName
				if op.Request {
					k += " request"
				}
				if op.Response {
					k += " response"
				}
				got[k]++
			case "service":
			default:
				t.Errorf("%s: unexpected operation %s %s", path, op.Protocol, op.FunctionName)
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: hartip operations %v, want %v", path, got, want)
		}
	}
}

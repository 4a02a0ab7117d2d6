package dhcp

import (
	"net"
	"net/netip"
	"strconv"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// tsharkDHCP are the tshark fields compared with each operation, in the
// order of wantFromOp.
var tsharkDHCP = []string{"dhcp.option.dhcp", "dhcp.hw.mac_addr", "dhcp.option.hostname",
	"dhcp.option.vendor_class_id", "dhcp.option.requested_ip_address", "dhcp.option.dhcp_server_id",
	"dhcp.ip.your", "dhcp.option.request_list_item"}

// fromOp gives our view of the fields of tsharkDHCP. tshark prints yiaddr
// 0.0.0.0 where we leave the attribute out, and no message type for BOOTP.
// Values are compared exactly.
func fromOp(op *dissect.Operation) []string {
	code := ""
	if op.FunctionCode != 0 {
		code = strconv.Itoa(op.FunctionCode)
	}
	yi := op.Attr("yiaddr")
	if yi == "" {
		yi = "0.0.0.0"
	}
	mac := op.Attr("chaddr")
	if id := op.Attr("client_id"); len(id) == len("01:00:1b:1b:8a:22:11") && id[:3] == "01:" {
		// tshark shows an Ethernet client identifier (RFC 2132 9.14,
		// type 1) in the same field as chaddr.
		mac += "," + id[3:]
	}
	return []string{code, mac, op.Attr("hostname"), op.Attr("vendor_class"),
		op.Attr("requested_ip"), op.Attr("server_id"), yi, op.Attr("param_list")}
}

func compareWithTshark(t *testing.T, path string) int {
	t.Helper()
	want := dissecttest.TsharkFrames(t, path, "dhcp", tsharkDHCP...)
	ops := dissecttest.Operations(t, path, "dhcp").Ops
	for _, op := range ops {
		frame := op.Packets[0].Frame
		w, ok := want[frame]
		if !ok {
			t.Errorf("frame %d: operation %s that tshark does not see as DHCP", frame, op.FunctionName)
			continue
		}
		delete(want, frame)
		got := fromOp(op)
		for i, f := range tsharkDHCP {
			if got[i] != w[i] {
				t.Errorf("frame %d: %s = %q, tshark says %q", frame, f, got[i], w[i])
			}
		}
	}
	for frame := range want {
		t.Errorf("frame %d: tshark sees DHCP, no operation", frame)
	}
	return len(ops)
}

// TestTshark writes messages built with gopacket's DHCPv4 layer and checks
// every decoded field against tshark.
func TestTshark(t *testing.T) {
	client := net.HardwareAddr{0x00, 0x1b, 0x1b, 0x8a, 0x22, 0x11}
	srvMAC := net.HardwareAddr{0x00, 0x80, 0xf4, 0x01, 0x02, 0x03}
	bcast := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	server, offered := net.IP{10, 10, 1, 1}, net.IP{10, 10, 1, 50}
	opt := func(t layers.DHCPOpt, v []byte) layers.DHCPOption { return layers.NewDHCPOption(t, v) }
	msg := func(op layers.DHCPOp, typ layers.DHCPMsgType, yi net.IP, opts ...layers.DHCPOption) *layers.DHCPv4 {
		all := append([]layers.DHCPOption{opt(layers.DHCPOptMessageType, []byte{byte(typ)})}, opts...)
		all = append(all, layers.NewDHCPOption(layers.DHCPOptEnd, nil))
		if yi == nil {
			yi = net.IPv4zero
		}
		return &layers.DHCPv4{Operation: op, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6, Xid: 0x1234,
			ClientIP: net.IPv4zero, YourClientIP: yi, NextServerIP: net.IPv4zero, RelayAgentIP: net.IPv4zero,
			ClientHWAddr: client, Options: all}
	}
	any68 := netip.MustParseAddrPort("0.0.0.0:68")
	bc67 := netip.MustParseAddrPort("255.255.255.255:67")
	srv67 := netip.MustParseAddrPort("10.10.1.1:67")
	bc68 := netip.MustParseAddrPort("255.255.255.255:68")
	params := opt(layers.DHCPOptParamsRequest, []byte{1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252})
	path := dissecttest.WriteUDP(t,
		dissecttest.Datagram{Src: any68, Dst: bc67, SrcMAC: client, DstMAC: bcast, Payload: msg(layers.DHCPOpRequest, layers.DHCPMsgTypeDiscover, nil,
			opt(layers.DHCPOptHostname, []byte("PLC-01")), opt(layers.DHCPOptClassID, []byte("MSFT 5.0")),
			opt(layers.DHCPOptClientID, append([]byte{1}, client...)), params)},
		dissecttest.Datagram{Src: srv67, Dst: bc68, SrcMAC: srvMAC, DstMAC: bcast, Payload: msg(layers.DHCPOpReply, layers.DHCPMsgTypeOffer, offered,
			opt(layers.DHCPOptServerID, server))},
		dissecttest.Datagram{Src: any68, Dst: bc67, SrcMAC: client, DstMAC: bcast, Payload: msg(layers.DHCPOpRequest, layers.DHCPMsgTypeRequest, nil,
			opt(layers.DHCPOptRequestIP, offered), opt(layers.DHCPOptServerID, server),
			opt(layers.DHCPOptHostname, []byte("PLC-01")), params)},
		dissecttest.Datagram{Src: srv67, Dst: bc68, SrcMAC: srvMAC, DstMAC: bcast, Payload: msg(layers.DHCPOpReply, layers.DHCPMsgTypeAck, offered,
			opt(layers.DHCPOptServerID, server))},
		dissecttest.Datagram{Src: srv67, Dst: bc68, SrcMAC: srvMAC, DstMAC: bcast, Payload: msg(layers.DHCPOpReply, layers.DHCPMsgTypeNak, nil,
			opt(layers.DHCPOptServerID, server))},
		dissecttest.Datagram{Src: any68, Dst: bc67, SrcMAC: client, DstMAC: bcast, Payload: msg(layers.DHCPOpRequest, layers.DHCPMsgTypeDecline, nil,
			opt(layers.DHCPOptRequestIP, offered))},
		dissecttest.Datagram{Src: netip.MustParseAddrPort("10.10.1.50:68"), Dst: srv67, SrcMAC: client, DstMAC: srvMAC,
			Payload: msg(layers.DHCPOpRequest, layers.DHCPMsgTypeRelease, nil, opt(layers.DHCPOptServerID, server))},
		dissecttest.Datagram{Src: netip.MustParseAddrPort("10.10.1.50:68"), Dst: bc67, SrcMAC: client, DstMAC: bcast,
			Payload: msg(layers.DHCPOpRequest, layers.DHCPMsgTypeInform, nil, opt(layers.DHCPOptClassID, []byte("udhcp 1.36.1")))},
	)
	if n := compareWithTshark(t, path); n != 8 {
		t.Errorf("%d operations, want 8", n)
	}
	ops := dissecttest.Operations(t, path, "dhcp").Ops
	wantNames := []string{"discover", "offer", "request", "ack", "nak", "decline", "release", "inform"}
	for i, op := range ops {
		if op.FunctionName != wantNames[i] {
			t.Errorf("operation %d is %s, want %s (RFC 2132 9.6)", i, op.FunctionName, wantNames[i])
		}
		if op.Server.Port != ServerPort || op.Client.MAC.String() != client.String() {
			t.Errorf("operation %d: client %v server %v", i, op.Client, op.Server)
		}
	}
	if ack := ops[3]; facts(ack) != "ip=10.10.1.50" || ack.Client.IP != netip.MustParseAddr("10.10.1.50") {
		t.Errorf("ack: facts %q client %v", facts(ack), ack.Client)
	}
}

// TestCorpusTshark compares every DHCP message of the corpus with tshark.
func TestCorpusTshark(t *testing.T) {
	caps := dissecttest.CorpusCaptures(t, ":dhcp")
	if len(caps) == 0 {
		t.Skip("no DHCP in the corpus")
	}
	for _, c := range caps {
		t.Run(c, func(t *testing.T) { t.Logf("%d operations", compareWithTshark(t, c)) })
	}
}

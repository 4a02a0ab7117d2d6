package filter

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	macA  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	macB  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x02}
	macC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x03}
	macD  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x04}
	macE  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x05}
	macBC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	mac6  = net.HardwareAddr{0x33, 0x33, 0, 0, 0, 0x01}
)

type testFrame struct {
	name string
	data []byte
}

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatalf("serializing: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func eth(src, dst net.HardwareAddr, typ layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: typ}
}

func ip4(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, TTL: 64, Id: 7, Protocol: proto,
		SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
}

func ip6(src, dst string, next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next,
		SrcIP: net.ParseIP(src), DstIP: net.ParseIP(dst)}
}

func tcpL(sport, dport uint16, nl gopacket.NetworkLayer) *layers.TCP {
	l := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1, ACK: true, PSH: true, Window: 1024}
	_ = l.SetNetworkLayerForChecksum(nl)
	return l
}

func udpL(sport, dport uint16, nl gopacket.NetworkLayer) *layers.UDP {
	l := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	_ = l.SetNetworkLayerForChecksum(nl)
	return l
}

var modbusReq = gopacket.Payload{0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x11, 0x03, 0x00, 0x6b, 0x00, 0x03}

// testFrames builds one frame of each shape the filter must tell apart.
func testFrames(t testing.TB) []testFrame {
	t.Helper()
	var fs []testFrame
	add := func(name string, ls ...gopacket.SerializableLayer) {
		fs = append(fs, testFrame{name, serialize(t, ls...)})
	}

	n := ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolTCP)
	add("tcp4", eth(macA, macB, layers.EthernetTypeIPv4), n, tcpL(40000, 502, n), modbusReq)
	n = ip4("10.0.0.2", "10.0.0.1", layers.IPProtocolTCP)
	add("tcp4resp", eth(macB, macA, layers.EthernetTypeIPv4), n, tcpL(502, 40000, n), gopacket.Payload{0, 1, 0, 0, 0, 9, 0x11, 3, 6, 0, 1, 0, 2, 0, 3})

	// IHL 6: a router-alert option moves the TCP header to offset 38.
	n = ip4("10.0.0.1", "10.0.0.3", layers.IPProtocolTCP)
	n.Options = []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}}
	add("tcp4opt", eth(macA, macC, layers.EthernetTypeIPv4), n, tcpL(1234, 22, n), gopacket.Payload("SSH-2.0-x\r\n"))

	n = ip4("192.168.1.10", "192.168.1.20", layers.IPProtocolUDP)
	add("udp4", eth(macD, macE, layers.EthernetTypeIPv4), n, udpL(5353, 53, n), gopacket.Payload{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	n = ip4("10.0.0.7", "10.0.0.8", layers.IPProtocolUDP)
	add("udp4mb", eth(macC, macD, layers.EthernetTypeIPv4), n, udpL(502, 3000, n), gopacket.Payload{1, 2, 3, 4})

	n = ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolICMPv4)
	add("icmp4", eth(macA, macB, layers.EthernetTypeIPv4), n,
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0), Id: 1, Seq: 1}, gopacket.Payload("ping"))

	add("arp", eth(macA, macBC, layers.EthernetTypeARP), &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: macA, SourceProtAddress: net.ParseIP("10.0.0.1").To4(),
		DstHwAddress: make([]byte, 6), DstProtAddress: net.ParseIP("10.0.0.2").To4()})

	n6 := ip6("2001:db8::1", "2001:db8::2", layers.IPProtocolTCP)
	add("tcp6", eth(macA, macB, layers.EthernetTypeIPv6), n6, tcpL(40000, 502, n6), modbusReq)
	n6 = ip6("fe80::1", "ff02::1", layers.IPProtocolICMPv6)
	ic := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeEchoRequest, 0)}
	_ = ic.SetNetworkLayerForChecksum(n6)
	add("icmp6", eth(macA, mac6, layers.EthernetTypeIPv6), n6, ic, &layers.ICMPv6Echo{Identifier: 1, SeqNumber: 1})

	n = ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolTCP)
	add("vlan100", eth(macA, macB, layers.EthernetTypeDot1Q),
		&layers.Dot1Q{Priority: 3, VLANIdentifier: 100, Type: layers.EthernetTypeIPv4}, n, tcpL(40001, 502, n), modbusReq)

	n = ip4("172.16.0.1", "172.16.0.2", layers.IPProtocolUDP)
	add("qinq", eth(macB, macC, layers.EthernetTypeQinQ),
		&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv4}, n, udpL(1000, 2000, n), gopacket.Payload{9, 9})

	// First fragment of a TCP datagram: ports present.
	n = ip4("10.0.0.5", "10.0.0.6", layers.IPProtocolTCP)
	n.Flags = layers.IPv4MoreFragments
	add("frag0", eth(macA, macB, layers.EthernetTypeIPv4), n, tcpL(40002, 502, n), gopacket.Payload{1, 2, 3, 4})
	// A later fragment whose data happens to look like ports 502/502.
	n = ip4("10.0.0.5", "10.0.0.6", layers.IPProtocolTCP)
	n.FragOffset = 3
	add("frag1", eth(macA, macB, layers.EthernetTypeIPv4), n, gopacket.Payload{0x01, 0xf6, 0x01, 0xf6, 0, 0, 0, 0, 0, 0, 0, 0})

	n6 = ip6("2001:db8::5", "2001:db8::6", layers.IPProtocolIPv6Fragment)
	fr := &layers.IPv6Fragment{NextHeader: layers.IPProtocolTCP, MoreFragments: true, Identification: 77}
	tc := tcpL(40003, 502, n6)
	add("frag6", eth(macA, macB, layers.EthernetTypeIPv6), n6, fr, tc, gopacket.Payload{1, 2, 3, 4, 5, 6, 7, 8})

	// An IPv4 EtherType with only six bytes of header: every load past
	// the end rejects the frame.
	runt := append(append(append([]byte{}, macB...), macA...), 0x08, 0x00, 0x45, 0, 0, 20, 0, 7)
	fs = append(fs, testFrame{"runt", runt})

	n = ip4("10.0.0.9", "10.0.0.10", layers.IPProtocolUDP)
	add("big", eth(macE, macD, layers.EthernetTypeIPv4), n, udpL(6000, 6001, n), gopacket.Payload(make([]byte, 1000)))
	return fs
}

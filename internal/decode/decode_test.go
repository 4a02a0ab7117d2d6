package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	macA = net.HardwareAddr{0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03}
	macB = net.HardwareAddr{0x00, 0x80, 0xf4, 0x0a, 0x0b, 0x0c}
	ipA  = net.IP{10, 10, 1, 20}
	ipB  = net.IP{10, 10, 2, 10}
	ip6A = net.ParseIP("fd00::1")
	ip6B = net.ParseIP("fd00::2:10")
	ts0  = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
)

// serialize builds a frame with gopacket, computing lengths and checksums.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	for _, l := range ls {
		if n, ok := l.(gopacket.NetworkLayer); ok {
			if tcp, ok := ls[len(ls)-2].(*layers.TCP); ok {
				tcp.SetNetworkLayerForChecksum(n)
			}
			if udp, ok := ls[len(ls)-2].(*layers.UDP); ok {
				udp.SetNetworkLayerForChecksum(n)
			}
		}
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func eth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: t}
}

func ip4(p layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: 7, Protocol: p, SrcIP: ipA, DstIP: ipB}
}

func tcpL(flags string) *layers.TCP {
	l := &layers.TCP{SrcPort: 49152, DstPort: 502, Seq: 1000, Ack: 2000, Window: 8192, DataOffset: 5}
	for _, c := range flags {
		switch c {
		case 'S':
			l.SYN = true
		case 'A':
			l.ACK = true
		case 'F':
			l.FIN = true
		case 'R':
			l.RST = true
		case 'P':
			l.PSH = true
		}
	}
	return l
}

func TestDecode(t *testing.T) {
	payload := gopacket.Payload([]byte{0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a})
	tcpFrame := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcpL("PA"), payload)
	vlanFrame := serialize(t, eth(layers.EthernetTypeDot1Q),
		&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv4},
		ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 20000, DstPort: 20000}, payload)
	ip6Frame := serialize(t, eth(layers.EthernetTypeIPv6),
		&layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolTCP, SrcIP: ip6A, DstIP: ip6B},
		tcpL("S"), gopacket.Payload(nil))
	arpFrame := serialize(t, eth(layers.EthernetTypeARP), &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: 1, SourceHwAddress: macA, SourceProtAddress: ipA,
		DstHwAddress: make([]byte, 6), DstProtAddress: ipB})
	icmpErr := serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolICMPv4),
		&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)},
		gopacket.Payload(serialize(t, &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: ipB, DstIP: net.IP{10, 10, 9, 9}},
			&layers.UDP{SrcPort: 1, DstPort: 161}, gopacket.Payload(nil))))
	ipOnly := tcpFrame[14:]
	sll := append([]byte{0, 0, 0, 1, 0, 6, 0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03, 0, 0, 0x08, 0x00}, ipOnly...)
	sll2 := append([]byte{0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03, 0, 0}, ipOnly...)
	nullLE := append([]byte{2, 0, 0, 0}, ipOnly...)
	nullBE := append([]byte{0, 0, 0, 2}, ipOnly...)
	shortTCP := append([]byte(nil), tcpFrame[:14+20+10]...)
	binary.BigEndian.PutUint16(shortTCP[16:18], 30)
	badOffset := append([]byte(nil), tcpFrame...)
	badOffset[14+20+12] = 0x30 // data offset 3 words < 5
	padded := append(append([]byte(nil), tcpFrame...), 0, 0, 0, 0, 0, 0)

	a4, b4 := netip.MustParseAddr("10.10.1.20"), netip.MustParseAddr("10.10.2.10")
	tests := []struct {
		name      string
		link      layers.LinkType
		in        []byte
		err       error
		src, dst  netip.Addr
		transport uint8
		sport     uint16
		dport     uint16
		flags     uint8
		payload   int
		vlans     []uint16
		hasMAC    bool
	}{
		{"ethernet tcp", layers.LinkTypeEthernet, tcpFrame, nil, a4, b4, ProtoTCP, 49152, 502, TCPFlagPSH | TCPFlagACK, 12, nil, true},
		{"ethernet padding trimmed", layers.LinkTypeEthernet, padded, nil, a4, b4, ProtoTCP, 49152, 502, TCPFlagPSH | TCPFlagACK, 12, nil, true},
		{"qinq udp", layers.LinkTypeEthernet, vlanFrame, nil, a4, b4, ProtoUDP, 20000, 20000, 0, 12, []uint16{100, 20}, true},
		{"ipv6 syn", layers.LinkTypeEthernet, ip6Frame, nil, netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2:10"), ProtoTCP, 49152, 502, TCPFlagSYN, 0, nil, true},
		{"arp (payload is the Ethernet padding)", layers.LinkTypeEthernet, arpFrame, nil, netip.Addr{}, netip.Addr{}, 0, 0, 0, 0, 18, nil, true},
		{"linux sll", layers.LinkTypeLinuxSLL, sll, nil, a4, b4, ProtoTCP, 49152, 502, TCPFlagPSH | TCPFlagACK, 12, nil, true},
		{"linux sll2", layers.LinkTypeLinuxSLL2, sll2, nil, a4, b4, ProtoTCP, 49152, 502, TCPFlagPSH | TCPFlagACK, 12, nil, true},
		{"bsd null little-endian", layers.LinkTypeNull, nullLE, nil, a4, b4, ProtoTCP, 49152, 502, TCPFlagPSH | TCPFlagACK, 12, nil, false},
		{"bsd null big-endian", layers.LinkTypeNull, nullBE, nil, a4, b4, ProtoTCP, 49152, 502, TCPFlagPSH | TCPFlagACK, 12, nil, false},
		{"raw ip", layers.LinkTypeRaw, ipOnly, nil, a4, b4, ProtoTCP, 49152, 502, TCPFlagPSH | TCPFlagACK, 12, nil, false},
		// RFC 792: after type, code and checksum come 4 unused bytes and the
		// quoted IPv4 header (20) with the first 8 bytes of its datagram.
		{"icmp error quotes udp", layers.LinkTypeEthernet, icmpErr, nil, a4, b4, ProtoICMP, 0, 0, 0, 4 + 20 + 8, nil, true},
		{"short ethernet", layers.LinkTypeEthernet, tcpFrame[:10], ErrShortLink, netip.Addr{}, netip.Addr{}, 0, 0, 0, 0, -1, nil, false},
		{"short ipv4", layers.LinkTypeEthernet, tcpFrame[:14+12], ErrShortIPv4, netip.Addr{}, netip.Addr{}, 0, 0, 0, 0, -1, nil, true},
		{"short tcp keeps addresses", layers.LinkTypeEthernet, shortTCP, ErrShortTCP, a4, b4, 0, 0, 0, 0, -1, nil, true},
		{"bad tcp offset", layers.LinkTypeEthernet, badOffset, ErrBadTCP, a4, b4, ProtoTCP, 49152, 502, TCPFlagPSH | TCPFlagACK, -1, nil, true},
		{"unsupported link", layers.LinkType(147), tcpFrame, ErrUnsupportedLink, netip.Addr{}, netip.Addr{}, 0, 0, 0, 0, -1, nil, false},
	}
	d := NewDecoder(DefaultOptions)
	var p Packet
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.Decode(tt.link, tt.in, ts0, &p)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if p.SrcIP != tt.src || p.DstIP != tt.dst {
				t.Errorf("addresses %v → %v, want %v → %v", p.SrcIP, p.DstIP, tt.src, tt.dst)
			}
			if p.Transport != tt.transport || p.SrcPort != tt.sport || p.DstPort != tt.dport || p.TCPFlags != tt.flags {
				t.Errorf("transport %d %d→%d flags %#x, want %d %d→%d flags %#x", p.Transport, p.SrcPort, p.DstPort, p.TCPFlags, tt.transport, tt.sport, tt.dport, tt.flags)
			}
			if tt.payload >= 0 && len(p.Payload) != tt.payload {
				t.Errorf("payload %d bytes, want %d", len(p.Payload), tt.payload)
			}
			if got := p.VLANs[:p.NumVLANs]; !slices.Equal(got, tt.vlans) {
				t.Errorf("vlans %v, want %v", got, tt.vlans)
			}
			if p.HasMAC != tt.hasMAC || (tt.hasMAC && net.HardwareAddr(p.SrcMAC[:]).String() != macA.String()) {
				t.Errorf("source MAC %v (present %v), want %v (%v)", net.HardwareAddr(p.SrcMAC[:]), p.HasMAC, macA, tt.hasMAC)
			}
		})
	}
	if err := d.Decode(layers.LinkTypeEthernet, arpFrame, ts0, &p); err != nil || p.ARP.Operation != 1 || p.ARP.SenderIP != a4 || p.ARP.TargetIP != b4 {
		t.Errorf("ARP = %+v, %v", p.ARP, err)
	}
	if err := d.Decode(layers.LinkTypeEthernet, icmpErr, ts0, &p); err != nil || p.InnerSrcIP != b4 || p.InnerDstIP != netip.MustParseAddr("10.10.9.9") ||
		p.ICMPType != 3 || p.ICMPCode != 3 {
		t.Errorf("ICMP type %d code %d, quoted header %v → %v, %v", p.ICMPType, p.ICMPCode, p.InnerSrcIP, p.InnerDstIP, err)
	}
}

// fragments splits an IPv4/UDP datagram into fragments of size bytes of
// payload (multiple of 8) with gopacket, as a router would.
func fragments(t testing.TB, id uint16, size int, udpPayload []byte) [][]byte {
	t.Helper()
	whole := serialize(t, ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 5000, DstPort: 47808}, gopacket.Payload(udpPayload))
	body := whole[20:]
	var out [][]byte
	for off := 0; off < len(body); off += size {
		end := min(off+size, len(body))
		ip := ip4(layers.IPProtocolUDP)
		ip.Id = id
		ip.FragOffset = uint16(off / 8)
		if end < len(body) {
			ip.Flags = layers.IPv4MoreFragments
		}
		out = append(out, serialize(t, eth(layers.EthernetTypeIPv4), ip, gopacket.Payload(body[off:end])))
	}
	return out
}

func TestDefragment(t *testing.T) {
	data := make([]byte, 3000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	frags := fragments(t, 42, 1480, data)
	if len(frags) != 3 {
		t.Fatalf("want 3 fragments, got %d", len(frags))
	}
	tests := []struct {
		name  string
		order []int
	}{
		{"in order", []int{0, 1, 2}},
		{"reversed", []int{2, 1, 0}},
		{"last first", []int{2, 0, 1}},
		{"duplicate middle", []int{0, 1, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(DefaultOptions)
			var p Packet
			for i, k := range tt.order {
				err := d.Decode(layers.LinkTypeEthernet, frags[k], ts0, &p)
				if i < len(tt.order)-1 {
					if err != ErrFragmentPending {
						t.Fatalf("fragment %d: err %v, want pending", k, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("last fragment: %v", err)
				}
			}
			if !p.Reassembled || p.Transport != ProtoUDP || p.DstPort != 47808 || string(p.Payload) != string(data) {
				t.Fatalf("reassembled=%v transport=%d port=%d payload %d bytes equal=%v", p.Reassembled, p.Transport, p.DstPort, len(p.Payload), string(p.Payload) == string(data))
			}
			if st := d.Stats().Defrag; st.Reassembled != 1 || st.Pending != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestDefragBounds(t *testing.T) {
	opts := DefaultOptions
	opts.Fragments.MaxDatagrams = 4
	d := NewDecoder(opts)
	var p Packet
	data := make([]byte, 2000)
	// Ten datagrams whose last fragment never comes: the table stays at 4.
	for id := range 10 {
		frags := fragments(t, uint16(id), 1480, data)
		if err := d.Decode(layers.LinkTypeEthernet, frags[0], ts0, &p); err != ErrFragmentPending {
			t.Fatalf("id %d: %v", id, err)
		}
	}
	st := d.Stats().Defrag
	if st.Pending != 4 || st.Evicted != 6 {
		t.Errorf("pending %d evicted %d, want 4 and 6", st.Pending, st.Evicted)
	}
	// A fragment 31 s later times the old ones out.
	frags := fragments(t, 99, 1480, data)
	if err := d.Decode(layers.LinkTypeEthernet, frags[0], ts0.Add(31*time.Second), &p); err != ErrFragmentPending {
		t.Fatalf("first fragment after timeout: %v, want pending", err)
	}
	if err := d.Decode(layers.LinkTypeEthernet, frags[1], ts0.Add(31*time.Second), &p); err != nil || !p.Reassembled || len(p.Payload) != len(data) {
		t.Errorf("after timeout: %v reassembled=%v payload %d bytes", err, p.Reassembled, len(p.Payload))
	}
	if st := d.Stats().Defrag; st.TimedOut != 4 || st.Evicted != 6 || st.Reassembled != 1 || st.Pending != 0 {
		t.Errorf("after timeout: stats %+v, want 4 timed out, 6 evicted, 1 reassembled, 0 pending", st)
	}
	// A fragment past 64 KiB is invalid.
	big := fragments(t, 100, 1480, data)[1]
	binary.BigEndian.PutUint16(big[14+6:14+8], 0x1fff)
	if err := d.Decode(layers.LinkTypeEthernet, big, ts0, &p); err != ErrBadFragment {
		t.Errorf("oversized fragment: %v, want ErrBadFragment", err)
	}
}

func TestDecodeAllocs(t *testing.T) {
	frames := [][]byte{
		serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcpL("PA"), gopacket.Payload(make([]byte, 100))),
		serialize(t, eth(layers.EthernetTypeIPv6), &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: ip6A, DstIP: ip6B}, &layers.UDP{SrcPort: 1, DstPort: 2}, gopacket.Payload(make([]byte, 10))),
		{0xff, 0xff},        // malformed
		make([]byte, 14+20), // IPv4 with version 0
	}
	frags := fragments(t, 5, 1480, make([]byte, 3000))
	frames = append(frames, frags...)
	d := NewDecoder(DefaultOptions)
	var p Packet
	for _, f := range frames { // warm up: reassembly slots, maps
		_ = d.Decode(layers.LinkTypeEthernet, f, ts0, &p)
	}
	allocs := testing.AllocsPerRun(200, func() {
		for _, f := range frames {
			_ = d.Decode(layers.LinkTypeEthernet, f, ts0, &p)
		}
	})
	if allocs != 0 {
		t.Errorf("Decode allocates %.1f times per round, want 0", allocs)
	}
}

// TestAgainstGopacket decodes frames with gopacket's full decoder as an
// independent oracle and compares addresses, ports, flags and payload.
func TestAgainstGopacket(t *testing.T) {
	frames := [][]byte{
		serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcpL("SA"), gopacket.Payload(nil)),
		serialize(t, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 47808, DstPort: 47808}, gopacket.Payload([]byte("abc"))),
		serialize(t, eth(layers.EthernetTypeIPv6), &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: ip6A, DstIP: ip6B}, tcpL("FA"), gopacket.Payload([]byte("xyz"))),
	}
	d := NewDecoder(DefaultOptions)
	for i, f := range frames {
		compareWithGopacket(t, d, layers.LinkTypeEthernet, f, i)
	}
}

func compareWithGopacket(t testing.TB, d *Decoder, link layers.LinkType, frame []byte, n int) {
	t.Helper()
	var p Packet
	err := d.Decode(link, frame, ts0, &p)
	gp := gopacket.NewPacket(frame, link, gopacket.DecodeOptions{NoCopy: true, Lazy: false})
	if e, ok := gp.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok && e.EthernetType == layers.EthernetTypeRaw {
		return // gopacket reads Novell raw 802.3 (type 0xffff) as IPv4; it is IPX
	}
	if nl := gp.NetworkLayer(); nl != nil && err == nil && gp.ErrorLayer() == nil {
		var src, dst netip.Addr
		switch l := nl.(type) {
		case *layers.IPv4:
			if l.Version != 4 {
				return // gopacket does not check the version nibble
			}
			src, _ = netip.AddrFromSlice(l.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(l.DstIP.To4())
			if l.Flags&layers.IPv4MoreFragments != 0 || l.FragOffset != 0 {
				return
			}
		case *layers.IPv6:
			if l.Version != 6 {
				return
			}
			src, _ = netip.AddrFromSlice(l.SrcIP)
			dst, _ = netip.AddrFromSlice(l.DstIP)
			if gp.Layer(layers.LayerTypeIPv6Fragment) != nil {
				return
			}
		default:
			return
		}
		if src != p.SrcIP || dst != p.DstIP {
			t.Errorf("frame %d: addresses %v→%v, gopacket %v→%v", n, p.SrcIP, p.DstIP, src, dst)
		}
	}
	if tl, ok := gp.TransportLayer().(*layers.TCP); ok && err == nil && gp.ErrorLayer() == nil {
		var flags uint8
		for _, f := range []struct {
			set bool
			bit uint8
		}{{tl.FIN, TCPFlagFIN}, {tl.SYN, TCPFlagSYN}, {tl.RST, TCPFlagRST}, {tl.PSH, TCPFlagPSH}, {tl.ACK, TCPFlagACK}} {
			if f.set {
				flags |= f.bit
			}
		}
		if uint16(tl.SrcPort) != p.SrcPort || uint16(tl.DstPort) != p.DstPort || tl.Seq != p.Seq || tl.Ack != p.Ack || tl.Window != p.Window ||
			flags != p.TCPFlags&(TCPFlagFIN|TCPFlagSYN|TCPFlagRST|TCPFlagPSH|TCPFlagACK) || !bytes.Equal(tl.Payload, p.Payload) {
			t.Errorf("frame %d: tcp %d→%d seq %d ack %d win %d flags %#x payload %x, gopacket %d→%d seq %d ack %d win %d flags %#x payload %x",
				n, p.SrcPort, p.DstPort, p.Seq, p.Ack, p.Window, p.TCPFlags, p.Payload, tl.SrcPort, tl.DstPort, tl.Seq, tl.Ack, tl.Window, flags, tl.Payload)
		}
	}
	if ul, ok := gp.TransportLayer().(*layers.UDP); ok && err == nil && gp.ErrorLayer() == nil {
		if uint16(ul.SrcPort) != p.SrcPort || uint16(ul.DstPort) != p.DstPort || !bytes.Equal(ul.Payload, p.Payload) {
			t.Errorf("frame %d: udp %d→%d payload %x, gopacket %d→%d payload %x", n, p.SrcPort, p.DstPort, p.Payload, ul.SrcPort, ul.DstPort, ul.Payload)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(uint8(0), serialize(f, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcpL("PA"), gopacket.Payload([]byte{1, 2, 3})))
	f.Add(uint8(0), serialize(f, eth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 3, Type: layers.EthernetTypeIPv6},
		&layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: ip6A, DstIP: ip6B}, &layers.UDP{SrcPort: 1, DstPort: 2}, gopacket.Payload(nil)))
	for _, fr := range fragments(f, 1, 8, []byte("0123456789abcdef0123")) {
		f.Add(uint8(0), fr)
	}
	f.Add(uint8(1), []byte{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd})
	f.Add(uint8(2), []byte{2, 0, 0, 0, 0x45})
	f.Add(uint8(3), []byte{0x60})
	links := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeNull, layers.LinkTypeRaw, layers.LinkTypeLinuxSLL2}
	d := NewDecoder(DefaultOptions)
	f.Fuzz(func(t *testing.T, link uint8, data []byte) {
		var p Packet
		lt := links[int(link)%len(links)]
		_ = d.Decode(lt, data, ts0, &p)
		compareWithGopacket(t, d, lt, data, 0)
	})
}

func BenchmarkDecode(b *testing.B) {
	frame := serialize(b, eth(layers.EthernetTypeIPv4), ip4(layers.IPProtocolTCP), tcpL("PA"), gopacket.Payload(make([]byte, 64)))
	d := NewDecoder(DefaultOptions)
	var p Packet
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		_ = d.Decode(layers.LinkTypeEthernet, frame, ts0, &p)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// TestLLC decodes IEEE 802.3 frames: CDP over LLC/SNAP (OUI 00000c, PID
// 0x2000, IEEE 802.2 and RFC 1042 framing), an RFC 1042 SNAP frame whose
// PID is an EtherType (IPv4), and STP's plain LLC (DSAP/SSAP 0x42).
func TestLLC(t *testing.T) {
	ipv4 := serialize(t, ip4(layers.IPProtocolUDP), &layers.UDP{SrcPort: 1, DstPort: 2}, gopacket.Payload("x"))
	frame := func(llc []byte) []byte {
		b := []byte{0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc, 0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03, 0, 0}
		binary.BigEndian.PutUint16(b[12:], uint16(len(llc)))
		return append(b, llc...)
	}
	tests := []struct {
		name      string
		in        []byte
		oui       uint32
		pid       uint16
		dsap      uint8
		payload   int
		src       string
		etherType uint16
	}{
		{"cdp", frame(append([]byte{0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00}, 0x02, 0xb4, 0x00, 0x00)), 0x00000c, 0x2000, 0xaa, 4, "invalid IP", 12},
		{"rfc1042 ipv4", frame(append([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}, ipv4...)), 0, 0x0800, 0xaa, 1, "10.10.1.20", EtherTypeIPv4},
		{"stp", frame([]byte{0x42, 0x42, 0x03, 0, 0, 0, 0, 0}), 0, 0, 0x42, 5, "invalid IP", 8},
	}
	d := NewDecoder(DefaultOptions)
	var p Packet
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := d.Decode(layers.LinkTypeEthernet, tt.in, ts0, &p); err != nil {
				t.Fatal(err)
			}
			if !p.LLC || p.OUI != tt.oui || p.PID != tt.pid || p.DSAP != tt.dsap || len(p.Payload) != tt.payload || p.SrcIP.String() != tt.src || p.EtherType != tt.etherType {
				t.Errorf("LLC %v dsap %#x oui %06x pid %#04x payload %d src %v ethertype %#x", p.LLC, p.DSAP, p.OUI, p.PID, len(p.Payload), p.SrcIP, p.EtherType)
			}
		})
	}
}

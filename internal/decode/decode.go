package decode

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Sentinel errors for frames that cannot be decoded. They never allocate.
var (
	ErrUnsupportedLink = errors.New("decode: unsupported link type")
	ErrShortLink       = errors.New("decode: frame shorter than its link-layer header")
	ErrTooManyVLANs    = errors.New("decode: more VLAN tags than supported")
	ErrShortARP        = errors.New("decode: short ARP packet")
	ErrShortIPv4       = errors.New("decode: short IPv4 header")
	ErrBadIPv4         = errors.New("decode: invalid IPv4 header")
	ErrShortIPv6       = errors.New("decode: short IPv6 header")
	ErrBadIPv6         = errors.New("decode: invalid IPv6 header or extension header")
	ErrShortTCP        = errors.New("decode: short TCP header")
	ErrBadTCP          = errors.New("decode: invalid TCP data offset")
	ErrShortUDP        = errors.New("decode: short UDP header")
	ErrBadUDP          = errors.New("decode: invalid UDP length")
	ErrShortICMP       = errors.New("decode: short ICMP header")
	ErrBadFragment     = errors.New("decode: invalid IP fragment")
)

// ErrFragmentPending is returned for an IP fragment that was stored for
// reassembly. It is not malformed: the datagram is decoded when its last
// fragment arrives.
var ErrFragmentPending = errors.New("decode: fragment stored, datagram incomplete")

// Network is the network-layer protocol of a frame.
type Network uint8

// Network layers.
const (
	NetNone Network = iota
	NetARP
	NetIPv4
	NetIPv6
)

// EtherTypes the decoder follows.
const (
	EtherTypeIPv4  = 0x0800
	EtherTypeARP   = 0x0806
	EtherTypeVLAN  = 0x8100
	EtherTypeQinQ  = 0x88a8
	EtherTypeQinQ9 = 0x9100
	EtherTypeIPv6  = 0x86dd
)

// IP protocol numbers the decoder follows.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// TCP flag bits as in the header's flags byte.
const (
	TCPFlagFIN = 0x01
	TCPFlagSYN = 0x02
	TCPFlagRST = 0x04
	TCPFlagPSH = 0x08
	TCPFlagACK = 0x10
	TCPFlagURG = 0x20
)

// MaxVLANs is how many 802.1Q tags are recorded per frame.
const MaxVLANs = 2

// ARP holds the fields of an ARP packet for Ethernet/IPv4.
type ARP struct {
	Operation uint16
	SenderMAC [6]byte
	SenderIP  netip.Addr
	TargetMAC [6]byte
	TargetIP  netip.Addr
}

// Packet is a decoded frame. A Decoder fills it in place; reuse one Packet
// for every frame.
type Packet struct {
	Timestamp time.Time
	LinkType  layers.LinkType
	// Length is the frame's length on the wire.
	Length int

	// HasMAC reports whether SrcMAC/DstMAC were present (Ethernet, or a
	// Linux cooked header carrying a 6-byte source address in SrcMAC).
	HasMAC    bool
	HasDstMAC bool
	SrcMAC    [6]byte
	DstMAC    [6]byte
	// EtherType is the type after any VLAN tags (or the protocol of a
	// cooked/loopback/raw frame mapped to an EtherType).
	EtherType uint16
	// LLC is set for IEEE 802.3 frames (a length instead of an EtherType)
	// with an 802.2 LLC header; SNAP frames also carry OUI and PID. A SNAP
	// frame with OUI 0 (RFC 1042) is decoded by its PID as an EtherType.
	LLC      bool
	DSAP     uint8
	SSAP     uint8
	OUI      uint32
	PID      uint16
	VLANs    [MaxVLANs]uint16
	NumVLANs uint8

	Network Network
	SrcIP   netip.Addr
	DstIP   netip.Addr
	TTL     uint8
	// IPProto is the transport protocol number (after IPv6 extension headers).
	IPProto uint8
	// Fragment is true for a frame that carried an IP fragment;
	// Reassembled is true when that fragment completed its datagram and the
	// transport fields describe the whole datagram.
	Fragment    bool
	Reassembled bool

	ARP ARP

	// Transport is the transport protocol decoded (ProtoTCP, ProtoUDP,
	// ProtoICMP, ProtoICMPv6) or 0.
	Transport uint8
	SrcPort   uint16
	DstPort   uint16
	Seq       uint32
	Ack       uint32
	TCPFlags  uint8
	Window    uint16
	ICMPType  uint8
	ICMPCode  uint8
	// Inner holds the addresses of the IP header quoted in an ICMP error
	// message, when there is one.
	InnerSrcIP netip.Addr
	InnerDstIP netip.Addr

	// Payload is the data after the last decoded header: the transport
	// payload, or the network payload of an unknown IP protocol, or the
	// link payload of an unknown EtherType.
	Payload []byte
}

// reset clears the per-frame fields of p without touching Timestamp.
func (p *Packet) reset() {
	*p = Packet{Timestamp: p.Timestamp}
}

// Options bounds the decoder's memory.
type Options struct {
	// Fragments bounds IP fragment reassembly.
	Fragments DefragOptions
}

// DefaultOptions are the decoder defaults.
var DefaultOptions = Options{Fragments: DefaultDefragOptions}

// Stats counts what the decoder saw.
type Stats struct {
	Frames      uint64
	Malformed   uint64
	Unsupported uint64
	Defrag      DefragStats
}

// Decoder decodes frames. It is not safe for concurrent use; run one per
// capture worker.
type Decoder struct {
	defrag *Defragmenter
	stats  Stats
}

// NewDecoder returns a Decoder with the given options.
func NewDecoder(opts Options) *Decoder {
	return &Decoder{defrag: NewDefragmenter(opts.Fragments)}
}

// Stats returns the decoder's counters.
func (d *Decoder) Stats() Stats {
	s := d.stats
	s.Defrag = d.defrag.Stats()
	return s
}

// Decode decodes one frame of the given link type into p. On error, the
// fields decoded before the bad header stay valid (a frame with a corrupt
// TCP header still has its addresses), so callers can count endpoints even
// for malformed frames.
func (d *Decoder) Decode(link layers.LinkType, data []byte, ts time.Time, p *Packet) error {
	p.Timestamp = ts
	p.reset()
	p.LinkType = link
	p.Length = len(data)
	d.stats.Frames++
	err := d.decode(link, data, p)
	if err != nil && err != ErrFragmentPending {
		if err == ErrUnsupportedLink {
			d.stats.Unsupported++
		} else {
			d.stats.Malformed++
		}
	}
	return err
}

func (d *Decoder) decode(link layers.LinkType, data []byte, p *Packet) error {
	switch link {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return ErrShortLink
		}
		copy(p.DstMAC[:], data[0:6])
		copy(p.SrcMAC[:], data[6:12])
		p.HasMAC, p.HasDstMAC = true, true
		return d.ether(binary.BigEndian.Uint16(data[12:14]), data[14:], p)
	case layers.LinkTypeLinuxSLL:
		// Linux cooked v1: type(2) arphrd(2) addrlen(2) addr(8) proto(2).
		if len(data) < 16 {
			return ErrShortLink
		}
		if binary.BigEndian.Uint16(data[4:6]) == 6 {
			copy(p.SrcMAC[:], data[6:12])
			p.HasMAC = true
		}
		return d.cooked(binary.BigEndian.Uint16(data[14:16]), data[16:], p)
	case layers.LinkTypeLinuxSLL2:
		// Linux cooked v2: proto(2) reserved(2) ifindex(4) arphrd(2)
		// pkttype(1) addrlen(1) addr(8).
		if len(data) < 20 {
			return ErrShortLink
		}
		if data[11] == 6 {
			copy(p.SrcMAC[:], data[12:18])
			p.HasMAC = true
		}
		return d.cooked(binary.BigEndian.Uint16(data[0:2]), data[20:], p)
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		// BSD loopback: a 4-byte address family in host (null) or network
		// (loop) byte order.
		if len(data) < 4 {
			return ErrShortLink
		}
		fam := binary.LittleEndian.Uint32(data[0:4])
		if link == layers.LinkTypeLoop || fam > 0xffff {
			fam = binary.BigEndian.Uint32(data[0:4])
		}
		switch fam {
		case 2:
			return d.ether(EtherTypeIPv4, data[4:], p)
		case 10, 24, 28, 30:
			return d.ether(EtherTypeIPv6, data[4:], p)
		}
		p.Payload = data[4:]
		return nil
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		if len(data) < 1 {
			return ErrShortLink
		}
		switch data[0] >> 4 {
		case 4:
			return d.ether(EtherTypeIPv4, data, p)
		case 6:
			return d.ether(EtherTypeIPv6, data, p)
		}
		return ErrShortIPv4
	}
	return ErrUnsupportedLink
}

// cooked handles the protocol field of a Linux cooked header, which is an
// EtherType for most frames.
func (d *Decoder) cooked(proto uint16, data []byte, p *Packet) error {
	return d.ether(proto, data, p)
}

// ether decodes what follows an EtherType, including VLAN tags.
func (d *Decoder) ether(et uint16, data []byte, p *Packet) error {
	for et == EtherTypeVLAN || et == EtherTypeQinQ || et == EtherTypeQinQ9 {
		if len(data) < 4 {
			p.EtherType = et
			return ErrShortLink
		}
		if p.NumVLANs < MaxVLANs {
			p.VLANs[p.NumVLANs] = binary.BigEndian.Uint16(data[0:2]) & 0x0fff
			p.NumVLANs++
		} else {
			p.EtherType = et
			return ErrTooManyVLANs
		}
		et = binary.BigEndian.Uint16(data[2:4])
		data = data[4:]
	}
	p.EtherType = et
	if et <= 1500 {
		return d.llc(et, data, p)
	}
	switch et {
	case EtherTypeIPv4:
		return d.ipv4(data, p)
	case EtherTypeIPv6:
		return d.ipv6(data, p)
	case EtherTypeARP:
		return decodeARP(data, p)
	}
	p.Payload = data
	return nil
}

// llc decodes an IEEE 802.2 LLC header (and SNAP extension) after an
// 802.3 length field.
func (d *Decoder) llc(length uint16, data []byte, p *Packet) error {
	if int(length) < len(data) {
		data = data[:length] // 802.3 padding
	}
	if len(data) < 3 {
		return ErrShortLink
	}
	p.LLC = true
	p.DSAP, p.SSAP = data[0], data[1]
	hdr := 3
	if data[2]&3 != 3 { // I- and S-format frames have a 2-byte control field
		hdr = 4
	}
	if p.DSAP == 0xaa && p.SSAP == 0xaa && hdr == 3 {
		if len(data) < 8 {
			return ErrShortLink
		}
		p.OUI = uint32(data[3])<<16 | uint32(data[4])<<8 | uint32(data[5])
		p.PID = binary.BigEndian.Uint16(data[6:8])
		if p.OUI == 0 {
			return d.ether(p.PID, data[8:], p)
		}
		p.Payload = data[8:]
		return nil
	}
	if len(data) < hdr {
		return ErrShortLink
	}
	p.Payload = data[hdr:]
	return nil
}

func decodeARP(data []byte, p *Packet) error {
	p.Network = NetARP
	// htype(2) ptype(2) hlen(1) plen(1) op(2) sha spa tha tpa
	if len(data) < 8 {
		return ErrShortARP
	}
	hlen, plen := int(data[4]), int(data[5])
	p.ARP.Operation = binary.BigEndian.Uint16(data[6:8])
	if len(data) < 8+2*hlen+2*plen {
		return ErrShortARP
	}
	if hlen == 6 && plen == 4 {
		copy(p.ARP.SenderMAC[:], data[8:14])
		p.ARP.SenderIP = netip.AddrFrom4([4]byte(data[14:18]))
		copy(p.ARP.TargetMAC[:], data[18:24])
		p.ARP.TargetIP = netip.AddrFrom4([4]byte(data[24:28]))
	}
	p.Payload = data[8+2*hlen+2*plen:]
	return nil
}

// ipv4 decodes an IPv4 header and what it carries.
//
//	0       4       8              16      19             31
//	|version| IHL   |    DSCP/ECN   |        total length  |
//	|        identification         |flags|  frag offset   |
//	|   TTL         |   protocol    |    header checksum   |
//	|                   source address                     |
//	|                 destination address                  |
func (d *Decoder) ipv4(data []byte, p *Packet) error {
	if len(data) < 20 {
		return ErrShortIPv4
	}
	p.Network = NetIPv4
	p.SrcIP = netip.AddrFrom4([4]byte(data[12:16]))
	p.DstIP = netip.AddrFrom4([4]byte(data[16:20]))
	if data[0]>>4 != 4 {
		return ErrBadIPv4
	}
	ihl := int(data[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if ihl < 20 || len(data) < ihl {
		return ErrBadIPv4
	}
	switch {
	case total == 0 && len(data) > ihl:
		// TCP segmentation offload on the capturing host leaves a zero
		// total length; take the captured length, as tshark does.
		total = len(data)
	case total < ihl:
		return ErrBadIPv4
	case total < len(data):
		data = data[:total] // Ethernet padding
	}
	p.TTL = data[8]
	p.IPProto = data[9]
	fragField := binary.BigEndian.Uint16(data[6:8])
	more := fragField&0x2000 != 0
	offset := int(fragField&0x1fff) * 8
	payload := data[ihl:]
	if more || offset != 0 {
		p.Fragment = true
		id := uint32(binary.BigEndian.Uint16(data[4:6]))
		whole, err := d.defrag.Add(fragKey{src: p.SrcIP, dst: p.DstIP, id: id, proto: p.IPProto}, offset, more, payload, p.Timestamp)
		if err != nil {
			return err
		}
		p.Reassembled = true
		payload = whole
	}
	return d.transport(p.IPProto, payload, p)
}

// ipv6 decodes an IPv6 header, walks its extension headers and decodes the
// transport it carries.
func (d *Decoder) ipv6(data []byte, p *Packet) error {
	if len(data) < 40 {
		return ErrShortIPv6
	}
	p.Network = NetIPv6
	p.SrcIP = netip.AddrFrom16([16]byte(data[8:24]))
	p.DstIP = netip.AddrFrom16([16]byte(data[24:40]))
	if data[0]>>4 != 6 {
		return ErrBadIPv6
	}
	p.TTL = data[7]
	plen := int(binary.BigEndian.Uint16(data[4:6]))
	payload := data[40:]
	if plen != 0 && plen < len(payload) {
		payload = payload[:plen]
	}
	next := data[6]
walk:
	for {
		switch next {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination options, mobility, HIP, shim6
			if len(payload) < 8 {
				return ErrBadIPv6
			}
			n := (int(payload[1]) + 1) * 8
			if len(payload) < n {
				return ErrBadIPv6
			}
			next, payload = payload[0], payload[n:]
			continue
		case 51: // authentication header: length in 4-byte units, minus 2
			if len(payload) < 8 {
				return ErrBadIPv6
			}
			n := (int(payload[1]) + 2) * 4
			if len(payload) < n {
				return ErrBadIPv6
			}
			next, payload = payload[0], payload[n:]
			continue
		case 44: // fragment
			if len(payload) < 8 {
				return ErrBadIPv6
			}
			fragField := binary.BigEndian.Uint16(payload[2:4])
			more := fragField&1 != 0
			offset := int(fragField &^ 7)
			id := binary.BigEndian.Uint32(payload[4:8])
			next, payload = payload[0], payload[8:]
			p.IPProto = next
			if !more && offset == 0 {
				continue // atomic fragment
			}
			p.Fragment = true
			whole, err := d.defrag.Add(fragKey{src: p.SrcIP, dst: p.DstIP, id: id, proto: next, v6: true}, offset, more, payload, p.Timestamp)
			if err != nil {
				return err
			}
			p.Reassembled = true
			payload = whole
		default:
			break walk
		}
	}
	p.IPProto = next
	return d.transport(next, payload, p)
}

// transport decodes a TCP, UDP, ICMP or ICMPv6 header.
func (d *Decoder) transport(proto uint8, data []byte, p *Packet) error {
	switch proto {
	case ProtoTCP:
		if len(data) < 20 {
			return ErrShortTCP
		}
		p.Transport = ProtoTCP
		p.SrcPort = binary.BigEndian.Uint16(data[0:2])
		p.DstPort = binary.BigEndian.Uint16(data[2:4])
		p.Seq = binary.BigEndian.Uint32(data[4:8])
		p.Ack = binary.BigEndian.Uint32(data[8:12])
		p.TCPFlags = data[13]
		p.Window = binary.BigEndian.Uint16(data[14:16])
		off := int(data[12]>>4) * 4
		if off < 20 || off > len(data) {
			return ErrBadTCP
		}
		p.Payload = data[off:]
		return nil
	case ProtoUDP:
		if len(data) < 8 {
			return ErrShortUDP
		}
		p.Transport = ProtoUDP
		p.SrcPort = binary.BigEndian.Uint16(data[0:2])
		p.DstPort = binary.BigEndian.Uint16(data[2:4])
		n := int(binary.BigEndian.Uint16(data[4:6]))
		switch {
		case n == 0 && p.Network == NetIPv6:
			n = len(data) // jumbogram
		case n < 8:
			return ErrBadUDP
		}
		if n < len(data) {
			data = data[:n]
		}
		p.Payload = data[8:]
		return nil
	case ProtoICMP, ProtoICMPv6:
		if len(data) < 4 {
			return ErrShortICMP
		}
		p.Transport = proto
		p.ICMPType, p.ICMPCode = data[0], data[1]
		p.Payload = data[4:]
		if icmpQuotesPacket(proto, data[0]) && len(data) >= 8 {
			quoteAddrs(data[8:], p)
		}
		return nil
	}
	p.Payload = data
	return nil
}

// icmpQuotesPacket reports whether an ICMP type carries the header of the
// packet that caused it (errors: unreachable, time exceeded, ...).
func icmpQuotesPacket(proto, typ uint8) bool {
	if proto == ProtoICMP {
		switch typ {
		case 3, 4, 5, 11, 12:
			return true
		}
		return false
	}
	return typ >= 1 && typ <= 4
}

// quoteAddrs records the addresses of an IP header quoted in an ICMP error.
func quoteAddrs(b []byte, p *Packet) {
	if len(b) < 1 {
		return
	}
	switch b[0] >> 4 {
	case 4:
		if len(b) >= 20 {
			p.InnerSrcIP = netip.AddrFrom4([4]byte(b[12:16]))
			p.InnerDstIP = netip.AddrFrom4([4]byte(b[16:20]))
		}
	case 6:
		if len(b) >= 40 {
			p.InnerSrcIP = netip.AddrFrom16([16]byte(b[8:24]))
			p.InnerDstIP = netip.AddrFrom16([16]byte(b[24:40]))
		}
	}
}

package bacnet

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// Frame limits. The BVLC header is type, function and a 2-byte length that
// counts the whole BVLL message (Annex J.2). A BACnet/IP message fits one
// UDP datagram over Ethernet (1497 octets of NPDU, Annex J.2 and clause
// 6); maxFrame leaves room for jumbo frames and stays well below the
// 16-bit length.
const (
	bvlcHeaderLen = 4
	maxFrame      = 9000
)

// Malformed reasons, constant strings.
const (
	reasonBVLCType     = "bvlc type is not BACnet/IP (0x81)"
	reasonBVLCLength   = "bvlc length shorter than the header"
	reasonBVLCFunction = "unknown bvlc function"
	reasonBVLCShort    = "bvlc message shorter than its function requires"
	reasonNPDUVersion  = "npdu version is not 1"
	reasonNPDUShort    = "npdu shorter than its control octet requires"
	reasonAPDUShort    = "apdu shorter than its header"
	reasonAPDUType     = "reserved apdu type"
	reasonRequest      = "service request does not decode"
	reasonAck          = "service ack does not decode"
	reasonNoAPDU       = "npdu without an apdu"
)

// pdu is one BVLL message decoded down to the start of the service data.
type pdu struct {
	function byte
	result   uint16 // BVLC-Result code
	origin   []byte // B/IP address of a Forwarded-NPDU's originator (6 bytes)

	npdu    bool // an NPDU follows the BVLC header
	control byte
	dnet    uint16
	dadr    []byte
	snet    uint16
	sadr    []byte
	hops    byte
	netMsg  bool
	msgType byte

	apdu      bool
	apduType  byte
	flags     byte // low nibble of the first APDU octet
	invoke    byte
	service   byte
	seq       byte
	segmented bool
	more      bool
	reason    byte // reject or abort reason
	body      []byte

	malformed string
	// llc is set for an NPDU carried by ISO 8802-2 LLC (clause 7), which
	// has no BVLC header.
	llc bool
	// lengthMismatch is set when the BVLC length differs from the
	// datagram's.
	lengthMismatch bool
}

// NPDU control bits (clause 6.2.2).
const (
	npduNetMsg = 0x80
	npduDNET   = 0x20
	npduSNET   = 0x08
)

// APDU header bits (clause 20.1).
const (
	flagSEG = 0x08
	flagMOR = 0x04
	flagSA  = 0x02 // segmented response accepted (confirmed request)
	flagNAK = 0x02 // segment ack
	flagSRV = 0x01 // segment ack and abort: sent by the server
)

// parse decodes the BVLL message m (exactly one message) into p.
func (p *pdu) parse(m []byte) {
	*p = pdu{function: m[1], lengthMismatch: int(binary.BigEndian.Uint16(m[2:4])) != len(m)}
	b := m[bvlcHeaderLen:]
	switch p.function {
	case bvlcResult:
		if len(b) < 2 {
			p.malformed = reasonBVLCShort
			return
		}
		p.result = binary.BigEndian.Uint16(b)
		return
	case bvlcWriteBDT, bvlcReadBDT, bvlcReadBDTAck, bvlcReadFDT, bvlcReadFDTAck, bvlcSecureBVLL:
		return
	case bvlcRegisterFD:
		if len(b) < 2 {
			p.malformed = reasonBVLCShort
		}
		return
	case bvlcDeleteFDTEntry:
		if len(b) < 6 {
			p.malformed = reasonBVLCShort
		}
		return
	case bvlcForwardedNPDU:
		if len(b) < 6 {
			p.malformed = reasonBVLCShort
			return
		}
		p.origin = b[:6]
		b = b[6:]
	case bvlcDistributeBcast, bvlcOriginalUnicast, bvlcOriginalBroadcast:
	default:
		p.malformed = reasonBVLCFunction
		return
	}
	p.npdu = true
	p.parseNPDU(b)
}

// parseLLC decodes the NPDU b of a BACnet/Ethernet frame (clause 7), the
// bytes after the LLC header.
func (p *pdu) parseLLC(b []byte) {
	*p = pdu{llc: true, npdu: true}
	p.parseNPDU(b)
}

// parseNPDU decodes the network layer header (clause 6.2).
func (p *pdu) parseNPDU(b []byte) {
	if len(b) < 2 {
		p.malformed = reasonNPDUShort
		return
	}
	if b[0] != 1 {
		p.malformed = reasonNPDUVersion
		return
	}
	p.control = b[1]
	b = b[2:]
	if p.control&npduDNET != 0 {
		if len(b) < 3 || len(b) < 3+int(b[2]) {
			p.malformed = reasonNPDUShort
			return
		}
		p.dnet = binary.BigEndian.Uint16(b)
		p.dadr = b[3 : 3+int(b[2])]
		b = b[3+int(b[2]):]
	}
	if p.control&npduSNET != 0 {
		if len(b) < 3 || len(b) < 3+int(b[2]) {
			p.malformed = reasonNPDUShort
			return
		}
		p.snet = binary.BigEndian.Uint16(b)
		p.sadr = b[3 : 3+int(b[2])]
		b = b[3+int(b[2]):]
	}
	if p.control&npduDNET != 0 {
		if len(b) < 1 {
			p.malformed = reasonNPDUShort
			return
		}
		p.hops = b[0]
		b = b[1:]
	}
	if p.control&npduNetMsg != 0 {
		if len(b) < 1 {
			p.malformed = reasonNPDUShort
			return
		}
		p.netMsg = true
		p.msgType = b[0]
		b = b[1:]
		if p.msgType >= 0x80 {
			if len(b) < 2 {
				p.malformed = reasonNPDUShort
				return
			}
			b = b[2:]
		}
		p.body = b
		return
	}
	if len(b) == 0 {
		p.malformed = reasonNoAPDU
		return
	}
	p.parseAPDU(b)
}

// parseAPDU decodes the APDU header (clause 20.1.2 to 20.1.9).
func (p *pdu) parseAPDU(b []byte) {
	p.apdu = true
	p.apduType = b[0] >> 4
	p.flags = b[0] & 0x0f
	need := 0
	switch p.apduType {
	case apduConfirmed:
		p.segmented, p.more = p.flags&flagSEG != 0, p.flags&flagMOR != 0
		need = 4
		if p.segmented {
			need = 6
		}
		if len(b) < need {
			break
		}
		p.invoke = b[2]
		if p.segmented {
			p.seq = b[3]
		}
		p.service = b[need-1]
	case apduUnconfirmed:
		need = 2
		if len(b) >= need {
			p.service = b[1]
		}
	case apduSimpleAck, apduError:
		need = 3
		if len(b) >= need {
			p.invoke, p.service = b[1], b[2]
		}
	case apduComplexAck:
		p.segmented, p.more = p.flags&flagSEG != 0, p.flags&flagMOR != 0
		need = 3
		if p.segmented {
			need = 5
		}
		if len(b) >= need {
			p.invoke = b[1]
			if p.segmented {
				p.seq = b[2]
			}
			p.service = b[need-1]
		}
	case apduSegmentAck:
		need = 4
		if len(b) >= need {
			p.invoke, p.seq = b[1], b[2]
		}
	case apduReject, apduAbort:
		need = 3
		if len(b) >= need {
			p.invoke, p.reason = b[1], b[2]
		}
	default:
		p.apdu = false
		p.malformed = reasonAPDUType
		return
	}
	if len(b) < need {
		p.malformed = reasonAPDUShort
		return
	}
	p.body = b[need:]
}

// decimal holds the decimal text of 0..255, so that small numbers become
// attribute values without allocation.
var decimal = func() (d [256]string) {
	for i := range d {
		d[i] = strconv.Itoa(i)
	}
	return d
}()

// formatNumber returns v in decimal, from the table when it is small.
func formatNumber(v uint32) string {
	if v < uint32(len(decimal)) {
		return decimal[v]
	}
	return strconv.FormatUint(uint64(v), 10)
}

// formatMAC returns a BACnet MAC address as tshark prints it: one octet
// (MS/TP, ARCNET) in decimal, longer ones as colon-separated hex.
func formatMAC(a []byte) string {
	if len(a) == 1 {
		return decimal[a[0]]
	}
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 0, 3*len(a))
	for i, c := range a {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hexdigits[c>>4], hexdigits[c&0xf])
	}
	return string(out)
}

// formatBIP returns a 6-octet B/IP address (IPv4 address and UDP port,
// Annex J.1.2) as "a.b.c.d:port".
func formatBIP(a []byte) string {
	if len(a) != 6 {
		return formatMAC(a)
	}
	ip := netip.AddrFrom4([4]byte(a[:4]))
	return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(a[4:])).String()
}

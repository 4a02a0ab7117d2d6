package dns

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() {
	dissect.Register(DNS, dissect.UDP(53), dissect.TCP(53))
	dissect.Register(MDNS, dissect.UDP(5353))
	dissect.Register(LLMNR, dissect.UDP(5355), dissect.TCP(5355))
}

// variant says which of the protocols sharing the DNS message format a
// Dissector decodes.
type variant uint8

const (
	variantDNS variant = iota
	variantMDNS
	variantLLMNR
)

var variantNames = [...]string{variantDNS: "dns", variantMDNS: "mdns", variantLLMNR: "llmnr"}

// Dissector decodes one protocol of the DNS family.
type Dissector struct{ v variant }

// The registered dissectors.
var (
	DNS   = Dissector{variantDNS}   // "dns": RFC 1035 on port 53
	MDNS  = Dissector{variantMDNS}  // "mdns": RFC 6762 on UDP 5353
	LLMNR = Dissector{variantLLMNR} // "llmnr": RFC 4795 on port 5355
)

// Name returns "dns", "mdns" or "llmnr".
func (d Dissector) Name() string { return variantNames[d.v] }

// Probe recognises only plain DNS queries, strictly: one question of class
// IN (or CHAOS) that ends the message or is followed by one OPT record,
// with the header bits a resolver sets. mDNS and LLMNR are found by port.
func (d Dissector) Probe(b []byte) bool {
	if d.v != variantDNS {
		return false
	}
	if probeQuery(b) {
		return true
	}
	return len(b) > 2 && int(binary.BigEndian.Uint16(b)) == len(b)-2 && probeQuery(b[2:])
}

func probeQuery(b []byte) bool {
	if len(b) < headerLen+5 {
		return false
	}
	flags := binary.BigEndian.Uint16(b[2:])
	// QR=0, opcode 0, AA=0, TC=0, RA=0, Z=0, rcode 0 (RD, AD, CD free).
	if flags&0xfecf != 0 {
		return false
	}
	if binary.BigEndian.Uint16(b[4:]) != 1 || binary.BigEndian.Uint16(b[6:]) != 0 ||
		binary.BigEndian.Uint16(b[8:]) != 0 || binary.BigEndian.Uint16(b[10:]) > 1 {
		return false
	}
	if netbiosName(b[headerLen:]) {
		return false // NetBIOS name service (RFC 1002 4.2.1) shares the format
	}
	off := headerLen
	for {
		if off >= len(b) {
			return false
		}
		l := int(b[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 || off+1+l > len(b) {
			return false
		}
		for _, c := range b[off+1 : off+1+l] {
			if c <= ' ' || c >= 0x7f {
				return false
			}
		}
		off += 1 + l
	}
	if off+4 > len(b) {
		return false
	}
	if class := binary.BigEndian.Uint16(b[off+2:]); class != classIN && class != 3 {
		return false
	}
	off += 4
	if binary.BigEndian.Uint16(b[10:]) == 1 {
		// An OPT pseudo-record (RFC 6891 6.1.2): root name, type 41.
		if off+11 > len(b) || b[off] != 0 || binary.BigEndian.Uint16(b[off+1:]) != typeOPT {
			return false
		}
		off += 11 + int(binary.BigEndian.Uint16(b[off+9:]))
	}
	return off == len(b)
}

// NewSession returns a session for one flow.
func (d Dissector) NewSession(f *dissect.Flow) dissect.Session {
	return &session{v: d.v, flow: f, stream: f.Transport == dissect.TransportTCP}
}

// netbiosName reports whether b starts with a label of 32 octets in
// 'A'..'P': a first-level encoded NetBIOS name (RFC 1001 14.1).
func netbiosName(b []byte) bool {
	if len(b) < 33 || b[0] != 32 {
		return false
	}
	for _, c := range b[1:33] {
		if c < 'A' || c > 'P' {
			return false
		}
	}
	return true
}

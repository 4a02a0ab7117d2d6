package dns

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Message layout (RFC 1035 section 4.1).
const (
	headerLen = 12
	classIN   = 1
	typeA     = 1
	typeCNAME = 5
	typePTR   = 12
	typeAAAA  = 28
	typeOPT   = 41

	flagQR = 0x8000

	maxNameWire = 255 // RFC 1035 2.3.4
	maxPointers = 64
	// maxNameText bounds a name in presentation form: every octet of a
	// 255-octet name escaped as \DDD.
	maxNameText = 4 * maxNameWire
	// maxRecords bounds the targets and facts taken from one message.
	maxRecords = 64
)

// Malformed-message reasons.
var (
	errShort      = errors.New("dns: message shorter than its header")
	errName       = errors.New("dns: name runs past the end of the message")
	errLabel      = errors.New("dns: reserved label type")
	errPointer    = errors.New("dns: compression pointer does not point backwards")
	errNameLong   = errors.New("dns: name longer than 255 octets")
	errQuestion   = errors.New("dns: question runs past the end of the message")
	errRecord     = errors.New("dns: resource record runs past the end of the message")
	errEmptyFrame = errors.New("dns: zero-length TCP message")
)

// header is the fixed part of a message.
type header struct {
	id, flags                    uint16
	qd, an, ns, ar               uint16
	response                     bool
	opcode, rcode                uint8
	authoritative, truncated, rd bool
}

func (h *header) parse(b []byte) error {
	if len(b) < headerLen {
		return errShort
	}
	h.id = binary.BigEndian.Uint16(b)
	h.flags = binary.BigEndian.Uint16(b[2:])
	h.qd = binary.BigEndian.Uint16(b[4:])
	h.an = binary.BigEndian.Uint16(b[6:])
	h.ns = binary.BigEndian.Uint16(b[8:])
	h.ar = binary.BigEndian.Uint16(b[10:])
	h.response = h.flags&flagQR != 0
	h.opcode = uint8(h.flags>>11) & 0xf
	h.rcode = uint8(h.flags & 0xf)
	return nil
}

// readName decodes the name starting at off (RFC 1035 3.1, compression
// 4.1.4) and appends its presentation form to dst ("." for the root,
// no trailing dot otherwise; RFC 1035 5.1 escapes for dots, backslashes
// and octets outside printable ASCII). It returns the offset just past
// the name where it started. A pointer must point before the start of
// the run of labels that holds it, so every jump goes strictly backwards
// and decoding always ends; at most maxPointers are followed.
func readName(msg []byte, off int, dst []byte) ([]byte, int, error) {
	next := -1
	wire := 0
	start := len(dst)
	seg := off
	for hops := 0; ; {
		if off >= len(msg) {
			return dst, 0, errName
		}
		c := msg[off]
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				if next < 0 {
					next = off + 1
				}
				if len(dst) == start {
					dst = append(dst, '.')
				}
				return dst, next, nil
			}
			l := int(c)
			if off+1+l > len(msg) {
				return dst, 0, errName
			}
			wire += 1 + l
			if wire > maxNameWire {
				return dst, 0, errNameLong
			}
			if len(dst) > start {
				dst = append(dst, '.')
			}
			dst = appendLabel(dst, msg[off+1:off+1+l])
			off += 1 + l
		case 0xc0:
			if off+2 > len(msg) {
				return dst, 0, errName
			}
			ptr := int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
			if ptr >= seg || hops >= maxPointers {
				return dst, 0, errPointer
			}
			hops++
			seg = ptr
			if next < 0 {
				next = off + 2
			}
			off = ptr
		default:
			return dst, 0, errLabel
		}
	}
}

// appendLabel appends a label in presentation form.
func appendLabel(dst, label []byte) []byte {
	for _, c := range label {
		switch {
		case c == '.' || c == '\\':
			dst = append(dst, '\\', c)
		case c < '!' || c > '~':
			dst = append(dst, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// skipName returns the offset after the name at off without decoding it.
func skipName(msg []byte, off int) (int, error) {
	for {
		if off >= len(msg) {
			return 0, errName
		}
		c := msg[off]
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				return off + 1, nil
			}
			off += 1 + int(c)
		case 0xc0:
			if off+2 > len(msg) {
				return 0, errName
			}
			return off + 2, nil
		default:
			return 0, errLabel
		}
	}
}

var typeNames = map[uint16]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 12: "PTR", 13: "HINFO", 15: "MX",
	16: "TXT", 28: "AAAA", 32: "NB", 33: "SRV", 35: "NAPTR", 41: "OPT", 43: "DS", 46: "RRSIG",
	47: "NSEC", 48: "DNSKEY", 50: "NSEC3", 52: "TLSA", 64: "SVCB", 65: "HTTPS", 99: "SPF",
	251: "IXFR", 252: "AXFR", 255: "ANY", 257: "CAA",
}

// typeName returns the mnemonic of an RR type (RFC 1035 3.2.2 and the
// IANA registry), or "TYPEn" (RFC 3597 section 5).
func typeName(t uint16) string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	var buf [12]byte
	return dissect.Intern(strconv.AppendUint(append(buf[:0], "TYPE"...), uint64(t), 10))
}

var opcodeNames = [...]string{0: "query", 1: "iquery", 2: "status", 4: "notify", 5: "update", 6: "dso"}

// opcodeName returns the name of a header opcode (RFC 1035 4.1.1, RFC
// 1996, RFC 2136, RFC 8490).
func opcodeName(op uint8) string {
	if int(op) < len(opcodeNames) && opcodeNames[op] != "" {
		return opcodeNames[op]
	}
	return "unknown"
}

var rcodeNames = [...]string{
	0: "noerror", 1: "formerr", 2: "servfail", 3: "nxdomain", 4: "notimp", 5: "refused",
	6: "yxdomain", 7: "yxrrset", 8: "nxrrset", 9: "notauth", 10: "notzone", 11: "dsotypeni",
}

// rcodeName returns the name of a response code (RFC 1035 4.1.1, RFC
// 2136 2.2, RFC 8490).
func rcodeName(rc uint8) string {
	if int(rc) < len(rcodeNames) {
		return rcodeNames[rc]
	}
	return "unknown"
}

// reverseAddr returns the address a reverse-mapping name stands for
// (RFC 1035 3.5 in-addr.arpa, RFC 3596 2.5 ip6.arpa), or false.
func reverseAddr(name []byte) (netip.Addr, bool) {
	const v4, v6 = ".in-addr.arpa", ".ip6.arpa"
	switch {
	case hasSuffixFold(name, v4):
		name = name[:len(name)-len(v4)]
		// "4.3.2.1.in-addr.arpa" is 1.2.3.4: least significant first.
		var a [4]byte
		k := 0
		for i := 0; i <= len(name); i++ {
			if i < len(name) && name[i] != '.' {
				continue
			}
			n, ok := atoiByte(name[:i])
			if !ok || k == 4 {
				return netip.Addr{}, false
			}
			a[3-k] = n
			k++
			if i == len(name) {
				break
			}
			name, i = name[i+1:], -1
		}
		if k != 4 {
			return netip.Addr{}, false
		}
		return netip.AddrFrom4(a), true
	case hasSuffixFold(name, v6):
		name = name[:len(name)-len(v6)]
		if len(name) != 63 {
			return netip.Addr{}, false
		}
		var a [16]byte
		for i := 0; i < 32; i++ {
			c := name[2*i]
			if i < 31 && name[2*i+1] != '.' {
				return netip.Addr{}, false
			}
			v, ok := hexNibble(c)
			if !ok {
				return netip.Addr{}, false
			}
			// The first label is the least significant nibble.
			pos := 31 - i
			if pos%2 == 0 {
				a[pos/2] |= v << 4
			} else {
				a[pos/2] |= v
			}
		}
		return netip.AddrFrom16(a), true
	}
	return netip.Addr{}, false
}

func atoiByte(b []byte) (byte, bool) {
	if len(b) == 0 || len(b) > 3 || (len(b) > 1 && b[0] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n > 255 {
		return 0, false
	}
	return byte(n), true
}

func hexNibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func hasSuffixFold(b []byte, suffix string) bool {
	if len(b) < len(suffix) {
		return false
	}
	b = b[len(b)-len(suffix):]
	for i := range len(suffix) {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != suffix[i] {
			return false
		}
	}
	return true
}

package netbios

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.Register(Dissector{}, dissect.UDP(NamePort), dissect.UDP(DatagramPort)) }

// UDP ports of the name and datagram services (RFC 1002 section 6).
const (
	NamePort     = 137
	DatagramPort = 138
)

const (
	headerLen  = 12
	typeNB     = 0x20
	typeNBSTAT = 0x21
	// encodedLen is the length of a first-level encoded name label.
	encodedLen  = 32
	maxPointers = 16
	maxRecords  = 32
	// maxName bounds a decoded name: 15 characters shown as <xx> at
	// worst, the suffix, and a scope of up to 255 octets.
	maxName = 15*4 + 4 + 256
)

// Malformed-message reasons.
var (
	errShort    = errors.New("netbios: message shorter than its header")
	errName     = errors.New("netbios: name runs past the end of the message")
	errEncoding = errors.New("netbios: name is not first-level encoded")
	errPointer  = errors.New("netbios: compression pointer does not point backwards")
	errRecord   = errors.New("netbios: record runs past the end of the message")
	errDatagram = errors.New("netbios: datagram shorter than its header")
	errEmpty    = errors.New("netbios: zero-length TCP message")
)

// Dissector decodes the NetBIOS name and datagram services.
type Dissector struct{}

// Name returns "netbios".
func (Dissector) Name() string { return "netbios" }

// Probe never claims a flow: the name service looks like DNS, and the
// services live on their registered ports.
func (Dissector) Probe([]byte) bool { return false }

// NewSession returns a session for one flow.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session {
	return &session{flow: f, stream: f.Transport == dissect.TransportTCP,
		datagram: f.Transport == dissect.TransportUDP && (f.Server.Port == DatagramPort || f.Client.Port == DatagramPort)}
}

// session decodes one flow. Name service queries are mostly broadcast and
// answered from another address, on another flow, so every message is
// one operation; so is every datagram.
type session struct {
	flow     *dissect.Flow
	stream   bool
	datagram bool
	name     [maxName]byte
}

// Feed decodes one datagram, or length-prefixed name service messages
// over TCP (RFC 1002 4.2.1: "a 16-bit length" precedes each).
func (s *session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	if !s.stream {
		if s.datagram {
			s.dgm(dir, data, ctx)
		} else {
			s.ns(dir, data, ctx)
		}
		return len(data), nil
	}
	n := 0
	for len(data)-n >= 2 {
		size := int(binary.BigEndian.Uint16(data[n:]))
		if size == 0 {
			s.malformed("", errEmpty, ctx)
			n += 2
			continue
		}
		if len(data)-n-2 < size {
			break
		}
		s.ns(dir, data[n+2:n+2+size], ctx)
		n += 2 + size
	}
	return n, nil
}

// Gap needs no work: the next length prefix resynchronises.
func (s *session) Gap(dissect.Direction, int, *dissect.Context) {}

// Close has nothing pending.
func (s *session) Close(*dissect.Context) {}

func (s *session) malformed(fn string, err error, ctx *dissect.Context) {
	op := ctx.Op("netbios")
	op.FunctionName = "malformed"
	if fn != "" {
		op.FunctionName = fn
	}
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	ctx.Emit(op)
}

// readName decodes the name at off: a first-level encoded label of 32
// characters 'A'..'P' (RFC 1001 14.1), then scope labels, with DNS
// compression (RFC 1002 4.1). It appends the tshark-style form to dst:
// the 15 name characters without trailing spaces, non-printable octets as
// <xx>, then <suffix>, then ".scope". raw receives the 16 decoded octets.
func readName(msg []byte, off int, dst []byte, raw *[16]byte) ([]byte, int, error) {
	next, seg, hops, first := -1, off, 0, true
	for {
		if off >= len(msg) {
			return dst, 0, errName
		}
		c := msg[off]
		switch {
		case c == 0:
			if first {
				return dst, 0, errEncoding
			}
			if next < 0 {
				next = off + 1
			}
			return dst, next, nil
		case c&0xc0 == 0xc0:
			if off+2 > len(msg) {
				return dst, 0, errName
			}
			ptr := int(binary.BigEndian.Uint16(msg[off:]) & 0x3fff)
			if ptr >= seg || hops >= maxPointers {
				return dst, 0, errPointer
			}
			hops++
			if next < 0 {
				next = off + 2
			}
			off, seg = ptr, ptr
		case c&0xc0 != 0:
			return dst, 0, errName
		default:
			l := int(c)
			if off+1+l > len(msg) {
				return dst, 0, errName
			}
			label := msg[off+1 : off+1+l]
			off += 1 + l
			if first {
				if l != encodedLen {
					return dst, 0, errEncoding
				}
				for i := range 16 {
					hi, lo := label[2*i]-'A', label[2*i+1]-'A'
					if hi > 15 || lo > 15 {
						return dst, 0, errEncoding
					}
					raw[i] = hi<<4 | lo
				}
				dst = appendNetBIOS(dst, raw)
				first = false
				continue
			}
			if len(dst)+1+l > maxName {
				return dst, 0, errName
			}
			dst = append(dst, '.')
			dst = append(dst, label...)
		}
	}
}

const hexDigits = "0123456789abcdef"

// appendNetBIOS appends a 16-octet NetBIOS name as "NAME<xx>".
func appendNetBIOS(dst []byte, raw *[16]byte) []byte {
	n := 15
	for n > 0 && raw[n-1] == ' ' {
		n--
	}
	for _, c := range raw[:n] {
		if c < ' ' || c > '~' {
			dst = append(dst, '<', hexDigits[c>>4], hexDigits[c&15], '>')
		} else {
			dst = append(dst, c)
		}
	}
	return append(dst, '<', hexDigits[raw[15]>>4], hexDigits[raw[15]&15], '>')
}

// hostnameOf returns the host name a unique name announces, or nil: the
// 15 characters without padding, for the workstation (<00>) and server
// (<20>) suffixes of a printable name.
func hostnameOf(raw *[16]byte) []byte {
	if raw[15] != 0x00 && raw[15] != 0x20 {
		return nil
	}
	n := 15
	for n > 0 && raw[n-1] == ' ' {
		n--
	}
	for _, c := range raw[:n] {
		if c <= ' ' || c > '~' {
			return nil
		}
	}
	return raw[:n]
}

// addFact appends a hostname fact for raw bound to addr, with its "ip"
// attribute; Server when addr is the flow server's.
func (s *session) addFact(op *dissect.Operation, raw *[16]byte, addr netip.Addr) {
	h := hostnameOf(raw)
	if h == nil || !addr.IsValid() || addr.IsUnspecified() {
		return
	}
	var buf [16]byte
	op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: dissect.Intern(h), Server: addr == s.flow.Server.IP})
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "ip", Value: dissect.Intern(addr.AppendTo(buf[:0]))})
}

var opcodeNames = [16]string{0: "query", 5: "registration", 6: "release", 7: "wack", 8: "refresh", 9: "refresh",
	15: "multihomed_registration"}

var rcodeNames = [8]string{"ok", "fmt_err", "srv_err", "nam_err", "imp_err", "rfs_err", "act_err", "cft_err"}

// ns decodes a name service message (RFC 1002 4.2).
func (s *session) ns(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	if len(b) < headerLen {
		s.malformed("", errShort, ctx)
		return
	}
	flags := binary.BigEndian.Uint16(b[2:])
	opcode, rcode := uint8(flags>>11)&0xf, uint8(flags&0xf)
	response := flags&0x8000 != 0
	fn := opcodeNames[opcode]
	if fn == "" {
		fn = "unknown"
	}
	op := ctx.Op("netbios")
	op.FunctionCode = int(opcode)
	op.FunctionName = fn
	op.Class = dissect.ClassDiscovery
	op.Request, op.Response = !response, response
	op.Result.Status = dissect.StatusOK
	if response && rcode != 0 && opcode != 7 {
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(rcode), Text: "unknown"}
		if int(rcode) < len(rcodeNames) {
			op.Result.Text = rcodeNames[rcode]
		}
	} else if !response {
		op.Result.Status = dissect.StatusUnknown
	}
	qd := int(binary.BigEndian.Uint16(b[4:]))
	rr := int(binary.BigEndian.Uint16(b[6:])) + int(binary.BigEndian.Uint16(b[8:])) + int(binary.BigEndian.Uint16(b[10:]))
	off := headerLen
	var raw [16]byte
	for i := range qd {
		name, next, err := readName(b, off, s.name[:0], &raw)
		if err == nil && next+4 > len(b) {
			err = errRecord
		}
		if err != nil {
			s.malformed(fn, err, ctx)
			return
		}
		typ := binary.BigEndian.Uint16(b[next:])
		off = next + 4
		if i < maxRecords {
			op.Targets = append(op.Targets, dissect.Target{Kind: "netbios_name", Name: dissect.Intern(name)})
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "qtype", Value: typeName(typ)})
		}
	}
	// A name the message claims is the sender's when it registers,
	// refreshes or answers; a release gives it up.
	claims := opcode != 6 && (response && rcode == 0 || !response && opcode != 0)
	for i := range rr {
		name, next, err := readName(b, off, s.name[:0], &raw)
		if err == nil && next+10 > len(b) {
			err = errRecord
		}
		if err != nil {
			s.malformed(fn, err, ctx)
			return
		}
		typ := binary.BigEndian.Uint16(b[next:])
		rdlen := int(binary.BigEndian.Uint16(b[next+8:]))
		rdata := b[min(next+10, len(b)):]
		if rdlen > len(rdata) {
			s.malformed(fn, errRecord, ctx)
			return
		}
		rdata = rdata[:rdlen]
		off = next + 10 + rdlen
		if i >= maxRecords {
			continue
		}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "nb_name", Value: dissect.Intern(name)})
		switch typ {
		case typeNB:
			// NB_FLAGS (G bit 0x8000, ONT) and NB_ADDRESS, repeated.
			for j := 0; j+6 <= len(rdata) && j < 6*maxRecords; j += 6 {
				if claims && binary.BigEndian.Uint16(rdata[j:])&0x8000 == 0 {
					s.addFact(op, &raw, netip.AddrFrom4([4]byte(rdata[j+2:j+6])))
				}
			}
		case typeNBSTAT:
			if response && rcode == 0 {
				s.nodeStatus(op, rdata, dir)
			}
		}
	}
	ctx.Emit(op)
}

// nodeStatus decodes a NODE STATUS RESPONSE (RFC 1002 4.2.18): the
// names of the answering node, then statistics starting with the unit
// id (its MAC address). Its unique <00> name is a hostname fact about the
// sender, its group <00> name the "workgroup" attribute.
func (s *session) nodeStatus(op *dissect.Operation, rdata []byte, dir dissect.Direction) {
	if len(rdata) < 1 {
		return
	}
	n := int(rdata[0])
	names := rdata[1:]
	host, group := false, false
	var raw [16]byte
	for i := 0; i < n && len(names) >= 18; i++ {
		copy(raw[:], names[:16])
		isGroup := binary.BigEndian.Uint16(names[16:])&0x8000 != 0
		names = names[18:]
		if raw[15] != 0x00 {
			continue
		}
		switch {
		case !isGroup && !host:
			if h := hostnameOf(&raw); h != nil {
				op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: dissect.Intern(h), Server: dir == dissect.ToClient})
				host = true
			}
		case isGroup && !group:
			if h := hostnameOf(&raw); h != nil {
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "workgroup", Value: dissect.Intern(h)})
				group = true
			}
		}
	}
	if len(names) >= 6 && n*18 <= len(rdata)-1 {
		var buf [18]byte
		for i, c := range names[:6] {
			if i > 0 {
				buf[3*i-1] = ':'
			}
			buf[3*i], buf[3*i+1] = hexDigits[c>>4], hexDigits[c&15]
		}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "mac", Value: dissect.Intern(buf[:17])})
	}
}

func typeName(t uint16) string {
	switch t {
	case typeNB:
		return "NB"
	case typeNBSTAT:
		return "NBSTAT"
	case 0x01:
		return "A"
	case 0x02:
		return "NS"
	case 0x0a:
		return "NULL"
	}
	return "other"
}

var dgmNames = [...]string{"direct_unique", "direct_group", "broadcast", "error", "query_request",
	"positive_query_response", "negative_query_response"}

// dgm decodes a datagram service message (RFC 1002 4.4): MSG_TYPE, FLAGS,
// DGM_ID, SOURCE_IP, SOURCE_PORT, then per type DGM_LENGTH,
// PACKET_OFFSET, SOURCE_NAME, DESTINATION_NAME and user data; an
// ERROR_CODE; or a DESTINATION_NAME.
func (s *session) dgm(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	if len(b) < 10 {
		s.malformed("", errDatagram, ctx)
		return
	}
	typ := b[0]
	fn := "unknown"
	if typ >= 0x10 && int(typ-0x10) < len(dgmNames) {
		fn = dgmNames[typ-0x10]
	}
	op := ctx.Op("netbios")
	op.FunctionCode = int(typ)
	op.FunctionName = fn
	op.Class = dissect.ClassOther
	op.Request = true
	op.Result.Status = dissect.StatusOK
	src := netip.AddrFrom4([4]byte(b[4:8]))
	var raw [16]byte
	switch {
	case typ >= 0x10 && typ <= 0x12:
		if len(b) < 14 {
			s.malformed(fn, errDatagram, ctx)
			return
		}
		name, next, err := readName(b, 14, s.name[:0], &raw)
		if err != nil {
			s.malformed(fn, err, ctx)
			return
		}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "source_name", Value: dissect.Intern(name)})
		if hostnameOf(&raw) != nil {
			var buf [16]byte
			op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: dissect.Intern(hostnameOf(&raw)),
				Server: src == s.flow.Server.IP})
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "ip", Value: dissect.Intern(src.AppendTo(buf[:0]))})
		}
		name, _, err = readName(b, next, s.name[:0], &raw)
		if err != nil {
			s.malformed(fn, err, ctx)
			return
		}
		op.Targets = append(op.Targets, dissect.Target{Kind: "netbios_name", Name: dissect.Intern(name)})
	case typ == 0x13:
		if len(b) < 11 {
			s.malformed(fn, errDatagram, ctx)
			return
		}
		op.Response = true
		op.Request = false
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(b[10]), Text: "datagram_error"}
	case typ >= 0x14 && typ <= 0x16:
		name, _, err := readName(b, 10, s.name[:0], &raw)
		if err != nil {
			s.malformed(fn, err, ctx)
			return
		}
		op.Targets = append(op.Targets, dissect.Target{Kind: "netbios_name", Name: dissect.Intern(name)})
		op.Class = dissect.ClassDiscovery
		if typ != 0x14 {
			op.Request, op.Response = false, true
		}
		if typ == 0x16 {
			op.Result = dissect.Result{Status: dissect.StatusError, Code: int(typ), Text: "negative_query_response"}
		}
	}
	ctx.Emit(op)
}

package hartip

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/internal/pairing"
)

const proto = "hartip"

// Pairing limits.
const (
	// pairWindow is how long a request waits for its response.
	pairWindow = 30 * time.Second
	// maxDirect bounds the commands of one Direct PDU that become
	// operations.
	maxDirect = 8
	// maxPreambles bounds the 0xFF preamble bytes before a delimiter.
	maxPreambles = 32
)

// Malformed reasons (constant strings).
const (
	errHeader      = "invalid HART-IP header"
	errShort       = "bytes after the last message shorter than a header"
	errTruncated   = "byte count beyond the datagram"
	errNoDelimiter = "no delimiter after the preambles"
	errFrameType   = "unknown HART frame type"
	errShortFrame  = "HART frame shorter than its header"
	errByteCount   = "HART byte count beyond the message"
	errTrailing    = "bytes after the HART check byte"
	errChecksum    = "HART check byte mismatch"
	errNoRC        = "HART response without response code and device status"
	errDirect      = "Direct PDU command beyond the message"
	errSessionInit = "Session Initiate request body not 5 bytes"
	errDirection   = "HART frame type does not match the message type"
)

// Attribute keys.
const (
	attrLayer     = "layer"
	attrViolation = "violation"
	attrType      = "message_type"
	attrFrame     = "frame"
	attrPDU       = "pdu"
	attrWarning   = "warning"
)

// reqKey is what pairs a response with its request.
type reqKey struct {
	id  byte
	seq uint16
	sub uint32 // command number and, in a Direct PDU, its index << 16
}

// pending is a request awaiting its response.
type pending = pairing.Entry[reqKey]

// header is a HART-IP message header.
type header struct {
	version, typ, id, status byte
	seq                      uint16
}

// Session decodes one HART-IP flow.
type Session struct {
	udp   bool
	quiet [2]bool
	reqs  pairing.Table[reqKey]
}

func validHeader(b []byte) bool {
	n := binary.BigEndian.Uint16(b[6:])
	return b[0] >= 1 && b[0] <= 3 && knownType(b[1]) && n >= headerLen && n <= maxMessage
}

// Feed decodes the HART-IP messages of a datagram, or those in a stream's
// bytes, and returns the bytes consumed; an incomplete message at the end
// of a stream is left for the next call.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	dir &= 1
	i := 0
	for i < len(data) {
		b := data[i:]
		if len(b) < headerLen {
			if s.udp {
				s.violation(dir, ctx, "hart_ip", errShort)
				i = len(data)
			}
			break
		}
		if !validHeader(b) {
			if s.udp {
				s.violation(dir, ctx, "hart_ip", errHeader)
				i = len(data)
				break
			}
			if !s.quiet[dir] {
				s.quiet[dir] = true
				s.violation(dir, ctx, "hart_ip", errHeader)
			}
			i++
			continue
		}
		n := int(binary.BigEndian.Uint16(b[6:]))
		if len(b) < n {
			if s.udp {
				s.violation(dir, ctx, "hart_ip", errTruncated)
				i = len(data)
			}
			break
		}
		s.quiet[dir] = false
		s.message(dir, b[:n], ctx)
		i += n
	}
	return i, nil
}

// Gap drops nothing: a stream resynchronises on the next valid header.
func (s *Session) Gap(dissect.Direction, int, *dissect.Context) {}

// Close emits the requests still waiting for a response.
func (s *Session) Close(ctx *dissect.Context) {
	s.reqs.Close(ctx)
}

func (s *Session) violation(dir dissect.Direction, ctx *dissect.Context, layer, reason string) {
	op := ctx.Op(proto)
	op.FunctionName = "malformed"
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	op.Request = dir == dissect.ToServer
	op.Response = !op.Request
	op.Attrs = append(op.Attrs,
		dissect.Attr{Key: attrLayer, Value: layer},
		dissect.Attr{Key: attrViolation, Value: reason})
	ctx.Emit(op)
}

func (s *Session) message(dir dissect.Direction, m []byte, ctx *dissect.Context) {
	h := header{version: m[0], typ: m[1], id: m[2], status: m[3], seq: binary.BigEndian.Uint16(m[4:])}
	body := m[headerLen:]
	s.reqs.Expire(pairWindow, ctx)
	if h.typ == typeError || h.typ == typeNAK {
		s.errorMessage(dir, h, body, ctx)
		return
	}
	switch h.id {
	case idPassThrough:
		s.passThrough(dir, h, body, ctx)
	case idDirectPDU:
		s.direct(dir, h, body, ctx)
	default:
		s.sessionMessage(dir, h, body, ctx)
	}
}

// start returns a new operation for a request: a pending slot's, or the
// context's scratch operation for a message that gets no response.
func (s *Session) start(dir dissect.Direction, h header, sub uint32, ctx *dissect.Context) *dissect.Operation {
	if h.typ != typeRequest {
		return ctx.Op(proto)
	}
	op := &s.reqs.Start(dir, reqKey{id: h.id, seq: h.seq, sub: sub}, proto, ctx).Op
	op.Request = true
	return op
}

// answer returns the operation a response completes (pending, nil when
// its request was not seen: then the scratch operation).
func (s *Session) answer(dir dissect.Direction, h header, sub uint32, ctx *dissect.Context) (*dissect.Operation, *pending) {
	p := s.find(dir, h.id, h.seq, sub, false)
	if p == nil {
		return ctx.Op(proto), nil
	}
	p.AddPacket(ctx.Packet)
	return &p.Op, p
}

// done emits a response's operation.
func (s *Session) done(op *dissect.Operation, p *pending, ctx *dissect.Context) {
	op.Response = true
	if p != nil {
		s.reqs.Emit(p, ctx)
		return
	}
	ctx.Emit(op)
}

func (s *Session) sessionMessage(dir dissect.Direction, h header, body []byte, ctx *dissect.Context) {
	var op *dissect.Operation
	var p *pending
	if h.typ == typeRequest {
		op = s.start(dir, h, 0, ctx)
	} else {
		op, p = s.answer(dir, h, 0, ctx)
	}
	m := message(h.id)
	op.FunctionCode, op.FunctionName, op.Class = int(h.id), m.name, m.class
	if p == nil {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrLayer, Value: "hart_ip"})
		if h.typ != typeRequest {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrType, Value: typeNames[h.typ&15]})
		}
	}
	if h.id == idSessionInitiate && (h.typ == typeRequest || p == nil) {
		if len(body) == 5 {
			host := "secondary"
			if body[0] == 1 {
				host = "primary"
			}
			op.Attrs = append(op.Attrs,
				dissect.Attr{Key: "host_type", Value: host},
				dissect.Attr{Key: "inactivity_timer_ms", Value: strconv.FormatUint(uint64(binary.BigEndian.Uint32(body[1:])), 10)})
		} else if h.typ == typeRequest {
			op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: errSessionInit}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrViolation, Value: errSessionInit})
		}
	}
	if h.typ == typeRequest {
		return
	}
	switch {
	case h.status == 0:
		op.Result = dissect.Result{Status: dissect.StatusOK}
	case h.id == idSessionInitiate && h.status == 8:
		op.Result = dissect.Result{Status: dissect.StatusOK, Code: 8, Text: sessionStatus(8)}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrWarning, Value: "true"})
	case h.id == idSessionInitiate:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(h.status), Text: sessionStatus(h.status)}
	default:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(h.status), Text: responseCodes[h.status&0x7f]}
	}
	s.done(op, p, ctx)
}

// errorMessage completes every request of the same message ID and
// sequence number with the error.
func (s *Session) errorMessage(dir dissect.Direction, h header, body []byte, ctx *dissect.Context) {
	res := dissect.Result{Status: dissect.StatusError, Code: int(h.status), Text: responseCodes[h.status&0x7f]}
	if len(body) == 1 {
		res.Code = int(body[0])
		res.Text = "error_" + decimal[body[0]]
		if int(body[0]) < len(errorCodes) {
			res.Text = errorCodes[body[0]]
		}
	}
	found := false
	for p := s.find(dir, h.id, h.seq, 0, true); p != nil; p = s.find(dir, h.id, h.seq, 0, true) {
		found = true
		p.AddPacket(ctx.Packet)
		op := &p.Op
		op.Result = res
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrType, Value: typeNames[h.typ]})
		s.done(op, p, ctx)
	}
	if found {
		return
	}
	op := ctx.Op(proto)
	m := message(h.id)
	op.FunctionCode, op.FunctionName, op.Class = int(h.id), m.name, m.class
	op.Result = res
	op.Attrs = append(op.Attrs,
		dissect.Attr{Key: attrLayer, Value: "hart_ip"},
		dissect.Attr{Key: attrType, Value: typeNames[h.typ]})
	s.done(op, nil, ctx)
}

// frame is a decoded HART token-passing frame (HCF_SPEC-081).
type frame struct {
	ftype  byte // 1 burst (BACK), 2 master to slave (STX), 6 slave to master (ACK)
	long   bool
	addr   []byte
	cmd    uint16
	rc     byte
	status byte
	data   []byte // after the response code, device status and extended command number
}

// parseFrame decodes a token-passing PDU: preambles, delimiter, address
// (1 or 5 bytes), expansion bytes, command, byte count, [response code,
// device status], data, check byte (the XOR of every byte from the
// delimiter on).
func parseFrame(b []byte) (frame, string) {
	var f frame
	for i := 0; len(b) > 0 && b[0] == 0xff; i++ {
		if i == maxPreambles {
			return f, errNoDelimiter
		}
		b = b[1:]
	}
	if len(b) == 0 {
		return f, errNoDelimiter
	}
	d := b[0]
	f.ftype = d & 7
	if frameTypes[f.ftype] == "" {
		return f, errFrameType
	}
	f.long = d&0x80 != 0
	alen := 1
	if f.long {
		alen = 5
	}
	hdr := 1 + alen + int(d>>5&3) + 2
	if len(b) < hdr {
		return f, errShortFrame
	}
	f.addr = b[1 : 1+alen]
	f.cmd = uint16(b[hdr-2])
	n := int(b[hdr-1])
	switch {
	case len(b) < hdr+n+1:
		return f, errByteCount
	case len(b) > hdr+n+1:
		return f, errTrailing
	}
	var x byte
	for _, c := range b[:hdr+n] {
		x ^= c
	}
	if x != b[hdr+n] {
		return f, errChecksum
	}
	f.data = b[hdr : hdr+n]
	if f.ftype != 2 {
		if n < 2 {
			return f, errNoRC
		}
		f.rc, f.status = f.data[0], f.data[1]
		f.data = f.data[2:]
	}
	if f.cmd == 31 && len(f.data) >= 2 {
		f.cmd = binary.BigEndian.Uint16(f.data)
		f.data = f.data[2:]
	}
	return f, ""
}

func (s *Session) passThrough(dir dissect.Direction, h header, body []byte, ctx *dissect.Context) {
	f, reason := parseFrame(body)
	if reason == "" && (h.typ == typeRequest) != (f.ftype == 2) {
		reason = errDirection
	}
	if reason != "" {
		s.violation(dir, ctx, "hart", reason)
		return
	}
	var op *dissect.Operation
	var p *pending
	if h.typ == typeRequest {
		op = s.start(dir, h, uint32(f.cmd), ctx)
	} else {
		op, p = s.answer(dir, h, uint32(f.cmd), ctx)
	}
	if p == nil {
		fill(op, f.cmd)
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrFrame, Value: frameTypes[f.ftype]})
		if h.typ == typePublish {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrType, Value: "publish"})
		}
		if f.long {
			op.Targets = append(op.Targets, dissect.Target{Kind: "unique_id", Address: uint32(f.addr[2])<<16 | uint32(f.addr[3])<<8 | uint32(f.addr[4])})
		} else {
			op.Targets = append(op.Targets, dissect.Target{Kind: "polling_address", Address: uint32(f.addr[0] & 0x3f)})
		}
	}
	if h.typ == typeRequest {
		requestData(op, f.cmd, f.data)
		return
	}
	result(op, f.rc)
	if f.rc&0x80 == 0 {
		deviceStatus(op, f.status)
		if op.Result.Status == dissect.StatusOK {
			responseData(op, f.cmd, f.data, dir == dissect.ToClient)
		}
	}
	s.done(op, p, ctx)
}

// direct decodes a Direct PDU: device status, extended device status,
// then per command its number (2 bytes), byte count and data (a
// response's data starts with the response code).
func (s *Session) direct(dir dissect.Direction, h header, body []byte, ctx *dissect.Context) {
	if len(body) < 2 {
		s.violation(dir, ctx, "hart", errDirect)
		return
	}
	status := body[0]
	for i, c := 0, body[2:]; len(c) > 0 && i < maxDirect; i++ {
		if len(c) < 3 || len(c) < 3+int(c[2]) {
			s.violation(dir, ctx, "hart", errDirect)
			return
		}
		cmd, d := binary.BigEndian.Uint16(c), c[3:3+int(c[2])]
		c = c[3+int(c[2]):]
		sub := uint32(i)<<16 | uint32(cmd)
		var op *dissect.Operation
		var p *pending
		if h.typ == typeRequest {
			op = s.start(dir, h, sub, ctx)
		} else {
			op, p = s.answer(dir, h, sub, ctx)
		}
		if p == nil {
			fill(op, cmd)
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrPDU, Value: "direct"})
		}
		if h.typ == typeRequest {
			requestData(op, cmd, d)
			continue
		}
		if len(d) == 0 {
			op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: errNoRC}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrViolation, Value: errNoRC})
		} else {
			result(op, d[0])
			if i == 0 {
				deviceStatus(op, status)
			}
			if op.Result.Status == dissect.StatusOK {
				responseData(op, cmd, d[1:], dir == dissect.ToClient)
			}
		}
		s.done(op, p, ctx)
	}
}

// fill sets a command operation's name, class and layer.
func fill(op *dissect.Operation, cmd uint16) {
	c := lookup(cmd)
	op.FunctionCode, op.FunctionName, op.Class = int(cmd), c.name, c.class
	op.Attrs = append(op.Attrs, dissect.Attr{Key: attrLayer, Value: "hart"})
	if cmd == 42 {
		op.Detail = "HART device reset"
	}
}

// result sets the result of a response code (HCF_SPEC-307): bit 7 set is
// a communication error, 0 success, warnings succeed with their code.
func result(op *dissect.Operation, rc byte) {
	switch {
	case rc&0x80 != 0:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(rc), Text: "communication_error"}
	case rc == 0:
		op.Result = dissect.Result{Status: dissect.StatusOK}
	case warning(rc):
		op.Result = dissect.Result{Status: dissect.StatusOK, Code: int(rc), Text: responseCodes[rc]}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrWarning, Value: "true"})
	default:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(rc), Text: responseCodes[rc]}
	}
}

// deviceStatus adds the flags of the device status byte (HART Command Summary
// Specification).
func deviceStatus(op *dissect.Operation, st byte) {
	if st == 0 {
		return
	}
	for i, name := range [8]string{"primary_variable_out_of_limits", "non_primary_variable_out_of_limits",
		"loop_current_saturated", "loop_current_fixed", "more_status_available", "cold_start",
		"configuration_changed", "device_malfunction"} {
		if st&(1<<i) != 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: name, Value: "true"})
		}
	}
}

// requestData decodes what a request writes.
func requestData(op *dissect.Operation, cmd uint16, d []byte) {
	switch cmd {
	case 6:
		if len(d) >= 1 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "polling_address", Value: decimal[d[0]]})
		}
	case 18:
		if len(d) >= 6 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "tag", Value: unpackASCII(d[:6])})
		}
	case 22:
		if len(d) >= 32 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "long_tag", Value: text(d[:32])})
		}
	}
}

// responseData takes identity from a successful response; fromServer
// says whether the flow's server sent it.
func responseData(op *dissect.Operation, cmd uint16, d []byte, fromServer bool) {
	fact := func(k, v string) {
		if v != "" {
			op.Identity = append(op.Identity, dissect.Fact{Key: k, Value: v, Server: fromServer})
		}
	}
	switch cmd {
	case 0, 11, 21:
		// HCF_SPEC-127 command 0: 254, expanded device type (2), minimum
		// preambles, universal revision, device revision, software
		// revision, hardware revision and physical signaling, flags, device
		// ID (3); from revision 6 on: preambles, device variables,
		// configuration change counter (2), extended status; from 7 on:
		// manufacturer ID (2), private label (2), device profile.
		if len(d) < 12 || d[0] != 254 {
			return
		}
		univ := d[4]
		mfr := uint16(d[1])
		if univ >= 7 && len(d) >= 19 {
			mfr = binary.BigEndian.Uint16(d[17:])
		}
		fact(dissect.FactVendorID, strconv.Itoa(int(mfr)))
		fact(dissect.FactDeviceType, hexString(uint32(binary.BigEndian.Uint16(d[1:])), 4, true))
		fact(dissect.FactSerial, hexString(uint32(d[9])<<16|uint32(d[10])<<8|uint32(d[11]), 6, false))
		fact(dissect.FactFirmware, decimal[d[6]])
		fact(dissect.FactHardware, decimal[d[7]>>3])
		op.Attrs = append(op.Attrs,
			dissect.Attr{Key: "hart_revision", Value: decimal[univ]},
			dissect.Attr{Key: "device_revision", Value: decimal[d[5]]})
	case 13:
		if len(d) >= 6 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "tag", Value: unpackASCII(d[:6])})
		}
	case 12:
		if len(d) >= 24 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "message", Value: unpackASCII(d[:24])})
		}
	case 20, 22:
		if len(d) >= 32 {
			fact(dissect.FactHostname, text(d[:32]))
		}
	}
}

// hexString formats v in n lower-case hex digits, with "0x" when prefix.
func hexString(v uint32, n int, prefix bool) string {
	var buf [10]byte
	b := buf[:0]
	if prefix {
		b = append(b, '0', 'x')
	}
	for i := n - 1; i >= 0; i-- {
		b = append(b, "0123456789abcdef"[v>>(4*i)&15])
	}
	return dissect.Intern(b)
}

// unpackASCII decodes HART Packed ASCII (HART Command Summary
// Specification): four 6-bit
// characters in three bytes, bit 6 the complement of bit 5.
func unpackASCII(p []byte) string {
	out := make([]byte, 0, len(p)/3*4)
	for ; len(p) >= 3; p = p[3:] {
		v := uint32(p[0])<<16 | uint32(p[1])<<8 | uint32(p[2])
		for i := 3; i >= 0; i-- {
			c := byte(v >> (6 * i) & 0x3f)
			if c&0x20 == 0 {
				c |= 0x40
			}
			out = append(out, c)
		}
	}
	return string(bytes.TrimRight(out, " "))
}

// text returns the ISO Latin-1 text of b up to the first NUL, trimmed of
// spaces, with control characters as '?'.
func text(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSpace(b)
	clean := true
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			clean = false
		}
	}
	if clean {
		return dissect.Intern(b)
	}
	out := make([]rune, 0, len(b))
	for _, c := range b {
		switch {
		case c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0):
			out = append(out, '?')
		default:
			out = append(out, rune(c))
		}
	}
	return string(out)
}

// find returns the oldest request of the other direction with the
// message ID and sequence number (and, unless any, sub).
func (s *Session) find(dir dissect.Direction, id byte, seq uint16, sub uint32, any bool) *pending {
	var best *pending
	for i := range s.reqs.Entries {
		p := &s.reqs.Entries[i]
		if !p.Used || p.Dir == dir || p.Key.id != id || p.Key.seq != seq || (!any && p.Key.sub != sub) {
			continue
		}
		if best == nil || p.Order < best.Order {
			best = p
		}
	}
	return best
}

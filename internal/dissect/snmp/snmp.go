package snmp

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/internal/sysdescr"
)

func init() { dissect.Register(Dissector{}, dissect.UDP(AgentPort), dissect.UDP(TrapPort)) }

// UDP ports of SNMP agents and notification receivers (RFC 3417 3.1).
const (
	AgentPort = 161
	TrapPort  = 162
)

// PDU types, the context-specific tag numbers of RFC 3416 section 3 (and
// RFC 1157 4.1 for the v1 Trap-PDU).
const (
	PDUGet      = 0
	PDUGetNext  = 1
	PDUResponse = 2
	PDUSet      = 3
	PDUTrap     = 4 // SNMPv1 Trap-PDU
	PDUGetBulk  = 5
	PDUInform   = 6
	PDUTrapV2   = 7
	PDUReport   = 8
)

var pduNames = [...]string{"get", "getnext", "response", "set", "trap", "getbulk", "inform", "trap", "report"}

var pduClasses = [...]dissect.Class{dissect.ClassRead, dissect.ClassRead, dissect.ClassOther, dissect.ClassWrite,
	dissect.ClassOther, dissect.ClassRead, dissect.ClassOther, dissect.ClassOther, dissect.ClassOther}

// errorNames are the error-status values of RFC 3416 section 3 (0-5 also
// RFC 1157).
var errorNames = [...]string{"no_error", "too_big", "no_such_name", "bad_value", "read_only", "gen_err",
	"no_access", "wrong_type", "wrong_length", "wrong_encoding", "wrong_value", "no_creation",
	"inconsistent_value", "resource_unavailable", "commit_failed", "undo_failed", "authorization_error",
	"not_writable", "inconsistent_name"}

var genericTraps = [...]string{"cold_start", "warm_start", "link_down", "link_up", "authentication_failure",
	"egp_neighbor_loss", "enterprise_specific"}

var versionNames = [...]string{0: "v1", 1: "v2c", 3: "v3"}

// Well-known objects (RFC 3418 system group, RFC 3416 snmpTrapOID).
const (
	oidSysDescr    = "1.3.6.1.2.1.1.1.0"
	oidSysObjectID = "1.3.6.1.2.1.1.2.0"
	oidSysName     = "1.3.6.1.2.1.1.5.0"
	oidTrapOID     = "1.3.6.1.6.3.1.1.4.1.0"
)

const (
	maxPending = 16
	maxTargets = 16
	pairWindow = 10 * time.Second
	maxTCPMsg  = 65535
)

// Dissector decodes SNMP.
type Dissector struct{}

// Name returns "snmp".
func (Dissector) Name() string { return "snmp" }

// Probe recognises a message: a SEQUENCE holding the version INTEGER 0 or
// 1, an OCTET STRING community and a PDU tag, or version 3 and a
// SEQUENCE header (so that other BER protocols such as LDAP, whose
// messages also start with a SEQUENCE and an INTEGER, are not taken).
func (Dissector) Probe(b []byte) bool {
	if len(b) < 2 || b[0] != tagSequence {
		return false
	}
	_, v, _, err := element(b)
	if err != nil && err != errShort {
		return false
	}
	if err == errShort {
		// A TCP segment may hold the start of a long message.
		v = b[2:]
		if b[1]&0x80 != 0 {
			k := int(b[1] & 0x7f)
			if k == 0 || k > 4 || len(b) < 2+k {
				return false
			}
			v = b[2+k:]
		}
	}
	ver, rest, err := expect(v, tagInteger)
	if err != nil || len(ver) != 1 {
		return false
	}
	switch ver[0] {
	case 0, 1:
		_, rest, err = expect(rest, tagOctetString)
		return err == nil && len(rest) > 0 && rest[0] >= tagPDUFirst && rest[0] <= tagPDULast
	case 3:
		return len(rest) > 0 && rest[0] == tagSequence
	}
	return false
}

// NewSession returns a session for one flow.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session {
	return &session{flow: f, stream: f.Transport == dissect.TransportTCP}
}

// pending is a request waiting for its response.
type pending struct {
	used    bool
	dir     dissect.Direction
	id      int64
	pdu     uint8
	ref     dissect.PacketRef
	time    time.Time
	targets [maxTargets]string
	n       int
	// attrs are the request's attributes (constant strings).
	attrs  [4]dissect.Attr
	nattrs int
}

// session decodes one flow; requests wait in pending for the response
// with the same request-id (RFC 3416 4.2).
type session struct {
	flow    *dissect.Flow
	stream  bool
	dead    bool
	pending [maxPending]pending
	oid     [maxSubIDs * 11]byte
}

// Feed decodes whole messages: one per datagram, or back-to-back BER
// messages over TCP (RFC 3430 2.1).
func (s *session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	s.expire(ctx)
	if !s.stream {
		s.message(dir, data, ctx)
		return len(data), nil
	}
	n := 0
	for n < len(data) {
		b := data[n:]
		if b[0] != tagSequence {
			return n, errNotSNMP
		}
		if len(b) < 2 {
			break
		}
		size, hl := int(b[1]), 2
		if size >= 0x80 {
			k := size & 0x7f
			if k == 0 || k > 3 {
				return n, errTooLong
			}
			if len(b) < 2+k {
				break
			}
			size = 0
			for _, c := range b[2 : 2+k] {
				size = size<<8 | int(c)
			}
			hl += k
		}
		if hl+size > maxTCPMsg {
			return n, errTooLong
		}
		if len(b) < hl+size {
			break
		}
		s.message(dir, b[:hl+size], ctx)
		n += hl + size
	}
	return n, nil
}

// Gap: a TCP stream cannot be resynchronised inside BER, but the next
// Feed starts at a segment boundary the sender chose; a stray first byte
// stops the session there.
func (s *session) Gap(dissect.Direction, int, *dissect.Context) {}

// Close reports the requests never answered.
func (s *session) Close(ctx *dissect.Context) {
	for i := range s.pending {
		if s.pending[i].used {
			s.unanswered(&s.pending[i], ctx)
		}
	}
}

func (s *session) expire(ctx *dissect.Context) {
	for i := range s.pending {
		if p := &s.pending[i]; p.used && ctx.Time.Sub(p.time) > pairWindow {
			s.unanswered(p, ctx)
		}
	}
}

func (s *session) unanswered(p *pending, ctx *dissect.Context) {
	op := ctx.Op("snmp")
	op.Time = p.time
	op.Packets = append(op.Packets[:0], p.ref)
	op.Request = true
	op.FunctionCode = int(p.pdu)
	op.FunctionName = pduNames[p.pdu]
	op.Class = pduClasses[p.pdu]
	for _, t := range p.targets[:p.n] {
		op.Targets = append(op.Targets, dissect.Target{Kind: "oid", Name: t})
	}
	op.Attrs = append(op.Attrs, p.attrs[:p.nattrs]...)
	p.used = false
	ctx.Emit(op)
}

// message decodes one message (RFC 3416/1157 Message, RFC 3412 SNMPv3
// Message) and emits or keeps its operation.
func (s *session) message(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	op := ctx.Op("snmp")
	op.FunctionName = "malformed"
	if err := s.decode(dir, b, op, ctx); err != nil {
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
		ctx.Emit(op)
	}
}

// decode fills op from b; it emits op itself (or keeps the request) when
// the message is well formed.
func (s *session) decode(dir dissect.Direction, b []byte, op *dissect.Operation, ctx *dissect.Context) error {
	msg, rest, err := expect(b, tagSequence)
	if err != nil {
		return err
	}
	if len(rest) != 0 && !s.stream {
		return errTrailing
	}
	v, msg, err := expect(msg, tagInteger)
	if err != nil {
		return err
	}
	ver, err := integer(v)
	if err != nil {
		return err
	}
	if ver != 0 && ver != 1 && ver != 3 {
		return errVersion
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "version", Value: versionNames[ver]})
	var pdu []byte
	if ver == 3 {
		var encrypted bool
		pdu, encrypted, err = v3(msg, op)
		if err != nil {
			return err
		}
		if encrypted {
			op.FunctionCode = -1
			op.FunctionName = "encrypted"
			op.Class = dissect.ClassOther
			op.Request, op.Response = dir == dissect.ToServer, dir == dissect.ToClient
			ctx.Emit(op)
			return nil
		}
	} else {
		c, rest, err := expect(msg, tagOctetString)
		if err != nil {
			return err
		}
		community := "other"
		switch string(c) {
		case "public":
			community = "public"
		case "private":
			community = "private"
		}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "community", Value: community},
			dissect.Attr{Key: "cleartext_credentials", Value: "true"})
		pdu = rest
	}
	return s.pdu(dir, pdu, op, ctx)
}

// v3 decodes the SNMPv3 header and security parameters (RFC 3412 6) and
// returns the PDU of a plaintext scoped PDU, or encrypted.
func v3(msg []byte, op *dissect.Operation) (pdu []byte, encrypted bool, err error) {
	hdr, msg, err := expect(msg, tagSequence)
	if err != nil {
		return nil, false, err
	}
	// msgID, msgMaxSize, msgFlags, msgSecurityModel.
	if _, hdr, err = expect(hdr, tagInteger); err != nil {
		return nil, false, errV3Header
	}
	if _, hdr, err = expect(hdr, tagInteger); err != nil {
		return nil, false, errV3Header
	}
	flags, _, err := expect(hdr, tagOctetString)
	if err != nil || len(flags) != 1 {
		return nil, false, errV3Header
	}
	level := "noAuthNoPriv"
	switch flags[0] & 3 {
	case 1:
		level = "authNoPriv"
	case 3:
		level = "authPriv"
	case 2:
		return nil, false, errV3Header // privacy without authentication (RFC 3412 7.2 step 5)
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "security_level", Value: level})
	if _, msg, err = expect(msg, tagOctetString); err != nil { // msgSecurityParameters
		return nil, false, err
	}
	if flags[0]&2 != 0 {
		return nil, true, nil
	}
	scoped, _, err := expect(msg, tagSequence)
	if err != nil {
		return nil, false, err
	}
	// contextEngineID, contextName, then the PDU.
	if _, scoped, err = expect(scoped, tagOctetString); err != nil {
		return nil, false, err
	}
	if _, scoped, err = expect(scoped, tagOctetString); err != nil {
		return nil, false, err
	}
	return scoped, false, nil
}

// pdu decodes a PDU and its variable bindings.
func (s *session) pdu(dir dissect.Direction, b []byte, op *dissect.Operation, ctx *dissect.Context) error {
	tag, body, _, err := element(b)
	if err != nil {
		return err
	}
	if tag < tagPDUFirst || tag > tagPDULast {
		return errPDU
	}
	kind := tag - tagPDUFirst
	op.FunctionCode = int(kind)
	op.FunctionName = pduNames[kind]
	op.Class = pduClasses[kind]
	// The side that sent the message is the flow's server when it
	// travels to the client.
	fromServer := dir == dissect.ToClient
	var reqID, status int64
	if kind == PDUTrap {
		if err := s.trapV1(body, op, fromServer); err != nil {
			return err
		}
		op.Request = true
		op.Result.Status = dissect.StatusOK
		ctx.Emit(op)
		return nil
	}
	// request-id, error-status (non-repeaters), error-index
	// (max-repetitions).
	v, body, err := expect(body, tagInteger)
	if err != nil {
		return err
	}
	if reqID, err = integer(v); err != nil {
		return err
	}
	if v, body, err = expect(body, tagInteger); err != nil {
		return err
	}
	if status, err = integer(v); err != nil {
		return err
	}
	if _, body, err = expect(body, tagInteger); err != nil {
		return err
	}
	list, _, err := expect(body, tagSequence)
	if err != nil {
		return err
	}
	// Values in responses and notifications describe the sender, unless
	// they only echo a request that failed or a set.
	var p *pending
	if kind == PDUResponse || kind == PDUReport {
		p = s.match(reqID, dir)
	}
	values := kind == PDUTrapV2 || kind == PDUInform ||
		(kind == PDUResponse || kind == PDUReport) && status == 0 && (p == nil || p.pdu != PDUSet)
	if err := s.varbinds(list, op, values, fromServer); err != nil {
		return err
	}

	switch kind {
	case PDUResponse, PDUReport:
		op.Response = true
		op.Result.Status = dissect.StatusOK
		if status != 0 {
			op.Result = dissect.Result{Status: dissect.StatusError, Code: int(status), Text: "unknown"}
			if status > 0 && int(status) < len(errorNames) {
				op.Result.Text = errorNames[status]
			}
		}
		if p != nil {
			op.Request = true
			op.FunctionCode = int(p.pdu)
			op.FunctionName = pduNames[p.pdu]
			op.Class = pduClasses[p.pdu]
			op.Targets = op.Targets[:0]
			for _, t := range p.targets[:p.n] {
				op.Targets = append(op.Targets, dissect.Target{Kind: "oid", Name: t})
			}
			op.Packets = append(op.Packets, p.ref)
			p.used = false
		}
		ctx.Emit(op)
	case PDUTrapV2:
		op.Request = true
		op.Result.Status = dissect.StatusOK
		ctx.Emit(op)
	default: // get, getnext, set, getbulk, inform: wait for the response
		s.keep(dir, reqID, kind, op, ctx)
	}
	return nil
}

// keep stores a request until its response; a repeated request-id
// reports the earlier request as unanswered, a full table the oldest.
func (s *session) keep(dir dissect.Direction, id int64, kind uint8, op *dissect.Operation, ctx *dissect.Context) {
	slot := -1
	for i := range s.pending {
		p := &s.pending[i]
		if p.used && p.id == id && p.dir == dir {
			s.unanswered(p, ctx)
		}
		if !p.used && slot < 0 {
			slot = i
		}
	}
	if slot < 0 {
		slot = 0
		for i := range s.pending {
			if s.pending[i].time.Before(s.pending[slot].time) {
				slot = i
			}
		}
		s.unanswered(&s.pending[slot], ctx)
	}
	p := &s.pending[slot]
	p.used, p.dir, p.id, p.pdu, p.ref, p.time = true, dir, id, kind, ctx.Packet, ctx.Time
	p.n = 0
	for _, t := range op.Targets {
		p.targets[p.n] = t.Name
		p.n++
	}
	p.nattrs = 0
	for _, a := range op.Attrs {
		if p.nattrs < len(p.attrs) {
			p.attrs[p.nattrs] = a
			p.nattrs++
		}
	}
}

func (s *session) match(id int64, dir dissect.Direction) *pending {
	for i := range s.pending {
		if p := &s.pending[i]; p.used && p.id == id && p.dir != dir {
			return p
		}
	}
	return nil
}

// varbinds decodes a VarBindList: each name becomes a target; in
// responses and notifications the system group's values become facts
// about the sender.
func (s *session) varbinds(list []byte, op *dissect.Operation, values, fromServer bool) error {
	for len(list) > 0 {
		vb, rest, err := expect(list, tagSequence)
		if err != nil {
			return err
		}
		list = rest
		name, vb, err := expect(vb, tagOID)
		if err != nil {
			return err
		}
		dotted, err := appendOID(s.oid[:0], name)
		if err != nil {
			return err
		}
		tag, val, _, err := element(vb)
		if err != nil {
			return err
		}
		oid := dissect.Intern(dotted)
		if len(op.Targets) < maxTargets {
			op.Targets = append(op.Targets, dissect.Target{Kind: "oid", Name: oid})
		}
		if !values {
			continue
		}
		switch {
		case oid == oidSysDescr && tag == tagOctetString && len(val) > 0:
			key := dissect.FactProduct
			if sysdescr.NamesOS(val) {
				key = dissect.FactOS
			}
			op.Identity = append(op.Identity, dissect.Fact{Key: key, Value: dissect.Intern(trimText(val)), Server: fromServer})
		case oid == oidSysName && tag == tagOctetString && len(val) > 0:
			op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: dissect.Intern(trimText(val)), Server: fromServer})
		case (oid == oidSysObjectID || oid == oidTrapOID) && tag == tagOID:
			key := "sys_object_id"
			if oid == oidTrapOID {
				key = "trap_oid"
			}
			var buf [maxSubIDs * 11]byte
			d, err := appendOID(buf[:0], val)
			if err != nil {
				return err
			}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: key, Value: dissect.Intern(d)})
		}
	}
	return nil
}

// trapV1 decodes an SNMPv1 Trap-PDU (RFC 1157 4.1.6): enterprise,
// agent-addr, generic-trap, specific-trap, time-stamp, variable bindings.
func (s *session) trapV1(b []byte, op *dissect.Operation, fromServer bool) error {
	ent, b, err := expect(b, tagOID)
	if err != nil {
		return err
	}
	d, err := appendOID(s.oid[:0], ent)
	if err != nil {
		return err
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "enterprise", Value: dissect.Intern(d)})
	addr, b, err := expect(b, tagIPAddress)
	if err != nil {
		return err
	}
	if len(addr) == 4 {
		if a := netip.AddrFrom4([4]byte(addr)); !a.IsUnspecified() {
			var buf [16]byte
			op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactIP, Value: dissect.Intern(a.AppendTo(buf[:0])), Server: fromServer})
		}
	}
	g, b, err := expect(b, tagInteger)
	if err != nil {
		return err
	}
	generic, err := integer(g)
	if err != nil {
		return err
	}
	if generic >= 0 && int(generic) < len(genericTraps) {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "generic_trap", Value: genericTraps[generic]})
	}
	if _, b, err = expect(b, tagInteger); err != nil { // specific-trap
		return err
	}
	if _, _, b, err = element(b); err != nil { // time-stamp (TimeTicks)
		return err
	}
	list, _, err := expect(b, tagSequence)
	if err != nil {
		return err
	}
	return s.varbinds(list, op, true, fromServer)
}

// trimText drops trailing NULs, spaces and line breaks.
func trimText(b []byte) []byte {
	return bytes.TrimRight(b, "\x00 \r\n")
}

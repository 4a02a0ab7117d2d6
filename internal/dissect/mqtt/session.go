package mqtt

import (
	"errors"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/internal/pairing"
	"github.com/otwatch/otwatch/internal/dissect/internal/stream"
)

const (
	// maxPending is the number of outstanding PUBLISH, SUBSCRIBE and
	// UNSUBSCRIBE exchanges a session tracks. Brokers and clients bound the
	// QoS 1/2 messages in flight (5.0 section 4.9: Receive Maximum; mosquitto
	// defaults to 20); beyond the table the oldest is emitted unanswered.
	maxPending = 16
	maxTargets = 8
	maxAttrs   = 16
	maxPackets = 4
	// maxPacket is the largest non-PUBLISH packet decoded: it must fit in
	// what reassembly keeps unconsumed (64 KiB). A PUBLISH of any size is
	// decoded from its variable header, its payload skipped.
	maxPacket = 32 << 10
	// pairTimeout is the pairing window: an exchange unanswered for longer
	// is emitted without its response.
	pairTimeout = 60 * time.Second
)

// errVarint stops a session: a remaining length over four bytes cannot be
// framed (3.1.1 section 2.2.3, 5.0 section 1.5.5).
var errVarint = errors.New("mqtt: remaining length over four bytes")

// Attribute keys.
const (
	attrVersion        = "version"
	attrQoS            = "qos"
	attrRetain         = "retain"
	attrDup            = "dup"
	attrPacketID       = "packet_id"
	attrMessages       = "messages"
	attrClientID       = "client_id"
	attrUser           = "user"
	attrCleartext      = "cleartext_credentials"
	attrCleanSession   = "clean_session"
	attrKeepAlive      = "keep_alive"
	attrBridge         = "bridge"
	attrWillTopic      = "will_topic"
	attrWillQoS        = "will_qos"
	attrWillRetain     = "will_retain"
	attrSessionPresent = "session_present"
	attrRequestedQoS   = "requested_qos"
	attrGranted        = "granted"
	attrReason         = "reason"
	attrTruncated      = "truncated"
	attrUndecoded      = "undecoded"
)

// Malformed reasons.
const (
	reasonVarint       = "remaining length over four bytes"
	reasonReservedType = "reserved packet type"
	reasonFlags        = "reserved fixed header flags"
	reasonQoS          = "qos 3"
	reasonShort        = "packet shorter than its fields"
	reasonTrailing     = "bytes after the last field"
	reasonProtocol     = "unknown protocol name"
	reasonLevel        = "unknown protocol level"
	reasonConnectFlags = "invalid connect flags"
	reasonPacketID     = "packet identifier 0"
	reasonNoFilter     = "no topic filter"
)

// Topic kinds of targets.
const (
	kindTopic  = "topic"
	kindFilter = "topic_filter"
)

// request is an exchange in progress: a CONNECT, a PUBLISH flow, a
// SUBSCRIBE, an UNSUBSCRIBE or a PINGREQ. It is kept by value.
type request struct {
	pairing.Request
	kind       byte // packet type of the request
	fromClient bool // the PUBLISH sender is the client
	req, resp  bool
	seen       uint8 // PUBLISH flow messages seen, bit (type - typePublish)
	pid        uint16
	result     dissect.Result
	nt, na, np uint8
	hasID      bool
	identity   dissect.Fact
	targets    [maxTargets]dissect.Target
	attrs      [maxAttrs]dissect.Attr
	packets    [maxPackets]dissect.PacketRef
}

func (r *request) attr(key, value string) {
	if int(r.na) < len(r.attrs) {
		r.attrs[r.na] = dissect.Attr{Key: key, Value: value}
		r.na++
	}
}

func (r *request) target(kind, name string) {
	if int(r.nt) == len(r.targets) {
		if r.na == 0 || r.attrs[r.na-1].Key != attrTruncated {
			r.attr(attrTruncated, "true")
		}
		return
	}
	r.targets[r.nt] = dissect.Target{Kind: kind, Name: name}
	r.nt++
}

func (r *request) packet(p dissect.PacketRef) {
	if r.np > 0 && r.packets[r.np-1] == p {
		return
	}
	if int(r.np) < len(r.packets) {
		r.packets[r.np] = p
		r.np++
	}
}

// malformed records a protocol violation; the first one is kept.
func (r *request) malformed(reason string) {
	if r.result.Status != dissect.StatusMalformed {
		r.result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	}
}

// answer records how the exchange was answered unless it is malformed.
func (r *request) answer(res dissect.Result) {
	if r.result.Status != dissect.StatusMalformed {
		r.result = res
	}
}

// session is the state of one MQTT connection.
type session struct {
	version byte // protocol level from CONNECT (3, 4, 5), 0 until known
	// roles is reversed when the flow's server side is the MQTT client; a
	// client-only or server-only packet settles it.
	roles   stream.Roles
	skip    [2]int
	resync  stream.Resync
	connect request
	ping    request
	scratch request
	pending [maxPending]request
	reqs    pairing.Requests // the outstanding entries of pending
	topics  topicCache
}

func newSession(f *dissect.Flow) *session {
	return &session{roles: stream.NewRoles(f, Port)}
}

// op returns the scratch operation with the MQTT client and broker as
// client and server.
func (s *session) op(ctx *dissect.Context) *dissect.Operation {
	return s.roles.Op(ctx, "mqtt")
}

// Feed frames the bytes of one direction into control packets (3.1.1
// section 2, 5.0 section 2) and handles each.
func (s *session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	if dir > dissect.ToClient {
		return len(data), nil
	}
	off := 0
	if k := min(s.skip[dir], len(data)); k > 0 {
		s.skip[dir] -= k
		off = k
		if s.skip[dir] > 0 {
			return off, nil
		}
	}
	off, ok := s.resync.Find(dir, data, off, resync, 8)
	if !ok {
		return off, nil
	}
	s.expire(ctx)
	for off+2 <= len(data) {
		b := data[off:]
		rl, k, st := varint(b[1:])
		if st == varShort {
			break
		}
		typ := b[0] >> 4
		if st == varLong {
			s.malformedPacket(dir, typ, reasonVarint, ctx)
			return off, errVarint
		}
		hdr := 1 + k
		total := hdr + rl
		if typ == typePublish {
			need, ok := publishHeader(b[0], b[hdr:], rl)
			if !ok {
				break
			}
			s.publish(dir, b[0], b[hdr:hdr+need], rl > need, ctx)
			if total > len(b) {
				s.skip[dir] = total - len(b)
				return len(data), nil
			}
			off += total
			continue
		}
		if rl > maxPacket {
			s.oversize(dir, typ, ctx)
			if total > len(b) {
				s.skip[dir] = total - len(b)
				return len(data), nil
			}
			off += total
			continue
		}
		if total > len(b) {
			break
		}
		s.packet(dir, b[0], b[hdr:total], ctx)
		off += total
	}
	return off, nil
}

// publishHeader returns how many bytes of a PUBLISH's variable header are
// decoded (topic name and packet identifier, never more than the remaining
// length rl) and whether b holds them.
func publishHeader(b0 byte, b []byte, rl int) (int, bool) {
	if rl < 2 {
		return rl, len(b) >= rl
	}
	if len(b) < 2 {
		return 0, false
	}
	need := 2 + (int(b[0])<<8 | int(b[1]))
	if (b0>>1)&3 != 0 {
		need += 2
	}
	need = min(need, rl)
	return need, len(b) >= need
}

// Gap drops the partial packet of direction dir. Bytes lost inside a
// PUBLISH payload being skipped keep the framing; otherwise the session
// looks for the next plausible fixed header.
func (s *session) Gap(dir dissect.Direction, lost int, _ *dissect.Context) {
	if dir > dissect.ToClient {
		return
	}
	if s.skip[dir] > 0 && lost <= s.skip[dir] {
		s.skip[dir] -= lost
		return
	}
	s.skip[dir] = 0
	s.resync[dir] = true
}

// Close emits the exchanges still waiting for an answer, oldest first.
func (s *session) Close(ctx *dissect.Context) {
	if s.connect.Used {
		s.emit(&s.connect, ctx, false)
	}
	if s.ping.Used {
		s.emit(&s.ping, ctx, false)
	}
	pairing.Close(&s.reqs, s.pending[:], func(r *request) { s.emit(r, ctx, false) })
}

// resync returns the offset of the first plausible fixed header in data
// followed by a whole packet and then another plausible header or the end
// of data, or -1.
func resync(data []byte) int {
	for i := 0; i+2 <= len(data); i++ {
		total, ok := plausible(data[i:])
		if !ok || total > len(data)-i {
			continue
		}
		if total == len(data)-i {
			return i
		}
		if _, ok := plausible(data[i+total:]); ok {
			return i
		}
	}
	return -1
}

// plausible reports whether b starts with a fixed header whose type and
// flags are valid in 3.1.1 (section 2.2.2), and the packet's length.
func plausible(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	typ, flags := b[0]>>4, b[0]&0x0f
	switch typ {
	case typeReserved:
		return 0, false
	case typePublish:
		if flags&0x06 == 0x06 {
			return 0, false
		}
	case typePubrel, typeSubscribe, typeUnsubscribe:
		if flags != 2 {
			return 0, false
		}
	default:
		if flags != 0 {
			return 0, false
		}
	}
	rl, k, st := varint(b[1:])
	if st != varOK || rl > maxPacket {
		return 0, false
	}
	switch typ {
	case typePingreq, typePingresp:
		if rl != 0 {
			return 0, false
		}
	case typeConnack, typePuback, typePubrec, typePubrel, typePubcomp, typeUnsuback:
		if rl < 2 {
			return 0, false
		}
	case typeConnect, typePublish, typeSubscribe, typeSuback, typeUnsubscribe:
		if rl < 3 {
			return 0, false
		}
	}
	return 1 + k + rl, true
}

// settle fixes the roles on the first packet only one side may send
// (3.1.1 section 2.2.1: CONNECT, SUBSCRIBE, UNSUBSCRIBE and PINGREQ go
// client to server; CONNACK, SUBACK, UNSUBACK and PINGRESP the other way),
// so a capture that names the broker the client is still read right.
func (s *session) settle(dir dissect.Direction, typ byte) {
	switch typ {
	case typeConnect, typeSubscribe, typeUnsubscribe, typePingreq:
		s.roles.Settle(dir, true)
	case typeConnack, typeSuback, typeUnsuback, typePingresp:
		s.roles.Settle(dir, false)
	}
}

// flagsValid checks the fixed header flags of a non-PUBLISH packet (3.1.1
// section 2.2.2, 5.0 section 2.1.3). MQTT 3.1 let DUP and QoS vary, so
// they are checked from level 4 on.
func (s *session) flagsValid(b0 byte) bool {
	if s.version < 4 {
		return true
	}
	switch b0 >> 4 {
	case typePubrel, typeSubscribe, typeUnsubscribe:
		return b0&0x0f == 2
	}
	return b0&0x0f == 0
}

// packet handles one whole non-PUBLISH packet; body is what follows the
// fixed header.
func (s *session) packet(dir dissect.Direction, b0 byte, body []byte, ctx *dissect.Context) {
	typ := b0 >> 4
	s.settle(dir, typ)
	if typ == typeReserved || typ == typeAuth && (s.version == 3 || s.version == 4) {
		s.malformedPacket(dir, typ, reasonReservedType, ctx)
		return
	}
	if typ != typeConnect && !s.flagsValid(b0) {
		s.malformedPacket(dir, typ, reasonFlags, ctx)
		return
	}
	switch typ {
	case typeConnect:
		s.connectPacket(b0, body, ctx)
	case typeConnack:
		s.connack(body, ctx)
	case typePuback, typePubrec, typePubrel, typePubcomp:
		s.publishAck(dir, typ, body, ctx)
	case typeSubscribe, typeUnsubscribe:
		s.subscribe(dir, typ, body, ctx)
	case typeSuback, typeUnsuback:
		s.suback(dir, typ, body, ctx)
	case typePingreq:
		s.pingreq(body, ctx)
	case typePingresp:
		s.pingresp(body, ctx)
	case typeDisconnect, typeAuth:
		s.oneWay(dir, typ, body, ctx)
	}
}

// begin fills r as a new exchange of kind sent now; an entry of the
// pending table becomes outstanding.
func (s *session) begin(r *request, kind byte, ctx *dissect.Context) {
	*r = request{kind: kind}
	if s.pends(r) {
		s.reqs.Add(&r.Request, ctx.Time)
	} else {
		r.Used, r.Time = true, ctx.Time
	}
	r.packet(ctx.Packet)
}

// pends reports whether r is an entry of the pending table.
func (s *session) pends(r *request) bool {
	return r != &s.connect && r != &s.ping && r != &s.scratch
}

// slot returns a free entry of the pending table for begin; when the
// table is full the oldest exchange is emitted unanswered first.
func (s *session) slot(ctx *dissect.Context) *request {
	for i := range s.pending {
		if !s.pending[i].Used {
			return &s.pending[i]
		}
	}
	r := pairing.Oldest(s.pending[:], time.Time{})
	s.emit(r, ctx, false)
	return r
}

// find returns the pending exchange of kind with packet identifier pid
// whose PUBLISH sender (for other kinds: the client) is fromClient, or nil.
func (s *session) find(kind byte, fromClient bool, pid uint16) *request {
	if s.reqs.Len() == 0 {
		return nil
	}
	for i := range s.pending {
		r := &s.pending[i]
		if r.Used && r.kind == kind && r.fromClient == fromClient && r.pid == pid {
			return r
		}
	}
	return nil
}

// expire emits the exchanges that waited longer than the pairing window.
func (s *session) expire(ctx *dissect.Context) {
	deadline := ctx.Time.Add(-pairTimeout)
	if s.connect.Used && s.connect.Time.Before(deadline) {
		s.emit(&s.connect, ctx, false)
	}
	if s.ping.Used && s.ping.Time.Before(deadline) {
		s.emit(&s.ping, ctx, false)
	}
	pairing.Expire(&s.reqs, s.pending[:], ctx.Time, pairTimeout, func(r *request) { s.emit(r, ctx, false) })
}

// emit hands the exchange r to ctx as one operation and frees it. answered
// says a response completes it now (time of the response); otherwise the
// operation takes the time of the request.
func (s *session) emit(r *request, ctx *dissect.Context, answered bool) {
	op := s.op(ctx)
	if !answered {
		op.Time = r.Time
	}
	op.Packets = append(op.Packets[:0], r.packets[:r.np]...)
	op.FunctionCode = int(r.kind)
	op.FunctionName = typeNames[r.kind]
	op.Request, op.Response = r.req, r.resp
	switch r.kind {
	case typeConnect, typeAuth:
		op.Class = dissect.ClassAuthentication
	case typePublish:
		op.Class = dissect.ClassRead
		if r.fromClient {
			op.Class = dissect.ClassWrite
		}
		published := r.seen&1 != 0
		op.Request = published && r.fromClient
		op.Response = r.seen&^1 != 0 || published && !r.fromClient
	case typeSubscribe, typeUnsubscribe:
		op.Class = dissect.ClassRead
	case typePingreq:
		op.Class = dissect.ClassDiagnostics
	}
	op.Targets = append(op.Targets, r.targets[:r.nt]...)
	if r.kind != typeConnect && s.version != 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrVersion, Value: versionName(s.version)})
	}
	op.Attrs = append(op.Attrs, r.attrs[:r.na]...)
	if r.kind == typePublish {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrMessages, Value: messageNames[r.seen&31]})
	}
	if r.hasID {
		op.Identity = append(op.Identity, r.identity)
	}
	op.Result = r.result
	ctx.Emit(op)
	if r.Used && s.pends(r) {
		s.reqs.Free(&r.Request)
	}
	r.Used = false
}

// malformedPacket emits a packet that violates the protocol as an
// operation of its own.
func (s *session) malformedPacket(dir dissect.Direction, typ byte, reason string, ctx *dissect.Context) {
	r := &s.scratch
	s.begin(r, typ, ctx)
	r.req = s.roles.FromClient(dir)
	r.resp = !r.req
	r.fromClient = r.req
	if typ == typePublish {
		r.seen = 1
	}
	r.malformed(reason)
	s.emit(r, ctx, true)
}

// oversize emits a non-PUBLISH packet too large to decode, by type only.
func (s *session) oversize(dir dissect.Direction, typ byte, ctx *dissect.Context) {
	r := &s.scratch
	s.begin(r, typ, ctx)
	r.req = s.roles.FromClient(dir)
	r.resp = !r.req
	r.attr(attrUndecoded, "packet over 32 KiB")
	s.emit(r, ctx, true)
}

// connectPacket starts the CONNECT exchange (3.1.1 section 3.1, 5.0
// section 3.1). The password is skipped, never kept.
func (s *session) connectPacket(b0 byte, body []byte, ctx *dissect.Context) {
	if s.connect.Used {
		s.emit(&s.connect, ctx, false)
	}
	r := &s.connect
	s.begin(r, typeConnect, ctx)
	r.req, r.fromClient = true, true
	rd := reader{b: body}
	name := rd.bytes()
	level := rd.u8()
	flags := rd.u8()
	keepAlive := rd.u16()
	if rd.bad {
		r.malformed(reasonShort)
		return
	}
	lv := level & 0x7f
	switch {
	case string(name) == "MQTT" && (lv == 4 || lv == 5), string(name) == "MQIsdp" && lv == 3:
		s.version = lv
		r.attr(attrVersion, versionName(lv))
	case string(name) == "MQTT" || string(name) == "MQIsdp":
		r.malformed(reasonLevel)
		return
	default:
		r.malformed(reasonProtocol)
		return
	}
	if b0&0x0f != 0 && s.version >= 4 {
		r.malformed(reasonFlags)
	}
	if level&0x80 != 0 {
		r.attr(attrBridge, "true")
	}
	r.attr(attrCleanSession, boolName(flags&0x02 != 0))
	r.attr(attrKeepAlive, decimal(keepAlive))
	will, willQoS := flags&0x04 != 0, (flags>>3)&3
	if flags&0x01 != 0 && s.version >= 4 || willQoS == 3 || !will && (willQoS != 0 || flags&0x20 != 0) {
		r.malformed(reasonConnectFlags)
	}
	if s.version == 5 {
		rd.properties()
	}
	id := rd.bytes()
	if rd.bad {
		r.malformed(reasonShort)
		return
	}
	if len(id) > 0 {
		r.attr(attrClientID, string(id))
		if isHostname(id) {
			r.hasID = true
			r.identity = dissect.Fact{Key: dissect.FactHostname, Value: string(id)}
		}
	}
	if will {
		if s.version == 5 {
			rd.properties()
		}
		topic := rd.bytes()
		rd.bytes()
		if !rd.bad {
			r.attr(attrWillTopic, string(topic))
			r.attr(attrWillQoS, qosNames[willQoS])
			r.attr(attrWillRetain, boolName(flags&0x20 != 0))
		}
	}
	if flags&0x80 != 0 {
		if user := rd.bytes(); !rd.bad {
			r.attr(attrUser, string(user))
		}
	}
	if flags&0x40 != 0 {
		rd.bytes()
		if !rd.bad {
			r.attr(attrCleartext, "true")
		}
	}
	switch {
	case rd.bad:
		r.malformed(reasonShort)
	case len(rd.b) > 0:
		r.malformed(reasonTrailing)
	}
}

// connack completes the CONNECT exchange (3.1.1 section 3.2, 5.0 section
// 3.2); a refusal is an error with its return or reason code.
func (s *session) connack(body []byte, ctx *dissect.Context) {
	r := &s.connect
	if !r.Used {
		r = &s.scratch
		s.begin(r, typeConnect, ctx)
		r.fromClient = true
		if s.version != 0 {
			r.attr(attrVersion, versionName(s.version))
		}
	} else {
		r.packet(ctx.Packet)
	}
	r.resp = true
	if len(body) < 2 {
		r.malformed(reasonShort)
		s.emit(r, ctx, true)
		return
	}
	if s.version == 0 && len(body) > 2 {
		// Only MQTT 5 has CONNACK properties.
		s.version = 5
		r.attr(attrVersion, versionName(5))
	}
	code := body[1]
	if body[0]&1 != 0 {
		r.attr(attrSessionPresent, "true")
	}
	switch {
	case code == 0:
		r.answer(dissect.Result{Status: dissect.StatusOK, Text: "accepted"})
	case s.version == 5:
		r.answer(dissect.Result{Status: dissect.StatusError, Code: int(code), Text: reasonName(code, "")})
	default:
		r.answer(dissect.Result{Status: dissect.StatusError, Code: int(code), Text: connackName(code)})
	}
	if body[0]&0xfe != 0 {
		r.malformed(reasonFlags)
	}
	if s.version == 5 {
		rd := reader{b: body[2:]}
		rd.properties()
		if rd.bad {
			r.malformed(reasonShort)
		} else if len(rd.b) > 0 {
			r.malformed(reasonTrailing)
		}
	} else if len(body) > 2 {
		r.malformed(reasonTrailing)
	}
	s.emit(r, ctx, true)
}

// publish handles a PUBLISH from its variable header (3.1.1 section 3.3,
// 5.0 section 3.3); more says a payload (or MQTT 5 properties) follows.
// QoS 0 is emitted at once; QoS 1 and 2 wait for their acknowledgements.
func (s *session) publish(dir dissect.Direction, b0 byte, hdr []byte, more bool, ctx *dissect.Context) {
	fromClient := s.roles.FromClient(dir)
	qos := (b0 >> 1) & 3
	rd := reader{b: hdr}
	topic := rd.bytes()
	var pid uint16
	if qos != 0 {
		pid = rd.u16()
	}
	r := &s.scratch
	pending := qos == 1 || qos == 2
	if pending && !rd.bad && pid != 0 {
		if old := s.find(typePublish, fromClient, pid); old != nil {
			// The identifier is reused: the earlier flow ended unseen.
			s.emit(old, ctx, false)
		}
		r = s.slot(ctx)
	}
	s.begin(r, typePublish, ctx)
	r.fromClient = fromClient
	r.seen = 1
	r.pid = pid
	if !rd.bad {
		r.target(kindTopic, s.topics.get(topic))
	}
	r.attr(attrQoS, qosNames[qos])
	if b0&1 != 0 {
		r.attr(attrRetain, "true")
	}
	if b0&8 != 0 {
		r.attr(attrDup, "true")
	}
	if qos != 0 && !rd.bad {
		r.attr(attrPacketID, decimal(pid))
	}
	switch {
	case rd.bad:
		r.malformed(reasonShort)
	case qos == 3:
		r.malformed(reasonQoS)
	case qos != 0 && pid == 0:
		r.malformed(reasonPacketID)
	case qos == 0 && b0&8 != 0 && s.version >= 4:
		// DUP must be 0 for QoS 0 (3.1.1 section 3.3.1.1).
		r.malformed(reasonFlags)
	case s.version == 5 && !more:
		// MQTT 5 PUBLISH has a property length after the identifier.
		r.malformed(reasonShort)
	}
	if r == &s.scratch {
		r.answer(dissect.Result{Status: dissect.StatusOK})
		s.emit(r, ctx, true)
	}
}

var ackBit = [16]uint8{typePuback: 1 << 1, typePubrec: 1 << 2, typePubrel: 1 << 3, typePubcomp: 1 << 4}

// publishAck handles PUBACK, PUBREC, PUBREL and PUBCOMP (3.1.1 sections
// 3.4-3.7, 5.0 sections 3.4-3.7). PUBREL travels with the PUBLISH, the
// others against it.
func (s *session) publishAck(dir dissect.Direction, typ byte, body []byte, ctx *dissect.Context) {
	sender := s.roles.FromClient(dir)
	publisher := !sender
	if typ == typePubrel {
		publisher = sender
	}
	rd := reader{b: body}
	pid := rd.u16()
	if rd.bad || pid == 0 {
		reason := reasonShort
		if !rd.bad {
			reason = reasonPacketID
		}
		s.malformedPacket(dir, typ, reason, ctx)
		return
	}
	r := s.find(typePublish, publisher, pid)
	if r == nil {
		if typ == typePubrec || typ == typePubrel {
			r = s.slot(ctx)
		} else {
			r = &s.scratch
		}
		s.begin(r, typePublish, ctx)
		r.fromClient = publisher
		r.pid = pid
		qos := "2"
		if typ == typePuback {
			qos = "1"
		}
		r.attr(attrQoS, qos)
		r.attr(attrPacketID, decimal(pid))
	} else {
		r.packet(ctx.Packet)
	}
	r.seen |= ackBit[typ]
	done := typ == typePuback || typ == typePubcomp
	if len(rd.b) > 0 {
		if s.version != 5 && s.version != 0 {
			r.malformed(reasonTrailing)
		} else {
			// MQTT 5 reason code and properties (5.0 section 3.4.2.1).
			code := rd.u8()
			if len(rd.b) > 0 {
				rd.properties()
				if rd.bad {
					r.malformed(reasonShort)
				}
			}
			if code >= 0x80 {
				r.answer(dissect.Result{Status: dissect.StatusError, Code: int(code), Text: reasonName(code, "")})
				done = true
			} else if code != 0 {
				r.attr(attrReason, reasonName(code, ""))
			}
		}
	}
	if r.result.Status == dissect.StatusUnknown {
		r.result.Status = dissect.StatusOK
	}
	if done {
		s.emit(r, ctx, true)
	}
}

// subscribe starts a SUBSCRIBE or UNSUBSCRIBE exchange (3.1.1 sections 3.8
// and 3.10, 5.0 sections 3.8 and 3.10): the topic filters are its targets.
func (s *session) subscribe(dir dissect.Direction, typ byte, body []byte, ctx *dissect.Context) {
	rd := reader{b: body}
	pid := rd.u16()
	if rd.bad {
		s.malformedPacket(dir, typ, reasonShort, ctx)
		return
	}
	if old := s.find(typ, true, pid); old != nil {
		s.emit(old, ctx, false)
	}
	r := s.slot(ctx)
	s.begin(r, typ, ctx)
	r.fromClient, r.req, r.pid = true, true, pid
	r.attr(attrPacketID, decimal(pid))
	if pid == 0 {
		r.malformed(reasonPacketID)
	}
	if s.version == 5 {
		rd.properties()
	}
	filters := 0
	for len(rd.b) > 0 && !rd.bad {
		f := rd.bytes()
		var opts byte
		if typ == typeSubscribe {
			opts = rd.u8()
		}
		if rd.bad {
			break
		}
		filters++
		r.target(kindFilter, s.topics.get(f))
		if typ == typeSubscribe {
			r.attr(attrRequestedQoS, qosNames[opts&3])
			if opts&3 == 3 {
				r.malformed(reasonQoS)
			}
		}
	}
	switch {
	case rd.bad:
		r.malformed(reasonShort)
	case filters == 0:
		r.malformed(reasonNoFilter)
	}
}

// suback completes a SUBSCRIBE (SUBACK, 3.1.1 section 3.9, 5.0 section
// 3.9) or UNSUBSCRIBE (UNSUBACK, 3.1.1 section 3.11, 5.0 section 3.11).
// A failure code for any filter makes the result an error.
func (s *session) suback(dir dissect.Direction, typ byte, body []byte, ctx *dissect.Context) {
	rd := reader{b: body}
	pid := rd.u16()
	if rd.bad {
		s.malformedPacket(dir, typ, reasonShort, ctx)
		return
	}
	kind := typ - 1
	r := s.find(kind, true, pid)
	if r == nil {
		r = &s.scratch
		s.begin(r, kind, ctx)
		r.fromClient, r.pid = true, pid
		r.attr(attrPacketID, decimal(pid))
	} else {
		r.packet(ctx.Packet)
	}
	r.resp = true
	v5 := s.version == 5
	if v5 {
		rd.properties()
	}
	r.answer(dissect.Result{Status: dissect.StatusOK})
	if typ == typeSubscribe+1 || v5 {
		codes := 0
		for len(rd.b) > 0 {
			c := rd.u8()
			codes++
			if typ == typeSuback {
				r.attr(attrGranted, subackName(c, v5))
			} else {
				r.attr(attrReason, reasonName(c, "success"))
			}
			if c >= 0x80 && r.result.Status == dissect.StatusOK {
				r.answer(dissect.Result{Status: dissect.StatusError, Code: int(c), Text: subackName(c, v5)})
			} else if c == 3 && typ == typeSuback {
				r.malformed(reasonQoS)
			}
		}
		if codes == 0 {
			r.malformed(reasonShort)
		}
	} else if len(rd.b) > 0 {
		r.malformed(reasonTrailing)
	}
	if rd.bad {
		r.malformed(reasonShort)
	}
	s.emit(r, ctx, true)
}

// pingreq starts a PINGREQ exchange (3.1.1 section 3.12).
func (s *session) pingreq(body []byte, ctx *dissect.Context) {
	if s.ping.Used {
		s.emit(&s.ping, ctx, false)
	}
	r := &s.ping
	s.begin(r, typePingreq, ctx)
	r.req, r.fromClient = true, true
	if len(body) != 0 {
		r.malformed(reasonTrailing)
	}
}

// pingresp completes the PINGREQ exchange (3.1.1 section 3.13).
func (s *session) pingresp(body []byte, ctx *dissect.Context) {
	r := &s.ping
	if !r.Used {
		r = &s.scratch
		s.begin(r, typePingreq, ctx)
		r.fromClient = true
	} else {
		r.packet(ctx.Packet)
	}
	r.resp = true
	r.answer(dissect.Result{Status: dissect.StatusOK})
	if len(body) != 0 {
		r.malformed(reasonTrailing)
	}
	s.emit(r, ctx, true)
}

// oneWay emits a DISCONNECT (3.1.1 section 3.14, 5.0 section 3.14) or AUTH
// (5.0 section 3.15): messages without an answer. MQTT 5 gives both a
// reason code; one from 0x80 up is an error.
func (s *session) oneWay(dir dissect.Direction, typ byte, body []byte, ctx *dissect.Context) {
	r := &s.scratch
	s.begin(r, typ, ctx)
	r.fromClient = true
	r.req = s.roles.FromClient(dir)
	r.resp = !r.req
	r.answer(dissect.Result{Status: dissect.StatusOK})
	if len(body) > 0 {
		if s.version != 5 && s.version != 0 {
			r.malformed(reasonTrailing)
		} else {
			rd := reader{b: body}
			code := rd.u8()
			zero := "normal_disconnection"
			if typ == typeAuth {
				zero = "success"
			}
			if code >= 0x80 {
				r.answer(dissect.Result{Status: dissect.StatusError, Code: int(code), Text: reasonName(code, zero)})
			} else {
				r.answer(dissect.Result{Status: dissect.StatusOK, Code: int(code), Text: reasonName(code, zero)})
			}
			if len(rd.b) > 0 {
				rd.properties()
				if rd.bad {
					r.malformed(reasonShort)
				} else if len(rd.b) > 0 {
					r.malformed(reasonTrailing)
				}
			}
		}
	}
	s.emit(r, ctx, true)
}

func boolName(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// versionName names a protocol level.
func versionName(level byte) string {
	switch level {
	case 3:
		return "3.1"
	case 4:
		return "3.1.1"
	case 5:
		return "5.0"
	}
	return "unknown"
}

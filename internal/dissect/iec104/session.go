package iec104

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/internal/itoa"
)

const proto = "iec104"

// Pairing limits.
const (
	// maxPending bounds the commands awaiting confirmation or termination
	// per connection; the oldest is emitted unanswered when a new one needs
	// its slot.
	maxPending = 16
	// pairWindow is how long a command waits for its confirmation or
	// termination (an interrogation's termination follows all its data).
	pairWindow = 2 * time.Minute
	// maxTargets bounds the information object addresses named by a
	// monitoring operation.
	maxTargets = 4
	// seqMod is the modulus of the 15-bit sequence numbers (clause 5.1).
	seqMod = 0x7fff
)

// Malformed reasons (constant strings; the sequence reasons add numbers).
const (
	errOutside    = "bytes outside an APDU"
	errLength     = "APDU length outside 4..253"
	errSLength    = "S-format APDU with an ASDU"
	errULength    = "U-format APDU with an ASDU"
	errUControl   = "invalid U-format control field"
	errShortASDU  = "short ASDU header"
	errReserved   = "reserved type identification"
	errNoObjects  = "ASDU without information objects"
	errTruncated  = "truncated information object"
	errTrailing   = "octets after the information objects"
	errSegment    = "segment ASDU with more than one object"
	errSeqGap     = "sequence gap: expected "
	errSeqRepeat  = "sequence repeat: expected "
	errAckBeyond  = "acknowledgement beyond sent: next unsent "
	errGot        = " got "
	attrLayer     = "layer"
	attrCause     = "cause"
	attrOrig      = "originator"
	attrObjects   = "objects"
	attrConfirm   = "confirmation"
	attrTerm      = "termination"
	attrRespType  = "response_type"
	attrSE        = "select_execute"
	attrState     = "state"
	attrQualifier = "qualifier"
	attrValue     = "value"
	attrInitiator = "initiator"
)

// half is the state of one direction of a connection.
type half struct {
	haveSend bool   // an I-format APDU was seen since the start or a gap
	nextSend uint16 // N(S) the next I-format APDU must carry
	quiet    bool   // a framing violation was reported; quiet until the next APDU
}

// pending is a command awaiting its confirmation or termination.
type pending struct {
	used      bool
	wantTerm  bool // an activation termination is to follow the confirmation
	order     uint64
	key       uint64
	time      time.Time
	op        dissect.Operation
	confirmed bool
}

// uPending is a U-format act awaiting its con.
type uPending struct {
	used bool
	time time.Time
	ref  dissect.PacketRef
}

// asdu is the decoded header of one ASDU.
type asdu struct {
	tid, cot, oa uint8
	n            int
	sq, pn, test bool
	ca           uint16
	ioa          uint32
	objs         []byte
}

// Session decodes one IEC 60870-5-104 connection.
type Session struct {
	halves   [2]half
	cmds     [maxPending]pending
	npending int
	order    uint64
	u        [3][2]uPending
	// addrs are the decimal common addresses the connection uses.
	addrs itoa.Cache[[4]itoa.Entry]
}

// Feed decodes the APDUs in data and returns the bytes consumed; an
// incomplete APDU at the end is left for the next call.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	dir &= 1
	h := &s.halves[dir]
	i := 0
	for i < len(data) {
		b := data[i:]
		if b[0] != startByte {
			skip := len(b)
			if j := bytes.IndexByte(b, startByte); j >= 0 {
				skip = j
			}
			if !h.quiet {
				s.violation(dir, ctx, "apdu", errOutside)
				h.quiet = true
			}
			i += skip
			continue
		}
		if len(b) < 2 {
			break
		}
		l := int(b[1])
		if l < minLength || l > maxLength {
			if !h.quiet {
				s.violation(dir, ctx, "apdu", errLength)
				h.quiet = true
			}
			i++
			continue
		}
		if len(b) < 2+l {
			break
		}
		h.quiet = false
		s.apdu(dir, b[2:2+l], ctx)
		i += 2 + l
	}
	return i, nil
}

// Gap forgets the send sequence of direction dir: the lost bytes may have
// held I-format APDUs.
func (s *Session) Gap(dir dissect.Direction, _ int, _ *dissect.Context) {
	s.halves[dir&1] = half{}
}

// Close emits the commands and U-format acts still waiting for an answer.
func (s *Session) Close(ctx *dissect.Context) {
	for s.npending > 0 {
		var oldest *pending
		for i := range s.cmds {
			if p := &s.cmds[i]; p.used && (oldest == nil || p.order < oldest.order) {
				oldest = p
			}
		}
		s.flush(oldest, ctx)
	}
	for k := range s.u {
		for d := range s.u[k] {
			if s.u[k][d].used {
				s.emitUnansweredU(k, dissect.Direction(d), ctx)
			}
		}
	}
}

func (s *Session) violation(dir dissect.Direction, ctx *dissect.Context, name, reason string) {
	op := ctx.Op(proto)
	op.FunctionName = name
	op.Class = dissect.ClassOther
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	op.Request = dir == dissect.ToServer
	op.Response = !op.Request
	op.Attrs = append(op.Attrs, dissect.Attr{Key: attrLayer, Value: "apci"})
	ctx.Emit(op)
}

// seqText builds a sequence violation reason (a cold path).
func seqText(prefix string, want, got uint16) string {
	return prefix + strconv.Itoa(int(want)) + errGot + strconv.Itoa(int(got))
}

func (s *Session) apdu(dir dissect.Direction, a []byte, ctx *dissect.Context) {
	c := a[:4]
	switch {
	case c[0]&1 == 0:
		ns := uint16(c[0])>>1 | uint16(c[1])<<7
		nr := uint16(c[2])>>1 | uint16(c[3])<<7
		h := &s.halves[dir]
		if h.haveSend && ns != h.nextSend {
			prefix := errSeqGap
			if (ns-h.nextSend)&seqMod >= 0x4000 {
				prefix = errSeqRepeat
			}
			s.violation(dir, ctx, "i_format", seqText(prefix, h.nextSend, ns))
		}
		h.haveSend, h.nextSend = true, (ns+1)&seqMod
		s.ack(dir, nr, ctx, "i_format")
		s.asdu(dir, a[4:], ctx)
	case c[0]&3 == 1:
		if len(a) != minLength {
			s.violation(dir, ctx, "s_format", errSLength)
			return
		}
		s.ack(dir, uint16(c[2])>>1|uint16(c[3])<<7, ctx, "s_format")
	default:
		f := uFunction(c[0])
		if len(a) != minLength {
			s.violation(dir, ctx, "u_format", errULength)
			return
		}
		if f < 0 || c[1]|c[2]|c[3] != 0 {
			s.violation(dir, ctx, "u_format", errUControl)
			return
		}
		s.uFrame(dir, f/2, f&1 == 1, ctx)
	}
}

// ack checks a receive sequence number N(R) sent in direction dir against
// what the other direction sent: it acknowledges every I-format APDU up to
// N(R)-1, so N(R) may not run ahead of the other side's next N(S).
func (s *Session) ack(dir dissect.Direction, nr uint16, ctx *dissect.Context, name string) {
	o := &s.halves[dir^1]
	if !o.haveSend {
		return
	}
	if d := (nr - o.nextSend) & seqMod; d != 0 && d < 0x4000 {
		s.violation(dir, ctx, name, seqText(errAckBeyond, o.nextSend, nr))
	}
}

func initiator(d dissect.Direction) string {
	if d == dissect.ToServer {
		return "client"
	}
	return "server"
}

func (s *Session) uFrame(dir dissect.Direction, k int, con bool, ctx *dissect.Context) {
	if !con {
		p := &s.u[k][dir]
		if p.used {
			s.emitUnansweredU(k, dir, ctx)
		}
		*p = uPending{used: true, time: ctx.Time, ref: ctx.Packet}
		return
	}
	op := ctx.Op(proto)
	op.FunctionCode, op.FunctionName, op.Class = uCodes[k], uNames[k], uClasses[k]
	op.Response = true
	op.Result.Status = dissect.StatusOK
	op.Attrs = append(op.Attrs, dissect.Attr{Key: attrInitiator, Value: initiator(dir ^ 1)})
	if p := &s.u[k][dir^1]; p.used {
		op.Request = true
		if p.ref != ctx.Packet {
			op.Packets = append(op.Packets[:0], p.ref, ctx.Packet)
		}
		p.used = false
	}
	ctx.Emit(op)
}

func (s *Session) emitUnansweredU(k int, dir dissect.Direction, ctx *dissect.Context) {
	p := &s.u[k][dir]
	op := ctx.Op(proto)
	op.Time = p.time
	op.Packets[0] = p.ref
	op.FunctionCode, op.FunctionName, op.Class = uCodes[k], uNames[k], uClasses[k]
	op.Request = true
	op.Attrs = append(op.Attrs, dissect.Attr{Key: attrInitiator, Value: initiator(dir)})
	p.used = false
	ctx.Emit(op)
}

func le24(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }

// check returns why the information objects of an ASDU do not match its
// type and variable structure qualifier, or "".
func check(a *asdu) string {
	ti := &types[a.tid]
	if !ti.ok {
		if a.tid >= 128 {
			return "" // private range: sizes unknown
		}
		return errReserved
	}
	if ti.size == unsized {
		return ""
	}
	if a.n == 0 {
		return errNoObjects
	}
	want := 0
	switch {
	case ti.size == varSegment: // NOF(2) NOS(1) LOS(1) segment(LOS)
		if a.sq || a.n != 1 {
			return errSegment
		}
		if len(a.objs) < ioaLen+4 {
			return errTruncated
		}
		want = ioaLen + 4 + int(a.objs[ioaLen+3])
	case a.sq:
		want = ioaLen + a.n*int(ti.size)
	default:
		want = a.n * (ioaLen + int(ti.size))
	}
	switch {
	case len(a.objs) < want:
		return errTruncated
	case len(a.objs) > want:
		return errTrailing
	}
	return ""
}

// isCommand reports whether type tid belongs to the control direction
// (commands, system commands, parameters and file transfer).
func isCommand(tid uint8) bool {
	return tid >= firstCT && tid < 128 && tid != tMEINA
}

func (s *Session) asdu(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	if len(b) < asduHead {
		s.violation(dir, ctx, "asdu", errShortASDU)
		return
	}
	a := asdu{
		tid: b[0], n: int(b[1] & 0x7f), sq: b[1]&0x80 != 0,
		cot: b[2] & 0x3f, pn: b[2]&0x40 != 0, test: b[2]&0x80 != 0,
		oa: b[3], ca: uint16(b[4]) | uint16(b[5])<<8, objs: b[asduHead:],
	}
	if len(a.objs) >= ioaLen {
		a.ioa = le24(a.objs)
	}
	if reason := check(&a); reason != "" {
		op := ctx.Op(proto)
		s.fill(op, &a)
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
		op.Request = dir == dissect.ToServer
		op.Response = !op.Request
		ctx.Emit(op)
		return
	}
	if isCommand(a.tid) {
		s.command(dir, &a, ctx)
		return
	}
	if a.cot == cotRequest && s.npending > 0 {
		if p := s.find(key(tCRDNA, a.ca, a.ioa), false); p != nil {
			s.respond(p, ctx)
			p.op.Attrs = append(p.op.Attrs, dissect.Attr{Key: attrRespType, Value: TypeName(a.tid)})
			p.op.Result.Status = dissect.StatusOK
			s.flush(p, ctx)
			return
		}
	}
	op := ctx.Op(proto)
	s.fill(op, &a)
	op.Response = true
	ctx.Emit(op)
}

// fill sets what every ASDU operation carries: type, class, cause,
// originator, flags, targets and the common address.
func (s *Session) fill(op *dissect.Operation, a *asdu) {
	op.FunctionCode = int(a.tid)
	op.FunctionName = TypeName(a.tid)
	op.Class = types[a.tid].class
	op.Attrs = append(op.Attrs,
		dissect.Attr{Key: attrCause, Value: CauseName(a.cot)},
		dissect.Attr{Key: attrOrig, Value: decimal[a.oa]})
	if a.test {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "test", Value: "true"})
	}
	if a.pn {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "negative", Value: "true"})
	}
	if a.n != 1 || a.sq {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrObjects, Value: decimal[a.n]})
	}
	if len(a.objs) >= ioaLen {
		switch size := int(types[a.tid].size); {
		case a.sq:
			op.Targets = append(op.Targets, dissect.Target{Kind: "ioa", Address: a.ioa, Count: uint32(a.n)})
		case size < 0 || !types[a.tid].ok:
			op.Targets = append(op.Targets, dissect.Target{Kind: "ioa", Address: a.ioa, Count: 1})
		default:
			for i := 0; i < a.n && i < maxTargets; i++ {
				off := i * (ioaLen + size)
				if off+ioaLen > len(a.objs) {
					break
				}
				op.Targets = append(op.Targets, dissect.Target{Kind: "ioa", Address: le24(a.objs[off:]), Count: 1})
			}
		}
	}
	if a.ca != 0 && a.ca != 0xffff {
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactAddress, Value: s.addrs.String(a.ca), Server: true})
	}
}

func key(tid uint8, ca uint16, ioa uint32) uint64 {
	return uint64(tid)<<40 | uint64(ca)<<24 | uint64(ioa)
}

// find returns the oldest pending command with key k, preferring one
// that is (confirmed) or is not (!confirmed) confirmed yet: identical
// commands outstanding together are answered in order.
func (s *Session) find(k uint64, confirmed bool) *pending {
	var best *pending
	for i := range s.cmds {
		p := &s.cmds[i]
		if !p.used || p.key != k {
			continue
		}
		switch {
		case best == nil,
			p.confirmed == confirmed && (best.confirmed != confirmed || p.order < best.order),
			p.confirmed != confirmed && best.confirmed != confirmed && p.order < best.order:
			best = p
		}
	}
	return best
}

func (s *Session) flush(p *pending, ctx *dissect.Context) {
	p.used = false
	s.npending--
	ctx.Emit(&p.op)
}

// slot returns a free pending slot, emitting expired commands and, when
// none is free, the oldest one.
func (s *Session) slot(ctx *dissect.Context) *pending {
	var free, oldest *pending
	for i := range s.cmds {
		p := &s.cmds[i]
		if p.used && ctx.Time.Sub(p.time) > pairWindow {
			s.flush(p, ctx)
		}
		switch {
		case !p.used:
			if free == nil {
				free = p
			}
		case oldest == nil || p.order < oldest.order:
			oldest = p
		}
	}
	if free == nil {
		s.flush(oldest, ctx)
		free = oldest
	}
	return free
}

func (s *Session) respond(p *pending, ctx *dissect.Context) {
	p.op.Response = true
	p.op.Time = ctx.Time
	if n := len(p.op.Packets); n == 0 || p.op.Packets[n-1] != ctx.Packet {
		p.op.Packets = append(p.op.Packets, ctx.Packet)
	}
}

func (s *Session) command(dir dissect.Direction, a *asdu, ctx *dissect.Context) {
	k := key(a.tid, a.ca, a.ioa)
	switch {
	case a.cot == cotAct || a.cot == cotDeact || (a.tid == tCRDNA && a.cot == cotRequest):
		p := s.slot(ctx)
		op := &p.op
		op.Reset()
		op.Time, op.Protocol = ctx.Time, proto
		if ctx.Flow != nil {
			op.Transport = ctx.Flow.Transport.String()
			op.Client, op.Server = ctx.Flow.Client, ctx.Flow.Server
		}
		op.Packets = append(op.Packets, ctx.Packet)
		s.fill(op, a)
		values(op, a)
		op.Request = true
		p.used, p.key, p.order, p.time, p.confirmed = true, k, s.order, ctx.Time, false
		p.wantTerm = a.cot == cotAct && wantsTermination(a)
		s.order++
		s.npending++
	case a.cot == cotActCon || a.cot == cotDeactCon:
		p := s.find(k, false)
		if p == nil {
			s.orphan(dir, a, ctx)
			return
		}
		s.respond(p, ctx)
		if a.pn {
			p.op.Attrs = append(p.op.Attrs, dissect.Attr{Key: attrConfirm, Value: "negative"})
			p.op.Result = dissect.Result{Status: dissect.StatusError, Code: int(a.cot), Text: "negative_confirmation"}
			s.flush(p, ctx)
			return
		}
		p.op.Attrs = append(p.op.Attrs, dissect.Attr{Key: attrConfirm, Value: "positive"})
		p.op.Result.Status = dissect.StatusOK
		if p.wantTerm && !p.confirmed {
			p.confirmed = true
			return
		}
		s.flush(p, ctx)
	case a.cot == cotActTerm:
		p := s.find(k, true)
		if p == nil {
			s.orphan(dir, a, ctx)
			return
		}
		s.respond(p, ctx)
		p.op.Attrs = append(p.op.Attrs, dissect.Attr{Key: attrTerm, Value: CauseName(cotActTerm)})
		if p.op.Result.Status == dissect.StatusUnknown {
			p.op.Result.Status = dissect.StatusOK
		}
		s.flush(p, ctx)
	case a.cot >= cotUnknownTI && a.cot <= cotUnknownIO:
		p := s.find(k, false)
		if p == nil {
			s.orphan(dir, a, ctx)
			return
		}
		s.respond(p, ctx)
		p.op.Result = dissect.Result{Status: dissect.StatusError, Code: int(a.cot), Text: CauseName(a.cot)}
		s.flush(p, ctx)
	default:
		s.orphan(dir, a, ctx)
	}
}

// orphan emits a control-direction ASDU that completes no pending command:
// a confirmation or termination whose activation was not seen, or an ASDU
// with another cause (file transfer, a spontaneous command mirror).
func (s *Session) orphan(dir dissect.Direction, a *asdu, ctx *dissect.Context) {
	op := ctx.Op(proto)
	s.fill(op, a)
	values(op, a)
	switch {
	case a.cot == cotActCon || a.cot == cotDeactCon || a.cot == cotActTerm:
		op.Response = true
		op.Result.Status = dissect.StatusOK
		if a.pn {
			op.Result = dissect.Result{Status: dissect.StatusError, Code: int(a.cot), Text: "negative_confirmation"}
		}
	case a.cot >= cotUnknownTI && a.cot <= cotUnknownIO:
		op.Response = true
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(a.cot), Text: CauseName(a.cot)}
	default:
		op.Request = dir == dissect.ToServer
		op.Response = !op.Request
	}
	ctx.Emit(op)
}

// selectBit returns the S/E bit of a command's qualifier (101 clauses
// 7.2.6.15-17 SCO/DCO/RCO, 7.2.6.39 QOS) and whether the type has one.
func selectBit(a *asdu) (sel, ok bool) {
	off := -1
	switch a.tid {
	case tCSCNA, tCDCNA, tCRCNA, tCSCTA, tCDCTA, tCRCTA:
		off = 0
	case tCSENA, tCSENB, tCSETA, tCSETB:
		off = 2
	case tCSENC, tCSETC:
		off = 4
	}
	if off < 0 || len(a.objs) <= ioaLen+off {
		return false, false
	}
	return a.objs[ioaLen+off]&0x80 != 0, true
}

// wantsTermination reports whether an activation is answered by an
// activation termination after its confirmation: interrogations always
// (101 clauses 7.4.5, 7.4.6), and executed commands (101 clause 7.4.3;
// a select is only confirmed).
func wantsTermination(a *asdu) bool {
	switch a.tid {
	case tCICNA, tCCINA, tCBONA, tCBOTA:
		return true
	}
	sel, ok := selectBit(a)
	return ok && !sel
}

var (
	dcsNames  = [4]string{"not_permitted", "off", "on", "not_permitted"}
	rcsNames  = [4]string{"not_permitted", "lower", "higher", "not_permitted"}
	frzNames  = [4]string{"read", "freeze_without_reset", "freeze_with_reset", "reset"}
	qrpNames  = [3]string{"not_used", "general_reset", "reset_event_buffer"}
	hexDigits = "0123456789abcdef"
)

// values adds the command's information element as attributes (cold path:
// commands are rare next to monitoring data).
func values(op *dissect.Operation, a *asdu) {
	ti := &types[a.tid]
	if ti.size <= 0 || len(a.objs) < ioaLen+int(ti.size) {
		return
	}
	e := a.objs[ioaLen:]
	add := func(k, v string) { op.Attrs = append(op.Attrs, dissect.Attr{Key: k, Value: v}) }
	if sel, ok := selectBit(a); ok {
		if sel {
			add(attrSE, "select")
		} else {
			add(attrSE, "execute")
		}
	}
	switch a.tid {
	case tCSCNA, tCSCTA:
		add(attrState, [2]string{"off", "on"}[e[0]&1])
		add(attrQualifier, quName(e[0]>>2&0x1f))
	case tCDCNA, tCDCTA:
		add(attrState, dcsNames[e[0]&3])
		add(attrQualifier, quName(e[0]>>2&0x1f))
	case tCRCNA, tCRCTA:
		add(attrState, rcsNames[e[0]&3])
		add(attrQualifier, quName(e[0]>>2&0x1f))
	case tCSENA, tCSETA:
		v := int16(binary.LittleEndian.Uint16(e))
		add(attrValue, strconv.FormatFloat(float64(v)/32768, 'g', -1, 64))
		add(attrQualifier, decimal[e[2]&0x7f])
	case tCSENB, tCSETB:
		add(attrValue, strconv.Itoa(int(int16(binary.LittleEndian.Uint16(e)))))
		add(attrQualifier, decimal[e[2]&0x7f])
	case tCSENC, tCSETC:
		f := math.Float32frombits(binary.LittleEndian.Uint32(e))
		add(attrValue, strconv.FormatFloat(float64(f), 'g', -1, 32))
		add(attrQualifier, decimal[e[4]&0x7f])
	case tCBONA, tCBOTA:
		var h [10]byte
		h[0], h[1] = '0', 'x'
		v := binary.LittleEndian.Uint32(e)
		for i := range 8 {
			h[2+i] = hexDigits[v>>(28-4*i)&0xf]
		}
		add(attrValue, string(h[:]))
	case tCICNA:
		switch q := e[0]; {
		case q == 20:
			add(attrQualifier, "station")
		case q > 20 && q <= 36:
			add(attrQualifier, "group_"+decimal[q-20])
		default:
			add(attrQualifier, decimal[q])
		}
	case tCCINA:
		switch rqt := e[0] & 0x3f; {
		case rqt >= 1 && rqt <= 4:
			add(attrQualifier, "group_"+decimal[rqt])
		case rqt == 5:
			add(attrQualifier, "general")
		default:
			add(attrQualifier, decimal[rqt])
		}
		add("freeze", frzNames[e[0]>>6])
	case tCCSNA:
		add("time", cp56(e))
	case tCRPNA:
		if e[0] < 3 {
			add(attrQualifier, qrpNames[e[0]])
		} else {
			add(attrQualifier, decimal[e[0]])
		}
	case tCTSTA:
		add("test_counter", strconv.Itoa(int(binary.LittleEndian.Uint16(e))))
		add("time", cp56(e[2:]))
	}
}

// cp56 formats a CP56Time2a (101 clause 7.2.6.18): milliseconds, minutes
// (IV bit 7), hours (SU bit 7), day of month, month and year of century,
// as "2006-01-02T15:04:05.000", with " invalid" appended when IV is set.
func cp56(b []byte) string {
	ms := int(binary.LittleEndian.Uint16(b))
	t := strconv.Itoa(2000+int(b[6]&0x7f)) + "-" + two(int(b[5]&0x0f)) + "-" + two(int(b[4]&0x1f)) +
		"T" + two(int(b[3]&0x1f)) + ":" + two(int(b[2]&0x3f)) + ":" + two(ms/1000) + "." +
		two(ms%1000/10) + strconv.Itoa(ms%10)
	if b[2]&0x80 != 0 {
		t += " invalid"
	}
	return t
}

func two(v int) string {
	if v < 10 {
		return "0" + decimal[v]
	}
	return decimal[v%256]
}

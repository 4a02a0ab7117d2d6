package modbus

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/internal/pairing"
	"github.com/otwatch/otwatch/internal/dissect/internal/stream"
)

const (
	// maxPending is the number of outstanding requests a session tracks
	// (implementation guide, section 4.2.1: a client may send several
	// requests before the responses; servers typically accept up to 16).
	maxPending = 16
	maxTargets = 4
	maxAttrs   = 4
	// pairTimeout is the pairing window: a request unanswered for longer is
	// emitted without a response. Modbus/TCP clients give up after a few
	// seconds.
	pairTimeout = 30 * time.Second
)

// Sentinel errors that stop a session: the stream is not Modbus/TCP and
// cannot be framed.
var (
	errProtocolID = errors.New("modbus: protocol id is not 0")
	errFrame      = errors.New("modbus: MBAP length over the frame limit")
)

// request is an outstanding request: what the response needs to complete
// the operation. It is kept by value in the session's fixed table.
type request struct {
	pairing.Request
	tid     uint16
	unit    uint8
	fc      uint8
	qty     uint16 // items the response must carry, 0 if not checked
	fn      function
	reason  string // malformed reason, "" when the request is well formed
	nt, na  uint8
	targets [maxTargets]dissect.Target
	attrs   [maxAttrs]dissect.Attr
	packet  dissect.PacketRef
}

func (r *request) target(kind string, addr, count uint16) {
	if int(r.nt) == len(r.targets) {
		r.attr(attrTruncated, "true")
		return
	}
	r.targets[r.nt] = dissect.Target{Kind: kind, Address: uint32(addr), Count: uint32(count)}
	r.nt++
}

func (r *request) attr(key, value string) {
	for i := range r.na {
		if r.attrs[i].Key == key {
			return
		}
	}
	if int(r.na) < len(r.attrs) {
		r.attrs[r.na] = dissect.Attr{Key: key, Value: value}
		r.na++
	}
}

// malformed records the first protocol violation of the request.
func (r *request) malformed(reason string) {
	if r.reason == "" {
		r.reason = reason
	}
}

// session is the state of one Modbus/TCP connection.
type session struct {
	pending [maxPending]request
	reqs    pairing.Requests // the outstanding entries of pending
	resync  stream.Resync
	orphan  request // scratch for a response whose request was not seen
	// roles is reversed when the side on port 502 opened the connection:
	// it is still the Modbus server (implementation guide, section 4.2), so
	// requests travel towards the flow's client.
	roles stream.Roles
}

// newSession returns the session of flow f.
func newSession(f *dissect.Flow) *session {
	return &session{roles: stream.NewRoles(f, Port)}
}

// op returns the context's scratch operation with the Modbus client and
// server as endpoints.
func (s *session) op(ctx *dissect.Context) *dissect.Operation {
	return s.roles.Op(ctx, "modbus")
}

// Feed frames the bytes of one direction into ADUs and handles each whole
// one. Requests travel to the server, responses to the client.
func (s *session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	if dir > dissect.ToClient {
		return len(data), nil
	}
	off, ok := s.resync.Find(dir, data, 0, resync, mbapLen)
	if !ok {
		return off, nil
	}
	s.expire(ctx)
	for len(data)-off >= 6 {
		b := data[off:]
		tid := binary.BigEndian.Uint16(b[0:2])
		if b[2] != 0 || b[3] != 0 {
			s.malformedADU(dir, b, reasonProtocolID, ctx)
			return off, errProtocolID
		}
		n := int(binary.BigEndian.Uint16(b[4:6]))
		if n > frameLimit {
			s.malformedADU(dir, b, reasonFrame, ctx)
			return off, errFrame
		}
		if len(b) < 6+n {
			break
		}
		off += 6 + n
		if n < 2 {
			// The length cannot hold a unit id and a function code, but it
			// still says where the next header starts.
			s.malformedADU(dir, b[:6+n], reasonLength, ctx)
			continue
		}
		unit, pdu := b[6], b[mbapLen:6+n]
		oversize := n > maxLength && !(pdu[0]&0x7f == fcUMAS && n <= umasMaxLength)
		if s.roles.FromClient(dir) {
			s.request(tid, unit, pdu, oversize, ctx)
		} else {
			s.response(tid, unit, pdu, oversize, ctx)
		}
	}
	return off, nil
}

// Gap drops the partial ADU of direction dir: the next bytes start at an
// unknown offset, so the session looks for a plausible MBAP header.
// Outstanding requests stay; responses lost in the gap leave them to the
// pairing window.
func (s *session) Gap(dir dissect.Direction, _ int, _ *dissect.Context) {
	s.resync.Lost(dir)
}

// Close emits the requests still waiting for a response, oldest first.
func (s *session) Close(ctx *dissect.Context) {
	pairing.Close(&s.reqs, s.pending[:], func(r *request) { s.unanswered(r, ctx) })
}

// resync returns the offset of the first plausible ADU header in data, or
// -1: protocol id 0, a length of a conforming ADU and a public (or UMAS)
// function code, possibly with the exception bit.
func resync(data []byte) int {
	for i := 0; i+mbapLen < len(data); i++ {
		b := data[i:]
		n := int(binary.BigEndian.Uint16(b[4:6]))
		if b[2] != 0 || b[3] != 0 || n < 2 || n > maxLength {
			continue
		}
		if fc := b[7] & 0x7f; isPublic(fc) || fc == fcUMAS {
			return i
		}
	}
	return -1
}

// expire emits the requests that have waited longer than the pairing
// window.
func (s *session) expire(ctx *dissect.Context) {
	if s.reqs.Len() > 0 {
		pairing.Expire(&s.reqs, s.pending[:], ctx.Time, pairTimeout, func(r *request) { s.unanswered(r, ctx) })
	}
}

// slot returns the table entry for a new request with transaction id tid.
// An outstanding request with the same id will never be answered (the id is
// reused), and when the table is full the oldest request has left the
// pairing window; either is emitted without a response first.
func (s *session) slot(tid uint16, ctx *dissect.Context) *request {
	var free *request
	seen := 0
	for i := range s.pending {
		r := &s.pending[i]
		if !r.Used {
			if free == nil {
				free = r
			}
			if seen == s.reqs.Len() {
				break
			}
			continue
		}
		if r.tid == tid {
			s.unanswered(r, ctx)
			return r
		}
		seen++
	}
	if free != nil {
		return free
	}
	r := pairing.Oldest(s.pending[:], time.Time{})
	s.unanswered(r, ctx)
	return r
}

// request records a request until its response arrives.
func (s *session) request(tid uint16, unit byte, pdu []byte, oversize bool, ctx *dissect.Context) {
	r := s.slot(tid, ctx)
	*r = request{tid: tid, unit: unit, fc: pdu[0], packet: ctx.Packet}
	s.reqs.Add(&r.Request, ctx.Time)
	parseRequest(r, pdu)
	if oversize {
		r.malformed(reasonOversize)
	}
}

// find returns the outstanding request answered by a response with
// transaction id tid and function code fc (exception bit cleared), or nil.
func (s *session) find(tid uint16, fc byte) *request {
	if s.reqs.Len() == 0 {
		return nil
	}
	seen := 0
	for i := range s.pending {
		r := &s.pending[i]
		if !r.Used {
			continue
		}
		if r.tid == tid && r.fc == fc {
			return r
		}
		if seen++; seen == s.reqs.Len() {
			break
		}
	}
	return nil
}

// response completes the operation of the request it answers, or emits the
// response alone when its request was not seen.
func (s *session) response(tid uint16, unit byte, pdu []byte, oversize bool, ctx *dissect.Context) {
	fc := pdu[0] & 0x7f
	r := s.find(tid, fc)
	op := s.op(ctx)
	if r != nil {
		op.Request = true
		op.Packets = append(op.Packets, r.packet)
	} else {
		r = &s.orphan
		*r = request{tid: tid, unit: unit, fc: fc, fn: functions[fc]}
	}
	op.Response = true
	fill(op, r)
	parseResponse(op, r, pdu)
	requestViolation(op, r)
	if oversize {
		malformed(op, reasonOversize)
	}
	ctx.Emit(op)
	if r.Used {
		s.reqs.Free(&r.Request)
	}
}

// unanswered emits an outstanding request without a response and frees its
// entry.
func (s *session) unanswered(r *request, ctx *dissect.Context) {
	op := s.op(ctx)
	op.Time = r.Time
	op.Packets[0] = r.packet
	op.Request = true
	fill(op, r)
	requestViolation(op, r)
	ctx.Emit(op)
	s.reqs.Free(&r.Request)
}

// malformedADU emits an ADU whose MBAP header violates the protocol.
func (s *session) malformedADU(dir dissect.Direction, b []byte, reason string, ctx *dissect.Context) {
	op := s.op(ctx)
	op.FunctionName = "malformed"
	op.Request = s.roles.FromClient(dir)
	op.Response = !op.Request
	if len(b) >= mbapLen && reason == reasonLength {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrUnit, Value: decimal[b[6]]})
	}
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	ctx.Emit(op)
}

// fill copies what the request says into op.
func fill(op *dissect.Operation, r *request) {
	op.FunctionCode = int(r.fc)
	op.FunctionName = r.fn.name
	op.Class = r.fn.class
	op.Targets = append(op.Targets, r.targets[:r.nt]...)
	op.Attrs = append(op.Attrs, dissect.Attr{Key: attrUnit, Value: decimal[r.unit]})
	op.Attrs = append(op.Attrs, r.attrs[:r.na]...)
}

// requestViolation marks op malformed when its request was: the
// violation outranks how the server answered.
func requestViolation(op *dissect.Operation, r *request) {
	if r.reason != "" {
		malformed(op, r.reason)
	}
}

// malformed sets op's result to malformed with reason. An exception the
// server returned keeps its code in Result.Code and its name in the
// "exception" attribute.
func malformed(op *dissect.Operation, reason string) {
	switch op.Result.Status {
	case dissect.StatusMalformed:
		return
	case dissect.StatusError:
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrException, Value: op.Result.Text})
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Code: op.Result.Code, Text: reason}
		return
	}
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
}

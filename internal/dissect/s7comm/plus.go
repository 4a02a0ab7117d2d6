package s7comm

import "github.com/otwatch/otwatch/internal/dissect"

// S7comm-plus opcodes.
const (
	plusRequest      = 0x31
	plusResponse     = 0x32
	plusNotification = 0x33
	plusResponse2    = 0x02
)

// plusFunc names an S7comm-plus function code and gives its class. Names
// follow the public S7comm-plus Wireshark plugin and S7CommPlusDriver.
// Object creation and deletion are not decoded, so they stay "other".
func plusFunc(fn uint16) (string, dissect.Class) {
	switch fn {
	case 0x04b1:
		return "error", dissect.ClassOther
	case 0x04bb:
		return "explore", dissect.ClassDiscovery
	case 0x04ca:
		return "create_object", dissect.ClassOther
	case 0x04d4:
		return "delete_object", dissect.ClassOther
	case 0x04f2:
		return "set_variable", dissect.ClassWrite
	case 0x04fc:
		return "get_variable", dissect.ClassRead
	case 0x0506:
		return "add_link", dissect.ClassOther
	case 0x051a:
		return "remove_link", dissect.ClassOther
	case 0x0524:
		return "get_link", dissect.ClassRead
	case 0x0542:
		return "set_multi_variables", dissect.ClassWrite
	case 0x054c:
		return "get_multi_variables", dissect.ClassRead
	case 0x0556:
		return "begin_sequence", dissect.ClassOther
	case 0x0560:
		return "end_sequence", dissect.ClassOther
	case 0x056b:
		return "invoke", dissect.ClassOther
	case 0x057c:
		return "set_var_sub_streamed", dissect.ClassWrite
	case 0x0586:
		return "get_var_sub_streamed", dissect.ClassRead
	case 0x0590:
		return "get_variables_address", dissect.ClassRead
	case 0x059a:
		return "abort", dissect.ClassOther
	case 0x05a9:
		return "error2", dissect.ClassOther
	case 0x05b3:
		return "init_ssl", dissect.ClassOther
	}
	return "unknown", dissect.ClassOther
}

var plusVersions = [4]string{"", "1", "2", "3"}

// s7plus recognises an S7comm-plus PDU: protocol id 0x72, version, data
// length, then (version 3: a digest length and digest first) opcode,
// reserved (2), function (2), reserved (2) and sequence number (2).
// Requests and responses are paired by sequence number; the payload is not
// decoded.
func (s *session) s7plus(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	if len(b) < 4 {
		s.malformed(ctx, ProtoS7commPlus, reasonPlusHeader)
		return
	}
	ver := b[1]
	if ver == 0xfe || ver == 0xff {
		return // keep-alive
	}
	body := b[4:]
	if ver == 3 {
		if len(body) < 1 || 1+int(body[0]) > len(body) {
			s.malformed(ctx, ProtoS7commPlus, reasonPlusHeader)
			return
		}
		body = body[1+int(body[0]):]
	}
	if len(body) < 9 {
		s.malformed(ctx, ProtoS7commPlus, reasonPlusHeader)
		return
	}
	opcode, fn, seq := body[0], be16(body[3:5]), be16(body[7:9])
	switch opcode {
	case plusRequest:
		s.plusRequest(dir, ver, fn, seq, ctx)
	case plusResponse, plusResponse2:
		op := ctx.Op(ProtoS7commPlus)
		op.Response = true
		op.Result.Status = dissect.StatusOK
		for i := range s.plus {
			p := &s.plus[i]
			if p.used && p.dir != dir && p.seq == seq && p.fn == fn {
				op.Request = true
				op.Packets = append(op.Packets, p.pkt)
				p.used = false
				break
			}
		}
		s.fillPlus(op, ver, fn)
		ctx.Emit(op)
	case plusNotification:
		op := ctx.Op(ProtoS7commPlus)
		op.FunctionName = "notification"
		op.FunctionCode = int(opcode)
		op.Class = dissect.ClassRead
		s.plusAttrs(op, ver)
		op.Request = dir == dissect.ToServer
		op.Response = dir == dissect.ToClient
		op.Result.Status = dissect.StatusOK
		ctx.Emit(op)
	default:
		s.malformed(ctx, ProtoS7commPlus, reasonPlusOpcode)
	}
}

func (s *session) plusRequest(dir dissect.Direction, ver byte, fn, seq uint16, ctx *dissect.Context) {
	free, oldest := -1, -1
	for i := range s.plus {
		p := &s.plus[i]
		if p.used && (p.dir == dir && p.seq == seq || ctx.Time.Sub(p.time) > pairWindow) {
			s.plusUnanswered(p, ctx)
		}
		if !p.used {
			if free < 0 {
				free = i
			}
		} else if oldest < 0 || p.time.Before(s.plus[oldest].time) {
			oldest = i
		}
	}
	if free < 0 {
		s.plusUnanswered(&s.plus[oldest], ctx)
		free = oldest
	}
	s.plus[free] = plusPending{used: true, dir: dir, seq: seq, fn: fn, version: ver, time: ctx.Time, pkt: ctx.Packet}
}

func (s *session) plusUnanswered(p *plusPending, ctx *dissect.Context) {
	op := ctx.Op(ProtoS7commPlus)
	op.Time = p.time
	op.Packets[0] = p.pkt
	op.Request = true
	s.fillPlus(op, p.version, p.fn)
	p.used = false
	ctx.Emit(op)
}

func (s *session) fillPlus(op *dissect.Operation, ver byte, fn uint16) {
	op.FunctionCode = int(fn)
	op.FunctionName, op.Class = plusFunc(fn)
	s.plusAttrs(op, ver)
	if fn == 0x04ca {
		s.tsapAttrs(op) // creating the session object opens the connection
	}
	if fn == 0x05b3 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "encrypted", Value: "tls"})
	}
}

// plusAttrs records the protocol version; versions 2 and 3 protect
// messages with an integrity digest (HMAC-SHA256 with a session key).
func (s *session) plusAttrs(op *dissect.Operation, ver byte) {
	if int(ver) < len(plusVersions) && ver > 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "protocol_version", Value: plusVersions[ver]})
	}
	if ver == 2 || ver == 3 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "integrity", Value: "true"})
	}
}

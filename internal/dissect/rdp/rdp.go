package rdp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.Register(Dissector{}, dissect.TCP(3389)) }

// Dissector decodes RDP connection initiation.
type Dissector struct{}

// Name returns "rdp".
func (Dissector) Name() string { return "rdp" }

// Probe accepts a TPKT-framed X.224 Connection Request that carries what
// only RDP puts there: a "Cookie: " routing token or an RDP Negotiation
// Request ([MS-RDPBCGR] 2.2.1.1). Plain ISO transport connection requests
// (S7comm, ICCP) do not match.
func (Dissector) Probe(b []byte) bool {
	if len(b) < 11 || b[0] != 3 || b[1] != 0 || b[5] != x224ConnectionRequest {
		return false
	}
	v := b[11:]
	return bytes.HasPrefix(v, []byte("Cookie: ")) ||
		(len(v) >= 8 && v[0] == negRequest && v[2] == 8 && v[3] == 0)
}

// NewSession returns a session for one RDP connection.
func (Dissector) NewSession(*dissect.Flow) dissect.Session { return &Session{} }

// X.224 TPDU codes and RDP negotiation structure types.
const (
	x224ConnectionRequest = 0xe0
	x224ConnectionConfirm = 0xd0
	negRequest            = 1
	negResponse           = 2
	negFailure            = 3
	tpktHeaderLen         = 4
	x224FixedLen          = 7 // LI, code, DST-REF, SRC-REF, class
	maxCookie             = 256
)

// Errors for malformed connection initiation.
var (
	errTPKT = errors.New("rdp: bad TPKT header")
	errX224 = errors.New("rdp: not an X.224 connection request or confirm")
)

// protocolNames names the bits of requestedProtocols / selectedProtocol
// ([MS-RDPBCGR] 2.2.1.1.1).
var protocolNames = [...]struct {
	bit  uint32
	name string
}{
	{0x01, "ssl"}, {0x02, "hybrid"}, {0x04, "rdstls"}, {0x08, "hybrid_ex"}, {0x10, "rdsaad"},
}

// protocols returns the names of the protocol bits in p, "rdp" for 0.
func protocols(p uint32) string {
	if p == 0 {
		return "rdp"
	}
	var b strings.Builder
	for _, pn := range protocolNames {
		if p&pn.bit != 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(pn.name)
		}
	}
	if b.Len() == 0 {
		return "unknown"
	}
	return b.String()
}

// failureName names RDP_NEG_FAILURE codes ([MS-RDPBCGR] 2.2.1.2.2).
func failureName(c uint32) string {
	switch c {
	case 1:
		return "ssl_required_by_server"
	case 2:
		return "ssl_not_allowed_by_server"
	case 3:
		return "ssl_cert_not_on_server"
	case 4:
		return "inconsistent_flags"
	case 5:
		return "hybrid_required_by_server"
	case 6:
		return "ssl_with_user_auth_required_by_server"
	}
	return "unknown"
}

// Session dissects one RDP connection's initiation.
type Session struct {
	reqSeen, respSeen bool
	user              string
	requested         uint32
	hasNegReq         bool
	selected          uint32
	hasNegResp        bool
	failure           uint32
	failed            bool
	done              bool
	pkt               dissect.PacketRef
}

// Feed reads the first TPKT of each direction, then skips the rest.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	if s.done || (dir == dissect.ToServer && s.reqSeen) || (dir == dissect.ToClient && s.respSeen) {
		return len(data), nil
	}
	if len(data) < tpktHeaderLen {
		return 0, nil
	}
	length := int(binary.BigEndian.Uint16(data[2:4]))
	if data[0] != 3 || data[1] != 0 || length < tpktHeaderLen+x224FixedLen {
		s.malformed(dir, errTPKT, ctx)
		return len(data), nil
	}
	if len(data) < length {
		return 0, nil
	}
	x := data[tpktHeaderLen:length]
	li := int(x[0])
	if li+1 > len(x) || li < x224FixedLen-1 {
		s.malformed(dir, errX224, ctx)
		return len(data), nil
	}
	x = x[:li+1]
	v := x[x224FixedLen:]
	switch {
	case dir == dissect.ToServer && x[1]&0xf0 == x224ConnectionRequest:
		s.reqSeen, s.pkt = true, ctx.Packet
		if rest, ok := bytes.CutPrefix(v, []byte("Cookie: ")); ok {
			line := rest
			if i := bytes.Index(rest, []byte("\r\n")); i >= 0 {
				line, v = rest[:i], rest[i+2:]
			} else {
				v = nil
			}
			if u, ok := bytes.CutPrefix(line, []byte("mstshash=")); ok {
				s.user = string(u[:min(len(u), maxCookie)])
			}
		}
		if len(v) >= 8 && v[0] == negRequest {
			s.hasNegReq, s.requested = true, binary.LittleEndian.Uint32(v[4:8])
		}
	case dir == dissect.ToClient && x[1]&0xf0 == x224ConnectionConfirm:
		s.respSeen = true
		if len(v) >= 8 && v[0] == negResponse {
			s.hasNegResp, s.selected = true, binary.LittleEndian.Uint32(v[4:8])
		} else if len(v) >= 8 && v[0] == negFailure {
			s.failed, s.failure = true, binary.LittleEndian.Uint32(v[4:8])
		}
		s.emit(ctx)
	default:
		s.malformed(dir, errX224, ctx)
	}
	return len(data), nil
}

// emit reports the connection once and stops decoding.
func (s *Session) emit(ctx *dissect.Context) {
	if s.done {
		return
	}
	s.done = true
	if !s.reqSeen && !s.respSeen {
		return
	}
	op := ctx.Op("rdp")
	op.FunctionCode = x224ConnectionRequest
	op.FunctionName = "connection_request"
	op.Class = dissect.ClassAuthentication
	op.Request, op.Response = s.reqSeen, s.respSeen
	if s.reqSeen && s.respSeen {
		op.Packets = append(op.Packets, s.pkt)
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "remote_access", Value: "true"})
	if s.user != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "user", Value: s.user})
	}
	if s.hasNegReq {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "requested_protocols", Value: protocols(s.requested)})
	}
	if s.hasNegResp {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "selected_protocol", Value: protocols(s.selected)})
	}
	switch {
	case s.failed:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(s.failure), Text: failureName(s.failure)}
	case s.respSeen:
		op.Result.Status = dissect.StatusOK
		if !s.hasNegResp {
			// No negotiation response: standard RDP security ([MS-RDPBCGR]
			// 5.3), whose key exchange a passive observer can follow.
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "selected_protocol", Value: "rdp"})
		}
	}
	ctx.Emit(op)
}

// malformed reports a broken connection initiation and stops decoding.
func (s *Session) malformed(dir dissect.Direction, err error, ctx *dissect.Context) {
	s.emit(ctx)
	s.done = true
	op := ctx.Op("rdp")
	op.FunctionName = "malformed"
	op.Request, op.Response = dir == dissect.ToServer, dir == dissect.ToClient
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	ctx.Emit(op)
}

// Gap stops decoding: the negotiation is at the start of the connection.
func (s *Session) Gap(_ dissect.Direction, _ int, ctx *dissect.Context) { s.emit(ctx) }

// Close reports a connection request that was not confirmed.
func (s *Session) Close(ctx *dissect.Context) { s.emit(ctx) }

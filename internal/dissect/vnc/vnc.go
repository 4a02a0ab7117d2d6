package vnc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.Register(Dissector{}, dissect.TCP(5900), dissect.TCP(5901)) }

// Dissector decodes RFB handshakes.
type Dissector struct{}

// Name returns "vnc".
func (Dissector) Name() string { return "vnc" }

// Probe accepts a payload that starts with an RFB ProtocolVersion message
// of version 3 ("RFB 003.").
func (Dissector) Probe(b []byte) bool { return bytes.HasPrefix(b, []byte("RFB 003.")) }

// NewSession returns a session for one RFB connection.
func (Dissector) NewSession(*dissect.Flow) dissect.Session { return &Session{chosen: -1} }

// Security types (RFC 6143 section 7.1.2 and the IANA RFB registry).
const (
	secInvalid = 0
	secNone    = 1
	secVNCAuth = 2
)

func securityName(t int) string {
	switch t {
	case 0:
		return "invalid"
	case 1:
		return "none"
	case 2:
		return "vnc_authentication"
	case 5:
		return "ra2"
	case 6:
		return "ra2ne"
	case 16:
		return "tight"
	case 17:
		return "ultra"
	case 18:
		return "tls"
	case 19:
		return "vencrypt"
	case 20:
		return "sasl"
	case 21:
		return "md5_hash"
	case 22:
		return "xvp"
	case 30:
		return "apple_remote_desktop"
	}
	return "other"
}

const (
	versionLen = 12 // "RFB 003.008\n"
	maxReason  = 1024
)

// Errors for malformed handshakes.
var (
	errVersion = errors.New("vnc: bad ProtocolVersion")
	errReason  = errors.New("vnc: failure reason too long")
)

// Parser states of each direction.
const (
	stVersion = iota
	stSecurity
	stChoice    // client: SecurityType choice (3.7 and later)
	stChallenge // server: VNC authentication challenge
	stResult    // server: SecurityResult
	stReason    // server: reason string after a failure
	stDone
)

// Session dissects one RFB handshake.
type Session struct {
	state   [2]int
	minor   [2]int // minor protocol version of each side
	version [2]string
	offered string // security types offered, comma-separated
	chosen  int    // chosen security type, -1 while unknown
	result  int    // SecurityResult + 1, 0 if not seen
	failed  bool   // the server refused the connection before security
	done    bool
	pkt     dissect.PacketRef
}

// Feed parses the handshake messages of direction dir.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	if s.state[dir] == stDone {
		return len(data), nil
	}
	n := 0
	for !s.done && s.state[dir] != stDone && n < len(data) {
		k := s.step(dir, data[n:], ctx)
		if k == 0 {
			break
		}
		n += k
	}
	if s.done || s.state[dir] == stDone {
		return len(data), nil
	}
	return n, nil
}

// negotiated returns the minor version both sides use: the lower of the
// two (RFC 6143 section 7.1.1), or the known one.
func (s *Session) negotiated() int {
	switch {
	case s.version[0] == "":
		return s.minor[1]
	case s.version[1] == "":
		return s.minor[0]
	}
	return min(s.minor[0], s.minor[1])
}

// step parses one message of direction dir from b and returns its length,
// or 0 when more bytes are needed.
func (s *Session) step(dir dissect.Direction, b []byte, ctx *dissect.Context) int {
	server := dir == dissect.ToClient
	switch s.state[dir] {
	case stVersion:
		if len(b) < versionLen {
			return 0
		}
		v := b[:versionLen]
		if !bytes.HasPrefix(v, []byte("RFB ")) || v[7] != '.' || v[11] != '\n' {
			s.malformed(dir, errVersion, ctx)
			return 0
		}
		minor, err := strconv.Atoi(string(v[8:11]))
		if err != nil || string(v[4:7]) != "003" {
			s.malformed(dir, errVersion, ctx)
			return 0
		}
		s.minor[dir], s.version[dir] = minor, strings.TrimLeft(string(v[4:7]), "0")+"."+strings.TrimLeft(string(v[8:11]), "0")
		if !server {
			s.pkt = ctx.Packet
		}
		s.state[dir] = stSecurity
		if !server {
			s.state[dir] = stChoice
		}
		return versionLen
	case stSecurity:
		if s.negotiated() < 7 {
			// Version 3.3: the server decides, a U32 (RFC 6143 appendix A.1).
			if len(b) < 4 {
				return 0
			}
			t := int(binary.BigEndian.Uint32(b))
			s.offered, s.chosen = strconv.Itoa(t), t
			s.state[dir^1] = stDone // the client sends no choice
			return 4 + s.afterChoice(dir, ctx)
		}
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return 0
		}
		cnt := int(b[0])
		if cnt == 0 {
			s.failed = true
			s.state[dir] = stReason
			return 1
		}
		var list strings.Builder
		for i, t := range b[1 : 1+cnt] {
			if i > 0 {
				list.WriteByte(',')
			}
			list.WriteString(strconv.Itoa(int(t)))
		}
		s.offered = list.String()
		s.state[dir] = stChallenge // refined once the client chooses
		return 1 + cnt
	case stChoice:
		if s.minor[dir] < 7 {
			s.state[dir] = stDone // version 3.3: the server chose
			return 0
		}
		if len(b) < 1 {
			return 0
		}
		s.chosen = int(b[0])
		s.state[dir] = stDone
		return 1 + s.afterChoice(dir^1, ctx)
	case stChallenge:
		if s.chosen < 0 {
			// The server sent more before the client's choice was seen.
			s.emit(ctx)
			return 0
		}
		if len(b) < 16 {
			return 0
		}
		s.state[dir] = stResult
		return 16
	case stResult:
		if len(b) < 4 {
			return 0
		}
		r := int(binary.BigEndian.Uint32(b))
		s.result = r + 1
		if r != 0 && s.negotiated() >= 8 {
			s.state[dir] = stReason
			return 4
		}
		s.emit(ctx)
		return 4
	case stReason:
		if len(b) < 4 {
			return 0
		}
		l := int(binary.BigEndian.Uint32(b))
		if l > maxReason {
			s.malformed(dir, errReason, ctx)
			return 0
		}
		if len(b) < 4+l {
			return 0
		}
		s.emit(ctx)
		return 4 + l
	}
	return 0
}

// afterChoice sets what the server (direction srv) sends once the security
// type is known, and emits when nothing more is to come. It returns 0.
func (s *Session) afterChoice(srv dissect.Direction, ctx *dissect.Context) int {
	switch {
	case s.chosen == secInvalid:
		s.state[srv] = stReason
		s.failed = true
	case s.chosen == secVNCAuth:
		s.state[srv] = stChallenge
	case s.chosen == secNone && s.negotiated() >= 8:
		s.state[srv] = stResult
	default:
		// None before 3.8 has no SecurityResult; other types run their own
		// sub-protocols (TLS, VeNCrypt, ...) that are not followed.
		s.emit(ctx)
	}
	return 0
}

// emit reports the handshake once and stops decoding.
func (s *Session) emit(ctx *dissect.Context) {
	if s.done {
		return
	}
	s.done = true
	if s.version[0] == "" && s.version[1] == "" {
		return
	}
	op := ctx.Op("vnc")
	op.FunctionName = "handshake"
	op.Class = dissect.ClassAuthentication
	op.Request = s.version[dissect.ToServer] != ""
	op.Response = s.version[dissect.ToClient] != ""
	if op.Request && op.Response {
		op.Packets = append(op.Packets, s.pkt)
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "remote_access", Value: "true"})
	if v := s.version[dissect.ToClient]; v != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "server_version", Value: v})
	}
	if v := s.version[dissect.ToServer]; v != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "client_version", Value: v})
	}
	if s.offered != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "security_types", Value: s.offered})
	}
	if s.chosen >= 0 && !s.failed {
		op.FunctionCode = s.chosen
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "security_type", Value: securityName(s.chosen)})
		if s.chosen == secNone {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "no_authentication", Value: "true"})
		}
	}
	switch {
	case s.failed:
		op.Result = dissect.Result{Status: dissect.StatusError, Text: "connection_failed"}
	case s.result == 1:
		op.Result.Status = dissect.StatusOK
	case s.result > 1:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: s.result - 1, Text: "authentication_failed"}
	case s.chosen == secNone:
		op.Result.Status = dissect.StatusOK
	}
	ctx.Emit(op)
}

// malformed reports a broken handshake and stops decoding.
func (s *Session) malformed(dir dissect.Direction, err error, ctx *dissect.Context) {
	s.emit(ctx)
	s.done = true
	op := ctx.Op("vnc")
	op.FunctionName = "malformed"
	op.Request, op.Response = dir == dissect.ToServer, dir == dissect.ToClient
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	ctx.Emit(op)
}

// Gap stops decoding: the handshake is at the start of the connection.
func (s *Session) Gap(_ dissect.Direction, _ int, ctx *dissect.Context) { s.emit(ctx) }

// Close reports a handshake that did not complete.
func (s *Session) Close(ctx *dissect.Context) { s.emit(ctx) }

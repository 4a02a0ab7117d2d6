package dhcp

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.Register(Dissector{}, dissect.UDP(ServerPort), dissect.UDP(ClientPort)) }

// UDP ports of the DHCP server and client (RFC 2131 section 4.1).
const (
	ServerPort = 67
	ClientPort = 68
)

// Dissector decodes DHCPv4.
type Dissector struct{}

// Name returns "dhcp".
func (Dissector) Name() string { return "dhcp" }

// Probe recognises a BOOTP/DHCP message by its op code, hardware address
// length and the magic cookie 99.130.83.99 at offset 236 (RFC 2131
// section 3), or the same behind the two-octet length of DHCP over TCP.
func (Dissector) Probe(b []byte) bool {
	if looksLikeDHCP(b) {
		return true
	}
	return len(b) > 2 && int(binary.BigEndian.Uint16(b)) == len(b)-2 && looksLikeDHCP(b[2:])
}

func looksLikeDHCP(b []byte) bool {
	return len(b) >= headerLen+4 && (b[0] == opBootRequest || b[0] == opBootReply) &&
		b[2] <= 16 && binary.BigEndian.Uint32(b[headerLen:]) == magicCookie
}

// NewSession returns a session for one flow.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session {
	return &session{flow: f, stream: f.Transport == dissect.TransportTCP}
}

// session decodes the messages of one flow. Over UDP every datagram is
// one message; over TCP messages carry a two-octet length prefix.
type session struct {
	flow   *dissect.Flow
	stream bool
	msg    message
}

// maxTCPMessage bounds a TCP-framed message; RFC 6926 allows up to 65535.
const maxTCPMessage = 65535

// Feed decodes whole messages and emits one operation for each.
func (s *session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	if !s.stream {
		s.emit(dir, data, ctx)
		return len(data), nil
	}
	n := 0
	for len(data)-n >= 2 {
		size := int(binary.BigEndian.Uint16(data[n:]))
		if len(data)-n-2 < size {
			break
		}
		s.emit(dir, data[n+2:n+2+size], ctx)
		n += 2 + size
	}
	return n, nil
}

// Gap needs no work: a partial TCP message is dropped by the caller's
// reassembly, and the next length prefix resynchronises.
func (s *session) Gap(dissect.Direction, int, *dissect.Context) {}

// Close has nothing pending: messages are not paired.
func (s *session) Close(*dissect.Context) {}

// emit decodes one message and emits its operation.
func (s *session) emit(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	m := &s.msg
	err := m.parse(b)
	op := ctx.Op("dhcp")
	if err != nil {
		op.FunctionName = "malformed"
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
		ctx.Emit(op)
		return
	}
	m.describe(op, dir)
	ctx.Emit(op)
}

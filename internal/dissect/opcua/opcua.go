package opcua

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.Register(Dissector{}, dissect.TCP(Port)) }

// Port is the IANA port of OPC UA binary over TCP (opc.tcp, OPC 10000-6
// section 7.2).
const Port = 4840

// Message header layout (OPC 10000-6 section 7.1.2.2): a three-letter
// message type, a chunk type ('F' final, 'C' intermediate, 'A' abort) and
// the UInt32 size of the whole message, header included.
const (
	headerLen = 8
	// frameLimit bounds the message size the session waits for; a larger
	// one is not OPC UA and stops the session. Buffer sizes are negotiated
	// by Hello/Acknowledge; 8192 is the minimum and implementations rarely
	// exceed a few MiB.
	frameLimit = 1 << 24
)

// Message types.
const (
	mtNone = iota
	mtHEL
	mtACK
	mtERR
	mtRHE
	mtOPN
	mtMSG
	mtCLO
)

// messageType returns the message type of a header, or mtNone.
func messageType(b []byte) int {
	switch string(b[:3]) {
	case "HEL":
		return mtHEL
	case "ACK":
		return mtACK
	case "ERR":
		return mtERR
	case "RHE":
		return mtRHE
	case "OPN":
		return mtOPN
	case "MSG":
		return mtMSG
	case "CLO":
		return mtCLO
	}
	return mtNone
}

// minSize is the smallest size of a message of each type: the header plus
// the fixed fields (section 7.1.2: Hello 5 UInt32 and a String length;
// Acknowledge 5 UInt32; Error a StatusCode and a String length;
// ReverseHello two String lengths; section 6.7.2: the secure channel id,
// the security header and the sequence header).
var minSize = [...]int{
	mtHEL: headerLen + 24,
	mtACK: headerLen + 20,
	mtERR: headerLen + 8,
	mtRHE: headerLen + 8,
	mtOPN: headerLen + 4 + 12 + 8,
	mtMSG: headerLen + 4 + 4 + 8,
	mtCLO: headerLen + 4 + 4 + 8,
}

// header checks a message header: a known type, a chunk type the type
// allows (UACP messages are always final) and a size within bounds.
func header(b []byte) (mt int, size int, ok bool) {
	mt = messageType(b)
	if mt == mtNone {
		return mtNone, 0, false
	}
	switch b[3] {
	case 'F':
	case 'C', 'A':
		if mt != mtMSG && mt != mtOPN {
			return mt, 0, false
		}
	default:
		return mt, 0, false
	}
	size = int(binary.LittleEndian.Uint32(b[4:8]))
	if size < minSize[mt] || size > frameLimit {
		return mt, size, false
	}
	return mt, size, true
}

// Dissector decodes OPC UA binary over TCP (UACP and UASC).
type Dissector struct{}

// Name returns "opcua".
func (Dissector) Name() string { return "opcua" }

// Probe reports whether payload starts with an OPC UA message header: a
// UACP or UASC message type, a chunk type allowed for it and a size that
// holds the type's fixed fields. A Hello must also carry protocol version
// 0 and buffer sizes of at least 8192 bytes (section 7.1.2.3).
func (Dissector) Probe(p []byte) bool {
	if len(p) < headerLen {
		return false
	}
	mt, _, ok := header(p)
	if !ok {
		return false
	}
	if mt == mtHEL && len(p) >= headerLen+12 {
		return binary.LittleEndian.Uint32(p[8:]) == 0 &&
			binary.LittleEndian.Uint32(p[12:]) >= 8192 &&
			binary.LittleEndian.Uint32(p[16:]) >= 8192
	}
	return true
}

// NewSession returns a session for one OPC UA TCP connection.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session { return newSession(f) }

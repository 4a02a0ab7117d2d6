package modbus

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.Register(Dissector{}, dissect.TCP(Port)) }

// Port is the Modbus/TCP server port registered with IANA (implementation
// guide, section 4.2).
const Port = 502

// MBAP header layout (implementation guide, section 3.1.3): transaction id
// (2 bytes), protocol id (2, always 0), length (2, counting the unit id and
// the PDU), unit id (1).
const (
	mbapLen = 7
	// maxLength is the largest length field of a conforming ADU: a 253-byte
	// PDU plus the unit id (application protocol specification, section 4.1).
	maxLength = 254
	// umasMaxLength is the largest length field accepted for function 90:
	// Schneider's UMAS sends ADUs one byte past the public limit.
	umasMaxLength = 256
	// frameLimit bounds the length field the session waits for; a larger one
	// is not Modbus/TCP and stops the session.
	frameLimit = 1024
)

// Dissector decodes Modbus/TCP.
type Dissector struct{}

// Name returns "modbus".
func (Dissector) Name() string { return "modbus" }

// Probe reports whether payload starts with a whole Modbus/TCP ADU: protocol
// id 0, a length that holds a unit id and a function code and fits in the
// payload, a unit id that is not reserved (248-254, application protocol
// specification section 4.1 and the serial line guide), and a public
// function code or UMAS (90), or an exception response to a public function
// with a defined exception code.
func (Dissector) Probe(p []byte) bool {
	if len(p) < mbapLen+1 || p[2] != 0 || p[3] != 0 {
		return false
	}
	n := int(binary.BigEndian.Uint16(p[4:6]))
	if n < 2 || n > umasMaxLength || len(p) < 6+n {
		return false
	}
	if unit := p[6]; unit >= 248 && unit != 255 {
		return false
	}
	fc := p[7]
	if fc&0x80 != 0 {
		return n >= 3 && isPublic(fc&0x7f) && exceptionName(p[8]) != "unknown"
	}
	if n > maxLength && fc != fcUMAS {
		return false
	}
	return isPublic(fc) || fc == fcUMAS
}

// NewSession returns a session for one Modbus/TCP connection.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session { return newSession(f) }

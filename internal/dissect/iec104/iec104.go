package iec104

import "github.com/otwatch/otwatch/internal/dissect"

func init() {
	dissect.Register(Dissector{}, dissect.TCP(Port))
}

// Port is the TCP port assigned to IEC 60870-5-104 (clause 10.1).
const Port = 2404

// APCI constants (IEC 60870-5-104 clause 5, figure 2).
const (
	startByte = 0x68
	minLength = 4   // control field only (S- and U-format)
	maxLength = 253 // maximum APDU length minus start and length octets
	asduHead  = 6   // type, VSQ, two-octet COT, two-octet common address
	ioaLen    = 3
)

// Dissector decodes IEC 60870-5-104 over TCP.
type Dissector struct{}

// Name returns "iec104".
func (Dissector) Name() string { return "iec104" }

// Probe reports whether payload starts with an APDU: start byte 0x68, a
// length of 4 to 253 and a valid control field (an I-format APDU with
// room for an ASDU header; an S- or U-format APDU of length 4 with zero
// octets where the standard requires them and exactly one U function).
func (Dissector) Probe(payload []byte) bool {
	if len(payload) < 6 || payload[0] != startByte || payload[1] < minLength || payload[1] > maxLength {
		return false
	}
	c := payload[2:6]
	switch {
	case c[0]&1 == 0:
		return c[2]&1 == 0 && payload[1] >= minLength+asduHead && (len(payload) < 7 || payload[6] != 0)
	case c[0]&3 == 1:
		return payload[1] == minLength && c[0] == 1 && c[1] == 0 && c[2]&1 == 0
	default:
		return payload[1] == minLength && uFunction(c[0]) >= 0 && c[1] == 0 && c[2] == 0 && c[3] == 0
	}
}

// uFunction returns, for a U-format first control octet, 2*kind+con (kind
// 0 STARTDT, 1 STOPDT, 2 TESTFR; con 1 for a confirmation), or -1 unless
// exactly one function bit is set.
func uFunction(c byte) int {
	switch c &^ 3 {
	case 0x04:
		return 0
	case 0x08:
		return 1
	case 0x10:
		return 2
	case 0x20:
		return 3
	case 0x40:
		return 4
	case 0x80:
		return 5
	}
	return -1
}

// NewSession returns a Session for flow f.
func (Dissector) NewSession(*dissect.Flow) dissect.Session { return &Session{} }

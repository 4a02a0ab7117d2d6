package synphasor

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() {
	dissect.Register(Dissector{}, dissect.TCP(TCPPort), dissect.UDP(UDPPort))
}

// Ports used by C37.118 devices by convention (not assigned by IANA).
const (
	TCPPort = 4712
	UDPPort = 4713
)

// Common frame layout (C37.118.2-2011 clause 6.2):
//
//	0      2          4        6     10        14             n-2   n
//	| SYNC | FRAMESIZE | IDCODE | SOC | FRACSEC | ... payload | CHK |
const (
	syncByte  = 0xaa
	headerLen = 14
	minFrame  = headerLen + 2
)

// Frame types (SYNC bits 6-4).
const (
	typeData    = 0
	typeHeader  = 1
	typeConfig1 = 2
	typeConfig2 = 3
	typeCommand = 4
	typeConfig3 = 5
)

// Dissector decodes C37.118 synchrophasor frames.
type Dissector struct{}

// Name returns "synphasor".
func (Dissector) Name() string { return "synphasor" }

// Probe reports whether payload starts with a whole C37.118 frame: SYNC
// 0xAA with a defined frame type and version 1 or 2, a FRAMESIZE of at
// least 16 that fits the payload, and a correct CRC-CCITT.
func (Dissector) Probe(payload []byte) bool {
	if len(payload) < minFrame || !validSync(payload) || payload[1]&0x0f > 2 {
		return false
	}
	n := int(binary.BigEndian.Uint16(payload[2:]))
	return n >= minFrame && n <= len(payload) && crcOK(payload[:n])
}

// validSync reports whether a frame's SYNC word is 0xAA, a reserved bit
// 7 of zero, a defined frame type and a version from 1.
func validSync(b []byte) bool {
	return b[0] == syncByte && b[1]&0x80 == 0 && b[1]>>4 <= typeConfig3 && b[1]&0x0f != 0
}

// CRC computes the CRC-CCITT of C37.118 (clause 6.2, annex B): polynomial
// x^16 + x^12 + x^5 + 1, initial value 0xFFFF, no final XOR.
func CRC(b []byte) uint16 {
	crc := uint16(0xffff)
	// Four bytes at a time: crcTables[k][x] is the CRC contribution of
	// byte x followed by k zero bytes.
	for ; len(b) >= 4; b = b[4:] {
		v := crc ^ uint16(b[0])<<8 ^ uint16(b[1])
		crc = crcTables[3][v>>8] ^ crcTables[2][v&0xff] ^ crcTables[1][b[2]] ^ crcTables[0][b[3]]
	}
	for _, c := range b {
		crc = crc<<8 ^ crcTables[0][byte(crc>>8)^c]
	}
	return crc
}

var crcTables = func() (t [4][256]uint16) {
	for i := range t[0] {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[0][i] = crc
	}
	for k := 1; k < 4; k++ {
		for i := range t[k] {
			p := t[k-1][i]
			t[k][i] = p<<8 ^ t[0][p>>8]
		}
	}
	return t
}()

// crcOK reports whether a whole frame's check word matches.
func crcOK(f []byte) bool {
	n := len(f)
	return CRC(f[:n-2]) == binary.BigEndian.Uint16(f[n-2:])
}

// NewSession returns a Session for flow f.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session {
	return &Session{udp: f != nil && f.Transport == dissect.TransportUDP}
}

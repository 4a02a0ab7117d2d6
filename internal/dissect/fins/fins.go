package fins

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() {
	dissect.Register(Dissector{}, dissect.UDP(Port), dissect.TCP(Port))
}

// Port is the UDP and TCP port of FINS (the Ethernet units' default FINS
// port; not assigned by IANA).
const Port = 9600

// FINS frame layout (W342, FINS frame format):
//
//	0    1    2    3    4    5    6    7    8    9    10  11   12   13
//	| ICF| RSV| GCT| DNA| DA1| DA2| SNA| SA1| SA2| SID| MRC SRC | MRES SRES | data
const (
	headerLen   = 10
	commandLen  = 12 // header and command code
	responseLen = 14 // and the end code of a response

	icfGateway    = 0x80 // bridges are used (always set by Omron nodes)
	icfResponse   = 0x40 // 0 command, 1 response
	icfReserved   = 0x3e
	icfNoResponse = 0x01 // the command asks for no response
	maxGCT        = 7    // gateway count: 2, or 7 on newer units
)

// FINS/TCP header (W421, FINS/TCP method): magic "FINS", the length of
// what follows the length field, the FINS/TCP command and an error code.
const (
	tcpHeaderLen = 16
	tcpMagic     = "FINS"
	// maxTCPLength bounds the length field: a FINS frame is at most 2012
	// bytes (W342), with FINS/TCP fields around it.
	maxTCPLength = 4096
)

// Dissector decodes FINS over UDP and FINS/TCP.
type Dissector struct{}

// Name returns "fins".
func (Dissector) Name() string { return "fins" }

// Probe reports whether payload starts a FINS/TCP frame (magic "FINS", a
// length of 8..4096 and a defined FINS/TCP command) or is a FINS frame:
// ICF with the gateway bit set and the reserved bits clear, RSV zero, a
// gateway count of at most 7 and a command code the manuals define (a
// response also carries its end code).
func (Dissector) Probe(payload []byte) bool {
	if len(payload) >= tcpHeaderLen && string(payload[:4]) == tcpMagic {
		n := binary.BigEndian.Uint32(payload[4:])
		_, ok := tcpCommands[binary.BigEndian.Uint32(payload[8:])]
		return n >= 8 && n <= maxTCPLength && ok
	}
	if len(payload) < commandLen {
		return false
	}
	icf := payload[0]
	if icf&icfGateway == 0 || icf&icfReserved != 0 || payload[1] != 0 || payload[2] > maxGCT {
		return false
	}
	if icf&icfResponse != 0 && len(payload) < responseLen {
		return false
	}
	_, ok := commands[binary.BigEndian.Uint16(payload[10:])]
	return ok
}

// NewSession returns a Session for flow f.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session {
	return &Session{udp: f != nil && f.Transport == dissect.TransportUDP}
}

package hartip

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() {
	dissect.Register(Dissector{}, dissect.UDP(Port), dissect.TCP(Port))
}

// Port is the UDP and TCP port assigned to HART-IP.
const Port = 5094

// HART-IP header (HCF_SPEC-085, message header):
//
//	0        1        2        3        4     6      8
//	| version| type   | msg id | status | seq  | count |
const (
	headerLen = 8
	// maxMessage bounds the byte count on a stream: HART-IP messages are
	// small (a Token-Passing PDU is at most a few hundred bytes).
	maxMessage = 8192
)

// Message types.
const (
	typeRequest  = 0
	typeResponse = 1
	typePublish  = 2
	typeError    = 3
	typeNAK      = 15
)

// Message IDs.
const (
	idSessionInitiate = 0
	idSessionClose    = 1
	idKeepAlive       = 2
	idPassThrough     = 3
	idDirectPDU       = 4
	idReadAuditLog    = 5
	idDiscovery       = 128
)

// Dissector decodes HART-IP over UDP and TCP.
type Dissector struct{}

// Name returns "hartip".
func (Dissector) Name() string { return "hartip" }

// Probe reports whether payload starts with a whole HART-IP message of
// version 1 or 2 whose type and ID are defined and whose body fits its
// ID: five bytes for a Session Initiate request, none for Session Close
// and Keep Alive requests, a HART frame with a known delimiter for a
// Token-Passing PDU.
func (Dissector) Probe(payload []byte) bool {
	if len(payload) < headerLen || payload[0] < 1 || payload[0] > 2 || !knownType(payload[1]) {
		return false
	}
	n := int(binary.BigEndian.Uint16(payload[6:]))
	if n < headerLen || n > len(payload) {
		return false
	}
	body := payload[headerLen:n]
	switch payload[2] {
	case idSessionInitiate:
		return payload[1] != typeRequest || len(body) == 5
	case idSessionClose, idKeepAlive:
		return payload[1] != typeRequest || len(body) == 0
	case idPassThrough:
		if payload[1] == typeError || payload[1] == typeNAK {
			return true
		}
		for len(body) > 0 && body[0] == 0xff {
			body = body[1:]
		}
		return len(body) >= 5 && frameTypes[body[0]&7] != ""
	case idDirectPDU:
		return len(body) >= 2 || payload[1] == typeError || payload[1] == typeNAK
	}
	return false
}

func knownType(t byte) bool {
	return t <= typeError || t == typeNAK
}

// NewSession returns a Session for flow f.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session {
	return &Session{udp: f != nil && f.Transport == dissect.TransportUDP}
}

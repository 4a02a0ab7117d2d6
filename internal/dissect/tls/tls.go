package tls

import "github.com/otwatch/otwatch/internal/dissect"

func init() {
	dissect.Register(Dissector{}, dissect.TCP(443), dissect.TCP(8443), dissect.TCP(4843), dissect.TCP(8883))
}

// Dissector decodes TLS handshakes.
type Dissector struct{}

// Name returns "tls".
func (Dissector) Name() string { return "tls" }

// Probe accepts a payload that starts with a TLS handshake record (content
// type 22, protocol version 3.x) holding a ClientHello or ServerHello, or
// with an application data record (type 23) of a plausible length, as a
// capture that starts in the middle of a connection shows.
func (Dissector) Probe(b []byte) bool {
	if len(b) < 6 || b[1] != 3 || b[2] > 4 {
		return false
	}
	switch b[0] {
	case recordHandshake:
		return b[5] == msgClientHello || b[5] == msgServerHello
	case recordApplicationData:
		n := int(b[3])<<8 | int(b[4])
		return b[2] >= 1 && n > 0 && n <= maxRecord
	}
	return false
}

// NewSession returns a session for one TLS connection.
func (Dissector) NewSession(*dissect.Flow) dissect.Session { return &Session{} }

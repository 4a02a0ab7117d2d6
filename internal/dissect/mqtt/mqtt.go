package mqtt

import "github.com/otwatch/otwatch/internal/dissect"

func init() { dissect.Register(Dissector{}, dissect.TCP(Port)) }

// Port is the IANA port of MQTT without TLS (3.1.1 and 5.0, section 4.2).
const Port = 1883

// Dissector decodes MQTT.
type Dissector struct{}

// Name returns "mqtt".
func (Dissector) Name() string { return "mqtt" }

// Probe reports whether payload starts with an MQTT CONNECT: fixed header
// 0x10, a remaining length of at most four bytes (3.1.1 section 2.2.3) and
// the protocol name "MQTT" (3.1.1 section 3.1.2.1, 5.0 section 3.1.2.1) or
// "MQIsdp" (3.1).
func (Dissector) Probe(p []byte) bool {
	if len(p) < 2 || p[0] != 0x10 {
		return false
	}
	rl, n, st := varint(p[1:])
	if st != varOK || rl < 10 {
		return false
	}
	b := p[1+n:]
	switch {
	case len(b) >= 6 && b[0] == 0 && b[1] == 4 && string(b[2:6]) == "MQTT":
		return true
	case len(b) >= 8 && b[0] == 0 && b[1] == 6 && string(b[2:8]) == "MQIsdp":
		return true
	}
	return false
}

// NewSession returns a session for one MQTT connection.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session { return newSession(f) }

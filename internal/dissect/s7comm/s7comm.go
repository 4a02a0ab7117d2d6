package s7comm

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/mms"
	"github.com/otwatch/otwatch/internal/dissect/tpkt"
)

func init() { dissect.Register(Dissector{}, dissect.TCP(Port)) }

// Port is the ISO-on-TCP port (RFC 1006) S7 PLCs listen on.
const Port = 102

// Operation protocol names.
const (
	ProtoS7comm     = "s7comm"
	ProtoS7commPlus = "s7comm_plus"
	ProtoCOTP       = "cotp"
)

// Dissector decodes S7comm and recognises S7comm-plus over TPKT/COTP. It
// is the one front end of TCP port 102: a connection whose first data is
// the ISO session layer instead is handed to package mms.
type Dissector struct{}

// Name returns "s7comm".
func (Dissector) Name() string { return ProtoS7comm }

// Probe accepts a flow whose first payload is a TPKT frame holding either
// a COTP connection request with S7-style transport selectors, or a COTP
// DT whose user data starts with the S7comm (0x32) or S7comm-plus (0x72)
// protocol id or with the ISO session SPDUs that carry MMS
// (mms.IsSPDU).
func (Dissector) Probe(p []byte) bool {
	b, _, err := tpkt.Next(p)
	if err != nil && err != tpkt.ErrIncomplete {
		return false
	}
	if err == tpkt.ErrIncomplete {
		if len(p) < tpkt.HeaderLen+2 {
			return false
		}
		b = p[tpkt.HeaderLen:]
	}
	li := int(b[0])
	if li+1 > len(b) {
		return false
	}
	switch tpkt.Type(b[1] >> 4) {
	case tpkt.TypeDT:
		if li != 2 || len(b) < li+2 {
			return false
		}
		u := b[li+1:]
		switch u[0] {
		case protoS7:
			return len(u) >= 2 && (u[1] == rosctrJob || u[1] == rosctrAck || u[1] == rosctrAckData || u[1] == rosctrUserdata)
		case protoS7Plus:
			return len(u) >= 2 && (u[1] >= 1 && u[1] <= 3 || u[1] == 0xfe || u[1] == 0xff)
		}
		return mms.IsSPDU(u)
	case tpkt.TypeCR:
		var t tpkt.TPDU
		if tpkt.Parse(b, &t) != nil || t.Class != 0 {
			return false
		}
		return s7TSAP(t.CalledTSAP) || s7TSAP(t.CallingTSAP) && len(t.CalledTSAP) > 0
	}
	return false
}

// s7TSAP reports whether a TSAP looks like an S7 one: two bytes whose first
// is the connection type (1 PG, 2 OP, 3 S7 basic, 0x10.. other) or the
// "SIMATIC-ROOT" selectors of S7comm-plus.
func s7TSAP(t []byte) bool {
	if len(t) == 2 {
		return t[0] >= 0x01 && t[0] <= 0x03 || t[0] >= 0x10 && t[0] <= 0x1f
	}
	return len(t) >= 12 && string(t[:12]) == "SIMATIC-ROOT"
}

// NewSession returns the session of one TCP connection.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session { return &session{flow: f} }

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

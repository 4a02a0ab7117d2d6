package bacnet

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.Register(Dissector{}, dissect.UDP(Port)) }

// Port is the BACnet/IP UDP port, 0xBAC0 (Annex J.1).
const Port = 47808

// Dissector decodes BACnet/IP.
type Dissector struct{}

// Name returns "bacnet".
func (Dissector) Name() string { return "bacnet" }

// Probe reports whether payload is one whole BVLL message of BACnet/IP
// (Annex J.2): type 0x81, a defined function, a length equal to the
// payload's, and, for functions that carry an NPDU, network layer version 1.
func (Dissector) Probe(p []byte) bool {
	if len(p) < bvlcHeaderLen || p[0] != bvlcTypeBACnetIP || p[1] > bvlcMaxFunction {
		return false
	}
	if int(binary.BigEndian.Uint16(p[2:4])) != len(p) {
		return false
	}
	switch p[1] {
	case bvlcForwardedNPDU:
		return len(p) >= bvlcHeaderLen+6+2 && p[bvlcHeaderLen+6] == 1
	case bvlcDistributeBcast, bvlcOriginalUnicast, bvlcOriginalBroadcast:
		return len(p) >= bvlcHeaderLen+2 && p[bvlcHeaderLen] == 1
	case bvlcResult:
		return len(p) == bvlcHeaderLen+2
	}
	return true
}

// NewSession returns a session for one BACnet/IP flow.
func (Dissector) NewSession(*dissect.Flow) dissect.Session { return newSession() }

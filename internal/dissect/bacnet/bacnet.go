package bacnet

import (
	"encoding/binary"
	"sync"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() {
	dissect.Register(Dissector{}, dissect.UDP(Port))
	dissect.RegisterLLC(&FrameDissector{}, SAP)
}

// Port is the BACnet/IP UDP port, 0xBAC0 (Annex J.1).
const Port = 47808

// SAP is the ISO 8802-2 LLC service access point of BACnet/Ethernet
// (clause 7.1: DSAP = SSAP = 0x82, control 0x03).
const SAP = 0x82

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

// reasonSSAP is the malformed reason of an LLC frame to SAP 0x82 from
// another source SAP.
const reasonSSAP = "llc ssap is not BACnet (0x82)"

// FrameDissector decodes BACnet over ISO 8802-2 LLC on Ethernet (clause
// 7): the frame's payload after the LLC header is an NPDU, decoded as on
// BACnet/IP. Each frame is an operation of its own, from its source MAC
// address (the client) to its destination; I-Am and I-Have, and responses,
// describe their sender, which is then the server. Confirmed requests and
// their acks are not paired. It is safe for concurrent use.
type FrameDissector struct {
	pool sync.Pool // *session, scratch state of one frame
}

// Name returns "bacnet_eth".
func (*FrameDissector) Name() string { return "bacnet_eth" }

// Dissect decodes one BACnet/Ethernet frame.
func (d *FrameDissector) Dissect(f *dissect.Frame, ctx *dissect.Context) {
	s, _ := d.pool.Get().(*session)
	if s == nil {
		s = &session{llc: true}
	}
	s.frame(f, ctx)
	d.pool.Put(s)
}

// frame handles the NPDU of one BACnet/Ethernet frame.
func (s *session) frame(f *dissect.Frame, ctx *dissect.Context) {
	s.src, s.dst = f.SrcMAC, f.DstMAC
	if f.SSAP&^1 != SAP {
		s.malformedFrame(dissect.ToServer, ctx, reasonSSAP)
		return
	}
	p := &s.p
	p.parseLLC(f.Payload)
	if p.malformed != "" && !p.apdu {
		s.malformedFrame(dissect.ToServer, ctx, p.malformed)
		return
	}
	s.npdu(dissect.ToServer, p, ctx)
}

package arp

import (
	"encoding/binary"
	"net"
	"net/netip"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.RegisterEtherType(Dissector{}, etherTypeARP) }

const etherTypeARP = 0x0806

// ARP operation codes (RFC 826, RFC 903 for RARP).
const (
	OpRequest      = 1
	OpReply        = 2
	OpRARPRequest  = 3
	OpRARPReply    = 4
	hardwareEther  = 1
	protocolIPv4   = 0x0800
	fixedHeaderLen = 8
	etherIPv4Len   = fixedHeaderLen + 2*6 + 2*4
)

// Dissector decodes ARP frames.
type Dissector struct{}

// Name returns "arp".
func (Dissector) Name() string { return "arp" }

// Dissect emits one operation per ARP packet:
//
//	request            client = sender, server = target IP; class discovery
//	gratuitous request sender == target IP; an announcement
//	reply              client = sender (the answering host), identity fact
//	                   "ip" = sender IP with the sender MAC as the endpoint
//
// A packet that is not Ethernet/IPv4 ARP or is too short becomes a
// malformed operation.
func (Dissector) Dissect(f *dissect.Frame, ctx *dissect.Context) {
	op := ctx.Op("arp")
	op.Transport = "ethernet"
	op.Client.MAC = f.SrcMAC
	op.Server.MAC = f.DstMAC
	b := f.Payload
	if len(b) < etherIPv4Len {
		op.FunctionName = "malformed"
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: "short ARP packet"}
		ctx.Emit(op)
		return
	}
	htype := binary.BigEndian.Uint16(b[0:2])
	ptype := binary.BigEndian.Uint16(b[2:4])
	code := binary.BigEndian.Uint16(b[6:8])
	op.FunctionCode = int(code)
	op.FunctionName = opName(code)
	if htype != hardwareEther || ptype != protocolIPv4 || b[4] != 6 || b[5] != 4 {
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: "not Ethernet/IPv4 ARP"}
		ctx.Emit(op)
		return
	}
	copy(op.Client.MAC[:], b[8:14])
	op.Client.IP = netip.AddrFrom4([4]byte(b[14:18]))
	copy(op.Server.MAC[:], b[18:24])
	op.Server.IP = netip.AddrFrom4([4]byte(b[24:28]))
	op.Result.Status = dissect.StatusOK
	switch code {
	case OpRequest:
		op.Request = true
		op.Class = dissect.ClassDiscovery
		if op.Client.IP == op.Server.IP {
			op.FunctionName = "gratuitous"
			op.Identity = append(op.Identity, dissect.Fact{Key: "ip", Value: op.Client.IP.String()})
		} else if op.Client.IP.IsUnspecified() {
			op.FunctionName = "probe" // RFC 5227 address conflict probe
		}
	case OpReply:
		op.Response = true
		op.Class = dissect.ClassDiscovery
		if op.Client.IP == op.Server.IP {
			op.FunctionName = "gratuitous"
		}
		op.Identity = append(op.Identity, dissect.Fact{Key: "ip", Value: op.Client.IP.String()})
	default:
		op.Class = dissect.ClassOther
	}
	if f.SrcMAC != op.Client.MAC {
		// The Ethernet source differs from the ARP sender: a proxy or a spoofer.
		op.Detail = "ARP sender " + net.HardwareAddr(op.Client.MAC[:]).String() + " differs from Ethernet source " + net.HardwareAddr(f.SrcMAC[:]).String()
	}
	ctx.Emit(op)
}

func opName(code uint16) string {
	switch code {
	case OpRequest:
		return "request"
	case OpReply:
		return "reply"
	case OpRARPRequest:
		return "rarp_request"
	case OpRARPReply:
		return "rarp_reply"
	}
	return "unknown"
}

package cdp

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.RegisterSNAP(Dissector{}, OUI, PID) }

// The SNAP OUI and protocol id that carry CDP.
const (
	OUI = 0x00000c
	PID = 0x2000
)

// TLV types (Wireshark packet-cdp.c type_vals).
const (
	tlvDeviceID     = 0x0001
	tlvAddresses    = 0x0002
	tlvPortID       = 0x0003
	tlvCapabilities = 0x0004
	tlvSoftware     = 0x0005
	tlvPlatform     = 0x0006
	tlvVTPDomain    = 0x0009
	tlvNativeVLAN   = 0x000a
	tlvMgmtAddress  = 0x0016

	headerLen = 4 // version, TTL, checksum
	// maxAddresses bounds the addresses taken from one TLV.
	maxAddresses = 16
)

// Malformed-advertisement reasons.
var (
	errShort   = errors.New("cdp: shorter than the CDP header")
	errVersion = errors.New("cdp: version is neither 1 nor 2")
	errTLV     = errors.New("cdp: TLV length out of range")
	errAddress = errors.New("cdp: address list runs past its TLV")
)

// capabilityNames are the capability bits, least significant first.
var capabilityNames = [...]string{"router", "transparent_bridge", "source_route_bridge", "switch",
	"host", "igmp", "repeater", "voip_phone", "remotely_managed", "cvta", "two_port_mac_relay"}

// ipv6Protocol is the 802.2 protocol field of an IPv6 address
// (AA-AA-03-00-00-00 then EtherType 0x86DD).
var ipv6Protocol = [8]byte{0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x86, 0xdd}

// Dissector decodes CDP frames.
type Dissector struct{}

// Name returns "cdp".
func (Dissector) Name() string { return "cdp" }

// Dissect emits one "advertisement" operation per frame (function code
// the CDP version), class discovery, client the sender. Facts, all about
// the sender: hostname (device id), firmware (first line of the software
// version), model (platform), ip (each IPv4/IPv6 address of the Addresses
// and Management Addresses TLVs, once each). Attributes: software_version
// (the whole text), port_id, capabilities, vtp_domain, native_vlan, ttl.
func (Dissector) Dissect(f *dissect.Frame, ctx *dissect.Context) {
	op := ctx.Op("cdp")
	op.Transport = "ethernet"
	op.Client.MAC = f.SrcMAC
	op.Server.MAC = f.DstMAC
	op.FunctionName = "advertisement"
	op.Class = dissect.ClassDiscovery
	op.Request = true
	op.Result.Status = dissect.StatusOK
	if err := decodeTLVs(f.Payload, op); err != nil {
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	}
	ctx.Emit(op)
}

func decodeTLVs(b []byte, op *dissect.Operation) error {
	if len(b) < headerLen {
		return errShort
	}
	op.FunctionCode = int(b[0])
	if b[0] != 1 && b[0] != 2 {
		return errVersion
	}
	var buf [64]byte
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "ttl", Value: dissect.Intern(strconv.AppendUint(buf[:0], uint64(b[1]), 10))})
	for b = b[headerLen:]; len(b) > 0; {
		if len(b) < 4 {
			return errTLV
		}
		typ, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if n < 4 || n > len(b) {
			return errTLV
		}
		raw := b[4:n]
		v := trimNUL(raw)
		b = b[n:]
		switch typ {
		case tlvDeviceID:
			op.Identity = appendFact(op.Identity, dissect.FactHostname, v)
		case tlvSoftware:
			if len(v) > 0 {
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "software_version", Value: dissect.Intern(v)})
				op.Identity = appendFact(op.Identity, dissect.FactFirmware, firstLine(v))
			}
		case tlvPlatform:
			op.Identity = appendFact(op.Identity, dissect.FactModel, v)
		case tlvPortID:
			if len(v) > 0 {
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "port_id", Value: dissect.Intern(v)})
			}
		case tlvVTPDomain:
			if len(v) > 0 {
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "vtp_domain", Value: dissect.Intern(v)})
			}
		case tlvNativeVLAN:
			if len(raw) != 2 {
				return errTLV
			}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "native_vlan",
				Value: dissect.Intern(strconv.AppendUint(buf[:0], uint64(binary.BigEndian.Uint16(raw)), 10))})
		case tlvCapabilities:
			if len(raw) != 4 {
				return errTLV
			}
			var cb [200]byte
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "capabilities", Value: dissect.Intern(appendCaps(cb[:0], binary.BigEndian.Uint32(raw)))})
		case tlvAddresses, tlvMgmtAddress:
			if err := addresses(raw, op); err != nil {
				return err
			}
		}
	}
	return nil
}

// addresses decodes an address list: a 4-octet count, then per address
// a protocol type (1 NLPID, 2 IEEE 802.2), protocol length, protocol,
// 2-octet address length and address. IPv4 is NLPID 0xCC; IPv6 is 802.2
// with ipv6Protocol. Each distinct address becomes one ip fact.
func addresses(b []byte, op *dissect.Operation) error {
	if len(b) < 4 {
		return errAddress
	}
	count := binary.BigEndian.Uint32(b)
	b = b[4:]
	var buf [64]byte
	for i := uint32(0); i < count && i < maxAddresses; i++ {
		if len(b) < 2 || len(b) < 2+int(b[1])+2 {
			return errAddress
		}
		ptype, proto := b[0], b[2:2+int(b[1])]
		b = b[2+len(proto):]
		alen := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+alen {
			return errAddress
		}
		addr := b[2 : 2+alen]
		b = b[2+alen:]
		var a netip.Addr
		switch {
		case ptype == 1 && len(proto) == 1 && proto[0] == 0xcc && alen == 4:
			a = netip.AddrFrom4([4]byte(addr))
		case ptype == 2 && string(proto) == string(ipv6Protocol[:]) && alen == 16:
			a = netip.AddrFrom16([16]byte(addr))
		default:
			continue
		}
		s := dissect.Intern(a.AppendTo(buf[:0]))
		dup := false
		for _, f := range op.Identity {
			if f.Key == dissect.FactIP && f.Value == s {
				dup = true
			}
		}
		if !dup {
			op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactIP, Value: s})
		}
	}
	return nil
}

func appendFact(facts []dissect.Fact, key string, v []byte) []dissect.Fact {
	if len(v) == 0 {
		return facts
	}
	return append(facts, dissect.Fact{Key: key, Value: dissect.Intern(v)})
}

// trimNUL drops the NUL padding some implementations put after strings.
func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// firstLine returns b up to its first line break, without trailing
// spaces.
func firstLine(b []byte) []byte {
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b = b[:i]
			break
		}
	}
	for len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return b
}

func appendCaps(dst []byte, bits uint32) []byte {
	for i, name := range capabilityNames {
		if bits&(1<<i) != 0 {
			if len(dst) > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, name...)
		}
	}
	return dst
}

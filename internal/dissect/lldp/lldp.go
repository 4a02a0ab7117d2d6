package lldp

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/internal/sysdescr"
)

func init() { dissect.RegisterEtherType(Dissector{}, EtherType) }

// EtherType is the LLDP EtherType (IEEE 802.1AB 7.2).
const EtherType = 0x88cc

// TLV types (IEEE 802.1AB-2016 8.4, table 8-1).
const (
	tlvEnd         = 0
	tlvChassisID   = 1
	tlvPortID      = 2
	tlvTTL         = 3
	tlvPortDesc    = 4
	tlvSystemName  = 5
	tlvSystemDesc  = 6
	tlvSystemCaps  = 7
	tlvMgmtAddress = 8
)

// Address family numbers (IANA) used by network-address subtypes.
const (
	afIPv4 = 1
	afIPv6 = 2
)

// Malformed-LLDPDU reasons.
var (
	errTLV       = errors.New("lldp: TLV runs past the end of the frame")
	errMandatory = errors.New("lldp: LLDPDU does not start with chassis ID, port ID and TTL")
	errLength    = errors.New("lldp: TLV length out of range for its type")
)

// Dissector decodes LLDP frames.
type Dissector struct{}

// Name returns "lldp".
func (Dissector) Name() string { return "lldp" }

var chassisSubtypes = [...]string{1: "chassis_component", 2: "interface_alias", 3: "port_component",
	4: "mac_address", 5: "network_address", 6: "interface_name", 7: "local"}

var portSubtypes = [...]string{1: "interface_alias", 2: "port_component", 3: "mac_address",
	4: "network_address", 5: "interface_name", 6: "agent_circuit_id", 7: "local"}

// capabilityNames are the system capability bits (8.5.8.1, table 8-4),
// least significant first.
var capabilityNames = [...]string{"other", "repeater", "bridge", "wlan_access_point", "router",
	"telephone", "docsis_cable_device", "station_only", "c_vlan", "s_vlan", "two_port_mac_relay"}

// Dissect emits one "advertisement" operation per LLDPDU ("shutdown" when
// the TTL is 0, 8.5.4), class discovery, client the sender. Facts, all
// about the sender: hostname (system name), os or product (system
// description, as it reads), ip (each management address). Attributes:
// chassis_id and chassis_id_subtype, port_id and port_id_subtype, ttl,
// port_description, system_description, capabilities and
// enabled_capabilities (comma-separated names), management_ip (every
// management address, unspecified ones included).
func (Dissector) Dissect(f *dissect.Frame, ctx *dissect.Context) {
	op := ctx.Op("lldp")
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

// decodeTLVs walks the TLVs of an LLDPDU (8.4) into op.
func decodeTLVs(b []byte, op *dissect.Operation) error {
	var buf [64]byte
	for i := 0; ; i++ {
		if len(b) < 2 {
			if len(b) == 0 && i >= 3 {
				return nil // no End TLV: tolerated, as receivers do
			}
			return errTLV
		}
		h := binary.BigEndian.Uint16(b)
		typ, n := int(h>>9), int(h&0x1ff)
		if len(b) < 2+n {
			return errTLV
		}
		v := b[2 : 2+n]
		b = b[2+n:]
		if i < 3 && typ != i+1 {
			return errMandatory
		}
		switch typ {
		case tlvEnd:
			return nil
		case tlvChassisID, tlvPortID:
			if n < 2 || n > 256 {
				return errLength
			}
			key, subKey, names := "chassis_id", "chassis_id_subtype", chassisSubtypes[:]
			macSub, netSub := byte(4), byte(5)
			if typ == tlvPortID {
				key, subKey, names = "port_id", "port_id_subtype", portSubtypes[:]
				macSub, netSub = 3, 4
			}
			sub := v[0]
			name := "reserved"
			if int(sub) < len(names) && names[sub] != "" {
				name = names[sub]
			}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: key, Value: idString(buf[:0], v[1:], sub == macSub, sub == netSub)},
				dissect.Attr{Key: subKey, Value: name})
		case tlvTTL:
			if n < 2 {
				return errLength
			}
			ttl := binary.BigEndian.Uint16(v)
			if ttl == 0 {
				op.FunctionName = "shutdown"
			}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "ttl", Value: dissect.Intern(strconv.AppendUint(buf[:0], uint64(ttl), 10))})
		case tlvPortDesc:
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "port_description", Value: dissect.Intern(v)})
		case tlvSystemName:
			if n > 0 {
				op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: dissect.Intern(v)})
			}
		case tlvSystemDesc:
			if n > 0 {
				d := dissect.Intern(v)
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "system_description", Value: d})
				key := dissect.FactProduct
				if sysdescr.NamesOS(v) {
					key = dissect.FactOS
				}
				op.Identity = append(op.Identity, dissect.Fact{Key: key, Value: d})
			}
		case tlvSystemCaps:
			if n != 4 {
				return errLength
			}
			var cb [160]byte
			op.Attrs = append(op.Attrs,
				dissect.Attr{Key: "capabilities", Value: dissect.Intern(appendCaps(cb[:0], binary.BigEndian.Uint16(v)))},
				dissect.Attr{Key: "enabled_capabilities", Value: dissect.Intern(appendCaps(cb[:0], binary.BigEndian.Uint16(v[2:])))})
		case tlvMgmtAddress:
			// 8.5.9: address string length (subtype + address), subtype,
			// address, interface numbering, OID.
			if n < 9 || int(v[0]) < 2 || int(v[0]) > 32 || 1+int(v[0]) > n {
				return errLength
			}
			addr := v[2 : 1+int(v[0])]
			var a netip.Addr
			switch {
			case v[1] == afIPv4 && len(addr) == 4:
				a = netip.AddrFrom4([4]byte(addr))
			case v[1] == afIPv6 && len(addr) == 16:
				a = netip.AddrFrom16([16]byte(addr))
			default:
				continue
			}
			s := dissect.Intern(a.AppendTo(buf[:0]))
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "management_ip", Value: s})
			if !a.IsUnspecified() {
				op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactIP, Value: s})
			}
		}
	}
}

// idString formats a chassis or port identifier: a MAC address in colon
// hex, a network address (IANA family octet, then the address) in its
// usual form, printable text as is, anything else in colon hex.
func idString(dst, id []byte, mac, network bool) string {
	switch {
	case mac && len(id) == 6:
		return dissect.Intern(appendHex(dst, id))
	case network && len(id) == 5 && id[0] == afIPv4:
		return dissect.Intern(netip.AddrFrom4([4]byte(id[1:])).AppendTo(dst))
	case network && len(id) == 17 && id[0] == afIPv6:
		return dissect.Intern(netip.AddrFrom16([16]byte(id[1:])).AppendTo(dst))
	case printable(id):
		return dissect.Intern(id)
	}
	return dissect.Intern(appendHex(dst, id))
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < ' ' || c > '~' {
			return false
		}
	}
	return len(b) > 0
}

func appendCaps(dst []byte, bits uint16) []byte {
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

const hexDigits = "0123456789abcdef"

// appendHex appends b as colon-separated hex octets.
func appendHex(dst, b []byte) []byte {
	for i, c := range b {
		if i > 0 {
			dst = append(dst, ':')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

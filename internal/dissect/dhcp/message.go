package dhcp

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Fixed BOOTP header (RFC 2131 section 2, figure 1) and option framing
// (RFC 2132 section 2).
const (
	opBootRequest = 1
	opBootReply   = 2
	headerLen     = 236
	magicCookie   = 0x63825363
	htypeEthernet = 1

	optPad          = 0
	optHostname     = 12
	optRequestedIP  = 50
	optOverload     = 52
	optMessageType  = 53
	optServerID     = 54
	optParamList    = 55
	optVendorClass  = 60
	optClientID     = 61
	optEnd          = 255
	overloadFile    = 1
	overloadSname   = 2
	maxParamListLen = 255
)

// DHCP message types (RFC 2132 section 9.6; 9-18 from RFC 3203, 4388,
// 6926, 7724, 8156).
const (
	TypeDiscover = 1
	TypeOffer    = 2
	TypeRequest  = 3
	TypeDecline  = 4
	TypeAck      = 5
	TypeNak      = 6
	TypeRelease  = 7
	TypeInform   = 8
)

var typeNames = [...]string{
	0: "", 1: "discover", 2: "offer", 3: "request", 4: "decline", 5: "ack", 6: "nak",
	7: "release", 8: "inform", 9: "forcerenew", 10: "leasequery", 11: "leaseunassigned",
	12: "leaseunknown", 13: "leaseactive", 14: "bulkleasequery", 15: "leasequerydone",
	16: "activeleasequery", 17: "leasequerystatus", 18: "tls",
}

// Malformed-message reasons.
var (
	errShort     = errors.New("dhcp: message shorter than the BOOTP header")
	errOp        = errors.New("dhcp: op is neither BOOTREQUEST nor BOOTREPLY")
	errCookie    = errors.New("dhcp: no DHCP magic cookie")
	errOption    = errors.New("dhcp: option runs past the end of its field")
	errHLen      = errors.New("dhcp: hardware address length above 16")
	errMsgType   = errors.New("dhcp: message type option is not one octet")
	errAddrLen   = errors.New("dhcp: address option is not four octets")
	errNoOptions = errors.New("dhcp: options field missing")
)

// message holds what one decoded message says. Slices point into the
// datagram and are valid only while it is.
type message struct {
	op, htype, hlen uint8
	xid             uint32
	ciaddr, yiaddr  [4]byte
	siaddr, giaddr  [4]byte
	chaddr          []byte
	msgType         uint8
	hasType         bool
	requested       [4]byte
	hasRequested    bool
	serverID        [4]byte
	hasServerID     bool
	hostname        []byte
	vendorClass     []byte
	clientID        []byte
	params          []byte
	overload        uint8
}

// parse decodes b into m (RFC 2131 section 2 and 3, RFC 2132). A BOOTP
// message without the magic cookie is accepted with no options.
func (m *message) parse(b []byte) error {
	*m = message{}
	if len(b) < headerLen {
		return errShort
	}
	m.op, m.htype, m.hlen = b[0], b[1], b[2]
	if m.op != opBootRequest && m.op != opBootReply {
		return errOp
	}
	if m.hlen > 16 {
		return errHLen
	}
	m.xid = binary.BigEndian.Uint32(b[4:])
	m.ciaddr = [4]byte(b[12:16])
	m.yiaddr = [4]byte(b[16:20])
	m.siaddr = [4]byte(b[20:24])
	m.giaddr = [4]byte(b[24:28])
	m.chaddr = b[28 : 28+int(m.hlen)]
	if len(b) < headerLen+4 {
		if len(b) == headerLen {
			return nil // plain BOOTP without vendor extensions
		}
		return errNoOptions
	}
	if binary.BigEndian.Uint32(b[headerLen:]) != magicCookie {
		return errCookie
	}
	if err := m.options(b[headerLen+4:], true); err != nil {
		return err
	}
	// Option overload (RFC 2132 section 9.3): the file field, then sname,
	// carry further options.
	if m.overload&overloadFile != 0 {
		if err := m.options(b[108:236], false); err != nil {
			return err
		}
	}
	if m.overload&overloadSname != 0 {
		if err := m.options(b[44:108], false); err != nil {
			return err
		}
	}
	return nil
}

// options decodes one options field. The first occurrence of an option
// wins; RFC 3396 concatenation of split long options is not done.
func (m *message) options(b []byte, main bool) error {
	for i := 0; i < len(b); {
		code := b[i]
		if code == optPad {
			i++
			continue
		}
		if code == optEnd {
			return nil
		}
		if i+2 > len(b) || i+2+int(b[i+1]) > len(b) {
			return errOption
		}
		v := b[i+2 : i+2+int(b[i+1])]
		i += 2 + len(v)
		switch code {
		case optMessageType:
			if len(v) != 1 {
				return errMsgType
			}
			if !m.hasType {
				m.msgType, m.hasType = v[0], true
			}
		case optHostname:
			if m.hostname == nil {
				m.hostname = v
			}
		case optVendorClass:
			if m.vendorClass == nil {
				m.vendorClass = v
			}
		case optClientID:
			if m.clientID == nil {
				m.clientID = v
			}
		case optParamList:
			if m.params == nil {
				m.params = v
			}
		case optRequestedIP:
			if len(v) != 4 {
				return errAddrLen
			}
			m.requested, m.hasRequested = [4]byte(v), true
		case optServerID:
			if len(v) != 4 {
				return errAddrLen
			}
			m.serverID, m.hasServerID = [4]byte(v), true
		case optOverload:
			if main && len(v) == 1 {
				m.overload = v[0]
			}
		}
	}
	return nil
}

// typeName returns the message type's name, "bootp_request"/"bootp_reply"
// for BOOTP without option 53, or "unknown".
func (m *message) typeName() string {
	if !m.hasType {
		if m.op == opBootRequest {
			return "bootp_request"
		}
		return "bootp_reply"
	}
	if int(m.msgType) < len(typeNames) && typeNames[m.msgType] != "" {
		return typeNames[m.msgType]
	}
	return "unknown"
}

// describe fills op from a decoded message that arrived in direction dir.
// The operation's client is the DHCP client and its server the DHCP
// server (or relay), whichever of them sent the message: a BOOTREPLY is
// sent by the server.
func (m *message) describe(op *dissect.Operation, dir dissect.Direction) {
	sender, receiver := op.Client, op.Server
	if dir == dissect.ToClient {
		sender, receiver = receiver, sender
	}
	reply := m.op == opBootReply
	if reply {
		op.Client, op.Server = receiver, sender
		op.Response = true
	} else {
		op.Client, op.Server = sender, receiver
		op.Request = true
	}
	if m.hasType {
		op.FunctionCode = int(m.msgType)
	}
	op.FunctionName = m.typeName()
	op.Class = dissect.ClassDiscovery
	op.Result.Status = dissect.StatusOK
	if m.hasType && m.msgType == TypeNak {
		op.Result = dissect.Result{Status: dissect.StatusError, Code: TypeNak, Text: "nak"}
	}

	// The client endpoint: its hardware address, and the address it
	// holds when the message says so; a relayed or not yet configured
	// client has no address of its own on the wire.
	var ether bool
	if m.htype == htypeEthernet && m.hlen == 6 {
		op.Client.MAC = dissect.MAC(m.chaddr)
		ether = true
	}
	ciaddr, yiaddr := netip.AddrFrom4(m.ciaddr), netip.AddrFrom4(m.yiaddr)
	bound := m.hasType && m.msgType == TypeAck && !yiaddr.IsUnspecified()
	switch {
	case !ciaddr.IsUnspecified():
		op.Client.IP = ciaddr
	case bound:
		op.Client.IP = yiaddr
	case m.giaddr != [4]byte{} || !usable(op.Client.IP):
		op.Client.IP = netip.Addr{}
	}

	var buf [64]byte
	if ether {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "chaddr", Value: dissect.Intern(appendHex(buf[:0], m.chaddr))})
	} else if len(m.chaddr) > 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "chaddr", Value: dissect.Intern(appendHex(buf[:0], m.chaddr))})
	}
	if m.hasRequested {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "requested_ip", Value: addrString(m.requested)})
	}
	if !yiaddr.IsUnspecified() {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "yiaddr", Value: addrString(m.yiaddr)})
	}
	if m.giaddr != [4]byte{} {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "relay", Value: addrString(m.giaddr)})
	}
	if m.hasServerID {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "server_id", Value: addrString(m.serverID)})
	}
	if len(m.hostname) > 0 {
		h := dissect.Intern(m.hostname)
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "hostname", Value: h})
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: h})
	}
	if len(m.vendorClass) > 0 {
		v := dissect.Intern(m.vendorClass)
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "vendor_class", Value: v})
		if !reply {
			op.Identity = append(op.Identity, dissect.Fact{Key: "vendor_class", Value: v})
		}
	}
	if len(m.clientID) > 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "client_id", Value: clientIDString(buf[:0], m.clientID)})
	}
	if len(m.params) > 0 {
		var pb [4 * maxParamListLen]byte
		p := pb[:0]
		for i, c := range m.params {
			if i > 0 {
				p = append(p, ',')
			}
			p = strconv.AppendUint(p, uint64(c), 10)
		}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "param_list", Value: dissect.Intern(p)})
	}
	if bound {
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactIP, Value: addrString(m.yiaddr)})
	}
}

// usable reports whether a is an address a host holds: not the zero
// address a client without one sends from, not the limited broadcast.
func usable(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// addrString returns the dotted form of an IPv4 address.
func addrString(a [4]byte) string {
	var buf [16]byte
	return dissect.Intern(netip.AddrFrom4(a).AppendTo(buf[:0]))
}

// clientIDString formats a client identifier (RFC 2132 section 9.14): a
// hardware type octet and address as "type:aa:bb:..." in hex.
func clientIDString(dst, id []byte) string {
	return dissect.Intern(appendHex(dst, id))
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

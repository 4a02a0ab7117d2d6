package mqtt

import (
	"encoding/binary"
	"strconv"
	"strings"
	"sync"
)

// Packet types (3.1.1 section 2.2.1, 5.0 section 2.1.2).
const (
	typeReserved    = 0
	typeConnect     = 1
	typeConnack     = 2
	typePublish     = 3
	typePuback      = 4
	typePubrec      = 5
	typePubrel      = 6
	typePubcomp     = 7
	typeSubscribe   = 8
	typeSuback      = 9
	typeUnsubscribe = 10
	typeUnsuback    = 11
	typePingreq     = 12
	typePingresp    = 13
	typeDisconnect  = 14
	typeAuth        = 15
)

// typeNames are the packet type names, snake_case.
var typeNames = [16]string{
	"reserved", "connect", "connack", "publish", "puback", "pubrec", "pubrel", "pubcomp",
	"subscribe", "suback", "unsubscribe", "unsuback", "pingreq", "pingresp", "disconnect", "auth",
}

// Results of varint.
const (
	varOK = iota
	varShort
	varLong
)

// varint decodes a Variable Byte Integer (3.1.1 section 2.2.3, 5.0 section
// 1.5.5): at most four bytes, seven bits each, least significant first. It
// returns the value, the bytes used and varOK, varShort when b ends inside
// it or varLong when a fourth byte still has the continuation bit.
func varint(b []byte) (v, n int, st int) {
	for i := 0; i < 4; i++ {
		if i >= len(b) {
			return 0, 0, varShort
		}
		v |= int(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, varOK
		}
	}
	return 0, 0, varLong
}

// reader walks the variable header and payload of one packet.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() byte {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() uint16 {
	if len(r.b) < 2 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

// bytes reads a two-byte length and that many bytes (UTF-8 Encoded String
// and Binary Data, 3.1.1 section 1.5.3, 5.0 sections 1.5.4 and 1.5.6).
func (r *reader) bytes() []byte {
	n := int(r.u16())
	if r.bad || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// properties skips an MQTT 5 property block: a Variable Byte Integer
// length and that many bytes (5.0 section 2.2.2).
func (r *reader) properties() {
	n, k, st := varint(r.b)
	if st != varOK || len(r.b)-k < n {
		r.bad = true
		r.b = nil
		return
	}
	r.b = r.b[k+n:]
}

// connackCodes are the CONNACK return codes of MQTT 3.1 and 3.1.1
// (3.1.1 section 3.2.2.3).
var connackCodes = [6]string{
	"accepted", "unacceptable_protocol_version", "identifier_rejected",
	"server_unavailable", "bad_user_name_or_password", "not_authorized",
}

// connackName names a CONNACK return code of version 3.1/3.1.1.
func connackName(c byte) string {
	if int(c) < len(connackCodes) {
		return connackCodes[c]
	}
	return "reserved"
}

// reasonNames are the MQTT 5 reason codes (5.0 section 2.4). Code 0 is
// named by the packet that carries it.
var reasonNames = map[byte]string{
	0x01: "granted_qos_1", 0x02: "granted_qos_2", 0x04: "disconnect_with_will_message",
	0x10: "no_matching_subscribers", 0x11: "no_subscription_existed",
	0x18: "continue_authentication", 0x19: "re_authenticate",
	0x80: "unspecified_error", 0x81: "malformed_packet", 0x82: "protocol_error",
	0x83: "implementation_specific_error", 0x84: "unsupported_protocol_version",
	0x85: "client_identifier_not_valid", 0x86: "bad_user_name_or_password",
	0x87: "not_authorized", 0x88: "server_unavailable", 0x89: "server_busy",
	0x8a: "banned", 0x8b: "server_shutting_down", 0x8c: "bad_authentication_method",
	0x8d: "keep_alive_timeout", 0x8e: "session_taken_over", 0x8f: "topic_filter_invalid",
	0x90: "topic_name_invalid", 0x91: "packet_identifier_in_use",
	0x92: "packet_identifier_not_found", 0x93: "receive_maximum_exceeded",
	0x94: "topic_alias_invalid", 0x95: "packet_too_large", 0x96: "message_rate_too_high",
	0x97: "quota_exceeded", 0x98: "administrative_action", 0x99: "payload_format_invalid",
	0x9a: "retain_not_supported", 0x9b: "qos_not_supported", 0x9c: "use_another_server",
	0x9d: "server_moved", 0x9e: "shared_subscriptions_not_supported",
	0x9f: "connection_rate_exceeded", 0xa0: "maximum_connect_time",
	0xa1: "subscription_identifiers_not_supported", 0xa2: "wildcard_subscriptions_not_supported",
}

// reasonName names an MQTT 5 reason code; zero is zero.
func reasonName(c byte, zero string) string {
	if c == 0 {
		return zero
	}
	if n, ok := reasonNames[c]; ok {
		return n
	}
	return "reserved"
}

// subackName names a SUBACK return code: granted QoS 0-2, or 0x80 failure
// (3.1.1 section 3.9.3), or an MQTT 5 reason code.
func subackName(c byte, v5 bool) string {
	switch {
	case c <= 2:
		return qosNames[c]
	case c == 0x80 && !v5:
		return "failure"
	}
	return reasonName(c, "")
}

var qosNames = [4]string{"0", "1", "2", "3"}

// decimals holds the decimal text of every 16-bit value in one string, so
// that a packet identifier becomes an attribute without allocating.
var decimals struct {
	once sync.Once
	s    string
	off  [65537]uint32
}

// decimal returns v in decimal.
func decimal(v uint16) string {
	decimals.once.Do(func() {
		var b strings.Builder
		b.Grow(65536 * 5)
		var tmp [8]byte
		for i := range 65536 {
			decimals.off[i] = uint32(b.Len())
			b.Write(strconv.AppendUint(tmp[:0], uint64(i), 10))
		}
		decimals.off[65536] = uint32(b.Len())
		decimals.s = b.String()
	})
	return decimals.s[decimals.off[v]:decimals.off[int(v)+1]]
}

// messageNames names each set of PUBLISH-flow messages seen, indexed by a
// bit mask of (1 << (type - typePublish)), e.g. "publish+pubrec+pubrel".
var messageNames = func() [32]string {
	var out [32]string
	for m := 1; m < 32; m++ {
		var parts []string
		for i := 0; i < 5; i++ {
			if m&(1<<i) != 0 {
				parts = append(parts, typeNames[typePublish+i])
			}
		}
		out[m] = strings.Join(parts, "+")
	}
	return out
}()

// isHostname reports whether a client identifier reads as a fully qualified
// host name (RFC 1123 section 2.1: dot-separated labels of letters, digits
// and inner hyphens, at most 63 bytes each, 253 in all) with at least two
// labels and an alphabetic last label. A single label is not taken: client
// libraries generate single-label identifiers ("mosq-...", "paho...") and
// applications use their own names, so it says nothing about the host.
func isHostname(id []byte) bool {
	if len(id) == 0 || len(id) > 253 {
		return false
	}
	labels, start := 0, 0
	for i := 0; i <= len(id); i++ {
		if i < len(id) && id[i] != '.' {
			c := id[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
			continue
		}
		l := id[start:i]
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		if i == len(id) {
			for _, c := range l {
				if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
					return false
				}
			}
		}
		start = i + 1
	}
	return labels >= 2
}

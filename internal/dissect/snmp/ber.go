package snmp

import (
	"errors"
	"strconv"
)

// BER tags used by SNMP (X.690, RFC 1155/2578 application types, RFC 3416
// PDU and exception tags).
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagNull        = 0x05
	tagOID         = 0x06
	tagSequence    = 0x30
	tagIPAddress   = 0x40
	tagPDUFirst    = 0xa0
	tagPDULast     = 0xa8

	maxSubIDs = 128
)

// Malformed-message reasons.
var (
	errShort     = errors.New("snmp: element runs past the end of the message")
	errLength    = errors.New("snmp: unsupported BER length form")
	errTag       = errors.New("snmp: unexpected BER tag")
	errInteger   = errors.New("snmp: INTEGER too long")
	errOID       = errors.New("snmp: malformed OBJECT IDENTIFIER")
	errVersion   = errors.New("snmp: unknown version")
	errPDU       = errors.New("snmp: unknown PDU type")
	errTooLong   = errors.New("snmp: TCP message longer than 65535 octets")
	errNotSNMP   = errors.New("snmp: TCP stream does not start with a BER SEQUENCE")
	errV3Header  = errors.New("snmp: malformed SNMPv3 header")
	errTrailing  = errors.New("snmp: octets after the message")
	errHighTag   = errors.New("snmp: multi-octet BER tag")
	errNegLength = errors.New("snmp: negative length")
)

// element reads one TLV at the start of b: its tag, value and the rest
// of b. Only definite lengths of up to four octets are accepted (SNMP
// uses the definite form, RFC 3417 section 8).
func element(b []byte) (tag byte, val, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errShort
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, errHighTag
	}
	n, hl := int(b[1]), 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 {
			return 0, nil, nil, errLength
		}
		if len(b) < 2+k {
			return 0, nil, nil, errShort
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		if n < 0 {
			return 0, nil, nil, errNegLength
		}
		hl += k
	}
	if len(b)-hl < n {
		return 0, nil, nil, errShort
	}
	return tag, b[hl : hl+n], b[hl+n:], nil
}

// expect reads an element that must have tag.
func expect(b []byte, tag byte) (val, rest []byte, err error) {
	t, v, r, err := element(b)
	if err != nil {
		return nil, nil, err
	}
	if t != tag {
		return nil, nil, errTag
	}
	return v, r, nil
}

// integer decodes a two's complement INTEGER of up to 8 octets.
func integer(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 8 {
		return 0, errInteger
	}
	n := int64(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, nil
}

// appendOID appends the dotted form of an OBJECT IDENTIFIER value (X.690
// 8.19): the first subidentifier encodes the first two arcs as 40X+Y.
func appendOID(dst, v []byte) ([]byte, error) {
	if len(v) == 0 {
		return dst, errOID
	}
	first := true
	var sub uint64
	count := 0
	for i, c := range v {
		if sub == 0 && c == 0x80 {
			return dst, errOID // non-minimal encoding
		}
		sub = sub<<7 | uint64(c&0x7f)
		if sub > 1<<32-1 {
			return dst, errOID
		}
		if c&0x80 != 0 {
			if i == len(v)-1 {
				return dst, errOID
			}
			continue
		}
		if count++; count > maxSubIDs {
			return dst, errOID
		}
		if first {
			x := min(sub/40, 2)
			dst = strconv.AppendUint(dst, x, 10)
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, sub-40*x, 10)
			first = false
		} else {
			dst = append(dst, '.')
			dst = strconv.AppendUint(dst, sub, 10)
		}
		sub = 0
	}
	return dst, nil
}

package tpkt

import (
	"encoding/binary"
	"errors"
)

// Type is a COTP TPDU type: the high nibble of the TPDU code (ISO 8073
// section 13.1, table 8). tshark's cotp.type prints it the same way
// (0x0e connection request).
type Type uint8

// TPDU types.
const (
	TypeED Type = 0x1 // expedited data
	TypeEA Type = 0x2 // expedited data acknowledgement
	TypeRJ Type = 0x5 // reject
	TypeAK Type = 0x6 // data acknowledgement
	TypeER Type = 0x7 // TPDU error
	TypeDR Type = 0x8 // disconnect request
	TypeDC Type = 0xC // disconnect confirm
	TypeCC Type = 0xD // connection confirm
	TypeCR Type = 0xE // connection request
	TypeDT Type = 0xF // data
)

var typeNames = [16]string{
	TypeED: "expedited_data",
	TypeEA: "expedited_data_ack",
	TypeRJ: "reject",
	TypeAK: "data_ack",
	TypeER: "tpdu_error",
	TypeDR: "disconnect_request",
	TypeDC: "disconnect_confirm",
	TypeCC: "connection_confirm",
	TypeCR: "connection_request",
	TypeDT: "data",
}

// String returns the TPDU type's name ("connection_request"), or "unknown".
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "unknown"
}

// Parameter codes of the variable part (ISO 8073 section 13.3.4).
const (
	ParamTPDUSize    = 0xC0 // TPDU size, 2^n octets
	ParamCallingTSAP = 0xC1 // calling transport selector (tshark cotp.src-tsap)
	ParamCalledTSAP  = 0xC2 // called transport selector (tshark cotp.dst-tsap)
	ParamInvalidTPDU = 0xC1 // in an ER TPDU: the rejected TPDU's header
)

// COTP parsing errors.
var (
	ErrShort     = errors.New("cotp: TPDU shorter than its length indicator")
	ErrLI        = errors.New("cotp: length indicator too small for the TPDU type")
	ErrType      = errors.New("cotp: unknown TPDU type")
	ErrParameter = errors.New("cotp: parameter overruns the header")
)

// TPDU is one parsed COTP TPDU. Slices point into the parsed bytes.
type TPDU struct {
	Type Type
	// Code is the whole TPDU code byte (the low nibble holds the credit
	// of CR/CC in classes 2 to 4).
	Code byte
	// DstRef and SrcRef are the connection references (CR, CC, DR, DC;
	// DstRef also in ER and in DT of classes 2 to 4).
	DstRef, SrcRef uint16
	// Class is the protocol class of a CR/CC (0 for RFC 1006) and Options
	// the low nibble of that byte.
	Class, Options uint8
	// Reason is the DR disconnect reason or the ER reject cause.
	Reason uint8
	// EOT marks the last DT of a TSDU; Number is the DT's TPDU number.
	EOT    bool
	Number uint8
	// CallingTSAP and CalledTSAP are the transport selectors of a CR/CC.
	CallingTSAP, CalledTSAP []byte
	// TPDUSize is the maximum TPDU size a CR/CC proposes (0 if absent).
	TPDUSize int
	// Data is the user data after the header (the TSDU fragment of a DT).
	Data []byte
}

// fixed is the length of each type's fixed header part after the length
// indicator, excluding the length indicator itself.
func fixed(t Type) int {
	switch t {
	case TypeCR, TypeCC, TypeDR:
		return 6 // code, dst-ref, src-ref, class/option or reason
	case TypeDC:
		return 5
	case TypeER:
		return 4 // code, dst-ref, cause
	case TypeDT, TypeED:
		return 2 // class 0/1: code, EOT+number
	case TypeAK, TypeEA, TypeRJ:
		return 4
	}
	return -1
}

// Parse parses the COTP TPDU in b (the bytes of one TPKT frame after its
// header) into t.
func Parse(b []byte, t *TPDU) error {
	*t = TPDU{}
	if len(b) < 2 {
		return ErrShort
	}
	li := int(b[0])
	if li == 255 || li+1 > len(b) {
		return ErrShort
	}
	t.Code = b[1]
	t.Type = Type(b[1] >> 4)
	f := fixed(t.Type)
	if f < 0 {
		return ErrType
	}
	if li < f {
		return ErrLI
	}
	hdr := b[1 : li+1]
	t.Data = b[li+1:]
	var params []byte
	switch t.Type {
	case TypeCR, TypeCC, TypeDR:
		t.DstRef = binary.BigEndian.Uint16(hdr[1:3])
		t.SrcRef = binary.BigEndian.Uint16(hdr[3:5])
		if t.Type == TypeDR {
			t.Reason = hdr[5]
		} else {
			t.Class, t.Options = hdr[5]>>4, hdr[5]&0x0f
		}
		params = hdr[6:]
	case TypeDC:
		t.DstRef = binary.BigEndian.Uint16(hdr[1:3])
		t.SrcRef = binary.BigEndian.Uint16(hdr[3:5])
		params = hdr[5:]
	case TypeER:
		t.DstRef = binary.BigEndian.Uint16(hdr[1:3])
		t.Reason = hdr[3]
		params = hdr[4:]
	case TypeDT, TypeED:
		if li >= 4 {
			// Classes 2 to 4: destination reference before the number.
			t.DstRef = binary.BigEndian.Uint16(hdr[1:3])
			t.EOT, t.Number = hdr[3]&0x80 != 0, hdr[3]&0x7f
			params = hdr[4:]
		} else {
			t.EOT, t.Number = hdr[1]&0x80 != 0, hdr[1]&0x7f
			params = hdr[2:]
		}
	default:
		return nil
	}
	for len(params) > 0 {
		if len(params) < 2 || int(params[1])+2 > len(params) {
			return ErrParameter
		}
		code, v := params[0], params[2:2+int(params[1])]
		params = params[2+len(v):]
		if t.Type != TypeCR && t.Type != TypeCC {
			continue
		}
		switch code {
		case ParamCallingTSAP:
			t.CallingTSAP = v
		case ParamCalledTSAP:
			t.CalledTSAP = v
		case ParamTPDUSize:
			if len(v) == 1 && v[0] >= 7 && v[0] <= 13 {
				t.TPDUSize = 1 << v[0]
			}
		}
	}
	return nil
}

// TSAPString formats a transport selector the way tshark prints
// cotp.src-tsap and cotp.dst-tsap: as text when every byte is printable
// ASCII and it is longer than two bytes ("SIMATIC-ROOT-HMI"), otherwise as
// hexadecimal ("0x0102"). It allocates; call it on connection set-up only.
func TSAPString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	printable := len(b) > 2
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			printable = false
			break
		}
	}
	if printable {
		return string(b)
	}
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 2, 2+2*len(b))
	out[0], out[1] = '0', 'x'
	for _, c := range b {
		out = append(out, hexdigits[c>>4], hexdigits[c&0x0f])
	}
	return string(out)
}

// DisconnectReason names a DR reason code (ISO 8073 section 13.5.3 e).
func DisconnectReason(r uint8) string {
	switch r {
	case 0x00:
		return "reason not specified"
	case 0x01:
		return "congestion at TSAP"
	case 0x02:
		return "session entity not attached to TSAP"
	case 0x03:
		return "address unknown"
	case 0x80:
		return "normal disconnect"
	case 0x81:
		return "remote transport entity congestion"
	case 0x82:
		return "connection negotiation failed"
	case 0x83:
		return "duplicate source reference"
	case 0x84:
		return "mismatched references"
	case 0x85:
		return "protocol error"
	case 0x87:
		return "reference overflow"
	case 0x88:
		return "connection request refused"
	case 0x8a:
		return "header or parameter length invalid"
	}
	return "unknown reason"
}

// RejectCause names an ER reject cause (ISO 8073 section 13.12.3 c).
func RejectCause(c uint8) string {
	switch c {
	case 0x00:
		return "reason not specified"
	case 0x01:
		return "invalid parameter code"
	case 0x02:
		return "invalid TPDU type"
	case 0x03:
		return "invalid parameter value"
	}
	return "unknown cause"
}

package mms_test

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
)

// The builders below encode PDUs field by field from the ASN.1 of ISO
// 9506-2 (MMS), ISO 8650-1 (ACSE), ISO 8823-1 (presentation) and the SPDU
// layouts of ISO 8327-1 (session), with BER (X.690) definite lengths.

// h decodes hex, ignoring spaces.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// enc is one BER element: id is its identifier octets in hex ("a0",
// "bf48" for [72] constructed), the contents the parts concatenated.
func enc(id string, parts ...[]byte) []byte {
	c := cat(parts...)
	out := h(id)
	switch n := len(c); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	default:
		out = append(out, 0x82, byte(n>>8), byte(n))
	}
	return append(out, c...)
}

// str is a string element (VisibleString "1a", GraphicString "19", or an
// implicitly tagged one).
func str(id, s string) []byte { return enc(id, []byte(s)) }

// integer is a minimal two's complement INTEGER element (X.690 8.3).
func integer(id string, v int64) []byte {
	var b []byte
	for {
		b = append([]byte{byte(v)}, b...)
		if v >= -128 && v < 128 {
			break
		}
		v >>= 8
	}
	return enc(id, b)
}

// OBJECT IDENTIFIER contents.
var (
	oidMMSContext = h("28 ca 22 02 03") // 1.0.9506.2.3 MMS application context
	oidMMSSyntax  = h("28 ca 22 02 01") // 1.0.9506.2.1 MMS abstract syntax
	oidACSESyntax = h("52 01 00 01")    // 2.2.1.0.1 ACSE abstract syntax
	oidBER        = h("51 01")          // 2.1.1 basic encoding rules
)

// objName is ObjectName domain-specific [1] { domainId, itemId }, or
// vmd-specific [0] when domain is "".
func objName(domain, item string) []byte {
	if domain == "" {
		return str("80", item)
	}
	return enc("a1", str("1a", domain), str("1a", item))
}

// listOfVariable is VariableAccessSpecification listOfVariable [0] with
// one name [0] per object.
func listOfVariable(names ...[2]string) []byte {
	var items [][]byte
	for _, n := range names {
		items = append(items, enc("30", enc("a0", objName(n[0], n[1]))))
	}
	return enc("a0", items...)
}

func fileName(parts ...string) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, str("19", p)...)
	}
	return out
}

// confReq is a Confirmed-RequestPDU; service is the whole service
// element.
func confReq(invokeID int64, service []byte) []byte {
	return enc("a0", integer("02", invokeID), service)
}

// confResp is a Confirmed-ResponsePDU.
func confResp(invokeID int64, service []byte) []byte {
	return enc("a1", integer("02", invokeID), service)
}

// confErr is a Confirmed-ErrorPDU with ServiceError class and code.
func confErr(invokeID int64, class, code int) []byte {
	return enc("a2", integer("80", invokeID), enc("a2", enc("a0", integer(hex.EncodeToString([]byte{0x80 | byte(class)}), int64(code)))))
}

// initiateRequest is an Initiate-RequestPDU as IEC 61850 clients send it:
// localDetailCalling 65000, 5 and 5 outstanding requests, nesting 10,
// version 1, parameter CBB str1 str2 vnam valt vlis, and services.
func initiateRequest() []byte {
	return enc("a8", integer("80", 65000), integer("81", 5), integer("82", 5), integer("83", 10),
		enc("a4", integer("80", 1), enc("81", h("05 f1 00")), enc("82", h("03 ee 1c 00 00 04 08 00 00 79 ef 18"))))
}

func initiateResponse() []byte {
	return enc("a9", integer("80", 65000), integer("81", 5), integer("82", 5), integer("83", 4),
		enc("a4", integer("80", 1), enc("81", h("05 f1 00")), enc("82", h("03 ee 1c 00 00 04 08 00 00 79 ef 18"))))
}

// userInfo is ACSE user-information [30] holding one EXTERNAL with the
// MMS PDU as single-ASN1-type, presentation context 3.
func userInfo(pdu []byte) []byte {
	return enc("be", enc("28", integer("02", 3), enc("a0", pdu)))
}

// aarq is an AARQ with the MMS application context and AP titles
// 1.1.1.999(.1), AE qualifiers 12, and optionally password
// authentication.
func aarq(pdu []byte, password string) []byte {
	parts := [][]byte{
		enc("a1", enc("06", oidMMSContext)),
		enc("a2", enc("06", h("29 01 87 67 01"))), enc("a3", integer("02", 12)),
		enc("a6", enc("06", h("29 01 87 67"))), enc("a7", integer("02", 12)),
	}
	if password != "" {
		parts = append(parts, enc("8a", h("07 80")), enc("8b", h("52 03 01")), enc("ac", str("80", password)))
	}
	parts = append(parts, userInfo(pdu))
	return enc("60", parts...)
}

// aare is an AARE with result and service-user diagnostic.
func aare(result, diag int64, pdu []byte) []byte {
	parts := [][]byte{
		enc("a1", enc("06", oidMMSContext)),
		enc("a2", integer("02", result)),
		enc("a3", enc("a1", integer("02", diag))),
		enc("a4", enc("06", h("29 01 87 67 01"))), enc("a5", integer("02", 12)),
	}
	if pdu != nil {
		parts = append(parts, userInfo(pdu))
	}
	return enc("61", parts...)
}

// pdv is fully encoded user data with one PDV-list.
func pdv(ctxID int64, value []byte) []byte {
	return enc("61", enc("30", integer("02", ctxID), enc("a0", value)))
}

// cp is a CP-type PPDU: normal mode, selectors 0x00000001, contexts 1
// (ACSE) and 3 (MMS), and the AARQ.
func cp(aarq []byte) []byte {
	ctxdef := func(id int64, oid []byte) []byte {
		return enc("30", integer("02", id), enc("06", oid), enc("30", enc("06", oidBER)))
	}
	return enc("31", enc("a0", integer("80", 1)),
		enc("a2", enc("81", h("00000001")), enc("82", h("00000001")),
			enc("a4", ctxdef(1, oidACSESyntax), ctxdef(3, oidMMSSyntax)),
			pdv(1, aarq)))
}

// cpa is a CPA-PPDU accepting both contexts, with the AARE.
func cpa(aare []byte) []byte {
	res := enc("30", integer("80", 0), enc("81", oidBER))
	return enc("31", enc("a0", integer("80", 1)),
		enc("a2", enc("83", h("00000001")), enc("a5", res, res), pdv(1, aare)))
}

// param is a session PI or PGI unit.
func param(code byte, val []byte) []byte {
	if len(val) < 0xff {
		return append([]byte{code, byte(len(val))}, val...)
	}
	return append([]byte{code, 0xff, byte(len(val) >> 8), byte(len(val))}, val...)
}

// spdu is an SPDU with its parameter field.
func spdu(si byte, params ...[]byte) []byte {
	p := cat(params...)
	if len(p) < 0xff {
		return append([]byte{si, byte(len(p))}, p...)
	}
	return append([]byte{si, 0xff, byte(len(p) >> 8), byte(len(p))}, p...)
}

// connectSPDU is a CONNECT: connect/accept item (protocol options 0,
// version 2), session requirements duplex, selectors 0x0001, user data.
func connectSPDU(userData []byte) []byte {
	return spdu(13, param(5, cat(param(19, h("00")), param(22, h("02")))), param(20, h("0002")),
		param(51, h("0001")), param(52, h("0001")), param(193, userData))
}

func acceptSPDU(userData []byte) []byte {
	return spdu(14, param(5, cat(param(19, h("00")), param(22, h("02")))), param(20, h("0002")),
		param(52, h("0001")), param(193, userData))
}

// dataTSDU is GIVE TOKENS + DATA TRANSFER with an MMS PDU in context 3.
func dataTSDU(pdu []byte) []byte { return cat(h("01 00 01 00"), pdv(3, pdu)) }

// Session set-up and release, as TSDUs.
var (
	connectTSDU = connectSPDU(cp(aarq(initiateRequest(), "")))
	acceptTSDU  = acceptSPDU(cpa(aare(0, 0, initiateResponse())))
	// conclude-RequestPDU [11] NULL and conclude-ResponsePDU [12] NULL.
	concludeReq  = dataTSDU(h("8b 00"))
	concludeResp = dataTSDU(h("8c 00"))
	// FINISH with RLRQ (reason normal) and DISCONNECT with RLRE.
	finishTSDU     = spdu(9, param(193, pdv(1, enc("62", integer("80", 0)))))
	disconnectTSDU = spdu(10, param(193, pdv(1, enc("63", integer("80", 0)))))
)

// frames wraps a TSDU in TPKT frames carrying COTP DT TPDUs of at most
// max user data octets each (ISO 8073 13.7, class 0: LI 2, F0,
// EOT|number), EOT on the last.
func frames(tsdu []byte, max int) []byte {
	var out []byte
	for {
		n := min(len(tsdu), max)
		eot := byte(0)
		if n == len(tsdu) {
			eot = 0x80
		}
		f := make([]byte, 7, 7+n)
		f[0] = 3
		binary.BigEndian.PutUint16(f[2:], uint16(7+n))
		f[4], f[5], f[6] = 2, 0xf0, eot
		out = append(out, append(f, tsdu[:n]...)...)
		tsdu = tsdu[n:]
		if eot != 0 {
			return out
		}
	}
}

// COTP CR and CC (ISO 8073 13.3, 13.4): class 0, TPDU size 2^10, calling
// and called TSAP 0x0001 as IEC 61850 stacks use them.
var (
	crFrame = h("03 00 0016 11 e0 0000 0001 00 c0 01 0a c1 02 0001 c2 02 0001")
	ccFrame = h("03 00 0016 11 d0 0001 0002 00 c0 01 0a c1 02 0001 c2 02 0001")
)

package goose

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"
)

// Frame header shared by GOOSE, GSE management and Sampled Values
// (IEC 61850-8-1 Annex C, IEC 61850-9-2 8.5.2), big-endian:
//
//	0       2        4           6           8
//	| APPID | Length | Reserved1 | Reserved2 | APDU ...
//
// Length counts from the APPID to the end of the APDU; what follows it in
// the frame is Ethernet padding. Bit 15 of Reserved1 is the simulation
// bit of IEC 61850-8-1 Ed.2 / 9-2 Ed.2.
const (
	headerLen = 8
	simBit    = 0x8000
)

// header is the decoded frame header.
type header struct {
	appid, length, reserved1, reserved2 uint16
}

// parseHeader decodes the header and returns the APDU it delimits.
func parseHeader(b []byte) (h header, apdu []byte, err error) {
	if len(b) < headerLen {
		return h, nil, errShortHeader
	}
	h = header{
		appid:     binary.BigEndian.Uint16(b),
		length:    binary.BigEndian.Uint16(b[2:]),
		reserved1: binary.BigEndian.Uint16(b[4:]),
		reserved2: binary.BigEndian.Uint16(b[6:]),
	}
	if h.length < headerLen || int(h.length) > len(b) {
		return h, nil, errHeaderLen
	}
	return h, b[headerLen:h.length], nil
}

// APDU tags: GOOSEpdu ::= CHOICE { gseMngtPdu [APPLICATION 0], goosePdu
// [APPLICATION 1] } (IEC 61850-8-1 Annex A), and the Sampled Values
// savPdu [APPLICATION 0] (IEC 61850-9-2 8.5.1), all constructed.
const (
	tagGSEMngtPDU = classApplication | constructed | 0
	tagGoosePDU   = classApplication | constructed | 1
	tagSavPDU     = classApplication | constructed | 0
)

// IECGoosePdu fields, by context tag (IEC 61850-8-1 Annex A).
const (
	fGocbRef  = 0  // VisibleString
	fTTL      = 1  // timeAllowedtoLive INTEGER, milliseconds
	fDatSet   = 2  // VisibleString
	fGoID     = 3  // VisibleString OPTIONAL
	fT        = 4  // UtcTime
	fStNum    = 5  // INTEGER
	fSqNum    = 6  // INTEGER
	fTest     = 7  // BOOLEAN DEFAULT FALSE: "test" in Ed.1, "simulation" in Ed.2
	fConfRev  = 8  // INTEGER
	fNdsCom   = 9  // BOOLEAN DEFAULT FALSE
	fEntries  = 10 // numDatSetEntries INTEGER
	fAllData  = 11 // SEQUENCE OF Data
	fSecurity = 12 // ANY OPTIONAL, reserved
)

// mandatory are the fields without OPTIONAL or DEFAULT.
const mandatory = 1<<fGocbRef | 1<<fTTL | 1<<fDatSet | 1<<fT | 1<<fStNum | 1<<fSqNum |
	1<<fConfRev | 1<<fEntries | 1<<fAllData

// goosePDU is a decoded IECGoosePdu. Its slices point into the frame.
type goosePDU struct {
	gocbRef, datSet, goID, t, allData []byte
	ttl, stNum, sqNum, confRev        uint32
	entries                           uint32 // numDatSetEntries
	count                             int    // elements of allData
	test, ndsCom                      bool
	seen                              uint16 // bit per field tag decoded
}

// parseGoose decodes a goosePdu (the APDU bytes, tag 0x61 included). It
// stops at the first violation; fields decoded until then stay in p. A
// soft violation (entries mismatch) leaves every field decoded.
func parseGoose(apdu []byte, p *goosePDU) error {
	*p = goosePDU{}
	e, _, err := next(apdu)
	if err != nil {
		return err
	}
	if e.id != tagGoosePDU {
		return errAPDU
	}
	b := e.val
	last := -1
	for len(b) > 0 {
		f, rest, err := next(b)
		if err != nil {
			return err
		}
		b = rest
		if f.class() != classContext {
			return errFieldClass
		}
		if f.tag > fSecurity {
			return errFieldClass
		}
		if int(f.tag) <= last {
			return errOrder
		}
		last = int(f.tag)
		if f.tag != fSecurity && f.constructed() != (f.tag == fAllData) {
			return errEncoding
		}
		switch f.tag {
		case fGocbRef:
			p.gocbRef = f.val
		case fDatSet:
			p.datSet = f.val
		case fGoID:
			p.goID = f.val
		case fT:
			if len(f.val) != 8 {
				return errFieldSize
			}
			p.t = f.val
		case fTTL, fStNum, fSqNum, fConfRev, fEntries:
			v, err := unsigned32(f.val)
			if err != nil {
				return err
			}
			switch f.tag {
			case fTTL:
				p.ttl = v
			case fStNum:
				p.stNum = v
			case fSqNum:
				p.sqNum = v
			case fConfRev:
				p.confRev = v
			default:
				p.entries = v
			}
		case fTest, fNdsCom:
			if len(f.val) != 1 {
				return errFieldSize
			}
			if f.tag == fTest {
				p.test = f.val[0] != 0
			} else {
				p.ndsCom = f.val[0] != 0
			}
		case fAllData:
			n, err := checkData(f.val, 0)
			if err != nil {
				return err
			}
			p.allData, p.count = f.val, n
		}
		p.seen |= 1 << f.tag
	}
	if missing := mandatory &^ p.seen; missing != 0 {
		for i := range errMissing {
			if missing&(1<<i) != 0 && errMissing[i] != nil {
				return errMissing[i]
			}
		}
	}
	if uint64(p.count) != uint64(p.entries) {
		return errEntries
	}
	return nil
}

// Data CHOICE tags (IEC 61850-8-1 Annex A, after ISO 9506-2 MMS Data).
const (
	dArray         = 1
	dStructure     = 2
	dBoolean       = 3
	dBitString     = 4
	dInteger       = 5
	dUnsigned      = 6
	dFloatingPoint = 7
	dReal          = 8
	dOctetString   = 9
	dVisibleString = 10
	dBinaryTime    = 12
	dBCD           = 13
	dBooleanArray  = 14
	dObjID         = 15
	dMMSString     = 16
	dUTCTime       = 17
)

// maxDepth bounds how deep arrays and structures are checked and shown;
// deeper content is taken as opaque.
const maxDepth = 16

// checkData walks a SEQUENCE OF Data, checking every element's tag, form
// and size, and returns how many elements it holds.
func checkData(b []byte, depth int) (int, error) {
	n := 0
	for len(b) > 0 {
		e, rest, err := next(b)
		if err != nil {
			return n, err
		}
		b = rest
		n++
		if e.class() != classContext || e.tag == 0 {
			return n, errData
		}
		if e.tag == dArray || e.tag == dStructure {
			if !e.constructed() {
				return n, errData
			}
			if depth < maxDepth {
				if _, err := checkData(e.val, depth+1); err != nil {
					return n, err
				}
			}
			continue
		}
		if e.constructed() || !dataSizeOK(e.tag, e.val) {
			return n, errData
		}
	}
	return n, nil
}

// dataSizeOK reports whether a primitive Data element's contents have a
// size its type allows (IEC 61850-8-1 8.1.3, table of MMS encodings).
func dataSizeOK(tag uint32, v []byte) bool {
	switch tag {
	case dBoolean:
		return len(v) == 1
	case dBitString, dBooleanArray:
		// First octet: unused bits in the last octet (X.690 8.6.2). An
		// empty bit string with a non-zero first octet (8.6.2.3) is
		// tolerated, as tshark does.
		return len(v) >= 1 && v[0] <= 7
	case dInteger, dUnsigned, dBCD:
		return len(v) >= 1
	case dFloatingPoint:
		// Exponent width octet, then IEEE 754 single (5) or double (9).
		return len(v) == 5 || len(v) == 9
	case dBinaryTime:
		return len(v) == 4 || len(v) == 6
	case dUTCTime:
		return len(v) == 8
	}
	return true
}

// detailMax is the length at which a data summary is cut.
const detailMax = 240

// appendData appends a short rendering of a checked SEQUENCE OF Data:
// values separated by ", ", structures in braces, arrays in brackets.
func appendData(dst, b []byte, depth int) []byte {
	first := true
	for len(b) > 0 {
		e, rest, err := next(b)
		if err != nil {
			return dst
		}
		b = rest
		if !first {
			dst = append(dst, ", "...)
		}
		first = false
		if len(dst) >= detailMax {
			return append(dst, "..."...)
		}
		dst = appendValue(dst, &e, depth)
	}
	return dst
}

// appendValue renders one Data element.
func appendValue(dst []byte, e *element, depth int) []byte {
	v := e.val
	switch e.tag {
	case dArray, dStructure:
		open, close := byte('['), byte(']')
		if e.tag == dStructure {
			open, close = '{', '}'
		}
		dst = append(dst, open)
		if depth < maxDepth {
			dst = appendData(dst, v, depth+1)
		} else {
			dst = append(dst, "..."...)
		}
		return append(dst, close)
	case dBoolean:
		return strconv.AppendBool(dst, v[0] != 0)
	case dBitString, dBooleanArray:
		bits := max((len(v)-1)*8-int(v[0]), 0)
		if bits > 32 {
			return appendHex(append(dst, "0x"...), v[1:])
		}
		dst = append(dst, "0b"...)
		for i := range bits {
			dst = append(dst, '0'+(v[1+i/8]>>(7-i%8))&1)
		}
		return dst
	case dInteger, dBCD:
		if n, ok := integer(v); ok {
			return strconv.AppendInt(dst, n, 10)
		}
		return appendHex(append(dst, "0x"...), v)
	case dUnsigned:
		if len(v) <= 9 && (len(v) < 9 || v[0] == 0) {
			var n uint64
			for _, c := range v {
				n = n<<8 | uint64(c)
			}
			return strconv.AppendUint(dst, n, 10)
		}
		return appendHex(append(dst, "0x"...), v)
	case dFloatingPoint:
		if len(v) == 5 {
			return strconv.AppendFloat(dst, float64(math.Float32frombits(binary.BigEndian.Uint32(v[1:]))), 'g', -1, 32)
		}
		return strconv.AppendFloat(dst, math.Float64frombits(binary.BigEndian.Uint64(v[1:])), 'g', -1, 64)
	case dVisibleString, dMMSString:
		if len(v) > 64 {
			return append(strconv.AppendQuote(dst, string(v[:64])), "..."...)
		}
		return strconv.AppendQuote(dst, string(v))
	case dOctetString:
		return appendHex(append(dst, "0x"...), v)
	case dUTCTime:
		return appendUTC(dst, v)
	case dReal:
		return append(dst, "real"...)
	case dBinaryTime:
		return append(dst, "binary-time"...)
	case dObjID:
		return append(dst, "objId"...)
	}
	return append(dst, '?')
}

// appendHex appends up to 16 octets in hex.
func appendHex(dst, v []byte) []byte {
	const digits = "0123456789abcdef"
	for i, c := range v {
		if i == 16 {
			return append(dst, "..."...)
		}
		dst = append(dst, digits[c>>4], digits[c&15])
	}
	return dst
}

// appendUTC renders a UtcTime (IEC 61850-8-1 8.1.3.7): seconds since
// 1970-01-01 UTC (4 octets), fraction of a second in units of 2^-24
// (3 octets), time quality (1 octet).
func appendUTC(dst, v []byte) []byte {
	sec := int64(binary.BigEndian.Uint32(v))
	frac := uint64(v[4])<<16 | uint64(v[5])<<8 | uint64(v[6])
	ns := int64(frac * 1e9 >> 24)
	return time.Unix(sec, ns).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z")
}

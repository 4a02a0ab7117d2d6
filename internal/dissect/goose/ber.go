package goose

// A violation is one way a frame breaks IEC 61850-8-1 / 9-2 or the BER
// rules they use. Code is the operation's "violation" attribute, the error
// text its result text. Violations are package-level values: reporting one
// does not allocate.
type violation struct {
	code, text string
	// soft is set for a frame whose every field decoded: the operation
	// carries all attributes and the publisher's state is still updated.
	soft bool
}

func (v *violation) Error() string { return v.text }

// Violations (the attribute value, then the sentence).
var (
	errShortHeader = &violation{code: "short_header", text: "goose: frame shorter than the 8-byte APPID/length/reserved header"}
	errHeaderLen   = &violation{code: "bad_length", text: "goose: header length below 8 or past the end of the frame"}
	errAPDU        = &violation{code: "unknown_apdu", text: "goose: APDU is not a goosePdu (0x61) or gseMngtPdu (0x60)"}
	errTruncated   = &violation{code: "ber_truncated", text: "goose: BER element runs past its container"}
	errIndefinite  = &violation{code: "ber_indefinite_length", text: "goose: BER indefinite length (definite lengths only)"}
	errLongLength  = &violation{code: "ber_length", text: "goose: BER length of more than 4 octets"}
	errBigTag      = &violation{code: "ber_tag", text: "goose: BER tag number too large"}
	errOrder       = &violation{code: "field_order", text: "goose: goosePdu fields out of order or repeated"}
	errFieldClass  = &violation{code: "unexpected_element", text: "goose: element that is not a context-specific field"}
	errEncoding    = &violation{code: "field_encoding", text: "goose: field constructed where primitive is required, or the reverse"}
	errFieldSize   = &violation{code: "field_size", text: "goose: field of impossible size (BOOLEAN not 1 octet, INTEGER empty or over 8 octets, UtcTime not 8 octets)"}
	errRange       = &violation{code: "value_range", text: "goose: INTEGER field outside 0..4294967295"}
	errData        = &violation{code: "bad_data", text: "goose: allData element with a wrong tag, class or size"}
	errEntries     = &violation{code: "entries_mismatch", text: "goose: numDatSetEntries differs from the number of allData elements", soft: true}
	errSimulation  = &violation{code: "simulation_mismatch", text: "goose: reserved1 simulation bit set but the simulation field clear (IEC 61850-8-1 Ed.2)", soft: true}
	errMissing     = [...]*violation{
		fGocbRef:  {code: "missing_gocbref", text: "goose: goosePdu without gocbRef"},
		fTTL:      {code: "missing_ttl", text: "goose: goosePdu without timeAllowedtoLive"},
		fDatSet:   {code: "missing_datset", text: "goose: goosePdu without datSet"},
		fT:        {code: "missing_t", text: "goose: goosePdu without t"},
		fStNum:    {code: "missing_stnum", text: "goose: goosePdu without stNum"},
		fSqNum:    {code: "missing_sqnum", text: "goose: goosePdu without sqNum"},
		fConfRev:  {code: "missing_confrev", text: "goose: goosePdu without confRev"},
		fEntries:  {code: "missing_numdatsetentries", text: "goose: goosePdu without numDatSetEntries"},
		fAllData:  {code: "missing_alldata", text: "goose: goosePdu without allData"},
		fGoID:     nil,
		fTest:     nil,
		fNdsCom:   nil,
		fSecurity: nil,
	}
)

// BER identifier octet (ITU-T X.690 8.1.2): class in bits 8-7, constructed
// in bit 6, tag number in bits 5-1 (31: more octets follow).
const (
	classUniversal   = 0x00
	classApplication = 0x40
	classContext     = 0x80
	constructed      = 0x20
)

// element is one decoded BER TLV.
type element struct {
	id  byte   // identifier octet: class | constructed | low tag bits
	tag uint32 // tag number
	val []byte // contents
}

func (e *element) class() byte       { return e.id & 0xc0 }
func (e *element) constructed() bool { return e.id&constructed != 0 }
func (e *element) context(n uint32) bool {
	return e.id&0xc0 == classContext && e.tag == n
}

// next reads the TLV at the start of b (X.690 8.1) and returns the bytes
// after it. Lengths are definite, in at most 4 octets.
func next(b []byte) (e element, rest []byte, err error) {
	if len(b) < 2 {
		return e, nil, errTruncated
	}
	e.id = b[0]
	e.tag = uint32(b[0] & 0x1f)
	i := 1
	if e.tag == 0x1f {
		e.tag = 0
		for {
			if i >= len(b) {
				return e, nil, errTruncated
			}
			c := b[i]
			i++
			if e.tag >= 1<<24 {
				return e, nil, errBigTag
			}
			e.tag = e.tag<<7 | uint32(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return e, nil, errTruncated
	}
	n := int(b[i])
	i++
	switch {
	case n == 0x80:
		return e, nil, errIndefinite
	case n > 0x80:
		k := n & 0x7f
		if k > 4 {
			return e, nil, errLongLength
		}
		if len(b)-i < k {
			return e, nil, errTruncated
		}
		n = 0
		for _, c := range b[i : i+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if n > len(b)-i {
		return e, nil, errTruncated
	}
	e.val = b[i : i+n]
	return e, b[i+n:], nil
}

// integer decodes a BER INTEGER of 1 to 8 octets (X.690 8.3).
func integer(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 8 {
		return 0, false
	}
	n := int64(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, true
}

// unsigned32 decodes a BER INTEGER that IEC 61850 types INT32U (stNum,
// sqNum, confRev, timeAllowedtoLive, numDatSetEntries).
func unsigned32(v []byte) (uint32, error) {
	n, ok := integer(v)
	if !ok {
		return 0, errFieldSize
	}
	if n < 0 || n > 1<<32-1 {
		return 0, errRange
	}
	return uint32(n), nil
}

package mms

// BER (ITU-T X.690 section 8.1) as MMS, ACSE and the presentation layer
// use it: definite lengths only (X.690 8.1.3.6 allows the indefinite form
// for constructed encodings; the ISO stacks in the field do not send it
// and it is reported as malformed).

// Tag classes (X.690 section 8.1.2.2, table 1).
const (
	classUniversal   = 0
	classApplication = 1
	classContext     = 2
)

// Universal tags used here (X.680 section 8.4, table 1).
const (
	tagBoolean     = 1
	tagInteger     = 2
	tagBitString   = 3
	tagOctetString = 4
	tagNull        = 5
	tagOID         = 6
	tagExternal    = 8
	tagSequence    = 16
	tagSet         = 17
	tagGraphic     = 25 // GraphicString: FileName components
	tagVisible     = 26 // VisibleString: Identifier
)

// tlv is one BER element. val points into the parsed bytes.
type tlv struct {
	class uint8
	cons  bool
	tag   uint32
	val   []byte
}

// is reports whether t has the given class, form and tag number.
func (t *tlv) is(class uint8, cons bool, tag uint32) bool {
	return t.class == class && t.cons == cons && t.tag == tag
}

// ctx reports whether t is a context-specific element with tag n, of
// either form.
func (t *tlv) ctx(n uint32) bool { return t.class == classContext && t.tag == n }

// next reads the BER element at the start of b into t and returns the
// bytes after it. ok is false when b does not hold a whole element.
func next(b []byte, t *tlv) (rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, false
	}
	id := b[0]
	t.class, t.cons = id>>6, id&0x20 != 0
	t.tag = uint32(id & 0x1f)
	i := 1
	if t.tag == 0x1f {
		// High tag number form (X.690 8.1.2.4): base-128 digits, at most
		// four of them here (MMS goes up to 79).
		t.tag = 0
		for n := 0; ; n++ {
			if i >= len(b) || n == 4 {
				return nil, false
			}
			c := b[i]
			i++
			t.tag = t.tag<<7 | uint32(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return nil, false
	}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 3 {
			return nil, false // indefinite, or longer than any TSDU
		}
		if i+n > len(b) {
			return nil, false
		}
		l = 0
		for _, c := range b[i : i+n] {
			l = l<<8 | int(c)
		}
		i += n
	}
	if l > len(b)-i {
		return nil, false
	}
	t.val = b[i : i+l]
	return b[i+l:], true
}

// one reads the single element b should hold.
func one(b []byte, t *tlv) bool {
	_, ok := next(b, t)
	return ok
}

// uintVal decodes a non-negative INTEGER (X.690 8.3) that fits 32 bits.
func uintVal(v []byte) (uint32, bool) {
	if len(v) == 0 || len(v) > 5 || v[0]&0x80 != 0 || len(v) == 5 && v[0] != 0 {
		return 0, false
	}
	var n uint32
	for _, c := range v {
		n = n<<8 | uint32(c)
	}
	return n, true
}

// intVal decodes an INTEGER that fits 64 bits, two's complement.
func intVal(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 8 {
		return 0, false
	}
	n := int64(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, true
}

// appendOID appends the dotted form of an OBJECT IDENTIFIER's contents
// (X.690 8.19) to dst, or returns dst unchanged and false when malformed.
func appendOID(dst, v []byte) ([]byte, bool) {
	if len(v) == 0 || v[len(v)-1]&0x80 != 0 {
		return dst, false
	}
	start := len(dst)
	first := true
	var n uint64
	for _, c := range v {
		n = n<<7 | uint64(c&0x7f)
		if n > 1<<56 {
			return dst[:start], false
		}
		if c&0x80 != 0 {
			continue
		}
		if first {
			first = false
			switch {
			case n < 40:
				dst = append(dst, '0', '.')
			case n < 80:
				dst = append(dst, '1', '.')
				n -= 40
			default:
				dst = append(dst, '2', '.')
				n -= 80
			}
		} else {
			dst = append(dst, '.')
		}
		dst = appendUint(dst, n)
		n = 0
	}
	return dst, true
}

func appendUint(dst []byte, n uint64) []byte {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

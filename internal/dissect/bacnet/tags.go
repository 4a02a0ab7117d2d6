package bacnet

import (
	"encoding/binary"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Application tag numbers (clause 20.2.1.4).
const (
	tagNull            = 0
	tagBoolean         = 1
	tagUnsigned        = 2
	tagSigned          = 3
	tagReal            = 4
	tagDouble          = 5
	tagOctetString     = 6
	tagCharacterString = 7
	tagBitString       = 8
	tagEnumerated      = 9
	tagDate            = 10
	tagTime            = 11
	tagObjectID        = 12
)

// tag is one decoded tag header (clause 20.2.1).
type tag struct {
	num     uint32 // tag number
	context bool   // context specific class
	open    bool   // opening tag (context class, LVT 6)
	close   bool   // closing tag (context class, LVT 7)
	length  uint32 // value length; the value itself for an application boolean
	hdr     int    // header length in bytes
}

// value returns the bytes of the tag's value from b (which starts at the
// tag) and the offset after it; ok is false when b is too short.
func (t tag) value(b []byte) (v []byte, next int, ok bool) {
	if t.open || t.close || (!t.context && t.num == tagBoolean) {
		return nil, t.hdr, true
	}
	end := uint64(t.hdr) + uint64(t.length)
	if end > uint64(len(b)) {
		return nil, 0, false
	}
	return b[t.hdr:end], int(end), true
}

// readTag decodes the tag header at the start of b.
func readTag(b []byte) (t tag, ok bool) {
	if len(b) == 0 {
		return t, false
	}
	h := b[0]
	t.num = uint32(h >> 4)
	t.context = h&0x08 != 0
	lvt := uint32(h & 0x07)
	n := 1
	if t.num == 15 {
		if len(b) < 2 {
			return t, false
		}
		t.num = uint32(b[1])
		n = 2
	}
	switch {
	case t.context && lvt == 6:
		t.open = true
	case t.context && lvt == 7:
		t.close = true
	case lvt == 5:
		if len(b) < n+1 {
			return t, false
		}
		l := uint32(b[n])
		n++
		switch l {
		case 254:
			if len(b) < n+2 {
				return t, false
			}
			l = uint32(binary.BigEndian.Uint16(b[n:]))
			n += 2
		case 255:
			if len(b) < n+4 {
				return t, false
			}
			l = binary.BigEndian.Uint32(b[n:])
			n += 4
		}
		lvt = l
	}
	if !t.open && !t.close {
		t.length = lvt
	}
	t.hdr = n
	return t, true
}

// unsigned decodes a big-endian unsigned value of 1 to 4 bytes (clause
// 20.2.4).
func unsigned(v []byte) (uint32, bool) {
	if len(v) == 0 || len(v) > 4 {
		return 0, false
	}
	var u uint32
	for _, c := range v {
		u = u<<8 | uint32(c)
	}
	return u, true
}

// objectID splits a 4-byte object identifier (clause 20.2.14) into its
// 10-bit type and 22-bit instance.
func objectID(v []byte) (typ uint16, inst uint32, ok bool) {
	if len(v) != 4 {
		return 0, 0, false
	}
	u := binary.BigEndian.Uint32(v)
	return uint16(u >> 22), u & 0x3fffff, true
}

// reader walks the tagged values of a service request or ack.
type reader struct {
	b   []byte
	off int
	bad bool
}

// peek returns the next tag without consuming it.
func (r *reader) peek() (tag, bool) {
	if r.bad || r.off >= len(r.b) {
		return tag{}, false
	}
	return readTag(r.b[r.off:])
}

// next consumes the next tag and returns it with its value.
func (r *reader) next() (tag, []byte, bool) {
	t, ok := r.peek()
	if !ok {
		if r.off < len(r.b) {
			r.bad = true
		}
		return t, nil, false
	}
	v, n, ok := t.value(r.b[r.off:])
	if !ok {
		r.bad = true
		return t, nil, false
	}
	r.off += n
	return t, v, true
}

// context consumes a context tag numbered num and returns its value; ok is
// false, and nothing is consumed, when the next tag is another one.
func (r *reader) context(num uint32) ([]byte, bool) {
	t, ok := r.peek()
	if !ok || !t.context || t.open || t.close || t.num != num {
		return nil, false
	}
	_, v, ok := r.next()
	return v, ok
}

// contextUnsigned reads an unsigned context tag numbered num.
func (r *reader) contextUnsigned(num uint32) (uint32, bool) {
	v, ok := r.context(num)
	if !ok {
		return 0, false
	}
	return unsigned(v)
}

// app consumes an application tag numbered num and returns its value.
func (r *reader) app(num uint32) ([]byte, bool) {
	t, ok := r.peek()
	if !ok || t.context || t.num != num {
		return nil, false
	}
	_, v, ok := r.next()
	return v, ok
}

// opening consumes the opening tag num; ok is false when the next tag is
// another one.
func (r *reader) opening(num uint32) bool {
	t, ok := r.peek()
	if !ok || !t.open || t.num != num {
		return false
	}
	r.off += t.hdr
	return true
}

// closing consumes the closing tag num.
func (r *reader) closing(num uint32) bool {
	t, ok := r.peek()
	if !ok || !t.close || t.num != num {
		return false
	}
	r.off += t.hdr
	return true
}

// skipTo consumes tags up to and including the closing tag num at the
// current nesting depth. It reports false when the data ends first.
func (r *reader) skipTo(num uint32) bool {
	depth := 0
	for {
		t, _, ok := r.next()
		if !ok {
			return false
		}
		switch {
		case t.open:
			depth++
		case t.close && depth == 0:
			return t.num == num
		case t.close:
			depth--
		}
	}
}

// done reports whether every byte was consumed without error.
func (r *reader) done() bool { return !r.bad && r.off == len(r.b) }

// characterString decodes a CharacterString value (clause 20.2.9): its
// first byte is the character set. The result is valid UTF-8 without
// control characters; ok is false for an unknown character set.
func characterString(v []byte) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	set, s := v[0], v[1:]
	var b strings.Builder
	switch set {
	case 0: // ISO 10646 UTF-8 (ANSI X3.4 before 135-2008)
		for len(s) > 0 {
			r, n := utf8.DecodeRune(s)
			s = s[n:]
			putRune(&b, r)
		}
	case 4: // ISO 10646 UCS-2, big endian
		for len(s) >= 2 {
			u := binary.BigEndian.Uint16(s)
			s = s[2:]
			if utf16.IsSurrogate(rune(u)) {
				putRune(&b, utf8.RuneError)
				continue
			}
			putRune(&b, rune(u))
		}
	case 3: // ISO 10646 UCS-4, big endian
		for len(s) >= 4 {
			putRune(&b, rune(binary.BigEndian.Uint32(s)))
			s = s[4:]
		}
	case 5: // ISO 8859-1
		for _, c := range s {
			putRune(&b, rune(c))
		}
	default: // IBM/Microsoft DBCS (1), JIS X 0208 (2): not decoded
		return "", false
	}
	return strings.TrimSpace(b.String()), true
}

func putRune(b *strings.Builder, r rune) {
	switch {
	case r == 0:
		return
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || !utf8.ValidRune(r):
		r = utf8.RuneError
	}
	b.WriteRune(r)
}

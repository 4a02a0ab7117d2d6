package cip

import (
	"encoding/binary"
	"errors"
)

// Errors of the parsers. They are sentinels so that a bad packet costs no
// allocation.
var (
	ErrShort      = errors.New("cip: message too short")
	ErrBadSegment = errors.New("cip: bad path segment")
	ErrBadCount   = errors.New("cip: bad item count or offset")
)

// SegmentKind says what one EPATH segment is.
type SegmentKind uint8

// Segment kinds (Volume 1 appendix C-1.4).
const (
	SegOther           SegmentKind = iota // a segment parsed only for its length
	SegPort                               // port segment: Port, Link
	SegClass                              // logical class id: Value
	SegInstance                           // logical instance id: Value
	SegMember                             // logical member id (array element): Value
	SegConnectionPoint                    // logical connection point: Value
	SegAttribute                          // logical attribute id: Value
	SegElectronicKey                      // logical special segment (electronic key)
	SegServiceID                          // logical service id: Value
	SegSymbol                             // symbolic or ANSI extended symbol segment: Symbol
	SegData                               // simple data segment
	SegNetwork                            // network segment
)

// Segment is one segment of an EPATH. Symbol and Link point into the path.
type Segment struct {
	Kind   SegmentKind
	Value  uint32
	Port   uint16
	Link   []byte
	Symbol []byte
}

var logicalKinds = [8]SegmentKind{SegClass, SegInstance, SegMember, SegConnectionPoint, SegAttribute, SegElectronicKey, SegServiceID, SegOther}

// NextSegment parses the first segment of a padded EPATH (the form used by
// Message Router requests, appendix C-1.2) and returns it with its length
// in bytes.
func NextSegment(p []byte) (Segment, int, error) {
	var s Segment
	if len(p) == 0 {
		return s, 0, ErrShort
	}
	t := p[0]
	switch t >> 5 {
	case 0: // port segment, C-1.4.2
		s.Kind = SegPort
		s.Port = uint16(t & 0x0F)
		n := 1
		linkLen := 1
		if t&0x10 != 0 {
			if len(p) < 2 {
				return s, 0, ErrShort
			}
			linkLen = int(p[1])
			n = 2
		}
		if s.Port == 0x0F {
			if len(p) < n+2 {
				return s, 0, ErrShort
			}
			s.Port = binary.LittleEndian.Uint16(p[n:])
			n += 2
		}
		if len(p) < n+linkLen {
			return s, 0, ErrShort
		}
		s.Link = p[n : n+linkLen]
		n += linkLen
		if n%2 == 1 {
			n++ // pad byte
		}
		if n > len(p) {
			n = len(p)
		}
		return s, n, nil
	case 1: // logical segment, C-1.4.3
		kind := logicalKinds[(t>>2)&7]
		s.Kind = kind
		if kind == SegElectronicKey {
			if t&3 != 0 || len(p) < 2 || p[1] != 4 || len(p) < 10 {
				return s, 0, ErrBadSegment
			}
			return s, 10, nil
		}
		switch t & 3 {
		case 0:
			if len(p) < 2 {
				return s, 0, ErrShort
			}
			s.Value = uint32(p[1])
			return s, 2, nil
		case 1:
			if len(p) < 4 {
				return s, 0, ErrShort
			}
			s.Value = uint32(binary.LittleEndian.Uint16(p[2:]))
			return s, 4, nil
		case 2:
			if len(p) < 6 {
				return s, 0, ErrShort
			}
			s.Value = binary.LittleEndian.Uint32(p[2:])
			return s, 6, nil
		}
		return s, 0, ErrBadSegment
	case 2: // network segment, C-1.4.4
		s.Kind = SegNetwork
		if t&0x10 != 0 {
			if len(p) < 2 || len(p) < 2+2*int(p[1]) {
				return s, 0, ErrShort
			}
			return s, 2 + 2*int(p[1]), nil
		}
		if len(p) < 2 {
			return s, 0, ErrShort
		}
		return s, 2, nil
	case 3: // symbolic segment, C-1.4.5
		s.Kind = SegSymbol
		size := int(t & 0x1F)
		if size == 0 {
			return s, 0, ErrBadSegment // extended string formats are not used in request paths
		}
		if len(p) < 1+size {
			return s, 0, ErrShort
		}
		s.Symbol = p[1 : 1+size]
		n := 1 + size
		if n%2 == 1 && n < len(p) {
			n++
		}
		return s, n, nil
	case 4: // data segment, C-1.4.6
		switch t {
		case 0x80: // simple data segment: size in words
			if len(p) < 2 || len(p) < 2+2*int(p[1]) {
				return s, 0, ErrShort
			}
			s.Kind = SegData
			return s, 2 + 2*int(p[1]), nil
		case 0x91: // ANSI extended symbol segment
			if len(p) < 2 || len(p) < 2+int(p[1]) {
				return s, 0, ErrShort
			}
			s.Kind = SegSymbol
			size := int(p[1])
			s.Symbol = p[2 : 2+size]
			n := 2 + size
			if n%2 == 1 && n < len(p) {
				n++
			}
			return s, n, nil
		}
		return s, 0, ErrBadSegment
	}
	return s, 0, ErrBadSegment // data type segments do not occur in request paths
}

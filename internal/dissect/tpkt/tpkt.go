package tpkt

import (
	"encoding/binary"
	"errors"
)

// HeaderLen is the length of the TPKT header: version, reserved, length.
const HeaderLen = 4

// Version is the only TPKT version RFC 1006 defines.
const Version = 3

// MinFrameLen is the shortest useful TPKT frame: the header and a COTP
// length indicator and TPDU code (RFC 1006 section 6 allows 7 as the least
// length of a frame carrying a TPDU).
const MinFrameLen = HeaderLen + 3

// Framing errors.
var (
	// ErrIncomplete means the buffer holds only part of a frame; more bytes
	// are needed. It is not a protocol violation.
	ErrIncomplete = errors.New("tpkt: incomplete frame")
	// ErrVersion means the bytes do not start with a TPKT version 3 header.
	ErrVersion = errors.New("tpkt: not a TPKT version 3 header")
	// ErrLength means the header's length is shorter than a TPDU.
	ErrLength = errors.New("tpkt: frame length too short")
)

// Next returns the COTP bytes of the TPKT frame at the start of b and the
// frame's whole length. It returns ErrIncomplete while b holds less than
// the frame, ErrVersion or ErrLength when b does not start with a frame.
func Next(b []byte) (tpdu []byte, n int, err error) {
	if len(b) < HeaderLen {
		if len(b) > 0 && b[0] != Version || len(b) > 1 && b[1] != 0 {
			return nil, 0, ErrVersion
		}
		return nil, 0, ErrIncomplete
	}
	if b[0] != Version || b[1] != 0 {
		return nil, 0, ErrVersion
	}
	n = int(binary.BigEndian.Uint16(b[2:4]))
	if n < MinFrameLen {
		return nil, 0, ErrLength
	}
	if len(b) < n {
		return nil, 0, ErrIncomplete
	}
	return b[HeaderLen:n], n, nil
}

// Resync returns the offset of the first byte after b[0] where a frame
// may start: a Plausible header, or a version byte too close to the end of
// b to judge. It returns len(b) when there is none. A session uses it to
// skip garbage after lost bytes.
func Resync(b []byte) int {
	for i := 1; i < len(b); i++ {
		if b[i] != Version {
			continue
		}
		r := b[i:]
		if len(r) < HeaderLen+2 {
			if len(r) < 2 || r[1] == 0 {
				return i
			}
			continue
		}
		if Plausible(r) {
			return i
		}
	}
	return len(b)
}

// Plausible reports whether b starts with a TPKT version 3 header of at
// least MinFrameLen bytes followed by a COTP length indicator that fits the
// frame and a known TPDU type.
func Plausible(b []byte) bool {
	if len(b) < HeaderLen+2 || b[0] != Version || b[1] != 0 {
		return false
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	return n >= MinFrameLen && int(b[4]) < n-HeaderLen && validCode(b[5])
}

func validCode(c byte) bool {
	switch Type(c >> 4) {
	case TypeCR, TypeCC, TypeDR, TypeDC, TypeDT, TypeED, TypeAK, TypeEA, TypeRJ, TypeER:
		return true
	}
	return false
}

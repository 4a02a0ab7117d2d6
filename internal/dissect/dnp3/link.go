package dnp3

import "encoding/binary"

// Data link frame (IEEE 1815-2012 clause 9.2.4), little-endian fields:
//
//	0    1    2      3      4     6     8          10
//	| 05 | 64 | len | ctrl | dst | src | hdr CRC | data blocks...
//
// len counts ctrl, dst, src and the user data (not the CRCs), so it is at
// least 5 and at most 255. The user data follows in blocks of 16 bytes
// (the last one shorter), each followed by its own 2-byte CRC.
const (
	startByte0    = 0x05
	startByte1    = 0x64
	linkHeaderLen = 10
	minLength     = 5
	blockLen      = 16
	// maxUserData is the most user data one link frame carries (255 - 5).
	maxUserData = 250
)

// Link control octet (clause 9.2.4.1.3).
const (
	ctrlDIR = 0x80 // sent by the master
	ctrlPRM = 0x40 // primary (initiating) frame
	ctrlFCB = 0x20 // frame count bit (primary)
	ctrlFCV = 0x10 // frame count valid (primary); DFC on secondary frames
	ctrlFC  = 0x0f
)

// Link function codes (clause 9.2.4.1.3, tables 9-1 and 9-2).
const (
	linkResetLinkStates     = 0
	linkResetUserProcess    = 1
	linkTestLinkStates      = 2
	linkConfirmedUserData   = 3
	linkUnconfirmedUserData = 4
	linkRequestLinkStatus   = 9

	linkAck          = 0
	linkNack         = 1
	linkStatus       = 11
	linkNotFunction  = 14
	linkNotSupported = 15
)

var primaryNames = [16]string{
	0: "reset_link_states", 1: "reset_user_process", 2: "test_link_states",
	3: "confirmed_user_data", 4: "unconfirmed_user_data", 9: "request_link_status",
}

var secondaryNames = [16]string{
	0: "ack", 1: "nack", 11: "link_status", 14: "not_functioning", 15: "not_supported",
}

// linkFuncName returns the name of a link function code, primary or
// secondary, or "" for a reserved code.
func linkFuncName(prm bool, fc uint8) string {
	if prm {
		return primaryNames[fc&ctrlFC]
	}
	return secondaryNames[fc&ctrlFC]
}

// crcTable is CRC-16/DNP: polynomial 0x3D65, reflected (0xA6BC), initial
// value 0, final value inverted (clause 9.2.4.1.6 / Annex E).
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i)
		for range 8 {
			if c&1 != 0 {
				c = c>>1 ^ 0xA6BC
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// crc16 returns the CRC-16/DNP of b.
func crc16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c = c>>8 ^ crcTable[byte(c)^x]
	}
	return ^c
}

// crcOK reports whether the 2 bytes of sum (little-endian) are the CRC of b.
func crcOK(b, sum []byte) bool {
	return len(sum) >= 2 && crc16(b) == binary.LittleEndian.Uint16(sum)
}

// frameLen returns the number of bytes a link frame of length field l
// occupies on the wire: header, user data and one CRC per block.
func frameLen(l uint8) int {
	user := int(l) - minLength
	return linkHeaderLen + user + 2*((user+blockLen-1)/blockLen)
}

// linkHeader is the decoded header of a link frame.
type linkHeader struct {
	length uint8
	ctrl   uint8
	dst    uint16
	src    uint16
}

func (h linkHeader) dir() bool    { return h.ctrl&ctrlDIR != 0 }
func (h linkHeader) prm() bool    { return h.ctrl&ctrlPRM != 0 }
func (h linkHeader) fc() uint8    { return h.ctrl & ctrlFC }
func (h linkHeader) userLen() int { return int(h.length) - minLength }

func parseLinkHeader(b []byte) linkHeader {
	return linkHeader{
		length: b[2],
		ctrl:   b[3],
		dst:    binary.LittleEndian.Uint16(b[4:6]),
		src:    binary.LittleEndian.Uint16(b[6:8]),
	}
}

// userData checks the CRC of every data block of frame (whole frame, header
// included) and copies the user data into dst. It reports false on a bad
// block CRC.
func userData(frame []byte, dst *[maxUserData]byte, n int) bool {
	b := frame[linkHeaderLen:]
	out := 0
	for out < n {
		k := min(blockLen, n-out)
		if !crcOK(b[:k], b[k:k+2]) {
			return false
		}
		copy(dst[out:], b[:k])
		out += k
		b = b[k+2:]
	}
	return true
}

// Broadcast destinations (clause 9.2.4.1.5): 0xFFFD, 0xFFFE, 0xFFFF.
func broadcast(addr uint16) bool { return addr >= 0xFFFD }

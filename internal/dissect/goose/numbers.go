package goose

import "strconv"

// Decimal strings for attribute values. Operations are valid only during
// Emit but an Emitter may Clone them and keep the strings, so a value's
// string must be immutable: the ones that repeat frame after frame are
// made once and reused.

// smallN numbers have a precomputed string: VLAN ids, sqNums of a
// retransmission burst, most TALs and confRevs.
const smallN = 4096

var smallNums [smallN]string

func init() {
	var buf []byte
	var end [smallN]int
	for i := range smallN {
		buf = strconv.AppendUint(buf, uint64(i), 10)
		end[i] = len(buf)
	}
	all := string(buf)
	start := 0
	for i := range smallN {
		smallNums[i] = all[start:end[i]]
		start = end[i]
	}
}

// decimal returns v in decimal, without allocating below smallN.
func decimal(v uint32) string {
	if v < smallN {
		return smallNums[v]
	}
	return strconv.FormatUint(uint64(v), 10)
}

// numCache remembers the string of the last value it was asked for: the
// stNum, confRev, TAL and entry count of a publisher change rarely.
type numCache struct {
	v uint32
	s string
}

func (c *numCache) get(v uint32) string {
	if c.s == "" || c.v != v {
		c.v, c.s = v, decimal(v)
	}
	return c.s
}

// seqBlock is the size of a run of consecutive sequence numbers whose
// strings are made together.
const seqBlock = 64

// seqStrings hands out the decimal strings of a counter that goes up by
// one per frame (sqNum): the strings of seqBlock consecutive values are
// made in one allocation, so a publisher's retransmissions allocate once
// every seqBlock frames, and not at all below smallN.
type seqStrings struct {
	base  uint32 // first value of the block; valid when s != ""
	s     string
	start [seqBlock + 1]uint16
}

func (q *seqStrings) get(v uint32, scratch []byte) string {
	if v < smallN {
		return smallNums[v]
	}
	base := v &^ (seqBlock - 1)
	if q.s == "" || q.base != base {
		buf := scratch[:0]
		for i := range uint32(seqBlock) {
			q.start[i] = uint16(len(buf))
			buf = strconv.AppendUint(buf, uint64(base+i), 10)
		}
		q.start[seqBlock] = uint16(len(buf))
		q.base, q.s = base, string(buf)
	}
	i := v - base
	return q.s[q.start[i]:q.start[i+1]]
}

// hex16 returns v as "0x" and four hex digits (the APPID, as tshark shows
// it).
func hex16(v uint16) string {
	const digits = "0123456789abcdef"
	b := [6]byte{'0', 'x', digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]}
	return string(b[:])
}

// hexCache remembers the string of the last APPID it was asked for.
type hexCache struct {
	v uint16
	s string
}

func (c *hexCache) get(v uint16) string {
	if c.s == "" || c.v != v {
		c.v, c.s = v, hex16(v)
	}
	return c.s
}

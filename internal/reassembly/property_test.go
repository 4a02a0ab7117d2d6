package reassembly

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// checker is a Consumer that checks every byte it is presented against want,
// the byte expected at each stream offset, and tracks where in the stream
// the next Data must start: after the bytes consumed and the bytes reported
// lost.
type checker struct {
	t        testing.TB
	want     []int // byte expected at each stream offset; -1 if none
	pdu      int   // 0: consume all; > 0: whole records; < 0: nothing
	rnd      *rand.Rand
	pos      int // stream offset of the first byte not consumed or lost
	consumed int
	lost     int
	gaps     int
}

func (c *checker) Data(data []byte) int {
	if len(data) == 0 {
		c.t.Fatalf("Data called with no bytes")
	}
	for i, b := range data {
		off := c.pos + i
		if off >= len(c.want) || c.want[off] != int(b) {
			w := -1
			if off < len(c.want) {
				w = c.want[off]
			}
			c.t.Fatalf("byte at stream offset %d = %#x; want %#x (data %d bytes at %d)", off, b, w, len(data), c.pos)
		}
	}
	n := len(data)
	switch {
	case c.rnd != nil:
		n = n/2 + c.rnd.IntN(n-n/2+1)
	case c.pdu < 0:
		n = 0
	case c.pdu > 0:
		n -= n % c.pdu
	}
	c.pos += n
	c.consumed += n
	return n
}

func (c *checker) Gap(lost int) {
	if lost <= 0 {
		c.t.Fatalf("Gap(%d)", lost)
	}
	c.pos += lost
	c.lost += lost
	c.gaps++
}

// pseg is a generated segment: offset from the ISN of its first payload
// byte's sequence number, minus one for a SYN.
type pseg struct {
	off           int
	syn, fin, rst bool
	flush         bool
	data          []byte
}

// TestRandomStreams cuts random streams into random segments, reorders,
// duplicates and overlaps them within the default limits, and checks that
// exactly the original bytes come out, without a gap.
func TestRandomStreams(t *testing.T) {
	for seed := range uint64(300) {
		rnd := rand.New(rand.NewPCG(seed, 0x5eed))
		n := 1 + rnd.IntN(200_000)
		if seed%10 == 0 {
			n = 1 + rnd.IntN(100)
		}
		orig := make([]byte, n)
		for i := range orig {
			orig[i] = byte(rnd.Uint32())
		}
		isn := rnd.Uint32()
		if seed%3 == 0 {
			isn = -uint32(1 + rnd.IntN(3*1460)) // wraps inside the stream
		}
		midstream := seed%5 == 1

		// In-order segmentation.
		var segs []pseg
		for off := 0; off < n; {
			l := min(n-off, 1+rnd.IntN(1460))
			if rnd.IntN(20) == 0 {
				l = min(n-off, 1+rnd.IntN(4000))
			}
			segs = append(segs, pseg{off: 1 + off, data: orig[off : off+l]})
			off += l
		}
		// Reorder within short runs, add duplicates and overlapping
		// re-sends near the current position.
		var out []pseg
		for i := 0; i < len(segs); {
			run := min(len(segs)-i, 1+rnd.IntN(12))
			block := segs[i : i+run]
			rnd.Shuffle(len(block), func(a, b int) { block[a], block[b] = block[b], block[a] })
			if midstream && i == 0 {
				for k := range block {
					if block[k].off == 1 {
						block[0], block[k] = block[k], block[0]
					}
				}
			}
			for _, s := range block {
				out = append(out, s)
				switch rnd.IntN(10) {
				case 0: // duplicate of a recent segment
					out = append(out, segs[max(0, i-rnd.IntN(8))])
				case 1: // re-send of a random range around here
					a := max(0, min(n-1, s.off-1+rnd.IntN(6000)-3000))
					b := min(n, a+1+rnd.IntN(3000))
					out = append(out, pseg{off: 1 + a, data: orig[a:b]})
				}
			}
			i += run
		}
		if !midstream {
			out = append([]pseg{{syn: true}}, out...)
			if rnd.IntN(2) == 0 { // a retransmitted SYN
				out = append(out[:2], append([]pseg{{syn: true}}, out[2:]...)...)
			}
		}
		out = append(out, pseg{off: 1 + n, fin: true})

		want := make([]int, n)
		for i, b := range orig {
			want[i] = int(b)
		}
		c := &checker{t: t, want: want}
		if seed%2 == 1 {
			c.rnd = rand.New(rand.NewPCG(seed, 1))
		}
		var h Half
		h.Init(nil)
		for _, s := range out {
			h.Segment(isn+uint32(s.off), s.syn, s.fin, s.rst, s.data, c)
		}
		h.Flush(c)
		st := h.Stats()
		if c.gaps != 0 || st.Gaps != 0 || st.Overflows != 0 {
			t.Fatalf("seed %d: %d gaps, stats %+v", seed, c.gaps, st)
		}
		if c.consumed+int(st.Unconsumed) != n || st.Delivered != uint64(n) {
			t.Fatalf("seed %d: consumed %d + unconsumed %d, delivered %d; want %d", seed, c.consumed, st.Unconsumed, st.Delivered, n)
		}
		if st.Midstream != midstream {
			t.Fatalf("seed %d: midstream %v", seed, st.Midstream)
		}
	}
}

// FuzzHalf reads its input as a consumer mode, an ISN and a list of
// segments, each 4 bytes: flags, a 16-bit offset from the ISN and a payload
// length; the payload bytes differ from segment to segment. Every byte
// presented must be the first one received for its offset (the favour-old
// policy), delivered plus lost bytes never exceed the span the segments
// cover, and input that covers its span without limits being hit must come
// out whole, without a gap.
func FuzzHalf(f *testing.F) {
	rec := func(flags byte, off uint16, n byte) []byte {
		return []byte{flags, byte(off >> 8), byte(off), n}
	}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	const syn, fin, rst, fl = 0x03, 0x0c, 0x70, 0x80
	f.Add(cat([]byte{0, 0, 0, 0, 1}, rec(syn, 0, 0), rec(0, 1, 10), rec(0, 11, 10), rec(fin, 21, 0)))
	f.Add(cat([]byte{0, 0xff, 0xff, 0xff, 0xf0}, rec(syn, 0, 0), rec(0, 21, 10), rec(0, 11, 10), rec(0, 1, 10)))
	f.Add(cat([]byte{1, 0xff, 0xff, 0xff, 0xf0}, rec(0, 100, 20), rec(0, 110, 20), rec(0, 90, 50), rec(fl, 0, 0), rec(0, 140, 3)))
	f.Add(cat([]byte{2, 1, 2, 3, 4}, rec(syn, 0, 5), rec(0, 30, 10), rec(0, 10, 10), rec(rst, 50, 1), rec(0, 6, 30)))
	f.Add(cat([]byte{0x1d, 9, 9, 9, 9}, rec(syn, 0, 0), rec(0, 1, 200), rec(0, 300, 200), rec(0, 600, 200), rec(0, 900, 200), rec(0, 1200, 1), rec(0, 201, 99)))
	for _, tt := range segmentTests { // the hand-worked cases, in this format
		if b, ok := fuzzInput(tt.segs, tt.pdu, tt.opts != Options{}); ok {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 5 {
			return
		}
		mode := in[0]
		isn := binary.BigEndian.Uint32(in[1:5])
		in = in[5:]
		var opts Options
		if mode&0x10 != 0 {
			opts = Options{MaxBuffered: 256, MaxPending: 32, MaxSegments: 4}
		}
		pdu := 0
		switch mode & 3 {
		case 1:
			pdu = 1 + int(mode>>5)
		case 2:
			pdu = -1
		}

		// Model the stream from the specification: where it starts, and
		// the first byte received at each offset.
		var segs []pseg
		size := 0
		for k := 0; len(in) >= 4; k++ {
			flags, off, n := in[0], int(binary.BigEndian.Uint16(in[1:3])), int(in[3])
			in = in[4:]
			s := pseg{off: off, syn: flags&syn == syn, fin: flags&fin == fin, rst: flags&rst == rst, flush: flags == fl}
			s.data = make([]byte, n)
			for i := range s.data {
				s.data[i] = byte(k*37 + i*11)
			}
			segs = append(segs, s)
			size = max(size, off+1+n)
		}
		first := make([]int, size)
		for i := range first {
			first[i] = -1
		}
		origin, maxEnd := -1, -1
		closed, plain := false, true
		for _, s := range segs {
			off, n := s.off, len(s.data)
			if s.flush || s.fin || s.rst {
				plain = false
			}
			if s.flush || closed {
				continue
			}
			if s.rst {
				closed = true
				continue
			}
			start := off
			if s.syn {
				start++
			}
			if origin < 0 && (s.syn || n > 0 || s.fin) {
				origin = start
			}
			if origin < 0 {
				continue
			}
			for i := range n {
				if x := start + i; first[x] < 0 {
					first[x] = int(s.data[i])
				}
			}
			if start+n > maxEnd && start+n >= origin {
				maxEnd = start + n
			}
		}
		var want []int
		if origin >= 0 {
			want = first[origin:]
		}
		c := &checker{t: t, want: want, pdu: pdu}
		var h Half
		h.Init(&opts)
		for _, s := range segs {
			if s.flush {
				h.Flush(c)
				continue
			}
			h.Segment(isn+uint32(s.off), s.syn, s.fin, s.rst, s.data, c)
		}
		h.Flush(c)

		st := h.Stats()
		span := max(0, maxEnd-origin)
		if c.consumed+c.lost > span {
			t.Fatalf("consumed %d + lost %d > span %d", c.consumed, c.lost, span)
		}
		if st.GapBytes != uint64(c.lost) || st.Gaps != uint64(c.gaps) {
			t.Fatalf("stats %+v; consumer saw %d gaps of %d bytes", st, c.gaps, c.lost)
		}
		// Without loss in the input and within limits, everything arrives.
		covered := true
		for x := origin; x < maxEnd; x++ {
			if first[x] < 0 {
				covered = false
				break
			}
		}
		if plain && covered && pdu == 0 && st.Overflows == 0 && origin >= 0 {
			if c.gaps != 0 || c.consumed != span {
				t.Fatalf("lossless input: consumed %d of %d bytes, %d gaps", c.consumed, span, c.gaps)
			}
		}
	})
}

// fuzzInput encodes segments in FuzzHalf's format, which keeps their
// offsets, lengths and flags but not their bytes.
func fuzzInput(segs []seg, pdu int, small bool) ([]byte, bool) {
	var mode byte
	switch {
	case pdu < 0:
		mode = 2
	case pdu > 0 && pdu <= 8:
		mode = 1 | byte(pdu-1)<<5
	case pdu > 8:
		return nil, false
	}
	if small {
		mode |= 0x10
	}
	var isn uint32
	found := false
	for _, s := range segs {
		if !s.flush && (!found || diff(s.seq, isn) < 0) {
			isn, found = s.seq, true
		}
	}
	in := binary.BigEndian.AppendUint32([]byte{mode}, isn)
	for _, s := range segs {
		var flags byte
		switch {
		case s.flush:
			flags = 0x80
		case s.has('S'):
			flags |= 0x03
		}
		if s.has('F') {
			flags |= 0x0c
		}
		if s.has('R') {
			flags |= 0x70
		}
		off := diff(s.seq, isn)
		if s.flush {
			off = 0
		}
		if off > 0xffff || len(s.data) > 0xff {
			return nil, false
		}
		in = append(in, flags, byte(off>>8), byte(off), byte(len(s.data)))
	}
	return in, true
}

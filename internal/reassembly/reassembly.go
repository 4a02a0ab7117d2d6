package reassembly

// Consumer receives one direction's bytes in order. Its methods are called
// from within Half.Segment and Half.Flush and must not call back into the
// same Half.
type Consumer interface {
	// Data is called with every byte buffered in order for this direction
	// that the consumer has not consumed yet, and returns how many of them
	// it consumed (0..len(data); out-of-range values count as len(data)).
	// The rest is presented again, with more data appended, the next time
	// data arrives. data is valid only during the call: copy what you keep.
	Data(data []byte) (consumed int)
	// Gap says that lost bytes of the stream will never be presented: the
	// next Data starts lost bytes after the end of what was consumed. lost
	// counts both the bytes presented earlier but not consumed (dropped
	// before the call) and the bytes that were never seen. The consumer
	// drops any partial unit of work and resynchronises.
	Gap(lost int)
}

// Options bounds the memory a Half keeps. A zero or negative field takes its
// value from DefaultOptions.
type Options struct {
	// MaxBuffered is the number of payload bytes of out-of-order segments
	// kept per direction.
	MaxBuffered int
	// MaxPending is the number of in-order bytes the consumer has not
	// consumed that are kept per direction.
	MaxPending int
	// MaxSegments is the number of out-of-order segments kept per
	// direction.
	MaxSegments int
}

// DefaultOptions are the limits used when none are given.
var DefaultOptions = Options{
	MaxBuffered: 256 << 10,
	MaxPending:  64 << 10,
	MaxSegments: 64,
}

// HalfStats counts what a Half did with the segments it was given.
type HalfStats struct {
	Segments      uint64 // segments handled, with or without payload
	Delivered     uint64 // bytes put in order and presented to Consumer.Data
	Retransmitted uint64 // payload bytes dropped because they had already been received
	Overlaps      uint64 // segments trimmed because only part of them had already been received
	OutOfOrder    uint64 // segments stored (in whole or in part) ahead of a hole
	Gaps          uint64 // calls to Consumer.Gap
	GapBytes      uint64 // sum of the lost counts passed to Consumer.Gap
	Missing       uint64 // bytes never seen: holes given up on overflow or at Flush
	Unconsumed    uint64 // bytes presented to Data but dropped before being consumed
	Overflows     uint64 // times a limit forced a hole to be given up or pending bytes dropped
	AfterFIN      uint64 // payload bytes at or beyond the FIN, or after a RST, ignored
	Midstream     bool   // no SYN was seen: the stream starts at the first data segment
}

// Half states.
const (
	stateIdle   uint8 = iota // nothing seen yet
	stateOpen                // next is valid
	stateClosed              // a RST ended the stream
)

const (
	// maxSegment is the largest payload accepted in one segment; anything
	// longer cannot come from one IP packet (even after offload
	// coalescing) and would break 32-bit sequence arithmetic.
	maxSegment = 1 << 24
	// minBuffer is the smallest storage buffer allocated for an
	// out-of-order segment: one Ethernet MSS fits.
	minBuffer = 2048
	// retainBuffer is the largest buffer kept across Flush and Init, and
	// retainFree the number of storage buffers kept, so that an idle or
	// recycled Half holds little memory.
	retainBuffer = 4096
	retainFree   = 4
)

// segment is a stored out-of-order piece of the stream.
type segment struct {
	seq  uint32
	data []byte // from the Half's free list
}

func (s *segment) end() uint32 { return s.seq + uint32(len(s.data)) }

// Half reassembles one direction of a TCP connection. The zero value is
// ready to use with DefaultOptions; Init resets a Half for a new connection
// while keeping (a bounded amount of) its buffers. A Half is not safe for
// concurrent use.
type Half struct {
	next     uint32 // sequence number of the next byte expected in order
	fin      uint32 // sequence number of the FIN, if hasFIN
	state    uint8
	hasFIN   bool
	owed     int // bytes dropped by Flush, reported before the next Data
	buffered int // payload bytes in segs
	freeCap  int // capacity of the buffers in free

	maxBuffered, maxPending, maxSegments int

	pending []byte    // in-order bytes not yet consumed
	segs    []segment // out-of-order pieces, sorted, disjoint, all after next
	free    [][]byte  // storage buffers for reuse
	stats   HalfStats
}

// Init prepares h for a new connection with the limits in opts (nil means
// DefaultOptions). Buffers from a previous connection are reused up to a
// small retained size; everything else is released.
func (h *Half) Init(opts *Options) {
	h.limits(opts)
	for i := range h.segs {
		h.put(h.segs[i].data)
	}
	clear(h.segs)
	h.segs = h.segs[:0]
	h.pending = h.pending[:0]
	h.next, h.fin, h.state, h.hasFIN = 0, 0, stateIdle, false
	h.owed, h.buffered = 0, 0
	h.stats = HalfStats{}
	h.release()
}

// limits sets h's limits from opts, defaulting fields that are not positive.
func (h *Half) limits(opts *Options) {
	o := DefaultOptions
	if opts != nil {
		if opts.MaxBuffered > 0 {
			o.MaxBuffered = opts.MaxBuffered
		}
		if opts.MaxPending > 0 {
			o.MaxPending = opts.MaxPending
		}
		if opts.MaxSegments > 0 {
			o.MaxSegments = opts.MaxSegments
		}
	}
	h.maxBuffered, h.maxPending, h.maxSegments = o.MaxBuffered, o.MaxPending, o.MaxSegments
}

// Stats returns what h has counted since Init.
func (h *Half) Stats() HalfStats { return h.stats }

// diff returns a-b in 32-bit serial-number arithmetic: positive when a is
// after b, negative when it is before.
func diff(a, b uint32) int { return int(int32(a - b)) }

// Segment handles one TCP segment of this direction: seq is its sequence
// number, syn, fin and rst its flags and payload its data, which is valid
// only during the call. Bytes that become deliverable in order are passed to
// c before Segment returns.
func (h *Half) Segment(seq uint32, syn, fin, rst bool, payload []byte, c Consumer) {
	if h.maxSegments == 0 {
		h.limits(nil)
	}
	h.stats.Segments++
	if h.state == stateClosed {
		h.stats.AfterFIN += uint64(len(payload))
		return
	}
	if rst {
		// A reset ends the stream. Its payload, if any, is diagnostic
		// text (RFC 9293 section 3.5.3), not stream data.
		if h.state == stateOpen {
			h.Flush(c)
		}
		h.state = stateClosed
		return
	}
	if len(payload) > maxSegment {
		h.stats.Overflows++
		return
	}
	if syn {
		if h.state == stateIdle {
			h.next = seq + 1
			h.state = stateOpen
		}
		seq++ // the SYN occupies one sequence number before the data
	}
	if h.state == stateIdle {
		if len(payload) == 0 && !fin {
			return
		}
		h.next = seq
		h.state = stateOpen
		h.stats.Midstream = true
	}
	end := seq + uint32(len(payload))
	if fin && !h.hasFIN && diff(end, h.next) >= 0 {
		h.hasFIN = true
		h.fin = end
		h.trimStored()
	}
	if h.hasFIN {
		if d := diff(end, h.fin); d > 0 {
			cut := min(d, len(payload))
			h.stats.AfterFIN += uint64(cut)
			payload = payload[:len(payload)-cut]
		}
	}
	if d := diff(h.next, seq); d > 0 {
		old := min(d, len(payload))
		h.stats.Retransmitted += uint64(old)
		if old < len(payload) {
			h.stats.Overlaps++
		}
		payload = payload[old:]
		seq += uint32(old)
	}
	if len(payload) == 0 {
		return
	}
	if seq == h.next && len(h.segs) == 0 {
		h.deliver(payload, c) // fast path: in order, nothing stored
		return
	}
	h.insert(seq, payload, c)
}

// insert handles payload at seq (not before next) when it is out of order
// or segments are stored: the parts of it that no stored segment covers are
// delivered if they are next in order and stored otherwise.
func (h *Half) insert(seq uint32, payload []byte, c Consumer) {
	end := seq + uint32(len(payload))
	cur := seq
	dup := 0
	stored := false
	i := 0
	for cur != end {
		if d := diff(h.next, cur); d > 0 {
			// Delivered meanwhile from storage: those bytes came first.
			n := min(d, diff(end, cur))
			dup += n
			cur += uint32(n)
			continue
		}
		for i < len(h.segs) && diff(h.segs[i].end(), cur) <= 0 {
			i++
		}
		pieceEnd := end
		if i < len(h.segs) {
			s := &h.segs[i]
			if diff(s.seq, cur) <= 0 {
				n := min(diff(s.end(), cur), diff(end, cur))
				dup += n
				cur += uint32(n)
				continue
			}
			if diff(s.seq, end) < 0 {
				pieceEnd = s.seq
			}
		}
		piece := payload[diff(cur, seq):diff(pieceEnd, seq)]
		if cur == h.next {
			h.deliver(piece, c)
			h.deliverRun(c)
			i = 0
		} else {
			h.store(i, cur, piece)
			stored = true
			i++
		}
		cur = pieceEnd
	}
	if dup > 0 {
		h.stats.Retransmitted += uint64(dup)
		if dup < len(payload) {
			h.stats.Overlaps++
		}
	}
	if stored {
		h.stats.OutOfOrder++
	}
	for len(h.segs) > 0 && (len(h.segs) > h.maxSegments || h.buffered > h.maxBuffered) {
		h.stats.Overflows++
		h.skipHole(c)
	}
}

// trimStored drops the stored bytes at or beyond the FIN.
func (h *Half) trimStored() {
	for n := len(h.segs); n > 0; n = len(h.segs) {
		s := &h.segs[n-1]
		d := diff(s.end(), h.fin)
		if d <= 0 {
			return
		}
		if d < len(s.data) {
			h.stats.AfterFIN += uint64(d)
			h.buffered -= d
			s.data = s.data[:len(s.data)-d]
			return
		}
		h.stats.AfterFIN += uint64(len(s.data))
		h.buffered -= len(s.data)
		h.put(s.data)
		h.segs[n-1] = segment{}
		h.segs = h.segs[:n-1]
	}
}

// store copies piece, which starts at seq, into storage at index i.
func (h *Half) store(i int, seq uint32, piece []byte) {
	if h.segs == nil {
		h.segs = make([]segment, 0, h.maxSegments+1)
	}
	buf := h.get(len(piece))
	copy(buf, piece)
	h.segs = append(h.segs, segment{})
	copy(h.segs[i+1:], h.segs[i:])
	h.segs[i] = segment{seq: seq, data: buf}
	h.buffered += len(piece)
}

// deliverRun delivers the stored segments that are now next in order.
func (h *Half) deliverRun(c Consumer) {
	for len(h.segs) > 0 {
		s := h.segs[0]
		d := diff(h.next, s.seq)
		if d < 0 {
			return
		}
		n := len(h.segs) - 1
		copy(h.segs, h.segs[1:])
		h.segs[n] = segment{}
		h.segs = h.segs[:n]
		h.buffered -= len(s.data)
		if d < len(s.data) {
			h.deliver(s.data[d:], c)
		}
		h.put(s.data)
	}
}

// skipHole gives up the hole before the first stored segment: the consumer
// is told what is lost, and the stream continues at that segment.
func (h *Half) skipHole(c Consumer) {
	s := h.segs[0].seq
	h.lose(diff(s, h.next), c)
	h.next = s
	h.deliverRun(c)
}

// lose drops the pending bytes and reports them, with hole bytes that were
// never seen, as a gap.
func (h *Half) lose(hole int, c Consumer) {
	h.stats.Missing += uint64(hole)
	h.stats.Unconsumed += uint64(len(h.pending))
	lost := hole + len(h.pending) + h.owed
	h.pending = h.pending[:0]
	h.owed = 0
	h.gap(lost, c)
}

// gap reports lost bytes to c.
func (h *Half) gap(lost int, c Consumer) {
	h.stats.Gaps++
	h.stats.GapBytes += uint64(lost)
	c.Gap(lost)
}

// deliver appends chunk, which starts at next, to the stream and presents
// the unconsumed bytes to c. When nothing is pending, chunk is presented as
// is, without a copy.
func (h *Half) deliver(chunk []byte, c Consumer) {
	h.next += uint32(len(chunk))
	h.stats.Delivered += uint64(len(chunk))
	if h.owed > 0 {
		lost := h.owed
		h.owed = 0
		h.gap(lost, c)
	}
	if len(h.pending) == 0 {
		n := consumed(c.Data(chunk), len(chunk))
		if rest := chunk[n:]; len(rest) > h.maxPending {
			h.overflow(len(rest), c)
		} else if len(rest) > 0 {
			h.pending = append(h.pending[:0], rest...)
		}
		return
	}
	h.pending = append(h.pending, chunk...)
	n := consumed(c.Data(h.pending), len(h.pending))
	rest := copy(h.pending, h.pending[n:])
	h.pending = h.pending[:rest]
	if rest > h.maxPending {
		h.pending = h.pending[:0]
		h.overflow(rest, c)
	}
}

// overflow reports n unconsumed bytes dropped because they exceed
// MaxPending.
func (h *Half) overflow(n int, c Consumer) {
	h.stats.Overflows++
	h.stats.Unconsumed += uint64(n)
	h.gap(n, c)
}

// consumed clamps a consumer's answer to 0..n; out-of-range answers count
// as everything consumed.
func consumed(k, n int) int {
	if k < 0 || k > n {
		return n
	}
	return k
}

// Flush delivers what can be delivered, for example when the connection
// closes or goes idle: every stored segment is delivered, each hole before
// one (and before a FIN seen) reported as a gap. Bytes still unconsumed are
// then dropped; if the stream goes on afterwards they are reported as a gap
// before the next Data. Flush releases the buffers beyond a small retained
// size.
func (h *Half) Flush(c Consumer) {
	if h.state != stateOpen {
		h.release()
		return
	}
	h.deliverRun(c)
	for len(h.segs) > 0 {
		h.skipHole(c)
	}
	if h.hasFIN {
		if d := diff(h.fin, h.next); d > 0 {
			h.lose(d, c)
			h.next = h.fin
		}
	}
	if n := len(h.pending); n > 0 {
		h.stats.Unconsumed += uint64(n)
		h.owed += n
		h.pending = h.pending[:0]
	}
	h.release()
}

// get returns a storage buffer of length n: the smallest free one that fits,
// or a new one.
func (h *Half) get(n int) []byte {
	best := -1
	for i, b := range h.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(h.free[best])) {
			best = i
		}
	}
	if best < 0 {
		size := minBuffer
		for size < n {
			size <<= 1
		}
		return make([]byte, n, size)
	}
	b := h.free[best]
	last := len(h.free) - 1
	h.free[best] = h.free[last]
	h.free[last] = nil
	h.free = h.free[:last]
	h.freeCap -= cap(b)
	return b[:n]
}

// put returns a storage buffer to the free list, unless the list already
// holds MaxSegments buffers or MaxBuffered bytes.
func (h *Half) put(b []byte) {
	if len(h.free) >= h.maxSegments || h.freeCap+cap(b) > h.maxBuffered {
		return
	}
	if h.free == nil {
		h.free = make([][]byte, 0, h.maxSegments)
	}
	h.free = append(h.free, b[:0])
	h.freeCap += cap(b)
}

// release drops the buffers beyond what an idle Half retains.
func (h *Half) release() {
	if cap(h.pending) > retainBuffer {
		h.pending = nil
	}
	kept := h.free[:0]
	h.freeCap = 0
	for _, b := range h.free {
		if len(kept) < retainFree && cap(b) <= retainBuffer {
			kept = append(kept, b)
			h.freeCap += cap(b)
		}
	}
	clear(h.free[len(kept):])
	h.free = kept
	if cap(h.segs) > 2*h.maxSegments+2 {
		h.segs = nil
	}
}

// Package reassembly puts the payload of one direction of a TCP connection
// back in order and hands it to a Consumer, without allocating in steady
// state and without ever joining bytes across a hole: every missing range is
// reported as an explicit gap.
//
// A Half follows one direction. Sequence numbers are compared as 32-bit
// serial numbers (RFC 9293 section 3.4, RFC 1982), so streams that wrap
// around 2^32 reassemble like any other. The first SYN fixes the initial
// sequence number; a capture that starts mid-stream starts at the first
// segment that carries data (or a FIN) and is marked Midstream; bytes before
// that point that arrive later are treated as already seen.
//
// Overlap policy: the first bytes received for a sequence range win
// ("favour old", as the Linux and BSD stacks do). A retransmission or a
// segment that lies entirely inside bytes already received is dropped; a
// segment that partly overlaps keeps only its new bytes.
//
// Memory is bounded per direction by Options: out-of-order segments are
// copied into buffers recycled through a small free list (MaxBuffered bytes,
// MaxSegments segments) and bytes the consumer has not yet consumed are kept
// in one reused pending buffer (MaxPending bytes). When out-of-order storage
// is full the oldest hole is given up: the consumer gets a Gap and the stream
// continues at the next stored segment. A consumer that leaves more than
// MaxPending bytes unconsumed loses them, with a Gap, so it can resynchronise.
//
// A FIN marks the end of the stream: payload at or beyond it is ignored. A
// RST ends the stream at once: what is stored is delivered (holes reported
// as gaps) and later segments are ignored. Both are counted in HalfStats.
package reassembly

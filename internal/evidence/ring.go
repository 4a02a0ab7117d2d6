package evidence

import (
	"encoding/binary"
	"math"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Options sizes a Ring. Zero or negative fields take the value from
// DefaultOptions.
type Options struct {
	// ArenaBytes is the size of the arena that holds every kept packet, its
	// 40-byte record header and padding to 8 bytes included. It is rounded
	// down to a multiple of 8 and is at least 4096.
	ArenaBytes int
	// PerFlowPackets is how many of a flow's latest packets are kept.
	PerFlowPackets int
	// PerFlowBytes caps the captured bytes kept per flow. A frame longer than
	// this is stored truncated to it (see Add).
	PerFlowBytes int
	// MaxFlows is how many flows are tracked at once. When a new flow arrives
	// and the table is full, the flow that received a packet least recently is
	// dropped with its packets.
	MaxFlows int
}

// DefaultOptions keeps up to 64 packets and 256 KiB per flow, for up to 1<<20
// flows, in a 64 MiB arena. The flow table and its index then cost another
// 56 MiB of address space; pages become resident only as flows use them.
var DefaultOptions = Options{
	ArenaBytes:     64 << 20,
	PerFlowPackets: 64,
	PerFlowBytes:   256 << 10,
	MaxFlows:       1 << 20,
}

// Packet is one kept frame, as returned by Ring.Packets and written by
// WritePcapng.
type Packet struct {
	// Flow is the flow id given to Ring.Add.
	Flow uint64
	// Index is the packet's number within its flow, as given to Ring.Add.
	Index uint64
	// Timestamp is the capture time, in UTC, to the nanosecond.
	Timestamp time.Time
	// LinkType says how Data begins.
	LinkType layers.LinkType
	// Data holds the captured bytes, possibly truncated; it belongs to the
	// caller.
	Data []byte
	// Length is the frame's length on the wire; it is at least len(Data).
	Length int
	// Comment, if not empty, is written as the packet's comment by
	// WritePcapng (for example "trigger"). Ring.Packets leaves it empty.
	Comment string
}

// Stats counts what a Ring holds and what it dropped.
type Stats struct {
	Packets     uint64 // packets kept now
	Bytes       uint64 // captured bytes of the packets kept now
	Flows       int    // flows with at least one packet kept
	Added       uint64 // calls to Add
	Overwritten uint64 // kept packets dropped because the arena wrapped
	Trimmed     uint64 // packets dropped to keep a flow within PerFlowPackets and PerFlowBytes
	Truncated   uint64 // frames stored cut to PerFlowBytes, or to the arena's capacity
	Recycled    uint64 // flows dropped, with their packets, to make room for a new flow
	Forgotten   uint64 // flows dropped by Forget
}

// Record header in the arena, little-endian, 8-byte aligned:
//
//	0      4        8        16       24       32      36   38   40
//	| slot | capLen | next   | ts     | index  | wire  | lt | -- | data…
//
// slot is the flow entry that owned the record when it was written, or
// padSlot for the unused end of the arena before a wrap. next is the absolute
// position of the flow's following record (meaningful only when the record
// is not the flow's newest). ts is Unix nanoseconds.
const (
	hdrLen   = 40
	minArena = 4096
	padSlot  = math.MaxUint32
	none     = math.MaxUint32 // no flow entry in links
	maxSlots = math.MaxUint32 - 2
)

// flowEntry is one tracked flow. oldest and newest are absolute positions of
// its first and last kept records; they are meaningful when count > 0.
type flowEntry struct {
	id             uint64
	oldest, newest uint64
	bytes          uint32
	count          uint32
	prev, next     uint32 // LRU links, most recent first; next links the free list
	used           bool
}

// Ring keeps the latest packets of every flow at a fixed memory cost.
//
// All methods are safe for concurrent use: one mutex serialises them, so the
// console can call Packets while the sensor calls Add. Add allocates nothing
// once New has returned; Packets allocates the copies it returns.
type Ring struct {
	mu   sync.Mutex
	opts Options

	arena      []byte
	size       uint64 // len(arena), a multiple of 8
	head, tail uint64 // absolute positions: next record, oldest record not yet reclaimed
	maxData    int    // longest frame kept, in captured bytes

	flows   []flowEntry
	fresh   uint32 // entries never used are flows[fresh:]
	free    uint32 // free list of released entries, linked by next
	lruHead uint32
	lruTail uint32
	index   []uint32 // open addressing, linear probing: entry+1, 0 when empty
	mask    uint64
	shift   uint
	stats   Stats
}

// New returns an empty Ring, allocating its arena, flow table and index.
func New(opts Options) *Ring {
	d := DefaultOptions
	if opts.ArenaBytes <= 0 {
		opts.ArenaBytes = d.ArenaBytes
	}
	if opts.PerFlowPackets <= 0 {
		opts.PerFlowPackets = d.PerFlowPackets
	}
	if opts.PerFlowBytes <= 0 {
		opts.PerFlowBytes = d.PerFlowBytes
	}
	if opts.MaxFlows <= 0 {
		opts.MaxFlows = d.MaxFlows
	}
	opts.ArenaBytes = max(opts.ArenaBytes&^7, minArena)
	opts.PerFlowPackets = min(opts.PerFlowPackets, math.MaxInt32)
	opts.PerFlowBytes = min(opts.PerFlowBytes, math.MaxInt32)
	opts.MaxFlows = min(opts.MaxFlows, maxSlots, 1<<30)

	bits := uint(4)
	for 1<<bits < 2*opts.MaxFlows {
		bits++
	}
	r := &Ring{
		opts:    opts,
		arena:   make([]byte, opts.ArenaBytes),
		size:    uint64(opts.ArenaBytes),
		maxData: min(opts.PerFlowBytes, opts.ArenaBytes-hdrLen),
		flows:   make([]flowEntry, opts.MaxFlows),
		free:    none,
		lruHead: none,
		lruTail: none,
		index:   make([]uint32, 1<<bits),
		mask:    1<<bits - 1,
		shift:   64 - bits,
	}
	return r
}

// Options returns the options in effect, defaults and limits applied.
func (r *Ring) Options() Options { return r.opts }

// Add stores a copy of one frame of flow. Flow ids come from the flow table;
// index is the packet's number within its flow, from 0; wireLen is the
// frame's length on the wire (raised to len(data) if smaller).
//
// A frame longer than PerFlowBytes, or than the arena can hold beside its
// header, is stored truncated to that length, keeping its wireLen, and is
// counted in Stats.Truncated; it then displaces the flow's older packets.
// ts is kept as Unix nanoseconds, so it must lie between the years 1678 and
// 2262. Add never allocates.
func (r *Ring) Add(flow uint64, index uint64, ts time.Time, linkType layers.LinkType, data []byte, wireLen int) {
	r.mu.Lock()
	r.add(flow, index, ts.UnixNano(), linkType, data, wireLen)
	r.mu.Unlock()
}

func (r *Ring) add(flow uint64, index uint64, ts int64, linkType layers.LinkType, data []byte, wireLen int) {
	r.stats.Added++
	wireLen = max(wireLen, len(data))
	if len(data) > r.maxData {
		data = data[:r.maxData]
		r.stats.Truncated++
	}
	recLen := align8(hdrLen + len(data))

	// Make room first: reclaiming may release the very flow being added to.
	pos := r.head
	if off := pos % r.size; off+recLen > r.size {
		pos += r.size - off
	}
	end := pos + recLen
	for r.tail < r.head && end-r.tail > r.size {
		r.reclaim()
	}
	if r.tail == r.head {
		r.tail = pos
	} else if pos != r.head {
		binary.LittleEndian.PutUint32(r.arena[r.head%r.size:], padSlot)
	}
	r.head = end

	s := r.lookup(flow)
	if s == none {
		s = r.newFlow(flow)
	} else {
		r.touch(s)
	}

	h := r.arena[pos%r.size : pos%r.size+recLen]
	binary.LittleEndian.PutUint32(h[0:], s)
	binary.LittleEndian.PutUint32(h[4:], uint32(len(data)))
	binary.LittleEndian.PutUint64(h[8:], 0)
	binary.LittleEndian.PutUint64(h[16:], uint64(ts))
	binary.LittleEndian.PutUint64(h[24:], index)
	binary.LittleEndian.PutUint32(h[32:], uint32(min(wireLen, math.MaxUint32)))
	binary.LittleEndian.PutUint16(h[36:], uint16(linkType))
	binary.LittleEndian.PutUint16(h[38:], 0)
	copy(h[hdrLen:], data)

	f := &r.flows[s]
	if f.count == 0 {
		f.oldest = pos
	} else {
		binary.LittleEndian.PutUint64(r.arena[f.newest%r.size+8:], pos)
	}
	f.newest = pos
	f.count++
	f.bytes += uint32(len(data))
	r.stats.Packets++
	r.stats.Bytes += uint64(len(data))
	for f.count > uint32(r.opts.PerFlowPackets) || f.bytes > uint32(r.opts.PerFlowBytes) {
		r.popOldest(f)
		r.stats.Trimmed++
	}
}

// reclaim releases the oldest record of the arena, removing it from its flow
// if the flow still holds it, and the flow itself if it is left empty.
func (r *Ring) reclaim() {
	off := r.tail % r.size
	s := binary.LittleEndian.Uint32(r.arena[off:])
	if s == padSlot {
		r.tail += r.size - off
		return
	}
	capLen := binary.LittleEndian.Uint32(r.arena[off+4:])
	if s < uint32(len(r.flows)) {
		if f := &r.flows[s]; f.used && f.count > 0 && f.oldest == r.tail {
			r.popOldest(f)
			r.stats.Overwritten++
			if f.count == 0 {
				r.release(s)
			}
		}
	}
	r.tail += align8(hdrLen + int(capLen))
}

// popOldest drops a flow's oldest record from the flow; its bytes stay in the
// arena until reclaimed.
func (r *Ring) popOldest(f *flowEntry) {
	off := f.oldest % r.size
	capLen := binary.LittleEndian.Uint32(r.arena[off+4:])
	f.count--
	f.bytes -= capLen
	r.stats.Packets--
	r.stats.Bytes -= uint64(capLen)
	if f.count > 0 {
		f.oldest = binary.LittleEndian.Uint64(r.arena[off+8:])
	}
}

// Packets returns copies of the kept packets of flow, oldest first. A
// non-zero from or to keeps only packets with from <= Timestamp <= to. It
// returns nil when nothing matches.
func (r *Ring) Packets(flow uint64, from, to time.Time) []Packet {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.UnixNano()
	}
	if !to.IsZero() {
		hi = to.UnixNano()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.lookup(flow)
	if s == none {
		return nil
	}
	f := &r.flows[s]
	n, total := 0, 0
	r.walk(s, f, func(h []byte) {
		if ts := int64(binary.LittleEndian.Uint64(h[16:])); ts >= lo && ts <= hi {
			n++
			total += int(binary.LittleEndian.Uint32(h[4:]))
		}
	})
	if n == 0 {
		return nil
	}
	out := make([]Packet, 0, n)
	buf := make([]byte, total)
	r.walk(s, f, func(h []byte) {
		ts := int64(binary.LittleEndian.Uint64(h[16:]))
		if ts < lo || ts > hi {
			return
		}
		capLen := int(binary.LittleEndian.Uint32(h[4:]))
		data := buf[:capLen:capLen]
		buf = buf[capLen:]
		copy(data, h[hdrLen:])
		out = append(out, Packet{
			Flow:      flow,
			Index:     binary.LittleEndian.Uint64(h[24:]),
			Timestamp: time.Unix(0, ts).UTC(),
			LinkType:  layers.LinkType(binary.LittleEndian.Uint16(h[36:])),
			Data:      data,
			Length:    int(binary.LittleEndian.Uint32(h[32:])),
		})
	})
	return out
}

// walk calls fn with each record of a flow, oldest first, header and data.
// It stops at any link that leaves the live window or names another flow
// entry, which the reclaiming in add rules out.
func (r *Ring) walk(s uint32, f *flowEntry, fn func(h []byte)) {
	pos := f.oldest
	for i := uint32(0); i < f.count; i++ {
		if pos < r.tail || pos >= r.head {
			return
		}
		off := pos % r.size
		h := r.arena[off:]
		capLen := binary.LittleEndian.Uint32(h[4:])
		if binary.LittleEndian.Uint32(h) != s || off+uint64(hdrLen)+uint64(capLen) > r.size {
			return
		}
		fn(h[:hdrLen+int(capLen)])
		pos = binary.LittleEndian.Uint64(h[8:])
	}
}

// Forget drops a flow's packets, for instance when the flow has ended and no
// alert asked for them. Calling it is optional: without it a flow's packets
// stay until the arena wraps over them or the flow is recycled, so that an
// alert raised just after a flow ends can still cut them. Forget does not
// allocate.
func (r *Ring) Forget(flow uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.lookup(flow); s != none {
		r.drop(s)
		r.stats.Forgotten++
	}
}

// Stats returns the ring's counters.
func (r *Ring) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// drop removes a flow and discounts its records, which stay in the arena,
// unreachable, until reclaimed.
func (r *Ring) drop(s uint32) {
	f := &r.flows[s]
	r.stats.Packets -= uint64(f.count)
	r.stats.Bytes -= uint64(f.bytes)
	f.count, f.bytes = 0, 0
	r.release(s)
}

// newFlow takes a free entry, or recycles the least recently used flow.
func (r *Ring) newFlow(id uint64) uint32 {
	var s uint32
	switch {
	case r.free != none:
		s = r.free
		r.free = r.flows[s].next
	case r.fresh < uint32(len(r.flows)):
		s = r.fresh
		r.fresh++
	default:
		s = r.lruTail
		r.drop(s)
		r.stats.Recycled++
		s = r.free
		r.free = r.flows[s].next
	}
	r.flows[s] = flowEntry{id: id, used: true, prev: none, next: none}
	r.insert(s)
	r.pushFront(s)
	r.stats.Flows++
	return s
}

// release removes an empty flow from the index and the LRU list and puts its
// entry on the free list.
func (r *Ring) release(s uint32) {
	r.remove(s)
	r.unlink(s)
	f := &r.flows[s]
	f.used = false
	f.next = r.free
	r.free = s
	r.stats.Flows--
}

func (r *Ring) touch(s uint32) {
	if r.lruHead != s {
		r.unlink(s)
		r.pushFront(s)
	}
}

func (r *Ring) unlink(s uint32) {
	f := &r.flows[s]
	if f.prev != none {
		r.flows[f.prev].next = f.next
	} else {
		r.lruHead = f.next
	}
	if f.next != none {
		r.flows[f.next].prev = f.prev
	} else {
		r.lruTail = f.prev
	}
	f.prev, f.next = none, none
}

func (r *Ring) pushFront(s uint32) {
	f := &r.flows[s]
	f.prev, f.next = none, r.lruHead
	if r.lruHead != none {
		r.flows[r.lruHead].prev = s
	} else {
		r.lruTail = s
	}
	r.lruHead = s
}

func align8(n int) uint64 { return uint64(n+7) &^ 7 }

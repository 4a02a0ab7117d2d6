package decode

import (
	"net/netip"
	"time"
)

// DefragOptions bounds IP fragment reassembly.
type DefragOptions struct {
	// MaxDatagrams is how many datagrams may be in reassembly at once; when
	// full, the oldest is dropped (counted).
	MaxDatagrams int
	// Timeout drops a datagram whose fragments stop arriving (by capture time).
	Timeout time.Duration
	// MaxSpans is how many disjoint pieces one datagram may have before it
	// is dropped as abusive.
	MaxSpans int
}

// DefaultDefragOptions reassemble up to 256 datagrams at once (64 KiB of
// buffer each, so at most 16 MiB) and drop a datagram 30 seconds after its
// first fragment, like Linux's ipfrag_time.
var DefaultDefragOptions = DefragOptions{MaxDatagrams: 256, Timeout: 30 * time.Second, MaxSpans: 64}

// maxDatagram is the largest IP payload a fragment may reach (RFC 791:
// offset*8 + length must fit the 16-bit total length).
const maxDatagram = 65535

// DefragStats counts fragment handling.
type DefragStats struct {
	Fragments   uint64 // fragments seen
	Reassembled uint64 // datagrams completed
	Overlaps    uint64 // fragments that overlapped data already held (first copy kept)
	TimedOut    uint64 // datagrams dropped for want of their other fragments
	Evicted     uint64 // datagrams dropped because the table was full
	Invalid     uint64 // fragments beyond 64 KiB, conflicting ends, too many pieces
	Pending     int    // datagrams in reassembly now
}

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

type span struct{ lo, hi int }

type datagram struct {
	key   fragKey
	buf   []byte // maxDatagram bytes, allocated once per slot
	spans []span // sorted, merged
	tmp   []span // scratch for merging
	total int    // payload length once the last fragment is seen, else -1
	first time.Time
	used  bool
}

// Defragmenter reassembles IPv4 and IPv6 fragments in bounded memory.
// Overlapping fragments keep the bytes that arrived first, and count the
// overlap, so an evasion that rewrites data through overlaps is visible.
type Defragmenter struct {
	opts  DefragOptions
	slots []datagram
	index map[fragKey]int
	stats DefragStats
	// swept is the capture time of the last sweep for timed-out datagrams.
	swept time.Time
}

// NewDefragmenter returns a Defragmenter with the given bounds.
func NewDefragmenter(opts DefragOptions) *Defragmenter {
	if opts.MaxDatagrams <= 0 {
		opts.MaxDatagrams = DefaultDefragOptions.MaxDatagrams
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultDefragOptions.Timeout
	}
	if opts.MaxSpans <= 0 {
		opts.MaxSpans = DefaultDefragOptions.MaxSpans
	}
	return &Defragmenter{opts: opts, index: make(map[fragKey]int, opts.MaxDatagrams)}
}

// Stats returns the reassembly counters.
func (f *Defragmenter) Stats() DefragStats {
	s := f.stats
	s.Pending = len(f.index)
	return s
}

// Add stores one fragment: offset and length in bytes of the IP payload,
// more is the More Fragments flag. It returns the whole payload when this
// fragment completes the datagram (valid until the next Add), or
// ErrFragmentPending, or ErrBadFragment.
func (f *Defragmenter) Add(k fragKey, offset int, more bool, data []byte, now time.Time) ([]byte, error) {
	f.stats.Fragments++
	end := offset + len(data)
	if end > maxDatagram || (more && len(data)%8 != 0) {
		f.stats.Invalid++
		return nil, ErrBadFragment
	}
	if now.Sub(f.swept) >= time.Second || now.Before(f.swept) {
		f.swept = now
		f.expire(now)
	}
	i, ok := f.index[k]
	if ok && now.Sub(f.slots[i].first) > f.opts.Timeout {
		f.stats.TimedOut++
		f.release(i)
		ok = false
	}
	if !ok {
		i = f.slot(now)
		d := &f.slots[i]
		d.key, d.total, d.first, d.used = k, -1, now, true
		d.spans = d.spans[:0]
		f.index[k] = i
	}
	d := &f.slots[i]
	if !more {
		if (d.total >= 0 && d.total != end) || (len(d.spans) > 0 && d.spans[len(d.spans)-1].hi > end) {
			f.stats.Invalid++
			f.release(i)
			return nil, ErrBadFragment
		}
		d.total = end
	} else if d.total >= 0 && end > d.total {
		f.stats.Invalid++
		f.release(i)
		return nil, ErrBadFragment
	}
	if d.insert(offset, data, &f.stats); len(d.spans) > f.opts.MaxSpans {
		f.stats.Invalid++
		f.release(i)
		return nil, ErrBadFragment
	}
	if d.total >= 0 && len(d.spans) == 1 && d.spans[0].lo == 0 && d.spans[0].hi == d.total {
		f.stats.Reassembled++
		whole := d.buf[:d.total]
		f.release(i)
		return whole, nil
	}
	return nil, ErrFragmentPending
}

// slot returns a free slot, expiring timed-out datagrams or evicting the
// oldest one when the table is full.
func (f *Defragmenter) slot(now time.Time) int {
	if len(f.index) < len(f.slots) {
		for i := range f.slots {
			if !f.slots[i].used {
				return i
			}
		}
	}
	if len(f.slots) < f.opts.MaxDatagrams {
		f.slots = append(f.slots, datagram{buf: make([]byte, maxDatagram), spans: make([]span, 0, 8)})
		return len(f.slots) - 1
	}
	oldest := 0
	for i := range f.slots {
		if f.slots[i].first.Before(f.slots[oldest].first) {
			oldest = i
		}
	}
	if now.Sub(f.slots[oldest].first) > f.opts.Timeout {
		f.stats.TimedOut++
	} else {
		f.stats.Evicted++
	}
	f.release(oldest)
	return oldest
}

// expire drops every datagram whose first fragment is older than the
// timeout at capture time now.
func (f *Defragmenter) expire(now time.Time) {
	for i := range f.slots {
		if f.slots[i].used && now.Sub(f.slots[i].first) > f.opts.Timeout {
			f.stats.TimedOut++
			f.release(i)
		}
	}
}

func (f *Defragmenter) release(i int) {
	d := &f.slots[i]
	delete(f.index, d.key)
	d.used = false
}

// insert copies the parts of data at [off, off+len) not already held and
// merges the span list.
func (d *datagram) insert(off int, data []byte, st *DefragStats) {

	lo, hi := off, off+len(data)
	if lo == hi {
		return
	}
	// Copy only the holes of [lo,hi) between existing spans: first data wins.
	pos := lo
	overlapped := false
	for _, s := range d.spans {
		if s.hi <= pos {
			continue
		}
		if s.lo >= hi {
			break
		}
		if s.lo > pos {
			copy(d.buf[pos:s.lo], data[pos-off:s.lo-off])
		}
		overlapped = true
		if s.hi > pos {
			pos = s.hi
		}
		if pos >= hi {
			break
		}
	}
	if pos < hi {
		copy(d.buf[pos:hi], data[pos-off:])
	}
	if overlapped {
		st.Overlaps++
	}
	// Merge [lo,hi) into the sorted span list; both slices are reused.
	d.tmp = append(d.tmp[:0], d.spans...)
	out := d.spans[:0]
	merged := span{lo, hi}
	placed := false
	for _, s := range d.tmp {
		switch {
		case s.hi < merged.lo:
			out = append(out, s)
		case s.lo > merged.hi:
			if !placed {
				out = append(out, merged)
				placed = true
			}
			out = append(out, s)
		default:
			merged.lo = min(merged.lo, s.lo)
			merged.hi = max(merged.hi, s.hi)
		}
	}
	if !placed {
		out = append(out, merged)
	}
	d.spans = out
}

package pairing

import (
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Size is how many requests a Table holds; when a new request finds the
// table full, the oldest is emitted unanswered to make room.
const Size = 16

// Entry is one request awaiting its response.
type Entry[K comparable] struct {
	Used bool
	// Dir is the direction the request travelled.
	Dir dissect.Direction
	// Key is what the session matches a response with.
	Key K
	// Order is the request's arrival order within the flow.
	Order uint64
	// Time is the capture time of the request.
	Time time.Time
	// Op is the operation emitted when the exchange ends.
	Op dissect.Operation
}

// AddPacket appends ref to the entry's packets unless it is the last one
// already (a response in the same segment as its request).
func (e *Entry[K]) AddPacket(ref dissect.PacketRef) {
	if n := len(e.Op.Packets); n == 0 || e.Op.Packets[n-1] != ref {
		e.Op.Packets = append(e.Op.Packets, ref)
	}
}

// Table is the set of requests of one flow that wait for a response. Its
// zero value is empty and ready to use.
type Table[K comparable] struct {
	// Entries are the slots; those with Used set hold a request.
	Entries [Size]Entry[K]
	n       int
	order   uint64
}

// Len returns how many requests wait.
func (t *Table[K]) Len() int { return t.n }

// Start records a request that travelled in dir with match key key and
// returns its entry, whose operation is cleared and filled like
// ctx.Op(protocol). When the table is full the oldest request is emitted
// unanswered first.
func (t *Table[K]) Start(dir dissect.Direction, key K, protocol string, ctx *dissect.Context) *Entry[K] {
	e := t.slot(ctx)
	op := &e.Op
	op.Reset()
	op.Time, op.Protocol = ctx.Time, protocol
	if ctx.Flow != nil {
		op.Transport = ctx.Flow.Transport.String()
		op.Client, op.Server = ctx.Flow.Client, ctx.Flow.Server
	}
	op.Packets = append(op.Packets, ctx.Packet)
	e.Used, e.Dir, e.Key, e.Order, e.Time = true, dir, key, t.order, ctx.Time
	t.order++
	t.n++
	return e
}

// Oldest returns the earliest waiting request, or nil.
func (t *Table[K]) Oldest() *Entry[K] {
	var o *Entry[K]
	for i := range t.Entries {
		if e := &t.Entries[i]; e.Used && (o == nil || e.Order < o.Order) {
			o = e
		}
	}
	return o
}

// Emit frees entry e and emits its operation.
func (t *Table[K]) Emit(e *Entry[K], ctx *dissect.Context) {
	e.Used = false
	t.n--
	ctx.Emit(&e.Op)
}

// Expire emits, oldest first, the requests that have waited longer than
// window at ctx.Time.
func (t *Table[K]) Expire(window time.Duration, ctx *dissect.Context) {
	if t.n == 0 {
		return
	}
	for {
		e := t.Oldest()
		if e == nil || ctx.Time.Sub(e.Time) <= window {
			return
		}
		t.Emit(e, ctx)
	}
}

// Close emits every waiting request, oldest first.
func (t *Table[K]) Close(ctx *dissect.Context) {
	for t.n > 0 {
		t.Emit(t.Oldest(), ctx)
	}
}

// slot returns a free entry, emitting the oldest request when none is
// free.
func (t *Table[K]) slot(ctx *dissect.Context) *Entry[K] {
	for i := range t.Entries {
		if !t.Entries[i].Used {
			return &t.Entries[i]
		}
	}
	e := t.Oldest()
	t.Emit(e, ctx)
	return e
}

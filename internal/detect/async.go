package detect

import (
	"sync"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Async runs a Detector on a goroutine of its own, so that detection
// overlaps the packet path instead of adding to it: frames, operations and
// inventory events are copied into batches that the detection goroutine
// takes in order. Copies reuse the storage of earlier batches, so the
// steady state allocates nothing.
//
// Async implements pipeline.Observer, dissect.Emitter and inventory.Sink
// for one feeding goroutine. Close drains the queue; only then may the
// Detector be used directly again (Flush, Alerts, Learn). The Detector's
// Sink is called on the detection goroutine.
type Async struct {
	d     *Detector
	cur   *asyncBatch
	full  chan *asyncBatch
	free  chan *asyncBatch
	done  chan struct{}
	close sync.Once
}

// asyncBatchSize is how many items a batch carries, and asyncBatches how
// many batches are in flight at most.
const (
	asyncBatchSize = 256
	asyncBatches   = 16
)

type itemKind uint8

const (
	itemPacket itemKind = iota
	itemOp
	itemEvent
)

type asyncItem struct {
	kind itemKind
	bad  bool // the frame's decode failed
	pkt  decode.Packet
	op   dissect.Operation
	ev   inventory.Event
}

type asyncBatch struct {
	items [asyncBatchSize]asyncItem
	n     int
}

// NewAsync starts the detection goroutine of d.
func NewAsync(d *Detector) *Async {
	a := &Async{d: d, full: make(chan *asyncBatch, asyncBatches), free: make(chan *asyncBatch, asyncBatches+1),
		done: make(chan struct{})}
	for range asyncBatches + 1 {
		a.free <- new(asyncBatch)
	}
	a.cur = <-a.free
	go a.run()
	return a
}

// Detector returns the Detector it feeds.
func (a *Async) Detector() *Detector { return a.d }

func (a *Async) run() {
	defer close(a.done)
	for b := range a.full {
		for i := range b.items[:b.n] {
			it := &b.items[i]
			switch it.kind {
			case itemPacket:
				var err error
				if it.bad {
					err = errDecode
				}
				a.d.Packet(&it.pkt, err)
			case itemOp:
				a.d.Emit(&it.op)
			case itemEvent:
				a.d.Event(it.ev)
			}
		}
		b.n = 0
		a.free <- b
	}
}

// errDecode stands for a frame's decode error on the detection goroutine.
var errDecode = decodeError{}

type decodeError struct{}

func (decodeError) Error() string { return "frame did not decode" }

// next returns the item to fill, sending the batch when it is full.
func (a *Async) next() *asyncItem {
	if a.cur.n == asyncBatchSize {
		a.full <- a.cur
		a.cur = <-a.free
	}
	it := &a.cur.items[a.cur.n]
	a.cur.n++
	return it
}

// Packet implements pipeline.Observer: the frame's decoded headers are
// copied; its payload is not (no engine reads it).
func (a *Async) Packet(p *decode.Packet, err error) {
	it := a.next()
	it.kind, it.bad = itemPacket, err != nil
	it.pkt = *p
	it.pkt.Payload = nil
}

// Emit implements dissect.Emitter: the operation is copied into storage
// the batch keeps.
func (a *Async) Emit(op *dissect.Operation) {
	it := a.next()
	it.kind = itemOp
	dst := &it.op
	targets, identity, attrs, packets := dst.Targets[:0], dst.Identity[:0], dst.Attrs[:0], dst.Packets[:0]
	*dst = *op
	dst.Targets = append(targets, op.Targets...)
	dst.Identity = append(identity, op.Identity...)
	dst.Attrs = append(attrs, op.Attrs...)
	dst.Packets = append(packets, op.Packets...)
}

// Event implements inventory.Sink.
func (a *Async) Event(e inventory.Event) {
	it := a.next()
	it.kind, it.ev = itemEvent, e
}

// Close hands over what is queued, waits until the Detector has seen it
// all and stops the goroutine. It does not Flush the Detector.
func (a *Async) Close() {
	a.close.Do(func() {
		if a.cur.n > 0 {
			a.full <- a.cur
		}
		close(a.full)
		<-a.done
	})
}

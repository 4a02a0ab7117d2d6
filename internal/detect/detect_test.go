package detect

import (
	"strconv"
	"testing"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

func TestFlowCache(t *testing.T) {
	c := NewFlowCache[int](3) // rounded up to 4 slots
	if len(c.slots) != 4 {
		t.Fatalf("%d slots, want 4", len(c.slots))
	}
	if _, ok := c.Get(7); ok {
		t.Error("empty cache hit")
	}
	c.Put(7, 70)
	c.Put(0, 1) // ignored
	if v, ok := c.Get(7); !ok || v != 70 {
		t.Errorf("Get(7) = %d, %v", v, ok)
	}
	if _, ok := c.Get(0); ok {
		t.Error("flow 0 hit")
	}
	c.Put(11, 110) // same slot as 7
	if _, ok := c.Get(7); ok {
		t.Error("evicted flow hit")
	}
	c.Invalidate()
	if _, ok := c.Get(11); ok {
		t.Error("hit after Invalidate")
	}
}

func BenchmarkFlowCacheHit(b *testing.B) {
	c := NewFlowCache[*int](4096)
	v := new(int)
	for i := uint64(1); i <= 64; i++ {
		c.Put(i, v)
	}
	b.ReportAllocs()
	var n uint64
	for b.Loop() {
		n++
		c.Get(n&63 + 1)
	}
}

// TestAsyncOrder: frames, operations and events reach the Detector through
// Async in the order they were fed, across batches, and Close drains them.
func TestAsyncOrder(t *testing.T) {
	var got []string
	d := New(Config{Operational: true})
	d.ops = append(d.ops, opRecorder(func(op *dissect.Operation) { got = append(got, "op:"+op.FunctionName) }))
	a := NewAsync(d)
	for i := range 3 * asyncBatchSize {
		switch i % 3 {
		case 0:
			a.Packet(&decode.Packet{Payload: []byte{1}}, nil)
		case 1:
			a.Emit(&dissect.Operation{FunctionName: strconv.Itoa(i), Attrs: []dissect.Attr{{Key: "k", Value: "v"}}})
		case 2:
			a.Event(inventory.Event{Type: inventory.EventNewDevice})
		}
	}
	a.Close()
	a.Close() // a second Close is harmless
	if len(got) != asyncBatchSize || got[0] != "op:1" || got[len(got)-1] != "op:"+strconv.Itoa(3*asyncBatchSize-2) {
		t.Fatalf("%d operations, first %q last %q", len(got), got[0], got[len(got)-1])
	}
	if st := d.Stats(); st.Packets != asyncBatchSize || st.Operations != asyncBatchSize {
		t.Errorf("stats %+v, want %d packets and operations", st, asyncBatchSize)
	}
}

type opRecorder func(op *dissect.Operation)

func (r opRecorder) Operation(_ *Detector, op *dissect.Operation) { r(op) }

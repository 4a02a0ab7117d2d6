package detect

import "github.com/otwatch/otwatch/internal/dissect"

// FlowCache remembers, per flow, a value an engine found in its own map
// for an operation of that flow (its per-conversation state), so that the
// next operations of the flow find it with one array index instead of
// hashing the conversation's key. It is direct-mapped: a flow whose slot
// another flow took just misses.
//
// An engine that deletes or recycles entries of its map calls Invalidate,
// after which every cached value misses: a cache never hands out state
// that its map no longer holds.
type FlowCache[V any] struct {
	slots []flowSlot[V]
	mask  uint64
	gen   uint64
}

type flowSlot[V any] struct {
	flow, gen uint64
	v         V
}

// NewFlowCache returns a cache of n slots, n rounded up to a power of two.
func NewFlowCache[V any](n int) *FlowCache[V] {
	size := 1
	for size < n {
		size <<= 1
	}
	return &FlowCache[V]{slots: make([]flowSlot[V], size), mask: uint64(size - 1), gen: 1}
}

// FlowOf returns the flow id of an operation, 0 if it has none.
func FlowOf(op *dissect.Operation) uint64 {
	if len(op.Packets) == 0 {
		return 0
	}
	return op.Packets[0].Flow
}

// Get returns the value cached for flow.
func (c *FlowCache[V]) Get(flow uint64) (V, bool) {
	s := &c.slots[flow&c.mask]
	if flow != 0 && s.flow == flow && s.gen == c.gen {
		return s.v, true
	}
	var zero V
	return zero, false
}

// Put caches v for flow (0 is ignored).
func (c *FlowCache[V]) Put(flow uint64, v V) {
	if flow == 0 {
		return
	}
	c.slots[flow&c.mask] = flowSlot[V]{flow: flow, gen: c.gen, v: v}
}

// Invalidate makes every cached value miss.
func (c *FlowCache[V]) Invalidate() { c.gen++ }

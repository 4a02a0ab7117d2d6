package detect

import (
	"net/netip"

	"github.com/otwatch/otwatch/internal/dissect"
)

// A conversation is what one flow carries between one client and one
// server port: the operations of one Modbus connection, of one DNP3
// association. The Detector keeps a record of each recent conversation,
// found with one array index per operation, in which every engine has its
// own slots (ConvSlot): an engine finds its per-conversation state there
// instead of hashing the conversation's addresses, protocol or flow id in
// its own maps.
//
// The records form a direct-mapped table indexed by flow id: a
// conversation whose record another one took just misses, and the engine
// falls back to its own maps, which stay the truth. A record is matched by
// flow id, client, server and server port, so that a flow id reused for
// other endpoints, or a flow whose operations name its endpoints the other
// way round, gets a fresh record.

// convTableSize is the number of conversation records, a power of two.
const convTableSize = 1 << 11

// MaxConvSlots is the number of ConvSlots a Detector's engines may take
// in all.
const MaxConvSlots = 4

// conv is the record of one conversation.
type conv struct {
	// id is the conversation's number, unique among the conversations
	// the Detector recorded; 0 marks an unused record.
	id             uint64
	flow           uint64
	client, server netip.Addr
	port           uint16
	slots          [MaxConvSlots]convSlot
}

// convSlot is one slot's value in a record, and the slot's generation it
// was set in: a value of an older generation is stale.
type convSlot struct {
	gen uint64
	v   any
}

// convOf returns the record of op's conversation, making it fresh when
// the record at op's flow holds another one; nil when op has no flow.
func (d *Detector) convOf(op *dissect.Operation) *conv {
	if len(op.Packets) == 0 || op.Packets[0].Flow == 0 {
		return nil
	}
	flow := op.Packets[0].Flow
	if d.convs == nil {
		d.convs = make([]conv, convTableSize)
	}
	c := &d.convs[flow&(convTableSize-1)]
	if c.flow == flow && c.id != 0 && c.client == op.Client.IP && c.server == op.Server.IP && c.port == op.Server.Port {
		return c
	}
	d.convSeq++
	c.id, c.flow, c.client, c.server, c.port = d.convSeq, flow, op.Client.IP, op.Server.IP, op.Server.Port
	clear(c.slots[:])
	return c
}

// ConvID returns the number of the conversation of the operation being
// dispatched: unique among the conversations the Detector recorded, so
// that an engine may key a cache of its own with it; 0 outside dispatch
// or for an operation without a flow.
func (d *Detector) ConvID() uint64 {
	if d.conv == nil {
		return 0
	}
	return d.conv.id
}

// A ConvSlot is one engine's place, holding a T, in every conversation
// record of a Detector. Get and Set concern the conversation of the
// operation being dispatched. A slot is a cache: what it holds must be
// found again, more slowly, in the engine's own state when it misses.
type ConvSlot[T any] struct {
	d   *Detector
	i   int
	gen *uint64 // the slot's current generation, in d.slotGen
}

// NewConvSlot takes a slot in d's conversation records. An engine takes
// its slots when the Detector makes it; it panics past MaxConvSlots.
func NewConvSlot[T any](d *Detector) ConvSlot[T] {
	if d.nslots >= MaxConvSlots {
		panic("detect: more than MaxConvSlots conversation slots")
	}
	i := d.nslots
	d.nslots++
	d.slotGen[i] = 1
	return ConvSlot[T]{d: d, i: i, gen: &d.slotGen[i]}
}

// Get returns the value set for the conversation of the operation being
// dispatched since the last Invalidate, and whether there is one.
func (s ConvSlot[T]) Get() (T, bool) {
	if c := s.d.conv; c != nil {
		if sl := &c.slots[s.i]; sl.gen == *s.gen {
			v, ok := sl.v.(T)
			return v, ok
		}
	}
	var zero T
	return zero, false
}

// Set sets the value of the conversation of the operation being
// dispatched; outside dispatch, or for an operation without a flow, it
// does nothing.
func (s ConvSlot[T]) Set(v T) {
	if c := s.d.conv; c != nil {
		c.slots[s.i] = convSlot{gen: *s.gen, v: v}
	}
}

// Invalidate makes every value set so far miss: an engine calls it when
// it deletes or recycles state that values may point to.
func (s ConvSlot[T]) Invalidate() { *s.gen++ }

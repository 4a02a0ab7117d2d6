package detect

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/dissect"
)

// slotEngine is a fake engine with two conversation slots. For each
// operation it records what they hold and the conversation's id, then
// sets them to set (and its decimal string) unless set is 0.
type slotEngine struct {
	num  ConvSlot[int]
	name ConvSlot[string]
	set  int
	obs  slotObs
}

type slotObs struct {
	num     int
	numOK   bool
	name    string
	nameOK  bool
	convID  uint64
	visited bool
}

func (e *slotEngine) Engine() alert.Engine { return alert.Anomaly }

func (e *slotEngine) Operation(d *Detector, _ *dissect.Operation) {
	e.obs = slotObs{visited: true, convID: d.ConvID()}
	e.obs.num, e.obs.numOK = e.num.Get()
	e.obs.name, e.obs.nameOK = e.name.Get()
	if e.set != 0 {
		e.num.Set(e.set)
		e.name.Set(strconv.Itoa(e.set))
	}
}

// newSlotDetector returns an operational Detector whose one engine is a
// slotEngine.
func newSlotDetector(t *testing.T) (*Detector, *slotEngine) {
	t.Helper()
	e := &slotEngine{}
	withRegistry(t, []Factory{func(d *Detector) Engine {
		e.num, e.name = NewConvSlot[int](d), NewConvSlot[string](d)
		return e
	}})
	return New(Config{Operational: true}), e
}

// conversation returns an operation on flow from client to server:port.
func conversation(flow uint64, client, server netip.Addr, port uint16) *dissect.Operation {
	op := modbus(at(time.Second), flow, client, server, fnRead)
	op.Server.Port = port
	return op
}

// TestConvSlot checks that a slot holds one value per conversation (flow,
// client, server and server port), and that a record another conversation
// takes, by its flow id landing on the same record (flows equal modulo
// convTableSize, 2048) or by reusing the flow id, starts empty.
func TestConvSlot(t *testing.T) {
	d, e := newSlotDetector(t)
	steps := []struct {
		name string
		op   *dissect.Operation
		set  int
		// want is the value the slots hold before the step sets them (0:
		// none); sameAs is the step whose conversation this is (-1: a new
		// one).
		want   int
		sameAs int
	}{
		{"first operation", conversation(7, hmi, plc, 502), 1, 0, -1},
		{"same conversation", conversation(7, hmi, plc, 502), 2, 1, 0},
		{"another flow, same endpoints", conversation(8, hmi, plc, 502), 10, 0, -1},
		{"back to the first", conversation(7, hmi, plc, 502), 0, 2, 0},
		{"flow 2055 takes record 7", conversation(7+convTableSize, hmi, plc, 502), 3, 0, -1},
		{"flow 2055 again", conversation(7+convTableSize, hmi, plc, 502), 0, 3, 4},
		{"flow 7 lost its record", conversation(7, hmi, plc, 502), 4, 0, -1},
		{"flow 8 kept its own", conversation(8, hmi, plc, 502), 0, 10, 2},
		{"flow id reused by another client", conversation(7, ews, plc, 502), 5, 0, -1},
		{"roles reversed", conversation(7, plc, ews, 502), 6, 0, -1},
		{"another server port", conversation(7, plc, ews, 503), 7, 0, -1},
		{"same again", conversation(7, plc, ews, 503), 0, 7, 10},
	}
	ids := make([]uint64, len(steps))
	seen := map[uint64]int{}
	for i, s := range steps {
		e.set = s.set
		d.Emit(s.op)
		o := e.obs
		ids[i] = o.convID
		if !o.visited {
			t.Fatalf("step %d (%s): engine not called", i, s.name)
		}
		wantOK := s.want != 0
		if o.num != s.want || o.numOK != wantOK || o.nameOK != wantOK || wantOK && o.name != strconv.Itoa(s.want) {
			t.Errorf("step %d (%s): slots hold %d,%v %q,%v; want %d,%v", i, s.name, o.num, o.numOK, o.name, o.nameOK, s.want, wantOK)
		}
		if o.convID == 0 {
			t.Errorf("step %d (%s): ConvID 0 during dispatch of an operation with a flow", i, s.name)
		}
		if s.sameAs >= 0 {
			if o.convID != ids[s.sameAs] {
				t.Errorf("step %d (%s): ConvID %d, want step %d's %d", i, s.name, o.convID, s.sameAs, ids[s.sameAs])
			}
		} else if prev, dup := seen[o.convID]; dup {
			t.Errorf("step %d (%s): ConvID %d, already step %d's", i, s.name, o.convID, prev)
		}
		if _, ok := seen[o.convID]; !ok {
			seen[o.convID] = i
		}
	}
	if id := d.ConvID(); id != 0 {
		t.Errorf("ConvID outside dispatch = %d, want 0", id)
	}
	if v, ok := e.num.Get(); ok {
		t.Errorf("Get outside dispatch = %d, true; want a miss", v)
	}
}

// TestConvSlotNoFlow checks that an operation without a flow has no
// conversation: the slots miss, Set does nothing and ConvID is 0.
func TestConvSlotNoFlow(t *testing.T) {
	d, e := newSlotDetector(t)
	noPackets := conversation(7, hmi, plc, 502)
	noPackets.Packets = nil
	flowZero := conversation(0, hmi, plc, 502)
	for _, op := range []*dissect.Operation{noPackets, flowZero} {
		e.set = 1
		d.Emit(op)
		e.set = 0
		d.Emit(op)
		if e.obs.numOK || e.obs.nameOK || e.obs.convID != 0 {
			t.Errorf("packets %v: slots %+v after Set; want misses and ConvID 0", op.Packets, e.obs)
		}
	}
	// Set outside dispatch does nothing either.
	e.num.Set(9)
	e.set = 0
	d.Emit(conversation(7, hmi, plc, 502))
	if e.obs.numOK {
		t.Errorf("Set outside dispatch stored %d", e.obs.num)
	}
}

// TestConvSlotInvalidate checks that Invalidate makes every value of its
// slot miss, in every conversation, and leaves other slots alone.
func TestConvSlotInvalidate(t *testing.T) {
	d, e := newSlotDetector(t)
	e.set = 1
	d.Emit(conversation(7, hmi, plc, 502))
	d.Emit(conversation(8, hmi, rtu, 502))
	e.num.Invalidate()
	e.set = 0
	for _, op := range []*dissect.Operation{conversation(7, hmi, plc, 502), conversation(8, hmi, rtu, 502)} {
		d.Emit(op)
		if e.obs.numOK || !e.obs.nameOK || e.obs.name != "1" {
			t.Errorf("flow %d after Invalidate: %+v; want num missing, name %q", op.Packets[0].Flow, e.obs, "1")
		}
	}
	// A value set after Invalidate holds.
	e.set = 2
	d.Emit(conversation(7, hmi, plc, 502))
	e.set = 0
	d.Emit(conversation(7, hmi, plc, 502))
	if !e.obs.numOK || e.obs.num != 2 {
		t.Errorf("after Invalidate and Set: %+v, want num 2", e.obs)
	}
}

// TestConvSlotLimit checks that taking more than MaxConvSlots (4) slots
// panics when the Detector is made.
func TestConvSlotLimit(t *testing.T) {
	tests := []struct {
		slots int
		panic bool
	}{
		{MaxConvSlots, false},
		{MaxConvSlots + 1, true},
	}
	for _, tt := range tests {
		withRegistry(t, []Factory{func(d *Detector) Engine {
			for range tt.slots {
				NewConvSlot[int](d)
			}
			return &opEngine{engine: alert.Anomaly}
		}})
		func() {
			defer func() {
				if got := recover() != nil; got != tt.panic {
					t.Errorf("%d slots: panic %v, want %v", tt.slots, got, tt.panic)
				}
			}()
			New(Config{})
		}()
	}
}

package evidence

import (
	"testing"
	"time"
)

// FuzzRing runs random sequences of Add, Forget and Packets against a model
// of what was added: the ring must never panic and must return exactly the
// bytes added for the packets it still keeps (see model.check).
//
// The first four bytes choose the options, then every three bytes are one
// operation: kind, flow, size.
func FuzzRing(f *testing.F) {
	f.Add([]byte{0, 3, 10, 3, 0, 1, 20, 1, 2, 200, 2, 1, 255, 6, 1, 0, 7, 2, 0})
	f.Add([]byte{0, 15, 255, 15, 0, 0, 255, 0, 1, 255, 0, 2, 255, 0, 3, 255, 0, 0, 255, 0, 1, 255})
	f.Add([]byte{255, 0, 0, 0, 0, 201, 7, 0, 202, 9, 6, 201, 0, 0, 203, 1})
	seq := []byte{4, 7, 40, 5}
	for i := range 200 {
		seq = append(seq, byte(i*5), byte(i*7%13), byte(i*31))
	}
	f.Add(seq)
	f.Fuzz(ringOps)
}

// ringOps is FuzzRing's body.
func ringOps(t *testing.T, ops []byte) {
	if len(ops) < 4 || len(ops) > 3*2000 {
		return
	}
	opts := Options{
		ArenaBytes:     minArena + int(ops[0])*64,
		PerFlowPackets: 1 + int(ops[1]%16),
		PerFlowBytes:   64 + int(ops[2])*32,
		MaxFlows:       1 + int(ops[3]%16),
	}
	r := New(opts)
	m := newModel(opts)
	ts := t0
	for i := 4; i+3 <= len(ops); i += 3 {
		kind, fl, size := ops[i], ops[i+1], ops[i+2]
		flow := uint64(fl % 12)
		if fl >= 200 {
			flow = uint64(fl) << 56
		}
		switch {
		case kind%8 < 6:
			// Sizes up to 8 KiB + 7, beyond PerFlowBytes and the arena at times.
			n := int(size)*32 + int(kind>>5)
			m.add(r, flow, uint64(len(m.flows[flow])), ts, n)
			ts = ts.Add(time.Duration(kind) * time.Microsecond)
		case kind%8 == 6:
			r.Forget(flow)
			delete(m.flows, flow)
		default:
			from := ts.Add(-time.Duration(size) * time.Microsecond)
			for _, p := range r.Packets(flow, from, time.Time{}) {
				if p.Timestamp.Before(from) {
					t.Fatalf("Packets(%d, %v) returned a packet at %v", flow, from, p.Timestamp)
				}
			}
		}
		if len(ops) < 300 || i%48 == 4 {
			m.check(t, r, r.Stats().Recycled == 0)
		}
	}
	m.check(t, r, r.Stats().Recycled == 0)
}

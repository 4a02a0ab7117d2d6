package bacnet

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// The common poll of a BACnet/IP supervisor: ReadProperty of an Analog
// Input's Present_Value and its complex ack (ANSI/ASHRAE 135, 15.5).
const (
	pollRequest = "810a0011 0104 0005010c 0c00000005 1955"
	pollAck     = "810a0017 0100 30010c 0c00000005 1955 3e 444290999a 3f"
)

func TestPollAllocations(t *testing.T) {
	req, ack := dissecttest.Hex(t, pollRequest), dissecttest.Hex(t, pollAck)
	flow := dissecttest.Flow(dissect.TransportUDP, Port)
	ops := 0
	ctx := dissecttest.Context(flow, dissect.EmitterFunc(func(*dissect.Operation) { ops++ }))
	s := Dissector{}.NewSession(flow)
	poll := func() {
		_, _ = s.Feed(dissect.ToServer, req, ctx)
		_, _ = s.Feed(dissect.ToClient, ack, ctx)
	}
	poll() // warm the scratch operation
	if n := testing.AllocsPerRun(1000, poll); n != 0 {
		t.Errorf("ReadProperty poll allocates %.1f times, want 0", n)
	}
	// AllocsPerRun calls poll once more before it counts.
	if ops != 1002 {
		t.Errorf("%d operations, want 1002", ops)
	}
}

func BenchmarkSessionPoll(b *testing.B) {
	req, ack := dissecttest.Hex(b, pollRequest), dissecttest.Hex(b, pollAck)
	flow := dissecttest.Flow(dissect.TransportUDP, Port)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := Dissector{}.NewSession(flow)
	b.ReportAllocs()
	b.SetBytes(int64(len(req) + len(ack)))
	for b.Loop() {
		_, _ = s.Feed(dissect.ToServer, req, ctx)
		_, _ = s.Feed(dissect.ToClient, ack, ctx)
	}
}

func BenchmarkProbe(b *testing.B) {
	req := dissecttest.Hex(b, pollRequest)
	b.ReportAllocs()
	for b.Loop() {
		Dissector{}.Probe(req)
	}
}

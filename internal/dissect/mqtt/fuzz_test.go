package mqtt

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds any bytes, whole and split at any point, to a session
// in either direction: no panic, and the same operations either way.
func FuzzSession(f *testing.F) {
	dissecttest.SeedFromCorpus(f, "mqtt", 20)
	dissecttest.SeedHex(f,
		connect311,
		connect311+"20020000",
		"1013 00044d515454 05 02003c 03210014 0003616263 2003008600",
		"300a0003612f6268656c6c6f 320c0003612f62000768656c6c6f 40020007",
		"340c0003612f62000968656c6c6f 50020009 62020009 70020009",
		"820e000a0003612f62010003632f2302 9004000a0180",
		"a207000b0003612f62 b002000b c000 d000 e000 e0018e",
		"30 a08d06 0003 612f62 0000",
		"30ffffffff01",
		"0000",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		dissecttest.FeedBothWays(t, Dissector{}, data)
	})
}

// publishFlow is a client's QoS 1 PUBLISH (topic "plant/line1/temp",
// payload "21.5"), the broker's PUBACK and a PINGREQ/PINGRESP.
const publishFlow = "32 18 0010 706c616e742f6c696e65312f74656d70 0007 32312e35"

func TestAllocations(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := Dissector{}.NewSession(flow)
	pub := dissecttest.Hex(t, publishFlow)
	pub0 := dissecttest.Hex(t, "30 16 0010 706c616e742f6c696e65312f74656d70 32312e35")
	ack := dissecttest.Hex(t, "40 02 0007")
	ping, pong := dissecttest.Hex(t, "c000"), dissecttest.Hex(t, "d000")
	step := func() {
		s.Feed(dissect.ToServer, pub, ctx)
		s.Feed(dissect.ToClient, ack, ctx)
		s.Feed(dissect.ToServer, pub0, ctx)
		s.Feed(dissect.ToClient, pub0, ctx)
		s.Feed(dissect.ToServer, ping, ctx)
		s.Feed(dissect.ToClient, pong, ctx)
	}
	step()
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("%v allocations per publish/ack/ping round, want 0", n)
	}
}

func BenchmarkFeed(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := Dissector{}.NewSession(flow)
	pub := dissecttest.Hex(b, publishFlow)
	ack := dissecttest.Hex(b, "40 02 0007")
	b.SetBytes(int64(len(pub) + len(ack)))
	b.ReportAllocs()
	for b.Loop() {
		s.Feed(dissect.ToServer, pub, ctx)
		s.Feed(dissect.ToClient, ack, ctx)
	}
}

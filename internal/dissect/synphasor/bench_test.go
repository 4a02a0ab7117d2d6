package synphasor

import (
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// dataStream feeds pypmu's data frame (one PMU, 4 phasors, 3 analog values, 1
// digital word) at 50 frames per second.
type dataStream struct {
	frame []byte
	t     time.Time
}

func (s *dataStream) feed(sess dissect.Session, ctx *dissect.Context) {
	s.t = s.t.Add(20 * time.Millisecond)
	ctx.Time = s.t
	sess.Feed(dissect.ToClient, s.frame, ctx)
}

func TestDataAllocs(t *testing.T) {
	for _, transport := range []dissect.Transport{dissect.TransportUDP, dissect.TransportTCP} {
		flow := dissecttest.Flow(transport, TCPPort)
		n := 0
		ctx := dissecttest.Context(flow, dissect.EmitterFunc(func(op *dissect.Operation) {
			if op.FunctionName != "data" || op.Result.Status != dissect.StatusOK {
				t.Fatalf("%s: unexpected operation %s %v", transport, op.FunctionName, op.Result)
			}
			n++
		}))
		sess := Dissector{}.NewSession(flow)
		s := &dataStream{frame: dissecttest.Hex(t, pypmuData), t: dissecttest.Start}
		for range 500 {
			s.feed(sess, ctx)
		}
		if n != 10 {
			t.Fatalf("%s: %d operations for 10 s of data, want 10", transport, n)
		}
		if a := testing.AllocsPerRun(500, func() { s.feed(sess, ctx) }); a != 0 {
			t.Errorf("%s: %v allocations per data frame, want 0", transport, a)
		}
	}
}

func BenchmarkDataUDP(b *testing.B) { benchData(b, dissect.TransportUDP) }

func BenchmarkDataTCP(b *testing.B) { benchData(b, dissect.TransportTCP) }

func benchData(b *testing.B, transport dissect.Transport) {
	flow := dissecttest.Flow(transport, TCPPort)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	sess := Dissector{}.NewSession(flow)
	s := &dataStream{frame: dissecttest.Hex(b, pypmuData), t: dissecttest.Start}
	b.SetBytes(int64(len(s.frame)))
	b.ReportAllocs()
	for b.Loop() {
		s.feed(sess, ctx)
	}
}

// BenchmarkConfig measures a CFG-2 request and answer, the cold path that
// makes identity facts.
func BenchmarkConfig(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportTCP, TCPPort)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	sess := Dissector{}.NewSession(flow)
	cmd, cfg := dissecttest.Hex(b, frame(b, typeCommand, 7734, "0005")), dissecttest.Hex(b, pypmuConfig2)
	b.SetBytes(int64(len(cmd) + len(cfg)))
	b.ReportAllocs()
	for b.Loop() {
		sess.Feed(dissect.ToServer, cmd, ctx)
		sess.Feed(dissect.ToClient, cfg, ctx)
	}
}

package hartip

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// poll is a host's typical exchange: command 3 (dynamic variables and loop
// current) to a long address through a Token-Passing PDU, and the
// answer, with the sequence number advancing.
type poll struct {
	req, rsp []byte
	seq      uint16
}

func newPoll(t testing.TB) *poll {
	return &poll{
		req: dissecttest.Hex(t, hip(t, 0, 3, 0, 0, tp(t, 0x82, "a6053a1b2c", 3, ""))),
		rsp: dissecttest.Hex(t, hip(t, 1, 3, 0, 0, tp(t, 0x86, "a6053a1b2c", 3,
			"00 00 40a00000 20 42c80000 20 41200000 20 3f800000 20 00000000"))),
	}
}

func (p *poll) feed(s dissect.Session, ctx *dissect.Context) {
	p.seq++
	p.req[4], p.req[5] = byte(p.seq>>8), byte(p.seq)
	p.rsp[4], p.rsp[5] = byte(p.seq>>8), byte(p.seq)
	s.Feed(dissect.ToServer, p.req, ctx)
	s.Feed(dissect.ToClient, p.rsp, ctx)
}

func TestPollAllocs(t *testing.T) {
	for _, transport := range []dissect.Transport{dissect.TransportUDP, dissect.TransportTCP} {
		flow := dissecttest.Flow(transport, Port)
		n := 0
		ctx := dissecttest.Context(flow, dissect.EmitterFunc(func(op *dissect.Operation) {
			if op.FunctionCode != 3 || !op.Request || !op.Response || op.Result.Status != dissect.StatusOK {
				t.Fatalf("%s: unexpected operation %s %v %v %v", transport, op.FunctionName, op.Request, op.Response, op.Result)
			}
			n++
		}))
		s := Dissector{}.NewSession(flow)
		p := newPoll(t)
		p.feed(s, ctx)
		if n != 1 {
			t.Fatalf("%s: %d operations per exchange, want 1", transport, n)
		}
		if a := testing.AllocsPerRun(200, func() { p.feed(s, ctx) }); a != 0 {
			t.Errorf("%s: %v allocations per exchange, want 0", transport, a)
		}
	}
}

func BenchmarkPollUDP(b *testing.B) { benchPoll(b, dissect.TransportUDP) }

func BenchmarkPollTCP(b *testing.B) { benchPoll(b, dissect.TransportTCP) }

func benchPoll(b *testing.B, transport dissect.Transport) {
	flow := dissecttest.Flow(transport, Port)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := Dissector{}.NewSession(flow)
	p := newPoll(b)
	b.SetBytes(int64(len(p.req) + len(p.rsp)))
	b.ReportAllocs()
	for b.Loop() {
		p.feed(s, ctx)
	}
}

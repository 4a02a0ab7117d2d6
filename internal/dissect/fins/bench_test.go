package fins

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// poll is an HMI's typical exchange: MEMORY AREA READ of 10 DM words and
// its response, as UDP datagrams or FINS/TCP frames.
type poll struct {
	cmd, rsp []byte
	sid      byte
}

func newPoll(t testing.TB, tcp bool) *poll {
	cmd := "80 00 02 00 0a 00 00 14 00 00 | 01 01 | 82 0064 00 000a"
	rsp := "c0 00 02 00 14 00 00 0a 00 00 | 01 01 | 00 00 | 0001 0002 0003 0004 0005 0006 0007 0008 0009 000a"
	if !tcp {
		return &poll{cmd: dissecttest.Hex(t, cmd), rsp: dissecttest.Hex(t, rsp)}
	}
	return &poll{cmd: []byte(tcpFrame(t, cmd)), rsp: []byte(tcpFrame(t, rsp))}
}

func (p *poll) feed(s dissect.Session, ctx *dissect.Context) {
	p.sid++
	p.cmd[len(p.cmd)-9] = p.sid
	p.rsp[len(p.rsp)-25] = p.sid
	s.Feed(dissect.ToServer, p.cmd, ctx)
	s.Feed(dissect.ToClient, p.rsp, ctx)
}

func TestPollAllocs(t *testing.T) {
	for _, transport := range []dissect.Transport{dissect.TransportUDP, dissect.TransportTCP} {
		flow := dissecttest.Flow(transport, Port)
		n := 0
		ctx := dissecttest.Context(flow, dissect.EmitterFunc(func(op *dissect.Operation) {
			if op.FunctionName != "memory_area_read" || !op.Request || !op.Response || op.Result.Status != dissect.StatusOK {
				t.Fatalf("%s: unexpected operation %s %v %v %v", transport, op.FunctionName, op.Request, op.Response, op.Result)
			}
			n++
		}))
		s := Dissector{}.NewSession(flow)
		p := newPoll(t, transport == dissect.TransportTCP)
		p.feed(s, ctx)
		if n != 1 {
			t.Fatalf("%s: %d operations per exchange, want 1", transport, n)
		}
		if a := testing.AllocsPerRun(200, func() { p.feed(s, ctx) }); a != 0 {
			t.Errorf("%s: %v allocations per exchange, want 0", transport, a)
		}
	}
}

func BenchmarkPollUDP(b *testing.B) { benchPoll(b, false) }

func BenchmarkPollTCP(b *testing.B) { benchPoll(b, true) }

func benchPoll(b *testing.B, tcp bool) {
	transport := dissect.TransportUDP
	if tcp {
		transport = dissect.TransportTCP
	}
	flow := dissecttest.Flow(transport, Port)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := Dissector{}.NewSession(flow)
	p := newPoll(b, tcp)
	b.SetBytes(int64(len(p.cmd) + len(p.rsp)))
	b.ReportAllocs()
	for b.Loop() {
		p.feed(s, ctx)
	}
}

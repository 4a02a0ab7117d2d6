package dissecttest

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Poll is a request and its answer fed to one session again and again,
// as a client polling a server does: the steady state that benchmarks
// measure and allocation tests pin.
type Poll struct {
	Session dissect.Session
	Ctx     *dissect.Context
	Request []byte // fed towards the server
	Answer  []byte // fed towards the client
}

// NewPoll returns the poll of request and answer on a new session of d
// over a TCP flow to port, whose operations are discarded.
func NewPoll(d dissect.Dissector, port uint16, request, answer []byte) *Poll {
	flow := Flow(dissect.TransportTCP, port)
	return &Poll{Session: d.NewSession(flow), Ctx: Context(flow, Discard), Request: request, Answer: answer}
}

// Cycle feeds the request and then the answer, each whole.
func (p *Poll) Cycle() {
	p.Session.Feed(dissect.ToServer, p.Request, p.Ctx)
	p.Session.Feed(dissect.ToClient, p.Answer, p.Ctx)
}

// Bench runs poll cycles for b, reporting allocations and the bytes of a
// cycle.
func (p *Poll) Bench(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(p.Request) + len(p.Answer)))
	for b.Loop() {
		p.Cycle()
	}
}

// ZeroAllocs fails t unless a poll cycle, after a first one that warms
// the session's caches and scratch operation, allocates nothing. Every
// operation emitted must satisfy ok, and there must be some.
func (p *Poll) ZeroAllocs(t *testing.T, ok func(*dissect.Operation) bool) {
	t.Helper()
	n := 0
	p.Ctx.Emitter = dissect.EmitterFunc(func(op *dissect.Operation) {
		if !ok(op) {
			t.Fatalf("unexpected operation %+v", op)
		}
		n++
	})
	p.Cycle()
	if a := testing.AllocsPerRun(200, p.Cycle); a != 0 {
		t.Errorf("%v allocations per poll cycle, want 0", a)
	}
	if n == 0 {
		t.Fatal("no operations")
	}
}

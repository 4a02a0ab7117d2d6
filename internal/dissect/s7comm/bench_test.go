package s7comm

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// A polling cycle as an HMI runs it: read var of DB1.DBW4 and M10.3
// (two items) and its answer.
const (
	pollRequest = "03 00 002b 02 f0 80 32 01 0000 0200 001a 0000 04 02 " +
		"12 0a 10 04 0001 0001 84 000020 12 0a 10 01 0001 0000 83 000053"
	pollAnswer = "03 00 0020 02 f0 80 32 03 0000 0200 0002 000b 00 00 04 02 ff 04 0010 1234 ff 03 0001 01"
)

func pollSession(tb testing.TB) (dissect.Session, *dissect.Context, []byte, []byte) {
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	return Dissector{}.NewSession(flow), ctx, dissecttest.Hex(tb, pollRequest), dissecttest.Hex(tb, pollAnswer)
}

func TestPollAllocs(t *testing.T) {
	s, ctx, req, ans := pollSession(t)
	n := 0
	ctx.Emitter = dissect.EmitterFunc(func(op *dissect.Operation) {
		if op.FunctionName != "read_var" || op.Result.Status != dissect.StatusOK || len(op.Targets) != 2 || op.Targets[1].Name != "M10.3" {
			t.Fatalf("unexpected operation %+v", op)
		}
		n++
	})
	cycle := func() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, ans, ctx)
	}
	cycle() // warm the name cache and the scratch operation
	if a := testing.AllocsPerRun(200, cycle); a != 0 {
		t.Errorf("%v allocations per poll cycle, want 0", a)
	}
	if n == 0 {
		t.Fatal("no operations")
	}
}

func BenchmarkPoll(b *testing.B) {
	s, ctx, req, ans := pollSession(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(req) + len(ans)))
	for b.Loop() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, ans, ctx)
	}
}

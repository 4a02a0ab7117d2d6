package dnp3

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// poll is a class 0 poll and its response with binary inputs (g1v2),
// analog inputs (g30v1) and counters (g20v1): the common read path.
func poll(t testing.TB) (request, response []byte) {
	request = req(t, 0, "c0 01 3c02 06 3c03 06 3c04 06 3c01 06")
	response = rsp(t, 0, "c0 81 0000"+
		" 0102 00 00 07 01010101 01010101"+
		" 1e01 00 00 03 01 0a000000 01 0b000000 01 0c000000 01 0d000000"+
		" 1401 00 00 01 01 e8030000 01 d0070000")
	return request, response
}

func BenchmarkSessionPoll(b *testing.B) {
	request, response := poll(b)
	dissecttest.NewPoll(Dissector{}, Port, request, response).Bench(b)
}

// TestPollAllocs pins the steady state of a poll at zero allocations.
func TestPollAllocs(t *testing.T) {
	request, response := poll(t)
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	s := Dissector{}.NewSession(flow)
	n := 0
	ctx := dissecttest.Context(flow, dissect.EmitterFunc(func(op *dissect.Operation) {
		if op.FunctionName != "read" || !op.Response || op.Result.Status != dissect.StatusOK || len(op.Targets) != 7 {
			t.Errorf("unexpected operation %s", summary(op))
		}
		n++
	}))
	if allocs := testing.AllocsPerRun(200, func() {
		s.Feed(dissect.ToServer, request, ctx)
		s.Feed(dissect.ToClient, response, ctx)
	}); allocs != 0 {
		t.Errorf("%v allocations per poll, want 0", allocs)
	}
	if n != 201 {
		t.Errorf("%d operations, want 201", n)
	}
}

package opcua

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// pollPair returns a Read request of 10 values, its response, and a
// Publish request and response: the steady polling path of a client.
func pollPair() (req, resp, pubReq, pubResp []byte) {
	return msg(40, readRequest(40, 10)), msg(40, readResponse(40, 0, 10)),
		msg(41, enc(nil).numeric(826).requestHeader(41).i32(0)),
		msg(41, enc(nil).numeric(829).responseHeader(41, 0).u32(1).i32(-1).u8(0).u32(0).zero(8).i32(0).i32(-1).i32(-1))
}

// TestAllocations pins the polling path to zero allocations per message.
func TestAllocations(t *testing.T) {
	req, resp, pubReq, pubResp := pollPair()
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	ops := 0
	ctx := dissecttest.Context(flow, dissect.EmitterFunc(func(op *dissect.Operation) {
		if op.Result.Status != dissect.StatusOK || !op.Request || !op.Response {
			t.Fatalf("op %+v", op)
		}
		ops++
	}))
	s := Dissector{}.NewSession(flow)
	allocs := testing.AllocsPerRun(100, func() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToServer, pubReq, ctx)
		s.Feed(dissect.ToClient, resp, ctx)
		s.Feed(dissect.ToClient, pubResp, ctx)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per poll, want 0", allocs)
	}
	if ops != 2*101 {
		t.Errorf("%d operations, want %d", ops, 2*101)
	}
}

// BenchmarkFeed measures a Read request/response pair.
func BenchmarkFeed(b *testing.B) {
	req, resp, _, _ := pollPair()
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := Dissector{}.NewSession(flow)
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, resp, ctx)
	}
}

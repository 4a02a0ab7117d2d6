package mms_test

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/dissect/s7comm"
)

// A polling cycle as an IEC 61850 client runs it after association: a
// read of two status values and its answer, each one TPKT frame.
func pollSession(tb testing.TB) (dissect.Session, *dissect.Context, []byte, []byte) {
	flow := dissecttest.Flow(dissect.TransportTCP, s7comm.Port)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := s7comm.Dissector{}.NewSession(flow)
	for _, st := range opening {
		dir := dissect.ToServer
		if !st.toServer {
			dir = dissect.ToClient
		}
		s.Feed(dir, st.data, ctx)
	}
	req := frames(readReq(7, "LLN0$ST$Mod$stVal", "MMXU1$MX$TotW$mag$f"), 1017)
	ans := frames(dataTSDU(confResp(7, enc("a4", enc("a1", h("85 01 01"), h("87 05 08 42 c8 00 00"))))), 1017)
	return s, ctx, req, ans
}

func TestPollAllocs(t *testing.T) {
	s, ctx, req, ans := pollSession(t)
	n := 0
	ctx.Emitter = dissect.EmitterFunc(func(op *dissect.Operation) {
		if op.Protocol != "mms" || op.FunctionName != "read" || op.Result.Status != dissect.StatusOK || len(op.Targets) != 2 ||
			op.Targets[1].Name != "IED1LD0/MMXU1$MX$TotW$mag$f" {
			t.Fatalf("unexpected operation %+v", op)
		}
		n++
	})
	cycle := func() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, ans, ctx)
	}
	cycle() // warm the interned names and the scratch operation
	if a := testing.AllocsPerRun(200, cycle); a != 0 {
		t.Errorf("%v allocations per poll cycle, want 0", a)
	}
	if n == 0 {
		t.Fatal("no operations")
	}
}

func BenchmarkReadPoll(b *testing.B) {
	s, ctx, req, ans := pollSession(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(req) + len(ans)))
	for b.Loop() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, ans, ctx)
	}
}

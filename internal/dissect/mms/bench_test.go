package mms_test

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/dissect/s7comm"
)

// A polling cycle as an IEC 61850 client runs it after association: a
// read of two status values and its answer, each one TPKT frame.
func pollSession() *dissecttest.Poll {
	req := frames(readReq(7, "LLN0$ST$Mod$stVal", "MMXU1$MX$TotW$mag$f"), 1017)
	ans := frames(dataTSDU(confResp(7, enc("a4", enc("a1", h("85 01 01"), h("87 05 08 42 c8 00 00"))))), 1017)
	p := dissecttest.NewPoll(s7comm.Dissector{}, s7comm.Port, req, ans)
	for _, st := range opening {
		dir := dissect.ToServer
		if !st.toServer {
			dir = dissect.ToClient
		}
		p.Session.Feed(dir, st.data, p.Ctx)
	}
	return p
}

func TestPollAllocs(t *testing.T) {
	pollSession().ZeroAllocs(t, func(op *dissect.Operation) bool {
		return op.Protocol == "mms" && op.FunctionName == "read" && op.Result.Status == dissect.StatusOK && len(op.Targets) == 2 &&
			op.Targets[1].Name == "IED1LD0/MMXU1$MX$TotW$mag$f"
	})
}

func BenchmarkReadPoll(b *testing.B) { pollSession().Bench(b) }

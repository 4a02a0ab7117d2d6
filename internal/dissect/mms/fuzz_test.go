package mms_test

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/dissect/mms"
	"github.com/otwatch/otwatch/internal/dissect/s7comm"
)

// FuzzMMS feeds the port 102 front end a CONNECT that makes the
// connection an ISO session one, then the fuzzed TSDU in DT TPDUs (mode
// bit 0 clear) or the fuzzed bytes as they are (bit 0 set), whole and
// split: no panic, the same operations. The TSDU also goes straight to a
// Session.
func FuzzMMS(f *testing.F) {
	for _, e := range scenario() {
		f.Add(byte(0), uint16(len(e.tsdu)/2), e.tsdu)
	}
	f.Add(byte(1), uint16(9), cat(crFrame, frames(connectTSDU, 100)))
	f.Add(byte(2), uint16(0), dataTSDU(confErr(5, 7, 2)))
	f.Add(byte(0), uint16(3), spdu(12, param(50, h("02 30 03 8a 01 02"))))
	f.Fuzz(func(t *testing.T, mode byte, cut uint16, data []byte) {
		dir := dissect.Direction(mode >> 1 & 1)
		in := data
		if mode&1 == 0 {
			in = cat(frames(connectTSDU, 1017), frames(data, 1017))
			dir = dissect.ToServer
		}
		dissecttest.FeedWholeAndSplit(t, s7comm.Dissector{}, dir, in, int(cut))
		flow := dissecttest.Flow(dissect.TransportTCP, s7comm.Port)
		s := mms.NewSession(flow)
		ctx := dissecttest.Context(flow, dissecttest.Discard)
		s.TSDU(dir, data, false, ctx.Packet, false, ctx)
		s.Close(ctx)
	})
}

package snmp

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds inputs as a TCP stream (whole and split) and as UDP
// datagrams in both directions. The corpus has no SNMP; the seeds are the
// table messages.
func FuzzSession(f *testing.F) {
	for _, m := range [][]byte{getSystem, respSystem, setName, respRO, bulk, trapV1, trapV2, v3Get, v3Priv} {
		f.Add(m, len(m)/2)
	}
	f.Add(append(append([]byte(nil), getSystem...), respSystem...), 40)
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, max(cut, 0))
		(Dissector{}).Probe(data)
		flow := dissecttest.Flow(dissect.TransportUDP, AgentPort)
		ctx := dissecttest.Context(flow, dissecttest.Discard)
		s := Dissector{}.NewSession(flow)
		for _, dir := range []dissect.Direction{dissect.ToServer, dissect.ToClient} {
			if n, err := s.Feed(dir, data, ctx); n != len(data) || err != nil {
				t.Fatalf("UDP Feed = %d, %v", n, err)
			}
		}
		s.Close(ctx)
	})
}

package netbios

import (
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds inputs as a TCP name service stream (length-framed,
// whole and split) and as UDP datagrams to the name and datagram
// services, each of which must give exactly one operation.
func FuzzSession(f *testing.F) {
	for _, h := range []string{registration, positive, negative, statusQuery, statusResp, release, dgmDirect} {
		b := dissecttest.Hex(f, h)
		f.Add(b, len(b)/2)
	}
	for _, p := range dissecttest.UDPPayloads(f, filepath.Join(dissecttest.CorpusDir(), "*", "*", "capture.pcap*"), 60, NamePort, DatagramPort) {
		f.Add(p, len(p)/3)
	}
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, max(cut, 0))
		for _, port := range []uint16{NamePort, DatagramPort} {
			n := 0
			flow := dissecttest.Flow(dissect.TransportUDP, port)
			ctx := dissecttest.Context(flow, dissect.EmitterFunc(func(*dissect.Operation) { n++ }))
			s := Dissector{}.NewSession(flow)
			if c, err := s.Feed(dissect.ToClient, data, ctx); c != len(data) || err != nil {
				t.Fatalf("UDP Feed = %d, %v", c, err)
			}
			s.Close(ctx)
			if n != 1 {
				t.Fatalf("%d operations for one datagram to port %d, want 1", n, port)
			}
		}
	})
}

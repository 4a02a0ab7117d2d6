package dhcp

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds inputs as a TCP stream (length-framed, whole and split)
// and as one UDP datagram, which must give exactly one operation.
func FuzzSession(f *testing.F) {
	m := discoverMessage(f)
	f.Add(m, 100)
	f.Add(binary.BigEndian.AppendUint16(nil, uint16(len(m))), 1)
	for _, p := range dissecttest.UDPPayloads(f, filepath.Join(dissecttest.CorpusDir(), "*", "*", "capture.pcap*"), 40, ServerPort, ClientPort) {
		f.Add(p, len(p)/2)
		f.Add(append(binary.BigEndian.AppendUint16(nil, uint16(len(p))), p...), 7)
	}
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, max(cut, 0))
		flow := dissecttest.Flow(dissect.TransportUDP, ServerPort)
		n := 0
		ctx := dissecttest.Context(flow, dissect.EmitterFunc(func(*dissect.Operation) { n++ }))
		s := Dissector{}.NewSession(flow)
		if c, err := s.Feed(dissect.ToClient, data, ctx); c != len(data) || err != nil {
			t.Fatalf("UDP Feed = %d, %v", c, err)
		}
		s.Close(ctx)
		if n != 1 {
			t.Fatalf("%d operations for one datagram, want 1", n)
		}
	})
}

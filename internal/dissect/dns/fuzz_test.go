package dns

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds inputs as a TCP stream (length-framed, whole and
// split) and as UDP datagrams to each of the three dissectors.
func FuzzSession(f *testing.F) {
	for _, h := range []string{queryA, respA, respNX, respPTR, respCNAME} {
		b := dissecttest.Hex(f, h)
		f.Add(b, 5)
		f.Add(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...), 9)
	}
	for _, p := range dissecttest.UDPPayloads(f, filepath.Join(dissecttest.CorpusDir(), "*", "*", "capture.pcap*"), 40, 53, 5353, 5355) {
		f.Add(p, len(p)/2)
	}
	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		dissecttest.FeedWholeAndSplit(t, DNS, dissect.ToServer, data, max(cut, 0))
		dissecttest.FeedWholeAndSplit(t, LLMNR, dissect.ToClient, data, max(cut, 0))
		DNS.Probe(data)
		for _, d := range []Dissector{DNS, MDNS, LLMNR} {
			flow := dissecttest.Flow(dissect.TransportUDP, 53)
			ctx := dissecttest.Context(flow, dissecttest.Discard)
			s := d.NewSession(flow)
			for _, dir := range []dissect.Direction{dissect.ToServer, dissect.ToClient} {
				if n, err := s.Feed(dir, data, ctx); n != len(data) || err != nil {
					t.Fatalf("UDP Feed = %d, %v", n, err)
				}
			}
			s.Close(ctx)
		}
	})
}

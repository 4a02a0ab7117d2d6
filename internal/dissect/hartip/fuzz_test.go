package hartip

import (
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds any bytes, whole and split at any point, to a TCP
// session in either direction and as one datagram to a UDP session: no
// panic, and the same operations either way.
func FuzzSession(f *testing.F) {
	if dir := dissecttest.CorpusDir(); dir != "" {
		dissecttest.SeedFromPcaps(f, filepath.Join(dir, "hartip", "*", "capture.pcap*"), 60)
	}
	for _, e := range exchanges(f) {
		f.Add(dissecttest.Hex(f, e[0]))
		f.Add(dissecttest.Hex(f, e[1]))
		f.Add(dissecttest.Hex(f, e[0]+e[1]))
	}
	for _, s := range []string{
		hip(f, 3, 3, 0, 13, "01"),
		hip(f, 2, 3, 0, 14, tp(f, 0x01, "80", 1, "00 00 20 42c80000")),
		hip(f, 0, 4, 0, 15, "00 00 | 0001 00 | 0030 00") + hip(f, 1, 4, 0, 15, "40 00 | 0001 06 00 20 42c80000 | 0030 02 40 00"),
		hip(f, 0, 3, 0, 12, tp(f, 0x02, "80", 31, "0300 00112233")),
		hip(f, 1, 3, 0, 12, tp(f, 0xe6, "80 aa bb cc", 13, "00 00 04 20 c4 04 20 c4 04 20 c4 04 20 c4 04 20 c4 04 20 c4 010203")),
		"ff ff 00 09 01 00 01 00 0002 0008",
		"01 00 03 00 0019 0020 ff ff ff 02 80 00 00 82",
	} {
		f.Add(dissecttest.Hex(f, s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cut := 0
		if len(data) > 0 {
			cut = int(data[0])
		}
		dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToServer, data, cut)
		dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToClient, data, cut*7)
		flow := dissecttest.Flow(dissect.TransportUDP, Port)
		ctx := dissecttest.Context(flow, dissecttest.Discard)
		s := Dissector{}.NewSession(flow)
		s.Feed(dissect.ToServer, data, ctx)
		s.Feed(dissect.ToClient, data, ctx)
		s.Close(ctx)
		(Dissector{}).Probe(data)
	})
}

package synphasor

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
		dissecttest.SeedFromPcaps(f, filepath.Join(dir, "synphasor", "*", "capture.pcap*"), 60)
	}
	for _, m := range conversation(f) {
		f.Add(dissecttest.Hex(f, m.hex))
	}
	for _, s := range []string{
		pypmuStart + pypmuConfig2 + pypmuData,
		frame(f, typeConfig3, 1, "0001 000f4240 0001"),
		frame(f, typeConfig3, 1, "0000 000f4240 0001 ff"),
		frame(f, typeConfig2, 1, "000f4240 0002 "+pypmuConfig2[40:100]),
		"00 01 aa ff aa 41 00 12 00 00" + pypmuStart,
		"aa 41 ff ff 00 00",
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
		flow := dissecttest.Flow(dissect.TransportUDP, UDPPort)
		ctx := dissecttest.Context(flow, dissecttest.Discard)
		s := Dissector{}.NewSession(flow)
		s.Feed(dissect.ToServer, data, ctx)
		s.Feed(dissect.ToClient, data, ctx)
		s.Close(ctx)
		(Dissector{}).Probe(data)
	})
}

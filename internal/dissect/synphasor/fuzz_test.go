package synphasor

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds any bytes, whole and split at any point, to a TCP
// session in either direction and as one datagram to a UDP session: no
// panic, and the same operations either way.
func FuzzSession(f *testing.F) {
	dissecttest.SeedFromCorpus(f, "synphasor", 60)
	for _, m := range conversation(f) {
		f.Add(dissecttest.Hex(f, m.hex))
	}
	dissecttest.SeedHex(f,
		pypmuStart+pypmuConfig2+pypmuData,
		frame(f, typeConfig3, 1, "0001 000f4240 0001"),
		frame(f, typeConfig3, 1, "0000 000f4240 0001 ff"),
		frame(f, typeConfig2, 1, "000f4240 0002 "+pypmuConfig2[40:100]),
		"00 01 aa ff aa 41 00 12 00 00"+pypmuStart,
		"aa 41 ff ff 00 00",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		dissecttest.FeedBothWays(t, Dissector{}, data)
		dissecttest.FeedDatagrams(Dissector{}, UDPPort, data)
		(Dissector{}).Probe(data)
	})
}

package fins

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds any bytes, whole and split at any point, to a FINS/TCP
// session in either direction and as one datagram to a UDP session: no
// panic, and the same operations either way.
func FuzzSession(f *testing.F) {
	dissecttest.SeedFromCorpus(f, "fins", 60)
	for _, e := range exchanges {
		f.Add(dissecttest.Hex(f, e[0]))
		f.Add(dissecttest.Hex(f, e[1]))
		f.Add([]byte(tcpFrame(f, e[0]) + tcpFrame(f, e[1])))
	}
	dissecttest.SeedHex(f,
		"46494e53 0000000c 00000000 00000000 00000000",
		"46494e53 00000010 00000001 00000000 00000014 0000000a",
		"46494e53 00000008 00000003 00000021 46494e53 00000008 00000006 00000000",
		"00 46 49 46494e53 00000014 00000002 00000000 80 00 02 00 0a 00 00 ef 00 03 06 01",
		"46494e53 00000010 00000002 00000000 81 00 02 00 0a 00 00 14 00 20 23 01",
		"80 00 02 00 0a 00 00 14 00 01 01 04 82 0001 00 b2 0002 00 31 0003 04 a5 0004 00 02 0005 06",
		"80 00 02 00 0a 00 00 14 00 01 23 01 0002 0001 30 0001 02 ffff 82 0002 03",
		"80 00 02 00 0a 00 00 14 00 01 22 08 8000 4f4c442020202020 2e545854 4e45572020202020 2e545854",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		dissecttest.FeedBothWays(t, Dissector{}, data)
		dissecttest.FeedDatagrams(Dissector{}, Port, data)
		(Dissector{}).Probe(data)
	})
}

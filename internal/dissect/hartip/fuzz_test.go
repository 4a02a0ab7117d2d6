package hartip

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds any bytes, whole and split at any point, to a TCP
// session in either direction and as one datagram to a UDP session: no
// panic, and the same operations either way.
func FuzzSession(f *testing.F) {
	dissecttest.SeedFromCorpus(f, "hartip", 60)
	for _, e := range exchanges(f) {
		f.Add(dissecttest.Hex(f, e[0]))
		f.Add(dissecttest.Hex(f, e[1]))
		f.Add(dissecttest.Hex(f, e[0]+e[1]))
	}
	dissecttest.SeedHex(f,
		hip(f, 3, 3, 0, 13, "01"),
		hip(f, 2, 3, 0, 14, tp(f, 0x01, "80", 1, "00 00 20 42c80000")),
		hip(f, 0, 4, 0, 15, "00 00 | 0001 00 | 0030 00")+hip(f, 1, 4, 0, 15, "40 00 | 0001 06 00 20 42c80000 | 0030 02 40 00"),
		hip(f, 0, 3, 0, 12, tp(f, 0x02, "80", 31, "0300 00112233")),
		hip(f, 1, 3, 0, 12, tp(f, 0xe6, "80 aa bb cc", 13, "00 00 04 20 c4 04 20 c4 04 20 c4 04 20 c4 04 20 c4 04 20 c4 010203")),
		"ff ff 00 09 01 00 01 00 0002 0008",
		"01 00 03 00 0019 0020 ff ff ff 02 80 00 00 82",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		dissecttest.FeedBothWays(t, Dissector{}, data)
		dissecttest.FeedDatagrams(Dissector{}, Port, data)
		(Dissector{}).Probe(data)
	})
}

package dnp3

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

func FuzzSession(f *testing.F) {
	dissecttest.SeedFromCorpus(f, "dnp3", 40)
	crob := "0c01 28 0100 0300 03 01 64000000 64000000 00"
	f.Add(append(req(f, 0, "c0 01 3c02 06 3c03 06 3c04 06 3c01 06"), rsp(f, 0, "c0 81 0000 1e01 00 00 01 01 0a000000 01 0b000000")...))
	f.Add(append(req(f, 1, "c1 03 "+crob), req(f, 2, "c2 04 "+crob)...))
	f.Add(rsp(f, 3, "f0 82 0000 0201 17 01 05 81"))
	f.Add(req(f, 4, "c6 19 4603 5b 01 1e00 1a00 0400 000000000000 0000 00000000 00000000 0100 0001 0000 612e6462"))
	f.Add(frame(0xc9, 10, 1, nil))
	// The seeds from captures are single payloads, so the split points
	// come from the data: its middle and a point chosen by its last byte.
	f.Fuzz(func(t *testing.T, data []byte) {
		cuts := []int{len(data) / 2}
		if len(data) > 0 {
			cuts = append(cuts, int(data[len(data)-1])*7)
		}
		for _, cut := range cuts {
			for _, dir := range []dissect.Direction{dissect.ToServer, dissect.ToClient} {
				dissecttest.FeedWholeAndSplit(t, Dissector{}, dir, data, cut)
			}
		}
	})
}

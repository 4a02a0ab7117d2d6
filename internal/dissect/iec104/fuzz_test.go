package iec104

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzSession feeds any bytes, whole and split at any point, to a session
// in either direction: no panic, and the same operations either way.
func FuzzSession(f *testing.F) {
	dissecttest.SeedFromCorpus(f, "iec104", 60)
	dissecttest.SeedHex(f,
		"68 04 07 00 00 00 68 04 0b 00 00 00",
		"68 0e 00 00 00 00 2d 01 06 00 0a 00 02 00 00 81 68 0e 00 00 02 00 2d 01 07 00 0a 00 02 00 00 81",
		"68 0e 00 00 00 00 64 01 06 00 0a 00 00 00 00 14 68 0e 02 00 00 00 64 01 0a 00 0a 00 00 00 00 14",
		"68 1a 00 00 00 00 0d 02 03 00 0a 00 01 00 00 00 00 80 3f 00 02 00 00 00 00 00 40 00",
		"68 10 00 00 00 00 01 83 14 09 0a 00 64 00 00 01 00 01",
		"68 14 00 00 00 00 67 01 06 00 0a 00 00 00 00 94 41 17 06 04 07 0d",
		"68 0d 00 00 00 00 66 01 05 00 0a 00 01 00 00 68 12 00 00 02 00 0d 01 05 00 0a 00 01 00 00 00 00 80 3f 00",
		"68 12 00 00 00 00 32 01 06 00 0a 00 01 00 00 00 00 c0 3f 00",
		"68 15 00 00 00 00 7d 01 0d 00 0a 00 01 00 00 01 00 01 04 aa bb cc dd",
		"68 17 00 00 00 00 6b 01 06 00 0a 00 00 00 00 34 12 94 41 17 06 04 07 0d",
		"00 01 02 68 02 68 04 0f 00 00 00 68 04 01 00 0a 00",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		dissecttest.FeedBothWays(t, Dissector{}, data)
	})
}

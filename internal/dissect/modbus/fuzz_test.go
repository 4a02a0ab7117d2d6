package modbus

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/testenv"
)

// FuzzSession feeds any bytes, whole and split at any point, to a session
// in either direction: no panic, and the same operations either way.
func FuzzSession(f *testing.F) {
	if dir := os.Getenv("OTWATCH_CORPUS"); dir != "" {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(testenv.ModuleRoot(), dir)
		}
		dissecttest.SeedFromPcaps(f, filepath.Join(dir, "modbus", "*", "capture.pcap*"), 40)
	}
	for _, s := range []string{
		"0001 0000 0006 01 03 0000 000A",
		"0001 0000 0017 01 03 14 0001000100010001000100010001000100010001",
		"0001 0000 0003 01 83 02 0002 0000 0006 01 01 0013 0013",
		"0017 0000 003d 01 2b0e018300000300105a65656b204d6f646275732054657374011850726f746f636f6c2050617273696e672069732066756e210207312e322e332e36",
		"000f 0000 0035 02 11325a65656b204d6f6462757320546573742d50726f746f636f6c2050617273696e672069732066756e212d312e322e332e36ff",
		"0014 0000 000f 01 14 0E 06 0004 0001 0002 06 0003 0009 0002",
		"0011 0000 000f 01 15 0D 06 0004 0007 0003 06AF 04BE 100D",
		"0014 0000 0011 06 17 0003 0006 000E 0003 06 00FF 00FF 00FF",
		"0016 0000 0004 0a 18 0000 0016 0000 0006 0a 1800020000",
		"0001 0000 0005 00 5a 00 41 ff",
		"0001 0000 0001 01 0000 0000 0000",
		"0001 0001 0006 01 03 0000 0001",
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
	})
}

package s7comm

import (
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

func FuzzSession(f *testing.F) {
	for _, h := range []string{
		"03 00 0016 11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102",
		"03 00 001f 02 f0 80 32 01 0000 0200 000e 0000 04 01 12 0a 10 04 0001 0001 84 000020",
		"03 00 001b 02 f0 80 32 03 0000 0200 0002 0006 00 00 04 01 ff 04 0010 1234",
		"03 00 000f 02 f0 00 32 01 0000 0a00 000e 03 00 0017 02 f0 81 0000 04 01 12 0a 10 04 0001 0001 84 000020",
		"03 00 0021 02 f0 80 32 07 0000 0700 0008 0008 000112 04 11 44 01 00 ff 09 0004 0011 0000",
		"03 00 001e 02 f0 80 72 01 000f 31 0000 04ca 0000 0001 00000120 36 00 72 01 0000",
		"ff ff 00 11 22 03 00 0021 02 f0 80 32 01 0000 0400 0010 0000 29 0000000000 09 505f50524f4752414d",
	} {
		f.Add(byte(0), uint16(0), dissecttest.Hex(f, h))
	}
	if dir := dissecttest.CorpusDir(); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "s7comm", "*", "capture.pcap*"))
		for _, file := range files {
			for i, p := range dissecttest.Payloads(f, file, 40) {
				f.Add(byte(i&1), uint16(i*7), p)
			}
		}
	}
	f.Fuzz(func(t *testing.T, dir byte, cut uint16, data []byte) {
		dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.Direction(dir&1), data, int(cut))
	})
}

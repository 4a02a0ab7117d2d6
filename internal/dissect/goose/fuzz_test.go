package goose

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// FuzzGoose hands any bytes to the dissectors as a GOOSE, GSE management
// and SV frame. No input may panic; a GOOSE or GSE frame gives exactly one
// operation, an SV frame at most one; and Ethernet padding after the
// header's length changes nothing. (Frames are whole: there is no stream
// to split.)
func FuzzGoose(f *testing.F) {
	f.Add(dissecttest.Hex(f, handFrame))
	for _, w := range testFrames() {
		f.Add(w.payload)
	}
	for _, b := range dissecttest.CorpusPayloads(f, 50, func(p *decode.Packet) bool {
		return !p.SrcIP.IsValid() && (p.EtherType == EtherTypeGOOSE || p.EtherType == EtherTypeGSE || p.EtherType == EtherTypeSV)
	}) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dissectOnce := func(fd dissect.FrameDissector, et uint16, payload []byte) *dissecttest.Collector {
			var c dissecttest.Collector
			ctx := &dissect.Context{Emitter: &c, Time: dissecttest.Start}
			fd.Dissect(&dissect.Frame{Time: dissecttest.Start, SrcMAC: ied1, DstMAC: gooseMC, EtherType: et, Payload: payload}, ctx)
			return &c
		}
		d := New(Options{Publishers: 4})
		for _, et := range []uint16{EtherTypeGOOSE, EtherTypeGSE, EtherTypeGOOSE} {
			if c := dissectOnce(d, et, data); len(c.Ops) != 1 {
				t.Fatalf("EtherType %#04x: %d operations, want 1", et, len(c.Ops))
			}
		}
		if c := dissectOnce(NewSV(Options{Publishers: 4}), EtherTypeSV, data); len(c.Ops) > 1 {
			t.Fatalf("SV: %d operations", len(c.Ops))
		}
		if len(data) >= headerLen && int(binary.BigEndian.Uint16(data[2:])) <= len(data) {
			padded := append(bytes.Clone(data), make([]byte, 40)...)
			a := dissectOnce(New(Options{Publishers: 4}), EtherTypeGOOSE, data).JSONL()
			b := dissectOnce(New(Options{Publishers: 4}), EtherTypeGOOSE, padded).JSONL()
			if a != b {
				t.Fatalf("padding changes the operation:\n%s\n%s", a, b)
			}
			a = dissectOnce(NewSV(Options{Publishers: 4}), EtherTypeSV, data).JSONL()
			b = dissectOnce(NewSV(Options{Publishers: 4}), EtherTypeSV, padded).JSONL()
			if a != b {
				t.Fatalf("padding changes the SV operation:\n%s\n%s", a, b)
			}
		}
	})
}

package goose

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// corpusFrames returns up to max GOOSE, GSE management and SV payloads (the
// bytes after the EtherType) of the corpus captures, for fuzz seeds; none
// without a corpus.
func corpusFrames(t testing.TB, max int) [][]byte {
	dir := dissecttest.CorpusDir()
	if dir == "" {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*", "capture.pcap*"))
	dec := decode.NewDecoder(decode.DefaultOptions)
	var p decode.Packet
	var out [][]byte
	for _, name := range files {
		src, err := capture.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		for len(out) < max {
			pkt, err := src.ReadPacket()
			if err != nil {
				break
			}
			if dec.Decode(pkt.LinkType, pkt.Data, pkt.Timestamp, &p) == nil && !p.SrcIP.IsValid() &&
				(p.EtherType == EtherTypeGOOSE || p.EtherType == EtherTypeGSE || p.EtherType == EtherTypeSV) {
				out = append(out, bytes.Clone(p.Payload))
			}
		}
		src.Close()
	}
	return out
}

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
	for _, b := range corpusFrames(f, 50) {
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

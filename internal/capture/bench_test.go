package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// frameLen gives packet i a length between 60 and 1514 bytes.
func frameLen(i int) int { return 60 + (i*397)%1455 }

// memPcap builds a classic pcap of n Ethernet frames in memory.
func memPcap(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, layers.LinkTypeEthernet, 0)
	frame := make([]byte, 1514)
	for i := range n {
		if err := w.WritePacket(time.Unix(1600000000, int64(i)*1000), frame[:frameLen(i)], frameLen(i)); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

// memPcapng builds a little-endian pcapng of n frames in memory, alternating
// between an Ethernet interface (microseconds) and a raw IP interface
// (nanoseconds), each EPB carrying an epb_flags option.
func memPcapng(tb testing.TB, n int) []byte {
	tb.Helper()
	le := binary.LittleEndian
	b := unhex(tb, `0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffff ffffffff 1c000000
		01000000 14000000 0100 0000 00000000 14000000
		01000000 1c000000 6500 0000 00000000 0900 0100 09000000 1c000000`)
	frame := make([]byte, 1516)
	for i := range n {
		l := frameLen(i)
		pad := (l + 3) &^ 3
		total := 32 + pad + 8
		b = le.AppendUint32(b, ngEPB)
		b = le.AppendUint32(b, uint32(total))
		b = le.AppendUint32(b, uint32(i%2))
		ts := uint64(1600000000_000000 + i)
		if i%2 == 1 {
			ts *= 1000
		}
		b = le.AppendUint32(b, uint32(ts>>32))
		b = le.AppendUint32(b, uint32(ts))
		b = le.AppendUint32(b, uint32(l))
		b = le.AppendUint32(b, uint32(l))
		b = append(b, frame[:pad]...)
		b = append(b, 2, 0, 4, 0, 1, 0, 0, 0) // epb_flags: inbound
		b = le.AppendUint32(b, uint32(total))
	}
	return b
}

func TestReadPacketAllocs(t *testing.T) {
	const n = 3000
	files := []struct {
		name string
		data []byte
	}{
		{"pcap", memPcap(t, n)},
		{"pcapng", memPcapng(t, n)},
		// compress/flate allocates once per compressed block of many
		// packets, which AllocsPerRun's per-run average rounds to 0.
		{"pcap gzip", gzipBytes(t, memPcap(t, n))},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			src := mustReader(t, f.data)
			for range 10 {
				if _, err := src.ReadPacket(); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(1000, func() {
				if _, err := src.ReadPacket(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("ReadPacket allocates %.1f times per packet, want 0", allocs)
			}
		})
	}
}

func benchmarkRead(b *testing.B, file []byte) {
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	var packets int
	for b.Loop() {
		src, err := NewReader(bytes.NewReader(file), "bench")
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := src.ReadPacket()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			packets++
		}
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}

func BenchmarkReadPcap(b *testing.B) { benchmarkRead(b, memPcap(b, 10000)) }

func BenchmarkReadPcapng(b *testing.B) { benchmarkRead(b, memPcapng(b, 10000)) }

func BenchmarkReadPcapGzip(b *testing.B) { benchmarkRead(b, gzipBytes(b, memPcap(b, 10000))) }

package evidence

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// BenchmarkAdd stores frames round-robin over 10k flows in a ring with the
// default options, arena wrapping included; "nolock" calls the unlocked
// body to show what the mutex costs when nobody else holds it.
func BenchmarkAdd(b *testing.B) {
	for _, size := range []int{64, 1500} {
		for _, locked := range []bool{true, false} {
			name := fmt.Sprintf("%dB/10kflows", size)
			if !locked {
				name += "/nolock"
			}
			b.Run(name, func(b *testing.B) {
				r := New(DefaultOptions)
				data := frame(1, 1, size)
				const flows = 10000
				var i uint64
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					flow := i % flows
					if locked {
						r.Add(flow, i/flows, t0, layers.LinkTypeEthernet, data, size)
					} else {
						r.add(flow, i/flows, t0.UnixNano(), layers.LinkTypeEthernet, data, size)
					}
					i++
				}
				b.ReportMetric(float64(r.Stats().Overwritten)/float64(b.N), "overwritten/op")
			})
		}
	}
}

// BenchmarkPackets copies out a full flow of 64 packets of 200 bytes.
func BenchmarkPackets(b *testing.B) {
	r := New(Options{ArenaBytes: 1 << 20})
	for i := range uint64(64) {
		r.Add(1, i, t0.Add(time.Duration(i)), layers.LinkTypeEthernet, frame(1, i, 200), 200)
	}
	b.SetBytes(64 * 200)
	b.ReportAllocs()
	for b.Loop() {
		if len(r.Packets(1, time.Time{}, time.Time{})) != 64 {
			b.Fatal("packets lost")
		}
	}
}

// BenchmarkWritePcapng writes 64 packets of 200 bytes with comments.
func BenchmarkWritePcapng(b *testing.B) {
	r := New(Options{ArenaBytes: 1 << 20})
	for i := range uint64(64) {
		r.Add(1, i, t0.Add(time.Duration(i)), layers.LinkTypeEthernet, frame(1, i, 200), 200)
	}
	pkts := r.Packets(1, time.Time{}, time.Time{})
	pkts[10].Comment = "trigger"
	b.SetBytes(64 * 200)
	b.ReportAllocs()
	for b.Loop() {
		if err := WritePcapng(io.Discard, pkts, WriteOptions{Comment: "alert"}); err != nil {
			b.Fatal(err)
		}
	}
}

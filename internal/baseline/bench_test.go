package baseline

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// large returns a baseline of n entries spread over the kinds, with
// distinct addresses, MACs and targets, and the entries in the order they
// were added.
func large(n int) (*Baseline, []Entry) {
	b := New(0)
	t := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	kinds := []Kind{KindDevice, KindConnection, KindFunction, KindClass, KindRange, KindRate, KindValue}
	es := make([]Entry, 0, n)
	for i := range n {
		e := Entry{Kind: kinds[i%len(kinds)],
			Client:   netip.AddrFrom4([4]byte{10, 10, byte(i >> 16), byte(i >> 8)}),
			Server:   netip.AddrFrom4([4]byte{10, 20, byte(i >> 4), byte(i)}),
			MAC:      dissect.MAC{0x00, 0x1b, 0x1b, byte(i >> 16), byte(i >> 8), byte(i)},
			Protocol: "modbus", Port: 502, Function: fmt.Sprintf("f%d", i%17), Target: fmt.Sprintf("holding:%d-%d", i%1000, i%1000+9)}
		b.Observe(e, t, "learning")
		es = append(es, e)
	}
	return b, es
}

// BenchmarkRecords sorts a large baseline's records, as the sensor does
// each time it stores the baseline.
func BenchmarkRecords(b *testing.B) {
	bl, _ := large(50_000)
	b.ReportAllocs()
	for b.Loop() {
		bl.Records()
	}
}

// BenchmarkHas looks entries up as the detection engines do, once or more
// per operation.
func BenchmarkHas(b *testing.B) {
	bl, es := large(50_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bl.Has(es[i%len(es)])
		i++
	}
}

// BenchmarkHasParallel looks entries up from every CPU at once.
func BenchmarkHasParallel(b *testing.B) {
	bl, es := large(50_000)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			bl.Has(es[i%len(es)])
			i++
		}
	})
}

// BenchmarkRecordsByText sorts as Records does the plain way, for
// comparison.
func BenchmarkRecordsByText(b *testing.B) {
	bl, _ := large(50_000)
	b.ReportAllocs()
	for b.Loop() {
		recordsByText(bl)
	}
}

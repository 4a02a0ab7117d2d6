package sensor

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/simulate"
)

// BenchmarkRunFiles measures the whole sensor on a simulated hour with the
// attack scenarios: capture file, pipeline, inventory, detection and the
// SQLite store, from start to the last write.
func BenchmarkRunFiles(b *testing.B) {
	dir := b.TempDir()
	pcap := filepath.Join(dir, "plant.pcap")
	sum := simulateFile(b, pcap, scenarioOptions(1, simulate.DefaultStart, time.Hour))
	b.SetBytes(sum.Bytes)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		st := openStore(b, filepath.Join(dir, fmt.Sprintf("b%d.db", i)))
		var logs logBuffer
		cfg := Config{Name: "bench", Store: st, Logger: logs.logger(), Files: []string{pcap}, Learn: 20 * time.Minute}
		if err := Run(context.Background(), cfg); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sum.Packets)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

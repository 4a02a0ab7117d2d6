package sensor

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/evidence"
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

// BenchmarkWriterEvidence measures the writer storing a batch of alerts
// that carry packets, and their evidence, in a SQLite store.
func BenchmarkWriterEvidence(b *testing.B) {
	const alerts, packets = 50, 16
	st := openStore(b, filepath.Join(b.TempDir(), "w.db"))
	w := &writer{st: st, sensor: "w", actor: "bench", log: slog.New(slog.DiscardHandler), m: NewMetrics(), base: baseline.New(0),
		state: &State{Files: map[string]FileState{}}, batchSize: alerts, interval: time.Second, alerts: map[string]*pendingAlert{}}
	t0 := simulate.DefaultStart
	pkts := make([]evidence.Packet, packets)
	for i := range pkts {
		data := make([]byte, 200)
		data[i%len(data)] = byte(i)
		pkts[i] = evidence.Packet{Flow: 1, Index: uint64(i), Timestamp: t0.Add(time.Duration(i) * time.Millisecond),
			LinkType: layers.LinkTypeEthernet, Data: data, Length: len(data)}
	}
	ctx := context.Background()
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for range alerts {
			n++
			w.add(&alert.Alert{ID: fmt.Sprintf("bench-%d", n), Type: "s7comm.plc_stop", Title: "PLC stop", Severity: alert.High,
				Engine: alert.Operational, Status: alert.New, Sensor: "w", FirstDetection: t0, LastDetection: t0, Count: 1, Packets: pkts})
		}
		if err := w.flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "alerts/s")
}

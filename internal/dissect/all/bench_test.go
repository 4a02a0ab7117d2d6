package all

import (
	"bytes"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
)

// BenchmarkPlantAllDissectors measures the whole packet path with every
// built-in dissector: read the simulated plant's pcap from memory, decode,
// flow lookup, evidence-free reassembly and dispatch to Modbus, DNP3,
// S7comm, EtherNet/IP and the rest.
func BenchmarkPlantAllDissectors(b *testing.B) {
	var buf bytes.Buffer
	sim, err := simulate.Generate(&buf, simulate.Options{Seed: 1, Duration: 10 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	file := buf.Bytes()
	b.SetBytes(sim.Bytes)
	b.ReportAllocs()
	for b.Loop() {
		src, err := capture.NewReader(bytes.NewReader(file), "plant.pcap")
		if err != nil {
			b.Fatal(err)
		}
		p := pipeline.New(pipeline.DefaultOptions)
		for {
			pkt, err := src.ReadPacket()
			if err != nil {
				break
			}
			p.Process(pkt)
		}
		p.Close()
	}
	n := float64(b.N) * float64(sim.Packets)
	b.ReportMetric(n/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/n, "ns/packet")
}

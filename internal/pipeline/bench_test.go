package pipeline

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/flow"
	"github.com/otwatch/otwatch/internal/simulate"
)

// plant is a simulated capture held in memory, and its frames.
type plant struct {
	file   []byte
	frames []capture.Packet
	bytes  int64
}

var cachedPlant *plant

// loadPlant simulates ten minutes of the plant once per test binary.
func loadPlant(tb testing.TB) *plant {
	tb.Helper()
	if cachedPlant != nil {
		return cachedPlant
	}
	var buf bytes.Buffer
	if _, err := simulate.Generate(&buf, simulate.Options{Seed: 1, Duration: 10 * time.Minute, Scenarios: []string{"portscan", "new-device"}}); err != nil {
		tb.Fatal(err)
	}
	pl := &plant{file: buf.Bytes()}
	src, err := capture.NewReader(bytes.NewReader(pl.file), "plant.pcap")
	if err != nil {
		tb.Fatal(err)
	}
	for {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		pkt.Data = bytes.Clone(pkt.Data)
		pl.frames = append(pl.frames, pkt)
		pl.bytes += int64(len(pkt.Data))
	}
	cachedPlant = pl
	return pl
}

// perPacket reports the benchmark's per-packet rate and bytes per second
// over a loop in which every iteration processes all frames once.
func perPacket(b *testing.B, pl *plant) {
	n := float64(b.N) * float64(len(pl.frames))
	b.ReportMetric(n/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(float64(b.N)*float64(pl.bytes)/b.Elapsed().Seconds()/1e6, "MB/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/n, "ns/packet")
}

// BenchmarkDecodeFlow measures decode and flow lookup alone: the part of
// the packet path that must allocate nothing and reach 3 million packets/s
// on one core.
func BenchmarkDecodeFlow(b *testing.B) {
	pl := loadPlant(b)
	dec := decode.NewDecoder(decode.DefaultOptions)
	flows := flow.New[struct{}](flow.DefaultOptions)
	var p decode.Packet
	b.ReportAllocs()
	for b.Loop() {
		for i := range pl.frames {
			f := &pl.frames[i]
			if dec.Decode(f.LinkType, f.Data, f.Timestamp, &p) == nil && p.SrcIP.IsValid() {
				flows.Update(&p)
			}
		}
	}
	perPacket(b, pl)
}

// BenchmarkPipeline measures the whole path from memory: read the pcap,
// decode, flow lookup, evidence, TCP reassembly, dispatch to dissectors.
func BenchmarkPipeline(b *testing.B) {
	pl := loadPlant(b)
	b.ReportAllocs()
	for b.Loop() {
		src, err := capture.NewReader(bytes.NewReader(pl.file), "plant.pcap")
		if err != nil {
			b.Fatal(err)
		}
		p := New(DefaultOptions)
		for {
			pkt, err := src.ReadPacket()
			if err != nil {
				break
			}
			p.Process(pkt)
		}
		p.Close()
	}
	perPacket(b, pl)
}

// TestDecodeFlowAllocs pins the zero-allocation promise of decode and flow
// lookup in steady state, over every frame of the simulated plant.
func TestDecodeFlowAllocs(t *testing.T) {
	pl := loadPlant(t)
	dec := decode.NewDecoder(decode.DefaultOptions)
	flows := flow.New[struct{}](flow.DefaultOptions)
	var p decode.Packet
	pass := func() {
		for i := range pl.frames {
			f := &pl.frames[i]
			if dec.Decode(f.LinkType, f.Data, f.Timestamp, &p) == nil && p.SrcIP.IsValid() {
				flows.Update(&p)
			}
		}
	}
	pass()
	if a := testing.AllocsPerRun(5, pass); a != 0 {
		t.Errorf("decode+flow allocates %.0f times per pass over %d frames, want 0", a, len(pl.frames))
	}
}

// TestPipelineSteadyStateAllocs checks that the whole path, dissectors
// included, allocates nothing per packet once its flows exist.
func TestPipelineSteadyStateAllocs(t *testing.T) {
	pl := loadPlant(t)
	p := New(DefaultOptions)
	for _, f := range pl.frames {
		p.Process(f)
	}
	// Replay the last minute again, shifted in time so the flows are live.
	var tail []capture.Packet
	last := pl.frames[len(pl.frames)-1].Timestamp
	for _, f := range pl.frames {
		if last.Sub(f.Timestamp) < time.Minute {
			tail = append(tail, f)
		}
	}
	shift := time.Duration(0)
	a := testing.AllocsPerRun(3, func() {
		shift += time.Minute
		for _, f := range tail {
			f.Timestamp = f.Timestamp.Add(shift)
			p.Process(f)
		}
	})
	if perPkt := a / float64(len(tail)); perPkt > 0.01 {
		t.Errorf("pipeline allocates %.3f times per packet in steady state, want ~0", perPkt)
	}
}

package engines_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
	_ "github.com/otwatch/otwatch/internal/dissect/all"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
)

// busyPlant is a simulated plant polled twice as fast as the default, split
// into the half a detector learns on and the half it watches.
type busyPlant struct {
	learn, watch []capture.Packet
	mid          time.Time
}

func loadBusyPlant(b *testing.B) *busyPlant {
	b.Helper()
	var buf bytes.Buffer
	if _, err := simulate.Generate(&buf, simulate.Options{Seed: 1, Duration: 20 * time.Minute, PollInterval: 500 * time.Millisecond}); err != nil {
		b.Fatal(err)
	}
	src, err := capture.NewReader(bytes.NewReader(buf.Bytes()), "plant.pcap")
	if err != nil {
		b.Fatal(err)
	}
	var all []capture.Packet
	for {
		pkt, err := src.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		pkt.Data = bytes.Clone(pkt.Data)
		all = append(all, pkt)
	}
	bp := &busyPlant{mid: all[0].Timestamp.Add(all[len(all)-1].Timestamp.Sub(all[0].Timestamp) / 2)}
	for i, p := range all {
		if !p.Timestamp.Before(bp.mid) {
			bp.learn, bp.watch = all[:i], all[i:]
			break
		}
	}
	return bp
}

// learned returns a detector that learned on the first half, operational.
func (bp *busyPlant) learned(b *testing.B) *detect.Detector {
	d := detect.New(detect.Config{Sensor: "bench", LearnUntil: bp.mid})
	p := pipeline.New(pipeline.Options{Observer: d, Emitter: d})
	for _, pkt := range bp.learn {
		p.Process(pkt)
	}
	d.SetMode(detect.Operational)
	return d
}

func (bp *busyPlant) run(b *testing.B, opts pipeline.Options) {
	b.ReportAllocs()
	for b.Loop() {
		p := pipeline.New(opts)
		for _, pkt := range bp.watch {
			p.Process(pkt)
		}
		p.Close()
	}
	n := float64(b.N) * float64(len(bp.watch))
	b.ReportMetric(n/b.Elapsed().Seconds(), "packets/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/n, "ns/packet")
}

// BenchmarkPacketPath is the packet path without detection: decoding, flows,
// reassembly and every dissector, over the watched half of a busy plant.
func BenchmarkPacketPath(b *testing.B) {
	bp := loadBusyPlant(b)
	bp.run(b, pipeline.DefaultOptions)
}

// BenchmarkPacketPathWithDetection is the same input with a learned
// detector and every engine seeing every frame and operation.
func BenchmarkPacketPathWithDetection(b *testing.B) {
	bp := loadBusyPlant(b)
	d := bp.learned(b)
	opts := pipeline.DefaultOptions
	opts.Observer, opts.Emitter = d, d
	bp.run(b, opts)
	if n := len(d.Alerts()); n != 0 {
		b.Logf("%d alerts on benign traffic", n)
	}
}

// BenchmarkDetectionOverhead runs the passes of BenchmarkPacketPath and
// BenchmarkPacketPathWithDetection interleaved, one of each per iteration
// in alternating order, so that both meet the same load on a shared
// machine: ns/packet of each path and the overhead of detection in
// percent. Allocations are those of both passes together.
func BenchmarkDetectionOverhead(b *testing.B) {
	bp := loadBusyPlant(b)
	d := bp.learned(b)
	withDetection := pipeline.DefaultOptions
	withDetection.Observer, withDetection.Emitter = d, d
	pass := func(opts pipeline.Options) time.Duration {
		start := time.Now()
		p := pipeline.New(opts)
		for _, pkt := range bp.watch {
			p.Process(pkt)
		}
		p.Close()
		return time.Since(start)
	}
	var plain, detected time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			plain += pass(pipeline.DefaultOptions)
			detected += pass(withDetection)
		} else {
			detected += pass(withDetection)
			plain += pass(pipeline.DefaultOptions)
		}
	}
	n := float64(b.N) * float64(len(bp.watch))
	b.ReportMetric(float64(plain.Nanoseconds())/n, "plain-ns/packet")
	b.ReportMetric(float64(detected.Nanoseconds())/n, "detect-ns/packet")
	b.ReportMetric(100*(float64(detected)/float64(plain)-1), "overhead-%")
}

// taps hands frames and operations to several consumers, in order.
type taps []interface {
	pipeline.Observer
	dissect.Emitter
}

func (t taps) Packet(p *decode.Packet, err error) {
	for _, x := range t {
		x.Packet(p, err)
	}
}

func (t taps) Emit(op *dissect.Operation) {
	for _, x := range t {
		x.Emit(op)
	}
}

// BenchmarkSensorPath is what a sensor runs on every packet before
// detection: the packet path and the device inventory.
func BenchmarkSensorPath(b *testing.B) {
	bp := loadBusyPlant(b)
	inv := inventory.New(inventory.DefaultOptions)
	opts := pipeline.DefaultOptions
	opts.Observer, opts.Emitter = taps{inv}, taps{inv}
	bp.run(b, opts)
}

// BenchmarkSensorPathWithDetection adds a learned detector with every
// engine to BenchmarkSensorPath.
func BenchmarkSensorPathWithDetection(b *testing.B) {
	bp := loadBusyPlant(b)
	d := bp.learned(b)
	inv := inventory.New(inventory.DefaultOptions)
	opts := pipeline.DefaultOptions
	opts.Observer, opts.Emitter = taps{inv, d}, taps{inv, d}
	bp.run(b, opts)
}

// BenchmarkDetectOperations feeds the watched half's operations, recorded
// once, to a learned detector: operations per second and allocations per
// operation of detection alone.
func BenchmarkDetectOperations(b *testing.B) {
	bp := loadBusyPlant(b)
	d := bp.learned(b)
	var ops []*dissect.Operation
	p := pipeline.New(pipeline.Options{Emitter: dissect.EmitterFunc(func(op *dissect.Operation) { ops = append(ops, op.Clone()) })})
	for _, pkt := range bp.watch {
		p.Process(pkt)
	}
	p.Close()
	b.ReportAllocs()
	for b.Loop() {
		for _, op := range ops {
			d.Emit(op)
		}
	}
	n := float64(b.N) * float64(len(ops))
	b.ReportMetric(n/b.Elapsed().Seconds(), "operations/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/n, "ns/operation")
	b.ReportMetric(float64(testing.AllocsPerRun(1, func() {
		for _, op := range ops {
			d.Emit(op)
		}
	}))/float64(len(ops)), "allocs/operation")
}

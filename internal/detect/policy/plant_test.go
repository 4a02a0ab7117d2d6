package policy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
	_ "github.com/otwatch/otwatch/internal/dissect/all"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
)

// This file runs the policy engine alone (the test binary links no other
// engine) over simulated plant captures, learning on the first half as
// the acceptance harness does.

const plantDuration = 8 * time.Minute

// detectPlant simulates a capture and returns the policy alerts of its
// second half, with the capture's summary.
func detectPlant(t *testing.T, opts simulate.Options) ([]*alert.Alert, simulate.Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := simulate.Generate(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	src, err := capture.NewReader(bytes.NewReader(buf.Bytes()), "plant.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var pkts []capture.Packet
	for {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pkt.Data = bytes.Clone(pkt.Data)
		pkts = append(pkts, pkt)
	}
	if len(pkts) == 0 {
		t.Fatal("empty capture")
	}
	first, last := pkts[0].Timestamp, pkts[len(pkts)-1].Timestamp
	d := detect.New(detect.Config{Sensor: "test", LearnUntil: first.Add(last.Sub(first) / 2), Keep: true})
	popts := pipeline.DefaultOptions
	popts.Observer, popts.Emitter = d, d
	p := pipeline.New(popts)
	for _, pkt := range pkts {
		p.Process(pkt)
	}
	p.Close()
	d.Flush()
	return d.Alerts(), sum
}

// plantOps returns the operations of a simulated capture, split at its
// middle.
func plantOps(tb testing.TB, opts simulate.Options) (learn, watch []*dissect.Operation) {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := simulate.Generate(&buf, opts); err != nil {
		tb.Fatal(err)
	}
	src, err := capture.NewReader(bytes.NewReader(buf.Bytes()), "plant.pcap")
	if err != nil {
		tb.Fatal(err)
	}
	var ops []*dissect.Operation
	p := pipeline.New(pipeline.Options{Emitter: dissect.EmitterFunc(func(op *dissect.Operation) { ops = append(ops, op.Clone()) })})
	for {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		p.Process(pkt)
	}
	p.Close()
	mid := ops[0].Time.Add(ops[len(ops)-1].Time.Sub(ops[0].Time) / 2)
	for i, op := range ops {
		if !op.Time.Before(mid) {
			return ops[:i], ops[i:]
		}
	}
	return ops, nil
}

// BenchmarkPlant: detection alone (the policy engine, linked alone) over
// the watched half of a busy plant's operations, after learning the first
// half.
func BenchmarkPlant(b *testing.B) {
	learn, watch := plantOps(b, simulate.Options{Seed: 1, Duration: 20 * time.Minute, PollInterval: 500 * time.Millisecond})
	d := detect.New(detect.Config{LearnUntil: watch[0].Time})
	for _, op := range learn {
		d.Emit(op)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, op := range watch {
			d.Emit(op)
		}
	}
	n := float64(b.N) * float64(len(watch))
	b.ReportMetric(n/b.Elapsed().Seconds(), "operations/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e9/n, "ns/operation")
	if len(d.Alerts()) != 0 {
		b.Errorf("%d alerts on the benign plant", len(d.Alerts()))
	}
}

func describe(as []*alert.Alert) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "\n  %s %s %s -> %s key=%q count=%d: %s", a.FirstDetection.Format(time.TimeOnly), a.Type,
			a.Source, a.Destination, a.Key, a.Count, a.Title)
	}
	return b.String()
}

// TestPlantQuiet: the plant's own traffic, learned on its first half,
// raises no policy alert in its second half, whatever the seed.
func TestPlantQuiet(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			as, _ := detectPlant(t, simulate.Options{Seed: seed, Duration: plantDuration})
			if len(as) != 0 {
				t.Errorf("benign plant raised %d policy alerts:%s", len(as), describe(as))
			}
		})
	}
}

// TestPlantScenarios: every scenario built for a policy alert type raises
// exactly that alert, once, between the hosts it names, and the alert's
// Learn entry silences it: the same capture checked against a baseline
// that holds the entry raises nothing.
func TestPlantScenarios(t *testing.T) {
	ours := map[string]bool{}
	for _, typ := range detect.Types() {
		if typ.Engine == alert.Policy {
			ours[typ.ID] = true
		}
	}
	covered := map[string]bool{}
	for _, sc := range simulate.Scenarios() {
		if !ours[sc.Alert] {
			continue
		}
		covered[sc.Alert] = true
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			as, sum := detectPlant(t, simulate.Options{Seed: 1, Duration: plantDuration, Scenarios: []string{sc.Name}})
			if len(as) != 1 || as[0].Type != sc.Alert {
				t.Fatalf("scenario %s raised %d policy alerts, want one %s:%s", sc.Name, len(as), sc.Alert, describe(as))
			}
			a := as[0]
			hosts := map[string]netip.Addr{}
			for _, h := range sum.Hosts {
				hosts[h.Name] = h.IP
			}
			if sc.Source != "" && a.Source.IP != hosts[sc.Source] {
				t.Errorf("source %v, want %s (%v)", a.Source, sc.Source, hosts[sc.Source])
			}
			if sc.Destination != "" && a.Destination.IP != hosts[sc.Destination] {
				t.Errorf("destination %v, want %s (%v)", a.Destination, sc.Destination, hosts[sc.Destination])
			}
			if a.Learn == nil || !a.Learnable {
				t.Fatalf("alert %s has no Learn entry", a.Type)
			}
			for _, e := range sum.Events {
				if e.Scenario == sc.Name {
					if a.FirstDetection.Before(e.Time) {
						t.Errorf("alert at %v, before the scenario started at %v", a.FirstDetection, e.Time)
					}
					break
				}
			}
		})
	}
	for id := range ours {
		if !covered[id] {
			t.Errorf("policy alert type %s has no scenario", id)
		}
	}
}

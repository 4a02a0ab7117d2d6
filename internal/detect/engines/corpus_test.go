package engines_test

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/testenv"
)

// opSig is what makes an operation the same traffic again for a policy.
type opSig struct {
	client, server     netip.Addr
	protocol, function string
	port               uint16 // the server port of a service operation
}

func sigOf(op *dissect.Operation) opSig {
	s := opSig{client: op.Client.IP, server: op.Server.IP, protocol: op.Protocol, function: op.FunctionName}
	if op.Protocol == "service" {
		s.port = op.Server.Port
	}
	return s
}

// recorder notes, while the detector learns, the signature of every
// operation and every address that sent a packet.
type recorder struct {
	sigs  map[opSig]bool
	addrs map[netip.Addr]bool
	until time.Time // the end of learning
	now   time.Time // the newest packet's time
}

func (r *recorder) Emit(op *dissect.Operation) {
	// An operation counts as learned if it was reported while learning
	// (an unanswered request may be reported when its flow ends) and was
	// real traffic: not malformed, not a refused or unanswered probe.
	if !r.now.Before(r.until) || op.Result.Status == dissect.StatusMalformed ||
		op.Protocol == "service" && op.Result.Status != dissect.StatusOK {
		return
	}
	{
		r.sigs[sigOf(op)] = true
	}
}

func (r *recorder) Packet(p *decode.Packet, err error) {
	if p.Timestamp.After(r.now) {
		r.now = p.Timestamp
	}
	if p.Timestamp.Before(r.until) && p.SrcIP.IsValid() {
		r.addrs[p.SrcIP] = true
	}
}

// midpoint returns the time halfway between the first and the last packet
// of a capture, reading up to the end or to the first error, so that a
// capture cut short is checked on the packets it has.
func midpoint(t *testing.T, path string) time.Time {
	t.Helper()
	src, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var first, last time.Time
	for {
		pkt, err := src.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Logf("capture ends in error: %v", err)
			break
		}
		if first.IsZero() || pkt.Timestamp.Before(first) {
			first = pkt.Timestamp
		}
		if pkt.Timestamp.After(last) {
			last = pkt.Timestamp
		}
	}
	if first.IsZero() {
		t.Fatalf("%s: no packet", path)
	}
	return first.Add(last.Sub(first) / 2)
}

// TestCorpusLearnHalf learns on the first half of every corpus capture and
// detects on the second. A policy violation must concern traffic the first
// half did not have: an operation whose client, server, protocol and
// function were all seen while learning, or a new device that sent packets
// while learning, would be a false positive. Every alert is logged, for
// review.
func TestCorpusLearnHalf(t *testing.T) {
	dir := testenv.Corpus(t)
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "*", "capture.pcap*"))
	if len(paths) == 0 {
		testenv.Missing(t, "no captures under "+dir)
	}
	sort.Strings(paths)
	total := map[string]int{}
	for _, path := range paths {
		name, _ := filepath.Rel(dir, filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			until := midpoint(t, path)
			opts := analyze.Options{Pipeline: pipeline.DefaultOptions}
			rec := &recorder{sigs: map[opSig]bool{}, addrs: map[netip.Addr]bool{}, until: until}
			opts.Taps = append(opts.Taps, rec)
			dt := analyze.WithDetection(&opts, detect.Config{Sensor: "corpus", LearnUntil: until, Keep: true})
			if _, err := analyze.Files([]string{path}, opts); err != nil {
				t.Logf("capture ends in error: %v", err)
			}
			dt.Finish()
			for _, a := range dt.Detector.Alerts() {
				total[a.Type]++
				t.Logf("%s %s %s -> %s count=%d key=%q: %s", a.Engine.Key(), a.Type, a.Source, a.Destination, a.Count, a.Key, a.Title)
				if a.Engine != alert.Policy || a.Operation == nil {
					continue
				}
				op := a.Operation
				if a.Type == "policy.new_device" {
					if rec.addrs[a.Source.IP] && a.Source.IP.IsValid() {
						t.Errorf("%s: %s for %v, which the learning half already had", name, a.Type, a.Source.IP)
					}
					continue
				}
				if rec.sigs[sigOf(op)] && !strings.Contains(a.Type, "range") {
					t.Errorf("%s: %s on %s %s from %v to %v, which the learning half already had", name, a.Type, op.Protocol, op.FunctionName, op.Client.IP, op.Server.IP)
				}
			}
		})
	}
	if os.Getenv("OTWATCH_CORPUS_SUMMARY") != "" {
		for typ, n := range total {
			t.Logf("total %s: %d", typ, n)
		}
	}
}

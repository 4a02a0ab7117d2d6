package engines_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/testenv"
)

// opSig is what makes an operation the same traffic again for a policy.
type opSig struct {
	client, server     netip.Addr
	protocol, function string
}

// recorder notes the signature of every operation before a time.
type recorder struct {
	until string
	sigs  map[opSig]bool
	addrs map[netip.Addr]bool
	d     *detect.Detector
}

func (r *recorder) Emit(op *dissect.Operation) {
	if !r.d.Learning() {
		return
	}
	r.sigs[opSig{op.Client.IP, op.Server.IP, op.Protocol, op.FunctionName}] = true
	r.addrs[op.Client.IP] = true
	r.addrs[op.Server.IP] = true
}

// TestCorpusLearnHalf learns on the first half of every corpus capture and
// detects on the second. A policy violation must concern traffic the first
// half did not have: an operation whose client, server, protocol and
// function were all seen while learning would be a false positive. Every
// alert is logged, for review.
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
			until, err := analyze.LearnUntil("50%", []string{path})
			if err != nil {
				t.Skip(err)
			}
			opts := analyze.Options{Pipeline: pipeline.DefaultOptions}
			rec := &recorder{sigs: map[opSig]bool{}, addrs: map[netip.Addr]bool{}}
			opts.Pipeline.Emitter = rec
			dt := analyze.WithDetection(&opts, detect.Config{Sensor: "corpus", LearnUntil: until, Keep: true})
			rec.d = dt.Detector
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
				if rec.sigs[opSig{op.Client.IP, op.Server.IP, op.Protocol, op.FunctionName}] && !strings.Contains(a.Type, "range") {
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

package detect

import (
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/dissect"
)

// quietEngines returns a Detector with two operation engines: the first
// calls Quiet on every operation it sees, the second never does.
func quietEngines(t *testing.T, cfg Config) (*Detector, *opEngine, *opEngine) {
	t.Helper()
	quiet := &opEngine{engine: alert.Anomaly, onOp: func(d *Detector, _ *dissect.Operation) { d.Quiet() }}
	loud := &opEngine{engine: alert.Protocol}
	return newDetector(t, cfg, quiet, loud), quiet, loud
}

// quietStep is one operation and whether the quiet engine must see it.
type quietStep struct {
	name string
	do   func(d *Detector) // before the operation, if set
	op   *dissect.Operation
	want bool
}

func runQuiet(t *testing.T, d *Detector, quiet, loud *opEngine, steps []quietStep) {
	t.Helper()
	for i, s := range steps {
		if s.do != nil {
			s.do(d)
		}
		q, l := quiet.ops, loud.ops
		d.Emit(s.op)
		if got := quiet.ops > q; got != s.want {
			t.Errorf("step %d (%s): quiet engine called %v, want %v", i, s.name, got, s.want)
		}
		// An engine that never called Quiet sees every operation.
		if loud.ops != l+1 {
			t.Errorf("step %d (%s): other engine called %d times, want 1", i, s.name, loud.ops-l)
		}
	}
}

// TestQuiet checks that an engine that called Quiet is not handed
// operations of the same kind in the same conversation again, and is for
// another kind or conversation, until Unquiet or a mode change. Only an
// operation right after one of the same kind is expected to be skipped:
// kinds share a bounded table, so one kind may evict another.
func TestQuiet(t *testing.T) {
	read := func(flow uint64) *dissect.Operation { return modbus(at(time.Second), flow, hmi, plc, fnRead) }
	write := func() *dissect.Operation { return modbus(at(time.Second), 7, hmi, plc, fnWrite) }
	otherTarget := read(7)
	otherTarget.Targets[0].Address = 100
	twoTargets := read(7)
	twoTargets.Targets = append(twoTargets.Targets, dissect.Target{Kind: twoTargets.Targets[0].Kind, Address: 20, Count: 1})
	requestOnly := read(7)
	requestOnly.Response = false
	failed := read(7)
	failed.Result.Status = dissect.StatusError
	writeClass := read(7)
	writeClass.Class = dissect.ClassWrite

	d, quiet, loud := quietEngines(t, Config{Operational: true})
	runQuiet(t, d, quiet, loud, []quietStep{
		{"first read", nil, read(7), true},
		{"same kind", nil, read(7), false},
		{"same kind again", nil, read(7), false},
		{"another function", nil, write(), true},
		{"another function again", nil, write(), false},
		{"another conversation", nil, read(8), true},
		{"in it again", nil, read(8), false},
		{"another target", nil, otherTarget, true},
		{"two targets", nil, twoTargets, true},
		{"request only", nil, requestOnly, true},
		{"error result", nil, failed, true},
		{"another class", nil, writeClass, true},
		{"read before Unquiet", nil, read(7), true},
		{"read quiet", nil, read(7), false},
		{"after Unquiet", func(d *Detector) { d.Unquiet() }, read(7), true},
		{"quiet again", nil, read(7), false},
		{"after a mode round trip", func(d *Detector) { d.SetMode(Learning); d.SetMode(Operational) }, read(7), true},
		{"quiet after the round trip", nil, read(7), false},
	})
}

// TestQuietLearn checks that Learn undoes Quiet: the baseline the engines
// consult changed.
func TestQuietLearn(t *testing.T) {
	d, quiet, loud := quietEngines(t, Config{Operational: true})
	read := func() *dissect.Operation { return modbus(at(time.Second), 7, hmi, plc, fnRead) }
	runQuiet(t, d, quiet, loud, []quietStep{
		{"first", nil, read(), true},
		{"quiet", nil, read(), false},
		{"after Learn", func(d *Detector) {
			if err := d.Learn(d.Raise(finding(typLearnable, at(time.Second), ews, rtu, "k"))); err != nil {
				t.Fatalf("Learn: %v", err)
			}
		}, read(), true},
	})
}

// TestQuietIgnored checks that Quiet has no effect outside operational
// time: while learning, for an operation reported late that started while
// learning (LearningAt), and for an operation without a conversation.
func TestQuietIgnored(t *testing.T) {
	read := func(tm time.Duration) *dissect.Operation { return modbus(at(tm), 7, hmi, plc, fnRead) }
	noFlow := func() *dissect.Operation {
		op := read(2 * time.Minute)
		op.Packets = nil
		return op
	}
	d, quiet, loud := quietEngines(t, Config{Learn: time.Minute})
	runQuiet(t, d, quiet, loud, []quietStep{
		{"learning", nil, read(0), true},
		{"learning, same kind", nil, read(time.Second), true},
		{"operational", nil, read(time.Minute), true},
		{"operational, quiet", nil, read(time.Minute + time.Second), false},
		// Reported at 61s but started at 30s, while learning.
		{"late", nil, read(30 * time.Second), true},
		{"late again", nil, read(30 * time.Second), true},
		{"no flow", nil, noFlow(), true},
		{"no flow again", nil, noFlow(), true},
	})
	// Quiet outside dispatch is ignored too.
	d.Quiet()
}

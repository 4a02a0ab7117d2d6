package operational

import (
	"net/netip"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// TestFlood: a million exception responses and unanswered requests from
// one client give a handful of alerts: one per type, merged once a
// window. Exceptions come every 3.6 ms from t0+1s for an hour: the burst
// (20 in a minute) fires at once and again every minute up to t0+1h1s,
// 60 times; the unanswered requests (8 in five minutes) every five
// minutes, 12 times.
func TestFlood(t *testing.T) {
	d := detect.New(detect.Config{Keep: true, Learn: time.Minute})
	d.Emit(dnpRead.op())
	exc, lost := mbExc.op(), dnpRead.op()
	lost.Result, lost.Response = noReply, false
	const n = 1_000_000
	for i := range n {
		at := t0.Add(time.Second + time.Duration(i)*3600*time.Microsecond) // an hour
		exc.Time, lost.Time = at, at
		d.Emit(exc)
		d.Emit(lost)
	}
	d.Flush()
	as := d.Alerts()
	if len(as) != 2 {
		t.Fatalf("%d alerts, want one burst and one unresponsive device:%s", len(as), describe(as))
	}
	want := map[string]uint64{ModbusExceptionBurst.ID: 60, DeviceNotResponding.ID: 12}
	for _, a := range as {
		if n, ok := want[a.Type]; !ok || a.Count != n {
			t.Errorf("%s merged %d times in an hour; want %d, once a window", a.Type, a.Count, n)
		}
		delete(want, a.Type)
	}
}

// TestBounded: state stays within its bounds however many hosts appear,
// and idle state is dropped.
func TestBounded(t *testing.T) {
	d := detect.New(detect.Config{Learn: time.Minute})
	e := newEngine(d).(*engine)
	op := mbExc.op()
	dn := dnpRead.op()
	dn.Attrs = iin("need_time")
	for i := range 3 * maxPairs {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		op.Client.IP, dn.Server.IP = a, a
		op.Time = t0.Add(time.Duration(i) * time.Millisecond)
		dn.Time = op.Time
		e.Operation(d, op)
		e.Operation(d, dn)
	}
	if len(e.excs) > maxPairs || len(e.channels) > maxChannels || len(e.dnp) > maxOutstations {
		t.Errorf("state %d pairs, %d channels, %d outstations; bounds %d, %d, %d",
			len(e.excs), len(e.channels), len(e.dnp), maxPairs, maxChannels, maxOutstations)
	}
	late := dissect.Operation{Time: t0.Add(48 * time.Hour), Protocol: "arp"}
	d.Emit(&late)
	e.Tick(d, false)
	if len(e.excs)+len(e.channels)+len(e.dnp) != 0 {
		t.Errorf("after two idle days: %d pairs, %d channels, %d outstations kept", len(e.excs), len(e.channels), len(e.dnp))
	}
}

// benign returns the operations of a plant's steady polling.
func benign() []*dissect.Operation {
	dn := dnpRead.op()
	dn.Attrs = iin("class_1_events")
	svc := dissect.Operation{Protocol: "service", Client: hmi, Server: mbplc, FunctionName: "modbus", FunctionCode: 502, Result: okRes}
	arp := dissect.Operation{Protocol: "arp", FunctionName: "request", Class: dissect.ClassDiscovery}
	return []*dissect.Operation{mbRead.op(), s7Read.op(), cipReadTg.op(), dn, &svc, &arp,
		with(s7Read, func(s *opSpec) { s.fn, s.code, s.class = "read_szl", 0x0401, dissect.ClassDiscovery }).op()}
}

func TestSteadyStateAllocs(t *testing.T) {
	d := detect.New(detect.Config{Learn: time.Minute})
	e := newEngine(d).(*engine)
	ops := benign()
	for _, op := range ops {
		e.Operation(d, op) // first sight makes the channels' state
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, op := range ops {
			e.Operation(d, op)
		}
	}); n != 0 {
		t.Errorf("%v allocations per round of benign operations, want 0", n)
	}
}

func BenchmarkOperation(b *testing.B) {
	d := detect.New(detect.Config{Learn: time.Minute})
	e := newEngine(d).(*engine)
	ops := benign()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Operation(d, ops[i%len(ops)])
	}
}

func BenchmarkExceptions(b *testing.B) {
	d := detect.New(detect.Config{Learn: time.Minute})
	e := newEngine(d).(*engine)
	op := mbExc.op()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		op.Time = t0.Add(time.Duration(i) * 10 * time.Second) // below the threshold
		e.Operation(d, op)
	}
}

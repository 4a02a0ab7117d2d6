package violation

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/attack"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

var (
	t0      = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	hmi     = dissect.Endpoint{IP: netip.MustParseAddr("10.10.1.21"), Port: 50100}
	plc02   = dissect.Endpoint{IP: netip.MustParseAddr("10.10.2.12"), Port: 502}
	rtu     = dissect.Endpoint{IP: netip.MustParseAddr("10.10.2.20"), Port: 2404}
	attrsGI = []dissect.Attr{{Key: "cause", Value: "activation"}}
)

// op returns an operation at t0+at on flow 7.
func op(proto string, at time.Duration, cli, srv dissect.Endpoint) *dissect.Operation {
	return &dissect.Operation{Time: t0.Add(at), Protocol: proto, Transport: "tcp", Client: cli, Server: srv,
		Packets: []dissect.PacketRef{{Flow: 7, Index: 1}}}
}

func malformedOp(proto, reason string, at time.Duration, cli, srv dissect.Endpoint) *dissect.Operation {
	o := op(proto, at, cli, srv)
	o.FunctionName = "malformed"
	o.Request = true
	o.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	return o
}

func newDetector() *detect.Detector {
	return detect.New(detect.Config{Sensor: "test", Operational: true, Keep: true})
}

// TestFlood: a million malformed Modbus messages from one host give one
// alert counting all of them, and the memory held stays bounded.
func TestFlood(t *testing.T) {
	const n = 1_000_000
	d := newDetector()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	o := malformedOp("modbus", "MBAP length too short for a PDU", 0, hmi, plc02)
	for i := range n {
		o.Time = t0.Add(time.Duration(i) * time.Microsecond)
		d.Emit(o)
	}
	d.Flush()
	runtime.GC()
	runtime.ReadMemStats(&after)
	as := d.Alerts()
	if len(as) != 1 {
		t.Fatalf("%d alerts, want 1", len(as))
	}
	if as[0].Count != n || as[0].Type != ModbusMalformed.ID {
		t.Errorf("alert %s count %d, want %s count %d", as[0].Type, as[0].Count, ModbusMalformed.ID, n)
	}
	if !as[0].LastDetection.Equal(t0.Add((n - 1) * time.Microsecond)) {
		t.Errorf("last detection %v", as[0].LastDetection)
	}
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 1<<20 {
		t.Errorf("heap grew by %d bytes over the flood, want under 1 MiB", grown)
	}
}

// TestMerge: findings merge by type, parties and kind of violation; the
// varying numbers of a sequence error do not split alerts.
func TestMerge(t *testing.T) {
	d := newDetector()
	emit := func(o *dissect.Operation) { d.Emit(o) }
	emit(malformedOp("modbus", "MBAP length too short for a PDU", 0, hmi, plc02))
	emit(malformedOp("modbus", "MBAP length too short for a PDU", time.Second, hmi, plc02))
	emit(malformedOp("modbus", "byte count does not match the data", 2*time.Second, hmi, plc02))
	other := dissect.Endpoint{IP: netip.MustParseAddr("10.10.1.22"), Port: 50200}
	emit(malformedOp("modbus", "MBAP length too short for a PDU", 3*time.Second, other, plc02))
	for i := range 5 {
		emit(malformedOp("iec104", fmt.Sprintf("sequence gap: expected %d got %d", i, i+3), time.Duration(4+i)*time.Second, hmi, rtu))
	}
	want := []struct {
		typ   string
		src   netip.Addr
		key   string
		count uint64
	}{
		{ModbusMalformed.ID, hmi.IP, "MBAP length too short for a PDU", 2},
		{ModbusMalformed.ID, hmi.IP, "byte count does not match the data", 1},
		{ModbusMalformed.ID, other.IP, "MBAP length too short for a PDU", 1},
		{IEC104SequenceError.ID, hmi.IP, "sequence gap", 5},
	}
	as := d.Alerts()
	if len(as) != len(want) {
		t.Fatalf("%d alerts, want %d", len(as), len(want))
	}
	for i, w := range want {
		a := as[i]
		if a.Type != w.typ || a.Source.IP != w.src || a.Key != w.key || a.Count != w.count {
			t.Errorf("alert %d: %s from %v key %q count %d, want %s from %v key %q count %d",
				i, a.Type, a.Source.IP, a.Key, a.Count, w.typ, w.src, w.key, w.count)
		}
	}
	if got := as[3].Title; got != "IEC 104 sequence error between 10.10.1.21 and 10.10.2.20: sequence gap: expected 0 got 3" {
		t.Errorf("title %q", got)
	}
}

// TestDirection: a violation in a response alone is the server's.
func TestDirection(t *testing.T) {
	d := newDetector()
	o := malformedOp("iec104", "sequence gap: expected 1 got 4", 0, hmi, rtu)
	o.Request, o.Response = false, true
	d.Emit(o)
	as := d.Alerts()
	if len(as) != 1 || as[0].Source.IP != rtu.IP || as[0].Destination.IP != hmi.IP {
		t.Fatalf("alerts %v, want one from the server", as)
	}
}

// TestLearn: learnable types stop alerting once learned; malformed
// traffic cannot be learned.
func TestLearn(t *testing.T) {
	d := newDetector()
	reserved := func(at time.Duration) *dissect.Operation {
		o := op("modbus", at, hmi, plc02)
		o.FunctionCode, o.FunctionName, o.Request, o.Response = 9, "reserved", true, true
		o.Result = dissect.Result{Status: dissect.StatusError, Code: 1, Text: "illegal_function"}
		return o
	}
	d.Emit(reserved(0))
	as := d.Alerts()
	if len(as) != 1 || as[0].Type != ReservedFunction.ID || as[0].Key != keyModbusReserved {
		t.Fatalf("alerts %v, want one %s", as, ReservedFunction.ID)
	}
	if err := d.Learn(as[0]); err != nil {
		t.Fatal(err)
	}
	d.Emit(reserved(time.Minute))
	if n := len(d.Alerts()); n != 1 {
		t.Errorf("%d alerts after Learn, want the learned pattern silenced", n)
	}
	d.Emit(malformedOp("modbus", "MBAP length too short for a PDU", 2*time.Minute, hmi, plc02))
	as = d.Alerts()
	if err := d.Learn(as[len(as)-1]); err == nil {
		t.Errorf("Learn of %s succeeded; malformed traffic is not learnable", as[len(as)-1].Type)
	}
}

// TestResponseWithoutRequest: a response without request is reported on a
// flow that paired requests and responses before, once its grace period
// shows that no request went unanswered to account for it.
func TestResponseWithoutRequest(t *testing.T) {
	response := func(at time.Duration, flow uint64, st dissect.Status) *dissect.Operation {
		o := op("modbus", at, hmi, plc02)
		o.Packets[0].Flow = flow
		o.FunctionCode, o.FunctionName, o.Response = 3, "read_holding_registers", true
		o.Result.Status = st
		return o
	}
	paired := func(at time.Duration, flow uint64) *dissect.Operation {
		o := response(at, flow, dissect.StatusOK)
		o.Request = true
		return o
	}
	unanswered := func(at time.Duration, flow uint64) *dissect.Operation {
		o := response(at, flow, dissect.StatusUnknown)
		o.Request, o.Response = true, false
		return o
	}
	tests := []struct {
		name  string
		ops   []*dissect.Operation
		count uint64 // of the one alert expected; 0 for none
	}{
		{"capture starts mid-connection", []*dissect.Operation{response(0, 1, dissect.StatusOK), paired(time.Second, 1)}, 0},
		{"exception to an unparsable request", []*dissect.Operation{paired(0, 1), response(time.Second, 1, dissect.StatusError)}, 0},
		{"injected response", []*dissect.Operation{paired(0, 1), response(time.Second, 1, dissect.StatusOK)}, 1},
		{"two injected responses", []*dissect.Operation{paired(0, 1), response(time.Second, 1, dissect.StatusOK), response(2*time.Second, 1, dissect.StatusOK)}, 2},
		// A master reusing transaction ids: the dissector gives up on a
		// request and pairs its response with nothing, in either order.
		{"request given up on before", []*dissect.Operation{paired(0, 1), unanswered(time.Second, 1), response(2*time.Second, 1, dissect.StatusOK)}, 0},
		{"request given up on after", []*dissect.Operation{paired(0, 1), response(time.Second, 1, dissect.StatusOK), unanswered(1100*time.Millisecond, 1)}, 0},
		{"one more response than requests given up on", []*dissect.Operation{paired(0, 1), unanswered(time.Second, 1),
			response(2*time.Second, 1, dissect.StatusOK), response(3*time.Second, 1, dissect.StatusOK)}, 1},
		{"request given up on long before", []*dissect.Operation{paired(0, 1), unanswered(time.Second, 1), response(5*time.Minute, 1, dissect.StatusOK)}, 1},
		{"another flow", []*dissect.Operation{paired(0, 1), response(time.Second, 2, dissect.StatusOK)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDetector()
			for _, o := range tc.ops {
				d.Emit(o)
			}
			if n := len(d.Alerts()); n != 0 {
				t.Fatalf("%d alerts before the grace period ended", n)
			}
			last := tc.ops[len(tc.ops)-1].Time
			d.Emit(paired(last.Sub(t0)+modbusGrace+time.Second, 1)) // time passes
			as := d.Alerts()
			switch {
			case tc.count == 0 && len(as) == 0:
			case tc.count == 0:
				t.Fatalf("alert %s, want none", as[0].Type)
			case len(as) != 1 || as[0].Type != ResponseWithoutRequest.ID || as[0].Source.IP != plc02.IP || as[0].Count != tc.count:
				t.Fatalf("alerts %v, want one %s from the PLC counting %d", as, ResponseWithoutRequest.ID, tc.count)
			case as[0].Operation == nil || as[0].FirstDetection.After(last):
				t.Errorf("alert without operation, or detected at %v after the response", as[0].FirstDetection)
			}
		})
	}
}

// TestFlowsBounded: the flows remembered stay within their bound.
func TestFlowsBounded(t *testing.T) {
	d := newDetector()
	e := newEngine(d).(*engine)
	o := op("modbus", 0, hmi, plc02)
	o.FunctionCode, o.FunctionName, o.Request, o.Response = 3, "read_holding_registers", true, true
	o.Result.Status = dissect.StatusOK
	for i := range 3 * maxFlows {
		o.Packets[0].Flow = uint64(i + 1)
		e.Operation(d, o)
	}
	if len(e.flows) > maxFlows {
		t.Errorf("%d flows kept, bound %d", len(e.flows), maxFlows)
	}
	o.FunctionCode, o.Request = 3, false
	for i := range 3 * maxPending {
		o.Packets[0].Flow = uint64(3*maxFlows - i)
		e.Operation(d, o)
	}
	if len(e.pending) > maxPending {
		t.Errorf("%d flows pending, bound %d", len(e.pending), maxPending)
	}
}

// TestTypes: every type belongs to the Protocol engine, names techniques
// of ATT&CK for ICS and is registered.
func TestTypes(t *testing.T) {
	for _, typ := range types {
		if typ.Engine != alert.Protocol {
			t.Errorf("%s: engine %v", typ.ID, typ.Engine)
		}
		if detect.LookupType(typ.ID) != typ {
			t.Errorf("%s is not registered", typ.ID)
		}
		if len(typ.Techniques) == 0 {
			t.Errorf("%s names no technique", typ.ID)
		}
		for _, id := range typ.Techniques {
			if _, ok := attack.LookupTechnique(id); !ok {
				t.Errorf("%s: technique %s is not in ATT&CK for ICS %s", typ.ID, id, attack.Version)
			}
		}
	}
}

// benignOps are operations of a healthy plant: none is a violation.
func benignOps() []*dissect.Operation {
	read := op("modbus", 0, hmi, plc02)
	read.FunctionCode, read.FunctionName, read.Class, read.Request, read.Response = 3, "read_holding_registers", dissect.ClassRead, true, true
	read.Result.Status = dissect.StatusOK
	exc := op("modbus", 0, hmi, plc02)
	exc.FunctionCode, exc.FunctionName, exc.Request, exc.Response = 3, "read_holding_registers", true, true
	exc.Result = dissect.Result{Status: dissect.StatusError, Code: 2, Text: "illegal_data_address"}
	poll := op("dnp3", 0, hmi, rtu)
	poll.FunctionCode, poll.FunctionName, poll.Request, poll.Response = 1, "read", true, true
	poll.Result.Status = dissect.StatusOK
	poll.Attrs = []dissect.Attr{{Key: "iin", Value: "class_1_events"}, {Key: "iin", Value: "need_time"}}
	unsol := op("dnp3", 0, hmi, rtu)
	unsol.FunctionCode, unsol.FunctionName, unsol.Response = 130, "unsolicited_response", true
	s7 := op("s7comm", 0, hmi, plc02)
	s7.FunctionCode, s7.FunctionName, s7.Request, s7.Response = 4, "read_var", true, true
	iec := op("iec104", 0, hmi, rtu)
	iec.FunctionCode, iec.FunctionName, iec.Response, iec.Attrs = 36, "m_me_tf_1", true, attrsGI
	svc := op("service", 0, hmi, plc02)
	svc.FunctionCode, svc.FunctionName = 502, "modbus"
	http := op("http", 0, hmi, plc02)
	return []*dissect.Operation{read, exc, poll, unsol, s7, iec, svc, http}
}

// TestBenignAllocs: benign operations cost the engine no allocation.
func TestBenignAllocs(t *testing.T) {
	d := newDetector()
	e := newEngine(d).(*engine)
	ops := benignOps()
	allocs := testing.AllocsPerRun(100, func() {
		for _, o := range ops {
			e.Operation(d, o)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per benign batch, want 0", allocs)
	}
	if n := len(d.Alerts()); n != 0 {
		t.Errorf("%d alerts on benign operations", n)
	}
}

func BenchmarkBenign(b *testing.B) {
	d := newDetector()
	e := newEngine(d).(*engine)
	ops := benignOps()
	b.ReportAllocs()
	for b.Loop() {
		for _, o := range ops {
			e.Operation(d, o)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ops)), "ns/op-handled")
}

// BenchmarkMalformed measures a flood through the Detector: each
// malformed operation merges into one open alert.
func BenchmarkMalformed(b *testing.B) {
	d := newDetector()
	o := malformedOp("modbus", "MBAP length too short for a PDU", 0, hmi, plc02)
	b.ReportAllocs()
	for b.Loop() {
		d.Emit(o)
	}
}

package policy_test

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/detect/policy"
	"github.com/otwatch/otwatch/internal/dissect"
)

var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// The hosts of the tests: an HMI, a historian, an engineering station,
// two PLCs, an office PC, a public server.
var (
	hmi    = netip.MustParseAddr("10.1.1.21")
	hist   = netip.MustParseAddr("10.1.1.30")
	ews    = netip.MustParseAddr("10.1.1.10")
	plcA   = netip.MustParseAddr("10.1.2.11")
	plcB   = netip.MustParseAddr("10.1.2.12")
	office = netip.MustParseAddr("10.1.1.160")
	rogue  = netip.MustParseAddr("10.1.1.99")
	public = netip.MustParseAddr("198.51.100.7")
)

// op builds an answered operation.
type opt func(*dissect.Operation)

func mkOp(proto, fn string, class dissect.Class, cli, srv netip.Addr, port uint16, opts ...opt) *dissect.Operation {
	op := &dissect.Operation{Protocol: proto, Transport: "tcp", FunctionName: fn, Class: class,
		Client: dissect.Endpoint{IP: cli, Port: 50000}, Server: dissect.Endpoint{IP: srv, Port: port},
		Request: true, Response: true, Result: dissect.Result{Status: dissect.StatusOK},
		Packets: []dissect.PacketRef{{Flow: 1, Index: 1}}}
	for _, o := range opts {
		o(op)
	}
	return op
}

// svc is the service operation of a TCP connection answered by srv.
func svc(name string, cli, srv netip.Addr, port uint16, opts ...opt) *dissect.Operation {
	op := mkOp("service", name, dissect.ClassOther, cli, srv, port, opts...)
	op.Request, op.Response = false, false
	return op
}

func status(s dissect.Status) opt { return func(op *dissect.Operation) { op.Result.Status = s } }
func udp(op *dissect.Operation)   { op.Transport = "udp" }
func unanswered(op *dissect.Operation) {
	op.Response = false
	op.Result.Status = dissect.StatusUnknown
}
func target(kind string, addr, count uint32) opt {
	return func(op *dissect.Operation) {
		op.Targets = append(op.Targets, dissect.Target{Kind: kind, Address: addr, Count: count})
	}
}

// plant is what the detector learns: the HMI polls both PLCs over Modbus
// and writes a setpoint of plcA, the historian reads input registers of
// plcA, the engineering station goes online with plcA over S7comm, and
// the office PC only resolves names.
func plant() []*dissect.Operation {
	return []*dissect.Operation{
		svc("modbus", hmi, plcA, 502),
		mkOp("modbus", "read_holding_registers", dissect.ClassRead, hmi, plcA, 502, target("holding_register", 0, 12)),
		mkOp("modbus", "write_single_register", dissect.ClassWrite, hmi, plcA, 502, target("holding_register", 2, 1)),
		svc("modbus", hmi, plcB, 502),
		mkOp("modbus", "read_holding_registers", dissect.ClassRead, hmi, plcB, 502, target("holding_register", 0, 12)),
		svc("modbus", hist, plcA, 502),
		mkOp("modbus", "read_input_registers", dissect.ClassRead, hist, plcA, 502, target("input_register", 0, 8)),
		svc("s7comm", ews, plcA, 102),
		mkOp("cotp", "connection_request", dissect.ClassOther, ews, plcA, 102),
		mkOp("s7comm", "setup_communication", dissect.ClassOther, ews, plcA, 102),
		mkOp("s7comm", "read_szl", dissect.ClassDiscovery, ews, plcA, 102),
		svc("s7comm", hmi, plcA, 102),
		mkOp("cotp", "connection_request", dissect.ClassOther, hmi, plcA, 102),
		mkOp("s7comm", "setup_communication", dissect.ClassOther, hmi, plcA, 102),
		mkOp("s7comm", "read_var", dissect.ClassRead, hmi, plcA, 102),
		svc("dns", office, ews, 53, udp),
		mkOp("dns", "query", dissect.ClassDiscovery, office, ews, 53, udp),
	}
}

// learned returns a detector that learned the plant and is operational,
// and the time to use next.
func learned(t *testing.T) (*detect.Detector, time.Time) {
	t.Helper()
	d := detect.New(detect.Config{Sensor: "test", LearnUntil: t0.Add(time.Minute), Keep: true})
	now := t0
	for _, op := range plant() {
		op.Time = now
		d.Emit(op)
		now = now.Add(time.Second)
	}
	if !d.Learning() {
		t.Fatal("detector left learning early")
	}
	if n := len(d.Alerts()); n != 0 {
		t.Fatalf("%d alerts while learning", n)
	}
	now = t0.Add(time.Minute)
	return d, now
}

// feed emits ops from now on, a second apart, flushes the detector and
// returns its alerts.
func feed(d *detect.Detector, now time.Time, ops ...*dissect.Operation) []*alert.Alert {
	for _, op := range ops {
		op.Time = now
		d.Emit(op)
		now = now.Add(time.Second)
	}
	d.Flush()
	return d.Alerts()
}

func TestDeviations(t *testing.T) {
	mac := dissect.MAC{0xb8, 0x27, 0xeb, 1, 2, 3}
	tests := []struct {
		name     string
		ops      []*dissect.Operation
		typ      *alert.Type // nil: no alert
		src, dst netip.Addr
		key      string
		learn    baseline.Entry
	}{
		{name: "known traffic", ops: plant()},
		{
			name: "new device by ARP",
			ops: []*dissect.Operation{mkOp("arp", "request", dissect.ClassDiscovery, rogue, ews, 0, func(op *dissect.Operation) {
				op.Client.MAC, op.Client.Port, op.Server.Port, op.Response = mac, 0, 0, false
			})},
			typ: policy.NewDevice, src: rogue, learn: baseline.Entry{Kind: baseline.KindDevice, Client: rogue},
		},
		{
			name: "new device answering",
			ops:  []*dissect.Operation{svc("modbus", hmi, rogue, 502), mkOp("modbus", "read_coils", dissect.ClassRead, hmi, rogue, 502)},
			typ:  policy.NewDevice, src: rogue, learn: baseline.Entry{Kind: baseline.KindDevice, Client: rogue},
		},
		{name: "unknown address that never answers", ops: []*dissect.Operation{mkOp("modbus", "read_coils", dissect.ClassRead, hmi, rogue, 502, unanswered)}},
		{name: "refused probe from an unknown host", ops: []*dissect.Operation{svc("modbus", rogue, plcA, 502, status(dissect.StatusError))}},
		{
			name: "new connection",
			ops:  []*dissect.Operation{svc("modbus", hist, plcB, 502), mkOp("modbus", "write_single_register", dissect.ClassWrite, hist, plcB, 502)},
			typ:  policy.NewConnection, src: hist, dst: plcB,
			learn: baseline.Entry{Kind: baseline.KindConnection, Client: hist, Server: plcB, Protocol: "modbus", Port: 502},
		},
		{
			name: "new protocol",
			ops:  []*dissect.Operation{svc("s7comm", hist, plcA, 102), mkOp("s7comm", "read_var", dissect.ClassRead, hist, plcA, 102)},
			typ:  policy.NewProtocol, src: hist, dst: plcA, key: "s7comm",
			learn: baseline.Entry{Kind: baseline.KindConnection, Client: hist, Server: plcA, Protocol: "s7comm", Port: 102},
		},
		{
			name: "IT host into an industrial service",
			ops:  []*dissect.Operation{svc("modbus", office, plcB, 502), mkOp("modbus", "read_coils", dissect.ClassRead, office, plcB, 502)},
			typ:  policy.ITOTCrossing, src: office, dst: plcB, key: "modbus",
			learn: baseline.Entry{Kind: baseline.KindConnection, Client: office, Server: plcB, Protocol: "modbus", Port: 502},
		},
		{
			name: "OT host to the internet",
			ops:  []*dissect.Operation{svc("http", hist, public, 80)},
			typ:  policy.InternetAccess, src: hist, dst: public,
			learn: baseline.Entry{Kind: baseline.KindInternet, Client: hist, Server: public},
		},
		{name: "IT host to the internet", ops: []*dissect.Operation{svc("https", office, public, 443)}},
		{name: "unanswered probe from the internet", ops: []*dissect.Operation{svc("modbus", public, plcA, 502, status(dissect.StatusUnknown))}},
		{
			name: "historian writes",
			ops:  []*dissect.Operation{mkOp("modbus", "write_single_register", dissect.ClassWrite, hist, plcA, 502, target("holding_register", 0, 1))},
			typ:  policy.NewWrite, src: hist, dst: plcA, key: "modbus",
			learn: baseline.Entry{Kind: baseline.KindClass, Client: hist, Server: plcA, Protocol: "modbus", Class: "write"},
		},
		{
			name: "HMI writes to another PLC it polls",
			ops:  []*dissect.Operation{mkOp("modbus", "write_multiple_registers", dissect.ClassWrite, hmi, plcB, 502, target("holding_register", 2, 2))},
		},
		{
			name: "HMI programs",
			ops:  []*dissect.Operation{mkOp("s7comm", "request_download", dissect.ClassProgram, hmi, plcA, 102)},
			typ:  policy.UnauthorizedProgramming, src: hmi, dst: plcA, key: "s7comm",
			learn: baseline.Entry{Kind: baseline.KindClass, Client: hmi, Server: plcA, Protocol: "s7comm", Class: "program"},
		},
		{name: "engineering station programs", ops: []*dissect.Operation{mkOp("s7comm", "request_download", dissect.ClassProgram, ews, plcA, 102)}},
		{name: "HMI uploads", ops: []*dissect.Operation{mkOp("s7comm", "start_upload", dissect.ClassProgram, hmi, plcA, 102)}},
		{
			name: "new Modbus function",
			ops:  []*dissect.Operation{mkOp("modbus", "read_holding_registers", dissect.ClassRead, hist, plcA, 502, target("holding_register", 0, 4))},
			typ:  policy.ModbusFunction, src: hist, dst: plcA, key: "read_holding_registers",
			learn: baseline.Entry{Kind: baseline.KindFunction, Client: hist, Server: plcA, Protocol: "modbus", Function: "read_holding_registers"},
		},
		{
			name: "new S7comm function",
			ops:  []*dissect.Operation{mkOp("s7comm", "plc_stop", dissect.ClassControl, hmi, plcA, 102)},
			typ:  policy.S7Function, src: hmi, dst: plcA, key: "plc_stop",
			learn: baseline.Entry{Kind: baseline.KindFunction, Client: hmi, Server: plcA, Protocol: "s7comm", Function: "plc_stop"},
		},
		{
			name: "new COTP function",
			ops:  []*dissect.Operation{mkOp("cotp", "disconnect_request", dissect.ClassOther, hmi, plcA, 102)},
			typ:  policy.NewFunction, src: hmi, dst: plcA, key: "disconnect_request",
			learn: baseline.Entry{Kind: baseline.KindFunction, Client: hmi, Server: plcA, Protocol: "cotp", Function: "disconnect_request"},
		},
		{
			name: "new register range",
			ops:  []*dissect.Operation{mkOp("modbus", "read_holding_registers", dissect.ClassRead, hmi, plcB, 502, target("holding_register", 1234, 10))},
			typ:  policy.AddressRange, src: hmi, dst: plcB, key: "holding_register:1200-1299",
			learn: baseline.Entry{Kind: baseline.KindRange, Client: hmi, Server: plcB, Protocol: "modbus", Target: "holding_register:1200-1299"},
		},
		{
			name: "new register range refused by the PLC",
			ops: []*dissect.Operation{mkOp("modbus", "read_holding_registers", dissect.ClassRead, hmi, plcB, 502, target("holding_register", 1234, 10),
				status(dissect.StatusError))},
		},
		{name: "malformed", ops: []*dissect.Operation{mkOp("s7comm", "malformed", dissect.ClassOther, hmi, plcB, 102, status(dissect.StatusMalformed))}},
		{
			name: "UDP discovery to a new peer",
			ops: []*dissect.Operation{svc("enip", hmi, plcB, 44818, udp),
				mkOp("enip", "list_identity", dissect.ClassDiscovery, hmi, plcB, 44818, udp)},
		},
		{
			name: "UDP discovery then a command to a new peer",
			ops: []*dissect.Operation{svc("enip", hmi, plcB, 44818, udp),
				mkOp("enip", "list_identity", dissect.ClassDiscovery, hmi, plcB, 44818, udp),
				mkOp("enip", "get_attribute_single", dissect.ClassRead, hmi, plcB, 44818, udp)},
			typ: policy.NewProtocol, src: hmi, dst: plcB, key: "enip",
			learn: baseline.Entry{Kind: baseline.KindConnection, Client: hmi, Server: plcB, Protocol: "enip", Port: 44818},
		},
		{
			name: "reply to a broadcast",
			ops: []*dissect.Operation{svc("enip", hist, plcB, 44818, udp, func(op *dissect.Operation) {
				op.Packets[0].Index = 0
			})},
		},
		{
			name: "layer-2 device",
			ops: []*dissect.Operation{{Protocol: "lldp", FunctionName: "advertisement", Class: dissect.ClassDiscovery,
				Client: dissect.Endpoint{MAC: mac}, Request: true}},
			typ: policy.NewDevice, learn: baseline.Entry{Kind: baseline.KindDevice, MAC: mac},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, now := learned(t)
			as := feed(d, now, tt.ops...)
			if tt.typ == nil {
				if len(as) != 0 {
					t.Fatalf("got %d alerts, want none: first %s %q", len(as), as[0].Type, as[0].Title)
				}
				return
			}
			if len(as) != 1 {
				t.Fatalf("got %d alerts, want one %s", len(as), tt.typ.ID)
			}
			a := as[0]
			if a.Type != tt.typ.ID || a.Key != tt.key || a.Source.IP != tt.src || a.Destination.IP != tt.dst {
				t.Errorf("got %s key %q %v -> %v, want %s key %q %v -> %v", a.Type, a.Key, a.Source.IP, a.Destination.IP,
					tt.typ.ID, tt.key, tt.src, tt.dst)
			}
			if a.Severity != tt.typ.Severity || a.Engine != alert.Policy || !a.Learnable {
				t.Errorf("severity %v engine %v learnable %v", a.Severity, a.Engine, a.Learnable)
			}
			if a.Learn == nil || *a.Learn != tt.learn {
				t.Errorf("Learn %v, want %v", a.Learn, tt.learn)
			}
			if a.Operation == nil {
				t.Error("alert has no operation")
			}
		})
	}
}

// TestLearnSilences: accepting an alert adds its entry, and the same
// traffic then raises nothing.
func TestLearnSilences(t *testing.T) {
	cases := [][]*dissect.Operation{
		{svc("modbus", hist, plcB, 502)},
		{mkOp("modbus", "write_single_register", dissect.ClassWrite, hist, plcA, 502)},
		{mkOp("modbus", "read_holding_registers", dissect.ClassRead, hmi, plcB, 502, target("holding_register", 1234, 10))},
		{svc("http", hist, public, 80)},
		{mkOp("arp", "request", dissect.ClassDiscovery, rogue, ews, 0)},
	}
	for _, ops := range cases {
		d, now := learned(t)
		as := feed(d, now, ops...)
		if len(as) != 1 {
			t.Fatalf("%s: %d alerts, want 1", ops[0].FunctionName, len(as))
		}
		if err := d.Learn(as[0]); err != nil {
			t.Fatal(err)
		}
		if !d.Baseline().Has(*as[0].Learn) {
			t.Fatalf("%s: baseline lacks %v after Learn", as[0].Type, as[0].Learn)
		}
		again := make([]*dissect.Operation, len(ops))
		for i, op := range ops {
			again[i] = op.Clone()
		}
		if as := feed(d, now.Add(time.Minute), again...); len(as) != 1 {
			t.Errorf("%s: %d alerts after Learn, want the first only", ops[0].FunctionName, len(as))
		}
	}
}

// TestOneAlertPerEvent: a new host that connects, reads and writes gives
// one new-device alert; a new connection that writes, programs and uses
// new functions gives one connection alert; repeats merge.
func TestOneAlertPerEvent(t *testing.T) {
	d, now := learned(t)
	var ops []*dissect.Operation
	for range 3 {
		ops = append(ops,
			mkOp("arp", "request", dissect.ClassDiscovery, rogue, plcA, 0),
			svc("modbus", rogue, plcA, 502),
			mkOp("modbus", "read_coils", dissect.ClassRead, rogue, plcA, 502),
			mkOp("modbus", "write_single_register", dissect.ClassWrite, rogue, plcA, 502),
			svc("s7comm", hist, plcA, 102),
			mkOp("s7comm", "request_download", dissect.ClassProgram, hist, plcA, 102),
			mkOp("s7comm", "plc_stop", dissect.ClassControl, hist, plcA, 102),
			mkOp("s7comm", "write_var", dissect.ClassWrite, hist, plcA, 102))
	}
	as := feed(d, now, ops...)
	if len(as) != 2 {
		t.Fatalf("%d alerts, want 2", len(as))
	}
	// The operations come a second apart, 8 a round. Every operation of
	// rogue is a new device finding (4 a round, 12 in all): the first, of
	// second 0, waits PolicyDelay, counting the repeats of seconds 1-3, 8
	// and 9, opens at second 10 with count 6 and takes the other 6 as
	// they come. Of hist's operations only the service operation is judged,
	// the connection's others being alerted with it: the findings of
	// seconds 4 and 12 open an alert of count 2 at second 14, and the one
	// of second 20 merges into it.
	want := map[string]struct {
		src, dst alert.Party
		count    uint64
	}{
		policy.NewDevice.ID:   {alert.Party{IP: rogue}, alert.Party{}, 12},
		policy.NewProtocol.ID: {alert.Party{IP: hist}, alert.Party{IP: plcA, Port: 102}, 3},
	}
	for _, a := range as {
		w, ok := want[a.Type]
		if !ok || a.Source != w.src || a.Destination != w.dst || a.Count != w.count {
			t.Errorf("%s %v -> %v count %d, want new_device from %v count 12 and new_protocol %v -> %v:102 count 3",
				a.Type, a.Source, a.Destination, a.Count, rogue, hist, plcA)
		}
		delete(want, a.Type)
	}
}

// TestSilentWhileLearning: what deviates during learning becomes the
// baseline and raises nothing, then or later.
func TestSilentWhileLearning(t *testing.T) {
	d := detect.New(detect.Config{LearnUntil: t0.Add(time.Minute), Keep: true})
	ops := []*dissect.Operation{
		mkOp("arp", "request", dissect.ClassDiscovery, rogue, plcA, 0),
		svc("modbus", rogue, plcA, 502),
		mkOp("modbus", "write_single_register", dissect.ClassWrite, rogue, plcA, 502, target("coil", 3, 1)),
		mkOp("s7comm", "request_download", dissect.ClassProgram, rogue, plcA, 102),
	}
	feed(d, t0, ops...)
	if d.Stats().SilencedLearning != 0 || len(d.Alerts()) != 0 {
		t.Fatalf("learning raised %d findings, %d alerts", d.Stats().SilencedLearning, len(d.Alerts()))
	}
	again := make([]*dissect.Operation, len(ops))
	for i, op := range ops {
		again[i] = op.Clone()
	}
	if as := feed(d, t0.Add(2*time.Minute), again...); len(as) != 0 {
		t.Errorf("%d alerts on learned traffic: %s", len(as), as[0].Type)
	}
	for _, e := range []baseline.Entry{
		{Kind: baseline.KindDevice, Client: rogue},
		{Kind: baseline.KindConnection, Client: rogue, Server: plcA, Protocol: "modbus", Port: 502},
		{Kind: baseline.KindClass, Client: rogue, Class: "write"},
		{Kind: baseline.KindClass, Client: rogue, Server: plcA, Protocol: "s7comm", Class: "program"},
		{Kind: baseline.KindRange, Client: rogue, Server: plcA, Protocol: "modbus", Target: "coil:0-99"},
	} {
		if !d.Baseline().Has(e) {
			t.Errorf("baseline lacks %v", e)
		}
	}
}

// TestScanMuted: a known host that gets refused probes, or opens many new
// connections at once, is scanning: the anomaly engine reports it, and
// the policy engine raises at most burstNew-1 (3) connection alerts.
func TestScanMuted(t *testing.T) {
	d, now := learned(t)
	var ops []*dissect.Operation
	for i := range 20 {
		ops = append(ops, svc(fmt.Sprint("service", i), hist, plcA, uint16(1000+i)))
	}
	if as := feed(d, now, ops...); len(as) != 3 {
		t.Errorf("burst of new connections: %d alerts, want 3", len(as))
	}
	d, now = learned(t)
	ops = ops[:0]
	for i := range 3 {
		ops = append(ops, svc("unknown", hist, plcB, uint16(2000+i), status(dissect.StatusError)))
	}
	ops = append(ops, svc("telnet", hist, plcB, 23), svc("http", hist, plcB, 80))
	if as := feed(d, now, ops...); len(as) != 0 {
		t.Errorf("after refused probes: %d alerts, want none", len(as))
	}
}

// TestImportedBaseline: a detector started operational with a baseline
// from a file tells IT from OT hosts by it.
func TestImportedBaseline(t *testing.T) {
	d, _ := learned(t)
	b := d.Baseline()
	op := &detect.Config{Operational: true, Baseline: b, Keep: true}
	d2 := detect.New(*op)
	as := feed(d2, t0, svc("modbus", office, plcB, 502))
	if len(as) != 1 || as[0].Type != policy.ITOTCrossing.ID {
		t.Fatalf("got %d alerts (%v), want one %s", len(as), as, policy.ITOTCrossing.ID)
	}
	// An OT subnet makes any of its hosts OT.
	d3 := detect.New(detect.Config{Operational: true, Baseline: b, Keep: true, OTSubnets: []netip.Prefix{netip.MustParsePrefix("10.1.1.0/24")}})
	as = feed(d3, t0, svc("modbus", office, plcB, 502))
	if len(as) != 1 || as[0].Type != policy.NewConnection.ID {
		t.Fatalf("with OT subnet: got %d alerts, want one %s", len(as), policy.NewConnection.ID)
	}
}

// TestNoAllocs: checking known traffic allocates nothing.
func TestNoAllocs(t *testing.T) {
	d, now := learned(t)
	ops := plant()
	for _, op := range ops {
		op.Time = now
	}
	allocs := testing.AllocsPerRun(100, func() {
		for _, op := range ops {
			d.Emit(op)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per pass over known traffic, want 0", allocs)
	}
	if n := len(d.Alerts()); n != 0 {
		t.Errorf("%d alerts on known traffic", n)
	}
}

func BenchmarkOperation(b *testing.B) {
	d := detect.New(detect.Config{LearnUntil: t0.Add(time.Minute)})
	for _, op := range plant() {
		op.Time = t0
		d.Emit(op)
	}
	ops := plant()
	for _, op := range ops {
		op.Time = t0.Add(2 * time.Minute)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, op := range ops {
			d.Emit(op)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*len(ops)), "ns/operation")
}

package detect

import (
	"fmt"
	"maps"
	"net/netip"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
)

// t0 is the capture time the tests begin at.
var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// Addresses of the tests' plant.
var (
	hmi = addr("10.10.1.21")
	ews = addr("10.10.1.10")
	plc = addr("10.10.2.12")
	rtu = addr("10.10.2.30")
)

var plcMAC = dissect.MAC{0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03}

// Alert types the tests raise, one per engine and severity they need.
var (
	typPolicy = &alert.Type{ID: "test.policy", Engine: alert.Policy, Name: "New connection",
		Title: "New connection {src} to {dst}", Description: "d", Severity: alert.Medium, Category: "c",
		Techniques: []string{"T0855"}, Remediation: []string{"r"}, Learnable: true}
	typAnomaly = &alert.Type{ID: "test.anomaly", Engine: alert.Anomaly, Name: "Scan",
		Title: "Scan by {src}", Description: "d", Severity: alert.Medium, Category: "Scan",
		Techniques: []string{"T0846"}, Remediation: []string{"r"},
		Threshold: alert.Threshold{Count: 20, Window: time.Minute}}
	typProtocol = &alert.Type{ID: "test.protocol", Engine: alert.Protocol, Name: "Malformed",
		Title: "Malformed {protocol}", Description: "d", Severity: alert.Medium, Category: "c",
		Techniques: []string{"T0855"}, Remediation: []string{"r"}}
	typOperational = &alert.Type{ID: "test.operational", Engine: alert.Operational, Name: "Stop",
		Title: "Stop of {dst}", Description: "d", Severity: alert.Medium, Category: "c",
		Techniques: []string{"T0855"}, Remediation: []string{"r"}}
	typMalware = &alert.Type{ID: "test.malware", Engine: alert.Malware, Name: "Known bad",
		Title: "Known bad {detail}", Description: "d", Severity: alert.Medium, Category: "c",
		Techniques: []string{"T0855"}, Remediation: []string{"r"}}
	typHigh = &alert.Type{ID: "test.high", Engine: alert.Anomaly, Name: "Write burst",
		Title: "Write burst on {dst}", Description: "d", Severity: alert.High, Category: "c",
		Techniques: []string{"T0855"}, Remediation: []string{"r"}}
	typLearnable = &alert.Type{ID: "test.learnable", Engine: alert.Protocol, Name: "Unusual function",
		Title: "Unusual function {detail} on {dst}", Description: "d", Severity: alert.Low, Category: "c",
		Techniques: []string{"T0855"}, Remediation: []string{"r"}, Learnable: true}
)

// withRegistry replaces the registered engines with fs, named test00,
// test01, ... in that order, and the registered types with ts, for the
// duration of the test.
func withRegistry(t *testing.T, fs []Factory, ts ...*alert.Type) {
	t.Helper()
	regMu.Lock()
	savedF, savedT := factories, maps.Clone(types)
	factories, types = nil, map[string]*alert.Type{}
	for _, ty := range ts {
		types[ty.ID] = ty
	}
	for i, f := range fs {
		factories = append(factories, namedFactory{fmt.Sprintf("test%02d", i), f})
	}
	regMu.Unlock()
	t.Cleanup(func() {
		regMu.Lock()
		factories, types = savedF, savedT
		regMu.Unlock()
	})
}

// newDetector returns a Detector whose engines are exactly es, in order.
func newDetector(t *testing.T, cfg Config, es ...Engine) *Detector {
	t.Helper()
	fs := make([]Factory, len(es))
	for i, e := range es {
		fs[i] = func(*Detector) Engine { return e }
	}
	withRegistry(t, fs)
	return New(cfg)
}

// opEngine is a fake engine that sees operations, ticks and the switch to
// operational mode. onOp, if set, runs for each operation.
type opEngine struct {
	engine      alert.Engine
	onOp        func(d *Detector, op *dissect.Operation)
	ops         int
	ticks       []bool // final of each Tick
	tickTimes   []time.Time
	operational int
}

func (e *opEngine) Engine() alert.Engine { return e.engine }

func (e *opEngine) Operation(d *Detector, op *dissect.Operation) {
	e.ops++
	if e.onOp != nil {
		e.onOp(d, op)
	}
}

func (e *opEngine) Tick(d *Detector, final bool) {
	e.ticks = append(e.ticks, final)
	e.tickTimes = append(e.tickTimes, d.Now())
}

func (e *opEngine) Operational(*Detector) { e.operational++ }

// probeEngine is a fake engine that handles probes; it also has a Packet
// method, which the Detector must not call.
type probeEngine struct {
	probes  []*decode.Packet
	packets int
}

func (e *probeEngine) Engine() alert.Engine                 { return alert.Anomaly }
func (e *probeEngine) Probe(_ *Detector, p *decode.Packet)  { e.probes = append(e.probes, p) }
func (e *probeEngine) Packet(_ *Detector, _ *decode.Packet) { e.packets++ }

// packetEngine is a fake engine that sees every frame.
type packetEngine struct{ packets []*decode.Packet }

func (e *packetEngine) Engine() alert.Engine                 { return alert.Protocol }
func (e *packetEngine) Packet(_ *Detector, p *decode.Packet) { e.packets = append(e.packets, p) }

// learningEngine is a fake engine that sees frames while learning.
type learningEngine struct{ packets int }

func (e *learningEngine) Engine() alert.Engine                         { return alert.Policy }
func (e *learningEngine) LearningPacket(_ *Detector, _ *decode.Packet) { e.packets++ }

// sinkRecord is one call of a recording Sink.
type sinkRecord struct {
	id      string
	count   uint64
	created bool
}

// recorder returns a Sink that records its calls in *calls.
func recorder(calls *[]sinkRecord) Sink {
	return SinkFunc(func(a *alert.Alert, created bool) {
		*calls = append(*calls, sinkRecord{a.ID, a.Count, created})
	})
}

// udp returns a UDP frame from src to dst at tm: a frame that is not a
// probe.
func udp(tm time.Time, src, dst netip.Addr) *decode.Packet {
	return &decode.Packet{Timestamp: tm, Network: decode.NetIPv4, SrcIP: src, DstIP: dst, Transport: decode.ProtoUDP,
		SrcPort: 40000, DstPort: 161}
}

// tick returns a frame that only moves capture time to tm.
func tick(tm time.Time) *decode.Packet { return udp(tm, hmi, plc) }

// Names an operation's kind is made of. Kinds compare names by identity, as
// dissectors name them with constants; these are the tests' constants.
const (
	fnRead  = "read_holding_registers"
	fnWrite = "write_single_register"
)

// modbus returns a Modbus/TCP operation of fn on flow between client and
// server at tm.
func modbus(tm time.Time, flow uint64, client, server netip.Addr, fn string) *dissect.Operation {
	return &dissect.Operation{Time: tm, Protocol: "modbus", Transport: "tcp",
		Client: dissect.Endpoint{IP: client, Port: 50000}, Server: dissect.Endpoint{IP: server, Port: 502},
		FunctionCode: 3, FunctionName: fn, Class: dissect.ClassRead, Request: true, Response: true,
		Targets: []dissect.Target{{Kind: "holding_register", Address: 0, Count: 10}},
		Result:  dissect.Result{Status: dissect.StatusOK},
		Packets: []dissect.PacketRef{{Flow: flow, Index: 3}}}
}

// finding returns a finding of typ from src to dst with key at tm.
func finding(typ *alert.Type, tm time.Time, src, dst netip.Addr, key string) Finding {
	return Finding{Type: typ, Time: tm, Source: alert.Party{IP: src}, Destination: alert.Party{IP: dst}, Key: key}
}

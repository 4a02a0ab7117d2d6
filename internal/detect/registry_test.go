package detect

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

func TestIsProbe(t *testing.T) {
	const (
		syn = decode.TCPFlagSYN
		ack = decode.TCPFlagACK
		rst = decode.TCPFlagRST
		fin = decode.TCPFlagFIN
		psh = decode.TCPFlagPSH
	)
	// A probe is a TCP segment with SYN set and neither ACK nor RST (the
	// other flags do not matter), or an echo request: ICMP type 8, ICMPv6
	// type 128.
	tests := []struct {
		name      string
		transport uint8
		flags     uint8
		icmp      uint8
		want      bool
	}{
		{"SYN", decode.ProtoTCP, syn, 0, true},
		{"SYN+FIN", decode.ProtoTCP, syn | fin, 0, true},
		{"SYN+PSH", decode.ProtoTCP, syn | psh, 0, true},
		{"SYN+ACK", decode.ProtoTCP, syn | ack, 0, false},
		{"SYN+RST", decode.ProtoTCP, syn | rst, 0, false},
		{"ACK", decode.ProtoTCP, ack, 0, false},
		{"RST", decode.ProtoTCP, rst, 0, false},
		{"no flags", decode.ProtoTCP, 0, 0, false},
		{"ICMP echo request", decode.ProtoICMP, 0, 8, true},
		{"ICMP echo reply", decode.ProtoICMP, 0, 0, false},
		{"ICMP unreachable", decode.ProtoICMP, 0, 3, false},
		{"ICMP type 128", decode.ProtoICMP, 0, 128, false},
		{"ICMPv6 echo request", decode.ProtoICMPv6, 0, 128, true},
		{"ICMPv6 echo reply", decode.ProtoICMPv6, 0, 129, false},
		{"ICMPv6 type 8", decode.ProtoICMPv6, 0, 8, false},
		{"UDP", decode.ProtoUDP, syn, 8, false},
		{"no transport", 0, syn, 8, false},
	}
	for _, tt := range tests {
		p := &decode.Packet{Transport: tt.transport, TCPFlags: tt.flags, ICMPType: tt.icmp}
		if got := IsProbe(p); got != tt.want {
			t.Errorf("IsProbe(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestFrameDispatch checks which engines see which frames: a ProbeHandler
// sees the probes only and is never called as a PacketHandler, a
// PacketHandler sees every frame that decoded, and nobody sees a frame
// that failed to decode.
func TestFrameDispatch(t *testing.T) {
	probe := &probeEngine{}
	pkt := &packetEngine{}
	d := newDetector(t, Config{Operational: true}, probe, pkt)
	synP := &decode.Packet{Timestamp: at(0), SrcIP: hmi, DstIP: plc, Transport: decode.ProtoTCP, TCPFlags: decode.TCPFlagSYN, DstPort: 502}
	synAck := &decode.Packet{Timestamp: at(1), SrcIP: plc, DstIP: hmi, Transport: decode.ProtoTCP, TCPFlags: decode.TCPFlagSYN | decode.TCPFlagACK}
	echo := &decode.Packet{Timestamp: at(2), SrcIP: hmi, DstIP: plc, Transport: decode.ProtoICMP, ICMPType: 8}
	reply := &decode.Packet{Timestamp: at(3), SrcIP: plc, DstIP: hmi, Transport: decode.ProtoICMP, ICMPType: 0}
	echo6 := &decode.Packet{Timestamp: at(4), SrcIP: addr("fd00::1"), DstIP: addr("fd00::2"), Transport: decode.ProtoICMPv6, ICMPType: 128}
	other := udp(at(5), hmi, plc)
	badSyn := &decode.Packet{Timestamp: at(6), Transport: decode.ProtoTCP, TCPFlags: decode.TCPFlagSYN}
	for _, p := range []*decode.Packet{synP, synAck, echo, reply, echo6, other} {
		d.Packet(p, nil)
	}
	d.Packet(badSyn, errors.New("decode: truncated"))

	if want := []*decode.Packet{synP, echo, echo6}; !slices.Equal(probe.probes, want) {
		t.Errorf("probes %v, want %v", probe.probes, want)
	}
	if probe.packets != 0 {
		t.Errorf("ProbeHandler called %d times as a PacketHandler, want 0", probe.packets)
	}
	if want := []*decode.Packet{synP, synAck, echo, reply, echo6, other}; !slices.Equal(pkt.packets, want) {
		t.Errorf("PacketHandler saw %d frames, want the %d that decoded", len(pkt.packets), len(want))
	}
	if got := d.Stats().Packets; got != 7 {
		t.Errorf("Stats.Packets = %d, want 7 (every frame, decoded or not)", got)
	}
}

// eventEngine is a fake engine that sees inventory events.
type eventEngine struct{ events []inventory.Event }

func (e *eventEngine) Engine() alert.Engine { return alert.Anomaly }
func (e *eventEngine) InventoryEvent(_ *Detector, ev inventory.Event) {
	e.events = append(e.events, ev)
}

func TestEventDispatch(t *testing.T) {
	e := &eventEngine{}
	d := newDetector(t, Config{}, e, &opEngine{engine: alert.Protocol})
	evs := []inventory.Event{{}, {}}
	for _, ev := range evs {
		d.Event(ev)
	}
	if len(e.events) != len(evs) {
		t.Errorf("EventHandler saw %d events, want %d", len(e.events), len(evs))
	}
}

func TestProtoOf(t *testing.T) {
	tests := []struct {
		name       string
		want       Proto
		industrial bool
	}{
		{"", ProtoOther, false},
		{"smb", ProtoOther, false},
		{"Modbus", ProtoOther, false}, // names are lower case
		{"service", ProtoService, false},
		{"arp", ProtoARP, false},
		{"dns", ProtoDNS, false},
		{"tls", ProtoTLS, false},
		{"http", ProtoHTTP, false},
		{"modbus", ProtoModbus, true},
		{"dnp3", ProtoDNP3, true},
		{"s7comm", ProtoS7comm, true},
		{"s7comm_plus", ProtoS7commPlus, true},
		{"cotp", ProtoCOTP, true},
		{"enip", ProtoENIP, true},
		{"cip", ProtoCIP, true},
		{"bacnet", ProtoBACnet, true},
		{"iec104", ProtoIEC104, true},
		{"opcua", ProtoOPCUA, true},
		{"goose", ProtoGOOSE, true},
		{"profinet", ProtoIndustrial, true},
		{"pn_io_cm", ProtoIndustrial, true},
		{"sv", ProtoIndustrial, true},
		{"mms", ProtoIndustrial, true},
		{"fins", ProtoIndustrial, true},
		{"hartip", ProtoIndustrial, true},
		{"synphasor", ProtoIndustrial, true},
	}
	for _, tt := range tests {
		got := ProtoOf(tt.name)
		if got != tt.want || got.Industrial() != tt.industrial || Industrial(tt.name) != tt.industrial {
			t.Errorf("ProtoOf(%q) = %d (industrial %v), want %d (industrial %v)", tt.name, got, got.Industrial(), tt.want, tt.industrial)
		}
	}
}

// TestDetectorProto checks that Detector.Proto gives ProtoOf's answer for
// the operation being dispatched, whether its protocol name is the
// previous one's string or an equal string elsewhere in memory, and for
// any other operation.
func TestDetectorProto(t *testing.T) {
	var got []Proto
	other := &dissect.Operation{Protocol: "bacnet"}
	var gotOther Proto
	e := &opEngine{engine: alert.Anomaly, onOp: func(d *Detector, op *dissect.Operation) {
		got = append(got, d.Proto(op))
		gotOther = d.Proto(other)
	}}
	d := newDetector(t, Config{}, e)
	names := []string{"modbus", "modbus", strings.Clone("modbus"), strings.Clone("dnp3"), "dnp3", "", "smb", strings.Clone("smb")}
	want := []Proto{ProtoModbus, ProtoModbus, ProtoModbus, ProtoDNP3, ProtoDNP3, ProtoOther, ProtoOther, ProtoOther}
	for i, n := range names {
		op := modbus(at(time.Duration(i)*time.Second), 7, hmi, plc, fnRead)
		op.Protocol = n
		d.Emit(op)
	}
	if !slices.Equal(got, want) || gotOther != ProtoBACnet {
		t.Errorf("Proto = %v, other %v; want %v, %v", got, gotOther, want, ProtoBACnet)
	}
}

// TestRegister checks the registry: engines and types are listed sorted,
// types are found by id, and duplicates and ill-formed types panic.
func TestRegister(t *testing.T) {
	withRegistry(t, nil)
	f := func(*Detector) Engine { return &opEngine{engine: alert.Anomaly} }
	tb := *typAnomaly
	tb.ID = "b.type"
	ta := *typProtocol
	ta.ID = "a.type"
	Register("zeta", f, &tb)
	Register("alpha", f, &ta)
	if got, want := EngineNames(), []string{"alpha", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("EngineNames() = %v, want %v", got, want)
	}
	if got := Types(); len(got) != 2 || got[0] != &ta || got[1] != &tb {
		t.Errorf("Types() = %v, want a.type, b.type", got)
	}
	if LookupType("a.type") != &ta || LookupType("c.type") != nil {
		t.Error("LookupType does not find exactly the registered types")
	}
	if d := New(Config{}); len(d.engines) != 2 {
		t.Errorf("New made %d engines, want 2", len(d.engines))
	}

	ill := func(change func(t *alert.Type)) *alert.Type {
		x := *typAnomaly
		x.ID = "ill.type"
		change(&x)
		return &x
	}
	tests := []struct {
		name   string
		engine string
		typ    *alert.Type
	}{
		{"duplicate engine", "alpha", nil},
		{"duplicate type", "beta", &ta},
		{"empty id", "beta", ill(func(t *alert.Type) { t.ID = "" })},
		{"id with a space", "beta", ill(func(t *alert.Type) { t.ID = "a type" })},
		{"no engine", "beta", ill(func(t *alert.Type) { t.Engine = 0 })},
		{"unknown engine", "beta", ill(func(t *alert.Type) { t.Engine = alert.Operational + 1 })},
		{"no severity", "beta", ill(func(t *alert.Type) { t.Severity = 0 })},
		{"unknown severity", "beta", ill(func(t *alert.Type) { t.Severity = alert.Critical + 1 })},
		{"no name", "beta", ill(func(t *alert.Type) { t.Name = "" })},
		{"no title", "beta", ill(func(t *alert.Type) { t.Title = "" })},
		{"no description", "beta", ill(func(t *alert.Type) { t.Description = "" })},
		{"no category", "beta", ill(func(t *alert.Type) { t.Category = "" })},
		{"no technique", "beta", ill(func(t *alert.Type) { t.Techniques = nil })},
		{"no remediation", "beta", ill(func(t *alert.Type) { t.Remediation = nil })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q, %v) did not panic", tt.engine, tt.typ)
				}
			}()
			var ts []*alert.Type
			if tt.typ != nil {
				ts = append(ts, tt.typ)
			}
			Register(tt.engine, f, ts...)
		})
	}
	// The well-formed variant of the ill-formed types registers.
	Register("beta", f, ill(func(*alert.Type) {}))
	if got := EngineNames(); !slices.Equal(got, []string{"alpha", "beta", "zeta"}) {
		t.Errorf("EngineNames() = %v after the failed registrations, want alpha, beta, zeta", got)
	}
}

package anomaly

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func randAddr(rng *rand.Rand) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
}

// A million spoofed packets (echo requests and SYNs from random sources
// to random targets, ARP claims of random addresses) leave every table
// within its bound, and the heap grows by a bounded amount.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a million packets")
	}
	d := detect.New(detect.Config{Operational: true, Keep: true})
	e := newEngine(d).(*engine)
	rng := rand.New(rand.NewPCG(1, 2))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p := &decode.Packet{Network: decode.NetIPv4}
	op := &dissect.Operation{Protocol: "arp", FunctionCode: arpReply, FunctionName: "reply", Result: dissect.Result{Status: dissect.StatusOK}}
	for i := range 1_000_000 {
		p.Timestamp = t0.Add(time.Duration(i) * time.Microsecond)
		p.SrcIP, p.DstIP = randAddr(rng), randAddr(rng)
		if i%2 == 0 {
			p.Transport, p.ICMPType, p.TCPFlags = decode.ProtoICMP, icmpEcho, 0
		} else {
			p.Transport, p.TCPFlags, p.DstPort = decode.ProtoTCP, decode.TCPFlagSYN, uint16(rng.IntN(65536))
		}
		e.Packet(d, p)
		if i%10 == 0 {
			op.Time = p.Timestamp
			op.Client = dissect.Endpoint{IP: p.SrcIP, MAC: dissect.MAC{0x02, byte(i), byte(i >> 8), byte(i >> 16), 1, 2}}
			op.Server = dissect.Endpoint{IP: p.DstIP}
			e.Operation(d, op)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for name, n := range map[string]int{"ports": e.ports.len(), "sweeps": e.sweeps.len(), "plcs": e.plcs.len(),
		"scanners": e.scanners.len(), "icmp": e.icmp.len(), "syn": e.syn.len()} {
		if n > maxTracked {
			t.Errorf("table %s holds %d entries, more than %d", name, n, maxTracked)
		}
	}
	for name, n := range map[string]int{"ips": e.ips.len(), "macs": e.macs.len(), "asks": e.asks.len()} {
		if n > maxARP {
			t.Errorf("table %s holds %d entries, more than %d", name, n, maxARP)
		}
	}
	if e.icmp.evicted == 0 || e.ips.evicted == 0 {
		t.Errorf("no eviction: icmp %d, ips %d", e.icmp.evicted, e.ips.evicted)
	}
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 64<<20 {
		t.Errorf("heap grew by %d MiB", grown>>20)
	}
	if n := len(d.Alerts()); n != 0 {
		t.Errorf("%d alerts from packets that never repeat a target", n)
	}
}

// table keeps at most max entries and drops the least recently seen of
// its sample.
func TestTableEvicts(t *testing.T) {
	tab := newTable[int, int](4)
	for i := range 4 {
		v, created := tab.get(i, int64(10+i))
		if !created {
			t.Fatalf("key %d not new", i)
		}
		*v = i
	}
	tab.get(0, 20) // 1 is now the least recently seen
	if _, created := tab.get(9, 21); !created {
		t.Fatal("key 9 not new")
	}
	if tab.len() != 4 || tab.lookup(1) != nil || tab.lookup(0) == nil || tab.evicted != 1 {
		t.Errorf("len %d, 1 present %v, 0 present %v, evicted %d", tab.len(), tab.lookup(1) != nil, tab.lookup(0) != nil, tab.evicted)
	}
}

// benign returns an engine whose HMI channel was learned, and the HMI's
// read.
func benign(tb testing.TB) (*detect.Detector, *engine, *dissect.Operation) {
	d := detect.New(detect.Config{Learn: time.Hour})
	e := newEngine(d).(*engine)
	op := &dissect.Operation{Protocol: "modbus", Transport: "tcp",
		Client: dissect.Endpoint{IP: netip.MustParseAddr("10.10.1.21"), Port: 50000}, Server: dissect.Endpoint{IP: netip.MustParseAddr("10.10.2.12"), Port: 502},
		FunctionCode: 3, FunctionName: "read_holding_registers", Class: dissect.ClassRead, Request: true, Response: true,
		Targets: []dissect.Target{{Kind: "holding_register", Count: 10}}, Result: dissect.Result{Status: dissect.StatusOK},
		Attrs: []dissect.Attr{{Key: "unit_id", Value: "1"}}, Packets: []dissect.PacketRef{{Flow: 3}}}
	for i := range 300 {
		op.Time = t0.Add(time.Duration(i) * time.Second)
		e.Operation(d, op)
	}
	d.SetMode(detect.Operational)
	e.Operational(d)
	if c := e.poll.m[chanKey{op.Client.IP, op.Server.IP, "modbus"}]; c == nil || !c.periodic {
		tb.Fatal("channel not learned")
	}
	return d, e, op
}

// Benign traffic does not allocate: a known poll, TCP data, a repeated
// SYN and echo request.
func TestSteadyStateAllocations(t *testing.T) {
	d, e, op := benign(t)
	data := &decode.Packet{Timestamp: t0, Network: decode.NetIPv4, SrcIP: op.Client.IP, DstIP: op.Server.IP,
		Transport: decode.ProtoTCP, DstPort: 502, TCPFlags: decode.TCPFlagACK | decode.TCPFlagPSH}
	synp := *data
	synp.TCPFlags = decode.TCPFlagSYN
	ping := &decode.Packet{Timestamp: t0, Network: decode.NetIPv4, SrcIP: op.Client.IP, DstIP: op.Server.IP, Transport: decode.ProtoICMP, ICMPType: icmpEcho}
	e.Packet(d, &synp)
	e.Packet(d, ping)
	tests := []struct {
		name string
		fn   func()
	}{
		{"modbus read", func() { e.Operation(d, op) }},
		{"tcp data", func() { e.Packet(d, data) }},
		{"repeated syn", func() { e.Packet(d, &synp) }},
		{"echo request", func() { e.Packet(d, ping) }},
		{"tick", func() { e.Tick(d, false) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.fn); n != 0 {
			t.Errorf("%s: %v allocations", tt.name, n)
		}
	}
}

func BenchmarkOperationModbusRead(b *testing.B) {
	d, e, op := benign(b)
	b.ReportAllocs()
	for b.Loop() {
		e.Operation(d, op)
	}
}

func BenchmarkPacketTCPData(b *testing.B) {
	d, e, _ := benign(b)
	p := &decode.Packet{Timestamp: t0, Network: decode.NetIPv4, SrcIP: netip.MustParseAddr("10.10.1.21"), DstIP: netip.MustParseAddr("10.10.2.12"),
		Transport: decode.ProtoTCP, DstPort: 502, TCPFlags: decode.TCPFlagACK}
	b.ReportAllocs()
	for b.Loop() {
		e.Packet(d, p)
	}
}

func BenchmarkPacketEchoFlood(b *testing.B) {
	d := detect.New(detect.Config{Operational: true})
	e := newEngine(d).(*engine)
	p := &decode.Packet{Timestamp: t0, Network: decode.NetIPv4, SrcIP: netip.MustParseAddr("10.10.1.30"), DstIP: netip.MustParseAddr("10.10.2.11"),
		Transport: decode.ProtoICMP, ICMPType: icmpEcho}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		p.Timestamp = t0.Add(time.Duration(i) * 100 * time.Microsecond)
		e.Packet(d, p)
	}
}

func BenchmarkPacketSYNSpoofed(b *testing.B) {
	d := detect.New(detect.Config{Operational: true})
	e := newEngine(d).(*engine)
	rng := rand.New(rand.NewPCG(1, 2))
	p := &decode.Packet{Timestamp: t0, Network: decode.NetIPv4, DstIP: netip.MustParseAddr("10.10.2.12"),
		Transport: decode.ProtoTCP, DstPort: 502, TCPFlags: decode.TCPFlagSYN}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		p.Timestamp = t0.Add(time.Duration(i) * 100 * time.Microsecond)
		p.SrcIP = randAddr(rng)
		e.Packet(d, p)
	}
}

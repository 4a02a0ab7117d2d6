package policy

import (
	"net/netip"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// TestFloodBounded: floods of new peers, refused probes, unknown flows and
// register ranges keep the engine's state within its caps and give a
// handful of alerts.
func TestFloodBounded(t *testing.T) {
	start := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	cli, srv := netip.MustParseAddr("10.1.1.21"), netip.MustParseAddr("10.1.2.11")
	d := detect.New(detect.Config{LearnUntil: start.Add(time.Second), Keep: true, MaxHosts: 1 << 20})
	e := newEngine(d).(*engine)
	op := &dissect.Operation{Protocol: "service", Transport: "tcp", FunctionName: "modbus",
		Client: dissect.Endpoint{IP: cli, Port: 50000}, Server: dissect.Endpoint{IP: srv, Port: 502},
		Result: dissect.Result{Status: dissect.StatusOK}, Packets: []dissect.PacketRef{{Index: 1}}, Time: start}
	// A second client, which reads coils of the server, reads new
	// register ranges in the flood; the first, which probes new ports, is
	// muted as a scanner.
	reader := netip.MustParseAddr("10.1.1.30")
	readerSvc := *op
	readerSvc.Client.IP = reader
	read := &dissect.Operation{Protocol: "modbus", FunctionName: "read_coils", Class: dissect.ClassRead, Client: dissect.Endpoint{IP: reader, Port: 50000},
		Server: dissect.Endpoint{IP: srv, Port: 502}, Request: true, Response: true, Result: dissect.Result{Status: dissect.StatusOK},
		Targets: []dissect.Target{{Kind: "coil", Address: 0, Count: 1}}, Packets: []dissect.PacketRef{{Index: 2}}, Time: start}
	for _, o := range []*dissect.Operation{op, &readerSvc, read} {
		d.Emit(o) // the detector's own policy engine learns the pairs
		e.Operation(d, o)
	}
	now := start.Add(time.Minute)
	d.Emit(&dissect.Operation{Protocol: "arp", Time: now}) // ends learning
	const n = 200_000
	emit := func(op *dissect.Operation) {
		op.Time = now
		now = now.Add(time.Millisecond)
		e.Operation(d, op)
	}
	for i := range n {
		a4 := [4]byte{10, 2, byte(i >> 16), byte(i >> 8)}
		a4[3] = byte(i) | 1
		other := netip.AddrFrom4(a4)
		// A new device answering, a refused probe from a new address, a
		// new service port on the known pair, a new register range of the
		// reader.
		emit(&dissect.Operation{Protocol: "arp", FunctionName: "reply", Client: dissect.Endpoint{IP: other}, Server: dissect.Endpoint{IP: cli},
			Response: true, Result: dissect.Result{Status: dissect.StatusOK}})
		emit(&dissect.Operation{Protocol: "service", Transport: "tcp", FunctionName: "modbus", Client: dissect.Endpoint{IP: other},
			Server: dissect.Endpoint{IP: srv, Port: 502}, Result: dissect.Result{Status: dissect.StatusError}})
		emit(&dissect.Operation{Protocol: "service", Transport: "tcp", FunctionName: "unknown", Client: dissect.Endpoint{IP: cli},
			Server: dissect.Endpoint{IP: srv, Port: uint16(1024 + i%60000)}, Result: dissect.Result{Status: dissect.StatusOK}, Packets: []dissect.PacketRef{{Index: 1}}})
		emit(&dissect.Operation{Protocol: "modbus", FunctionName: "read_coils", Class: dissect.ClassRead, Client: dissect.Endpoint{IP: reader},
			Server: dissect.Endpoint{IP: srv, Port: 502}, Response: true, Result: dissect.Result{Status: dissect.StatusOK},
			Targets: []dissect.Target{{Kind: "coil", Address: uint32(i+1) * RangeBucket, Count: 1}}})
	}
	d.Flush()
	if len(e.clients) > maxClients || len(e.flows) > maxFlows || len(e.names) > maxNames || len(e.devices) > maxClients {
		t.Errorf("state past its caps: %d clients, %d flows, %d names, %d devices", len(e.clients), len(e.flows), len(e.names), len(e.devices))
	}
	// Per minute of the flood: maxNewDevices new devices, burstNew-1
	// connections, maxRanges register ranges.
	minutes := int(now.Sub(start.Add(time.Minute))/burstWindow) + 1
	devices, conns, ranges := 0, 0, 0
	for _, a := range d.Alerts() {
		switch a.Type {
		case NewDevice.ID:
			devices++
		case NewProtocol.ID:
			conns++
		case AddressRange.ID:
			ranges++
		}
	}
	if devices == 0 || conns == 0 || ranges == 0 {
		t.Errorf("%d new-device, %d connection and %d range alerts: the flood raised none of a kind", devices, conns, ranges)
	}
	if devices > maxNewDevices*minutes || conns > burstNew*minutes || ranges > maxRanges*minutes {
		t.Errorf("%d new-device, %d connection and %d range alerts over %d minutes, want at most %d, %d and %d",
			devices, conns, ranges, minutes, maxNewDevices*minutes, burstNew*minutes, maxRanges*minutes)
	}
	if e.Muted() == 0 {
		t.Error("nothing muted")
	}
}

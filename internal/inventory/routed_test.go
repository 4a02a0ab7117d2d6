package inventory

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// bacnetOp is a hand-made BACnet operation from client c to server s.
// Over BACnet/Ethernet (eth set) the endpoints are the hosts' MACs.
func bacnetOp(c, s host, eth bool, name string, req, resp bool, at time.Time, attrs []dissect.Attr, facts ...dissect.Fact) *dissect.Operation {
	op := &dissect.Operation{Time: at, Protocol: "bacnet", Transport: "udp", FunctionName: name, Class: dissect.ClassDiagnostics,
		Client: dissect.Endpoint{IP: c.ip, Port: 47808}, Server: dissect.Endpoint{IP: s.ip, Port: 47808},
		Request: req, Response: resp, Result: dissect.Result{Status: dissect.StatusOK}, Attrs: attrs, Identity: facts}
	if eth {
		op.Transport = "ethernet"
		op.Client, op.Server = dissect.Endpoint{MAC: c.mac}, dissect.Endpoint{MAC: s.mac}
	}
	return op
}

func attrs(kv ...string) []dissect.Attr {
	var out []dissect.Attr
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, dissect.Attr{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func iAm(instance, vendorID string) []dissect.Fact {
	return []dissect.Fact{
		{Key: dissect.FactAddress, Value: "device:" + instance, Server: true},
		{Key: dissect.FactVendorID, Value: vendorID, Server: true},
	}
}

func byAddress(s *Snapshot, addr string) *Device {
	for i := range s.Devices {
		if s.Devices[i].Address == addr {
			return &s.Devices[i]
		}
	}
	return nil
}

// TestBACnetRouted feeds hand-made BACnet operations of devices behind a
// BACnet router (NPDU SNET/SADR, ANSI/ASHRAE 135 clause 6.2.2: the router
// puts the originating network and MAC address in the NPDU it forwards)
// and checks that each becomes a device of its own behind the router.
func TestBACnetRouted(t *testing.T) {
	var events []Event
	opts := DefaultOptions
	opts.Sink = SinkFunc(func(e Event) { events = append(events, e) })
	inv := New(opts)
	router, ws := mk(1, "10.0.5.1"), mk(2, "10.0.5.2")
	bcast := host{[6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, netip.MustParseAddr("10.0.5.255")}
	arp(inv, router, t0)
	arp(inv, ws, t0)
	at := t0.Add(time.Second)
	ops := []*dissect.Operation{
		// The router's own I-Am: no SNET, it describes the router.
		bacnetOp(bcast, router, false, "i_am", false, true, at, nil, iAm("260001", "24")...),
		// A routed I-Am of MS/TP device 10 (SADR one octet, printed in
		// decimal) on network 3.
		bacnetOp(bcast, router, false, "i_am", false, true, at, attrs("snet", "3", "sadr", "10"), iAm("10", "42")...),
		// ReadProperty of its Device object's object-name, model-name and
		// firmware-revision, answered through the router: a pair, so the
		// response's routing is response_snet/response_sadr.
		bacnetOp(ws, router, false, "read_property", true, true, at.Add(time.Second),
			attrs("dnet", "3", "dadr", "10", "response_snet", "3", "response_sadr", "10"),
			dissect.Fact{Key: dissect.FactHostname, Value: "AHU-1", Server: true},
			dissect.Fact{Key: dissect.FactModel, Value: "SYSC MLX", Server: true}),
		// An ack whose request was not seen: its own SNET/SADR.
		bacnetOp(ws, router, false, "read_property", false, true, at.Add(2*time.Second),
			attrs("snet", "3", "sadr", "10"), dissect.Fact{Key: dissect.FactFirmware, Value: "2.62", Server: true}),
		// The same device's I-Am over BACnet/Ethernet from the router's
		// MAC: the same router device, so the same routed device.
		bacnetOp(bcast, router, true, "i_am", false, true, at.Add(3*time.Second), attrs("snet", "3", "sadr", "10"), iAm("10", "42")...),
		// A device on another B/IP network (SADR a 6-octet B/IP address,
		// hex in upper case here).
		bacnetOp(bcast, router, false, "i_am", false, true, at.Add(4*time.Second), attrs("snet", "1", "sadr", "C0:A8:00:10:BA:C0"), iAm("111", "42")...),
		// A routed request without identity (a client on network 3
		// asking the workstation): no device is made of it, and the
		// pair's SNET is the client's, not the server's.
		bacnetOp(router, ws, false, "read_property", true, true, at.Add(5*time.Second), attrs("snet", "3", "sadr", "99"),
			dissect.Fact{Key: dissect.FactHostname, Value: "WS-1", Server: true}),
	}
	for _, op := range ops {
		inv.Emit(op)
	}
	inv.Flush()
	s := inv.Snapshot()
	rdev := find(s, router)
	if rdev == nil {
		t.Fatal("no router device")
	}
	if !slices.ContainsFunc(rdev.Facts, func(f Fact) bool { return f.Value == "device:260001" }) ||
		slices.ContainsFunc(rdev.Facts, func(f Fact) bool { return f.Value == "device:10" || f.Value == "device:111" || f.Value == "AHU-1" }) {
		t.Errorf("router facts: %+v", rdev.Facts)
	}
	if d := find(s, ws); d == nil || d.Name != "WS-1" {
		t.Errorf("workstation %+v: facts of a pair with a routed client stay on the server", d)
	}
	tests := []struct {
		addr, sadr, instance, name, model, firmware, evidence string
	}{
		{"bacnet:3:10", "10", "10", "AHU-1", "SYSC MLX", "2.62", "BACnet device 10 on network 3 (MAC 10) behind router 10.0.5.1"},
		{"bacnet:1:c0:a8:00:10:ba:c0", "c0:a8:00:10:ba:c0", "111", "", "", "", "BACnet device 111 on network 1 (MAC c0:a8:00:10:ba:c0) behind router 10.0.5.1"},
	}
	for _, tt := range tests {
		d := byAddress(s, tt.addr)
		if d == nil {
			t.Errorf("%s: no device; devices %+v", tt.addr, s.Devices)
			continue
		}
		if d.RoutedBy != rdev.ID || d.MAC != "" || len(d.IPs) != 0 {
			t.Errorf("%s: routed by %d mac %q ips %v; want router %d", tt.addr, d.RoutedBy, d.MAC, d.IPs, rdev.ID)
		}
		if !slices.ContainsFunc(d.Facts, func(f Fact) bool { return f.Key == dissect.FactAddress && f.Value == "device:"+tt.instance }) ||
			!slices.ContainsFunc(d.Facts, func(f Fact) bool { return f.Key == dissect.FactVendorID && f.Value == "42" }) {
			t.Errorf("%s: facts %+v", tt.addr, d.Facts)
		}
		if d.Name != tt.name || d.Model != tt.model || d.Firmware != tt.firmware {
			t.Errorf("%s: name %q model %q firmware %q", tt.addr, d.Name, d.Model, d.Firmware)
		}
		if d.Type != TypePLC || d.Purdue != 1 || !slices.Contains(d.Evidence, tt.evidence) {
			t.Errorf("%s: %s level %d %q", tt.addr, d.Type, d.Purdue, d.Evidence)
		}
		if !slices.ContainsFunc(s.Connections, func(c Connection) bool {
			return c.Client == d.ID && c.Server == rdev.ID && c.Relation == RelationRoutedBy && !c.CrossesPurdue
		}) {
			t.Errorf("%s: no routed_by connection to %d: %+v", tt.addr, rdev.ID, s.Connections)
		}
		n := 0
		for _, e := range events {
			if e.Type == EventNewDevice && e.Device == d.ID {
				n++
				// No vendor name was given, only a vendor id.
				if e.Peer != rdev.ID || e.Detail != tt.addr+" behind router 00:1b:1b:00:00:01" {
					t.Errorf("%s: event %+v", tt.addr, e)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d new_device events: %+v", tt.addr, n, events)
		}
	}
	if n := len(s.Devices); n != 4 {
		t.Errorf("%d devices, want router, workstation and two routed: %+v", n, s.Devices)
	}
	if n := count(events, EventNewDevice); n != 4 {
		t.Errorf("%d new_device events, want 4: %+v", n, events)
	}
	for _, e := range events {
		if e.Type == EventMerged || e.Type == EventNewName && strings.Contains(e.Detail, "AHU-1") {
			t.Errorf("event %+v: the routed device was one from its discovery", e)
		}
	}
	var b bytes.Buffer
	if err := WriteTable(&b, s); err != nil || !strings.Contains(b.String(), "bacnet:3:10 via 1") {
		t.Errorf("table: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := WriteJSON(&b, s); err != nil || !strings.Contains(b.String(), `"address": "bacnet:3:10"`) || !strings.Contains(b.String(), `"routed_by": 1`) {
		t.Errorf("json: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := WriteDOT(&b, s); err != nil || !strings.Contains(b.String(), `[label="routed_by", style=dashed]`) {
		t.Errorf("dot: %v\n%s", err, b.String())
	}
	g := s.Graph()
	if !slices.ContainsFunc(g.Edges, func(e GraphEdge) bool { return e.To == rdev.ID && e.Relation == RelationRoutedBy }) ||
		!slices.ContainsFunc(g.Nodes, func(n GraphNode) bool { return n.Label == "AHU-1" && n.Purdue == 1 }) {
		t.Errorf("graph %+v", g)
	}
	raw, _ := json.Marshal(g)
	if !strings.Contains(string(raw), `"relation":"routed_by"`) {
		t.Errorf("graph json %s", raw)
	}
}

// TestBACnetRoutedOverride checks that an override set by routed address
// applies to the routed device.
func TestBACnetRoutedOverride(t *testing.T) {
	inv := New(DefaultOptions)
	router := mk(1, "10.0.5.1")
	bcast := host{[6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, netip.MustParseAddr("10.0.5.255")}
	arp(inv, router, t0)
	if err := inv.SetOverride("bacnet:3:10", Override{Name: "Boiler"}); err != nil {
		t.Fatal(err)
	}
	if err := inv.SetOverride("bacnet:x:10", Override{Name: "Boiler"}); err == nil {
		t.Error("bacnet:x:10 accepted")
	}
	inv.Emit(bacnetOp(bcast, router, false, "i_am", false, true, t0, attrs("snet", "3", "sadr", "10"), iAm("10", "42")...))
	inv.Flush()
	if d := byAddress(inv.Snapshot(), "bacnet:3:10"); d == nil || d.Name != "Boiler" || !d.Overridden {
		t.Errorf("routed device %+v", d)
	}
}

// TestBACnetRoutedAllocs pins that a routed device's repeated I-Am
// allocates nothing.
func TestBACnetRoutedAllocs(t *testing.T) {
	inv := New(DefaultOptions)
	router := mk(1, "10.0.5.1")
	bcast := host{[6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, netip.MustParseAddr("10.0.5.255")}
	arp(inv, router, t0)
	op := bacnetOp(bcast, router, false, "i_am", false, true, t0, attrs("snet", "3", "sadr", "10"), iAm("10", "42")...)
	inv.Emit(op)
	inv.Flush()
	if n := testing.AllocsPerRun(1000, func() {
		op.Time = op.Time.Add(time.Millisecond)
		inv.Emit(op)
	}); n != 0 {
		t.Errorf("Emit of a known routed I-Am allocates %.2f times", n)
	}
}

// BenchmarkEmitRoutedIAm measures a known routed device's I-Am.
func BenchmarkEmitRoutedIAm(b *testing.B) {
	inv := New(DefaultOptions)
	router := mk(1, "10.0.5.1")
	bcast := host{[6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, netip.MustParseAddr("10.0.5.255")}
	arp(inv, router, t0)
	op := bacnetOp(bcast, router, false, "i_am", false, true, t0, attrs("snet", "3", "sadr", "10"), iAm("10", "42")...)
	inv.Emit(op)
	inv.Flush()
	b.ReportAllocs()
	for b.Loop() {
		op.Time = op.Time.Add(time.Millisecond)
		inv.Emit(op)
	}
}

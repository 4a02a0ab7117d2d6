package inventory

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// host is a hand-made device: MAC and IP.
type host struct {
	mac [6]byte
	ip  netip.Addr
}

func mk(last byte, ip string) host {
	return host{[6]byte{0x00, 0x1b, 0x1b, 0x00, 0x00, last}, netip.MustParseAddr(ip)}
}

// arp feeds an ARP reply from h.
func arp(inv *Inventory, h host, at time.Time) {
	p := decode.Packet{Timestamp: at, HasMAC: true, HasDstMAC: true, SrcMAC: h.mac, DstMAC: [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		Network: decode.NetARP, Length: 60}
	p.ARP.SenderMAC, p.ARP.SenderIP = h.mac, h.ip
	inv.Packet(&p, nil)
}

// tcp feeds one TCP segment from a to b with the given payload length.
func tcp(inv *Inventory, a, b host, sp, dp uint16, flags uint8, payload int, at time.Time) {
	p := decode.Packet{Timestamp: at, HasMAC: true, HasDstMAC: true, SrcMAC: a.mac, DstMAC: b.mac, Network: decode.NetIPv4,
		SrcIP: a.ip, DstIP: b.ip, IPProto: decode.ProtoTCP, Transport: decode.ProtoTCP, SrcPort: sp, DstPort: dp,
		TCPFlags: flags, Length: 60 + payload, Payload: make([]byte, payload)}
	inv.Packet(&p, nil)
}

// op emits an operation from client a to server b.
func op(inv *Inventory, a, b host, proto string, port uint16, class dissect.Class, at time.Time, facts ...dissect.Fact) {
	inv.Emit(&dissect.Operation{Time: at, Protocol: proto, Transport: "tcp", Client: dissect.Endpoint{IP: a.ip, Port: 50000},
		Server: dissect.Endpoint{IP: b.ip, Port: port}, FunctionName: "f", Class: class, Request: true, Response: true,
		Result: dissect.Result{Status: dissect.StatusOK}, Identity: facts})
}

// poll makes a poll every interval for n cycles, with an operation each.
func poll(inv *Inventory, a, b host, proto string, port uint16, class dissect.Class, start time.Time, interval time.Duration, n int) {
	for i := range n {
		at := start.Add(time.Duration(i) * interval)
		tcp(inv, a, b, 50000, port, decode.TCPFlagACK|decode.TCPFlagPSH, 12, at)
		tcp(inv, b, a, port, 50000, decode.TCPFlagACK|decode.TCPFlagPSH, 20, at.Add(5*time.Millisecond))
		op(inv, a, b, proto, port, class, at.Add(5*time.Millisecond))
	}
}

func find(s *Snapshot, h host) *Device {
	for i := range s.Devices {
		if slices.Contains(s.Devices[i].IPs, h.ip.String()) {
			return &s.Devices[i]
		}
	}
	return nil
}

func TestClassificationRules(t *testing.T) {
	plc, rtu, ied := mk(1, "10.0.2.1"), mk(2, "10.0.2.2"), mk(3, "10.0.2.3")
	hmi, ews, scada := mk(10, "10.0.1.10"), mk(11, "10.0.1.11"), mk(12, "10.0.1.12")
	hist, itsrv, iot, broker := mk(13, "10.0.1.13"), mk(14, "10.0.3.14"), mk(15, "10.0.3.15"), mk(16, "10.0.3.16")
	inv := New(DefaultOptions)
	for _, h := range []host{plc, rtu, ied, hmi, ews, scada, hist, itsrv, iot, broker} {
		arp(inv, h, t0)
	}
	poll(inv, hmi, plc, "modbus", 502, dissect.ClassRead, t0, time.Second, 60)
	poll(inv, hmi, rtu, "dnp3", 20000, dissect.ClassRead, t0, time.Second, 60)
	poll(inv, ews, plc, "s7comm", 102, dissect.ClassProgram, t0.Add(10*time.Second), 7*time.Second, 3)
	poll(inv, scada, ied, "mms", 102, dissect.ClassRead, t0, 2*time.Second, 30)
	poll(inv, hmi, scada, "opcua", 4840, dissect.ClassRead, t0, time.Second, 60)
	poll(inv, hist, plc, "modbus", 502, dissect.ClassRead, t0, 5*time.Second, 12)
	poll(inv, hmi, hist, "mssql", 1433, dissect.ClassRead, t0, 10*time.Second, 6)
	poll(inv, hmi, itsrv, "http", 80, dissect.ClassOther, t0, 10*time.Second, 6)
	poll(inv, iot, broker, "mqtt", 1883, dissect.ClassOther, t0, 10*time.Second, 6)
	// The PLC names itself in S7 SZL; a later firmware differs.
	op(inv, ews, plc, "s7comm", 102, dissect.ClassDiagnostics, t0.Add(20*time.Second),
		dissect.Fact{Key: dissect.FactModel, Value: "6ES7 315-2EH14-0AB0 ", Server: true},
		dissect.Fact{Key: dissect.FactFirmware, Value: "V3.2.6", Server: true})
	inv.Flush()
	s := inv.Snapshot()
	tests := []struct {
		h        host
		typ      Type
		level    int
		evidence string
	}{
		{plc, TypePLC, 1, "serves modbus on 502"},
		{rtu, TypeRTU, 1, "serves dnp3 on 20000"},
		{ied, TypeIED, 1, "serves mms on 102"},
		{hmi, TypeHMI, 2, "polls 1 PLC and 1 RTU over modbus/dnp3 at a fixed interval (1.0 s)"},
		{ews, TypeEngineering, 2, "sends program or firmware operations to 1 PLC"},
		{scada, TypeOPCServer, 2, "serves opcua on 4840"},
		{hist, TypeHistorian, 3, "serves mssql (a historian database)"},
		{itsrv, TypeITServer, 4, "serves http"},
		{iot, TypeIoT, 4, "talks only mqtt (telemetry)"},
		{broker, TypeITServer, 4, "serves mqtt on 1883"},
	}
	for _, tt := range tests {
		d := find(s, tt.h)
		if d == nil {
			t.Errorf("%v: no device", tt.h.ip)
			continue
		}
		if d.Type != tt.typ || d.Purdue != tt.level || !slices.Contains(d.Evidence, tt.evidence) {
			t.Errorf("%v: %s level %d %q; want %s level %d with %q", tt.h.ip, d.Type, d.Purdue, d.Evidence, tt.typ, tt.level, tt.evidence)
		}
	}
	if d := find(s, plc); d.Model != "6ES7 315-2EH14-0AB0" || d.Firmware != "V3.2.6" {
		t.Errorf("PLC model %q firmware %q", d.Model, d.Firmware)
	}
}

func TestFactsProvenanceAndEvents(t *testing.T) {
	var events []Event
	opts := DefaultOptions
	opts.Sink = SinkFunc(func(e Event) { events = append(events, e) })
	opts.Inactive = time.Minute
	inv := New(opts)
	cli, plc := mk(20, "10.0.1.20"), mk(21, "10.0.2.21")
	arp(inv, cli, t0)
	arp(inv, plc, t0)
	poll(inv, cli, plc, "enip", 44818, dissect.ClassRead, t0, time.Second, 20)
	inv.Flush()
	if n := count(events, EventNewDevice); n != 2 {
		t.Fatalf("%d new_device events, want 2: %v", n, events)
	}
	events = nil
	at := t0.Add(30 * time.Second)
	// Identity from ENIP (rank ICS) and a hostname from DNS; a DHCP
	// vendor that conflicts with the ENIP one loses on rank.
	inv.Emit(&dissect.Operation{Time: at, Protocol: "enip", FunctionName: "List Identity", Transport: "udp",
		Client: dissect.Endpoint{IP: cli.ip, Port: 2222}, Server: dissect.Endpoint{IP: plc.ip, Port: 44818}, Response: true,
		Result: dissect.Result{Status: dissect.StatusOK}, Identity: []dissect.Fact{
			{Key: dissect.FactVendor, Value: "Rockwell Automation/Allen-Bradley", Server: true},
			{Key: dissect.FactProduct, Value: "1756-ENBT/A", Server: true},
			{Key: dissect.FactFirmware, Value: "4.3", Server: true},
			{Key: dissect.FactDeviceType, Value: "Communications Adapter", Server: true}}})
	inv.Emit(&dissect.Operation{Time: at.Add(time.Second), Protocol: "dhcp", FunctionName: "request", Transport: "udp",
		Client: dissect.Endpoint{IP: plc.ip, Port: 68}, Server: dissect.Endpoint{IP: cli.ip, Port: 67},
		Identity: []dissect.Fact{{Key: dissect.FactVendor, Value: "Acme"}, {Key: dissect.FactHostname, Value: "plc-line1"}}})
	// The firmware changes; a new IP appears for the PLC's MAC.
	inv.Emit(&dissect.Operation{Time: at.Add(2 * time.Second), Protocol: "enip", FunctionName: "List Identity", Transport: "udp",
		Client: dissect.Endpoint{IP: cli.ip, Port: 2222}, Server: dissect.Endpoint{IP: plc.ip, Port: 44818}, Response: true,
		Identity: []dissect.Fact{{Key: dissect.FactFirmware, Value: "5.1", Server: true}}})
	arp(inv, host{plc.mac, netip.MustParseAddr("10.0.2.99")}, at.Add(3*time.Second))
	// A new device starts a connection to the PLC.
	newcomer := mk(22, "10.0.1.22")
	arp(inv, newcomer, at.Add(4*time.Second))
	poll(inv, newcomer, plc, "enip", 44818, dissect.ClassRead, at.Add(5*time.Second), time.Second, 3)
	inv.Flush()
	poll(inv, cli, plc, "modbus", 502, dissect.ClassRead, at.Add(40*time.Second), time.Second, 3)
	inv.Flush()
	for _, want := range []struct {
		typ    EventType
		detail string
	}{
		{EventNewName, "hostname plc-line1 (dhcp.request)"},
		{EventFirmwareChange, "firmware 4.3 → 5.1 (enip.list_identity)"},
		{EventNewIP, "uses 10.0.2.99"},
		{EventNewDevice, "00:1b:1b:00:00:16 10.0.1.22 (Siemens AG)"},
		{EventNewProtocol, "serves modbus/tcp 502"},
		{EventNewConnection, "00:1b:1b:00:00:14 → 00:1b:1b:00:00:15 modbus/tcp 502"},
	} {
		if !slices.ContainsFunc(events, func(e Event) bool { return e.Type == want.typ && e.Detail == want.detail }) {
			t.Errorf("no %s event %q in %v", want.typ, want.detail, events)
		}
	}
	if n := count(events, EventNewDevice); n != 1 {
		t.Errorf("%d new_device events, want 1 (a new IP for a known MAC is no new device)", n)
	}
	s := inv.Snapshot()
	d := find(s, plc)
	if d.Vendor != "Rockwell Automation/Allen-Bradley" || d.Firmware != "5.1" || d.Name != "plc-line1" || d.Type != TypePLC {
		t.Errorf("PLC: vendor %q firmware %q name %q type %s", d.Vendor, d.Firmware, d.Name, d.Type)
	}
	var sources []string
	for _, f := range d.Facts {
		if f.Key == dissect.FactVendor {
			sources = append(sources, f.Source+"="+f.Value)
		}
	}
	if want := []string{"enip.list_identity=Rockwell Automation/Allen-Bradley", "dhcp.request=Acme", "oui=Siemens AG"}; !slices.Equal(sources, want) {
		t.Errorf("vendor facts %v, want every value by rank: %v", sources, want)
	}
	if want := []string{"10.0.2.21", "10.0.2.99"}; !slices.Equal(d.IPs, want) {
		t.Errorf("PLC IPs %v, want %v (its ARP-claimed addresses)", d.IPs, want)
	}
	// Silence: nobody sends for two minutes, then the client polls the
	// PLC again. The tick on the client's first frame finds the PLC and the
	// newcomer silent for more than Inactive; the client itself has just
	// been seen.
	events = nil
	poll(inv, cli, plc, "modbus", 502, dissect.ClassRead, at.Add(3*time.Minute), time.Second, 2)
	inv.Flush()
	var silent []DeviceID
	for _, e := range events {
		if e.Type == EventInactive {
			silent = append(silent, e.Device)
		}
	}
	slices.Sort(silent)
	if want := []DeviceID{find(s, plc).ID, find(s, newcomer).ID}; !slices.Equal(silent, want) {
		t.Errorf("inactive devices %v, want %v: %v", silent, want, events)
	}
	events = nil
	poll(inv, cli, plc, "modbus", 502, dissect.ClassRead, at.Add(3*time.Minute+10*time.Second), time.Second, 2)
	inv.Flush()
	if n := count(events, EventInactive); n != 0 {
		t.Errorf("inactive reported again: %v", events)
	}
}

func count(es []Event, t EventType) int {
	n := 0
	for _, e := range es {
		if e.Type == t {
			n++
		}
	}
	return n
}

// TestRoutedHosts checks that hosts seen only behind a router become
// devices keyed by IP and that the router's MAC does not own their IPs,
// whether or not the router claims its own IP in ARP.
func TestRoutedHosts(t *testing.T) {
	for _, routerARP := range []bool{true, false} {
		inv := New(DefaultOptions)
		rtr, local := mk(0xfe, "10.0.1.1"), mk(30, "10.0.1.30")
		if routerARP {
			arp(inv, rtr, t0)
		}
		arp(inv, local, t0)
		for i := range 6 {
			remote := host{rtr.mac, netip.AddrFrom4([4]byte{192, 168, 7, byte(10 + i)})}
			poll(inv, local, remote, "modbus", 502, dissect.ClassRead, t0, time.Second, 15)
		}
		// Broadcast and multicast never become devices.
		p := decode.Packet{Timestamp: t0, HasMAC: true, HasDstMAC: true, SrcMAC: local.mac, DstMAC: [6]byte{1, 0, 0x5e, 0, 0, 0xfb},
			Network: decode.NetIPv4, SrcIP: local.ip, DstIP: netip.MustParseAddr("224.0.0.251"), Transport: decode.ProtoUDP, IPProto: 17, SrcPort: 5353, DstPort: 5353}
		inv.Packet(&p, nil)
		inv.Flush()
		s := inv.Snapshot()
		var got []string
		for _, d := range s.Devices {
			got = append(got, d.MAC+"|"+strings.Join(d.IPs, ","))
		}
		want := []string{"00:1b:1b:00:00:fe|", "00:1b:1b:00:00:1e|10.0.1.30", "|192.168.7.10", "|192.168.7.11", "|192.168.7.12", "|192.168.7.13", "|192.168.7.14", "|192.168.7.15"}
		if routerARP {
			want[0] = "00:1b:1b:00:00:fe|10.0.1.1"
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("router ARP %v: devices %v, want %v", routerARP, got, want)
		}
		for _, d := range s.Devices {
			if want := d.MAC == macString(rtr.mac); d.Forwards != want {
				t.Errorf("router ARP %v: device %s %v forwards %v, want %v (only the router forwards)", routerARP, d.MAC, d.IPs, d.Forwards, want)
			}
		}
	}
}

func TestOverrides(t *testing.T) {
	inv := New(DefaultOptions)
	h := mk(40, "10.0.1.40")
	lvl, yes := 3, true
	if err := inv.SetOverride("00:1b:1b:00:00:28", Override{Type: TypeHistorian, Name: "hist-a", Purdue: &lvl, Authorized: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := inv.SetOverride("bogus", Override{}); err == nil {
		t.Error("bad address accepted")
	}
	arp(inv, h, t0)
	inv.Flush()
	d := find(inv.Snapshot(), h)
	if d == nil || d.Type != TypeHistorian || d.Name != "hist-a" || d.Purdue != 3 || !d.Authorized {
		t.Errorf("override not applied: %+v", d)
	}
}

func TestOutputs(t *testing.T) {
	inv := New(DefaultOptions)
	hmi, plc := mk(50, "10.0.1.50"), mk(51, "10.0.2.51")
	arp(inv, hmi, t0)
	arp(inv, plc, t0)
	poll(inv, hmi, plc, "modbus", 502, dissect.ClassRead, t0, time.Second, 40)
	inv.Flush()
	s := inv.Snapshot()
	var b bytes.Buffer
	if err := WriteTable(&b, s); err != nil || !strings.Contains(b.String(), "serves modbus on 502") {
		t.Errorf("table: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := WriteDOT(&b, s); err != nil || !strings.Contains(b.String(), `d1 -> d2 [label="modbus/502", color=red]`) {
		t.Errorf("dot: %v\n%s", err, b.String())
	}
	b.Reset()
	if err := WriteGraphJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	var g Graph
	if err := json.Unmarshal(b.Bytes(), &g); err != nil || len(g.Nodes) != 2 || len(g.Edges) != 1 || !g.Edges[0].CrossesSubnet || !g.Edges[0].CrossesPurdue {
		t.Errorf("graph %+v: %v", g, err)
	}
	b.Reset()
	if err := WriteJSON(&b, s); err != nil || !strings.Contains(b.String(), `"type": "hmi"`) {
		t.Errorf("json: %v", err)
	}
}

// TestPacketAllocs pins that frames of known devices and connections
// allocate nothing.
func TestPacketAllocs(t *testing.T) {
	inv := New(DefaultOptions)
	a, b := mk(60, "10.0.1.60"), mk(61, "10.0.2.61")
	arp(inv, a, t0)
	arp(inv, b, t0)
	poll(inv, a, b, "modbus", 502, dissect.ClassRead, t0, time.Second, 20)
	inv.Flush()
	at := t0.Add(time.Minute)
	p := decode.Packet{HasMAC: true, HasDstMAC: true, SrcMAC: a.mac, DstMAC: b.mac, Network: decode.NetIPv4,
		SrcIP: a.ip, DstIP: b.ip, IPProto: 6, Transport: decode.ProtoTCP, SrcPort: 50000, DstPort: 502, Length: 72, Payload: make([]byte, 12)}
	if n := testing.AllocsPerRun(1000, func() {
		at = at.Add(time.Millisecond)
		p.Timestamp = at
		inv.Packet(&p, nil)
	}); n != 0 {
		t.Errorf("Packet allocates %.2f times per frame", n)
	}
}

// TestNameServiceFacts: a DNS answer names the address it resolves, not
// the host that asked (RFC 1035 section 3.4.1: an A record's RDATA is the
// address of the owner name); an mDNS responder's answer about itself
// names it.
func TestNameServiceFacts(t *testing.T) {
	inv := New(DefaultOptions)
	asker, resolver, responder := mk(30, "10.0.1.30"), mk(1, "10.0.1.1"), mk(40, "10.0.1.40")
	for _, h := range []host{asker, resolver, responder} {
		arp(inv, h, t0)
	}
	inv.Emit(&dissect.Operation{Time: t0, Protocol: "dns", FunctionName: "query", Transport: "udp",
		Client: dissect.Endpoint{IP: asker.ip, Port: 53000}, Server: dissect.Endpoint{IP: resolver.ip, Port: 53},
		Request: true, Response: true, Result: dissect.Result{Status: dissect.StatusOK},
		Identity: []dissect.Fact{{Key: dissect.FactHostname, Value: "ews01.plant.local"}},
		Attrs:    []dissect.Attr{{Key: "ip", Value: "10.0.1.10"}}})
	inv.Emit(&dissect.Operation{Time: t0, Protocol: "mdns", FunctionName: "query", Transport: "udp",
		Client: dissect.Endpoint{IP: responder.ip, Port: 5353}, Server: dissect.Endpoint{IP: netip.MustParseAddr("224.0.0.251"), Port: 5353},
		Response: true, Result: dissect.Result{Status: dissect.StatusOK},
		Identity: []dissect.Fact{{Key: dissect.FactHostname, Value: "plc02.local"}},
		Attrs:    []dissect.Attr{{Key: "ip", Value: responder.ip.String()}}})
	inv.Flush()
	snap := inv.Snapshot()
	names := map[string]string{}
	for _, d := range snap.Devices {
		for _, ip := range d.IPs {
			names[ip] = d.Name
		}
	}
	if n := names[asker.ip.String()]; n != "" {
		t.Errorf("the asker is named %q after resolving another host's name", n)
	}
	if n := names[responder.ip.String()]; n != "plc02.local" {
		t.Errorf("the mDNS responder is named %q, want plc02.local", n)
	}
}

// TestMACFloodBounded: a MAC flood (a frame from a new random source MAC
// each time, as macof sends) keeps at most MaxMACs MAC records; the rest
// are counted as dropped, and frames and operations of a dropped MAC are
// taken without one. The first MaxMACs MACs are kept: 100 of 1,000 MACs
// kept, 900 dropped, and an operation from a dropped MAC's host (by MAC
// only, as LLDP or PROFINET DCP names one) makes no device.
func TestMACFloodBounded(t *testing.T) {
	inv := New(Options{MaxMACs: 100})
	plc := mk(1, "10.0.0.1")
	for i := range 1000 {
		h := host{mac: [6]byte{0x02, 0x00, 0x00, byte(i >> 16), byte(i >> 8), byte(i)}, ip: netip.AddrFrom4([4]byte{10, 0, 1 + byte(i>>8), byte(i)})}
		tcp(inv, h, plc, 40000, 502, decode.TCPFlagSYN, 0, t0.Add(time.Duration(i)*time.Millisecond))
	}
	dropped := [6]byte{0x02, 0x00, 0x00, 0x00, 0x03, 0xe7} // the 1,000th MAC
	inv.Emit(&dissect.Operation{Time: t0.Add(2 * time.Second), Protocol: "lldp", FunctionName: "announce",
		Client: dissect.Endpoint{MAC: dropped}, Result: dissect.Result{Status: dissect.StatusOK},
		Identity: []dissect.Fact{{Key: dissect.FactHostname, Value: "flooder"}}})
	inv.Flush()
	if got := inv.Stats().MACsDropped; got != 901 {
		// 900 flood frames past the first 100 MACs, and the LLDP
		// operation from one of them; the PLC's MAC is a destination only
		// and never gets a record of its own.
		t.Errorf("MACsDropped = %d, want 901", got)
	}
	snap := inv.Snapshot()
	macs := 0
	for i := range snap.Devices {
		d := &snap.Devices[i]
		if d.MAC != "" {
			macs++
		}
		if d.Name == "flooder" {
			t.Errorf("device %+v made from a dropped MAC", d)
		}
	}
	if macs > 100 {
		t.Errorf("%d devices with a MAC, want at most 100", macs)
	}
}

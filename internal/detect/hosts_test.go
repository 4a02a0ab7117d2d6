package detect

import (
	"net/netip"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/dissect"
)

// serviceOp returns the "service" operation of a flow from client to
// server naming service, answered or not.
func serviceOp(tm time.Time, client, server netip.Addr, service string, answered bool) *dissect.Operation {
	op := &dissect.Operation{Time: tm, Protocol: "service", Transport: "tcp",
		Client: dissect.Endpoint{IP: client, Port: 50000}, Server: dissect.Endpoint{IP: server, Port: 502},
		FunctionName: service, Request: true, Response: answered}
	if answered {
		op.Result.Status = dissect.StatusOK
	}
	return op
}

func TestOpIndustrial(t *testing.T) {
	tests := []struct {
		protocol, function string
		want               bool
	}{
		{"modbus", "read_coils", true},
		{"dnp3", "", true},
		{"dns", "query", false},
		{"service", "modbus", true},  // names a dissector's industrial protocol
		{"service", "enip-io", true}, // an industrial port without a dissector
		{"service", "hart-ip", true},
		{"service", "http", false},
		{"service", "", false},
	}
	for _, tt := range tests {
		op := &dissect.Operation{Protocol: tt.protocol, FunctionName: tt.function}
		if got := OpIndustrial(op); got != tt.want {
			t.Errorf("OpIndustrial(%s %s) = %v, want %v", tt.protocol, tt.function, got, tt.want)
		}
	}
}

// TestHosts checks what the Detector learns of addresses from operations:
// industrial clients and servers, MAC addresses from ARP, names from
// identity facts, and that alerts' parties are completed with them.
func TestHosts(t *testing.T) {
	scada := addr("10.10.1.50")
	cfg := Config{Operational: true, OTSubnets: []netip.Prefix{netip.MustParsePrefix("10.10.3.0/24")}}
	d := newDetector(t, cfg)
	ops := []*dissect.Operation{
		serviceOp(at(0), hmi, plc, "modbus", true),
		// An unanswered probe of an industrial port says nothing.
		serviceOp(at(1), ews, rtu, "modbus", false),
		serviceOp(at(2), hmi, ews, "http", true),
		// An industrial operation answered makes its server serve.
		{Time: at(3), Protocol: "dnp3", Client: dissect.Endpoint{IP: scada}, Server: dissect.Endpoint{IP: addr("10.10.2.40")},
			Request: true, Response: true, Identity: []dissect.Fact{{Key: dissect.FactHostname, Value: "outstation-7", Server: true}}},
		{Time: at(4), Protocol: "arp", Client: dissect.Endpoint{IP: plc, MAC: plcMAC}},
		{Time: at(5), Protocol: "dhcp", Transport: "udp", Client: dissect.Endpoint{IP: plc},
			Identity: []dissect.Fact{{Key: dissect.FactHostname, Value: "plc-12"}, {Key: "vendor", Value: "Schneider"}}},
		// A second name does not replace the first.
		{Time: at(6), Protocol: "dhcp", Transport: "udp", Client: dissect.Endpoint{IP: plc},
			Identity: []dissect.Fact{{Key: dissect.FactHostname, Value: "renamed"}}},
		// DNS names the addresses asked about, not the endpoints.
		{Time: at(7), Protocol: "dns", Transport: "udp", Client: dissect.Endpoint{IP: ews},
			Identity: []dissect.Fact{{Key: dissect.FactHostname, Value: "not-the-ews"}}},
	}
	for _, op := range ops {
		d.Emit(op)
	}
	tests := []struct {
		a                  netip.Addr
		known              bool
		industrial, serves bool
		ot                 bool
		name               string
		mac                dissect.MAC
	}{
		{hmi, true, true, false, true, "", dissect.MAC{}},
		{plc, true, true, true, true, "plc-12", plcMAC},
		// Neither the unanswered probe, the HTTP service nor the DNS name
		// teaches anything of the EWS.
		{ews, false, false, false, false, "", dissect.MAC{}},
		{rtu, false, false, false, false, "", dissect.MAC{}},
		{scada, true, true, false, true, "", dissect.MAC{}},
		{addr("10.10.2.40"), true, true, true, true, "outstation-7", dissect.MAC{}},
		{addr("10.10.3.9"), false, false, false, true, "", dissect.MAC{}}, // in OTSubnets
	}
	for _, tt := range tests {
		h := d.Host(tt.a)
		if (h != nil) != tt.known {
			t.Errorf("Host(%v) = %+v, want known %v", tt.a, h, tt.known)
			continue
		}
		if h != nil && (h.Industrial != tt.industrial || h.Serves != tt.serves || h.Name != tt.name || h.MAC != tt.mac) {
			t.Errorf("Host(%v) = %+v, want industrial %v serves %v name %q MAC %v", tt.a, h, tt.industrial, tt.serves, tt.name, tt.mac)
		}
		if got := d.IsOT(tt.a); got != tt.ot {
			t.Errorf("IsOT(%v) = %v, want %v", tt.a, got, tt.ot)
		}
	}
	if h := d.Host(hmi); h != nil && !h.First.Equal(at(0)) {
		t.Errorf("Host(hmi).First = %v, want t0", h.First)
	}
	if got := d.AddrOf(plcMAC); got != plc {
		t.Errorf("AddrOf(%v) = %v, want %v", plcMAC, got, plc)
	}
	if got := d.AddrOf(dissect.MAC{1}); got.IsValid() {
		t.Errorf("AddrOf(unknown MAC) = %v, want none", got)
	}

	// A new alert's parties are completed with the host's MAC and name;
	// what the finding names stays.
	a := d.Raise(Finding{Type: typAnomaly, Time: at(8), Source: alert.Party{IP: hmi}, Destination: alert.Party{IP: plc}})
	if a.Destination.MAC != plcMAC || a.Destination.Name != "plc-12" || a.Title != "Scan by 10.10.1.21" {
		t.Errorf("destination %+v, title %q; want the PLC's MAC and name", a.Destination, a.Title)
	}
	b := d.Raise(Finding{Type: typAnomaly, Time: at(8), Source: alert.Party{IP: plc, Name: "given"}})
	if b.Source.Name != "given" || b.Title != "Scan by given (10.10.2.12)" {
		t.Errorf("source %+v, title %q; want the finding's name kept", b.Source, b.Title)
	}
}

// arpOp returns an ARP reply at tm in which mac claims ip.
func arpOp(tm time.Time, ip netip.Addr, mac dissect.MAC) *dissect.Operation {
	return &dissect.Operation{Time: tm, Protocol: "arp", FunctionCode: 2, FunctionName: "reply",
		Client: dissect.Endpoint{IP: ip, MAC: mac}, Response: true, Result: dissect.Result{Status: dissect.StatusOK}}
}

// spoofMAC is the MAC of the tests' attacker.
var spoofMAC = dissect.MAC{0x02, 0xde, 0xad, 0xbe, 0xef, 0x01}

// TestHostMACClaims checks which MAC holds an address when several claim
// it in ARP: the established one while it keeps claiming within
// claimHold, a new one once it has been silent that long.
func TestHostMACClaims(t *testing.T) {
	nic := dissect.MAC{0x00, 0x1b, 0x1b, 0x0a, 0x0b, 0x0c} // the PLC's replacement NIC
	type claim struct {
		at  time.Duration
		mac dissect.MAC
	}
	tests := []struct {
		name   string
		claims []claim
		want   dissect.MAC
	}{
		{"single first claim sets it", []claim{{0, plcMAC}}, plcMAC},
		{"spoof while owner keeps claiming", []claim{
			{0, plcMAC}, {time.Minute, plcMAC}, {2 * time.Minute, plcMAC},
			{150 * time.Second, spoofMAC}, {3 * time.Minute, spoofMAC}, {4 * time.Minute, plcMAC},
			{5 * time.Minute, spoofMAC}, {8*time.Minute + 59*time.Second, spoofMAC},
		}, plcMAC},
		{"spoof flood does not wear the owner out", []claim{
			{0, plcMAC}, {time.Second, plcMAC}, {2 * time.Second, plcMAC},
			{3 * time.Second, spoofMAC}, {4 * time.Second, spoofMAC}, {5 * time.Second, spoofMAC},
			{6 * time.Second, spoofMAC}, {7 * time.Second, spoofMAC}, {8 * time.Second, spoofMAC},
		}, plcMAC},
		{"owner silent 5 min then new MAC", []claim{
			{0, plcMAC}, {time.Minute, plcMAC}, {2 * time.Minute, plcMAC}, {7 * time.Minute, nic},
		}, nic},
		{"owner silent just under 5 min", []claim{
			{0, plcMAC}, {time.Minute, plcMAC}, {2 * time.Minute, plcMAC}, {7*time.Minute - time.Nanosecond, nic},
		}, plcMAC},
		{"new MAC then holds against the old one", []claim{
			{0, plcMAC}, {time.Minute, plcMAC}, {2 * time.Minute, plcMAC},
			{7 * time.Minute, nic}, {8 * time.Minute, nic}, {9 * time.Minute, nic}, {10 * time.Minute, plcMAC},
		}, nic},
		{"fewer than minClaims claims are not yet held", []claim{
			{0, plcMAC}, {time.Minute, plcMAC}, {90 * time.Second, nic},
		}, nic},
		{"a late claim out of order does not age the owner", []claim{
			{0, plcMAC}, {time.Minute, plcMAC}, {4 * time.Minute, plcMAC}, {3 * time.Minute, plcMAC}, {8 * time.Minute, spoofMAC},
		}, plcMAC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDetector(t, Config{Operational: true})
			for _, c := range tt.claims {
				d.Emit(arpOp(at(c.at), plc, c.mac))
			}
			h := d.Host(plc)
			if h == nil || h.MAC != tt.want {
				t.Fatalf("Host(%v) = %+v, want MAC %v", plc, h, tt.want)
			}
		})
	}
}

// TestAlertMACAfterSpoofing checks that after an attacker claims a PLC's
// address in ARP, an alert on traffic to the PLC names the PLC's MAC,
// while the attacker's MAC still resolves to the address it claims.
func TestAlertMACAfterSpoofing(t *testing.T) {
	e := &opEngine{engine: alert.Operational, onOp: func(d *Detector, op *dissect.Operation) {
		if op.Protocol == "modbus" {
			d.Raise(Finding{Type: typOperational, Op: op, Source: Party(op.Client), Destination: Party(op.Server)})
		}
	}}
	d := newDetector(t, Config{Operational: true, Keep: true}, e)
	ops := []*dissect.Operation{
		arpOp(at(0), plc, plcMAC),
		arpOp(at(time.Minute), plc, plcMAC),
		arpOp(at(2*time.Minute), plc, plcMAC),
		arpOp(at(2*time.Minute+time.Second), ews, spoofMAC), // the attacker's own address
		arpOp(at(3*time.Minute), plc, spoofMAC),
		arpOp(at(3*time.Minute+time.Second), plc, spoofMAC),
		arpOp(at(3*time.Minute+2*time.Second), plc, spoofMAC),
		arpOp(at(3*time.Minute+3*time.Second), plc, spoofMAC),
		modbus(at(4*time.Minute), 1, hmi, plc, fnWrite),
	}
	for _, op := range ops {
		d.Emit(op)
	}
	alerts := d.Alerts()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	if got := alerts[0].Destination; got.IP != plc || got.MAC != plcMAC {
		t.Errorf("destination %+v, want %v at %v", got, plc, plcMAC)
	}
	if got := d.AddrOf(spoofMAC); got != plc {
		t.Errorf("AddrOf(%v) = %v, want the claimed %v", spoofMAC, got, plc)
	}
	if h := d.Host(ews); h == nil || h.MAC != spoofMAC {
		t.Errorf("Host(%v) = %+v, want MAC %v", ews, h, spoofMAC)
	}
}

// TestMaxHosts checks that past MaxHosts new addresses are not recorded,
// and are counted.
func TestMaxHosts(t *testing.T) {
	d := newDetector(t, Config{Operational: true, MaxHosts: 2})
	d.Emit(serviceOp(at(0), hmi, plc, "modbus", true))
	d.Emit(serviceOp(at(1), ews, rtu, "modbus", true)) // neither fits
	d.Emit(serviceOp(at(2), hmi, plc, "modbus", true)) // both known
	if d.Host(hmi) == nil || d.Host(plc) == nil || d.Host(ews) != nil || d.Host(rtu) != nil {
		t.Errorf("hosts %v %v %v %v, want hmi and plc only", d.Host(hmi), d.Host(plc), d.Host(ews), d.Host(rtu))
	}
	if got := d.Stats().HostsDropped; got != 2 {
		t.Errorf("Stats.HostsDropped = %d, want 2", got)
	}
}

func TestIsPublic(t *testing.T) {
	tests := []struct {
		a    string
		want bool
	}{
		{"8.8.8.8", true},
		{"10.10.2.12", false},      // RFC 1918
		{"172.16.0.1", false},      // RFC 1918
		{"192.168.1.1", false},     // RFC 1918
		{"100.64.0.1", false},      // RFC 6598, 100.64.0.0/10
		{"100.127.255.255", false}, // its last address
		{"100.128.0.1", true},      // just past it
		{"127.0.0.1", false},       // loopback
		{"169.254.1.1", false},     // link-local
		{"224.0.0.251", false},     // multicast
		{"255.255.255.255", false},
		{"0.0.0.0", false},
		{"2001:4860:4860::8888", true},
		{"fd00::1", false},           // RFC 4193
		{"fe80::1", false},           // link-local
		{"::ffff:8.8.8.8", true},     // IPv4-mapped: judged as IPv4
		{"::ffff:10.0.0.1", false},   // IPv4-mapped private
		{"::ffff:100.64.0.1", false}, // IPv4-mapped shared
	}
	for _, tt := range tests {
		if got := IsPublic(addr(tt.a)); got != tt.want {
			t.Errorf("IsPublic(%s) = %v, want %v", tt.a, got, tt.want)
		}
	}
	if IsPublic(netip.Addr{}) {
		t.Error("IsPublic(zero Addr) = true")
	}
}

func TestParty(t *testing.T) {
	e := dissect.Endpoint{IP: plc, MAC: plcMAC, Port: 502}
	if got, want := Party(e), (alert.Party{IP: plc, MAC: plcMAC, Port: 502}); got != want {
		t.Errorf("Party(%+v) = %+v, want %+v", e, got, want)
	}
}

func TestIndicators(t *testing.T) {
	in := NewIndicators()
	bad := Indicator{Kind: "ip", Value: "203.0.113.9"}
	dom := Indicator{Kind: "domain", Value: "evil.example"}
	hash := Indicator{Kind: "sha256", Value: "ab12"}
	in.IPs[addr("203.0.113.9")] = bad
	in.Domains["evil.example"] = dom
	in.Hashes["ab12"] = hash
	if in.Len() != 3 {
		t.Errorf("Len() = %d, want 3", in.Len())
	}

	ips := []struct {
		a    string
		want bool
	}{
		{"203.0.113.9", true},
		{"::ffff:203.0.113.9", true}, // IPv4-mapped form of the same address
		{"203.0.113.10", false},
	}
	for _, tt := range ips {
		if got, ok := in.IP(addr(tt.a)); ok != tt.want || ok && got != bad {
			t.Errorf("IP(%s) = %+v, %v; want %v", tt.a, got, ok, tt.want)
		}
	}

	// A domain matches itself and its subdomains, in any case, with or
	// without the trailing dot; only whole labels match.
	domains := []struct {
		name string
		want bool
	}{
		{"evil.example", true},
		{"a.b.evil.example", true},
		{"EVIL.Example.", true},
		{"notevil.example", false},
		{"example", false},
		{"evil.example.org", false},
		{"", false},
	}
	for _, tt := range domains {
		if got, ok := in.Domain(tt.name); ok != tt.want || ok && got != dom {
			t.Errorf("Domain(%q) = %+v, %v; want %v", tt.name, got, ok, tt.want)
		}
	}

	hashes := []struct {
		h    string
		want bool
	}{
		{"ab12", true},
		{"AB12", true},
		{"ab1", false},
	}
	for _, tt := range hashes {
		if got, ok := in.Hash(tt.h); ok != tt.want || ok && got != hash {
			t.Errorf("Hash(%q) = %+v, %v; want %v", tt.h, got, ok, tt.want)
		}
	}

	// A nil set and an empty one match nothing.
	for _, s := range []*Indicators{nil, NewIndicators()} {
		_, ipOK := s.IP(addr("203.0.113.9"))
		_, domOK := s.Domain("evil.example")
		_, hashOK := s.Hash("ab12")
		if s.Len() != 0 || ipOK || domOK || hashOK {
			t.Errorf("%v: Len %d, matches %v %v %v; want none", s, s.Len(), ipOK, domOK, hashOK)
		}
	}
}

package anomaly_test

import (
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/detect/anomaly"
	"github.com/otwatch/otwatch/internal/dissect"
)

// The reference thresholds (Defender for IoT's alert catalogue): port scan
// 25 in 2 minutes, address scan 50 to one class B in 2 minutes, PLC scan
// 10 in 2 minutes.
func TestThresholds(t *testing.T) {
	tests := []struct {
		typ  *alert.Type
		want alert.Threshold
	}{
		{anomaly.ScanPort, alert.Threshold{Count: 25, Window: 2 * time.Minute}},
		{anomaly.ScanAddress, alert.Threshold{Count: 50, Window: 2 * time.Minute}},
		{anomaly.ScanPLC, alert.Threshold{Count: 10, Window: 2 * time.Minute}},
	}
	for _, tt := range tests {
		if tt.typ.Threshold != tt.want {
			t.Errorf("%s: threshold %v, want %v", tt.typ.ID, tt.typ.Threshold, tt.want)
		}
		if detect.LookupType(tt.typ.ID) != tt.typ {
			t.Errorf("%s is not registered", tt.typ.ID)
		}
	}
}

func TestPortScan(t *testing.T) {
	zone := detect.Zone{Name: "field", Subnets: []netip.Prefix{netip.MustParsePrefix("10.10.2.0/24")}}
	tight := zone
	tight.Thresholds = map[string]alert.Threshold{"scan.port": {Count: 5, Window: time.Minute}}
	off := zone
	off.Thresholds = map[string]alert.Threshold{"scan.port": {Count: 0}}
	tests := []struct {
		name  string
		zones []detect.Zone
		ports int
		every time.Duration
		dst   netip.Addr
		want  int // ports counted when the alert fired; 0: no alert
	}{
		{"24 ports in a minute", nil, 24, 2 * time.Second, plc, 0},
		{"25 ports in a minute", nil, 25, 2 * time.Second, plc, 25},
		{"40 ports in four seconds", nil, 40, 100 * time.Millisecond, plc, 25},
		{"25 ports in five minutes", nil, 25, 12 * time.Second, plc, 0},
		{"zone threshold 5 in a minute", []detect.Zone{tight}, 5, time.Second, plc, 5},
		{"zone threshold 5: 5 ports in two minutes", []detect.Zone{tight}, 5, 30 * time.Second, plc, 0},
		{"zone threshold count 0 turns it off", []detect.Zone{off}, 100, 10 * time.Millisecond, plc, 0},
		{"broadcast is not a target", nil, 40, 10 * time.Millisecond, addr("255.255.255.255"), 0},
		{"multicast is not a target", nil, 40, 10 * time.Millisecond, addr("239.1.2.3"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := operational(t, detect.Config{Zones: tt.zones})
			for i := range tt.ports {
				d.Packet(syn(at(time.Duration(i)*tt.every), ews, tt.dst, uint16(1000+i)), nil)
			}
			if tt.want == 0 {
				none(t, d)
				return
			}
			a := only(t, d, anomaly.ScanPort)
			if a.Source.IP != ews || a.Destination.IP != tt.dst || a.Count != 1 {
				t.Errorf("alert %v -> %v count %d, want %v -> %v once", a.Source, a.Destination, a.Count, ews, tt.dst)
			}
			if got := a.Detail("ports"); got != strconv.Itoa(tt.want) {
				t.Errorf("ports %s, want %d", got, tt.want)
			}
			if a.Severity != alert.High || a.Engine != alert.Anomaly || a.Category != "Scan" {
				t.Errorf("severity %v engine %v category %q", a.Severity, a.Engine, a.Category)
			}
		})
	}
}

// Repeated scans by one source merge: a second window's scan counts the
// same alert again.
func TestPortScanMerges(t *testing.T) {
	d := operational(t, detect.Config{})
	for round := range 3 {
		base := time.Duration(round) * 5 * time.Minute
		for i := range 30 {
			d.Packet(syn(at(base+time.Duration(i)*time.Second), ews, plc, uint16(i+1)), nil)
		}
	}
	if a := only(t, d, anomaly.ScanPort); a.Count != 3 {
		t.Errorf("count %d, want 3 (one per window)", a.Count)
	}
}

// UDP probes are counted from the flows' service operations.
func TestUDPPortScan(t *testing.T) {
	d := operational(t, detect.Config{})
	for i := range 30 {
		d.Emit(&dissect.Operation{Time: at(time.Duration(i) * 100 * time.Millisecond), Protocol: "service", Transport: "udp",
			Client: dissect.Endpoint{IP: ews, Port: 53000}, Server: dissect.Endpoint{IP: plc, Port: uint16(100 + i)},
			FunctionCode: 100 + i, FunctionName: "unknown", Result: dissect.Result{Status: dissect.StatusUnknown, Text: "no answer"},
			Packets: []dissect.PacketRef{{Flow: uint64(10 + i)}}})
	}
	a := only(t, d, anomaly.ScanPort)
	if a.Detail("ports") != "25" {
		t.Errorf("ports %s, want 25", a.Detail("ports"))
	}
}

func TestAddressScan(t *testing.T) {
	tests := []struct {
		name  string
		hosts func(i int) netip.Addr
		n     int
		icmp  bool
		want  string // key of the alert; "" for none
	}{
		{"49 hosts of one class B", classB, 49, false, ""},
		{"50 hosts of one class B", classB, 50, false, "10.10.0.0/16"},
		{"50 hosts by echo requests", classB, 50, true, "10.10.0.0/16"},
		{"50 hosts of 50 class B networks", func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i), 0, 1}) }, 50, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := operational(t, detect.Config{})
			for i := range tt.n {
				tm := at(time.Duration(i) * 500 * time.Millisecond)
				var p *decode.Packet
				if tt.icmp {
					p = echo(tm, hist, tt.hosts(i))
				} else {
					p = syn(tm, hist, tt.hosts(i), 443) // not an industrial port
				}
				d.Packet(p, nil)
			}
			if tt.want == "" {
				none(t, d)
				return
			}
			a := only(t, d, anomaly.ScanAddress)
			if a.Key != tt.want || a.Source.IP != hist || !a.Destination.IsZero() || a.Detail("addresses") != "50" {
				t.Errorf("alert key %q %v -> %v addresses %s", a.Key, a.Source, a.Destination, a.Detail("addresses"))
			}
		})
	}
}

// classB spreads hosts over two /24s of 10.10.0.0/16.
func classB(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 10, byte(1 + i%2), byte(1 + i/2)}) }

func TestPLCScan(t *testing.T) {
	tests := []struct {
		name string
		port uint16
		n    int
		want bool
	}{
		{"Modbus on 9 hosts", 502, 9, false},
		{"Modbus on 10 hosts", 502, 10, true},
		{"S7 (ISO-TSAP 102) on 10 hosts", 102, 10, true},
		{"EtherNet/IP on 10 hosts", 44818, 10, true},
		{"HTTP on 10 hosts", 80, 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := operational(t, detect.Config{})
			for i := range tt.n {
				d.Packet(syn(at(time.Duration(i)*time.Second), hmi, netip.AddrFrom4([4]byte{10, 10, 2, byte(i + 1)}), tt.port), nil)
			}
			if !tt.want {
				none(t, d)
				return
			}
			a := only(t, d, anomaly.ScanPLC)
			if a.Source.IP != hmi || a.Detail("hosts") != "10" {
				t.Errorf("alert %v hosts %s", a.Source, a.Detail("hosts"))
			}
		})
	}
}

// A scan of every port of many hosts crosses the port, PLC and address
// thresholds; it is one event and gives one alert.
func TestFullScanIsOneAlert(t *testing.T) {
	d := operational(t, detect.Config{})
	tm := start
	for h := range 60 {
		for _, port := range []uint16{21, 22, 23, 80, 102, 443, 502, 44818, 20000, 2404, 4840, 8080, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18} {
			d.Packet(syn(tm, ews, netip.AddrFrom4([4]byte{10, 10, 2, byte(h + 1)}), port), nil)
			tm = tm.Add(time.Millisecond)
		}
	}
	// All 1800 probes fall in 1.8 s, inside one window of every tracker.
	// Each of the 60 hosts reaches 25 ports (60 port scan findings); the
	// PLC tracker reaches 10 hosts once and the class B sweep 50
	// addresses once. The first port scan alert absorbs the other 61.
	a := only(t, d, anomaly.ScanPort)
	if a.Count != 62 {
		t.Errorf("count %d, want 62: the port, PLC and address scan findings should have merged into the first alert", a.Count)
	}
}

func TestFloods(t *testing.T) {
	other := addr("10.10.1.99")
	tests := []struct {
		name  string
		typ   *alert.Type
		n     int
		every time.Duration
		multi bool
		want  bool
	}{
		{"499 echo requests in 10 s", anomaly.FloodICMP, 499, 20 * time.Millisecond, false, false},
		{"500 echo requests in 10 s", anomaly.FloodICMP, 500, 20 * time.Millisecond, false, true},
		{"1000 echo requests at 10 per second", anomaly.FloodICMP, 1000, 100 * time.Millisecond, false, false},
		{"echo flood from two senders", anomaly.FloodICMP, 600, time.Millisecond, true, true},
		{"999 SYNs in 10 s", anomaly.FloodSYN, 999, 10 * time.Millisecond, false, false},
		{"1000 SYNs in 10 s", anomaly.FloodSYN, 1000, 10 * time.Millisecond, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := operational(t, detect.Config{})
			for i := range tt.n {
				src := hist
				if tt.multi && i%2 == 1 {
					src = other
				}
				tm := at(time.Duration(i) * tt.every)
				if tt.typ == anomaly.FloodICMP {
					d.Packet(echo(tm, src, plc), nil)
				} else {
					d.Packet(syn(tm, src, plc, 502), nil)
				}
			}
			if !tt.want {
				none(t, d)
				return
			}
			a := only(t, d, tt.typ)
			wantSrc := alert.Party{IP: hist}
			if tt.multi {
				wantSrc = alert.Party{}
			}
			if a.Source.IP != wantSrc.IP || a.Destination.IP != plc {
				t.Errorf("alert %v -> %v, want %v -> %v", a.Source, a.Destination, wantSrc, plc)
			}
		})
	}
}

// A million echo requests (10,000 a second for 100 s) give one alert,
// counted once per 10-second window.
func TestMillionEchoRequestsOneAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("a million packets")
	}
	d := operational(t, detect.Config{})
	p := echo(start, hist, plc)
	for i := range 1_000_000 {
		p.Timestamp = at(time.Duration(i) * 100 * time.Microsecond)
		d.Packet(p, nil)
	}
	d.Flush()
	a := only(t, d, anomaly.FloodICMP)
	if a.Count != 10 {
		t.Errorf("count %d, want 10 (100 s in 10 s windows)", a.Count)
	}
	if s := d.Stats(); s.Findings != 10 {
		t.Errorf("%d findings, want 10", s.Findings)
	}
}

// Scan alerts are learnable: Learn silences the scanner.
func TestLearnScanner(t *testing.T) {
	d := operational(t, detect.Config{})
	scan := func(base time.Duration) {
		for i := range 60 {
			d.Packet(echo(at(base+time.Duration(i)*100*time.Millisecond), hist, classB(i)), nil)
		}
	}
	scan(0)
	a := only(t, d, anomaly.ScanAddress)
	if err := d.Learn(a); err != nil {
		t.Fatal(err)
	}
	scan(20 * time.Minute)
	if n := len(d.Alerts()); n != 1 {
		t.Errorf("%d alerts after Learn, want the first only", n)
	}
	if !slices.Contains(a.Techniques, "T0846") {
		t.Errorf("techniques %v lack T0846 (Remote System Discovery)", a.Techniques)
	}
}

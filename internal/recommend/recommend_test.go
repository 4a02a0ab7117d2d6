package recommend

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func svc(p, tr string, port uint16) inventory.Service {
	return inventory.Service{Protocol: p, Transport: tr, Port: port}
}

func conn(c, s inventory.DeviceID, p string, port uint16, classes ...dissect.Class) inventory.Connection {
	cn := inventory.Connection{Client: c, Server: s, Protocol: p, Transport: "tcp", Port: port, First: t0, Last: t0.Add(time.Minute), PacketsTo: 10, PacketsFr: 10, Requests: 5}
	for _, cl := range classes {
		cn.ClassMask |= 1 << cl
		cn.Classes = append(cn.Classes, cl.String())
	}
	return cn
}

func fact(key, value, source string, last time.Time) inventory.Fact {
	return inventory.Fact{Key: key, Value: value, Source: source, First: last, Last: last, Best: true}
}

func party(ip string) alert.Party { return alert.Party{IP: netip.MustParseAddr(ip)} }

func mkAlert(typ, src, dst, proto string, sev alert.Severity, at time.Time) *alert.Alert {
	return &alert.Alert{Type: typ, Title: typ + " from " + src, Severity: sev, Protocol: proto,
		Source: party(src), Destination: party(dst), FirstDetection: at, LastDetection: at, Count: 1}
}

// plant is a hand-built snapshot: each device is set up for the rules
// noted beside it.
func plant() (*inventory.Snapshot, []*alert.Alert) {
	s := &inventory.Snapshot{Time: t0.Add(time.Hour), Devices: []inventory.Device{
		// A Siemens PLC at older firmware than device 2, serving FTP and
		// HTTP, programmed by the EWS, reaching an internet host.
		{ID: 1, MAC: "00:1b:1b:00:00:01", IPs: []string{"10.0.2.11"}, Name: "PLC1", Vendor: "Siemens", Product: "CPU 315-2 PN/DP",
			Model: "6ES7 315-2EH14-0AB0", Firmware: "V3.2.6", Type: inventory.TypePLC, Purdue: 1,
			Serves: []inventory.Service{svc("ftp", "tcp", 21), svc("http", "tcp", 80), svc("s7comm", "tcp", 102)},
			Facts:  []inventory.Fact{fact("firmware", "V3.2.6", "s7comm.read_szl", t0)}},
		// The same model at newer firmware, read by an IT host, stopped
		// and started again.
		{ID: 2, MAC: "00:1b:1b:00:00:02", IPs: []string{"10.0.2.12"}, Name: "PLC2", Vendor: "Siemens", Product: "CPU 315-2 PN/DP",
			Model: "6ES7 315-2EH14-0AB0", Firmware: "V3.2.17", Type: inventory.TypePLC, Purdue: 1,
			Serves: []inventory.Service{svc("modbus", "tcp", 502), svc("s7comm", "tcp", 102)}},
		// An RTU serving Telnet (a password sent in clear) and SNMP v2c.
		{ID: 3, MAC: "00:90:e8:00:00:03", IPs: []string{"10.0.2.20"}, Type: inventory.TypeRTU, Purdue: 1,
			Serves: []inventory.Service{svc("snmp", "udp", 161), svc("telnet", "tcp", 23)},
			Facts:  []inventory.Fact{fact(FactSNMPVersion, "v2c", "snmp.get", t0)}},
		{ID: 4, MAC: "f8:b1:56:00:00:04", IPs: []string{"10.0.1.10"}, Name: "ews", Type: inventory.TypeEngineering, Purdue: 2},
		// An HMI serving VNC to the EWS.
		{ID: 5, MAC: "3c:d9:2b:00:00:05", IPs: []string{"10.0.1.21"}, Type: inventory.TypeHMI, Purdue: 2,
			Serves: []inventory.Service{svc("vnc", "tcp", 5900)}},
		{ID: 6, MAC: "54:e1:ad:00:00:06", IPs: []string{"10.0.4.50"}, Name: "office", Type: inventory.TypeITWorkstation, Purdue: 4},
		// A host on the internet.
		{ID: 7, IPs: []string{"198.51.100.7"}, Type: inventory.TypeITServer, Purdue: 4, Serves: []inventory.Service{svc("http", "tcp", 80), svc("telnet", "tcp", 23)}},
		// A switch speaking SNMPv3 only.
		{ID: 8, MAC: "00:1e:bd:00:00:08", IPs: []string{"10.0.2.1"}, Type: inventory.TypeNetwork, Purdue: 2,
			Serves: []inventory.Service{svc("snmp", "udp", 161)}, Facts: []inventory.Fact{fact(FactSNMPVersion, "v3", "snmp.get", t0)}},
		// An Omron PLC put in MONITOR, then PROGRAM mode; reached from
		// the internet.
		{ID: 9, MAC: "00:00:0a:00:00:09", IPs: []string{"10.0.2.30"}, Type: inventory.TypePLC, Purdue: 1,
			Serves: []inventory.Service{svc("omron-fins", "udp", 9600)},
			Facts:  []inventory.Fact{fact(FactPLCMode, "monitor", "fins.run", t0), fact(FactPLCMode, "program", "fins.stop", t0.Add(time.Minute))}},
		// An IT web server: its HTTP is not an OT finding.
		{ID: 10, MAC: "00:50:56:00:00:0a", IPs: []string{"10.0.4.80"}, Type: inventory.TypeITServer, Purdue: 4,
			Serves: []inventory.Service{svc("http", "tcp", 80)}},
	}, Connections: []inventory.Connection{
		conn(1, 7, "http", 80, dissect.ClassRead),
		conn(4, 1, "s7comm", 102, dissect.ClassProgram, dissect.ClassRead),
		conn(4, 1, "http", 80, dissect.ClassRead),
		conn(4, 3, "telnet", 23, dissect.ClassAuthentication),
		conn(4, 5, "vnc", 5900, dissect.ClassAuthentication),
		conn(6, 2, "modbus", 502, dissect.ClassRead),
		conn(6, 10, "http", 80, dissect.ClassRead),
		conn(7, 9, "omron-fins", 9600, dissect.ClassRead),
	}}
	alerts := []*alert.Alert{
		mkAlert(alertCleartext, "10.0.1.10", "10.0.2.20", "telnet", alert.High, t0),
		mkAlert(alertRemoteAccess, "10.0.1.10", "10.0.1.21", "vnc", alert.Medium, t0),
		mkAlert(alertS7Stop, "10.0.1.10", "10.0.2.12", "s7comm", alert.High, t0),
		mkAlert(alertS7Start, "10.0.1.10", "10.0.2.12", "s7comm", alert.Medium, t0.Add(5*time.Minute)),
	}
	return s, alerts
}

// TestObserved checks each rule on the hand-built plant: the
// recommendations a device must get, and those it must not.
func TestObserved(t *testing.T) {
	snap, alerts := plant()
	tests := []struct {
		name string
		dev  inventory.DeviceID
		want []string // "kind/key/Severity"
	}{
		{"plc: ftp, http, programming, internet, old firmware", 1, []string{
			"insecure_protocol/ftp/Medium", "insecure_protocol/http/Medium", "plc_programming/program/Low",
			"internet_exposure/outbound/High", "outdated_firmware/V3.2.17/Medium"}},
		{"plc: IT host, restarted after stop, newest firmware", 2, []string{"it_ot_crossing/industrial/High"}},
		{"rtu: telnet, cleartext password, snmp v2c", 3, []string{
			"insecure_protocol/telnet/High", "cleartext_credentials/telnet/High", "insecure_protocol/snmp/Medium"}},
		{"engineering workstation: nothing", 4, nil},
		{"hmi: vnc", 5, []string{"remote_access/vnc/Medium"}},
		{"office workstation: nothing", 6, nil},
		{"internet host: not the plant's", 7, nil},
		{"switch with snmpv3: nothing", 8, nil},
		{"plc left in program mode, reached from the internet", 9, []string{
			"plc_mode/mode/Medium", "internet_exposure/inbound/Critical"}},
		{"IT web server: nothing", 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := snap.Device(tt.dev)
			recs := ForDevice(snap, d, nil, alerts)
			var got []string
			for _, r := range recs {
				got = append(got, string(r.Kind)+"/"+r.Key+"/"+r.Severity.String())
				if r.Source != SourceObserved || r.Status != Open || len(r.Evidence) == 0 || r.Title == "" || r.Text == "" {
					t.Errorf("incomplete recommendation %+v", r)
				}
				if r.ID != ID(DeviceKey(d), r.Kind, r.Key) || r.Device.ID != d.ID {
					t.Errorf("%s: ID %s or device %v not derived from the device", r.Title, r.ID, r.Device)
				}
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %v\nwant %v", got, want)
			}
			for i := 1; i < len(recs); i++ {
				if recs[i].Severity > recs[i-1].Severity {
					t.Errorf("not sorted by severity: %v", got)
				}
			}
		})
	}
}

// TestObservedEvidence checks that evidence names what was seen.
func TestObservedEvidence(t *testing.T) {
	snap, alerts := plant()
	recs := ForDevice(snap, snap.Device(1), nil, alerts)
	want := map[Kind][]string{
		KindOutdatedFirmware: {"PLC2 (10.0.2.12)", "V3.2.17", "s7comm.read_szl"},
		KindPLCProgramming:   {"ews (10.0.1.10) sent program operations over s7comm"},
		KindInternet:         {"198.51.100.7", "http/tcp 80"},
	}
	for _, r := range recs {
		ev := strings.Join(r.Evidence, "\n")
		for _, w := range want[r.Kind] {
			if !strings.Contains(ev, w) {
				t.Errorf("%s evidence lacks %q:\n%s", r.Kind, w, ev)
			}
		}
	}
	recs = ForDevice(snap, snap.Device(9), nil, alerts)
	if i := slices.IndexFunc(recs, func(r Recommendation) bool { return r.Kind == KindPLCMode }); i < 0 || !strings.Contains(recs[i].Title, "PROGRAM") {
		t.Errorf("PLC mode recommendation does not name the last mode, PROGRAM: %v", titles(recs))
	}
}

func TestID(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a := ID("00:1b:1b:00:00:01", KindUpdate, "ICSA-18-079-02")
	if !uuid.MatchString(a) {
		t.Errorf("ID %q is not a version 5 UUID", a)
	}
	for _, other := range []string{
		ID("00:1b:1b:00:00:02", KindUpdate, "ICSA-18-079-02"),
		ID("00:1b:1b:00:00:01", KindMitigate, "ICSA-18-079-02"),
		ID("00:1b:1b:00:00:01", KindUpdate, "ICSA-20-315-04"),
	} {
		if other == a {
			t.Errorf("different device, kind or key gave the same ID %s", a)
		}
	}
	if ID("00:1b:1b:00:00:01", KindUpdate, "ICSA-18-079-02") != a {
		t.Error("ID is not deterministic")
	}
	// The device key outlives the inventory: MAC, else address, else IP.
	for _, tt := range []struct {
		d    inventory.Device
		want string
	}{
		{inventory.Device{ID: 3, MAC: "00:00:bc:01:02:03", IPs: []string{"10.0.0.1"}}, "00:00:bc:01:02:03"},
		{inventory.Device{ID: 3, Address: "bacnet:3:10"}, "bacnet:3:10"},
		{inventory.Device{ID: 3, IPs: []string{"10.0.0.1"}}, "10.0.0.1"},
		{inventory.Device{ID: 3}, "device:3"},
	} {
		if got := DeviceKey(&tt.d); got != tt.want {
			t.Errorf("DeviceKey(%+v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestCompareFirmware(t *testing.T) {
	tests := []struct {
		a, b string
		want int
		ok   bool
	}{
		{"V3.2.6", "V3.2.17", -1, true},
		{"V 3.2.6", "3.2.6", 0, true},
		{"20.11", "20.011", 0, true}, // Rockwell writes the minor revision with three digits
		{"3.2", "3.2.0", 0, true},
		{"FW 1.10", "fw1.9", 1, true},
		{"Version 2", "V1.99", 1, true},
		{"15.2(4)E", "15.2", 0, false},
		{"V4.5 SP1", "V4.5", 0, false},
		{"", "1.0", 0, false},
		{"v", "1", 0, false},
	}
	for _, tt := range tests {
		got, ok := compareFirmware(tt.a, tt.b)
		if got != tt.want || ok != tt.ok {
			t.Errorf("compareFirmware(%q, %q) = %d, %v; want %d, %v", tt.a, tt.b, got, ok, tt.want, tt.ok)
		}
	}
}

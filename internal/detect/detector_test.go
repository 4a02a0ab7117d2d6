package detect

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/evidence"
)

// wantAlert is what a test expects of one alert.
type wantAlert struct {
	typ         string
	key         string
	count       uint64
	first, last time.Duration // from t0
}

func checkAlerts(t *testing.T, got []*alert.Alert, want []wantAlert) {
	t.Helper()
	if len(got) != len(want) {
		for _, a := range got {
			t.Logf("alert %s key %q count %d", a.Type, a.Key, a.Count)
		}
		t.Fatalf("%d alerts, want %d", len(got), len(want))
	}
	for i, w := range want {
		a := got[i]
		if a.Type != w.typ || a.Key != w.key || a.Count != w.count || !a.FirstDetection.Equal(at(w.first)) || !a.LastDetection.Equal(at(w.last)) {
			t.Errorf("alert %d = %s key %q count %d first %v last %v; want %s key %q count %d first %v last %v", i,
				a.Type, a.Key, a.Count, a.FirstDetection.Sub(t0), a.LastDetection.Sub(t0),
				w.typ, w.key, w.count, w.first, w.last)
		}
	}
}

// TestRaiseMerges checks that a finding merges into the open alert of the
// same type, parties and key, counting it and moving the last detection,
// and that a difference in any of those opens another alert.
func TestRaiseMerges(t *testing.T) {
	macA := dissect.MAC{0, 1, 2, 3, 4, 5}
	macB := dissect.MAC{0, 1, 2, 3, 4, 6}
	macC := dissect.MAC{0, 1, 2, 3, 4, 7}
	party := func(ip netip.Addr, mac dissect.MAC, port uint16) alert.Party {
		return alert.Party{IP: ip, MAC: mac, Port: port}
	}
	tests := []struct {
		name     string
		findings []Finding
		want     []wantAlert
	}{
		{
			// Three detections: one alert counting 3, first the first one's
			// time, last the latest (5s), not the last reported (2s).
			name: "repeats merge",
			findings: []Finding{
				finding(typAnomaly, at(0), hmi, plc, ""),
				finding(typAnomaly, at(5*time.Second), hmi, plc, ""),
				finding(typAnomaly, at(2*time.Second), hmi, plc, ""),
			},
			want: []wantAlert{{"test.anomaly", "", 3, 0, 5 * time.Second}},
		},
		{
			// An out-of-order recurrence counts but moves neither time: the
			// first detection fixes the alert's id.
			name: "earlier recurrence",
			findings: []Finding{
				finding(typAnomaly, at(10*time.Second), hmi, plc, ""),
				finding(typAnomaly, at(4*time.Second), hmi, plc, ""),
			},
			want: []wantAlert{{"test.anomaly", "", 2, 10 * time.Second, 10 * time.Second}},
		},
		{
			name: "different keys",
			findings: []Finding{
				finding(typAnomaly, at(0), hmi, plc, "fc=5"),
				finding(typAnomaly, at(1*time.Second), hmi, plc, "fc=6"),
				finding(typAnomaly, at(2*time.Second), hmi, plc, "fc=5"),
			},
			want: []wantAlert{
				{"test.anomaly", "fc=5", 2, 0, 2 * time.Second},
				{"test.anomaly", "fc=6", 1, 1 * time.Second, 1 * time.Second},
			},
		},
		{
			name: "different destination",
			findings: []Finding{
				finding(typAnomaly, at(0), hmi, plc, ""),
				finding(typAnomaly, at(1*time.Second), hmi, rtu, ""),
			},
			want: []wantAlert{
				{"test.anomaly", "", 1, 0, 0},
				{"test.anomaly", "", 1, 1 * time.Second, 1 * time.Second},
			},
		},
		{
			name: "parties reversed",
			findings: []Finding{
				finding(typAnomaly, at(0), hmi, plc, ""),
				finding(typAnomaly, at(1*time.Second), plc, hmi, ""),
			},
			want: []wantAlert{
				{"test.anomaly", "", 1, 0, 0},
				{"test.anomaly", "", 1, 1 * time.Second, 1 * time.Second},
			},
		},
		{
			name: "different type",
			findings: []Finding{
				finding(typAnomaly, at(0), hmi, plc, ""),
				finding(typProtocol, at(1*time.Second), hmi, plc, ""),
			},
			want: []wantAlert{
				{"test.anomaly", "", 1, 0, 0},
				{"test.protocol", "", 1, 1 * time.Second, 1 * time.Second},
			},
		},
		{
			// A party is its IP: other source ports, or another MAC beside
			// the same IP, are the same party.
			name: "ports and MACs beside an IP",
			findings: []Finding{
				{Type: typAnomaly, Time: at(0), Source: party(hmi, macA, 50000), Destination: party(plc, dissect.MAC{}, 502)},
				{Type: typAnomaly, Time: at(1 * time.Second), Source: party(hmi, macB, 50001), Destination: party(plc, macC, 502)},
			},
			want: []wantAlert{{"test.anomaly", "", 2, 0, 1 * time.Second}},
		},
		{
			// Without an IP a party is its MAC.
			name: "MAC-only parties",
			findings: []Finding{
				{Type: typAnomaly, Time: at(0), Source: alert.Party{MAC: macA}, Destination: alert.Party{MAC: macB}},
				{Type: typAnomaly, Time: at(1 * time.Second), Source: alert.Party{MAC: macA}, Destination: alert.Party{MAC: macB}},
				{Type: typAnomaly, Time: at(2 * time.Second), Source: alert.Party{MAC: macC}, Destination: alert.Party{MAC: macB}},
			},
			want: []wantAlert{
				{"test.anomaly", "", 2, 0, 1 * time.Second},
				{"test.anomaly", "", 1, 2 * time.Second, 2 * time.Second},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []sinkRecord
			d := newDetector(t, Config{Operational: true, Keep: true, Sink: recorder(&calls)})
			for _, f := range tt.findings {
				if a := d.Raise(f); a == nil {
					t.Fatalf("Raise(%s at %v) = nil, want an alert", f.Type.ID, f.Time.Sub(t0))
				}
			}
			checkAlerts(t, d.Alerts(), tt.want)
			st := d.Stats()
			// Each finding either opens an alert or merges into one.
			if st.Opened != uint64(len(tt.want)) || st.Merged != uint64(len(tt.findings)-len(tt.want)) || st.Findings != uint64(len(tt.findings)) {
				t.Errorf("stats: opened %d merged %d findings %d; want %d, %d, %d", st.Opened, st.Merged, st.Findings,
					len(tt.want), len(tt.findings)-len(tt.want), len(tt.findings))
			}
			// The sink hears of each alert once as created, when it opens.
			created := 0
			for _, c := range calls {
				if c.created {
					created++
				}
			}
			if created != len(tt.want) {
				t.Errorf("sink saw %d alerts created, want %d", created, len(tt.want))
			}
		})
	}
}

// TestAlertFields checks what a new alert takes from its type, finding and
// configuration.
func TestAlertFields(t *testing.T) {
	cfg := Config{Operational: true, Keep: true, Sensor: "s1", Site: "plant-a", Zone: "plant",
		Zones: []Zone{{Name: "cell2", Subnets: []netip.Prefix{netip.MustParsePrefix("10.10.2.0/24")}}}}
	d := newDetector(t, cfg)
	typ := &alert.Type{ID: "test.fields", Engine: alert.Protocol, Name: "n", Severity: alert.High, Category: "Restart/Stop command",
		Protocol: "s7comm", Title: "{detail} from {src} to {dst}", Description: "{protocol} command",
		Techniques: []string{"T0855"}, Remediation: []string{"Check {src}", "Then {dst}"}, Learnable: true}
	details := []dissect.Attr{{Key: "ob", Value: "1"}}
	a := d.Raise(Finding{Type: typ, Time: at(3 * time.Second), Source: alert.Party{IP: hmi, Port: 50000},
		Destination: alert.Party{IP: plc, Port: 102}, Key: "OB1", Detail: "PLC stop", Details: details})
	if a == nil {
		t.Fatal("Raise = nil, want an alert")
	}
	details[0].Value = "changed" // the alert keeps its own copy

	// Title, description and remediation are the type's templates filled
	// with the parties' String, the detail and the protocol, which the
	// finding leaves empty so the type's ("s7comm") applies.
	checks := []struct{ name, got, want string }{
		{"title", a.Title, "PLC stop from 10.10.1.21 to 10.10.2.12"},
		{"description", a.Description, "s7comm command"},
		{"protocol", a.Protocol, "s7comm"},
		{"remediation", a.Remediation[0] + "|" + a.Remediation[1], "Check 10.10.1.21|Then 10.10.2.12"},
		{"sensor", a.Sensor, "s1"},
		{"site", a.Site, "plant-a"},
		{"zone", a.Zone, "cell2"}, // the destination 10.10.2.12 is in 10.10.2.0/24
		{"category", a.Category, "Restart/Stop command"},
		{"key", a.Key, "OB1"},
		{"detail", a.Detail("ob"), "1"},
		{"tactics", a.Tactics[0], "TA0106"}, // T0855 serves Impair Process Control only
		// The id is alert.ID of the sensor, type, parties' keys (their
		// IPs), key and first detection.
		{"id", a.ID, alert.ID("s1", "test.fields", "10.10.1.21", "10.10.2.12", "OB1", at(3*time.Second))},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if a.Severity != alert.High || a.Engine != alert.Protocol || a.Status != alert.New || a.Count != 1 || !a.Learnable {
		t.Errorf("severity %v engine %v status %v count %d learnable %v; want High, Protocol violation, New, 1, true",
			a.Severity, a.Engine, a.Status, a.Count, a.Learnable)
	}
	if len(a.Tactics) != 1 || !slices.Equal(a.Techniques, []string{"T0855"}) {
		t.Errorf("tactics %v techniques %v, want [TA0106] [T0855]", a.Tactics, a.Techniques)
	}
	// A learnable type without a Learn entry gets the pattern entry of its
	// type, parties and key.
	wantLearn := baseline.Entry{Kind: baseline.KindPattern, Client: hmi, Server: plc, Function: "test.fields", Target: "OB1"}
	if a.Learn == nil || *a.Learn != wantLearn {
		t.Errorf("Learn = %+v, want %+v", a.Learn, wantLearn)
	}
	if got := d.Alerts(); len(got) != 1 || got[0] != a {
		t.Errorf("Alerts() = %v, want the one alert", got)
	}

	// The zone is the destination's, else the source's, else Config.Zone.
	zones := []struct {
		src, dst netip.Addr
		want     string
	}{
		{hmi, plc, "cell2"},
		{plc, hmi, "cell2"},
		{hmi, ews, "plant"},
		{netip.Addr{}, netip.Addr{}, "plant"},
	}
	for i, z := range zones {
		a := d.Raise(finding(typAnomaly, at(time.Duration(i)*time.Second), z.src, z.dst, "zone"))
		if a.Zone != z.want {
			t.Errorf("zone of %v -> %v = %q, want %q", z.src, z.dst, a.Zone, z.want)
		}
	}
}

// TestLearnEntryMAC checks the pattern entry of a learnable finding whose
// source has no IP: the MAC identifies it.
func TestLearnEntryMAC(t *testing.T) {
	d := newDetector(t, Config{Operational: true})
	a := d.Raise(Finding{Type: typLearnable, Time: at(0), Source: alert.Party{MAC: plcMAC}, Destination: alert.Party{IP: plc}, Key: "k"})
	want := baseline.Entry{Kind: baseline.KindPattern, MAC: plcMAC, Server: plc, Function: "test.learnable", Target: "k"}
	if a == nil || a.Learn == nil || *a.Learn != want {
		t.Fatalf("Learn = %+v, want %+v", a.Learn, want)
	}
}

// TestPolicySilencedWhileLearning checks that while learning the Policy
// violation engine's findings are dropped and counted, and the other
// engines' are raised.
func TestPolicySilencedWhileLearning(t *testing.T) {
	tests := []struct {
		typ      *alert.Type
		raised   bool
		silenced uint64
	}{
		{typPolicy, false, 1},
		{typAnomaly, true, 0},
		{typProtocol, true, 0},
		{typOperational, true, 0},
		{typMalware, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.typ.ID, func(t *testing.T) {
			d := newDetector(t, Config{Learn: time.Hour, Keep: true})
			d.Packet(tick(at(0)), nil)
			if !d.Learning() {
				t.Fatal("not learning at the first frame")
			}
			a := d.Raise(finding(tt.typ, at(0), hmi, plc, ""))
			d.Flush()
			if (a != nil) != tt.raised || (len(d.Alerts()) == 1) != tt.raised {
				t.Errorf("Raise = %v, %d alerts after Flush; want raised %v", a, len(d.Alerts()), tt.raised)
			}
			if got := d.Stats().SilencedLearning; got != tt.silenced {
				t.Errorf("SilencedLearning = %d, want %d", got, tt.silenced)
			}
		})
	}
}

// TestPolicyDelay checks that a policy violation opens its alert
// PolicyDelay (10s) after its detection, not before, and that recurrences
// then merge into it at once.
func TestPolicyDelay(t *testing.T) {
	var calls []sinkRecord
	d := newDetector(t, Config{Operational: true, Keep: true, Sink: recorder(&calls)})
	d.Packet(tick(at(0)), nil)
	if a := d.Raise(finding(typPolicy, at(0), hmi, plc, "")); a != nil {
		t.Fatalf("Raise(policy) = %v, want nil while it waits", a)
	}
	d.Packet(tick(at(PolicyDelay-time.Nanosecond)), nil)
	if n := len(d.Alerts()); n != 0 || len(calls) != 0 {
		t.Fatalf("%d alerts, %d sink calls 1ns before the delay ends; want none", n, len(calls))
	}
	d.Packet(tick(at(PolicyDelay)), nil)
	checkAlerts(t, d.Alerts(), []wantAlert{{"test.policy", "", 1, 0, 0}})
	if len(calls) != 1 || !calls[0].created {
		t.Errorf("sink calls %+v, want one, created", calls)
	}
	a := d.Raise(finding(typPolicy, at(PolicyDelay+time.Second), hmi, plc, ""))
	if a == nil || a.Count != 2 {
		t.Errorf("recurrence of an open policy alert = %v, want it merged (count 2)", a)
	}
}

// TestPolicyRepeatsWhileWaiting checks that the repeats of a policy
// violation while it waits count in its alert: three findings at 0s, 3s
// and 7s open at 10s one alert of count 3, first detected at 0s and last
// at 7s; the sink hears of it once, created, with that count.
func TestPolicyRepeatsWhileWaiting(t *testing.T) {
	var calls []sinkRecord
	d := newDetector(t, Config{Operational: true, Keep: true, Sink: recorder(&calls)})
	d.Packet(tick(at(0)), nil)
	for _, off := range []time.Duration{0, 3 * time.Second, 7 * time.Second} {
		d.Packet(tick(at(off)), nil)
		if a := d.Raise(finding(typPolicy, at(off), hmi, plc, "")); a != nil {
			t.Fatalf("Raise(policy) at %v = %v, want nil while it waits", off, a)
		}
	}
	d.Packet(tick(at(PolicyDelay)), nil)
	checkAlerts(t, d.Alerts(), []wantAlert{{"test.policy", "", 3, 0, 7 * time.Second}})
	d.Flush()
	if len(calls) != 1 || !calls[0].created || calls[0].count != 3 {
		t.Errorf("sink calls %+v, want one, created, count 3", calls)
	}
	// A repeat once it is open merges as any other.
	if a := d.Raise(finding(typPolicy, at(PolicyDelay+time.Second), hmi, plc, "")); a == nil || a.Count != 4 {
		t.Errorf("repeat of the open alert = %v, want it merged (count 4)", a)
	}
}

// TestPolicyFlush checks that Flush raises the policy findings still
// waiting.
func TestPolicyFlush(t *testing.T) {
	d := newDetector(t, Config{Operational: true, Keep: true})
	d.Packet(tick(at(0)), nil)
	d.Raise(finding(typPolicy, at(0), hmi, plc, ""))
	d.Raise(finding(typPolicy, at(time.Second), hmi, rtu, ""))
	d.Flush()
	checkAlerts(t, d.Alerts(), []wantAlert{
		{"test.policy", "", 1, 0, 0},
		{"test.policy", "", 1, time.Second, time.Second},
	})
}

// TestPolicyAbsorbed checks that an alert of another engine on the same
// devices, raised while a policy violation waits, absorbs it: the policy
// alert is not raised and the other names it in its details ("absorbed").
func TestPolicyAbsorbed(t *testing.T) {
	tests := []struct {
		name       string
		policy     Finding
		other      Finding
		absorbed   bool
		wantAlerts int
	}{
		{"same parties", finding(typPolicy, at(0), hmi, plc, ""), finding(typAnomaly, at(3*time.Second), hmi, plc, "x"), true, 1},
		{"parties reversed", finding(typPolicy, at(0), hmi, plc, ""), finding(typAnomaly, at(3*time.Second), plc, hmi, ""), true, 1},
		// The other alert is on the policy finding's source only.
		{"other destination", finding(typPolicy, at(0), hmi, plc, ""), finding(typAnomaly, at(3*time.Second), hmi, rtu, ""), false, 2},
		// A policy finding without a destination is absorbed by any alert
		// on its source.
		{"no destination", Finding{Type: typPolicy, Time: at(0), Source: alert.Party{IP: hmi}}, finding(typAnomaly, at(3*time.Second), rtu, hmi, ""), true, 1},
		{"other devices", finding(typPolicy, at(0), hmi, plc, ""), finding(typAnomaly, at(3*time.Second), ews, rtu, ""), false, 2},
		// After the delay the policy alert is open and nothing absorbs it.
		{"too late", finding(typPolicy, at(0), hmi, plc, ""), finding(typAnomaly, at(PolicyDelay), hmi, plc, ""), false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDetector(t, Config{Operational: true, Keep: true})
			d.Packet(tick(at(0)), nil)
			d.Raise(tt.policy)
			d.Packet(tick(tt.other.Time), nil)
			other := d.Raise(tt.other)
			d.Packet(tick(at(time.Minute)), nil)
			if got := other.Detail("absorbed") == "test.policy"; got != tt.absorbed {
				t.Errorf("absorbed = %v (details %v), want %v", got, other.Details, tt.absorbed)
			}
			if n := len(d.Alerts()); n != tt.wantAlerts {
				t.Errorf("%d alerts, want %d", n, tt.wantAlerts)
			}
		})
	}
}

// TestPolicyAbsorbedRecurrence checks that a recurrence of an absorbed
// policy violation stays absorbed while the absorbing alert is open, and
// waits to be raised again once it is closed.
func TestPolicyAbsorbedRecurrence(t *testing.T) {
	d := newDetector(t, Config{Operational: true, Keep: true})
	d.Packet(tick(at(0)), nil)
	d.Raise(finding(typPolicy, at(0), hmi, plc, ""))
	other := d.Raise(finding(typAnomaly, at(time.Second), hmi, plc, ""))
	d.Packet(tick(at(20*time.Second)), nil)
	if a := d.Raise(finding(typPolicy, at(20*time.Second), hmi, plc, "")); a != nil {
		t.Fatalf("Raise(absorbed policy) = %v, want nil", a)
	}
	d.Packet(tick(at(40*time.Second)), nil)
	if n := len(d.Alerts()); n != 1 {
		t.Fatalf("%d alerts while the absorbing alert is open, want 1", n)
	}
	if !d.CloseAlert(other.ID) {
		t.Fatal("CloseAlert(absorbing alert) = false")
	}
	d.Raise(finding(typPolicy, at(41*time.Second), hmi, plc, ""))
	d.Packet(tick(at(41*time.Second+PolicyDelay)), nil)
	checkAlerts(t, d.Alerts(), []wantAlert{
		{"test.anomaly", "", 1, time.Second, time.Second},
		{"test.policy", "", 1, 41 * time.Second, 41 * time.Second},
	})
}

// TestStrongestFindingPerOperation checks that of the findings engines
// raise on the operation being dispatched only the strongest is raised,
// naming the others: higher severity first, then malware, operational,
// protocol, anomaly, policy.
func TestStrongestFindingPerOperation(t *testing.T) {
	tests := []struct {
		name     string
		raise    []*alert.Type // in engine order
		want     string
		absorbed []string
	}{
		{"one", []*alert.Type{typAnomaly}, "test.anomaly", nil},
		{"protocol over anomaly", []*alert.Type{typAnomaly, typProtocol}, "test.protocol", []string{"test.anomaly"}},
		{"anomaly over policy", []*alert.Type{typPolicy, typAnomaly}, "test.anomaly", []string{"test.policy"}},
		{"operational over protocol", []*alert.Type{typOperational, typProtocol}, "test.operational", []string{"test.protocol"}},
		{"malware over operational", []*alert.Type{typOperational, typMalware}, "test.malware", []string{"test.operational"}},
		{"malware over all", []*alert.Type{typPolicy, typAnomaly, typProtocol, typOperational, typMalware}, "test.malware",
			[]string{"test.policy", "test.anomaly", "test.protocol", "test.operational"}},
		// Severity before engine: a High anomaly beats a Medium malware one.
		{"severity first", []*alert.Type{typMalware, typHigh}, "test.high", []string{"test.malware"}},
		{"severity first, reversed", []*alert.Type{typHigh, typMalware}, "test.high", []string{"test.malware"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var es []Engine
			for _, typ := range tt.raise {
				es = append(es, &opEngine{engine: typ.Engine, onOp: func(d *Detector, op *dissect.Operation) {
					if a := d.Raise(Finding{Type: typ, Op: op, Source: Party(op.Client), Destination: Party(op.Server)}); a != nil {
						t.Errorf("Raise during dispatch = %v, want nil", a)
					}
				}})
			}
			d := newDetector(t, Config{Operational: true, Keep: true}, es...)
			op := modbus(at(time.Second), 7, hmi, plc, fnWrite)
			d.Emit(op)
			got := d.Alerts()
			if len(got) != 1 {
				t.Fatalf("%d alerts, want 1", len(got))
			}
			a := got[0]
			var absorbed []string
			for _, x := range a.Details {
				if x.Key == "absorbed" {
					absorbed = append(absorbed, x.Value)
				}
			}
			if a.Type != tt.want || !slices.Equal(absorbed, tt.absorbed) {
				t.Errorf("alert %s absorbing %v, want %s absorbing %v", a.Type, absorbed, tt.want, tt.absorbed)
			}
			// The alert keeps a copy of the operation, whose buffers the
			// dissector reuses, and its packets as evidence; Time was zero,
			// so the finding took Now, the operation's time.
			if a.Operation == nil || a.Operation == op || a.Operation.FunctionName != fnWrite {
				t.Errorf("Operation = %p (%v), want a copy of %p", a.Operation, a.Operation, op)
			}
			if !slices.Equal(a.Evidence, op.Packets) || !a.FirstDetection.Equal(op.Time) {
				t.Errorf("evidence %v first %v, want %v and %v", a.Evidence, a.FirstDetection, op.Packets, op.Time)
			}
		})
	}
}

// TestPolicyOnOperationWaits checks that a policy finding that wins on an
// operation still waits PolicyDelay.
func TestPolicyOnOperationWaits(t *testing.T) {
	e := &opEngine{engine: alert.Policy, onOp: func(d *Detector, op *dissect.Operation) {
		d.Raise(Finding{Type: typPolicy, Op: op, Source: Party(op.Client), Destination: Party(op.Server)})
	}}
	d := newDetector(t, Config{Operational: true, Keep: true}, e)
	d.Emit(modbus(at(0), 7, hmi, plc, fnRead))
	if n := len(d.Alerts()); n != 0 {
		t.Fatalf("%d alerts at once, want 0", n)
	}
	d.Packet(tick(at(PolicyDelay)), nil)
	checkAlerts(t, d.Alerts(), []wantAlert{{"test.policy", "", 1, 0, 0}})
}

func TestRaiseWithoutType(t *testing.T) {
	d := newDetector(t, Config{Operational: true})
	defer func() {
		if recover() == nil {
			t.Error("Raise without a type did not panic")
		}
	}()
	d.Raise(Finding{Time: at(0)})
}

// TestThreshold checks the order thresholds apply in: the zone's override
// for the address, else Config.Thresholds, else the type's default.
func TestThreshold(t *testing.T) {
	zoneTh := alert.Threshold{Count: 5, Window: 10 * time.Second}
	cfgTh := alert.Threshold{Count: 50, Window: 5 * time.Minute}
	otherTh := alert.Threshold{Count: 7, Window: time.Second}
	cfg := Config{
		Zones: []Zone{
			{Name: "cell2", Subnets: []netip.Prefix{netip.MustParsePrefix("10.10.2.0/24")},
				Thresholds: map[string]alert.Threshold{"test.anomaly": zoneTh}},
			{Name: "office", Subnets: []netip.Prefix{netip.MustParsePrefix("10.10.1.0/24")},
				Thresholds: map[string]alert.Threshold{"test.high": otherTh}},
		},
		Thresholds: map[string]alert.Threshold{"test.anomaly": cfgTh},
	}
	def := typAnomaly.Threshold // 20 in 1m
	tests := []struct {
		name string
		cfg  Config
		a    netip.Addr
		want alert.Threshold
	}{
		{"zone override", cfg, plc, zoneTh},
		{"zone without override for the type", cfg, hmi, cfgTh},
		{"outside every zone", cfg, addr("192.168.0.1"), cfgTh},
		{"no address", cfg, netip.Addr{}, cfgTh},
		{"no overrides", Config{}, plc, def},
		{"zone override only", Config{Zones: cfg.Zones}, addr("10.10.1.99"), def},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDetector(t, tt.cfg)
			if got := d.Threshold(typAnomaly, tt.a); got != tt.want {
				t.Errorf("Threshold(%s, %v) = %v, want %v", typAnomaly.ID, tt.a, got, tt.want)
			}
		})
	}
}

// TestModeSwitch checks when a Detector leaves learning mode, and that
// engines hear of it once.
func TestModeSwitch(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		// switchAt is the capture time the switch happens at, from t0 (the
		// first frame); negative for a Detector that starts operational.
		switchAt time.Duration
	}{
		{"Learn", Config{Learn: time.Minute}, time.Minute},
		{"default", Config{}, DefaultLearn},
		{"LearnUntil wins", Config{Learn: time.Hour, LearnUntil: at(30 * time.Second)}, 30 * time.Second},
		{"Operational", Config{Operational: true}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &opEngine{engine: alert.Anomaly}
			le := &learningEngine{}
			d := newDetector(t, tt.cfg, e, le)
			if tt.switchAt < 0 {
				if d.Mode() != Operational || d.Learning() || d.LearningAt(t0) {
					t.Errorf("mode %v, LearningAt(t0) %v; want operational from the start", d.Mode(), d.LearningAt(t0))
				}
				d.Packet(tick(at(0)), nil)
				d.Packet(tick(at(time.Hour)), nil)
				if e.operational != 0 || le.packets != 0 {
					t.Errorf("Operational called %d times, %d learning frames; want 0, 0", e.operational, le.packets)
				}
				return
			}
			if d.Mode() != Learning {
				t.Fatalf("mode %v before any input, want learning", d.Mode())
			}
			d.Packet(tick(at(0)), nil)
			d.Packet(tick(at(tt.switchAt-time.Nanosecond)), nil)
			if !d.Learning() || e.operational != 0 {
				t.Fatalf("mode %v 1ns before the end of learning, want learning", d.Mode())
			}
			d.Packet(tick(at(tt.switchAt)), nil)
			if d.Mode() != Operational || e.operational != 1 {
				t.Fatalf("mode %v, Operational called %d times at the end of learning; want operational, 1", d.Mode(), e.operational)
			}
			d.Packet(tick(at(2*tt.switchAt)), nil)
			// The two frames before the switch were seen while learning;
			// the switch comes before the frame that moves time past it.
			if e.operational != 1 || le.packets != 2 {
				t.Errorf("Operational called %d times, %d learning frames; want 1, 2", e.operational, le.packets)
			}
			// An operation reported late still belongs to the learning
			// period it started in.
			for _, c := range []struct {
				t    time.Duration
				want bool
			}{{0, true}, {tt.switchAt - time.Nanosecond, true}, {tt.switchAt, false}} {
				if got := d.LearningAt(at(c.t)); got != c.want {
					t.Errorf("LearningAt(t0+%v) = %v, want %v", c.t, got, c.want)
				}
			}
		})
	}
	if Learning.String() != "learning" || Operational.String() != "operational" {
		t.Errorf("mode names %q, %q; want learning, operational", Learning, Operational)
	}
}

// TestTicks checks that Tickers are called once capture time reaches a
// second after the previous tick (the first a second after the first
// input), and once more, final, by Flush.
func TestTicks(t *testing.T) {
	e := &opEngine{engine: alert.Anomaly}
	d := newDetector(t, Config{Operational: true}, e)
	// Ticks are due at 1s (first input + 1s), then 1s after each tick:
	// 1s ticks (next 2s), 1.2s does not, 2.5s ticks (next 3.5s), 3.4s does
	// not, 3.5s ticks.
	for _, ms := range []int{0, 500, 1000, 1200, 2500, 3400, 3500} {
		d.Packet(tick(at(time.Duration(ms)*time.Millisecond)), nil)
	}
	want := []time.Duration{time.Second, 2500 * time.Millisecond, 3500 * time.Millisecond}
	var got []time.Duration
	for _, tm := range e.tickTimes {
		got = append(got, tm.Sub(t0))
	}
	if !slices.Equal(got, want) || slices.Contains(e.ticks, true) {
		t.Errorf("ticks at %v (final %v), want %v, none final", got, e.ticks, want)
	}
	d.Flush()
	if len(e.ticks) != 4 || !e.ticks[3] {
		t.Errorf("ticks after Flush %v, want a fourth, final", e.ticks)
	}
	// Operations move capture time as frames do.
	d.Emit(modbus(at(5*time.Second), 7, hmi, plc, fnRead))
	if len(e.tickTimes) != 5 || !e.tickTimes[4].Equal(at(5*time.Second)) || !d.Now().Equal(at(5*time.Second)) {
		t.Errorf("tick times %v, Now %v after an operation at 5s; want a tick at 5s", e.tickTimes, d.Now())
	}
}

// TestSinkUpdates checks that the Sink hears of a merge at the next tick,
// or at Flush, once per change.
func TestSinkUpdates(t *testing.T) {
	var calls []sinkRecord
	d := newDetector(t, Config{Operational: true, Sink: recorder(&calls)})
	d.Packet(tick(at(0)), nil)
	a := d.Raise(finding(typAnomaly, at(500*time.Millisecond), hmi, plc, ""))
	d.Raise(finding(typAnomaly, at(700*time.Millisecond), hmi, plc, ""))
	d.Raise(finding(typAnomaly, at(800*time.Millisecond), hmi, plc, ""))
	steps := []struct {
		name  string
		do    func()
		calls []sinkRecord
	}{
		{"merged, before the tick", func() {}, []sinkRecord{{a.ID, 1, true}}},
		{"tick at 1s", func() { d.Packet(tick(at(time.Second)), nil) }, []sinkRecord{{a.ID, 1, true}, {a.ID, 3, false}}},
		{"tick at 2s, no change", func() { d.Packet(tick(at(2*time.Second)), nil) }, []sinkRecord{{a.ID, 1, true}, {a.ID, 3, false}}},
		{"merge and Flush", func() {
			d.Raise(finding(typAnomaly, at(2500*time.Millisecond), hmi, plc, ""))
			d.Flush()
		}, []sinkRecord{{a.ID, 1, true}, {a.ID, 3, false}, {a.ID, 4, false}}},
		{"Flush, no change", func() { d.Flush() }, []sinkRecord{{a.ID, 1, true}, {a.ID, 3, false}, {a.ID, 4, false}}},
	}
	for _, s := range steps {
		s.do()
		if !slices.Equal(calls, s.calls) {
			t.Errorf("%s: sink calls %+v, want %+v", s.name, calls, s.calls)
		}
	}
}

// TestSuppress checks that Config.Suppress is asked about every new alert
// and that what it drops is counted, neither kept nor sent.
func TestSuppress(t *testing.T) {
	var asked []string
	var calls []sinkRecord
	d := newDetector(t, Config{Operational: true, Keep: true, Sink: recorder(&calls), Suppress: func(a *alert.Alert) bool {
		asked = append(asked, a.Type)
		return a.Type == "test.anomaly"
	}})
	for i, typ := range []*alert.Type{typAnomaly, typAnomaly, typProtocol, typProtocol} {
		a := d.Raise(finding(typ, at(time.Duration(i)*time.Second), hmi, plc, ""))
		if (a == nil) != (typ == typAnomaly) {
			t.Errorf("Raise %d (%s) = %v", i, typ.ID, a)
		}
	}
	// A suppressed alert is not open, so its recurrence is asked about
	// again; the second protocol finding merges and is not asked about.
	if want := []string{"test.anomaly", "test.anomaly", "test.protocol"}; !slices.Equal(asked, want) {
		t.Errorf("Suppress asked about %v, want %v", asked, want)
	}
	st := d.Stats()
	if st.Suppressed != 2 || st.Opened != 1 || len(d.Alerts()) != 1 || len(calls) != 1 {
		t.Errorf("suppressed %d opened %d kept %d sink calls %d; want 2, 1, 1, 1", st.Suppressed, st.Opened, len(d.Alerts()), len(calls))
	}
}

// TestCloseAlert checks that closing an alert makes its recurrence open a
// new one, and that the sink hears of the closed alert's last change.
func TestCloseAlert(t *testing.T) {
	var calls []sinkRecord
	d := newDetector(t, Config{Operational: true, Keep: true, Sink: recorder(&calls)})
	a := d.Raise(finding(typAnomaly, at(0), hmi, plc, ""))
	d.Raise(finding(typAnomaly, at(time.Second), hmi, plc, ""))
	if !d.CloseAlert(a.ID) {
		t.Fatal("CloseAlert(open alert) = false")
	}
	if a.Status != alert.Closed {
		t.Errorf("status %v after CloseAlert, want Closed", a.Status)
	}
	if want := []sinkRecord{{a.ID, 1, true}, {a.ID, 2, false}}; !slices.Equal(calls, want) {
		t.Errorf("sink calls %+v, want %+v", calls, want)
	}
	if d.CloseAlert(a.ID) || d.CloseAlert("no-such-id") {
		t.Error("CloseAlert of a closed or unknown alert = true, want false")
	}
	b := d.Raise(finding(typAnomaly, at(5*time.Second), hmi, plc, ""))
	if b == nil || b == a || b.ID == a.ID || b.Count != 1 {
		t.Errorf("recurrence after close = %+v, want a new alert", b)
	}
}

// TestLearn checks that Learn adds an alert's pattern to the baseline and
// closes it, so that its recurrence is silenced, and refuses an alert that
// is not learnable.
func TestLearn(t *testing.T) {
	d := newDetector(t, Config{Operational: true, Keep: true})
	a := d.Raise(finding(typLearnable, at(0), hmi, plc, "fc=8"))
	if err := d.Learn(a); err != nil {
		t.Fatalf("Learn: %v", err)
	}
	if !d.Baseline().Has(*a.Learn) || a.Status != alert.Closed {
		t.Errorf("baseline has %v: %v, status %v; want true, Closed", a.Learn, d.Baseline().Has(*a.Learn), a.Status)
	}
	tests := []struct {
		f      Finding
		raised bool
	}{
		{finding(typLearnable, at(time.Second), hmi, plc, "fc=8"), false}, // the learned pattern
		{finding(typLearnable, at(time.Second), hmi, plc, "fc=9"), true},  // another key
		{finding(typLearnable, at(time.Second), ews, plc, "fc=8"), true},  // another client
	}
	for _, tt := range tests {
		if got := d.Raise(tt.f) != nil; got != tt.raised {
			t.Errorf("Raise(%s %v key %s) raised %v, want %v", tt.f.Type.ID, tt.f.Source.IP, tt.f.Key, got, tt.raised)
		}
	}
	if got := d.Stats().SilencedLearned; got != 1 {
		t.Errorf("SilencedLearned = %d, want 1", got)
	}
	b := d.Raise(finding(typAnomaly, at(0), hmi, plc, ""))
	if err := d.Learn(b); err == nil {
		t.Error("Learn of a type that is not learnable succeeded")
	}
}

// TestMaxOpen checks that past MaxOpen the least recently detected open
// alert is forgotten, so its recurrence opens a new alert.
func TestMaxOpen(t *testing.T) {
	d := newDetector(t, Config{Operational: true, Keep: true, MaxOpen: 2})
	raise := func(key string, s int) *alert.Alert {
		return d.Raise(finding(typAnomaly, at(time.Duration(s)*time.Second), hmi, plc, key))
	}
	raise("a", 1)
	raise("b", 2)
	raise("c", 3) // forgets a (last detected 1s)
	raise("a", 4) // opens a again, forgets b (2s)
	if c := raise("c", 5); c.Count != 2 {
		t.Errorf("c count %d, want 2 (still open)", c.Count)
	}
	st := d.Stats()
	if st.Opened != 4 || st.Forgotten != 2 || st.Merged != 1 {
		t.Errorf("opened %d forgotten %d merged %d, want 4, 2, 1", st.Opened, st.Forgotten, st.Merged)
	}
}

// evidenceSource is a fake EvidenceSource that records its queries and
// returns pkts[flow].
type evidenceSource struct {
	pkts    map[uint64][]evidence.Packet
	queries []evidenceQuery
}

type evidenceQuery struct {
	flow     uint64
	from, to time.Time
}

func (s *evidenceSource) Packets(flow uint64, from, to time.Time) []evidence.Packet {
	s.queries = append(s.queries, evidenceQuery{flow, from, to})
	return s.pkts[flow]
}

// TestEvidence checks that a new alert takes the packets of its finding's
// flows and its operation's, from evidenceBefore (2m) before its time up to
// it, at most maxEvidence (64), the latest, per flow, in time order.
func TestEvidence(t *testing.T) {
	src := &evidenceSource{pkts: map[uint64][]evidence.Packet{}}
	// Flow 9 has 70 packets, one per second from t0: the last 64 are those
	// of seconds 6 to 69. Flow 7 has two, at 10.5s and 100.5s.
	for i := range 70 {
		src.pkts[9] = append(src.pkts[9], evidence.Packet{Flow: 9, Index: uint64(i), Timestamp: at(time.Duration(i) * time.Second)})
	}
	src.pkts[7] = []evidence.Packet{
		{Flow: 7, Index: 0, Timestamp: at(10500 * time.Millisecond)},
		{Flow: 7, Index: 1, Timestamp: at(100500 * time.Millisecond)},
	}
	d := newDetector(t, Config{Operational: true, Evidence: src})
	op := modbus(at(3*time.Minute), 7, hmi, plc, fnWrite)
	f := finding(typAnomaly, at(3*time.Minute), hmi, plc, "")
	f.Op, f.Flows = op.Clone(), []uint64{9, 7}
	a := d.Raise(f)

	// Flows 9 and 7 once each (7 is both in Flows and the operation's).
	want := []evidenceQuery{{9, at(time.Minute), at(3 * time.Minute)}, {7, at(time.Minute), at(3 * time.Minute)}}
	if !slices.Equal(src.queries, want) {
		t.Errorf("queries %v, want %v", src.queries, want)
	}
	if len(a.Packets) != 66 {
		t.Fatalf("%d packets, want 64 of flow 9 and 2 of flow 7", len(a.Packets))
	}
	// In time order: flow 9's seconds 6..10, flow 7's 10.5s, 11..69, 100.5s.
	if p := a.Packets[0]; p.Flow != 9 || p.Index != 6 {
		t.Errorf("first packet %d/%d, want 9/6", p.Flow, p.Index)
	}
	if p := a.Packets[5]; p.Flow != 7 || p.Index != 0 {
		t.Errorf("sixth packet %d/%d, want 7/0", p.Flow, p.Index)
	}
	if p := a.Packets[65]; p.Flow != 7 || p.Index != 1 {
		t.Errorf("last packet %d/%d, want 7/1", p.Flow, p.Index)
	}
	if !slices.IsSortedFunc(a.Packets, func(x, y evidence.Packet) int { return x.Timestamp.Compare(y.Timestamp) }) {
		t.Error("packets not in time order")
	}
}

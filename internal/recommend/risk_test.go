package recommend

import (
	"math"
	"slices"
	"testing"

	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/inventory"
)

func TestExposureOf(t *testing.T) {
	snap, alerts := plant()
	snap.Devices = append(snap.Devices, inventory.Device{ID: 11, IPs: []string{"10.0.2.99"}, Type: inventory.TypeUnknown, Purdue: 1})
	tests := []struct {
		dev              inventory.DeviceID
		typ              string
		internet, remote bool
	}{
		{1, "plc", true, true},  // reaches 198.51.100.7
		{2, "plc", false, true}, // read by the office workstation (Purdue 4)
		{3, "rtu", false, true}, // Telnet sessions
		{4, "engineering_workstation", false, false},
		{5, "hmi", false, true},   // VNC
		{9, "plc", true, true},    // reached from the internet
		{11, "plc", false, false}, // unknown type at Purdue level 1
	}
	for _, tt := range tests {
		ex, why := ExposureOf(snap, snap.Device(tt.dev), alerts)
		if ex.DeviceType != tt.typ || ex.Internet != tt.internet || ex.Remote != tt.remote || len(why) == 0 {
			t.Errorf("device %d: %+v %v, want type %s internet %v remote %v", tt.dev, ex, why, tt.typ, tt.internet, tt.remote)
		}
	}
}

// TestDeviceRisk checks the score against the documented formulas: csaf's
// per-vulnerability r = B × E × X × C × W and Score = V + (10 − V) × 0.3 × H.
func TestDeviceRisk(t *testing.T) {
	snap, alerts := plant()
	d := snap.Device(1) // a PLC (C = 1.0) talking to the internet (X = 1.0 for AV:N), High observed findings (H = 0.75)
	m := csaf.Match{Advisory: &csaf.Advisory{ID: "EX-1"}, Verdict: csaf.Affected, Confidence: 1,
		Vulnerabilities: []*csaf.Vulnerability{vuln("CVE-2024-0001", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")}}
	recs := ForDevice(snap, d, []csaf.Match{m}, alerts)
	r := DeviceRisk(snap, d, []csaf.Match{m}, alerts, recs)
	v := 9.8 * 0.9 * 1.0 * 1.0 * 1.0 // B, E (exploits not mentioned), X, C, W
	want := math.Round((v+(10-v)*0.3*0.75)*100) / 100
	if math.Abs(r.Vulnerability-v) > 0.01 || r.Observed != 0.75 || r.Score != want {
		t.Errorf("risk %+v, want vulnerability %.2f, observed 0.75, score %.2f", r, v, want)
	}
	// Only dismissed or done findings: they no longer count.
	for i := range recs {
		recs[i].Status = Done
	}
	if r := DeviceRisk(snap, d, nil, alerts, recs); r.Score != 0 || r.Observed != 0 {
		t.Errorf("risk with every finding done: %+v, want 0", r)
	}
	// No vulnerability and a Critical finding: 3.
	d9 := snap.Device(9)
	if r := DeviceRisk(snap, d9, nil, alerts, ForDevice(snap, d9, nil, alerts)); r.Score != 3 {
		t.Errorf("device 9 risk %+v, want 3 (Critical internet exposure only)", r)
	}
}

// TestRankDevices builds a catalog from a hand-written advisory for the
// S7-300 CPU 315-2 PN/DP below V3.2.16: device 1 (V3.2.6) is affected and
// ranks first; device 2 (V3.2.17) is not.
func TestRankDevices(t *testing.T) {
	snap, alerts := plant()
	p := &csaf.Product{ID: "CPU315", Name: "SIMATIC S7-300 CPU 315-2 PN/DP (6ES7315-2EH14-0AB0)", Vendor: "Siemens",
		ProductName: "SIMATIC S7-300 CPU 315-2 PN/DP (6ES7315-2EH14-0AB0)", VersionRange: "vers:all/<V3.2.16"}
	v := vuln("CVE-2018-4843", 6.5, "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")
	v.KnownAffected = []string{"CPU315"}
	v.Remediations = []csaf.Remediation{{Category: "vendor_fix", Details: "Update to V3.2.16 or later version", ProductIDs: []string{"CPU315"}}}
	cat := csaf.NewCatalog(&csaf.Advisory{ID: "EX-18", Title: "S7-300", Products: []*csaf.Product{p}, Vulnerabilities: []*csaf.Vulnerability{v}})
	ranked := RankDevices(snap, cat, alerts)
	if len(ranked) != len(snap.Devices) {
		t.Fatalf("%d assessments for %d devices", len(ranked), len(snap.Devices))
	}
	if ranked[0].Device.ID != 1 || len(ranked[0].Matches) != 1 || ranked[0].Matches[0].Verdict != csaf.Affected {
		t.Fatalf("first is device %d with %d matches, want device 1 affected", ranked[0].Device.ID, len(ranked[0].Matches))
	}
	for _, a := range ranked {
		if a.Device.ID == 2 && len(a.Matches) > 0 {
			t.Errorf("device 2 at V3.2.17 matched %s", a.Matches[0].Advisory.ID)
		}
	}
	for i := 1; i < len(ranked); i++ {
		if ranked[i].Risk.Score > ranked[i-1].Risk.Score {
			t.Errorf("not sorted: %v after %v", ranked[i].Risk.Score, ranked[i-1].Risk.Score)
		}
	}
	all := All(snap, cat, alerts)
	if len(all) == 0 || all[0].Device.ID != 1 || !slices.ContainsFunc(all, func(r Recommendation) bool { return r.Kind == KindUpdate && r.Advisory == "EX-18" }) {
		t.Errorf("All: %v", titles(all))
	}
	// Without a catalog, only what the sensor saw.
	for _, r := range All(snap, nil, alerts) {
		if r.Source != SourceObserved {
			t.Errorf("advisory recommendation without a catalog: %+v", r)
		}
	}
	if RankDevices(nil, cat, nil) != nil {
		t.Error("RankDevices(nil) is not nil")
	}
}

package recommend

import (
	"slices"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/inventory"
)

func vuln(cve string, score float64, vector string) *csaf.Vulnerability {
	return &csaf.Vulnerability{CVE: cve, CVSS3: &csaf.CVSS{Version: "3.1", Score: score, Vector: vector}}
}

func rem(category, details string) csaf.Remediation {
	return csaf.Remediation{Category: category, Details: details}
}

// TestFromMatch checks the recommendations of hand-built matches: which
// kinds, their severity (CVSS v3 ratings: 9.0 Critical, 7.0 High, 4.0
// Medium) and what their titles and texts must and must not say.
func TestFromMatch(t *testing.T) {
	dev := &inventory.Device{ID: 1, MAC: "00:1b:1b:00:00:01", IPs: []string{"10.0.2.11"}, Name: "PLC1",
		Vendor: "Example", Model: "PLC-9 CPU 910", Firmware: "V2.1"}
	noFW := &inventory.Device{ID: 2, IPs: []string{"10.0.2.12"}, Vendor: "Example", Model: "PLC-9 CPU 910"}
	adv := &csaf.Advisory{ID: "EX-1", Title: "Example PLC-9", URL: "https://example.com/ex-1"}
	logix := &csaf.Product{ID: "P6", Name: "ControlLogix 5570 controllers", ProductName: "ControlLogix 5570 controllers", VersionRange: "<= 33.013"}
	type want struct {
		kind     Kind
		sev      alert.Severity
		title    []string
		notTitle []string
		text     []string
		notText  []string
	}
	tests := []struct {
		name string
		dev  *inventory.Device
		m    csaf.Match
		want []want
	}{
		{"vendor fix and mitigation", dev, csaf.Match{Advisory: adv, Product: &csaf.Product{Name: "PLC-9 CPU 910"}, Verdict: csaf.Affected, Confidence: 0.95,
			CVEs: []string{"CVE-2024-0001"}, Vulnerabilities: []*csaf.Vulnerability{vuln("CVE-2024-0001", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")},
			Remediations: []csaf.Remediation{rem("vendor_fix", "Update to V2.9.4 or later"), rem("mitigation", "Block port 102/tcp at the cell firewall.")}},
			[]want{
				{KindUpdate, alert.Critical, []string{"Update PLC1 (10.0.2.11) to V2.9.4 or later", "EX-1"}, nil, []string{"Update to V2.9.4 or later", "V2.1"}, nil},
				{KindMitigate, alert.High, []string{"until it is updated"}, nil, []string{"Block port 102/tcp"}, []string{"V2.9.4"}},
			}},
		{"update in a mitigation that lists products", dev, csaf.Match{Advisory: adv, Product: logix, Verdict: csaf.Affected, Confidence: 0.9,
			Vulnerabilities: []*csaf.Vulnerability{vuln("CVE-2022-1797", 6.8, "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:N/A:H")},
			Remediations: []csaf.Remediation{
				rem("mitigation", "CompactLogix 5380, ControlLogix 5580, GuardLogix 5580: Upgrade to v33.011 firmware"),
				rem("mitigation", "CompactLogix 5370, ControlLogix 5570, GuardLogix 5570: Upgrade to v34.011 firmware"),
				rem("mitigation", "Locate control system networks and devices behind firewalls."),
			}},
			[]want{
				{KindUpdate, alert.Medium, []string{"v34.011 or later"}, []string{"v33.011"}, []string{"Upgrade to v34.011"}, []string{"v33.011"}},
				{KindMitigate, alert.Low, nil, nil, []string{"behind firewalls"}, []string{"v33.011", "v34.011"}},
			}},
		{"no fix planned", dev, csaf.Match{Advisory: adv, Product: &csaf.Product{Name: "S7-300 family"}, Verdict: csaf.Affected, Confidence: 0.85,
			Vulnerabilities: []*csaf.Vulnerability{vuln("CVE-2020-15783", 5.9, "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H")},
			Remediations:    []csaf.Remediation{rem("mitigation", "Protect network access to port 102/tcp."), rem("no_fix_planned", "Currently no fix is planned")}},
			[]want{{KindMitigate, alert.Medium, []string{"No fix for EX-1"}, nil, []string{"no fix is planned", "port 102/tcp"}, nil}}},
		{"no remediation at all", dev, csaf.Match{Advisory: adv, Product: &csaf.Product{Name: "PLC-9"}, Verdict: csaf.Affected, Confidence: 0.9,
			Vulnerabilities: []*csaf.Vulnerability{{CVE: "CVE-2024-0002"}}},
			[]want{{KindMitigate, alert.Medium, []string{"Apply the mitigations of EX-1"}, nil, []string{"gives no remediation"}, nil}}},
		{"possibly affected, firmware unknown", noFW, csaf.Match{Advisory: adv, Product: &csaf.Product{Name: "PLC-9 CPU 910", VersionRange: "vers:generic/<2.9.4"},
			Verdict: csaf.PossiblyAffected, Confidence: 0.6, Reasons: []string{`firmware unknown; affected versions: "vers:generic/<2.9.4"`},
			Vulnerabilities: []*csaf.Vulnerability{vuln("CVE-2024-0001", 9.8, "")}, FixedIn: "2.9.4",
			Remediations: []csaf.Remediation{rem("vendor_fix", "Update to V2.9.4 or later")}},
			[]want{{KindConfirm, alert.High, []string{"Confirm the firmware version of 10.0.2.12 against EX-1"}, nil,
				[]string{"firmware unknown", "vers:generic/<2.9.4", "fixed in 2.9.4"}, nil}}},
		{"possibly affected, product partly matches", dev, csaf.Match{Advisory: adv, Product: &csaf.Product{Name: "PLC-9 CPU 910 Armor"},
			Verdict: csaf.PossiblyAffected, Confidence: 0.6, Reasons: []string{`product "PLC-9 CPU 910" partly matches "PLC-9 CPU 910 Armor"`},
			Vulnerabilities: []*csaf.Vulnerability{vuln("CVE-2024-0003", 3.1, "")}},
			[]want{{KindConfirm, alert.Low, []string{"Confirm the model of PLC1"}, nil, []string{"partly matches"}, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := fromMatch(tt.dev, &tt.m)
			if len(recs) != len(tt.want) {
				t.Fatalf("got %d recommendations %v, want %d", len(recs), titles(recs), len(tt.want))
			}
			for i, w := range tt.want {
				r := recs[i]
				if r.Kind != w.kind || r.Severity != w.sev || r.Source != SourceAdvisory || r.Advisory != "EX-1" || r.Key != "EX-1" ||
					r.URL != adv.URL || r.Status != Open || len(r.Evidence) == 0 {
					t.Errorf("recommendation %d: %+v, want kind %s severity %s from advisory EX-1", i, r, w.kind, w.sev)
				}
				check := func(what, s string, must, mustNot []string) {
					for _, x := range must {
						if !strings.Contains(s, x) {
							t.Errorf("%s %q lacks %q", what, s, x)
						}
					}
					for _, x := range mustNot {
						if strings.Contains(s, x) {
							t.Errorf("%s %q has %q", what, s, x)
						}
					}
				}
				check("title", r.Title, w.title, w.notTitle)
				check("text", r.Text, w.text, w.notText)
			}
		})
	}
}

// TestForDeviceAdvisoriesFirst checks the order: severity, then advisory
// recommendations before observed ones.
func TestForDeviceAdvisoriesFirst(t *testing.T) {
	snap, alerts := plant()
	d := snap.Device(3) // High observed findings (Telnet)
	m := csaf.Match{Advisory: &csaf.Advisory{ID: "EX-2", Title: "RTU"}, Product: &csaf.Product{Name: "RTU"}, Verdict: csaf.Affected, Confidence: 0.9,
		Vulnerabilities: []*csaf.Vulnerability{vuln("CVE-2024-0004", 7.5, "")}, Remediations: []csaf.Remediation{rem("vendor_fix", "Update to 2.0 or later")}}
	recs := ForDevice(snap, d, []csaf.Match{m}, alerts)
	if len(recs) < 2 || recs[0].Kind != KindUpdate || recs[0].Severity != alert.High || recs[1].Source != SourceObserved || recs[1].Severity != alert.High {
		t.Errorf("order %v", titles(recs))
	}
	if !slices.ContainsFunc(recs, func(r Recommendation) bool { return r.Kind == KindInsecureProtocol && r.Key == "snmp" }) {
		t.Errorf("observed recommendations missing: %v", titles(recs))
	}
}

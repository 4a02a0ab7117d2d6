package csaf

import (
	"math"
	"testing"
)

func vuln(cve string, score float64, vector string) *Vulnerability {
	v := &Vulnerability{CVE: cve}
	if vector != "" || score > 0 {
		v.CVSS3 = &CVSS{Version: "3.1", Vector: vector, Score: score}
	}
	return v
}

// TestRisk checks Risk against the formula of its doc comment, worked by
// hand for each case.
func TestRisk(t *testing.T) {
	public := &Advisory{ID: "A", Exploitability: Exploitability{PublicExploit: true}}
	noKnown := &Advisory{ID: "B", Exploitability: Exploitability{NoKnownExploit: true}}
	silent := &Advisory{ID: "C"}
	local := &Advisory{ID: "D", Exploitability: Exploitability{NotRemote: true}}
	crit := vuln("CVE-1", 9.8, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
	loc := vuln("CVE-2", 5.5, "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N")
	tests := []struct {
		name    string
		matches []Match
		exp     Exposure
		want    float64
	}{
		{"none", nil, Exposure{DeviceType: "plc"}, 0},
		// 9.8 × E 1.0 × X 0.9 × C 1.0 × W 0.9 = 7.938
		{"one affected", []Match{{Advisory: public, Verdict: Affected, Confidence: 0.9, Vulnerabilities: []*Vulnerability{crit}}},
			Exposure{DeviceType: "plc", Remote: true}, 7.94},
		// r2 = 5.5 × 1.0 × 0.55 × 1.0 × 0.9 = 2.7225;
		// 7.938 + 0.25 × (10 − 7.938) × 0.27225 = 8.0783
		{"two vulnerabilities", []Match{{Advisory: public, Verdict: Affected, Confidence: 0.9, Vulnerabilities: []*Vulnerability{crit, loc}}},
			Exposure{DeviceType: "plc", Remote: true}, 8.08},
		// 9.8 × 0.8 × 0.75 × 0.9 × (0.6 / 2) = 1.5876
		{"possibly affected", []Match{{Advisory: noKnown, Verdict: PossiblyAffected, Confidence: 0.6, Vulnerabilities: []*Vulnerability{crit}}},
			Exposure{DeviceType: "hmi"}, 1.59},
		// the same CVE twice counts once, at its highest: 7.938
		{"same CVE twice", []Match{
			{Advisory: public, Verdict: Affected, Confidence: 0.9, Vulnerabilities: []*Vulnerability{crit}},
			{Advisory: public, Verdict: PossiblyAffected, Confidence: 0.6, Vulnerabilities: []*Vulnerability{crit}},
		}, Exposure{DeviceType: "plc", Remote: true}, 7.94},
		// unscored: 5.0 × 0.9 × 0.8 × 0.85 × 0.9 = 2.754
		{"unscored", []Match{{Advisory: silent, Verdict: Affected, Confidence: 0.9, Vulnerabilities: []*Vulnerability{{CVE: "CVE-3"}}}},
			Exposure{}, 2.75},
		// not exploitable remotely caps X at 0.55: 9.8 × 0.9 × 0.55 × 1.0 × 1.0 = 4.851
		{"not remote", []Match{{Advisory: local, Verdict: Affected, Confidence: 1, Vulnerabilities: []*Vulnerability{crit}}},
			Exposure{DeviceType: "rtu", Internet: true}, 4.85},
		// internet exposure: 9.8 × 1.0 × 1.0 × 0.9 × 1.0 = 8.82
		{"internet", []Match{{Advisory: public, Verdict: Affected, Confidence: 1, Vulnerabilities: []*Vulnerability{crit}}},
			Exposure{DeviceType: "network_device", Internet: true}, 8.82},
	}
	for _, tt := range tests {
		if got := Risk(tt.matches, tt.exp); math.Abs(got-tt.want) > 0.005 {
			t.Errorf("%s: Risk = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRiskBounded checks that many severe vulnerabilities stay within 10.
func TestRiskBounded(t *testing.T) {
	a := &Advisory{ID: "A", Exploitability: Exploitability{PublicExploit: true}}
	var vs []*Vulnerability
	for i := range 50 {
		vs = append(vs, vuln("CVE-"+uitoa(uint64(i)), 10, "CVSS:3.1/AV:N"))
	}
	got := Risk([]Match{{Advisory: a, Verdict: Affected, Confidence: 1, Vulnerabilities: vs}}, Exposure{DeviceType: "plc", Internet: true})
	if got > 10 || got < 9.99 {
		t.Errorf("Risk = %v, want 10 at most and close to it", got)
	}
}

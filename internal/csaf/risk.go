package csaf

import (
	"math"
	"strings"
)

// Exposure is what is known about where a device sits and what it does,
// for Risk.
type Exposure struct {
	// DeviceType is the inventory's device type: plc, rtu, ied, hmi,
	// engineering_workstation, historian, scada_server, opc_server,
	// network_device, it_workstation, it_server, iot or unknown.
	DeviceType string
	// Internet is set when the device is reachable from the internet.
	Internet bool
	// Remote is set when the device is reachable from outside its own
	// zone (the enterprise network, remote access, another site).
	Remote bool
}

// Risk scores a device from 0 (no known vulnerability) to 10 from its
// matches and exposure:
//
//	per vulnerability:  r = B × E × X × C × W
//	per device:         R = r1 + 0.25 × (10 − r1) × (1 − Π_{i≥2} (1 − ri/10))
//
// where r1 ≥ r2 ≥ … are the vulnerabilities' r (each CVE counted once, its
// highest r kept), so the worst vulnerability sets the score and further
// ones raise it by at most a quarter of the distance to 10.
//
//   - B, base: the CVSS v3 base score, else the CVSS v4 base score, else 5.0
//     (unscored).
//   - E, exploitability, from the advisory: 1.0 when exploits are public
//     or exploitation was seen, 0.8 when the advisory says no public
//     exploit is known, else 0.9; times 0.9 when it says exploitation needs
//     high skill or has high attack complexity.
//   - X, exposure, from the CVSS attack vector (AV) and the device's
//     reachability: a network vector (AV:N) gives 1.0 from the internet,
//     0.9 from outside its zone and 0.75 inside its zone only; an adjacent
//     vector (AV:A) 0.8; a local or physical vector (AV:L, AV:P) 0.55; an
//     unknown vector 0.8. An advisory that says the vulnerabilities are not
//     exploitable remotely caps X at 0.55.
//   - C, criticality of the device type: 1.0 for controllers and field
//     devices (plc, rtu, ied), 0.9 for hmi, scada_server,
//     engineering_workstation and network_device, 0.8 for historian and
//     opc_server, 0.7 for IT hosts and iot, 0.85 when unknown.
//   - W, match certainty: the match's Confidence for Affected, half of it
//     for PossiblyAffected.
func Risk(matches []Match, exposure Exposure) float64 {
	perCVE := map[string]float64{}
	var anonymous []float64
	for i := range matches {
		m := &matches[i]
		w := m.Confidence
		if m.Verdict != Affected {
			w *= 0.5
		}
		c := criticality(exposure.DeviceType)
		e := exploitFactor(m.Advisory.Exploitability)
		for _, v := range m.Vulnerabilities {
			b, vector := baseScore(v)
			x := exposureFactor(vector, exposure, m.Advisory.Exploitability)
			r := clamp10(b * e * x * c * w)
			if v.CVE == "" {
				anonymous = append(anonymous, r)
				continue
			}
			if r > perCVE[v.CVE] {
				perCVE[v.CVE] = r
			}
		}
	}
	rs := anonymous
	for _, r := range perCVE {
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return 0
	}
	top := 0
	for i, r := range rs {
		if r > rs[top] {
			top = i
		}
	}
	r1 := rs[top]
	rest := 1.0
	for i, r := range rs {
		if i != top {
			rest *= 1 - r/10
		}
	}
	return math.Round(clamp10(r1+0.25*(10-r1)*(1-rest))*100) / 100
}

func clamp10(x float64) float64 { return math.Max(0, math.Min(10, x)) }

// baseScore returns the CVSS base score of a vulnerability and its vector.
func baseScore(v *Vulnerability) (float64, string) {
	switch {
	case v.CVSS3 != nil:
		return v.CVSS3.Score, v.CVSS3.Vector
	case v.CVSS4 != nil && v.CVSS4.Score > 0:
		return v.CVSS4.Score, v.CVSS4.Vector
	case v.CVSS4 != nil:
		return 5.0, v.CVSS4.Vector
	}
	return 5.0, ""
}

func exploitFactor(e Exploitability) float64 {
	f := 0.9
	switch {
	case e.PublicExploit:
		f = 1.0
	case e.NoKnownExploit:
		f = 0.8
	}
	if e.HighSkill {
		f *= 0.9
	}
	return f
}

// attackVector returns the AV metric of a CVSS vector: "N", "A", "L", "P"
// or "".
func attackVector(vector string) string {
	for _, part := range strings.Split(vector, "/") {
		if v, ok := strings.CutPrefix(part, "AV:"); ok {
			return v
		}
	}
	return ""
}

func exposureFactor(vector string, ex Exposure, e Exploitability) float64 {
	var x float64
	switch attackVector(vector) {
	case "N":
		switch {
		case ex.Internet:
			x = 1.0
		case ex.Remote:
			x = 0.9
		default:
			x = 0.75
		}
	case "A":
		x = 0.8
	case "L", "P":
		x = 0.55
	default:
		x = 0.8
	}
	if e.NotRemote && !e.Remote {
		x = math.Min(x, 0.55)
	}
	return x
}

func criticality(deviceType string) float64 {
	switch strings.ToLower(deviceType) {
	case "plc", "rtu", "ied":
		return 1.0
	case "hmi", "scada_server", "engineering_workstation", "network_device":
		return 0.9
	case "historian", "opc_server":
		return 0.8
	case "it_workstation", "it_server", "iot":
		return 0.7
	}
	return 0.85
}

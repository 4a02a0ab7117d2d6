package recommend

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Risk is a device's risk score and what it was made of.
type Risk struct {
	// Score is from 0 to 10; see DeviceRisk.
	Score float64 `json:"score"`
	// Vulnerability is csaf.Risk of the device's advisory matches.
	Vulnerability float64 `json:"vulnerability"`
	// Observed is the weight, from 0 to 1, of the worst open
	// recommendation from what the sensor saw.
	Observed float64 `json:"observed"`
	// The exposure given to csaf.Risk.
	DeviceType string `json:"device_type"`
	Internet   bool   `json:"internet"`
	Remote     bool   `json:"remote"`
	// Factors say in words why the exposure is what it is.
	Factors []string `json:"factors,omitempty"`
}

// ExposureOf returns the exposure of device d for csaf.Risk, and the
// reasons for it:
//
//   - DeviceType is the inventory's type; an unknown type is scored as a
//     field controller ("plc") at Purdue level 0 or 1 and as an IT host
//     ("it_workstation") at level 4 or 5.
//   - Internet: d exchanged traffic with a public internet address
//     (connections, policy.internet_access or malware.ioc_* alerts).
//   - Remote: d is reached from outside its zone: by an IT host (an IT
//     type, or Purdue level 4 or 5), by remote access (malware.remote_access
//     alerts, or VNC, RDP, SSH or Telnet it serves and someone used), or by
//     an IT/OT crossing (policy.it_ot_crossing alerts). Internet implies
//     Remote.
func ExposureOf(snap *inventory.Snapshot, d *inventory.Device, alerts []*alert.Alert) (csaf.Exposure, []string) {
	v := newView(snap, d, alerts)
	ex := csaf.Exposure{DeviceType: string(d.Type)}
	var why []string
	if d.Type == inventory.TypeUnknown || d.Type == "" {
		switch {
		case d.Purdue >= 0 && d.Purdue <= 1:
			ex.DeviceType = string(inventory.TypePLC)
			why = append(why, fmt.Sprintf("type unknown at Purdue level %d: scored as a field controller", d.Purdue))
		case d.Purdue >= 4:
			ex.DeviceType = string(inventory.TypeITWorkstation)
			why = append(why, fmt.Sprintf("type unknown at Purdue level %d: scored as an IT host", d.Purdue))
		default:
			ex.DeviceType = string(inventory.TypeUnknown)
		}
	}
	if peers := v.publicPeers(); len(peers) > 0 {
		ex.Internet, ex.Remote = true, true
		why = append(why, "exchanged traffic with internet hosts: "+listOf(peers))
	}
	var it []string
	for _, c := range v.in {
		if pd := v.peer(c); pd != nil && isIT(pd) && !publicOnly(pd) {
			if l := Ref(pd).String(); !slices.Contains(it, l) {
				it = append(it, l)
			}
		}
	}
	if len(it) > 0 {
		ex.Remote = true
		why = append(why, "reached by IT hosts: "+listOf(it))
	}
	var remote []string
	for _, p := range []string{"vnc", "rdp", "ssh", "telnet"} {
		if _, ok := v.serves(p); ok && len(v.clients(p)) > 0 && !slices.Contains(remote, p) {
			remote = append(remote, p)
		}
	}
	for _, a := range v.to {
		if a.Type == alertRemoteAccess && !slices.Contains(remote, a.Protocol) {
			remote = append(remote, a.Protocol)
		}
	}
	if len(remote) > 0 {
		ex.Remote = true
		why = append(why, "remote access sessions into it: "+listOf(remote))
	}
	for _, a := range v.to {
		if a.Type == alertITOT {
			ex.Remote = true
			why = append(why, "IT host "+a.Source.String()+" crossed into its industrial services")
			break
		}
	}
	if !ex.Remote {
		why = append(why, "reached only from inside its zone")
	}
	return ex, why
}

// observedWeight is the weight of a severity in Risk.Observed.
func observedWeight(s alert.Severity) float64 {
	switch s {
	case alert.Critical:
		return 1
	case alert.High:
		return 0.75
	case alert.Medium:
		return 0.5
	case alert.Low:
		return 0.25
	}
	return 0
}

// DeviceRisk scores device d from 0 to 10:
//
//	V = csaf.Risk(matches, ExposureOf(snap, d, alerts))
//	H = weight of the worst open or in-progress observed recommendation:
//	    Critical 1, High 0.75, Medium 0.5, Low 0.25, none 0
//	Score = V + (10 − V) × 0.3 × H
//
// so that known vulnerabilities set the score (csaf.Risk weighs each CVE
// by its CVSS base score, the advisory's exploitability, the device's
// exposure and type, and the match's certainty), and what the sensor saw
// (cleartext passwords, internet traffic, insecure services) raises it by
// at most 30% of the distance to 10. A device with no vulnerability and a
// Critical finding scores 3. recs are the device's recommendations
// (ForDevice); the score is rounded to two decimals.
func DeviceRisk(snap *inventory.Snapshot, d *inventory.Device, matches []csaf.Match, alerts []*alert.Alert, recs []Recommendation) Risk {
	ex, why := ExposureOf(snap, d, alerts)
	r := Risk{DeviceType: ex.DeviceType, Internet: ex.Internet, Remote: ex.Remote, Factors: why}
	r.Vulnerability = csaf.Risk(matches, ex)
	for _, rec := range recs {
		if rec.Source == SourceObserved && (rec.Status == Open || rec.Status == InProgress) {
			r.Observed = max(r.Observed, observedWeight(rec.Severity))
		}
	}
	r.Score = math.Round((r.Vulnerability+(10-r.Vulnerability)*0.3*r.Observed)*100) / 100
	return r
}

// An Assessment is one device with its advisory matches, recommendations
// and risk.
type Assessment struct {
	Device          *inventory.Device
	Matches         []csaf.Match
	Recommendations []Recommendation
	Risk            Risk
}

// CSAFDevice returns what the advisory matcher needs to know of d: its
// vendor, model, product name, product code and firmware.
func CSAFDevice(d *inventory.Device) csaf.Device {
	cd := csaf.Device{Vendor: d.Vendor, Model: d.Model, Product: d.Product, Firmware: d.Firmware}
	for _, f := range d.Facts {
		if f.Key == dissect.FactProductCode && f.Best {
			cd.ProductCode = f.Value
		}
	}
	return cd
}

// Assess returns the assessment of device d: its matches in catalog (none
// when catalog is nil), its recommendations and its risk.
func Assess(snap *inventory.Snapshot, d *inventory.Device, catalog *csaf.Catalog, alerts []*alert.Alert) Assessment {
	a := Assessment{Device: d}
	if catalog != nil && !publicOnly(d) {
		a.Matches = catalog.Match(CSAFDevice(d))
	}
	a.Recommendations = ForDevice(snap, d, a.Matches, alerts)
	a.Risk = DeviceRisk(snap, d, a.Matches, alerts, a.Recommendations)
	return a
}

// RankDevices assesses every device of snap and sorts them by risk score,
// highest first; ties by vulnerability score, then by the number of
// recommendations, then by device ID.
func RankDevices(snap *inventory.Snapshot, catalog *csaf.Catalog, alerts []*alert.Alert) []Assessment {
	if snap == nil {
		return nil
	}
	out := make([]Assessment, 0, len(snap.Devices))
	for i := range snap.Devices {
		out = append(out, Assess(snap, &snap.Devices[i], catalog, alerts))
	}
	slices.SortStableFunc(out, func(a, b Assessment) int {
		return cmp.Or(
			cmp.Compare(b.Risk.Score, a.Risk.Score),
			cmp.Compare(b.Risk.Vulnerability, a.Risk.Vulnerability),
			cmp.Compare(len(b.Recommendations), len(a.Recommendations)),
			cmp.Compare(a.Device.ID, b.Device.ID))
	})
	return out
}

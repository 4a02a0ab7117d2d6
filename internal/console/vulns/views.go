package vulns

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/inventory"
)

// An AdvisoryRef names an advisory.
type AdvisoryRef struct {
	ID    string `json:"id"` // tracking ID, e.g. ICSA-22-144-01
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
}

// A CVE is one vulnerability of the fleet: the advisories that report it
// and the devices they concern.
type CVE struct {
	ID    string `json:"cve"`
	Title string `json:"title,omitempty"` // as the first advisory reporting it names it
	// CVSS is the highest base score an advisory gives it (CVSS v3, else
	// v4), with its vector; 0 when none scores it.
	CVSS       float64       `json:"cvss"`
	Vector     string        `json:"vector,omitempty"`
	Advisories []AdvisoryRef `json:"advisories"`
	// Affected are the devices an advisory says are affected, Possibly
	// those that may be (csaf.PossiblyAffected) and are not affected by
	// another; both by risk, highest first.
	Affected []DeviceRef `json:"affected"`
	Possibly []DeviceRef `json:"possibly_affected"`
}

// An Advisory is one advisory that concerns devices of the fleet.
type Advisory struct {
	AdvisoryRef
	Publisher string    `json:"publisher,omitempty"`
	Released  time.Time `json:"released,omitzero"`
	// CVEs are those of its vulnerabilities that concern the devices, and
	// CVSS their highest base score.
	CVEs     []string    `json:"cves"`
	CVSS     float64     `json:"cvss"`
	Affected []DeviceRef `json:"affected"`
	Possibly []DeviceRef `json:"possibly_affected"`
}

// A DeviceSummary is one device of the fleet with its risk and counts.
type DeviceSummary struct {
	DeviceRef
	Type     inventory.Type `json:"type"`
	Vendor   string         `json:"vendor,omitempty"`
	Model    string         `json:"model,omitempty"` // the model, else the product name
	Firmware string         `json:"firmware,omitempty"`
	// Vulnerability is the part of the risk that comes from advisories
	// (recommend.Risk.Vulnerability).
	Vulnerability float64 `json:"vulnerability"`
	// Advisories is how many advisories concern the device, Affected how
	// many of them say it is affected; CVEs how many CVEs they report.
	Advisories int `json:"advisories"`
	Affected   int `json:"affected"`
	CVEs       int `json:"cves"`
	// Recommendations is how many there are, Active how many are open or
	// in progress.
	Recommendations int `json:"recommendations"`
	Active          int `json:"active"`
}

// ByDevice returns every device of the fleet with its risk and counts,
// ranked by risk as Devices are.
func (a *Assessment) ByDevice() []DeviceSummary {
	out := make([]DeviceSummary, len(a.Devices))
	for i, d := range a.Devices {
		r := d.Record
		s := DeviceSummary{DeviceRef: d.Ref(), Type: r.Type, Vendor: r.Vendor, Model: cmp.Or(r.Model, r.Product), Firmware: r.Firmware,
			Vulnerability: d.Risk.Vulnerability, Advisories: len(d.Matches), Recommendations: len(d.Recommendations), Active: d.Active()}
		var cves []string
		for _, m := range d.Matches {
			if m.Verdict == csaf.Affected {
				s.Affected++
			}
			for _, c := range m.CVEs {
				if !slices.Contains(cves, c) {
					cves = append(cves, c)
				}
			}
		}
		s.CVEs = len(cves)
		out[i] = s
	}
	return out
}

// ByCVE returns the CVEs that concern devices of the fleet: highest CVSS
// first, then most affected devices, then by ID. Vulnerabilities without a
// CVE appear only by advisory.
func (a *Assessment) ByCVE() []CVE {
	a.views()
	return a.cves
}

// ByAdvisory returns the advisories that concern devices of the fleet:
// highest CVSS first, then most affected devices, then by ID.
func (a *Assessment) ByAdvisory() []Advisory {
	a.views()
	return a.advisories
}

// views makes the CVE and advisory views once.
func (a *Assessment) views() {
	a.once.Do(func() {
		cves := map[string]*CVE{}
		advs := map[string]*Advisory{}
		for _, d := range a.Devices {
			ref := d.Ref()
			for _, m := range d.Matches {
				adv := m.Advisory
				ar := AdvisoryRef{ID: adv.ID, Title: adv.Title, URL: adv.URL}
				av := advs[adv.ID]
				if av == nil {
					av = &Advisory{AdvisoryRef: ar, Publisher: adv.Publisher.Name, Released: adv.Released, CVEs: []string{},
						Affected: []DeviceRef{}, Possibly: []DeviceRef{}}
					advs[adv.ID] = av
				}
				addDevice(&av.Affected, &av.Possibly, ref, m.Verdict)
				for _, v := range m.Vulnerabilities {
					score, vector := baseScore(v)
					av.CVSS = max(av.CVSS, score)
					if v.CVE == "" {
						continue
					}
					if !slices.Contains(av.CVEs, v.CVE) {
						av.CVEs = append(av.CVEs, v.CVE)
					}
					c := cves[v.CVE]
					if c == nil {
						c = &CVE{ID: v.CVE, Title: v.Title, Advisories: []AdvisoryRef{}, Affected: []DeviceRef{}, Possibly: []DeviceRef{}}
						cves[v.CVE] = c
					}
					if score > c.CVSS || c.Vector == "" && vector != "" && score == c.CVSS {
						c.CVSS, c.Vector = score, vector
					}
					if !slices.ContainsFunc(c.Advisories, func(x AdvisoryRef) bool { return x.ID == adv.ID }) {
						c.Advisories = append(c.Advisories, ar)
					}
					addDevice(&c.Affected, &c.Possibly, ref, m.Verdict)
				}
			}
		}
		a.cves = make([]CVE, 0, len(cves))
		for _, c := range cves {
			a.cves = append(a.cves, *c)
		}
		slices.SortFunc(a.cves, func(x, y CVE) int {
			return cmp.Or(cmp.Compare(y.CVSS, x.CVSS), cmp.Compare(len(y.Affected), len(x.Affected)),
				cmp.Compare(len(y.Possibly), len(x.Possibly)), strings.Compare(x.ID, y.ID))
		})
		a.advisories = make([]Advisory, 0, len(advs))
		for _, v := range advs {
			slices.Sort(v.CVEs)
			a.advisories = append(a.advisories, *v)
		}
		slices.SortFunc(a.advisories, func(x, y Advisory) int {
			return cmp.Or(cmp.Compare(y.CVSS, x.CVSS), cmp.Compare(len(y.Affected), len(x.Affected)),
				cmp.Compare(len(y.Possibly), len(x.Possibly)), strings.Compare(x.ID, y.ID))
		})
	})
}

// addDevice adds ref to affected or possibly, as verdict says: a device
// affected is taken out of possibly, and is never in both.
func addDevice(affected, possibly *[]DeviceRef, ref DeviceRef, verdict csaf.Verdict) {
	same := func(r DeviceRef) bool { return r.Sensor == ref.Sensor && r.ID == ref.ID }
	if slices.ContainsFunc(*affected, same) {
		return
	}
	if verdict == csaf.Affected {
		*possibly = slices.DeleteFunc(*possibly, same)
		*affected = append(*affected, ref)
	} else if !slices.ContainsFunc(*possibly, same) {
		*possibly = append(*possibly, ref)
	}
}

// baseScore returns a vulnerability's CVSS base score (v3, else v4) and
// vector; 0 when it has none.
func baseScore(v *csaf.Vulnerability) (float64, string) {
	switch {
	case v.CVSS3 != nil:
		return v.CVSS3.Score, v.CVSS3.Vector
	case v.CVSS4 != nil && v.CVSS4.Score > 0:
		return v.CVSS4.Score, v.CVSS4.Vector
	}
	return 0, ""
}

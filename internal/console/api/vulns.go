package api

import (
	"time"

	"github.com/otwatch/otwatch/internal/console/api/openapi"
	"github.com/otwatch/otwatch/internal/console/vulns"
	"github.com/otwatch/otwatch/internal/recommend"
	"github.com/otwatch/otwatch/internal/store"
)

// vulnerability is one advisory matched to a device.
type vulnerability struct {
	Advisory        vulns.AdvisoryRef `json:"advisory"`
	Publisher       string            `json:"publisher,omitempty"`
	Released        time.Time         `json:"released,omitzero"`
	Verdict         string            `json:"verdict"`
	Confidence      float64           `json:"confidence"`
	Level           string            `json:"level"`
	Product         string            `json:"product,omitempty"`
	FixedIn         string            `json:"fixed_in,omitempty"`
	Reasons         []string          `json:"reasons"`
	Vulnerabilities []cveScore        `json:"vulnerabilities"`
}

// cveScore is one vulnerability of an advisory matched to a device.
type cveScore struct {
	CVE    string  `json:"cve,omitempty"`
	Title  string  `json:"title,omitempty"`
	CVSS   float64 `json:"cvss"`
	Vector string  `json:"vector,omitempty"`
	CWE    string  `json:"cwe,omitempty"`
}

func (a *API) deviceVulnerabilities(c *call) (any, error) {
	rec, err := c.device()
	if err != nil {
		return nil, err
	}
	d, err := a.fleet.Device(c.ctx, rec)
	if err != nil {
		return nil, err
	}
	out := []vulnerability{}
	for _, m := range d.Matches {
		adv := m.Advisory
		v := vulnerability{Advisory: vulns.AdvisoryRef{ID: adv.ID, Title: adv.Title, URL: adv.URL}, Publisher: adv.Publisher.Name,
			Released: adv.Released, Verdict: m.Verdict.String(), Confidence: m.Confidence, Level: m.Level(), FixedIn: m.FixedIn,
			Reasons: append([]string{}, m.Reasons...), Vulnerabilities: []cveScore{}}
		if m.Product != nil {
			v.Product = m.Product.Name
		}
		for _, x := range m.Vulnerabilities {
			s := cveScore{CVE: x.CVE, Title: x.Title}
			switch {
			case x.CVSS3 != nil:
				s.CVSS, s.Vector = x.CVSS3.Score, x.CVSS3.Vector
			case x.CVSS4 != nil:
				s.CVSS, s.Vector = x.CVSS4.Score, x.CVSS4.Vector
			}
			if x.CWE != nil {
				s.CWE = x.CWE.ID
			}
			v.Vulnerabilities = append(v.Vulnerabilities, s)
		}
		out = append(out, v)
	}
	return struct {
		Advisories      int             `json:"advisories_loaded"`
		Risk            recommend.Risk  `json:"risk"`
		Vulnerabilities []vulnerability `json:"vulnerabilities"`
	}{a.fleet.Advisories(), d.Risk, out}, nil
}

// recommendationOut is a recommendation as the API gives it.
type recommendationOut struct {
	vulns.Recommendation
	// History is set when asked for: the status changes, oldest first.
	History *[]store.RecommendationStatus `json:"history,omitempty"`
}

func (a *API) deviceRecommendations(c *call) (any, error) {
	rec, err := c.device()
	if err != nil {
		return nil, err
	}
	d, err := a.fleet.Device(c.ctx, rec)
	if err != nil {
		return nil, err
	}
	history := c.queryBool("history")
	out := make([]recommendationOut, len(d.Recommendations))
	for i, r := range d.Recommendations {
		out[i] = recommendationOut{Recommendation: r}
		if r.Evidence == nil {
			out[i].Evidence = []string{}
		}
		if history != nil && *history {
			h, err := a.fleet.History(c.ctx, r.ID)
			if err != nil {
				return nil, err
			}
			if h == nil {
				h = []store.RecommendationStatus{}
			}
			out[i].History = &h
		}
	}
	return struct {
		Risk            recommend.Risk      `json:"risk"`
		Recommendations []recommendationOut `json:"recommendations"`
	}{d.Risk, out}, nil
}

func (a *API) setRecommendationStatus(c *call) (any, error) {
	var in statusInput
	if err := c.decode(&in); err != nil {
		return nil, err
	}
	to, err := recommend.ParseStatus(in.Status)
	if err != nil {
		return nil, badRequest("status: %q is not open, in_progress, done or dismissed", clip(in.Status))
	}
	r, _, err := a.fleet.Find(c.ctx, c.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return a.fleet.SetStatus(c.ctx, r, to, in.Reason, c.actor())
}

// Fleet views, and their page sizes.
const (
	defaultFleetLimit = 100
	maxFleetLimit     = 1000
)

// fleetPage is one page of a fleet view.
type fleetPage struct {
	By         string                 `json:"by"`
	Advisories int                    `json:"advisories_loaded"`
	Assessed   time.Time              `json:"assessed"`
	Total      int                    `json:"total"`
	Next       *int                   `json:"next,omitempty"`
	CVEs       *[]vulns.CVE           `json:"cves,omitempty"`
	Devices    *[]vulns.DeviceSummary `json:"devices,omitempty"`
	Advisory   *[]vulns.Advisory      `json:"advisories,omitempty"`
}

func (a *API) listVulnerabilities(c *call) (any, error) {
	as, err := a.fleet.Assess(c.ctx)
	if err != nil {
		return nil, err
	}
	by := c.query("by")
	if by == "" {
		by = "cve"
	}
	limit, offset := c.queryInt("limit"), c.queryInt("offset")
	if limit == 0 {
		limit = defaultFleetLimit
	}
	p := fleetPage{By: by, Advisories: as.Advisories, Assessed: as.Time}
	window := func(n int) (int, int) {
		p.Total = n
		lo, hi := min(offset, n), min(offset+limit, n)
		if hi < n {
			p.Next = &hi
		}
		return lo, hi
	}
	switch by {
	case "device":
		all := as.ByDevice()
		lo, hi := window(len(all))
		page := append([]vulns.DeviceSummary{}, all[lo:hi]...)
		p.Devices = &page
	case "advisory":
		all := as.ByAdvisory()
		lo, hi := window(len(all))
		page := append([]vulns.Advisory{}, all[lo:hi]...)
		p.Advisory = &page
	default:
		all := as.ByCVE()
		lo, hi := window(len(all))
		page := append([]vulns.CVE{}, all[lo:hi]...)
		p.CVEs = &page
	}
	return p, nil
}

// recommendationID is the schema of a recommendation ID (recommend.ID).
var recommendationID = str().Match(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).Doc("recommendation ID (a name-based UUID)")

// recommendationStatusNames are the statuses a recommendation can have.
func recommendationStatusNames() []string {
	var out []string
	for s := recommend.Open; s <= recommend.Dismissed; s++ {
		out = append(out, s.String())
	}
	return out
}

// vulnSchemas returns the component schemas of vulnerabilities,
// recommendations and risk.
func vulnSchemas() map[string]*openapi.Schema {
	devRef := obj(props{"sensor": str(), "id": count(), "name": str(), "address": str(), "risk": num().Min(0).Max(10)}, "sensor", "id", "risk")
	return map[string]*openapi.Schema{
		"Risk": obj(props{
			"score":         num().Min(0).Max(10).Doc("0 to 10: the vulnerability score, raised by what the sensor saw"),
			"vulnerability": num().Min(0).Max(10).Doc("from the device's advisory matches, its exposure and type"),
			"observed":      num().Min(0).Max(1).Doc("weight of the worst open finding from what the sensor saw"),
			"device_type":   str(), "internet": boo(), "remote": boo(),
			"factors": arr(str()).Doc("why the exposure is what it is"),
		}, "score", "vulnerability", "observed", "device_type", "internet", "remote").Doc("A device's risk and what it is made of."),
		"DeviceRef":   devRef.Doc("A device of the store, with its risk score."),
		"AdvisoryRef": obj(props{"id": str(), "title": str(), "url": str()}, "id", "title"),
		"CVEScore": obj(props{"cve": str(), "title": str(), "cvss": num().Min(0).Max(10), "vector": str(), "cwe": str()}, "cvss").
			Doc("A vulnerability of an advisory, with its highest CVSS base score (v3, else v4)."),
		"Vulnerability": obj(props{
			"advisory": ref("AdvisoryRef"), "publisher": str(), "released": tm(),
			"verdict":    enum("affected", "possibly affected"),
			"confidence": num().Min(0).Max(1), "level": enum("high", "medium", "low"),
			"product": str().Doc("the advisory's product the device was matched to"), "fixed_in": str(),
			"reasons":         arr(str()).Doc("why the vendor, product and version matched, and what is uncertain"),
			"vulnerabilities": arr(ref("CVEScore")),
		}, "advisory", "verdict", "confidence", "level", "reasons", "vulnerabilities").Doc("A vendor advisory that concerns a device."),
		"DeviceVulnerabilities": obj(props{"advisories_loaded": count(), "risk": ref("Risk"), "vulnerabilities": arr(ref("Vulnerability"))},
			"advisories_loaded", "risk", "vulnerabilities"),
		"RecommendationStatus": obj(props{"id": str(), "device": str().Doc("the device key (MAC, else address)"), "title": str(),
			"status": enum(recommendationStatusNames()...), "reason": str(), "actor": str(), "changed": tm()},
			"id", "device", "status", "actor", "changed").Doc("A person's decision on a recommendation."),
		"RecommendationStatusInput": obj(props{"status": enum(recommendationStatusNames()...),
			"reason": str().Len(0, store.MaxReasonLen).Doc("why; required to dismiss")}, "status"),
		"Recommendation": obj(props{
			"id": recommendationID, "sensor": str(), "device_key": str(),
			"device": obj(props{"id": count(), "ip": str(), "mac": str(), "name": str()}, "id"),
			"kind":   str().Doc("what it is about: advisory_update, advisory_mitigation, advisory_confirm, insecure_protocol, cleartext_credentials, remote_access, internet_exposure, outdated_firmware, plc_mode, plc_programming, it_ot_crossing"),
			"key":    str(), "severity": enum(severityNames()...), "title": str(), "text": str(),
			"evidence": arr(str()), "source": enum(string(recommend.SourceAdvisory), string(recommend.SourceObserved)),
			"advisory": str(), "cves": arr(str()), "url": str(),
			"status": enum(recommendationStatusNames()...), "reason": str(),
			"actor": str().Doc("who last set the status"), "changed": tm().Doc("when"),
			"history": arr(ref("RecommendationStatus")).Doc("with ?history=true: the status changes, oldest first"),
		}, "id", "sensor", "device_key", "device", "kind", "severity", "title", "text", "evidence", "source", "status").
			Doc("An action to take on a device, with the status people gave it."),
		"DeviceRecommendations": obj(props{"risk": ref("Risk"), "recommendations": arr(ref("Recommendation"))}, "risk", "recommendations"),
		"FleetCVE": obj(props{"cve": str(), "title": str(), "cvss": num().Min(0).Max(10), "vector": str(),
			"advisories": arr(ref("AdvisoryRef")), "affected": arr(ref("DeviceRef")), "possibly_affected": arr(ref("DeviceRef"))},
			"cve", "cvss", "advisories", "affected", "possibly_affected"),
		"FleetAdvisory": obj(props{"id": str(), "title": str(), "url": str(), "publisher": str(), "released": tm(),
			"cves": arr(str()), "cvss": num().Min(0).Max(10), "affected": arr(ref("DeviceRef")), "possibly_affected": arr(ref("DeviceRef"))},
			"id", "title", "cves", "cvss", "affected", "possibly_affected"),
		"FleetDevice": obj(props{"sensor": str(), "id": count(), "name": str(), "address": str(), "risk": num().Min(0).Max(10),
			"type": enum(deviceTypes()...), "vendor": str(), "model": str(), "firmware": str(), "vulnerability": num().Min(0).Max(10),
			"advisories": count(), "affected": count(), "cves": count(), "recommendations": count(),
			"active": count().Doc("recommendations open or in progress")},
			"sensor", "id", "risk", "type", "vulnerability", "advisories", "affected", "cves", "recommendations", "active"),
		"FleetPage": obj(props{
			"by": enum("cve", "device", "advisory"), "advisories_loaded": count(), "assessed": tm().Doc("when the inventory was read"),
			"total": count(), "next": count().Doc("offset of the next page; absent on the last"),
			"cves": arr(ref("FleetCVE")), "devices": arr(ref("FleetDevice")), "advisories": arr(ref("FleetAdvisory")),
		}, "by", "advisories_loaded", "assessed", "total").Doc("One page of a fleet view: cves, devices or advisories, as by says."),
	}
}

package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/console/auth"
	"github.com/otwatch/otwatch/internal/console/vulns"
	"github.com/otwatch/otwatch/internal/devmap"
	"github.com/otwatch/otwatch/internal/inventory"
)

// vulnsPageSize is how many rows a tab of the Vulnerabilities page shows.
const vulnsPageSize = 100

// vulnViews are the tabs of the Vulnerabilities page.
var vulnViews = []struct{ key, label string }{{"cve", "By CVE"}, {"device", "By device"}, {"advisory", "By advisory"}}

// vulnsData is the fleet's Vulnerabilities page.
type vulnsData struct {
	*base
	By         string
	Tabs       []tabLink
	Loaded     int    // advisories loaded
	LoadHelp   string // how to load them
	Assessed   time.Time
	CVEs       []cveView
	Devices    []riskRow
	Advisories []advisoryView
	Empty      string
	// Summary counts: CVEs and advisories that concern devices, devices
	// they concern, devices in all, devices with a risk above zero.
	CVECount, AdvisoryCount, Concerned, DeviceCount, AtRisk int
	// Paging.
	From, To, Total int
	Next, Prev      string
}

// devLink links to a device from the page.
type devLink struct {
	Label, Href, Risk string
}

// advLink names an advisory, linked to its web version when known.
type advLink struct {
	ID, Title, URL string
}

// cveView is one CVE of the fleet.
type cveView struct {
	ID, Title, Score, SevClass, Vector string
	Advisories                         []advLink
	Affected, Possibly                 []devLink
}

// advisoryView is one advisory that concerns the fleet.
type advisoryView struct {
	Ref                advLink
	Publisher          string
	Released           time.Time
	CVEs               []string
	Score, SevClass    string
	Affected, Possibly []devLink
}

// riskRow is one device of the fleet, by risk.
type riskRow struct {
	Href, RecsHref, Name, Address, Type, Vendor, Model, Firmware, Sensor string
	Risk, RiskClass, Vulnerability                                       string
	Advisories, Affected, CVEs, Recommendations, Active                  int
}

// scoreCell formats a CVSS score or risk with its severity class; "" for
// no score.
func scoreCell(v float64) (string, string) {
	if v <= 0 {
		return "", ""
	}
	return fmt.Sprintf("%.1f", v), sevClass(cvssSeverity(v))
}

func (s *server) vulnerabilitiesPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	v := r.URL.Query()
	d := &vulnsData{base: s.newBase(r, "Vulnerabilities", "vulnerabilities"), By: cmp.Or(v.Get("by"), "cve"), Loaded: s.fleet.Advisories(),
		LoadHelp: loadAdvisories}
	known := false
	for _, t := range vulnViews {
		tv := url.Values{}
		if t.key != "cve" {
			tv.Set("by", t.key)
		}
		d.Tabs = append(d.Tabs, tabLink{Key: t.key, Label: t.label, Active: t.key == d.By, Href: href("/vulnerabilities", tv)})
		known = known || t.key == d.By
	}
	if !known {
		return badRequest("by: %q is not cve, device or advisory", clip(d.By))
	}
	offset := 0
	if o := v.Get("offset"); o != "" {
		n, err := strconv.Atoi(o)
		if err != nil || n < 0 {
			return badRequest("offset: %q is not a row number", clip(o))
		}
		offset = n
	}
	a, err := s.fleet.Assess(r.Context())
	if err != nil {
		return err
	}
	d.Assessed = a.Time
	self := r.URL.RequestURI()
	devHref := func(sensor string, id inventory.DeviceID, tab string) string {
		return href(deviceHref(sensor, id, ""), url.Values{"from": {self}, "tab": {tab}})
	}
	links := func(refs []vulns.DeviceRef) []devLink {
		out := make([]devLink, len(refs))
		for i, ref := range refs {
			out[i] = devLink{Label: cmp.Or(ref.Name, ref.Address, fmt.Sprintf("device %d", ref.ID)), Href: devHref(ref.Sensor, ref.ID, "vulnerabilities")}
			out[i].Risk, _ = scoreCell(ref.Risk)
		}
		return out
	}
	cves, advs, devs := a.ByCVE(), a.ByAdvisory(), a.ByDevice()
	d.CVECount, d.AdvisoryCount, d.DeviceCount = len(cves), len(advs), len(devs)
	for _, x := range devs {
		if x.Risk > 0 {
			d.AtRisk++
		}
		if x.Advisories > 0 {
			d.Concerned++
		}
	}
	window := func(n int) (int, int) {
		d.Total = n
		lo, hi := min(offset, n), min(offset+vulnsPageSize, n)
		d.From, d.To = lo+1, hi
		if hi < n {
			d.Next = href("/vulnerabilities", withValue(v, "offset", strconv.Itoa(hi)))
		}
		if lo > 0 {
			d.Prev = href("/vulnerabilities", withValue(v, "offset", strconv.Itoa(max(lo-vulnsPageSize, 0))))
		}
		return lo, hi
	}
	switch d.By {
	case "cve":
		lo, hi := window(len(cves))
		for _, c := range cves[lo:hi] {
			cv := cveView{ID: c.ID, Vector: c.Vector, Affected: links(c.Affected), Possibly: links(c.Possibly)}
			if c.Title != c.ID {
				cv.Title = c.Title
			}
			cv.Score, cv.SevClass = scoreCell(c.CVSS)
			for _, ar := range c.Advisories {
				cv.Advisories = append(cv.Advisories, advLink(ar))
			}
			d.CVEs = append(d.CVEs, cv)
		}
	case "advisory":
		lo, hi := window(len(advs))
		for _, x := range advs[lo:hi] {
			av := advisoryView{Ref: advLink(x.AdvisoryRef), Publisher: x.Publisher, Released: x.Released, CVEs: x.CVEs,
				Affected: links(x.Affected), Possibly: links(x.Possibly)}
			av.Score, av.SevClass = scoreCell(x.CVSS)
			d.Advisories = append(d.Advisories, av)
		}
	case "device":
		lo, hi := window(len(devs))
		for _, x := range devs[lo:hi] {
			row := riskRow{Href: devHref(x.Sensor, x.ID, "vulnerabilities"), RecsHref: devHref(x.Sensor, x.ID, "recommendations"),
				Name: cmp.Or(x.Name, x.Address, fmt.Sprintf("device %d", x.ID)), Address: x.Address, Type: devmap.TypeLabel(x.Type), Vendor: x.Vendor,
				Model: x.Model, Firmware: x.Firmware, Sensor: x.Sensor, Advisories: x.Advisories, Affected: x.Affected, CVEs: x.CVEs,
				Recommendations: x.Recommendations, Active: x.Active}
			row.Risk, row.RiskClass = scoreCell(x.Risk)
			row.Vulnerability, _ = scoreCell(x.Vulnerability)
			d.Devices = append(d.Devices, row)
		}
	}
	switch {
	case d.By != "device" && d.Loaded == 0:
		d.Empty = "No vendor advisories are loaded, so no device is matched to known vulnerabilities. " + loadAdvisories
	case d.By != "device" && d.Total == 0:
		d.Empty = fmt.Sprintf("None of the %d loaded advisories concerns a device of the inventory.", d.Loaded)
	case d.Total == 0:
		d.Empty = "No device in the inventory yet."
	}
	s.render(w, http.StatusOK, "vulnerabilities", d)
	return nil
}

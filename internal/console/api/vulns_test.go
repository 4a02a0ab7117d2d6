package api

import (
	"context"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/store"
)

// TestVulnerabilities reads the PLC's vulnerabilities and
// recommendations, walks a recommendation's status, and reads the fleet
// views, with the fixture's test advisory (Siemens S7-1500 before V3.0).
func TestVulnerabilities(t *testing.T) {
	e := newEnv(t)
	ro, an := e.as("rita"), e.as("ana")

	type vulnPage struct {
		Advisories int `json:"advisories_loaded"`
		Risk       struct{ Score, Vulnerability float64 }
		Vulns      []struct {
			Advisory        struct{ ID, URL string }
			Verdict         string
			Vulnerabilities []struct {
				CVE  string
				CVSS float64
			}
		} `json:"vulnerabilities"`
	}
	v := decodeJSON[vulnPage](t, ro.do("GET", "/devices/s1/2/vulnerabilities", nil))
	if v.Advisories != 1 || len(v.Vulns) != 1 || v.Vulns[0].Advisory.ID != "TEST-2025-0001" || v.Vulns[0].Verdict != "affected" ||
		v.Vulns[0].Advisory.URL == "" || len(v.Vulns[0].Vulnerabilities) != 1 || v.Vulns[0].Vulnerabilities[0].CVE != "CVE-2025-0001" ||
		v.Vulns[0].Vulnerabilities[0].CVSS != 7.5 || v.Risk.Vulnerability <= 0 || v.Risk.Score < v.Risk.Vulnerability {
		t.Errorf("the PLC's vulnerabilities: %+v", v)
	}
	if v := decodeJSON[vulnPage](t, ro.do("GET", "/devices/s1/1/vulnerabilities", nil)); len(v.Vulns) != 0 {
		t.Errorf("the HMI's vulnerabilities: %+v", v)
	}

	type recPage struct {
		Recommendations []struct {
			ID, Kind, Title, Status, Reason, Actor, Advisory string
			History                                          []struct{ Status, Reason, Actor string }
		}
	}
	recs := decodeJSON[recPage](t, ro.do("GET", "/devices/s1/2/recommendations", nil)).Recommendations
	if len(recs) == 0 || recs[0].Kind != "advisory_update" || recs[0].Advisory != "TEST-2025-0001" || recs[0].Status != "open" || recs[0].History != nil {
		t.Fatalf("the PLC's recommendations: %+v", recs)
	}
	id := recs[0].ID
	path := "/recommendations/" + id + "/status"

	before := e.snapshot()
	if rec := ro.do("POST", path, map[string]string{"status": "done"}); rec.Code != 403 {
		t.Errorf("read-only status change = %d %s, want 403", rec.Code, rec.Body)
	}
	if after := e.snapshot(); after != before {
		t.Error("a refused status change changed the store")
	}
	steps := []struct {
		status, reason string
		code           int
		msg            string
	}{
		{"in_progress", "", 200, ""},
		{"in_progress", "", 400, "in progress: it can become open, done, dismissed"},
		{"done", "firmware V3.0 installed", 200, ""},
		{"dismissed", "", 400, "reason"},
		{"open", "", 200, ""},
	}
	for _, s := range steps {
		rec := an.do("POST", path, map[string]string{"status": s.status, "reason": s.reason})
		if rec.Code != s.code {
			t.Fatalf("to %s: %d %s, want %d", s.status, rec.Code, rec.Body, s.code)
		}
		if s.code == 200 {
			st := decodeJSON[store.RecommendationStatus](t, rec)
			if st.ID != id || st.Status.String() != s.status || st.Actor != "ana" || st.Device != "00:1b:1b:04:05:06" || st.Reason != s.reason {
				t.Errorf("to %s: stored %+v", s.status, st)
			}
		} else if m := decodeJSON[errorBody](t, rec).Error; !strings.Contains(m, s.msg) {
			t.Errorf("to %s: message %q, want one saying %q", s.status, m, s.msg)
		}
		e.checkResponse("setRecommendationStatus", rec)
	}
	recs = decodeJSON[recPage](t, ro.do("GET", "/devices/s1/2/recommendations?history=true", nil)).Recommendations
	r := recs[0]
	if r.ID != id || r.Status != "open" || r.Actor != "ana" || len(r.History) != 3 || r.History[1].Status != "done" || r.History[1].Reason != "firmware V3.0 installed" {
		t.Errorf("after the changes: %+v", r)
	}
	for _, other := range recs[1:] {
		if other.History == nil {
			t.Errorf("%s: no history although asked for", other.ID)
		}
	}
	audit, err := e.st.Audit(context.Background(), store.AuditQuery{Action: store.ActionRecommendationStatus, Limit: 10})
	if err != nil || len(audit.Entries) != 3 || audit.Entries[0].Object != "recommendation:"+id || audit.Entries[0].Actor != "ana" {
		t.Errorf("audit %+v %v", audit.Entries, err)
	}

	// The fleet views.
	type fleet struct {
		By, Assessed string
		Advisories   int `json:"advisories_loaded"`
		Total        int
		Next         *int
		CVEs         []struct {
			CVE      string
			CVSS     float64
			Affected []struct {
				Sensor string
				ID     int
			}
		}
		Devices []struct {
			Sensor                   string
			ID                       int
			Risk                     float64
			Advisories, CVEs, Active int
		}
		Advisory []struct {
			ID   string
			CVEs []string
		} `json:"advisories"`
	}
	f := decodeJSON[fleet](t, ro.do("GET", "/vulnerabilities", nil))
	if f.By != "cve" || f.Advisories != 1 || f.Total != 1 || f.Next != nil || len(f.CVEs) != 1 || f.CVEs[0].CVE != "CVE-2025-0001" ||
		f.CVEs[0].CVSS != 7.5 || len(f.CVEs[0].Affected) != 1 || f.CVEs[0].Affected[0].Sensor != "s1" || f.CVEs[0].Affected[0].ID != 2 {
		t.Errorf("by CVE: %+v", f)
	}
	f = decodeJSON[fleet](t, ro.do("GET", "/vulnerabilities?by=device&limit=1", nil))
	if f.By != "device" || f.Total != 3 || f.Next == nil || *f.Next != 1 || len(f.Devices) != 1 || f.Devices[0].ID != 2 ||
		f.Devices[0].Risk <= 0 || f.Devices[0].Advisories != 1 || f.Devices[0].CVEs != 1 || f.Devices[0].Active == 0 {
		t.Errorf("by device, first page: %+v", f)
	}
	f = decodeJSON[fleet](t, ro.do("GET", "/vulnerabilities?by=device&offset=1&limit=5", nil))
	if len(f.Devices) != 2 || f.Next != nil {
		t.Errorf("by device, second page: %+v", f)
	}
	f = decodeJSON[fleet](t, ro.do("GET", "/vulnerabilities?by=advisory", nil))
	if len(f.Advisory) != 1 || f.Advisory[0].ID != "TEST-2025-0001" || len(f.Advisory[0].CVEs) != 1 {
		t.Errorf("by advisory: %+v", f)
	}

	// Without advisories, the views are empty and say so.
	bare := New(e.st, e.au, Options{})
	e.h = bare
	f = decodeJSON[fleet](t, ro.do("GET", "/vulnerabilities", nil))
	if f.Advisories != 0 || f.Total != 0 || f.CVEs == nil {
		t.Errorf("without advisories: %+v", f)
	}
	if v := decodeJSON[vulnPage](t, ro.do("GET", "/devices/s1/2/vulnerabilities", nil)); v.Advisories != 0 || len(v.Vulns) != 0 {
		t.Errorf("the PLC's vulnerabilities without advisories: %+v", v)
	}
}

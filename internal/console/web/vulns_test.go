package web

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/recommend"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/testenv"
)

// testAdvisories loads the handwritten advisory TEST-2025-0315: the
// plant's Siemens CPU 315-2 PN/DP (10.10.2.11, V3.2.6) before V3.2.16.
func testAdvisories(t testing.TB) *csaf.Catalog {
	t.Helper()
	cat, errs := csaf.Load("testdata/advisory.json")
	if len(errs) > 0 || cat.Len() != 1 {
		t.Fatalf("loading the test advisory: %v", errs)
	}
	return cat
}

var (
	sharedOnce sync.Once
	sharedCat  *csaf.Catalog
	sharedErrs []error
)

// sharedAdvisories loads the CISA advisories of the shared reference data
// ($OTWATCH_DATA/csaf; OTWATCH_DATA defaults to ../shared/data next to the
// module root). Without them it returns nil, or fails the test in strict
// mode (OTWATCH_REQUIRE_ALL=1).
func sharedAdvisories(t testing.TB) *csaf.Catalog {
	t.Helper()
	dir := filepath.Join(testenv.DataDir(), "csaf")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		if testenv.Strict() {
			t.Fatalf("required component missing (OTWATCH_REQUIRE_ALL=1): CSAF advisories under %s (set OTWATCH_DATA)", dir)
		}
		t.Logf("no CSAF advisories under %s (set OTWATCH_DATA): the advisory steps are left out", dir)
		return nil
	}
	sharedOnce.Do(func() { sharedCat, sharedErrs = csaf.Load(dir) })
	for _, err := range sharedErrs {
		t.Logf("loading %s: %v", dir, err)
	}
	if sharedCat.Len() == 0 {
		t.Fatalf("no advisory could be loaded from %s", dir)
	}
	return sharedCat
}

var recRE = regexp.MustCompile(`<li data-rec="([0-9a-f-]{36})" data-status="([a-z_]+)">`)

// TestVulnerabilityPages checks the fleet's Vulnerabilities page, a
// device's Vulnerabilities tab and the inventory sorted by risk, with the
// handwritten advisory, and the empty states without advisories.
func TestVulnerabilityPages(t *testing.T) {
	cat := testAdvisories(t)
	e := newEnvWith(t, Options{Advisories: cat}, cat)
	u := e.as("rita")
	plc := deviceWithIP(t, e.f.plant, "10.10.2.11")
	devPath := devicePage(plc)

	body := u.get("/vulnerabilities").ok(t, "by CVE").body
	for _, want := range []string{`data-cve="CVE-2025-0315"`, `href="https://otwatch.example/advisories/test-2025-0315"`, `<span class="sev sev-medium" title="CVSS:3.1/AV:A`,
		`href="` + htmlText(devPath+"?from=%2Fvulnerabilities&tab=vulnerabilities") + `"`, `aria-current="page" data-tab="cve"`, "1 vendor advisories loaded"} {
		if !strings.Contains(body, want) {
			t.Errorf("the CVE view lacks %s", want)
		}
	}
	body = u.get("/vulnerabilities?by=advisory").ok(t, "by advisory").body
	if !strings.Contains(body, `data-advisory-row="TEST-2025-0315"`) || !strings.Contains(body, "CVE-2025-0315") || !strings.Contains(body, "2025-03-15") {
		t.Error("the advisory view lacks the advisory, its CVE or its date")
	}
	body = u.get("/vulnerabilities?by=device").ok(t, "by device").body
	rows := regexp.MustCompile(`<tr class="row" data-href="([^"]+)">\s*<td class="num">(?:<span class="sev [a-z-]+">)?([0-9.]+)`).FindAllStringSubmatch(body, -1)
	if len(rows) != len(e.f.plant.snap.Devices) {
		t.Errorf("the device view lists %d devices, the inventory has %d", len(rows), len(e.f.plant.snap.Devices))
	}
	var risks []float64
	found := false
	for _, r := range rows {
		v, _ := strconv.ParseFloat(r[2], 64)
		risks = append(risks, -v)
		found = found || strings.HasPrefix(r[1], htmlText(devPath+"?"))
	}
	if !slices.IsSorted(risks) || !found {
		t.Errorf("device view risks %v (sorted highest first?), PLC listed %v", risks, found)
	}
	for _, bad := range []string{"/vulnerabilities?by=colour", "/vulnerabilities?offset=-2", "/devices?sort=risk&offset=x"} {
		if res := u.get(bad); res.code != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, res.code)
		}
	}

	// The PLC's tab: the advisory with its CVE and score, and its risk.
	body = u.get(devPath+"?tab=vulnerabilities").ok(t, "device vulnerabilities").body
	for _, want := range []string{`data-advisory="TEST-2025-0315"`, "CVE-2025-0315", `<span class="sev sev-medium">6.5</span>`, "V3.2.16", `<p class="risk" data-risk="`} {
		if !strings.Contains(body, want) {
			t.Errorf("the PLC's Vulnerabilities tab lacks %s", want)
		}
	}
	// Crumbs back to the page a device was reached from.
	if body := u.get(devPath+"?from=%2Fvulnerabilities%3Fby%3Ddevice&tab=vulnerabilities").ok(t, "from").body; !strings.Contains(body, `<a href="/vulnerabilities?by=device">Vulnerabilities</a>`) {
		t.Error("a device reached from the Vulnerabilities page has no breadcrumb back to it")
	}

	// The inventory sorted by risk: highest first, the PLC's risk shown.
	body = u.get("/devices?sort=risk").ok(t, "devices by risk").body
	cells := regexp.MustCompile(`<td class="num risk">(?:<span class="sev [a-z-]+">([0-9.]+)</span>)?</td>`).FindAllStringSubmatch(body, -1)
	if len(cells) != len(e.f.plant.snap.Devices) {
		t.Fatalf("%d risk cells for %d devices", len(cells), len(e.f.plant.snap.Devices))
	}
	risks = nil
	for _, c := range cells {
		v, _ := strconv.ParseFloat(c[1], 64)
		risks = append(risks, -v)
	}
	if !slices.IsSorted(risks) || risks[0] == 0 {
		t.Errorf("devices by risk: %v", risks)
	}

	// Without advisories: the views say how to load them; risk comes
	// from what the sensor saw.
	bare := newEnv(t).as("rita")
	for _, p := range []string{"/vulnerabilities", "/vulnerabilities?by=advisory"} {
		if body := bare.get(p).ok(t, p).body; !strings.Contains(body, `id="vulns-empty"`) || !strings.Contains(body, "--advisories") {
			t.Errorf("%s without advisories has no empty state that says how to load them", p)
		}
	}
	if body := bare.get("/vulnerabilities?by=device").ok(t, "by device").body; !strings.Contains(body, "risk comes only from what the sensors saw") ||
		!strings.Contains(body, `data-view="device"`) {
		t.Error("the device view without advisories")
	}
	if body := bare.get(devPath+"?tab=vulnerabilities").ok(t, "tab").body; !strings.Contains(body, "OTWATCH_ADVISORIES") {
		t.Error("the Vulnerabilities tab without advisories does not say how to load them")
	}
}

// TestRecommendationStatus changes a recommendation's status by the form
// of the device's Recommendations tab: shown with who and why, kept in
// its history, audited, printed in the PDF; refused to read-only users,
// without the CSRF token, and when the lifecycle does not allow it.
func TestRecommendationStatus(t *testing.T) {
	cat := testAdvisories(t)
	e := newEnvWith(t, Options{Advisories: cat}, cat)
	ana, rita := e.as("ana"), e.as("rita")
	ctx := context.Background()
	plc := deviceWithIP(t, e.f.plant, "10.10.2.11")
	devPath := devicePage(plc)
	tab := devPath + "?tab=recommendations"

	body := ana.get(tab).ok(t, "recommendations").body
	recs := recRE.FindAllStringSubmatch(body, -1)
	if len(recs) < 2 {
		t.Fatalf("the PLC has %d recommendations", len(recs))
	}
	id := recs[0][1]
	action := devPath + "/recommendations/" + id + "/status"
	if !strings.Contains(body, `action="`+action+`"`) || !strings.Contains(body, `data-action="done"`) || !strings.Contains(body, `data-action="dismissed"`) {
		t.Fatal("the recommendation has no status form with Done and Dismiss")
	}
	if body := rita.get(tab).ok(t, "read-only").body; strings.Contains(body, `class="rec-form"`) {
		t.Error("a read-only user gets the status form")
	}

	statuses := func() map[string]store.RecommendationStatus {
		m, err := e.f.st.RecommendationStatuses(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, c := range []struct {
		name string
		u    *user
		form url.Values
		csrf bool
		code int
	}{
		{"read-only", rita, url.Values{"status": {"done"}}, true, http.StatusForbidden},
		{"no CSRF token", ana, url.Values{"status": {"done"}}, false, http.StatusForbidden},
		{"unknown status", ana, url.Values{"status": {"fixed"}}, true, http.StatusBadRequest},
		{"same status", ana, url.Values{"status": {"open"}}, true, http.StatusBadRequest},
		{"dismissed without reason", ana, url.Values{"status": {"dismissed"}}, true, http.StatusBadRequest},
		{"reason too long", ana, url.Values{"status": {"dismissed"}, "reason": {strings.Repeat("r", 1001)}}, true, http.StatusBadRequest},
	} {
		var res response
		if c.csrf {
			res = c.u.submit(action, c.form)
		} else {
			res = c.u.post(action, c.form)
		}
		if res.code != c.code {
			t.Errorf("%s: %d, want %d", c.name, res.code, c.code)
		}
	}
	if res := ana.submit(devPath+"/recommendations/00000000-0000-5000-8000-000000000000/status", url.Values{"status": {"done"}}); res.code != http.StatusNotFound {
		t.Errorf("an unknown recommendation: %d, want 404", res.code)
	}
	if m := statuses(); len(m) != 0 {
		t.Fatalf("refused changes stored %v", m)
	}

	res := ana.submit(action, url.Values{"status": {"done"}, "reason": {"updated to V3.2.16"}})
	if res.code != http.StatusSeeOther || res.header.Get("Location") != devPath+"?done=recstatus&tab=recommendations" {
		t.Fatalf("mark done: %d to %q", res.code, res.header.Get("Location"))
	}
	if s := statuses()[id]; s.Status != recommend.Done || s.Actor != "ana" || s.Reason != "updated to V3.2.16" || s.Device != plc.MAC {
		t.Errorf("stored %+v", s)
	}
	body = ana.get(tab+"&done=recstatus").ok(t, "after").body
	for _, want := range []string{htmlText(flashText["recstatus"]), `<li data-rec="` + id + `" data-status="done">`, "Set to done by ana", "updated to V3.2.16",
		"History (1)", `data-action="open"`} {
		if !strings.Contains(body, want) {
			t.Errorf("after marking done the tab lacks %q", want)
		}
	}
	if len(e.audited(store.ActionRecommendationStatus, "recommendation:"+id)) != 1 {
		t.Error("the change is not audited")
	}
	// The audit log links the change to its device.
	if body := ana.get("/audit?action=recommendation.status").ok(t, "audit").body; !strings.Contains(body, `href="/devices?device=`+url.QueryEscape(plc.MAC)+`"`) {
		t.Error("the audit log does not link the recommendation to its device")
	}

	// The PDF of an alert involving the PLC prints the status.
	var alertID string
	for _, a := range e.f.plant.alerts {
		if a.Destination.IP.String() == "10.10.2.11" || a.Source.IP.String() == "10.10.2.11" {
			alertID = a.ID
			break
		}
	}
	if alertID == "" {
		t.Fatal("no alert involves the PLC")
	}
	text := pdfText(t, ana.get("/alerts/"+alertID+"/report.pdf").ok(t, "pdf").body)
	if !strings.Contains(text, "[done]") || !strings.Contains(text, "Status: done, set by ana") || !strings.Contains(text, "updated to V3.2.16") ||
		!strings.Contains(text, "Status: open") {
		t.Errorf("the PDF does not print the recommendations' statuses:\n%s", text)
	}
}

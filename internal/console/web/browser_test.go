package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/testenv"
)

// artifactDir returns where a test keeps what it leaves for people to
// look at: $OTWATCH_ARTIFACTS/<test> when set, else a temporary
// directory.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("OTWATCH_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserRun drives one headless Chromium tab for a test.
type browserRun struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string
	downloads string
	shots     int
}

func newBrowser(t *testing.T, base string) *browserRun {
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Missing(t, "chromium (Debian package chromium), for the browser test")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.WindowSize(1600, 1000), chromedp.Flag("lang", "en-US"),
		// A page restored from the back-forward cache fires no load event
		// and leaves chromedp's copy of the DOM stale: Back must load the
		// page again for the test to go on from it.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,BackForwardCache"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	b := &browserRun{t: t, ctx: ctx, base: base, artifacts: artifactDir(t), downloads: t.TempDir()}
	b.do("start the browser", chromedp.Navigate("about:blank"))
	if _, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: b.downloads, EventsEnabled: new(true)}); err != nil {
		t.Fatalf("allowing downloads: %v", err)
	}
	return b
}

func (b *browserRun) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// load runs trigger (a click, a submit) and waits for the page it opens.
func (b *browserRun) load(what string, trigger chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, trigger)); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// back goes back in the tab's history, as the browser's Back button does,
// and waits until the page at path, restored or loaded again, is ready.
func (b *browserRun) back(path string) {
	b.t.Helper()
	b.do("go back", chromedp.Evaluate[chromedp.Void](`history.back()`))
	want := b.base + path
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// Evaluation fails while the page is replaced: try again.
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`location.href === `+strconv.Quote(want)+` && document.readyState === "complete"`))
		if err == nil && ok {
			return
		}
	}
	b.t.Fatalf("going back did not reach %s; the tab is at %s", path, b.location())
}

// open navigates to a path of the console.
func (b *browserRun) open(path string) {
	b.t.Helper()
	b.do("open "+path, chromedp.Navigate(b.base+path))
}

func (b *browserRun) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, b.base)
}

// eval evaluates a JavaScript expression of type T.
func eval[T any](b *browserRun, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func (b *browserRun) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// shot saves a screenshot of the whole page.
func (b *browserRun) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	b.shots++
	if err := os.WriteFile(filepath.Join(b.artifacts, fmt.Sprintf("%02d-%s.png", b.shots, name)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// download clicks sel and returns the path of the file the browser
// saved.
func (b *browserRun) download(sel string) string {
	b.t.Helper()
	progress := chromedp.Events(b.ctx, browser.DownloadProgress)
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("downloading with %s: %v", sel, err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			return filepath.Join(b.downloads, ev.GUID)
		case browser.DownloadProgressStateCanceled:
			b.t.Fatalf("download of %s cancelled", sel)
		}
	}
	b.t.Fatalf("download of %s did not finish", sel)
	return ""
}

// stderrOf returns a failed command's error with what it wrote to
// standard error.
func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return err.Error() + ": " + string(ee.Stderr)
	}
	return err.Error()
}

// severityRank orders severity names, most severe first.
func severityRank(name string) int {
	s, err := alert.ParseSeverity(name)
	if err != nil {
		return 0
	}
	return -int(s)
}

// TestBrowserWorkflow drives the console in headless Chromium through the
// whole investigation workflow on the simulated plant: log in, sort and
// filter the grid, open an alert's pane and page, follow a device link
// and its Alerts tab, come back, open the Map view and Event timeline,
// download the PCAP (tshark finds the triggering packet in it), export
// the PDF (pdftotext finds the title and the technique ids), Learn one
// alert and Close another, and find both in the grid and the audit log.
// With the shared CISA advisories (required in CI), it also reads the
// Rockwell PLC's vulnerabilities, marks one of its recommendations done,
// finds that in the audit log, and opens the fleet's Vulnerabilities page.
func TestBrowserWorkflow(t *testing.T) {
	tshark := testenv.Program(t, "tshark", "tshark")
	pdftotext := testenv.Program(t, "pdftotext", "poppler-utils")
	cat := sharedAdvisories(t)
	e := newEnvWith(t, Options{Advisories: cat}, cat)
	b := newBrowser(t, e.srv.URL)
	alerts := e.f.plant.alerts
	find := func(typ string) *alert.Alert {
		i := slices.IndexFunc(alerts, func(a *alert.Alert) bool { return a.Type == typ })
		if i < 0 {
			t.Fatalf("the simulated plant raised no %s alert", typ)
		}
		return alerts[i]
	}
	stop := find("s7comm.plc_stop")
	toLearn := find("policy.new_write")
	toClose := find("cip.firmware_update")

	// Log in: the grid sends the browser to the login page first.
	b.open("/alerts")
	if loc := b.location(); !strings.HasPrefix(loc, "/login?next=") {
		t.Fatalf("an anonymous visit to /alerts ended at %s, not the login page", loc)
	}
	b.shot("login")
	b.do("fill the login form", chromedp.SendKeys(chromedp.ID("name"), "ana"),
		chromedp.SendKeys(chromedp.ID("password"), fixtureUsers["ana"].pw))
	b.load("log in", chromedp.Submit(chromedp.ID("password")))
	if loc := b.location(); loc != "/alerts" {
		t.Fatalf("after login at %s, want /alerts", loc)
	}
	b.do("wait for the grid", chromedp.WaitVisible(chromedp.ID("alert-grid")))
	if n := eval[int](b, `document.querySelectorAll("#alert-grid tr.row").length`); n != len(alerts) {
		t.Errorf("the grid shows %d alerts, the sensor raised %d", n, len(alerts))
	}
	b.shot("alerts")

	// Sort by severity: most severe first.
	b.load("sort by severity", chromedp.Click(chromedp.CSS(`#alert-grid thead a[href*="sort=severity"]`)))
	sevs := eval[[]string](b, `Array.from(document.querySelectorAll("#alert-grid tr.row .sev")).map(e => e.textContent)`)
	if !slices.IsSortedFunc(sevs, func(a, b string) int { return severityRank(a) - severityRank(b) }) || len(sevs) != len(alerts) {
		t.Errorf("sorted by severity, the grid shows %v", sevs)
	}

	// Filter by sensor, then by severity.
	b.load("filter by sensor", chromedp.Click(chromedp.CSS(`fieldset[data-facet=sensor] input[value="`+fixtureSensor+`"]`)))
	b.load("filter by severity", chromedp.Click(chromedp.CSS(`fieldset[data-facet=severity] input[value="High"]`)))
	loc := b.location()
	if !strings.Contains(loc, "sensor="+fixtureSensor) || !strings.Contains(loc, "severity=High") || !strings.Contains(loc, "sort=severity") {
		t.Errorf("the filtered grid is at %s", loc)
	}
	wantHigh := 0
	for _, a := range alerts {
		if a.Severity == alert.High && a.Sensor == fixtureSensor {
			wantHigh++
		}
	}
	rows := eval[[][]string](b, `Array.from(document.querySelectorAll("#alert-grid tr.row")).map(r => [r.querySelector(".sev").textContent, r.querySelector(".sensor").textContent])`)
	if len(rows) != wantHigh {
		t.Errorf("the grid filtered on High alerts of %s shows %d rows, the sensor raised %d", fixtureSensor, len(rows), wantHigh)
	}
	for _, r := range rows {
		if r[0] != "High" || r[1] != fixtureSensor {
			t.Errorf("filtered grid row %v", r)
		}
	}
	b.shot("alerts-filtered")

	// Keyboard: j selects the first row, Enter opens its pane, Esc closes it.
	b.do("keys j, Enter", chromedp.KeyEvent("j"), chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.CSS("#pane [data-view-more]")))
	b.do("key Escape", chromedp.KeyEvent("\x1b"), chromedp.WaitNotVisible(chromedp.ID("pane")))

	// Select the PLC stop's row: the details pane opens.
	row := `#alert-grid tr.row[data-id="` + stop.ID + `"]`
	b.do("open the pane", chromedp.Click(chromedp.CSS(row+" td:nth-child(5)")),
		chromedp.WaitVisible(chromedp.CSS(`#pane [data-pane-for="`+stop.ID+`"] [data-view-more]`)))
	b.shot("details-pane")
	b.load("view more details", chromedp.Click(chromedp.CSS("#pane [data-view-more]")))
	if loc := b.location(); !strings.HasPrefix(loc, "/alerts/"+stop.ID) {
		t.Fatalf("View more details went to %s", loc)
	}
	alertPage := b.location()
	crumbs := b.text(".crumbs")
	if !strings.Contains(crumbs, "Alerts (filtered)") {
		t.Errorf("breadcrumbs %q do not show the filtered grid the alert was reached from", crumbs)
	}
	if h := b.text("h1"); h == "" || !strings.Contains(b.text(".alert-head .title"), stop.Title) {
		t.Errorf("alert page heading %q, title %q; want the alert's title %q", h, b.text(".alert-head .title"), stop.Title)
	}
	for _, tech := range stop.Techniques {
		b.do("technique "+tech, chromedp.WaitVisible(chromedp.CSS(`a[data-technique="`+tech+`"][href^="https://attack.mitre.org/"]`)))
	}
	b.shot("alert")

	// Follow the destination device, open its Alerts tab, come back.
	b.load("follow the device link", chromedp.Click(chromedp.CSS(`.card[data-role=destination] a[data-device-link]`)))
	if loc := b.location(); !strings.HasPrefix(loc, "/devices/"+fixtureSensor+"/") {
		t.Fatalf("the device link went to %s", loc)
	}
	ip := stop.Destination.IP.String()
	if props := b.text("table.props"); !strings.Contains(props, ip) {
		t.Errorf("the destination's device page does not show its address %s: %q", ip, props)
	}
	devicePage := b.location()
	b.shot("device")
	b.load("device alerts tab", chromedp.Click(chromedp.CSS(`a[data-tab=alerts]`)))
	b.do("the alert is among the device's", chromedp.WaitVisible(chromedp.CSS(`table.alerts-small a[href^="/alerts/`+stop.ID+`"]`)))
	b.shot("device-alerts")
	b.back(devicePage)
	b.back(alertPage)

	// Map view: the alert's two devices are highlighted; zooming changes
	// the view box.
	b.load("map view", chromedp.Click(chromedp.CSS(`a[data-tab=map]`)))
	b.do("map", chromedp.WaitVisible(chromedp.CSS("svg#devmap")))
	if n := eval[int](b, `document.querySelectorAll("svg#devmap .d.hl").length`); n != 2 {
		t.Errorf("the map highlights %d devices, want the alert's 2", n)
	}
	vb := eval[string](b, `document.querySelector("svg#devmap").getAttribute("viewBox")`)
	b.do("zoom in", chromedp.Click(chromedp.CSS(`[data-zoom=in]`)))
	if vb2 := eval[string](b, `document.querySelector("svg#devmap").getAttribute("viewBox")`); vb2 == vb {
		t.Errorf("zooming in left the view box at %s", vb)
	}
	b.shot("map-view")

	// Event timeline: the alert's own row among its devices' events.
	b.load("event timeline", chromedp.Click(chromedp.CSS(`a[data-tab=timeline]`)))
	b.do("timeline", chromedp.WaitVisible(chromedp.CSS("table.timeline tr.current")))
	b.shot("event-timeline")

	// Evidence decoded in the page; remember the triggering frames.
	b.load("evidence", chromedp.Click(chromedp.CSS(`a[data-tab=evidence]`)))
	b.do("evidence", chromedp.WaitVisible(chromedp.CSS("table.packets tr.trigger")))
	trigFrames := eval[[]string](b, `Array.from(document.querySelectorAll("table.packets tr.trigger")).map(r => r.dataset.frame)`)
	b.shot("evidence")

	// Download the PCAP: tshark finds the S7 PLC STOP (function 0x29) in
	// it, in the frames the page marked.
	pcap := b.download(`[data-action=pcap]`)
	out, err := exec.Command(tshark, "-r", pcap, "-Y", "s7comm.param.func == 0x29", "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark: %v", stderrOf(err))
	}
	frames := strings.Fields(string(out))
	if len(frames) == 0 {
		t.Fatalf("tshark finds no S7 PLC STOP in the downloaded capture")
	}
	slices.Sort(frames)
	slices.Sort(trigFrames)
	if !slices.Equal(frames, trigFrames) {
		t.Errorf("tshark finds the PLC STOP in frames %v, the Evidence tab marks %v", frames, trigFrames)
	}

	// Export the PDF: pdftotext finds the title and the technique ids.
	pdf := b.download(`[data-action=pdf]`)
	out, err = exec.Command(pdftotext, "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", stderrOf(err))
	}
	text := strings.Join(strings.Fields(string(out)), " ")
	if !strings.Contains(text, strings.Join(strings.Fields(stop.Title), " ")) {
		t.Errorf("the PDF does not hold the title %q", stop.Title)
	}
	for _, tech := range stop.Techniques {
		if !strings.Contains(text, tech) {
			t.Errorf("the PDF does not name technique %s", tech)
		}
	}

	// Learn one alert, close another.
	b.open("/alerts/" + toLearn.ID)
	if entry := b.text(".learn-entry"); !strings.Contains(entry, toLearn.Learn.String()) {
		t.Errorf("the Learn button says %q; the detector's entry is %q", entry, toLearn.Learn.String())
	}
	b.load("learn", chromedp.Click(chromedp.CSS(`button[data-action=learn]`)))
	if f := b.text(".flash"); !strings.Contains(f, "Learned") {
		t.Errorf("after Learn the page says %q", f)
	}
	b.shot("learned")
	b.open("/alerts/" + toClose.ID)
	b.load("close", chromedp.Click(chromedp.CSS(`button[data-action=close]`)))
	if s := b.text("[data-status]"); s != "Closed" {
		t.Errorf("after Close the alert's status is %q", s)
	}

	// Both are closed in the grid.
	b.open("/alerts?status=Closed")
	b.do("closed grid", chromedp.WaitVisible(chromedp.ID("alert-grid")))
	closed := eval[[]string](b, `Array.from(document.querySelectorAll("#alert-grid tr.row")).map(r => r.dataset.id + " " + r.querySelector(".status").textContent.trim())`)
	slices.Sort(closed)
	want := []string{toLearn.ID + " Closed", toClose.ID + " Closed"}
	slices.Sort(want)
	if !slices.Equal(closed, want) {
		t.Errorf("closed alerts in the grid: %v, want %v", closed, want)
	}
	b.shot("alerts-closed")

	// The Rockwell PLC (1756-L73, firmware 20.x) is affected by
	// ICSA-22-144-01 and ICSA-22-354-02: its Vulnerabilities tab names
	// them; one of its recommendations is marked done, which shows after
	// a reload and in the audit log.
	var recID string
	if cat != nil {
		plc := deviceWithIP(t, e.f.plant, "10.10.2.13")
		b.open("/devices/" + fixtureSensor + "/" + strconv.Itoa(int(plc.ID)) + "?tab=vulnerabilities")
		for _, id := range []string{"ICSA-22-144-01", "ICSA-22-354-02"} {
			b.do("advisory "+id, chromedp.WaitVisible(chromedp.CSS(`#device-vulns [data-advisory="`+id+`"]`)))
		}
		b.shot("device-vulnerabilities")
		b.load("recommendations tab", chromedp.Click(chromedp.CSS(`a[data-tab=recommendations]`)))
		recID = eval[string](b, `document.querySelector("#recs li[data-status=open]").dataset.rec`)
		rec := `#recs li[data-rec="` + recID + `"]`
		b.load("mark done", chromedp.Click(chromedp.CSS(rec+` button[data-action=done]`)))
		if f := b.text(".flash"); !strings.Contains(f, "Recommendation status changed") {
			t.Errorf("after Mark done the page says %q", f)
		}
		b.do("reload", chromedp.Reload())
		if st := b.text(rec + " [data-rec-status]"); st != "done" {
			t.Errorf("after a reload the recommendation's status is %q, want done", st)
		}
		if set := b.text(rec + " .rec-set"); !strings.Contains(set, "by ana") {
			t.Errorf("the recommendation does not say who marked it done: %q", set)
		}
		b.shot("device-recommendations")
	}

	// And in the audit log, by the user who did it.
	b.open("/audit")
	b.do("audit log", chromedp.WaitVisible(chromedp.ID("audit-log")))
	audit := eval[[]string](b, `Array.from(document.querySelectorAll("#audit-log tbody tr")).map(r => Array.from(r.cells).slice(1, 4).map(c => c.textContent.trim()).join(" "))`)
	if d := eval[string](b, `document.querySelector('#audit-log tr[data-action="alert.learn"] td:last-child').textContent`); !strings.Contains(d, toLearn.Learn.String()) {
		t.Errorf("the audit log records the learn as %q, without the entry %q", d, toLearn.Learn.String())
	}
	want = []string{"ana alert.learn alert:" + toLearn.ID, "ana alert.status alert:" + toClose.ID}
	if recID != "" {
		want = append(want, "ana recommendation.status recommendation:"+recID)
	}
	for _, w := range want {
		if !slices.Contains(audit, w) {
			t.Errorf("the audit log lacks %q; it has %q", w, audit)
		}
	}
	b.shot("audit-log")

	// The fleet's Vulnerabilities page: by CVE, the PLCs' CVEs; by device,
	// the PLCs first.
	b.open("/vulnerabilities")
	b.do("vulnerabilities", chromedp.WaitVisible(chromedp.ID("vulns")))
	if cat != nil {
		for _, cve := range []string{"CVE-2022-1797", "CVE-2022-3157", "CVE-2018-4843"} {
			b.do("CVE "+cve, chromedp.WaitVisible(chromedp.CSS(`#vuln-grid tr[data-cve="`+cve+`"]`)))
		}
	} else if n := eval[int](b, `document.querySelectorAll("#vulns-empty").length`); n != 1 {
		t.Error("without advisories the Vulnerabilities page has no empty state")
	}
	b.shot("vulnerabilities")
	b.load("by device", chromedp.Click(chromedp.CSS(`a[data-tab=device]`)))
	b.do("by device", chromedp.WaitVisible(chromedp.CSS(`#vuln-grid[data-view=device]`)))
	if cat != nil {
		top := eval[[]string](b, `Array.from(document.querySelectorAll("#vuln-grid tr.row")).slice(0, 2).map(r => r.querySelector(".name .small") ? r.querySelector(".name .small").textContent : r.querySelector(".name").textContent)`)
		slices.Sort(top)
		if !slices.Equal(top, []string{"10.10.2.11", "10.10.2.13"}) {
			t.Errorf("the highest risks are %v, want the two vulnerable PLCs", top)
		}
	}
	b.shot("vulnerabilities-by-device")

	// The other pages, for the record.
	for _, p := range []struct{ path, sel, name string }{
		{"/devices", "#device-grid", "devices"},
		{"/map", "svg#devmap", "device-map"},
		{"/events", "table.timeline", "events"},
		{"/sites", ".sites", "sites"},
	} {
		b.open(p.path)
		b.do(p.name, chromedp.WaitVisible(chromedp.CSS(p.sel)))
		b.shot(p.name)
	}
	if n := eval[int](b, `document.querySelectorAll("tr[data-sensor]").length`); n != 2 {
		t.Errorf("the sites page lists %d sensors, want 2", n)
	}
	t.Logf("screenshots in %s", b.artifacts)
}

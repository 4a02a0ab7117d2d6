package web

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/recommend"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/testenv"
)

// TestEvidenceDecode decodes every alert's stored capture and compares
// each packet's length, addresses and ports with what tshark reads from
// the same file, and the packets marked as the trigger of the PLC stop
// with the frames tshark finds the S7 PLC STOP function (0x29) in.
func TestEvidenceDecode(t *testing.T) {
	tshark := testenv.Program(t, "tshark", "tshark")
	f := newFixture(t)
	ctx := context.Background()
	checked := 0
	for _, a := range f.plant.alerts {
		b, err := f.st.Evidence(ctx, a.ID)
		if err != nil {
			if len(a.Packets) > 0 {
				t.Errorf("%s: %d packets kept but no evidence stored: %v", a.Type, len(a.Packets), err)
			}
			continue
		}
		rec, err := f.st.Alert(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := decodeEvidence(b, rec.Operation)
		if err != nil {
			t.Fatalf("%s: %v", a.Type, err)
		}
		path := filepath.Join(t.TempDir(), "evidence.pcapng")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tshark, "-r", path, "-T", "fields", "-E", "separator=;", "-e", "frame.number", "-e", "frame.len",
			"-e", "ip.src", "-e", "ip.dst", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport").Output()
		if err != nil {
			t.Fatalf("tshark: %v", stderrOf(err))
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) != len(rows) {
			t.Errorf("%s: %d packets decoded, tshark reads %d", a.Type, len(rows), len(lines))
			continue
		}
		for i, l := range lines {
			fl := strings.Split(l, ";")
			r := rows[i]
			if strconv.Itoa(r.No) != fl[0] || strconv.Itoa(r.Length) != fl[1] {
				t.Errorf("%s packet %d: number %d length %d, tshark %s %s", a.Type, i+1, r.No, r.Length, fl[0], fl[1])
			}
			if fl[2] == "" {
				continue
			}
			src, dst := fl[2], fl[3]
			if p := fl[4] + fl[6]; p != "" {
				src += ":" + p
				dst += ":" + fl[5] + fl[7]
			}
			if r.Src != src || r.Dst != dst {
				t.Errorf("%s packet %d: %s → %s, tshark %s → %s", a.Type, i+1, r.Src, r.Dst, src, dst)
			}
		}
		checked++
		if a.Type != "s7comm.plc_stop" {
			continue
		}
		out, err = exec.Command(tshark, "-r", path, "-Y", "s7comm.param.func == 0x29", "-T", "fields", "-e", "frame.number").Output()
		if err != nil {
			t.Fatalf("tshark: %v", stderrOf(err))
		}
		want := strings.Fields(string(out))
		var got []string
		for _, r := range rows {
			if r.Trigger {
				got = append(got, strconv.Itoa(r.No))
			}
		}
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("the trigger is marked on packets %v; tshark finds the PLC STOP in %v", got, want)
		}
	}
	if checked < 5 {
		t.Errorf("only %d alerts had evidence to check", checked)
	}
	// A file that is not a capture is an error, not a panic.
	if _, err := decodeEvidence([]byte("not a capture at all"), nil); err == nil {
		t.Error("decoding garbage as evidence gave no error")
	}
}

// TestAlertPDF exports every alert's PDF: pdftotext finds its title and
// its technique ids, and the export is audited.
func TestAlertPDF(t *testing.T) {
	testenv.Program(t, "pdftotext", "poppler-utils") // skip before building the console when it is missing
	e := newEnv(t)
	u := e.as("rita")
	for _, a := range e.f.plant.alerts {
		res := u.get("/alerts/"+a.ID+"/report.pdf").ok(t, a.Type)
		if ct := res.header.Get("Content-Type"); ct != "application/pdf" || !strings.Contains(res.header.Get("Content-Disposition"), "attachment") {
			t.Errorf("%s: %s, %s", a.Type, ct, res.header.Get("Content-Disposition"))
		}
		text := pdfText(t, res.body)
		if title := strings.Join(strings.Fields(a.Title), " "); !strings.Contains(text, title) {
			t.Errorf("%s: the PDF lacks the title %q", a.Type, title)
		}
		for _, tech := range a.Techniques {
			if !strings.Contains(text, tech) {
				t.Errorf("%s: the PDF lacks technique %s", a.Type, tech)
			}
		}
		if strings.Contains(text, "{src}") || strings.Contains(text, "{dst}") {
			t.Errorf("%s: the PDF shows template placeholders", a.Type)
		}
		if got := e.audited("alert.pdf", "alert:"+a.ID); len(got) != 1 || got[0].Actor != "rita" {
			t.Errorf("%s: PDF export audit %+v", a.Type, got)
		}
	}
}

var postFormRE = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)"[^>]*>(.*?)</form>`)

var deviceRowRE = regexp.MustCompile(`(?s)<tr class="row[^"]*" data-href="/devices/` + fixtureSensor + `/(\d+)\?[^"]*">.*?<td class="num">(\d+)</td></tr>`)

// TestDevicePages checks the inventory grid and a device's page against
// the inventory snapshot and the alerts of the simulated plant.
func TestDevicePages(t *testing.T) {
	e := newEnv(t)
	u := e.as("rita")
	snap := e.f.plant.snap
	body := u.get("/devices").ok(t, "devices").body
	rows := deviceRowRE.FindAllStringSubmatch(body, -1)
	if len(rows) != len(snap.Devices) {
		t.Fatalf("the grid lists %d devices, the inventory has %d", len(rows), len(snap.Devices))
	}
	for _, r := range rows {
		id, _ := strconv.Atoi(r[1])
		d := snap.Device(inventory.DeviceID(id))
		if d == nil {
			t.Fatalf("the grid lists device %d the inventory lacks", id)
		}
		want := 0
		for _, a := range e.f.plant.alerts {
			for _, addr := range deviceAddrs(d) {
				if involves(a, addr) {
					want++
					break
				}
			}
		}
		if r[2] != strconv.Itoa(want) {
			t.Errorf("device %s: %s alerts in the grid, %d involve it", deviceName(d), r[2], want)
		}
	}
	plcs := 0
	for _, d := range snap.Devices {
		if d.Type == inventory.TypePLC {
			plcs++
		}
	}
	if n := len(deviceRowRE.FindAllString(u.get("/devices?type=plc").ok(t, "plc").body, -1)); n != plcs {
		t.Errorf("filtered on PLCs the grid lists %d, the inventory has %d", n, plcs)
	}

	// The device of the PLC stop: properties, alerts, connections,
	// recommendations.
	stop := e.pick("s7comm.plc_stop")
	dev := deviceWithIP(t, e.f.plant, stop.Destination.IP.String())
	page := devicePage(dev)
	body = u.get(page).ok(t, "device").body
	for _, v := range []string{dev.Vendor, dev.Model, dev.Firmware, dev.MAC} {
		if v != "" && !strings.Contains(body, htmlText(v)) {
			t.Errorf("the device page lacks %q", v)
		}
	}
	for _, f := range dev.Facts {
		if !strings.Contains(body, "<td>"+htmlText(f.Source)+"</td>") {
			t.Errorf("the device page does not name the source %s of fact %s", f.Source, f.Key)
		}
	}
	body = u.get(page+"?tab=alerts").ok(t, "device alerts").body
	for _, a := range e.f.plant.alerts {
		if in := strings.Contains(body, `href="/alerts/`+a.ID+`?`); in != involves(a, stop.Destination.IP.String()) {
			t.Errorf("the device's Alerts tab lists %s: %v", a.Type, in)
		}
	}
	body = u.get(page+"?tab=connections").ok(t, "connections").body
	conns := 0
	for _, c := range snap.Connections {
		if c.Client == dev.ID || c.Server == dev.ID {
			conns++
		}
	}
	if n := strings.Count(body, `<tr><td><a href="/devices/`); n != conns {
		t.Errorf("the Connections tab lists %d, the inventory has %d", n, conns)
	}
	var devAlerts []*alert.Alert
	for _, a := range e.f.plant.alerts {
		if involves(a, stop.Destination.IP.String()) {
			devAlerts = append(devAlerts, a)
		}
	}
	recs := recommend.ForDevice(snap, dev, nil, devAlerts)
	body = u.get(page+"?tab=recommendations").ok(t, "recommendations").body
	if len(recs) == 0 && !strings.Contains(body, "No recommendation") {
		t.Error("no empty state without recommendations")
	}
	for _, r := range recs {
		if !strings.Contains(body, htmlText(r.Title)) {
			t.Errorf("the Recommendations tab lacks %q", r.Title)
		}
	}
	if body = u.get(page+"?tab=vulnerabilities").ok(t, "vulns").body; !strings.Contains(body, "No vendor advisories are loaded") {
		t.Error("the Vulnerabilities tab has no empty state without advisories")
	}
	u.get(page+"?tab=timeline").ok(t, "timeline")
}

// TestDeviceOverride sets and removes a device's overrides by form.
func TestDeviceOverride(t *testing.T) {
	e := newEnv(t)
	u := e.as("ana")
	dev := e.f.plant.snap.Devices[0]
	page := devicePage(&dev)
	res := u.submit(page+"/override", url.Values{"name": {"Boiler PLC"}, "type": {"plc"}, "purdue": {"1"}, "authorized": {"true"}})
	if res.code != http.StatusSeeOther {
		t.Fatalf("override: %d %s", res.code, clipBody(res.body))
	}
	ovs, err := e.f.st.Overrides(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	addr := dev.MAC
	if addr == "" {
		addr = dev.IPs[0]
	}
	if len(ovs) != 1 || ovs[0].Addr != addr || ovs[0].Name != "Boiler PLC" || ovs[0].Type != inventory.TypePLC ||
		ovs[0].Purdue == nil || *ovs[0].Purdue != 1 || ovs[0].Authorized == nil || !*ovs[0].Authorized || ovs[0].Actor != "ana" {
		t.Fatalf("overrides %+v", ovs)
	}
	if body := u.get(page).body; !strings.Contains(body, "Set by ana") || !strings.Contains(body, `value="Boiler PLC"`) {
		t.Error("the device page does not show its override")
	}
	u.submit(page+"/override/delete", nil)
	if ovs, _ := e.f.st.Overrides(context.Background()); len(ovs) != 0 {
		t.Errorf("overrides left after removal: %+v", ovs)
	}
	if n := len(e.audited("device.override", "")) + len(e.audited("device.override_delete", "")); n != 2 {
		t.Errorf("%d override changes audited, want 2", n)
	}
}

// TestSites creates, assigns, switches and deletes sites, zones and
// sensors by form, as an admin; an analyst may not.
func TestSites(t *testing.T) {
	e := newEnv(t)
	u := e.as("admin")
	ctx := context.Background()
	steps := []struct {
		path string
		form url.Values
	}{
		{"/sites", url.Values{"id": {"south"}, "name": {"South plant"}, "description": {"the new one"}}},
		{"/zones", url.Values{"id": {"s-cell"}, "site": {"south"}, "name": {"South cell"}, "subnets": {"10.40.1.0/24, 10.40.2.7/24"}}},
		{"/sensors", url.Values{"id": {"s9"}, "name": {"South sensor"}, "zone": {"s-cell"}}},
		{"/sensors/" + fixtureSensor + "/mode", url.Values{"mode": {"learning"}}},
	}
	for _, s := range steps {
		if res := u.submit(s.path, s.form); res.code != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/sites?done=") {
			t.Fatalf("POST %s: %d %s", s.path, res.code, clipBody(res.body))
		}
	}
	zones, _ := e.f.st.Zones(ctx, "south")
	if len(zones) != 1 || len(zones[0].Subnets) != 2 || zones[0].Subnets[1].String() != "10.40.2.0/24" {
		t.Errorf("zones of south: %+v", zones)
	}
	s9, err := e.f.st.Sensor(ctx, "s9")
	if err != nil || s9.Site != "south" || s9.Zone != "s-cell" || s9.Mode != store.ModeLearning || s9.Name != "South sensor" {
		t.Errorf("sensor s9: %+v %v", s9, err)
	}
	if pa, _ := e.f.st.Sensor(ctx, fixtureSensor); pa.Mode != store.ModeLearning {
		t.Errorf("the mode switch left %s %s", fixtureSensor, pa.Mode)
	}
	if body := u.get("/sites").ok(t, "sites").body; !strings.Contains(body, "South plant") || !strings.Contains(body, "10.40.1.0/24, 10.40.2.0/24") ||
		!strings.Contains(body, `<input type="hidden" name="mode" value="operational"><button type="submit" data-action="mode">Switch to operational`) {
		t.Error("the sites page does not show the changes")
	}
	if len(e.audited("sensor.mode", "sensor:"+fixtureSensor)) != 1 {
		t.Error("the mode switch is not audited")
	}
	ana := e.as("ana")
	if res := ana.submit("/sensors/s9/mode", url.Values{"mode": {"operational"}}); res.code != http.StatusForbidden {
		t.Errorf("an analyst switching a sensor's mode: %d, want 403", res.code)
	}
	for _, p := range []string{"/sensors/s9/delete", "/zones/s-cell/delete", "/sites/south/delete"} {
		if res := u.submit(p, nil); res.code != http.StatusSeeOther {
			t.Errorf("POST %s: %d %s", p, res.code, clipBody(res.body))
		}
	}
	if sites, _ := e.f.st.Sites(ctx); len(sites) != 1 {
		t.Errorf("sites after deleting south: %+v", sites)
	}
}

// TestEventsPage filters the timeline and compares with the inventory's
// events.
func TestEventsPage(t *testing.T) {
	e := newEnv(t)
	u := e.as("rita")
	evs := e.f.plant.events
	addr := e.pick("s7comm.plc_stop").Destination.IP.String()
	tests := []struct {
		query string
		keep  func(ev store.Event) bool
	}{
		{"", func(store.Event) bool { return true }},
		{"type=new_device", func(ev store.Event) bool { return ev.Type == "new_device" }},
		{"type=new_device&type=new_connection", func(ev store.Event) bool { return ev.Type == "new_device" || ev.Type == "new_connection" }},
		{"sensor=spare", func(store.Event) bool { return false }},
		{"device=" + addr, func(ev store.Event) bool { return ev.Device == addr || ev.Peer == addr }},
	}
	for _, tc := range tests {
		body := u.get("/events?"+tc.query).ok(t, tc.query).body
		want := 0
		for _, ev := range evs {
			if tc.keep(ev) {
				want++
			}
		}
		if got := strings.Count(body, `<tr class="event">`); got != min(want, 100) {
			t.Errorf("?%s: %d events, the inventory made %d", tc.query, got, want)
		}
	}
}

// TestPageSafety checks every page's headers and markup: a content
// security policy, no inline script, style or event handler, and the
// static files with their types.
func TestPageSafety(t *testing.T) {
	e := newEnv(t)
	u := e.as("admin")
	a := e.pick("s7comm.plc_stop")
	inline := regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]|<script>|\sstyle=|\son[a-z]+=|javascript:`)
	for _, p := range []string{"/alerts", "/alerts?group=severity", "/alerts/" + a.ID, "/alerts/" + a.ID + "?tab=map", "/alerts/" + a.ID + "?tab=timeline",
		"/alerts/" + a.ID + "?tab=evidence", "/alerts/" + a.ID + "/pane", "/devices", "/devices/" + fixtureSensor + "/1", "/map", "/events", "/sites", "/audit",
		"/devices?sort=risk", "/devices/" + fixtureSensor + "/8?tab=recommendations", "/devices/" + fixtureSensor + "/8?tab=vulnerabilities",
		"/vulnerabilities", "/vulnerabilities?by=device", "/vulnerabilities?by=advisory"} {
		res := u.get(p).ok(t, p)
		if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if res.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", p, res.header.Get("Cache-Control"))
		}
		if m := inline.FindString(res.body); m != "" {
			t.Errorf("%s: inline code %q", p, m)
		}
		for _, f := range postFormRE.FindAllStringSubmatch(res.body, -1) {
			if !strings.Contains(f[2], `<input type="hidden" name="csrf_token" value="`+u.csrf+`">`) {
				t.Errorf("%s: the form posting to %s lacks the CSRF token", p, f[1])
			}
		}
	}
	login := e.anon().get("/login").ok(t, "login")
	if m := inline.FindString(login.body); m != "" {
		t.Errorf("login: inline code %q", m)
	}
	for file, ctype := range map[string]string{"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8", "devmap.css": "text/css; charset=utf-8"} {
		res := e.anon().get("/static/"+file).ok(t, file)
		if res.header.Get("Content-Type") != ctype || len(res.body) < 100 {
			t.Errorf("/static/%s: %s, %d bytes", file, res.header.Get("Content-Type"), len(res.body))
		}
	}
}

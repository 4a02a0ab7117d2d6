package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

var (
	gridRowRE  = regexp.MustCompile(`<tr class="row" data-id="([^"]+)"`)
	facetRE    = regexp.MustCompile(`(?s)<fieldset class="facet" data-facet="([a-z]+)">(.*?)</fieldset>`)
	facetValRE = regexp.MustCompile(`(?s)value="([^"]*)"[^>]*> <span class="fv">[^<]*</span> <span class="count">(\d+)</span>`)
	groupRE    = regexp.MustCompile(`<tr class="group-head"><th colspan="15" scope="rowgroup"><a href="[^"]*">([^<]+)</a> <span class="count">(\d+)</span>`)
)

// gridIDs returns the alert ids of a grid page, in order.
func gridIDs(body string) []string {
	var out []string
	for _, m := range gridRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// byID indexes the plant's alerts.
func byID(alerts []*alert.Alert) map[string]*alert.Alert {
	m := map[string]*alert.Alert{}
	for _, a := range alerts {
		m[a.ID] = a
	}
	return m
}

// involves reports whether addr is the source or destination of a.
func involves(a *alert.Alert, addr string) bool {
	return addr != "" && store.PartyKey(a.Source) == addr || addr != "" && store.PartyKey(a.Destination) == addr
}

// TestAlertGridFilters checks the grid's filters against the alerts the
// detector raised on the simulated plant, filtered here by hand.
func TestAlertGridFilters(t *testing.T) {
	e := newEnv(t)
	u := e.as("rita")
	alerts := e.f.plant.alerts
	times := make([]time.Time, len(alerts))
	for i, a := range alerts {
		times[i] = a.LastDetection
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	mid := times[len(times)/2]
	src := alerts[0].Source.IP.String()
	tests := []struct {
		name  string
		query string
		keep  func(a *alert.Alert) bool
	}{
		{"all", "", func(*alert.Alert) bool { return true }},
		{"severity", "severity=High", func(a *alert.Alert) bool { return a.Severity == alert.High }},
		{"severities", "severity=Critical&severity=Medium", func(a *alert.Alert) bool { return a.Severity == alert.Critical || a.Severity == alert.Medium }},
		{"sensor and severity", "sensor=" + fixtureSensor + "&severity=High", func(a *alert.Alert) bool { return a.Sensor == fixtureSensor && a.Severity == alert.High }},
		{"other sensor", "sensor=spare", func(a *alert.Alert) bool { return false }},
		{"engine by name", "engine=Policy+violation", func(a *alert.Alert) bool { return a.Engine == alert.Policy }},
		{"engine by key", "engine=operational", func(a *alert.Alert) bool { return a.Engine == alert.Operational }},
		{"status", "status=New", func(a *alert.Alert) bool { return true }},
		{"category", "category=Restart%2FStop+command", func(a *alert.Alert) bool { return a.Category == "Restart/Stop command" }},
		{"protocol", "protocol=s7comm", func(a *alert.Alert) bool { return a.Protocol == "s7comm" }},
		{"site and zone", "site=north&zone=cell-1", func(a *alert.Alert) bool { return a.Site == "north" && a.Zone == "cell-1" }},
		{"device", "device=" + src, func(a *alert.Alert) bool { return involves(a, src) }},
		{"text", "q=" + url.QueryEscape(src), func(a *alert.Alert) bool { return involves(a, src) }},
		{"from", "from=" + url.QueryEscape(mid.Format(time.RFC3339Nano)), func(a *alert.Alert) bool { return !a.LastDetection.Before(mid) }},
		{"until", "until=" + url.QueryEscape(mid.Format(time.RFC3339Nano)), func(a *alert.Alert) bool { return a.LastDetection.Before(mid) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := u.get("/alerts?"+tc.query).ok(t, tc.query).body
			got := gridIDs(body)
			var want []string
			for _, a := range alerts {
				if tc.keep(a) {
					want = append(want, a.ID)
				}
			}
			gs, ws := slices.Clone(got), slices.Clone(want)
			slices.Sort(gs)
			slices.Sort(ws)
			if !slices.Equal(gs, ws) {
				t.Errorf("?%s: grid shows %d alerts %v, want %d %v", tc.query, len(got), got, len(want), want)
			}
			if !strings.Contains(body, "<strong>"+strconv.Itoa(len(want))+"</strong> alert") {
				t.Errorf("?%s: the total does not say %d", tc.query, len(want))
			}
		})
	}
}

// TestAlertGridOrderAndFacets checks the sort orders, the facet counts
// and the grouping against the detector's alerts.
func TestAlertGridOrderAndFacets(t *testing.T) {
	e := newEnv(t)
	u := e.as("ana")
	all := byID(e.f.plant.alerts)
	orders := []struct {
		query string
		less  func(a, b *alert.Alert) bool // a must not come after b
	}{
		{"", func(a, b *alert.Alert) bool { return !a.LastDetection.Before(b.LastDetection) }},
		{"sort=severity", func(a, b *alert.Alert) bool {
			return a.Severity > b.Severity || a.Severity == b.Severity && !a.LastDetection.Before(b.LastDetection)
		}},
		{"sort=first_detection", func(a, b *alert.Alert) bool { return !a.FirstDetection.Before(b.FirstDetection) }},
		{"sort=first_detection&order=asc", func(a, b *alert.Alert) bool { return !a.FirstDetection.After(b.FirstDetection) }},
		{"sort=last_detection&order=asc", func(a, b *alert.Alert) bool { return !a.LastDetection.After(b.LastDetection) }},
	}
	for _, o := range orders {
		ids := gridIDs(u.get("/alerts?"+o.query).ok(t, o.query).body)
		if len(ids) != len(all) {
			t.Fatalf("?%s: %d rows, want %d", o.query, len(ids), len(all))
		}
		for i := 1; i < len(ids); i++ {
			if !o.less(all[ids[i-1]], all[ids[i]]) {
				t.Errorf("?%s: row %d (%s) comes before row %d (%s) out of order", o.query, i-1, all[ids[i-1]].Type, i, all[ids[i]].Type)
			}
		}
	}

	// Facets: each value's count is the number of alerts with it, ignoring
	// the filter on its own dimension.
	body := u.get("/alerts?severity=High").ok(t, "facets").body
	want := map[string]map[string]int{}
	add := func(dim, v string) {
		if v == "" {
			return // no filter can choose "none"
		}
		if want[dim] == nil {
			want[dim] = map[string]int{}
		}
		want[dim][v]++
	}
	for _, a := range e.f.plant.alerts {
		add("severity", a.Severity.String())
		if a.Severity == alert.High {
			add("engine", a.Engine.String())
			add("protocol", a.Protocol)
			add("sensor", a.Sensor)
			add("type", a.Type)
		}
	}
	facets := facetRE.FindAllStringSubmatch(body, -1)
	if len(facets) != len(store.Dims) {
		t.Fatalf("%d facet groups, want %d", len(facets), len(store.Dims))
	}
	for _, f := range facets {
		w, ok := want[f[1]]
		if !ok {
			continue
		}
		got := map[string]int{}
		for _, v := range facetValRE.FindAllStringSubmatch(f[2], -1) {
			n, _ := strconv.Atoi(v[2])
			got[v[1]] = n
		}
		for k, n := range w {
			if got[k] != n {
				t.Errorf("facet %s=%q counts %d, want %d", f[1], k, got[k], n)
			}
		}
		if len(got) != len(w) {
			t.Errorf("facet %s has values %v, want %v", f[1], got, w)
		}
	}

	// Grouping by engine: one group per engine, with its count.
	body = u.get("/alerts?group=engine").ok(t, "group").body
	engines := map[string]int{}
	for _, a := range e.f.plant.alerts {
		engines[a.Engine.String()]++
	}
	groups := groupRE.FindAllStringSubmatch(body, -1)
	if len(groups) != len(engines) {
		t.Errorf("%d groups, want %d engines", len(groups), len(engines))
	}
	for _, g := range groups {
		if n, _ := strconv.Atoi(g[2]); engines[g[1]] != n {
			t.Errorf("group %s counts %s, want %d", g[1], g[2], engines[g[1]])
		}
	}
	if len(gridIDs(body)) != len(all) {
		t.Errorf("grouped grid shows %d rows, want %d", len(gridIDs(body)), len(all))
	}

	// The CSV export link keeps the filter.
	body = u.get("/alerts?severity=High&sensor=" + fixtureSensor + "&sort=severity").body
	m := regexp.MustCompile(`href="(/api/v1/alerts/export\.csv\?[^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSV export link")
	}
	link := strings.ReplaceAll(m[1], "&amp;", "&")
	csv := u.get(link)
	if csv.code != http.StatusOK || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV export %s: %d %s", link, csv.code, csv.header.Get("Content-Type"))
	}
	high := 0
	for _, a := range e.f.plant.alerts {
		if a.Severity == alert.High {
			high++
		}
	}
	if lines := strings.Count(strings.TrimSpace(csv.body), "\n"); lines != high {
		t.Errorf("CSV export has %d rows, want the %d High alerts", lines, high)
	}
}

// TestAlertGridPages walks the Next links of a grid holding more alerts
// than a page.
func TestAlertGridPages(t *testing.T) {
	e := newEnv(t)
	extra := synthAlerts(130, 7)
	if err := e.f.st.PutAlerts(context.Background(), extra); err != nil {
		t.Fatal(err)
	}
	u := e.as("rita")
	seen := map[string]bool{}
	path := "/alerts?sensor=synth-0&sensor=synth-1&sensor=synth-2&sensor=synth-3&sensor=synth-4&sensor=synth-5&sensor=synth-6&sort=severity"
	pages := 0
	for path != "" {
		pages++
		body := u.get(path).ok(t, path).body
		for _, id := range gridIDs(body) {
			if seen[id] {
				t.Fatalf("alert %s on two pages", id)
			}
			seen[id] = true
		}
		m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(body)
		path = ""
		if m != nil {
			path = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		if pages > 10 {
			t.Fatal("too many pages")
		}
	}
	if len(seen) != len(extra) || pages != 3 {
		t.Errorf("%d alerts on %d pages, want %d on 3", len(seen), pages, len(extra))
	}
}

// TestAlertPage checks the details page, its pane and tabs against the
// alert the detector raised.
func TestAlertPage(t *testing.T) {
	e := newEnv(t)
	u := e.as("rita")
	for _, a := range e.f.plant.alerts {
		from := "/alerts?severity=" + a.Severity.String()
		base := "/alerts/" + a.ID + "?from=" + url.QueryEscape(from)
		body := u.get(base).ok(t, a.Type).body
		for _, want := range append([]string{htmlText(a.Title), `<a href="` + htmlText(from) + `">Alerts (filtered)</a>`, a.Engine.String(), htmlText(a.Category)}, a.Techniques...) {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the page lacks %q", a.Type, want)
			}
		}
		for _, tech := range a.Techniques {
			if !strings.Contains(body, `href="https://attack.mitre.org/techniques/`+tech+`"`) {
				t.Errorf("%s: no link to ATT&CK technique %s", a.Type, tech)
			}
		}
		for _, step := range a.Remediation {
			step = alert.Expand(step, a.Source, a.Destination, a.Protocol, "")
			if !strings.Contains(body, htmlText(step)) {
				t.Errorf("%s: remediation step %q missing", a.Type, step)
			}
		}
		if a.Operation != nil && a.Operation.FunctionName != "" && !strings.Contains(body, htmlText(a.Operation.FunctionName)) {
			t.Errorf("%s: the triggering operation %s is not shown", a.Type, a.Operation.FunctionName)
		}
		if strings.Contains(body, `method="post" action="/alerts/`) {
			t.Errorf("%s: a read-only user sees action forms", a.Type)
		}
		if len(a.Packets) > 0 && !strings.Contains(body, `href="/api/v1/alerts/`+a.ID+`/pcap"`) {
			t.Errorf("%s: no PCAP download", a.Type)
		}
		for _, tab := range []string{"map", "timeline", "evidence"} {
			u.get(base+"&tab="+tab).ok(t, a.Type+" "+tab)
		}
		pane := u.get("/alerts/"+a.ID+"/pane?from="+url.QueryEscape(from)).ok(t, "pane").body
		if !strings.Contains(pane, `href="/alerts/`+a.ID+`?from=`+url.QueryEscape(from)) || !strings.Contains(pane, "View more details") {
			t.Errorf("%s: the pane has no View more details link back to the grid", a.Type)
		}
	}
}

// htmlText escapes s as html/template writes text.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

// TestAlertMapAndTimeline checks that the map view highlights the alert's
// devices and the timeline shows its devices' events.
func TestAlertMapAndTimeline(t *testing.T) {
	e := newEnv(t)
	u := e.as("rita")
	for _, a := range e.f.plant.alerts {
		body := u.get("/alerts/"+a.ID+"?tab=map").ok(t, "map").body
		want := 0
		for _, p := range []alert.Party{a.Source, a.Destination} {
			if deviceIn(e.f.plant, store.PartyKey(p)) {
				want++
			}
		}
		if got := len(regexp.MustCompile(`<g id="d\d+" class="d [a-z]+ hl"`).FindAllString(body, -1)); got != want {
			t.Errorf("%s: the map highlights %d devices, want %d", a.Type, got, want)
		}
		body = u.get("/alerts/"+a.ID+"?tab=timeline").ok(t, "timeline").body
		if !strings.Contains(body, `<tr class="current alert">`) {
			t.Errorf("%s: the timeline does not show the alert itself", a.Type)
		}
		lo, hi := a.FirstDetection.Add(-timelineWindow), a.LastDetection.Add(timelineWindow)
		n := 0
		for _, ev := range e.f.plant.events {
			if (involves(a, ev.Device) || involves(a, ev.Peer)) && !ev.Time.Before(lo) && !ev.Time.After(hi) {
				n++
			}
		}
		if got := strings.Count(body, `<tr class="event">`); got != n {
			t.Errorf("%s: the timeline shows %d events of its devices, the inventory made %d", a.Type, got, n)
		}
	}
}

// deviceIn reports whether the plant's inventory has a device at addr.
func deviceIn(p *plant, addr string) bool {
	for i := range p.snap.Devices {
		if slices.Contains(deviceAddrs(&p.snap.Devices[i]), addr) {
			return true
		}
	}
	return false
}

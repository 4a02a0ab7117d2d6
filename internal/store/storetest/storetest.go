package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

// OpenFunc opens an empty store with opts for one test or benchmark; the
// store is closed by the suite (a Cleanup that closes it again must be
// harmless).
type OpenFunc func(tb testing.TB, opts store.Options) store.Store

// subtest is one test of the suite.
type subtest struct {
	name string
	fn   func(t *testing.T, open OpenFunc)
}

// suite lists the conformance subtests, in the order Run runs them.
var suite = []subtest{
	{"AlertRoundTrip", testAlertRoundTrip},
	{"AlertIdempotent", testAlertIdempotent},
	{"AlertBadInput", testAlertBadInput},
	{"AlertFilters", testAlertFilters},
	{"AlertPagination", testAlertPagination},
	{"AlertFacets", testAlertFacets},
	{"AlertInvalidQuery", testAlertInvalidQuery},
	{"RelatedAlerts", testRelatedAlerts},
	{"Events", testEvents},
	{"RelatedEvents", testRelatedEvents},
	{"Transitions", testTransitions},
	{"SetStatusAtomic", testSetStatusAtomic},
	{"BulkSetStatus", testBulkSetStatus},
	{"SetSeverity", testSetSeverity},
	{"BulkSetSeverity", testBulkSetSeverity},
	{"Learn", testLearn},
	{"Mute", testMute},
	{"Comments", testComments},
	{"Exclusions", testExclusions},
	{"Suppressor", testSuppressor},
	{"Evidence", testEvidence},
	{"EvidenceRetention", testEvidenceRetention},
	{"Devices", testDevices},
	{"DeviceIDs", testDeviceIDs},
	{"DeviceIDsConcurrent", testDeviceIDsConcurrent},
	{"RekeyDevices", testRekeyDevices},
	{"Baseline", testBaseline},
	{"Overrides", testOverrides},
	{"SitesZonesSensors", testSitesZonesSensors},
	{"Users", testUsers},
	{"RecommendationStatus", testRecommendationStatus},
	{"Sessions", testSessions},
	{"Tokens", testTokens},
	{"Audit", testAudit},
	{"Closed", testClosed},
}

// Run runs the conformance suite against the stores open makes. Each
// subtest opens its own empty store.
func Run(t *testing.T, open OpenFunc) {
	for _, tt := range suite {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// clock is a settable time source for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// openStore opens a store with a test clock and a private evidence
// directory, and closes it when the test ends.
func openStore(t *testing.T, open OpenFunc, opts store.Options) (store.Store, *clock) {
	t.Helper()
	c := &clock{t: base.Add(30 * 24 * time.Hour)}
	if opts.Now == nil {
		opts.Now = c.now
	}
	if opts.EvidenceDir == "" {
		opts.EvidenceDir = t.TempDir()
	}
	s := open(t, opts)
	t.Cleanup(func() { s.Close() })
	return s, c
}

// loaded opens a store holding n fixture alerts.
func loaded(t *testing.T, open OpenFunc, n int) (store.Store, []*alert.Alert) {
	t.Helper()
	s, _ := openStore(t, open, store.Options{})
	all := fixtureAlerts(n)
	if err := s.PutAlerts(context.Background(), all); err != nil {
		t.Fatalf("PutAlerts: %v", err)
	}
	return s, all
}

func ids(recs []*store.AlertRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

// allPages follows the cursor to the end and returns every id.
func allPages(t *testing.T, s store.Store, q store.AlertQuery) []string {
	t.Helper()
	var out []string
	for page := 0; ; page++ {
		p, err := s.Alerts(context.Background(), q)
		if err != nil {
			t.Fatalf("Alerts(%+v): %v", q, err)
		}
		out = append(out, ids(p.Alerts)...)
		if p.Next == "" {
			return out
		}
		if page > 1000 {
			t.Fatal("more than 1000 pages")
		}
		q.Cursor = p.Next
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func testAlertRoundTrip(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 40)
	ctx := context.Background()
	for _, want := range all {
		got, err := s.Alert(ctx, want.ID)
		if err != nil {
			t.Fatalf("Alert(%s): %v", want.ID, err)
		}
		if g, w := jsonOf(got.Alert), jsonOf(want); g != w {
			t.Errorf("Alert(%s) =\n%s\nwant\n%s", want.ID, g, w)
		}
		if got.Muted || got.Pcap != nil {
			t.Errorf("Alert(%s): muted %v, pcap %v; want neither", want.ID, got.Muted, got.Pcap)
		}
	}
	_, err := s.Alert(ctx, "no-such-alert")
	wantErr(t, "Alert(unknown)", err, store.ErrNotFound)

	// An alert put without a status is stored as New, in its row and in
	// the copy read back.
	fresh := clone(all[0])
	fresh.ID, fresh.Status = "00000000-0000-5000-8000-000000000001", 0
	if err := s.PutAlerts(ctx, []*alert.Alert{fresh}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Alert(ctx, fresh.ID)
	if err != nil || got.Alert.Status != alert.New {
		t.Errorf("alert put with no status: %v, %v; want it New", got, err)
	}
}

func testAlertIdempotent(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 60)
	ctx := context.Background()
	// A person's decision must survive re-ingest.
	if err := s.SetStatus(ctx, []string{all[1].ID}, alert.Active, "ana", ""); err != nil {
		t.Fatal(err)
	}
	// Re-ingest: once unchanged, once with a recurrence, once an older copy.
	again := make([]*alert.Alert, len(all))
	for i, a := range all {
		again[i] = clone(a)
	}
	if err := s.PutAlerts(ctx, again); err != nil {
		t.Fatal(err)
	}
	newer := clone(all[1])
	newer.LastDetection = newer.LastDetection.Add(time.Hour)
	newer.Count += 10
	newer.Title = "recurred"
	newer.Status = alert.New
	older := clone(all[2])
	older.LastDetection = older.FirstDetection
	older.Count = 1
	older.Title = "stale copy"
	if err := s.PutAlerts(ctx, []*alert.Alert{newer, older}); err != nil {
		t.Fatal(err)
	}
	f, err := s.AlertFacets(ctx, store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Total != int64(len(all)) {
		t.Errorf("after re-ingest: %d alerts, want %d", f.Total, len(all))
	}
	if got := allPages(t, s, store.AlertQuery{Limit: 17}); len(got) != len(all) {
		t.Errorf("after re-ingest: %d alerts listed, want %d", len(got), len(all))
	}
	g1, err := s.Alert(ctx, all[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if g1.Count != newer.Count || !g1.LastDetection.Equal(newer.LastDetection) || g1.Title != "recurred" || g1.Status != alert.Active {
		t.Errorf("recurrence: count %d last %v title %q status %v; want %d %v %q Active",
			g1.Count, g1.LastDetection, g1.Title, g1.Status, newer.Count, newer.LastDetection, "recurred")
	}
	g2, err := s.Alert(ctx, all[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	if g2.Count != all[2].Count || !g2.LastDetection.Equal(all[2].LastDetection) || g2.Title != all[2].Title {
		t.Errorf("older copy changed the alert: count %d last %v title %q", g2.Count, g2.LastDetection, g2.Title)
	}
	// The facet counts follow the stored status, not the re-ingested one.
	f, _ = s.AlertFacets(ctx, store.AlertQuery{})
	all[1].Status = alert.Active
	_, want := expectFacets(all, store.AlertQuery{})
	checkFacets(t, "after re-ingest", f, want)
	checkCounters(t, "after re-ingest", s)
}

func testAlertBadInput(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	good := fixtureAlerts(3)
	bad := []func(a *alert.Alert){
		func(a *alert.Alert) { a.ID = "" },
		func(a *alert.Alert) { a.Type = "" },
		func(a *alert.Alert) { a.Severity = 9 },
		func(a *alert.Alert) { a.Engine = 0 },
		func(a *alert.Alert) { a.Status = 7 },
		func(a *alert.Alert) { a.FirstDetection = time.Time{} },
		func(a *alert.Alert) { a.LastDetection = a.FirstDetection.Add(-time.Hour) },
	}
	for i, mut := range bad {
		b := clone(good[2])
		mut(b)
		err := s.PutAlerts(ctx, []*alert.Alert{good[0], good[1], b})
		wantErr(t, fmt.Sprintf("bad alert %d", i), err, store.ErrInvalid)
	}
	wantErr(t, "nil alert", s.PutAlerts(ctx, []*alert.Alert{nil}), store.ErrInvalid)
	f, err := s.AlertFacets(ctx, store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Total != 0 {
		t.Errorf("a batch with a bad alert stored %d alerts, want none", f.Total)
	}
	if err := s.PutAlerts(ctx, nil); err != nil {
		t.Errorf("PutAlerts(nil): %v", err)
	}
}

// alertQueries are the filters the suite checks against the oracle.
func alertQueries(all []*alert.Alert) []store.AlertQuery {
	mid := all[len(all)/2].LastDetection
	return []store.AlertQuery{
		{},
		{Sensors: []string{"s2"}},
		{Sensors: []string{"s1", "s3"}},
		{Sites: []string{"plant-b"}},
		{Zones: []string{"a-cell2"}},
		{Severities: []alert.Severity{alert.Critical}},
		{Severities: []alert.Severity{alert.High, alert.Low}},
		{Statuses: []alert.Status{alert.New}},
		{Statuses: []alert.Status{alert.Active, alert.Closed}},
		{Engines: []alert.Engine{alert.Operational}},
		{Categories: []string{"Scan"}},
		{Protocols: []string{"modbus"}},
		{Protocols: []string{""}}, // alerts of no protocol
		{Types: []string{"fw.change"}},
		{Devices: []string{"10.1.0.3"}},
		{Devices: []string{"10.1.1.9", "00-1B-1B-6E-42-A9"}},
		{Devices: []string{"::ffff:10.1.0.3"}},
		{From: mid},
		{Until: mid},
		{From: all[10].FirstDetection, Until: all[30].FirstDetection},
		{Text: "plc-4"},
		{Text: "REST"},
		{Text: "stop command"},
		{Text: "10.1.0.5"},
		{Text: "10.1.1"},
		{Text: "s7"},
		{Text: "00:1b:1b"},
		{Text: "plant-b"},
		{Text: "modbus 10.1.0.3"},
		{Text: "nothing-matches-this"},
		{Text: "reactor"},
		{Sensors: []string{"s1"}, Severities: []alert.Severity{alert.High}},
		{Sites: []string{"plant-a"}, Statuses: []alert.Status{alert.New}, Engines: []alert.Engine{alert.Policy, alert.Operational}},
		{Devices: []string{"10.1.0.3"}, Severities: []alert.Severity{alert.Critical, alert.High}, From: mid},
		{Text: "modbus", Sensors: []string{"s2"}},
		{Sensors: []string{"unknown-sensor"}},
		{Devices: []string{"192.0.2.1"}},
	}
}

func testAlertFilters(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 240)
	for _, q := range alertQueries(all) {
		for _, sort := range []store.Sort{"", store.SortSeverity, store.SortFirstDetection} {
			for _, asc := range []bool{false, true} {
				q := q
				q.Sort, q.Ascending, q.Limit = sort, asc, store.MaxLimit
				p, err := s.Alerts(context.Background(), q)
				if err != nil {
					t.Errorf("Alerts(%s): %v", jsonOf(q), err)
					continue
				}
				if p.Next != "" {
					t.Errorf("Alerts(%s): a next page after every alert", jsonOf(q))
				}
				if got, want := ids(p.Alerts), expectAlerts(all, q); !slices.Equal(got, want) {
					t.Errorf("Alerts(%s):\n got %d %v\nwant %d %v", jsonOf(q), len(got), got, len(want), want)
				}
			}
		}
	}
}

func testAlertPagination(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 240)
	for _, q := range alertQueries(all)[:12] {
		for _, sort := range []store.Sort{"", store.SortSeverity, store.SortFirstDetection} {
			for _, asc := range []bool{false, true} {
				q := q
				q.Sort, q.Ascending, q.Limit = sort, asc, 7
				if got, want := allPages(t, s, q), expectAlerts(all, q); !slices.Equal(got, want) {
					t.Errorf("pages of %s:\n got %v\nwant %v", jsonOf(q), got, want)
				}
			}
		}
	}
	// The default page size.
	p, err := s.Alerts(context.Background(), store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Alerts) != store.DefaultLimit || p.Next == "" {
		t.Errorf("default page: %d alerts, next %q; want %d and a cursor", len(p.Alerts), p.Next, store.DefaultLimit)
	}
}

func checkFacets(t *testing.T, what string, f store.Facets, want map[store.Dim]map[string]int64) {
	t.Helper()
	for _, d := range store.Dims {
		got := map[string]int64{}
		for _, c := range f.Counts[d] {
			got[c.Value] = c.Count
			if c.Count == 0 {
				t.Errorf("%s: facet %s lists %q with no alert", what, d, c.Value)
			}
		}
		if !maps.Equal(got, want[d]) {
			t.Errorf("%s: facet %s = %v, want %v", what, d, got, want[d])
		}
	}
}

func testAlertFacets(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 240)
	ctx := context.Background()
	check := func() {
		t.Helper()
		for _, q := range alertQueries(all) {
			f, err := s.AlertFacets(ctx, q)
			if err != nil {
				t.Errorf("AlertFacets(%s): %v", jsonOf(q), err)
				continue
			}
			total, want := expectFacets(all, q)
			if f.Total != total {
				t.Errorf("AlertFacets(%s): total %d, want %d", jsonOf(q), f.Total, total)
			}
			checkFacets(t, "AlertFacets("+jsonOf(q)+")", f, want)
		}
	}
	check()
	// Severity facet in its natural order.
	f, _ := s.AlertFacets(ctx, store.AlertQuery{})
	var sev []string
	for _, c := range f.Counts[store.DimSeverity] {
		sev = append(sev, c.Value)
	}
	if want := []string{"Critical", "High", "Medium", "Low"}; !slices.Equal(sev, want) {
		t.Errorf("severity facet order %v, want %v", sev, want)
	}
	// Counts follow lifecycle changes.
	var move []string
	for i, a := range all {
		if a.Status == alert.New && i%2 == 0 {
			move = append(move, a.ID)
			a.Status = alert.Active
		}
	}
	if err := s.SetStatus(ctx, move, alert.Active, "ana", "triage"); err != nil {
		t.Fatal(err)
	}
	check()
}

func testAlertInvalidQuery(t *testing.T, open OpenFunc) {
	s, _ := loaded(t, open, 20)
	bad := []store.AlertQuery{
		{Severities: []alert.Severity{0}},
		{Severities: []alert.Severity{5}},
		{Statuses: []alert.Status{4}},
		{Engines: []alert.Engine{9}},
		{Sort: "title"},
		{Limit: -1},
		{Limit: store.MaxLimit + 1},
		{Cursor: "not a cursor!"},
		{Devices: []string{"plc-7"}},
		{From: base.Add(time.Hour), Until: base},
		{Text: strings.Repeat("x", store.MaxTextLen+1)},
		{Sensors: make([]string, store.MaxValues+1)},
	}
	for _, q := range bad {
		_, err := s.Alerts(context.Background(), q)
		wantErr(t, "Alerts("+jsonOf(q)+")", err, store.ErrInvalid)
		_, err = s.AlertFacets(context.Background(), q)
		if q.Cursor == "" && q.Limit == 0 {
			wantErr(t, "AlertFacets("+jsonOf(q)+")", err, store.ErrInvalid)
		}
	}
}

func testRelatedAlerts(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 120)
	ctx := context.Background()
	for _, a := range all[:30] {
		keys := []string{store.PartyKey(a.Source), store.PartyKey(a.Destination)}
		var want []string
		for _, id := range expectAlerts(all, store.AlertQuery{Devices: keys}) {
			if id != a.ID {
				want = append(want, id)
			}
		}
		for _, limit := range []int{0, 5} {
			got, err := s.RelatedAlerts(ctx, a.ID, limit)
			if err != nil {
				t.Fatal(err)
			}
			w := want
			if limit > 0 && len(w) > limit {
				w = w[:limit]
			}
			if !slices.Equal(ids(got), w) {
				t.Errorf("RelatedAlerts(%d, %d) = %v, want %v", slices.Index(all, a), limit, ids(got), w)
			}
		}
	}
	_, err := s.RelatedAlerts(ctx, "unknown", 0)
	wantErr(t, "RelatedAlerts(unknown)", err, store.ErrNotFound)
	_, err = s.RelatedAlerts(ctx, all[0].ID, -1)
	wantErr(t, "RelatedAlerts(limit -1)", err, store.ErrInvalid)
}

func eventIDs(evs []store.Event) []int64 {
	out := make([]int64, len(evs))
	for i := range evs {
		out[i] = evs[i].ID
	}
	return out
}

// expectEvents filters and orders events by brute force.
func expectEvents(all []store.Event, q store.EventQuery) []int64 {
	var sel []store.Event
	for _, e := range all {
		if len(q.Sensors) > 0 && !slices.Contains(q.Sensors, e.Sensor) ||
			len(q.Types) > 0 && !slices.Contains(q.Types, e.Type) ||
			len(q.Devices) > 0 && !slices.Contains(q.Devices, e.Device) && !slices.Contains(q.Devices, e.Peer) ||
			q.AlertID != "" && e.AlertID != q.AlertID ||
			!q.From.IsZero() && e.Time.Before(q.From) || !q.Until.IsZero() && !e.Time.Before(q.Until) {
			continue
		}
		sel = append(sel, e)
	}
	slices.SortFunc(sel, func(x, y store.Event) int {
		c := x.Time.Compare(y.Time)
		if !q.Ascending {
			c = -c
		}
		return c
	})
	return eventIDs(sel)
}

func testEvents(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 30)
	ctx := context.Background()
	evs := fixtureEvents(400, all)
	if err := s.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	// Idempotent, and the caller's slice is not changed.
	if err := s.PutEvents(ctx, evs[:100]); err != nil {
		t.Fatal(err)
	}
	if evs[0].ID != 0 {
		t.Errorf("PutEvents set the caller's event ID")
	}
	for i := range evs {
		evs[i].ID = store.EventID(&evs[i])
	}
	queries := []store.EventQuery{
		{},
		{Ascending: true},
		{Sensors: []string{"s2"}},
		{Types: []string{"firmware_change"}},
		{Types: []string{"mode_change", "alert"}},
		{Devices: []string{"10.1.0.3"}},
		{Devices: []string{"10.1.0.3", macOnly.String()}, Ascending: true},
		{AlertID: all[5].ID},
		{From: base, Until: base.Add(3 * time.Hour)},
		{From: base, Types: []string{"new_device"}, Sensors: []string{"s1"}},
		{Devices: []string{"10.1.1.9"}, From: base, Until: base.Add(5 * time.Hour)},
		{Sensors: []string{"nope"}},
	}
	for _, q := range queries {
		want := expectEvents(evs, q)
		for _, limit := range []int{store.MaxLimit, 9} {
			q := q
			q.Limit = limit
			var got []int64
			for {
				p, err := s.Events(ctx, q)
				if err != nil {
					t.Fatalf("Events(%s): %v", jsonOf(q), err)
				}
				got = append(got, eventIDs(p.Events)...)
				if p.Next == "" {
					break
				}
				q.Cursor = p.Next
			}
			if !slices.Equal(got, want) {
				t.Errorf("Events(%s, limit %d):\n got %v\nwant %v", jsonOf(q), limit, got, want)
			}
		}
	}
	// Round trip of every field.
	p, err := s.Events(ctx, store.EventQuery{AlertID: all[5].ID, Limit: 1})
	if err != nil || len(p.Events) != 1 {
		t.Fatalf("Events(alert): %v, %d events", err, len(p.Events))
	}
	got := p.Events[0]
	var want store.Event
	for _, e := range evs {
		if e.ID == got.ID {
			want = e
		}
	}
	if jsonOf(got) != jsonOf(want) || !got.Time.Equal(want.Time) {
		t.Errorf("event round trip: %s, want %s", jsonOf(got), jsonOf(want))
	}
	for _, e := range []store.Event{{Type: "x"}, {Time: base}, {Time: base, Type: "x", Device: "not an address"}} {
		wantErr(t, "PutEvents("+jsonOf(e)+")", s.PutEvents(ctx, []store.Event{evs[0], e}), store.ErrInvalid)
	}
	for _, q := range []store.EventQuery{{Limit: -2}, {Cursor: "%%"}, {Devices: []string{"x"}}, {From: base, Until: base}} {
		_, err := s.Events(ctx, q)
		wantErr(t, "Events("+jsonOf(q)+")", err, store.ErrInvalid)
	}
}

func testRelatedEvents(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 40)
	ctx := context.Background()
	evs := fixtureEvents(600, all)
	if err := s.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		evs[i].ID = store.EventID(&evs[i])
	}
	for _, a := range all[:20] {
		for _, window := range []time.Duration{0, 10 * time.Minute, 2 * time.Hour} {
			keys := []string{store.PartyKey(a.Source), store.PartyKey(a.Destination)}
			want := expectEvents(evs, store.EventQuery{Devices: keys, From: a.FirstDetection.Add(-window),
				Until: a.LastDetection.Add(window + 1), Ascending: true})
			for _, limit := range []int{0, 3} {
				got, err := s.RelatedEvents(ctx, a.ID, window, limit)
				if err != nil {
					t.Fatal(err)
				}
				w := want
				if limit > 0 && len(w) > limit {
					w = w[:limit]
				}
				if !slices.Equal(eventIDs(got), w) {
					t.Errorf("RelatedEvents(%s, %v, %d) = %v, want %v", a.ID, window, limit, eventIDs(got), w)
				}
			}
		}
	}
	_, err := s.RelatedEvents(ctx, "unknown", time.Minute, 0)
	wantErr(t, "RelatedEvents(unknown)", err, store.ErrNotFound)
	_, err = s.RelatedEvents(ctx, all[0].ID, -time.Minute, 0)
	wantErr(t, "RelatedEvents(negative window)", err, store.ErrInvalid)
}

func testTransitions(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	statuses := []alert.Status{alert.New, alert.Active, alert.Closed}
	// The lifecycle, as the design gives it.
	allowed := map[[2]alert.Status]bool{
		{alert.New, alert.Active}: true, {alert.New, alert.Closed}: true,
		{alert.Active, alert.Closed}: true, {alert.Closed, alert.Active}: true,
	}
	as := fixtureAlerts(9)
	for i, from := range statuses {
		for j, to := range statuses {
			a := as[i*3+j]
			a.Status = from
			if err := s.PutAlerts(ctx, []*alert.Alert{a}); err != nil {
				t.Fatal(err)
			}
			err := s.SetStatus(ctx, []string{a.ID}, to, "ana", "because")
			got, gerr := s.Alert(ctx, a.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			h, herr := s.History(ctx, a.ID)
			if herr != nil {
				t.Fatal(herr)
			}
			if allowed[[2]alert.Status{from, to}] {
				if err != nil || got.Status != to {
					t.Errorf("%v → %v: %v, status %v", from, to, err, got.Status)
				}
				if len(h) != 1 || h[0].From != from || h[0].To != to || h[0].Actor != "ana" || h[0].Reason != "because" || h[0].Action != store.ActionStatus {
					t.Errorf("%v → %v: history %s", from, to, jsonOf(h))
				}
			} else {
				wantErr(t, fmt.Sprintf("%v → %v", from, to), err, store.ErrInvalid)
				if got.Status != from || len(h) != 0 {
					t.Errorf("refused %v → %v changed the alert: status %v, history %s", from, to, got.Status, jsonOf(h))
				}
			}
			if store.Transition(from, to) != allowed[[2]alert.Status{from, to}] {
				t.Errorf("store.Transition(%v, %v) = %v", from, to, store.Transition(from, to))
			}
		}
	}
	for _, st := range []alert.Status{0, 4} {
		wantErr(t, fmt.Sprintf("status %d", st), s.SetStatus(ctx, []string{as[0].ID}, st, "ana", ""), store.ErrInvalid)
	}
	wantErr(t, "unknown alert", s.SetStatus(ctx, []string{"nope"}, alert.Active, "ana", ""), store.ErrNotFound)
	wantErr(t, "no ids", s.SetStatus(ctx, nil, alert.Active, "ana", ""), store.ErrInvalid)
	wantErr(t, "long reason", s.SetStatus(ctx, []string{as[0].ID}, alert.Closed, "ana", strings.Repeat("r", store.MaxReasonLen+1)), store.ErrInvalid)
}

func testSetStatusAtomic(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 12)
	ctx := context.Background()
	var newIDs []string
	closed := ""
	for _, a := range all {
		if a.Status == alert.New {
			newIDs = append(newIDs, a.ID)
		}
		if a.Status == alert.Closed {
			closed = a.ID
		}
	}
	// Closed → Closed is not allowed: the whole call fails.
	err := s.SetStatus(ctx, append(slices.Clone(newIDs), closed), alert.Closed, "ana", "")
	wantErr(t, "batch with one invalid transition", err, store.ErrInvalid)
	err = s.SetStatus(ctx, append(slices.Clone(newIDs), "missing"), alert.Closed, "ana", "")
	wantErr(t, "batch with one unknown alert", err, store.ErrNotFound)
	for _, id := range newIDs {
		a, _ := s.Alert(ctx, id)
		if a.Status != alert.New {
			t.Errorf("failed batch moved %s to %v", id, a.Status)
		}
	}
	if err := s.SetStatus(ctx, newIDs, alert.Closed, "ana", ""); err != nil {
		t.Fatal(err)
	}
	f, _ := s.AlertFacets(ctx, store.AlertQuery{Statuses: []alert.Status{alert.New}})
	if f.Total != 0 {
		t.Errorf("%d New alerts left, want 0", f.Total)
	}
	checkCounters(t, "after SetStatus", s)
}

func testBulkSetStatus(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 120)
	ctx := context.Background()
	q := store.AlertQuery{Sensors: []string{"s1"}, Severities: []alert.Severity{alert.High, alert.Critical}, Limit: 3, Cursor: ""}
	var want int64
	for _, a := range all {
		if match(a, &q, "") && store.Transition(a.Status, alert.Closed) {
			want++
			a.Status = alert.Closed
		}
	}
	n, err := s.BulkSetStatus(ctx, q, alert.Closed, "ana", "maintenance")
	if err != nil || n != want {
		t.Fatalf("BulkSetStatus = %d, %v; want %d", n, err, want)
	}
	for _, a := range all {
		got, _ := s.Alert(ctx, a.ID)
		if got.Status != a.Status {
			t.Errorf("alert %s: status %v, want %v", a.ID, got.Status, a.Status)
		}
	}
	f, _ := s.AlertFacets(ctx, store.AlertQuery{})
	_, wf := expectFacets(all, store.AlertQuery{})
	checkFacets(t, "after bulk", f, wf)
	checkCounters(t, "after bulk", s)
	// History of a moved alert.
	for _, a := range all {
		if match(a, &q, "") {
			h, _ := s.History(ctx, a.ID)
			if len(h) > 0 && (h[len(h)-1].To != alert.Closed || h[len(h)-1].Reason != "maintenance") {
				t.Errorf("history of %s: %s", a.ID, jsonOf(h))
			}
		}
	}
	// Again: nothing left to move.
	if n, err := s.BulkSetStatus(ctx, q, alert.Closed, "ana", ""); n != 0 || err != nil {
		t.Errorf("second BulkSetStatus = %d, %v; want 0", n, err)
	}
	if n, err := s.BulkSetStatus(ctx, store.AlertQuery{}, alert.Active, "ana", ""); n == 0 || err != nil {
		t.Errorf("BulkSetStatus(everything to active) = %d, %v; want some moved", n, err)
	}
	checkCounters(t, "after a bulk change of every alert", s)
	_, err = s.BulkSetStatus(ctx, q, 0, "ana", "")
	wantErr(t, "bulk to status 0", err, store.ErrInvalid)
	_, err = s.BulkSetStatus(ctx, store.AlertQuery{Severities: []alert.Severity{8}}, alert.Closed, "ana", "")
	wantErr(t, "bulk with bad filter", err, store.ErrInvalid)
}

func testLearn(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 40)
	ctx := context.Background()
	var withEntry, pattern, notLearnable *alert.Alert
	for _, a := range all {
		switch {
		case a.Learn != nil && a.Status != alert.Closed && withEntry == nil:
			withEntry = a
		case a.Learnable && a.Learn == nil && a.Status != alert.Closed && pattern == nil:
			pattern = a
		case !a.Learnable && notLearnable == nil:
			notLearnable = a
		}
	}
	e, err := s.Learn(ctx, withEntry.ID, "ana")
	if err != nil || e != *withEntry.Learn {
		t.Errorf("Learn = %v, %v; want %v", e, err, *withEntry.Learn)
	}
	e2, err := s.Learn(ctx, pattern.ID, "ana")
	wantPattern := e2
	wantPattern.Kind, wantPattern.Client, wantPattern.Server, wantPattern.Function, wantPattern.Target =
		"pattern", pattern.Source.IP, pattern.Destination.IP, pattern.Type, pattern.Key
	if err != nil || e2 != wantPattern {
		t.Errorf("Learn(pattern) = %v, %v; want %v", e2, err, wantPattern)
	}
	for _, a := range []*alert.Alert{withEntry, pattern} {
		got, _ := s.Alert(ctx, a.ID)
		if got.Status != alert.Closed {
			t.Errorf("learned alert %s is %v, want Closed", a.ID, got.Status)
		}
		h, _ := s.History(ctx, a.ID)
		if len(h) != 1 || h[0].Action != store.ActionLearn || h[0].To != alert.Closed || h[0].From != a.Status {
			t.Errorf("history after learn: %s", jsonOf(h))
		}
	}
	recs, err := s.Baseline(ctx, withEntry.Sensor)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		if r.Entry == e {
			found = r.Source == "learn"
		}
	}
	if !found {
		t.Errorf("baseline of %s lacks learned %v with source learn: %s", withEntry.Sensor, e, jsonOf(recs))
	}
	_, err = s.Learn(ctx, notLearnable.ID, "ana")
	wantErr(t, "Learn(not learnable)", err, store.ErrInvalid)
	got, _ := s.Alert(ctx, notLearnable.ID)
	if got.Status != notLearnable.Status {
		t.Errorf("refused Learn changed status to %v", got.Status)
	}
	_, err = s.Learn(ctx, "nope", "ana")
	wantErr(t, "Learn(unknown)", err, store.ErrNotFound)
}

func testMute(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 30)
	ctx := context.Background()
	a := all[3]
	for range 2 { // muting twice changes nothing more
		if err := s.Mute(ctx, a.ID, "ana"); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.Alert(ctx, a.ID)
	if !got.Muted {
		t.Error("muted alert not marked Muted")
	}
	mutes, _ := s.Mutes(ctx)
	want := store.MuteOf(a)
	if len(mutes) != 1 || mutes[0].Type != want.Type || mutes[0].Source != want.Source || mutes[0].Destination != want.Destination ||
		mutes[0].Key != want.Key || mutes[0].Sensor != want.Sensor || mutes[0].AlertID != a.ID || mutes[0].Actor != "ana" {
		t.Errorf("Mutes = %s, want one like %s", jsonOf(mutes), jsonOf(want))
	}
	p, _ := s.Alerts(ctx, store.AlertQuery{Limit: store.MaxLimit})
	for _, r := range p.Alerts {
		if r.Muted != want.Matches(&r.Alert) {
			t.Errorf("alert %s: Muted %v", r.ID, r.Muted)
		}
	}
	sup, err := store.NewSuppressor(ctx, s, a.Sensor)
	if err != nil {
		t.Fatal(err)
	}
	again := clone(a)
	again.FirstDetection = again.FirstDetection.Add(48 * time.Hour)
	if !sup.Suppress(again) {
		t.Error("Suppressor lets a muted pattern through")
	}
	other := clone(a)
	other.Key = "other"
	if sup.Suppress(other) {
		t.Error("Suppressor suppresses another key")
	}
	if err := sup.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	mutes, _ = s.Mutes(ctx)
	if len(mutes) != 1 || mutes[0].Suppressed != 1 {
		t.Errorf("mute suppression count: %s", jsonOf(mutes))
	}
	for range 2 {
		if err := s.Unmute(ctx, a.ID, "ana"); err != nil {
			t.Fatal(err)
		}
	}
	got, _ = s.Alert(ctx, a.ID)
	mutes, _ = s.Mutes(ctx)
	if got.Muted || len(mutes) != 0 {
		t.Errorf("after unmute: muted %v, mutes %s", got.Muted, jsonOf(mutes))
	}
	if err := sup.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if sup.Suppress(again) {
		t.Error("Suppressor still suppresses an unmuted pattern after Reload")
	}
	h, _ := s.History(ctx, a.ID)
	var actions []string
	for _, c := range h {
		actions = append(actions, c.Action)
	}
	if !slices.Equal(actions, []string{store.ActionMute, store.ActionUnmute}) {
		t.Errorf("history actions %v, want mute, unmute", actions)
	}
	wantErr(t, "Mute(unknown)", s.Mute(ctx, "nope", "ana"), store.ErrNotFound)
}

func testComments(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 5)
	ctx := context.Background()
	id := all[2].ID
	longest := strings.Repeat("é", store.MaxCommentLen) // characters, not bytes
	texts := []string{"First look: engineering laptop.", longest}
	for _, text := range texts {
		c, err := s.Comment(ctx, id, "ana", text)
		if err != nil {
			t.Fatalf("Comment(%d chars): %v", len([]rune(text)), err)
		}
		if c.ID == 0 || c.Author != "ana" || c.Text != text || c.Time.IsZero() || c.AlertID != id {
			t.Errorf("Comment returned %+v", c)
		}
	}
	for _, bad := range []string{"", "   \n", longest + "x", "\xff\xfe"} {
		_, err := s.Comment(ctx, id, "ana", bad)
		wantErr(t, fmt.Sprintf("comment of %d bytes", len(bad)), err, store.ErrInvalid)
	}
	_, err := s.Comment(ctx, id, "", "who?")
	wantErr(t, "comment without author", err, store.ErrInvalid)
	_, err = s.Comment(ctx, "nope", "ana", "hello")
	wantErr(t, "comment on unknown alert", err, store.ErrNotFound)
	cs, err := s.Comments(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(texts) {
		t.Fatalf("%d comments, want %d (refused ones must not be stored)", len(cs), len(texts))
	}
	for i, c := range cs {
		if c.Text != texts[i] || c.Author != "ana" {
			t.Errorf("comment %d = %q by %q", i, c.Text, c.Author)
		}
	}
	if cs, _ := s.Comments(ctx, all[0].ID); len(cs) != 0 {
		t.Errorf("another alert has %d comments", len(cs))
	}
	_, err = s.Comments(ctx, "nope")
	wantErr(t, "Comments(unknown)", err, store.ErrNotFound)
}

func testExclusions(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	r, err := s.PutExclusion(ctx, store.Exclusion{Name: "scanner", Device: "10.1.0.3", Type: "scan.*"}, "ana")
	if err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.Created.IsZero() || r.Author != "ana" {
		t.Errorf("PutExclusion returned %s", jsonOf(r))
	}
	r.Comment = "known scanner"
	r.Subnet = netip.MustParsePrefix("10.1.0.77/24")
	r2, err := s.PutExclusion(ctx, r, "bob")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Exclusion(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Comment != "known scanner" || got.Subnet.String() != "10.1.0.0/24" || !got.Created.Equal(r.Created) || got.Author != "ana" {
		t.Errorf("updated rule = %s (returned %s)", jsonOf(got), jsonOf(r2))
	}
	bad := []store.Exclusion{
		{Name: "everything"},
		{Device: "not-an-address"},
		{Type: "a*b"},
		{Sensor: "s1", From: base, Until: base.Add(-time.Hour)},
	}
	for _, b := range bad {
		_, err := s.PutExclusion(ctx, b, "ana")
		wantErr(t, "PutExclusion("+jsonOf(b)+")", err, store.ErrInvalid)
	}
	_, err = s.PutExclusion(ctx, store.Exclusion{ID: 999, Sensor: "s1"}, "ana")
	wantErr(t, "PutExclusion(unknown id)", err, store.ErrNotFound)
	rules, _ := s.Exclusions(ctx)
	if len(rules) != 1 {
		t.Errorf("%d rules, want 1", len(rules))
	}
	if err := s.DeleteExclusion(ctx, r.ID, "ana"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteExclusion again", s.DeleteExclusion(ctx, r.ID, "ana"), store.ErrNotFound)
	_, err = s.Exclusion(ctx, r.ID)
	wantErr(t, "Exclusion(deleted)", err, store.ErrNotFound)
}

func testSuppressor(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	window := base.Add(10 * time.Hour)
	rules := []store.Exclusion{
		{Name: "type", Type: "dnp3.restart"},
		{Name: "prefix", Type: "malware.*", Sensor: "s3"},
		{Name: "device", Device: "10.1.1.9"},
		{Name: "subnet", Subnet: netip.MustParsePrefix("10.1.1.0/24")},
		{Name: "sensor", Sensor: "s2", Type: "scan.port"},
		{Name: "maintenance", From: window, Until: window.Add(2 * time.Hour)},
		{Name: "off", Type: "s7.plc_stop", Disabled: true},
	}
	for i := range rules {
		r, err := s.PutExclusion(ctx, rules[i], "ana")
		if err != nil {
			t.Fatal(err)
		}
		rules[i] = r
	}
	all := fixtureAlerts(200)
	// The oracle: which rule (first in ID order) each alert falls under.
	want := map[int64]uint64{}
	var wantTotal uint64
	sup, err := store.NewSuppressor(ctx, s, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		var hit int64
		for _, r := range rules {
			if r.Disabled {
				continue
			}
			ip := func(p alert.Party) string { return store.PartyKey(p) }
			in := func(p alert.Party) bool { return p.IP.IsValid() && r.Subnet.IsValid() && r.Subnet.Contains(p.IP) }
			ok := (r.Type == "" || r.Type == a.Type || strings.HasSuffix(r.Type, "*") && strings.HasPrefix(a.Type, strings.TrimSuffix(r.Type, "*"))) &&
				(r.Sensor == "" || r.Sensor == a.Sensor) &&
				(r.Device == "" || r.Device == ip(a.Source) || r.Device == ip(a.Destination)) &&
				(!r.Subnet.IsValid() || in(a.Source) || in(a.Destination)) &&
				(r.From.IsZero() || !a.LastDetection.Before(r.From)) && (r.Until.IsZero() || a.LastDetection.Before(r.Until))
			if ok {
				hit = r.ID
				break
			}
		}
		if hit != 0 {
			want[hit]++
			wantTotal++
		}
		if got := sup.Suppress(a); got != (hit != 0) {
			t.Errorf("Suppress(%s %s %s→%s at %v) = %v, want %v", a.Sensor, a.Type, a.Source, a.Destination, a.LastDetection, got, hit != 0)
		}
	}
	for _, r := range rules[:6] {
		if want[r.ID] == 0 {
			t.Errorf("fixture never exercises rule %q", r.Name)
		}
	}
	if sup.Suppressed() != wantTotal {
		t.Errorf("Suppressed() = %d, want %d", sup.Suppressed(), wantTotal)
	}
	if err := sup.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sup.Flush(ctx); err != nil { // nothing new: no double count
		t.Fatal(err)
	}
	got, _ := s.Exclusions(ctx)
	for _, r := range got {
		if r.Suppressed != want[r.ID] {
			t.Errorf("rule %q suppressed %d, want %d", r.Name, r.Suppressed, want[r.ID])
		}
	}
	// A sensor's suppressor ignores other sensors' rules.
	s1, err := store.NewSuppressor(ctx, s, "s1")
	if err != nil {
		t.Fatal(err)
	}
	m := clone(all[0])
	m.Sensor, m.Type, m.Source, m.Destination = "s1", "malware.ioc", party(0), party(1)
	m.LastDetection = base
	if s1.Suppress(m) {
		t.Error("sensor s1 applies a rule of s3")
	}
	if err := s.AddSuppressed(ctx, map[int64]uint64{12345: 3}, nil); err != nil {
		t.Errorf("AddSuppressed(unknown rule): %v", err)
	}
}

// pcapng returns a minimal pcapng file: a section header block, an
// interface block and padding to n bytes in an extra block.
func pcapng(n int) []byte {
	shb := []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0}
	idb := []byte{1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 4, 0, 20, 0, 0, 0}
	b := append(shb, idb...)
	if pad := n - len(b); pad >= 12 {
		pad &^= 3
		blk := make([]byte, pad)
		copy(blk, []byte{0xbd, 0x0b, 0, 0}) // a custom block, skipped by readers
		blk[4], blk[5] = byte(pad), byte(pad>>8)
		blk[pad-4], blk[pad-3] = byte(pad), byte(pad>>8)
		b = append(b, blk...)
	}
	return b
}

func testEvidence(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 5)
	ctx := context.Background()
	data := pcapng(200)
	if err := s.PutEvidence(ctx, all[1].ID, data); err != nil {
		t.Fatal(err)
	}
	got, err := s.Evidence(ctx, all[1].ID)
	if err != nil || string(got) != string(data) {
		t.Errorf("Evidence = %d bytes, %v; want the %d stored", len(got), err, len(data))
	}
	rec, _ := s.Alert(ctx, all[1].ID)
	if rec.Pcap == nil || rec.Pcap.Size != int64(len(data)) {
		t.Errorf("Alert.Pcap = %+v, want size %d", rec.Pcap, len(data))
	}
	wantErr(t, "PutEvidence(not pcapng)", s.PutEvidence(ctx, all[2].ID, []byte("GIF89a this is not a capture file at all")), store.ErrInvalid)
	wantErr(t, "PutEvidence(unknown alert)", s.PutEvidence(ctx, "nope", data), store.ErrNotFound)
	_, err = s.Evidence(ctx, all[2].ID)
	wantErr(t, "Evidence(none)", err, store.ErrNotFound)
	// Replacing keeps one file.
	data2 := pcapng(300)
	if err := s.PutEvidence(ctx, all[1].ID, data2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Evidence(ctx, all[1].ID); string(got) != string(data2) {
		t.Errorf("replaced evidence not returned")
	}
	// A batch stores every file, or none when one of its alerts is
	// unknown or one file is not pcapng.
	batch := []store.Evidence{{AlertID: all[3].ID, Pcapng: pcapng(220)}, {AlertID: all[4].ID, Pcapng: pcapng(240)}}
	if err := s.PutEvidenceBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for _, e := range batch {
		if got, err := s.Evidence(ctx, e.AlertID); err != nil || string(got) != string(e.Pcapng) {
			t.Errorf("Evidence(%s) after a batch = %d bytes, %v; want the %d stored", e.AlertID, len(got), err, len(e.Pcapng))
		}
	}
	wantErr(t, "PutEvidenceBatch(unknown alert)", s.PutEvidenceBatch(ctx, []store.Evidence{{AlertID: all[0].ID, Pcapng: data}, {AlertID: "nope", Pcapng: data}}), store.ErrNotFound)
	wantErr(t, "PutEvidenceBatch(not pcapng)", s.PutEvidenceBatch(ctx, []store.Evidence{{AlertID: all[0].ID, Pcapng: data}, {AlertID: all[2].ID, Pcapng: []byte("GIF89a this is not a capture file at all")}}), store.ErrInvalid)
	_, err = s.Evidence(ctx, all[0].ID)
	wantErr(t, "Evidence after failed batches", err, store.ErrNotFound)
	if err := s.PutEvidenceBatch(ctx, nil); err != nil {
		t.Errorf("PutEvidenceBatch(nothing): %v", err)
	}
}

func testEvidenceRetention(t *testing.T, open OpenFunc) {
	dir := t.TempDir()
	s, _ := openStore(t, open, store.Options{EvidenceDir: dir, EvidenceMaxBytes: 1000})
	ctx := context.Background()
	all := fixtureAlerts(6)
	if err := s.PutAlerts(ctx, all); err != nil {
		t.Fatal(err)
	}
	sizes := []int{400, 400, 400, 100, 1200}
	for i, n := range sizes {
		if err := s.PutEvidence(ctx, all[i].ID, pcapng(n)); err != nil {
			t.Fatal(err)
		}
	}
	// Within the cap (1000): after the third file (1200) the first goes;
	// the fourth fits (900); the fifth (1200) alone exceeds the cap and
	// evicts every other file, but is kept.
	for i := range sizes {
		_, err := s.Evidence(ctx, all[i].ID)
		if kept := i == 4; kept != (err == nil) {
			t.Errorf("evidence %d: %v (kept want %v)", i, err, kept)
		}
	}
	files, _ := os.ReadDir(dir)
	var names []string
	for _, f := range files {
		if !f.IsDir() && !strings.HasPrefix(f.Name(), ".") {
			names = append(names, f.Name())
		}
	}
	if len(names) != 1 {
		t.Errorf("evidence directory holds %v, want one file", names)
	}
	// Oldest first: with room for two, adding a third evicts the oldest.
	s2, _ := openStore(t, open, store.Options{EvidenceMaxBytes: 850})
	if err := s2.PutAlerts(ctx, all); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if err := s2.PutEvidence(ctx, all[i].ID, pcapng(400)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		_, err := s2.Evidence(ctx, all[i].ID)
		if kept := i >= 2; kept != (err == nil) {
			t.Errorf("evidence %d with cap 850: %v (kept want %v)", i, err, kept)
		}
	}
	// A batch applies retention file after file, as PutEvidence would:
	// with room for two, its third file evicts its first.
	dir3 := t.TempDir()
	s3, _ := openStore(t, open, store.Options{EvidenceDir: dir3, EvidenceMaxBytes: 850})
	if err := s3.PutAlerts(ctx, all); err != nil {
		t.Fatal(err)
	}
	var batch []store.Evidence
	for i := range 3 {
		batch = append(batch, store.Evidence{AlertID: all[i].ID, Pcapng: pcapng(400)})
	}
	if err := s3.PutEvidenceBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, err := s3.Evidence(ctx, all[i].ID)
		if kept := i >= 1; kept != (err == nil) {
			t.Errorf("batch evidence %d with cap 850: %v (kept want %v)", i, err, kept)
		}
	}
	if files, _ := os.ReadDir(dir3); len(files) != 2 {
		t.Errorf("evidence directory after a batch holds %d files, want 2", len(files))
	}
	// Alerts carrying packets get their evidence written on ingest.
	a := clone(all[5])
	a.Packets = samplePackets()
	if err := s2.PutAlerts(ctx, []*alert.Alert{a}); err != nil {
		t.Fatal(err)
	}
	b, err := s2.Evidence(ctx, a.ID)
	if err != nil || len(b) < 28 || b[0] != 0x0a {
		t.Errorf("evidence from Packets: %d bytes, %v", len(b), err)
	}
}

func testClosed(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err := s.Alerts(ctx, store.AlertQuery{})
	wantErr(t, "Alerts after Close", err, store.ErrClosed)
	wantErr(t, "PutAlerts after Close", s.PutAlerts(ctx, fixtureAlerts(1)), store.ErrClosed)
	wantErr(t, "RekeyDevices after Close", s.RekeyDevices(ctx, "s1", []store.KeyMove{{From: "10.0.0.5", To: "00:1b:1b:00:00:0a"}}), store.ErrClosed)
	wantErr(t, "SetSeverity after Close", s.SetSeverity(ctx, []string{"a"}, alert.High, "ana", ""), store.ErrClosed)
	_, err = s.BulkSetSeverity(ctx, store.AlertQuery{}, alert.High, "ana", "")
	wantErr(t, "BulkSetSeverity after Close", err, store.ErrClosed)
	_, err = s.RecommendationStatuses(ctx, nil)
	wantErr(t, "RecommendationStatuses after Close", err, store.ErrClosed)
	wantErr(t, "PutSession after Close", s.PutSession(ctx, store.Session{Key: "k", User: "ana"}), store.ErrClosed)
	_, err = s.Session(ctx, "k")
	wantErr(t, "Session after Close", err, store.ErrClosed)
	wantErr(t, "PutToken after Close", s.PutToken(ctx, store.Token{ID: "t", User: "ana", Hash: "h"}), store.ErrClosed)
	_, err = s.Tokens(ctx, "")
	wantErr(t, "Tokens after Close", err, store.ErrClosed)
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

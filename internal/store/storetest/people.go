package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/recommend"
	"github.com/otwatch/otwatch/internal/store"
)

// otherSeverity returns a severity other than sev.
func otherSeverity(sev alert.Severity) alert.Severity {
	if sev == alert.Low {
		return alert.Critical
	}
	return alert.Low
}

// severityChanges returns the severity changes of an alert's history.
func severityChanges(t *testing.T, s store.Store, id string) []store.StatusChange {
	t.Helper()
	h, err := s.History(context.Background(), id)
	if err != nil {
		t.Fatalf("History(%s): %v", id, err)
	}
	var out []store.StatusChange
	for _, c := range h {
		if c.Action == store.ActionSeverity {
			out = append(out, c)
		}
	}
	return out
}

// checkAlerts compares every stored alert's severity and status with the
// oracle's, the facet counts, and the alerts each of the suite's queries
// lists in the severity order.
func checkAlerts(t *testing.T, what string, s store.Store, all []*alert.Alert) {
	t.Helper()
	ctx := context.Background()
	for _, a := range all {
		got, err := s.Alert(ctx, a.ID)
		if err != nil {
			t.Fatalf("%s: Alert(%s): %v", what, a.ID, err)
		}
		if got.Severity != a.Severity || got.Status != a.Status {
			t.Errorf("%s: alert %s is %v %v, want %v %v", what, a.ID, got.Severity, got.Status, a.Severity, a.Status)
		}
	}
	for _, q := range alertQueries(all) {
		f, err := s.AlertFacets(ctx, q)
		if err != nil {
			t.Fatalf("%s: AlertFacets(%s): %v", what, jsonOf(q), err)
		}
		total, want := expectFacets(all, q)
		if f.Total != total {
			t.Errorf("%s: AlertFacets(%s): total %d, want %d", what, jsonOf(q), f.Total, total)
		}
		checkFacets(t, what+": AlertFacets("+jsonOf(q)+")", f, want)
		q.Sort, q.Limit = store.SortSeverity, store.MaxLimit
		p, err := s.Alerts(ctx, q)
		if err != nil {
			t.Fatalf("%s: Alerts(%s): %v", what, jsonOf(q), err)
		}
		if got, want := ids(p.Alerts), expectAlerts(all, q); !slices.Equal(got, want) {
			t.Errorf("%s: Alerts(%s):\n got %v\nwant %v", what, jsonOf(q), got, want)
		}
	}
}

func testSetSeverity(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 60)
	ctx := context.Background()
	byID := map[string]*alert.Alert{}
	for _, a := range all {
		byID[a.ID] = a
	}
	// same is an alert already at the severity the second change sets.
	a1, a2, same, a4 := all[1], all[2], all[3], all[4]
	sev2 := otherSeverity(a2.Severity)
	same.Severity = sev2
	if err := s.PutAlerts(ctx, []*alert.Alert{same}); err != nil {
		t.Fatal(err)
	}
	sensorSeverity := map[string]alert.Severity{}
	for _, a := range all {
		sensorSeverity[a.ID] = a.Severity
	}
	tests := []struct {
		name   string
		ids    []string
		sev    alert.Severity
		reason string
		err    error
	}{
		{"one alert", []string{a1.ID}, otherSeverity(a1.Severity), "false positive", nil},
		{"one already at the severity", []string{a2.ID, same.ID, a2.ID}, sev2, "", nil},
		{"unknown alert changes none", []string{a4.ID, "no-such-alert"}, otherSeverity(a4.Severity), "", store.ErrNotFound},
		{"severity 0", []string{a4.ID}, 0, "", store.ErrInvalid},
		{"severity 5", []string{a4.ID}, 5, "", store.ErrInvalid},
		{"no ids", nil, alert.High, "", store.ErrInvalid},
		{"reason too long", []string{a4.ID}, otherSeverity(a4.Severity), strings.Repeat("r", store.MaxReasonLen+1), store.ErrInvalid},
	}
	changes := map[string]int{}
	for _, tt := range tests {
		before := map[string]alert.Severity{}
		for _, id := range tt.ids {
			if a := byID[id]; a != nil {
				before[id] = a.Severity
			}
		}
		err := s.SetSeverity(ctx, tt.ids, tt.sev, "ana", tt.reason)
		if tt.err != nil {
			wantErr(t, tt.name, err, tt.err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for id, from := range before {
			if from != tt.sev && byID[id].Severity == from {
				byID[id].Severity = tt.sev
				changes[id]++
			}
		}
	}
	checkAlerts(t, "after severity changes", s, all)
	for _, a := range all {
		h := severityChanges(t, s, a.ID)
		if len(h) != changes[a.ID] {
			t.Errorf("alert %s: %d severity changes in its history, want %d: %s", a.ID, len(h), changes[a.ID], jsonOf(h))
		}
	}
	h := severityChanges(t, s, a1.ID)
	if len(h) == 1 {
		c := h[0]
		if c.From != a1.Status || c.To != a1.Status || c.FromSeverity != sensorSeverity[a1.ID] || c.ToSeverity != a1.Severity ||
			c.Actor != "ana" || c.Reason != "false positive" || c.Time.IsZero() {
			t.Errorf("severity history entry %s; want %v → %v by ana, status %v unchanged", jsonOf(c), sensorSeverity[a1.ID], a1.Severity, a1.Status)
		}
	}
	p, err := s.Audit(ctx, store.AuditQuery{Object: "alert:" + a1.ID, Action: store.AuditSeverity})
	if err != nil {
		t.Fatal(err)
	}
	wantDetail := sensorSeverity[a1.ID].String() + " → " + a1.Severity.String()
	if len(p.Entries) != 1 || p.Entries[0].Actor != "ana" || !strings.Contains(p.Entries[0].Detail, wantDetail) ||
		!strings.Contains(p.Entries[0].Detail, "false positive") {
		t.Errorf("audit of the severity change: %s; want one by ana with %q and the reason", jsonOf(p.Entries), wantDetail)
	}
	if p, _ := s.Audit(ctx, store.AuditQuery{Object: "alert:" + same.ID, Action: store.AuditSeverity}); len(p.Entries) != 0 {
		t.Errorf("an alert already at the severity was audited: %s", jsonOf(p.Entries))
	}

	// Re-ingest: a person's severity stays, whether the copy is newer or
	// older, also when the newer copy moves the alert to another zone; an
	// alert no person changed takes the newer copy's.
	newer, older := clone(a1), clone(a2)
	newer.Severity, older.Severity = sensorSeverity[a1.ID], sensorSeverity[a2.ID]
	newer.LastDetection, newer.Count, newer.Title = newer.LastDetection.Add(time.Hour), newer.Count+5, "recurred"
	newer.Zone = "a-cell9"
	older.LastDetection = older.FirstDetection
	untouched := clone(all[7])
	untouched.LastDetection = untouched.LastDetection.Add(time.Hour)
	untouched.Severity = otherSeverity(untouched.Severity)
	if err := s.PutAlerts(ctx, []*alert.Alert{newer, older, untouched}); err != nil {
		t.Fatal(err)
	}
	a1.LastDetection, a1.Count, a1.Zone = newer.LastDetection, newer.Count, newer.Zone
	all[7].LastDetection, all[7].Severity = untouched.LastDetection, untouched.Severity
	checkAlerts(t, "after re-ingest", s, all)
	if got, err := s.Alert(ctx, a1.ID); err != nil || got.Title != "recurred" || got.Count != newer.Count {
		t.Errorf("re-ingested alert %s: %v; want its newer copy's title and count", a1.ID, err)
	}
	// A second change of the same alert, from the person's severity.
	if err := s.SetSeverity(ctx, []string{a1.ID}, alert.Medium, "bob", ""); err != nil {
		t.Fatal(err)
	}
	if h := severityChanges(t, s, a1.ID); len(h) != 2 || h[1].FromSeverity != a1.Severity || h[1].ToSeverity != alert.Medium || h[1].Actor != "bob" {
		t.Errorf("history after a second change: %s", jsonOf(h))
	}
	a1.Severity = alert.Medium
	checkAlerts(t, "after a second change", s, all)
	checkCounters(t, "after SetSeverity", s)
}

func testBulkSetSeverity(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 120)
	ctx := context.Background()
	sensorSeverity := map[string]alert.Severity{}
	for _, a := range all {
		sensorSeverity[a.ID] = a.Severity
	}
	changes := map[string]int{}
	tests := []struct {
		name string
		q    store.AlertQuery
		sev  alert.Severity
	}{
		{"facet filters, page ignored", store.AlertQuery{Sensors: []string{"s1"}, Severities: []alert.Severity{alert.High, alert.Critical}, Limit: 3}, alert.Medium},
		{"again: nothing left", store.AlertQuery{Sensors: []string{"s1"}, Severities: []alert.Severity{alert.High, alert.Critical}}, alert.Medium},
		{"device", store.AlertQuery{Devices: []string{"10.1.0.3"}}, alert.Low},
		{"text", store.AlertQuery{Text: "modbus"}, alert.Critical},
		{"time range and status", store.AlertQuery{From: all[30].LastDetection, Statuses: []alert.Status{alert.New}}, alert.High},
		{"everything", store.AlertQuery{}, alert.High},
	}
	for _, tt := range tests {
		var want int64
		var moved []*alert.Alert
		for _, a := range all {
			if match(a, &tt.q, "") && a.Severity != tt.sev {
				want++
				moved = append(moved, a)
			}
		}
		from := map[string]alert.Severity{}
		for _, a := range moved {
			from[a.ID] = a.Severity
			a.Severity = tt.sev
			changes[a.ID]++
		}
		n, err := s.BulkSetSeverity(ctx, tt.q, tt.sev, "ana", "tuning")
		if err != nil || n != want {
			t.Fatalf("%s: BulkSetSeverity = %d, %v; want %d", tt.name, n, err, want)
		}
		checkAlerts(t, tt.name, s, all)
		checkCounters(t, tt.name, s)
		for _, a := range moved {
			h := severityChanges(t, s, a.ID)
			if len(h) != changes[a.ID] {
				t.Errorf("%s: alert %s has %d severity changes, want %d", tt.name, a.ID, len(h), changes[a.ID])
				continue
			}
			last := h[len(h)-1]
			if last.FromSeverity != from[a.ID] || last.ToSeverity != tt.sev || last.From != a.Status || last.To != a.Status || last.Reason != "tuning" {
				t.Errorf("%s: alert %s history entry %s, want %v → %v", tt.name, a.ID, jsonOf(last), from[a.ID], tt.sev)
			}
		}
	}
	for _, a := range all {
		if got := len(severityChanges(t, s, a.ID)); got != changes[a.ID] {
			t.Errorf("alert %s: %d severity changes, want %d", a.ID, got, changes[a.ID])
		}
	}
	p, err := s.Audit(ctx, store.AuditQuery{Action: store.AuditBulkSeverity, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != len(tests) || p.Entries[0].Actor != "ana" || p.Entries[0].Object != "alerts" {
		t.Errorf("bulk severity audit: %s; want %d entries by ana on alerts", jsonOf(p.Entries), len(tests))
	}
	_, err = s.BulkSetSeverity(ctx, store.AlertQuery{}, 0, "ana", "")
	wantErr(t, "bulk to severity 0", err, store.ErrInvalid)
	_, err = s.BulkSetSeverity(ctx, store.AlertQuery{Severities: []alert.Severity{8}}, alert.Low, "ana", "")
	wantErr(t, "bulk with bad filter", err, store.ErrInvalid)
	_, err = s.BulkSetSeverity(ctx, store.AlertQuery{}, alert.Low, "ana", strings.Repeat("r", store.MaxReasonLen+1))
	wantErr(t, "bulk with a long reason", err, store.ErrInvalid)

	// Re-ingest every alert as the sensor saw it, later: the severities
	// people set stay.
	again := make([]*alert.Alert, len(all))
	for i, a := range all {
		c := clone(a)
		c.Severity = sensorSeverity[a.ID]
		c.LastDetection = c.LastDetection.Add(time.Minute)
		a.LastDetection = c.LastDetection
		again[i] = c
		if changes[a.ID] == 0 {
			a.Severity = c.Severity
		}
	}
	if err := s.PutAlerts(ctx, again); err != nil {
		t.Fatal(err)
	}
	checkAlerts(t, "after re-ingest", s, all)
	checkCounters(t, "after re-ingest", s)
}

func testRecommendationStatus(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	statuses := []recommend.Status{recommend.Open, recommend.InProgress, recommend.Done, recommend.Dismissed}
	// The lifecycle, as recommend documents it.
	allowed := map[[2]recommend.Status]bool{
		{recommend.Open, recommend.InProgress}: true, {recommend.Open, recommend.Done}: true, {recommend.Open, recommend.Dismissed}: true,
		{recommend.InProgress, recommend.Open}: true, {recommend.InProgress, recommend.Done}: true, {recommend.InProgress, recommend.Dismissed}: true,
		{recommend.Done, recommend.Open}: true, {recommend.Done, recommend.Dismissed}: true,
		{recommend.Dismissed, recommend.Open}: true,
	}
	set := func(id string, st recommend.Status, reason string) (store.RecommendationStatus, error) {
		return s.SetRecommendationStatus(ctx, store.RecommendationStatus{ID: id, Device: "10.1.0.3", Title: "Update the firmware " + id,
			Status: st, Reason: reason}, "ana")
	}
	kept := map[string]recommend.Status{} // the status each id must have
	for i, from := range statuses {
		for j, to := range statuses {
			id := recommend.ID("10.1.0.3", recommend.Kind("update"), fmt.Sprint(i, j))
			n := 0
			if from != recommend.Open { // Open: nothing stored
				if _, err := set(id, from, "setting up"); err != nil {
					t.Fatalf("%v: %v", from, err)
				}
				n, kept[id] = 1, from
			}
			got, err := set(id, to, "  because  ")
			if allowed[[2]recommend.Status{from, to}] != (err == nil) {
				t.Errorf("%v → %v: %v, want allowed %v", from, to, err, allowed[[2]recommend.Status{from, to}])
			}
			if err != nil {
				wantErr(t, fmt.Sprintf("%v → %v", from, to), err, store.ErrInvalid)
			} else {
				n++
				kept[id] = to
				if got.ID != id || got.Status != to || got.Reason != "because" || got.Actor != "ana" || got.Changed.IsZero() ||
					got.Device != "10.1.0.3" || got.Title != "Update the firmware "+id {
					t.Errorf("%v → %v returned %s", from, to, jsonOf(got))
				}
			}
			h, err := s.RecommendationHistory(ctx, id)
			if err != nil || len(h) != n || (n > 0 && h[n-1].Status != kept[id]) {
				t.Errorf("%v → %v: history %s, %v; want %d changes ending %v", from, to, jsonOf(h), err, n, kept[id])
			}
		}
	}
	got, err := s.RecommendationStatuses(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	gotStatus := map[string]recommend.Status{}
	for id, r := range got {
		gotStatus[id] = r.Status
		if r.ID != id {
			t.Errorf("RecommendationStatuses: %s under %s", r.ID, id)
		}
	}
	if !maps.Equal(gotStatus, kept) {
		t.Errorf("RecommendationStatuses(all) = %v, want %v", gotStatus, kept)
	}

	// One recommendation through a whole life, in order.
	id := recommend.ID("00:1b:1b:6e:42:a9", recommend.Kind("segment"), "plc")
	life := []struct {
		to     recommend.Status
		reason string
		device string
		err    error
	}{
		{recommend.Dismissed, "", "00:1b:1b:6e:42:a9", store.ErrInvalid},     // a dismissal needs a reason
		{recommend.Dismissed, " \t ", "00:1b:1b:6e:42:a9", store.ErrInvalid}, // and space is none
		{recommend.Open, "", "00:1b:1b:6e:42:a9", store.ErrInvalid},          // already open
		{recommend.InProgress, "", "00:1b:1b:6e:42:a9", nil},
		{recommend.Done, "firewall rule 12", "", nil}, // device kept from before
		{recommend.Open, "rule removed", "", nil},
		{recommend.Dismissed, "accepted risk", "", nil},
		{recommend.Done, "", "", store.ErrInvalid},
		{0, "", "", store.ErrInvalid},
		{recommend.Open, strings.Repeat("r", store.MaxReasonLen+1), "", store.ErrInvalid},
	}
	var want []recommend.Status
	for i, c := range life {
		_, err := s.SetRecommendationStatus(ctx, store.RecommendationStatus{ID: id, Device: c.device, Title: "Segment the PLC", Status: c.to, Reason: c.reason}, "bob")
		if c.err != nil {
			wantErr(t, fmt.Sprintf("change %d to %v", i, c.to), err, c.err)
			continue
		}
		if err != nil {
			t.Fatalf("change %d to %v: %v", i, c.to, err)
		}
		want = append(want, c.to)
	}
	h, err := s.RecommendationHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var hs []recommend.Status
	for i, r := range h {
		hs = append(hs, r.Status)
		if r.Device != "00:1b:1b:6e:42:a9" || r.Actor != "bob" || (i > 0 && r.Changed.Before(h[i-1].Changed)) {
			t.Errorf("history entry %d: %s", i, jsonOf(r))
		}
	}
	if !slices.Equal(hs, want) {
		t.Errorf("history %v, want %v", hs, want)
	}
	p, err := s.Audit(ctx, store.AuditQuery{Object: "recommendation:" + id})
	if err != nil {
		t.Fatal(err)
	}
	// Newest first.
	wantAudit := []string{"open → dismissed: accepted risk", "done → open: rule removed", "in_progress → done: firewall rule 12", "open → in_progress"}
	if len(p.Entries) != len(wantAudit) {
		t.Fatalf("audit of %s: %s, want %d entries", id, jsonOf(p.Entries), len(wantAudit))
	}
	for i, e := range p.Entries {
		if e.Action != store.ActionRecommendationStatus || e.Actor != "bob" || !strings.Contains(e.Detail, wantAudit[i]) ||
			!strings.Contains(e.Detail, "00:1b:1b:6e:42:a9") || !strings.Contains(e.Detail, "Segment the PLC") {
			t.Errorf("audit entry %d: %s; want %s by bob with %q, the device and the title", i, jsonOf(e), store.ActionRecommendationStatus, wantAudit[i])
		}
	}

	sel, err := s.RecommendationStatuses(ctx, []string{id, "no-such-recommendation"})
	if err != nil || len(sel) != 1 || sel[id].Status != recommend.Dismissed || sel[id].Reason != "accepted risk" {
		t.Errorf("RecommendationStatuses(one known, one unknown) = %s, %v", jsonOf(sel), err)
	}
	if h, err := s.RecommendationHistory(ctx, "no-such-recommendation"); err != nil || len(h) != 0 {
		t.Errorf("history of a recommendation never changed: %s, %v", jsonOf(h), err)
	}
	_, err = s.SetRecommendationStatus(ctx, store.RecommendationStatus{Status: recommend.Done}, "bob")
	wantErr(t, "recommendation without id", err, store.ErrInvalid)
}

// sameSession reports whether two sessions are equal, times compared as
// instants.
func sameSession(a, b store.Session) bool {
	return a.Key == b.Key && a.User == b.User && a.CSRF == b.CSRF && a.IP == b.IP &&
		a.Created.Equal(b.Created) && a.LastSeen.Equal(b.LastSeen) && a.Expires.Equal(b.Expires)
}

func testSessions(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	now := base.Add(24 * time.Hour)
	idle := now.Add(-time.Hour)
	tests := []struct {
		name           string
		user           string
		seen, expires  time.Time
		survivesExpire bool
	}{
		{"fresh", "ana", now.Add(-10 * time.Minute), now.Add(time.Hour), true},
		{"idle", "ana", now.Add(-2 * time.Hour), now.Add(time.Hour), false},
		{"seen at the idle bound", "bob", idle, now.Add(time.Hour), true},
		{"expired", "bob", now.Add(-time.Minute), now.Add(-time.Second), false},
		{"expiring now", "carol", now, now, false},
		{"other user", "bob", now, now.Add(8 * time.Hour), true},
	}
	put := make([]store.Session, len(tests))
	for i, tt := range tests {
		put[i] = store.Session{Key: fmt.Sprintf("%064x", i+1), User: tt.user, CSRF: "csrf-" + tt.name, IP: "192.0.2.1",
			Created: tt.seen.Add(-time.Minute), LastSeen: tt.seen, Expires: tt.expires}
		if err := s.PutSession(ctx, put[i]); err != nil {
			t.Fatalf("PutSession(%s): %v", tt.name, err)
		}
	}
	for i, tt := range tests {
		got, err := s.Session(ctx, put[i].Key)
		if err != nil || !sameSession(got, put[i]) {
			t.Errorf("Session(%s) = %+v, %v; want %+v", tt.name, got, err, put[i])
		}
	}
	_, err := s.Session(ctx, "no-such-session")
	wantErr(t, "Session(unknown)", err, store.ErrNotFound)
	wantErr(t, "session without key", s.PutSession(ctx, store.Session{User: "ana"}), store.ErrInvalid)
	wantErr(t, "session without user", s.PutSession(ctx, store.Session{Key: "k"}), store.ErrInvalid)

	// Replacing by key, and touching.
	put[0].CSRF, put[0].IP = "csrf-new", "192.0.2.9"
	if err := s.PutSession(ctx, put[0]); err != nil {
		t.Fatal(err)
	}
	put[0].LastSeen = now.Add(-5 * time.Minute)
	if err := s.TouchSession(ctx, put[0].Key, put[0].LastSeen); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Session(ctx, put[0].Key); err != nil || !sameSession(got, put[0]) {
		t.Errorf("after replacing and touching: %+v, %v; want %+v", got, err, put[0])
	}
	wantErr(t, "TouchSession(unknown)", s.TouchSession(ctx, "no-such-session", now), store.ErrNotFound)

	if err := s.ExpireSessions(ctx, now, idle); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		_, err := s.Session(ctx, put[i].Key)
		if tt.survivesExpire && err != nil {
			t.Errorf("ExpireSessions removed %s: %v", tt.name, err)
		}
		if !tt.survivesExpire {
			wantErr(t, "ExpireSessions kept "+tt.name, err, store.ErrNotFound)
		}
	}

	if err := s.DeleteUserSessions(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		if _, err := s.Session(ctx, put[i].Key); tt.user == "bob" && err == nil {
			t.Errorf("DeleteUserSessions(bob) kept %s", tt.name)
		}
	}
	if _, err := s.Session(ctx, put[0].Key); err != nil {
		t.Errorf("DeleteUserSessions(bob) removed ana's session: %v", err)
	}
	for range 2 { // removing a missing session is no error
		if err := s.DeleteSession(ctx, put[0].Key); err != nil {
			t.Errorf("DeleteSession: %v", err)
		}
	}
	_, err = s.Session(ctx, put[0].Key)
	wantErr(t, "Session(deleted)", err, store.ErrNotFound)
}

// sameToken reports whether two tokens are equal, times compared as
// instants.
func sameToken(a, b store.Token) bool {
	return a.ID == b.ID && a.User == b.User && a.Name == b.Name && a.Hash == b.Hash &&
		a.Created.Equal(b.Created) && a.LastUsed.Equal(b.LastUsed) && a.Expires.Equal(b.Expires)
}

func tokenIDs(ts []store.Token) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func testTokens(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	tok := func(id, user string, created time.Duration) store.Token {
		return store.Token{ID: id, User: user, Name: "sensor " + id, Hash: fmt.Sprintf("%064x", len(id)*1000+int(id[len(id)-1])),
			Created: base.Add(created)}
	}
	put := []store.Token{
		tok("tok_c", "ana", 2*time.Minute),
		tok("tok_b", "ana", time.Minute),
		tok("tok_a", "ana", 2*time.Minute), // same time as tok_c: by ID
		tok("tok_d", "bob", 0),
	}
	put[0].Expires = base.Add(24 * time.Hour)
	for _, tk := range put {
		if err := s.PutToken(ctx, tk); err != nil {
			t.Fatalf("PutToken(%s): %v", tk.ID, err)
		}
	}
	dupID := tok("tok_a", "bob", 0)
	dupID.Hash = strings.Repeat("f", 64)
	dupHash := tok("tok_e", "bob", 0)
	dupHash.Hash = put[1].Hash
	bad := []struct {
		name string
		t    store.Token
		err  error
	}{
		{"duplicate id", dupID, store.ErrConflict},
		{"duplicate hash", dupHash, store.ErrConflict},
		{"no id", store.Token{User: "ana", Hash: "h"}, store.ErrInvalid},
		{"no user", store.Token{ID: "tok_x", Hash: "h"}, store.ErrInvalid},
		{"no hash", store.Token{ID: "tok_x", User: "ana"}, store.ErrInvalid},
	}
	for _, tt := range bad {
		wantErr(t, "PutToken("+tt.name+")", s.PutToken(ctx, tt.t), tt.err)
	}
	for _, want := range put {
		if got, err := s.Token(ctx, want.ID); err != nil || !sameToken(got, want) {
			t.Errorf("Token(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
		if got, err := s.TokenByHash(ctx, want.Hash); err != nil || !sameToken(got, want) {
			t.Errorf("TokenByHash(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
		if got, _ := s.Token(ctx, want.ID); !got.LastUsed.IsZero() {
			t.Errorf("token %s never used has LastUsed %v", want.ID, got.LastUsed)
		}
	}
	_, err := s.Token(ctx, "tok_none")
	wantErr(t, "Token(unknown)", err, store.ErrNotFound)
	_, err = s.TokenByHash(ctx, strings.Repeat("0", 64))
	wantErr(t, "TokenByHash(unknown)", err, store.ErrNotFound)
	lists := []struct {
		user string
		want []string
	}{
		{"ana", []string{"tok_b", "tok_a", "tok_c"}},
		{"bob", []string{"tok_d"}},
		{"", []string{"tok_d", "tok_b", "tok_a", "tok_c"}},
		{"nobody", []string{}},
	}
	for _, l := range lists {
		got, err := s.Tokens(ctx, l.user)
		if err != nil || !slices.Equal(tokenIDs(got), l.want) {
			t.Errorf("Tokens(%q) = %v, %v; want %v", l.user, tokenIDs(got), err, l.want)
		}
	}

	used := base.Add(time.Hour)
	if err := s.TouchToken(ctx, "tok_b", used); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Token(ctx, "tok_b"); err != nil || !got.LastUsed.Equal(used) {
		t.Errorf("after TouchToken: %+v, %v", got, err)
	}
	wantErr(t, "TouchToken(unknown)", s.TouchToken(ctx, "tok_none", used), store.ErrNotFound)

	if err := s.DeleteToken(ctx, "tok_b"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteToken again", s.DeleteToken(ctx, "tok_b"), store.ErrNotFound)
	_, err = s.TokenByHash(ctx, put[1].Hash)
	wantErr(t, "TokenByHash(deleted)", err, store.ErrNotFound)
	if err := s.PutToken(ctx, dupHash); err != nil {
		t.Errorf("reusing a deleted token's hash: %v", err)
	}
	if err := s.DeleteUserTokens(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Tokens(ctx, ""); err != nil || !slices.Equal(tokenIDs(got), []string{"tok_d", "tok_e"}) {
		t.Errorf("after DeleteUserTokens(ana): %v, %v; want bob's tok_d, tok_e", tokenIDs(got), err)
	}
}

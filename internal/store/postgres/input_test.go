package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

// TestBadTextChangesNothing: text PostgreSQL cannot store (a NUL byte,
// invalid UTF-8) is ErrInvalid and leaves the store as it was.
func TestBadTextChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, store.Options{})
	defer s.Close()
	good := sampleAlerts(3)
	if err := s.PutAlerts(ctx, good[:1]); err != nil {
		t.Fatal(err)
	}
	for _, mut := range []func(a *alert.Alert){
		func(a *alert.Alert) { a.Sensor = "s\x001" },
		func(a *alert.Alert) { a.Category = "bad \xff utf-8" },
		func(a *alert.Alert) { a.Destination.Name = "plc\x00" },
	} {
		b := *good[2]
		mut(&b)
		err := s.PutAlerts(ctx, []*alert.Alert{good[1], &b})
		if !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutAlerts(%q, %q, %q): %v, want ErrInvalid", b.Sensor, b.Category, b.Destination.Name, err)
		}
	}
	f, err := s.AlertFacets(ctx, store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Total != 1 {
		t.Errorf("refused batches stored alerts: %d alerts, want 1", f.Total)
	}
	evs := []store.Event{{Time: t0, Type: "new_device", Detail: "ok"}, {Time: t0, Type: "new_device", Detail: "nul\x00"}}
	if err := s.PutEvents(ctx, evs); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("PutEvents with a NUL byte: %v, want ErrInvalid", err)
	}
	p, err := s.Events(ctx, store.EventQuery{})
	if err != nil || len(p.Events) != 0 {
		t.Errorf("refused events stored %d events (%v)", len(p.Events), err)
	}
	if _, err := s.Comment(ctx, good[0].ID, "ana", "see \x00 here"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("comment with a NUL byte: %v, want ErrInvalid", err)
	}
	if cs, _ := s.Comments(ctx, good[0].ID); len(cs) != 0 {
		t.Errorf("refused comment stored: %d comments", len(cs))
	}
}

// TestDuplicatesInBatch: copies of one alert in one batch are stored as
// if put one after the other (Store.PutAlerts): count and last detection
// the largest, first detection the smallest, the title of the most
// recently detected copy, the status of the first.
func TestDuplicatesInBatch(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, store.Options{})
	defer s.Close()
	a := sampleAlerts(1)[0]
	a.Status = alert.Active
	newer := *a
	newer.LastDetection, newer.Count, newer.Title, newer.Status = a.LastDetection.Add(time.Hour), 2, "newer", alert.Closed
	older := *a
	older.FirstDetection, older.LastDetection, older.Count, older.Title = a.FirstDetection.Add(-time.Hour), a.FirstDetection, 9, "older"
	if err := s.PutAlerts(ctx, []*alert.Alert{a, &newer, &older}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Alert(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Count != 9 || !got.LastDetection.Equal(newer.LastDetection) || !got.FirstDetection.Equal(older.FirstDetection) ||
		got.Title != "newer" || got.Status != alert.Active {
		t.Errorf("merged copies: count %d first %v last %v title %q status %v", got.Count, got.FirstDetection, got.LastDetection, got.Title, got.Status)
	}
	f, _ := s.AlertFacets(ctx, store.AlertQuery{})
	if f.Total != 1 {
		t.Errorf("%d alerts from copies of one", f.Total)
	}
}

// TestConcurrentStores: two stores on one database (two consoles) ingest
// overlapping batches in opposite orders and change statuses at the same
// time; every call succeeds and the counts match the alerts stored.
func TestConcurrentStores(t *testing.T) {
	ctx := context.Background()
	dsn := freshSchema(t)
	var stores [2]store.Store
	for i := range stores {
		s, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	all := sampleAlerts(300)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := slices.Clone(all)
			if i == 1 {
				slices.Reverse(batch)
			}
			for j := 0; j < len(batch); j += 50 {
				if err := s.PutAlerts(ctx, batch[j:min(j+100, len(batch))]); err != nil {
					errs <- err
					return
				}
				if _, err := s.BulkSetStatus(ctx, store.AlertQuery{Sensors: []string{"s1"}}, alert.Closed, "ana", ""); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent writer: %v", err)
	}
	for i, s := range stores {
		f, err := s.AlertFacets(ctx, store.AlertQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Total != int64(len(all)) {
			t.Errorf("store %d: %d alerts, want %d", i, f.Total, len(all))
		}
		p, err := s.Alerts(ctx, store.AlertQuery{Text: "plc-3", Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, a := range all {
			if a.Destination.Name == "plc-3" {
				want++
			}
		}
		if len(p.Alerts) != want {
			t.Errorf("store %d: text plc-3 finds %d alerts, want %d (strings added by the other store)", i, len(p.Alerts), want)
		}
	}
}

func TestEvidenceWithoutDirectory(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, store.Options{})
	defer s.Close()
	a := sampleAlerts(1)[0]
	if err := s.PutAlerts(ctx, []*alert.Alert{a}); err != nil {
		t.Fatal(err)
	}
	shb := []byte{0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0}
	if err := s.PutEvidence(ctx, a.ID, shb); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("PutEvidence without an evidence directory: %v, want ErrInvalid", err)
	}
	if _, err := s.Evidence(ctx, a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Evidence: %v, want ErrNotFound", err)
	}
}

// TestMixedBatches: batches holding both stored and new alerts or events
// (the update path and the per-row checks) store each once.
func TestMixedBatches(t *testing.T) {
	ctx := context.Background()
	s := openFresh(t, store.Options{})
	defer s.Close()
	all := sampleAlerts(100)
	if err := s.PutAlerts(ctx, all[:50]); err != nil {
		t.Fatal(err)
	}
	again := make([]*alert.Alert, 0, 75)
	for _, a := range all[25:] {
		c := *a
		c.Count += 5
		again = append(again, &c)
	}
	if err := s.PutAlerts(ctx, again); err != nil {
		t.Fatal(err)
	}
	f, err := s.AlertFacets(ctx, store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Total != 100 {
		t.Errorf("%d alerts after a mixed batch, want 100", f.Total)
	}
	for _, i := range []int{10, 30, 70} {
		got, err := s.Alert(ctx, all[i].ID)
		want := all[i].Count
		if i >= 25 {
			want += 5
		}
		if err != nil || got.Count != want {
			t.Errorf("alert %d: count %v (%v), want %d", i, got, err, want)
		}
	}
	var evs []store.Event
	for i := range 200 {
		evs = append(evs, store.Event{Time: t0.Add(time.Duration(i) * time.Second), Sensor: "s1", Type: "new_device", Device: "10.0.0.1"})
	}
	var even []store.Event
	for i := 0; i < len(evs); i += 2 {
		even = append(even, evs[i])
	}
	if err := s.PutEvents(ctx, even); err != nil {
		t.Fatal(err)
	}
	if err := s.PutEvents(ctx, append(evs, evs[:3]...)); err != nil {
		t.Fatal(err)
	}
	p, err := s.Events(ctx, store.EventQuery{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != len(evs) {
		t.Errorf("%d events stored, want %d", len(p.Events), len(evs))
	}
}

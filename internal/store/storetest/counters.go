package storetest

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/store"
)

// Counters is implemented by stores that keep alert counts per
// combination of the facet dimensions (both backends do). The suite
// checks after every kind of change that the counter rows agree with the
// alerts and that none is kept at zero.
type Counters interface {
	// FacetCounters returns every stored counter row, with its count,
	// zero ones included.
	FacetCounters(ctx context.Context) ([]store.CubeRow, error)
}

// cubeKey is a combination of the facet dimensions.
type cubeKey struct {
	sensor, site, zone, category, protocol, typ string
	severity                                    alert.Severity
	status                                      alert.Status
	engine                                      alert.Engine
}

func keyOfRow(r *store.CubeRow) cubeKey {
	return cubeKey{r.Sensor, r.Site, r.Zone, r.Category, r.Protocol, r.Type, r.Severity, r.Status, r.Engine}
}

func keyOfAlert(a *alert.Alert) cubeKey {
	return cubeKey{a.Sensor, a.Site, a.Zone, a.Category, a.Protocol, a.Type, a.Severity, a.Status, a.Engine}
}

// checkCounters fails the test when s keeps a counter row at zero or
// less, or when its counts differ from those of the alerts stored.
func checkCounters(t *testing.T, what string, s store.Store) {
	t.Helper()
	c, ok := s.(Counters)
	if !ok {
		t.Errorf("%s: %T keeps no facet counters (storetest.Counters)", what, s)
		return
	}
	ctx := context.Background()
	rows, err := c.FacetCounters(ctx)
	if err != nil {
		t.Fatalf("%s: FacetCounters: %v", what, err)
	}
	got := map[cubeKey]int64{}
	for i := range rows {
		if rows[i].Count <= 0 {
			t.Errorf("%s: counter row %+v holds %d alerts", what, rows[i], rows[i].Count)
		}
		got[keyOfRow(&rows[i])] += rows[i].Count
	}
	want := map[cubeKey]int64{}
	for q := (store.AlertQuery{Limit: store.MaxLimit}); ; {
		p, err := s.Alerts(ctx, q)
		if err != nil {
			t.Fatalf("%s: Alerts: %v", what, err)
		}
		for _, r := range p.Alerts {
			want[keyOfAlert(&r.Alert)]++
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	for _, k := range sortedKeys(got, want) {
		if got[k] != want[k] {
			t.Errorf("%s: counter of %+v = %d, want %d", what, k, got[k], want[k])
		}
	}
}

// sortedKeys returns the keys of both maps, once each, in a fixed order.
func sortedKeys(ms ...map[cubeKey]int64) []cubeKey {
	var out []cubeKey
	for _, m := range ms {
		for k := range m {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b cubeKey) int {
		return cmp.Or(cmp.Compare(a.sensor, b.sensor), cmp.Compare(a.site, b.site), cmp.Compare(a.zone, b.zone),
			cmp.Compare(a.category, b.category), cmp.Compare(a.protocol, b.protocol), cmp.Compare(a.typ, b.typ),
			cmp.Compare(a.severity, b.severity), cmp.Compare(a.status, b.status), cmp.Compare(a.engine, b.engine))
	})
	return slices.Compact(out)
}

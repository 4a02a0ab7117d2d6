package sensor

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/inventory"
)

// TestMetricsLimited checks that the drop counts of the inventory's and
// the detector's tables are published by table.
func TestMetricsLimited(t *testing.T) {
	m := NewMetrics()
	m.setLimited(inventory.Stats{MACsDropped: 900, AddressesDropped: 7, ConnectionsDropped: 2, ConflictsDropped: 3}, detect.Stats{HostsDropped: 5})
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	ss, types, err := parseExposition(rec.Body.String())
	if err != nil {
		t.Fatalf("not the exposition format: %v\n%s", err, rec.Body)
	}
	if types["otwatch_limit_dropped_total"] != "counter" {
		t.Errorf("otwatch_limit_dropped_total has type %q, want counter", types["otwatch_limit_dropped_total"])
	}
	for table, want := range map[string]float64{"inventory_macs": 900, "inventory_addresses": 7, "inventory_connections": 2, "inventory_conflicts": 3, "detector_hosts": 5} {
		if v, ok := value(ss, "otwatch_limit_dropped_total", "table", table); !ok || v != want {
			t.Errorf("otwatch_limit_dropped_total{table=%q} = %v (present %v), want %v", table, v, ok, want)
		}
	}
}

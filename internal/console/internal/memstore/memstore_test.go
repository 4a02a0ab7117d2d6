package memstore

import (
	"testing"

	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/store/storetest"
)

// TestConformance runs the store's conformance subtests that hold for a
// store without indexes, retention or validation of places, devices and
// baselines beyond what the store package checks.
func TestConformance(t *testing.T) {
	storetest.RunSome(t, func(_ testing.TB, opts store.Options) store.Store { return New(opts) },
		"AlertRoundTrip", "AlertIdempotent", "AlertBadInput", "AlertFilters", "AlertPagination", "AlertFacets",
		"AlertInvalidQuery", "RelatedAlerts", "Events", "RelatedEvents", "Transitions", "SetStatusAtomic",
		"BulkSetStatus", "SetSeverity", "BulkSetSeverity", "Learn", "Mute", "Comments", "Suppressor", "Evidence",
		"DeviceIDs", "DeviceIDsConcurrent", "Users", "RecommendationStatus", "Sessions", "Tokens", "Closed")
}

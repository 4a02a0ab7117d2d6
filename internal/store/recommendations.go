package store

import (
	"time"

	"github.com/otwatch/otwatch/internal/recommend"
)

// ActionRecommendationStatus is the audit log action of a recommendation
// status change; its Object is "recommendation:<id>".
const ActionRecommendationStatus = "recommendation.status"

// RecommendationStatus is a person's decision on one recommendation.
// Recommendations themselves are computed from the inventory and the
// advisories each time; only their status is stored, by their stable ID.
type RecommendationStatus struct {
	ID string `json:"id"` // recommend.ID of the recommendation
	// Device is the recommendation's device key (recommend.DeviceKey) and
	// Title its title, kept so that the audit log and history read
	// without recomputing it.
	Device  string           `json:"device"`
	Title   string           `json:"title,omitempty"`
	Status  recommend.Status `json:"status"`
	Reason  string           `json:"reason,omitempty"`
	Actor   string           `json:"actor"`
	Changed time.Time        `json:"changed"`
}

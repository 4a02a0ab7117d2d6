package store

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

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

// Limits on a recommendation status's texts, in bytes; longer is
// ErrInvalid.
const (
	maxRecommendationID     = 128
	maxRecommendationDevice = 256
	maxRecommendationTitle  = 1000
)

// NextRecommendationStatus returns the record SetRecommendationStatus
// stores for r, given the stored one (nil when none): the change is
// checked against the lifecycle from the stored status, or Open
// (recommend.CheckTransition), and fails with ErrInvalid when not
// allowed, as it does for an empty or overlong ID, Device or Title or a
// reason longer than MaxReasonLen. The reason is trimmed; an empty
// Device or Title is taken from the stored record; Actor and Changed
// are set. from is the status the change starts from.
func NextRecommendationStatus(stored *RecommendationStatus, r RecommendationStatus, actor string, now time.Time) (next RecommendationStatus, from recommend.Status, err error) {
	switch {
	case strings.TrimSpace(r.ID) == "" || len(r.ID) > maxRecommendationID || !utf8.ValidString(r.ID):
		return r, 0, fmt.Errorf("%w: recommendation id %q", ErrInvalid, r.ID)
	case len(r.Device) > maxRecommendationDevice || !utf8.ValidString(r.Device):
		return r, 0, fmt.Errorf("%w: recommendation %s: device key too long or not UTF-8", ErrInvalid, r.ID)
	case len(r.Title) > maxRecommendationTitle || !utf8.ValidString(r.Title):
		return r, 0, fmt.Errorf("%w: recommendation %s: title too long or not UTF-8", ErrInvalid, r.ID)
	}
	if err := checkReason(r.Reason); err != nil {
		return r, 0, err
	}
	from = recommend.Open
	if stored != nil {
		from = stored.Status
		if r.Device == "" {
			r.Device = stored.Device
		}
		if r.Title == "" {
			r.Title = stored.Title
		}
	}
	if err := recommend.CheckTransition(from, r.Status, r.Reason); err != nil {
		return r, from, fmt.Errorf("%w: recommendation %s: %w", ErrInvalid, r.ID, err)
	}
	r.Reason = strings.TrimSpace(r.Reason)
	r.Actor, r.Changed = actor, now
	return r, from, nil
}

// RecommendationDetail is the audit log detail of a recommendation
// status change from from to r.Status: "open → done: <reason>; device
// <device>; <title>", leaving out what is empty.
func RecommendationDetail(from recommend.Status, r RecommendationStatus) string {
	d := from.String() + " → " + r.Status.String()
	if r.Reason != "" {
		d += ": " + r.Reason
	}
	if r.Device != "" {
		d += "; device " + r.Device
	}
	if r.Title != "" {
		d += "; " + r.Title
	}
	return d
}

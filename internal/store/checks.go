package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/inventory"
)

// CheckID reports whether id may name a kind of object (a site, zone,
// sensor or user): not blank and at most 128 bytes.
func CheckID(kind, id string) error {
	if strings.TrimSpace(id) == "" || len(id) > 128 {
		return fmt.Errorf("%w: %s id %q", ErrInvalid, kind, id)
	}
	return nil
}

// CheckAlerts reports whether a batch of alerts may be stored: at most
// MaxBatch, each of them fit (CheckAlert).
func CheckAlerts(alerts []*alert.Alert) error {
	if len(alerts) > MaxBatch {
		return fmt.Errorf("%w: %d alerts in one batch (at most %d)", ErrInvalid, len(alerts), MaxBatch)
	}
	for _, a := range alerts {
		if err := CheckAlert(a); err != nil {
			return err
		}
	}
	return nil
}

// AlertIDs checks the alert ids of a status or severity change (1 to
// MaxBatch) and returns them without repeats, in their order.
func AlertIDs(ids []string) ([]string, error) {
	if len(ids) == 0 || len(ids) > MaxBatch {
		return nil, fmt.Errorf("%w: %d alert ids (want 1 to %d)", ErrInvalid, len(ids), MaxBatch)
	}
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// CheckStatus validates the arguments of a status change: a known status
// and a reason of at most MaxReasonLen characters.
func CheckStatus(s alert.Status, reason string) error {
	if s < alert.New || s > alert.Closed {
		return fmt.Errorf("%w: unknown status %d", ErrInvalid, s)
	}
	return checkReason(reason)
}

// PageLimit returns the page size a query's limit asks for: DefaultLimit
// for 0, at most MaxLimit.
func PageLimit(n int) (int, error) { return limit(n) }

// RelatedLimit returns how many related alerts or events limit asks for:
// DefaultRelated for 0, at most MaxLimit.
func RelatedLimit(limit int) (int, error) {
	switch {
	case limit == 0:
		return DefaultRelated, nil
	case limit < 0 || limit > MaxLimit:
		return 0, fmt.Errorf("%w: limit %d (want 1 to %d)", ErrInvalid, limit, MaxLimit)
	}
	return limit, nil
}

// NewComment returns the comment author makes on alert id, once its text
// is checked (CheckComment) and the author not blank.
func NewComment(id, author, text string) (Comment, error) {
	c := Comment{AlertID: id, Author: author, Text: text}
	if err := CheckComment(text); err != nil {
		return c, err
	}
	if strings.TrimSpace(author) == "" {
		return c, fmt.Errorf("%w: comment without author", ErrInvalid)
	}
	return c, nil
}

// CheckExclusion returns r normalized (Exclusion.Normalize) when it may be
// stored: its ID 0 for a new rule or that of the rule it replaces.
func CheckExclusion(r Exclusion) (Exclusion, error) {
	r, err := r.Normalize()
	if err != nil {
		return r, err
	}
	if r.ID < 0 {
		return r, fmt.Errorf("%w: exclusion id %d", ErrInvalid, r.ID)
	}
	return r, nil
}

// NewExclusion returns rule r as stored new by actor at now: Created set
// and, when it names none, actor as its Author.
func NewExclusion(r Exclusion, actor string, now time.Time) Exclusion {
	r.Created = now
	if r.Author == "" {
		r.Author = actor
	}
	return r
}

// ReplaceExclusion returns rule r as it replaces old: old's Created and
// Suppressed kept, and old's Author when r names none.
func ReplaceExclusion(r, old Exclusion) Exclusion {
	r.Created, r.Suppressed = old.Created, old.Suppressed
	if r.Author == "" {
		r.Author = old.Author
	}
	return r
}

// SubnetString is a rule's Subnet as stored: "" when it has none.
func (r *Exclusion) SubnetString() string {
	if r.Subnet.IsValid() {
		return r.Subnet.String()
	}
	return ""
}

// ZoneSubnets checks a zone to be stored and returns its subnets, masked,
// as strings.
func ZoneSubnets(z Zone) ([]string, error) {
	if err := CheckID("zone", z.ID); err != nil {
		return nil, err
	}
	subnets := make([]string, len(z.Subnets))
	for i, p := range z.Subnets {
		if !p.IsValid() {
			return nil, fmt.Errorf("%w: zone %s: invalid subnet", ErrInvalid, z.ID)
		}
		subnets[i] = p.Masked().String()
	}
	return subnets, nil
}

// CheckSensor returns s as it is stored, its Mode learning when empty,
// once its ID and Mode are checked.
func CheckSensor(s Sensor) (Sensor, error) {
	if err := CheckID("sensor", s.ID); err != nil {
		return s, err
	}
	if s.Mode == "" {
		s.Mode = ModeLearning
	}
	return s, CheckSensorMode(s.Mode)
}

// CheckSensorMode reports whether mode is learning or operational.
func CheckSensorMode(mode SensorMode) error {
	if mode != ModeLearning && mode != ModeOperational {
		return fmt.Errorf("%w: unknown sensor mode %q", ErrInvalid, mode)
	}
	return nil
}

// CheckUser reports whether u may be stored: a Name (CheckID) and a known
// Role.
func CheckUser(u User) error {
	if err := CheckID("user", u.Name); err != nil {
		return err
	}
	if !ValidRole(u.Role) {
		return fmt.Errorf("%w: unknown role %q (want admin, analyst or readonly)", ErrInvalid, u.Role)
	}
	return nil
}

// CheckAuditEntry reports whether e may be added to the audit log: it
// names an action.
func CheckAuditEntry(e AuditEntry) error {
	if e.Action == "" {
		return fmt.Errorf("%w: audit entry without action", ErrInvalid)
	}
	return nil
}

// CheckDevices reports whether a sensor's devices may be stored: a
// sensor, at most MaxBatch devices, each with an ID and a Purdue level
// within -1..5.
func CheckDevices(sensor string, devices []inventory.Device) error {
	if sensor == "" {
		return fmt.Errorf("%w: devices without sensor", ErrInvalid)
	}
	if len(devices) > MaxBatch {
		return fmt.Errorf("%w: %d devices in one batch", ErrInvalid, len(devices))
	}
	for i := range devices {
		dv := &devices[i]
		if dv.ID == 0 {
			return fmt.Errorf("%w: device without id", ErrInvalid)
		}
		if dv.Purdue < -1 || dv.Purdue > 5 {
			return fmt.Errorf("%w: device %d: Purdue level %d outside -1..5", ErrInvalid, dv.ID, dv.Purdue)
		}
	}
	return nil
}

// CheckConnections reports whether a sensor's connections may be stored:
// a sensor and at most MaxBatch connections.
func CheckConnections(sensor string, conns []inventory.Connection) error {
	if sensor == "" {
		return fmt.Errorf("%w: connections without sensor", ErrInvalid)
	}
	if len(conns) > MaxBatch {
		return fmt.Errorf("%w: %d connections in one batch", ErrInvalid, len(conns))
	}
	return nil
}

// CheckBaseline reports whether baseline records may be stored: at most
// MaxBatch, each with a Kind.
func CheckBaseline(records []baseline.Record) error {
	if len(records) > MaxBatch {
		return fmt.Errorf("%w: %d baseline records in one batch", ErrInvalid, len(records))
	}
	for i := range records {
		if records[i].Kind == "" {
			return fmt.Errorf("%w: baseline entry without kind", ErrInvalid)
		}
	}
	return nil
}

// OverrideAddr normalizes the address a device override is kept by: a
// MAC or IP address (NormalizeAddr), or a routed address such as
// bacnet:3:0a.
func OverrideAddr(addr string) (string, error) {
	if a, err := NormalizeAddr(addr); err == nil {
		return a, nil
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(addr), "bacnet:"); ok {
		if n, mac, ok := strings.Cut(rest, ":"); ok && n != "" && mac != "" && strings.Trim(n, "0123456789") == "" {
			return "bacnet:" + rest, nil
		}
	}
	return "", fmt.Errorf("%w: %q is neither a MAC, an IP nor a routed address", ErrInvalid, addr)
}

// CheckOverride checks a device override and returns the address it is
// kept by (OverrideAddr): a Purdue level within 0..5 and a known type.
func CheckOverride(addr string, o inventory.Override) (string, error) {
	a, err := OverrideAddr(addr)
	if err != nil {
		return "", err
	}
	if o.Purdue != nil && (*o.Purdue < 0 || *o.Purdue > 5) {
		return "", fmt.Errorf("%w: Purdue level %d outside 0-5", ErrInvalid, *o.Purdue)
	}
	if o.Type != "" && !slices.Contains(inventory.Types, o.Type) {
		return "", fmt.Errorf("%w: unknown device type %q", ErrInvalid, o.Type)
	}
	return a, nil
}

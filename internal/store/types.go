package store

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Event is one entry of the timeline: an inventory change, a mode or
// program change, an alert opening; anything a sensor saw happen.
type Event struct {
	// ID identifies the event; PutEvents sets it to EventID(e) when 0.
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	Sensor string    `json:"sensor,omitempty"`
	// Type is an inventory.EventType ("new_device", "firmware_change"...)
	// or another event kind ("alert", "mode_change", "program_download").
	Type string `json:"type"`
	// Device is the address (IP, else MAC, as alert.Party.Key gives) of
	// the device the event is about, "" when none; DeviceID its id in the
	// sensor's inventory, 0 when unknown.
	Device   string             `json:"device,omitempty"`
	DeviceID inventory.DeviceID `json:"device_id,omitempty"`
	// Peer is the other device of the event (a connection's server, the
	// device an IP moved from), as Device.
	Peer   string             `json:"peer,omitempty"`
	PeerID inventory.DeviceID `json:"peer_id,omitempty"`
	// AlertID is the alert the event is about, if any.
	AlertID string `json:"alert_id,omitempty"`
	Detail  string `json:"detail,omitempty"`
}

// EventID returns the deterministic id of an event: a positive 63-bit
// hash of its sensor, time, type, devices, alert and detail, so that the
// same event put twice is stored once.
func EventID(e *Event) int64 {
	h := sha1.New()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(e.Time.UnixNano()))
	h.Write(b[:])
	for _, s := range []string{e.Sensor, e.Type, e.Device, e.Peer, e.AlertID, e.Detail} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	binary.BigEndian.PutUint32(b[:4], uint32(e.DeviceID))
	binary.BigEndian.PutUint32(b[4:], uint32(e.PeerID))
	h.Write(b[:])
	id := int64(binary.BigEndian.Uint64(h.Sum(nil)) >> 1)
	if id == 0 {
		id = 1
	}
	return id
}

// CheckEvent reports whether e is fit to be stored, normalizing its
// addresses and setting its ID; ErrInvalid otherwise.
func CheckEvent(e *Event) error {
	if e.Time.IsZero() {
		return fmt.Errorf("%w: event without time", ErrInvalid)
	}
	if e.Type == "" || len(e.Type) > 64 {
		return fmt.Errorf("%w: event type %q", ErrInvalid, e.Type)
	}
	for _, a := range []*string{&e.Device, &e.Peer} {
		if *a == "" {
			continue
		}
		n, err := NormalizeAddr(*a)
		if err != nil {
			if !strings.Contains(*a, ":") || !utf8.ValidString(*a) || len(*a) > 128 {
				return fmt.Errorf("event %s: %w", e.Type, err)
			}
			n = *a // a routed address such as bacnet:3:10
		}
		*a = n
	}
	if e.ID == 0 {
		e.ID = EventID(e)
	}
	return nil
}

// DeviceAddr returns the address events and alerts name a device by: its
// first IP, else its MAC, else its routed address.
func DeviceAddr(d *inventory.Device) string {
	switch {
	case len(d.IPs) > 0:
		if a, err := netip.ParseAddr(d.IPs[0]); err == nil {
			return a.Unmap().String()
		}
		return d.IPs[0]
	case d.MAC != "":
		return d.MAC
	}
	return d.Address
}

// CheckDeviceKeys reports whether DeviceIDs may resolve keys for sensor:
// a sensor, at most MaxBatch keys, each of them not empty, UTF-8 without
// NUL and at most MaxKeyLen bytes long; ErrInvalid otherwise.
func CheckDeviceKeys(sensor string, keys []string) error {
	if sensor == "" {
		return fmt.Errorf("%w: device keys without sensor", ErrInvalid)
	}
	if len(keys) > MaxBatch {
		return fmt.Errorf("%w: %d device keys in one batch", ErrInvalid, len(keys))
	}
	for _, k := range keys {
		if len(k) > MaxKeyLen {
			return fmt.Errorf("%w: device key of %d bytes", ErrInvalid, len(k))
		}
		if k == "" || !utf8.ValidString(k) || strings.IndexByte(k, 0) >= 0 {
			return fmt.Errorf("%w: device key %q", ErrInvalid, k)
		}
	}
	return nil
}

// EventOf converts an inventory event of sensor into a timeline event;
// addr gives a device's address (DeviceAddr of the snapshot's device), ""
// when unknown.
func EventOf(sensor string, e inventory.Event, addr func(inventory.DeviceID) string) Event {
	ev := Event{Time: e.Time, Sensor: sensor, Type: string(e.Type), DeviceID: e.Device, PeerID: e.Peer, Detail: e.Detail}
	if e.Device != 0 {
		ev.Device = addr(e.Device)
	}
	if e.Peer != 0 {
		ev.Peer = addr(e.Peer)
	}
	return ev
}

// EventQuery selects timeline events; filters combine as in AlertQuery.
type EventQuery struct {
	Sensors []string `json:"sensors,omitempty"`
	Types   []string `json:"types,omitempty"`
	// Devices are IP or MAC addresses matched against Device and Peer.
	Devices []string `json:"devices,omitempty"`
	// AlertID selects the events of one alert.
	AlertID string `json:"alert_id,omitempty"`
	// From and Until bound Time to [From, Until); zero is open.
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Ascending gives oldest first; the default is newest first.
	Ascending bool   `json:"ascending,omitempty"`
	Cursor    string `json:"cursor,omitempty"`
	Limit     int    `json:"limit,omitempty"`
}

// Normalize checks q and returns it with addresses in canonical form and
// the limit set; ErrInvalid otherwise.
func (q EventQuery) Normalize() (EventQuery, error) {
	var err error
	if q.Limit, err = limit(q.Limit); err != nil {
		return q, err
	}
	if len(q.Sensors) > MaxValues || len(q.Types) > MaxValues || len(q.Devices) > MaxValues {
		return q, fmt.Errorf("%w: more than %d values in one filter", ErrInvalid, MaxValues)
	}
	if q.Devices, err = NormalizeAddrs(q.Devices); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.Until.IsZero() && !q.Until.After(q.From) {
		return q, fmt.Errorf("%w: time range ends (%v) before it starts (%v)", ErrInvalid, q.Until, q.From)
	}
	return q, nil
}

// EventPage is one page of events.
type EventPage struct {
	Events []Event `json:"events"`
	Next   string  `json:"next,omitempty"`
}

// DeviceRecord is a stored device of one sensor, with where it is.
type DeviceRecord struct {
	Sensor string `json:"sensor"`
	Site   string `json:"site,omitempty"` // the sensor's site
	Zone   string `json:"zone,omitempty"` // the sensor's zone
	inventory.Device
}

// DeviceSort is the order of a device page.
type DeviceSort string

// Device orders; ties are broken by sensor and device ID.
const (
	DeviceSortLastSeen  DeviceSort = "last_seen" // most recently seen first (default)
	DeviceSortFirstSeen DeviceSort = "first_seen"
	DeviceSortName      DeviceSort = "name" // by name, A first; unnamed last
)

// DeviceQuery selects devices; filters combine as in AlertQuery.
type DeviceQuery struct {
	Sensors   []string         `json:"sensors,omitempty"`
	Sites     []string         `json:"sites,omitempty"`
	Zones     []string         `json:"zones,omitempty"`
	Types     []inventory.Type `json:"types,omitempty"`
	Vendors   []string         `json:"vendors,omitempty"`
	Purdue    []int            `json:"purdue_levels,omitempty"`
	Protocols []string         `json:"protocols,omitempty"` // served or used
	// Devices are IP or MAC addresses; a device matches if one of its IPs
	// or its MAC is among them.
	Devices []string `json:"devices,omitempty"`
	// Inactive, if set, selects inactive (true) or active (false) devices.
	Inactive *bool `json:"inactive,omitempty"`
	// From and Until select devices seen within [From, Until):
	// LastSeen >= From and FirstSeen < Until.
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Text matches words of the name, vendor, product, model, firmware,
	// addresses and type.
	Text      string     `json:"text,omitempty"`
	Sort      DeviceSort `json:"sort,omitempty"`
	Ascending bool       `json:"ascending,omitempty"`
	Cursor    string     `json:"cursor,omitempty"`
	Limit     int        `json:"limit,omitempty"`
}

// Normalize checks q and returns it with addresses and text in canonical
// form and defaults set; ErrInvalid otherwise.
func (q DeviceQuery) Normalize() (DeviceQuery, error) {
	var err error
	if q.Limit, err = limit(q.Limit); err != nil {
		return q, err
	}
	switch q.Sort {
	case "":
		q.Sort = DeviceSortLastSeen
	case DeviceSortLastSeen, DeviceSortFirstSeen, DeviceSortName:
	default:
		return q, fmt.Errorf("%w: unknown device sort %q", ErrInvalid, q.Sort)
	}
	for _, t := range q.Types {
		if !validType(t) {
			return q, fmt.Errorf("%w: unknown device type %q", ErrInvalid, t)
		}
	}
	for _, p := range q.Purdue {
		if p < -1 || p > 5 {
			return q, fmt.Errorf("%w: Purdue level %d outside -1..5", ErrInvalid, p)
		}
	}
	if q.Devices, err = NormalizeAddrs(q.Devices); err != nil {
		return q, err
	}
	if q.Text, err = normText(q.Text); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.Until.IsZero() && !q.Until.After(q.From) {
		return q, fmt.Errorf("%w: time range ends before it starts", ErrInvalid)
	}
	return q, nil
}

func validType(t inventory.Type) bool {
	for _, x := range inventory.Types {
		if x == t {
			return true
		}
	}
	return false
}

// DevicePage is one page of devices.
type DevicePage struct {
	Devices []*DeviceRecord `json:"devices"`
	Next    string          `json:"next,omitempty"`
}

// DeviceOverride is a person's decision about a device, kept by address.
type DeviceOverride struct {
	Addr string `json:"addr"`
	inventory.Override
	Actor   string    `json:"actor,omitempty"`
	Updated time.Time `json:"updated"`
}

// Comment is a note on an alert.
type Comment struct {
	ID      int64     `json:"id"`
	AlertID string    `json:"alert_id"`
	Author  string    `json:"author"`
	Text    string    `json:"text"`
	Time    time.Time `json:"time"`
}

// CheckComment validates a comment's text: ErrInvalid when empty or longer
// than MaxCommentLen.
func CheckComment(text string) error {
	switch n := utf8.RuneCountInString(text); {
	case !utf8.ValidString(text):
		return fmt.Errorf("%w: comment is not UTF-8", ErrInvalid)
	case strings.TrimSpace(text) == "":
		return fmt.Errorf("%w: empty comment", ErrInvalid)
	case n > MaxCommentLen:
		return fmt.Errorf("%w: comment of %d characters (at most %d)", ErrInvalid, n, MaxCommentLen)
	}
	return nil
}

// Actions in status history and the audit log.
const (
	ActionStatus   = "status"
	ActionLearn    = "learn"
	ActionMute     = "mute"
	ActionUnmute   = "unmute"
	ActionComment  = "comment"
	ActionSeverity = "severity"
)

// StatusChange is one entry of an alert's history.
type StatusChange struct {
	AlertID string    `json:"alert_id"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	// Action is ActionStatus, ActionLearn, ActionMute, ActionUnmute or
	// ActionSeverity.
	Action string       `json:"action"`
	From   alert.Status `json:"from"`
	To     alert.Status `json:"to"`
	// FromSeverity and ToSeverity are set by ActionSeverity (From and To
	// then both hold the alert's unchanged status).
	FromSeverity alert.Severity `json:"from_severity,omitempty"`
	ToSeverity   alert.Severity `json:"to_severity,omitempty"`
	Reason       string         `json:"reason,omitempty"`
}

// Mute is a muted alert pattern: alerts of Sensor with the same Type,
// Source, Destination (PartyKey) and Key are suppressed.
type Mute struct {
	ID          int64  `json:"id"`
	Sensor      string `json:"sensor"`
	Type        string `json:"type"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Key         string `json:"key"`
	// AlertID is the alert it was muted from.
	AlertID    string    `json:"alert_id"`
	Actor      string    `json:"actor"`
	Created    time.Time `json:"created"`
	Suppressed uint64    `json:"suppressed"`
}

// MuteOf returns the pattern muting a would create.
func MuteOf(a *alert.Alert) Mute {
	return Mute{Sensor: a.Sensor, Type: a.Type, Source: PartyKey(a.Source), Destination: PartyKey(a.Destination), Key: a.Key, AlertID: a.ID}
}

// Matches reports whether a has the muted pattern.
func (m *Mute) Matches(a *alert.Alert) bool {
	return m.Sensor == a.Sensor && m.Type == a.Type && m.Key == a.Key &&
		m.Source == PartyKey(a.Source) && m.Destination == PartyKey(a.Destination)
}

// Exclusion is a rule that suppresses alerts at detection time: an alert
// is suppressed when it matches every criterion the rule sets.
type Exclusion struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Type is an alert type id, or a prefix ending in "*" ("scan.*").
	Type string `json:"type,omitempty"`
	// Device is an IP or MAC address matching the source or destination.
	Device string `json:"device,omitempty"`
	// Subnet matches when the source or destination IP is in it.
	Subnet netip.Prefix `json:"subnet,omitzero"`
	Sensor string       `json:"sensor,omitempty"`
	// From and Until bound the detection time (LastDetection) to
	// [From, Until): a maintenance window. Zero is open.
	From     time.Time `json:"from,omitzero"`
	Until    time.Time `json:"until,omitzero"`
	Disabled bool      `json:"disabled,omitempty"`
	Comment  string    `json:"comment,omitempty"`
	Author   string    `json:"author,omitempty"`
	Created  time.Time `json:"created"`
	// Suppressed counts the alerts the rule suppressed.
	Suppressed uint64 `json:"suppressed"`
}

// Normalize checks r and returns it with Device and Subnet in canonical
// form; ErrInvalid when it sets no criterion or one is malformed.
func (r Exclusion) Normalize() (Exclusion, error) {
	if r.Type == "" && r.Device == "" && !r.Subnet.IsValid() && r.Sensor == "" && r.From.IsZero() && r.Until.IsZero() {
		return r, fmt.Errorf("%w: exclusion rule %q sets no criterion", ErrInvalid, r.Name)
	}
	if strings.Contains(strings.TrimSuffix(r.Type, "*"), "*") {
		return r, fmt.Errorf("%w: exclusion type %q: only a trailing * is allowed", ErrInvalid, r.Type)
	}
	if r.Device != "" {
		d, err := NormalizeAddr(r.Device)
		if err != nil {
			return r, fmt.Errorf("exclusion rule %q: %w", r.Name, err)
		}
		r.Device = d
	}
	if r.Subnet.IsValid() {
		r.Subnet = r.Subnet.Masked()
	}
	if !r.From.IsZero() && !r.Until.IsZero() && !r.Until.After(r.From) {
		return r, fmt.Errorf("%w: exclusion rule %q: window ends before it starts", ErrInvalid, r.Name)
	}
	if len(r.Name) > 200 || len(r.Comment) > MaxCommentLen {
		return r, fmt.Errorf("%w: exclusion rule name or comment too long", ErrInvalid)
	}
	return r, nil
}

// Matches reports whether the rule suppresses a (a disabled rule never
// does).
func (r *Exclusion) Matches(a *alert.Alert) bool {
	if r.Disabled {
		return false
	}
	if r.Type != "" {
		if p, ok := strings.CutSuffix(r.Type, "*"); ok {
			if !strings.HasPrefix(a.Type, p) {
				return false
			}
		} else if a.Type != r.Type {
			return false
		}
	}
	if r.Sensor != "" && r.Sensor != a.Sensor {
		return false
	}
	if r.Device != "" && r.Device != PartyKey(a.Source) && r.Device != PartyKey(a.Destination) &&
		!(a.Source.IP.IsValid() && r.Device == a.Source.MAC.String()) &&
		!(a.Destination.IP.IsValid() && r.Device == a.Destination.MAC.String()) {
		return false
	}
	if r.Subnet.IsValid() && !r.Subnet.Contains(a.Source.IP.Unmap()) && !r.Subnet.Contains(a.Destination.IP.Unmap()) {
		return false
	}
	t := a.LastDetection
	if t.IsZero() {
		t = a.FirstDetection
	}
	if !r.From.IsZero() && t.Before(r.From) {
		return false
	}
	if !r.Until.IsZero() && !t.Before(r.Until) {
		return false
	}
	return true
}

// Site is a plant, substation or building.
type Site struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Zone is a part of a site (a cell, a network segment).
type Zone struct {
	ID          string         `json:"id"`
	Site        string         `json:"site"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Subnets     []netip.Prefix `json:"subnets,omitempty"`
}

// SensorMode is whether a sensor is building its baseline or alerting on
// deviations from it.
type SensorMode string

// Sensor modes.
const (
	ModeLearning    SensorMode = "learning"
	ModeOperational SensorMode = "operational"
)

// ParseSensorMode returns the mode called name.
func ParseSensorMode(name string) (SensorMode, error) {
	switch m := SensorMode(strings.ToLower(name)); m {
	case ModeLearning, ModeOperational:
		return m, nil
	}
	return "", fmt.Errorf("%w: unknown sensor mode %q (want learning or operational)", ErrInvalid, name)
}

// Sensor is one sensor, placed in a zone of a site.
type Sensor struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Site     string     `json:"site,omitempty"`
	Zone     string     `json:"zone,omitempty"`
	Mode     SensorMode `json:"mode"`
	LastSeen time.Time  `json:"last_seen,omitzero"`
	Created  time.Time  `json:"created"`
}

// Role is what a user may do in the console.
type Role string

// Roles.
const (
	RoleAdmin    Role = "admin"
	RoleAnalyst  Role = "analyst"
	RoleReadOnly Role = "readonly"
)

// ValidRole reports whether r is one of the roles.
func ValidRole(r Role) bool { return r == RoleAdmin || r == RoleAnalyst || r == RoleReadOnly }

// User is a console user.
type User struct {
	Name     string `json:"name"`
	FullName string `json:"full_name,omitempty"`
	Role     Role   `json:"role"`
	// PasswordHash is the encoded password hash; the store keeps it as
	// given.
	PasswordHash string    `json:"-"`
	Disabled     bool      `json:"disabled,omitempty"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// AuditEntry is one entry of the audit log.
type AuditEntry struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"` // "alert.status", "exclusion.put", "login"...
	Object string    `json:"object"` // "alert:<id>", "sensor:<id>"...
	Detail string    `json:"detail,omitempty"`
}

// AuditQuery selects audit log entries; empty fields do not filter.
type AuditQuery struct {
	Actor  string    `json:"actor,omitempty"`
	Action string    `json:"action,omitempty"`
	Object string    `json:"object,omitempty"`
	From   time.Time `json:"from,omitzero"`
	Until  time.Time `json:"until,omitzero"`
	Cursor string    `json:"cursor,omitempty"`
	Limit  int       `json:"limit,omitempty"`
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Entries []AuditEntry `json:"entries"`
	Next    string       `json:"next,omitempty"`
}

// Cursor is the position after the last row of a page: up to three
// integer sort keys and a string key. Backends choose what they hold.
type Cursor struct {
	A int64  `json:"a,omitempty"`
	B int64  `json:"b,omitempty"`
	C int64  `json:"c,omitempty"`
	S string `json:"s,omitempty"`
}

// Encode returns the cursor as an opaque URL-safe string.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor decodes a string from Cursor.Encode; anything else is
// ErrInvalid.
func DecodeCursor(s string) (Cursor, error) {
	var c Cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || len(s) > 512 {
		return Cursor{}, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	return c, nil
}

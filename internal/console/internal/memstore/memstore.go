package memstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// Store is an in-memory store.Store.
type Store struct {
	opts store.Options

	mu         sync.Mutex
	closed     bool
	alerts     map[string]*store.AlertRecord
	evidence   map[string][]byte
	events     map[int64]store.Event
	devices    map[devKey]inventory.Device
	deviceIDs  map[string]map[string]inventory.DeviceID // by sensor, by key
	lastID     map[string]inventory.DeviceID            // the last device ID given out, by sensor
	conns      map[string][]inventory.Connection
	baselines  map[string]map[baseline.Entry]baseline.Record
	comments   []store.Comment
	history    []store.StatusChange
	mutes      []store.Mute
	exclusions map[int64]store.Exclusion
	sites      map[string]store.Site
	zones      map[string]store.Zone
	sensors    map[string]store.Sensor
	overrides  map[string]store.DeviceOverride
	users      map[string]store.User
	audit      []store.AuditEntry
	nextID     int64

	severitySet map[string]bool // alerts whose severity a person set
	recs        map[string]store.RecommendationStatus
	recHistory  []store.RecommendationStatus
	sessions    map[string]store.Session
	tokens      map[string]store.Token
}

type devKey struct {
	sensor string
	id     inventory.DeviceID
}

var _ store.Store = (*Store)(nil)

// New returns an empty Store.
func New(opts store.Options) *Store {
	return &Store{opts: opts, alerts: map[string]*store.AlertRecord{}, evidence: map[string][]byte{},
		events: map[int64]store.Event{}, devices: map[devKey]inventory.Device{}, conns: map[string][]inventory.Connection{},
		deviceIDs: map[string]map[string]inventory.DeviceID{}, lastID: map[string]inventory.DeviceID{},
		baselines: map[string]map[baseline.Entry]baseline.Record{}, exclusions: map[int64]store.Exclusion{},
		sites: map[string]store.Site{}, zones: map[string]store.Zone{}, sensors: map[string]store.Sensor{},
		overrides: map[string]store.DeviceOverride{}, users: map[string]store.User{},
		severitySet: map[string]bool{}, recs: map[string]store.RecommendationStatus{},
		sessions: map[string]store.Session{}, tokens: map[string]store.Token{}}
}

func (s *Store) lock() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrClosed
	}
	return nil
}

func (s *Store) id() int64 { s.nextID++; return s.nextID }

func (s *Store) addAudit(actor, action, object, detail string) {
	s.audit = append(s.audit, store.AuditEntry{ID: s.id(), Time: s.opts.Time(), Actor: actor, Action: action, Object: object, Detail: detail})
}

func notFound(what, id string) error { return fmt.Errorf("%w: %s %q", store.ErrNotFound, what, id) }

func copyRecord(r *store.AlertRecord) *store.AlertRecord {
	c := *r
	if r.Pcap != nil {
		p := *r.Pcap
		c.Pcap = &p
	}
	return &c
}

// PutAlerts upserts alerts by ID.
func (s *Store) PutAlerts(_ context.Context, alerts []*alert.Alert) error {
	for _, a := range alerts {
		if err := store.CheckAlert(a); err != nil {
			return err
		}
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	now := s.opts.Time()
	for _, in := range alerts {
		a := *in
		a.Packets = nil
		if a.LastDetection.IsZero() {
			a.LastDetection = a.FirstDetection
		}
		old, ok := s.alerts[a.ID]
		if !ok {
			if a.Status == 0 {
				a.Status = alert.New
			}
			s.alerts[a.ID] = &store.AlertRecord{Alert: a, Updated: now}
			continue
		}
		merged := a
		if old.LastDetection.After(a.LastDetection) {
			merged = old.Alert
		}
		merged.Status = old.Status
		if s.severitySet[a.ID] {
			merged.Severity = old.Severity
		}
		merged.Count = max(old.Count, a.Count)
		merged.LastDetection = maxTime(old.LastDetection, a.LastDetection)
		merged.FirstDetection = minTime(old.FirstDetection, a.FirstDetection)
		old.Alert, old.Updated = merged, now
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// PutEvents adds events, deduplicated by EventID.
func (s *Store) PutEvents(_ context.Context, events []store.Event) error {
	out := make([]store.Event, len(events))
	for i, e := range events {
		if err := store.CheckEvent(&e); err != nil {
			return err
		}
		out[i] = e
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, e := range out {
		s.events[e.ID] = e
	}
	return nil
}

// PutDevices upserts devices.
func (s *Store) PutDevices(_ context.Context, sensor string, devices []inventory.Device) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, d := range devices {
		s.devices[devKey{sensor, d.ID}] = d
	}
	return nil
}

// PutConnections upserts connections.
func (s *Store) PutConnections(_ context.Context, sensor string, conns []inventory.Connection) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, c := range conns {
		i := slices.IndexFunc(s.conns[sensor], func(o inventory.Connection) bool {
			return o.Client == c.Client && o.Server == c.Server && o.Protocol == c.Protocol &&
				o.Transport == c.Transport && o.Port == c.Port && o.Relation == c.Relation
		})
		if i >= 0 {
			s.conns[sensor][i] = c
		} else {
			s.conns[sensor] = append(s.conns[sensor], c)
		}
	}
	return nil
}

// DeviceIDs returns the store IDs of a sensor's devices by key, giving
// new keys the IDs after the sensor's last one.
func (s *Store) DeviceIDs(_ context.Context, sensor string, keys []string) ([]inventory.DeviceID, error) {
	if err := store.CheckDeviceKeys(sensor, keys); err != nil {
		return nil, err
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	known := s.deviceIDs[sensor]
	if known == nil {
		known = map[string]inventory.DeviceID{}
		s.deviceIDs[sensor] = known
	}
	last := s.lastID[sensor]
	for k := range s.devices {
		if k.sensor == sensor {
			last = max(last, k.id)
		}
	}
	out := make([]inventory.DeviceID, len(keys))
	for i, k := range keys {
		id, ok := known[k]
		if !ok {
			last++
			id = last
			known[k] = id
		}
		out[i] = id
	}
	s.lastID[sensor] = last
	return out, nil
}

// PutBaseline upserts baseline records.
func (s *Store) PutBaseline(_ context.Context, sensor string, records []baseline.Record) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.putBaseline(sensor, records)
	return nil
}

func (s *Store) putBaseline(sensor string, records []baseline.Record) {
	m := s.baselines[sensor]
	if m == nil {
		m = map[baseline.Entry]baseline.Record{}
		s.baselines[sensor] = m
	}
	for _, r := range records {
		m[r.Entry] = r
	}
}

// Baseline returns a sensor's baseline records.
func (s *Store) Baseline(_ context.Context, sensor string) ([]baseline.Record, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := []baseline.Record{}
	for _, r := range s.baselines[sensor] {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b baseline.Record) int { return cmp.Compare(a.Entry.String(), b.Entry.String()) })
	return out, nil
}

var pcapngMagic = []byte{0x0a, 0x0d, 0x0d, 0x0a}

// PutEvidence stores an alert's pcapng evidence.
func (s *Store) PutEvidence(_ context.Context, alertID string, pcapng []byte) error {
	if !bytes.HasPrefix(pcapng, pcapngMagic) || len(pcapng) < 28 {
		return fmt.Errorf("%w: evidence of alert %s is not pcapng", store.ErrInvalid, alertID)
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	r, ok := s.alerts[alertID]
	if !ok {
		return notFound("alert", alertID)
	}
	s.evidence[alertID] = bytes.Clone(pcapng)
	r.Pcap = &store.EvidenceInfo{Size: int64(len(pcapng)), Stored: s.opts.Time()}
	return nil
}

// Evidence returns an alert's pcapng evidence.
func (s *Store) Evidence(_ context.Context, alertID string) ([]byte, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	b, ok := s.evidence[alertID]
	if !ok {
		return nil, notFound("evidence of alert", alertID)
	}
	return bytes.Clone(b), nil
}

// matchesOther reports whether a passes q's filters outside the facet
// dimensions: devices, time range and text, as store.AlertQuery
// documents them.
func matchesOther(a *store.AlertRecord, q *store.AlertQuery) bool {
	if len(q.Devices) > 0 && !slices.Contains(q.Devices, store.PartyKey(a.Source)) && !slices.Contains(q.Devices, store.PartyKey(a.Destination)) {
		return false
	}
	if !q.From.IsZero() && a.LastDetection.Before(q.From) {
		return false
	}
	if !q.Until.IsZero() && !a.LastDetection.Before(q.Until) {
		return false
	}
	fields := []string{a.Type, a.Category, a.Protocol, a.Sensor, a.Site, a.Zone, store.PartyText(a.Source), store.PartyText(a.Destination)}
	for _, term := range strings.Fields(q.Text) {
		if !slices.ContainsFunc(fields, func(f string) bool { return store.TermMatches(term, f) }) {
			return false
		}
	}
	return true
}

func cubeRow(a *store.AlertRecord) store.CubeRow {
	return store.CubeRow{Sensor: a.Sensor, Site: a.Site, Zone: a.Zone, Category: a.Category, Protocol: a.Protocol,
		Type: a.Type, Severity: a.Severity, Status: a.Status, Engine: a.Engine, Count: 1}
}

func (s *Store) matching(q *store.AlertQuery) []*store.AlertRecord {
	var out []*store.AlertRecord
	for _, a := range s.alerts {
		r := cubeRow(a)
		if r.Matches(q, "") && matchesOther(a, q) {
			out = append(out, a)
		}
	}
	return out
}

// alertKey is the sort key of an alert under a sort: most significant
// first, the id last.
func alertKey(a *store.AlertRecord, sort store.Sort) store.Cursor {
	switch sort {
	case store.SortSeverity:
		return store.Cursor{A: int64(a.Severity), B: a.LastDetection.UnixNano(), S: a.ID}
	case store.SortFirstDetection:
		return store.Cursor{A: a.FirstDetection.UnixNano(), S: a.ID}
	}
	return store.Cursor{A: a.LastDetection.UnixNano(), S: a.ID}
}

func compareCursor(x, y store.Cursor) int {
	return cmp.Or(cmp.Compare(x.A, y.A), cmp.Compare(x.B, y.B), cmp.Compare(x.C, y.C), cmp.Compare(x.S, y.S))
}

// page sorts items by key (descending unless asc), skips those up to the
// cursor and returns at most limit of them with the next cursor.
func page[T any](items []T, key func(T) store.Cursor, asc bool, cursor string, limit int) ([]T, string, error) {
	dir := -1
	if asc {
		dir = 1
	}
	slices.SortFunc(items, func(a, b T) int { return dir * compareCursor(key(a), key(b)) })
	if cursor != "" {
		c, err := store.DecodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		i := 0
		for i < len(items) && dir*compareCursor(key(items[i]), c) <= 0 {
			i++
		}
		items = items[i:]
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = key(items[limit-1]).Encode()
	}
	return items, next, nil
}

// Alerts returns one page of alerts.
func (s *Store) Alerts(_ context.Context, q store.AlertQuery) (store.AlertPage, error) {
	q, err := q.Normalize()
	if err != nil {
		return store.AlertPage{}, err
	}
	if err := s.lock(); err != nil {
		return store.AlertPage{}, err
	}
	defer s.mu.Unlock()
	items, next, err := page(s.matching(&q), func(a *store.AlertRecord) store.Cursor { return alertKey(a, q.Sort) }, q.Ascending, q.Cursor, q.Limit)
	if err != nil {
		return store.AlertPage{}, err
	}
	p := store.AlertPage{Alerts: make([]*store.AlertRecord, 0, len(items)), Next: next}
	for _, a := range items {
		p.Alerts = append(p.Alerts, s.withMuted(a))
	}
	return p, nil
}

func (s *Store) withMuted(a *store.AlertRecord) *store.AlertRecord {
	c := copyRecord(a)
	c.Muted = slices.ContainsFunc(s.mutes, func(m store.Mute) bool { return m.Matches(&a.Alert) })
	return c
}

// AlertFacets counts alerts per facet value.
func (s *Store) AlertFacets(_ context.Context, q store.AlertQuery) (store.Facets, error) {
	q, err := q.Normalize()
	if err != nil {
		return store.Facets{}, err
	}
	if err := s.lock(); err != nil {
		return store.Facets{}, err
	}
	defer s.mu.Unlock()
	var rows []store.CubeRow
	for _, a := range s.alerts {
		if matchesOther(a, &q) {
			rows = append(rows, cubeRow(a))
		}
	}
	return store.ComputeFacets(rows, q), nil
}

// Alert returns one alert.
func (s *Store) Alert(_ context.Context, id string) (*store.AlertRecord, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	a, ok := s.alerts[id]
	if !ok {
		return nil, notFound("alert", id)
	}
	return s.withMuted(a), nil
}

func related(limit int) (int, error) {
	switch {
	case limit == 0:
		return store.DefaultRelated, nil
	case limit < 0 || limit > store.MaxLimit:
		return 0, fmt.Errorf("%w: limit %d (want 1 to %d)", store.ErrInvalid, limit, store.MaxLimit)
	}
	return limit, nil
}

func parties(a *store.AlertRecord) []string {
	var out []string
	for _, k := range []string{store.PartyKey(a.Source), store.PartyKey(a.Destination)} {
		if k != "" {
			out = append(out, k)
		}
	}
	return out
}

// RelatedAlerts returns alerts sharing a device with alert id.
func (s *Store) RelatedAlerts(_ context.Context, id string, limit int) ([]*store.AlertRecord, error) {
	limit, err := related(limit)
	if err != nil {
		return nil, err
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	a, ok := s.alerts[id]
	if !ok {
		return nil, notFound("alert", id)
	}
	keys := parties(a)
	var out []*store.AlertRecord
	for _, o := range s.alerts {
		if o.ID != id && len(keys) > 0 && (slices.Contains(keys, store.PartyKey(o.Source)) || slices.Contains(keys, store.PartyKey(o.Destination))) {
			out = append(out, o)
		}
	}
	out, _, _ = page(out, func(a *store.AlertRecord) store.Cursor { return alertKey(a, store.SortLastDetection) }, false, "", limit)
	res := make([]*store.AlertRecord, 0, len(out))
	for _, o := range out {
		res = append(res, s.withMuted(o))
	}
	return res, nil
}

// RelatedEvents returns events of alert id's devices around its time.
func (s *Store) RelatedEvents(_ context.Context, id string, window time.Duration, limit int) ([]store.Event, error) {
	limit, err := related(limit)
	if err != nil {
		return nil, err
	}
	if window < 0 {
		return nil, fmt.Errorf("%w: negative window", store.ErrInvalid)
	}
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	a, ok := s.alerts[id]
	if !ok {
		return nil, notFound("alert", id)
	}
	keys := parties(a)
	from, until := a.FirstDetection.Add(-window), a.LastDetection.Add(window)
	var out []store.Event
	for _, e := range s.events {
		if (slices.Contains(keys, e.Device) || slices.Contains(keys, e.Peer)) && !e.Time.Before(from) && !e.Time.After(until) {
			out = append(out, e)
		}
	}
	out, _, _ = page(out, eventKey, true, "", limit)
	if out == nil {
		out = []store.Event{}
	}
	return out, nil
}

func eventKey(e store.Event) store.Cursor { return store.Cursor{A: e.Time.UnixNano(), B: e.ID} }

// Events returns one page of the timeline.
func (s *Store) Events(_ context.Context, q store.EventQuery) (store.EventPage, error) {
	q, err := q.Normalize()
	if err != nil {
		return store.EventPage{}, err
	}
	if err := s.lock(); err != nil {
		return store.EventPage{}, err
	}
	defer s.mu.Unlock()
	var out []store.Event
	for _, e := range s.events {
		if (len(q.Sensors) == 0 || slices.Contains(q.Sensors, e.Sensor)) &&
			(len(q.Types) == 0 || slices.Contains(q.Types, e.Type)) &&
			(len(q.Devices) == 0 || slices.Contains(q.Devices, e.Device) || slices.Contains(q.Devices, e.Peer)) &&
			(q.AlertID == "" || q.AlertID == e.AlertID) &&
			(q.From.IsZero() || !e.Time.Before(q.From)) && (q.Until.IsZero() || e.Time.Before(q.Until)) {
			out = append(out, e)
		}
	}
	out, next, err := page(out, eventKey, q.Ascending, q.Cursor, q.Limit)
	if err != nil {
		return store.EventPage{}, err
	}
	if out == nil {
		out = []store.Event{}
	}
	return store.EventPage{Events: out, Next: next}, nil
}

func (s *Store) deviceRecord(sensor string, d inventory.Device) *store.DeviceRecord {
	r := &store.DeviceRecord{Sensor: sensor, Device: d}
	if sn, ok := s.sensors[sensor]; ok {
		r.Site, r.Zone = sn.Site, sn.Zone
	}
	return r
}

func deviceMatches(r *store.DeviceRecord, q *store.DeviceQuery) bool {
	in := func(vals []string, v string) bool { return len(vals) == 0 || slices.Contains(vals, v) }
	protoOK := len(q.Protocols) == 0
	for _, sv := range slices.Concat(r.Serves, r.Uses) {
		protoOK = protoOK || slices.Contains(q.Protocols, sv.Protocol)
	}
	devOK := len(q.Devices) == 0 || slices.Contains(q.Devices, r.MAC) ||
		slices.ContainsFunc(r.IPs, func(ip string) bool { return slices.Contains(q.Devices, ip) })
	textOK := true
	if q.Text != "" {
		words := store.Words(strings.Join(slices.Concat([]string{r.Name, r.Vendor, r.Product, r.Model, r.Firmware, r.MAC, string(r.Type)}, r.IPs), " "))
		for _, w := range store.Words(q.Text) {
			textOK = textOK && slices.ContainsFunc(words, func(x string) bool { return strings.HasPrefix(x, w) })
		}
	}
	return in(q.Sensors, r.Sensor) && in(q.Sites, r.Site) && in(q.Zones, r.Zone) && in(q.Vendors, r.Vendor) &&
		(len(q.Types) == 0 || slices.Contains(q.Types, r.Type)) && (len(q.Purdue) == 0 || slices.Contains(q.Purdue, r.Purdue)) &&
		(q.Inactive == nil || *q.Inactive == r.Inactive) && protoOK && devOK && textOK &&
		(q.From.IsZero() || !r.LastSeen.Before(q.From)) && (q.Until.IsZero() || r.FirstSeen.Before(q.Until))
}

// Devices returns one page of devices.
func (s *Store) Devices(_ context.Context, q store.DeviceQuery) (store.DevicePage, error) {
	q, err := q.Normalize()
	if err != nil {
		return store.DevicePage{}, err
	}
	if err := s.lock(); err != nil {
		return store.DevicePage{}, err
	}
	defer s.mu.Unlock()
	var out []*store.DeviceRecord
	for k, d := range s.devices {
		if r := s.deviceRecord(k.sensor, d); deviceMatches(r, &q) {
			out = append(out, r)
		}
	}
	key := func(r *store.DeviceRecord) store.Cursor {
		c := store.Cursor{B: int64(r.ID), S: r.Sensor}
		switch q.Sort {
		case store.DeviceSortFirstSeen:
			c.A = r.FirstSeen.UnixNano()
		case store.DeviceSortName:
			c.S = strings.ToLower(r.Name) + "\x00" + r.Sensor
		default:
			c.A = r.LastSeen.UnixNano()
		}
		return c
	}
	asc := q.Ascending
	if q.Sort == store.DeviceSortName {
		asc = !asc
	}
	out, next, err := page(out, key, asc, q.Cursor, q.Limit)
	if err != nil {
		return store.DevicePage{}, err
	}
	if out == nil {
		out = []*store.DeviceRecord{}
	}
	return store.DevicePage{Devices: out, Next: next}, nil
}

// Device returns one device.
func (s *Store) Device(_ context.Context, sensor string, id inventory.DeviceID) (*store.DeviceRecord, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	d, ok := s.devices[devKey{sensor, id}]
	if !ok {
		return nil, notFound("device", fmt.Sprintf("%s/%d", sensor, id))
	}
	return s.deviceRecord(sensor, d), nil
}

// Connections returns a sensor's connections, or one device's.
func (s *Store) Connections(_ context.Context, sensor string, device inventory.DeviceID) ([]inventory.Connection, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := []inventory.Connection{}
	for _, c := range s.conns[sensor] {
		if device == 0 || c.Client == device || c.Server == device {
			out = append(out, c)
		}
	}
	return out, nil
}

func checkStatus(st alert.Status, reason string) error {
	if st < alert.New || st > alert.Closed {
		return fmt.Errorf("%w: unknown status %d", store.ErrInvalid, st)
	}
	if len([]rune(reason)) > store.MaxReasonLen {
		return fmt.Errorf("%w: reason longer than %d characters", store.ErrInvalid, store.MaxReasonLen)
	}
	return nil
}

func (s *Store) setStatus(a *store.AlertRecord, to alert.Status, actor, action, reason string) {
	from := a.Status
	a.Status, a.Updated = to, s.opts.Time()
	s.history = append(s.history, store.StatusChange{AlertID: a.ID, Time: s.opts.Time(), Actor: actor, Action: action, From: from, To: to, Reason: reason})
	s.addAudit(actor, "alert."+action, "alert:"+a.ID, fmt.Sprintf("%v → %v %s", from, to, reason))
}

// SetStatus moves alerts to status, all or none.
func (s *Store) SetStatus(_ context.Context, ids []string, status alert.Status, actor, reason string) error {
	if err := checkStatus(status, reason); err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("%w: no alert ids", store.ErrInvalid)
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, id := range ids {
		a, ok := s.alerts[id]
		if !ok {
			return notFound("alert", id)
		}
		if !store.Transition(a.Status, status) {
			return fmt.Errorf("%w: alert %s cannot move from %v to %v", store.ErrInvalid, id, a.Status, status)
		}
	}
	for _, id := range ids {
		s.setStatus(s.alerts[id], status, actor, store.ActionStatus, reason)
	}
	return nil
}

// BulkSetStatus moves every matching alert whose transition is allowed.
func (s *Store) BulkSetStatus(_ context.Context, q store.AlertQuery, status alert.Status, actor, reason string) (int64, error) {
	if err := checkStatus(status, reason); err != nil {
		return 0, err
	}
	q.Cursor, q.Limit = "", 0
	q, err := q.Normalize()
	if err != nil {
		return 0, err
	}
	if err := s.lock(); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	var n int64
	for _, a := range s.matching(&q) {
		if store.Transition(a.Status, status) {
			s.setStatus(a, status, actor, store.ActionStatus, reason)
			n++
		}
	}
	return n, nil
}

// Learn adds the alert's baseline entry and closes it.
func (s *Store) Learn(_ context.Context, id, actor string) (baseline.Entry, error) {
	if err := s.lock(); err != nil {
		return baseline.Entry{}, err
	}
	defer s.mu.Unlock()
	a, ok := s.alerts[id]
	if !ok {
		return baseline.Entry{}, notFound("alert", id)
	}
	var e baseline.Entry
	switch {
	case a.Learn != nil:
		e = *a.Learn
	case a.Learnable:
		e = baseline.Entry{Kind: baseline.KindPattern, Client: a.Source.IP, Server: a.Destination.IP, Function: a.Type, Target: a.Key}
	default:
		return e, fmt.Errorf("%w: alert %s (%s) cannot be learned", store.ErrInvalid, id, a.Type)
	}
	s.putBaseline(a.Sensor, []baseline.Record{{Entry: e, Stats: baseline.Stats{First: a.FirstDetection, Last: a.LastDetection, Count: a.Count, Source: "learn"}}})
	to := a.Status
	if store.Transition(a.Status, alert.Closed) {
		to = alert.Closed
	}
	s.setStatus(a, to, actor, store.ActionLearn, e.String())
	return e, nil
}

// Mute suppresses the alert's pattern.
func (s *Store) Mute(_ context.Context, id, actor string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	a, ok := s.alerts[id]
	if !ok {
		return notFound("alert", id)
	}
	m := store.MuteOf(&a.Alert)
	if slices.ContainsFunc(s.mutes, func(o store.Mute) bool { return o.Matches(&a.Alert) }) {
		return nil
	}
	m.ID, m.Actor, m.Created = s.id(), actor, s.opts.Time()
	s.mutes = append(s.mutes, m)
	s.history = append(s.history, store.StatusChange{AlertID: id, Time: s.opts.Time(), Actor: actor, Action: store.ActionMute, From: a.Status, To: a.Status})
	s.addAudit(actor, "alert.mute", "alert:"+id, "")
	return nil
}

// Unmute removes the alert's mute.
func (s *Store) Unmute(_ context.Context, id, actor string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	a, ok := s.alerts[id]
	if !ok {
		return notFound("alert", id)
	}
	n := len(s.mutes)
	s.mutes = slices.DeleteFunc(s.mutes, func(o store.Mute) bool { return o.Matches(&a.Alert) })
	if len(s.mutes) == n {
		return nil
	}
	s.history = append(s.history, store.StatusChange{AlertID: id, Time: s.opts.Time(), Actor: actor, Action: store.ActionUnmute, From: a.Status, To: a.Status})
	s.addAudit(actor, "alert.unmute", "alert:"+id, "")
	return nil
}

// Mutes returns every muted pattern.
func (s *Store) Mutes(_ context.Context) ([]store.Mute, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return append([]store.Mute{}, s.mutes...), nil
}

// Comment adds a comment to an alert.
func (s *Store) Comment(_ context.Context, id, author, text string) (store.Comment, error) {
	c := store.Comment{AlertID: id, Author: author, Text: text}
	if err := store.CheckComment(text); err != nil {
		return c, err
	}
	if strings.TrimSpace(author) == "" {
		return c, fmt.Errorf("%w: comment without author", store.ErrInvalid)
	}
	if err := s.lock(); err != nil {
		return c, err
	}
	defer s.mu.Unlock()
	if _, ok := s.alerts[id]; !ok {
		return c, notFound("alert", id)
	}
	c.ID, c.Time = s.id(), s.opts.Time()
	s.comments = append(s.comments, c)
	s.addAudit(author, "alert.comment", "alert:"+id, fmt.Sprintf("comment %d", c.ID))
	return c, nil
}

// Comments returns an alert's comments.
func (s *Store) Comments(_ context.Context, id string) ([]store.Comment, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if _, ok := s.alerts[id]; !ok {
		return nil, notFound("alert", id)
	}
	out := []store.Comment{}
	for _, c := range s.comments {
		if c.AlertID == id {
			out = append(out, c)
		}
	}
	return out, nil
}

// History returns an alert's status changes.
func (s *Store) History(_ context.Context, id string) ([]store.StatusChange, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if _, ok := s.alerts[id]; !ok {
		return nil, notFound("alert", id)
	}
	out := []store.StatusChange{}
	for _, h := range s.history {
		if h.AlertID == id {
			out = append(out, h)
		}
	}
	return out, nil
}

// PutExclusion creates or replaces a rule.
func (s *Store) PutExclusion(_ context.Context, r store.Exclusion, actor string) (store.Exclusion, error) {
	r, err := r.Normalize()
	if err != nil {
		return r, err
	}
	if err := s.lock(); err != nil {
		return r, err
	}
	defer s.mu.Unlock()
	if r.ID == 0 {
		r.ID, r.Created, r.Suppressed = s.id(), s.opts.Time(), 0
	} else {
		old, ok := s.exclusions[r.ID]
		if !ok {
			return r, notFound("exclusion rule", fmt.Sprint(r.ID))
		}
		r.Created, r.Suppressed = old.Created, old.Suppressed
	}
	r.Author = actor
	s.exclusions[r.ID] = r
	s.addAudit(actor, "exclusion.put", fmt.Sprintf("exclusion:%d", r.ID), r.Name)
	return r, nil
}

// Exclusion returns one rule.
func (s *Store) Exclusion(_ context.Context, id int64) (store.Exclusion, error) {
	if err := s.lock(); err != nil {
		return store.Exclusion{}, err
	}
	defer s.mu.Unlock()
	r, ok := s.exclusions[id]
	if !ok {
		return r, notFound("exclusion rule", fmt.Sprint(id))
	}
	return r, nil
}

// Exclusions returns every rule.
func (s *Store) Exclusions(_ context.Context) ([]store.Exclusion, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := []store.Exclusion{}
	for _, r := range s.exclusions {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b store.Exclusion) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// DeleteExclusion removes a rule.
func (s *Store) DeleteExclusion(_ context.Context, id int64, actor string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.exclusions[id]; !ok {
		return notFound("exclusion rule", fmt.Sprint(id))
	}
	delete(s.exclusions, id)
	s.addAudit(actor, "exclusion.delete", fmt.Sprintf("exclusion:%d", id), "")
	return nil
}

// AddSuppressed adds to the suppression counts of rules and mutes.
func (s *Store) AddSuppressed(_ context.Context, rules, mutes map[int64]uint64) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for id, n := range rules {
		if r, ok := s.exclusions[id]; ok {
			r.Suppressed += n
			s.exclusions[id] = r
		}
	}
	for i := range s.mutes {
		s.mutes[i].Suppressed += mutes[s.mutes[i].ID]
	}
	return nil
}

// PutSite creates or updates a site.
func (s *Store) PutSite(_ context.Context, site store.Site, actor string) error {
	if site.ID == "" {
		return fmt.Errorf("%w: site without id", store.ErrInvalid)
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.sites[site.ID] = site
	s.addAudit(actor, "site.put", "site:"+site.ID, site.Name)
	return nil
}

func sorted[T any](m map[string]T, keep func(T) bool) []T {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if keep == nil || keep(v) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

// Sites returns every site.
func (s *Store) Sites(_ context.Context) ([]store.Site, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return sorted(s.sites, nil), nil
}

// DeleteSite removes a site without zones or sensors.
func (s *Store) DeleteSite(_ context.Context, id, actor string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.sites[id]; !ok {
		return notFound("site", id)
	}
	for _, z := range s.zones {
		if z.Site == id {
			return fmt.Errorf("%w: site %s still has zones", store.ErrConflict, id)
		}
	}
	for _, sn := range s.sensors {
		if sn.Site == id {
			return fmt.Errorf("%w: site %s still has sensors", store.ErrConflict, id)
		}
	}
	delete(s.sites, id)
	s.addAudit(actor, "site.delete", "site:"+id, "")
	return nil
}

// PutZone creates or updates a zone.
func (s *Store) PutZone(_ context.Context, z store.Zone, actor string) error {
	if z.ID == "" {
		return fmt.Errorf("%w: zone without id", store.ErrInvalid)
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.sites[z.Site]; !ok {
		return fmt.Errorf("%w: zone %s: unknown site %q", store.ErrInvalid, z.ID, z.Site)
	}
	s.zones[z.ID] = z
	s.addAudit(actor, "zone.put", "zone:"+z.ID, z.Name)
	return nil
}

// Zones returns the zones of a site, or all.
func (s *Store) Zones(_ context.Context, site string) ([]store.Zone, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return sorted(s.zones, func(z store.Zone) bool { return site == "" || z.Site == site }), nil
}

// DeleteZone removes a zone without sensors.
func (s *Store) DeleteZone(_ context.Context, id, actor string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.zones[id]; !ok {
		return notFound("zone", id)
	}
	for _, sn := range s.sensors {
		if sn.Zone == id {
			return fmt.Errorf("%w: zone %s still has sensors", store.ErrConflict, id)
		}
	}
	delete(s.zones, id)
	s.addAudit(actor, "zone.delete", "zone:"+id, "")
	return nil
}

// PutSensor creates or updates a sensor.
func (s *Store) PutSensor(_ context.Context, sn store.Sensor, actor string) error {
	if sn.ID == "" {
		return fmt.Errorf("%w: sensor without id", store.ErrInvalid)
	}
	if sn.Mode == "" {
		sn.Mode = store.ModeLearning
	}
	if _, err := store.ParseSensorMode(string(sn.Mode)); err != nil {
		return err
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if z, ok := s.zones[sn.Zone]; ok && sn.Site == "" {
		sn.Site = z.Site
	}
	if sn.Site != "" {
		if _, ok := s.sites[sn.Site]; !ok {
			return fmt.Errorf("%w: sensor %s: unknown site %q", store.ErrInvalid, sn.ID, sn.Site)
		}
	}
	if sn.Zone != "" {
		z, ok := s.zones[sn.Zone]
		if !ok || z.Site != sn.Site {
			return fmt.Errorf("%w: sensor %s: zone %q is not a zone of site %q", store.ErrInvalid, sn.ID, sn.Zone, sn.Site)
		}
	}
	if old, ok := s.sensors[sn.ID]; ok {
		sn.Created, sn.LastSeen = old.Created, old.LastSeen
	} else {
		sn.Created = s.opts.Time()
	}
	s.sensors[sn.ID] = sn
	s.addAudit(actor, "sensor.put", "sensor:"+sn.ID, sn.Name)
	return nil
}

// Sensor returns one sensor.
func (s *Store) Sensor(_ context.Context, id string) (store.Sensor, error) {
	if err := s.lock(); err != nil {
		return store.Sensor{}, err
	}
	defer s.mu.Unlock()
	sn, ok := s.sensors[id]
	if !ok {
		return sn, notFound("sensor", id)
	}
	return sn, nil
}

// Sensors returns every sensor.
func (s *Store) Sensors(_ context.Context) ([]store.Sensor, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return sorted(s.sensors, nil), nil
}

// DeleteSensor removes a sensor.
func (s *Store) DeleteSensor(_ context.Context, id, actor string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.sensors[id]; !ok {
		return notFound("sensor", id)
	}
	delete(s.sensors, id)
	s.addAudit(actor, "sensor.delete", "sensor:"+id, "")
	return nil
}

// SetSensorMode switches a sensor's mode.
func (s *Store) SetSensorMode(_ context.Context, id string, mode store.SensorMode, actor string) error {
	if _, err := store.ParseSensorMode(string(mode)); err != nil {
		return err
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	sn, ok := s.sensors[id]
	if !ok {
		return notFound("sensor", id)
	}
	sn.Mode = mode
	s.sensors[id] = sn
	s.addAudit(actor, "sensor.mode", "sensor:"+id, string(mode))
	return nil
}

// SensorSeen records when a sensor reported.
func (s *Store) SensorSeen(_ context.Context, id string, t time.Time) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	sn, ok := s.sensors[id]
	if !ok {
		return notFound("sensor", id)
	}
	sn.LastSeen = t
	s.sensors[id] = sn
	return nil
}

// PutOverride sets a device override.
func (s *Store) PutOverride(_ context.Context, addr string, o inventory.Override, actor string) error {
	if err := inventory.New(inventory.Options{}).SetOverride(addr, o); err != nil {
		return fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.overrides[addr] = store.DeviceOverride{Addr: addr, Override: o, Actor: actor, Updated: s.opts.Time()}
	s.addAudit(actor, "override.put", "device:"+addr, "")
	return nil
}

// Overrides returns every device override.
func (s *Store) Overrides(_ context.Context) ([]store.DeviceOverride, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return sorted(s.overrides, nil), nil
}

// DeleteOverride removes a device override.
func (s *Store) DeleteOverride(_ context.Context, addr, actor string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.overrides[addr]; !ok {
		return notFound("override", addr)
	}
	delete(s.overrides, addr)
	s.addAudit(actor, "override.delete", "device:"+addr, "")
	return nil
}

// PutUser creates or updates a user.
func (s *Store) PutUser(_ context.Context, u store.User, actor string) error {
	if u.Name == "" || !store.ValidRole(u.Role) {
		return fmt.Errorf("%w: user %q with role %q", store.ErrInvalid, u.Name, u.Role)
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	now := s.opts.Time()
	if old, ok := s.users[u.Name]; ok {
		u.Created = old.Created
	} else {
		u.Created = now
	}
	u.Updated = now
	s.users[u.Name] = u
	s.addAudit(actor, "user.put", "user:"+u.Name, string(u.Role))
	return nil
}

// User returns one user.
func (s *Store) User(_ context.Context, name string) (store.User, error) {
	if err := s.lock(); err != nil {
		return store.User{}, err
	}
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return u, notFound("user", name)
	}
	return u, nil
}

// Users returns every user.
func (s *Store) Users(_ context.Context) ([]store.User, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return sorted(s.users, nil), nil
}

// DeleteUser removes a user.
func (s *Store) DeleteUser(_ context.Context, name, actor string) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.users[name]; !ok {
		return notFound("user", name)
	}
	delete(s.users, name)
	s.addAudit(actor, "user.delete", "user:"+name, "")
	return nil
}

// AddAudit appends to the audit log.
func (s *Store) AddAudit(_ context.Context, e store.AuditEntry) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	e.ID = s.id()
	if e.Time.IsZero() {
		e.Time = s.opts.Time()
	}
	s.audit = append(s.audit, e)
	return nil
}

// Audit returns audit entries, newest first.
func (s *Store) Audit(_ context.Context, q store.AuditQuery) (store.AuditPage, error) {
	lim := q.Limit
	switch {
	case lim == 0:
		lim = store.DefaultLimit
	case lim < 0 || lim > store.MaxLimit:
		return store.AuditPage{}, fmt.Errorf("%w: page size %d", store.ErrInvalid, lim)
	}
	if err := s.lock(); err != nil {
		return store.AuditPage{}, err
	}
	defer s.mu.Unlock()
	var out []store.AuditEntry
	for _, e := range s.audit {
		if (q.Actor == "" || e.Actor == q.Actor) && (q.Action == "" || e.Action == q.Action) &&
			(q.Object == "" || e.Object == q.Object) && (q.From.IsZero() || !e.Time.Before(q.From)) &&
			(q.Until.IsZero() || e.Time.Before(q.Until)) {
			out = append(out, e)
		}
	}
	out, next, err := page(out, func(e store.AuditEntry) store.Cursor { return store.Cursor{A: e.ID} }, false, q.Cursor, lim)
	if err != nil {
		return store.AuditPage{}, err
	}
	if out == nil {
		out = []store.AuditEntry{}
	}
	return store.AuditPage{Entries: out, Next: next}, nil
}

// Close closes the store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

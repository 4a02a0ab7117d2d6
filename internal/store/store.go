package store

import (
	"context"
	"errors"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Errors every backend returns, possibly wrapped with context; callers
// test them with errors.Is. A method that fails with one of them has
// changed nothing.
var (
	// ErrNotFound: the alert, device, rule, site, zone, sensor, user,
	// session, token or evidence asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrInvalid: bad input (an unknown status or severity, an invalid
	// filter or cursor, a too-long comment, a status transition the
	// lifecycle does not allow, an alert that cannot be learned).
	ErrInvalid = errors.New("store: invalid")
	// ErrConflict: the change would break a reference or a uniqueness
	// rule (deleting a site that still has zones, a duplicate name or
	// token).
	ErrConflict = errors.New("store: conflict")
	// ErrNotDatabase: the data source exists but is not a database of the
	// backend's kind (a file that is not SQLite) or is a newer schema than
	// this otwatch knows. Nothing was changed.
	ErrNotDatabase = errors.New("store: not an otwatch database")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("store: closed")
)

// Limits on input; a longer value is ErrInvalid.
const (
	MaxCommentLen  = 4000 // characters (runes) in a comment
	MaxTextLen     = 200  // characters in a free-text filter
	MaxReasonLen   = 1000 // characters in a status change reason
	MaxValues      = 100  // values in one filter dimension
	MaxBatch       = 100000
	MaxKeyLen      = 256  // bytes in a device key (DeviceIDs)
	DefaultLimit   = 50   // page size when a query's Limit is 0
	MaxLimit       = 1000 // largest page size
	DefaultRelated = 200  // related alerts or events returned when limit is 0
)

// Store keeps otwatch's data. Every method is safe for concurrent use.
// Slices passed in are not retained; values returned belong to the caller.
// Methods fail with ErrInvalid on bad input, ErrNotFound on a missing
// object, and change nothing when they fail. Writes that take an actor
// record it, with the time, in the audit log (and, for alerts, in their
// status history).
type Store interface {
	// PutAlerts upserts alerts by ID in one transaction, so re-ingesting
	// an alert (after a crash, or from a sensor that resends) updates it
	// instead of duplicating it: Count and LastDetection become the
	// larger of the stored and the new value, FirstDetection the smaller,
	// and the descriptive fields are taken from whichever copy was
	// detected last. The stored Status is kept (a person's decision wins),
	// and so is a Severity a person set (SetSeverity); a new alert is
	// stored with its Status, New if zero. Alerts carrying
	// Packets get them written as pcapng evidence unless evidence is
	// already stored. An alert without ID, Type, a valid Severity and
	// Engine, or with a zero FirstDetection is ErrInvalid, and then no
	// alert of the batch is stored.
	PutAlerts(ctx context.Context, alerts []*alert.Alert) error
	// PutEvents adds timeline events in one transaction. Events are
	// deduplicated by their key (EventID): putting the same event again
	// changes nothing. An event with a zero Time or empty Type is
	// ErrInvalid.
	PutEvents(ctx context.Context, events []Event) error
	// PutDevices upserts a sensor's devices by (sensor, device ID). The
	// IDs are the store's (DeviceIDs), not an inventory snapshot's, which
	// are positions in one run's inventory.
	PutDevices(ctx context.Context, sensor string, devices []inventory.Device) error
	// PutConnections upserts a sensor's connections by (sensor, client,
	// server, protocol, transport, port, relation), their ends given by
	// store device IDs as in PutDevices.
	PutConnections(ctx context.Context, sensor string, conns []inventory.Connection) error
	// DeviceIDs returns the store IDs of a sensor's devices given by their
	// stable keys (inventory.Device.Key), in the order of keys, in one
	// transaction: a key the store knows keeps its ID for as long as the
	// store knows it (RekeyDevices may hand it to the key that replaces
	// it); a new key gets a new ID, one never given to another
	// key of the sensor nor held by a device already stored for it. So
	// the same keys always resolve to the same IDs, across restarts of the
	// sensor and of the store; a key repeated in keys gets one ID. Each
	// sensor has IDs of its own. An empty sensor, an empty key or one
	// longer than MaxKeyLen bytes or not UTF-8, or more than MaxBatch
	// keys, is ErrInvalid (CheckDeviceKeys).
	DeviceIDs(ctx context.Context, sensor string, keys []string) ([]inventory.DeviceID, error)
	// RekeyDevices follows devices of a sensor whose key changed (a device
	// known by IP turned out to be a MAC device's), move by move, in one
	// transaction. When To has no ID, From's ID becomes To's: the device
	// keeps its ID and its record. When both have IDs, the device stored
	// under From's ID is deleted, and the connections, events and routed
	// devices (RoutedBy) naming it name To's ID instead: a connection that
	// then has the key of one of To's is merged into it (MergeConnection),
	// one between From and To is dropped; From's key is forgotten, and its
	// ID is never given again. A From the store does not know, or equal to
	// To, changes nothing. Moves that DeviceIDs could not take are
	// ErrInvalid (CheckKeyMoves). A call that merges IDs reads the
	// sensor's events once.
	RekeyDevices(ctx context.Context, sensor string, moves []KeyMove) error
	// PutBaseline upserts a sensor's baseline records by entry.
	PutBaseline(ctx context.Context, sensor string, records []baseline.Record) error
	// Baseline returns a sensor's baseline records, in the order of
	// baseline.Baseline.Records.
	Baseline(ctx context.Context, sensor string) ([]baseline.Record, error)
	// PutEvidence stores pcapng as the evidence of alert alertID,
	// replacing any stored before, then removes the oldest evidence of any
	// alert until the total is within Options.EvidenceMaxBytes (the new
	// file itself is kept even if it alone exceeds the cap). Data that is
	// not pcapng is ErrInvalid; an unknown alert ErrNotFound.
	PutEvidence(ctx context.Context, alertID string, pcapng []byte) error
	// PutEvidenceBatch stores several alerts' evidence as PutEvidence
	// would one after the other, all or none, in one transaction, the
	// files synced to disk together: cheaper per file than PutEvidence.
	// More than MaxBatch files is ErrInvalid, as is any that is not
	// pcapng; an unknown alert is ErrNotFound.
	PutEvidenceBatch(ctx context.Context, evs []Evidence) error
	// Evidence returns the stored pcapng of an alert; ErrNotFound when
	// there is none or it was removed by retention.
	Evidence(ctx context.Context, alertID string) ([]byte, error)

	// Alerts returns one page of the alerts matching q, in q's order.
	Alerts(ctx context.Context, q AlertQuery) (AlertPage, error)
	// AlertFacets counts, for every dimension (Dims), the alerts matching
	// q per value of that dimension, ignoring q's own filter on that
	// dimension (so the console can show what choosing another value
	// would give). Cursor and Limit are ignored. Total counts the alerts
	// matching all of q.
	AlertFacets(ctx context.Context, q AlertQuery) (Facets, error)
	// Alert returns one alert.
	Alert(ctx context.Context, id string) (*AlertRecord, error)
	// RelatedAlerts returns other alerts involving the source or the
	// destination of alert id (matched by PartyKey, in either role), most
	// recently detected first, at most limit (DefaultRelated if 0).
	RelatedAlerts(ctx context.Context, id string, limit int) ([]*AlertRecord, error)
	// RelatedEvents returns the events of the alert's source or
	// destination devices (Event.Device or Event.Peer equal to their
	// PartyKey) between FirstDetection-window and LastDetection+window,
	// oldest first, at most limit (DefaultRelated if 0).
	RelatedEvents(ctx context.Context, id string, window time.Duration, limit int) ([]Event, error)
	// Events returns one page of the timeline.
	Events(ctx context.Context, q EventQuery) (EventPage, error)
	// Devices returns one page of devices.
	Devices(ctx context.Context, q DeviceQuery) (DevicePage, error)
	// Device returns one device of a sensor.
	Device(ctx context.Context, sensor string, id inventory.DeviceID) (*DeviceRecord, error)
	// Connections returns a sensor's connections, those of one device
	// (as client or server) when device is not 0.
	Connections(ctx context.Context, sensor string, device inventory.DeviceID) ([]inventory.Connection, error)

	// SetStatus moves alerts to status, all or none: if any id is unknown
	// (ErrNotFound) or any transition is not allowed (ErrInvalid, see
	// Transition), nothing changes. reason may be empty.
	SetStatus(ctx context.Context, ids []string, status alert.Status, actor, reason string) error
	// BulkSetStatus moves every alert matching q (Cursor and Limit
	// ignored) whose transition to status is allowed, and returns how
	// many it moved. Alerts already in status, or for which the
	// transition is not allowed, are left as they are.
	BulkSetStatus(ctx context.Context, q AlertQuery, status alert.Status, actor, reason string) (int64, error)
	// SetSeverity changes the severity of alerts, all or none: an unknown
	// id is ErrNotFound, an invalid severity, no id or a reason longer
	// than MaxReasonLen ErrInvalid. Each changed alert gets an
	// ActionSeverity history entry and an AuditSeverity audit entry; an
	// alert already at sev is left as it is. A later re-ingest of the
	// alert by a sensor keeps the person's severity.
	SetSeverity(ctx context.Context, ids []string, sev alert.Severity, actor, reason string) error
	// BulkSetSeverity changes the severity of every alert matching q
	// (Cursor and Limit ignored) that is not already at sev, as
	// SetSeverity does but audited once (AuditBulkSeverity), and returns
	// how many it changed.
	BulkSetSeverity(ctx context.Context, q AlertQuery, sev alert.Severity, actor, reason string) (int64, error)
	// Learn accepts alert id as legitimate: its Learn entry (or, when it
	// has none but is learnable, the KindPattern entry the detector would
	// make: source and destination IPs as Client and Server, the alert
	// type in Function and its Key in Target) is added to the sensor's
	// baseline with source "learn", and the alert is closed. It returns
	// the entry. An alert that is not learnable is ErrInvalid; learning a
	// closed alert adds the entry and leaves it closed.
	Learn(ctx context.Context, id, actor string) (baseline.Entry, error)
	// Mute suppresses the alert's exact pattern (sensor, type, source,
	// destination and key, see MuteOf) from now on and marks the alert
	// muted; muting a muted alert changes nothing.
	Mute(ctx context.Context, id, actor string) error
	// Unmute removes the alert's mute; unmuting an alert that is not muted
	// changes nothing.
	Unmute(ctx context.Context, id, actor string) error
	// Mutes returns every muted pattern.
	Mutes(ctx context.Context) ([]Mute, error)
	// Comment adds a comment to an alert. Empty text (after trimming
	// space), or text longer than MaxCommentLen, is ErrInvalid.
	Comment(ctx context.Context, id, author, text string) (Comment, error)
	// Comments returns an alert's comments, oldest first.
	Comments(ctx context.Context, id string) ([]Comment, error)
	// History returns an alert's status changes (and learn, mute and
	// unmute actions), oldest first.
	History(ctx context.Context, id string) ([]StatusChange, error)

	// PutExclusion creates a rule (ID 0) or replaces rule ID; it returns
	// the stored rule, with its ID and Created set. A rule with no
	// criterion, an unparsable Device, or Until before From is ErrInvalid.
	PutExclusion(ctx context.Context, r Exclusion, actor string) (Exclusion, error)
	// Exclusion returns one rule.
	Exclusion(ctx context.Context, id int64) (Exclusion, error)
	// Exclusions returns every rule, by ID.
	Exclusions(ctx context.Context) ([]Exclusion, error)
	// DeleteExclusion removes a rule.
	DeleteExclusion(ctx context.Context, id int64, actor string) error
	// AddSuppressed adds to the suppression counts of rules and mutes
	// (by ID); unknown IDs are ignored (the rule was deleted since). It is
	// how a Suppressor persists its counts.
	AddSuppressed(ctx context.Context, rules, mutes map[int64]uint64) error

	// PutSite creates or updates a site. An empty ID is ErrInvalid.
	PutSite(ctx context.Context, s Site, actor string) error
	// Sites returns every site, by ID.
	Sites(ctx context.Context) ([]Site, error)
	// DeleteSite removes a site; one that still has zones or sensors is
	// ErrConflict.
	DeleteSite(ctx context.Context, id, actor string) error
	// PutZone creates or updates a zone. An unknown Site is ErrInvalid.
	PutZone(ctx context.Context, z Zone, actor string) error
	// Zones returns the zones of a site, or every zone when site is "",
	// by ID.
	Zones(ctx context.Context, site string) ([]Zone, error)
	// DeleteZone removes a zone; one that still has sensors is
	// ErrConflict.
	DeleteZone(ctx context.Context, id, actor string) error
	// PutSensor creates or updates a sensor. An unknown Site or Zone, or a
	// Zone of another site, is ErrInvalid; an empty Mode means learning.
	PutSensor(ctx context.Context, s Sensor, actor string) error
	// Sensor returns one sensor.
	Sensor(ctx context.Context, id string) (Sensor, error)
	// Sensors returns every sensor, by ID.
	Sensors(ctx context.Context) ([]Sensor, error)
	// DeleteSensor removes a sensor (its alerts, devices and events stay).
	DeleteSensor(ctx context.Context, id, actor string) error
	// SetSensorMode switches a sensor between learning and operational.
	SetSensorMode(ctx context.Context, id string, mode SensorMode, actor string) error
	// SensorSeen records that a sensor reported at t (LastSeen).
	SensorSeen(ctx context.Context, id string, t time.Time) error

	// PutOverride sets what a person decided about a device, by its MAC,
	// IP or routed address (as inventory.Inventory.SetOverride takes).
	PutOverride(ctx context.Context, addr string, o inventory.Override, actor string) error
	// Overrides returns every device override, by address.
	Overrides(ctx context.Context) ([]DeviceOverride, error)
	// DeleteOverride removes a device override.
	DeleteOverride(ctx context.Context, addr, actor string) error

	// PutUser creates or updates a user by Name. An empty Name or an
	// unknown Role is ErrInvalid.
	PutUser(ctx context.Context, u User, actor string) error
	// User returns one user by name.
	User(ctx context.Context, name string) (User, error)
	// Users returns every user, by name.
	Users(ctx context.Context) ([]User, error)
	// DeleteUser removes a user.
	DeleteUser(ctx context.Context, name, actor string) error

	// SetRecommendationStatus records a person's decision on a
	// recommendation (by its stable ID, see recommend.ID), audited with
	// action "recommendation.status" and kept in its history. The change
	// must be allowed from the stored status, Open when none is stored
	// (recommend.CheckTransition: a dismissal needs a reason); otherwise
	// it is ErrInvalid (see NextRecommendationStatus). It returns the
	// stored record, with Changed and Actor set.
	SetRecommendationStatus(ctx context.Context, r RecommendationStatus, actor string) (RecommendationStatus, error)
	// RecommendationStatuses returns the stored statuses of the
	// recommendations with the given IDs (of every recommendation when ids
	// is empty), by ID; an ID with no stored status is absent.
	RecommendationStatuses(ctx context.Context, ids []string) (map[string]RecommendationStatus, error)
	// RecommendationHistory returns the status changes of one
	// recommendation, oldest first (empty when it never changed).
	RecommendationHistory(ctx context.Context, id string) ([]RecommendationStatus, error)

	// PutSession adds or replaces a console session by Key; one without
	// Key or User is ErrInvalid (CheckSession).
	PutSession(ctx context.Context, s Session) error
	// Session returns the session with key; ErrNotFound when none.
	Session(ctx context.Context, key string) (Session, error)
	// TouchSession sets a session's LastSeen; ErrNotFound when none.
	TouchSession(ctx context.Context, key string, seen time.Time) error
	// DeleteSession removes a session; removing a missing one is no error.
	DeleteSession(ctx context.Context, key string) error
	// DeleteUserSessions removes every session of user.
	DeleteUserSessions(ctx context.Context, user string) error
	// ExpireSessions removes the sessions that expired (Expires not after
	// now) or were idle (LastSeen before idleBefore).
	ExpireSessions(ctx context.Context, now, idleBefore time.Time) error
	// PutToken adds an API token; a duplicate ID or Hash is ErrConflict,
	// one without ID, User or Hash ErrInvalid (CheckToken).
	PutToken(ctx context.Context, t Token) error
	// TokenByHash returns the token whose secret hashes to hash;
	// ErrNotFound when none.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	// Token returns a token by ID; ErrNotFound when none.
	Token(ctx context.Context, id string) (Token, error)
	// Tokens returns the tokens of user, or of every user when user is "",
	// by creation time then ID.
	Tokens(ctx context.Context, user string) ([]Token, error)
	// TouchToken sets a token's LastUsed; ErrNotFound when none.
	TouchToken(ctx context.Context, id string, used time.Time) error
	// DeleteToken removes a token; ErrNotFound when none.
	DeleteToken(ctx context.Context, id string) error
	// DeleteUserTokens removes every token of user.
	DeleteUserTokens(ctx context.Context, user string) error

	// AddAudit appends an entry to the audit log (for actions outside the
	// store: logins, exports, configuration); Time is set if zero.
	AddAudit(ctx context.Context, e AuditEntry) error
	// Audit returns audit log entries, newest first.
	Audit(ctx context.Context, q AuditQuery) (AuditPage, error)

	// Close flushes and releases the store. Methods called afterwards
	// return ErrClosed.
	Close() error
}

// Transition reports whether an alert may move from one status to another:
// New → Active, New or Active → Closed, and Closed → Active (reopen).
// Everything else, staying in the same status included, is not allowed.
func Transition(from, to alert.Status) bool {
	switch {
	case from == alert.New && to == alert.Active:
		return true
	case (from == alert.New || from == alert.Active) && to == alert.Closed:
		return true
	case from == alert.Closed && to == alert.Active:
		return true
	}
	return false
}

// Sources returns the statuses from which an alert may move to status.
func Sources(to alert.Status) []alert.Status {
	var out []alert.Status
	for from := alert.New; from <= alert.Closed; from++ {
		if Transition(from, to) {
			out = append(out, from)
		}
	}
	return out
}

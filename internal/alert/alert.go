package alert

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/evidence"
)

// Severity ranks how urgently an alert needs a person.
type Severity uint8

// Severities, lowest first.
const (
	Low Severity = iota + 1
	Medium
	High
	Critical
)

var severityNames = [...]string{"", "Low", "Medium", "High", "Critical"}

// String returns "Low", "Medium", "High" or "Critical".
func (s Severity) String() string {
	if int(s) < len(severityNames) && s > 0 {
		return severityNames[s]
	}
	return "Unknown"
}

// MarshalText encodes the severity by name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name (any case).
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// ParseSeverity returns the severity called name, in any case.
func ParseSeverity(name string) (Severity, error) {
	for i := Low; i <= Critical; i++ {
		if strings.EqualFold(name, severityNames[i]) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("alert: unknown severity %q (want Low, Medium, High or Critical)", name)
}

// Engine is the detection engine that raises an alert type.
type Engine uint8

// Engines.
const (
	Policy Engine = iota + 1
	Protocol
	Malware
	Anomaly
	Operational
)

var engineNames = [...]string{"", "Policy violation", "Protocol violation", "Malware", "Anomaly", "Operational"}
var engineKeys = [...]string{"", "policy", "protocol", "malware", "anomaly", "operational"}

// String returns the engine's display name ("Policy violation").
func (e Engine) String() string {
	if int(e) < len(engineNames) && e > 0 {
		return engineNames[e]
	}
	return "Unknown"
}

// Key returns the engine's short key ("policy").
func (e Engine) Key() string {
	if int(e) < len(engineKeys) && e > 0 {
		return engineKeys[e]
	}
	return "unknown"
}

// MarshalText encodes the engine by display name.
func (e Engine) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// UnmarshalText decodes an engine's display name or key.
func (e *Engine) UnmarshalText(b []byte) error {
	v, err := ParseEngine(string(b))
	*e = v
	return err
}

// Engines returns every engine in a fixed order.
func Engines() []Engine { return []Engine{Policy, Protocol, Malware, Anomaly, Operational} }

// ParseEngine returns the engine with the given display name or key, in
// any case.
func ParseEngine(name string) (Engine, error) {
	for _, e := range Engines() {
		if strings.EqualFold(name, engineNames[e]) || strings.EqualFold(name, engineKeys[e]) {
			return e, nil
		}
	}
	return 0, fmt.Errorf("alert: unknown engine %q", name)
}

// Status is where an alert is in its lifecycle.
type Status uint8

// Statuses: New → Active → Closed, and Closed → Active on reopen.
const (
	New Status = iota + 1
	Active
	Closed
)

var statusNames = [...]string{"", "New", "Active", "Closed"}

// String returns "New", "Active" or "Closed".
func (s Status) String() string {
	if int(s) < len(statusNames) && s > 0 {
		return statusNames[s]
	}
	return "Unknown"
}

// MarshalText encodes the status by name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a status name (any case).
func (s *Status) UnmarshalText(b []byte) error {
	v, err := ParseStatus(string(b))
	*s = v
	return err
}

// ParseStatus returns the status called name, in any case.
func ParseStatus(name string) (Status, error) {
	for i := New; i <= Closed; i++ {
		if strings.EqualFold(name, statusNames[i]) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("alert: unknown status %q (want New, Active or Closed)", name)
}

// Threshold is the default rate of a rate-based alert type: Count events
// within Window. Zones may tune it.
type Threshold struct {
	Count  int           `json:"count"`
	Window time.Duration `json:"window_ns"`
}

// String returns e.g. "25 in 2m0s".
func (t Threshold) String() string { return fmt.Sprintf("%d in %v", t.Count, t.Window) }

// Type is one alert type of the catalogue. Types are fixed at build time;
// an alert refers to its type by ID.
type Type struct {
	ID          string    // stable identifier, "s7.plc_stop"
	Engine      Engine    // engine that raises it
	Name        string    // short name for grids ("S7 PLC stop command")
	Title       string    // title template, see Title
	Description string    // what it means and why it matters
	Severity    Severity  // fixed severity
	Category    string    // "Restart/Stop command", "Scan", ...
	Protocol    string    // protocol it applies to ("" when any)
	Techniques  []string  // MITRE ATT&CK for ICS technique ids
	Remediation []string  // ordered steps
	Learnable   bool      // Learn adds its pattern to the baseline
	Threshold   Threshold // default rate for rate-based types (zero if none)
}

// Party is one side of an alert: the device as the traffic showed it.
type Party struct {
	IP   netip.Addr  `json:"ip,omitzero"`
	MAC  dissect.MAC `json:"mac,omitzero"`
	Port uint16      `json:"port,omitempty"`
	Name string      `json:"name,omitempty"` // host name when known
}

// IsZero reports whether nothing is known of the party.
func (p Party) IsZero() bool { return !p.IP.IsValid() && p.MAC.IsZero() }

// String returns the party's IP (with name), or MAC.
func (p Party) String() string {
	var s string
	switch {
	case p.IP.IsValid():
		s = p.IP.String()
	case !p.MAC.IsZero():
		s = p.MAC.String()
	default:
		return "unknown"
	}
	if p.Name != "" {
		s = p.Name + " (" + s + ")"
	}
	return s
}

// Key returns the party's identity for merging: its IP, else its MAC.
func (p Party) Key() string {
	if p.IP.IsValid() {
		return p.IP.String()
	}
	if !p.MAC.IsZero() {
		return p.MAC.String()
	}
	return ""
}

// Alert is one alert: an occurrence of a Type, with its recurrences merged
// while it is open.
type Alert struct {
	ID             string    `json:"id"`
	Type           string    `json:"type"`
	Title          string    `json:"title"`
	Description    string    `json:"description"`
	Severity       Severity  `json:"severity"`
	Status         Status    `json:"status"`
	Engine         Engine    `json:"engine"`
	Category       string    `json:"category"`
	Protocol       string    `json:"protocol,omitempty"`
	Source         Party     `json:"source"`
	Destination    Party     `json:"destination"`
	Sensor         string    `json:"sensor,omitempty"`
	Site           string    `json:"site,omitempty"`
	Zone           string    `json:"zone,omitempty"`
	Key            string    `json:"key,omitempty"` // what distinguishes it beyond type and parties
	FirstDetection time.Time `json:"first_detection"`
	LastDetection  time.Time `json:"last_detection"`
	Count          uint64    `json:"count"`
	Tactics        []string  `json:"tactics"`
	Techniques     []string  `json:"techniques"`
	Remediation    []string  `json:"remediation"`
	Learnable      bool      `json:"learnable"`
	// Learn is the baseline entry that Learn would add (nil when the type
	// is not learnable).
	Learn *baseline.Entry `json:"learn,omitempty"`
	// Operation is the decoded operation that triggered the alert, when
	// one did.
	Operation *dissect.Operation `json:"operation,omitempty"`
	// Details are facts of the detection ("ports": "14", "threshold": ...).
	Details []dissect.Attr `json:"details,omitempty"`
	// Evidence references the packets kept around the trigger.
	Evidence []dissect.PacketRef `json:"evidence,omitempty"`
	// Packets are copies of the packets around the trigger, taken from the
	// sensor's evidence ring when the alert opened; the store writes them
	// to a pcapng file and keeps a reference.
	Packets []evidence.Packet `json:"-"`
}

// Detail returns the value of the first detail called key, or "".
func (a *Alert) Detail(key string) string {
	for _, d := range a.Details {
		if d.Key == key {
			return d.Value
		}
	}
	return ""
}

// ID returns the alert id for an occurrence: a name-based UUID (version 5
// layout, SHA-1) of the sensor, type, parties, key and first detection, so
// that detecting the same traffic again gives the same id and a store can
// ingest it idempotently.
func ID(sensor, typ, src, dst, key string, first time.Time) string {
	h := sha1.New()
	for _, s := range []string{sensor, typ, src, dst, key} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var t [8]byte
	binary.BigEndian.PutUint64(t[:], uint64(first.UnixNano()))
	h.Write(t[:])
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// Expand fills a title or description template: {src} and {dst} become the
// parties, {protocol} the protocol and {detail} the detection's detail.
func Expand(tmpl string, src, dst Party, protocol, detail string) string {
	if !strings.Contains(tmpl, "{") {
		return tmpl
	}
	return strings.NewReplacer("{src}", src.String(), "{dst}", dst.String(),
		"{protocol}", protocol, "{detail}", detail).Replace(tmpl)
}

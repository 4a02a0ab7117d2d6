package store

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/otwatch/otwatch/internal/alert"
)

// AlertRecord is a stored alert with what the store knows about it beyond
// the detection.
type AlertRecord struct {
	alert.Alert
	// Muted says the alert's pattern is muted (see Store.Mute).
	Muted bool `json:"muted"`
	// Pcap describes the stored evidence file, nil when there is none.
	Pcap *EvidenceInfo `json:"pcap,omitempty"`
	// Updated is when the record last changed (ingest or lifecycle).
	Updated time.Time `json:"updated"`
}

// EvidenceInfo describes an alert's stored pcapng file.
type EvidenceInfo struct {
	Size   int64     `json:"size"`
	Stored time.Time `json:"stored"`
}

// Sort is the order of an alert page.
type Sort string

// Alert orders. Every order breaks ties by a stable per-alert key, so
// keyset pagination neither repeats nor skips alerts.
const (
	// SortLastDetection: most recently detected first (the default).
	SortLastDetection Sort = "last_detection"
	// SortSeverity: most severe first, then most recently detected.
	SortSeverity Sort = "severity"
	// SortFirstDetection: most recently opened first.
	SortFirstDetection Sort = "first_detection"
)

// ParseSort returns the order called name ("" is SortLastDetection).
func ParseSort(name string) (Sort, error) {
	switch s := Sort(strings.ToLower(name)); s {
	case "":
		return SortLastDetection, nil
	case SortLastDetection, SortSeverity, SortFirstDetection:
		return s, nil
	}
	return "", fmt.Errorf("%w: unknown sort %q (want last_detection, severity or first_detection)", ErrInvalid, name)
}

// AlertQuery selects alerts. Values within one dimension are alternatives
// (OR); dimensions combine with AND; an empty dimension does not filter.
type AlertQuery struct {
	Sensors    []string         `json:"sensors,omitempty"`
	Sites      []string         `json:"sites,omitempty"`
	Zones      []string         `json:"zones,omitempty"`
	Severities []alert.Severity `json:"severities,omitempty"`
	Statuses   []alert.Status   `json:"statuses,omitempty"`
	Engines    []alert.Engine   `json:"engines,omitempty"`
	Categories []string         `json:"categories,omitempty"`
	Protocols  []string         `json:"protocols,omitempty"`
	Types      []string         `json:"types,omitempty"` // alert type ids
	// Devices are IP or MAC addresses; an alert matches when its source or
	// destination (Party.Key) is one of them.
	Devices []string `json:"devices,omitempty"`
	// From and Until bound the time range: an alert matches when its
	// LastDetection is within [From, Until). A zero bound is open.
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Text matches the alert's fields: its type, category, protocol,
	// sensor, site and zone, and its parties' text (PartyText: address,
	// host name, MAC). Every whitespace-separated term must match within
	// one field: the term's words (Words) appear there in sequence, the
	// last as a prefix, case-insensitively; "10.1.2" matches 10.1.2.10,
	// "plc sto" matches s7.plc_stop. The free-form title is not searched:
	// its wording varies with every detection's detail, while these
	// fields can be counted for facets without reading the alerts.
	Text string `json:"text,omitempty"`

	Sort Sort `json:"sort,omitempty"`
	// Ascending reverses the order (oldest or least severe first).
	Ascending bool `json:"ascending,omitempty"`
	// Cursor is AlertPage.Next of the previous page; "" for the first.
	Cursor string `json:"cursor,omitempty"`
	// Limit is the page size: DefaultLimit when 0, at most MaxLimit.
	Limit int `json:"limit,omitempty"`
}

// AlertPage is one page of alerts.
type AlertPage struct {
	Alerts []*AlertRecord `json:"alerts"`
	// Next is the cursor of the next page, "" on the last page.
	Next string `json:"next,omitempty"`
}

// Normalize checks q and returns it with addresses in canonical form
// (Party.Key form), words of Text lower-cased, the default sort and the
// limit set. Any invalid value is ErrInvalid with a message naming it.
func (q AlertQuery) Normalize() (AlertQuery, error) {
	var err error
	if q.Sort, err = ParseSort(string(q.Sort)); err != nil {
		return q, err
	}
	if q.Limit, err = limit(q.Limit); err != nil {
		return q, err
	}
	for _, s := range q.Severities {
		if s < alert.Low || s > alert.Critical {
			return q, fmt.Errorf("%w: unknown severity %d", ErrInvalid, s)
		}
	}
	for _, s := range q.Statuses {
		if s < alert.New || s > alert.Closed {
			return q, fmt.Errorf("%w: unknown status %d", ErrInvalid, s)
		}
	}
	for _, e := range q.Engines {
		if e < alert.Policy || e > alert.Operational {
			return q, fmt.Errorf("%w: unknown engine %d", ErrInvalid, e)
		}
	}
	for name, n := range map[string]int{"sensors": len(q.Sensors), "sites": len(q.Sites), "zones": len(q.Zones),
		"severities": len(q.Severities), "statuses": len(q.Statuses), "engines": len(q.Engines),
		"categories": len(q.Categories), "protocols": len(q.Protocols), "types": len(q.Types), "devices": len(q.Devices)} {
		if n > MaxValues {
			return q, fmt.Errorf("%w: %d %s in one filter (at most %d)", ErrInvalid, n, name, MaxValues)
		}
	}
	if q.Devices, err = NormalizeAddrs(q.Devices); err != nil {
		return q, err
	}
	if q.Text, err = normText(q.Text); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.Until.IsZero() && !q.Until.After(q.From) {
		return q, fmt.Errorf("%w: time range ends (%v) before it starts (%v)", ErrInvalid, q.Until, q.From)
	}
	return q, nil
}

// CubeOnly reports whether q filters only on the dimensions of Dims, so
// that its facets can be computed from per-combination counts alone.
func (q AlertQuery) CubeOnly() bool {
	return len(q.Devices) == 0 && q.From.IsZero() && q.Until.IsZero() && q.Text == ""
}

func limit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultLimit, nil
	case n < 0 || n > MaxLimit:
		return 0, fmt.Errorf("%w: page size %d (want 1 to %d)", ErrInvalid, n, MaxLimit)
	}
	return n, nil
}

func normText(s string) (string, error) {
	if utf8.RuneCountInString(s) > MaxTextLen {
		return "", fmt.Errorf("%w: search text longer than %d characters", ErrInvalid, MaxTextLen)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: search text is not UTF-8", ErrInvalid)
	}
	return strings.Join(strings.Fields(strings.ToLower(s)), " "), nil
}

// Words splits text into lower-case words of letters and digits, as the
// text filter compares them: "10.1.2.10 plc-stop" gives 10, 1, 2, 10,
// plc, stop.
func Words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// NormalizeAddr returns an IP address or MAC address in the form
// alert.Party.Key gives ("10.1.2.10", "00:1b:1b:6e:42:a9"); anything else is
// ErrInvalid.
func NormalizeAddr(s string) (string, error) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String(), nil
	}
	if m, err := net.ParseMAC(s); err == nil && len(m) == 6 {
		return m.String(), nil
	}
	return "", fmt.Errorf("%w: %q is neither an IP nor a MAC address", ErrInvalid, s)
}

// PartyKey returns the address a party is stored and matched by: its IP
// (IPv4-mapped addresses unmapped), else its MAC, else "".
func PartyKey(p alert.Party) string {
	if p.IP.IsValid() {
		return p.IP.Unmap().String()
	}
	return p.Key()
}

// PartyText is what the text filter matches of a party: its PartyKey,
// host name, and MAC when the key is its IP.
func PartyText(p alert.Party) string {
	s := PartyKey(p)
	if p.Name != "" {
		s += " " + p.Name
	}
	if p.IP.IsValid() && !p.MAC.IsZero() {
		s += " " + p.MAC.String()
	}
	return s
}

// TermMatches reports whether a search term matches within field: the
// term's words appear among the field's words in sequence, the last as a
// prefix.
func TermMatches(term, field string) bool {
	return WordsMatch(Words(term), Words(field))
}

// WordsMatch is TermMatches on words already split by Words.
func WordsMatch(tw, fw []string) bool {
	if len(tw) == 0 {
		return true
	}
	for i := 0; i+len(tw) <= len(fw); i++ {
		ok := true
		for j, w := range tw {
			if j == len(tw)-1 {
				ok = strings.HasPrefix(fw[i+j], w)
			} else {
				ok = fw[i+j] == w
			}
			if !ok {
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// NormalizeAddrs applies NormalizeAddr to each address.
func NormalizeAddrs(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		a, err := NormalizeAddr(s)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// Dim is a dimension alerts are filtered and counted by.
type Dim string

// Facet dimensions.
const (
	DimSensor   Dim = "sensor"
	DimSite     Dim = "site"
	DimZone     Dim = "zone"
	DimSeverity Dim = "severity"
	DimStatus   Dim = "status"
	DimEngine   Dim = "engine"
	DimCategory Dim = "category"
	DimProtocol Dim = "protocol"
	DimType     Dim = "type"
)

// Dims lists every facet dimension, in the order the console shows them.
var Dims = []Dim{DimSeverity, DimStatus, DimSensor, DimSite, DimZone, DimEngine, DimCategory, DimProtocol, DimType}

// FacetCount is how many alerts have one value of a dimension. Value is
// the name the filter takes: the severity, status or engine name
// (alert.Severity.String...), or the string itself.
type FacetCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// Facets are the counts of Store.AlertFacets.
type Facets struct {
	// Total is the number of alerts matching the whole query.
	Total int64 `json:"total"`
	// Counts has an entry for every dimension of Dims; values with no
	// alert are left out. Severity, status and engine values are in their
	// natural order (most severe first); the others by count, most first,
	// then by value.
	Counts map[Dim][]FacetCount `json:"counts"`
}

// CubeRow counts the alerts sharing one combination of the facet
// dimensions. Backends produce these (from counters they maintain, or by
// grouping the alerts that match the query's other filters) and
// ComputeFacets turns them into Facets.
type CubeRow struct {
	Sensor, Site, Zone, Category, Protocol, Type string
	Severity                                     alert.Severity
	Status                                       alert.Status
	Engine                                       alert.Engine
	Count                                        int64
}

// value returns the row's value of d, as FacetCount names it.
func (r *CubeRow) value(d Dim) string {
	switch d {
	case DimSensor:
		return r.Sensor
	case DimSite:
		return r.Site
	case DimZone:
		return r.Zone
	case DimSeverity:
		return r.Severity.String()
	case DimStatus:
		return r.Status.String()
	case DimEngine:
		return r.Engine.String()
	case DimCategory:
		return r.Category
	case DimProtocol:
		return r.Protocol
	case DimType:
		return r.Type
	}
	return ""
}

// Matches reports whether the row's combination passes q's filters on the
// facet dimensions, except the filter on dimension except ("" for none).
// q's other filters (devices, time, text) are not looked at.
func (r *CubeRow) Matches(q *AlertQuery, except Dim) bool {
	in := func(d Dim, vals []string, v string) bool {
		return d == except || len(vals) == 0 || slices.Contains(vals, v)
	}
	return in(DimSensor, q.Sensors, r.Sensor) && in(DimSite, q.Sites, r.Site) && in(DimZone, q.Zones, r.Zone) &&
		in(DimCategory, q.Categories, r.Category) && in(DimProtocol, q.Protocols, r.Protocol) && in(DimType, q.Types, r.Type) &&
		(except == DimSeverity || len(q.Severities) == 0 || slices.Contains(q.Severities, r.Severity)) &&
		(except == DimStatus || len(q.Statuses) == 0 || slices.Contains(q.Statuses, r.Status)) &&
		(except == DimEngine || len(q.Engines) == 0 || slices.Contains(q.Engines, r.Engine))
}

// ComputeFacets computes the facets of q from rows, which must count only
// alerts that pass q's filters outside the facet dimensions (all alerts
// when q.CubeOnly()).
func ComputeFacets(rows []CubeRow, q AlertQuery) Facets {
	f := Facets{Counts: make(map[Dim][]FacetCount, len(Dims))}
	for i := range rows {
		if rows[i].Matches(&q, "") {
			f.Total += rows[i].Count
		}
	}
	for _, d := range Dims {
		sums := map[string]int64{}
		for i := range rows {
			r := &rows[i]
			if r.Count > 0 && r.Matches(&q, d) {
				sums[r.value(d)] += r.Count
			}
		}
		out := make([]FacetCount, 0, len(sums))
		for v, n := range sums {
			out = append(out, FacetCount{v, n})
		}
		rank := naturalRank(d)
		slices.SortFunc(out, func(a, b FacetCount) int {
			if rank != nil {
				return cmp.Compare(rank(a.Value), rank(b.Value))
			}
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Value, b.Value))
		})
		f.Counts[d] = out
	}
	return f
}

// naturalRank orders the values of enumerated dimensions: most severe
// first, statuses in lifecycle order, engines in alert.Engines order.
func naturalRank(d Dim) func(string) int {
	switch d {
	case DimSeverity:
		return func(v string) int { s, _ := alert.ParseSeverity(v); return -int(s) }
	case DimStatus:
		return func(v string) int { s, _ := alert.ParseStatus(v); return int(s) }
	case DimEngine:
		return func(v string) int { e, _ := alert.ParseEngine(v); return int(e) }
	}
	return nil
}

// CheckAlert reports whether a is fit to be stored: ErrInvalid naming the
// problem otherwise. A zero LastDetection is taken as FirstDetection.
func CheckAlert(a *alert.Alert) error {
	switch {
	case a == nil:
		return fmt.Errorf("%w: nil alert", ErrInvalid)
	case a.ID == "" || len(a.ID) > 64:
		return fmt.Errorf("%w: alert id %q", ErrInvalid, a.ID)
	case a.Type == "":
		return fmt.Errorf("%w: alert %s has no type", ErrInvalid, a.ID)
	case a.Severity < alert.Low || a.Severity > alert.Critical:
		return fmt.Errorf("%w: alert %s: unknown severity %d", ErrInvalid, a.ID, a.Severity)
	case a.Engine < alert.Policy || a.Engine > alert.Operational:
		return fmt.Errorf("%w: alert %s: unknown engine %d", ErrInvalid, a.ID, a.Engine)
	case a.Status > alert.Closed:
		return fmt.Errorf("%w: alert %s: unknown status %d", ErrInvalid, a.ID, a.Status)
	case a.FirstDetection.IsZero():
		return fmt.Errorf("%w: alert %s has no first detection", ErrInvalid, a.ID)
	case !a.LastDetection.IsZero() && a.LastDetection.Before(a.FirstDetection):
		return fmt.Errorf("%w: alert %s: last detection before first", ErrInvalid, a.ID)
	}
	return nil
}

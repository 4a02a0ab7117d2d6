package baseline

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Kind says what an Entry is a pattern of.
type Kind string

// Entry kinds.
const (
	KindDevice     Kind = "device"     // a device (by IP, or MAC when it has no IP) exists
	KindConnection Kind = "connection" // Client talks to Server over Protocol on Port
	KindFunction   Kind = "function"   // Client uses Function of Protocol on Server
	KindClass      Kind = "class"      // Client uses operations of Class on Server
	KindRange      Kind = "range"      // Client accesses Target (kind:first-last) on Server
	KindInternet   Kind = "internet"   // Client talks to a public address Server
	KindAccess     Kind = "access"     // Client reaches Server with a remote access or cleartext login protocol
	KindRate       Kind = "rate"       // Client polls Server over Protocol with a learned period
	KindValue      Kind = "value"      // values written to Target on Server stay within Min..Max
	KindPattern    Kind = "pattern"    // an alert pattern accepted by Learn: Function holds the alert type, Target its key
)

// Entry is one learned pattern. Fields that do not apply to its Kind are
// zero. Entry is comparable and is its own map key.
type Entry struct {
	Kind     Kind        `json:"kind"`
	Client   netip.Addr  `json:"client,omitzero"`
	Server   netip.Addr  `json:"server,omitzero"`
	MAC      dissect.MAC `json:"mac,omitzero"` // device entries of hosts without IP
	Protocol string      `json:"protocol,omitempty"`
	Port     uint16      `json:"port,omitempty"`
	Function string      `json:"function,omitempty"`
	Class    string      `json:"class,omitempty"`
	Target   string      `json:"target,omitempty"`
}

// String describes the entry in one line, as the console shows what Learn
// would add.
func (e Entry) String() string {
	var b strings.Builder
	b.WriteString(string(e.Kind))
	add := func(k, v string) {
		if v != "" {
			b.WriteString(" " + k + "=" + v)
		}
	}
	if e.Client.IsValid() {
		add("client", e.Client.String())
	}
	if e.Server.IsValid() {
		add("server", e.Server.String())
	}
	if !e.MAC.IsZero() {
		add("mac", e.MAC.String())
	}
	add("protocol", e.Protocol)
	if e.Port != 0 {
		add("port", fmt.Sprint(e.Port))
	}
	add("function", e.Function)
	add("class", e.Class)
	add("target", e.Target)
	return b.String()
}

// Stats are what the baseline keeps about an entry.
type Stats struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	Count uint64    `json:"count"`
	// Min and Max bound the values of KindValue entries; Period is the
	// mean interval of KindRate entries.
	Min    float64       `json:"min,omitempty"`
	Max    float64       `json:"max,omitempty"`
	Period time.Duration `json:"period_ns,omitempty"`
	// Source says how the entry got there: "learning", "learn" (a person
	// accepted an alert) or "import".
	Source string `json:"source,omitempty"`
}

// Record is an entry with its stats, as exported.
type Record struct {
	Entry
	Stats
}

// Baseline is a set of entries. It is safe for concurrent use.
type Baseline struct {
	mu      sync.RWMutex
	entries map[Entry]*Stats
	max     int
	dropped uint64
}

// DefaultMax bounds the entries a Baseline holds unless New says otherwise.
const DefaultMax = 1 << 20

// New returns an empty Baseline holding at most max entries (DefaultMax if
// max <= 0); entries past it are counted in Dropped and not kept.
func New(max int) *Baseline {
	if max <= 0 {
		max = DefaultMax
	}
	return &Baseline{entries: map[Entry]*Stats{}, max: max}
}

// Has reports whether e is in the baseline.
func (b *Baseline) Has(e Entry) bool {
	b.mu.RLock()
	_, ok := b.entries[e]
	b.mu.RUnlock()
	return ok
}

// Get returns e's stats, if e is in the baseline.
func (b *Baseline) Get(e Entry) (Stats, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	s, ok := b.entries[e]
	if !ok {
		return Stats{}, false
	}
	return *s, true
}

// Observe records one occurrence of e at t, adding e if it is new (source
// says how: "learning", "learn", "import"). It reports whether e was new.
func (b *Baseline) Observe(e Entry, t time.Time, source string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.entries[e]; ok {
		s.Count++
		if t.After(s.Last) {
			s.Last = t
		}
		return false
	}
	if len(b.entries) >= b.max {
		b.dropped++
		return false
	}
	b.entries[e] = &Stats{First: t, Last: t, Count: 1, Source: source}
	return true
}

// ObserveValue records a value written to a KindValue entry, widening its
// range.
func (b *Baseline) ObserveValue(e Entry, t time.Time, v float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.entries[e]
	if !ok {
		if len(b.entries) >= b.max {
			b.dropped++
			return
		}
		b.entries[e] = &Stats{First: t, Last: t, Count: 1, Min: v, Max: v, Source: "learning"}
		return
	}
	s.Count++
	s.Last = t
	s.Min, s.Max = min(s.Min, v), max(s.Max, v)
}

// SetPeriod records the learned period of a KindRate entry.
func (b *Baseline) SetPeriod(e Entry, t time.Time, period time.Duration, n uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.entries[e]
	if !ok {
		if len(b.entries) >= b.max {
			b.dropped++
			return
		}
		s = &Stats{First: t, Source: "learning"}
		b.entries[e] = s
	}
	s.Last, s.Period, s.Count = t, period, n
}

// Remove deletes e; it reports whether e was there.
func (b *Baseline) Remove(e Entry) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.entries[e]
	delete(b.entries, e)
	return ok
}

// Len returns the number of entries.
func (b *Baseline) Len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.entries)
}

// Dropped returns how many new entries were not kept because the baseline
// was full.
func (b *Baseline) Dropped() uint64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.dropped
}

// Records returns every entry with its stats, in a stable order: by
// kind, client, server, MAC, protocol, port, function, class and target.
func (b *Baseline) Records() []Record {
	b.mu.RLock()
	recs := make([]Record, 0, len(b.entries))
	for e, s := range b.entries {
		recs = append(recs, Record{e, *s})
	}
	b.mu.RUnlock()
	rank := map[Kind]uint32{}
	for i := range recs {
		rank[recs[i].Kind] = 0
	}
	for i, k := range slices.Sorted(maps.Keys(rank)) {
		rank[k] = uint32(i)
	}
	keys := make([]recordKey, len(recs))
	for i := range recs {
		r := &recs[i]
		keys[i] = recordKey{kind: rank[r.Kind], client: addrKeyOf(r.Client), server: addrKeyOf(r.Server),
			mac: uint64(r.MAC[0])<<40 | uint64(r.MAC[1])<<32 | uint64(r.MAC[2])<<24 | uint64(r.MAC[3])<<16 | uint64(r.MAC[4])<<8 | uint64(r.MAC[5]),
			i:   int32(i)}
	}
	slices.SortFunc(keys, func(x, y recordKey) int { return compareRecordKeys(recs, x, y) })
	// Put the records in the keys' order in place, one cycle of the
	// permutation at a time.
	from := make([]int32, len(keys))
	for i := range keys {
		from[i] = keys[i].i
	}
	for i := range from {
		if from[i] < 0 || int(from[i]) == i {
			continue
		}
		tmp := recs[i]
		j := i
		for {
			k := int(from[j])
			from[j] = -1
			if k == i {
				recs[j] = tmp
				break
			}
			recs[j] = recs[k]
			j = k
		}
	}
	return recs
}

// recordKey is what Records sorts by, computed once per record: the rank
// of its kind among the kinds present, its addresses and MAC as numbers.
// The MAC's text is fixed-width hex, so its number sorts as its text does.
type recordKey struct {
	kind           uint32
	client, server addrKey
	mac            uint64
	i              int32 // index of the record
}

// addrKey orders addresses as netip.Addr.Compare does, zone aside: by
// length, then value.
type addrKey struct {
	bits   uint8
	hi, lo uint64
}

func addrKeyOf(a netip.Addr) addrKey {
	b := a.As16()
	return addrKey{bits: uint8(a.BitLen()), hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:])}
}

func (k addrKey) compare(o addrKey) int {
	if c := cmp.Compare(k.bits, o.bits); c != 0 {
		return c
	}
	if c := cmp.Compare(k.hi, o.hi); c != 0 {
		return c
	}
	return cmp.Compare(k.lo, o.lo)
}

// compareRecordKeys orders records x and y of recs as Records does.
func compareRecordKeys(recs []Record, x, y recordKey) int {
	if c := cmp.Compare(x.kind, y.kind); c != 0 {
		return c
	}
	if c := x.client.compare(y.client); c != 0 {
		return c
	}
	a, b := &recs[x.i], &recs[y.i]
	if c := a.Client.Compare(b.Client); c != 0 {
		return c // zones
	}
	if c := x.server.compare(y.server); c != 0 {
		return c
	}
	if c := a.Server.Compare(b.Server); c != 0 {
		return c
	}
	if c := cmp.Compare(x.mac, y.mac); c != 0 {
		return c
	}
	if c := strings.Compare(a.Protocol, b.Protocol); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Port, b.Port); c != 0 {
		return c
	}
	if c := strings.Compare(a.Function, b.Function); c != 0 {
		return c
	}
	if c := strings.Compare(a.Class, b.Class); c != 0 {
		return c
	}
	return strings.Compare(a.Target, b.Target)
}

// FileVersion is the version of the file format Write produces.
const FileVersion = 1

// file is the JSON document of a baseline.
type file struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Sensor  string    `json:"sensor,omitempty"`
	Written time.Time `json:"written,omitzero"`
	Entries []Record  `json:"entries"`
}

const formatName = "otwatch-baseline"

// Write writes the baseline as an indented JSON document, one entry per
// object, in a stable order.
func (b *Baseline) Write(w io.Writer, sensor string, now time.Time) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	f := file{Format: formatName, Version: FileVersion, Sensor: sensor, Written: now, Entries: b.Records()}
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("baseline: writing: %w", err)
	}
	return nil
}

var kinds = map[Kind]bool{KindDevice: true, KindConnection: true, KindFunction: true, KindClass: true,
	KindRange: true, KindInternet: true, KindAccess: true, KindRate: true, KindValue: true, KindPattern: true}

// Read reads a document written by Write and adds its entries to b (a
// nil b makes a new Baseline). An unknown format, version or entry kind is
// an error naming the entry, and then nothing is added.
func Read(r io.Reader, b *Baseline) (*Baseline, error) {
	var f file
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("baseline: reading: %w", err)
	}
	if f.Format != formatName {
		return nil, fmt.Errorf("baseline: not a baseline file (format %q, want %q)", f.Format, formatName)
	}
	if f.Version != FileVersion {
		return nil, fmt.Errorf("baseline: file version %d, this otwatch reads %d", f.Version, FileVersion)
	}
	for i, rec := range f.Entries {
		if !kinds[rec.Kind] {
			return nil, fmt.Errorf("baseline: entry %d: unknown kind %q", i, rec.Kind)
		}
	}
	if b == nil {
		b = New(0)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, rec := range f.Entries {
		s := rec.Stats
		if s.Source == "" {
			s.Source = "import"
		}
		if old, ok := b.entries[rec.Entry]; ok {
			old.Count += s.Count
			continue
		}
		b.entries[rec.Entry] = &s
	}
	return b, nil
}

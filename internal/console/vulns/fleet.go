package vulns

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/recommend"
	"github.com/otwatch/otwatch/internal/store"
)

// maxMatches bounds the device contents whose matches a Fleet keeps; past
// it, the cache starts afresh.
const maxMatches = 1 << 16

// DefaultMaxAge is how long a Fleet uses a fleet assessment before it
// reads the store again, when Options.MaxAge is 0.
const DefaultMaxAge = 10 * time.Second

// Options configure a Fleet. The zero value gives the defaults.
type Options struct {
	// Advisories are the advisories devices are matched against; with
	// none, devices have no advisory matches and their recommendations
	// come only from what the sensors saw.
	Advisories *csaf.Catalog
	// MaxAge is how long Assess uses the devices, connections and alerts
	// it read before reading them again: DefaultMaxAge when 0, every time
	// when negative. Statuses are read every time.
	MaxAge time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
}

// A Fleet answers what the console shows about vulnerabilities, from a
// store and a catalog of advisories. It is safe for concurrent use.
type Fleet struct {
	st   store.Store
	cat  *csaf.Catalog
	opts Options

	mu      sync.Mutex
	matches map[csaf.Device][]csaf.Match // by device content

	assessMu sync.Mutex // one fleet assessment at a time
	base     *base      // the last assessment of the inputs, statuses aside
	baseRead time.Time  // when its inputs were last read
	last     *Assessment
	seed     maphash.Seed
}

// New returns the Fleet of the devices of st.
func New(st store.Store, opts Options) *Fleet {
	if opts.MaxAge == 0 {
		opts.MaxAge = DefaultMaxAge
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Fleet{st: st, cat: opts.Advisories, opts: opts, matches: map[csaf.Device][]csaf.Match{}, seed: maphash.MakeSeed()}
}

// Catalog returns the advisories the Fleet matches devices against; nil
// when none were given.
func (f *Fleet) Catalog() *csaf.Catalog { return f.cat }

// Advisories returns how many advisories are loaded.
func (f *Fleet) Advisories() int {
	if f.cat == nil {
		return 0
	}
	return f.cat.Len()
}

// Matches returns the advisories that concern device d, as
// csaf.Catalog.Match gives them for recommend.CSAFDevice(d): none without
// advisories, and none for a host on the internet (recommend.InternetHost),
// which is not the plant's to fix. A device with the content of one matched
// before gets the same result without being matched again. The result is
// shared: callers must not modify it.
func (f *Fleet) Matches(d *inventory.Device) []csaf.Match {
	if f.Advisories() == 0 || recommend.InternetHost(d) {
		return nil
	}
	cd := recommend.CSAFDevice(d)
	f.mu.Lock()
	m, ok := f.matches[cd]
	f.mu.Unlock()
	if ok {
		return m
	}
	m = f.cat.Match(cd)
	f.mu.Lock()
	f.remember(cd, m)
	f.mu.Unlock()
	return m
}

// remember keeps the matches of a device content; f.mu is held.
func (f *Fleet) remember(cd csaf.Device, m []csaf.Match) {
	if len(f.matches) >= maxMatches {
		clear(f.matches)
	}
	f.matches[cd] = m
}

// matchAll returns the matches of every device of devs, out[i] those
// Matches gives for devs[i]. The device contents not matched before are
// matched together with csaf.Catalog.MatchFleet, on every CPU.
func (f *Fleet) matchAll(devs []*inventory.Device) [][]csaf.Match {
	out := make([][]csaf.Match, len(devs))
	if f.Advisories() == 0 {
		return out
	}
	var todo []csaf.Device
	index := map[csaf.Device]int32{}  // content not matched before → index into todo
	which := make([]int32, len(devs)) // devs[i]'s index into todo; -1 when out[i] is known
	f.mu.Lock()
	for i, d := range devs {
		which[i] = -1
		if recommend.InternetHost(d) {
			continue
		}
		cd := recommend.CSAFDevice(d)
		if m, ok := f.matches[cd]; ok {
			out[i] = m
			continue
		}
		j, ok := index[cd]
		if !ok {
			j = int32(len(todo))
			index[cd] = j
			todo = append(todo, cd)
		}
		which[i] = j
	}
	f.mu.Unlock()
	if len(todo) == 0 {
		return out
	}
	ms := f.cat.MatchFleet(todo)
	f.mu.Lock()
	for j, cd := range todo {
		f.remember(cd, ms[j])
	}
	f.mu.Unlock()
	for i, j := range which {
		if j >= 0 {
			out[i] = ms[j]
		}
	}
	return out
}

// A Recommendation is a recommendation for a device of the store, with the
// status people gave it (Status and Reason are the stored ones).
type Recommendation struct {
	recommend.Recommendation
	// Sensor is the sensor of the device.
	Sensor string `json:"sensor"`
	// DeviceKey identifies the device across inventories
	// (recommend.DeviceKey); the status is kept with it.
	DeviceKey string `json:"device_key"`
	// Actor and Changed say who set the status and when; empty for a
	// recommendation whose status never changed.
	Actor   string    `json:"actor,omitempty"`
	Changed time.Time `json:"changed,omitzero"`
}

// Active reports whether the recommendation still calls for work: Open or
// InProgress.
func (r *Recommendation) Active() bool {
	return r.Status == recommend.Open || r.Status == recommend.InProgress
}

// A Device is a device of the store with its advisory matches,
// recommendations and risk.
type Device struct {
	Record          *store.DeviceRecord
	Matches         []csaf.Match // shared with the Fleet's cache: do not modify
	Recommendations []Recommendation
	Risk            recommend.Risk
}

// Ref returns the reference of the device in the fleet views.
func (d *Device) Ref() DeviceRef {
	return DeviceRef{Sensor: d.Record.Sensor, ID: d.Record.ID, Name: d.Record.Name, Address: store.DeviceAddr(&d.Record.Device), Risk: d.Risk.Score}
}

// Active returns how many of the device's recommendations still call for
// work (Recommendation.Active).
func (d *Device) Active() int {
	n := 0
	for i := range d.Recommendations {
		if d.Recommendations[i].Active() {
			n++
		}
	}
	return n
}

// Recommendation returns the device's recommendation with the ID, or nil.
func (d *Device) Recommendation(id string) *Recommendation {
	for i := range d.Recommendations {
		if d.Recommendations[i].ID == id {
			return &d.Recommendations[i]
		}
	}
	return nil
}

// A DeviceRef names a device of the store.
type DeviceRef struct {
	Sensor  string             `json:"sensor"`
	ID      inventory.DeviceID `json:"id"`
	Name    string             `json:"name,omitempty"`
	Address string             `json:"address,omitempty"` // store.DeviceAddr: its first IP, else MAC or routed address
	Risk    float64            `json:"risk"`
}

// Device assesses one device of the store: its matches, its
// recommendations with their statuses, and its risk, reading its sensor's
// inventory and the alerts that involve it.
func (f *Fleet) Device(ctx context.Context, rec *store.DeviceRecord) (*Device, error) {
	snap, err := f.snapshot(ctx, rec.Sensor)
	if err != nil {
		return nil, err
	}
	d := snap.Device(rec.ID)
	if d == nil { // stored after the snapshot was read
		d = &rec.Device
	}
	var alerts []*alert.Alert
	if addrs := deviceAddrs(d); len(addrs) > 0 {
		if alerts, err = f.alerts(ctx, store.AlertQuery{Sensors: []string{rec.Sensor}, Devices: addrs}); err != nil {
			return nil, err
		}
	}
	matches := f.Matches(d)
	recs := recommend.ForDevice(snap, d, matches, alerts)
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	var statuses map[string]store.RecommendationStatus
	if len(ids) > 0 {
		if statuses, err = f.st.RecommendationStatuses(ctx, ids); err != nil {
			return nil, fmt.Errorf("vulns: recommendation statuses: %w", err)
		}
	}
	dev := &Device{Record: rec, Matches: matches, Recommendations: merge(recs, rec.Sensor, recommend.DeviceKey(d), statuses)}
	dev.Risk = recommend.DeviceRisk(snap, d, matches, alerts, plain(dev.Recommendations))
	return dev, nil
}

// merge returns recs with the stored statuses.
func merge(recs []recommend.Recommendation, sensor, key string, statuses map[string]store.RecommendationStatus) []Recommendation {
	out := make([]Recommendation, len(recs))
	for i, r := range recs {
		out[i] = Recommendation{Recommendation: r, Sensor: sensor, DeviceKey: key}
		if s, ok := statuses[r.ID]; ok {
			out[i].Status, out[i].Reason, out[i].Actor, out[i].Changed = s.Status, s.Reason, s.Actor, s.Changed
		}
	}
	return out
}

func plain(recs []Recommendation) []recommend.Recommendation {
	if len(recs) == 0 {
		return nil
	}
	out := make([]recommend.Recommendation, len(recs))
	for i := range recs {
		out[i] = recs[i].Recommendation
	}
	return out
}

// An Assessment is the fleet at one time: every device of the store with
// its matches, recommendations and risk. It does not change once made.
type Assessment struct {
	// Devices are ranked by risk: highest score first, then highest
	// vulnerability score, most recommendations, sensor and device ID.
	Devices []*Device
	// Time is when the devices, connections and alerts it was made from
	// were read.
	Time time.Time
	// Advisories is how many advisories the devices were matched against.
	Advisories int

	statusSum uint64
	byDevice  map[deviceID]*Device
	byRec     map[string]*Recommendation

	once       sync.Once
	cves       []CVE
	advisories []Advisory
}

// deviceID identifies a device of the store.
type deviceID struct {
	sensor string
	id     inventory.DeviceID
}

// Device returns the assessment of a device, or nil.
func (a *Assessment) Device(sensor string, id inventory.DeviceID) *Device {
	return a.byDevice[deviceID{sensor, id}]
}

// Recommendation returns the recommendation with the ID and its device,
// or nil. A device seen by two sensors has its recommendations twice, with
// the same IDs: the first in the ranking is returned.
func (a *Assessment) Recommendation(id string) (*Recommendation, *Device) {
	r := a.byRec[id]
	if r == nil {
		return nil, nil
	}
	return r, a.byDevice[deviceID{r.Sensor, r.Device.ID}]
}

// base is the assessment of the inputs with every recommendation open,
// and what is needed to apply statuses to it.
type base struct {
	sum     uint64
	read    time.Time
	devices []*baseDevice
}

// baseDevice is one device of a base.
type baseDevice struct {
	dev    Device // with open recommendations
	x      *recommend.Index
	d      *inventory.Device // in x's snapshot
	alerts []*alert.Alert
}

// Assess returns the assessment of every device of the store. It reads
// the devices, connections and alerts at most once every MaxAge, and
// assesses the devices again only when those changed; the statuses of the
// recommendations are read every time, so a status change shows at once.
func (f *Fleet) Assess(ctx context.Context) (*Assessment, error) { return f.assess(ctx, false) }

// assess is Assess, reading the store's devices, connections and alerts
// again, whatever their age, when fresh is set.
func (f *Fleet) assess(ctx context.Context, fresh bool) (*Assessment, error) {
	f.assessMu.Lock()
	defer f.assessMu.Unlock()
	statuses, err := f.st.RecommendationStatuses(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("vulns: reading recommendation statuses: %w", err)
	}
	if now := f.opts.Now(); fresh || f.base == nil || f.opts.MaxAge < 0 || now.Sub(f.baseRead) >= f.opts.MaxAge {
		in, err := f.load(ctx)
		if err != nil {
			return nil, err
		}
		if sum := in.sum(f.seed); f.base == nil || f.base.sum != sum {
			f.base, f.last = f.assessInputs(in, now), nil
			f.base.sum = sum
		}
		f.baseRead = now
	}
	ssum := statusSum(f.seed, statuses)
	if f.last != nil && f.last.statusSum == ssum {
		return f.last, nil
	}
	f.last = f.apply(f.base, statuses)
	f.last.statusSum = ssum
	return f.last, nil
}

// assessInputs assesses every device of in, its recommendations open.
func (f *Fleet) assessInputs(in *inputs, now time.Time) *base {
	b := &base{read: now}
	var devs []*inventory.Device
	for _, s := range in.sensors {
		for i := range s.snap.Devices {
			devs = append(devs, &s.snap.Devices[i])
		}
	}
	all := f.matchAll(devs)
	for _, s := range in.sensors {
		x := recommend.NewIndex(s.snap)
		byAddr := alertsByAddr(s.alerts)
		for i := range s.snap.Devices {
			d := &s.snap.Devices[i]
			alerts := alertsOf(d, s.alerts, byAddr)
			matches := all[len(b.devices)]
			recs := x.ForDevice(d, matches, alerts)
			bd := &baseDevice{x: x, d: d, alerts: alerts,
				dev: Device{Record: s.records[i], Matches: matches, Recommendations: merge(recs, s.name, recommend.DeviceKey(d), nil)}}
			bd.dev.Risk = x.DeviceRisk(d, matches, alerts, recs)
			b.devices = append(b.devices, bd)
		}
	}
	return b
}

// apply returns the assessment of b with the statuses, ranked.
func (f *Fleet) apply(b *base, statuses map[string]store.RecommendationStatus) *Assessment {
	a := &Assessment{Time: b.read, Advisories: f.Advisories(), Devices: make([]*Device, len(b.devices)),
		byDevice: make(map[deviceID]*Device, len(b.devices)), byRec: map[string]*Recommendation{}}
	for i, bd := range b.devices {
		dev := bd.dev
		changed := false
		for _, r := range dev.Recommendations {
			if _, ok := statuses[r.ID]; ok {
				changed = true
				break
			}
		}
		if changed {
			dev.Recommendations = merge(plain(dev.Recommendations), dev.Record.Sensor, dev.Recommendations[0].DeviceKey, statuses)
			dev.Risk = bd.x.DeviceRisk(bd.d, dev.Matches, bd.alerts, plain(dev.Recommendations))
		}
		a.Devices[i] = &dev
		a.byDevice[deviceID{dev.Record.Sensor, dev.Record.ID}] = &dev
	}
	slices.SortStableFunc(a.Devices, func(x, y *Device) int {
		return cmp.Or(
			cmp.Compare(y.Risk.Score, x.Risk.Score),
			cmp.Compare(y.Risk.Vulnerability, x.Risk.Vulnerability),
			cmp.Compare(len(y.Recommendations), len(x.Recommendations)),
			strings.Compare(x.Record.Sensor, y.Record.Sensor),
			cmp.Compare(x.Record.ID, y.Record.ID))
	})
	for _, dev := range a.Devices {
		for i := range dev.Recommendations {
			r := &dev.Recommendations[i]
			if _, ok := a.byRec[r.ID]; !ok {
				a.byRec[r.ID] = r
			}
		}
	}
	return a
}

// Find returns the recommendation with the ID among those of the fleet
// (see Assessment.Recommendation), and its device; ErrNotFound (of the
// store) when no device has it. One missing from the last assessment is
// looked for again in the store's current inventory, as it may be new.
func (f *Fleet) Find(ctx context.Context, id string) (*Recommendation, *Device, error) {
	a, err := f.Assess(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, d := a.Recommendation(id)
	if r == nil {
		if a, err = f.assess(ctx, true); err != nil {
			return nil, nil, err
		}
		r, d = a.Recommendation(id)
	}
	if r == nil {
		return nil, nil, fmt.Errorf("%w: no device has the recommendation %s", store.ErrNotFound, id)
	}
	return r, d, nil
}

// SetStatus moves recommendation r (of Device or Find) to status to, with
// a reason (required to dismiss), as actor; the store audits it. A change
// the lifecycle does not allow from r's status is the store's ErrInvalid,
// with a message that says why; the store's errors are returned as they
// are.
func (f *Fleet) SetStatus(ctx context.Context, r *Recommendation, to recommend.Status, reason, actor string) (store.RecommendationStatus, error) {
	if err := recommend.CheckTransition(r.Status, to, reason); err != nil {
		var next []string
		for s := recommend.Open; s <= recommend.Dismissed; s++ {
			if recommend.CheckTransition(r.Status, s, "reason") == nil {
				next = append(next, statusText(s))
			}
		}
		msg := fmt.Sprintf("recommendation %s is %s: it can become %s, not %s", r.ID, statusText(r.Status), strings.Join(next, ", "), statusText(to))
		if errors.Is(err, recommend.ErrReasonRequired) {
			msg = "give a reason to dismiss recommendation " + r.ID
		}
		return store.RecommendationStatus{}, fmt.Errorf("%w: %s", store.ErrInvalid, msg)
	}
	return f.st.SetRecommendationStatus(ctx, store.RecommendationStatus{ID: r.ID, Device: r.DeviceKey, Title: r.Title, Status: to, Reason: reason}, actor)
}

// History returns the status changes of a recommendation, oldest first.
func (f *Fleet) History(ctx context.Context, id string) ([]store.RecommendationStatus, error) {
	h, err := f.st.RecommendationHistory(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("vulns: history of recommendation %s: %w", id, err)
	}
	return h, nil
}

// statusText names a status for people: "in progress", "done".
func statusText(s recommend.Status) string { return strings.ReplaceAll(s.String(), "_", " ") }

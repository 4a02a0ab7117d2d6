package detect

import (
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/attack"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/evidence"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Sink receives alerts as they are opened (created true) and as their
// count and last detection change. It is called on the goroutine that feeds
// the Detector; the *Alert stays the Detector's and changes on later calls,
// so a Sink that keeps it copies it.
type Sink interface {
	Alert(a *alert.Alert, created bool)
}

// SinkFunc adapts a function to the Sink interface.
type SinkFunc func(a *alert.Alert, created bool)

// Alert calls f(a, created).
func (f SinkFunc) Alert(a *alert.Alert, created bool) { f(a, created) }

// EvidenceSource returns the kept packets of a flow between two times;
// *evidence.Ring is one.
type EvidenceSource interface {
	Packets(flow uint64, from, to time.Time) []evidence.Packet
}

// Zone is a part of the plant with its own subnets and, optionally, its
// own thresholds for rate-based alert types.
type Zone struct {
	Name       string                     `json:"name"`
	Subnets    []netip.Prefix             `json:"subnets"`
	Thresholds map[string]alert.Threshold `json:"thresholds,omitempty"` // by alert type id
}

// Config configures a Detector. The zero value learns for DefaultLearn.
type Config struct {
	Sensor string // sensor name put on alerts
	Site   string // site name put on alerts
	Zone   string // zone of addresses no Zones entry covers
	// Learn is the learning period, counted in capture time from the first
	// frame or operation (DefaultLearn if zero and LearnUntil is zero).
	Learn time.Duration
	// LearnUntil, if set, ends learning at this capture time instead.
	LearnUntil time.Time
	// Operational starts the detector in operational mode, normally with
	// an imported Baseline.
	Operational bool
	// Baseline is the starting baseline; nil starts from an empty one.
	Baseline *baseline.Baseline
	// Zones map addresses to zones and their threshold overrides.
	Zones []Zone
	// Thresholds override the default thresholds of alert types, by id,
	// for every zone.
	Thresholds map[string]alert.Threshold
	// OTSubnets are OT networks: their hosts count as OT devices even
	// before they speak an industrial protocol.
	OTSubnets []netip.Prefix
	// Indicators are known-bad addresses, domains and hashes.
	Indicators *Indicators
	// Evidence, if set, is where alerts take the packets around their
	// trigger from.
	Evidence EvidenceSource
	// Sink receives alerts; nil keeps them only in the Detector.
	Sink Sink
	// Suppress, if set, is asked about every new alert; true drops it
	// (exclusion rules, muted patterns). Suppressed alerts are counted.
	Suppress func(a *alert.Alert) bool
	// Keep makes the Detector keep every alert it opened, for Alerts.
	Keep bool
	// MaxOpen bounds the open alerts held for merging (DefaultMaxOpen if
	// zero); past it the least recently detected is forgotten, and its
	// recurrence opens a new alert.
	MaxOpen int
	// MaxHosts bounds the per-address state (DefaultMaxHosts if zero).
	MaxHosts int
}

// Defaults of Config.
const (
	DefaultLearn    = 10 * time.Minute
	DefaultMaxOpen  = 65536
	DefaultMaxHosts = 65536
	// maxEvidence bounds the packets an alert takes from each flow.
	maxEvidence = 64
	// evidenceBefore is how far back an alert's evidence reaches.
	evidenceBefore = 2 * time.Minute
)

// Stats counts a Detector's work.
type Stats struct {
	Operations       uint64 `json:"operations"`
	Packets          uint64 `json:"packets"`
	Findings         uint64 `json:"findings"`
	Opened           uint64 `json:"alerts_opened"`
	Merged           uint64 `json:"alerts_merged"`
	SilencedLearning uint64 `json:"silenced_while_learning"` // policy findings while learning
	SilencedLearned  uint64 `json:"silenced_by_baseline"`    // findings whose pattern was learned
	Suppressed       uint64 `json:"suppressed"`              // dropped by Config.Suppress
	Forgotten        uint64 `json:"open_alerts_forgotten"`   // open alerts dropped past MaxOpen
	HostsDropped     uint64 `json:"hosts_dropped"`
}

// Mode is a Detector's mode.
type Mode uint8

// Modes.
const (
	Learning Mode = iota
	Operational
)

// String returns "learning" or "operational".
func (m Mode) String() string {
	if m == Operational {
		return "operational"
	}
	return "learning"
}

// mergeKey identifies an open alert: same type, parties and key.
type mergeKey struct {
	typ          string
	srcIP, dstIP netip.Addr
	srcMAC       dissect.MAC
	dstMAC       dissect.MAC
	key          string
}

type open struct {
	a     *alert.Alert
	k     mergeKey
	dirty bool // changed since the sink last saw it
	seen  time.Time
}

// Detector runs the engines over one sensor's traffic. It is not safe for
// concurrent use: feed it from one goroutine (the pipeline's), and call
// Close and Learn from that goroutine too.
type Detector struct {
	cfg      Config
	base     *baseline.Baseline
	engines  []Engine
	ops      []OperationHandler
	pkts     []PacketHandler
	probes   []ProbeHandler
	lpkts    []LearningPacketHandler
	evs      []EventHandler
	ticks    []Ticker
	modes    []ModeHandler
	mode     Mode
	started  bool
	learnEnd time.Time
	now      time.Time
	nextTick time.Time
	// nowNS is now in Unix nanoseconds, and dueNS the time at which
	// advance has work to do (a tick, the end of learning, a pending
	// policy finding): frames and operations before it only move nowNS.
	nowNS, dueNS int64
	open         map[mergeKey]*open
	byID         map[string]*open
	kept         []*alert.Alert
	hosts        hostTable
	stats        Stats
	// inOp is the operation being dispatched to the engines; findings on
	// it wait in opFindings so that only the strongest is raised.
	inOp       *dissect.Operation
	opFindings []Finding
	// pendingPolicy holds policy findings for PolicyDelay, so that a
	// stronger alert on the same devices can absorb them.
	pendingPolicy []Finding
	// absorbed are the policy findings an open alert absorbed: their
	// recurrences stay absorbed while that alert is open.
	absorbed map[mergeKey]*alert.Alert
	// everyFrame is set while some engine sees every frame: pkts, or
	// lpkts while learning.
	everyFrame bool
	// convs are the conversation records (conv.go), conv the one of the
	// operation being dispatched, convSeq the last conversation number
	// given, and slotGen the current generation of each of the nslots
	// slots the engines took.
	convs   []conv
	conv    *conv
	convSeq uint64
	nslots  int
	slotGen [MaxConvSlots]uint64
	// proto is the Proto of the operation being dispatched, protoName
	// and protoLast the last protocol name looked up and its Proto.
	proto, protoLast Proto
	protoName        string
	// kinds are the kinds of operations engines were quiet on,
	// quietEpoch the epoch their quiet bits hold in, cur the position in
	// ops of the engine handling the operation being dispatched, and
	// kindAt, kindKey and kindFound where its kind is in kinds, the
	// kind, and whether kinds holds it (quiet.go).
	kinds      *[kindTableSize]kind
	allOps     uint64 // a bit for each of ops
	quietEpoch uint64
	cur        int
	kindAt     int
	kindKey    kind
	kindFound  bool
}

// maxAbsorbed bounds the absorbed findings remembered.
const maxAbsorbed = 4096

// PolicyDelay is how long a policy violation waits before it is raised: if
// another engine raises an alert on the same devices meanwhile (a new
// device that scans, a new connection that carries cleartext credentials),
// that alert absorbs it and names it in its details ("absorbed"), so one
// event gives one alert.
const PolicyDelay = 10 * time.Second

// ModeHandler is told when learning ends.
type ModeHandler interface {
	Operational(d *Detector)
}

// New returns a Detector with every registered engine.
func New(cfg Config) *Detector {
	if cfg.Learn == 0 && cfg.LearnUntil.IsZero() {
		cfg.Learn = DefaultLearn
	}
	if cfg.MaxOpen <= 0 {
		cfg.MaxOpen = DefaultMaxOpen
	}
	if cfg.MaxHosts <= 0 {
		cfg.MaxHosts = DefaultMaxHosts
	}
	d := &Detector{cfg: cfg, base: cfg.Baseline, open: map[mergeKey]*open{}, byID: map[string]*open{}, dueNS: math.MinInt64, kindAt: -1}
	if d.base == nil {
		d.base = baseline.New(0)
	}
	d.hosts.init(cfg.MaxHosts)
	if cfg.Operational {
		d.mode = Operational
	}
	regMu.RLock()
	fs := slices.Clone(factories)
	regMu.RUnlock()
	for _, nf := range fs {
		e := nf.f(d)
		d.engines = append(d.engines, e)
		if h, ok := e.(OperationHandler); ok {
			if len(d.ops) == 64 {
				panic("detect: more than 64 operation handlers") // quiet bits are a uint64
			}
			d.allOps |= 1 << len(d.ops)
			d.ops = append(d.ops, h)
		}
		if h, ok := e.(ProbeHandler); ok {
			d.probes = append(d.probes, h)
		} else if h, ok := e.(PacketHandler); ok {
			d.pkts = append(d.pkts, h)
		}
		if h, ok := e.(LearningPacketHandler); ok {
			d.lpkts = append(d.lpkts, h)
		}
		if h, ok := e.(EventHandler); ok {
			d.evs = append(d.evs, h)
		}
		if h, ok := e.(Ticker); ok {
			d.ticks = append(d.ticks, h)
		}
		if h, ok := e.(ModeHandler); ok {
			d.modes = append(d.modes, h)
		}
	}
	d.frames()
	return d
}

// Config returns the configuration in effect.
func (d *Detector) Config() *Config { return &d.cfg }

// Baseline returns the baseline the Detector learns into and checks.
func (d *Detector) Baseline() *baseline.Baseline { return d.base }

// Mode returns the current mode.
func (d *Detector) Mode() Mode { return d.mode }

// Learning reports whether the Detector is in learning mode.
func (d *Detector) Learning() bool { return d.mode == Learning }

// LearningAt reports whether capture time t falls in the learning period:
// an operation reported late (a request paired with a response that came
// after learning ended) still belongs to the period it started in.
func (d *Detector) LearningAt(t time.Time) bool {
	return d.mode == Learning || !d.learnEnd.IsZero() && t.Before(d.learnEnd) && !d.cfg.Operational
}

// Now returns the capture time of the newest input.
func (d *Detector) Now() time.Time { return d.now }

// Stats returns the counters.
func (d *Detector) Stats() Stats {
	s := d.stats
	s.HostsDropped = d.hosts.dropped
	return s
}

// at moves capture time to t, which is ns in Unix nanoseconds, calling
// advance when something is due. It runs for every frame and operation:
// small enough to be inlined, it costs no call when nothing is due.
func (d *Detector) at(t time.Time, ns int64) {
	if ns >= d.dueNS {
		d.atDue(t, ns)
	} else if ns > d.nowNS {
		d.nowNS, d.now = ns, t
	}
}

// atDue is at when something may be due: at or after dueNS, which is the
// lowest time there is before the first input.
func (d *Detector) atDue(t time.Time, ns int64) {
	if !d.started {
		d.advance(t)
		return
	}
	if ns <= d.nowNS {
		return
	}
	d.nowNS, d.now = ns, t
	d.advance(t)
}

// due recomputes when advance next has work to do.
func (d *Detector) due() {
	due := d.nextTick.UnixNano()
	if d.mode == Learning {
		due = min(due, d.learnEnd.UnixNano())
	}
	for _, f := range d.pendingPolicy {
		due = min(due, f.Time.Add(PolicyDelay).UnixNano())
	}
	d.dueNS = due
}

// advance moves capture time to t, switching mode and ticking engines.
func (d *Detector) advance(t time.Time) {
	defer d.due()
	if t.IsZero() {
		return
	}
	if !d.started {
		d.started = true
		d.learnEnd = d.cfg.LearnUntil
		if d.learnEnd.IsZero() {
			d.learnEnd = t.Add(d.cfg.Learn)
		}
		d.nextTick = t.Add(time.Second)
	}
	if t.After(d.now) {
		d.now, d.nowNS = t, t.UnixNano()
	}
	if d.mode == Learning && !d.now.Before(d.learnEnd) {
		d.SetMode(Operational)
	}
	if len(d.pendingPolicy) > 0 && d.inOp == nil {
		d.releasePolicy(false)
	}
	if !d.now.Before(d.nextTick) {
		d.nextTick = d.now.Add(time.Second)
		for _, e := range d.ticks {
			e.Tick(d, false)
		}
		d.flushDirty(false)
	}
}

// SetMode switches the mode. Switching to operational tells the engines,
// which may then derive rates and ranges from what they learned.
func (d *Detector) SetMode(m Mode) {
	if m == d.mode {
		return
	}
	d.mode = m
	d.frames()
	d.Unquiet()
	if m == Operational {
		for _, e := range d.modes {
			e.Operational(d)
		}
	}
	if d.started {
		d.due()
	}
}

// frames sets everyFrame for the current mode.
func (d *Detector) frames() {
	d.everyFrame = len(d.pkts) > 0 || d.mode == Learning && len(d.lpkts) > 0
}

// Packet implements pipeline.Observer.
func (d *Detector) Packet(p *decode.Packet, err error) {
	d.stats.Packets++
	d.at(p.Timestamp, p.Timestamp.UnixNano())
	if err == nil && (d.everyFrame || len(d.probes) > 0 && IsProbe(p)) {
		d.frame(p)
	}
}

// frame hands p to the engines that see it.
func (d *Detector) frame(p *decode.Packet) {
	for _, e := range d.pkts {
		e.Packet(d, p)
	}
	if len(d.probes) > 0 && IsProbe(p) {
		for _, e := range d.probes {
			e.Probe(d, p)
		}
	}
	if d.mode == Learning {
		for _, e := range d.lpkts {
			e.LearningPacket(d, p)
		}
	}
}

// Emit implements dissect.Emitter.
func (d *Detector) Emit(op *dissect.Operation) {
	d.stats.Operations++
	d.at(op.Time, op.Time.UnixNano())
	if tellsHosts(op) {
		d.hosts.observe(d, op)
	}
	d.inOp, d.conv, d.proto = op, d.convOf(op), d.protoOf(op.Protocol)
	if quiet := d.findKind(op); quiet == 0 {
		for i, e := range d.ops {
			d.cur = i
			e.Operation(d, op)
		}
	} else {
		for m := d.allOps &^ quiet; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m)
			d.cur = i
			d.ops[i].Operation(d, op)
		}
	}
	d.inOp, d.conv, d.kindAt = nil, nil, -1
	if len(d.opFindings) > 0 {
		best := d.opFindings[0]
		for _, f := range d.opFindings[1:] {
			if stronger(f.Type, best.Type) {
				best = f
			}
		}
		for _, f := range d.opFindings {
			if f.Type != best.Type {
				best.Details = append(best.Details, dissect.Attr{Key: "absorbed", Value: f.Type.ID})
			}
		}
		clear(d.opFindings)
		d.opFindings = d.opFindings[:0]
		d.raise(best)
	}
}

// enginePriority orders engines for findings of equal severity on one
// operation: the more specific explanation wins.
var enginePriority = [...]int{alert.Malware: 5, alert.Operational: 4, alert.Protocol: 3, alert.Anomaly: 2, alert.Policy: 1}

// stronger reports whether alert type a beats b for one operation.
func stronger(a, b *alert.Type) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	return enginePriority[a.Engine] > enginePriority[b.Engine]
}

// Event implements inventory.Sink.
func (d *Detector) Event(e inventory.Event) {
	for _, h := range d.evs {
		h.InventoryEvent(d, e)
	}
}

// Flush ends the input: engines get their final tick and the sink sees
// every alert's last state.
func (d *Detector) Flush() {
	for _, e := range d.ticks {
		e.Tick(d, true)
	}
	d.releasePolicy(true)
	d.flushDirty(true)
}

// releasePolicy raises the pending policy findings whose delay is over
// (all of them when final); each counts the repeats it had while it
// waited.
func (d *Detector) releasePolicy(final bool) {
	keep := d.pendingPolicy[:0]
	var due []Finding
	for _, f := range d.pendingPolicy {
		if final || !d.now.Before(f.Time.Add(PolicyDelay)) {
			due = append(due, f)
		} else {
			keep = append(keep, f)
		}
	}
	clear(d.pendingPolicy[len(keep):])
	d.pendingPolicy = keep
	for _, f := range due {
		d.open1(f)
	}
}

// absorb drops the pending policy findings on the devices of a, naming
// them in a's details.
func (d *Detector) absorb(a *alert.Alert) {
	if len(d.pendingPolicy) == 0 {
		return
	}
	same := func(x, y alert.Party) bool {
		return x.IP.IsValid() && x.IP == y.IP || !x.MAC.IsZero() && x.MAC == y.MAC
	}
	keep := d.pendingPolicy[:0]
	for _, f := range d.pendingPolicy {
		src, dst := f.Source, f.Destination
		onA := func(p alert.Party) bool { return same(p, a.Source) || same(p, a.Destination) }
		if onA(src) && (dst.IsZero() || onA(dst)) {
			if !slices.ContainsFunc(a.Details, func(x dissect.Attr) bool { return x.Key == "absorbed" && x.Value == f.Type.ID }) {
				a.Details = append(a.Details, dissect.Attr{Key: "absorbed", Value: f.Type.ID})
			}
			if d.absorbed == nil || len(d.absorbed) >= maxAbsorbed {
				d.absorbed = map[mergeKey]*alert.Alert{}
			}
			d.absorbed[mergeKeyOf(&f)] = a
			continue
		}
		keep = append(keep, f)
	}
	clear(d.pendingPolicy[len(keep):])
	d.pendingPolicy = keep
}

func (d *Detector) flushDirty(all bool) {
	if d.cfg.Sink == nil {
		return
	}
	for _, o := range d.open {
		if o.dirty && (all || d.now.Sub(o.a.LastDetection) >= 0) {
			o.dirty = false
			d.cfg.Sink.Alert(o.a, false)
		}
	}
}

// Alerts returns the alerts opened so far, oldest first (Config.Keep).
func (d *Detector) Alerts() []*alert.Alert { return d.kept }

// Finding is what an engine reports: one detection of an alert type.
type Finding struct {
	Type        *alert.Type
	Time        time.Time // capture time of the detection (Now if zero)
	Protocol    string
	Source      alert.Party
	Destination alert.Party
	// Key distinguishes alerts of one type between the same parties
	// ("fc=6", "OB1"); findings with the same key merge.
	Key string
	// Detail completes the type's title and description ({detail}).
	Detail  string
	Details []dissect.Attr
	// Op is the operation that triggered it, if one did: the operation
	// being handled (the Detector copies it) or a copy the engine owns.
	Op *dissect.Operation
	// Learn is the baseline entry Learn adds; nil makes a pattern entry
	// for learnable types.
	Learn *baseline.Entry
	// Flows are flows whose packets are evidence, beside Op's.
	Flows []uint64

	// repeats counts the findings of the same type, parties and key merged
	// into this one while it waited (a policy finding waits PolicyDelay);
	// last is the time of the latest of them.
	repeats uint64
	last    time.Time
}

// latest returns the time of the finding's latest occurrence.
func (f *Finding) latest() time.Time {
	if f.last.After(f.Time) {
		return f.last
	}
	return f.Time
}

// Raise reports a finding. It returns the alert it opened or updated, or
// nil when the finding was silenced (policy while learning, a learned
// pattern), suppressed, or not raised yet: of the findings on the
// operation being dispatched only the strongest is raised, after every
// engine has seen it (higher severity first, then malware, operational,
// protocol, anomaly, policy), and a new policy violation waits PolicyDelay
// for a stronger alert on the same devices to absorb it.
func (d *Detector) Raise(f Finding) *alert.Alert {
	d.stats.Findings++
	if f.Type == nil {
		panic("detect: Raise without a type")
	}
	if f.Type.Engine == alert.Policy && d.mode == Learning {
		d.stats.SilencedLearning++
		return nil
	}
	if f.Time.IsZero() {
		f.Time = d.now
	}
	if f.Op != nil && f.Op == d.inOp {
		f.Op = f.Op.Clone()
		d.opFindings = append(d.opFindings, f)
		return nil
	}
	return d.raise(f)
}

// raise merges or queues a finding.
func (d *Detector) raise(f Finding) *alert.Alert {
	if f.Type.Engine != alert.Policy {
		a := d.open1(f)
		if a != nil {
			d.absorb(a)
		}
		return a
	}
	if a := d.merge(f); a != nil {
		return a
	}
	if by, ok := d.absorbed[mergeKeyOf(&f)]; ok {
		if o, open := d.byID[by.ID]; open && o.a == by {
			return nil // the alert that absorbed it is still open
		}
		delete(d.absorbed, mergeKeyOf(&f))
	}
	for i := range d.pendingPolicy {
		p := &d.pendingPolicy[i]
		if p.Type == f.Type && p.Source == f.Source && p.Destination == f.Destination && p.Key == f.Key {
			d.stats.Merged++ // counted into the waiting finding
			p.repeats++
			if f.Time.After(p.last) {
				p.last = f.Time
			}
			return nil
		}
	}
	d.pendingPolicy = append(d.pendingPolicy, f)
	d.dueNS = min(d.dueNS, f.Time.Add(PolicyDelay).UnixNano())
	return nil
}

func mergeKeyOf(f *Finding) mergeKey {
	k := mergeKey{typ: f.Type.ID, srcIP: f.Source.IP, dstIP: f.Destination.IP, key: f.Key}
	if !f.Source.IP.IsValid() {
		k.srcMAC = f.Source.MAC
	}
	if !f.Destination.IP.IsValid() {
		k.dstMAC = f.Destination.MAC
	}
	return k
}

// merge counts a finding into its open alert, if there is one.
func (d *Detector) merge(f Finding) *alert.Alert {
	o, ok := d.open[mergeKeyOf(&f)]
	if !ok {
		return nil
	}
	d.stats.Merged++
	o.a.Count += 1 + f.repeats
	if last := f.latest(); last.After(o.a.LastDetection) {
		o.a.LastDetection = last
	}
	o.dirty = true
	return o.a
}

// open1 merges a finding into its open alert or opens a new one.
func (d *Detector) open1(f Finding) *alert.Alert {
	t := f.Type
	if a := d.merge(f); a != nil {
		return a
	}
	k := mergeKeyOf(&f)
	if f.Learn == nil && t.Learnable {
		f.Learn = &baseline.Entry{Kind: baseline.KindPattern, Client: f.Source.IP, Server: f.Destination.IP, Function: t.ID, Target: f.Key}
		if !f.Source.IP.IsValid() {
			f.Learn.MAC = f.Source.MAC
		}
	}
	if f.Learn != nil && d.base.Has(*f.Learn) {
		d.stats.SilencedLearned++
		return nil
	}
	d.hosts.fill(&f.Source)
	d.hosts.fill(&f.Destination)
	proto := f.Protocol
	if proto == "" {
		proto = t.Protocol
	}
	a := &alert.Alert{
		Type:           t.ID,
		Title:          alert.Expand(t.Title, f.Source, f.Destination, proto, f.Detail),
		Description:    alert.Expand(t.Description, f.Source, f.Destination, proto, f.Detail),
		Severity:       t.Severity,
		Status:         alert.New,
		Engine:         t.Engine,
		Category:       t.Category,
		Protocol:       proto,
		Source:         f.Source,
		Destination:    f.Destination,
		Sensor:         d.cfg.Sensor,
		Site:           d.cfg.Site,
		Zone:           d.zoneName(f.Destination.IP, f.Source.IP),
		Key:            f.Key,
		FirstDetection: f.Time,
		LastDetection:  f.latest(),
		Count:          1 + f.repeats,
		Tactics:        attack.TacticsOf(t.Techniques...),
		Techniques:     slices.Clone(t.Techniques),
		Remediation:    expandAll(t.Remediation, f.Source, f.Destination, proto, f.Detail),
		Learnable:      t.Learnable,
		Details:        slices.Clone(f.Details),
	}
	if t.Learnable && f.Learn != nil {
		e := *f.Learn
		a.Learn = &e
	}
	a.ID = alert.ID(d.cfg.Sensor, t.ID, f.Source.Key(), f.Destination.Key(), f.Key, f.Time)
	if f.Op != nil {
		a.Operation = f.Op
		if f.Op == d.inOp {
			a.Operation = f.Op.Clone()
		}
		a.Evidence = slices.Clone(f.Op.Packets)
	}
	if d.cfg.Suppress != nil && d.cfg.Suppress(a) {
		d.stats.Suppressed++
		return nil
	}
	d.collectEvidence(a, f)
	if len(d.open) >= d.cfg.MaxOpen {
		d.forgetOldest()
	}
	o := &open{a: a, k: k}
	d.open[k] = o
	d.byID[a.ID] = o
	d.stats.Opened++
	if d.cfg.Keep {
		d.kept = append(d.kept, a)
	}
	if d.cfg.Sink != nil {
		d.cfg.Sink.Alert(a, true)
	}
	return a
}

// expandAll fills the templates of a type's remediation steps.
func expandAll(steps []string, src, dst alert.Party, protocol, detail string) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = alert.Expand(s, src, dst, protocol, detail)
	}
	return out
}

// collectEvidence takes the packets of the finding's flows, up to its time,
// from the evidence source.
func (d *Detector) collectEvidence(a *alert.Alert, f Finding) {
	if d.cfg.Evidence == nil {
		return
	}
	flows := slices.Clone(f.Flows)
	for _, p := range a.Evidence {
		if !slices.Contains(flows, p.Flow) {
			flows = append(flows, p.Flow)
		}
	}
	for _, fl := range flows {
		pkts := d.cfg.Evidence.Packets(fl, f.Time.Add(-evidenceBefore), f.Time)
		if len(pkts) > maxEvidence {
			pkts = pkts[len(pkts)-maxEvidence:]
		}
		a.Packets = append(a.Packets, pkts...)
	}
	slices.SortStableFunc(a.Packets, func(x, y evidence.Packet) int { return x.Timestamp.Compare(y.Timestamp) })
}

func (d *Detector) forgetOldest() {
	var oldest *open
	for _, o := range d.open {
		if oldest == nil || o.a.LastDetection.Before(oldest.a.LastDetection) {
			oldest = o
		}
	}
	if oldest != nil {
		d.drop(oldest)
		d.stats.Forgotten++
	}
}

func (d *Detector) drop(o *open) {
	if o.dirty && d.cfg.Sink != nil {
		o.dirty = false
		d.cfg.Sink.Alert(o.a, false)
	}
	delete(d.open, o.k)
	delete(d.byID, o.a.ID)
}

// CloseAlert closes the open alert with the given id: a recurrence then
// opens a new alert. It reports whether the alert was open here.
func (d *Detector) CloseAlert(id string) bool {
	o, ok := d.byID[id]
	if !ok {
		return false
	}
	o.a.Status = alert.Closed
	d.drop(o)
	return true
}

// Learn adds the alert's pattern to the baseline and closes it. It fails
// for an alert that is not learnable.
func (d *Detector) Learn(a *alert.Alert) error {
	if !a.Learnable || a.Learn == nil {
		return fmt.Errorf("detect: alert %s (%s) is not learnable", a.ID, a.Type)
	}
	d.base.Observe(*a.Learn, d.now, "learn")
	d.Unquiet()
	d.CloseAlert(a.ID)
	return nil
}

// Threshold returns the threshold of alert type t for traffic involving
// address a: the zone's override, else Config.Thresholds, else the type's
// default.
func (d *Detector) Threshold(t *alert.Type, a netip.Addr) alert.Threshold {
	if z := d.zoneOf(a); z != nil {
		if th, ok := z.Thresholds[t.ID]; ok {
			return th
		}
	}
	if th, ok := d.cfg.Thresholds[t.ID]; ok {
		return th
	}
	return t.Threshold
}

func (d *Detector) zoneOf(a netip.Addr) *Zone {
	if !a.IsValid() {
		return nil
	}
	for i := range d.cfg.Zones {
		for _, p := range d.cfg.Zones[i].Subnets {
			if p.Contains(a) {
				return &d.cfg.Zones[i]
			}
		}
	}
	return nil
}

func (d *Detector) zoneName(addrs ...netip.Addr) string {
	for _, a := range addrs {
		if z := d.zoneOf(a); z != nil {
			return z.Name
		}
	}
	return d.cfg.Zone
}

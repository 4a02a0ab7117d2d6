package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// Full benchmark scale: what a large installation holds.
const (
	FullAlerts = 1_000_000
	FullEvents = 10_000_000
)

// Scale returns the benchmark scale from OTWATCH_BENCH_SCALE: "full" or 1
// for FullAlerts and FullEvents, a fraction for part of them; 0.01 (10,000
// alerts, 100,000 events) when unset, so that go test -bench is quick.
func Scale() (float64, error) {
	v := os.Getenv("OTWATCH_BENCH_SCALE")
	switch v {
	case "":
		return 0.01, nil
	case "full":
		return 1, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 10 {
		return 0, fmt.Errorf("OTWATCH_BENCH_SCALE=%q: want \"full\" or a number in (0, 10]", v)
	}
	return f, nil
}

// Batch sizes of the benchmark's ingest.
const (
	alertBatch = 1000
	eventBatch = 10000
)

// gen generates a plant's alerts and events with realistic skew: 10
// sensors in 3 sites and 6 zones, 5,000 devices of which a few (servers,
// engineering workstations) take part in much of the traffic, 40 alert
// types whose frequencies follow a Zipf law, and severities skewed toward
// Medium and Low. Time runs over 30 days in ingest order.
type gen struct {
	rng      *rand.Rand
	types    []alertType
	typeZipf *rand.Zipf
	devZipf  *rand.Zipf
	devs     []alert.Party
	devPerm  []int
	start    time.Time
	span     time.Duration
	nAlerts  int
	nEvents  int
	alerts   int // generated so far
	events   int
	sample   []string // ids of some generated alerts
}

const (
	benchSensors = 10
	benchDevices = 5000
	benchTypes   = 40
)

var benchWords = []string{"stop", "program", "download", "firmware", "write", "scan", "restart", "login", "malware",
	"connection", "diagnostic", "time", "broadcast", "unauthorized", "discovery", "upload", "mode", "change", "tag", "block"}

var benchCategories = []string{"PLC programming", "Abnormal communication", "Firmware change", "Scan", "Restart/Stop command",
	"Unauthorized access", "Suspicious malware activity", "Illegal commands", "Operation failures", "Device discovery", "Remote access"}

var benchProtocols = []string{"modbus", "s7comm", "enip", "dnp3", "iec104", "bacnet", "opcua", "mms", "goose", "profinet", "", "smb"}

func newGen(nAlerts, nEvents int) *gen {
	g := &gen{rng: rand.New(rand.NewPCG(1, 2)), start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), span: 30 * 24 * time.Hour,
		nAlerts: nAlerts, nEvents: nEvents}
	g.typeZipf = rand.NewZipf(g.rng, 1.1, 2, benchTypes-1)
	g.devZipf = rand.NewZipf(g.rng, 1.05, 10, benchDevices-1)
	// Severity by type: about 5% of types Critical, 20% High, 40% Medium, 35% Low.
	for i := range benchTypes {
		sev := alert.Low
		switch r := (i * 37) % 100; {
		case r < 5:
			sev = alert.Critical
		case r < 25:
			sev = alert.High
		case r < 65:
			sev = alert.Medium
		}
		w1, w2 := benchWords[i%len(benchWords)], benchWords[(i*7+3)%len(benchWords)]
		g.types = append(g.types, alertType{
			id: fmt.Sprintf("%s.%s_%d", benchProtocols[i%len(benchProtocols)], w1, i), name: fmt.Sprintf("%s %s %d", w1, w2, i),
			category: benchCategories[i%len(benchCategories)], protocol: benchProtocols[i%len(benchProtocols)],
			engine: alert.Engines()[i%5], severity: sev, learnable: i%3 == 0,
		})
	}
	for i := range benchDevices {
		s := i % benchSensors
		p := alert.Party{IP: netip.AddrFrom4([4]byte{10, byte(s), byte(i / 250), byte(1 + i%250)}), Port: uint16(1024 + i%5000)}
		if i%10 == 0 {
			p.Name = fmt.Sprintf("dev-%d", i)
		}
		g.devs = append(g.devs, p)
	}
	g.devPerm = g.rng.Perm(benchDevices)
	return g
}

func (g *gen) device() int { return g.devPerm[g.devZipf.Uint64()] }

func (g *gen) sensorOf(dev int) (sensor, site, zone string) {
	s := dev % benchSensors
	return fmt.Sprintf("sensor-%02d", s), fmt.Sprintf("site-%d", s%3), fmt.Sprintf("zone-%d", s%6)
}

// at returns the time of the i-th of n items, spread over the span.
func (g *gen) at(i, n int) time.Time {
	return g.start.Add(time.Duration(float64(g.span) * float64(i) / float64(n)))
}

var benchDescription = strings.Repeat("The sensor saw an operation that changes how the controller runs. ", 4)

var benchRemediation = []string{
	"Confirm with the plant whether the change was planned and who made it.",
	"Check the engineering workstation that sent it for signs of compromise.",
	"If it was not planned, isolate the workstation and restore the controller's program from a known-good copy.",
}

// nextAlerts returns the next batch of alerts, nil when all are made.
func (g *gen) nextAlerts(n int) []*alert.Alert {
	n = min(n, g.nAlerts-g.alerts)
	out := make([]*alert.Alert, 0, n)
	for range n {
		ty := g.types[g.typeZipf.Uint64()]
		si, di := g.device(), g.device()
		if si == di {
			di = (di + 1) % benchDevices
		}
		di = di - di%benchSensors + si%benchSensors // same sensor's network
		src, dst := g.devs[si], g.devs[di]
		sensor, site, zone := g.sensorOf(si)
		first := g.at(g.alerts, g.nAlerts)
		last := first.Add(time.Duration(g.rng.IntN(3600)) * time.Second)
		key := strconv.Itoa(g.rng.IntN(4))
		status := alert.New
		switch r := g.rng.IntN(10); {
		case r == 0:
			status = alert.Closed
		case r < 3:
			status = alert.Active
		}
		a := &alert.Alert{
			ID: alert.ID(sensor, ty.id, src.Key(), dst.Key(), key, first), Type: ty.id,
			Title:       fmt.Sprintf("%s: %s from %s to %s", ty.name, ty.category, src, dst),
			Description: benchDescription, Severity: ty.severity, Status: status, Engine: ty.engine, Category: ty.category,
			Protocol: ty.protocol, Source: src, Destination: dst, Sensor: sensor, Site: site, Zone: zone, Key: key,
			FirstDetection: first, LastDetection: last, Count: uint64(1 + g.rng.IntN(20)),
			Tactics: []string{"TA0106", "TA0107"}, Techniques: []string{"T0816", "T0858", "T0843"}, Remediation: benchRemediation,
			Learnable: ty.learnable,
			Details:   []dissect.Attr{{Key: "function", Value: ty.name}, {Key: "unit", Value: key}},
		}
		if ty.learnable {
			a.Learn = &baseline.Entry{Kind: baseline.KindFunction, Client: src.IP, Server: dst.IP, Protocol: ty.protocol, Function: ty.name}
		}
		if len(g.sample) < 4096 && g.rng.IntN(max(1, g.nAlerts/4096)) == 0 {
			g.sample = append(g.sample, a.ID)
		}
		out = append(out, a)
		g.alerts++
	}
	return out
}

var benchEventTypes = []string{
	string(inventory.EventNewConnection), string(inventory.EventNewProtocol), "program_download", "mode_change",
	string(inventory.EventNewDevice), string(inventory.EventFirmwareChange), string(inventory.EventNewName),
	string(inventory.EventNewIP), "alert", string(inventory.EventInactive), "program_upload", "login",
}

// nextEvents returns the next batch of events, nil when all are made.
func (g *gen) nextEvents(n int) []store.Event {
	n = min(n, g.nEvents-g.events)
	out := make([]store.Event, n)
	for i := range out {
		di := g.device()
		sensor, _, _ := g.sensorOf(di)
		typ := benchEventTypes[min(int(g.rng.ExpFloat64()*2.5), len(benchEventTypes)-1)]
		e := store.Event{
			Time: g.at(g.events, g.nEvents), Sensor: sensor, Type: typ, Device: g.devs[di].IP.String(),
			DeviceID: inventory.DeviceID(di + 1), Detail: fmt.Sprintf("%s on %s seen by %s", typ, g.devs[di].IP, sensor),
		}
		if i%3 == 0 {
			pi := g.device()
			pi = pi - pi%benchSensors + di%benchSensors
			e.Peer, e.PeerID = g.devs[pi].IP.String(), inventory.DeviceID(pi+1)
		}
		out[i] = e
		g.events++
	}
	return out
}

// percentile returns the p-th percentile of durations (sorted in place).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(math.Ceil(p/100*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

// Bench loads a store made by open with the benchmark data set at Scale
// (1,000,000 alerts and 10,000,000 events at full scale) in batches,
// logging the load rates, then measures:
//
//   - Ingest/alerts and Ingest/events: further batches of 1,000 alerts and
//     10,000 events into the loaded store (alerts/s, events/s);
//   - AlertsPage/<filter>: the console's default alert page (one filter,
//     sorted by last detection, first page of 50) with its facet counts;
//   - RelatedEvents and RelatedAlerts of random alerts;
//
// reporting p50 and p95 latency (ms) of each query over b.N queries (use
// -benchtime=200x for 200).
func Bench(b *testing.B, open OpenFunc) {
	scale, err := Scale()
	if err != nil {
		b.Fatal(err)
	}
	nA, nE := max(1000, int(FullAlerts*scale)), max(10000, int(FullEvents*scale))
	s := open(b, store.Options{EvidenceMaxBytes: -1})
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	g := newGen(nA, nE)

	t0 := time.Now()
	for batch := g.nextAlerts(alertBatch); len(batch) > 0; batch = g.nextAlerts(alertBatch) {
		if err := s.PutAlerts(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	ta := time.Since(t0)
	t0 = time.Now()
	for batch := g.nextEvents(eventBatch); len(batch) > 0; batch = g.nextEvents(eventBatch) {
		if err := s.PutEvents(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	te := time.Since(t0)
	b.Logf("loaded %d alerts in %v (%.0f alerts/s, batches of %d), %d events in %v (%.0f events/s, batches of %d)",
		nA, ta.Round(time.Millisecond), float64(nA)/ta.Seconds(), alertBatch, nE, te.Round(time.Millisecond), float64(nE)/te.Seconds(), eventBatch)

	b.Run("Ingest/alerts", func(b *testing.B) {
		more := newGen(alertBatch*4096, 0)
		more.start = g.start.Add(g.span) // after the loaded data
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			batch := more.nextAlerts(alertBatch)
			if err := s.PutAlerts(ctx, batch); err != nil {
				b.Fatal(err)
			}
			n += len(batch)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "alerts/s")
	})
	b.Run("Ingest/events", func(b *testing.B) {
		more := newGen(0, eventBatch*4096)
		more.start = g.start.Add(g.span)
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			batch := more.nextEvents(eventBatch)
			if err := s.PutEvents(ctx, batch); err != nil {
				b.Fatal(err)
			}
			n += len(batch)
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})

	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(n int) int { return rng.IntN(n) }
	filters := []struct {
		name string
		q    func() store.AlertQuery
	}{
		{"none", func() store.AlertQuery { return store.AlertQuery{} }},
		{"sensor", func() store.AlertQuery {
			return store.AlertQuery{Sensors: []string{fmt.Sprintf("sensor-%02d", pick(benchSensors))}}
		}},
		{"site", func() store.AlertQuery { return store.AlertQuery{Sites: []string{fmt.Sprintf("site-%d", pick(3))}} }},
		{"zone", func() store.AlertQuery { return store.AlertQuery{Zones: []string{fmt.Sprintf("zone-%d", pick(6))}} }},
		{"severity", func() store.AlertQuery {
			return store.AlertQuery{Severities: []alert.Severity{alert.Severity(1 + pick(4))}}
		}},
		{"status", func() store.AlertQuery { return store.AlertQuery{Statuses: []alert.Status{alert.Status(1 + pick(3))}} }},
		{"engine", func() store.AlertQuery { return store.AlertQuery{Engines: []alert.Engine{alert.Engine(1 + pick(5))}} }},
		{"category", func() store.AlertQuery {
			return store.AlertQuery{Categories: []string{benchCategories[pick(len(benchCategories))]}}
		}},
		{"protocol", func() store.AlertQuery {
			return store.AlertQuery{Protocols: []string{benchProtocols[pick(len(benchProtocols))]}}
		}},
		{"type", func() store.AlertQuery { return store.AlertQuery{Types: []string{g.types[pick(benchTypes)].id}} }},
		{"device", func() store.AlertQuery { return store.AlertQuery{Devices: []string{g.devs[g.device()].IP.String()}} }},
		{"time24h", func() store.AlertQuery {
			from := g.start.Add(time.Duration(pick(29*24)) * time.Hour)
			return store.AlertQuery{From: from, Until: from.Add(24 * time.Hour)}
		}},
		{"text", func() store.AlertQuery { return store.AlertQuery{Text: benchWords[pick(len(benchWords))]} }},
	}
	for _, f := range filters {
		b.Run("AlertsPage/"+f.name, func(b *testing.B) {
			b.ReportAllocs()
			var lat []time.Duration
			for b.Loop() {
				q := f.q()
				t := time.Now()
				p, err := s.Alerts(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.AlertFacets(ctx, q); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
				if len(p.Alerts) > store.DefaultLimit {
					b.Fatalf("page of %d alerts", len(p.Alerts))
				}
			}
			b.ReportMetric(float64(percentile(lat, 50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(lat, 95).Microseconds())/1000, "p95-ms")
		})
	}
	related := func(name string, fn func(id string) error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var lat []time.Duration
			for b.Loop() {
				id := g.sample[pick(len(g.sample))]
				t := time.Now()
				if err := fn(id); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			b.ReportMetric(float64(percentile(lat, 50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(lat, 95).Microseconds())/1000, "p95-ms")
		})
	}
	related("RelatedEvents", func(id string) error {
		_, err := s.RelatedEvents(ctx, id, time.Hour, 0)
		return err
	})
	related("RelatedAlerts", func(id string) error {
		_, err := s.RelatedAlerts(ctx, id, 0)
		return err
	})
}

package web

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/capture"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/evidence"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
	"github.com/otwatch/otwatch/internal/store"
	_ "github.com/otwatch/otwatch/internal/store/sqlite" // the SQLite backend
)

// plant is what a simulated sensor found in a simulated plant: the
// detector's alerts, the inventory's snapshot and events, as a sensor
// would store them.
type plant struct {
	sensor string
	alerts []*alert.Alert
	snap   *inventory.Snapshot
	events []store.Event
	sum    simulate.Summary
}

var (
	plantOnce sync.Once
	plantData *plant
	plantErr  error
)

// fixtureScenarios are the incidents of the simulated plant: one or more
// alerts of every engine.
var fixtureScenarios = []string{"portscan", "new-device", "plc-stop", "firmware-update", "malware-ioc-address", "modbus-malformed", "policy-new-write", "malware-cleartext-credentials", "malware-s7-ob1-write"}

// fixtureSensor is the sensor the simulated plant is seen by.
const fixtureSensor = "plant-a"

// simulatedPlant runs the simulator with every scenario through the
// pipeline, the inventory and the detector (learning on the first third),
// once per test binary.
func simulatedPlant(tb testing.TB) *plant {
	tb.Helper()
	plantOnce.Do(func() { plantData, plantErr = runPlant() })
	if plantErr != nil {
		tb.Fatal(plantErr)
	}
	return plantData
}

func runPlant() (*plant, error) {
	var buf bytes.Buffer
	sum, err := simulate.Generate(&buf, simulate.Options{Seed: 1, Duration: 5 * time.Minute, Scenarios: fixtureScenarios})
	if err != nil {
		return nil, err
	}
	src, err := capture.NewReader(bytes.NewReader(buf.Bytes()), "plant.pcap")
	if err != nil {
		return nil, err
	}
	opts := analyze.Options{Pipeline: pipeline.DefaultOptions}
	ring := evidence.New(evidence.Options{ArenaBytes: 32 << 20})
	opts.Pipeline.Evidence = ring
	det := detect.New(detect.Config{Sensor: fixtureSensor, Site: "north", Zone: "cell-1",
		LearnUntil: sum.Start.Add(sum.End.Sub(sum.Start) * 35 / 100), Keep: true, Evidence: ring})
	var invEvents []inventory.Event
	io := inventory.DefaultOptions
	io.Sink = inventory.SinkFunc(func(e inventory.Event) {
		det.Event(e)
		invEvents = append(invEvents, e)
	})
	inv := inventory.New(io)
	opts.Taps = append(opts.Taps, inv, det)
	if _, err := analyze.Source(src, "plant.pcap", opts); err != nil {
		return nil, err
	}
	inv.Flush()
	det.Flush()
	p := &plant{sensor: fixtureSensor, alerts: det.Alerts(), snap: inv.Snapshot(), sum: sum}
	addrs := map[inventory.DeviceID]string{}
	for i := range p.snap.Devices {
		addrs[p.snap.Devices[i].ID] = store.DeviceAddr(&p.snap.Devices[i])
	}
	for _, e := range invEvents {
		p.events = append(p.events, store.EventOf(fixtureSensor, e, func(id inventory.DeviceID) string { return addrs[id] }))
	}
	return p, nil
}

// fixture is a SQLite store holding the simulated plant, with a site,
// zone and sensor, and one user per role.
type fixture struct {
	st    store.Store
	plant *plant
}

// Users of the fixture and their passwords.
var fixtureUsers = map[string]struct {
	role store.Role
	pw   string
}{
	"admin": {store.RoleAdmin, "admin password 1"},
	"ana":   {store.RoleAnalyst, "analyst password 1"},
	"rita":  {store.RoleReadOnly, "readonly password 1"},
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	ctx := context.Background()
	p := simulatedPlant(tb)
	st, err := store.Open(ctx, filepath.Join(tb.TempDir(), "otwatch.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(st.PutSite(ctx, store.Site{ID: "north", Name: "North plant"}, "admin"))
	must(st.PutZone(ctx, store.Zone{ID: "cell-1", Site: "north", Name: "Cell 1",
		Subnets: []netip.Prefix{netip.MustParsePrefix("10.10.2.0/24")}}, "admin"))
	must(st.PutSensor(ctx, store.Sensor{ID: fixtureSensor, Name: "Plant A sensor", Site: "north", Zone: "cell-1", Mode: store.ModeOperational}, "admin"))
	must(st.PutSensor(ctx, store.Sensor{ID: "spare", Name: "Spare sensor", Site: "north", Mode: store.ModeLearning}, "admin"))
	// Copies: PutAlerts may keep nothing, but the plant is shared.
	alerts := make([]*alert.Alert, len(p.alerts))
	for i, a := range p.alerts {
		c := *a
		alerts[i] = &c
	}
	must(st.PutAlerts(ctx, alerts))
	must(st.PutDevices(ctx, p.sensor, p.snap.Devices))
	must(st.PutConnections(ctx, p.sensor, p.snap.Connections))
	must(st.PutEvents(ctx, p.events))
	return &fixture{st: st, plant: p}
}

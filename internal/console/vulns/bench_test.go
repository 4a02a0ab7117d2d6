package vulns

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
	"github.com/otwatch/otwatch/internal/testenv"
)

// bigFleet stores n devices on one sensor: a third are PLC-9 CPUs at
// firmware versions of which some are affected by the test advisory, a
// third gateways, the rest workstations of ten models; each device is the
// client of two others, and one alert in ten devices sends a password in
// clear.
func bigFleet(tb testing.TB, st store.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	if err := st.PutSensor(ctx, store.Sensor{ID: "big", Name: "Big"}, "test"); err != nil {
		tb.Fatal(err)
	}
	devs := make([]inventory.Device, n)
	for i := range devs {
		d := inventory.Device{ID: inventory.DeviceID(i + 1), IPs: []string{fmt.Sprintf("10.40.%d.%d", i/200, 1+i%200)},
			MAC: fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff), Name: fmt.Sprintf("dev-%04d", i),
			FirstSeen: t0, LastSeen: t0.Add(time.Hour), Purdue: 1 + i%3}
		switch i % 3 {
		case 0:
			d.Vendor, d.Model, d.Product, d.Type = "Example Industrial GmbH", "9EX9 910-0AA00-0AB0", "PLC-9 CPU 910", inventory.TypePLC
			d.Firmware = []string{"V2.5", "V2.8.1", "V2.9.4", "V3.0"}[i%4]
			d.Serves = []inventory.Service{{Protocol: "telnet", Transport: "tcp", Port: 23}}
		case 1:
			d.Vendor, d.Product, d.Type, d.Firmware = "Example Industrial", "Gateway GW-20", inventory.TypeNetwork, []string{"1.4.1", "1.4.2"}[i%2]
		default:
			d.Vendor, d.Model, d.Type, d.Firmware = "Contoso", fmt.Sprintf("WS-%d", i%10), inventory.TypeEngineering, fmt.Sprintf("1.%d", i%5)
		}
		devs[i] = d
	}
	var conns []inventory.Connection
	var alerts []*alert.Alert
	for i := range devs {
		for k := 1; k <= 2; k++ {
			j := (i*7 + k*31) % n
			if j != i {
				conns = append(conns, inventory.Connection{Client: devs[i].ID, Server: devs[j].ID, Protocol: "telnet", Transport: "tcp", Port: 23,
					First: t0, Last: t0.Add(time.Minute), PacketsTo: 10, PacketsFr: 10})
			}
		}
		if i%10 == 0 {
			src := alert.Party{IP: netip.MustParseAddr(devs[(i+1)%n].IPs[0]), Port: 50000}
			dst := alert.Party{IP: netip.MustParseAddr(devs[i].IPs[0]), Port: 23}
			a := mkAlert("malware.cleartext_credentials", alert.High, alert.Malware, "telnet", src, dst, t0.Add(time.Duration(i)*time.Second))
			a.Sensor, a.ID = "big", alert.ID("big", a.Type, src.Key(), dst.Key(), "", a.FirstDetection)
			alerts = append(alerts, a)
		}
	}
	for _, err := range []error{st.PutDevices(ctx, "big", devs), st.PutConnections(ctx, "big", conns), st.PutAlerts(ctx, alerts)} {
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// TestFleetScale assesses 3,000 devices: the first assessment, the same
// again (nothing changed), and after one device changed.
func TestFleetScale(t *testing.T) {
	if testing.Short() {
		t.Skip("assesses 3,000 devices")
	}
	st := openStore(t)
	bigFleet(t, st, 3000)
	f := New(st, Options{Advisories: catalog(t), MaxAge: -1})
	ctx := context.Background()
	timed := func(what string) (*Assessment, time.Duration) {
		start := time.Now()
		a, err := f.Assess(ctx)
		if err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		t.Logf("%s: %v", what, d)
		return a, d
	}
	a, cold := timed("first assessment")
	if len(a.Devices) != 3000 || len(a.ByCVE()) != 1 || len(a.ByCVE()[0].Affected) < 500 {
		t.Fatalf("%d devices, CVEs %+v", len(a.Devices), len(a.ByCVE()))
	}
	cat := f.Catalog()
	for _, d := range a.Devices {
		if want := directMatches(cat, &d.Record.Device); !reflect.DeepEqual(d.Matches, want) {
			t.Fatalf("device %d: in the fleet matches %+v, want %+v", d.Record.ID, d.Matches, want)
		}
	}
	b, same := timed("nothing changed")
	if b != a {
		t.Error("the fleet was assessed again although nothing changed")
	}
	d := a.Devices[0].Record.Device
	d.Name = "renamed"
	if err := st.PutDevices(ctx, "big", []inventory.Device{d}); err != nil {
		t.Fatal(err)
	}
	c, changed := timed("one device renamed")
	if c == a || c.Device("big", d.ID).Record.Name != "renamed" {
		t.Error("the change is not in the new assessment")
	}
	// Generous bounds: the machine running the tests may be busy.
	if cold > 20*time.Second || same > 5*time.Second || changed > 10*time.Second {
		t.Errorf("3,000 devices took %v, then %v unchanged, %v after a change", cold, same, changed)
	}
}

// BenchmarkAssess assesses a fleet of 3,000 devices whose inventory
// changes between assessments (a new name each time), so that every
// device is assessed again; the matches come from the cache.
func BenchmarkAssess(b *testing.B) {
	st := openStore(b)
	bigFleet(b, st, 3000)
	f := New(st, Options{Advisories: catalog(b), MaxAge: -1})
	ctx := context.Background()
	if _, err := f.Assess(ctx); err != nil {
		b.Fatal(err)
	}
	rec, err := st.Device(ctx, "big", 1)
	if err != nil {
		b.Fatal(err)
	}
	d := rec.Device
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		d.Name = fmt.Sprintf("renamed-%d", i)
		if err := st.PutDevices(ctx, "big", []inventory.Device{d}); err != nil {
			b.Fatal(err)
		}
		if _, err := f.Assess(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssessUnchanged assesses the same fleet of 3,000 devices again:
// the store is read, nothing is assessed.
func BenchmarkAssessUnchanged(b *testing.B) {
	st := openStore(b)
	bigFleet(b, st, 3000)
	f := New(st, Options{Advisories: catalog(b), MaxAge: -1})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Assess(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssessCached asks for the assessment of 3,000 devices within
// MaxAge, as page views do: only the statuses are read.
func BenchmarkAssessCached(b *testing.B) {
	st := openStore(b)
	bigFleet(b, st, 3000)
	f := New(st, Options{Advisories: catalog(b)})
	ctx := context.Background()
	if _, err := f.Assess(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Assess(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// plantSize is the number of devices of the plant of BenchmarkAssessFirst
// and BenchmarkMatchFleet.
const plantSize = 10000

// sharedCatalog loads the CISA advisories of the shared reference data
// ($OTWATCH_DATA/csaf; OTWATCH_DATA defaults to ../shared/data next to the
// module root), or skips the benchmark (fails it with
// OTWATCH_REQUIRE_ALL=1) without them.
func sharedCatalog(tb testing.TB) *csaf.Catalog {
	tb.Helper()
	d := filepath.Dir(testenv.Data(tb, "csaf/index.tsv", "CSAF advisories"))
	cat, errs := csaf.Load(d)
	if len(errs) > 0 || cat.Len() == 0 {
		tb.Fatalf("loading %s: %d advisories, %v", d, cat.Len(), errs)
	}
	return cat
}

// plantDevices returns a deterministic plant inventory of n devices: nine
// in ten are of 250 models the advisories of cat name, drawn with a Zipf
// distribution, each at one of five firmware versions or (one in ten)
// unknown firmware; the rest are workstations no advisory names.
func plantDevices(tb testing.TB, cat *csaf.Catalog, n int) []inventory.Device {
	tb.Helper()
	type model struct{ vendor, model, product string }
	var models []model
	seen := map[model]bool{}
	for _, a := range cat.Advisories {
		for _, p := range a.Products {
			m := model{vendor: p.Vendor, product: p.ProductName, model: p.Model}
			if len(p.ModelNumbers) > 0 {
				m.model = p.ModelNumbers[0]
			}
			if m.vendor == "" || m.product == "" || seen[m] {
				continue
			}
			seen[m] = true
			models = append(models, m)
		}
	}
	if len(models) < 250 {
		tb.Fatalf("%d models in the advisories, want at least 250", len(models))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(models), func(i, j int) { models[i], models[j] = models[j], models[i] })
	models = models[:250]
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(models)-1))
	firmware := []string{"V1.0", "V2.1.3", "V2.9", "V3.4.1", "V4.0"}
	devs := make([]inventory.Device, n)
	for i := range devs {
		d := inventory.Device{ID: inventory.DeviceID(i + 1), IPs: []string{fmt.Sprintf("10.%d.%d.%d", 50+i/40000, i/200%200, 1+i%200)},
			MAC: fmt.Sprintf("02:00:01:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff), Name: fmt.Sprintf("dev-%05d", i),
			FirstSeen: t0, LastSeen: t0.Add(time.Hour), Purdue: 1 + i%3, Type: inventory.TypePLC}
		if rng.IntN(10) == 0 {
			d.Vendor, d.Model, d.Type, d.Firmware = "Contoso", fmt.Sprintf("WS-%d", i%10), inventory.TypeEngineering, fmt.Sprintf("1.%d", i%5)
		} else {
			m := models[zipf.Uint64()]
			d.Vendor, d.Model, d.Product = m.vendor, m.model, m.product
			if rng.IntN(10) > 0 {
				d.Firmware = firmware[rng.IntN(len(firmware))]
			}
		}
		devs[i] = d
	}
	return devs
}

// plantStore stores the devices of plantDevices on sensor "plant".
func plantStore(b *testing.B, devs []inventory.Device) store.Store {
	b.Helper()
	st := openStore(b)
	ctx := context.Background()
	if err := st.PutSensor(ctx, store.Sensor{ID: "plant", Name: "Plant"}, "test"); err != nil {
		b.Fatal(err)
	}
	if err := st.PutDevices(ctx, "plant", devs); err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkAssessFirst makes the first assessment of a plant of 10,000
// devices against the shared advisories, with a new Fleet each time so
// that every device is matched.
func BenchmarkAssessFirst(b *testing.B) {
	cat := sharedCatalog(b)
	st := plantStore(b, plantDevices(b, cat, plantSize))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		a, err := New(st, Options{Advisories: cat, MaxAge: -1}).Assess(ctx)
		if err != nil || len(a.Devices) != plantSize {
			b.Fatalf("%d devices, %v", len(a.Devices), err)
		}
	}
}

// BenchmarkMatchFleet matches a plant of 10,000 devices against the shared
// advisories with a new Fleet each time: Matches one device after another,
// as Fleet.Device does; matchAll all at once, as Assess does.
func BenchmarkMatchFleet(b *testing.B) {
	cat := sharedCatalog(b)
	devs := plantDevices(b, cat, plantSize)
	ptrs := make([]*inventory.Device, len(devs))
	for i := range devs {
		ptrs[i] = &devs[i]
	}
	b.Run("Matches", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			f := New(nil, Options{Advisories: cat})
			for _, d := range ptrs {
				f.Matches(d)
			}
		}
	})
	b.Run("matchAll", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			New(nil, Options{Advisories: cat}).matchAll(ptrs)
		}
	})
}

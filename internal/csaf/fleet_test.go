package csaf

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// fleetAdvisories and fleetDevices size the fleet of BenchmarkMatchFleet:
// a plant inventory matched against a catalog of advisories.
const (
	fleetAdvisories = 200
	fleetDevices    = 10000
	plantModels     = 250 // models a plant of fleetDevices devices has
)

// fleetCatalog returns a catalog of the first n shared advisories by
// tracking ID.
func fleetCatalog(t testing.TB, n int) *Catalog {
	t.Helper()
	all := sharedCatalog(t)
	if all.Len() < n {
		t.Fatalf("%d shared advisories, want at least %d", all.Len(), n)
	}
	return NewCatalog(all.Advisories[:n]...)
}

// fleetModel is one device model named by an advisory, with the firmware
// versions the advisory gives for it: the bounds of its affected range and
// the fixed version a vendor fix names.
type fleetModel struct {
	vendor, model, product string
	firmware               []string
}

// fleetModels collects the models the advisories of cat name, in catalog
// order: the vendor and product name as written, the first order or model
// number, and the versions of the product's range and of its fix.
func fleetModels(cat *Catalog) []fleetModel {
	var out []fleetModel
	seen := map[string]bool{}
	for _, a := range cat.Advisories {
		fixed := fixedVersions(a)
		for _, p := range a.Products {
			q := p
			if r := p.Relationship; r != nil && r.Platform != nil {
				q = r.Platform
			}
			m := fleetModel{
				vendor:  firstNonEmpty(q.Vendor, p.Vendor),
				product: strings.TrimSpace(firstNonEmpty(q.ProductName, q.Name)),
			}
			switch {
			case len(q.ModelNumbers) > 0:
				m.model = q.ModelNumbers[0]
			case q.Model != "":
				m.model = q.Model
			default:
				if id := mlfbRe.FindString(strings.ToLower(p.Name)); id != "" {
					m.model = strings.ToUpper(id)
				}
			}
			if m.vendor == "" || m.product == "" && m.model == "" || !deviceName(m.product) {
				continue
			}
			for _, text := range []string{p.VersionRange, p.Version} {
				for _, c := range parseRange(text, false).cons {
					v := c.v
					v.wild = false
					if s := v.String(); s != "" {
						m.firmware = append(m.firmware, "V"+s)
					}
				}
			}
			if f, ok := fixed[p.ID]; ok {
				m.firmware = append(m.firmware, f.text)
			}
			key := m.vendor + "\x00" + m.model + "\x00" + m.product
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, m)
		}
	}
	return out
}

// deviceName reports whether a product name of an advisory could be
// what a device reports: not a pattern or a list of models ("FX5S-xMy/z
// x=30,40", "1756-L8x") and no version range ("PCS 7 V7.1 and earlier").
func deviceName(s string) bool {
	for _, tok := range tokenize(strings.ToLower(s)) {
		switch tok {
		case "all", "and", "earlier", "prior", "later", "before", "versions":
			return false
		}
		if strings.ContainsAny(tok, "*=") || hasWildX(tok) {
			return false
		}
	}
	return true
}

// otherVendors are devices of vendors no advisory of the fleet catalog
// names: office IT and field devices of smaller manufacturers.
var otherVendors = []Device{
	{Vendor: "Pilz GmbH & Co. KG", Model: "PNOZ m B1", Product: "PNOZmulti 2", Firmware: "1.2.0"},
	{Vendor: "Turck", Model: "TBEN-S2-4IOL", Product: "TBEN-S2-4IOL", Firmware: "3.4.1.0"},
	{Vendor: "Dell Inc.", Model: "OptiPlex 7090", Product: "OptiPlex 7090", Firmware: "1.21.0"},
	{Vendor: "Hewlett Packard Enterprise", Model: "J9772A", Product: "Aruba 2530-48G-PoEP", Firmware: "YA.16.10.0012"},
	{Vendor: "Lenze SE", Model: "i550", Product: "i550 cabinet frequency inverter", Firmware: "V01.05"},
	{Vendor: "Endress+Hauser", Model: "Promag 400", Product: "Proline Promag 400", Firmware: "01.01.zz"},
	{Vendor: "Acme Controls Ltd", Product: "Pump Station Gateway"},
}

// buildFleet returns a deterministic plant inventory of n devices for the
// models of cat. A plant has many devices of few models: 80% of the
// devices are drawn from 250 of the advisories' models with a Zipf
// distribution (the most common model makes up a tenth of them), each
// with one of the model's firmware versions or, for one in ten, unknown
// firmware, and for one in five with its order number as product code
// rather than model. The rest are devices whose vendor is unknown (8%:
// model and product only, which are compared with every advisory),
// devices of vendors the catalog does not name (7%), devices that report a
// vendor only (3%) and devices that report nothing (2%).
func buildFleet(t testing.TB, cat *Catalog, n int) []Device {
	t.Helper()
	models := fleetModels(cat)
	if len(models) < 100 {
		t.Fatalf("%d models in the fleet catalog, want at least 100", len(models))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(models), func(i, j int) { models[i], models[j] = models[j], models[i] })
	models = models[:min(len(models), plantModels)]
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(models)-1))
	pick := func() (Device, fleetModel) {
		m := models[zipf.Uint64()]
		d := Device{Vendor: m.vendor, Model: m.model, Product: m.product}
		if d.Model != "" && rng.IntN(5) == 0 {
			// The order number read from the device's identity object.
			d.Model, d.ProductCode = "", d.Model
		}
		if len(m.firmware) > 0 && rng.IntN(10) > 0 {
			d.Firmware = m.firmware[rng.IntN(len(m.firmware))]
		}
		return d, m
	}
	out := make([]Device, 0, n)
	for len(out) < n {
		switch r := rng.IntN(100); {
		case r < 80:
			d, _ := pick()
			out = append(out, d)
		case r < 88:
			d, _ := pick()
			d.Vendor = ""
			out = append(out, d)
		case r < 95:
			out = append(out, otherVendors[rng.IntN(len(otherVendors))])
		case r < 98:
			_, m := pick()
			out = append(out, Device{Vendor: m.vendor})
		default:
			out = append(out, Device{})
		}
	}
	return out
}

// BenchmarkMatchFleet matches a plant inventory of 10,000 devices against
// 200 advisories; one iteration matches the whole fleet. Alone prepares
// and matches every device from scratch, Match calls Catalog.Match (which
// remembers prepared names) for each device, Matcher uses one Matcher
// (which also remembers each device's matches), and MatchFleet matches on
// all CPUs.
func BenchmarkMatchFleet(b *testing.B) {
	cat := fleetCatalog(b, fleetAdvisories)
	fleet := buildFleet(b, cat, fleetDevices)
	ways := []struct {
		name  string
		match func([]Device) [][]Match
	}{
		{"Alone", func(devs []Device) [][]Match {
			out := make([][]Match, len(devs))
			for i, d := range devs {
				out[i] = matchAlone(cat, d)
			}
			return out
		}},
		{"Match", func(devs []Device) [][]Match {
			out := make([][]Match, len(devs))
			for i, d := range devs {
				out[i] = cat.Match(d)
			}
			return out
		}},
		{"Matcher", func(devs []Device) [][]Match {
			m := cat.NewMatcher()
			out := make([][]Match, len(devs))
			for i, d := range devs {
				out[i] = m.Match(d)
			}
			return out
		}},
		{"MatchFleet", cat.MatchFleet},
	}
	for _, w := range ways {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			matched := 0
			for b.Loop() {
				matched = 0
				for _, ms := range w.match(fleet) {
					if len(ms) > 0 {
						matched++
					}
				}
			}
			if matched == 0 {
				b.Fatal("no device of the fleet matched")
			}
			b.ReportMetric(float64(len(fleet))*float64(b.N)/b.Elapsed().Seconds(), "devices/s")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/fleet")
		})
	}
}

// TestMatchFleet checks that MatchFleet, a Matcher and Catalog.Match,
// which remember what they worked out for other devices, give every device
// of a fleet the matches it gets when matched with nothing remembered.
func TestMatchFleet(t *testing.T) {
	cat := fleetCatalog(t, fleetAdvisories)
	fleet := buildFleet(t, cat, fleetDevices)
	// The same models again, in reverse order and with other firmware.
	for i := range fleet[:fleetDevices/4] {
		d := fleet[len(fleet)-1-i]
		d.Firmware = fleet[i].Firmware
		fleet = append(fleet, d)
	}
	fleetMatches := cat.MatchFleet(fleet)
	m := cat.NewMatcher()
	alone := map[Device][]Match{}
	differ := 0
	for i, d := range fleet {
		want, ok := alone[d]
		if !ok {
			want = matchAlone(cat, d)
			alone[d] = want
		}
		for _, got := range [][]Match{fleetMatches[i], m.Match(d), cat.Match(d)} {
			if !reflect.DeepEqual(got, want) {
				differ++
				if differ <= 5 {
					t.Errorf("device %d %+v: got %s, want %s", i, d, summarize(got), summarize(want))
				}
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d results differ from matching devices alone", differ, 3*len(fleet))
	}
}

// matchAlone matches a device with nothing remembered from other devices.
func matchAlone(c *Catalog, d Device) []Match {
	s := c.getScratch()
	defer c.scratch.Put(s)
	di := prepareDevice(d)
	s.cands = c.candidates(di, s, s.cands[:0])
	return c.match(di, s.cands, s)
}

// summarize names the advisories and verdicts of matches.
func summarize(ms []Match) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Advisory.ID+" "+m.Verdict.String())
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// TestFleet checks the fleet of BenchmarkMatchFleet: its size, its mix
// and that a good share of it matches the advisories.
func TestFleet(t *testing.T) {
	cat := fleetCatalog(t, fleetAdvisories)
	fleet := buildFleet(t, cat, fleetDevices)
	if len(fleet) != fleetDevices {
		t.Fatalf("%d devices, want %d", len(fleet), fleetDevices)
	}
	models := map[Device]int{}
	noVendor, matched, affected := 0, 0, 0
	for _, d := range fleet {
		models[Device{Vendor: d.Vendor, Model: d.Model, Product: d.Product, ProductCode: d.ProductCode}]++
		if d.Vendor == "" {
			noVendor++
		}
	}
	for _, d := range fleet[:1000] {
		ms := cat.Match(d)
		if len(ms) > 0 {
			matched++
		}
		if slices.ContainsFunc(ms, func(m Match) bool { return m.Verdict == Affected }) {
			affected++
		}
	}
	t.Logf("%d devices, %d distinct models, %d without vendor; of the first 1000, %d match, %d affected", len(fleet), len(models), noVendor, matched, affected)
	if len(models) < 100 || len(models) > fleetDevices/10 {
		t.Errorf("%d distinct models, want between 100 and %d", len(models), fleetDevices/10)
	}
	if matched < 300 || affected < 100 {
		t.Errorf("of the first 1000 devices %d match and %d are affected; want at least 300 and 100", matched, affected)
	}
}

// TestMatcherResultsApart checks that the matches a Matcher or MatchFleet
// gives identical devices can be changed and appended to apart.
func TestMatcherResultsApart(t *testing.T) {
	a, err := Parse(strings.NewReader(string(readTestdata(t, "advisory.json"))), "advisory.json")
	if err != nil {
		t.Fatal(err)
	}
	cat := NewCatalog(a)
	d := Device{Vendor: "Example Industrial", Product: "PLC-9 CPU 910", Firmware: "2.0"}
	want := cat.Match(d)
	if len(want) == 0 {
		t.Fatal("no match")
	}
	m := cat.NewMatcher()
	fleet := cat.MatchFleet([]Device{d, d})
	for _, pair := range [][2][]Match{{m.Match(d), m.Match(d)}, {fleet[0], fleet[1]}} {
		for i, ms := range pair {
			if !reflect.DeepEqual(ms, want) {
				t.Fatalf("result %d = %s %v, want %s %v", i, ms[0].Verdict, ms[0].Reasons, want[0].Verdict, want[0].Reasons)
			}
			ms[0].Verdict = Verdict(10 + i)
			ms[0].Reasons = append(ms[0].Reasons, fmt.Sprint(i))
			ms[0].CVEs = append(ms[0].CVEs, fmt.Sprint(i))
			ms[0].Remediations = append(ms[0].Remediations, Remediation{Details: fmt.Sprint(i)})
		}
		for i, ms := range pair {
			s := fmt.Sprint(i)
			if ms[0].Verdict != Verdict(10+i) || ms[0].Reasons[len(ms[0].Reasons)-1] != s ||
				ms[0].CVEs[len(ms[0].CVEs)-1] != s || ms[0].Remediations[len(ms[0].Remediations)-1].Details != s {
				t.Errorf("result %d was changed through the other: %s %v %v", i, ms[0].Verdict, ms[0].Reasons, ms[0].CVEs)
			}
		}
	}
	if got := m.Match(d); !reflect.DeepEqual(got, want) {
		t.Errorf("Matcher.Match after its results were changed = %s %v, want %s %v", got[0].Verdict, got[0].Reasons, want[0].Verdict, want[0].Reasons)
	}
}

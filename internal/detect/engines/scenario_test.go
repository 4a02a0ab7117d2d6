package engines_test

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/attack"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/detect/malware"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
)

// scenarioDuration is the simulated capture of a scenario test: learning
// takes its first half, the attack comes in its last quarter.
const scenarioDuration = 8 * time.Minute

// simulateAndDetect writes a simulated capture and runs detection over it,
// learning on the first half.
func simulateAndDetect(t *testing.T, opts simulate.Options) ([]*alert.Alert, simulate.Summary) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "capture.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := simulate.Generate(f, opts)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return detectFile(t, path, "50%"), sum
}

func detectFile(t *testing.T, path, learn string) []*alert.Alert {
	t.Helper()
	until, err := analyze.LearnUntil(learn, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	in := detect.NewIndicators()
	if err := malware.ReadList(strings.NewReader(strings.Join(simulate.Indicators(), "\n")), "simulate", in); err != nil {
		t.Fatal(err)
	}
	opts := analyze.Options{Pipeline: pipeline.DefaultOptions}
	dt := analyze.WithDetection(&opts, detect.Config{Sensor: "test", LearnUntil: until, Keep: true, Indicators: in})
	if _, err := analyze.Files([]string{path}, opts); err != nil {
		t.Fatal(err)
	}
	dt.Finish()
	return dt.Detector.Alerts()
}

func describe(as []*alert.Alert) string {
	var b strings.Builder
	for _, a := range as {
		fmt.Fprintf(&b, "\n  %s %s %s -> %s key=%q count=%d: %s", a.FirstDetection.Format(time.TimeOnly), a.Type,
			a.Source, a.Destination, a.Key, a.Count, a.Title)
	}
	return b.String()
}

// TestBenignPlant: the plant's own traffic, learned on its first half,
// raises nothing in its second half.
func TestBenignPlant(t *testing.T) {
	t.Parallel()
	as, _ := simulateAndDetect(t, simulate.Options{Seed: 1, Duration: scenarioDuration})
	if len(as) != 0 {
		t.Errorf("benign plant raised %d alerts:%s", len(as), describe(as))
	}
}

// TestBenignCells: the building, substation and OPC UA cells' own
// traffic raises nothing either.
func TestBenignCells(t *testing.T) {
	t.Parallel()
	as, _ := simulateAndDetect(t, simulate.Options{Seed: 1, Duration: scenarioDuration, Cells: []string{simulate.CellAll}})
	if len(as) != 0 {
		t.Errorf("benign plant with every cell raised %d alerts:%s", len(as), describe(as))
	}
}

// TestScenarios runs every attack scenario: it raises exactly the alert
// type it was built for, once, between the hosts it names, with the type's
// severity and techniques.
func TestScenarios(t *testing.T) {
	for _, sc := range simulate.Scenarios() {
		if sc.Alert == "" {
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			typ := detect.LookupType(sc.Alert)
			if typ == nil {
				t.Fatalf("scenario %s names alert type %q, which is not registered", sc.Name, sc.Alert)
			}
			as, sum := simulateAndDetect(t, simulate.Options{Seed: 1, Duration: scenarioDuration, Scenarios: []string{sc.Name}})
			if len(as) != 1 || as[0].Type != sc.Alert {
				t.Fatalf("scenario %s raised %d alerts, want exactly one %s:%s", sc.Name, len(as), sc.Alert, describe(as))
			}
			a := as[0]
			if a.Severity != typ.Severity || a.Engine != typ.Engine || !slices.Equal(a.Techniques, typ.Techniques) {
				t.Errorf("alert %s: severity %v engine %v techniques %v, want %v %v %v", a.Type, a.Severity, a.Engine, a.Techniques, typ.Severity, typ.Engine, typ.Techniques)
			}
			hosts := map[string]netip.Addr{}
			for _, h := range sum.Hosts {
				hosts[h.Name] = h.IP
			}
			check := func(role, name string, p alert.Party) {
				if name == "" {
					return
				}
				want, ok := hosts[name]
				if !ok {
					t.Errorf("scenario %s names %s host %q, which the capture does not have", sc.Name, role, name)
					return
				}
				if p.IP != want {
					t.Errorf("alert %s: %s is %v, want %s (%v)", a.Type, role, p, name, want)
				}
			}
			check("source", sc.Source, a.Source)
			check("destination", sc.Destination, a.Destination)
			var start time.Time
			for _, e := range sum.Events {
				if e.Scenario == sc.Name {
					start = e.Time
					break
				}
			}
			if a.FirstDetection.Before(start) {
				t.Errorf("alert %s at %v, before the scenario started at %v", a.Type, a.FirstDetection, start)
			}
		})
	}
}

// TestCatalogue: every alert type is well formed, names techniques of the
// ATT&CK for ICS catalogue, and has a scenario; the catalogue is as wide as
// promised.
func TestCatalogue(t *testing.T) {
	scenarios := map[string]bool{}
	for _, sc := range simulate.Scenarios() {
		if sc.Alert != "" {
			scenarios[sc.Alert] = true
		}
	}
	techniques := map[string]bool{}
	types := detect.Types()
	for _, typ := range types {
		for _, id := range typ.Techniques {
			if _, ok := attack.LookupTechnique(id); !ok {
				t.Errorf("alert type %s names technique %s, which ATT&CK for ICS %s does not have", typ.ID, id, attack.Version)
			}
			techniques[id] = true
		}
		if !scenarios[typ.ID] {
			t.Errorf("alert type %s has no simulate scenario", typ.ID)
		}
	}
	if len(types) < 40 || len(techniques) < 25 {
		t.Errorf("%d alert types covering %d techniques; want at least 40 and 25", len(types), len(techniques))
	}
}

package recommend

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
	"github.com/otwatch/otwatch/internal/testenv"
)

// plantScenarios are injected into the simulated plant: each leaves a trace
// an observed recommendation is for.
var plantScenarios = []string{
	"malware-cleartext-credentials", // ews01 logs in to rtu01 over Telnet
	"malware-remote-access",         // ews01 opens VNC to hmi01
	"policy-it-ot-crossing",         // an office workstation reads plc02 over Modbus
	"policy-internet-access",        // hist01 downloads over HTTP from the internet
	"cip-mode-change",               // hmi01 changes the Rockwell PLC's mode over PCCC
	"s7comm-plc-stop",               // ews01 stops the Siemens PLC
	"s7comm-program-download",       // ews01 downloads FC12 into the Siemens PLC
}

// analyzePlant simulates the plant with plantScenarios and analyses it as
// `otwatch advisories match` does: detection learning on the first half,
// and an Observer annotating the snapshot.
func analyzePlant(t *testing.T) (*inventory.Snapshot, []*alert.Alert) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plant.pcap")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := simulate.Generate(f, simulate.Options{Duration: 8 * time.Minute, Scenarios: plantScenarios}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	until, err := analyze.LearnUntil("50%", []string{p})
	if err != nil {
		t.Fatal(err)
	}
	obs := NewObserver()
	opts := analyze.Options{Pipeline: pipeline.DefaultOptions}
	opts.Pipeline.Emitter = obs
	det := analyze.WithDetection(&opts, detect.Config{Sensor: "test", Keep: true, LearnUntil: until})
	if _, err := analyze.Files([]string{p}, opts); err != nil {
		t.Fatal(err)
	}
	det.Finish()
	snap := det.Inventory.Snapshot()
	obs.Annotate(snap)
	return snap, det.Detector.Alerts()
}

// csafDir returns the csaf folder of $OTWATCH_DATA (default ../shared/data from the module
// root), or skips the test when it holds no CSAF advisories.
func csafDir(t testing.TB) string {
	t.Helper()
	return filepath.Dir(testenv.Data(t, "csaf/index.tsv", "CSAF advisories"))
}

var (
	catOnce sync.Once
	catVal  *csaf.Catalog
	catErrs []error
)

func sharedCatalog(t testing.TB) *csaf.Catalog {
	t.Helper()
	dir := csafDir(t)
	catOnce.Do(func() { catVal, catErrs = csaf.Load(dir) })
	for _, err := range catErrs {
		t.Errorf("csaf.Load: %v", err)
	}
	return catVal
}

func deviceByIP(t *testing.T, snap *inventory.Snapshot, ip string) *inventory.Device {
	t.Helper()
	for i := range snap.Devices {
		if slices.Contains(snap.Devices[i].IPs, ip) {
			return &snap.Devices[i]
		}
	}
	t.Fatalf("no device with IP %s in the snapshot", ip)
	return nil
}

// TestPlantAdvisories matches the simulated plant's PLCs against the
// shared CISA advisories. The expected advisories were read from the
// documents, not from our output:
//
//   - plc01 reports SIMATIC S7-300 CPU 315-2 PN/DP 6ES7 315-2EH14-0AB0 at
//     V3.2.6. ICSA-18-079-02 lists "SIMATIC S7-300 CPU 315-2 PN/DP
//     (6ES7315-2EH14-0AB0)" with "vers:all/<V3.2.16" (CVE-2018-4843) and
//     the vendor fix "Update to V3.2.16 or later version".
//     ICSA-20-315-04 lists "SIMATIC S7-300 CPU family (incl. related
//     ET200 CPUs and SIPLUS variants)", all versions (CVE-2020-15783),
//     "Currently no fix is planned".
//   - plc03 reports 1756-L73/B LOGIX5573 at 20.11, a ControlLogix 5570
//     controller (the 1756-L7x catalog numbers). ICSA-22-144-01 lists
//     "ControlLogix 5570 controllers" "<= 33.013" (CVE-2022-1797), with
//     the mitigation "CompactLogix 5370, Compact GuardLogix 5370,
//     ControlLogix 5570, GuardLogix 5570: Upgrade to v34.011 firmware".
//     ICSA-22-354-02 lists "ControlLogix 5570" versions "20-33"
//     (CVE-2022-3157), "upgrade to versions 33.013, 34.011, or later".
//
// No other advisory of the set names these products.
func TestPlantAdvisories(t *testing.T) {
	cat := sharedCatalog(t)
	snap, alerts := analyzePlant(t)
	ranked := RankDevices(snap, cat, alerts)
	want := []struct {
		ip       string
		affected []string
		cves     []string
		update   []string // texts the update recommendations' titles name
		noFix    string   // advisory whose mitigation says no fix
	}{
		{"10.10.2.11", []string{"ICSA-18-079-02", "ICSA-20-315-04"}, []string{"CVE-2018-4843", "CVE-2020-15783"}, []string{"V3.2.16"}, "ICSA-20-315-04"},
		{"10.10.2.13", []string{"ICSA-22-144-01", "ICSA-22-354-02"}, []string{"CVE-2022-1797", "CVE-2022-3157"}, []string{"v34.011", "33.013"}, ""},
	}
	for _, w := range want {
		t.Run(w.ip, func(t *testing.T) {
			d := deviceByIP(t, snap, w.ip)
			i := slices.IndexFunc(ranked, func(a Assessment) bool { return a.Device == d })
			a := ranked[i]
			var affected, cves []string
			for _, m := range a.Matches {
				if m.Verdict == csaf.Affected {
					affected = append(affected, m.Advisory.ID)
					cves = append(cves, m.CVEs...)
				}
			}
			slices.Sort(affected)
			slices.Sort(cves)
			if !slices.Equal(affected, w.affected) || !slices.Equal(cves, w.cves) {
				t.Errorf("affected by %v %v, want %v %v", affected, cves, w.affected, w.cves)
			}
			for _, v := range w.update {
				if !slices.ContainsFunc(a.Recommendations, func(r Recommendation) bool {
					return r.Kind == KindUpdate && strings.Contains(r.Title, v)
				}) {
					t.Errorf("no update recommendation naming %s in %v", v, titles(a.Recommendations))
				}
			}
			if w.noFix != "" && !slices.ContainsFunc(a.Recommendations, func(r Recommendation) bool {
				return r.Kind == KindMitigate && r.Advisory == w.noFix && strings.HasPrefix(r.Title, "No fix")
			}) {
				t.Errorf("no no-fix mitigation for %s in %v", w.noFix, titles(a.Recommendations))
			}
			if a.Risk.Vulnerability <= 0 || a.Risk.Score < a.Risk.Vulnerability {
				t.Errorf("risk %+v", a.Risk)
			}
		})
	}
	// The two PLCs with known vulnerabilities rank first.
	if len(ranked) < 2 {
		t.Fatalf("%d devices ranked", len(ranked))
	}
	top := []string{ranked[0].Device.IPs[0], ranked[1].Device.IPs[0]}
	slices.Sort(top)
	if !slices.Equal(top, []string{"10.10.2.11", "10.10.2.13"}) {
		for _, a := range ranked {
			t.Logf("%v %s risk %+v", a.Device.IPs, a.Device.Type, a.Risk)
		}
		t.Errorf("top devices %v, want the two PLCs", top)
	}
}

// TestPlantObserved checks the observed recommendations the scenarios
// call for, each on the device the scenario's description names.
func TestPlantObserved(t *testing.T) {
	snap, alerts := analyzePlant(t)
	want := []struct {
		ip   string
		kind Kind
		key  string
		sev  alert.Severity
	}{
		{"10.10.2.20", KindCleartextCredentials, "telnet", alert.High}, // ews01 logs in to the RTU over Telnet
		{"10.10.2.20", KindInsecureProtocol, "telnet", alert.High},     // so the RTU serves Telnet
		{"10.10.1.21", KindRemoteAccess, "vnc", alert.Medium},          // VNC into hmi01
		{"10.10.1.30", KindInternet, "outbound", alert.High},           // hist01 downloads from the internet
		{"10.10.2.12", KindITOTCrossing, "industrial", alert.High},     // office workstation reads plc02
		{"10.10.2.13", KindPLCMode, "mode", alert.Low},                 // PCCC mode change, final mode not seen
		{"10.10.2.11", KindPLCMode, "mode", alert.Medium},              // S7 PLC STOP, never restarted
		{"10.10.2.11", KindPLCProgramming, "program", alert.Low},       // FC12 downloaded by the engineering workstation
	}
	byDev := map[string][]Recommendation{}
	for _, w := range want {
		if _, ok := byDev[w.ip]; !ok {
			d := deviceByIP(t, snap, w.ip)
			byDev[w.ip] = ForDevice(snap, d, nil, alerts)
		}
		recs := byDev[w.ip]
		i := slices.IndexFunc(recs, func(r Recommendation) bool { return r.Kind == w.kind && r.Key == w.key })
		if i < 0 {
			t.Errorf("%s: no %s/%s recommendation in %v", w.ip, w.kind, w.key, titles(recs))
			continue
		}
		r := recs[i]
		if r.Severity != w.sev || r.Source != SourceObserved || r.Status != Open || len(r.Evidence) == 0 || r.Title == "" || r.Text == "" {
			t.Errorf("%s: %+v, want severity %s, observed, open, with evidence", w.ip, r, w.sev)
		}
	}
	// The S7 stop is seen both as an operation (FactPLCMode) and an alert.
	d := deviceByIP(t, snap, "10.10.2.11")
	if !slices.ContainsFunc(d.Facts, func(f inventory.Fact) bool { return f.Key == FactPLCMode && f.Value == "stop" }) {
		t.Errorf("Siemens PLC facts lack plc_mode stop: %+v", d.Facts)
	}
}

func titles(rs []Recommendation) []string {
	var out []string
	for _, r := range rs {
		out = append(out, string(r.Kind)+"/"+r.Key+": "+r.Title)
	}
	return out
}

package csaf

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// labeledDevice is one device of testdata/inventory.txt with the
// advisories it was labeled with by reading them.
type labeledDevice struct {
	name     string
	line     int
	dev      Device
	affected []string
	possibly []string
}

// readInventory parses testdata/inventory.txt (format described in the
// file's header).
func readInventory(t *testing.T, path string) []labeledDevice {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []labeledDevice
	var cur *labeledDevice
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		val = strings.TrimSpace(val)
		if key == "device" {
			out = append(out, labeledDevice{name: val, line: n})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			t.Fatalf("%s:%d: %q before the first device", path, n, key)
		}
		switch key {
		case "vendor":
			cur.dev.Vendor = val
		case "model":
			cur.dev.Model = val
		case "product":
			cur.dev.Product = val
		case "code":
			cur.dev.ProductCode = val
		case "firmware":
			cur.dev.Firmware = val
		case "affected":
			cur.affected = append(cur.affected, strings.Fields(val)...)
		case "possibly":
			cur.possibly = append(cur.possibly, strings.Fields(val)...)
		default:
			t.Fatalf("%s:%d: unknown key %q", path, n, key)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestInventoryMatching matches the hand-labeled inventory against the
// shared advisories. It fails on any "affected" verdict the labels do not
// give (precision must be 1), on an "affected" verdict for a device whose
// firmware is unknown, and when fewer than 95% of the labeled matches are
// found. It prints precision and recall.
func TestInventoryMatching(t *testing.T) {
	cat := sharedCatalog(t)
	for _, file := range []string{"testdata/inventory.txt", "testdata/inventory-2.txt"} {
		t.Run(filepath.Base(file), func(t *testing.T) {
			checkInventory(t, cat, readInventory(t, file))
		})
	}
}

// checkInventory matches one labeled inventory and checks its precision
// and recall.
func checkInventory(t *testing.T, cat *Catalog, devs []labeledDevice) {
	vendors := map[string]bool{}
	for _, d := range devs {
		if ks := vendorKeys(d.dev.Vendor); len(ks) > 0 {
			vendors[ks[0]] = true
		}
		for _, id := range append(slices.Clone(d.affected), d.possibly...) {
			if cat.Advisory(id) == nil {
				t.Errorf("%s (line %d): advisory %s is not in the catalog", d.name, d.line, id)
			}
		}
	}
	if t.Name() == "TestInventoryMatching/inventory.txt" && (len(devs) < 60 || len(vendors) < 15) {
		t.Errorf("inventory has %d devices of %d vendors; want at least 60 of 15", len(devs), len(vendors))
	}
	var tp, fp, fn, labeled, found, extraPossible int
	for _, d := range devs {
		got := map[string]*Match{}
		ms := cat.Match(d.dev)
		for i := range ms {
			got[ms[i].Advisory.ID] = &ms[i]
		}
		for id, m := range got {
			if m.Verdict != Affected {
				if !slices.Contains(d.possibly, id) && !slices.Contains(d.affected, id) {
					extraPossible++
					t.Logf("%s: also possibly affected by %s (%.2f): %s", d.name, id, m.Confidence, strings.Join(m.Reasons, "; "))
				}
				continue
			}
			switch {
			case slices.Contains(d.affected, id):
				tp++
			default:
				fp++
				t.Errorf("%s (line %d): false affected verdict for %s: %s", d.name, d.line, id, strings.Join(m.Reasons, "; "))
			}
		}
		for _, id := range d.affected {
			labeled++
			m := got[id]
			switch {
			case m != nil && m.Verdict == Affected:
				found++
			case m != nil:
				fn++
				t.Logf("%s (line %d): %s found only as %s: %s", d.name, d.line, id, m.Verdict, strings.Join(m.Reasons, "; "))
			default:
				fn++
				t.Logf("%s (line %d): %s not found", d.name, d.line, id)
			}
		}
		for _, id := range d.possibly {
			labeled++
			if m := got[id]; m != nil && m.Verdict == PossiblyAffected {
				found++
			} else {
				fn++
				t.Logf("%s (line %d): %s not found as possibly affected", d.name, d.line, id)
			}
		}
	}
	precision := 1.0
	if tp+fp > 0 {
		precision = float64(tp) / float64(tp+fp)
	}
	recall := float64(found) / float64(labeled)
	fmt.Printf("csaf %s: %d devices, %d vendors, %d labeled matches: precision %.3f (%d affected verdicts, %d false), recall %.3f (%d found, %d missed), %d other possibly-affected verdicts\n",
		t.Name(), len(devs), len(vendors), labeled, precision, tp+fp, fp, recall, found, fn, extraPossible)
	if recall < 0.95 {
		t.Errorf("recall %.3f, want at least 0.95", recall)
	}
}

// TestMatchAdvisory matches devices against the handwritten
// testdata/advisory.json, whose products and ranges are known.
func TestMatchAdvisory(t *testing.T) {
	a, err := Parse(strings.NewReader(string(readTestdata(t, "advisory.json"))), "advisory.json")
	if err != nil {
		t.Fatal(err)
	}
	cat := NewCatalog(a)
	tests := []struct {
		name    string
		dev     Device
		verdict Verdict // 0: no match
		cves    []string
		fixedIn string
	}{
		{"order number, affected", Device{Vendor: "Example Industrial GmbH", Model: "9EX9 910-0AA00-0AB0", Firmware: "V2.5"},
			Affected, []string{"CVE-2024-0001"}, "V2.9.4"},
		{"name, affected", Device{Vendor: "Example Industrial", Product: "PLC-9 CPU 910", Firmware: "2.0"},
			Affected, []string{"CVE-2024-0001"}, "V2.9.4"},
		{"fixed version", Device{Vendor: "Example Industrial", Product: "PLC-9 CPU 910", Firmware: "V2.9.4"}, 0, nil, ""},
		{"older than the range", Device{Vendor: "Example Industrial", Product: "PLC-9 CPU 910", Firmware: "1.9"}, 0, nil, ""},
		{"unknown firmware", Device{Vendor: "Example Industrial", Product: "PLC-9 CPU 910"},
			PossiblyAffected, []string{"CVE-2024-0001"}, "V2.9.4"},
		{"unreadable firmware", Device{Vendor: "Example Industrial", Product: "PLC-9 CPU 910", Firmware: "production build"},
			PossiblyAffected, []string{"CVE-2024-0001"}, "V2.9.4"},
		{"unknown vendor", Device{Model: "9EX9 910-0AA00-0AB0", Firmware: "V2.5"},
			PossiblyAffected, []string{"CVE-2024-0001"}, "V2.9.4"},
		{"other vendor", Device{Vendor: "Siemens", Product: "PLC-9 CPU 910", Firmware: "2.5"}, 0, nil, ""},
		{"gateway", Device{Vendor: "Example Industrial", Product: "Gateway GW-20", Firmware: "1.4.1"},
			Affected, []string{"CVE-2024-0001"}, "1.4.2"},
		{"other product", Device{Vendor: "Example Industrial", Product: "Gateway GW-30", Firmware: "1.0"}, 0, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := cat.Match(tt.dev)
			if tt.verdict == 0 {
				if len(ms) != 0 {
					t.Fatalf("Match = %s %v, want none", ms[0].Verdict, ms[0].Reasons)
				}
				return
			}
			if len(ms) != 1 {
				t.Fatalf("%d matches, want 1", len(ms))
			}
			m := ms[0]
			if m.Verdict != tt.verdict || !slices.Equal(m.CVEs, tt.cves) || m.FixedIn != tt.fixedIn || m.Advisory != a {
				t.Errorf("Match = %s %v fixed in %q (%v), want %s %v %q", m.Verdict, m.CVEs, m.FixedIn, m.Reasons, tt.verdict, tt.cves, tt.fixedIn)
			}
			if len(m.Reasons) < 3 || len(m.Remediations) == 0 || m.Confidence <= 0 || m.Confidence > 1 {
				t.Errorf("Match = %+v: want reasons, remediations and a confidence", m)
			}
		})
	}
}

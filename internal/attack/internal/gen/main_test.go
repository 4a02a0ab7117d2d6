package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/attack"
	"github.com/otwatch/otwatch/internal/testenv"
)

// data returns the reference data folder, or skips the test.
func data(t *testing.T) string {
	t.Helper()
	dir, err := dataDir()
	if err != nil {
		testenv.Missing(t, err.Error())
	}
	if _, err := os.Stat(filepath.Join(dir, bundleFile)); err != nil {
		testenv.Missing(t, "ATT&CK for ICS bundle not found under "+dir+" (set OTWATCH_DATA)")
	}
	return dir
}

// TestReproducible regenerates the catalogue and compares it with the
// checked-in catalogue.go byte for byte.
func TestReproducible(t *testing.T) {
	dir := data(t)
	got, err := generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), outFile)
	if err := os.WriteFile(out, got, 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", outFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, want) {
		t.Errorf("regenerated %s differs from the checked-in one; run go generate ./internal/attack", outFile)
	}
}

// bundleIDs walks the STIX bundle as plain JSON and returns the ATT&CK IDs
// of its x-mitre-tactic objects and of its attack-pattern objects of the
// ICS domain that are neither revoked nor deprecated, sorted.
func bundleIDs(t *testing.T, b []byte) (tactics, techniques []string) {
	t.Helper()
	var bd struct {
		Objects []map[string]any `json:"objects"`
	}
	if err := json.Unmarshal(b, &bd); err != nil {
		t.Fatalf("decoding %s: %v", bundleFile, err)
	}
	attackID := func(o map[string]any) string {
		refs, _ := o["external_references"].([]any)
		for _, r := range refs {
			if m, _ := r.(map[string]any); m["source_name"] == "mitre-attack" {
				if id, _ := m["external_id"].(string); id != "" {
					return id
				}
			}
		}
		t.Fatalf("%s %v has no mitre-attack external ID", o["type"], o["id"])
		return ""
	}
	for _, o := range bd.Objects {
		switch o["type"] {
		case "x-mitre-tactic":
			tactics = append(tactics, attackID(o))
		case "attack-pattern":
			domains, _ := o["x_mitre_domains"].([]any)
			if o["revoked"] == true || o["x_mitre_deprecated"] == true || !slices.Contains(domains, any("ics-attack")) {
				continue
			}
			techniques = append(techniques, attackID(o))
		}
	}
	slices.Sort(tactics)
	slices.Sort(techniques)
	return tactics, techniques
}

// TestCounts counts the tactics and the current ICS techniques of the
// bundle with a plain JSON walk, independent of the generator, and
// compares them, by ID, with the generator's tables and the checked-in
// catalogue of package attack and the count its header states.
func TestCounts(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(data(t), bundleFile))
	if err != nil {
		t.Fatal(err)
	}
	wantTactics, wantTechniques := bundleIDs(t, b)
	if len(wantTactics) == 0 || len(wantTechniques) == 0 {
		t.Fatalf("the bundle has %d tactics and %d techniques", len(wantTactics), len(wantTechniques))
	}
	t.Logf("bundle: %d tactics, %d techniques", len(wantTactics), len(wantTechniques))
	ta, te, err := catalogue(b)
	if err != nil {
		t.Fatal(err)
	}
	var genTactics, genTechniques, pkgTactics, pkgTechniques []string
	for _, x := range ta {
		genTactics = append(genTactics, x.id)
	}
	for _, x := range te {
		genTechniques = append(genTechniques, x.id)
	}
	for _, x := range attack.Tactics() {
		pkgTactics = append(pkgTactics, x.ID)
	}
	for _, x := range attack.Techniques() {
		pkgTechniques = append(pkgTechniques, x.ID)
	}
	tests := []struct {
		name      string
		got, want []string
	}{
		{"generated tactics", genTactics, wantTactics},
		{"generated techniques", genTechniques, wantTechniques},
		{"attack.Tactics", pkgTactics, wantTactics},
		{"attack.Techniques", pkgTechniques, wantTechniques},
	}
	checkedIn, err := os.ReadFile(filepath.Join("..", "..", outFile))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("// %d tactics, %d techniques (", len(wantTactics), len(wantTechniques)); !bytes.Contains(checkedIn, []byte(want)) {
		t.Errorf("the header of the checked-in %s does not say %q", outFile, want)
	}
	for _, tt := range tests {
		got := slices.Sorted(slices.Values(tt.got))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %d IDs, the bundle %d\ngot  %v\nwant %v", tt.name, len(got), len(tt.want), got, tt.want)
		}
	}
}

// TestChecksums makes a copy of the data folder with one byte of the bundle
// changed, or SHA256SUMS missing, and expects the generator to refuse it.
func TestChecksums(t *testing.T) {
	src := data(t)
	bundleB, err := os.ReadFile(filepath.Join(src, bundleFile))
	if err != nil {
		t.Fatal(err)
	}
	sourceB, err := os.ReadFile(filepath.Join(src, sourceFile))
	if err != nil {
		t.Fatal(err)
	}
	sumsB, err := os.ReadFile(filepath.Join(src, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(bundleB, []byte("Adversaries"), []byte("adversaries"), 1)
	tests := []struct {
		name           string
		bundle, sums   []byte
		source, errMsg string
	}{
		{"tampered bundle", tampered, sumsB, string(sourceB), "SHA256SUMS says"},
		{"no SHA256SUMS", bundleB, nil, string(sourceB), "reading checksums"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "attack-ics"), 0o755); err != nil {
			t.Fatal(err)
		}
		write := func(rel string, b []byte) {
			if b == nil {
				return
			}
			if err := os.WriteFile(filepath.Join(dir, rel), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write(bundleFile, tt.bundle)
		write(sourceFile, []byte(tt.source))
		write("SHA256SUMS", tt.sums)
		if _, err := generate(dir); err == nil || !strings.Contains(err.Error(), tt.errMsg) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.errMsg)
		}
	}
}

// TestBadBundles feeds malformed bundles to catalogue, which must report
// an error and not panic.
func TestBadBundles(t *testing.T) {
	const (
		tacticJSON = `{"type":"x-mitre-tactic","id":"x-mitre-tactic--1","name":"Impact","x_mitre_shortname":"impact",` +
			`"external_references":[{"source_name":"mitre-attack","external_id":"TA0105","url":"u"}]}`
		matrix = `{"type":"x-mitre-matrix","id":"x-mitre-matrix--1","tactic_refs":["x-mitre-tactic--1"]}`
	)
	tech := func(id, phase, desc string) string {
		return `{"type":"attack-pattern","id":"attack-pattern--` + id + `","name":"N","description":"` + desc + `",` +
			`"kill_chain_phases":[{"kill_chain_name":"mitre-ics-attack","phase_name":"` + phase + `"}],` +
			`"external_references":[{"source_name":"mitre-attack","external_id":"` + id + `","url":"u"}]}`
	}
	bundle := func(objs ...string) string {
		return `{"type":"bundle","objects":[` + strings.Join(objs, ",") + `]}`
	}
	tests := []struct {
		name, in, errMsg string
	}{
		{"not JSON", `{"type":`, "decoding"},
		{"not a bundle", `{"type":"indicator","objects":[]}`, "want bundle"},
		{"no matrix", bundle(tacticJSON), "no x-mitre-matrix"},
		{"two matrices", bundle(matrix, matrix, tacticJSON), "more than one"},
		{"unknown tactic ref", bundle(matrix), "unknown tactic"},
		{"bad tactic id", bundle(matrix, strings.Replace(tacticJSON, "TA0105", "T0105", 1)), "bad ID"},
		{"tactic without mitre-attack id", bundle(matrix, strings.Replace(tacticJSON, `"mitre-attack"`, `"capec"`, 1)), "external reference"},
		{"unknown phase", bundle(matrix, tacticJSON, tech("T0800", "discovery", "D.")), `unknown tactic "discovery"`},
		{"bad technique id", bundle(matrix, tacticJSON, tech("T08000", "impact", "D.")), "bad ID"},
		{"duplicate technique", bundle(matrix, tacticJSON, tech("T0800", "impact", "D."), tech("T0800", "impact", "D.")), "twice"},
		{"no description", bundle(matrix, tacticJSON, tech("T0800", "impact", "")), "no description"},
		{"no tactic", bundle(matrix, tacticJSON, strings.Replace(tech("T0800", "impact", "D."), "mitre-ics-attack", "mitre-attack", 1)), "no mitre-ics-attack tactic"},
	}
	for _, tt := range tests {
		_, _, err := catalogue([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.errMsg) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.errMsg)
		}
	}

	// A well-formed bundle: deprecated and revoked techniques are left out.
	dep := strings.Replace(tech("T0801", "impact", "D."), `"name"`, `"x_mitre_deprecated":true,"name"`, 1)
	rev := strings.Replace(tech("T0802", "impact", "D."), `"name"`, `"revoked":true,"name"`, 1)
	ta, te, err := catalogue([]byte(bundle(matrix, tacticJSON, tech("T0800", "impact", "Does things."), dep, rev)))
	if err != nil {
		t.Fatal(err)
	}
	if len(ta) != 1 || ta[0] != (tactic{"TA0105", "Impact", "impact", "u"}) ||
		len(te) != 1 || te[0].id != "T0800" || te[0].summary != "Does things." || !slices.Equal(te[0].tactics, []string{"TA0105"}) {
		t.Errorf("catalogue = %+v, %+v", ta, te)
	}
}

func TestParseSource(t *testing.T) {
	tests := []struct {
		in, version, errMsg string
	}{
		{"attack_version: v18.1\nrepo_commit: abc\nbundle_sha256: 00\n", "v18.1", ""},
		{"attack_version: 18.1\nrepo_commit: abc\nbundle_sha256: 00\n", "", "not vMAJOR.MINOR"},
		{"attack_version: v18.1\nbundle_sha256: 00\n", "", "missing"},
		{"", "", "not vMAJOR.MINOR"},
	}
	for _, tt := range tests {
		s, err := parseSource([]byte(tt.in))
		if tt.errMsg != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errMsg) {
				t.Errorf("parseSource(%q): error %v, want %q", tt.in, err, tt.errMsg)
			}
			continue
		}
		if err != nil || s.version != tt.version {
			t.Errorf("parseSource(%q) = %+v, %v", tt.in, s, err)
		}
	}
}

func TestSummary(t *testing.T) {
	long := "Many" + strings.Repeat(" words", 60) + "." // 365 bytes
	tests := []struct {
		name, in, want string
	}{
		{"first sentence", "Adversaries may do a thing that is long enough to stand on its own as a summary of what the technique is. Then more.",
			"Adversaries may do a thing that is long enough to stand on its own as a summary of what the technique is."},
		{"short first sentence gets the next", "Adversaries may do X. They do it with Y.", "Adversaries may do X. They do it with Y."},
		{"only two sentences", "A b. C d. E f.", "A b. C d."},
		{"second too long", "A b. " + long, "A b."},
		{"citations dropped", "Adversaries may do X. (Citation: Some Author 2020)  (Citation: Other) Next one.",
			"Adversaries may do X. Next one."},
		{"citation before full stop", "Adversaries sniff traffic (Citation: Enterprise ATT&CK January 2018) on a link.",
			"Adversaries sniff traffic on a link."},
		{"markdown link", "Unlike [Evasion](https://attack.mitre.org/tactics/TA0103), this is loud.",
			"Unlike Evasion, this is loud."},
		{"first paragraph only", "\n\nFirst paragraph.\n\nSecond paragraph.", "First paragraph."},
		{"abbreviations", "Data (e.g., I/O values) and modes (i.e. Run) and etc. Stuff. Next.",
			"Data (e.g., I/O values) and modes (i.e. Run) and etc. Stuff. Next."},
		{"no split before lower case", "Files such as a.exe. and more text here.", "Files such as a.exe. and more text here."},
		{"white space folded", "A  b\tc.   D e.", "A b c. D e."},
		{"too long", long, "Many" + strings.Repeat(" words", 48) + "..."}, // 4+6*48+3 = 295 bytes
		{"empty", "", ""},
		{"citation only", "(Citation: X)", ""},
	}
	for _, tt := range tests {
		got := summary(tt.in)
		if got != tt.want {
			t.Errorf("%s: summary(%q)\n = %q\nwant %q", tt.name, tt.in, got, tt.want)
		}
		if len(got) > maxSummary {
			t.Errorf("%s: summary of %d bytes", tt.name, len(got))
		}
	}
}

// TestSourceChecksum checks that SOURCE.txt names the bundle's checksum,
// which generate requires.
func TestSourceChecksum(t *testing.T) {
	dir := data(t)
	b, err := os.ReadFile(filepath.Join(dir, bundleFile))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(dir, sourceFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseSource(src)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if s.sha256 != hex.EncodeToString(sum[:]) {
		t.Errorf("SOURCE.txt bundle_sha256 %s, bundle has %x", s.sha256, sum)
	}
}

package attack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/testenv"
)

// dataDir returns the shared reference data folder ($OTWATCH_DATA, or
// ../shared/data next to the module root), or skips the test.
func dataDir(t testing.TB) string {
	t.Helper()
	testenv.Data(t, "attack-ics/techniques.tsv", "ATT&CK for ICS reference data")
	return testenv.DataDir()
}

// readTSV reads a reference table: header-named fields, one map per row.
func readTSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var head []string
	var rows []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if head == nil {
			head = fs
			continue
		}
		if len(fs) != len(head) {
			t.Fatalf("%s: row %q has %d fields, header %d", path, sc.Text(), len(fs), len(head))
		}
		row := map[string]string{}
		for i, h := range head {
			row[h] = fs[i]
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestTacticsMatchReference checks the tactics against tactics.tsv, which
// is derived from the bundle independently of the generator.
func TestTacticsMatchReference(t *testing.T) {
	rows := readTSV(t, filepath.Join(dataDir(t), "attack-ics", "tactics.tsv"))
	got := Tactics()
	if len(rows) != 12 || len(got) != len(rows) {
		t.Fatalf("%d tactics, tactics.tsv has %d rows; want 12", len(got), len(rows))
	}
	for _, r := range rows {
		pos, err := strconv.Atoi(r["matrix_order"])
		if err != nil || pos < 1 || pos > len(got) {
			t.Fatalf("tactics.tsv: bad matrix_order %q", r["matrix_order"])
		}
		want := Tactic{ID: r["id"], Name: r["name"], ShortName: r["short_name"], URL: r["url"]}
		if got[pos-1] != want {
			t.Errorf("tactic %d = %+v, want %+v", pos, got[pos-1], want)
		}
	}
}

// TestTechniquesMatchReference checks every technique against
// techniques.tsv: same IDs, names, URLs, and tactics (as short names in
// matrix order).
func TestTechniquesMatchReference(t *testing.T) {
	rows := readTSV(t, filepath.Join(dataDir(t), "attack-ics", "techniques.tsv"))
	got := Techniques()
	if len(rows) != 83 || len(got) != len(rows) {
		t.Fatalf("%d techniques, techniques.tsv has %d rows; want 83", len(got), len(rows))
	}
	if !slices.IsSortedFunc(got, func(a, b Technique) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("Techniques() is not sorted by ID")
	}
	byID := map[string]Technique{}
	for _, tc := range got {
		byID[tc.ID] = tc
	}
	for _, r := range rows {
		tc, ok := byID[r["id"]]
		if !ok {
			t.Errorf("%s (%s) missing", r["id"], r["name"])
			continue
		}
		var short []string
		for _, id := range tc.Tactics {
			ta, ok := LookupTactic(id)
			if !ok {
				t.Fatalf("%s: unknown tactic %s", tc.ID, id)
			}
			short = append(short, ta.ShortName)
		}
		if tc.Name != r["name"] || tc.URL != r["url"] || strings.Join(short, ",") != r["tactics"] {
			t.Errorf("%s = %q %q %q, want %q %q %q", tc.ID, tc.Name, tc.URL, strings.Join(short, ","),
				r["name"], r["url"], r["tactics"])
		}
	}
}

// TestVersionMatchesSource checks Version against SOURCE.txt.
func TestVersionMatchesSource(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(dataDir(t), "attack-ics", "SOURCE.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("\nattack_version: "+Version+"\n")) {
		t.Errorf("Version %q is not the attack_version of SOURCE.txt:\n%s", Version, b)
	}
}

// TestSummaries checks each summary against the start of MITRE's
// description in the bundle, and its form: short, complete sentences, no
// citation or markdown left over.
func TestSummaries(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(dataDir(t), "attack-ics", "ics-attack.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Objects []struct {
			Type        string `json:"type"`
			Description string `json:"description"`
			Refs        []struct {
				Source string `json:"source_name"`
				ID     string `json:"external_id"`
			} `json:"external_references"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	desc := map[string]string{}
	for _, o := range bundle.Objects {
		if o.Type == "attack-pattern" && len(o.Refs) > 0 && o.Refs[0].Source == "mitre-attack" {
			desc[o.Refs[0].ID] = o.Description
		}
	}
	for _, tc := range Techniques() {
		s := tc.Summary
		if len(s) < 40 || len(s) > 300 {
			t.Errorf("%s: summary of %d bytes: %q", tc.ID, len(s), s)
		}
		if strings.Contains(s, "(Citation") || strings.Contains(s, "](") || strings.Contains(s, "  ") {
			t.Errorf("%s: summary has markup left: %q", tc.ID, s)
		}
		if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
			t.Errorf("%s: summary does not end a sentence: %q", tc.ID, s)
		}
		// The first 30 bytes of every description are plain text.
		if d := desc[tc.ID]; !strings.HasPrefix(d, s[:30]) {
			t.Errorf("%s: summary %q does not start the description %.60q", tc.ID, s, d)
		}
	}
}

func TestLookupTechnique(t *testing.T) {
	// Expected values from techniques.tsv and tactics.tsv.
	tests := []struct {
		id      string
		ok      bool
		name    string
		tactics []string
	}{
		{"T0855", true, "Unauthorized Command Message", []string{"TA0106"}},
		{"T0839", true, "Module Firmware", []string{"TA0110", "TA0106"}},
		{"T0843", true, "Program Download", []string{"TA0109"}},
		{"T0800", true, "Activate Firmware Update Mode", []string{"TA0107"}},
		{"T0895", true, "Autorun Image", []string{"TA0104"}},
		{"T0808", false, "", nil}, // deprecated (Control Device Identification)
		{"t0855", false, "", nil},
		{"T0855 ", false, "", nil},
		{"TA0106", false, "", nil},
		{"T9999", false, "", nil},
		{"", false, "", nil},
	}
	for _, tt := range tests {
		got, ok := LookupTechnique(tt.id)
		if ok != tt.ok || got.Name != tt.name || !slices.Equal(got.Tactics, tt.tactics) {
			t.Errorf("LookupTechnique(%q) = %+v, %v; want %q %v, %v", tt.id, got, ok, tt.name, tt.tactics, tt.ok)
		}
		if ok && (got.ID != tt.id || got.URL != "https://attack.mitre.org/techniques/"+tt.id || got.Summary == "") {
			t.Errorf("LookupTechnique(%q) = %+v: bad ID, URL or summary", tt.id, got)
		}
	}
}

// TestResultsAreCopies checks that callers cannot change the catalogue
// through returned values.
func TestResultsAreCopies(t *testing.T) {
	a, _ := LookupTechnique("T0839")
	a.Tactics[0] = "X"
	all := Techniques()
	for i := range all {
		all[i].Tactics[0] = "X"
	}
	ts := Tactics()
	ts[0].ID = "X"
	b, _ := LookupTechnique("T0839")
	if !slices.Equal(b.Tactics, []string{"TA0110", "TA0106"}) || Tactics()[0].ID != "TA0108" {
		t.Errorf("catalogue modified through a returned value: %v %v", b.Tactics, Tactics()[0])
	}
}

func TestLookupTactic(t *testing.T) {
	// Expected values from tactics.tsv.
	tests := []struct {
		id, name, short string
		ok              bool
	}{
		{"TA0108", "Initial Access", "initial-access", true},
		{"TA0106", "Impair Process Control", "impair-process-control", true},
		{"TA0101", "Command and Control", "command-and-control", true},
		{"TA0105", "Impact", "impact", true},
		{"TA0001", "", "", false}, // Enterprise ATT&CK, not ICS
		{"impact", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		got, ok := LookupTactic(tt.id)
		if ok != tt.ok || got.Name != tt.name || got.ShortName != tt.short {
			t.Errorf("LookupTactic(%q) = %+v, %v; want %q %q, %v", tt.id, got, ok, tt.name, tt.short, tt.ok)
		}
		if ok && got.URL != "https://attack.mitre.org/tactics/"+tt.id {
			t.Errorf("LookupTactic(%q).URL = %q", tt.id, got.URL)
		}
	}
}

func TestTacticsOf(t *testing.T) {
	// Matrix order from tactics.tsv: TA0108 TA0104 TA0110 TA0111 TA0103
	// TA0102 TA0109 TA0100 TA0101 TA0107 TA0106 TA0105.
	tests := []struct {
		ids  []string
		want []string
	}{
		{nil, nil},
		{[]string{"T9999", ""}, nil},
		{[]string{"T0855"}, []string{"TA0106"}},
		{[]string{"T0855", "T0839"}, []string{"TA0110", "TA0106"}},
		{[]string{"T0831", "T0843", "T0888", "T0855", "T0855"}, []string{"TA0102", "TA0109", "TA0106", "TA0105"}},
		{[]string{"T0883", "T0851", "T0800", "T0885"}, []string{"TA0108", "TA0103", "TA0101", "TA0107"}},
	}
	for _, tt := range tests {
		if got := TacticsOf(tt.ids...); !slices.Equal(got, tt.want) {
			t.Errorf("TacticsOf(%q) = %q, want %q", tt.ids, got, tt.want)
		}
	}
}

// TestNavigatorLayer compares a layer with testdata/layer.json, written by
// hand from the layer format 4.5 specification, and checks that it decodes
// into the format's fields and encodes back to the same bytes.
func TestNavigatorLayer(t *testing.T) {
	got, err := NavigatorLayer("otwatch alerts", "alerts of one day", map[string]NavigatorTechnique{
		"T0855": {Score: 3, Comment: "Modbus write to holding register 40001"},
		"T0839": {Score: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantB, err := os.ReadFile(filepath.Join("testdata", "layer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gotV, wantV any
	if err := json.Unmarshal(got, &gotV); err != nil {
		t.Fatalf("layer is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(wantB, &wantV); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotV, wantV) {
		t.Errorf("layer differs from testdata/layer.json:\n%s", got)
	}

	// Required fields of the format.
	m := gotV.(map[string]any)
	v, _ := m["versions"].(map[string]any)
	if m["name"] != "otwatch alerts" || m["domain"] != "ics-attack" || v["layer"] != "4.5" || v["navigator"] == "" {
		t.Errorf("required layer fields missing: %v", m)
	}
	for _, te := range m["techniques"].([]any) {
		if id, _ := te.(map[string]any)["techniqueID"].(string); id == "" {
			t.Errorf("technique without techniqueID: %v", te)
		}
	}

	// Round trip through the format's structure, refusing unknown fields.
	var l layer
	dec := json.NewDecoder(bytes.NewReader(got))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	enc := json.NewEncoder(&again)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(l); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), got) {
		t.Errorf("round trip changed the layer:\n%s\nwant\n%s", again.Bytes(), got)
	}
}

func TestNavigatorLayerGradient(t *testing.T) {
	tests := []struct {
		scores   map[string]NavigatorTechnique
		min, max int
		entries  int
	}{
		{nil, 0, 1, 0},
		{map[string]NavigatorTechnique{"T0855": {}}, 0, 1, 1},
		{map[string]NavigatorTechnique{"T0855": {Score: 50}, "T0800": {Score: 7}}, 0, 50, 2},
		{map[string]NavigatorTechnique{"T0855": {Score: -4}}, -4, 1, 1},
	}
	for _, tt := range tests {
		b, err := NavigatorLayer("l", "", tt.scores)
		if err != nil {
			t.Fatal(err)
		}
		var l layer
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatal(err)
		}
		if l.Gradient.MinValue != tt.min || l.Gradient.MaxValue != tt.max || len(l.Techniques) != tt.entries {
			t.Errorf("scores %v: gradient %d..%d, %d entries; want %d..%d, %d", tt.scores,
				l.Gradient.MinValue, l.Gradient.MaxValue, len(l.Techniques), tt.min, tt.max, tt.entries)
		}
		if l.Techniques == nil {
			t.Errorf("scores %v: techniques encoded as null", tt.scores)
		}
	}
}

func TestNavigatorLayerErrors(t *testing.T) {
	tests := []struct {
		name   string
		scores map[string]NavigatorTechnique
		errMsg string
	}{
		{"", nil, "empty name"},
		{"  ", nil, "empty name"},
		{"l", map[string]NavigatorTechnique{"T0855": {}, "T0808": {}}, `unknown technique "T0808"`},
		{"l", map[string]NavigatorTechnique{"TA0106": {}}, `unknown technique "TA0106"`},
	}
	for _, tt := range tests {
		b, err := NavigatorLayer(tt.name, "", tt.scores)
		if err == nil || !strings.Contains(err.Error(), tt.errMsg) || b != nil {
			t.Errorf("NavigatorLayer(%q, %v) = %d bytes, %v; want error %q", tt.name, tt.scores, len(b), err, tt.errMsg)
		}
	}
}

func BenchmarkLookupTechnique(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := LookupTechnique("T0855"); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkTacticsOf(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if len(TacticsOf("T0855", "T0839", "T0843")) != 3 {
			b.Fatal("wrong")
		}
	}
}

package sensor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/analyze"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/detect/malware"
	"github.com/otwatch/otwatch/internal/pipeline"
	"github.com/otwatch/otwatch/internal/simulate"
	"github.com/otwatch/otwatch/internal/store"
)

func TestCandidate(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"plant.pcap", true},
		{"plant.pcapng.gz", true},
		{"capture-0001", true},
		{".plant.pcap", false},
		{"plant.pcap.tmp", false},
		{"plant.pcap.PART", false},
		{"plant.pcap.partial", false},
		{"plant.pcap~", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := candidate(tt.name); got != tt.want {
			t.Errorf("candidate(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// fakeInfo is an os.FileInfo with a given size and modification time.
type fakeInfo struct {
	os.FileInfo
	size  int64
	mtime time.Time
}

func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) ModTime() time.Time { return f.mtime }

func TestSettler(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	type step struct {
		at    time.Duration // wall time of the check, from t0
		size  int64
		mtime time.Duration // modification time, from t0
		want  bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"old file is ready at once", []step{{10 * time.Second, 100, 0, true}}},
		{"file renamed into place keeps its old mtime", []step{{3 * time.Second, 100, 0, true}}},
		{"growing file waits", []step{
			{1 * time.Second, 100, 1 * time.Second, false},
			{2 * time.Second, 200, 2 * time.Second, false},
			{3 * time.Second, 300, 3 * time.Second, false},
			{5 * time.Second, 300, 3 * time.Second, true},
		}},
		{"mtime in the future: stable size for settle", []step{
			{0, 100, time.Hour, false},
			{1 * time.Second, 100, time.Hour, false},
			{2 * time.Second, 100, time.Hour, true},
		}},
		{"mtime in the future: changing size restarts the wait", []step{
			{0, 100, time.Hour, false},
			{1500 * time.Millisecond, 150, time.Hour, false},
			{3 * time.Second, 150, time.Hour, false},
			{3500 * time.Millisecond, 150, time.Hour, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSettler(2 * time.Second)
			for i, st := range tt.steps {
				f := inputFile{path: "/x/a.pcap", info: fakeInfo{size: st.size, mtime: t0.Add(st.mtime)}}
				if got := s.ready(f, t0.Add(st.at)); got != st.want {
					t.Errorf("step %d: ready = %v, want %v", i, got, st.want)
				}
			}
		})
	}
}

func TestState(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.state.json")
	capFile := filepath.Join(dir, "a.pcap")
	gone := filepath.Join(dir, "gone.pcap")
	if err := os.WriteFile(capFile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(path, "s1")
	if err != nil || len(st.Files) != 0 || !st.LearnStart.IsZero() {
		t.Fatalf("LoadState of a missing file = %+v, %v; want an empty state", st, err)
	}
	fi, _ := os.Stat(capFile)
	st.LearnStart = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	st.Files[capFile] = stamp(fi)
	st.Files[gone] = FileState{Size: 1}
	if err := st.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(path, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.LearnStart.Equal(st.LearnStart) || len(got.Files) != 1 || !got.Files[capFile].same(stamp(fi)) {
		t.Errorf("state read back = %+v; want learn start %v and only %s", got, st.LearnStart, capFile)
	}
	if err := os.WriteFile(capFile, []byte("xy"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(capFile)
	if got.Files[capFile].same(stamp(fi2)) {
		t.Error("a file whose size changed still counts as read")
	}

	bad := []struct {
		name, content, sensor, want string
	}{
		{"other sensor", "", "s2", `belongs to sensor "s1"`},
		{"not JSON", "pcap", "s1", "not a sensor state file"},
		{"other JSON", `{"format":"x"}`, "s1", "not a sensor state file"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			p := path
			if tt.content != "" {
				p = filepath.Join(t.TempDir(), "bad.json")
				if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := LoadState(p, tt.sensor); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadState = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "c.db"))
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no name", Config{Store: st, Files: []string{"a"}}},
		{"no store", Config{Name: "s", Files: []string{"a"}}},
		{"no input", Config{Name: "s", Store: st}},
		{"two inputs", Config{Name: "s", Store: st, Files: []string{"a"}, Watch: "d"}},
		{"filter without interface", Config{Name: "s", Store: st, Files: []string{"a"}, Filter: "tcp"}},
		{"negative speed", Config{Name: "s", Store: st, Files: []string{"a"}, Speed: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Run(context.Background(), tt.cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("Run = %v; want ErrConfig", err)
			}
		})
	}
}

// reference runs the detector over paths the way `otwatch analyze
// --alerts` does, as the oracle for what the sensor must store.
func reference(t *testing.T, name string, learn time.Duration, iocs string, paths ...string) *analyze.Detection {
	t.Helper()
	var in *detect.Indicators
	if iocs != "" {
		var err error
		if in, err = malware.LoadIndicators(iocs); err != nil {
			t.Fatal(err)
		}
	}
	opts := analyze.Options{Pipeline: pipeline.DefaultOptions}
	det := analyze.WithDetection(&opts, detect.Config{Sensor: name, Learn: learn, Keep: true, Indicators: in})
	if _, err := analyze.Files(paths, opts); err != nil {
		t.Fatal(err)
	}
	det.Finish()
	return det
}

// TestRunFiles reads a capture into SQLite and checks the store against
// the scenarios' alert types and against the detector run on its own.
func TestRunFiles(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "plant.pcap")
	sum := simulateFile(t, pcap, scenarioOptions(3, simulate.DefaultStart, 10*time.Minute))
	iocs := writeIndicators(t, dir)
	in, err := malware.LoadIndicators(iocs)
	if err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "otwatch.db")
	st := openStore(t, dbPath)
	var logs logBuffer
	m := NewMetrics()
	cfg := Config{Name: "line1", Store: st, Logger: logs.logger(), Metrics: m, Files: []string{pcap},
		StatePath: filepath.Join(dir, "state.json"), Learn: 3 * time.Minute, Indicators: in}
	if err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("Run: %v", err)
	}
	ref := reference(t, "line1", 3*time.Minute, iocs, pcap)
	ctx := context.Background()

	stored := allAlerts(t, st)
	byID := map[string]*store.AlertRecord{}
	types := map[string]bool{}
	for _, a := range stored {
		byID[a.ID] = a
		types[a.Type] = true
	}
	for _, s := range simulate.Scenarios() {
		if slices.Contains(attackScenarios, s.Name) && s.Alert != "" && !types[s.Alert] {
			t.Errorf("scenario %s: no %s alert stored", s.Name, s.Alert)
		}
	}
	want := ref.Detector.Alerts()
	if len(stored) != len(want) {
		t.Errorf("stored %d alerts; the detector alone raises %d", len(stored), len(want))
	}
	withEvidence := 0
	for _, a := range want {
		got := byID[a.ID]
		if got == nil {
			t.Errorf("alert %s (%s) not stored", a.ID, a.Type)
			continue
		}
		if got.Type != a.Type || got.Count != a.Count || !got.LastDetection.Equal(a.LastDetection) || !got.FirstDetection.Equal(a.FirstDetection) {
			t.Errorf("alert %s stored as %s count %d %v–%v; want %s count %d %v–%v", a.ID, got.Type, got.Count,
				got.FirstDetection, got.LastDetection, a.Type, a.Count, a.FirstDetection, a.LastDetection)
		}
		if len(a.Packets) == 0 {
			continue
		}
		withEvidence++
		pcapng, err := st.Evidence(ctx, a.ID)
		if err != nil {
			t.Errorf("evidence of %s (%s): %v", a.ID, a.Type, err)
			continue
		}
		r, err := pcapgo.NewNgReader(bytes.NewReader(pcapng), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Errorf("evidence of %s is not pcapng: %v", a.ID, err)
			continue
		}
		var n int
		for ; ; n++ {
			data, _, err := r.ReadPacketData()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("evidence of %s: packet %d: %v", a.ID, n, err)
			}
			if n < len(a.Packets) && !bytes.Equal(data, a.Packets[n].Data) {
				t.Errorf("evidence of %s: packet %d differs from the packet the detector took", a.ID, n)
			}
		}
		if n != len(a.Packets) {
			t.Errorf("evidence of %s holds %d packets; the detector took %d", a.ID, n, len(a.Packets))
		}
	}
	if withEvidence == 0 {
		t.Error("no alert carried evidence packets")
	}
	if got := m.Alerts(); got != uint64(len(want)) {
		t.Errorf("metrics count %d alerts opened, want %d", got, len(want))
	}

	sn, err := st.Sensor(ctx, "line1")
	if err != nil || sn.Mode != store.ModeOperational {
		t.Errorf("stored sensor = %+v, %v; want mode operational", sn, err)
	}
	recs, err := st.Baseline(ctx, "line1")
	if err != nil || len(recs) != ref.Detector.Baseline().Len() {
		t.Errorf("stored baseline has %d entries (%v); the detector learned %d", len(recs), err, ref.Detector.Baseline().Len())
	}
	ref.Inventory.Flush()
	devs, err := st.Devices(ctx, store.DeviceQuery{Sensors: []string{"line1"}, Limit: store.MaxLimit})
	if err != nil || len(devs.Devices) != len(ref.Inventory.Snapshot().Devices) {
		t.Errorf("stored %d devices (%v); the inventory holds %d", len(devs.Devices), err, len(ref.Inventory.Snapshot().Devices))
	}
	// One new_device event per device (the plant's hosts keep their
	// addresses, so none merges into another), one mode change.
	for typ, want := range map[string]int{"new_device": len(ref.Inventory.Snapshot().Devices), "mode_change": 1} {
		evs, err := st.Events(ctx, store.EventQuery{Sensors: []string{"line1"}, Types: []string{typ}, Limit: store.MaxLimit})
		if err != nil || len(evs.Events) != want {
			t.Errorf("%d %s events stored (%v), want %d", len(evs.Events), typ, err, want)
		}
	}
	state, err := LoadState(cfg.StatePath, "line1")
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := state.Files[pcap]; !ok || f.Error != "" || f.Packets != uint64(sum.Packets) {
		t.Errorf("state records %s as %+v, %v; want read to its end, %d packets", pcap, f, ok, sum.Packets)
	}
	if len(logs.records("alerts committed")) == 0 {
		t.Error(`no "alerts committed" logged`)
	}
}

// TestRunRestart runs the sensor again on the same files: a finished file
// is not read again, and one read again (its record lost) stores nothing
// twice.
func TestRunRestart(t *testing.T) {
	dir := t.TempDir()
	pcaps := []string{filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")}
	simulateFile(t, pcaps[0], scenarioOptions(1, simulate.DefaultStart, 6*time.Minute))
	simulateFile(t, pcaps[1], scenarioOptions(2, simulate.DefaultStart.Add(6*time.Minute), 6*time.Minute))
	st := openStore(t, filepath.Join(dir, "otwatch.db"))
	statePath := filepath.Join(dir, "state.json")
	run := func() *logBuffer {
		t.Helper()
		var logs logBuffer
		cfg := Config{Name: "s", Store: st, Logger: logs.logger(), Files: []string{dir}, StatePath: statePath, Learn: 2 * time.Minute}
		if err := Run(context.Background(), cfg); err != nil {
			t.Fatalf("Run: %v", err)
		}
		return &logs
	}
	run()
	first := allAlerts(t, st)
	if len(first) == 0 {
		t.Fatal("no alerts stored")
	}
	logs := run()
	if n := len(logs.records("capture file already read")); n != 2 {
		t.Errorf("second run skipped %d files, want 2", n)
	}
	if n := len(logs.records("reading capture file")); n != 0 {
		t.Errorf("second run read %d files, want none", n)
	}
	// Lose the record of the second file: it is read again.
	state, err := LoadState(statePath, "s")
	if err != nil {
		t.Fatal(err)
	}
	delete(state.Files, pcaps[1])
	if err := state.Save(statePath); err != nil {
		t.Fatal(err)
	}
	logs = run()
	if got := logs.records("reading capture file"); len(got) != 1 || got[0]["path"] != pcaps[1] {
		t.Errorf("third run read %v, want only %s", got, pcaps[1])
	}
	after := allAlerts(t, st)
	byID := map[string]*store.AlertRecord{}
	type occurrence struct {
		typ, src, dst, key string
		first              time.Time
	}
	seen := map[occurrence]string{}
	for _, a := range after {
		byID[a.ID] = a
		k := occurrence{a.Type, a.Source.Key(), a.Destination.Key(), a.Key, a.FirstDetection.UTC()}
		if id, dup := seen[k]; dup {
			t.Errorf("alert %s duplicates %s: %+v", a.ID, id, k)
		}
		seen[k] = a.ID
	}
	for _, a := range first {
		got := byID[a.ID]
		if got == nil {
			t.Errorf("alert %s (%s) lost", a.ID, a.Type)
		} else if got.Count < a.Count {
			t.Errorf("alert %s count went from %d to %d", a.ID, a.Count, got.Count)
		}
	}
}

// TestRunWatch watches a directory: existing files are read, a new file
// only once complete, and the sensor stops cleanly when cancelled.
func TestRunWatch(t *testing.T) {
	dir := t.TempDir()
	watch := filepath.Join(dir, "in")
	if err := os.Mkdir(watch, 0o755); err != nil {
		t.Fatal(err)
	}
	sumA := simulateFile(t, filepath.Join(watch, "a.pcap"), scenarioOptions(1, simulate.DefaultStart, 5*time.Minute))
	// b arrives later, written under a temporary name and renamed.
	tmp := filepath.Join(dir, "b.pcap")
	sumB := simulateFile(t, tmp, scenarioOptions(2, simulate.DefaultStart.Add(5*time.Minute), 5*time.Minute))
	st := openStore(t, filepath.Join(dir, "otwatch.db"))
	var logs logBuffer
	m := NewMetrics()
	cfg := Config{Name: "w", Store: st, Logger: logs.logger(), Metrics: m, Watch: watch, StatePath: filepath.Join(dir, "state.json"),
		Learn: 2 * time.Minute, Settle: 300 * time.Millisecond, Poll: 50 * time.Millisecond, BatchInterval: 100 * time.Millisecond,
		MetricsAddr: "127.0.0.1:0"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	committed := func(n int) func() bool { return func() bool { return len(logs.records("file committed")) >= n } }
	waitFor(t, 20*time.Second, "a.pcap to be committed", committed(1))
	if got := m.Packets(); got != uint64(sumA.Packets) {
		t.Errorf("after a.pcap %d packets processed, want %d", got, sumA.Packets)
	}

	// A file still being written (growing) is not read.
	partial := filepath.Join(watch, "c.pcap")
	f, err := os.Create(partial)
	if err != nil {
		t.Fatal(err)
	}
	stopWriting, written := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(written)
		for b := []byte{0xd4, 0xc3, 0xb2, 0xa1}; ; b = []byte{0} {
			if _, err := f.Write(b); err != nil {
				t.Error(err)
				return
			}
			select {
			case <-stopWriting:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	if err := os.Rename(tmp, filepath.Join(watch, "b.pcap")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "b.pcap to be committed", committed(2))
	time.Sleep(2 * cfg.Settle)
	for _, r := range logs.records("reading capture file") {
		if r["path"] == partial {
			t.Errorf("read %s while it was being written", partial)
		}
	}
	close(stopWriting)
	<-written
	f.Close()
	os.Remove(partial)
	if got := m.Packets(); got != uint64(sumA.Packets+sumB.Packets) {
		t.Errorf("after b.pcap %d packets processed, want %d", got, sumA.Packets+sumB.Packets)
	}

	// The metrics of the running sensor, parsed as the exposition format.
	addr := logs.records("metrics listening")[0]["addr"].(string)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	ss, types, err := parseExposition(string(body))
	if err != nil {
		t.Fatalf("metrics are not in the exposition format: %v\n%s", err, body)
	}
	for name, typ := range map[string]string{"otwatch_packets_total": "counter", "otwatch_bytes_total": "counter", "otwatch_drops_total": "counter",
		"otwatch_flows_active": "gauge", "otwatch_operations_total": "counter", "otwatch_alerts_total": "counter", "otwatch_events_total": "counter",
		"otwatch_store_batches_total": "counter", "otwatch_store_errors_total": "counter", "otwatch_mode": "gauge", "otwatch_baseline_entries": "gauge",
		"otwatch_limit_dropped_total": "counter"} {
		if types[name] != typ {
			t.Errorf("%s has type %q, want %s", name, types[name], typ)
		}
	}
	if v, _ := value(ss, "otwatch_packets_total"); v != float64(sumA.Packets+sumB.Packets) {
		t.Errorf("otwatch_packets_total %v, want %d", v, sumA.Packets+sumB.Packets)
	}
	if v, _ := value(ss, "otwatch_bytes_total"); v != float64(sumA.Bytes+sumB.Bytes) {
		t.Errorf("otwatch_bytes_total %v, want %d", v, sumA.Bytes+sumB.Bytes)
	}
	if v, _ := value(ss, "otwatch_operations_total", "protocol", "modbus"); v == 0 {
		t.Error("no modbus operations counted")
	}
	// The simulated plant fills no table.
	for _, table := range []string{"inventory_macs", "inventory_addresses", "inventory_connections", "inventory_conflicts", "detector_hosts"} {
		if v, ok := value(ss, "otwatch_limit_dropped_total", "table", table); !ok || v != 0 {
			t.Errorf(`otwatch_limit_dropped_total{table=%q} = %v (present %v), want 0`, table, v, ok)
		}
	}
	if v, _ := value(ss, "otwatch_mode", "mode", "operational"); v != 1 {
		t.Errorf(`otwatch_mode{mode="operational"} = %v, want 1`, v)
	}
	if v, _ := value(ss, "otwatch_mode", "mode", "learning"); v != 0 {
		t.Errorf(`otwatch_mode{mode="learning"} = %v, want 0`, v)
	}
	if v, _ := value(ss, "otwatch_baseline_entries"); v == 0 {
		t.Error("otwatch_baseline_entries is 0")
	}
	if v, _ := value(ss, "otwatch_store_batches_total"); v == 0 {
		t.Error("otwatch_store_batches_total is 0")
	}
	stored := allAlerts(t, st)
	var sum float64
	for _, s := range ss {
		if s.name == "otwatch_alerts_total" {
			sum += s.value
		}
	}
	if int(sum) != len(stored) {
		t.Errorf("otwatch_alerts_total sums to %v; %d alerts stored", sum, len(stored))
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if len(logs.records("sensor stopped")) != 1 {
		t.Error(`no "sensor stopped" logged`)
	}
}

func TestMetricsEscaping(t *testing.T) {
	m := NewMetrics()
	weird := "we\"ird\\proto\nx"
	m.setOps(map[string]uint64{"modbus": 7, weird: 2})
	m.alertOpened(&alert.Alert{Engine: alert.Malware, Severity: alert.Critical})
	var b strings.Builder
	if err := m.Write(&b); err != nil {
		t.Fatal(err)
	}
	ss, _, err := parseExposition(b.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"otwatch_operations_total", []string{"protocol", "modbus"}, 7},
		{"otwatch_operations_total", []string{"protocol", weird}, 2},
		{"otwatch_alerts_total", []string{"engine", "malware", "severity", "critical"}, 1},
		{"otwatch_alerts_total", []string{"engine", "malware", "severity", "low"}, 0},
		{"otwatch_mode", []string{"mode", "learning"}, 1},
	}
	for _, tt := range tests {
		if got, ok := value(ss, tt.name, tt.labels...); !ok || got != tt.want {
			t.Errorf("%s%q = %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
}

func TestParseExpositionRejects(t *testing.T) {
	tests := []struct{ name, text string }{
		{"sample without TYPE", "x_total 1\n"},
		{"bad name", "# HELP 1x h\n# TYPE 1x counter\n1x 1\n"},
		{"bad value", "# HELP x h\n# TYPE x gauge\nx one\n"},
		{"unterminated label", "# HELP x h\n# TYPE x gauge\nx{a=\"b} 1\n"},
		{"repeated series", "# HELP x h\n# TYPE x gauge\nx{a=\"b\"} 1\nx{a=\"b\"} 2\n"},
		{"unknown type", "# HELP x h\n# TYPE x meter\nx 1\n"},
	}
	for _, tt := range tests {
		if _, _, err := parseExposition(tt.text); err == nil {
			t.Errorf("%s: accepted %q", tt.name, tt.text)
		}
	}
}

package sensor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/simulate"
	"github.com/otwatch/otwatch/internal/store"
)

// flakyStore fails the first fails calls of PutAlerts.
type flakyStore struct {
	store.Store
	fails atomic.Int32
	calls atomic.Int32
}

var errDown = errors.New("database unavailable")

func (f *flakyStore) PutAlerts(ctx context.Context, as []*alert.Alert) error {
	f.calls.Add(1)
	if f.fails.Add(-1) >= 0 {
		return errDown
	}
	return f.Store.PutAlerts(ctx, as)
}

// TestRunStoreFailure: alerts that the store refuses for a while are
// kept, retried and stored; the failures are counted.
func TestRunStoreFailure(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "plant.pcap")
	simulateFile(t, pcap, scenarioOptions(3, simulate.DefaultStart, 5*time.Minute))
	fs := &flakyStore{Store: openStore(t, filepath.Join(dir, "otwatch.db"))}
	fs.fails.Store(3)
	var logs logBuffer
	m := NewMetrics()
	cfg := Config{Name: "f", Store: fs, Logger: logs.logger(), Metrics: m, Files: []string{pcap}, Learn: 2 * time.Minute,
		BatchInterval: 20 * time.Millisecond}
	if err := Run(context.Background(), cfg); err != nil {
		t.Fatalf("Run: %v", err)
	}
	ref := reference(t, "f", 2*time.Minute, "", pcap)
	got := allAlerts(t, fs)
	if len(got) != len(ref.Detector.Alerts()) || len(got) == 0 {
		t.Errorf("%d alerts stored after the store recovered; the detector raised %d", len(got), len(ref.Detector.Alerts()))
	}
	if n := m.storeErrors.Load(); n != 3 {
		t.Errorf("otwatch_store_errors_total = %d, want 3", n)
	}
	if n := len(logs.records("store write failed; retrying")) + len(logs.records("store write failed at shutdown; retrying")); n != 3 {
		t.Errorf("%d retries logged, want 3", n)
	}
}

// TestRunStoreDown: a store that never recovers makes Run give up after
// ShutdownTimeout with an error that says what was not stored.
func TestRunStoreDown(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "plant.pcap")
	simulateFile(t, pcap, scenarioOptions(3, simulate.DefaultStart, 5*time.Minute))
	fs := &flakyStore{Store: openStore(t, filepath.Join(dir, "otwatch.db"))}
	fs.fails.Store(1 << 30)
	var logs logBuffer
	cfg := Config{Name: "d", Store: fs, Logger: logs.logger(), Files: []string{pcap}, Learn: 2 * time.Minute,
		BatchInterval: 20 * time.Millisecond, ShutdownTimeout: 300 * time.Millisecond}
	err := Run(context.Background(), cfg)
	if !errors.Is(err, errDown) || !strings.Contains(err.Error(), "alerts") {
		t.Errorf("Run = %v; want the store's error and what was not stored", err)
	}
}

// TestWriterInvalidAlert: an alert the store refuses as invalid is dropped
// and counted; the rest of its batch is stored.
func TestWriterInvalidAlert(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "w.db"))
	ctx := context.Background()
	if err := st.PutSensor(ctx, store.Sensor{ID: "w", Name: "w"}, "test"); err != nil {
		t.Fatal(err)
	}
	m := NewMetrics()
	w := &writer{st: st, sensor: "w", actor: "test", log: slog.New(slog.DiscardHandler), m: m, base: baseline.New(0),
		state: &State{Files: map[string]FileState{}}, batchSize: 10, interval: time.Second, alerts: map[string]*pendingAlert{}}
	t0 := simulate.DefaultStart
	good := &alert.Alert{ID: "good-1", Type: "s7comm.plc_stop", Severity: alert.High, Engine: alert.Operational, Status: alert.New, Sensor: "w",
		FirstDetection: t0, LastDetection: t0, Count: 1}
	bad := &alert.Alert{ID: "bad-1", Type: "s7comm.plc_stop", Engine: alert.Operational, Status: alert.New, Sensor: "w",
		FirstDetection: t0, LastDetection: t0, Count: 1} // no severity
	later := *good
	later.Count, later.LastDetection = 5, t0.Add(time.Minute)
	for _, a := range []*alert.Alert{good, bad, &later} {
		w.add(a)
	}
	if len(w.order) != 2 {
		t.Errorf("%d alerts pending, want 2 (updates of one alert merge)", len(w.order))
	}
	if err := w.flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	rec, err := st.Alert(ctx, "good-1")
	if err != nil || rec.Count != 5 || !rec.LastDetection.Equal(t0.Add(time.Minute)) {
		t.Errorf("good alert stored as %+v, %v; want count 5, last detection %v", rec, err, t0.Add(time.Minute))
	}
	if _, err := st.Alert(ctx, "bad-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("invalid alert: %v; want not stored", err)
	}
	if n := m.storeErrors.Load(); n != 1 {
		t.Errorf("store errors = %d, want 1", n)
	}
}

// TestRunCorruptFile: a capture file that ends inside a record is reported
// with its name and offset after every file was read, and recorded so that
// it is not read again.
func TestRunCorruptFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.pcap")
	cut := filepath.Join(dir, "b.pcap")
	simulateFile(t, good, scenarioOptions(1, simulate.DefaultStart, 4*time.Minute))
	simulateFile(t, cut, scenarioOptions(2, simulate.DefaultStart.Add(4*time.Minute), 4*time.Minute))
	data, err := os.ReadFile(cut)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, data[:len(data)/2+3], 0o644); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, filepath.Join(t.TempDir(), "otwatch.db"))
	statePath := filepath.Join(t.TempDir(), "state.json")
	var logs logBuffer
	m := NewMetrics()
	cfg := Config{Name: "c", Store: st, Logger: logs.logger(), Metrics: m, Files: []string{cut, good}, StatePath: statePath, Learn: time.Minute}
	err = Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), cut) || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("Run = %v; want an error naming %s and the offset", err, cut)
	}
	state, lerr := LoadState(statePath, "c")
	if lerr != nil {
		t.Fatal(lerr)
	}
	if f := state.Files[cut]; f.Error == "" || f.Packets == 0 {
		t.Errorf("state of the cut file = %+v; want its error and the packets before it", f)
	}
	if f := state.Files[good]; f.Error != "" || f.Packets == 0 {
		t.Errorf("state of the good file = %+v; want read to its end", f)
	}
	if len(allAlerts(t, st)) == 0 {
		t.Error("no alerts stored")
	}
	logs = logBuffer{}
	cfg.Logger = logs.logger()
	if err := Run(context.Background(), cfg); err != nil {
		t.Errorf("second Run = %v; want the cut file skipped", err)
	}
}

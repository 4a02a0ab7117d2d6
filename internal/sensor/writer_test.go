package sensor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/evidence"
	"github.com/otwatch/otwatch/internal/inventory"
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

// countingStore counts the keys DeviceIDs is asked for.
type countingStore struct {
	store.Store
	calls int
	keys  []string
}

func (c *countingStore) DeviceIDs(ctx context.Context, sensor string, keys []string) ([]inventory.DeviceID, error) {
	c.calls++
	c.keys = append(c.keys, keys...)
	return c.Store.DeviceIDs(ctx, sensor, keys)
}

// TestWriterDeviceIDs feeds a writer snapshots and events of one run's
// inventory and checks what it stores under the store's device IDs, that
// it asks the store only for keys it has not asked for before, and that a
// device merged into another leaves one stored device.
func TestWriterDeviceIDs(t *testing.T) {
	ctx := context.Background()
	cs := &countingStore{Store: openStore(t, filepath.Join(t.TempDir(), "w.db"))}
	// The store already knows two devices, from an earlier run.
	if _, err := cs.Store.DeviceIDs(ctx, "w", []string{"00:00:00:00:00:0b", "00:00:00:00:00:0a"}); err != nil {
		t.Fatal(err)
	}
	w := &writer{st: cs, sensor: "w", actor: "test", log: slog.New(slog.DiscardHandler), m: NewMetrics(), base: baseline.New(0),
		state: &State{Files: map[string]FileState{}}, batchSize: 10, interval: time.Second, alerts: map[string]*pendingAlert{}}
	t0 := simulate.DefaultStart
	dev := func(id inventory.DeviceID, mac, addr string, routedBy inventory.DeviceID, last time.Duration) inventory.Device {
		return inventory.Device{ID: id, MAC: mac, Address: addr, RoutedBy: routedBy, Purdue: -1, Type: inventory.TypeUnknown,
			FirstSeen: t0, LastSeen: t0.Add(last)}
	}
	conn := func(c, s inventory.DeviceID, port uint16, last time.Duration) inventory.Connection {
		return inventory.Connection{Client: c, Server: s, Protocol: "modbus", Transport: "tcp", Port: port, First: t0, Last: t0.Add(last)}
	}
	byIP := dev(7, "", "", 0, 5)
	byIP.IPs = []string{"10.0.0.7"}
	type want struct {
		devices map[inventory.DeviceID]string // store ID → key
		conns   []string                      // "client key→server key port"
		asked   []string                      // keys asked of the store by this step
	}
	steps := []struct {
		name string
		in   []any
		want want
	}{
		{"first snapshot: new and known devices", []any{&inventory.Snapshot{
			Devices:     []inventory.Device{dev(1, "00:00:00:00:00:0a", "", 0, 1), dev(2, "00:00:00:00:00:0c", "", 0, 1), dev(3, "00:00:00:00:00:0b", "", 0, 1)},
			Connections: []inventory.Connection{conn(1, 2, 502, 1), conn(3, 1, 502, 1)}}},
			want{map[inventory.DeviceID]string{2: "00:00:00:00:00:0a", 3: "00:00:00:00:00:0c", 1: "00:00:00:00:00:0b"},
				[]string{"00:00:00:00:00:0a→00:00:00:00:00:0c 502", "00:00:00:00:00:0b→00:00:00:00:00:0a 502"},
				[]string{"00:00:00:00:00:0a", "00:00:00:00:00:0c", "00:00:00:00:00:0b"}}},
		{"same devices again: no query", []any{&inventory.Snapshot{
			Devices:     []inventory.Device{dev(1, "00:00:00:00:00:0a", "", 0, 2), dev(2, "00:00:00:00:00:0c", "", 0, 2), dev(3, "00:00:00:00:00:0b", "", 0, 2)},
			Connections: []inventory.Connection{conn(2, 3, 102, 2)}}},
			want{map[inventory.DeviceID]string{2: "00:00:00:00:00:0a", 3: "00:00:00:00:00:0c", 1: "00:00:00:00:00:0b"},
				[]string{"00:00:00:00:00:0a→00:00:00:00:00:0c 502", "00:00:00:00:00:0b→00:00:00:00:00:0a 502", "00:00:00:00:00:0c→00:00:00:00:00:0b 102"},
				nil}},
		{"routed devices, one seen through two ports of its router", []any{&inventory.Snapshot{
			Devices: []inventory.Device{dev(1, "00:00:00:00:00:0a", "", 0, 3), dev(2, "00:00:00:00:00:0c", "", 0, 3), dev(3, "00:00:00:00:00:0b", "", 0, 3),
				dev(4, "", "bacnet:5:7", 1, 3), dev(5, "", "bacnet:5:7", 1, 4)},
			Connections: []inventory.Connection{conn(4, 2, 47808, 3), conn(5, 2, 47808, 4), conn(4, 5, 47808, 4)}}},
			want{map[inventory.DeviceID]string{2: "00:00:00:00:00:0a", 3: "00:00:00:00:00:0c", 1: "00:00:00:00:00:0b", 4: "bacnet:5:7"},
				[]string{"00:00:00:00:00:0a→00:00:00:00:00:0c 502", "00:00:00:00:00:0b→00:00:00:00:00:0a 502", "00:00:00:00:00:0c→00:00:00:00:00:0b 102",
					"bacnet:5:7→00:00:00:00:00:0c 47808"},
				[]string{"bacnet:5:7"}}},
		{"events name a device not in a snapshot yet", []any{eventsItem{
			events: []store.Event{{Time: t0, Sensor: "w", Type: "new_device", Device: "10.0.0.9", DeviceID: 6},
				{Time: t0, Sensor: "w", Type: "new_connection", Device: "10.0.0.9", DeviceID: 6, Peer: "10.0.0.1", PeerID: 1}},
			keys: map[inventory.DeviceID]string{6: "00:00:00:00:00:0d", 1: "00:00:00:00:00:0a"}}},
			want{map[inventory.DeviceID]string{2: "00:00:00:00:00:0a", 3: "00:00:00:00:00:0c", 1: "00:00:00:00:00:0b", 4: "bacnet:5:7"},
				[]string{"00:00:00:00:00:0a→00:00:00:00:00:0c 502", "00:00:00:00:00:0b→00:00:00:00:00:0a 502", "00:00:00:00:00:0c→00:00:00:00:00:0b 102",
					"bacnet:5:7→00:00:00:00:00:0c 47808"},
				[]string{"00:00:00:00:00:0d"}}},
		{"a device known by IP", []any{&inventory.Snapshot{
			Devices:     []inventory.Device{dev(1, "00:00:00:00:00:0a", "", 0, 5), dev(2, "00:00:00:00:00:0c", "", 0, 5), dev(3, "00:00:00:00:00:0b", "", 0, 5), byIP},
			Connections: []inventory.Connection{conn(7, 2, 502, 5)}}},
			want{map[inventory.DeviceID]string{2: "00:00:00:00:00:0a", 3: "00:00:00:00:00:0c", 1: "00:00:00:00:00:0b", 4: "bacnet:5:7", 6: "10.0.0.7"},
				[]string{"00:00:00:00:00:0a→00:00:00:00:00:0c 502", "00:00:00:00:00:0b→00:00:00:00:00:0a 502", "00:00:00:00:00:0c→00:00:00:00:00:0b 102",
					"10.0.0.7→00:00:00:00:00:0c 502", "bacnet:5:7→00:00:00:00:00:0c 47808"},
				[]string{"10.0.0.7"}}},
		{"the device known by IP merged into a MAC device", []any{eventsItem{
			events: []store.Event{{Time: t0.Add(6 * time.Minute), Sensor: "w", Type: string(inventory.EventMerged), DeviceID: 7, Peer: "10.0.0.7", PeerID: 1}},
			keys:   map[inventory.DeviceID]string{1: "00:00:00:00:00:0a"}}, &inventory.Snapshot{
			Devices:     []inventory.Device{dev(1, "00:00:00:00:00:0a", "", 0, 6), dev(2, "00:00:00:00:00:0c", "", 0, 6), dev(3, "00:00:00:00:00:0b", "", 0, 6)},
			Connections: []inventory.Connection{conn(1, 2, 502, 6)}}},
			want{map[inventory.DeviceID]string{2: "00:00:00:00:00:0a", 3: "00:00:00:00:00:0c", 1: "00:00:00:00:00:0b", 4: "bacnet:5:7"},
				[]string{"00:00:00:00:00:0a→00:00:00:00:00:0c 502", "00:00:00:00:00:0b→00:00:00:00:00:0a 502", "00:00:00:00:00:0c→00:00:00:00:00:0b 102",
					"bacnet:5:7→00:00:00:00:00:0c 47808"},
				[]string{"00:00:00:00:00:0a"}}}, // asked again: the store may have given the MAC the IP's ID
	}
	for _, st := range steps {
		before := len(cs.keys)
		for _, it := range st.in {
			w.add(it)
		}
		if err := w.flush(ctx); err != nil {
			t.Fatalf("%s: flush: %v", st.name, err)
		}
		if got := cs.keys[before:]; !slices.Equal(got, st.want.asked) {
			t.Errorf("%s: asked the store for %q, want %q", st.name, got, st.want.asked)
		}
		devs, conns := storedInventory(t, cs, "w")
		got := map[inventory.DeviceID]string{}
		for id, d := range devs {
			got[id] = d.Key()
			if d.Address != "" && d.RoutedBy != 2 {
				t.Errorf("%s: %s routed by %d, want 2 (the store ID of its router)", st.name, d.Address, d.RoutedBy)
			}
		}
		if !maps.Equal(got, st.want.devices) {
			t.Errorf("%s: stored devices %v, want %v", st.name, got, st.want.devices)
		}
		var gotConns []string
		for l := range conns {
			gotConns = append(gotConns, fmt.Sprintf("%s→%s %d", l.client, l.server, l.port))
		}
		slices.Sort(gotConns)
		if !slices.Equal(gotConns, st.want.conns) {
			t.Errorf("%s: stored connections %q, want %q", st.name, gotConns, st.want.conns)
		}
	}
	evs, err := cs.Events(ctx, store.EventQuery{Sensors: []string{"w"}, Ascending: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs.Events {
		got = append(got, fmt.Sprintf("%s %d %d", e.Type, e.DeviceID, e.PeerID))
	}
	slices.Sort(got)
	// The merge event names the surviving device twice: the device it
	// names first is gone, its records are the survivor's.
	if want := []string{"device_merged 2 2", "new_connection 5 2", "new_device 5 0"}; !slices.Equal(got, want) {
		t.Errorf("stored events %q, want %q", got, want)
	}
}

// evidenceStore fails the first down calls of PutEvidenceBatch and
// refuses as invalid the evidence of alert refuse.
type evidenceStore struct {
	store.Store
	down    int
	refuse  string
	batches int
}

func (e *evidenceStore) PutEvidenceBatch(ctx context.Context, evs []store.Evidence) error {
	e.batches++
	if e.down > 0 {
		e.down--
		return errDown
	}
	for _, ev := range evs {
		if ev.AlertID == e.refuse {
			return fmt.Errorf("%w: evidence of %s", store.ErrInvalid, ev.AlertID)
		}
	}
	return e.Store.PutEvidenceBatch(ctx, evs)
}

func (e *evidenceStore) PutEvidence(ctx context.Context, alertID string, pcapng []byte) error {
	if alertID == e.refuse {
		return fmt.Errorf("%w: evidence of %s", store.ErrInvalid, alertID)
	}
	return e.Store.PutEvidence(ctx, alertID, pcapng)
}

// TestWriterEvidence: the writer stores the evidence of a batch of alerts
// in one call. When the store fails, the alerts are stored all the same
// and their evidence is kept and stored by a later flush; evidence the
// store refuses is dropped and counted, the rest of its batch stored.
func TestWriterEvidence(t *testing.T) {
	t0 := simulate.DefaultStart
	pkt := evidence.Packet{Flow: 1, Timestamp: t0, LinkType: layers.LinkTypeEthernet, Data: make([]byte, 60), Length: 60}
	tests := []struct {
		name         string
		down         int
		refuse       string
		failedFlush  bool
		batches      int // PutEvidenceBatch calls, in both flushes
		withEvidence []string
		errors       uint64
	}{
		{"one batch", 0, "", false, 1, []string{"a-1", "a-2", "a-3"}, 0},
		{"store down once", 1, "", true, 2, []string{"a-1", "a-2", "a-3"}, 1},
		{"one file refused", 0, "a-2", false, 1, []string{"a-1", "a-3"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			es := &evidenceStore{Store: openStore(t, filepath.Join(t.TempDir(), "w.db")), down: tt.down, refuse: tt.refuse}
			m := NewMetrics()
			w := &writer{st: es, sensor: "w", actor: "test", log: slog.New(slog.DiscardHandler), m: m, base: baseline.New(0),
				state: &State{Files: map[string]FileState{}}, batchSize: 10, interval: time.Second, alerts: map[string]*pendingAlert{}}
			ids := []string{"a-1", "a-2", "a-3"}
			for _, id := range ids {
				w.add(&alert.Alert{ID: id, Type: "s7comm.plc_stop", Severity: alert.High, Engine: alert.Operational, Status: alert.New, Sensor: "w",
					FirstDetection: t0, LastDetection: t0, Count: 1, Packets: []evidence.Packet{pkt}})
			}
			err := w.flush(ctx)
			if (err != nil) != tt.failedFlush {
				t.Fatalf("first flush: %v; want failed %v", err, tt.failedFlush)
			}
			for _, id := range ids {
				if _, err := es.Alert(ctx, id); err != nil {
					t.Errorf("alert %s after the first flush: %v; want stored", id, err)
				}
			}
			if err := w.flush(ctx); err != nil {
				t.Fatalf("second flush: %v", err)
			}
			var got []string
			for _, id := range ids {
				if _, err := es.Evidence(ctx, id); err == nil {
					got = append(got, id)
				}
			}
			if !slices.Equal(got, tt.withEvidence) || es.batches != tt.batches || len(w.evidence) != 0 {
				t.Errorf("evidence stored for %q in %d batches, %d pending; want %q in %d", got, es.batches, len(w.evidence), tt.withEvidence, tt.batches)
			}
			if n := m.storeErrors.Load(); n != tt.errors {
				t.Errorf("store errors = %d, want %d", n, tt.errors)
			}
		})
	}
}

package sensor

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/evidence"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// Items the pipeline goroutine hands the writer, besides *alert.Alert
// copies and *inventory.Snapshot.
type (
	// eventsItem: timeline events, whose DeviceID and PeerID are IDs of
	// the run's inventory, and the keys (inventory.Device.Key) of the
	// devices they name that the inventory still holds.
	eventsItem struct {
		events []store.Event
		keys   map[inventory.DeviceID]string
	}
	// modeItem: the detector switched mode at capture time at.
	modeItem struct {
		mode store.SensorMode
		at   time.Time
	}
	// learnStartItem: learning started at this capture time.
	learnStartItem time.Time
	// fileItem: everything before it came from files up to and including
	// this one, which was read to its end.
	fileItem struct {
		path string
		st   FileState
	}
)

// pendingAlert is an alert waiting for the store, and the packets of its
// evidence.
type pendingAlert struct {
	a       *alert.Alert
	packets []evidence.Packet
}

// writer batches what the pipeline found into the store. It runs on its
// own goroutine and owns everything below.
type writer struct {
	st        store.Store
	sensor    string
	actor     string
	log       *slog.Logger
	m         *Metrics
	base      *baseline.Baseline
	sup       *store.Suppressor
	statePath string
	state     *State

	batchSize    int
	interval     time.Duration
	baseInterval time.Duration
	timeout      time.Duration

	in   chan any
	done chan error
	// stop is closed when the sensor stops: from then on the writer takes
	// everything it is handed, so that the pipeline can finish, and
	// gives up on a failing store after timeout.
	stop <-chan struct{}

	order    []string
	alerts   map[string]*pendingAlert
	evidence []*pendingAlert // committed alerts whose packets are not stored yet
	events   []store.Event
	snap     *inventory.Snapshot
	baseDue  bool
	mode     store.SensorMode
	files    []fileItem
	dirty    bool // state changed since saved

	// The store keeps device IDs of its own, by device key, that outlive
	// this run's inventory IDs (store.Store.DeviceIDs); the writer stores
	// devices, connections and events under those. keyOf and storeID
	// cache what the run learned, so that known devices cost no query.
	keyOf   map[inventory.DeviceID]string // the key of each inventory ID
	storeID map[string]inventory.DeviceID // the store ID of each key; 0 for a key the store refuses
	// moves are the key changes of merged devices (device_merged events)
	// the store has not followed yet (store.Store.RekeyDevices).
	moves []store.KeyMove

	failures int
	retryAt  time.Time
	lastBase time.Time
	lastSeen time.Time
	lastSup  time.Time
}

// maxBacklog is how many alerts may wait for a failing store, in batches,
// before the writer stops taking more (and the pipeline waits).
const maxBacklog = 50

func (w *writer) run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	now := time.Now()
	w.lastBase, w.lastSeen, w.lastSup = now, now, now
	stopping := false
	for {
		in := w.in
		if !stopping && (len(w.order) >= maxBacklog*w.batchSize || len(w.events) >= store.MaxBatch*5) {
			in = nil // backpressure until the store takes the backlog
		}
		select {
		case <-w.stop:
			stopping, w.stop = true, nil
		case it, ok := <-in:
			if !ok {
				w.done <- w.close(ctx)
				return
			}
			if w.add(it) {
				w.tryFlush(ctx, time.Now())
			}
		case now := <-t.C:
			w.periodic(ctx, now)
			w.tryFlush(ctx, now)
		}
	}
}

// add takes an item; it reports whether a flush is due now.
func (w *writer) add(it any) bool {
	switch v := it.(type) {
	case *alert.Alert:
		p := w.alerts[v.ID]
		if p == nil {
			p = &pendingAlert{}
			w.alerts[v.ID] = p
			w.order = append(w.order, v.ID)
		}
		if len(v.Packets) > 0 {
			p.packets = v.Packets
			v.Packets = nil
		}
		p.a = v
		return len(w.order) >= w.batchSize
	case eventsItem:
		for id, k := range v.keys {
			w.setKey(id, k)
		}
		for i := range v.events {
			w.follow(&v.events[i])
		}
		w.events = append(w.events, v.events...)
		return len(w.events) >= store.MaxBatch
	case *inventory.Snapshot:
		w.snap = v
		for i := range v.Devices {
			w.setKey(v.Devices[i].ID, v.Devices[i].Key())
		}
	case modeItem:
		w.mode = v.mode
		w.baseDue = true
		w.events = append(w.events, store.Event{Time: v.at, Sensor: w.sensor, Type: "mode_change",
			Detail: "learning ended; the sensor is " + string(v.mode)})
		return true
	case learnStartItem:
		if w.state.LearnStart.IsZero() {
			w.state.LearnStart = time.Time(v).UTC()
			w.dirty = true
		}
		return true
	case fileItem:
		w.files = append(w.files, v)
		return true
	}
	return false
}

// periodic schedules the slow work: the baseline, the sensor's last seen
// time, the exclusion rules and their counts.
func (w *writer) periodic(ctx context.Context, now time.Time) {
	if w.baseInterval > 0 && now.Sub(w.lastBase) >= w.baseInterval {
		w.baseDue = true
	}
	if now.Sub(w.lastSeen) >= 10*time.Second {
		w.lastSeen = now
		if err := w.st.SensorSeen(ctx, w.sensor, now.UTC()); err != nil {
			w.fail("recording the sensor's last contact", err)
		}
	}
	if w.sup != nil && now.Sub(w.lastSup) >= 30*time.Second {
		w.lastSup = now
		if err := w.sup.Flush(ctx); err != nil {
			w.fail("writing suppression counts", err)
		}
		if err := w.sup.Reload(ctx); err != nil {
			w.fail("reloading exclusion rules", err)
		}
	}
}

// tryFlush flushes unless a failure asked to wait.
func (w *writer) tryFlush(ctx context.Context, now time.Time) {
	if now.Before(w.retryAt) {
		return
	}
	if err := w.flush(ctx); err != nil {
		w.failures++
		wait := min(w.interval<<min(w.failures, 8), 30*time.Second)
		w.retryAt = now.Add(wait)
		w.log.Warn("store write failed; retrying", "err", err, "retry_in", wait.String())
		return
	}
	w.failures = 0
}

// close writes everything left, retrying for up to the shutdown timeout.
func (w *writer) close(ctx context.Context) error {
	w.baseDue = true
	deadline := time.Now().Add(w.timeout)
	var err error
	for {
		if err = w.flush(ctx); err == nil {
			break
		}
		w.log.Warn("store write failed at shutdown; retrying", "err", err)
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if w.sup != nil {
		if serr := w.sup.Flush(ctx); serr != nil {
			w.fail("writing suppression counts", serr)
		}
	}
	if serr := w.st.SensorSeen(ctx, w.sensor, time.Now().UTC()); serr != nil {
		w.fail("recording the sensor's last contact", serr)
	}
	if err != nil {
		return fmt.Errorf("sensor: giving up writing to the store: %d alerts, %d events not stored: %w", len(w.order), len(w.events), err)
	}
	return nil
}

// fail counts and logs a failed write that is not retried.
func (w *writer) fail(what string, err error) {
	w.m.storeErrors.Add(1)
	w.log.Warn("store: "+what, "err", err)
}

// flush writes everything pending in order: alerts and their evidence,
// the key changes of merged devices, events, the inventory, the baseline,
// the mode, and last the record of finished files, which is only written
// once all before it is stored.
func (w *writer) flush(ctx context.Context) error {
	if err := w.flushAlerts(ctx); err != nil {
		return err
	}
	if err := w.flushEvidence(ctx); err != nil {
		return err
	}
	if err := w.rekey(ctx); err != nil {
		return w.counted(err)
	}
	if err := w.resolveIDs(ctx); err != nil {
		return w.counted(err)
	}
	for len(w.events) > 0 {
		n := min(len(w.events), store.MaxBatch)
		if err := w.putEvents(ctx, w.storeEvents(w.events[:n])); err != nil {
			return w.counted(fmt.Errorf("storing events: %w", err))
		}
		w.events = w.events[n:]
	}
	w.events = nil
	if w.snap != nil {
		if err := w.putSnapshot(ctx, w.snap); err != nil {
			return w.counted(err)
		}
		w.snap = nil
	}
	if w.baseDue {
		if err := w.putBaseline(ctx); err != nil {
			return w.counted(err)
		}
		w.baseDue = false
		w.lastBase = time.Now()
	}
	if w.mode != "" {
		if err := w.st.SetSensorMode(ctx, w.sensor, w.mode, w.actor); err != nil {
			return w.counted(fmt.Errorf("storing the sensor's mode: %w", err))
		}
		w.log.Info("sensor mode stored", "mode", string(w.mode))
		w.mode = ""
	}
	for _, f := range w.files {
		w.state.Files[f.path] = f.st
		w.dirty = true
	}
	if w.dirty {
		if err := w.state.Save(w.statePath); err != nil {
			return w.counted(err)
		}
		for _, f := range w.files {
			w.log.Info("file committed", "path", f.path, "packets", f.st.Packets)
		}
		w.files = w.files[:0]
		w.dirty = false
	}
	return nil
}

func (w *writer) counted(err error) error {
	w.m.storeErrors.Add(1)
	return err
}

// flushAlerts writes the pending alerts in batches, oldest first, and logs
// each committed batch.
func (w *writer) flushAlerts(ctx context.Context) error {
	for len(w.order) > 0 {
		n := min(len(w.order), w.batchSize, store.MaxBatch)
		batch := make([]*alert.Alert, n)
		for i, id := range w.order[:n] {
			batch[i] = w.alerts[id].a
		}
		err := w.st.PutAlerts(ctx, batch)
		if errors.Is(err, store.ErrInvalid) {
			err = w.putOneByOne(ctx, batch)
		}
		if err != nil {
			return w.counted(fmt.Errorf("storing %d alerts: %w", n, err))
		}
		w.m.batches.Add(1)
		debug := w.log.Enabled(ctx, slog.LevelDebug)
		for _, id := range w.order[:n] {
			p := w.alerts[id]
			if debug {
				w.log.Debug("alert committed", "id", id, "type", p.a.Type, "count", p.a.Count)
			}
			if len(p.packets) > 0 {
				w.evidence = append(w.evidence, p)
			}
			delete(w.alerts, id)
		}
		w.log.Info("alerts committed", "n", n, "last_id", w.order[n-1])
		clear(w.order[:n])
		w.order = w.order[n:]
	}
	w.order = nil
	return nil
}

// putOneByOne stores a batch the store refused as invalid alert by alert,
// dropping (and logging) the invalid ones.
func (w *writer) putOneByOne(ctx context.Context, batch []*alert.Alert) error {
	for _, a := range batch {
		err := w.st.PutAlerts(ctx, []*alert.Alert{a})
		if errors.Is(err, store.ErrInvalid) {
			w.fail("dropping an alert the store refuses", err)
			if p := w.alerts[a.ID]; p != nil {
				p.packets = nil
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Bounds on one PutEvidenceBatch call.
const (
	maxEvidenceFiles = 256
	maxEvidenceBytes = 64 << 20
)

// flushEvidence stores the packets of committed alerts as pcapng, unless
// the alert already has evidence (a file read again after a restart), a
// batch of files at a time. When the store fails, nothing of the batch is
// stored and it stays pending, to be retried with the next flush; the
// alerts, committed before, are stored either way.
func (w *writer) flushEvidence(ctx context.Context) error {
	for len(w.evidence) > 0 {
		var batch []store.Evidence
		var size, n int // n: pending alerts the batch accounts for
		var taken map[string]bool
		for ; n < len(w.evidence) && len(batch) < maxEvidenceFiles && size < maxEvidenceBytes; n++ {
			p := w.evidence[n]
			if taken[p.a.ID] {
				continue // the alert's first packets win, as they would stored one by one
			}
			rec, err := w.st.Alert(ctx, p.a.ID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				continue // dropped as invalid
			case err != nil:
				return w.counted(fmt.Errorf("reading alert %s: %w", p.a.ID, err))
			case rec.Pcap != nil:
				continue
			}
			var buf bytes.Buffer
			opts := evidence.WriteOptions{Comment: p.a.Type + ": " + p.a.Title, Application: "otwatch"}
			if err := evidence.WritePcapng(&buf, p.packets, opts); err != nil {
				w.fail("encoding evidence of alert "+p.a.ID, err)
				continue
			}
			if taken == nil {
				taken = map[string]bool{}
			}
			taken[p.a.ID] = true
			batch = append(batch, store.Evidence{AlertID: p.a.ID, Pcapng: buf.Bytes()})
			size += buf.Len()
		}
		if err := w.putEvidence(ctx, batch); err != nil {
			return w.counted(err)
		}
		clear(w.evidence[:n])
		w.evidence = w.evidence[n:]
	}
	w.evidence = nil
	return nil
}

// putEvidence stores a batch of evidence files in one call. If the store
// refuses the batch as invalid or for an alert it does not have, the
// files are stored one by one, dropping (and logging) those it refuses.
func (w *writer) putEvidence(ctx context.Context, batch []store.Evidence) error {
	if len(batch) == 0 {
		return nil
	}
	err := w.st.PutEvidenceBatch(ctx, batch)
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrInvalid) && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("storing evidence of %d alerts: %w", len(batch), err)
	}
	for _, e := range batch {
		err := w.st.PutEvidence(ctx, e.AlertID, e.Pcapng)
		if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrNotFound) {
			w.fail("storing evidence of alert "+e.AlertID, err)
			continue
		}
		if err != nil {
			return fmt.Errorf("storing evidence of alert %s: %w", e.AlertID, err)
		}
	}
	return nil
}

// putEvents stores events, dropping (and logging) invalid ones if the
// store refuses the batch.
func (w *writer) putEvents(ctx context.Context, evs []store.Event) error {
	err := w.st.PutEvents(ctx, evs)
	if !errors.Is(err, store.ErrInvalid) {
		return err
	}
	for i := range evs {
		err := w.st.PutEvents(ctx, evs[i:i+1])
		if errors.Is(err, store.ErrInvalid) {
			w.fail("dropping an event the store refuses", err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// putSnapshot stores the devices and connections of an inventory
// snapshot, under their store IDs.
func (w *writer) putSnapshot(ctx context.Context, s *inventory.Snapshot) error {
	devs, conns := w.storeSnapshot(s)
	for ds := devs; len(ds) > 0; {
		n := min(len(ds), store.MaxBatch)
		if err := w.st.PutDevices(ctx, w.sensor, ds[:n]); err != nil {
			return fmt.Errorf("storing devices: %w", err)
		}
		ds = ds[n:]
	}
	for cs := conns; len(cs) > 0; {
		n := min(len(cs), store.MaxBatch)
		if err := w.st.PutConnections(ctx, w.sensor, cs[:n]); err != nil {
			return fmt.Errorf("storing connections: %w", err)
		}
		cs = cs[n:]
	}
	return nil
}

// putBaseline stores every baseline record.
func (w *writer) putBaseline(ctx context.Context) error {
	recs := w.base.Records()
	for rs := recs; len(rs) > 0; {
		n := min(len(rs), store.MaxBatch)
		if err := w.st.PutBaseline(ctx, w.sensor, rs[:n]); err != nil {
			return fmt.Errorf("storing the baseline: %w", err)
		}
		rs = rs[n:]
	}
	w.log.Debug("baseline stored", "entries", len(recs))
	return nil
}

// setKey records the key of a device of the run's inventory.
func (w *writer) setKey(id inventory.DeviceID, key string) {
	if w.keyOf == nil {
		w.keyOf = map[inventory.DeviceID]string{}
	}
	w.keyOf[id] = key
}

// follow takes note of a device_merged event: the run's inventory folded
// device DeviceID, now gone, into device PeerID. The store is to follow
// the old device's key to the surviving device's (rekey), and the old
// inventory ID stands from now on for the surviving device, as the
// store's records of the old device become the surviving device's.
func (w *writer) follow(e *store.Event) {
	if e.Type != string(inventory.EventMerged) || e.DeviceID == 0 || e.PeerID == 0 {
		return
	}
	to, ok := w.keyOf[e.PeerID]
	if !ok {
		return
	}
	if from, ok := w.keyOf[e.DeviceID]; ok && from != to && store.CheckDeviceKeys(w.sensor, []string{from, to}) == nil {
		w.moves = append(w.moves, store.KeyMove{From: from, To: to})
	}
	w.setKey(e.DeviceID, to)
}

// rekey has the store follow the key changes of merged devices, in the
// order of the merges, before their events and the inventory are stored.
// The store IDs of the keys involved are forgotten: the old key has none
// any more, and the surviving key has the old key's ID or its own, which
// resolveIDs asks the store for.
func (w *writer) rekey(ctx context.Context) error {
	for len(w.moves) > 0 {
		n := min(len(w.moves), store.MaxBatch)
		err := w.st.RekeyDevices(ctx, w.sensor, w.moves[:n])
		if errors.Is(err, store.ErrInvalid) {
			w.fail("dropping device key changes the store refuses", err)
		} else if err != nil {
			return fmt.Errorf("moving the keys of %d merged devices: %w", n, err)
		}
		for _, m := range w.moves[:n] {
			delete(w.storeID, m.From)
			delete(w.storeID, m.To)
		}
		w.moves = w.moves[n:]
	}
	w.moves = nil
	return nil
}

// resolveIDs asks the store for the IDs of the keys, not asked before, of
// the devices the pending snapshot and events name, in the order of their
// inventory IDs (so that a new store numbers devices as the inventory
// does). A key the store refuses is recorded with ID 0 and its device is
// left out.
func (w *writer) resolveIDs(ctx context.Context) error {
	if w.storeID == nil {
		w.storeID = map[string]inventory.DeviceID{}
	}
	type need struct {
		id  inventory.DeviceID
		key string
	}
	var needs []need
	var asked map[string]bool
	add := func(id inventory.DeviceID, key string) {
		if _, ok := w.storeID[key]; ok || key == "" || asked[key] {
			return
		}
		if err := store.CheckDeviceKeys(w.sensor, []string{key}); err != nil {
			w.storeID[key] = 0
			w.fail("leaving out a device whose key the store refuses", err)
			return
		}
		if asked == nil {
			asked = map[string]bool{}
		}
		asked[key] = true
		needs = append(needs, need{id, key})
	}
	if w.snap != nil {
		for i := range w.snap.Devices {
			add(w.snap.Devices[i].ID, w.snap.Devices[i].Key())
		}
	}
	for i := range w.events {
		for _, id := range [2]inventory.DeviceID{w.events[i].DeviceID, w.events[i].PeerID} {
			if id != 0 {
				add(id, w.keyOf[id])
			}
		}
	}
	if len(needs) == 0 {
		return nil
	}
	if err := w.adopt(ctx, asked); err != nil {
		return err
	}
	slices.SortStableFunc(needs, func(a, b need) int { return cmp.Compare(a.id, b.id) })
	keys := make([]string, len(needs))
	for i := range needs {
		keys[i] = needs[i].key
	}
	for len(keys) > 0 {
		n := min(len(keys), store.MaxBatch)
		ids, err := w.st.DeviceIDs(ctx, w.sensor, keys[:n])
		if err != nil {
			return fmt.Errorf("resolving device ids: %w", err)
		}
		for i, k := range keys[:n] {
			w.storeID[k] = ids[i]
		}
		keys = keys[n:]
	}
	w.log.Debug("device ids resolved", "new", len(needs), "known", len(w.storeID))
	return nil
}

// adopt has each device of the pending snapshot known by a MAC asked
// for the first time (in asked) take over the store's records of its IP
// addresses as devices of their own: an earlier run that saw the host
// without its MAC (a capture without link layer, a host behind a span of
// IP-only frames) stored it by IP, and this run's inventory has nothing
// to merge. The store renames an IP's record to the MAC, keeping its ID,
// or folds it into the MAC's record; an IP it does not know is left
// alone, as is one a device of this run is known by.
func (w *writer) adopt(ctx context.Context, asked map[string]bool) error {
	if w.snap == nil {
		return nil
	}
	var moves []store.KeyMove
	for i := range w.snap.Devices {
		d := &w.snap.Devices[i]
		if d.MAC == "" || !asked[d.MAC] {
			continue
		}
		for _, ip := range d.IPs {
			if _, known := w.storeID[ip]; known || asked[ip] || ip == d.MAC {
				continue
			}
			if store.CheckDeviceKeys(w.sensor, []string{ip, d.MAC}) == nil {
				moves = append(moves, store.KeyMove{From: ip, To: d.MAC})
			}
		}
	}
	for len(moves) > 0 {
		n := min(len(moves), store.MaxBatch)
		if err := w.st.RekeyDevices(ctx, w.sensor, moves[:n]); errors.Is(err, store.ErrInvalid) {
			w.fail("leaving stored IP-only devices apart from their MAC's", err)
		} else if err != nil {
			return fmt.Errorf("moving %d IP-only devices to their MACs: %w", n, err)
		}
		moves = moves[n:]
	}
	return nil
}

// storeIDOf returns the store ID of a device of the run's inventory, 0
// when unknown.
func (w *writer) storeIDOf(id inventory.DeviceID) inventory.DeviceID {
	if id == 0 {
		return 0
	}
	k, ok := w.keyOf[id]
	if !ok {
		return 0
	}
	return w.storeID[k]
}

// storeEvents returns a copy of evs naming devices by their store IDs.
func (w *writer) storeEvents(evs []store.Event) []store.Event {
	out := slices.Clone(evs)
	for i := range out {
		out[i].DeviceID, out[i].PeerID = w.storeIDOf(out[i].DeviceID), w.storeIDOf(out[i].PeerID)
	}
	return out
}

// storeSnapshot returns the devices and connections of s under their
// store IDs. Two devices of the inventory with one key (a routed device
// seen through two ports of its router, until the inventory merges them)
// are one device of the store: the one seen last is kept, and their
// connections are merged likewise.
func (w *writer) storeSnapshot(s *inventory.Snapshot) ([]inventory.Device, []inventory.Connection) {
	ids := make(map[inventory.DeviceID]inventory.DeviceID, len(s.Devices))
	at := make(map[inventory.DeviceID]int, len(s.Devices)) // index in devs by store ID
	devs := make([]inventory.Device, 0, len(s.Devices))
	merged := false
	for i := range s.Devices {
		d := s.Devices[i]
		id := w.storeID[d.Key()]
		if id == 0 {
			continue
		}
		ids[d.ID] = id
		d.ID = id
		if j, dup := at[id]; dup {
			merged = true
			if d.LastSeen.After(devs[j].LastSeen) {
				devs[j] = d
			}
			continue
		}
		at[id] = len(devs)
		devs = append(devs, d)
	}
	for i := range devs {
		if r := devs[i].RoutedBy; r != 0 {
			devs[i].RoutedBy = ids[r]
			if devs[i].RoutedBy == 0 {
				devs[i].RoutedBy = w.storeIDOf(r)
			}
		}
	}
	type connKey struct {
		client, server                inventory.DeviceID
		protocol, transport, relation string
		port                          uint16
	}
	var seen map[connKey]int
	if merged {
		seen = map[connKey]int{}
	}
	conns := make([]inventory.Connection, 0, len(s.Connections))
	for _, c := range s.Connections {
		c.Client, c.Server = ids[c.Client], ids[c.Server]
		if c.Client == 0 || c.Server == 0 || c.Client == c.Server {
			continue
		}
		if merged {
			k := connKey{c.Client, c.Server, c.Protocol, c.Transport, c.Relation, c.Port}
			if j, dup := seen[k]; dup {
				if c.Last.After(conns[j].Last) {
					conns[j] = c
				}
				continue
			}
			seen[k] = len(conns)
		}
		conns = append(conns, c)
	}
	return devs, conns
}

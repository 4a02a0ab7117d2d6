package sensor

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/simulate"
	"github.com/otwatch/otwatch/internal/store"
)

// link is a connection named by the keys of its devices.
type link struct {
	client, server, protocol, transport, relation string
	port                                          uint16
}

// links returns the connections of a snapshot by the keys of their
// devices.
func links(t *testing.T, snap *inventory.Snapshot) map[link]bool {
	t.Helper()
	out := map[link]bool{}
	for _, c := range snap.Connections {
		cl, sv := snap.Device(c.Client), snap.Device(c.Server)
		if cl == nil || sv == nil {
			t.Fatalf("connection %d→%d of the reference inventory names an unknown device", c.Client, c.Server)
		}
		out[link{cl.Key(), sv.Key(), c.Protocol, c.Transport, c.Relation, c.Port}] = true
	}
	return out
}

// storedInventory returns a sensor's stored devices by ID and its stored
// connections by the keys of their devices.
func storedInventory(t *testing.T, st store.Store, sensor string) (map[inventory.DeviceID]*store.DeviceRecord, map[link]bool) {
	t.Helper()
	ctx := context.Background()
	devs := map[inventory.DeviceID]*store.DeviceRecord{}
	q := store.DeviceQuery{Sensors: []string{sensor}, Limit: store.MaxLimit}
	for {
		p, err := st.Devices(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Devices {
			if _, dup := devs[d.ID]; dup {
				t.Fatalf("device %d stored twice", d.ID)
			}
			devs[d.ID] = d
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	conns, err := st.Connections(ctx, sensor, 0)
	if err != nil {
		t.Fatal(err)
	}
	ls := map[link]bool{}
	for _, c := range conns {
		cl, sv := devs[c.Client], devs[c.Server]
		if cl == nil || sv == nil {
			t.Errorf("stored connection %d→%d %s/%d names a device not stored", c.Client, c.Server, c.Protocol, c.Port)
			continue
		}
		ls[link{cl.Key(), sv.Key(), c.Protocol, c.Transport, c.Relation, c.Port}] = true
	}
	return devs, ls
}

// TestRunDeviceIDsAcrossRestart runs a sensor over one capture, then a new
// sensor over the same store with a capture in which the same hosts (and
// more) appear in another order, so that the second run's inventory
// numbers them differently. Every device keeps the ID it was stored under
// (its page stays its page), and stored connections and events name the
// right devices.
func TestRunDeviceIDsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	const d = 3 * time.Minute
	pcapA, pcapB := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcap")
	simulateFile(t, pcapA, simulate.Options{Seed: 1, Start: simulate.DefaultStart, Duration: d})
	simulateFile(t, pcapB, simulate.Options{Seed: 2, Start: simulate.DefaultStart.Add(d), Duration: d, Cells: simulate.Cells()})
	st := openStore(t, filepath.Join(dir, "otwatch.db"))
	run := func(pcap string) *inventory.Snapshot {
		t.Helper()
		var logs logBuffer
		cfg := Config{Name: "line1", Store: st, Logger: logs.logger(), Files: []string{pcap}, StatePath: filepath.Join(dir, "state.json"),
			Learn: time.Minute}
		if err := Run(context.Background(), cfg); err != nil {
			t.Fatalf("Run over %s: %v", pcap, err)
		}
		ref := reference(t, "line1", time.Minute, "", pcap)
		ref.Inventory.Flush()
		return ref.Inventory.Snapshot()
	}

	refA := run(pcapA)
	first, linksA := storedInventory(t, st, "line1")
	keyOf := map[inventory.DeviceID]string{}
	for id, dv := range first {
		keyOf[id] = dv.Key()
	}
	refB := run(pcapB)
	after, stored := storedInventory(t, st, "line1")

	// The second run numbers the first run's hosts differently, or this
	// test shows nothing.
	renumbered := 0
	for i := range refB.Devices {
		if a := refA.Device(refB.Devices[i].ID); a != nil && a.Key() != refB.Devices[i].Key() {
			renumbered++
		}
	}
	if renumbered == 0 {
		t.Fatal("the second capture's inventory numbers the hosts as the first one's does")
	}

	for id, key := range keyOf {
		dv := after[id]
		switch {
		case dv == nil:
			t.Errorf("device %d (%s) of the first run is gone", id, key)
		case dv.Key() != key:
			t.Errorf("device %d was %s after the first run, is %s (%v) after the second", id, key, dv.Key(), dv.IPs)
		}
	}
	byKey := map[string]inventory.DeviceID{}
	for id, dv := range after {
		if other, dup := byKey[dv.Key()]; dup {
			t.Errorf("device %s stored as %d and %d", dv.Key(), other, id)
		}
		byKey[dv.Key()] = id
	}
	wantKeys := map[string]bool{}
	for _, snap := range []*inventory.Snapshot{refA, refB} {
		for i := range snap.Devices {
			wantKeys[snap.Devices[i].Key()] = true
		}
	}
	if got := slices.Sorted(maps.Keys(byKey)); fmt.Sprint(got) != fmt.Sprint(slices.Sorted(maps.Keys(wantKeys))) {
		t.Errorf("stored devices %v; the two inventories hold %v", got, slices.Sorted(maps.Keys(wantKeys)))
	}

	// Connections: the first run's, named by their devices, are still
	// stored; the second run's are added.
	want := links(t, refA)
	if !maps.Equal(linksA, want) {
		t.Errorf("after the first run, stored connections %v; the inventory holds %v", linksA, want)
	}
	maps.Copy(want, links(t, refB))
	for l := range want {
		if !stored[l] {
			t.Errorf("connection %+v not stored", l)
		}
	}
	for l := range stored {
		if !want[l] {
			t.Errorf("stored connection %+v is in neither inventory", l)
		}
	}

	// Events name their devices by address and by ID; both must be of the
	// same device.
	q := store.EventQuery{Sensors: []string{"line1"}, Limit: store.MaxLimit}
	checked := 0
	for {
		p, err := st.Events(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Events {
			for _, x := range []struct {
				addr string
				id   inventory.DeviceID
			}{{e.Device, e.DeviceID}, {e.Peer, e.PeerID}} {
				if x.id == 0 || x.addr == "" {
					continue
				}
				checked++
				dv := after[x.id]
				if dv == nil {
					t.Errorf("%s event at %v names %s as device %d, which is not stored", e.Type, e.Time, x.addr, x.id)
				} else if !slices.Contains(append([]string{dv.MAC, dv.Address}, dv.IPs...), x.addr) {
					t.Errorf("%s event at %v names %s as device %d, stored as %s %v", e.Type, e.Time, x.addr, x.id, dv.Key(), dv.IPs)
				}
			}
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if checked == 0 {
		t.Error("no stored event names a device")
	}
}

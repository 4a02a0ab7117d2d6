package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// ReopenFunc returns, for one test, an OpenFunc that opens one and the
// same store each time it is called: empty the first time, then holding
// what the stores it opened before wrote. The suite closes a store before
// it opens the next.
type ReopenFunc func(tb testing.TB) OpenFunc

// reopenSuite lists the subtests of what survives closing a store and
// opening it again, in the order RunReopen runs them.
var reopenSuite = []struct {
	name string
	fn   func(t *testing.T, reopen ReopenFunc)
}{
	{"DeviceIDs", testDeviceIDsReopen},
}

// RunReopen runs the conformance subtests of what a store keeps across
// closing and opening it again. Each subtest has a store of its own.
func RunReopen(t *testing.T, reopen ReopenFunc) {
	for _, tt := range reopenSuite {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, reopen) })
	}
}

// deviceIDStep is one call of DeviceIDs. want names the IDs the keys
// must get, per sensor: a name met before is the ID it got then, a new
// name a new ID, other than 0 and than every ID the sensor had before
// (given out by DeviceIDs or held by a device put with PutDevices).
type deviceIDStep struct {
	name    string
	reopen  bool                 // close the store and open it again first
	devices []inventory.DeviceID // put as devices of sensor first
	sensor  string
	keys    []string
	want    []string // nil: every key is new
	err     error
}

var deviceIDSteps = []deviceIDStep{
	{name: "new keys", sensor: "s1", keys: []string{"00:1b:1b:00:00:01", "10.0.0.5", "bacnet:3:10"}, want: []string{"a", "b", "c"}},
	{name: "known keys", sensor: "s1", keys: []string{"10.0.0.5", "00:1b:1b:00:00:01"}, want: []string{"b", "a"}},
	{name: "known, new and repeated", sensor: "s1", keys: []string{"00:1b:1b:00:00:02", "00:1b:1b:00:00:01", "00:1b:1b:00:00:02"},
		want: []string{"d", "a", "d"}},
	{name: "other sensor", sensor: "s2", keys: []string{"00:1b:1b:00:00:01", "00:1b:1b:00:00:03"}, want: []string{"a", "b"}},
	{name: "first sensor unchanged by the other", sensor: "s1", keys: []string{"00:1b:1b:00:00:03", "bacnet:3:10"}, want: []string{"e", "c"}},
	{name: "no keys", sensor: "s1", keys: []string{}, want: []string{}},
	{name: "IDs of stored devices are not given", devices: []inventory.DeviceID{3, 8}, sensor: "s3",
		keys: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, want: []string{"a", "b", "c"}},
	{name: "known keys after reopening", reopen: true, sensor: "s1",
		keys: []string{"bacnet:3:10", "00:1b:1b:00:00:02", "10.0.0.5", "00:1b:1b:00:00:01", "00:1b:1b:00:00:03"},
		want: []string{"c", "d", "b", "a", "e"}},
	{name: "new key after reopening", sensor: "s1", keys: []string{"fe80::1", "10.0.0.5"}, want: []string{"f", "b"}},
	{name: "other sensor after reopening", reopen: true, sensor: "s2", keys: []string{"00:1b:1b:00:00:03", "10.0.0.5", "00:1b:1b:00:00:01"},
		want: []string{"b", "c", "a"}},
	{name: "stored devices after reopening", sensor: "s3", keys: []string{"10.0.0.2", "10.0.0.4"}, want: []string{"b", "d"}},
	{name: "no sensor", sensor: "", keys: []string{"10.0.0.5"}, err: store.ErrInvalid},
	{name: "empty key", sensor: "s1", keys: []string{"10.0.0.9", ""}, err: store.ErrInvalid},
	{name: "too long key", sensor: "s1", keys: []string{strings.Repeat("k", store.MaxKeyLen+1)}, err: store.ErrInvalid},
	{name: "key not UTF-8", sensor: "s1", keys: []string{"10.0.0.9", "\xff\xfe"}, err: store.ErrInvalid},
	{name: "key with NUL", sensor: "s1", keys: []string{"10.0\x00.9"}, err: store.ErrInvalid},
	{name: "too many keys", sensor: "s1", keys: manyKeys(store.MaxBatch + 1), err: store.ErrInvalid},
	{name: "known and new after refused calls", sensor: "s1", keys: []string{"10.0.0.9", "00:1b:1b:00:00:01"}, want: []string{"g", "a"}},
	{name: "many new keys", sensor: "s4", keys: manyKeys(2000)}, // want: every key new
}

// manyKeys returns n distinct keys.
func manyKeys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff)
	}
	return out
}

// testDeviceIDs runs the steps on one store; a step that reopens the
// store keeps it open instead.
func testDeviceIDs(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	checkDeviceIDs(t, s, func() store.Store { return s })
}

// testDeviceIDsReopen runs the steps, closing the store and opening it
// again where a step says so.
func testDeviceIDsReopen(t *testing.T, reopen ReopenFunc) {
	open := reopen(t)
	opts := store.Options{EvidenceDir: t.TempDir()}
	cur := open(t, opts)
	t.Cleanup(func() { cur.Close() })
	checkDeviceIDs(t, cur, func() store.Store {
		if err := cur.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		cur = open(t, opts)
		return cur
	})
}

// checkDeviceIDs runs deviceIDSteps against s; reopen returns the store
// to go on with where a step reopens it.
func checkDeviceIDs(t *testing.T, s store.Store, reopen func() store.Store) {
	ctx := context.Background()
	named := map[string]map[string]inventory.DeviceID{} // by sensor, by name in the steps
	taken := map[string]map[inventory.DeviceID]bool{}   // by sensor
	for _, st := range deviceIDSteps {
		if st.reopen {
			s = reopen()
		}
		if named[st.sensor] == nil {
			named[st.sensor], taken[st.sensor] = map[string]inventory.DeviceID{}, map[inventory.DeviceID]bool{}
		}
		if len(st.devices) > 0 {
			devs := make([]inventory.Device, len(st.devices))
			for i, id := range st.devices {
				devs[i] = inventory.Device{ID: id, MAC: fmt.Sprintf("00:1b:1b:00:01:%02x", i), Purdue: -1, Type: inventory.TypeUnknown,
					FirstSeen: base, LastSeen: base}
				taken[st.sensor][id] = true
			}
			if err := s.PutDevices(ctx, st.sensor, devs); err != nil {
				t.Fatalf("%s: PutDevices: %v", st.name, err)
			}
		}
		got, err := s.DeviceIDs(ctx, st.sensor, st.keys)
		if st.err != nil {
			wantErr(t, st.name, err, st.err)
			continue
		}
		if err != nil {
			t.Fatalf("%s: DeviceIDs(%q, %d keys): %v", st.name, st.sensor, len(st.keys), err)
		}
		if len(got) != len(st.keys) {
			t.Fatalf("%s: DeviceIDs gave %d IDs for %d keys", st.name, len(got), len(st.keys))
		}
		want := st.want
		if want == nil {
			want = st.keys
		}
		fresh := map[string]inventory.DeviceID{} // names new in this step
		for i, name := range want {
			id := got[i]
			if old, ok := named[st.sensor][name]; ok {
				if id != old {
					t.Errorf("%s: key %q of %s has ID %d, want %d as before", st.name, st.keys[i], st.sensor, id, old)
				}
				continue
			}
			if f, ok := fresh[name]; ok {
				if id != f {
					t.Errorf("%s: repeated key %q of %s has IDs %d and %d", st.name, st.keys[i], st.sensor, f, id)
				}
				continue
			}
			if id == 0 || taken[st.sensor][id] {
				t.Errorf("%s: new key %q of %s has ID %d, given before or held by a stored device", st.name, st.keys[i], st.sensor, id)
			}
			fresh[name] = id
			taken[st.sensor][id] = true
		}
		for name, id := range fresh {
			named[st.sensor][name] = id
		}
	}
}

// UpgradeDeviceIDs checks that a database whose schema predates DeviceIDs
// keeps, once upgraded, the IDs of the devices stored in it: put stores
// devices of a sensor in the old schema, upgrade opens the database with
// the current one (the suite closes it). Where a sensor stored one key
// under several IDs, the device seen last keeps its ID; a new key gets an
// ID after every stored one.
func UpgradeDeviceIDs(t *testing.T, put func(sensor string, devs []inventory.Device), upgrade func() store.Store) {
	t.Helper()
	dev := func(id inventory.DeviceID, mac, addr, ip string, last time.Duration) inventory.Device {
		d := inventory.Device{ID: id, MAC: mac, Address: addr, Purdue: -1, Type: inventory.TypeUnknown,
			FirstSeen: base, LastSeen: base.Add(last), Name: `plc "7" \ ü`}
		if ip != "" {
			d.IPs = []string{ip, "10.9.9.9"}
		}
		return d
	}
	put("a", []inventory.Device{
		dev(1, "00:1b:1b:00:00:01", "", "10.0.0.1", time.Hour),
		dev(2, "00:1b:1b:00:00:02", "", "10.0.0.2", time.Hour),
		dev(3, "00:1b:1b:00:00:01", "", "10.0.0.1", 2*time.Hour), // the same device, numbered anew later
		dev(4, "", "", "10.0.0.4", time.Hour),
		dev(5, "", "bacnet:3:10", "", time.Hour),
		dev(9, "00:1b:1b:00:00:09", "", "", time.Hour),
	})
	put("b", []inventory.Device{dev(1, "00:1b:1b:00:00:02", "", "", time.Hour)})
	s := upgrade()
	t.Cleanup(func() { s.Close() })
	tests := []struct {
		sensor string
		keys   []string
		want   []inventory.DeviceID
	}{
		{"a", []string{"00:1b:1b:00:00:01", "00:1b:1b:00:00:02", "10.0.0.4", "bacnet:3:10", "00:1b:1b:00:00:09"}, []inventory.DeviceID{3, 2, 4, 5, 9}},
		{"a", []string{"10.0.0.1", "00:1b:1b:00:00:02"}, []inventory.DeviceID{10, 2}}, // an IP of a device known by MAC is a new key
		{"b", []string{"00:1b:1b:00:00:02", "00:1b:1b:00:00:01"}, []inventory.DeviceID{1, 2}},
	}
	for _, tt := range tests {
		got, err := s.DeviceIDs(context.Background(), tt.sensor, tt.keys)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("after upgrade, DeviceIDs(%q, %q) = %v, %v; want %v", tt.sensor, tt.keys, got, err, tt.want)
		}
	}
}

// testDeviceIDsConcurrent resolves overlapping keys from several
// goroutines at once: every call must give a key the same ID, and
// different keys different IDs.
func testDeviceIDsConcurrent(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	keys := manyKeys(60)
	const workers = 6
	got := make([][]inventory.DeviceID, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			// Each worker asks for an overlapping window of keys, in an
			// order of its own.
			ks := slices.Clone(keys[w*5 : w*5+30])
			if w%2 == 1 {
				slices.Reverse(ks)
			}
			ids, err := s.DeviceIDs(ctx, "s1", ks)
			errs[w] = err
			got[w] = make([]inventory.DeviceID, len(keys))
			for i, id := range ids {
				got[w][slices.Index(keys, ks[i])] = id
			}
		})
	}
	wg.Wait()
	want := make([]inventory.DeviceID, len(keys))
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("worker %d: DeviceIDs: %v", w, errs[w])
		}
		for i, id := range got[w] {
			switch {
			case id == 0:
			case want[i] == 0:
				want[i] = id
			case want[i] != id:
				t.Errorf("key %s got IDs %d and %d", keys[i], want[i], id)
			}
		}
	}
	owner := map[inventory.DeviceID]string{}
	for i, id := range want {
		if id == 0 {
			continue
		}
		if k, dup := owner[id]; dup {
			t.Errorf("keys %s and %s both got ID %d", k, keys[i], id)
		}
		owner[id] = keys[i]
	}
	// Asked again, every key keeps its ID.
	again, err := s.DeviceIDs(ctx, "s1", keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range want {
		if id != 0 && again[i] != id {
			t.Errorf("key %s has ID %d, had %d", keys[i], again[i], id)
		}
	}
}

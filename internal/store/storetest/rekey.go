package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// Device keys of the RekeyDevices test.
const (
	rkIP5    = "10.0.0.5"
	rkIP6    = "10.0.0.6"
	rkIP7    = "10.0.0.7"
	rkMACA   = "00:1b:1b:00:00:0a"
	rkMACB   = "00:1b:1b:00:00:0b"
	rkMACC   = "00:1b:1b:00:00:0c"
	rkMACD   = "00:1b:1b:00:00:0d"
	rkRouted = "bacnet:3:10"
)

// rkDevice returns the device known by key, with ID id.
func rkDevice(key string, id, routedBy inventory.DeviceID) inventory.Device {
	d := inventory.Device{ID: id, Purdue: -1, Type: inventory.TypeUnknown, FirstSeen: base, LastSeen: base.Add(time.Hour), RoutedBy: routedBy}
	switch {
	case strings.HasPrefix(key, "bacnet:"):
		d.Address = key
	case strings.Contains(key, ":"):
		d.MAC, d.IPs = key, []string{"10.1.0." + key[len(key)-1:]}
	default:
		d.IPs = []string{key}
	}
	return d
}

// rkConnection is a stored connection by the keys of its devices, with
// the counters RekeyDevices merges.
type rkConnection struct {
	client, server, protocol, relation string
	port                               uint16
	first, last                        time.Duration // after base
	pkts, bytes                        uint64        // to the server; half as many to the client
	classes                            uint16
	requests                           uint32
	interval                           float64
}

func (c rkConnection) conn(id map[string]inventory.DeviceID) inventory.Connection {
	out := inventory.Connection{Client: id[c.client], Server: id[c.server], Protocol: c.protocol, Relation: c.relation, Port: c.port,
		First: base.Add(c.first), Last: base.Add(c.last), PacketsTo: c.pkts, PacketsFr: c.pkts / 2, BytesTo: c.bytes, BytesFr: c.bytes / 2,
		ClassMask: c.classes, Requests: c.requests, Interval: c.interval, Regular: c.interval > 0}
	if c.relation == "" {
		out.Transport = "tcp"
	}
	for k := dissect.Class(0); k < 16; k++ {
		if c.classes&(1<<k) != 0 {
			out.Classes = append(out.Classes, k.String())
		}
	}
	return out
}

// mv is a key move.
func mv(from, to string) store.KeyMove { return store.KeyMove{From: from, To: to} }

// rkEvent is a stored event by the keys of its devices.
type rkEvent struct {
	typ, device, peer string
	at                time.Duration // after base
}

// testRekeyDevices moves device keys of one sensor: a key the store does
// not know yet takes the ID of the key it replaces; a known one takes in
// the connections, events and routed devices of the device it replaces,
// which is deleted. Invalid calls change nothing, and another sensor's
// devices with the same keys and IDs are left alone.
func testRekeyDevices(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	keys := []string{rkIP5, rkMACA, rkMACB, rkIP6, rkIP7, rkRouted}
	conns := []rkConnection{
		{client: rkIP5, server: rkMACB, protocol: "modbus", port: 502, first: 0, last: time.Hour, pkts: 10, bytes: 1000, classes: 1, requests: 3, interval: 1},
		{client: rkMACA, server: rkMACB, protocol: "modbus", port: 502, first: 30 * time.Minute, last: 2 * time.Hour, pkts: 4, bytes: 400,
			classes: 2, requests: 7, interval: 2},
		{client: rkIP5, server: rkMACA, protocol: "s7comm", port: 102, first: 0, last: time.Hour, pkts: 2, bytes: 200},
		{client: rkMACB, server: rkIP5, protocol: "s7comm", port: 102, first: time.Minute, last: time.Hour, pkts: 6, bytes: 600},
		{client: rkRouted, server: rkIP5, protocol: "bacnet", relation: inventory.RelationRoutedBy, first: 0, last: time.Hour},
		{client: rkIP6, server: rkMACB, protocol: "modbus", port: 502, first: 0, last: time.Hour, pkts: 8, bytes: 800},
		{client: rkIP7, server: rkMACB, protocol: "modbus", port: 502, first: 3 * time.Hour, last: 4 * time.Hour, pkts: 2, bytes: 200},
	}
	events := []rkEvent{
		{"new_device", rkIP5, "", 1}, {"new_connection", rkIP5, rkMACB, 2}, {"new_connection", rkMACB, rkIP5, 3},
		{"new_device", rkIP7, "", 4}, {"new_device", rkMACA, "", 5}, {"new_device", rkIP6, "", 6},
	}
	// Both sensors number the same keys alike; s2 is never rekeyed.
	ids := map[string]map[string]inventory.DeviceID{}
	for _, sensor := range []string{"s1", "s2"} {
		got, err := s.DeviceIDs(ctx, sensor, keys)
		if err != nil {
			t.Fatal(err)
		}
		ids[sensor] = map[string]inventory.DeviceID{}
		for i, k := range keys {
			ids[sensor][k] = got[i]
		}
		id := ids[sensor]
		var devs []inventory.Device
		for _, k := range keys {
			var routedBy inventory.DeviceID
			if k == rkRouted {
				routedBy = id[rkIP5]
			}
			devs = append(devs, rkDevice(k, id[k], routedBy))
		}
		if err := s.PutDevices(ctx, sensor, devs); err != nil {
			t.Fatal(err)
		}
		var cs []inventory.Connection
		for _, c := range conns {
			cs = append(cs, c.conn(id))
		}
		if err := s.PutConnections(ctx, sensor, cs); err != nil {
			t.Fatal(err)
		}
		var evs []store.Event
		for _, e := range events {
			evs = append(evs, store.Event{Time: base.Add(e.at * time.Minute), Sensor: sensor, Type: e.typ, Device: e.device, DeviceID: id[e.device],
				Peer: e.peer, PeerID: id[e.peer]})
		}
		if err := s.PutEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	s2Before := rkState(t, s, "s2")

	steps := []struct {
		name   string
		sensor string
		moves  []store.KeyMove
		err    error
	}{
		{"no sensor", "", []store.KeyMove{mv(rkIP6, rkMACA)}, store.ErrInvalid},
		{"an empty key after a valid move", "s1", []store.KeyMove{mv(rkIP6, rkMACA), mv("", rkMACB)}, store.ErrInvalid},
		{"a key too long", "s1", []store.KeyMove{mv(rkIP6, strings.Repeat("k", store.MaxKeyLen+1))}, store.ErrInvalid},
		{"too many moves", "s1", make([]store.KeyMove, store.MaxBatch+1), store.ErrInvalid},
		{"no moves", "s1", nil, nil},
		{"merge into a known key", "s1", []store.KeyMove{mv(rkIP5, rkMACA)}, nil},
		{"a new key keeps the ID", "s1", []store.KeyMove{mv(rkIP6, rkMACC)}, nil},
		{"a new key, then merged, in one call", "s1", []store.KeyMove{mv(rkIP7, rkMACD), mv(rkMACD, rkMACB)}, nil},
		{"unknown key and same key", "s1", []store.KeyMove{mv("10.9.9.9", rkMACA), mv(rkMACA, rkMACA), mv(rkIP5, rkMACB)}, nil},
	}
	for _, st := range steps {
		err := s.RekeyDevices(ctx, st.sensor, st.moves)
		if st.err != nil {
			wantErr(t, st.name, err, st.err)
		} else if err != nil {
			t.Fatalf("%s: RekeyDevices: %v", st.name, err)
		}
	}

	old := ids["s1"]
	// macA and macB keep their IDs, macC took ip6's; ip5, ip6, ip7 and
	// macD (merged away) are new keys with new IDs.
	again := []string{rkMACA, rkMACB, rkMACC, rkRouted, rkIP5, rkIP6, rkIP7, rkMACD}
	got, err := s.DeviceIDs(ctx, "s1", again)
	if err != nil {
		t.Fatal(err)
	}
	if want := []inventory.DeviceID{old[rkMACA], old[rkMACB], old[rkIP6], old[rkRouted]}; !slices.Equal(got[:4], want) {
		t.Errorf("after the moves, DeviceIDs(%q) = %v; want %v", again[:4], got[:4], want)
	}
	for i, k := range again[4:] {
		if id := got[4+i]; id == 0 || slices.Contains(slices.Collect(maps.Values(old)), id) {
			t.Errorf("after the moves, the forgotten key %s has ID %d, want a new one", k, id)
		}
	}
	now := rkState(t, s, "s1")
	wantDevices := []string{
		fmt.Sprintf("%d %s routed by 0", old[rkMACA], rkMACA),
		fmt.Sprintf("%d %s routed by 0", old[rkMACB], rkMACB),
		fmt.Sprintf("%d %s routed by 0", old[rkIP6], rkIP6), // its record is the old one until the sensor stores it anew
		fmt.Sprintf("%d %s routed by %d", old[rkRouted], rkRouted, old[rkMACA]),
	}
	slices.Sort(wantDevices)
	if !slices.Equal(now.devices, wantDevices) {
		t.Errorf("stored devices:\n%s\nwant:\n%s", strings.Join(now.devices, "\n"), strings.Join(wantDevices, "\n"))
	}
	merged := rkConnection{client: rkMACA, server: rkMACB, protocol: "modbus", port: 502, first: 0, last: 2 * time.Hour, pkts: 14, bytes: 1400,
		classes: 3, requests: 7, interval: 2}.conn(old)
	// ip5→macA joined macA with itself, and so did ip7→macB once ip7
	// (macD) was merged into macB: both are gone.
	wantConns := []string{
		connString(merged),
		connString(rkConnection{client: rkMACB, server: rkMACA, protocol: "s7comm", port: 102, first: time.Minute, last: time.Hour, pkts: 6, bytes: 600}.conn(old)),
		connString(rkConnection{client: rkRouted, server: rkMACA, protocol: "bacnet", relation: inventory.RelationRoutedBy, first: 0, last: time.Hour}.conn(old)),
		connString(conns[5].conn(old)),
	}
	slices.Sort(wantConns)
	if !slices.Equal(now.conns, wantConns) {
		t.Errorf("stored connections:\n%s\nwant:\n%s", strings.Join(now.conns, "\n"), strings.Join(wantConns, "\n"))
	}
	wantEvents := []string{
		fmt.Sprintf("new_device %s %d  0", rkIP5, old[rkMACA]),
		fmt.Sprintf("new_connection %s %d %s %d", rkIP5, old[rkMACA], rkMACB, old[rkMACB]),
		fmt.Sprintf("new_connection %s %d %s %d", rkMACB, old[rkMACB], rkIP5, old[rkMACA]),
		fmt.Sprintf("new_device %s %d  0", rkIP7, old[rkMACB]),
		fmt.Sprintf("new_device %s %d  0", rkMACA, old[rkMACA]),
		fmt.Sprintf("new_device %s %d  0", rkIP6, old[rkIP6]),
	}
	if !slices.Equal(now.events, wantEvents) {
		t.Errorf("stored events:\n%s\nwant:\n%s", strings.Join(now.events, "\n"), strings.Join(wantEvents, "\n"))
	}
	p, err := s.Devices(ctx, store.DeviceQuery{Sensors: []string{"s1"}, Devices: []string{rkIP5}})
	if err != nil || len(p.Devices) != 0 {
		t.Errorf("devices of s1 found by %s: %d (%v); want none, the device was merged", rkIP5, len(p.Devices), err)
	}
	if s2 := rkState(t, s, "s2"); !slices.Equal(s2.devices, s2Before.devices) || !slices.Equal(s2.conns, s2Before.conns) ||
		!slices.Equal(s2.events, s2Before.events) {
		t.Errorf("another sensor's devices changed:\n%+v\nwas\n%+v", s2, s2Before)
	}
}

// rkStored is what a sensor has stored, as sorted text.
type rkStored struct {
	devices, conns, events []string
}

func connString(c inventory.Connection) string {
	return fmt.Sprintf("%d→%d %s/%s %d %q %s–%s pkts %d/%d bytes %d/%d classes %d %q requests %d every %v regular %v",
		c.Client, c.Server, c.Protocol, c.Transport, c.Port, c.Relation, c.First.Format(time.TimeOnly), c.Last.Format(time.TimeOnly),
		c.PacketsTo, c.PacketsFr, c.BytesTo, c.BytesFr, c.ClassMask, c.Classes, c.Requests, c.Interval, c.Regular)
}

// rkState returns a sensor's stored devices, connections and events.
func rkState(t *testing.T, s store.Store, sensor string) rkStored {
	t.Helper()
	ctx := context.Background()
	var out rkStored
	p, err := s.Devices(ctx, store.DeviceQuery{Sensors: []string{sensor}, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Devices {
		out.devices = append(out.devices, fmt.Sprintf("%d %s routed by %d", d.ID, d.Key(), d.RoutedBy))
	}
	slices.Sort(out.devices)
	cs, err := s.Connections(ctx, sensor, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		out.conns = append(out.conns, connString(c))
	}
	slices.Sort(out.conns)
	evs, err := s.Events(ctx, store.EventQuery{Sensors: []string{sensor}, Ascending: true, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Events {
		out.events = append(out.events, fmt.Sprintf("%s %s %d %s %d", e.Type, e.Device, e.DeviceID, e.Peer, e.PeerID))
	}
	return out
}

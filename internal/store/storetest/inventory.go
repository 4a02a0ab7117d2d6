package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"net/netip"

	"github.com/gopacket/gopacket/layers"
	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/evidence"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/store"
)

// samplePackets returns two Ethernet frames around a trigger.
func samplePackets() []evidence.Packet {
	frame := make([]byte, 60)
	copy(frame, []byte{0, 0x1b, 0x1b, 1, 2, 3, 0, 0x1b, 0x1b, 4, 5, 6, 0x08, 0x00})
	return []evidence.Packet{
		{Flow: 1, Index: 0, Timestamp: base, LinkType: layers.LinkTypeEthernet, Data: frame, Length: 60},
		{Flow: 1, Index: 1, Timestamp: base.Add(time.Millisecond), LinkType: layers.LinkTypeEthernet, Data: frame, Length: 60, Comment: "trigger"},
	}
}

// fixtureDevices returns n devices of a sensor.
func fixtureDevices(n int) []inventory.Device {
	types := []inventory.Type{inventory.TypePLC, inventory.TypeHMI, inventory.TypeEngineering, inventory.TypeNetwork}
	vendors := []string{"Siemens", "Rockwell Automation", "Schneider Electric"}
	out := make([]inventory.Device, n)
	for i := range out {
		d := inventory.Device{
			ID: inventory.DeviceID(i + 1), MAC: fmt.Sprintf("00:1b:1b:00:00:%02x", i),
			IPs: []string{fmt.Sprintf("10.1.%d.%d", i/6, 1+i)}, Type: types[i%len(types)], Vendor: vendors[i%len(vendors)],
			Purdue: i % 4, FirstSeen: base.Add(time.Duration(i) * time.Minute), LastSeen: base.Add(time.Duration(i*7%23) * time.Hour),
			Inactive: i%5 == 0, Firmware: fmt.Sprintf("V%d.%d", i%3, i%7),
		}
		if i%3 != 0 {
			d.Name = fmt.Sprintf("dev-%02d", (i*11)%n)
		}
		d.Serves = []inventory.Service{{Protocol: []string{"s7comm", "modbus", "enip"}[i%3], Transport: "tcp", Port: 102}}
		if i%4 == 1 {
			d.Uses = []inventory.Service{{Protocol: "dnp3", Transport: "tcp", Port: 20000}}
		}
		out[i] = d
	}
	return out
}

func testDevices(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	if err := s.PutSite(ctx, store.Site{ID: "plant-a", Name: "Plant A"}, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutZone(ctx, store.Zone{ID: "a-cell1", Site: "plant-a", Name: "Cell 1"}, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSensor(ctx, store.Sensor{ID: "s1", Name: "Sensor 1", Zone: "a-cell1"}, "admin"); err != nil {
		t.Fatal(err)
	}
	devs := fixtureDevices(30)
	if err := s.PutDevices(ctx, "s1", devs); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDevices(ctx, "s2", devs[:10]); err != nil {
		t.Fatal(err)
	}
	// Upsert: a device changes.
	devs[4].Name, devs[4].Firmware = "renamed-plc", "V9.9"
	if err := s.PutDevices(ctx, "s1", devs[4:5]); err != nil {
		t.Fatal(err)
	}
	type rec struct {
		sensor string
		d      inventory.Device
	}
	var all []rec
	for _, d := range devs {
		all = append(all, rec{"s1", d})
	}
	for i, d := range devs[:10] {
		if i == 4 {
			d = fixtureDevices(30)[4]
		}
		all = append(all, rec{"s2", d})
	}
	got, err := s.Device(ctx, "s1", 5)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "renamed-plc" || got.Firmware != "V9.9" || got.Site != "plant-a" || got.Zone != "a-cell1" || got.Sensor != "s1" {
		t.Errorf("Device(s1, 5) = %s", jsonOf(got))
	}
	if jsonOf(got.Device) != jsonOf(devs[4]) {
		t.Errorf("device round trip:\n%s\nwant\n%s", jsonOf(got.Device), jsonOf(devs[4]))
	}
	_, err = s.Device(ctx, "s1", 999)
	wantErr(t, "Device(unknown)", err, store.ErrNotFound)
	yes := true
	queries := []struct {
		q    store.DeviceQuery
		keep func(r rec) bool
	}{
		{store.DeviceQuery{}, func(r rec) bool { return true }},
		{store.DeviceQuery{Sensors: []string{"s2"}}, func(r rec) bool { return r.sensor == "s2" }},
		{store.DeviceQuery{Sites: []string{"plant-a"}}, func(r rec) bool { return r.sensor == "s1" }},
		{store.DeviceQuery{Zones: []string{"a-cell1"}}, func(r rec) bool { return r.sensor == "s1" }},
		{store.DeviceQuery{Types: []inventory.Type{inventory.TypePLC, inventory.TypeHMI}}, func(r rec) bool {
			return r.d.Type == inventory.TypePLC || r.d.Type == inventory.TypeHMI
		}},
		{store.DeviceQuery{Vendors: []string{"Siemens"}}, func(r rec) bool { return r.d.Vendor == "Siemens" }},
		{store.DeviceQuery{Purdue: []int{1}}, func(r rec) bool { return r.d.Purdue == 1 }},
		{store.DeviceQuery{Protocols: []string{"dnp3"}}, func(r rec) bool { return len(r.d.Uses) > 0 }},
		{store.DeviceQuery{Devices: []string{"10.1.0.3"}}, func(r rec) bool { return r.d.IPs[0] == "10.1.0.3" }},
		{store.DeviceQuery{Devices: []string{"00-1B-1B-00-00-07"}}, func(r rec) bool { return r.d.ID == 8 }},
		{store.DeviceQuery{Inactive: &yes}, func(r rec) bool { return r.d.Inactive }},
		{store.DeviceQuery{From: base.Add(10 * time.Hour)}, func(r rec) bool { return !r.d.LastSeen.Before(base.Add(10 * time.Hour)) }},
		{store.DeviceQuery{Text: "rockwell"}, func(r rec) bool { return r.d.Vendor == "Rockwell Automation" }},
		{store.DeviceQuery{Text: "renamed"}, func(r rec) bool { return r.d.Name == "renamed-plc" }},
		{store.DeviceQuery{Text: "v9.9"}, func(r rec) bool { return r.d.Firmware == "V9.9" }},
	}
	for _, tc := range queries {
		for _, sort := range []store.DeviceSort{"", store.DeviceSortFirstSeen, store.DeviceSortName} {
			for _, asc := range []bool{false, true} {
				q := tc.q
				q.Sort, q.Ascending, q.Limit = sort, asc, 4
				var want []string
				var sel []rec
				for _, r := range all {
					if tc.keep(r) {
						sel = append(sel, r)
					}
				}
				slices.SortFunc(sel, func(a, b rec) int {
					key := func(r rec) []string {
						id := fmt.Sprintf("%s/%06d", r.sensor, r.d.ID)
						switch sort {
						case store.DeviceSortName:
							empty := "0"
							if r.d.Name == "" {
								empty = "1"
							}
							return []string{empty, r.d.Name, id}
						case store.DeviceSortFirstSeen:
							return []string{fmt.Sprintf("%020d", r.d.FirstSeen.UnixNano()), id}
						}
						return []string{fmt.Sprintf("%020d", r.d.LastSeen.UnixNano()), id}
					}
					c := slices.Compare(key(a), key(b))
					if sort != store.DeviceSortName && !asc {
						c = -c
					}
					return c
				})
				for _, r := range sel {
					want = append(want, fmt.Sprintf("%s/%d", r.sensor, r.d.ID))
				}
				var got []string
				for {
					p, err := s.Devices(ctx, q)
					if err != nil {
						t.Fatalf("Devices(%s): %v", jsonOf(q), err)
					}
					for _, d := range p.Devices {
						got = append(got, fmt.Sprintf("%s/%d", d.Sensor, d.ID))
					}
					if p.Next == "" {
						break
					}
					q.Cursor = p.Next
				}
				if !slices.Equal(got, want) {
					t.Errorf("Devices(%s):\n got %v\nwant %v", jsonOf(q), got, want)
				}
			}
		}
	}
	for _, q := range []store.DeviceQuery{{Types: []inventory.Type{"toaster"}}, {Purdue: []int{9}}, {Devices: []string{"x"}}, {Sort: "ip"}, {Limit: -1}} {
		_, err := s.Devices(ctx, q)
		wantErr(t, "Devices("+jsonOf(q)+")", err, store.ErrInvalid)
	}
	wantErr(t, "PutDevices(no sensor)", s.PutDevices(ctx, "", devs), store.ErrInvalid)

	conns := []inventory.Connection{
		{Client: 1, Server: 2, Protocol: "modbus", Transport: "tcp", Port: 502, First: base, Last: base.Add(time.Hour), PacketsTo: 10, Classes: []string{"read"}},
		{Client: 3, Server: 2, Protocol: "s7comm", Transport: "tcp", Port: 102, First: base, Last: base},
		{Client: 4, Server: 5, Relation: inventory.RelationRoutedBy, Protocol: "bacnet"},
	}
	if err := s.PutConnections(ctx, "s1", conns); err != nil {
		t.Fatal(err)
	}
	conns[0].PacketsTo = 99
	if err := s.PutConnections(ctx, "s1", conns[:1]); err != nil {
		t.Fatal(err)
	}
	cs, err := s.Connections(ctx, "s1", 0)
	if err != nil || jsonOf(cs) != jsonOf(conns) {
		t.Errorf("Connections(s1) = %s, %v\nwant %s", jsonOf(cs), err, jsonOf(conns))
	}
	cs, _ = s.Connections(ctx, "s1", 2)
	if jsonOf(cs) != jsonOf(conns[:2]) {
		t.Errorf("Connections(s1, 2) = %s", jsonOf(cs))
	}
	if cs, _ := s.Connections(ctx, "s2", 0); len(cs) != 0 {
		t.Errorf("Connections(s2) = %d", len(cs))
	}
}

func testBaseline(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	b := baseline.New(0)
	all := fixtureAlerts(30)
	for i, a := range all {
		if a.Learn != nil {
			b.Observe(*a.Learn, a.FirstDetection, "learning")
		}
		b.Observe(baseline.Entry{Kind: baseline.KindDevice, Client: a.Source.IP}, a.FirstDetection, "learning")
		b.ObserveValue(baseline.Entry{Kind: baseline.KindValue, Server: a.Destination.IP, Target: "hr:1"}, a.LastDetection, float64(i))
		if a.Source.MAC != (all[0].Source.MAC) {
			b.Observe(baseline.Entry{Kind: baseline.KindDevice, MAC: a.Source.MAC}, a.FirstDetection, "learning")
		}
	}
	b.SetPeriod(baseline.Entry{Kind: baseline.KindRate, Client: all[0].Source.IP, Server: all[0].Destination.IP, Protocol: "modbus"}, base, 2*time.Second, 40)
	recs := b.Records()
	if err := s.PutBaseline(ctx, "s1", recs); err != nil {
		t.Fatal(err)
	}
	got, err := s.Baseline(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if jsonOf(got) != jsonOf(recs) {
		t.Errorf("Baseline round trip:\n%s\nwant\n%s", jsonOf(got), jsonOf(recs))
	}
	// Merging: counts and times widen, the first source stays.
	r := recs[0]
	r.Count += 100
	r.Last = r.Last.Add(time.Hour)
	r.Source = "import"
	if err := s.PutBaseline(ctx, "s1", []baseline.Record{r}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Baseline(ctx, "s1")
	if got[0].Count != r.Count || !got[0].Last.Equal(r.Last) || got[0].Source != recs[0].Source {
		t.Errorf("merged record %s, want count %d last %v source %s", jsonOf(got[0]), r.Count, r.Last, recs[0].Source)
	}
	if other, _ := s.Baseline(ctx, "s2"); len(other) != 0 {
		t.Errorf("Baseline(s2) has %d records", len(other))
	}
	wantErr(t, "PutBaseline(no kind)", s.PutBaseline(ctx, "s1", []baseline.Record{{}}), store.ErrInvalid)
}

func testOverrides(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	lvl, yes := 1, true
	if err := s.PutOverride(ctx, "00-1B-1B-6E-42-A9", inventory.Override{Type: inventory.TypePLC, Name: "press-plc", Purdue: &lvl, Authorized: &yes}, "ana"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutOverride(ctx, "10.1.0.9", inventory.Override{Name: "hmi"}, "ana"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutOverride(ctx, "BACnet:3:10", inventory.Override{Name: "vav"}, "ana"); err != nil {
		t.Fatal(err)
	}
	os, err := s.Overrides(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for _, o := range os {
		addrs = append(addrs, o.Addr)
	}
	if want := []string{"00:1b:1b:6e:42:a9", "10.1.0.9", "bacnet:3:10"}; !slices.Equal(addrs, want) {
		t.Errorf("override addresses %v, want %v", addrs, want)
	}
	if os[0].Name != "press-plc" || *os[0].Purdue != 1 || !*os[0].Authorized || os[0].Actor != "ana" {
		t.Errorf("override = %s", jsonOf(os[0]))
	}
	bad := 7
	wantErr(t, "override purdue 7", s.PutOverride(ctx, "10.1.0.9", inventory.Override{Purdue: &bad}, "ana"), store.ErrInvalid)
	wantErr(t, "override type", s.PutOverride(ctx, "10.1.0.9", inventory.Override{Type: "toaster"}, "ana"), store.ErrInvalid)
	wantErr(t, "override address", s.PutOverride(ctx, "plc-7", inventory.Override{}, "ana"), store.ErrInvalid)
	if err := s.DeleteOverride(ctx, "10.1.0.9", "ana"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "DeleteOverride again", s.DeleteOverride(ctx, "10.1.0.9", "ana"), store.ErrNotFound)
}

func testSitesZonesSensors(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.PutSite(ctx, store.Site{ID: "plant-a", Name: "Plant A"}, "admin"))
	must(s.PutSite(ctx, store.Site{ID: "plant-b", Name: "Plant B", Description: "North"}, "admin"))
	must(s.PutSite(ctx, store.Site{ID: "plant-a", Name: "Plant A (renamed)"}, "admin"))
	wantErr(t, "site without id", s.PutSite(ctx, store.Site{Name: "x"}, "admin"), store.ErrInvalid)
	sites, _ := s.Sites(ctx)
	if len(sites) != 2 || sites[0].Name != "Plant A (renamed)" || sites[1].Description != "North" {
		t.Errorf("Sites = %s", jsonOf(sites))
	}
	must(s.PutZone(ctx, store.Zone{ID: "a-cell1", Site: "plant-a", Name: "Cell 1", Subnets: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/24")}}, "admin"))
	must(s.PutZone(ctx, store.Zone{ID: "b-cell1", Site: "plant-b", Name: "Cell B1"}, "admin"))
	wantErr(t, "zone of unknown site", s.PutZone(ctx, store.Zone{ID: "z", Site: "nowhere"}, "admin"), store.ErrInvalid)
	zones, _ := s.Zones(ctx, "plant-a")
	if len(zones) != 1 || zones[0].ID != "a-cell1" || len(zones[0].Subnets) != 1 || zones[0].Subnets[0].String() != "10.1.0.0/24" {
		t.Errorf("Zones(plant-a) = %s", jsonOf(zones))
	}
	if zs, _ := s.Zones(ctx, ""); len(zs) != 2 {
		t.Errorf("Zones() = %d zones", len(zs))
	}
	must(s.PutSensor(ctx, store.Sensor{ID: "s1", Name: "Sensor 1", Zone: "a-cell1"}, "admin"))
	must(s.PutSensor(ctx, store.Sensor{ID: "s2", Name: "Sensor 2", Site: "plant-b", Mode: store.ModeOperational}, "admin"))
	wantErr(t, "sensor in unknown zone", s.PutSensor(ctx, store.Sensor{ID: "s3", Zone: "nope"}, "admin"), store.ErrInvalid)
	wantErr(t, "sensor in zone of other site", s.PutSensor(ctx, store.Sensor{ID: "s3", Site: "plant-b", Zone: "a-cell1"}, "admin"), store.ErrInvalid)
	wantErr(t, "sensor with bad mode", s.PutSensor(ctx, store.Sensor{ID: "s3", Mode: "sleeping"}, "admin"), store.ErrInvalid)
	s1, err := s.Sensor(ctx, "s1")
	if err != nil || s1.Site != "plant-a" || s1.Mode != store.ModeLearning || s1.Created.IsZero() {
		t.Errorf("Sensor(s1) = %s, %v", jsonOf(s1), err)
	}
	must(s.SetSensorMode(ctx, "s1", store.ModeOperational, "admin"))
	wantErr(t, "SetSensorMode(bad)", s.SetSensorMode(ctx, "s1", "on", "admin"), store.ErrInvalid)
	wantErr(t, "SetSensorMode(unknown)", s.SetSensorMode(ctx, "s9", store.ModeLearning, "admin"), store.ErrNotFound)
	seen := base.Add(time.Hour)
	must(s.SensorSeen(ctx, "s1", seen))
	must(s.SensorSeen(ctx, "s1", base)) // older: ignored
	s1, _ = s.Sensor(ctx, "s1")
	if s1.Mode != store.ModeOperational || !s1.LastSeen.Equal(seen) {
		t.Errorf("after mode and seen: %s", jsonOf(s1))
	}
	wantErr(t, "SensorSeen(unknown)", s.SensorSeen(ctx, "s9", seen), store.ErrNotFound)
	if ss, _ := s.Sensors(ctx); len(ss) != 2 || ss[1].Mode != store.ModeOperational {
		t.Errorf("Sensors = %s", jsonOf(ss))
	}
	wantErr(t, "DeleteSite with zones", s.DeleteSite(ctx, "plant-a", "admin"), store.ErrConflict)
	wantErr(t, "DeleteZone with sensors", s.DeleteZone(ctx, "a-cell1", "admin"), store.ErrConflict)
	must(s.DeleteSensor(ctx, "s1", "admin"))
	wantErr(t, "DeleteSensor again", s.DeleteSensor(ctx, "s1", "admin"), store.ErrNotFound)
	_, err = s.Sensor(ctx, "s1")
	wantErr(t, "Sensor(deleted)", err, store.ErrNotFound)
	must(s.DeleteZone(ctx, "a-cell1", "admin"))
	must(s.DeleteSite(ctx, "plant-a", "admin"))
	wantErr(t, "DeleteSite again", s.DeleteSite(ctx, "plant-a", "admin"), store.ErrNotFound)
	wantErr(t, "DeleteZone unknown", s.DeleteZone(ctx, "nope", "admin"), store.ErrNotFound)
}

func testUsers(t *testing.T, open OpenFunc) {
	s, _ := openStore(t, open, store.Options{})
	ctx := context.Background()
	if err := s.PutUser(ctx, store.User{Name: "ana", FullName: "Ana", Role: store.RoleAnalyst, PasswordHash: "$argon2id$x"}, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUser(ctx, store.User{Name: "bob", Role: store.RoleReadOnly}, "admin"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUser(ctx, store.User{Name: "ana", FullName: "Ana B", Role: store.RoleAdmin, PasswordHash: "$argon2id$y", Disabled: true}, "admin"); err != nil {
		t.Fatal(err)
	}
	u, err := s.User(ctx, "ana")
	if err != nil || u.FullName != "Ana B" || u.Role != store.RoleAdmin || u.PasswordHash != "$argon2id$y" || !u.Disabled || u.Created.IsZero() || !u.Updated.After(u.Created) {
		t.Errorf("User(ana) = %+v, %v", u, err)
	}
	wantErr(t, "user with bad role", s.PutUser(ctx, store.User{Name: "eve", Role: "root"}, "admin"), store.ErrInvalid)
	wantErr(t, "user without name", s.PutUser(ctx, store.User{Role: store.RoleAdmin}, "admin"), store.ErrInvalid)
	if us, _ := s.Users(ctx); len(us) != 2 || us[0].Name != "ana" || us[1].Name != "bob" {
		t.Errorf("Users = %s", jsonOf(us))
	}
	if err := s.DeleteUser(ctx, "bob", "admin"); err != nil {
		t.Fatal(err)
	}
	_, err = s.User(ctx, "bob")
	wantErr(t, "User(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteUser again", s.DeleteUser(ctx, "bob", "admin"), store.ErrNotFound)
}

func testAudit(t *testing.T, open OpenFunc) {
	s, all := loaded(t, open, 10)
	ctx := context.Background()
	if err := s.SetStatus(ctx, []string{all[1].ID}, alert.Active, "ana", "looking"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Comment(ctx, all[1].ID, "bob", "noted"); err != nil {
		t.Fatal(err)
	}
	if err := s.Mute(ctx, all[2].ID, "ana"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutExclusion(ctx, store.Exclusion{Sensor: "s1"}, "carol"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddAudit(ctx, store.AuditEntry{Actor: "ana", Action: "login", Object: "user:ana"}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "AddAudit(no action)", s.AddAudit(ctx, store.AuditEntry{Actor: "x"}), store.ErrInvalid)
	p, err := s.Audit(ctx, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range p.Entries {
		got = append(got, e.Actor+" "+e.Action+" "+e.Object)
		if e.Time.IsZero() || e.ID == 0 {
			t.Errorf("audit entry without time or id: %+v", e)
		}
	}
	want := []string{
		"ana login user:ana",
		"carol exclusion.put exclusion:1",
		"ana alert.mute alert:" + all[2].ID,
		"bob alert.comment alert:" + all[1].ID,
		"ana alert.status alert:" + all[1].ID,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Audit =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(p.Entries[4].Detail, "New → Active") || !strings.Contains(p.Entries[4].Detail, "looking") {
		t.Errorf("status audit detail %q", p.Entries[4].Detail)
	}
	var paged []string
	q := store.AuditQuery{Actor: "ana", Limit: 2}
	for {
		p, err := s.Audit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Entries {
			paged = append(paged, e.Action)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	if !slices.Equal(paged, []string{"login", "alert.mute", "alert.status"}) {
		t.Errorf("Audit(actor ana) = %v", paged)
	}
	if p, _ := s.Audit(ctx, store.AuditQuery{Object: "alert:" + all[1].ID}); len(p.Entries) != 2 {
		t.Errorf("Audit(object) = %d entries, want 2", len(p.Entries))
	}
	_, err = s.Audit(ctx, store.AuditQuery{Limit: -1})
	wantErr(t, "Audit(limit -1)", err, store.ErrInvalid)
}

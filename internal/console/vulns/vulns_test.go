package vulns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/csaf"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
	"github.com/otwatch/otwatch/internal/recommend"
	"github.com/otwatch/otwatch/internal/store"
	_ "github.com/otwatch/otwatch/internal/store/sqlite" // the SQLite backend
)

var t0 = time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)

// catalog loads the handwritten advisory EX-2024-0001 (PLC-9 CPU 910
// before V2.9.4 and Gateway GW-20 before 1.4.2).
func catalog(t testing.TB) *csaf.Catalog {
	t.Helper()
	cat, errs := csaf.Load("../../csaf/testdata/advisory.json") // the csaf package's handwritten advisory
	if len(errs) > 0 || cat.Len() != 1 {
		t.Fatalf("loading the test advisory: %d advisories, %v", cat.Len(), errs)
	}
	return cat
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "otwatch.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Devices of the test plant of sensor "s1".
var (
	plc = inventory.Device{ID: 1, MAC: "00:0e:8c:00:00:01", IPs: []string{"10.1.2.10"}, Name: "plc-9", Vendor: "Example Industrial GmbH",
		Model: "9EX9 910-0AA00-0AB0", Product: "PLC-9 CPU 910", Firmware: "V2.5", Type: inventory.TypePLC, Purdue: 1,
		Serves:    []inventory.Service{{Protocol: "http", Transport: "tcp", Port: 80}, {Protocol: "telnet", Transport: "tcp", Port: 23}},
		FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	gateway = inventory.Device{ID: 2, MAC: "00:0e:8c:00:00:02", IPs: []string{"10.1.2.1"}, Vendor: "Example Industrial", Product: "Gateway GW-20",
		Firmware: "1.4.1", Type: inventory.TypeNetwork, Purdue: 2, FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	ews = inventory.Device{ID: 3, MAC: "f8:b1:56:00:00:03", IPs: []string{"10.1.1.20"}, Name: "ews", Type: inventory.TypeEngineering,
		Purdue: 2, FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	office = inventory.Device{ID: 4, MAC: "54:e1:ad:00:00:04", IPs: []string{"10.1.4.50"}, Name: "office", Type: inventory.TypeITWorkstation,
		Purdue: 4, FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	// The same PLC at a fixed version.
	plcFixed = inventory.Device{ID: 5, MAC: "00:0e:8c:00:00:05", IPs: []string{"10.1.2.11"}, Name: "plc-9b", Vendor: "Example Industrial GmbH",
		Model: "9EX9 910-0AA00-0AB0", Product: "PLC-9 CPU 910", Firmware: "V2.9.4", Type: inventory.TypePLC, Purdue: 1,
		FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
	// A host on the internet that calls itself a PLC-9.
	remote = inventory.Device{ID: 6, IPs: []string{"198.51.100.7"}, Vendor: "Example Industrial", Product: "PLC-9 CPU 910", Firmware: "V2.5",
		Type: inventory.TypeITServer, Purdue: 4, FirstSeen: t0, LastSeen: t0.Add(time.Hour)}
)

func party(d inventory.Device, port uint16) alert.Party {
	p := alert.Party{IP: netip.MustParseAddr(d.IPs[0]), Port: port}
	if hw, err := net.ParseMAC(d.MAC); err == nil {
		p.MAC = dissect.MAC(hw)
	}
	return p
}

func mkAlert(typ string, sev alert.Severity, eng alert.Engine, proto string, src, dst alert.Party, at time.Time) *alert.Alert {
	return &alert.Alert{ID: alert.ID("s1", typ, src.Key(), dst.Key(), "", at), Type: typ, Title: typ, Description: typ, Severity: sev,
		Status: alert.New, Engine: eng, Category: "test", Protocol: proto, Source: src, Destination: dst, Sensor: "s1",
		FirstDetection: at, LastDetection: at.Add(time.Minute), Count: 1}
}

// seed stores the test plant: the devices, connections (the office and
// the EWS reach the PLC), and alerts (a password in clear to the PLC, a
// scan, an indicator of compromise from the EWS).
func seed(t testing.TB, st store.Store) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.PutSensor(ctx, store.Sensor{ID: "s1", Name: "Sensor 1"}, "test"))
	must(st.PutDevices(ctx, "s1", []inventory.Device{plc, gateway, ews, office, plcFixed, remote}))
	must(st.PutConnections(ctx, "s1", []inventory.Connection{
		{Client: 3, Server: 1, Protocol: "telnet", Transport: "tcp", Port: 23, First: t0, Last: t0.Add(time.Minute), PacketsTo: 10, PacketsFr: 10},
		{Client: 4, Server: 1, Protocol: "http", Transport: "tcp", Port: 80, First: t0, Last: t0.Add(time.Minute), PacketsTo: 5, PacketsFr: 5},
		{Client: 3, Server: 6, Protocol: "https", Transport: "tcp", Port: 443, First: t0, Last: t0.Add(time.Minute), PacketsTo: 5, PacketsFr: 5},
	}))
	must(st.PutAlerts(ctx, []*alert.Alert{
		mkAlert("malware.cleartext_credentials", alert.High, alert.Malware, "telnet", party(ews, 50000), party(plc, 23), t0),
		mkAlert("scan.tcp", alert.Medium, alert.Anomaly, "tcp", party(office, 50001), party(plc, 0), t0.Add(time.Minute)),
		mkAlert("malware.ioc_address", alert.High, alert.Malware, "tcp", party(ews, 50002), party(remote, 443), t0.Add(2*time.Minute)),
	}))
}

func record(t testing.TB, st store.Store, id inventory.DeviceID) *store.DeviceRecord {
	t.Helper()
	r, err := st.Device(context.Background(), "s1", id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// direct returns what recommend gives for a device on the whole snapshot
// with every alert of the store.
func direct(t testing.TB, st store.Store, cat *csaf.Catalog, id inventory.DeviceID) ([]recommend.Recommendation, recommend.Risk) {
	t.Helper()
	ctx := context.Background()
	page, err := st.Devices(ctx, store.DeviceQuery{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	snap := &inventory.Snapshot{}
	for _, r := range page.Devices {
		snap.Devices = append(snap.Devices, r.Device)
	}
	slices.SortFunc(snap.Devices, func(a, b inventory.Device) int { return int(a.ID) - int(b.ID) })
	if snap.Connections, err = st.Connections(ctx, "s1", 0); err != nil {
		t.Fatal(err)
	}
	ap, err := st.Alerts(ctx, store.AlertQuery{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	var alerts []*alert.Alert
	for _, a := range ap.Alerts {
		alerts = append(alerts, &a.Alert)
	}
	slices.SortFunc(alerts, alertOrder)
	a := recommend.Assess(snap, snap.Device(id), cat, alerts)
	return a.Recommendations, a.Risk
}

// directMatches returns the matches of a device as csaf gives them, with
// nothing remembered: none for a host on the internet.
func directMatches(cat *csaf.Catalog, d *inventory.Device) []csaf.Match {
	if recommend.InternetHost(d) {
		return nil
	}
	return cat.Match(recommend.CSAFDevice(d))
}

// TestDevice checks one device's assessment against recommend's on the
// whole inventory, and the match cache.
func TestDevice(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	cat := catalog(t)
	f := New(st, Options{Advisories: cat})
	ctx := context.Background()
	for _, id := range []inventory.DeviceID{1, 2, 3, 4, 5, 6} {
		d, err := f.Device(ctx, record(t, st, id))
		if err != nil {
			t.Fatal(err)
		}
		recs, risk := direct(t, st, cat, id)
		if !reflect.DeepEqual(plain(d.Recommendations), recs) || !reflect.DeepEqual(d.Risk, risk) {
			t.Errorf("device %d: %+v %+v\nwant %+v %+v", id, plain(d.Recommendations), d.Risk, recs, risk)
		}
		for _, r := range d.Recommendations {
			if r.Sensor != "s1" || r.DeviceKey != recommend.DeviceKey(&d.Record.Device) || r.Status != recommend.Open || !r.Changed.IsZero() {
				t.Errorf("device %d: recommendation %+v", id, r)
			}
		}
		var advisories []string
		for _, m := range d.Matches {
			advisories = append(advisories, m.Advisory.ID+" "+m.Verdict.String())
		}
		want := map[inventory.DeviceID][]string{1: {"EX-2024-0001 affected"}, 2: {"EX-2024-0001 affected"}}[id]
		if !slices.Equal(advisories, want) {
			t.Errorf("device %d: matches %v, want %v", id, advisories, want)
		}
	}
	// The PLC has a cleartext-password finding and the advisory's fix.
	d, _ := f.Device(ctx, record(t, st, 1))
	kinds := map[recommend.Kind]bool{}
	for _, r := range d.Recommendations {
		kinds[r.Kind] = true
	}
	for _, k := range []recommend.Kind{recommend.KindUpdate, recommend.KindCleartextCredentials, recommend.KindInsecureProtocol} {
		if !kinds[k] {
			t.Errorf("the PLC has no %s recommendation: %v", k, kinds)
		}
	}
	if d.Risk.Score <= 0 || d.Risk.Vulnerability <= 0 {
		t.Errorf("the PLC's risk %+v", d.Risk)
	}
	// The same content is matched once.
	a, b := plc, plc
	b.ID, b.Name = 99, "twin"
	if ma, mb := f.Matches(&a), f.Matches(&b); len(ma) != 1 || &ma[0] != &mb[0] {
		t.Errorf("a device with the content of one matched before was matched again")
	}
	if m := New(st, Options{}).Matches(&a); m != nil {
		t.Errorf("matches without advisories: %v", m)
	}
}

// TestAssess checks the fleet's assessment against each device's, its
// ranking, and that it is made again exactly when its inputs change.
func TestAssess(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	cat := catalog(t)
	f := New(st, Options{Advisories: cat, MaxAge: -1})
	ctx := context.Background()
	a, err := f.Assess(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Devices) != 6 || a.Advisories != 1 {
		t.Fatalf("%d devices, %d advisories", len(a.Devices), a.Advisories)
	}
	for i, d := range a.Devices {
		if want := directMatches(cat, &d.Record.Device); !reflect.DeepEqual(d.Matches, want) {
			t.Errorf("device %d: in the fleet matches %+v, want %+v", d.Record.ID, d.Matches, want)
		}
		one, err := f.Device(ctx, d.Record)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one.Recommendations, d.Recommendations) || !reflect.DeepEqual(one.Risk, d.Risk) {
			t.Errorf("device %d: in the fleet %+v %+v, alone %+v %+v", d.Record.ID, d.Recommendations, d.Risk, one.Recommendations, one.Risk)
		}
		if i > 0 && a.Devices[i-1].Risk.Score < d.Risk.Score {
			t.Errorf("device %d ranked after a lower risk", d.Record.ID)
		}
		if a.Device("s1", d.Record.ID) != d {
			t.Errorf("Device(s1, %d) is not the ranked device", d.Record.ID)
		}
	}
	if top := a.Devices[0].Record.ID; top != 1 {
		t.Errorf("the highest risk is device %d, want the vulnerable PLC", top)
	}
	again, err := f.Assess(ctx)
	if err != nil || again != a {
		t.Errorf("nothing changed, yet the fleet was assessed again (%v)", err)
	}
	// A status change, then new firmware, each make a new assessment.
	r := &a.Devices[0].Recommendations[0]
	if _, err := f.SetStatus(ctx, r, recommend.InProgress, "", "ana"); err != nil {
		t.Fatal(err)
	}
	b, err := f.Assess(ctx)
	if err != nil || b == a {
		t.Fatalf("a status change did not make a new assessment (%v)", err)
	}
	if got, _ := b.Recommendation(r.ID); got == nil || got.Status != recommend.InProgress || got.Actor != "ana" || got.Changed.IsZero() {
		t.Errorf("after the change the recommendation is %+v", got)
	}
	fixed := plc
	fixed.Firmware = "V2.9.4"
	if err := st.PutDevices(ctx, "s1", []inventory.Device{fixed}); err != nil {
		t.Fatal(err)
	}
	c, err := f.Assess(ctx)
	if err != nil || c == b {
		t.Fatalf("a firmware update did not make a new assessment (%v)", err)
	}
	if d := c.Device("s1", 1); len(d.Matches) != 0 {
		t.Errorf("the updated PLC still matches %d advisories", len(d.Matches))
	}
}

// TestViews checks the fleet views by CVE, advisory and device.
func TestViews(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	f := New(st, Options{Advisories: catalog(t), MaxAge: -1})
	a, err := f.Assess(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cves := a.ByCVE()
	var ids []string
	for _, c := range cves {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{"CVE-2024-0001"}) {
		t.Fatalf("CVEs %v, want CVE-2024-0001 (CVE-2024-0002 concerns the remote agent, which no device is)", ids)
	}
	c := cves[0]
	refs := func(rs []DeviceRef) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%s/%d", r.Sensor, r.ID))
		}
		slices.Sort(out)
		return out
	}
	if c.CVSS != 9.8 || !strings.HasPrefix(c.Vector, "CVSS:3.1/AV:N") || len(c.Advisories) != 1 || c.Advisories[0].ID != "EX-2024-0001" ||
		!slices.Equal(refs(c.Affected), []string{"s1/1", "s1/2"}) || len(c.Possibly) != 0 || c.Title == "" {
		t.Errorf("CVE view %+v", c)
	}
	advs := a.ByAdvisory()
	if len(advs) != 1 || advs[0].ID != "EX-2024-0001" || advs[0].URL == "" || !slices.Equal(advs[0].CVEs, []string{"CVE-2024-0001"}) ||
		advs[0].CVSS != 9.8 || !slices.Equal(refs(advs[0].Affected), []string{"s1/1", "s1/2"}) || advs[0].Released.IsZero() {
		t.Errorf("advisory view %+v", advs)
	}
	byDev := a.ByDevice()
	if len(byDev) != 6 {
		t.Fatalf("%d devices by device", len(byDev))
	}
	p := byDev[0]
	if p.ID != 1 || p.Advisories != 1 || p.Affected != 1 || p.CVEs != 1 || p.Recommendations == 0 || p.Active != p.Recommendations ||
		p.Risk <= 0 || p.Vulnerability <= 0 || p.Model != plc.Model || p.Name != "plc-9" || p.Address != "10.1.2.10" {
		t.Errorf("by device, first %+v", p)
	}
	for _, s := range byDev {
		if s.ID == 6 && (s.Advisories != 0 || s.Recommendations != 0) {
			t.Errorf("the internet host is assessed as a plant device: %+v", s)
		}
	}
	// Without advisories: no vulnerability, the observed findings stay.
	a2, err := New(st, Options{}).Assess(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(a2.ByCVE()) != 0 || len(a2.ByAdvisory()) != 0 || a2.Advisories != 0 || a2.Device("s1", 1).Active() == 0 {
		t.Errorf("without advisories: %d CVEs, %d advisories, PLC %+v", len(a2.ByCVE()), len(a2.ByAdvisory()), a2.Device("s1", 1))
	}
}

// TestSetStatus walks a recommendation through its lifecycle and checks
// the refusals, the history and the audit log.
func TestSetStatus(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	f := New(st, Options{Advisories: catalog(t), MaxAge: -1})
	ctx := context.Background()
	d, err := f.Device(ctx, record(t, st, 1))
	if err != nil {
		t.Fatal(err)
	}
	id := d.Recommendations[0].ID
	steps := []struct {
		to     recommend.Status
		reason string
		err    string // "" for success
	}{
		{recommend.Open, "", "it can become in progress, done, dismissed, not open"},
		{recommend.InProgress, "", ""},
		{recommend.Done, "firmware V2.9.4 installed", ""},
		{recommend.InProgress, "", "is done: it can become open, dismissed, not in progress"},
		{recommend.Dismissed, "  ", "give a reason"},
		{recommend.Dismissed, "decommissioned next month", ""},
		{recommend.Done, "", "it can become open, not done"},
		{recommend.Open, "", ""},
	}
	for i, s := range steps {
		r, _, err := f.Find(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.SetStatus(ctx, r, s.to, s.reason, "ana")
		switch {
		case s.err == "" && err != nil:
			t.Errorf("step %d to %s: %v", i, s.to, err)
		case s.err != "" && (err == nil || !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), s.err)):
			t.Errorf("step %d to %s: %v, want ErrInvalid saying %q", i, s.to, err, s.err)
		case s.err == "" && (got.Status != s.to || got.Actor != "ana" || got.Device != plc.MAC || got.Title != r.Title):
			t.Errorf("step %d: stored %+v", i, got)
		}
	}
	h, err := f.History(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var seq []string
	for _, c := range h {
		seq = append(seq, c.Status.String())
	}
	if !slices.Equal(seq, []string{"in_progress", "done", "dismissed", "open"}) || h[1].Reason != "firmware V2.9.4 installed" {
		t.Errorf("history %v %+v", seq, h)
	}
	audit, err := st.Audit(ctx, store.AuditQuery{Action: store.ActionRecommendationStatus, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(audit.Entries) != 4 || audit.Entries[0].Actor != "ana" || audit.Entries[0].Object != "recommendation:"+id {
		t.Errorf("audit %+v", audit.Entries)
	}
	if _, _, err := f.Find(ctx, "no-such-recommendation"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("finding an unknown recommendation: %v", err)
	}
}

// TestMaxAge checks that the store's devices are read again only after
// MaxAge, while statuses show at once.
func TestMaxAge(t *testing.T) {
	st := openStore(t)
	seed(t, st)
	now := t0
	f := New(st, Options{Advisories: catalog(t), MaxAge: time.Minute, Now: func() time.Time { return now }})
	ctx := context.Background()
	a, err := f.Assess(ctx)
	if err != nil {
		t.Fatal(err)
	}
	renamed := plc
	renamed.Name = "renamed"
	if err := st.PutDevices(ctx, "s1", []inventory.Device{renamed}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(30 * time.Second)
	if b, err := f.Assess(ctx); err != nil || b != a {
		t.Errorf("within MaxAge the store was read again (%v)", err)
	}
	r := &a.Device("s1", 1).Recommendations[0]
	if _, err := f.SetStatus(ctx, r, recommend.Done, "fixed", "ana"); err != nil {
		t.Fatal(err)
	}
	b, err := f.Assess(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Recommendation(r.ID); got.Status != recommend.Done || b.Device("s1", 1).Record.Name != "plc-9" {
		t.Errorf("within MaxAge: status %s, name %q; want the new status and the old name", got.Status, b.Device("s1", 1).Record.Name)
	}
	// A recommendation of a device stored since is found all the same.
	newPLC := plc
	newPLC.ID, newPLC.MAC, newPLC.IPs = 7, "00:0e:8c:00:00:07", []string{"10.1.2.17"}
	if err := st.PutDevices(ctx, "s1", []inventory.Device{newPLC}); err != nil {
		t.Fatal(err)
	}
	nd, err := f.Device(ctx, record(t, st, 7))
	if err != nil {
		t.Fatal(err)
	}
	if r, d, err := f.Find(ctx, nd.Recommendations[0].ID); err != nil || d.Record.ID != 7 || r.Title != nd.Recommendations[0].Title {
		t.Errorf("finding a recommendation of a device stored within MaxAge: %v", err)
	}
	renamed.Name = "renamed twice"
	if err := st.PutDevices(ctx, "s1", []inventory.Device{renamed}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	c, err := f.Assess(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Recommendation(r.ID); got.Status != recommend.Done || c.Device("s1", 1).Record.Name != "renamed twice" || !c.Time.Equal(now) {
		t.Errorf("after MaxAge: status %s, name %q, time %v", got.Status, c.Device("s1", 1).Record.Name, c.Time)
	}
}

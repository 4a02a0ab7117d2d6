package store

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Learning returns what learning alert a adds to its sensor's baseline
// (see Store.Learn) and the status a moves to: Closed when the lifecycle
// allows, else its own. An alert that is not learnable is ErrInvalid.
func Learning(a *alert.Alert) (baseline.Record, alert.Status, error) {
	var e baseline.Entry
	switch {
	case a.Learn != nil:
		e = *a.Learn
	case a.Learnable:
		e = baseline.Entry{Kind: baseline.KindPattern, Client: a.Source.IP, Server: a.Destination.IP, Function: a.Type, Target: a.Key}
	default:
		return baseline.Record{}, a.Status, fmt.Errorf("%w: alert %s (%s) cannot be learned", ErrInvalid, a.ID, a.Type)
	}
	rec := baseline.Record{Entry: e, Stats: baseline.Stats{First: a.FirstDetection, Last: a.LastDetection, Count: a.Count, Source: "learn"}}
	to := a.Status
	if Transition(a.Status, alert.Closed) {
		to = alert.Closed
	}
	return rec, to, nil
}

// MarkMuted sets Muted on the records whose pattern one of mutes mutes.
func MarkMuted(recs []*AlertRecord, mutes []Mute) {
	for _, r := range recs {
		for i := range mutes {
			if mutes[i].Matches(&r.Alert) {
				r.Muted = true
				break
			}
		}
	}
}

// Time converts nanoseconds since the epoch to a UTC time, 0 to the zero
// time.
func Time(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Nanos converts a time to nanoseconds since the epoch, the zero time to
// 0.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// DeviceAddrs returns the normalized addresses a device is found by: its
// IPs, its MAC and its routed address, sorted, once each.
func DeviceAddrs(dv *inventory.Device) []string {
	var out []string
	for _, ip := range dv.IPs {
		if a, err := NormalizeAddr(ip); err == nil {
			out = append(out, a)
		}
	}
	if a, err := NormalizeAddr(dv.MAC); err == nil {
		out = append(out, a)
	}
	if dv.Address != "" {
		out = append(out, strings.ToLower(dv.Address))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// DeviceSearchText is what the device text filter matches: the device's
// names, vendor, product, model, firmware, serial, OS, type and
// addresses, lower case, between spaces.
func DeviceSearchText(dv *inventory.Device) string {
	parts := []string{dv.Name, dv.Vendor, dv.Product, dv.Model, dv.Firmware, dv.Serial, dv.OS, string(dv.Type), dv.MAC, dv.Address}
	parts = append(parts, dv.Names...)
	parts = append(parts, dv.IPs...)
	return " " + strings.ToLower(strings.Join(parts, " ")) + " "
}

// DeviceProtocols returns every protocol a device serves or uses, lower
// case, sorted, once each.
func DeviceProtocols(dv *inventory.Device) []string {
	ps := []string{}
	for _, l := range [][]inventory.Service{dv.Serves, dv.Uses} {
		for _, s := range l {
			ps = append(ps, strings.ToLower(s.Protocol))
		}
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}

// DeviceKey is the position of a device in a page's order (DeviceSort):
// what a cursor of a device page holds.
type DeviceKey struct {
	Sensor, Name string
	ID           int64
	// First and Last are the device's FirstSeen and LastSeen, in
	// nanoseconds.
	First, Last int64
}

// Cursor returns the cursor of the page after the device at k in order
// s.
func (k DeviceKey) Cursor(s DeviceSort) string {
	c := Cursor{B: k.ID, S: k.Sensor}
	switch s {
	case DeviceSortName:
		c.S = k.Name + "\x00" + k.Sensor
		if k.Name == "" {
			c.C = 1
		}
	case DeviceSortFirstSeen:
		c.A = k.First
	default:
		c.A = k.Last
	}
	return c.Encode()
}

// DecodeDeviceCursor returns the position a device page's cursor (from
// DeviceKey.Cursor) holds in order s: Sensor, ID and, by the order, Name
// or First or Last. A malformed cursor is ErrInvalid.
func DecodeDeviceCursor(s DeviceSort, cursor string) (DeviceKey, error) {
	c, err := DecodeCursor(cursor)
	if err != nil {
		return DeviceKey{}, err
	}
	k := DeviceKey{Sensor: c.S, ID: c.B}
	switch s {
	case DeviceSortName:
		k.Name, k.Sensor, _ = strings.Cut(c.S, "\x00")
	case DeviceSortFirstSeen:
		k.First = c.A
	default:
		k.Last = c.A
	}
	return k, nil
}

// BaselineColumns returns the text columns of a baseline record: its
// client and server IP ("" when none), its MAC ("" when zero) and its
// source ("import" when none).
func BaselineColumns(r *baseline.Record) (client, server, mac, source string) {
	if r.Client.IsValid() {
		client = r.Client.String()
	}
	if r.Server.IsValid() {
		server = r.Server.String()
	}
	if !r.MAC.IsZero() {
		mac = r.MAC.String()
	}
	source = r.Source
	if source == "" {
		source = "import"
	}
	return client, server, mac, source
}

// SetBaselineColumns sets the fields of r that BaselineColumns gives
// (source aside) and its kind, from their stored text.
func SetBaselineColumns(r *baseline.Record, kind, client, server, mac string) {
	r.Kind = baseline.Kind(kind)
	r.Client, r.Server, r.MAC = netip.Addr{}, netip.Addr{}, dissect.MAC{}
	if client != "" {
		r.Client, _ = netip.ParseAddr(client)
	}
	if server != "" {
		r.Server, _ = netip.ParseAddr(server)
	}
	if mac != "" {
		_ = r.MAC.UnmarshalText([]byte(mac))
	}
}

// SortBaseline orders baseline records as Baseline returns them: by
// entry, in the order of baseline.Baseline.Records.
func SortBaseline(recs []baseline.Record) {
	slices.SortFunc(recs, func(x, y baseline.Record) int {
		return cmp.Or(cmp.Compare(x.Kind, y.Kind), x.Client.Compare(y.Client), x.Server.Compare(y.Server),
			cmp.Compare(x.MAC.String(), y.MAC.String()), cmp.Compare(x.Protocol, y.Protocol), cmp.Compare(x.Port, y.Port),
			cmp.Compare(x.Function, y.Function), cmp.Compare(x.Class, y.Class), cmp.Compare(x.Target, y.Target))
	})
}

// DeviceRow is a device read from a backend with its position in the
// page orders.
type DeviceRow struct {
	Record *DeviceRecord
	Key    DeviceKey
}

// DecodeDevice returns the row of a device stored as doc (its JSON) with
// the columns of its sensor and its sort keys; backend names the store
// in errors.
func DecodeDevice(backend, sensor, site, zone string, doc []byte, last, first int64, name string, id int64) (DeviceRow, error) {
	r := DeviceRow{
		Record: &DeviceRecord{Sensor: sensor, Site: site, Zone: zone},
		Key:    DeviceKey{Sensor: sensor, Name: name, ID: id, First: first, Last: last},
	}
	if err := json.Unmarshal(doc, &r.Record.Device); err != nil {
		return r, fmt.Errorf("%s: decoding device %d: %w", backend, id, err)
	}
	return r, nil
}

// FillDevicePage adds rows, read with a limit of q.Limit+1, to page and
// sets its cursor when there are more in order q.Sort.
func FillDevicePage(page *DevicePage, rows []DeviceRow, q DeviceQuery) {
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		page.Next = rows[len(rows)-1].Key.Cursor(q.Sort)
	}
	for _, r := range rows {
		page.Devices = append(page.Devices, r.Record)
	}
}

package storetest

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/store"
)

// alertType is a type of the fixture's small catalogue.
type alertType struct {
	id, name, category, protocol string
	engine                       alert.Engine
	severity                     alert.Severity
	learnable                    bool
}

var fixtureTypes = []alertType{
	{"s7.plc_stop", "S7 PLC stop", "Restart/Stop command", "s7comm", alert.Operational, alert.Critical, true},
	{"modbus.write", "Modbus write", "Illegal commands", "modbus", alert.Policy, alert.High, true},
	{"scan.port", "Port scan", "Scan", "", alert.Anomaly, alert.Medium, false},
	{"dnp3.restart", "DNP3 cold restart", "Restart/Stop command", "dnp3", alert.Operational, alert.High, false},
	{"malware.ioc", "Known malware domain", "Suspicious malware activity", "dns", alert.Malware, alert.Critical, false},
	{"policy.new_conn", "New connection", "Abnormal communication", "enip", alert.Policy, alert.Low, true},
	{"proto.malformed", "Malformed Modbus", "Operation failures", "modbus", alert.Protocol, alert.Medium, false},
	{"fw.change", "Firmware change", "Firmware change", "s7comm", alert.Operational, alert.High, false},
}

// fixtureSensors places the sensors: sensor, site, zone.
var fixtureSensors = [][3]string{{"s1", "plant-a", "a-cell1"}, {"s2", "plant-a", "a-cell2"}, {"s3", "plant-b", "b-cell1"}}

// base is the time the fixture starts.
var base = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// macOnly is the party of the fixture known by MAC alone.
var macOnly = dissect.MAC{0x00, 0x1b, 0x1b, 0x6e, 0x42, 0xa9}

func party(i int) alert.Party {
	if i == 12 {
		return alert.Party{MAC: macOnly}
	}
	p := alert.Party{IP: netip.AddrFrom4([4]byte{10, 1, byte(i / 6), byte(1 + i)}), Port: uint16(100 + i)}
	if i%4 == 0 {
		p.Name = fmt.Sprintf("plc-%d", i)
	}
	return p
}

// fixtureAlerts returns n alerts spread over every dimension. Their last
// detections are all different, and so are their first detections, so
// every order is total without the backend's tie-breaker.
func fixtureAlerts(n int) []*alert.Alert {
	out := make([]*alert.Alert, n)
	for i := range out {
		ty := fixtureTypes[(i*5+i/8)%len(fixtureTypes)]
		sn := fixtureSensors[i%len(fixtureSensors)]
		src, dst := party(i%13), party((i*7+3)%13)
		if src.Key() == dst.Key() {
			dst = party((i*7 + 4) % 13)
		}
		first := base.Add(time.Duration(i) * 10 * time.Minute)
		last := first.Add(time.Duration((i*37)%50)*time.Minute + time.Duration(i)*time.Second)
		key := fmt.Sprint(i % 3)
		title := fmt.Sprintf("%s sent by %s to %s", ty.name, src, dst)
		switch {
		case i%7 == 0:
			title += " at the reactor"
		case i%11 == 0:
			title += " near the boiler"
		}
		a := &alert.Alert{
			ID: alert.ID(sn[0], ty.id, src.Key(), dst.Key(), key, first), Type: ty.id, Title: title,
			Description: "What " + ty.name + " means and why it matters.",
			Severity:    ty.severity, Engine: ty.engine, Category: ty.category, Protocol: ty.protocol,
			Source: src, Destination: dst, Sensor: sn[0], Site: sn[1], Zone: sn[2], Key: key,
			FirstDetection: first, LastDetection: last, Count: uint64(i%6 + 1),
			Tactics: []string{"TA0107"}, Techniques: []string{"T0816", "T0858"},
			Remediation: []string{"Confirm the change with the plant.", "Review the engineering workstation."},
			Learnable:   ty.learnable,
			Details:     []dissect.Attr{{Key: "ports", Value: fmt.Sprint(i % 17)}},
		}
		switch {
		case i%9 == 0:
			a.Status = alert.Closed
		case i%4 == 0:
			a.Status = alert.Active
		default:
			a.Status = alert.New
		}
		if ty.id == "modbus.write" {
			a.Learn = &baseline.Entry{Kind: baseline.KindFunction, Client: src.IP, Server: dst.IP, Protocol: "modbus", Function: "write_single_register"}
		}
		if i%5 == 0 {
			a.Operation = &dissect.Operation{Time: first, Protocol: cmp.Or(ty.protocol, "tcp"), FunctionCode: 41, FunctionName: "stop",
				Request: true, Response: true, Detail: title, Attrs: []dissect.Attr{{Key: "unit", Value: "1"}}}
		}
		out[i] = a
	}
	return out
}

// clone copies an alert deeply enough for the suite to change it.
func clone(a *alert.Alert) *alert.Alert {
	c := *a
	return &c
}

// fixtureEvents returns n events on the fixture's devices, one every
// 97 seconds from 2 hours before base.
func fixtureEvents(n int, alerts []*alert.Alert) []store.Event {
	types := []string{"new_device", "new_connection", "firmware_change", "mode_change", "program_download", "alert"}
	out := make([]store.Event, n)
	for j := range out {
		dev := party(j % 13)
		e := store.Event{
			Time: base.Add(-2*time.Hour + time.Duration(j)*97*time.Second), Sensor: fixtureSensors[j%3][0],
			Type: types[j%len(types)], Device: dev.Key(), Detail: fmt.Sprintf("event %d", j),
		}
		if j%3 == 0 {
			e.Peer = party((j + 5) % 13).Key()
		}
		if e.Type == "alert" && len(alerts) > 0 {
			e.AlertID = alerts[j%len(alerts)].ID
		}
		out[j] = e
	}
	return out
}

// Oracle: the suite's own answers, computed by brute force over the
// fixture, against which backends are checked.

func match(a *alert.Alert, q *store.AlertQuery, except store.Dim) bool {
	in := func(d store.Dim, vals []string, v string) bool {
		return d == except || len(vals) == 0 || slices.Contains(vals, v)
	}
	if !in(store.DimSensor, q.Sensors, a.Sensor) || !in(store.DimSite, q.Sites, a.Site) || !in(store.DimZone, q.Zones, a.Zone) ||
		!in(store.DimCategory, q.Categories, a.Category) || !in(store.DimProtocol, q.Protocols, a.Protocol) || !in(store.DimType, q.Types, a.Type) {
		return false
	}
	if except != store.DimSeverity && len(q.Severities) > 0 && !slices.Contains(q.Severities, a.Severity) {
		return false
	}
	if except != store.DimStatus && len(q.Statuses) > 0 && !slices.Contains(q.Statuses, a.Status) {
		return false
	}
	if except != store.DimEngine && len(q.Engines) > 0 && !slices.Contains(q.Engines, a.Engine) {
		return false
	}
	if len(q.Devices) > 0 {
		ok := false
		for _, d := range q.Devices {
			n, _ := store.NormalizeAddr(d)
			ok = ok || n == store.PartyKey(a.Source) || n == store.PartyKey(a.Destination)
		}
		if !ok {
			return false
		}
	}
	if !q.From.IsZero() && a.LastDetection.Before(q.From) {
		return false
	}
	if !q.Until.IsZero() && !a.LastDetection.Before(q.Until) {
		return false
	}
	if q.Text != "" && !textMatch(a, q.Text) {
		return false
	}
	return true
}

// textMatch is the documented text filter, written out on its own:
// every term's words appear in sequence within one field, the last word
// as a prefix.
func textMatch(a *alert.Alert, text string) bool {
	fields := []string{a.Type, a.Category, a.Protocol, a.Sensor, a.Site, a.Zone}
	for _, p := range []alert.Party{a.Source, a.Destination} {
		f := store.PartyKey(p) + " " + p.Name
		if p.IP.IsValid() && !p.MAC.IsZero() {
			f += " " + p.MAC.String()
		}
		fields = append(fields, f)
	}
	for _, term := range strings.Fields(text) {
		tw := splitWords(term)
		if len(tw) == 0 {
			continue
		}
		found := false
		for _, f := range fields {
			fw := splitWords(f)
			for i := 0; i+len(tw) <= len(fw) && !found; i++ {
				ok := true
				for j, w := range tw {
					if j == len(tw)-1 {
						ok = ok && strings.HasPrefix(fw[i+j], w)
					} else {
						ok = ok && fw[i+j] == w
					}
				}
				found = ok
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// splitWords splits lower-cased s at every character that is not an
// ASCII letter or digit or a non-ASCII letter.
func splitWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// expectAlerts returns the ids of the alerts matching q in q's order.
func expectAlerts(all []*alert.Alert, q store.AlertQuery) []string {
	var sel []*alert.Alert
	for _, a := range all {
		if match(a, &q, "") {
			sel = append(sel, a)
		}
	}
	slices.SortFunc(sel, func(x, y *alert.Alert) int {
		var c int
		switch q.Sort {
		case store.SortSeverity:
			c = cmp.Or(cmp.Compare(y.Severity, x.Severity), y.LastDetection.Compare(x.LastDetection))
		case store.SortFirstDetection:
			c = y.FirstDetection.Compare(x.FirstDetection)
		default:
			c = y.LastDetection.Compare(x.LastDetection)
		}
		if q.Ascending {
			c = -c
		}
		return c
	})
	ids := make([]string, len(sel))
	for i, a := range sel {
		ids[i] = a.ID
	}
	return ids
}

// expectFacets counts by brute force.
func expectFacets(all []*alert.Alert, q store.AlertQuery) (int64, map[store.Dim]map[string]int64) {
	var total int64
	out := map[store.Dim]map[string]int64{}
	for _, d := range store.Dims {
		out[d] = map[string]int64{}
	}
	for _, a := range all {
		if match(a, &q, "") {
			total++
		}
		for _, d := range store.Dims {
			if !match(a, &q, d) {
				continue
			}
			var v string
			switch d {
			case store.DimSensor:
				v = a.Sensor
			case store.DimSite:
				v = a.Site
			case store.DimZone:
				v = a.Zone
			case store.DimSeverity:
				v = a.Severity.String()
			case store.DimStatus:
				v = a.Status.String()
			case store.DimEngine:
				v = a.Engine.String()
			case store.DimCategory:
				v = a.Category
			case store.DimProtocol:
				v = a.Protocol
			case store.DimType:
				v = a.Type
			}
			out[d][v]++
		}
	}
	return total, out
}

package anomaly

import (
	"slices"
	"strconv"
	"strings"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// maxSZLIDs bounds the SZL ids remembered per client and PLC.
const maxSZLIDs = 1024

// unitTargets are the baseline targets of the Modbus unit ids.
var unitTargets [256]string

func init() {
	for i := range unitTargets {
		unitTargets[i] = "unit_id:" + strconv.Itoa(i)
	}
}

// unitState is what a Modbus client used of a server's unit ids: learned
// ones, ones looked up in the baseline, and the unlearned ones of the
// current window.
type unitState struct {
	known, checked [4]uint64
	win            distinct[uint8]
}

// UnitEntry is the baseline entry saying that client addressed unit id
// unit on Modbus server server.
func UnitEntry(op *dissect.Operation, unit uint8) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindRange, Client: op.Client.IP, Server: op.Server.IP, Protocol: "modbus", Target: unitTargets[unit]}
}

// learningOp reports whether op belongs to the learning period: the
// detector is learning, or op happened before learning ended (a late
// operation such as an unanswered request emitted at its time-out).
func (e *engine) learningOp(d *detect.Detector, op *dissect.Operation) bool {
	return d.Learning() || op.Time.UnixNano() < e.learnEnd
}

// modbusUnit learns the unit ids each client uses on each server and
// raises a sweep when a client addresses many unlearned ones.
func (e *engine) modbusUnit(d *detect.Detector, op *dissect.Operation, cs *convState) {
	unit, ok := parseUint8(op.Attr("unit_id"))
	if !ok {
		return
	}
	// A state cached in the conversation is the pair's: the conversation
	// fixes the pair, and the table recycled no state since it was cached
	// (a recycled state holds another pair's).
	var u *unitState
	if cs != nil && cs.unit != nil && cs.unitGen == e.units.evicted {
		u = cs.unit
	} else {
		var created bool
		u, created = e.units.get(pairKey{op.Client.IP, op.Server.IP}, op.Time.UnixNano())
		if created {
			*u = unitState{win: distinct[uint8]{set: u.win.set}}
		}
		if cs != nil {
			cs.unit, cs.unitGen = u, e.units.evicted
		}
	}
	word, bit := unit>>6, uint64(1)<<(unit&63)
	if u.known[word]&bit != 0 {
		return
	}
	if e.learningOp(d, op) {
		u.known[word] |= bit
		d.Baseline().Observe(UnitEntry(op, unit), op.Time, "learning")
		return
	}
	if u.checked[word]&bit == 0 {
		u.checked[word] |= bit
		if d.Baseline().Has(UnitEntry(op, unit)) {
			u.known[word] |= bit
			return
		}
	}
	if t := op.Time.UnixNano(); u.win.due(t) {
		u.win.restart(t, d.Threshold(UnitIDSweep, op.Server.IP), UnitIDSweep.Threshold)
	}
	if !u.win.add(unit) {
		return
	}
	ids := make([]int, 0, len(u.win.set))
	for id := range u.win.set {
		ids = append(ids, int(id))
	}
	n := len(ids)
	d.Raise(detect.Finding{Type: UnitIDSweep, Time: op.Time, Protocol: "modbus", Source: detect.Party(op.Client), Destination: detect.Party(op.Server),
		Detail: plural(n, "unit id", "unit ids"), Op: op,
		Details: append(windowDetails("unit_ids", n, u.win.th), dissect.Attr{Key: "units", Value: joinInts(ids)})})
}

// szlState is what a client read of a PLC's system status lists: ids
// learned (1) or looked up and not found (2), and the unlearned ids of the
// current window.
type szlState struct {
	ids map[uint16]uint8
	win distinct[uint16]
}

// SZLEntry is the baseline entry saying that op's client read SZL id (as
// the s7comm dissector writes it, "0x0011") from op's server.
func SZLEntry(op *dissect.Operation, id string) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindRange, Client: op.Client.IP, Server: op.Server.IP, Protocol: "s7comm", Target: "szl_id:" + id}
}

// szl learns the SZL ids each client reads from each PLC and raises an
// enumeration when a client reads many unlearned ones.
func (e *engine) szl(d *detect.Detector, op *dissect.Operation) {
	if op.Attr("follow_up") != "" {
		return
	}
	text := op.Attr("szl_id")
	id, ok := parseHex16(text)
	if !ok {
		return
	}
	t := op.Time.UnixNano()
	s, created := e.szls.get(pairKey{op.Client.IP, op.Server.IP}, t)
	if created {
		if s.ids == nil {
			s.ids = make(map[uint16]uint8)
		}
		clear(s.ids)
		*s = szlState{ids: s.ids, win: distinct[uint16]{set: s.win.set}}
	}
	state := s.ids[id]
	if state == 1 {
		return
	}
	if e.learningOp(d, op) {
		if len(s.ids) < maxSZLIDs {
			s.ids[id] = 1
		}
		d.Baseline().Observe(SZLEntry(op, text), op.Time, "learning")
		return
	}
	if state == 0 {
		if d.Baseline().Has(SZLEntry(op, text)) {
			state = 1
		} else {
			state = 2
		}
		if len(s.ids) < maxSZLIDs {
			s.ids[id] = state
		}
		if state == 1 {
			return
		}
	}
	if s.win.due(t) {
		s.win.restart(t, d.Threshold(SZLEnumeration, op.Server.IP), SZLEnumeration.Threshold)
	}
	if !s.win.add(id) {
		return
	}
	ids := make([]int, 0, len(s.win.set))
	for id := range s.win.set {
		ids = append(ids, int(id))
	}
	n := len(ids)
	d.Raise(detect.Finding{Type: SZLEnumeration, Time: op.Time, Protocol: "s7comm", Source: detect.Party(op.Client), Destination: detect.Party(op.Server),
		Detail: plural(n, "system status list (SZL id)", "system status lists (SZL ids)"), Op: op,
		Details: append(windowDetails("szl_ids", n, s.win.th), dissect.Attr{Key: "ids", Value: joinHex(ids)})})
}

// listIdentity raises List Identity requests sent to a broadcast or
// multicast address by a client that did not send one while the sensor
// learned, and unicast requests to many devices.
func (e *engine) listIdentity(d *detect.Detector, op *dissect.Operation) {
	learning := e.learningOp(d, op)
	if broadcast(op.Server) {
		learn := baseline.Entry{Kind: baseline.KindPattern, Client: op.Client.IP, Server: op.Server.IP, Function: ListIdentity.ID, Target: "broadcast"}
		if learning {
			d.Baseline().Observe(learn, op.Time, "learning")
			return
		}
		d.Raise(detect.Finding{Type: ListIdentity, Time: op.Time, Protocol: "enip", Source: detect.Party(op.Client),
			Destination: alert.Party{IP: op.Server.IP, MAC: op.Server.MAC}, Key: "broadcast", Learn: &learn, Op: op,
			Detail:  "to the broadcast address " + op.Server.IP.String(),
			Details: []dissect.Attr{{Key: "destination", Value: op.Server.IP.String()}}})
		return
	}
	t := op.Time.UnixNano()
	w, created := e.lists.get(op.Client.IP, t)
	if created || w.due(t) {
		w.restart(t, d.Threshold(ListIdentity, op.Server.IP), ListIdentity.Threshold)
	}
	if len(op.Packets) > 0 {
		w.flow(op.Packets[0].Flow)
	}
	if !w.add(op.Server.IP) {
		return
	}
	n := len(w.set)
	learn := baseline.Entry{Kind: baseline.KindPattern, Client: op.Client.IP, Function: ListIdentity.ID, Target: "sweep"}
	if learning {
		d.Baseline().Observe(learn, op.Time, "learning")
		return
	}
	d.Raise(detect.Finding{Type: ListIdentity, Time: op.Time, Protocol: "enip", Source: detect.Party(op.Client), Key: "sweep",
		Learn: &learn, Op: op, Flows: w.flowList(), Detail: "to " + plural(n, "device", "devices") + " one by one",
		Details: windowDetails("devices", n, w.th)})
}

// broadcast reports whether an endpoint is a broadcast or multicast
// destination.
func broadcast(ep dissect.Endpoint) bool {
	return ep.IP == broadcast4 || ep.IP.IsMulticast() || ep.MAC == dissect.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
}

// parseUint8 parses a decimal byte without allocating.
func parseUint8(s string) (uint8, bool) {
	v, ok := parseDecimal(s)
	return uint8(v), ok && v <= 0xff
}

// parseDecimal parses a non-negative decimal of at most nine digits
// without allocating.
func parseDecimal(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseHex16 parses "0x001c" (any case, at most four digits).
func parseHex16(s string) (uint16, bool) {
	if len(s) < 3 || len(s) > 6 || s[0] != '0' || s[1] != 'x' && s[1] != 'X' {
		return 0, false
	}
	var v uint16
	for i := 2; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint16(c)
	}
	return v, true
}

// joinInts lists numbers in ascending order, comma-separated.
func joinInts(v []int) string {
	slices.Sort(v)
	var b strings.Builder
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(x))
	}
	return b.String()
}

// joinHex lists 16-bit numbers in ascending order as 0x%04x.
func joinHex(v []int) string {
	slices.Sort(v)
	var b strings.Builder
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		s := strconv.FormatUint(uint64(x), 16)
		b.WriteString("0x" + strings.Repeat("0", max(0, 4-len(s))) + s)
	}
	return b.String()
}

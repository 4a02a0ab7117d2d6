package operational

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// channel is a client talking to a server's port.
type channel struct {
	client, server netip.Addr
	port           uint16
	pad            [6]byte // no implicit padding: the key hashes as one block of memory
}

// liveness is whether a channel's server answers.
type liveness struct {
	key      channel // the channel's key, which a flow's cached entry must match
	seen     time.Time
	answered bool   // the server answered on the channel
	w        window // requests left unanswered since the last answer
	raised   time.Time
	// attempt is when the last unanswered connection attempt counted.
	attempt time.Time
}

// attemptSpacing is the least time between two unanswered connection
// attempts of a channel that both count: a client reconnects every few
// seconds, while a burst of SYNs (a flood, a scan) is another alert's
// business.
const attemptSpacing = time.Second

func (l *liveness) touched() time.Time { return l.seen }

// watch follows which requests a server answers on each channel, and
// raises DeviceNotResponding when a server that answered before leaves the
// threshold's count of requests unanswered within its window. An answer
// clears the count.
func (e *engine) watch(d *detect.Detector, op *dissect.Operation) {
	answered, unanswered := answer(op)
	if !answered && !unanswered {
		return
	}
	flow := detect.FlowOf(op)
	l, cached := e.byFlow.Get(flow)
	if cached && (l.key.client != op.Client.IP || l.key.server != op.Server.IP || l.key.port != op.Server.Port) {
		cached = false
	}
	if !cached {
		l = e.channels[channel{client: op.Client.IP, server: op.Server.IP, port: op.Server.Port}]
	}
	if answered {
		if l == nil {
			if !unicast(op.Server.IP) {
				return
			}
			if makeRoom(e.channels, maxChannels, &e.scratch) {
				e.byFlow.Invalidate()
			}
			l = &liveness{key: channel{client: op.Client.IP, server: op.Server.IP, port: op.Server.Port}}
			e.channels[l.key] = l
		}
		if !cached {
			e.byFlow.Put(flow, l)
		}
		l.seen, l.answered, l.raised, l.attempt = op.Time, true, time.Time{}, time.Time{}
		l.w.reset()
		return
	}
	if l == nil || !l.answered {
		return // never answered: a probe or a broadcast, not a device gone quiet
	}
	l.seen = op.Time
	if op.Protocol == "service" {
		if !l.attempt.IsZero() && op.Time.Sub(l.attempt) < attemptSpacing {
			return
		}
		l.attempt = op.Time
	}
	th := d.Threshold(DeviceNotResponding, op.Server.IP)
	if th.Count <= 0 || th.Window <= 0 {
		return
	}
	n := l.w.add(op.Time, th.Window)
	if n < th.Count || !l.raised.IsZero() && op.Time.Sub(l.raised) < th.Window {
		return
	}
	l.raised = op.Time
	proto := op.Protocol
	if proto == "service" {
		proto = op.FunctionName
	}
	f := finding(DeviceNotResponding, op, strconv.Itoa(n))
	f.Protocol = proto
	f.Key = proto
	f.Details = []dissect.Attr{
		{Key: "unanswered", Value: strconv.Itoa(n)},
		{Key: "threshold", Value: th.String()},
		{Key: "port", Value: strconv.Itoa(int(op.Server.Port))},
		{Key: "last_request", Value: op.FunctionName},
	}
	d.Raise(f)
}

// answer says whether op shows its server answering, or a request the
// server should have answered and did not. Only protocols whose
// dissectors pair requests with responses count, and only requests that
// expect an answer.
func answer(op *dissect.Operation) (answered, unanswered bool) {
	switch op.Protocol {
	case "service":
		// One per flow: the server accepted the connection (or answered
		// the datagram), refused it, or never answered.
		return op.Result.Status == dissect.StatusOK, op.Result.Status != dissect.StatusOK
	case "modbus", "dnp3", "s7comm", "enip", "iec104", "opcua":
	default:
		return false, false
	}
	if op.Response {
		return true, false
	}
	if !op.Request || op.Result.Status != dissect.StatusUnknown {
		return false, false
	}
	switch op.Protocol {
	case "dnp3":
		if noResponse(op.FunctionCode) || op.Attr("layer") != "" || op.Attr("broadcast") != "" {
			return false, false
		}
	case "modbus":
		if op.Attr("unit_id") == "0" { // a broadcast, never answered
			return false, false
		}
	}
	return false, true
}

// noResponse reports whether DNP3 function fc has no response (IEEE
// 1815-2012, 4.2.2.5: confirm, the no-acknowledgement variants and the
// authentication error).
func noResponse(fc int) bool {
	switch fc {
	case 0, 6, 8, 10, 12, 33:
		return true
	}
	return false
}

// unicast reports whether a is a single host's address.
func unicast(a netip.Addr) bool {
	return a.IsValid() && !a.IsMulticast() && !a.IsUnspecified() && a != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

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
	key      channel // the channel's key
	seen     time.Time
	answered bool   // the server answered on the channel
	w        window // requests left unanswered since the last answer
	raised   time.Time
	// attempt is when the last unanswered connection attempt counted.
	attempt time.Time
	// settled is set while the channel is answered with nothing counted
	// (raised, attempt and w zero): the state an answer leaves.
	settled bool
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
func (e *engine) watch(d *detect.Detector, op *dissect.Operation, proto detect.Proto) {
	answered, unanswered := answer(op, proto)
	if !answered && !unanswered {
		return
	}
	l, cached := e.conv.Get()
	if !cached {
		l = e.channels[channel{client: op.Client.IP, server: op.Server.IP, port: op.Server.Port}]
	}
	if answered {
		if l == nil {
			if !unicast(op.Server.IP) {
				return
			}
			if makeRoom(e.channels, maxChannels, &e.scratch) {
				e.conv.Invalidate()
			}
			l = &liveness{key: channel{client: op.Client.IP, server: op.Server.IP, port: op.Server.Port}}
			e.channels[l.key] = l
		}
		if !cached {
			e.conv.Set(l)
		}
		l.seen = op.Time
		if !l.settled {
			l.answered, l.raised, l.attempt, l.settled = true, time.Time{}, time.Time{}, true
			l.w.reset()
		}
		return
	}
	if l == nil || !l.answered {
		return // never answered: a probe or a broadcast, not a device gone quiet
	}
	l.seen, l.settled = op.Time, false
	if proto == detect.ProtoService {
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
	name := op.Protocol
	if proto == detect.ProtoService {
		name = op.FunctionName
	}
	f := finding(DeviceNotResponding, op, strconv.Itoa(n))
	f.Protocol = name
	f.Key = name
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
// expect an answer. proto is op's protocol.
func answer(op *dissect.Operation, proto detect.Proto) (answered, unanswered bool) {
	switch proto {
	case detect.ProtoService:
		// One per flow: the server accepted the connection (or answered
		// the datagram), refused it, or never answered.
		return op.Result.Status == dissect.StatusOK, op.Result.Status != dissect.StatusOK
	case detect.ProtoModbus, detect.ProtoDNP3, detect.ProtoS7comm, detect.ProtoENIP, detect.ProtoIEC104, detect.ProtoOPCUA:
	default:
		return false, false
	}
	if op.Response {
		return true, false
	}
	if !op.Request || op.Result.Status != dissect.StatusUnknown {
		return false, false
	}
	switch proto {
	case detect.ProtoDNP3:
		if noResponse(op.FunctionCode) || op.Attr("layer") != "" || op.Attr("broadcast") != "" {
			return false, false
		}
	case detect.ProtoModbus:
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

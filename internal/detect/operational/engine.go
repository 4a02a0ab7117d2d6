package operational

import (
	"net/netip"
	"slices"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { detect.Register("operational", newEngine, types...) }

// Bounds of the engine's state. Each table keeps at most this many
// entries; past it the least recently used eighth is dropped (makeRoom),
// and Tick drops what stayed idle.
const (
	maxOutstations = 4096  // DNP3 outstations
	maxPairs       = 16384 // client/server pairs counted for exception bursts
	maxChannels    = 16384 // client/server/port channels watched for answers
)

// restartGrace is how long after a restart request an outstation's restart
// indication is its expected consequence rather than news.
const restartGrace = 5 * time.Minute

// engine is the operational engine's state in one Detector.
type engine struct {
	dnp      map[netip.Addr]*outstation
	excs     map[pair]*excCounter
	channels map[channel]*liveness
	// conv finds a conversation's channel without hashing its key: a
	// conversation's client, server and server port are its channel's.
	conv detect.ConvSlot[*liveness]
	// lastSweep is when Tick last dropped idle entries.
	lastSweep time.Time
	// scratch is makeRoom's buffer.
	scratch []time.Time
}

func newEngine(d *detect.Detector) detect.Engine {
	return &engine{
		dnp:      map[netip.Addr]*outstation{},
		excs:     map[pair]*excCounter{},
		channels: map[channel]*liveness{},
		conv:     detect.NewConvSlot[*liveness](d),
	}
}

// Engine implements detect.Engine.
func (e *engine) Engine() alert.Engine { return alert.Operational }

// Operation implements detect.OperationHandler.
func (e *engine) Operation(d *detect.Detector, op *dissect.Operation) {
	if op.Result.Status == dissect.StatusMalformed {
		return
	}
	proto := d.Proto(op)
	switch proto {
	case detect.ProtoS7comm:
		e.s7(d, op)
	case detect.ProtoENIP:
		e.cip(d, op)
	case detect.ProtoDNP3:
		e.dnp3(d, op)
	case detect.ProtoModbus:
		if op.Response && op.Result.Status == dissect.StatusError {
			e.modbus(d, op) // exception responses; the rest only tells that the server answers
		}
	case detect.ProtoBACnet:
		e.bacnet(d, op)
	case detect.ProtoService:
		if !detect.OpIndustrial(op) {
			return
		}
	default:
		if !proto.Industrial() {
			return
		}
	}
	e.watch(d, op, proto)
}

// Tick implements detect.Ticker: it drops state not touched for a while,
// so that hosts that went away do not hold memory.
func (e *engine) Tick(d *detect.Detector, final bool) {
	now := d.Now()
	if final || now.Sub(e.lastSweep) < time.Minute {
		return
	}
	e.lastSweep = now
	// Windows are tunable; an hour covers any sensible one, and an entry
	// dropped early only forgets a count.
	idle := now.Add(-time.Hour)
	dropIdle(e.excs, idle)
	if dropIdle(e.channels, idle) {
		e.conv.Invalidate()
	}
	dropIdle(e.dnp, now.Add(-24*time.Hour))
}

// finding returns a finding of type t on op, between its client and its
// server.
func finding(t *alert.Type, op *dissect.Operation, detail string) detect.Finding {
	return detect.Finding{Type: t, Protocol: op.Protocol, Source: detect.Party(op.Client), Destination: detect.Party(op.Server),
		Detail: detail, Op: op}
}

// refusal is a sentence to append to an alert's description when the
// device refused the command: "" when it accepted it or did not answer.
func refusal(op *dissect.Operation) string {
	if op.Result.Status != dissect.StatusError {
		return ""
	}
	if op.Result.Text != "" {
		return " The device refused it (" + op.Result.Text + ")."
	}
	return " The device refused it."
}

// resultDetails lists an operation's result as alert details.
func resultDetails(op *dissect.Operation) []dissect.Attr {
	return []dissect.Attr{{Key: "result", Value: op.Result.Status.String()}}
}

// stamped is a state entry that remembers when it was last used.
type stamped interface{ touched() time.Time }

// dropIdle deletes the entries of m last used before t.
func dropIdle[K comparable, V stamped](m map[K]V, t time.Time) (dropped bool) {
	for k, v := range m {
		if v.touched().Before(t) {
			delete(m, k)
			dropped = true
		}
	}
	return dropped
}

// makeRoom makes room in m when it holds max entries or more: it deletes
// the least recently used eighth of them, so that a table kept full by new
// hosts costs one sort per max/8 insertions. buf is scratch space kept
// between calls.
func makeRoom[K comparable, V stamped](m map[K]V, max int, buf *[]time.Time) (dropped bool) {
	if len(m) < max {
		return false
	}
	ts := (*buf)[:0]
	for _, v := range m {
		ts = append(ts, v.touched())
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	cut := ts[len(ts)/8]
	for k, v := range m {
		if !v.touched().After(cut) {
			delete(m, k)
		}
	}
	*buf = ts[:0]
	return true
}

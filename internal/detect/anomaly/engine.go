package anomaly

import (
	"net/netip"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { detect.Register("anomaly", newEngine, types...) }

// Bounds of the engine's state: every table holds at most this many
// entries and recycles the least recently seen.
const (
	maxTracked = 4096  // scan, flood, discovery, login and polling trackers
	maxARP     = 16384 // IP-to-MAC bindings, MAC owners and recent requests
)

// pairKey is a client and a server.
type pairKey struct{ src, dst netip.Addr }

// engine is the anomaly engine's state in one Detector.
type engine struct {
	// Scans: ports per (source, host), hosts per (source, /16), hosts on
	// industrial ports per source, and the first scan alert of a source.
	ports    *table[pairKey, distinct[uint32]]
	sweeps   *table[sweepKey, distinct[netip.Addr]]
	plcs     *table[netip.Addr, distinct[netip.Addr]]
	scanners *table[netip.Addr, scanner]
	// Floods by target.
	icmp, syn *table[netip.Addr, flood]
	// ARP bindings.
	ips  *table[netip.Addr, binding]
	macs *table[dissect.MAC, netip.Addr]
	asks *table[pairKey, int64]
	// Industrial discovery.
	units *table[pairKey, unitState]
	szls  *table[pairKey, szlState]
	lists *table[netip.Addr, distinct[netip.Addr]]
	// Failed logins per (client, server).
	logins *table[pairKey, counter]
	// Polling channels.
	poll polling
	// GOOSE control blocks by gocbRef.
	gooseBlocks map[string]*gooseBlock
	// conv holds the engine's state of each conversation (convState).
	conv detect.ConvSlot[*convState]
	// learnEnd is when learning ended (zero while learning or when the
	// detector started operational).
	learnEnd int64
}

func newEngine(d *detect.Detector) detect.Engine {
	return &engine{
		ports:    newTable[pairKey, distinct[uint32]](maxTracked),
		sweeps:   newTable[sweepKey, distinct[netip.Addr]](maxTracked),
		plcs:     newTable[netip.Addr, distinct[netip.Addr]](maxTracked),
		scanners: newTable[netip.Addr, scanner](maxTracked),
		icmp:     newTable[netip.Addr, flood](maxTracked),
		syn:      newTable[netip.Addr, flood](maxTracked),
		ips:      newTable[netip.Addr, binding](maxARP),
		macs:     newTable[dissect.MAC, netip.Addr](maxARP),
		asks:     newTable[pairKey, int64](maxARP),
		units:    newTable[pairKey, unitState](maxTracked),
		szls:     newTable[pairKey, szlState](maxTracked),
		lists:    newTable[netip.Addr, distinct[netip.Addr]](maxTracked),
		logins:   newTable[pairKey, counter](maxTracked),
		poll:     newPolling(),
		conv:     detect.NewConvSlot[*convState](d),
	}
}

// convState is what the engine keeps in a conversation's record, so that
// the conversation's next operations find it without hashing keys: the
// polling channels of its protocols (one connection may carry two, COTP and
// S7comm), valid while the polling generation is pollGen, and its Modbus
// unit state, valid while the units table evicted unitGen entries.
type convState struct {
	poll    [2]*channel
	pollGen uint64
	unit    *unitState
	unitGen uint64
}

// newState makes the engine's state of the conversation of the operation
// being dispatched, which has none yet; nil for an operation without a
// conversation.
func (e *engine) newState(d *detect.Detector) *convState {
	if d.ConvID() == 0 {
		return nil
	}
	cs := &convState{}
	e.conv.Set(cs)
	return cs
}

// Engine implements detect.Engine.
func (e *engine) Engine() alert.Engine { return alert.Anomaly }

// Operation implements detect.OperationHandler.
func (e *engine) Operation(d *detect.Detector, op *dissect.Operation) {
	proto := d.Proto(op)
	var cs *convState
	if op.Request && proto.Industrial() {
		if cs, _ = e.conv.Get(); cs == nil {
			cs = e.newState(d)
		}
		e.poll.operation(d, op, cs)
	}
	switch proto {
	case detect.ProtoService:
		e.service(d, op)
		return
	case detect.ProtoARP:
		e.arp(d, op)
		return
	case detect.ProtoModbus:
		if op.Request {
			e.modbusUnit(d, op, cs)
			if op.Class == dissect.ClassWrite {
				e.modbusValues(d, op)
			}
		}
	case detect.ProtoS7comm:
		if op.FunctionName == "read_szl" && op.Request {
			e.szl(d, op)
		}
	case detect.ProtoENIP:
		if op.FunctionName == "list_identity" && op.Request {
			e.listIdentity(d, op)
		}
	case detect.ProtoGOOSE:
		e.goose(d, op)
	case detect.ProtoOPCUA:
		e.opcuaWrite(d, op)
	}
	if op.Class == dissect.ClassAuthentication && op.Result.Status == dissect.StatusError {
		e.loginFailed(d, op)
	}
}

// Packet hands p to Probe if it is a probe (detect.IsProbe), as the
// Detector does: the engine is a detect.ProbeHandler, not a
// detect.PacketHandler.
func (e *engine) Packet(d *detect.Detector, p *decode.Packet) {
	if detect.IsProbe(p) {
		e.Probe(d, p)
	}
}

// Probe implements detect.ProbeHandler: TCP SYNs and ICMP echo requests
// feed the scan and flood trackers.
func (e *engine) Probe(d *detect.Detector, p *decode.Packet) {
	if p.Transport == decode.ProtoTCP {
		e.tcpSYN(d, p)
		return
	}
	e.echo(d, p)
}

// Operational implements detect.ModeHandler: the polling periods learned
// become the baseline's rate entries.
func (e *engine) Operational(d *detect.Detector) {
	if now := d.Now(); !now.IsZero() {
		e.learnEnd = now.UnixNano()
	}
	e.poll.operational(d)
}

// Tick implements detect.Ticker: polling windows close.
func (e *engine) Tick(d *detect.Detector, final bool) {
	e.poll.tick(d, final)
}

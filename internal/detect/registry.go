package detect

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Engine is one engine's state within one Detector. It implements any of
// OperationHandler, PacketHandler, ProbeHandler, LearningPacketHandler,
// EventHandler, Ticker and ModeHandler.
type Engine interface {
	// Engine returns which engine this is.
	Engine() alert.Engine
}

// OperationHandler sees every operation, except those of a kind it was
// quiet on (Detector.Quiet). op is valid only during the call.
type OperationHandler interface {
	Operation(d *Detector, op *dissect.Operation)
}

// PacketHandler sees every decoded frame. It must be cheap: it runs on the
// packet path.
type PacketHandler interface {
	Packet(d *Detector, p *decode.Packet)
}

// ProbeHandler sees the frames that probe a host or open a connection:
// TCP SYNs (without ACK or RST) and ICMP and ICMPv6 echo requests, what
// scans and floods are made of. The Detector picks them out of the packet
// path once for every engine, so that the other frames cost the engines
// nothing. An engine that implements ProbeHandler is not called as a
// PacketHandler as well, whatever other methods it has.
type ProbeHandler interface {
	Probe(d *Detector, p *decode.Packet)
}

// ICMP echo request types (RFC 792, RFC 4443).
const (
	icmpEcho   = 8
	icmpv6Echo = 128
)

// IsProbe reports whether p is a frame a ProbeHandler sees.
func IsProbe(p *decode.Packet) bool {
	switch p.Transport {
	case decode.ProtoTCP:
		return p.TCPFlags&(decode.TCPFlagSYN|decode.TCPFlagACK|decode.TCPFlagRST) == decode.TCPFlagSYN
	case decode.ProtoICMP:
		return p.ICMPType == icmpEcho
	case decode.ProtoICMPv6:
		return p.ICMPType == icmpv6Echo
	}
	return false
}

// LearningPacketHandler sees every decoded frame while the Detector
// learns, and none in operational mode, where its engine has nothing to do
// with frames: the packet path does not pay for it then.
type LearningPacketHandler interface {
	LearningPacket(d *Detector, p *decode.Packet)
}

// EventHandler sees every inventory event.
type EventHandler interface {
	InventoryEvent(d *Detector, e inventory.Event)
}

// Ticker is called about once a second of capture time, and once more at
// the end of the input (final true), for timeouts and windows.
type Ticker interface {
	Tick(d *Detector, final bool)
}

// Factory makes an engine's state for a new Detector.
type Factory func(d *Detector) Engine

var (
	regMu     sync.RWMutex
	factories []namedFactory
	types     = map[string]*alert.Type{}
)

type namedFactory struct {
	name string
	f    Factory
}

// Register adds an engine implementation and the alert types it raises.
// It panics on a duplicate name or type id, or an ill-formed type:
// catalogue errors fail at startup.
func Register(name string, f Factory, ts ...*alert.Type) {
	regMu.Lock()
	defer regMu.Unlock()
	for _, nf := range factories {
		if nf.name == name {
			panic(fmt.Sprintf("detect: engine %q registered twice", name))
		}
	}
	for _, t := range ts {
		if err := checkType(t); err != nil {
			panic(err)
		}
		if _, dup := types[t.ID]; dup {
			panic(fmt.Sprintf("detect: alert type %q registered twice", t.ID))
		}
		types[t.ID] = t
	}
	factories = append(factories, namedFactory{name, f})
	slices.SortFunc(factories, func(a, b namedFactory) int { return strings.Compare(a.name, b.name) })
}

func checkType(t *alert.Type) error {
	switch {
	case t.ID == "" || strings.ContainsAny(t.ID, " \t\n"):
		return fmt.Errorf("detect: alert type id %q is empty or has spaces", t.ID)
	case t.Engine < alert.Policy || t.Engine > alert.Operational:
		return fmt.Errorf("detect: alert type %q has no engine", t.ID)
	case t.Severity < alert.Low || t.Severity > alert.Critical:
		return fmt.Errorf("detect: alert type %q has no severity", t.ID)
	case t.Name == "" || t.Title == "" || t.Description == "" || t.Category == "":
		return fmt.Errorf("detect: alert type %q lacks a name, title, description or category", t.ID)
	case len(t.Techniques) == 0:
		return fmt.Errorf("detect: alert type %q names no ATT&CK technique", t.ID)
	case len(t.Remediation) == 0:
		return fmt.Errorf("detect: alert type %q has no remediation", t.ID)
	}
	return nil
}

// Types returns every registered alert type, sorted by id.
func Types() []*alert.Type {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]*alert.Type, 0, len(types))
	for _, t := range types {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *alert.Type) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// LookupType returns the alert type with the given id, or nil.
func LookupType(id string) *alert.Type {
	regMu.RLock()
	defer regMu.RUnlock()
	return types[id]
}

// EngineNames returns the names of the registered engine implementations.
func EngineNames() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, len(factories))
	for i, nf := range factories {
		out[i] = nf.name
	}
	return out
}

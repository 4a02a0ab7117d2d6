package dissect

import (
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// Direction says which way bytes travel within a flow.
type Direction uint8

// Directions. The client is the side that opened the connection (sent the
// SYN) or, for UDP, sent the first datagram.
const (
	ToServer Direction = iota
	ToClient
)

// String returns "to_server" or "to_client".
func (d Direction) String() string {
	if d == ToClient {
		return "to_client"
	}
	return "to_server"
}

// Transport is the layer-4 protocol of a port registration.
type Transport uint8

// Transports.
const (
	TransportTCP Transport = 6
	TransportUDP Transport = 17
)

// String returns "tcp" or "udp".
func (t Transport) String() string {
	if t == TransportUDP {
		return "udp"
	}
	return "tcp"
}

// Port is a transport and port number a dissector claims.
type Port struct {
	Transport Transport
	Number    uint16
}

// TCP returns the TCP port n.
func TCP(n uint16) Port { return Port{TransportTCP, n} }

// UDP returns the UDP port n.
func UDP(n uint16) Port { return Port{TransportUDP, n} }

// Flow describes the flow a Session is created for.
type Flow struct {
	ID        uint64    // flow id from the flow table
	Transport Transport // TCP or UDP
	Client    Endpoint
	Server    Endpoint
	Start     time.Time
}

// Session parses one flow. Feed gets whatever ordered bytes reassembly holds
// for one direction (for UDP: one datagram), consumes only whole PDUs and
// returns how many bytes it used; the rest are presented again, with more
// appended, on the next call. data is valid only during the call.
//
// A Session reports a protocol violation by emitting an Operation whose
// Result.Status is StatusMalformed; an error return means the session cannot
// resynchronise and the dispatcher stops feeding it.
type Session interface {
	Feed(dir Direction, data []byte, ctx *Context) (n int, err error)
	// Gap tells the session that lost bytes of direction dir are missing
	// before the next Feed (capture loss, a window overflow). The session
	// drops any partial PDU for that direction and resynchronises.
	Gap(dir Direction, lost int, ctx *Context)
	// Close is called once when the flow ends or is evicted.
	Close(ctx *Context)
}

// Context carries what a session needs to emit operations for the bytes it
// is handed: time, packet references and the emitter. It is valid only
// during the call that received it.
type Context struct {
	Flow *Flow
	// Time is the capture time of the newest packet in the data.
	Time time.Time
	// Packet references the newest packet whose bytes are in the data.
	Packet PacketRef
	// Emitter receives the session's operations.
	Emitter Emitter
	// op is a scratch operation reused across calls to avoid allocation.
	op Operation
}

// Op returns a cleared scratch Operation pre-filled with the flow's
// endpoints, transport, time and packet reference. The session fills in
// the rest and calls Emit. The returned Operation is reused by the next Op.
func (c *Context) Op(protocol string) *Operation {
	op := &c.op
	op.Reset()
	op.Time = c.Time
	op.Protocol = protocol
	if c.Flow != nil {
		op.Transport = c.Flow.Transport.String()
		op.Client = c.Flow.Client
		op.Server = c.Flow.Server
	}
	op.Packets = append(op.Packets, c.Packet)
	return op
}

// Emit hands op to the context's emitter.
func (c *Context) Emit(op *Operation) {
	if c.Emitter != nil {
		c.Emitter.Emit(op)
	}
}

// Dissector recognises one protocol carried over TCP or UDP and creates a
// Session per flow.
type Dissector interface {
	// Name is the protocol's key in config, metrics and operations ("modbus").
	Name() string
	// Probe reports whether the first payload of a flow on an unregistered
	// port looks like this protocol. It must not allocate or keep payload.
	Probe(payload []byte) bool
	// NewSession returns a new Session for flow f.
	NewSession(f *Flow) Session
}

// Frame is a decoded layer-2 frame handed to a FrameDissector.
type Frame struct {
	Time      time.Time
	SrcMAC    [6]byte
	DstMAC    [6]byte
	EtherType uint16
	VLAN      uint16 // innermost VLAN id, 0 if untagged
	Payload   []byte // the bytes after the EtherType (and VLAN tags)
	Packet    PacketRef
	// SNAP is set for IEEE 802.3 frames with an LLC/SNAP header whose OUI
	// is not 0 (CDP: OUI 0x00000c, PID 0x2000); EtherType is then 0 and
	// Payload starts after the SNAP header.
	SNAP bool
	OUI  uint32
	PID  uint16
	// LLC is set for IEEE 802.3 frames with a plain 802.2 LLC header
	// (dispatched by DSAP); Payload starts after the LLC header.
	LLC        bool
	DSAP, SSAP uint8
	// SrcIP and DstIP are set for frames that carry IP (unused by pure L2
	// protocols).
	SrcIP, DstIP netip.Addr
}

// FrameDissector decodes a layer-2 protocol selected by EtherType.
//
// A FrameDissector that keeps state across frames (requests waiting for
// their responses) may also have a method Flush(ctx *Context), which the
// pipeline calls when its input ends.
type FrameDissector interface {
	Name() string
	// Dissect decodes one frame. f and its Payload are valid only during
	// the call. Operations go to ctx (ctx.Op, ctx.Emit); ctx.Flow is nil.
	Dissect(f *Frame, ctx *Context)
}

var (
	mu        sync.RWMutex
	byName    = map[string]Dissector{}
	byPort    = map[Port]Dissector{}
	etherName = map[string]FrameDissector{}
	byEther   = map[uint16]FrameDissector{}
	bySNAP    = map[uint64]FrameDissector{}
	byLLC     = map[uint8]FrameDissector{}
	probeList []Dissector
)

// Register adds a TCP/UDP dissector and the ports it claims. It panics on a
// duplicate name or port: configuration errors fail at startup, not under
// traffic. Every registered dissector is also probed on flows whose ports
// no dissector claims.
func Register(d Dissector, ports ...Port) {
	mu.Lock()
	defer mu.Unlock()
	name := d.Name()
	if _, dup := byName[name]; dup {
		panic(fmt.Sprintf("dissect: dissector %q registered twice", name))
	}
	for _, p := range ports {
		if other, dup := byPort[p]; dup {
			panic(fmt.Sprintf("dissect: %s port %d claimed by %q and %q", p.Transport, p.Number, other.Name(), name))
		}
	}
	byName[name] = d
	for _, p := range ports {
		byPort[p] = d
	}
	probeList = append(probeList, d)
	sort.Slice(probeList, func(i, j int) bool { return probeList[i].Name() < probeList[j].Name() })
}

// RegisterEtherType adds a layer-2 dissector for the given EtherTypes. It
// panics on a duplicate name or EtherType.
func RegisterEtherType(d FrameDissector, types ...uint16) {
	mu.Lock()
	defer mu.Unlock()
	name := d.Name()
	if _, dup := etherName[name]; dup {
		panic(fmt.Sprintf("dissect: frame dissector %q registered twice", name))
	}
	for _, t := range types {
		if other, dup := byEther[t]; dup {
			panic(fmt.Sprintf("dissect: EtherType %#04x claimed by %q and %q", t, other.Name(), name))
		}
	}
	etherName[name] = d
	for _, t := range types {
		byEther[t] = d
	}
}

// RegisterSNAP adds a layer-2 dissector for IEEE 802.3 LLC/SNAP frames
// with the given OUI and protocol id (CDP: 0x00000c, 0x2000). A name may
// be registered with RegisterEtherType as well. It panics on a duplicate
// OUI/PID.
func RegisterSNAP(d FrameDissector, oui uint32, pid uint16) {
	mu.Lock()
	defer mu.Unlock()
	k := uint64(oui)<<16 | uint64(pid)
	if other, dup := bySNAP[k]; dup {
		panic(fmt.Sprintf("dissect: SNAP %06x/%04x claimed by %q and %q", oui, pid, other.Name(), d.Name()))
	}
	etherName[d.Name()] = d
	bySNAP[k] = d
}

// RegisterLLC adds a layer-2 dissector for IEEE 802.3 frames whose 802.2
// LLC header has the given DSAP (BACnet/Ethernet: 0x82). The Frame it gets
// has LLC set, DSAP and SSAP filled in and Payload after the LLC header.
// It panics on a duplicate SAP.
func RegisterLLC(d FrameDissector, sap uint8) {
	mu.Lock()
	defer mu.Unlock()
	if other, dup := byLLC[sap]; dup {
		panic(fmt.Sprintf("dissect: LLC SAP %#02x claimed by %q and %q", sap, other.Name(), d.Name()))
	}
	etherName[d.Name()] = d
	byLLC[sap] = d
}

// ByLLC returns the frame dissector registered for an LLC DSAP, or nil.
func ByLLC(sap uint8) FrameDissector {
	mu.RLock()
	defer mu.RUnlock()
	return byLLC[sap]
}

// BySNAP returns the frame dissector registered for an LLC/SNAP OUI and
// protocol id, or nil.
func BySNAP(oui uint32, pid uint16) FrameDissector {
	mu.RLock()
	defer mu.RUnlock()
	return bySNAP[uint64(oui)<<16|uint64(pid)]
}

// FrameDissectors returns every registered layer-2 dissector, sorted by
// name.
func FrameDissectors() []FrameDissector {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]FrameDissector, 0, len(etherName))
	for _, d := range etherName {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// ByPort returns the dissector registered for p, or nil.
func ByPort(p Port) Dissector {
	mu.RLock()
	defer mu.RUnlock()
	return byPort[p]
}

// ByEtherType returns the frame dissector registered for t, or nil.
func ByEtherType(t uint16) FrameDissector {
	mu.RLock()
	defer mu.RUnlock()
	return byEther[t]
}

// ByName returns the TCP/UDP dissector called name, or nil.
func ByName(name string) Dissector {
	mu.RLock()
	defer mu.RUnlock()
	return byName[name]
}

// Probe returns the first registered dissector, in name order, whose Probe
// accepts payload, or nil.
func Probe(payload []byte) Dissector {
	mu.RLock()
	defer mu.RUnlock()
	for _, d := range probeList {
		if d.Probe(payload) {
			return d
		}
	}
	return nil
}

// Names returns the names of all registered dissectors, TCP/UDP and
// layer-2, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(byName)+len(etherName))
	for n := range byName {
		out = append(out, n)
	}
	for n := range etherName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

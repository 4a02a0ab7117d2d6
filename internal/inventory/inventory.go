package inventory

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/service"
	"github.com/otwatch/otwatch/internal/oui"
)

// DeviceID identifies a device within one Inventory, from 1.
type DeviceID uint32

// Options configures an Inventory.
type Options struct {
	// SensorMACs and SensorIPs are the sensor's own addresses; they never
	// become devices and their traffic makes no connections.
	SensorMACs [][6]byte
	SensorIPs  []netip.Addr
	// Tick is how much capture time passes between resolution steps
	// (binding IPs to devices, dispatching events).
	Tick time.Duration
	// Settle is how long an IP address is watched before it is bound to a
	// device without an ARP claim.
	Settle time.Duration
	// Hold is how long the owner of an IP address keeps it against
	// another MAC's ARP claims after the owner's last frame. While the
	// owner holds the address a claim is a conflict: the claimant stays a
	// device of its own, the claim becomes its FactClaimedIP fact and an
	// EventIPConflict. A claim made once the owner has been silent for Hold
	// takes the address over.
	Hold time.Duration
	// Inactive is how long a device may stay silent before an
	// EventInactive; 0 turns the event off.
	Inactive time.Duration
	// MaxHostIPs is how many IPs a MAC may send from before it is taken
	// for a router.
	MaxHostIPs int
	// SubnetBits4 and SubnetBits6 are the prefix lengths taken as a
	// device's subnet when none is known.
	SubnetBits4, SubnetBits6 int
	// MaxMACs, MaxAddresses and MaxConnections bound memory: past them
	// new MAC addresses (a MAC flood makes one per frame), IP addresses
	// and connections are counted in Stats but not kept.
	MaxMACs        int
	MaxAddresses   int
	MaxConnections int
	// Sink receives events; nil drops them.
	Sink Sink
}

// DefaultOptions are the defaults.
var DefaultOptions = Options{
	Tick:           5 * time.Second,
	Settle:         10 * time.Second,
	Hold:           5 * time.Minute,
	Inactive:       time.Hour,
	MaxHostIPs:     3,
	SubnetBits4:    24,
	SubnetBits6:    64,
	MaxMACs:        1 << 20,
	MaxAddresses:   1 << 21,
	MaxConnections: 1 << 22,
}

// Stats counts what the Inventory dropped or could not place.
type Stats struct {
	MACsDropped        uint64 // new MACs past MaxMACs
	AddressesDropped   uint64 // new IPs past MaxAddresses
	ConnectionsDropped uint64 // new connections past MaxConnections
	ConflictsDropped   uint64 // new ARP conflicts past the limit of remembered ones
}

// sym is an interned string; 0 is "".
type sym uint32

// interner keeps one copy of every string the inventory stores.
type interner struct {
	m map[string]sym
	s []string
}

func (in *interner) get(s string) sym {
	if s == "" {
		return 0
	}
	if v, ok := in.m[s]; ok {
		return v
	}
	c := strings.Clone(s)
	v := sym(len(in.s))
	in.s = append(in.s, c)
	in.m[c] = v
	return v
}

func (in *interner) str(v sym) string { return in.s[v] }

// ref names an endpoint: an IP address record (index+1), with refMAC set
// a MAC record (index+1), with refRouted set a routed device record
// (index+1). 0 is none.
type ref uint32

const (
	refMAC    ref = 1 << 31
	refRouted ref = 1 << 30
)

// fact is one value of one key about an endpoint, from one source.
type fact struct {
	key, value, source sym
	rank               uint8
	first, last        int64
}

// svc is a protocol an endpoint serves or uses.
type svc struct {
	proto     sym
	port      uint16
	transport uint8
	serves    bool
	parsed    bool   // seen by a dissector, not only as an answered port
	announced bool   // a new_protocol event was considered for it
	classes   uint16 // bitmask of dissect.Class seen
}

// seenMAC counts frames from one MAC carrying an IP as source.
type seenMAC struct {
	mac uint32 // MAC record index+1
	n   uint32
}

// addrRec is one IP address.
type addrRec struct {
	ip          netip.Addr
	dev         DeviceID
	macs        [3]seenMAC
	arp         uint32 // MAC record index+1 that owns the IP by its ARP claims
	first, last int64  // as a source
	pkts        [2]uint32
	bytes       [2]uint64
	facts       []fact
	svcs        []svc
	dirty       bool
}

// macRec is one unicast MAC address.
type macRec struct {
	mac         [6]byte
	dev         DeviceID
	ips         [8]uint32 // first IP records it sent from (index+1)
	nIPs        uint16
	dips        [4]uint32 // first IP records frames to it were addressed to (index+1)
	nDIPs       uint16    // distinct destination IPs (approximate past len(dips))
	forwarder   bool
	dirty       bool
	first, last int64
	pkts        [2]uint32
	bytes       [2]uint64
	facts       []fact
	svcs        []svc
}

// routedKey names a device on another BACnet network: the endpoint of the
// router that forwards its messages, the source network number (SNET) and
// its MAC address on that network (SADR, as the dissector prints it).
type routedKey struct {
	router ref
	snet   uint16
	sadr   sym
}

// routedRec is a device the sensor sees only through a router.
type routedRec struct {
	routedKey
	dev         DeviceID
	merged      uint32 // record (index+1) this one was folded into, 0 if none
	first, last int64
	facts       []fact
}

// device groups endpoints.
type device struct {
	mac       uint32   // MAC record index+1, 0 for a device known by IP
	routed    uint32   // routed record index+1 for a device behind a router
	addrs     []uint32 // IP record indexes+1
	announced bool
	inactive  bool
	removed   bool
	born      int64
}

type edgeKey struct {
	client, server ref
	port           uint16
	transport      uint8
}

// edge is traffic between two endpoints to one server port.
type edge struct {
	client, server ref
	proto          sym
	port           uint16
	transport      uint8
	announced      bool
	classes        uint16
	first, last    int64
	pkts           [2]uint32 // to server, to client
	bytes          [2]uint64
	reqs           uint32 // client payload bursts
	burst          int64  // start of the last client burst
	gapMean        float32
	gapDev         float32
	gaps           uint32
}

// pending is an event waiting for its endpoint to be bound to a device.
type pending struct {
	ev   Event
	who  ref
	peer ref
}

// Inventory is the device inventory. Feed it every frame (Packet) and
// every operation (Emit).
type Inventory struct {
	opts  Options
	names interner

	addrs   []addrRec
	addrIdx map[netip.Addr]uint32
	macs    []macRec
	macIdx  map[[6]byte]uint32
	devs    []device
	edges   []edge
	edgeIdx map[edgeKey]uint32
	srcIdx  map[[2]string]sym

	routed      []routedRec
	routedIdx   map[routedKey]uint32
	routedDirty bool // a routed record or an address binding changed since mergeRouted

	pairs     map[[3]uint32]struct{} // device pairs and protocol already announced
	overrides map[string]Override

	dirtyAddrs []uint32
	dirtyMACs  []uint32
	newEdges   []uint32
	pend       []pending
	contests   []contest
	contestIdx map[[2]uint32]int // contests by IP and MAC record; -1 for one that ended

	used map[svcKey]bool // during Snapshot

	now, lastTick int64
	stats         Stats
	ouiSrc        sym
	arpSrc        sym
}

// New returns an empty Inventory. Zero fields of opts take their defaults.
func New(opts Options) *Inventory {
	d := DefaultOptions
	if opts.Tick <= 0 {
		opts.Tick = d.Tick
	}
	if opts.Settle <= 0 {
		opts.Settle = d.Settle
	}
	if opts.Hold <= 0 {
		opts.Hold = d.Hold
	}
	if opts.MaxHostIPs <= 0 {
		opts.MaxHostIPs = d.MaxHostIPs
	}
	if opts.SubnetBits4 <= 0 {
		opts.SubnetBits4 = d.SubnetBits4
	}
	if opts.SubnetBits6 <= 0 {
		opts.SubnetBits6 = d.SubnetBits6
	}
	if opts.MaxMACs <= 0 {
		opts.MaxMACs = d.MaxMACs
	}
	opts.MaxMACs = min(opts.MaxMACs, int(refRouted-1)) // record indexes stay below the ref flags
	if opts.MaxAddresses <= 0 {
		opts.MaxAddresses = d.MaxAddresses
	}
	opts.MaxAddresses = min(opts.MaxAddresses, int(refRouted-1)) // record indexes stay below the ref flags
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = d.MaxConnections
	}
	inv := &Inventory{
		opts:      opts,
		names:     interner{m: map[string]sym{"": 0}, s: []string{""}},
		addrIdx:   map[netip.Addr]uint32{},
		macIdx:    map[[6]byte]uint32{},
		edgeIdx:   map[edgeKey]uint32{},
		srcIdx:    map[[2]string]sym{},
		routedIdx: map[routedKey]uint32{},
		pairs:     map[[3]uint32]struct{}{},
		overrides: map[string]Override{},

		contestIdx: map[[2]uint32]int{},
	}
	inv.ouiSrc = inv.names.get("oui")
	inv.arpSrc = inv.names.get("arp")
	return inv
}

// Stats returns the inventory's counters.
func (inv *Inventory) Stats() Stats { return inv.stats }

func (inv *Inventory) sensorMAC(m [6]byte) bool {
	for _, s := range inv.opts.SensorMACs {
		if s == m {
			return true
		}
	}
	return false
}

func (inv *Inventory) sensorIP(a netip.Addr) bool {
	for _, s := range inv.opts.SensorIPs {
		if s == a {
			return true
		}
	}
	return false
}

// usableMAC reports whether m can name a device.
func (inv *Inventory) usableMAC(m [6]byte) bool {
	return m != [6]byte{} && m[0]&1 == 0 && !inv.sensorMAC(m)
}

// usableIP reports whether a can name a device.
func (inv *Inventory) usableIP(a netip.Addr) bool {
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return false
	}
	return !inv.sensorIP(a)
}

// macRef returns the record of a usable unicast MAC, creating it and its
// device; 0 past MaxMACs.
func (inv *Inventory) macRef(m [6]byte, t int64) uint32 {
	if i, ok := inv.macIdx[m]; ok {
		return i
	}
	if len(inv.macs) >= inv.opts.MaxMACs {
		inv.stats.MACsDropped++
		return 0
	}
	inv.macs = append(inv.macs, macRec{mac: m, first: t, last: t})
	i := uint32(len(inv.macs))
	inv.macIdx[m] = i
	inv.devs = append(inv.devs, device{mac: i, born: t})
	mr := &inv.macs[i-1]
	mr.dev = DeviceID(len(inv.devs))
	if v := oui.Vendor(m); v != "" {
		mr.facts = append(mr.facts, fact{key: inv.names.get(dissect.FactVendor), value: inv.names.get(v), source: inv.ouiSrc, rank: rankOUI, first: t, last: t})
	}
	return i
}

// addrRef returns the record of a usable IP, creating it; 0 past
// MaxAddresses.
func (inv *Inventory) addrRef(a netip.Addr, t int64) uint32 {
	if i, ok := inv.addrIdx[a]; ok {
		return i
	}
	if len(inv.addrs) >= inv.opts.MaxAddresses {
		inv.stats.AddressesDropped++
		return 0
	}
	inv.addrs = append(inv.addrs, addrRec{ip: a})
	i := uint32(len(inv.addrs))
	inv.addrIdx[a] = i
	return i
}

func (inv *Inventory) markAddr(i uint32) {
	if a := &inv.addrs[i-1]; !a.dirty {
		a.dirty = true
		inv.dirtyAddrs = append(inv.dirtyAddrs, i)
	}
}

func (inv *Inventory) markMAC(i uint32) {
	if m := &inv.macs[i-1]; !m.dirty {
		m.dirty = true
		inv.dirtyMACs = append(inv.dirtyMACs, i)
	}
}

// bind records that MAC m sent a frame from IP a.
func (inv *Inventory) bind(m, a uint32) {
	ar := &inv.addrs[a-1]
	for k := range ar.macs {
		s := &ar.macs[k]
		if s.mac == m {
			s.n++
			return
		}
		if s.mac == 0 {
			*s = seenMAC{m, 1}
			mr := &inv.macs[m-1]
			if int(mr.nIPs) < len(mr.ips) {
				mr.ips[mr.nIPs] = a
			}
			if mr.nIPs < math.MaxUint16 {
				mr.nIPs++
			}
			inv.markMAC(m)
			inv.markAddr(a)
			for _, o := range ar.macs[:k] {
				inv.markMAC(o.mac) // another MAC sends from a: re-judge both
			}
			return
		}
	}
}

// receives records that a frame to MAC m was addressed to IP a.
func (inv *Inventory) receives(m, a uint32) {
	mr := &inv.macs[m-1]
	for k, x := range mr.dips {
		if x == a {
			return
		}
		if x == 0 {
			mr.dips[k] = a
			mr.nDIPs++
			inv.markMAC(m)
			return
		}
	}
	if mr.nDIPs < math.MaxUint16 {
		mr.nDIPs++
		if int(mr.nDIPs) == inv.opts.MaxHostIPs+1 {
			inv.markMAC(m)
		}
	}
}

// Packet implements pipeline.Observer.
func (inv *Inventory) Packet(p *decode.Packet, err error) {
	t := p.Timestamp.UnixNano()
	if t > inv.now {
		inv.now = t
	}
	n := uint64(max(p.Length, 0))
	var sm, dm uint32
	if p.HasMAC && inv.usableMAC(p.SrcMAC) {
		if sm = inv.macRef(p.SrcMAC, t); sm != 0 {
			mr := &inv.macs[sm-1]
			mr.last = max(mr.last, t)
		}
	}
	dstUnicast := !p.HasDstMAC || p.DstMAC[0]&1 == 0
	if p.HasDstMAC && dstUnicast && inv.usableMAC(p.DstMAC) {
		dm = inv.macIdx[p.DstMAC]
	}
	if p.Network == decode.NetARP {
		if sm != 0 && p.ARP.SenderMAC == p.SrcMAC && inv.usableIP(p.ARP.SenderIP) {
			if a := inv.addrRef(p.ARP.SenderIP, t); a != 0 {
				inv.claimARP(sm, a, t)
			}
		}
	}
	if !p.SrcIP.IsValid() || p.Network == decode.NetARP {
		if sm != 0 {
			inv.macs[sm-1].pkts[0]++
			inv.macs[sm-1].bytes[0] += n
		}
		if dm != 0 {
			inv.macs[dm-1].pkts[1]++
			inv.macs[dm-1].bytes[1] += n
		}
		inv.maybeTick()
		return
	}
	var s, d uint32
	if inv.usableIP(p.SrcIP) {
		s = inv.addrRef(p.SrcIP, t)
	}
	if dstUnicast && inv.usableIP(p.DstIP) {
		d = inv.addrRef(p.DstIP, t)
	}
	if s != 0 {
		ar := &inv.addrs[s-1]
		if ar.first == 0 {
			ar.first = t
			inv.markAddr(s)
		}
		ar.last = max(ar.last, t)
		ar.pkts[0]++
		ar.bytes[0] += n
		if sm != 0 {
			inv.bind(sm, s)
		}
	}
	if d != 0 {
		ar := &inv.addrs[d-1]
		ar.pkts[1]++
		ar.bytes[1] += n
	}
	if d != 0 && dm != 0 {
		inv.receives(dm, d)
	}
	if s != 0 && d != 0 && err == nil {
		inv.observeEdge(p, ref(s), ref(d), t, n)
	}
	inv.maybeTick()
}

// serverPort says whether port is a service port, as the flow table does.
func serverPort(t uint8, port uint16) bool {
	tr := dissect.Transport(t)
	return port < 1024 || dissect.ByPort(dissect.Port{Transport: tr, Number: port}) != nil || service.Name(tr, port) != ""
}

// observeEdge counts a frame from endpoint s to endpoint d.
func (inv *Inventory) observeEdge(p *decode.Packet, s, d ref, t int64, n uint64) {
	tr := p.IPProto
	var sp, dp uint16
	if p.Transport == decode.ProtoTCP || p.Transport == decode.ProtoUDP {
		sp, dp = p.SrcPort, p.DstPort
	}
	dir := 0
	i, ok := inv.edgeIdx[edgeKey{s, d, dp, tr}]
	if !ok {
		if i, ok = inv.edgeIdx[edgeKey{d, s, sp, tr}]; ok {
			dir = 1
		}
	}
	if !ok {
		toServer := true
		switch {
		case p.Transport == decode.ProtoTCP && p.TCPFlags&decode.TCPFlagSYN != 0:
			toServer = p.TCPFlags&decode.TCPFlagACK == 0
		case sp == dp || p.Transport != decode.ProtoTCP && p.Transport != decode.ProtoUDP:
		default:
			ds, ss := serverPort(tr, dp), serverPort(tr, sp)
			toServer = ds && !ss || ds == ss && dp < sp
		}
		k := edgeKey{s, d, dp, tr}
		if !toServer {
			k = edgeKey{d, s, sp, tr}
			dir = 1
		}
		i = inv.newEdge(k, t)
		if i == 0 {
			return
		}
	}
	e := &inv.edges[i-1]
	e.last = t
	if e.pkts[dir] < math.MaxUint32 {
		e.pkts[dir]++
	}
	e.bytes[dir] += n
	if dir == 0 && len(p.Payload) > 0 {
		inv.request(e, t)
	}
}

// burstGap is how close client payloads must be to count as one request
// burst (the requests of one polling cycle).
const burstGap = int64(100 * time.Millisecond)

// request updates an edge's polling statistics with a client payload.
func (inv *Inventory) request(e *edge, t int64) {
	if e.reqs > 0 && t-e.burst < burstGap {
		return
	}
	if e.reqs > 0 {
		gap := float32(float64(t-e.burst) / 1e9)
		if e.gaps == 0 {
			e.gapMean = gap
		} else {
			e.gapMean += (gap - e.gapMean) / 8
			dev := gap - e.gapMean
			if dev < 0 {
				dev = -dev
			}
			e.gapDev += (dev - e.gapDev) / 8
		}
		e.gaps++
	}
	e.reqs++
	e.burst = t
}

func (inv *Inventory) newEdge(k edgeKey, t int64) uint32 {
	if len(inv.edges) >= inv.opts.MaxConnections {
		inv.stats.ConnectionsDropped++
		return 0
	}
	inv.edges = append(inv.edges, edge{client: k.client, server: k.server, port: k.port, transport: k.transport, first: t, last: t})
	i := uint32(len(inv.edges))
	inv.edgeIdx[k] = i
	inv.newEdges = append(inv.newEdges, i)
	return i
}

// endpoint returns the record of an operation's endpoint: its IP when it
// has a usable one (the MAC of a routed peer's frames is the router's),
// else its MAC.
func (inv *Inventory) endpoint(e dissect.Endpoint, t int64) ref {
	if e.IP.IsValid() {
		if !inv.usableIP(e.IP) {
			return 0
		}
		return ref(inv.addrRef(e.IP, t))
	}
	if inv.usableMAC(e.MAC) {
		if i := inv.macRef(e.MAC, t); i != 0 {
			return refMAC | ref(i)
		}
	}
	return 0
}

func transportOf(s string) uint8 {
	switch s {
	case "tcp":
		return decode.ProtoTCP
	case "udp":
		return decode.ProtoUDP
	}
	return 0
}

// source interns an operation's provenance: "protocol.function".
func (inv *Inventory) source(protocol, function string) sym {
	k := [2]string{protocol, function}
	if s, ok := inv.srcIdx[k]; ok {
		return s
	}
	f := strings.ToLower(strings.Join(strings.Fields(function), "_"))
	name := protocol
	if f != "" && f != protocol {
		name += "." + f
	}
	s := inv.names.get(name)
	inv.srcIdx[[2]string{strings.Clone(protocol), strings.Clone(function)}] = s
	return s
}

// Emit implements dissect.Emitter.
func (inv *Inventory) Emit(op *dissect.Operation) {
	t := op.Time.UnixNano()
	if t > inv.now {
		inv.now = t
	}
	cli := inv.endpoint(op.Client, t)
	srv := inv.endpoint(op.Server, t)
	proto := op.Protocol
	answered := op.Response || op.Result.Status == dissect.StatusOK || op.Result.Status == dissect.StatusError
	if proto == "service" {
		proto = op.FunctionName
		answered = op.Result.Status == dissect.StatusOK
	}
	tr := transportOf(op.Transport)
	if cli != 0 && srv != 0 && cli&refMAC == 0 && srv&refMAC == 0 {
		k := edgeKey{cli, srv, op.Server.Port, tr}
		i, ok := inv.edgeIdx[k]
		if !ok {
			i = inv.newEdge(k, t)
		}
		if i != 0 {
			e := &inv.edges[i-1]
			if op.Protocol != "service" || e.proto == 0 {
				e.proto = inv.names.get(proto)
			}
			if op.Protocol != "service" {
				e.classes |= 1 << op.Class
			}
		}
	}
	// Services: what a device answers on and asks others for. Layer-2
	// operations (no transport) say nothing about services, and a flow
	// between equal ports (ENIP I/O, BACnet, NTP peers) has no server.
	if answered && op.Result.Status != dissect.StatusMalformed && proto != "unknown" && tr != 0 {
		serves := op.Client.Port != op.Server.Port
		p := inv.names.get(proto)
		var cl uint16
		parsed := op.Protocol != "service"
		if parsed {
			cl = 1 << op.Class
		}
		if srv != 0 {
			inv.addService(srv, svc{proto: p, port: op.Server.Port, transport: tr, serves: serves, parsed: parsed, classes: cl}, t)
		}
		if cli != 0 {
			inv.addService(cli, svc{proto: p, port: op.Server.Port, transport: tr, parsed: parsed, classes: cl}, t)
		}
	}
	if op.Protocol == "bacnet" && len(op.Attrs) > 0 {
		// A BACnet router forwards the messages of devices on other
		// BACnet networks: what they say is about them, not the router.
		var cliFacts, srvFacts bool
		for i := range op.Identity {
			if op.Identity[i].Server {
				srvFacts = true
			} else {
				cliFacts = true
			}
		}
		if r := inv.bacnetRouted(op, cli, false, cliFacts, t); r != 0 {
			cli = r
		}
		if r := inv.bacnetRouted(op, srv, true, srvFacts, t); r != 0 {
			srv = r
		}
	}
	if cli != 0 && op.Result.Status == dissect.StatusOK && publishes(op) {
		// Only an IED publishes GOOSE, and only a merging unit (or an
		// IED acting as one) sampled values (IEC 61850-8-1, -9-2).
		v := "IEC 61850 IED (publishes GOOSE)"
		if op.Protocol == "sv" {
			v = "IEC 61850 merging unit (publishes sampled values)"
		}
		inv.addFact(cli, dissect.FactDeviceType, v, inv.source(op.Protocol, op.FunctionName), rankOf(op.Protocol, dissect.FactDeviceType), t)
	}
	if len(op.Identity) == 0 {
		return
	}
	src := inv.source(op.Protocol, op.FunctionName)
	nameService := op.Protocol == "dns" || op.Protocol == "mdns" || op.Protocol == "llmnr"
	ipAttr := 0
	for _, f := range op.Identity {
		who := cli
		if f.Server {
			who = srv
		}
		if nameService && f.Key == dissect.FactHostname {
			// A name-service answer names the address in its paired "ip"
			// attribute, often a third host: the name goes to an endpoint
			// only when the address is that endpoint's.
			addr := nthAttr(op, "ip", ipAttr)
			ipAttr++
			switch addr {
			case op.Client.IP.String():
				who = cli
			case op.Server.IP.String():
				who = srv
			default:
				continue
			}
		}
		v := strings.TrimSpace(f.Value)
		if who == 0 || v == "" || f.Key == "" {
			continue
		}
		inv.addFact(who, f.Key, v, src, rankOf(op.Protocol, f.Key), t)
	}
}

// publishes reports whether op is a GOOSE or sampled values publication
// (not GSE management, which clients and servers both send).
func publishes(op *dissect.Operation) bool {
	switch op.Protocol {
	case "goose":
		return op.FunctionName == "publish" || op.FunctionName == "state_change"
	case "sv":
		return op.FunctionName == "sv_publish"
	}
	return false
}

// nthAttr returns the value of the n-th attribute called key, or "".
func nthAttr(op *dissect.Operation, key string, n int) string {
	for _, a := range op.Attrs {
		if a.Key != key {
			continue
		}
		if n == 0 {
			return a.Value
		}
		n--
	}
	return ""
}

// bacnetRouted returns the routed device record of the client (server
// false) or server side of a BACnet operation whose message from that side
// came through a router (NPDU SNET/SADR, ANSI/ASHRAE 135 clause 6.2.2),
// creating it when create is set; 0 when that side sent its message
// itself. via is the endpoint the message came from, the router.
func (inv *Inventory) bacnetRouted(op *dissect.Operation, via ref, server, create bool, t int64) ref {
	if via == 0 || via&refRouted != 0 {
		return 0
	}
	// The request, or the only message, carries "snet"/"sadr"; the
	// response of a pair carries "response_snet"/"response_sadr".
	snetKey, sadrKey := "snet", "sadr"
	switch {
	case server && op.Request && op.Response:
		snetKey, sadrKey = "response_snet", "response_sadr"
	case server && !op.Response, !server && !op.Request:
		return 0
	}
	var snet, sadr string
	for i := range op.Attrs {
		switch op.Attrs[i].Key {
		case snetKey:
			snet = op.Attrs[i].Value
		case sadrKey:
			sadr = op.Attrs[i].Value
		}
	}
	if snet == "" || sadr == "" {
		return 0
	}
	n, err := strconv.ParseUint(snet, 10, 16)
	if err != nil || n == 0 || n == 0xffff {
		return 0 // not a source network number (clause 6.2.2)
	}
	sadr = strings.ToLower(sadr)
	k := routedKey{router: via, snet: uint16(n)}
	if k.sadr = inv.names.m[sadr]; k.sadr != 0 {
		if i, ok := inv.routedIdx[k]; ok {
			i = inv.canonical(i)
			rr := &inv.routed[i-1]
			rr.last = max(rr.last, t)
			return refRouted | ref(i)
		}
	}
	if !create {
		return 0
	}
	if len(inv.routed) >= inv.opts.MaxAddresses {
		inv.stats.AddressesDropped++
		return 0
	}
	k.sadr = inv.names.get(sadr)
	inv.routed = append(inv.routed, routedRec{routedKey: k, first: t, last: t})
	i := uint32(len(inv.routed))
	inv.routedIdx[k] = i
	inv.devs = append(inv.devs, device{routed: i, born: t})
	inv.routed[i-1].dev = DeviceID(len(inv.devs))
	inv.routedDirty = true
	return refRouted | ref(i)
}

// canonical follows routed record i (index+1) to the record it was folded
// into.
func (inv *Inventory) canonical(i uint32) uint32 {
	for inv.routed[i-1].merged != 0 {
		i = inv.routed[i-1].merged
	}
	return i
}

// routedAddress returns the address text of routed record i (index+1):
// "bacnet:<snet>:<sadr>".
func (inv *Inventory) routedAddress(i uint32) string {
	rr := &inv.routed[i-1]
	return "bacnet:" + strconv.Itoa(int(rr.snet)) + ":" + inv.names.str(rr.sadr)
}

func (inv *Inventory) factsOf(r ref) *[]fact {
	if r&refMAC != 0 {
		return &inv.macs[r&^refMAC-1].facts
	}
	if r&refRouted != 0 {
		return &inv.routed[inv.canonical(uint32(r&^refRouted))-1].facts
	}
	return &inv.addrs[r-1].facts
}

func (inv *Inventory) svcsOf(r ref) *[]svc {
	if r&refMAC != 0 {
		return &inv.macs[r&^refMAC-1].svcs
	}
	return &inv.addrs[r-1].svcs
}

// addService records that endpoint r serves or uses a protocol.
func (inv *Inventory) addService(r ref, s svc, t int64) {
	ss := inv.svcsOf(r)
	for i := range *ss {
		o := &(*ss)[i]
		if o.proto == s.proto && o.port == s.port && o.transport == s.transport && o.serves == s.serves {
			o.classes |= s.classes
			o.parsed = o.parsed || s.parsed
			return
		}
	}
	if r&refMAC == 0 {
		*ss = append(*ss, s) // announced with its first connection that exchanges data
		return
	}
	s.announced = true
	*ss = append(*ss, s)
	verb := "uses "
	if s.serves {
		verb = "serves "
	}
	inv.pend = append(inv.pend, pending{ev: Event{Type: EventNewProtocol, Time: time.Unix(0, t).UTC(),
		Detail: verb + inv.names.str(s.proto) + "/" + trName(s.transport) + " " + strconv.Itoa(int(s.port))}, who: r})
}

func trName(t uint8) string {
	switch t {
	case decode.ProtoTCP:
		return "tcp"
	case decode.ProtoUDP:
		return "udp"
	case decode.ProtoICMP:
		return "icmp"
	}
	return strconv.Itoa(int(t))
}

// addFact records one fact about endpoint r.
func (inv *Inventory) addFact(r ref, key, value string, src sym, rank uint8, t int64) {
	fs := inv.factsOf(r)
	k := inv.names.get(key)
	var old sym
	for i := range *fs {
		f := &(*fs)[i]
		if f.key != k || f.source != src {
			continue
		}
		if inv.names.str(f.value) == value {
			f.last = max(f.last, t)
			return
		}
		if f.last <= t {
			old = f.value
		}
	}
	v := inv.names.get(value)
	*fs = append(*fs, fact{key: k, value: v, source: src, rank: rank, first: t, last: t})
	var typ EventType
	switch key {
	case dissect.FactFirmware:
		typ = EventFirmwareChange
	case dissect.FactModel, dissect.FactProduct:
		typ = EventModelChange
	case dissect.FactHostname:
		typ = EventNewName
	}
	switch {
	case typ == "":
	case old != 0:
		inv.pend = append(inv.pend, pending{ev: Event{Type: typ, Time: time.Unix(0, t).UTC(),
			Detail: key + " " + inv.names.str(old) + " → " + value + " (" + inv.names.str(src) + ")"}, who: r})
	case typ == EventNewName:
		inv.pend = append(inv.pend, pending{ev: Event{Type: typ, Time: time.Unix(0, t).UTC(),
			Detail: "hostname " + value + " (" + inv.names.str(src) + ")"}, who: r})
	}
}

func (inv *Inventory) maybeTick() {
	if inv.now-inv.lastTick >= int64(inv.opts.Tick) {
		inv.tick(false)
	}
}

// Flush resolves every address seen so far, settled or not, and dispatches
// pending events. Call it at the end of a capture and before a snapshot
// that must include the newest devices.
func (inv *Inventory) Flush() { inv.tick(true) }

// devOf returns the device an endpoint belongs to, 0 if not yet bound.
func (inv *Inventory) devOf(r ref) DeviceID {
	switch {
	case r == 0:
		return 0
	case r&refMAC != 0:
		return inv.macs[r&^refMAC-1].dev
	case r&refRouted != 0:
		return inv.routed[inv.canonical(uint32(r&^refRouted))-1].dev
	}
	return inv.addrs[r-1].dev
}

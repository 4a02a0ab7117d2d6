package policy

import (
	"net/netip"
	"strings"
	"time"
	"unsafe"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/service"
)

func init() { detect.Register("policy", newEngine, types...) }

// Limits of the engine's own state.
const (
	// RangeBucket is the width of the register ranges the baseline keeps:
	// an access to holding register 1234 learns "holding_register:1200-1299".
	RangeBucket = 100
	// maxBuckets bounds the range entries one target is checked against.
	maxBuckets = 32
	// maxClients, maxFlows and maxNames bound the per-client scan state,
	// the connections found outside the baseline and the interned range
	// names.
	maxClients = 4096
	maxFlows   = 8192
	maxNames   = 4096
	maxIndex   = 1 << 16
	// burstWindow is the window in which a client's new connections and
	// refused connection attempts are counted.
	burstWindow = time.Minute
	// burstNew is the number of distinct new connections (server and
	// port) in burstWindow from which a client is treated as scanning: the
	// connections past burstNew-1 are not alerted one by one, the anomaly
	// engine reports the scan.
	burstNew = 4
	// maxNewDevices is the number of distinct new devices alerted in
	// burstWindow; past it (spoofed sources, a flood) they are counted as
	// muted, and the devices already alerted keep merging.
	maxNewDevices = 16
	// maxRanges is the number of new register ranges alerted per client
	// in burstWindow: a client sweeping the address space raises a few,
	// then is counted as muted.
	maxRanges = 8
	// burstRefused is the number of refused or unanswered connection
	// attempts in burstWindow from which a client is treated as scanning.
	burstRefused = 3
)

// engine is the policy engine's state in one Detector.
type engine struct {
	// indexed is set once industrial holds the baseline's industrial
	// hosts as the engine first checks an operation: it is built when
	// learning ends (Operational), and kept up to date by learn with the
	// late operations of the learning period until frozen at the first
	// check, where it is built again if the baseline changed otherwise
	// (indexLen counts the entries it accounts for) or it might have
	// been cut at maxIndex (stale).
	indexed, frozen, stale bool
	indexLen               int
	industrial             map[netip.Addr]struct{}
	clients                map[netip.Addr]*clientState
	// flows are connections (client, server, port) whose service
	// operation was outside the baseline: their operations are alerted as
	// a whole, so their functions are not checked one by one.
	flows map[flowKey]flowState
	names map[bucketKey]string
	// devices are the new devices alerted, and devStart and devCount the
	// current window of maxNewDevices.
	devices  map[baseline.Entry]struct{}
	devStart time.Time
	devCount int
	// muted counts findings not raised because their client was
	// scanning or new devices flooded in.
	muted uint64
	// senders are the local addresses that sent a packet while the
	// sensor learned, already in the baseline as devices.
	senders map[netip.Addr]struct{}
	// known caches the shapes of operations that check found entirely
	// within the baseline, so that the steady polling of a plant costs one
	// lookup instead of one per baseline entry. The baseline only grows
	// in operational mode, so a shape once known stays known: the engine
	// is then quiet on the operation's kind (detect.Detector.Quiet), and
	// the Detector stops handing it the conversation's operations of that
	// kind.
	known map[shape]shapeNames
	// findings counts the findings raised, to tell whether a check raised
	// one.
	findings uint64
}

// shape is what decides the outcome of check for an operation: its
// parties, protocol, function, class and result, and for Modbus its one
// target (the only protocol whose ranges are judged). Its strings are keyed by their data pointers and
// lengths, so that the key is plain memory and hashes in one pass:
// dissectors name protocols and functions with constant or interned
// strings, so the same name comes back at the same address. shapeNames
// holds the strings themselves, compared on a hit, so that a name that
// happens to reuse an address is never mistaken for another.
type shape struct {
	c, s                 [16]byte
	proto, fn, kind      uintptr
	protoN, fnN, kindN   uint32
	addr, n              uint32
	port                 uint16
	class, status, flags uint8
	pad                  [7]byte // keeps the struct free of implicit padding
}

type shapeNames struct{ protocol, function, kind string }

func strKey(s string) (uintptr, uint32) {
	return uintptr(unsafe.Pointer(unsafe.StringData(s))), uint32(len(s))
}

func shapeOf(op *dissect.Operation) (shape, shapeNames) {
	k := shape{c: op.Client.IP.As16(), s: op.Server.IP.As16(), port: op.Server.Port,
		class: uint8(op.Class), status: uint8(op.Result.Status)}
	if op.Response {
		k.flags |= 1
	}
	if !op.Client.IP.Is4() {
		k.flags |= 4
	}
	n := shapeNames{protocol: op.Protocol, function: op.FunctionName}
	k.proto, k.protoN = strKey(op.Protocol)
	k.fn, k.fnN = strKey(op.FunctionName)
	if len(op.Targets) == 1 && op.Protocol == "modbus" { // only Modbus ranges are judged
		t := &op.Targets[0]
		k.flags |= 2
		k.addr, k.n = t.Address, t.Count
		k.kind, k.kindN = strKey(t.Kind)
		n.kind = t.Kind
	}
	return k, n
}

// maxKnown bounds the shape cache; past it the cache starts again.
const maxKnown = 1 << 16

func (e *engine) raise(d *detect.Detector, f detect.Finding) {
	e.findings++
	d.Raise(f)
}

type flowKey struct {
	client, server netip.Addr
	port           uint16
}

// flowState is what the engine keeps of a connection outside the
// baseline.
type flowState struct {
	at time.Time
	// name is the connection's service; wait is set while a UDP
	// connection waits for its first operation that is not discovery
	// (see connection).
	name string
	wait bool
}

type bucketKey struct {
	kind  string
	start uint32
}

// clientState is what the engine counts of one client in the current
// burst window.
type clientState struct {
	start   time.Time
	refused int
	fresh   [burstNew]flowKey
	nfresh  int
	ranges  int
}

func newEngine(d *detect.Detector) detect.Engine {
	return &engine{
		clients: map[netip.Addr]*clientState{},
		flows:   map[flowKey]flowState{},
		names:   map[bucketKey]string{},
		devices: map[baseline.Entry]struct{}{},
	}
}

// Engine implements detect.Engine.
func (e *engine) Engine() alert.Engine { return alert.Policy }

// LearningPacket implements detect.LearningPacketHandler: while
// learning, every local address that sends a packet is a known device,
// even if no operation named it as a client (a capture that starts in the
// middle of its conversations, a flow whose service operation comes when
// it ends).
func (e *engine) LearningPacket(d *detect.Detector, p *decode.Packet) {
	if !p.SrcIP.IsValid() {
		return
	}
	if _, ok := e.senders[p.SrcIP]; ok || !local(p.SrcIP) || len(e.senders) >= maxSenders {
		return
	}
	if e.senders == nil {
		e.senders = map[netip.Addr]struct{}{}
	}
	e.senders[p.SrcIP] = struct{}{}
	d.Baseline().Observe(deviceEntry(p.SrcIP), p.Timestamp, "learning")
}

// maxSenders bounds the addresses learned from packets.
const maxSenders = 1 << 16

// Operation implements detect.OperationHandler: while the detector learns
// it adds the operation's patterns to the baseline, afterwards it checks
// them.
func (e *engine) Operation(d *detect.Detector, op *dissect.Operation) {
	if d.LearningAt(op.Time) {
		e.learn(d, op)
		return
	}
	e.check(d, op)
}

// Muted returns how many findings were not raised because their client
// was scanning or sweeping ranges, or new devices flooded in.
func (e *engine) Muted() uint64 { return e.muted }

// refused reports whether op is a service operation that was refused or
// never answered: a probe, which neither teaches nor raises anything.
func refused(op *dissect.Operation) bool {
	return op.Protocol == "service" && op.Result.Status != dissect.StatusOK
}

// answered reports whether the server of op answered it.
func answered(op *dissect.Operation) bool {
	if op.Protocol == "service" {
		return op.Result.Status == dissect.StatusOK
	}
	return op.Response
}

var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// local reports whether a is the unicast address of a device on the
// monitored networks: not public, not unspecified, multicast or broadcast.
func local(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() && !a.IsLoopback() &&
		a != broadcast4 && !detect.IsPublic(a)
}

// macOnly reports whether op's client is a device known only by its MAC
// address (a layer-2 protocol without IP). ARP probes and DHCP requests
// are left out: their sender shows its IP address a moment later.
func macOnly(op *dissect.Operation) bool {
	if op.Client.IP.IsValid() || op.Client.MAC.IsZero() || op.Client.MAC[0]&1 != 0 {
		return false
	}
	switch op.Protocol {
	case "arp", "dhcp", "service":
		return false
	}
	return true
}

// serviceName returns the protocol that names a connection: the service
// of a "service" operation, else the operation's protocol.
func serviceName(op *dissect.Operation) string {
	if op.Protocol == "service" {
		return op.FunctionName
	}
	return op.Protocol
}

// industrialName reports whether a connection's protocol name is an
// industrial protocol.
func industrialName(name string) bool {
	return detect.Industrial(name) || service.Industrial(name)
}

// isUpload reports whether a program-class operation reads the program
// from the controller instead of changing it.
func isUpload(op *dissect.Operation) bool {
	return strings.Contains(op.FunctionName, "upload")
}

// learned returns a copy of ent for a finding's Learn, so that the
// entries checked on the hot path stay on the stack.
func learned(ent baseline.Entry) *baseline.Entry { return &ent }

// Entry constructors: the baseline entries the engine learns and checks.

func deviceEntry(a netip.Addr) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindDevice, Client: a}
}

func macEntry(m dissect.MAC) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindDevice, MAC: m}
}

func connectionEntry(op *dissect.Operation) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindConnection, Client: op.Client.IP, Server: op.Server.IP,
		Protocol: serviceName(op), Port: op.Server.Port}
}

// pairEntry says that two devices communicate, over whatever protocol.
func pairEntry(op *dissect.Operation) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindConnection, Client: op.Client.IP, Server: op.Server.IP}
}

func functionEntry(op *dissect.Operation) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindFunction, Client: op.Client.IP, Server: op.Server.IP,
		Protocol: op.Protocol, Function: op.FunctionName}
}

func classEntry(op *dissect.Operation) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindClass, Client: op.Client.IP, Server: op.Server.IP,
		Protocol: op.Protocol, Class: op.Class.String()}
}

// writerEntry says that a client writes to some device, over some
// protocol.
func writerEntry(a netip.Addr) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindClass, Client: a, Class: dissect.ClassWrite.String()}
}

func internetEntry(op *dissect.Operation) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindInternet, Client: op.Client.IP, Server: op.Server.IP}
}

func rangeEntry(op *dissect.Operation, target string) baseline.Entry {
	return baseline.Entry{Kind: baseline.KindRange, Client: op.Client.IP, Server: op.Server.IP,
		Protocol: op.Protocol, Target: target}
}

// learn adds op's patterns to the baseline.
func (e *engine) learn(d *detect.Detector, op *dissect.Operation) {
	if refused(op) || op.Result.Status == dissect.StatusMalformed {
		return
	}
	b := d.Baseline()
	t := op.Time
	c, s := op.Client.IP, op.Server.IP
	ans := answered(op)
	if local(c) {
		e.observe(b, deviceEntry(c), t)
	} else if macOnly(op) {
		e.observe(b, macEntry(op.Client.MAC), t)
	}
	if ans && local(s) {
		e.observe(b, deviceEntry(s), t)
	}
	pc, ps := detect.IsPublic(c), detect.IsPublic(s)
	if pc || ps {
		if pc != ps && (ps || ans) {
			e.observe(b, internetEntry(op), t)
		}
		return
	}
	if !local(c) || !local(s) {
		return
	}
	if op.Protocol == "service" {
		e.observe(b, connectionEntry(op), t)
		e.observe(b, pairEntry(op), t)
		return
	}
	if !detect.Industrial(op.Protocol) || op.FunctionName == "" {
		return
	}
	e.observe(b, functionEntry(op), t)
	switch {
	case op.Class == dissect.ClassProgram && isUpload(op):
		// an upload reads the program: it does not make its client a
		// programming station
	case op.Class == dissect.ClassWrite:
		e.observe(b, classEntry(op), t)
		e.observe(b, writerEntry(c), t)
	default:
		e.observe(b, classEntry(op), t)
	}
	if op.Protocol == "modbus" && op.Result.Status == dissect.StatusOK {
		e.eachRange(op, func(target string) bool {
			e.observe(b, rangeEntry(op, target), t)
			return true
		})
	}
}

// check raises what op does outside the baseline: at most one finding.
// The order goes from the widest deviation to the narrowest: a new device,
// internet access, a new connection or protocol, programming, a new
// writer, a new function, a new register range.
func (e *engine) check(d *detect.Detector, op *dissect.Operation) {
	if len(op.Targets) > 1 && op.Protocol == "modbus" {
		e.checkSlow(d, op) // ranges are judged per target
		return
	}
	if !op.Client.IP.IsValid() || op.Client.IP.Zone() != "" || op.Server.IP.Zone() != "" {
		e.checkSlow(d, op)
		return
	}
	k, names := shapeOf(op)
	if n, ok := e.known[k]; ok && n == names {
		d.Quiet() // a known shape stays known: the baseline only grows
		return
	}
	findings, muted := e.findings, e.muted
	known := e.checkSlow(d, op)
	if known && findings == e.findings && muted == e.muted {
		if e.known == nil || len(e.known) >= maxKnown {
			e.known = make(map[shape]shapeNames, 256)
		}
		e.known[k] = names
		d.Quiet()
	}
}

// checkSlow compares op with the baseline entry by entry. It reports
// whether the outcome depends only on the baseline (no per-client or
// per-flow state was involved), so that it may be cached.
func (e *engine) checkSlow(d *detect.Detector, op *dissect.Operation) (cacheable bool) {
	if !e.frozen {
		if !e.indexed || e.stale || d.Baseline().Len() != e.indexLen {
			e.index(d)
		}
		e.frozen = true
	}
	c, s := op.Client.IP, op.Server.IP
	if refused(op) {
		if op.Protocol == "service" && local(c) && local(s) {
			e.state(c, op.Time).refused++
		}
		return
	}
	if op.Result.Status == dissect.StatusMalformed {
		return // the protocol violation engine's
	}
	b := d.Baseline()
	ans := answered(op)
	switch {
	case local(c):
		if !b.Has(deviceEntry(c)) {
			e.newDevice(d, op, op.Client, deviceEntry(c))
			return
		}
	case macOnly(op):
		if ent := macEntry(op.Client.MAC); !b.Has(ent) {
			e.newDevice(d, op, op.Client, ent)
		}
		return
	}
	if local(s) && !b.Has(deviceEntry(s)) {
		if ans {
			e.newDevice(d, op, op.Server, deviceEntry(s))
		}
		return // nothing to compare with for an unknown server
	}
	pc, ps := detect.IsPublic(c), detect.IsPublic(s)
	if pc || ps {
		e.internet(d, op, pc, ps, ans)
		return
	}
	if !local(c) || !local(s) {
		return
	}
	if op.Protocol == "service" {
		e.connection(d, op)
		return b.Has(connectionEntry(op))
	}
	if !detect.Industrial(op.Protocol) || op.FunctionName == "" {
		return true // known devices stay known: nothing to judge, ever
	}
	if len(e.flows) > 0 {
		fk := flowKey{c, s, op.Server.Port}
		if st, ok := e.flows[fk]; ok {
			if st.wait && op.Class != dissect.ClassDiscovery {
				st.wait = false
				e.flows[fk] = st
				ent := connectionEntry(op)
				ent.Protocol = st.name
				e.raiseConnection(d, op, ent, fk)
			}
			return // its connection is alerted as a whole
		}
	}
	e.functions(d, op)
	return true
}

// index collects the hosts that spoke or served an industrial protocol in
// the baseline, for telling IT hosts from OT hosts.
func (e *engine) index(d *detect.Detector) {
	e.indexed, e.stale = true, false
	e.industrial = map[netip.Addr]struct{}{}
	records := d.Baseline().Records()
	e.indexLen = len(records)
	for _, r := range records {
		if len(e.industrial) >= maxIndex {
			break
		}
		switch r.Kind {
		case baseline.KindConnection, baseline.KindFunction:
			if industrialName(r.Protocol) {
				e.industrial[r.Client] = struct{}{}
				e.industrial[r.Server] = struct{}{}
			}
		}
	}
}

// Operational implements detect.ModeHandler: the index of industrial
// hosts is built when learning ends, which sorts the whole baseline,
// rather than on the packet path.
func (e *engine) Operational(d *detect.Detector) {
	if !e.frozen {
		e.index(d)
	}
}

// observe adds ent to the baseline for learn, and to the index while it is
// built but not frozen yet, as index would find it.
func (e *engine) observe(b *baseline.Baseline, ent baseline.Entry, t time.Time) {
	if !b.Observe(ent, t, "learning") || !e.indexed || e.frozen {
		return
	}
	e.indexLen++
	switch ent.Kind {
	case baseline.KindConnection, baseline.KindFunction:
		if !industrialName(ent.Protocol) {
			return
		}
		if len(e.industrial) >= maxIndex {
			e.stale = true // which hosts a full index holds depends on the order of the records
			return
		}
		e.industrial[ent.Client] = struct{}{}
		e.industrial[ent.Server] = struct{}{}
		if len(e.industrial) >= maxIndex {
			e.stale = true
		}
	}
}

// ot reports whether a is an OT host by the baseline: it spoke or served
// an industrial protocol while the sensor learned, or lies in an OT subnet.
func (e *engine) ot(d *detect.Detector, a netip.Addr) bool {
	if _, ok := e.industrial[a]; ok {
		return true
	}
	for _, p := range d.Config().OTSubnets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// party returns the alert party of an endpoint: its address and port;
// the detector completes the MAC address and name from what it learned of
// the address (an operation's MAC may be a router's).
func party(ep dissect.Endpoint, withPort bool) alert.Party {
	p := alert.Party{IP: ep.IP}
	if withPort {
		p.Port = ep.Port
	}
	if !ep.IP.IsValid() {
		p.MAC = ep.MAC
	}
	return p
}

func (e *engine) newDevice(d *detect.Detector, op *dissect.Operation, ep dissect.Endpoint, ent baseline.Entry) {
	if _, ok := e.devices[ent]; !ok {
		if op.Time.Sub(e.devStart) > burstWindow {
			e.devStart, e.devCount = op.Time, 0
		}
		if e.devCount >= maxNewDevices {
			e.muted++
			return
		}
		e.devCount++
		if len(e.devices) >= maxClients {
			clear(e.devices)
		}
		e.devices[ent] = struct{}{}
	}
	peer := op.Server
	if ep == op.Server {
		peer = op.Client
	}
	detail := "It was first seen in " + serviceName(op) + " traffic"
	if peer.IP.IsValid() && peer.IP != ep.IP {
		detail += " with " + peer.IP.String()
	}
	detail += "."
	src := party(ep, false)
	if op.Protocol == "arp" && ep == op.Client {
		src.MAC = ep.MAC // the ARP sender's own binding
	}
	e.raise(d, detect.Finding{Type: NewDevice, Time: op.Time, Protocol: serviceName(op), Source: src,
		Detail: detail, Op: op, Learn: learned(ent),
		Details: []dissect.Attr{{Key: "first_protocol", Value: serviceName(op)}}})
}

func (e *engine) internet(d *detect.Detector, op *dissect.Operation, pc, ps, ans bool) {
	if pc == ps || pc && !ans {
		return // both public, or an unanswered probe from the internet
	}
	loc := op.Client.IP
	if pc {
		loc = op.Server.IP
	}
	if !local(loc) || !e.ot(d, loc) && !d.IsOT(loc) {
		return
	}
	ent := internetEntry(op)
	if d.Baseline().Has(ent) {
		return
	}
	if e.scanning(op.Client.IP, flowKey{op.Client.IP, op.Server.IP, 0}, op.Time) {
		e.muted++
		return
	}
	name := serviceName(op)
	e.raise(d, detect.Finding{Type: InternetAccess, Time: op.Time, Protocol: name,
		Source: party(op.Client, false), Destination: party(op.Server, true),
		Detail: portDetail(op, name), Op: op, Learn: learned(ent)})
}

// portDetail describes a connection: "modbus, TCP port 502".
func portDetail(op *dissect.Operation, name string) string {
	return name + ", " + transportPort(op)
}

// transportPort returns "TCP port 502".
func transportPort(op *dissect.Operation) string {
	if op.Transport == "" {
		return "port " + itoa(int(op.Server.Port))
	}
	return strings.ToUpper(op.Transport) + " port " + itoa(int(op.Server.Port))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// connection checks a service operation's connection against the
// baseline.
func (e *engine) connection(d *detect.Detector, op *dissect.Operation) {
	if len(op.Packets) > 0 && op.Packets[0].Index == 0 {
		// The server's answer is the flow's first packet: the request went
		// elsewhere (a broadcast or multicast discovery the anomaly engine
		// judges), so the client opened no connection to this server.
		return
	}
	b := d.Baseline()
	ent := connectionEntry(op)
	fk := flowKey{op.Client.IP, op.Server.IP, op.Server.Port}
	if b.Has(ent) {
		if len(e.flows) > 0 {
			delete(e.flows, fk)
		}
		return
	}
	if op.Transport == "udp" && dissect.ByPort(dissect.Port{Transport: dissect.TransportUDP, Number: op.Server.Port}) != nil {
		// A datagram exchange that a dissector reads: judged by its first
		// operation that is not a discovery request. Discovery (List
		// Identity, Who-Is) to a new peer is how tools find devices; the
		// anomaly engine reports sweeps of it.
		e.markFlow(fk, flowState{at: op.Time, name: ent.Protocol, wait: true})
		return
	}
	e.markFlow(fk, flowState{at: op.Time})
	e.raiseConnection(d, op, ent, fk)
}

// raiseConnection raises the finding of a connection outside the
// baseline: from an IT host into an industrial service, a new protocol
// between known peers, or a new pair of peers.
func (e *engine) raiseConnection(d *detect.Detector, op *dissect.Operation, ent baseline.Entry, fk flowKey) {
	if e.scanning(op.Client.IP, fk, op.Time) {
		e.muted++
		return
	}
	name := ent.Protocol
	f := detect.Finding{Time: op.Time, Protocol: name, Source: party(op.Client, false),
		Destination: party(op.Server, true), Detail: portDetail(op, name), Op: op, Learn: learned(ent)}
	switch {
	case industrialName(name) && !e.ot(d, op.Client.IP) && e.ot(d, op.Server.IP):
		f.Type, f.Key = ITOTCrossing, name
	case d.Baseline().Has(pairEntry(op)):
		f.Type, f.Key, f.Detail = NewProtocol, name, transportPort(op)
	default:
		f.Type = NewConnection
	}
	e.raise(d, f)
}

func (e *engine) markFlow(fk flowKey, st flowState) {
	if _, ok := e.flows[fk]; !ok && len(e.flows) >= maxFlows {
		clear(e.flows)
	}
	e.flows[fk] = st
}

// state returns the burst window of client a at t.
func (e *engine) state(a netip.Addr, t time.Time) *clientState {
	st, ok := e.clients[a]
	if !ok {
		if len(e.clients) >= maxClients {
			for k, v := range e.clients {
				if t.Sub(v.start) > burstWindow {
					delete(e.clients, k)
				}
			}
			if len(e.clients) >= maxClients {
				clear(e.clients)
			}
		}
		st = &clientState{start: t}
		e.clients[a] = st
	}
	if t.Sub(st.start) > burstWindow {
		*st = clientState{start: t}
	}
	return st
}

// scanning counts a new connection of client a and reports whether the
// client is scanning: too many refused attempts or distinct new
// connections in the current window.
func (e *engine) scanning(a netip.Addr, fk flowKey, t time.Time) bool {
	st := e.state(a, t)
	if st.refused >= burstRefused {
		return true
	}
	for i := range st.nfresh {
		if st.fresh[i] == fk {
			return false // a connection already counted, and alerted
		}
	}
	if st.nfresh >= burstNew-1 {
		return true
	}
	st.fresh[st.nfresh] = fk
	st.nfresh++
	return false
}

// functions checks what an industrial operation does on a known
// connection.
func (e *engine) functions(d *detect.Detector, op *dissect.Operation) {
	b := d.Baseline()
	f := detect.Finding{Time: op.Time, Protocol: op.Protocol, Source: party(op.Client, false),
		Destination: party(op.Server, true), Op: op}
	switch op.Class {
	case dissect.ClassProgram, dissect.ClassFirmware:
		// Uploads read the program (the operational engine reports them);
		// changes are alerted when the client is not one of the
		// controller's programming stations.
		if op.Class == dissect.ClassProgram && isUpload(op) {
			return
		}
		ent := classEntry(op)
		if !b.Has(ent) && !e.engineering(b, op) {
			f.Type, f.Key, f.Detail, f.Learn = UnauthorizedProgramming, op.Protocol, opSummary(op), learned(ent)
			e.raise(d, f)
		}
		return
	case dissect.ClassWrite:
		// A host that writes is judged as a writer: an operator station
		// that writes setpoints to one controller may write to another it
		// polls. The signal is a host that never wrote.
		ent := classEntry(op)
		if !b.Has(ent) && !b.Has(writerEntry(op.Client.IP)) {
			f.Type, f.Key, f.Detail, f.Learn = NewWrite, op.Protocol, opSummary(op), learned(ent)
			e.raise(d, f)
			return
		}
	default:
		ent := functionEntry(op)
		if !b.Has(ent) {
			f.Type, f.Key, f.Detail, f.Learn = functionType(op.Protocol), op.FunctionName, functionDetail(op), learned(ent)
			e.raise(d, f)
			return
		}
	}
	if op.Protocol != "modbus" || op.Result.Status != dissect.StatusOK {
		return
	}
	e.eachRange(op, func(target string) bool {
		ent := rangeEntry(op, target)
		if b.Has(ent) {
			return true
		}
		st := e.state(op.Client.IP, op.Time)
		if st.ranges >= maxRanges {
			e.muted++
			return false
		}
		st.ranges++
		f.Type, f.Key, f.Detail, f.Learn = AddressRange, target, target, learned(ent)
		e.raise(d, f)
		return false
	})
}

// engineering reports whether op's client is an engineering station of
// its server by the baseline: it programmed it, or went online with it
// using the protocol's discovery or diagnostic functions (reading system
// status lists, listing blocks), as engineering tools do. Program changes
// from such a station are planned work that the operational engine
// reports; the policy engine alerts those from any other host.
func (e *engine) engineering(b *baseline.Baseline, op *dissect.Operation) bool {
	ent := classEntry(op)
	for _, c := range [...]dissect.Class{dissect.ClassProgram, dissect.ClassDiscovery, dissect.ClassDiagnostics} {
		ent.Class = c.String()
		if b.Has(ent) {
			return true
		}
	}
	return false
}

// functionDetail names a function with its code: "read_szl (0x401)" is
// not needed for named functions; a function known only by code keeps it.
func functionDetail(op *dissect.Operation) string {
	if op.FunctionName != "" {
		return op.FunctionName + " (" + itoa(op.FunctionCode) + ")"
	}
	return itoa(op.FunctionCode)
}

// opSummary describes a write or program operation: its function and
// first target.
func opSummary(op *dissect.Operation) string {
	s := op.FunctionName
	if len(op.Targets) > 0 {
		t := op.Targets[0]
		s += " on " + t.Kind
		if t.Name != "" {
			s += " " + t.Name
		} else {
			s += " " + itoa(int(t.Address))
		}
	}
	return s
}

// eachRange calls fn with every register range name op's targets fall
// in, until fn returns false.
func (e *engine) eachRange(op *dissect.Operation, fn func(target string) bool) {
	for _, t := range op.Targets {
		if t.Kind == "" {
			continue
		}
		n := max(t.Count, 1)
		first := t.Address / RangeBucket
		last := (uint64(t.Address) + uint64(n) - 1) / RangeBucket
		for i, bk := 0, uint64(first); bk <= last && i < maxBuckets; i, bk = i+1, bk+1 {
			if !fn(e.rangeName(t.Kind, uint32(bk*RangeBucket))) {
				return
			}
		}
	}
}

// rangeName returns "kind:start-end" for a bucket, interned.
func (e *engine) rangeName(kind string, start uint32) string {
	k := bucketKey{kind, start}
	if s, ok := e.names[k]; ok {
		return s
	}
	s := kind + ":" + itoa(int(start)) + "-" + itoa(int(start)+RangeBucket-1)
	if len(e.names) >= maxNames {
		clear(e.names)
	}
	e.names[bucketKey{strings.Clone(kind), start}] = s
	return s
}

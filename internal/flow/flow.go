package flow

import (
	"net/netip"
	"time"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
)

// Key identifies a flow regardless of direction: side A is the lower
// (address, port) pair.
type Key struct {
	A, B         [16]byte
	PortA, PortB uint16
	VLAN         uint16
	Proto        uint8
}

// MakeKey returns the canonical key of a packet and whether its source is
// side A.
func MakeKey(proto uint8, vlan uint16, src, dst netip.Addr, sport, dport uint16) (Key, bool) {
	s, d := src.As16(), dst.As16()
	srcIsA := true
	switch c := compare16(&s, &d); {
	case c > 0:
		srcIsA = false
	case c == 0 && sport > dport:
		srcIsA = false
	}
	if srcIsA {
		return Key{A: s, B: d, PortA: sport, PortB: dport, VLAN: vlan, Proto: proto}, true
	}
	return Key{A: d, B: s, PortA: dport, PortB: sport, VLAN: vlan, Proto: proto}, false
}

func compare16(a, b *[16]byte) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// TCPState is a flow's TCP connection state as seen from outside.
type TCPState uint8

// TCP states.
const (
	TCPNone        TCPState = iota // not TCP, or no packet decided it yet
	TCPSynSent                     // SYN seen
	TCPSynReceived                 // SYN+ACK seen
	TCPEstablished                 // handshake complete, or data seen mid-stream
	TCPClosing                     // FIN seen from one side
	TCPClosed                      // FIN from both sides, or RST
)

var tcpStateNames = [...]string{"none", "syn_sent", "syn_received", "established", "closing", "closed"}

// String returns the state's name.
func (s TCPState) String() string {
	if int(s) < len(tcpStateNames) {
		return tcpStateNames[s]
	}
	return "unknown"
}

// EndReason says why a flow left the table.
type EndReason uint8

// End reasons.
const (
	EndIdle    EndReason = iota // idle longer than its timeout
	EndEvicted                  // table full, the longest-idle flow made room
	EndFlush                    // the table was flushed (end of input)
	EndReused                   // a new connection (a SYN) reused a closed flow's addresses and ports
)

// Flow is one bidirectional flow. Index 0 of the per-direction arrays is
// client→server (dissect.ToServer), index 1 server→client.
type Flow[S any] struct {
	Key Key
	// ID is unique for the life of the table, never reused; ids start at 1.
	ID uint64
	// First and Last are capture times in Unix nanoseconds.
	First, Last int64
	Packets     [2]uint64
	Bytes       [2]uint64
	// ClientIsA says which side of Key is the client.
	ClientIsA bool
	TCP       TCPState
	fin       [2]bool
	class     uint8
	// State is the caller's per-flow state (dissector session, streams).
	State S

	prev, next int32
}

// Client returns the client's address and port.
func (f *Flow[S]) Client() (netip.Addr, uint16) {
	if f.ClientIsA {
		return addr(f.Key.A), f.Key.PortA
	}
	return addr(f.Key.B), f.Key.PortB
}

// Server returns the server's address and port.
func (f *Flow[S]) Server() (netip.Addr, uint16) {
	if f.ClientIsA {
		return addr(f.Key.B), f.Key.PortB
	}
	return addr(f.Key.A), f.Key.PortA
}

func addr(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }

// Options configures a Table.
type Options struct {
	// MaxFlows caps the table. Each flow costs about 200 bytes plus the
	// caller's state, so the default of 1<<20 flows is about 200 MiB at most;
	// memory grows in chunks as flows appear.
	MaxFlows int
	// Idle timeouts by capture time: open TCP connections, TCP connections
	// after FIN or RST, and everything else (UDP, ICMP).
	TCPTimeout       time.Duration
	TCPClosedTimeout time.Duration
	OtherTimeout     time.Duration
	// ServerPort tells which port of a new flow is the server's when the
	// packet does not (no SYN). Nil means ports below 1024 are servers.
	ServerPort func(proto uint8, port uint16) bool
}

// DefaultOptions: 1M flows, 10 minutes for TCP (ICS connections idle
// between polls), 10 seconds after close, 2 minutes for UDP and ICMP.
var DefaultOptions = Options{
	MaxFlows:         1 << 20,
	TCPTimeout:       10 * time.Minute,
	TCPClosedTimeout: 10 * time.Second,
	OtherTimeout:     2 * time.Minute,
}

// Stats counts the table's work.
type Stats struct {
	Active  int    // flows in the table now
	Created uint64 // flows created
	Expired uint64 // flows ended by idle timeout
	Evicted uint64 // flows ended to make room (table full)
	Flushed uint64 // flows ended by Flush
	Reused  uint64 // closed TCP flows ended because a new SYN reused their 5-tuple
}

const chunkBits = 12

// timeout classes, one LRU list each
const (
	classOpen = iota
	classClosed
	classOther
	numClasses
)

// Table is the flow table. It is not safe for concurrent use.
type Table[S any] struct {
	opts    Options
	timeout [numClasses]int64
	index   map[Key]int32
	chunks  [][]Flow[S]
	n       int32 // slots handed out
	free    []int32
	// head is the most recently seen flow of each class, tail the least.
	head, tail [numClasses]int32
	nextID     uint64
	stats      Stats
	// OnEnd, if set, is called for every flow that leaves the table,
	// before its slot is reused.
	OnEnd func(f *Flow[S], why EndReason)
}

// New returns an empty table.
func New[S any](opts Options) *Table[S] {
	d := DefaultOptions
	if opts.MaxFlows <= 0 {
		opts.MaxFlows = d.MaxFlows
	}
	if opts.TCPTimeout <= 0 {
		opts.TCPTimeout = d.TCPTimeout
	}
	if opts.TCPClosedTimeout <= 0 {
		opts.TCPClosedTimeout = d.TCPClosedTimeout
	}
	if opts.OtherTimeout <= 0 {
		opts.OtherTimeout = d.OtherTimeout
	}
	t := &Table[S]{opts: opts, index: make(map[Key]int32, min(opts.MaxFlows, 1<<16)), nextID: 1}
	t.timeout = [numClasses]int64{int64(opts.TCPTimeout), int64(opts.TCPClosedTimeout), int64(opts.OtherTimeout)}
	for c := range numClasses {
		t.head[c], t.tail[c] = -1, -1
	}
	return t
}

func (t *Table[S]) at(i int32) *Flow[S] { return &t.chunks[i>>chunkBits][i&(1<<chunkBits-1)] }

// Stats returns the table's counters.
func (t *Table[S]) Stats() Stats {
	s := t.stats
	s.Active = len(t.index)
	return s
}

// Len returns the number of flows in the table.
func (t *Table[S]) Len() int { return len(t.index) }

// Update finds or creates the flow of a decoded TCP, UDP or ICMP packet,
// counts the packet and returns the flow, the packet's direction and
// whether the flow is new. It returns nil for packets without IP addresses.
func (t *Table[S]) Update(p *decode.Packet) (*Flow[S], dissect.Direction, bool) {
	if !p.SrcIP.IsValid() {
		return nil, 0, false
	}
	var vlan uint16
	if p.NumVLANs > 0 {
		vlan = p.VLANs[p.NumVLANs-1]
	}
	proto := p.Transport
	if proto == 0 {
		proto = p.IPProto
	}
	sport, dport := p.SrcPort, p.DstPort
	k, srcIsA := MakeKey(proto, vlan, p.SrcIP, p.DstIP, sport, dport)
	now := p.Timestamp.UnixNano()
	i, ok := t.index[k]
	if ok && proto == decode.ProtoTCP && p.TCPFlags&(decode.TCPFlagSYN|decode.TCPFlagACK) == decode.TCPFlagSYN &&
		t.at(i).TCP == TCPClosed {
		// A client reuses the 5-tuple of a connection that ended: a new flow.
		t.end(i, EndReused)
		ok = false
	}
	var f *Flow[S]
	isNew := false
	if ok {
		f = t.at(i)
		t.unlink(i, f)
	} else {
		i = t.alloc(now)
		f = t.at(i)
		var zero S
		*f = Flow[S]{Key: k, ID: t.nextID, First: now, State: zero, class: classOther}
		t.nextID++
		t.stats.Created++
		t.index[k] = i
		isNew = true
		f.ClientIsA = t.clientIsA(p, srcIsA)
		if proto == decode.ProtoTCP {
			f.class = classOpen
		}
	}
	dir := dissect.ToServer
	if srcIsA != f.ClientIsA {
		dir = dissect.ToClient
	}
	f.Packets[dir]++
	f.Bytes[dir] += uint64(p.Length)
	if now > f.Last {
		f.Last = now
	}
	if proto == decode.ProtoTCP {
		f.tcp(p.TCPFlags, dir)
		if f.TCP == TCPClosed {
			f.class = classClosed
		}
	}
	t.pushFront(i, f)
	return f, dir, isNew
}

// clientIsA decides which side opened a new flow.
func (t *Table[S]) clientIsA(p *decode.Packet, srcIsA bool) bool {
	if p.Transport == decode.ProtoTCP {
		switch p.TCPFlags & (decode.TCPFlagSYN | decode.TCPFlagACK) {
		case decode.TCPFlagSYN:
			return srcIsA
		case decode.TCPFlagSYN | decode.TCPFlagACK:
			return !srcIsA
		}
	}
	if p.Transport == decode.ProtoTCP || p.Transport == decode.ProtoUDP {
		srv := t.opts.ServerPort
		sSrv, dSrv := p.SrcPort < 1024, p.DstPort < 1024
		if srv != nil {
			sSrv, dSrv = srv(p.Transport, p.SrcPort), srv(p.Transport, p.DstPort)
		}
		if sSrv && !dSrv {
			return !srcIsA
		}
		if dSrv && !sSrv {
			return srcIsA
		}
		if sSrv == dSrv && p.SrcPort != p.DstPort && p.Transport == decode.ProtoTCP && p.TCPFlags&decode.TCPFlagSYN == 0 {
			// Mid-stream with no hint: the lower port is more likely the service.
			return (p.SrcPort > p.DstPort) == srcIsA
		}
	}
	if p.Transport == decode.ProtoICMP || p.Transport == decode.ProtoICMPv6 {
		// Echo replies and errors come from the server side.
		switch {
		case p.Transport == decode.ProtoICMP && p.ICMPType != 8,
			p.Transport == decode.ProtoICMPv6 && p.ICMPType != 128:
			return !srcIsA
		}
	}
	return srcIsA
}

func (f *Flow[S]) tcp(flags uint8, dir dissect.Direction) {
	switch {
	case flags&decode.TCPFlagRST != 0:
		f.TCP = TCPClosed
		return
	case flags&(decode.TCPFlagSYN|decode.TCPFlagACK) == decode.TCPFlagSYN:
		if f.TCP == TCPNone {
			f.TCP = TCPSynSent
		}
	case flags&(decode.TCPFlagSYN|decode.TCPFlagACK) == decode.TCPFlagSYN|decode.TCPFlagACK:
		if f.TCP <= TCPSynSent {
			f.TCP = TCPSynReceived
		}
	case flags&decode.TCPFlagACK != 0:
		if f.TCP == TCPNone || f.TCP == TCPSynReceived {
			f.TCP = TCPEstablished
		}
	}
	if flags&decode.TCPFlagFIN != 0 {
		f.fin[dir] = true
		if f.fin[0] && f.fin[1] {
			f.TCP = TCPClosed
		} else if f.TCP < TCPClosing {
			f.TCP = TCPClosing
		}
	}
}

// alloc returns a free slot, evicting the longest-idle flow when full.
func (t *Table[S]) alloc(now int64) int32 {
	if n := len(t.free); n > 0 {
		i := t.free[n-1]
		t.free = t.free[:n-1]
		return i
	}
	if int(t.n) < t.opts.MaxFlows {
		i := t.n
		if int(i>>chunkBits) == len(t.chunks) {
			t.chunks = append(t.chunks, make([]Flow[S], 1<<chunkBits))
		}
		t.n++
		return i
	}
	// Full: end the flow idle the longest, preferring one already timed out.
	victim, oldest := int32(-1), int64(0)
	why := EndEvicted
	for c := range numClasses {
		i := t.tail[c]
		if i < 0 {
			continue
		}
		f := t.at(i)
		if now-f.Last > t.timeout[c] {
			victim, why = i, EndIdle
			break
		}
		if victim < 0 || f.Last < oldest {
			victim, oldest = i, f.Last
		}
	}
	t.end(victim, why)
	n := len(t.free)
	i := t.free[n-1]
	t.free = t.free[:n-1]
	return i
}

// end removes flow i from the table.
func (t *Table[S]) end(i int32, why EndReason) {
	f := t.at(i)
	switch why {
	case EndIdle:
		t.stats.Expired++
	case EndEvicted:
		t.stats.Evicted++
	case EndFlush:
		t.stats.Flushed++
	case EndReused:
		t.stats.Reused++
	}
	if t.OnEnd != nil {
		t.OnEnd(f, why)
	}
	t.unlink(i, f)
	delete(t.index, f.Key)
	var zero S
	f.State = zero
	t.free = append(t.free, i)
}

// Expire ends every flow idle longer than its timeout at capture time now.
// It returns how many flows it ended.
func (t *Table[S]) Expire(now time.Time) int {
	ns := now.UnixNano()
	n := 0
	for c := range numClasses {
		for t.tail[c] >= 0 {
			i := t.tail[c]
			if ns-t.at(i).Last <= t.timeout[c] {
				break
			}
			t.end(i, EndIdle)
			n++
		}
	}
	return n
}

// Flush ends every flow, oldest first (end of input).
func (t *Table[S]) Flush() {
	for c := range numClasses {
		for t.tail[c] >= 0 {
			t.end(t.tail[c], EndFlush)
		}
	}
}

// Each calls fn for every flow in the table, most recent first per class.
func (t *Table[S]) Each(fn func(f *Flow[S])) {
	for c := range numClasses {
		for i := t.head[c]; i >= 0; {
			f := t.at(i)
			next := f.next
			fn(f)
			i = next
		}
	}
}

func (t *Table[S]) unlink(i int32, f *Flow[S]) {
	c := f.class
	if f.prev >= 0 {
		t.at(f.prev).next = f.next
	} else if t.head[c] == i {
		t.head[c] = f.next
	}
	if f.next >= 0 {
		t.at(f.next).prev = f.prev
	} else if t.tail[c] == i {
		t.tail[c] = f.prev
	}
	f.prev, f.next = -1, -1
}

func (t *Table[S]) pushFront(i int32, f *Flow[S]) {
	c := f.class
	f.prev, f.next = -1, t.head[c]
	if t.head[c] >= 0 {
		t.at(t.head[c]).prev = i
	}
	t.head[c] = i
	if t.tail[c] < 0 {
		t.tail[c] = i
	}
}

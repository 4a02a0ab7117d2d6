package anomaly

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/service"
)

// ICMP echo request types (RFC 792, RFC 4443).
const (
	icmpEcho   = 8
	icmpv6Echo = 128
)

// Prefix lengths of the networks an address sweep is counted in: class B
// for IPv4, as the reference thresholds are written, and a /64 for IPv6.
const (
	sweepBits4 = 16
	sweepBits6 = 64
)

// scanMemory is how long a source's first scan alert absorbs its other
// scan findings (a full scan crosses the port, PLC and address thresholds
// one after another, and is one event).
const scanMemory = 10 * time.Minute

// sweepKey is a source and the network it sweeps.
type sweepKey struct {
	src netip.Addr
	net netip.Prefix
}

// scanner is the first scan alert raised for a source.
type scanner struct {
	t int64
	f detect.Finding
}

// flood counts the packets a target receives in a window.
type flood struct {
	counter
	src   netip.Addr // first sender in the window
	multi bool       // more than one sender in the window
}

// tcpSYN counts a connection attempt: a scan probe and a SYN flood packet.
func (e *engine) tcpSYN(d *detect.Detector, p *decode.Packet) {
	t := p.Timestamp.UnixNano()
	e.floodHit(d, e.syn, FloodSYN, p.SrcIP, p.DstIP, t)
	e.attempt(d, p.SrcIP, p.DstIP, dissect.TransportTCP, p.DstPort, true, t, 0)
}

// echo counts an echo request: an address sweep probe and a flood packet.
func (e *engine) echo(d *detect.Detector, p *decode.Packet) {
	t := p.Timestamp.UnixNano()
	e.floodHit(d, e.icmp, FloodICMP, p.SrcIP, p.DstIP, t)
	e.attempt(d, p.SrcIP, p.DstIP, 0, 0, false, t, 0)
}

// service handles a flow's service operation. A UDP flow is a probe of its
// port (its service operation is the only sign of an unanswered
// datagram); a TCP flow was counted at its SYN and only lends its packets
// as evidence.
func (e *engine) service(d *detect.Detector, op *dissect.Operation) {
	var flow uint64
	if len(op.Packets) > 0 {
		flow = op.Packets[0].Flow
	}
	src, dst, port := op.Client.IP, op.Server.IP, uint16(op.FunctionCode)
	if op.Transport == "udp" {
		e.attempt(d, src, dst, dissect.TransportUDP, port, true, op.Time.UnixNano(), flow)
		return
	}
	if !scanTarget(src, dst) {
		return
	}
	if w := e.ports.lookup(pairKey{src, dst}); w != nil {
		w.flow(flow)
	}
	if w := e.sweeps.lookup(sweepKey{src, sweepNet(dst)}); w != nil {
		w.flow(flow)
	}
	if w := e.plcs.lookup(src); w != nil {
		w.flow(flow)
	}
}

// scanTarget reports whether a packet from src to dst can be a scan
// probe: unicast between two different valid addresses.
func scanTarget(src, dst netip.Addr) bool {
	return src.IsValid() && dst.IsValid() && src != dst && !dst.IsMulticast() && !dst.IsUnspecified() &&
		!dst.IsLoopback() && dst != broadcast4
}

var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// sweepNet returns the network of dst an address sweep is counted in.
func sweepNet(dst netip.Addr) netip.Prefix {
	bits := sweepBits4
	if !dst.Is4() {
		bits = sweepBits6
	}
	p, _ := dst.Prefix(bits)
	return p
}

// attempt counts one connection attempt from src to dst (on port, when
// hasPort) in the port scan, address sweep and PLC scan trackers.
func (e *engine) attempt(d *detect.Detector, src, dst netip.Addr, tr dissect.Transport, port uint16, hasPort bool, t int64, flow uint64) {
	if !scanTarget(src, dst) {
		return
	}
	if hasPort {
		w, created := e.ports.get(pairKey{src, dst}, t)
		if created || w.due(t) {
			w.restart(t, d.Threshold(ScanPort, dst), ScanPort.Threshold)
		}
		w.flow(flow)
		if w.add(uint32(tr)<<16 | uint32(port)) {
			n := len(w.set)
			e.raiseScan(d, src, t, detect.Finding{Type: ScanPort, Source: alert.Party{IP: src}, Destination: alert.Party{IP: dst},
				Detail: plural(n, "port", "ports"), Details: windowDetails("ports", n, w.th), Flows: w.flowList()})
		}
		if industrialPort(tr, port) {
			w, created := e.plcs.get(src, t)
			if created || w.due(t) {
				w.restart(t, d.Threshold(ScanPLC, dst), ScanPLC.Threshold)
			}
			w.flow(flow)
			if w.add(dst) {
				n := len(w.set)
				e.raiseScan(d, src, t, detect.Finding{Type: ScanPLC, Source: alert.Party{IP: src},
					Detail: plural(n, "host", "hosts"), Details: windowDetails("hosts", n, w.th), Flows: w.flowList()})
			}
		}
	}
	net := sweepNet(dst)
	w, created := e.sweeps.get(sweepKey{src, net}, t)
	if created || w.due(t) {
		w.restart(t, d.Threshold(ScanAddress, dst), ScanAddress.Threshold)
	}
	w.flow(flow)
	if w.add(dst) {
		n := len(w.set)
		e.raiseScan(d, src, t, detect.Finding{Type: ScanAddress, Source: alert.Party{IP: src}, Key: net.String(),
			Detail: net.String(), Details: windowDetails("addresses", n, w.th), Flows: w.flowList()})
	}
}

// raiseScan raises a scan finding, or merges it into the source's first
// scan alert if that is recent: one scanner, one alert.
func (e *engine) raiseScan(d *detect.Detector, src netip.Addr, t int64, f detect.Finding) {
	f.Time = time.Unix(0, t).UTC()
	s, created := e.scanners.get(src, t)
	if !created && s.f.Type != nil && t-s.t <= int64(scanMemory) {
		first := s.f
		first.Time = f.Time
		d.Raise(first)
		return
	}
	s.t, s.f = t, f
	d.Raise(f)
}

// windowDetails describes a count reached within a window.
func windowDetails(key string, n int, th alert.Threshold) []dissect.Attr {
	return []dissect.Attr{
		{Key: key, Value: strconv.Itoa(n)},
		{Key: "window", Value: th.Window.String()},
		{Key: "threshold", Value: th.String()},
	}
}

// industrialPort reports whether port is the port of an industrial
// protocol: by its registered service name or the dissector claiming it.
func industrialPort(tr dissect.Transport, port uint16) bool {
	if service.Industrial(service.Name(tr, port)) {
		return true
	}
	if dd := dissect.ByPort(dissect.Port{Transport: tr, Number: port}); dd != nil {
		return detect.Industrial(dd.Name())
	}
	return false
}

// floodHit counts one packet to dst in tab and raises typ once per window
// when the count reaches its threshold.
func (e *engine) floodHit(d *detect.Detector, tab *table[netip.Addr, flood], typ *alert.Type, src, dst netip.Addr, t int64) {
	if !dst.IsValid() {
		return
	}
	f, created := tab.get(dst, t)
	if created || f.due(t) {
		f.restart(t, d.Threshold(typ, dst), typ.Threshold)
		f.src, f.multi = src, false
	}
	if src != f.src {
		f.multi = true
	}
	if !f.hit() {
		return
	}
	from := alert.Party{IP: f.src}
	if f.multi {
		from = alert.Party{}
	}
	what := "echo requests"
	if typ == FloodSYN {
		what = "connection requests (SYN)"
	}
	d.Raise(detect.Finding{Type: typ, Time: time.Unix(0, t).UTC(), Source: from, Destination: alert.Party{IP: dst},
		Detail:  strconv.Itoa(f.n) + " " + what + " within " + within(f.th.Window),
		Details: windowDetails("packets", f.n, f.th)})
}

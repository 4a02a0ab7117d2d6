package analyze

import (
	"net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/decode"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/service"
	"github.com/otwatch/otwatch/internal/pipeline"
)

// Summary is what `otwatch analyze` reports. Its JSON form is the
// machine-readable output (`--json`).
type Summary struct {
	Inputs     []string      `json:"inputs"`
	Packets    uint64        `json:"packets"`
	Bytes      uint64        `json:"bytes"`
	First      time.Time     `json:"first,omitzero"`
	Last       time.Time     `json:"last,omitzero"`
	Duration   time.Duration `json:"duration_ns"`
	Malformed  uint64        `json:"malformed"`
	Flows      uint64        `json:"flows"`
	MACs       int           `json:"mac_addresses"`
	IPs        int           `json:"ip_addresses"`
	Addresses  Addresses     `json:"addresses"`
	Endpoints  []Endpoint    `json:"endpoints"`
	Protocols  []Protocol    `json:"protocols"`
	Operations []OpCount     `json:"operations"`
	Pipeline   PipelineStats `json:"pipeline"`
}

// Addresses lists every MAC and IP address seen as a source or destination,
// broadcast and multicast included, and the IPs quoted in ICMP errors.
type Addresses struct {
	MACs []string `json:"mac"`
	IPs  []string `json:"ip"`
}

// Endpoint is one host seen: a MAC address with the IPs it used as source,
// or an IP seen without a MAC (behind a router, or a raw-IP capture).
type Endpoint struct {
	MAC       string   `json:"mac,omitempty"`
	IPs       []string `json:"ips,omitempty"`
	Role      string   `json:"role"`
	Serves    []string `json:"serves,omitempty"` // services it answered on ("modbus/tcp 502")
	Uses      []string `json:"uses,omitempty"`   // services it asked others for
	PacketsTx uint64   `json:"packets_sent"`
	PacketsRx uint64   `json:"packets_received"`
	BytesTx   uint64   `json:"bytes_sent"`
	BytesRx   uint64   `json:"bytes_received"`
}

// Protocol counts the frames that carried a protocol.
type Protocol struct {
	Name    string `json:"name"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// OpCount counts operations by protocol, function and result.
type OpCount struct {
	Protocol string `json:"protocol"`
	Function string `json:"function"`
	Class    string `json:"class"`
	Status   string `json:"status"`
	Count    uint64 `json:"count"`
}

// PipelineStats are the counters of the packet path.
type PipelineStats struct {
	FlowsEvicted     uint64 `json:"flows_evicted"`
	Fragments        uint64 `json:"ip_fragments"`
	Reassembled      uint64 `json:"ip_datagrams_reassembled"`
	Sessions         uint64 `json:"dissector_sessions"`
	StreamGaps       uint64 `json:"stream_gaps"`
	DissectorErrors  uint64 `json:"dissector_errors"`
	DissectorPanics  uint64 `json:"dissector_panics"`
	UnsupportedLinks uint64 `json:"unsupported_link_frames"`
}

type host struct {
	ips                  map[netip.Addr]bool
	forward              map[netip.Addr]bool // IPs of others in frames sent to this MAC (up to 4)
	serves, uses         map[string]bool
	pktTx, pktRx         uint64
	bytesTx, bytesRx     uint64
	broadcast, multicast bool
}

type opKey struct {
	protocol, function string
	class              dissect.Class
	status             dissect.Status
}

// Collector gathers a Summary from the pipeline. Use one per analysis.
type Collector struct {
	packets, bytes uint64
	first, last    time.Time
	macs           map[[6]byte]*host
	ips            map[netip.Addr]*host // IPs never seen with a MAC
	allIPs         map[netip.Addr]bool
	allMACs        map[[6]byte]bool
	ipOwner        map[netip.Addr][6]byte // first MAC seen sending from an IP
	protos         map[string]*Protocol
	ops            map[opKey]uint64
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector {
	return &Collector{
		macs:    map[[6]byte]*host{},
		ips:     map[netip.Addr]*host{},
		allIPs:  map[netip.Addr]bool{},
		allMACs: map[[6]byte]bool{},
		ipOwner: map[netip.Addr][6]byte{},
		protos:  map[string]*Protocol{},
		ops:     map[opKey]uint64{},
	}
}

func newHost() *host {
	return &host{ips: map[netip.Addr]bool{}, forward: map[netip.Addr]bool{}, serves: map[string]bool{}, uses: map[string]bool{}}
}

func (c *Collector) proto(name string, n int) {
	p := c.protos[name]
	if p == nil {
		p = &Protocol{Name: name}
		c.protos[name] = p
	}
	p.Packets++
	p.Bytes += uint64(n)
}

// Packet implements pipeline.Observer.
func (c *Collector) Packet(p *decode.Packet, err error) {
	c.packets++
	c.bytes += uint64(p.Length)
	if c.first.IsZero() || p.Timestamp.Before(c.first) {
		c.first = p.Timestamp
	}
	if p.Timestamp.After(c.last) {
		c.last = p.Timestamp
	}
	n := p.Length
	if p.HasMAC && p.HasDstMAC {
		c.proto("ethernet", n)
		c.allMACs[p.SrcMAC] = true
		c.allMACs[p.DstMAC] = true
		src := c.macHost(p.SrcMAC)
		src.pktTx++
		src.bytesTx += uint64(n)
		dst := c.macHost(p.DstMAC)
		dst.pktRx++
		dst.bytesRx += uint64(n)
		if p.DstIP.IsValid() && p.DstMAC[0]&1 == 0 && len(dst.forward) < 4 {
			if owner, ok := c.ipOwner[p.DstIP]; ok && owner != p.DstMAC {
				dst.forward[p.DstIP] = true // this MAC takes frames for another host's IP
			}
		}
		if p.DstMAC[0]&1 == 1 {
			if p.DstMAC == [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} {
				dst.broadcast = true
			} else {
				dst.multicast = true
			}
		}
		if p.SrcIP.IsValid() && !p.SrcIP.IsUnspecified() {
			src.ips[p.SrcIP] = true
			if _, ok := c.ipOwner[p.SrcIP]; !ok {
				c.ipOwner[p.SrcIP] = p.SrcMAC
			}
		}
	} else if p.HasMAC {
		c.proto("linux-cooked", n)
	}
	if p.NumVLANs > 0 {
		c.proto("vlan", n)
	}
	switch p.Network {
	case decode.NetARP:
		c.proto("arp", n)
	case decode.NetIPv4:
		c.proto("ipv4", n)
	case decode.NetIPv6:
		c.proto("ipv6", n)
	}
	if p.SrcIP.IsValid() {
		c.allIPs[p.SrcIP] = true
		c.allIPs[p.DstIP] = true
		if !p.HasMAC || !p.HasDstMAC {
			s := c.ipHost(p.SrcIP)
			s.pktTx++
			s.bytesTx += uint64(n)
			d := c.ipHost(p.DstIP)
			d.pktRx++
			d.bytesRx += uint64(n)
		}
	}
	if p.InnerSrcIP.IsValid() {
		c.allIPs[p.InnerSrcIP] = true
		c.allIPs[p.InnerDstIP] = true
	}
	switch p.Transport {
	case decode.ProtoTCP:
		c.proto("tcp", n)
	case decode.ProtoUDP:
		c.proto("udp", n)
	case decode.ProtoICMP:
		c.proto("icmp", n)
	case decode.ProtoICMPv6:
		c.proto("icmpv6", n)
	}
	if p.Fragment {
		c.proto("ip-fragment", n)
	}
	if err != nil && err != decode.ErrFragmentPending {
		c.proto("malformed", n)
	}
}

func (c *Collector) macHost(m [6]byte) *host {
	h := c.macs[m]
	if h == nil {
		h = newHost()
		c.macs[m] = h
	}
	return h
}

func (c *Collector) ipHost(a netip.Addr) *host {
	h := c.ips[a]
	if h == nil {
		h = newHost()
		h.ips[a] = true
		c.ips[a] = h
	}
	return h
}

// Emit implements dissect.Emitter.
func (c *Collector) Emit(op *dissect.Operation) {
	c.ops[opKey{op.Protocol, op.FunctionName, op.Class, op.Result.Status}]++
	if op.Protocol != "service" || op.Result.Status != dissect.StatusOK {
		return
	}
	svc := op.FunctionName + "/" + op.Transport + " " + strconv.Itoa(int(op.Server.Port))
	if h := c.hostOf(op.Server); h != nil {
		h.serves[svc] = true
	}
	if h := c.hostOf(op.Client); h != nil {
		h.uses[svc] = true
	}
}

// hostOf finds the host behind an operation's endpoint: the MAC that sent
// from its IP (a routed peer's frames carry the router's MAC, so the MAC on
// the operation's first frame can be the router's), else the MAC-less host.
func (c *Collector) hostOf(e dissect.Endpoint) *host {
	if m, ok := c.ipOwner[e.IP]; ok {
		if h := c.macs[m]; h != nil {
			return h
		}
	}
	return c.ips[e.IP]
}

// Summary returns what was collected, with the pipeline's counters.
func (c *Collector) Summary(inputs []string, st pipeline.Stats) *Summary {
	s := &Summary{
		Inputs:    inputs,
		Packets:   c.packets,
		Bytes:     c.bytes,
		First:     c.first,
		Last:      c.last,
		Duration:  c.last.Sub(c.first),
		Malformed: st.Malformed,
		Flows:     st.Flows.Created,
		MACs:      len(c.allMACs),
		IPs:       len(c.allIPs),
		Pipeline: PipelineStats{
			FlowsEvicted:     st.Flows.Evicted,
			Fragments:        st.Decode.Defrag.Fragments,
			Reassembled:      st.Decode.Defrag.Reassembled,
			Sessions:         st.Sessions,
			StreamGaps:       st.Gaps,
			DissectorErrors:  st.Failed,
			DissectorPanics:  st.Panics,
			UnsupportedLinks: st.Decode.Unsupported,
		},
	}
	for m := range c.allMACs {
		s.Addresses.MACs = append(s.Addresses.MACs, net.HardwareAddr(m[:]).String())
	}
	sort.Strings(s.Addresses.MACs)
	ips := make([]netip.Addr, 0, len(c.allIPs))
	for a := range c.allIPs {
		ips = append(ips, a)
	}
	slices.SortFunc(ips, func(a, b netip.Addr) int { return a.Compare(b) })
	for _, a := range ips {
		s.Addresses.IPs = append(s.Addresses.IPs, a.String())
	}
	for m, h := range c.macs {
		s.Endpoints = append(s.Endpoints, endpoint(net.HardwareAddr(m[:]).String(), h))
	}
	for _, h := range c.ips {
		s.Endpoints = append(s.Endpoints, endpoint("", h))
	}
	sort.Slice(s.Endpoints, func(i, j int) bool {
		a, b := s.Endpoints[i], s.Endpoints[j]
		if a.PacketsTx+a.PacketsRx != b.PacketsTx+b.PacketsRx {
			return a.PacketsTx+a.PacketsRx > b.PacketsTx+b.PacketsRx
		}
		return a.MAC+strings.Join(a.IPs, ",") < b.MAC+strings.Join(b.IPs, ",")
	})
	for _, p := range c.protos {
		s.Protocols = append(s.Protocols, *p)
	}
	sort.Slice(s.Protocols, func(i, j int) bool {
		if s.Protocols[i].Packets != s.Protocols[j].Packets {
			return s.Protocols[i].Packets > s.Protocols[j].Packets
		}
		return s.Protocols[i].Name < s.Protocols[j].Name
	})
	for k, n := range c.ops {
		s.Operations = append(s.Operations, OpCount{k.protocol, k.function, k.class.String(), k.status.String(), n})
	}
	sort.Slice(s.Operations, func(i, j int) bool {
		a, b := s.Operations[i], s.Operations[j]
		if a.Protocol != b.Protocol {
			return a.Protocol < b.Protocol
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Function+a.Status < b.Function+b.Status
	})
	return s
}

func endpoint(mac string, h *host) Endpoint {
	e := Endpoint{MAC: mac, PacketsTx: h.pktTx, PacketsRx: h.pktRx, BytesTx: h.bytesTx, BytesRx: h.bytesRx}
	ips := make([]netip.Addr, 0, len(h.ips))
	for a := range h.ips {
		ips = append(ips, a)
	}
	slices.SortFunc(ips, func(a, b netip.Addr) int { return a.Compare(b) })
	for _, a := range ips {
		e.IPs = append(e.IPs, a.String())
	}
	e.Serves = sortedKeys(h.serves)
	e.Uses = sortedKeys(h.uses)
	e.Role = role(h, len(ips))
	return e
}

// role guesses what a host is from its traffic alone (no vendor data): a
// host that answers on industrial ports is a field device (PLC, RTU or
// IED), one that polls them an HMI, SCADA server or engineering
// workstation, a MAC that sends from many IPs, or takes frames for the IPs
// of hosts seen elsewhere, a router.
func role(h *host, nips int) string {
	switch {
	case h.broadcast:
		return "broadcast"
	case h.multicast && h.pktTx == 0:
		return "multicast"
	case nips > 3 || len(h.forward) > 2:
		return "router"
	}
	icsServer, icsClient, server := false, false, len(h.serves) > 0
	for s := range h.serves {
		if service.Industrial(strings.SplitN(s, "/", 2)[0]) {
			icsServer = true
		}
	}
	for s := range h.uses {
		if service.Industrial(strings.SplitN(s, "/", 2)[0]) {
			icsClient = true
		}
	}
	switch {
	case icsServer && icsClient:
		return "ICS device (serves and polls)"
	case icsServer:
		return "PLC/RTU/IED"
	case icsClient:
		return "HMI/SCADA/EWS"
	case server:
		return "server"
	case len(h.uses) > 0:
		return "client"
	case h.pktTx == 0:
		return "silent"
	}
	return "unknown"
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

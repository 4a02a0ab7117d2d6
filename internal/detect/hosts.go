package detect

import (
	"net/netip"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/service"
)

// Host is what the Detector knows of one address.
type Host struct {
	// Industrial is set once the host served or used an industrial
	// protocol.
	Industrial bool
	// Serves is set once the host answered as a server of an industrial
	// protocol (a PLC, RTU, IED or OPC server).
	Serves bool
	// MAC is the MAC address that holds the address in ARP (see claim).
	MAC   dissect.MAC
	Name  string    // host name from DNS, DHCP, NetBIOS or identity
	First time.Time // first seen

	claimed int64 // MAC's last ARP claim, Unix nanoseconds
	claims  uint8 // MAC's ARP claims, up to minClaims
}

// ARP ownership of an address, as the inventory judges it.
const (
	// claimHold is how long a MAC keeps an address it holds after its
	// last ARP claim: another MAC's claims within it (spoofing, a
	// duplicate address) leave the address where it is; past it, the
	// next claim takes the address over (a replaced NIC).
	claimHold = 5 * time.Minute
	// minClaims is how many ARP claims a MAC must have made before it
	// holds an address: one gratuitous ARP is not yet ownership.
	minClaims = 3
)

// claim records that mac claimed x's address in ARP at t (Unix
// nanoseconds). The claim sets x.MAC unless another MAC holds the address:
// it made minClaims claims and its last one is less than claimHold old.
func (x *Host) claim(mac dissect.MAC, t int64) {
	if x.MAC == mac {
		x.claimed = max(x.claimed, t)
		if x.claims < minClaims {
			x.claims++
		}
		return
	}
	if !x.MAC.IsZero() && x.claims >= minClaims && t-x.claimed < int64(claimHold) {
		return
	}
	x.MAC, x.claimed, x.claims = mac, t, 1
}

// Industrial reports whether protocol (an operation's Protocol) is an
// industrial control protocol.
func Industrial(protocol string) bool { return ProtoOf(protocol).Industrial() }

// OpIndustrial reports whether op is industrial: by its protocol, or for a
// "service" operation by the service it names.
func OpIndustrial(op *dissect.Operation) bool {
	if op.Protocol == "service" {
		return Industrial(op.FunctionName) || service.Industrial(op.FunctionName)
	}
	return Industrial(op.Protocol)
}

type hostTable struct {
	m       map[netip.Addr]*Host
	byMAC   map[dissect.MAC]netip.Addr // the address each MAC last claimed in ARP, held or not
	max     int
	dropped uint64
}

func (h *hostTable) init(max int) {
	h.m = map[netip.Addr]*Host{}
	h.byMAC = map[dissect.MAC]netip.Addr{}
	h.max = max
}

func (h *hostTable) get(a netip.Addr, t time.Time) *Host {
	if !a.IsValid() {
		return nil
	}
	if x, ok := h.m[a]; ok {
		return x
	}
	if len(h.m) >= h.max {
		h.dropped++
		return nil
	}
	x := &Host{First: t}
	h.m[a] = x
	return x
}

// tellsHosts reports whether op may teach the host table something, for
// observe. Every flow has one "service" operation naming its protocol, so
// the industrial hosts are known from those alone; the other operations
// matter only for ARP (MAC addresses) and identity (names), and for
// layer-2 and unclaimed-port protocols without a service one. It is
// inlined: the other operations cost no call.
func tellsHosts(op *dissect.Operation) bool {
	return op.Protocol == "service" || op.Protocol == "arp" || len(op.Identity) != 0 || op.Transport == ""
}

// observe learns what op, which tellsHosts, says of its hosts.
func (h *hostTable) observe(d *Detector, op *dissect.Operation) {
	if OpIndustrial(op) {
		if op.Protocol == "service" && op.Result.Status != dissect.StatusOK {
			return // an unanswered probe of an industrial port says nothing
		}
		if c := h.get(op.Client.IP, op.Time); c != nil {
			c.Industrial = true
		}
		if s := h.get(op.Server.IP, op.Time); s != nil && op.Response {
			s.Industrial, s.Serves = true, true
		} else if s != nil && op.Protocol == "service" {
			s.Industrial, s.Serves = true, true
		}
	}
	if op.Protocol == "arp" && op.Client.IP.IsValid() && !op.Client.MAC.IsZero() {
		if c := h.get(op.Client.IP, op.Time); c != nil {
			c.claim(op.Client.MAC, op.Time.UnixNano())
		}
		if _, ok := h.byMAC[op.Client.MAC]; ok || len(h.byMAC) < h.max {
			h.byMAC[op.Client.MAC] = op.Client.IP
		}
	}
	switch op.Protocol {
	case "dns", "mdns", "llmnr":
		return // their names describe the addresses asked about, not the endpoints
	}
	for _, f := range op.Identity {
		if f.Key != dissect.FactHostname {
			continue
		}
		a := op.Client.IP
		if f.Server {
			a = op.Server.IP
		}
		if x := h.get(a, op.Time); x != nil && x.Name == "" {
			x.Name = f.Value
		}
	}
}

// fill completes a party with what is known of its address.
func (h *hostTable) fill(p *alert.Party) {
	x, ok := h.m[p.IP]
	if !ok {
		return
	}
	if p.MAC.IsZero() {
		p.MAC = x.MAC
	}
	if p.Name == "" {
		p.Name = x.Name
	}
}

// Host returns what is known of address a, or nil. The Host is the
// Detector's: read it, do not keep it.
func (d *Detector) Host(a netip.Addr) *Host { return d.hosts.m[a] }

// AddrOf returns the IP address a MAC last announced in ARP, for parties
// seen in layer-2 protocols; the zero Addr when none. The address need not
// be held by the MAC: for a spoofer, it is the address the spoofer claims.
func (d *Detector) AddrOf(m dissect.MAC) netip.Addr { return d.hosts.byMAC[m] }

// IsOT reports whether address a is an OT device: it spoke an industrial
// protocol or lies in one of Config.OTSubnets.
func (d *Detector) IsOT(a netip.Addr) bool {
	if x, ok := d.hosts.m[a]; ok && x.Industrial {
		return true
	}
	for _, p := range d.cfg.OTSubnets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// IsPublic reports whether a is a public internet address: global unicast,
// not private (RFC 1918, RFC 4193), not shared (RFC 6598).
func IsPublic(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
}

// Party returns the alert party for an endpoint.
func Party(e dissect.Endpoint) alert.Party {
	return alert.Party{IP: e.IP, MAC: e.MAC, Port: e.Port}
}

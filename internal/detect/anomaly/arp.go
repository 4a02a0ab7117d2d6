package anomaly

import (
	"net/netip"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// ARP operation codes (RFC 826).
const (
	arpRequest = 1
	arpReply   = 2
)

// Timing of the ARP checks.
const (
	// ownerIdle is how long the owner of an address may stay silent in
	// ARP before another MAC may take the address over without an alert
	// (a replaced device, a new DHCP lease). Hosts refresh their ARP
	// caches every few minutes, so an owner that is still there is heard
	// within it.
	ownerIdle = 10 * time.Minute
	// askWindow is how recent a request must be for a reply to answer it.
	askWindow = 5 * time.Second
	// spoofReplies unsolicited replies within spoofWindow that claim an
	// address for a MAC without an address of its own are spoofing.
	spoofReplies = 3
	spoofWindow  = time.Minute
	// arpRepeat is the shortest time between two findings on one address.
	arpRepeat = 10 * time.Second
)

// binding is what ARP says of one IPv4 address: the MAC that owns it and
// the state of a conflict with another MAC.
type binding struct {
	mac        dissect.MAC
	seen       int64 // last claim by the owner
	rival      dissect.MAC
	unsol      int   // unsolicited replies by the rival in the current window
	unsolStart int64 // start of that window
	raised     int64 // last finding
	raisedType *alert.Type
}

// arp checks one ARP packet's claim (its sender IP and MAC) against the
// bindings seen so far:
//
//   - a MAC that owns another address and claims this one is spoofing
//     (an attacker keeps its own address and poisons caches with another's);
//   - a MAC without another address that sends unsolicited replies for it
//     is spoofing once it has sent spoofReplies within spoofWindow;
//   - a MAC without another address that announces or answers for it while
//     the owner is still active is a duplicate address;
//   - a new MAC for an address whose owner went silent for ownerIdle takes
//     it over quietly.
func (e *engine) arp(d *detect.Detector, op *dissect.Operation) {
	if op.Result.Status != dissect.StatusOK || op.FunctionCode != arpRequest && op.FunctionCode != arpReply {
		return
	}
	ip, mac := op.Client.IP, op.Client.MAC
	if !ip.IsValid() || ip.IsUnspecified() || mac.IsZero() || mac[0]&1 != 0 {
		return // a probe, or a bogus multicast sender
	}
	t := op.Time.UnixNano()
	target := op.Server.IP
	if op.FunctionCode == arpRequest && target != ip && target.IsValid() {
		at, _ := e.asks.get(pairKey{ip, target}, t)
		*at = t
	}
	b, created := e.ips.get(ip, t)
	if created || b.mac.IsZero() {
		*b = binding{mac: mac, seen: t}
		e.own(mac, ip, t)
		return
	}
	if b.mac == mac {
		b.seen = t
		e.own(mac, ip, t)
		return
	}
	owner := e.otherAddress(mac, ip)
	if !owner.IsValid() && t-b.seen > int64(ownerIdle) {
		*b = binding{mac: mac, seen: t}
		e.own(mac, ip, t)
		return
	}
	unsolicited := op.FunctionCode == arpReply && (target == ip || !e.asked(target, ip, t))
	e.conflict(d, op, b, owner, unsolicited, t)
}

// own records that mac holds ip, if mac holds no other address yet (or no
// longer holds the one recorded).
func (e *engine) own(mac dissect.MAC, ip netip.Addr, t int64) {
	o, created := e.macs.get(mac, t)
	if created || !o.IsValid() {
		*o = ip
		return
	}
	if *o != ip {
		if b := e.ips.lookup(*o); b == nil || b.mac != mac {
			*o = ip
		}
	}
}

// otherAddress returns the address other than ip that mac holds, if any.
func (e *engine) otherAddress(mac dissect.MAC, ip netip.Addr) netip.Addr {
	o := e.macs.lookup(mac)
	if o == nil || !o.IsValid() || *o == ip {
		return netip.Addr{}
	}
	if b := e.ips.lookup(*o); b == nil || b.mac != mac {
		return netip.Addr{}
	}
	return *o
}

// asked reports whether asker requested ip's MAC within askWindow of t.
func (e *engine) asked(asker, ip netip.Addr, t int64) bool {
	at := e.asks.lookup(pairKey{asker, ip})
	return at != nil && t-*at <= int64(askWindow) && t >= *at
}

// conflict raises a finding for a claim of b's address by op's sender.
func (e *engine) conflict(d *detect.Detector, op *dissect.Operation, b *binding, owner netip.Addr, unsolicited bool, t int64) {
	ip, mac := op.Client.IP, op.Client.MAC
	if b.rival != mac {
		b.rival, b.unsol, b.unsolStart = mac, 0, t
	}
	typ := DuplicateIP
	src := alert.Party{IP: ip, MAC: mac}
	switch {
	case owner.IsValid():
		typ, src = ARPSpoofing, alert.Party{IP: owner, MAC: mac}
	case unsolicited:
		if t-b.unsolStart > int64(spoofWindow) {
			b.unsolStart, b.unsol = t, 0
		}
		if b.unsol++; b.unsol < spoofReplies {
			return
		}
		typ, src = ARPSpoofing, alert.Party{MAC: mac}
	}
	if b.raisedType == typ && t-b.raised < int64(arpRepeat) && t >= b.raised {
		return
	}
	b.raised, b.raisedType = t, typ
	detail := ip.String()
	if typ == ARPSpoofing {
		detail = ip.String() + " is at " + mac.String()
	}
	d.Raise(detect.Finding{Type: typ, Time: op.Time, Protocol: "arp", Source: src, Destination: alert.Party{IP: ip, MAC: b.mac},
		Key: ip.String(), Detail: detail, Op: op, Details: []dissect.Attr{
			{Key: "address", Value: ip.String()},
			{Key: "claimed_by", Value: mac.String()},
			{Key: "owner", Value: b.mac.String()},
			{Key: "arp", Value: op.FunctionName},
		}})
}

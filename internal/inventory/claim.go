package inventory

import "slices"

// FactClaimedIP is the key of the fact that a device claimed in ARP an IP
// address another device holds (Options.Hold); its value is the address,
// its source "arp", and its first and last times those of the claims.
const FactClaimedIP = "claimed_ip"

// minHold is how many frames (ARP claims and IP packets) a MAC must have
// sent from an address before it holds the address against another MAC's
// ARP claim: one gratuitous ARP is not yet ownership.
const minHold = 3

// maxConflicts bounds the conflicts the inventory remembers (live and
// ended, by address and claiming MAC): past it, a new conflict is counted
// in Stats but leaves no fact or event; the address still stays with its
// owner.
const maxConflicts = 1 << 16

// contest is a MAC's ARP claim on an address another MAC holds.
type contest struct {
	addr, rival uint32 // IP and claiming MAC record, index+1
	fact        int    // the rival's FactClaimedIP fact, index in its MAC record's facts
	last        int64  // the rival's latest claim
}

// claimARP records that MAC m claimed IP record a in ARP (as the sender of
// a request, reply or announcement). The claim makes m the address's owner
// unless another MAC holds the address; then it is a conflict (contest)
// and the address stays where it is.
func (inv *Inventory) claimARP(m, a uint32, t int64) {
	if o := inv.owner(a); o != 0 && o != m && inv.holds(o, a) {
		inv.contest(m, o, a, t)
		return
	}
	ar := &inv.addrs[a-1]
	if ar.arp != m {
		ar.arp = m
		inv.markAddr(a)
		inv.markMAC(m)
	}
	inv.bind(m, a)
	ar.last = max(ar.last, t)
	if ar.first == 0 {
		ar.first = t
	}
}

// holds reports whether MAC o keeps IP record a against another MAC's ARP
// claim: the address is bound to o's device, o sent at least minHold
// frames from it and o sent something less than Options.Hold ago.
func (inv *Inventory) holds(o, a uint32) bool {
	ar := &inv.addrs[a-1]
	mr := &inv.macs[o-1]
	if ar.dev == 0 || ar.dev != mr.dev || inv.now-mr.last >= int64(inv.opts.Hold) {
		return false
	}
	for _, s := range ar.macs {
		if s.mac == o {
			return s.n >= minHold
		}
	}
	return false
}

// contest records MAC m's claim on IP record a, which MAC o holds: a
// FactClaimedIP fact of m and, when the conflict is new, an
// EventIPConflict.
func (inv *Inventory) contest(m, o, a uint32, t int64) {
	k := [2]uint32{a, m}
	i, ok := inv.contestIdx[k]
	if ok && i >= 0 {
		c := &inv.contests[i]
		c.last = max(c.last, t)
		f := &inv.macs[m-1].facts[c.fact]
		f.last = max(f.last, t)
		return
	}
	if !ok && len(inv.contestIdx) >= maxConflicts {
		inv.stats.ConflictsDropped++
		return
	}
	ar := &inv.addrs[a-1]
	ip := ar.ip.String()
	inv.addFact(refMAC|ref(m), FactClaimedIP, ip, inv.arpSrc, rankARP, t)
	key, v := inv.names.get(FactClaimedIP), inv.names.get(ip)
	fact := slices.IndexFunc(inv.macs[m-1].facts, func(f fact) bool { return f.key == key && f.value == v && f.source == inv.arpSrc })
	inv.contestIdx[k] = len(inv.contests)
	inv.contests = append(inv.contests, contest{addr: a, rival: m, fact: fact, last: t})
	inv.markMAC(m) // judgeForwarder leaves contested addresses out
	inv.pend = append(inv.pend, pending{ev: Event{Type: EventIPConflict, Time: ts(t), Peer: ar.dev,
		Detail: macString(inv.macs[m-1].mac) + " claims " + ip + " held by " + macString(inv.macs[o-1].mac)}, who: refMAC | ref(m)})
}

// settleContests ends the conflicts whose claims stopped Options.Hold ago
// and gives an address to its claimant once the owner no longer holds it
// (gone silent, or replaced by a device with the same address).
func (inv *Inventory) settleContests() {
	if len(inv.contests) == 0 {
		return
	}
	keep := inv.contests[:0]
	for _, c := range inv.contests {
		live := inv.now-c.last < int64(inv.opts.Hold)
		o := inv.owner(c.addr)
		switch {
		case o == c.rival:
		case o != 0 && inv.holds(o, c.addr):
			if live {
				inv.contestIdx[[2]uint32{c.addr, c.rival}] = len(keep)
				keep = append(keep, c)
				continue
			}
		case live:
			inv.claimARP(c.rival, c.addr, c.last)
		}
		inv.contestIdx[[2]uint32{c.addr, c.rival}] = -1
		inv.markMAC(c.rival)
	}
	clear(inv.contests[len(keep):])
	inv.contests = keep
}

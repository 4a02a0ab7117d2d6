package inventory

import (
	"slices"
	"strconv"
	"time"
)

// tick judges the MACs and binds the IP addresses that changed, then
// dispatches events. With force, addresses are bound even before they have
// settled.
func (inv *Inventory) tick(force bool) {
	inv.lastTick = inv.now
	inv.settleContests()
	macs := inv.dirtyMACs
	inv.dirtyMACs = inv.dirtyMACs[:0]
	for _, m := range macs {
		mr := &inv.macs[m-1]
		mr.dirty = false
		fw := inv.judgeForwarder(m)
		if fw == mr.forwarder {
			continue
		}
		mr.forwarder = fw
		for _, a := range mr.ips {
			if a != 0 {
				inv.markAddr(a)
			}
		}
		for _, a := range inv.devs[mr.dev-1].addrs {
			inv.markAddr(a)
		}
	}
	addrs := slices.Clone(inv.dirtyAddrs)
	inv.dirtyAddrs = inv.dirtyAddrs[:0]
	for _, a := range addrs {
		ar := &inv.addrs[a-1]
		ar.dirty = false
		if !inv.resolve(a, force) {
			inv.markAddr(a) // not settled yet: look again next time
		}
	}
	if inv.routedDirty {
		inv.mergeRouted()
	}
	inv.dispatch(force)
}

// mergeRouted folds together the routed devices seen through two
// endpoints of one router (its MAC for BACnet/Ethernet and its IP for
// BACnet/IP) once both endpoints are bound to the router's device.
func (inv *Inventory) mergeRouted() {
	inv.routedDirty = false
	type key struct {
		router DeviceID
		snet   uint16
		sadr   sym
	}
	seen := map[key]uint32{}
	for i := range inv.routed {
		rr := &inv.routed[i]
		if rr.merged != 0 {
			continue
		}
		r := inv.devOf(rr.router)
		if r == 0 {
			continue
		}
		k := key{r, rr.snet, rr.sadr}
		j, ok := seen[k]
		if !ok {
			seen[k] = uint32(i + 1)
			continue
		}
		into := &inv.routed[j-1]
		rr.merged = j
		into.first, into.last = min(into.first, rr.first), max(into.last, rr.last)
		for _, f := range rr.facts {
			k := slices.IndexFunc(into.facts, func(o fact) bool { return o.key == f.key && o.value == f.value && o.source == f.source })
			if k < 0 {
				into.facts = append(into.facts, f)
				continue
			}
			o := &into.facts[k]
			o.first, o.last = min(o.first, f.first), max(o.last, f.last)
		}
		rr.facts = nil
		od := &inv.devs[rr.dev-1]
		od.removed = true
		inv.devs[into.dev-1].born = min(inv.devs[into.dev-1].born, od.born)
		if od.announced {
			inv.emit(Event{Type: EventMerged, Time: ts(rr.last), Device: rr.dev, Peer: into.dev,
				Detail: inv.routedAddress(uint32(i+1)) + " behind " + inv.label(r) + " is " + inv.label(into.dev)})
		}
	}
}

// judgeForwarder decides whether MAC m forwards traffic for others: it
// sends from more than MaxHostIPs addresses, or from an address another MAC
// claims in ARP or sends from as its only address, or it claims addresses
// in ARP and also sends from addresses it never claimed. An address m
// claimed in ARP against its holder (a contest, over or not) counts for
// neither: m impersonates the owner rather than forwarding for it.
func (inv *Inventory) judgeForwarder(m uint32) bool {
	mr := &inv.macs[m-1]
	if int(mr.nIPs) > inv.opts.MaxHostIPs {
		return true
	}
	if int(mr.nDIPs) > inv.opts.MaxHostIPs {
		return true
	}
	foreign := 0
	for _, a := range mr.dips {
		if a != 0 {
			if arp := inv.addrs[a-1].arp; arp != 0 && arp != m {
				foreign++
			}
		}
	}
	if foreign >= 2 {
		return true
	}
	own, unclaimed := 0, 0
	for _, a := range mr.ips {
		if a == 0 {
			continue
		}
		ar := &inv.addrs[a-1]
		if _, ok := inv.contestIdx[[2]uint32{a, m}]; ok && ar.arp != m {
			continue
		}
		switch {
		case ar.arp == m:
			own++
		case ar.arp != 0:
			return true
		default:
			unclaimed++
			for _, s := range ar.macs {
				if s.mac != 0 && s.mac != m && inv.macs[s.mac-1].nIPs == 1 {
					return true
				}
			}
		}
	}
	return own > 0 && unclaimed > 0
}

// owner returns the MAC record that owns IP record a, or 0.
func (inv *Inventory) owner(a uint32) uint32 {
	ar := &inv.addrs[a-1]
	if ar.arp != 0 {
		return ar.arp
	}
	var best uint32
	var n uint32
	for _, s := range ar.macs {
		if s.mac != 0 && !inv.macs[s.mac-1].forwarder && s.n > n {
			best, n = s.mac, s.n
		}
	}
	return best
}

// resolve binds IP record a to its device. It returns false when the
// address must settle first.
func (inv *Inventory) resolve(a uint32, force bool) bool {
	ar := &inv.addrs[a-1]
	if ar.first == 0 {
		return true // never sent anything: not a device
	}
	m := inv.owner(a)
	if m == 0 && ar.arp == 0 && !force && inv.now-ar.first < int64(inv.opts.Settle) {
		return false
	}
	if m != 0 && ar.arp == 0 && !force && inv.now-ar.first < int64(inv.opts.Settle) {
		return false
	}
	old := ar.dev
	var dev DeviceID
	if m != 0 {
		dev = inv.macs[m-1].dev
	} else if old != 0 && inv.devs[old-1].mac == 0 {
		return true // already a device of its own
	} else {
		inv.devs = append(inv.devs, device{born: ar.first})
		dev = DeviceID(len(inv.devs))
	}
	if dev == old {
		return true
	}
	t := time.Unix(0, max(ar.last, ar.first)).UTC()
	if old != 0 {
		od := &inv.devs[old-1]
		od.addrs = slices.DeleteFunc(od.addrs, func(x uint32) bool { return x == a })
		if od.mac == 0 && len(od.addrs) == 0 {
			od.removed = true
			if od.announced {
				inv.emit(Event{Type: EventMerged, Time: t, Device: old, Peer: dev, Detail: ar.ip.String() + " is " + inv.label(dev)})
			}
		} else if od.announced {
			inv.emit(Event{Type: EventIPMoved, Time: t, Device: dev, Peer: old, Detail: ar.ip.String() + " moved from " + inv.label(old)})
		}
	}
	ar.dev = dev
	inv.routedDirty = true
	nd := &inv.devs[dev-1]
	nd.addrs = append(nd.addrs, a)
	if nd.announced && (old == 0 || !inv.devs[old-1].announced) {
		inv.emit(Event{Type: EventNewIP, Time: t, Device: dev, Detail: "uses " + ar.ip.String()})
	}
	return true
}

// label names a device for event text: its MAC or first IP.
func (inv *Inventory) label(id DeviceID) string {
	d := &inv.devs[id-1]
	if d.mac != 0 {
		return macString(inv.macs[d.mac-1].mac)
	}
	if d.routed != 0 {
		return inv.routedAddress(d.routed)
	}
	if len(d.addrs) > 0 {
		return inv.addrs[d.addrs[0]-1].ip.String()
	}
	return "device " + strconv.Itoa(int(id))
}

func (inv *Inventory) emit(e Event) {
	if inv.opts.Sink != nil {
		inv.opts.Sink.Event(e)
	}
}

// lastSeen returns the newest time a device sent something.
func (inv *Inventory) lastSeen(d *device) int64 {
	var t int64
	if d.mac != 0 {
		t = inv.macs[d.mac-1].last
	}
	if d.routed != 0 {
		t = inv.routed[d.routed-1].last
	}
	for _, a := range d.addrs {
		t = max(t, inv.addrs[a-1].last)
	}
	return t
}

// dispatch announces new devices, hands pending events to the sink,
// announces new connections and reports devices gone silent.
func (inv *Inventory) dispatch(force bool) {
	fresh := map[DeviceID]bool{}
	for i := range inv.devs {
		d := &inv.devs[i]
		if d.announced || d.removed || d.empty() {
			continue
		}
		var router DeviceID
		if d.routed != 0 {
			if router = inv.devOf(inv.routed[d.routed-1].router); router == 0 && !force {
				continue // wait for its router's device, so the event names it
			}
		}
		if d.mac != 0 && len(d.addrs) == 0 && inv.now-d.born < int64(inv.opts.Settle) && !force {
			continue // wait for its IP, so the event names it
		}
		d.announced = true
		id := DeviceID(i + 1)
		fresh[id] = true
		detail := inv.label(id)
		if d.mac != 0 {
			for _, a := range d.addrs {
				detail += " " + inv.addrs[a-1].ip.String()
			}
		}
		if d.routed != 0 && router != 0 {
			detail += " behind router " + inv.label(router)
		}
		if d.mac != 0 || d.routed != 0 {
			if v := inv.vendorOf(d); v != "" {
				detail += " (" + v + ")"
			}
		}
		inv.emit(Event{Type: EventNewDevice, Time: time.Unix(0, d.born).UTC(), Device: id, Peer: router, Detail: detail})
	}
	keep := inv.pend[:0]
	for _, p := range inv.pend {
		id := inv.devOf(p.who)
		if id == 0 {
			if p.who&(refMAC|refRouted) == 0 && inv.addrs[p.who-1].first == 0 {
				continue // an address that never sent: no device to tell about
			}
			keep = append(keep, p)
			continue
		}
		if p.who&refRouted != 0 && !inv.devs[id-1].announced {
			keep = append(keep, p) // its device waits for its router
			continue
		}
		if p.ev.Type == EventIPConflict {
			if inv.devs[id-1].removed {
				continue
			}
			if !inv.devs[id-1].announced {
				keep = append(keep, p) // told after the device itself
				continue
			}
		} else if fresh[id] || inv.devs[id-1].removed {
			continue // part of the device's discovery
		}
		p.ev.Device = id
		inv.emit(p.ev)
	}
	inv.pend = keep
	if len(inv.pend) > 1<<16 {
		inv.pend = inv.pend[len(inv.pend)-1<<16:]
	}
	keepEdges := inv.newEdges[:0]
	for _, i := range inv.newEdges {
		e := &inv.edges[i-1]
		if !e.exchanged() {
			if inv.now-e.first < int64(time.Minute) {
				keepEdges = append(keepEdges, i)
			}
			continue // unanswered so far
		}
		c, s := inv.devOf(e.client), inv.devOf(e.server)
		if c == 0 || s == 0 {
			keepEdges = append(keepEdges, i)
			continue
		}
		e.announced = true
		inv.announceService(e.server, e, true, fresh)
		inv.announceService(e.client, e, false, fresh)
		k := [3]uint32{uint32(c), uint32(s), uint32(e.port)<<8 | uint32(e.transport)}
		if _, seen := inv.pairs[k]; seen {
			continue
		}
		inv.pairs[k] = struct{}{}
		if fresh[c] || fresh[s] {
			continue
		}
		inv.emit(Event{Type: EventNewConnection, Time: time.Unix(0, e.first).UTC(), Device: c, Peer: s,
			Detail: inv.label(c) + " → " + inv.label(s) + " " + inv.edgeProto(e) + "/" + trName(e.transport) + " " + strconv.Itoa(int(e.port))})
	}
	inv.newEdges = keepEdges
	if inv.opts.Inactive > 0 {
		for i := range inv.devs {
			d := &inv.devs[i]
			if !d.announced || d.removed {
				continue
			}
			last := inv.lastSeen(d)
			silent := inv.now-last >= int64(inv.opts.Inactive)
			if silent && !d.inactive {
				inv.emit(Event{Type: EventInactive, Time: time.Unix(0, last).Add(inv.opts.Inactive).UTC(), Device: DeviceID(i + 1),
					Detail: "not seen since " + time.Unix(0, last).UTC().Format(time.RFC3339)})
			}
			d.inactive = silent
		}
	}
}

// empty reports whether a device has no endpoint left.
func (d *device) empty() bool { return d.mac == 0 && d.routed == 0 && len(d.addrs) == 0 }

// exchanged reports whether a connection carried data both ways (a
// port that only answered a SYN serves nothing yet) or a dissector parsed
// an operation on it.
func (e *edge) exchanged() bool {
	return e.classes != 0 || e.reqs > 0 && e.pkts[1] > 0
}

// announceService emits new_protocol for the service an edge uses, the
// first time one of its connections exchanges data, unless the device is
// being discovered in the same step.
func (inv *Inventory) announceService(r ref, e *edge, serves bool, fresh map[DeviceID]bool) {
	ss := inv.svcsOf(r)
	for i := range *ss {
		s := &(*ss)[i]
		if s.port != e.port || s.transport != e.transport || s.serves != serves || s.announced {
			continue
		}
		s.announced = true
		id := inv.devOf(r)
		if id == 0 || fresh[id] {
			continue
		}
		verb := "uses "
		if serves {
			verb = "serves "
		}
		inv.emit(Event{Type: EventNewProtocol, Time: ts(e.first), Device: id,
			Detail: verb + inv.names.str(s.proto) + "/" + trName(s.transport) + " " + strconv.Itoa(int(s.port))})
	}
}

// edgeProto names an edge's protocol: the dissector's, else the port's
// service name.
func (inv *Inventory) edgeProto(e *edge) string {
	if e.proto != 0 {
		return inv.names.str(e.proto)
	}
	if n := serviceName(e.transport, e.port); n != "" {
		return n
	}
	return "unknown"
}

// vendorOf returns a device's best vendor fact.
func (inv *Inventory) vendorOf(d *device) string {
	best := inv.bestFacts(d)
	return best["vendor"]
}

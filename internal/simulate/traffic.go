package simulate

import (
	"math/rand/v2"
	"time"
)

// pollKind is what a poller reads.
type pollKind int

const (
	pollHMI       pollKind = iota // holding registers and coils, operator writes
	pollHistorian                 // input registers
)

// poller keeps a Modbus/TCP connection from a client to a device open and
// polls it periodically until stop, reconnecting once at reconnect if set.
type poller struct {
	s         *sim
	rng       *rand.Rand
	cli       *node
	dev       *device
	kind      pollKind
	period    time.Duration
	spread    time.Duration
	stop      time.Duration
	reconnect time.Duration
	tid       uint16
	c         *conn
}

func (p *poller) connect() {
	p.c = newConn(p.s, p.rng, p.cli, p.dev.n, modbusPort)
	t := p.c.handshake(p.s.now)
	p.s.at(t+between(p.rng, 20*time.Millisecond, 300*time.Millisecond), p.poll)
}

func (p *poller) nextTID() uint16 {
	p.tid++
	return p.tid
}

func (p *poller) poll() {
	now := p.s.now
	if now >= p.stop {
		p.c.close(now)
		return
	}
	if p.reconnect > 0 && now >= p.reconnect {
		p.reconnect = 0
		p.c.close(now)
		p.s.at(now+between(p.rng, 2*time.Second, 5*time.Second), p.connect)
		return
	}
	t := now
	gap := func() time.Duration { return between(p.rng, 150*time.Microsecond, 900*time.Microsecond) }
	switch p.kind {
	case pollHMI:
		if p.rng.IntN(150) == 0 { // an operator changes a setpoint
			reg := uint16(regTempSetpoint)
			v := p.dev.hr[reg] + uint16(10*p.rng.IntN(5)) - 20
			if p.rng.IntN(2) == 0 {
				reg = regPressureSetpoint
				v = p.dev.hr[reg] + uint16(50*p.rng.IntN(5)) - 100
			}
			t = p.dev.transact(p.c, t, p.nextTID(), writeRequest(reg, v)) + gap()
		}
		t = p.dev.transact(p.c, t, p.nextTID(), readRequest(fcReadHolding, 0, 12)) + gap()
		t = p.dev.transact(p.c, t, p.nextTID(), readRequest(fcReadCoils, 0, numCoils))
		if p.rng.IntN(60) == 0 { // a tag configured past the device's map
			t = p.dev.transact(p.c, t+gap(), p.nextTID(), readRequest(fcReadHolding, badAddress, 2))
		}
	case pollHistorian:
		t = p.dev.transact(p.c, t, p.nextTID(), readRequest(fcReadInput, 0, 8))
	}
	p.c.send(t+delayedACK(p.rng, p.cli), true, flagACK, nil, nil)
	next := now + jitter(p.rng, p.period, p.spread)
	if next > p.stop {
		next = max(p.stop, t+300*time.Millisecond) // after the delayed ACK
	}
	p.s.at(next, p.poll)
}

// session is a short Modbus/TCP session: connect, read, linger, close.
type session struct {
	s   *sim
	rng *rand.Rand
	cli *node
	dev *device
	tid uint16
}

// run opens the session at t, reads the device's whole map and closes the
// connection; it returns the time of the last packet.
func (ss *session) run(t time.Duration) time.Duration {
	c := newConn(ss.s, ss.rng, ss.cli, ss.dev.n, modbusPort)
	t = c.handshake(t)
	for _, req := range [][]byte{
		readRequest(fcReadHolding, 0, numHolding),
		readRequest(fcReadCoils, 0, numCoils),
		readRequest(fcReadInput, 0, numInput),
	} {
		t += between(ss.rng, 5*time.Millisecond, 40*time.Millisecond)
		ss.tid++
		t = ss.dev.transact(c, t, ss.tid, req)
	}
	t += delayedACK(ss.rng, ss.cli)
	c.send(t, true, flagACK, nil, nil)
	return c.close(t + between(ss.rng, 500*time.Millisecond, 3*time.Second))
}

// plant holds the simulated plant: nodes by name and devices by node.
type plant struct {
	nodes   []*node
	byName  map[string]*node
	devices map[*node]*device
	order   []*device   // devices in plant order
	s7      *s7plc      // the Siemens PLC's S7 server
	enip    *enipPLC    // the Rockwell PLC's EtherNet/IP adapter
	rtu     *outstation // the RTU's DNP3 outstation
	master  *dnpMaster  // the SCADA master polling the RTU
	cells   *cellPlant  // the optional cells (nil when none is enabled)
}

func (s *sim) buildPlant(streams func(uint64) *rand.Rand) *plant {
	p := &plant{byName: map[string]*node{}, devices: map[*node]*device{}}
	rng := streams(1)
	for _, spec := range plantSpecs() {
		p.add(spec, rng)
	}
	delays := map[string][2]time.Duration{
		"plc01": {2 * time.Millisecond, 8 * time.Millisecond},
		"plc02": {5 * time.Millisecond, 20 * time.Millisecond},
		"plc03": {1 * time.Millisecond, 5 * time.Millisecond},
		"rtu01": {10 * time.Millisecond, 40 * time.Millisecond},
	}
	for i, n := range p.nodes {
		if n.Role != RolePLC && n.Role != RoleRTU {
			continue
		}
		d := delays[n.Name]
		dev := newDevice(n, 1, streams(100+uint64(i)), d[0], d[1])
		p.devices[n] = dev
		p.order = append(p.order, dev)
	}
	p.s7 = &s7plc{dev: p.devices[p.byName["plc01"]], id: siemensIdentity, running: true, ref: uint16(rng.IntN(0x100))}
	p.enip = newENIPPLC(p.devices[p.byName["plc03"]], rockwellIdentity, rng)
	p.rtu = newOutstation(s, p.devices[p.byName["rtu01"]], streams(150))
	return p
}

// add creates the node of spec with a random IPv4 id and port state.
func (p *plant) add(spec hostSpec, rng *rand.Rand) *node {
	spec.finish()
	n := &node{hostSpec: spec, flowIDs: map[flowKey]uint16{}, id: uint16(rng.Uint32()),
		nextPort: uint16(49152 + rng.IntN(8000))}
	for _, o := range p.nodes {
		if o.Role == RoleRouter && o.Subnet == n.Subnet && o != n {
			n.gw = o
		}
	}
	p.nodes = append(p.nodes, n)
	p.byName[n.Name] = n
	return n
}

// schedulePlant schedules the plant's own traffic over the whole capture.
func (s *sim) schedulePlant(p *plant, o *Options, streams func(uint64) *rand.Rand) {
	rng := streams(2)
	stop := func() time.Duration { return s.end - between(rng, 1500*time.Millisecond, 2500*time.Millisecond) }
	k := uint64(200)
	// Warm-up: the router resolves the field devices, the control hosts
	// resolve their gateway; caches are then refreshed periodically.
	for _, n := range p.nodes {
		switch {
		case n.Role == RoleRouter || n.Role == RoleEngineering:
		case n.Subnet == field:
			t := between(rng, 20*time.Millisecond, 200*time.Millisecond)
			s.at(t, func() { s.arpExchange(t, n.gw, n, false, serverDelay(rng, n)) })
			k++
			s.refreshARP(n, t, streams(k))
		default:
			t := between(rng, 20*time.Millisecond, 200*time.Millisecond)
			s.at(t, func() { s.arpExchange(t, n, n.gw, false, serverDelay(rng, n.gw)) })
			k++
			s.refreshARP(n, t, streams(k))
		}
	}
	var id uint64 = 1000
	for _, cli := range p.nodes {
		switch cli.Role {
		case RoleHMI:
			for _, dev := range p.order {
				if dev.n.Role != RolePLC {
					continue
				}
				id++
				pr := &poller{s: s, rng: streams(id), cli: cli, dev: dev, kind: pollHMI,
					period: o.PollInterval, spread: o.PollInterval / 25, stop: stop()}
				if dev.n.Name == "plc03" || pr.rng.IntN(4) == 0 { // plc03 drops idle sessions
					pr.reconnect = between(pr.rng, s.end/5, s.end*4/5)
				}
				pr.tid = uint16(pr.rng.IntN(1000))
				s.at(between(pr.rng, 400*time.Millisecond, 1500*time.Millisecond), pr.connect)
			}
		case RoleHistorian:
			for _, dev := range p.order {
				id++
				pr := &poller{s: s, rng: streams(id), cli: cli, dev: dev, kind: pollHistorian,
					period: o.HistorianInterval, spread: o.HistorianInterval / 50, stop: stop()}
				s.at(between(pr.rng, 400*time.Millisecond, 2*time.Second), pr.connect)
			}
		case RoleEngineering:
			s.scheduleWorkstation(p, cli, streams(3), streams)
		}
	}
	s.scheduleIndustrial(p, o, stop, streams)
	s.scheduleDNS(p, streams(304))
	s.cellSchedule(p, o, streams)
}

// refreshARP re-resolves n's gateway every n.arpEvery seconds from first.
func (s *sim) refreshARP(n *node, first time.Duration, rng *rand.Rand) {
	if n.arpEvery == 0 || n.gw == nil {
		return
	}
	every := time.Duration(n.arpEvery) * time.Second
	var refresh func()
	refresh = func() {
		unicast := n.stack != stackEmbedded
		s.arpExchange(s.now, n, n.gw, unicast, serverDelay(rng, n.gw))
		s.at(s.now+jitter(rng, every, every/5), refresh)
	}
	s.at(first+jitter(rng, every, every/5), refresh)
}

// scheduleWorkstation has the engineering workstation take its address by
// DHCP, resolve its gateway, and open a short session to a PLC, each in turn, every
// minute or so.
func (s *sim) scheduleWorkstation(p *plant, ews *node, rng *rand.Rand, streams func(uint64) *rand.Rand) {
	t0 := between(rng, 50*time.Millisecond, 150*time.Millisecond)
	xid := rng.Uint32()
	s.at(t0, func() {
		t := s.dhcpExchange(t0, ews, ews.gw, xid, rng)
		t += between(rng, 200*time.Millisecond, 600*time.Millisecond)
		t = s.arpExchange(t, ews, ews.gw, false, serverDelay(rng, ews.gw))
		s.refreshARP(ews, t, rng)
		var plcs []*device
		for _, d := range p.order {
			if d.n.Role == RolePLC {
				plcs = append(plcs, d)
			}
		}
		// The workstation visits the PLCs in turn, so that every one of its
		// connections shows up within the first few minutes.
		var next func()
		turn := rng.IntN(len(plcs))
		next = func() {
			if s.now+8*time.Second > s.end {
				return
			}
			turn = (turn + 1) % len(plcs)
			ss := &session{s: s, rng: rng, cli: ews, dev: plcs[turn], tid: uint16(rng.IntN(100))}
			end := ss.run(s.now)
			s.at(end+between(rng, 30*time.Second, 75*time.Second), next)
		}
		s.at(t+between(rng, 3*time.Second, 20*time.Second), next)
		s.scheduleEngineering(p, ews, t, streams(4))
	})
}

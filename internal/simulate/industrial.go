package simulate

import (
	"math/rand/v2"
	"time"
)

// scheduleIndustrial schedules the plant's S7comm, EtherNet/IP and DNP3
// traffic: hmi01 polls the Siemens PLC over S7comm and the Rockwell PLC
// over EtherNet/IP (with a short class 1 I/O connection), hmi02 is the
// DNP3 master of the RTU.
func (s *sim) scheduleIndustrial(p *plant, o *Options, stop func() time.Duration, streams func(uint64) *rand.Rand) {
	hmi1, hmi2 := p.byName["hmi01"], p.byName["hmi02"]

	rng := streams(300)
	sp := &s7Poller{period: o.PollInterval, stop: stop()}
	s.at(between(rng, 600*time.Millisecond, 1800*time.Millisecond), func() {
		k, t := openS7(s, rng, hmi1, p.s7, s.now, tsapOP, tsapPLCOP)
		sp.k = k
		s.at(t+between(rng, 20*time.Millisecond, 200*time.Millisecond), sp.poll)
	})

	erng := streams(301)
	ep := &enipPoller{period: 2 * o.PollInterval, stop: stop()}
	s.at(between(erng, 700*time.Millisecond, 2*time.Second), func() {
		t := s.listIdentity(s.now, hmi1, p.enip, erng)
		t += between(erng, 50*time.Millisecond, 300*time.Millisecond)
		e, t := openENIP(s, erng, hmi1, p.enip, t)
		ep.e = e
		gap := func() time.Duration { return between(erng, 2*time.Millisecond, 20*time.Millisecond) }
		t = e.rr(t+gap(), cipRequest(cipGetAttrAll, logicalPath(cipClassIdentity, 1), nil), cipReply(cipGetAttrAll, p.enip.identity()))
		t = e.forwardOpen(t+gap(), false)
		e.busy = e.ack()
		s.at(t+between(erng, 200*time.Millisecond, 600*time.Millisecond), ep.poll)
	})

	irng := streams(302)
	ioStart := min(between(irng, 15*time.Second, 25*time.Second), s.end/4)
	s.at(ioStart, func() {
		e, t := openENIP(s, irng, hmi1, p.enip, s.now)
		t = e.forwardOpen(t+between(irng, 2*time.Millisecond, 10*time.Millisecond), true)
		t = e.ioExchange(t+between(irng, 5*time.Millisecond, 20*time.Millisecond), 20*time.Second)
		t = e.forwardClose(t+between(irng, 5*time.Millisecond, 20*time.Millisecond), true)
		e.unregister(t + between(irng, 2*time.Millisecond, 10*time.Millisecond))
	})

	drng := streams(303)
	p.master = &dnpMaster{s: s, rng: drng, cli: hmi2, o: p.rtu, period: 5 * time.Second, stop: stop()}
	s.at(between(drng, 800*time.Millisecond, 2500*time.Millisecond), p.master.connect)
}

// scheduleEngineering has the workstation go online with the Siemens PLC
// from t: a first session soon, then one every few minutes.
func (s *sim) scheduleEngineering(p *plant, ews *node, t time.Duration, rng *rand.Rand) {
	var next func()
	next = func() {
		if s.now+10*time.Second > s.end {
			return
		}
		k, t := openS7(s, rng, ews, p.s7, s.now, tsapPG, tsapPLCPG)
		t = k.online(t)
		t = k.ack()
		end := k.c.close(t + between(rng, 1*time.Second, 4*time.Second))
		s.at(end+between(rng, 3*time.Minute, 6*time.Minute), next)
	}
	s.at(t+between(rng, 6*time.Second, 15*time.Second), next)
}

package simulate

import (
	"math/rand/v2"
	"time"
)

// DNP3 constants (IEEE 1815-2012): link-layer control octets, application
// function codes, internal indications and object headers.
const (
	dnp3Port = 20000

	dnpCtlMaster     = 0xc4 // DIR=1 PRM=1, function 4 unconfirmed user data
	dnpCtlOutstation = 0x44 // DIR=0 PRM=1, function 4 unconfirmed user data

	dnpConfirm           = 0
	dnpRead              = 1
	dnpWrite             = 2
	dnpSelect            = 3
	dnpOperate           = 4
	dnpDirectOperate     = 5
	dnpColdRestart       = 13
	dnpEnableUnsol       = 20
	dnpDelayMeasure      = 23
	dnpResponse          = 129
	dnpUnsolicited       = 130
	dnpMasterAddr        = 1
	dnpOutstationAddr    = 10
	iin1Class1           = 0x02
	iin1Class2           = 0x04
	iin1NeedTime         = 0x10
	iin1Restart          = 0x80
	dnpAppFIR, dnpAppFIN = 0x80, 0x40
	dnpAppCON, dnpAppUNS = 0x20, 0x10
	numDNPBinary         = 8
	numDNPAnalog         = 5
)

// Object headers: group, variation, qualifier and range.
var (
	dnpClass123  = []byte{60, 2, 0x06, 60, 3, 0x06, 60, 4, 0x06}
	dnpClass0123 = []byte{60, 2, 0x06, 60, 3, 0x06, 60, 4, 0x06, 60, 1, 0x06}
	// dnpClearRestart writes 0 to IIN1.7 (group 80 variation 1, index 7).
	dnpClearRestart = []byte{80, 1, 0x00, 7, 7, 0x00}
)

// dnpCRC returns the CRC-16/DNP of b: polynomial 0x3D65 reflected, initial
// value 0, result complemented (IEEE 1815-2012, section 9.2.4.1.1).
func dnpCRC(b []byte) uint16 {
	var crc uint16
	for _, x := range b {
		crc ^= uint16(x)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xa6bc
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

// dnpFrame returns a link-layer frame carrying user (a transport segment of
// at most 250 octets): the 10-octet header with its CRC, then the user data
// in blocks of 16 octets, each followed by its CRC, all CRCs little-endian.
func dnpFrame(ctrl byte, dst, src uint16, user []byte) []byte {
	b := make([]byte, 0, 10+len(user)+2*((len(user)+15)/16))
	b = append(b, 0x05, 0x64, byte(5+len(user)), ctrl, byte(dst), byte(dst>>8), byte(src), byte(src>>8))
	b = le16(b, dnpCRC(b))
	for i := 0; i < len(user); i += 16 {
		blk := user[i:min(i+16, len(user))]
		b = append(b, blk...)
		b = le16(b, dnpCRC(blk))
	}
	return b
}

// dnpTime appends a DNP3 absolute time: milliseconds since 1970, 48 bits
// little-endian.
func dnpTime(b []byte, t time.Time) []byte {
	ms := uint64(t.UnixMilli())
	return append(b, byte(ms), byte(ms>>8), byte(ms>>16), byte(ms>>24), byte(ms>>32), byte(ms>>40))
}

type dnpEvent struct {
	analog bool
	index  uint8
	flags  uint8
	value  int32
	at     time.Duration
}

// outstation is the RTU's DNP3 outstation: binary and analog inputs derived
// from its process, an event buffer and the internal indications.
type outstation struct {
	s         *sim
	dev       *device
	rng       *rand.Rand
	restart   bool // IIN1.7, set at every start
	needTime  bool // IIN1.4
	unsol     bool // unsolicited responses enabled
	bi        [numDNPBinary]bool
	ai        [numDNPAnalog]int32
	events    []dnpEvent
	last      time.Duration
	useq      uint8 // application sequence of unsolicited responses
	tseq      uint8 // transport sequence
	lastDelay time.Duration
}

func newOutstation(s *sim, dev *device, rng *rand.Rand) *outstation {
	o := &outstation{s: s, dev: dev, rng: rng, restart: true, needTime: true}
	for i := range o.bi {
		o.bi[i] = rng.IntN(3) != 0
	}
	o.sample()
	return o
}

// sample reads the analog inputs from the process.
func (o *outstation) sample() {
	for i := range o.ai {
		o.ai[i] = int32(o.dev.input(i))
	}
}

// advance runs the process to now and records the events it raised.
func (o *outstation) advance(now time.Duration) {
	o.dev.advance(now)
	for o.last+time.Second <= now {
		o.last += time.Second
		if o.rng.IntN(25) == 0 {
			i := o.rng.IntN(numDNPBinary)
			o.bi[i] = !o.bi[i]
			o.events = append(o.events, dnpEvent{index: uint8(i), flags: o.binFlags(i), at: o.last})
		}
		if o.rng.IntN(12) == 0 {
			o.sample()
			i := o.rng.IntN(numDNPAnalog)
			o.events = append(o.events, dnpEvent{analog: true, index: uint8(i), flags: 0x01, value: o.ai[i], at: o.last})
		}
	}
	if len(o.events) > 64 { // the buffer keeps the newest
		o.events = append(o.events[:0], o.events[len(o.events)-64:]...)
	}
}

func (o *outstation) binFlags(i int) uint8 {
	if o.bi[i] {
		return 0x81 // online, state 1
	}
	return 0x01
}

func (o *outstation) iin(pending bool) (uint8, uint8) {
	var b uint8
	if o.restart {
		b |= iin1Restart
	}
	if o.needTime {
		b |= iin1NeedTime
	}
	if pending {
		for _, e := range o.events {
			if e.analog {
				b |= iin1Class2
			} else {
				b |= iin1Class1
			}
		}
	}
	return b, 0
}

// eventObjects returns the events as g2v2 (binary input event with
// absolute time) and g32v1 (32-bit analog input event) objects, each with
// qualifier 0x17 (one-octet count and index prefix).
func (o *outstation) eventObjects() []byte {
	var bin, ana []dnpEvent
	for _, e := range o.events {
		if e.analog {
			ana = append(ana, e)
		} else {
			bin = append(bin, e)
		}
	}
	var b []byte
	if len(bin) > 0 {
		b = append(b, 2, 2, 0x17, byte(len(bin)))
		for _, e := range bin {
			b = append(b, e.index, e.flags)
			b = dnpTime(b, o.s.start.Add(e.at))
		}
	}
	if len(ana) > 0 {
		b = append(b, 32, 1, 0x17, byte(len(ana)))
		for _, e := range ana {
			b = append(b, e.index, e.flags)
			b = le32(b, uint32(e.value))
		}
	}
	return b
}

// staticObjects returns class 0 data: g1v2 binary inputs with flags and
// g30v1 32-bit analog inputs with flags, qualifier 0x00 (start-stop).
func (o *outstation) staticObjects() []byte {
	o.sample()
	b := []byte{1, 2, 0x00, 0, numDNPBinary - 1}
	for i := range o.bi {
		b = append(b, o.binFlags(i))
	}
	b = append(b, 30, 1, 0x00, 0, numDNPAnalog-1)
	for _, v := range o.ai {
		b = append(b, 0x01)
		b = le32(b, uint32(v))
	}
	return b
}

// answer returns the response to an application request: its objects and
// whether it asks for a confirm (it carries events).
func (o *outstation) answer(fc uint8, objs []byte) ([]byte, bool) {
	switch fc {
	case dnpRead:
		var b []byte
		ev := len(o.events) > 0
		if ev {
			b = o.eventObjects()
		}
		if len(objs) == len(dnpClass0123) {
			b = append(b, o.staticObjects()...)
		}
		return b, ev
	case dnpWrite:
		switch objs[0] {
		case 80:
			o.restart = false
		case 50:
			o.needTime = false
		}
	case dnpEnableUnsol:
		o.unsol = true
	case dnpDelayMeasure:
		return le16([]byte{52, 2, 0x07, 1}, uint16(o.lastDelay/time.Millisecond)), false
	case dnpSelect, dnpOperate, dnpDirectOperate:
		return objs, false // echo with status 0
	case dnpColdRestart:
		return le16([]byte{52, 2, 0x07, 1}, 30000), false // g52v2: 30 s
	}
	return nil, false
}

// dnpMaster is the SCADA master on an HMI: it keeps a TCP connection to the
// outstation, runs the start-up sequence and polls for events.
type dnpMaster struct {
	s      *sim
	rng    *rand.Rand
	cli    *node
	o      *outstation
	c      *conn
	period time.Duration
	stop   time.Duration
	aseq   uint8 // application sequence of requests
	tseq   uint8 // transport sequence
	busy   time.Duration
	gen    int // connection generation; tasks of an older one stop
	polls  int
}

func (m *dnpMaster) connect() {
	m.gen++
	m.c = newConn(m.s, m.rng, m.cli, m.o.dev.n, dnp3Port)
	m.o.tseq, m.o.useq = 0, 0
	t := m.c.handshake(m.s.now)
	t += between(m.rng, 50*time.Millisecond, 200*time.Millisecond)
	// Start-up: integrity poll, clear the restart bit, synchronise the
	// clock, enable unsolicited responses.
	t = m.transact(t, dnpRead, dnpClass0123)
	t = m.transact(t, dnpWrite, dnpClearRestart)
	t = m.transact(t, dnpDelayMeasure, nil)
	t = m.transact(t, dnpWrite, dnpTime([]byte{50, 1, 0x07, 1}, m.s.start.Add(t)))
	t = m.transact(t, dnpEnableUnsol, dnpClass123)
	m.busy = t
	gen := m.gen
	m.s.at(t+jitter(m.rng, m.period, m.period/20), func() { m.poll(gen) })
	m.s.at(t+between(m.rng, 10*time.Second, 30*time.Second), func() { m.unsolicited(gen) })
}

// request emits an application request fragment from the master at t.
func (m *dnpMaster) request(t time.Duration, ac, fc uint8, objs []byte) {
	app := append([]byte{ac, fc}, objs...)
	seg := append([]byte{0xc0 | m.tseq&0x3f}, app...)
	m.tseq++
	f := m.c.send(t, true, flagPSH|flagACK, dnpFrame(dnpCtlMaster, dnpOutstationAddr, dnpMasterAddr, seg), nil)
	f.mark, f.fc = markDNP3Master, fc
}

// response emits a response fragment from the outstation at t.
func (o *outstation) response(c *conn, t time.Duration, ac, fc uint8, objs []byte, pending bool) {
	i1, i2 := o.iin(pending)
	app := append([]byte{ac, fc, i1, i2}, objs...)
	seg := append([]byte{0xc0 | o.tseq&0x3f}, app...)
	o.tseq++
	f := c.send(t, false, flagPSH|flagACK, dnpFrame(dnpCtlOutstation, dnpMasterAddr, dnpOutstationAddr, seg), nil)
	f.mark, f.fc = markDNP3Outstation, fc
}

// transact emits a request at t, the outstation's response, the master's
// confirm if the response asks for one and the delayed ACK of the side
// that received the last data; it returns when the exchange is over.
func (m *dnpMaster) transact(t time.Duration, fc uint8, objs []byte) time.Duration {
	o := m.o
	o.advance(t)
	seq := m.aseq & 0x0f
	m.aseq++
	m.request(t, dnpAppFIR|dnpAppFIN|seq, fc, objs)
	d := between(m.rng, o.dev.minDelay, o.dev.maxDelay)
	o.lastDelay = d
	t += d
	resp, con := o.answer(fc, objs)
	ac := dnpAppFIR | dnpAppFIN | seq
	if con {
		ac |= dnpAppCON
	}
	o.response(m.c, t, ac, dnpResponse, resp, !con)
	if con {
		t += between(m.rng, 2*time.Millisecond, 10*time.Millisecond)
		m.request(t, dnpAppFIR|dnpAppFIN|seq, dnpConfirm, nil)
		o.events = o.events[:0]
		t += delayedACK(m.rng, o.dev.n)
		m.c.send(t, false, flagACK, nil, nil)
	} else {
		t += delayedACK(m.rng, m.cli)
		m.c.send(t, true, flagACK, nil, nil)
	}
	return t + between(m.rng, 5*time.Millisecond, 30*time.Millisecond)
}

// wait reschedules fn after the exchange in progress, if any, and reports
// whether it did.
func (m *dnpMaster) wait(fn func()) bool {
	if m.s.now >= m.busy {
		return false
	}
	m.s.at(m.busy+between(m.rng, 10*time.Millisecond, 50*time.Millisecond), fn)
	return true
}

func (m *dnpMaster) poll(gen int) {
	if gen != m.gen || m.wait(func() { m.poll(gen) }) {
		return
	}
	now := m.s.now
	if now >= m.stop {
		m.busy = m.c.close(now)
		m.gen++
		return
	}
	m.polls++
	t := now
	switch {
	case m.polls%60 == 0: // integrity poll every ten minutes or so
		t = m.transact(t, dnpRead, dnpClass0123)
	default:
		t = m.transact(t, dnpRead, dnpClass123)
	}
	switch {
	case m.polls == 7 || m.polls > 7 && m.rng.IntN(40) == 0: // an operator trips a breaker: select, then operate
		crob := m.crob()
		t = m.transact(t, dnpSelect, crob)
		t = m.transact(t, dnpOperate, crob)
	case m.polls == 13 || m.polls > 13 && m.rng.IntN(50) == 0: // a setpoint, operated directly
		v := int16(500 + 10*m.rng.IntN(50))
		t = m.transact(t, dnpDirectOperate, []byte{41, 2, 0x17, 1, uint8(m.rng.IntN(2)), byte(v), byte(v >> 8), 0})
	}
	m.busy = t
	m.s.at(now+jitter(m.rng, m.period, m.period/20), func() { m.poll(gen) })
}

// crob returns a g12v1 control relay output block on a random point:
// latch on or off, count 1, on and off times, status 0.
func (m *dnpMaster) crob() []byte {
	code := byte(0x03) // latch on
	if m.rng.IntN(2) == 0 {
		code = 0x04 // latch off
	}
	b := []byte{12, 1, 0x17, 1, uint8(m.rng.IntN(4)), code, 1}
	b = le32(b, 0)
	b = le32(b, 0)
	return append(b, 0)
}

// unsolicited has the outstation report its events without a poll once
// the master enabled it; the master confirms.
func (m *dnpMaster) unsolicited(gen int) {
	if gen != m.gen || m.wait(func() { m.unsolicited(gen) }) {
		return
	}
	o := m.o
	t := m.s.now
	if t >= m.stop-5*time.Second {
		return
	}
	o.advance(t)
	if o.unsol && len(o.events) > 0 {
		seq := o.useq & 0x0f
		o.useq++
		o.response(m.c, t, dnpAppFIR|dnpAppFIN|dnpAppCON|dnpAppUNS|seq, dnpUnsolicited, o.eventObjects(), false)
		o.events = o.events[:0]
		t += between(m.rng, 2*time.Millisecond, 10*time.Millisecond)
		m.request(t, dnpAppFIR|dnpAppFIN|dnpAppUNS|seq, dnpConfirm, nil)
		t += delayedACK(m.rng, o.dev.n)
		m.c.send(t, false, flagACK, nil, nil)
		m.busy = t + between(m.rng, 5*time.Millisecond, 30*time.Millisecond)
	}
	m.s.at(m.s.now+between(m.rng, 2*time.Second, 6*time.Second), func() { m.unsolicited(gen) })
}

// coldRestart sends a cold restart at the first quiet moment from t; the
// outstation answers with the time it needs, resets the connection and
// starts again; the master reconnects. It calls done with the time of the
// request.
func (m *dnpMaster) coldRestart(done func(t time.Duration)) {
	if m.wait(func() { m.coldRestart(done) }) {
		return
	}
	t := m.s.now
	done(t)
	seq := m.aseq & 0x0f
	m.aseq++
	m.request(t, dnpAppFIR|dnpAppFIN|seq, dnpColdRestart, nil)
	t += between(m.rng, m.o.dev.minDelay, m.o.dev.maxDelay)
	resp, _ := m.o.answer(dnpColdRestart, nil)
	m.o.response(m.c, t, dnpAppFIR|dnpAppFIN|seq, dnpResponse, resp, false)
	t += between(m.rng, 100*time.Millisecond, 300*time.Millisecond)
	m.c.send(t, false, flagRST|flagACK, nil, nil)
	m.gen++
	m.o.restart, m.o.needTime, m.o.unsol = true, true, false
	m.o.events = m.o.events[:0]
	m.busy = t
	m.s.at(t+between(m.rng, 8*time.Second, 12*time.Second), m.connect)
}

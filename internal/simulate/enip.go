package simulate

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// EtherNet/IP encapsulation (ODVA, The CIP Networks Library Volume 2,
// chapter 2) and CIP (Volume 1) as the plant's HMI and workstation use
// them with the Rockwell PLC.
const (
	enipPort   = 44818
	enipIOPort = 2222

	enipListIdentity      = 0x0063
	enipRegisterSession   = 0x0065
	enipUnregisterSession = 0x0066
	enipSendRRData        = 0x006f
	enipSendUnitData      = 0x0070

	cpfNull          = 0x0000
	cpfIdentity      = 0x000c
	cpfConnAddr      = 0x00a1
	cpfConnData      = 0x00b1
	cpfUnconnData    = 0x00b2
	cpfSequencedAddr = 0x8002

	cipGetAttrAll     = 0x01
	cipReset          = 0x05
	cipReadTag        = 0x4c
	cipWriteTag       = 0x4d
	cipForwardClose   = 0x4e
	cipForwardOpen    = 0x54
	cipInitDownload   = 0x4c // File object (class 0x37) Initiate Download
	cipDownloadXfer   = 0x50 // File object Download Transfer
	cipTypeDINT       = 0xc4
	cipTypeREAL       = 0xca
	cipClassIdentity  = 0x01
	cipClassConnMgr   = 0x06
	cipClassFile      = 0x37
	rockwellVendorID  = 1
	originatorVendor  = 1
	originatorSerial  = 0x4d2a17c3
	ioRPI             = 100 * time.Millisecond
	classOneSize      = 16 // octets of I/O data each way
	enipContextPrefix = 0x5253_4c69_6e78_0000
)

// encap returns an encapsulation message: command, length, session handle,
// status 0, sender context and options 0, all little-endian.
func encap(cmd uint16, session uint32, ctx uint64, data []byte) []byte {
	b := make([]byte, 0, 24+len(data))
	b = le16(b, cmd)
	b = le16(b, uint16(len(data)))
	b = le32(b, session)
	b = le32(b, 0)
	b = le32(b, uint32(ctx))
	b = le32(b, uint32(ctx>>32))
	b = le32(b, 0)
	return append(b, data...)
}

// cpf returns a common packet format with the given items (type, data).
func cpf(items ...[]byte) []byte {
	b := le16(nil, uint16(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func cpfItem(typ uint16, data []byte) []byte {
	return append(le16(le16(nil, typ), uint16(len(data))), data...)
}

// cipRequest returns a CIP request: service, path size in words, path,
// data.
func cipRequest(service uint8, path, data []byte) []byte {
	b := append([]byte{service, byte(len(path) / 2)}, path...)
	return append(b, data...)
}

// cipReply returns a successful CIP reply: service with the reply bit,
// reserved, general status 0, no extended status, data.
func cipReply(service uint8, data []byte) []byte {
	return append([]byte{service | 0x80, 0, 0, 0}, data...)
}

// logicalPath returns class and instance 8-bit logical segments.
func logicalPath(class, instance uint8) []byte { return []byte{0x20, class, 0x24, instance} }

// symbolPath returns an ANSI extended symbolic segment, padded to a word.
func symbolPath(name string) []byte {
	b := append([]byte{0x91, byte(len(name))}, name...)
	if len(name)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// enipPLC is the Rockwell PLC's EtherNet/IP adapter and its tags.
type enipPLC struct {
	dev      *device
	id       Identity
	major    uint8
	minor    uint8
	sessions uint32
	connIDs  uint32
}

func newENIPPLC(dev *device, id Identity, rng *rand.Rand) *enipPLC {
	p := &enipPLC{dev: dev, id: id, sessions: rng.Uint32() | 0x100, connIDs: rng.Uint32()}
	maj, mnr, _ := splitRev(id.Firmware)
	p.major, p.minor = maj, mnr
	return p
}

func splitRev(s string) (uint8, uint8, bool) {
	for i := range len(s) {
		if s[i] == '.' {
			a, err1 := strconv.Atoi(s[:i])
			b, err2 := strconv.Atoi(s[i+1:])
			return uint8(a), uint8(b), err1 == nil && err2 == nil
		}
	}
	return 0, 0, false
}

func (p *enipPLC) serial() uint32 {
	v, _ := strconv.ParseUint(p.id.Serial, 16, 32)
	return uint32(v)
}

// identity returns the identity object's attributes 1 to 7 as
// Get_Attributes_All and ListIdentity give them: vendor, device type,
// product code, revision, status, serial number and product name.
func (p *enipPLC) identity() []byte {
	b := le16(nil, p.id.VendorID)
	b = le16(b, p.id.DeviceType)
	b = le16(b, p.id.ProductCode)
	b = append(b, p.major, p.minor)
	b = le16(b, 0x3060) // owned, configured, run mode
	b = le32(b, p.serial())
	b = append(b, byte(len(p.id.Product)))
	return append(b, p.id.Product...)
}

// listIdentityReply returns the CIP Identity item of a ListIdentity reply
// from the PLC at n.
func (p *enipPLC) listIdentityReply() []byte {
	a := p.dev.n.IP.As4()
	b := le16(nil, 1) // encapsulation protocol version
	b = be16(b, 2)    // AF_INET
	b = be16(b, enipPort)
	b = append(b, a[:]...)
	b = append(b, make([]byte, 8)...)
	b = append(b, p.identity()...)
	b = append(b, 0x03) // state: operational
	return encap(enipListIdentity, 0, 0, cpf(cpfItem(cpfIdentity, b)))
}

// enipSession is a TCP connection with a registered session, and at most
// one class 3 connection over it.
type enipSession struct {
	s       *sim
	rng     *rand.Rand
	plc     *enipPLC
	c       *conn
	handle  uint32
	ctx     uint64
	otID    uint32 // the PLC's connection id, used by the client
	toID    uint32 // the client's connection id, used by the PLC
	serial  uint16
	seq     uint16
	last    time.Duration
	cli     *node
	busy    time.Duration
	stopped bool
}

func (e *enipSession) delay() time.Duration {
	return between(e.rng, e.plc.dev.minDelay, e.plc.dev.maxDelay)
}

// exchange emits an encapsulation request from the client at t and the
// PLC's reply; reqSvc and respSvc are the CIP services they carry (0 for
// none).
func (e *enipSession) exchange(t time.Duration, cmd uint16, req, resp []byte, reqSvc, respSvc uint8) time.Duration {
	e.ctx++
	f := e.c.send(t, true, flagPSH|flagACK, encap(cmd, e.handle, e.ctx, req), nil)
	f.mark, f.cmd = markENIP, cmd
	if reqSvc != 0 {
		f.sub, f.fc = carriesRequest, reqSvc
	}
	t += e.delay()
	f = e.c.send(t, false, flagPSH|flagACK, encap(cmd, e.handle, e.ctx, resp), nil)
	f.mark, f.cmd = markENIP, cmd
	if respSvc != 0 {
		f.sub, f.fc = carriesResponse, respSvc
	}
	e.last = t
	return t
}

// openENIP connects cli to the PLC and registers a session.
func openENIP(s *sim, rng *rand.Rand, cli *node, plc *enipPLC, t time.Duration) (*enipSession, time.Duration) {
	e := &enipSession{s: s, rng: rng, plc: plc, cli: cli, c: newConn(s, rng, cli, plc.dev.n, enipPort),
		ctx: enipContextPrefix | uint64(rng.IntN(0x1000))<<4, serial: uint16(rng.Uint32())}
	t = e.c.handshake(t)
	t += between(rng, 1*time.Millisecond, 5*time.Millisecond)
	plc.sessions++
	reg := []byte{1, 0, 0, 0} // protocol version 1, options 0
	e.ctx++
	f := e.c.send(t, true, flagPSH|flagACK, encap(enipRegisterSession, 0, e.ctx, reg), nil)
	f.mark, f.cmd = markENIP, enipRegisterSession
	t += e.delay()
	e.handle = plc.sessions
	f = e.c.send(t, false, flagPSH|flagACK, encap(enipRegisterSession, e.handle, e.ctx, reg), nil)
	f.mark, f.cmd = markENIP, enipRegisterSession
	e.last = t
	return e, t
}

// rr sends an unconnected CIP request with SendRRData and the PLC's reply.
func (e *enipSession) rr(t time.Duration, req, resp []byte) time.Duration {
	wrap := func(timeout uint16, msg []byte) []byte {
		b := le16(le32(nil, 0), timeout)
		return append(b, cpf(cpfItem(cpfNull, nil), cpfItem(cpfUnconnData, msg))...)
	}
	return e.exchange(t, enipSendRRData, wrap(10, req), wrap(0, resp), req[0], resp[0])
}

// unit sends a connected CIP request with SendUnitData over the class 3
// connection and the PLC's reply, both with the connection's sequence
// count.
func (e *enipSession) unit(t time.Duration, req, resp []byte) time.Duration {
	e.seq++
	wrap := func(id uint32, msg []byte) []byte {
		b := le16(le32(nil, 0), 0)
		return append(b, cpf(cpfItem(cpfConnAddr, le32(nil, id)), cpfItem(cpfConnData, append(le16(nil, e.seq), msg...)))...)
	}
	return e.exchange(t, enipSendUnitData, wrap(e.otID, req), wrap(e.toID, resp), req[0], resp[0])
}

// forwardOpen opens a connection: class 3 to the message router, or class
// 1 to the PLC's I/O assemblies (input 101, output 100, config 1).
func (e *enipSession) forwardOpen(t time.Duration, class1 bool) time.Duration {
	e.serial++
	e.toID = e.rng.Uint32()
	e.plc.connIDs++
	e.otID = e.plc.connIDs
	rpi := uint32(2 * time.Second / time.Microsecond)
	params := uint16(0x43f4) // point-to-point, low priority, variable, 500 octets
	trigger := byte(0xa3)    // server, application object trigger, class 3
	path := logicalPath(0x02, 0x01)
	otParams, toParams := params, params
	if class1 {
		rpi = uint32(ioRPI / time.Microsecond)
		otParams = 0x4800 | uint16(classOneSize+6) // point-to-point, scheduled, fixed
		toParams = 0x4800 | uint16(classOneSize+2)
		trigger = 0x01 // client, cyclic, class 1
		path = []byte{0x20, 0x04, 0x24, 0x01, 0x2c, 0x64, 0x2c, 0x65}
	}
	d := []byte{0x0a, 0x0e} // priority/tick time, time-out ticks
	d = le32(d, 0)          // O->T connection id: the target chooses
	d = le32(d, e.toID)
	d = le16(d, e.serial)
	d = le16(d, originatorVendor)
	d = le32(d, originatorSerial)
	d = append(d, 0x03, 0, 0, 0) // timeout multiplier x32
	d = le32(d, rpi)
	d = le16(d, otParams)
	d = le32(d, rpi)
	d = le16(d, toParams)
	d = append(d, trigger, byte(len(path)/2))
	d = append(d, path...)
	r := le32(nil, e.otID)
	r = le32(r, e.toID)
	r = le16(r, e.serial)
	r = le16(r, originatorVendor)
	r = le32(r, originatorSerial)
	r = le32(r, rpi)
	r = le32(r, rpi)
	r = append(r, 0, 0)
	e.seq = 0
	return e.rr(t, cipRequest(cipForwardOpen, logicalPath(cipClassConnMgr, 1), d), cipReply(cipForwardOpen, r))
}

// forwardClose closes the last connection opened.
func (e *enipSession) forwardClose(t time.Duration, class1 bool) time.Duration {
	path := logicalPath(0x02, 0x01)
	if class1 {
		path = []byte{0x20, 0x04, 0x24, 0x01, 0x2c, 0x64, 0x2c, 0x65}
	}
	d := []byte{0x0a, 0x0e}
	d = le16(d, e.serial)
	d = le16(d, originatorVendor)
	d = le32(d, originatorSerial)
	d = append(d, byte(len(path)/2), 0)
	d = append(d, path...)
	r := le16(nil, e.serial)
	r = le16(r, originatorVendor)
	r = le32(r, originatorSerial)
	r = append(r, 0, 0)
	return e.rr(t, cipRequest(cipForwardClose, logicalPath(cipClassConnMgr, 1), d), cipReply(cipForwardClose, r))
}

// unregister ends the session and closes the TCP connection: the client
// sends UnRegisterSession, which has no reply, and the PLC closes.
func (e *enipSession) unregister(t time.Duration) time.Duration {
	e.ctx++
	f := e.c.send(t, true, flagPSH|flagACK, encap(enipUnregisterSession, e.handle, e.ctx, nil), nil)
	f.mark, f.cmd = markENIP, enipUnregisterSession
	t += e.delay()
	e.c.send(t, false, flagFIN|flagACK, nil, nil)
	t += between(e.rng, 60*time.Microsecond, 250*time.Microsecond)
	e.c.send(t, true, flagFIN|flagACK, nil, nil)
	t += serverDelay(e.rng, e.plc.dev.n)
	e.c.send(t, false, flagACK, nil, nil)
	return t
}

// ack emits the client's delayed ACK of the last reply.
func (e *enipSession) ack() time.Duration {
	t := e.last + delayedACK(e.rng, e.cli)
	e.c.send(t, true, flagACK, nil, nil)
	return t
}

// tags are the PLC's controller tags the HMI reads.
var enipTags = []string{"Line_Speed", "Case_Count", "Filler_Level", "Reject_Count", "Conveyor_Run"}

// readTag returns a Read_Tag request for one element of a tag and the
// PLC's reply with a DINT or REAL value.
func (e *enipSession) readTag(name string) ([]byte, []byte) {
	dev := e.plc.dev
	var v uint32
	typ := uint16(cipTypeDINT)
	switch name {
	case "Line_Speed":
		v = uint32(dev.hr[regSpeed])
	case "Case_Count":
		v = uint32(dev.hr[regBatches])*24 + uint32(dev.runtime%24)
	case "Filler_Level":
		typ = cipTypeREAL
		v = math.Float32bits(float32(dev.input(4)) / analogFullScale * 100)
	case "Reject_Count":
		v = uint32(dev.hr[regBatches] / 7)
	default:
		if dev.coils[coilPump] {
			v = 1
		}
	}
	return cipRequest(cipReadTag, symbolPath(name), le16(nil, 1)), cipReply(cipReadTag, le32(le16(nil, typ), v))
}

// enipPoller is an HMI with a class 3 connection to the PLC, reading a
// tag per period over it and now and then one without a connection.
type enipPoller struct {
	e      *enipSession
	period time.Duration
	stop   time.Duration
	n      int
}

func (ep *enipPoller) poll() {
	e := ep.e
	now := e.s.now
	if now < e.busy {
		e.s.at(e.busy+between(e.rng, 10*time.Millisecond, 40*time.Millisecond), ep.poll)
		return
	}
	if now >= ep.stop {
		t := e.forwardClose(now, false)
		e.unregister(t + between(e.rng, 2*time.Millisecond, 10*time.Millisecond))
		return
	}
	e.plc.dev.advance(now)
	ep.n++
	t := now
	name := enipTags[ep.n%len(enipTags)]
	req, resp := e.readTag(name)
	if ep.n%15 == 0 { // an unconnected read of a diagnostic tag
		t = e.rr(t, req, resp)
	} else {
		t = e.unit(t, req, resp)
	}
	if e.rng.IntN(90) == 0 { // an operator resets the reject counter
		w := cipRequest(cipWriteTag, symbolPath("Reject_Reset"), le32(le16(le16(nil, cipTypeDINT), 1), 1))
		t = e.unit(t+between(e.rng, 2*time.Millisecond, 8*time.Millisecond), w, cipReply(cipWriteTag, nil))
	}
	e.ack()
	next := now + jitter(e.rng, ep.period, ep.period/25)
	if next > ep.stop {
		next = max(ep.stop, t+300*time.Millisecond)
	}
	e.s.at(next, ep.poll)
}

// listIdentity has cli browse for EtherNet/IP devices: a broadcast on its
// own subnet, which no device there answers, then a unicast request to the
// PLC's configured address, which the PLC answers.
func (s *sim) listIdentity(t time.Duration, cli *node, plc *enipPLC, rng *rand.Rand) time.Duration {
	port := cli.ephemeralPort(rng)
	req := encap(enipListIdentity, 0, 0, nil)
	h := cli.ipv4(ipBroadcast, layers.IPProtocolUDP)
	h.Flags = 0
	f := &frame{at: t, src: cli, ethSrc: cli.MAC, ethDst: broadcastMAC, ip: h,
		udp: &layers.UDP{SrcPort: layers.UDPPort(port), DstPort: enipPort}, data: req}
	f.mark, f.cmd = markENIP, enipListIdentity
	s.emit(f)
	t += between(rng, 200*time.Millisecond, 500*time.Millisecond)
	dst := plc.dev.n
	f = &frame{at: t, src: cli, ethSrc: cli.MAC, ethDst: cli.nextHop(dst), ip: cli.ipv4(dst.IP, layers.IPProtocolUDP),
		udp: &layers.UDP{SrcPort: layers.UDPPort(port), DstPort: enipPort}, data: req}
	f.ip.Flags = 0
	f.mark, f.cmd = markENIP, enipListIdentity
	s.emit(f)
	t += serverDelay(rng, dst)
	f = &frame{at: t, src: dst, ethSrc: dst.MAC, ethDst: dst.nextHop(cli), ip: dst.ipv4(cli.IP, layers.IPProtocolUDP),
		udp: &layers.UDP{SrcPort: enipPort, DstPort: layers.UDPPort(port)}, data: plc.listIdentityReply()}
	f.mark, f.cmd = markENIP, enipListIdentity
	s.emit(f)
	return t
}

// ioExchange runs a class 1 connection for d from t: the originator (the
// HMI) sends its outputs and the PLC its inputs every RPI on UDP 2222,
// each with a sequenced address item and a sequence count.
func (e *enipSession) ioExchange(t, d time.Duration) time.Duration {
	end := t + d
	cli, plc := e.cli, e.plc.dev.n
	var seqO, seqT uint32
	outData := make([]byte, classOneSize)
	for ; t < end; t += jitter(e.rng, ioRPI, 2*time.Millisecond) {
		seqO++
		o := append(le16(nil, uint16(seqO)), le32(nil, 1)...) // run/idle header: run
		o = append(o, outData...)
		msg := cpf(cpfItem(cpfSequencedAddr, le32(le32(nil, e.otID), seqO)), cpfItem(cpfConnData, o))
		f := &frame{at: t, src: cli, ethSrc: cli.MAC, ethDst: cli.nextHop(plc), ip: cli.ipv4(plc.IP, layers.IPProtocolUDP),
			udp: &layers.UDP{SrcPort: enipIOPort, DstPort: enipIOPort}, data: msg, mark: markCIPIO}
		f.ip.Flags = 0
		e.s.emit(f)
		seqT++
		in := le16(nil, uint16(seqT))
		dev := e.plc.dev
		in = le16(in, dev.hr[regSpeed])
		in = le16(in, dev.hr[regFlow])
		in = le32(in, uint32(dev.hr[regBatches]))
		in = append(in, make([]byte, classOneSize-8)...)
		tt := t + between(e.rng, 3*time.Millisecond, 40*time.Millisecond)
		msg = cpf(cpfItem(cpfSequencedAddr, le32(le32(nil, e.toID), seqT)), cpfItem(cpfConnData, in))
		f = &frame{at: tt, src: plc, ethSrc: plc.MAC, ethDst: plc.nextHop(cli), ip: plc.ipv4(cli.IP, layers.IPProtocolUDP),
			udp: &layers.UDP{SrcPort: enipIOPort, DstPort: enipIOPort}, data: msg, mark: markCIPIO}
		e.s.emit(f)
		outData[0]++
	}
	return end
}

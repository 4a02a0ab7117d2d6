package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"
)

// The policy scenarios: traffic that the plant never showed while it was
// learned. Each is one step of an intrusion or a misconfiguration between
// hosts that otherwise behave as usual.

func init() {
	addScenarios(
		scenarioDef{
			Scenario: Scenario{Name: "policy-new-device", Alert: "policy.new_device", Source: "rpi-7f3a21",
				Description: "an unknown Raspberry Pi joins the control network, announces its address and resolves plant names through the router"},
			offset: polOffset, span: polSpan, run: runPolNewDevice,
		},
		scenarioDef{
			Scenario: Scenario{Name: "policy-new-connection", Alert: "policy.new_connection", Source: "ews01", Destination: "rtu01",
				Description: "the engineering workstation opens a Modbus/TCP session to the RTU, which it never talked to, and reads its registers"},
			offset: polOffset, span: polSpan, run: runPolNewConnection,
		},
		scenarioDef{
			Scenario: Scenario{Name: "policy-new-protocol", Alert: "policy.new_protocol", Source: "hist01", Destination: "plc01",
				Description: "the historian, which polls the Siemens PLC over Modbus/TCP, opens an S7comm session to it and reads a data block"},
			offset: polOffset, span: polSpan, run: runPolNewProtocol,
		},
		scenarioDef{
			Scenario: Scenario{Name: "policy-new-write", Alert: "policy.new_write", Source: "hist01", Destination: "plc02",
				Description: "the historian, which only ever reads, writes the temperature setpoint register of the Schneider PLC over Modbus/TCP"},
			offset: polOffset, span: polSpan, run: runPolNewWrite,
		},
		scenarioDef{
			Scenario: Scenario{Name: "policy-unauthorized-programming", Alert: "policy.unauthorized_programming", Source: "hmi01", Destination: "plc01",
				Description: "an HMI that only reads and writes tags of the Siemens PLC downloads a new function block FC12 into it over S7comm"},
			offset: polOffset, span: polSpan, run: runPolProgramming,
		},
		scenarioDef{
			Scenario: Scenario{Name: "modbus-address-range-violation", Alert: "modbus.address_range_violation", Source: "ews01", Destination: "plc02",
				Description: "the engineering workstation reads Modbus holding registers 2000 to 2009 of the Schneider PLC, far from the registers the plant uses"},
			offset: polOffset, span: polSpan, run: runPolRange,
		},
		scenarioDef{
			Scenario: Scenario{Name: "policy-internet-access", Alert: "policy.internet_access", Source: "hist01", Destination: "remote-198-51-100-77",
				Description: "the historian downloads a file over HTTP from a server on the internet"},
			offset: polOffset, span: polSpan, run: runPolInternet,
		},
		scenarioDef{
			Scenario: Scenario{Name: "policy-it-ot-crossing", Alert: "policy.it_ot_crossing", Source: "ofc-ws07", Destination: "plc02",
				Description: "an office workstation on the control network, which only ever resolved names, connects to the Schneider PLC's Modbus/TCP service and reads registers"},
			offset: polOffset, span: polSpan, run: runPolITOT,
		},
		scenarioDef{
			Scenario: Scenario{Name: "modbus-unauthorized-function", Alert: "modbus.unauthorized_function", Source: "hist01", Destination: "plc02",
				Description: "the historian, which reads only input registers, reads the holding registers of the Schneider PLC (function code 3)"},
			offset: polOffset, span: polSpan, run: runPolModbusFunction,
		},
		scenarioDef{
			Scenario: Scenario{Name: "dnp3-unauthorized-function", Alert: "dnp3.unauthorized_function", Source: "hmi02", Destination: "rtu01",
				Description: "the SCADA master freezes and clears the RTU's counters (DNP3 function 9), which it never did"},
			offset: polOffset, span: polSpan, run: runPolDNP3Function,
		},
		scenarioDef{
			Scenario: Scenario{Name: "s7comm-unauthorized-function", Alert: "s7comm.unauthorized_function", Source: "hmi01", Destination: "plc01",
				Description: "an HMI that only reads and writes tags of the Siemens PLC reads its module identification (SZL 0x0011) over S7comm"},
			offset: polOffset, span: polSpan, run: runPolS7Function,
		},
		scenarioDef{
			Scenario: Scenario{Name: "enip-unauthorized-service", Alert: "enip.unauthorized_service", Source: "hmi01", Destination: "plc03",
				Description: "an HMI that reads tags of the Rockwell PLC reads its TCP/IP interface configuration with Get_Attribute_Single"},
			offset: polOffset, span: polSpan, run: runPolCIPService,
		},
		scenarioDef{
			Scenario: Scenario{Name: "policy-new-function", Alert: "policy.new_function", Source: "hmi02", Destination: "rtu02",
				Description: "the SCADA master, which interrogates a substation RTU over IEC 60870-5-104, sends it a single command (C_SC_NA_1) for the first time"},
			offset: polOffset, span: polSpan, run: runPolIEC104,
		},
	)
}

// polSpan bounds the length of every policy scenario.
const polSpan = 10 * time.Second

// polOffset starts a scenario at three quarters of the capture, or early
// enough to end before it does.
func polOffset(d time.Duration) time.Duration { return min(d*3/4, d-warmup-polSpan) }

// The hosts the policy scenarios add. The OUIs are the IEEE registry's
// (Raspberry Pi Foundation, Dell, Moxa).
func polRPiSpec() hostSpec {
	return hostSpec{Host: Host{"rpi-7f3a21", RoleLaptop, "Raspberry Pi Foundation", mac("b8:27:eb:7f:3a:21"), ip("10.10.1.161"), control, 64, Identity{}},
		stack: stackLinux, df: true}
}

func polOfficeSpec() hostSpec {
	return hostSpec{Host: Host{"ofc-ws07", "office-workstation", "Dell Inc.", mac("b8:ac:6f:1c:77:02"), ip("10.10.1.167"), control, 128, Identity{}},
		stack: stackWindows, df: true, arpEvery: 55}
}

func polRTU104Spec() hostSpec {
	return hostSpec{Host: Host{"rtu02", RoleRTU, "Moxa Technologies Corp., Ltd.", mac("00:90:e8:5c:21:9d"), ip("10.10.2.24"), field, 64, Identity{}},
		stack: stackEmbedded, window: 5840, synWindow: 5840, arpEvery: 150}
}

// polRemote adds a host on the internet; its frames reach the plant through
// the router and carry the router's MAC.
func polRemote(p *plant, name string, a netip.Addr, rng *rand.Rand) *node {
	if n := p.byName[name]; n != nil {
		return n
	}
	return p.add(hostSpec{Host: Host{Name: name, Role: "internet", Vendor: "Cisco Systems, Inc", MAC: routerMAC, IP: a,
		Subnet: netip.PrefixFrom(a, 24).Masked(), TTL: 52}, stack: stackLinux, df: true}, rng)
}

// polModbusSession opens a Modbus/TCP connection from cli to dev, sends
// the requests (each answered by the device) and closes it.
func polModbusSession(s *sim, rng *rand.Rand, cli *node, dev *device, t time.Duration, reqs ...[]byte) time.Duration {
	c := newConn(s, rng, cli, dev.n, modbusPort)
	t = c.handshake(t)
	tid := uint16(rng.IntN(1000))
	for _, req := range reqs {
		t += between(rng, 5*time.Millisecond, 40*time.Millisecond)
		tid++
		t = dev.transact(c, t, tid, req)
	}
	t += delayedACK(rng, cli)
	c.send(t, true, flagACK, nil, nil)
	return c.close(t + between(rng, 200*time.Millisecond, 1*time.Second))
}

func runPolNewDevice(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "policy-new-device"
	n := p.add(polRPiSpec(), rng)
	s.at(t0, func() {
		s.event(t0, name, "arp-announce", n, "announces "+n.IP.String())
		s.arpAnnounce(t0, n)
		t := t0 + between(rng, 300*time.Millisecond, 900*time.Millisecond)
		t = s.arpExchange(t, n, n.gw, false, serverDelay(rng, n.gw))
		for _, pn := range plantNames[:2] {
			t += between(rng, 500*time.Millisecond, 2*time.Second)
			s.event(t, name, "dns-query", n, "looks up "+pn.name)
			t = s.dnsLookup(t, n, pn.name, pn.addr, rng)
		}
	})
}

func runPolNewConnection(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "policy-new-connection"
	ews, dev := p.byName["ews01"], p.devices[p.byName["rtu01"]]
	s.at(t0, func() {
		s.event(t0, name, "modbus-connect", ews, fmt.Sprintf("connects to %s %s:%d", dev.n.Name, dev.n.IP, modbusPort))
		polModbusSession(s, rng, ews, dev, t0, readRequest(fcReadInput, 0, numInput), readRequest(fcReadHolding, 0, 12))
	})
}

// polS7Read sends a read-var job of DB1 and a flag double word and the
// PLC's data.
func polS7Read(k *s7session, t time.Duration) time.Duration {
	dev := k.plc.dev
	dev.advance(t)
	param := []byte{s7ReadVar, 2}
	param = append(param, readItem(s7AreaDB, 1, 0, 16)...)
	param = append(param, readItem(s7AreaM, 0, 10, 4)...)
	var db1 []byte
	for i := range 8 {
		db1 = be16(db1, dev.hr[i])
	}
	item := func(b []byte) []byte { return append(be16([]byte{0xff, 0x04}, uint16(8*len(b))), b...) }
	data := item(db1)
	data = append(data, item(be32(nil, k.plc.mw))...)
	return k.job(t, param, nil, []byte{s7ReadVar, 2}, data)
}

func runPolNewProtocol(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "policy-new-protocol"
	hist, plc := p.byName["hist01"], p.s7
	s.at(t0, func() {
		s.event(t0, name, "s7-connect", hist, fmt.Sprintf("connects to %s %s:%d", plc.dev.n.Name, plc.dev.n.IP, s7Port))
		k, t := openS7(s, rng, hist, plc, t0, tsapOP, tsapPLCOP)
		for range 3 {
			t = polS7Read(k, t+between(rng, 200*time.Millisecond, 800*time.Millisecond))
		}
		t = k.ack()
		k.c.close(t + between(rng, 200*time.Millisecond, 1*time.Second))
	})
}

func runPolNewWrite(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "policy-new-write"
	hist, dev := p.byName["hist01"], p.devices[p.byName["plc02"]]
	s.at(t0, func() {
		dev.advance(t0)
		v := dev.hr[regTempSetpoint]
		s.event(t0, name, "modbus-write", hist, fmt.Sprintf("writes %d to register %d of %s", v, regTempSetpoint, dev.n.Name))
		polModbusSession(s, rng, hist, dev, t0, writeRequest(regTempSetpoint, v))
	})
}

// polS7Download loads a function block into the PLC, as the plant's
// download does for OB1: request, the PLC pulls the block, end, insert.
func polS7Download(k *s7session, t time.Duration, typ byte, num, size int) time.Duration {
	gap := func() time.Duration { return between(k.rng, 2*time.Millisecond, 15*time.Millisecond) }
	file := fileName(typ, num, 'P')
	p := be32([]byte{s7RequestDownload, 0x00, 0x01, 0x00}, 0)
	p = append(p, file...)
	p = append(p, 13, '1')
	p = append(p, fmt.Sprintf("%06d%06d", size+36, size)...)
	t = k.job(t, p, nil, []byte{s7RequestDownload}, nil)
	t += between(k.rng, 1*time.Millisecond, 4*time.Millisecond)
	body := mc7Block(k.rng, uint16(num), size)
	db := be32([]byte{s7DownloadBlock, 0x00, 0x01, 0x00}, 0)
	db = append(db, file...)
	t = k.plcJob(t, db, []byte{s7DownloadBlock, 0x00}, append(be16(nil, uint16(size)), append([]byte{0x00, 0xfb}, body...)...))
	t += gap()
	de := be32([]byte{s7DownloadEnded, 0x00, 0x00, 0x00}, 0)
	de = append(de, file...)
	t = k.plcJob(t, de, []byte{s7DownloadEnded}, nil)
	return k.pi(t+gap(), append([]byte{1, 0, '0', typ}, fmt.Sprintf("%05dP", num)...), "_INSE")
}

func runPolProgramming(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "policy-unauthorized-programming"
	hmi, plc := p.byName["hmi01"], p.s7
	s.at(t0, func() {
		s.event(t0, name, "s7-connect", hmi, fmt.Sprintf("connects to %s %s:%d as a programming device", plc.dev.n.Name, plc.dev.n.IP, s7Port))
		k, t := openS7(s, rng, hmi, plc, t0, tsapPG, tsapPLCPG)
		t += between(rng, 50*time.Millisecond, 300*time.Millisecond)
		s.event(t, name, "download", hmi, "downloads FC12 to "+plc.dev.n.Name)
		t = polS7Download(k, t, 'C', 12, 164)
		t = k.ack()
		k.c.close(t + between(rng, 200*time.Millisecond, 1*time.Second))
	})
}

func runPolRange(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "modbus-address-range-violation"
	ews, dev := p.byName["ews01"], p.devices[p.byName["plc02"]]
	const first, qty = 2000, 10
	s.at(t0, func() {
		s.event(t0, name, "modbus-read", ews, fmt.Sprintf("reads holding registers %d-%d of %s", first, first+qty-1, dev.n.Name))
		c := newConn(s, rng, ews, dev.n, modbusPort)
		t := c.handshake(t0) + between(rng, 5*time.Millisecond, 40*time.Millisecond)
		// The PLC maps a configuration area there that the plant never
		// reads: it answers with the values.
		resp := []byte{fcReadHolding, 2 * qty}
		for i := range qty {
			resp = be16(resp, uint16(100+7*i))
		}
		tid := uint16(rng.IntN(1000))
		f := c.send(t, true, flagPSH|flagACK, mbap(tid, dev.unit, readRequest(fcReadHolding, first, qty)), nil)
		f.mark, f.fc = markModbusRequest, fcReadHolding
		t += between(rng, dev.minDelay, dev.maxDelay)
		f = c.send(t, false, flagPSH|flagACK, mbap(tid, dev.unit, resp), nil)
		f.mark, f.fc = markModbusResponse, fcReadHolding
		t += delayedACK(rng, ews)
		c.send(t, true, flagACK, nil, nil)
		c.close(t + between(rng, 200*time.Millisecond, 1*time.Second))
	})
}

func runPolInternet(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "policy-internet-access"
	hist := p.byName["hist01"]
	srv := polRemote(p, "remote-198-51-100-77", ip("198.51.100.77"), rng)
	s.at(t0, func() {
		s.event(t0, name, "http-get", hist, "downloads a file from "+srv.IP.String())
		c := newConn(s, rng, hist, srv, 80)
		t := c.handshake(t0) + between(rng, 1*time.Millisecond, 5*time.Millisecond)
		req := "GET /pub/agent/update.cfg HTTP/1.1\r\nHost: 198.51.100.77\r\nUser-Agent: Wget/1.21.3\r\nAccept: */*\r\n\r\n"
		c.send(t, true, flagPSH|flagACK, []byte(req), nil)
		t += between(rng, 30*time.Millisecond, 90*time.Millisecond)
		body := "interval=300\nendpoint=/pub/agent/report\n"
		resp := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		c.send(t, false, flagPSH|flagACK, []byte(resp), nil)
		t += delayedACK(rng, hist)
		c.send(t, true, flagACK, nil, nil)
		c.close(t + between(rng, 100*time.Millisecond, 400*time.Millisecond))
	})
}

func runPolITOT(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "policy-it-ot-crossing"
	ofc := p.add(polOfficeSpec(), rng)
	dev := p.devices[p.byName["plc02"]]
	// The office workstation is on the network from the start: it
	// resolves its gateway and looks up names now and then, and never
	// speaks an industrial protocol until the attack.
	start := between(rng, 1*time.Second, 4*time.Second)
	s.at(start, func() {
		t := s.arpExchange(start, ofc, ofc.gw, false, serverDelay(rng, ofc.gw))
		s.refreshARP(ofc, t, rng)
		var next func()
		next = func() {
			if s.now+2*time.Second > s.end {
				return
			}
			n := plantNames[rng.IntN(len(plantNames))]
			s.dnsLookup(s.now, ofc, n.name, n.addr, rng)
			s.at(s.now+between(rng, 30*time.Second, 60*time.Second), next)
		}
		s.at(t+between(rng, 1*time.Second, 5*time.Second), next)
	})
	s.at(t0, func() {
		s.event(t0, name, "modbus-connect", ofc, fmt.Sprintf("connects to %s %s:%d", dev.n.Name, dev.n.IP, modbusPort))
		polModbusSession(s, rng, ofc, dev, t0, readRequest(fcReadHolding, 0, 12), readRequest(fcReadCoils, 0, numCoils))
	})
}

func runPolModbusFunction(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "modbus-unauthorized-function"
	hist, dev := p.byName["hist01"], p.devices[p.byName["plc02"]]
	s.at(t0, func() {
		s.event(t0, name, "modbus-read", hist, "reads the holding registers of "+dev.n.Name)
		polModbusSession(s, rng, hist, dev, t0, readRequest(fcReadHolding, 0, 12))
	})
}

// polDNPFreezeClear is the DNP3 Freeze-and-Clear function (IEEE 1815-2012
// table 4-1): the outstation copies its counters to frozen counters and
// resets them.
const polDNPFreezeClear = 9

// polDNPAllCounters is the object header of every counter: group 20
// variation 0, qualifier 0x06 (all objects).
var polDNPAllCounters = []byte{20, 0, 0x06}

func runPolDNP3Function(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "dnp3-unauthorized-function"
	var send func()
	send = func() {
		m := p.master
		if m.wait(send) {
			return
		}
		t := m.s.now
		s.event(t, name, "dnp3-freeze-clear", m.cli, "freezes and clears the counters of "+m.o.dev.n.Name)
		m.busy = m.transact(t, polDNPFreezeClear, polDNPAllCounters)
	}
	s.at(t0, send)
}

func runPolS7Function(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "s7comm-unauthorized-function"
	hmi, plc := p.byName["hmi01"], p.s7
	s.at(t0, func() {
		s.event(t0, name, "s7-connect", hmi, fmt.Sprintf("connects to %s %s:%d", plc.dev.n.Name, plc.dev.n.IP, s7Port))
		k, t := openS7(s, rng, hmi, plc, t0, tsapOP, tsapPLCOP)
		t += between(rng, 20*time.Millisecond, 200*time.Millisecond)
		s.event(t, name, "read-szl", hmi, "reads SZL 0x0011 of "+plc.dev.n.Name)
		t = k.userdata(t, s7GroupCPU, s7SubReadSZL, octets(be16(be16(nil, 0x0011), 0x0000)), plc.szlModuleID())
		t = k.ack()
		k.c.close(t + between(rng, 200*time.Millisecond, 1*time.Second))
	})
}

const (
	polCIPGetAttrSingle = 0x0e
	polCIPClassTCPIP    = 0xf5
)

func runPolCIPService(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "enip-unauthorized-service"
	hmi, plc := p.byName["hmi01"], p.enip
	s.at(t0, func() {
		s.event(t0, name, "enip-session", hmi, fmt.Sprintf("registers a session with %s %s:%d", plc.dev.n.Name, plc.dev.n.IP, enipPort))
		e, t := openENIP(s, rng, hmi, plc, t0)
		// Attribute 5 of the TCP/IP Interface object: the interface
		// configuration (address, mask, gateway, name servers, domain).
		path := append(logicalPath(polCIPClassTCPIP, 1), 0x30, 5)
		a := plc.dev.n.IP.As4()
		gw := plc.dev.n.gw.IP.As4()
		data := le32(nil, uint32(a[0])<<24|uint32(a[1])<<16|uint32(a[2])<<8|uint32(a[3]))
		data = le32(data, 0xffffff00) // network mask 255.255.255.0
		data = le32(data, uint32(gw[0])<<24|uint32(gw[1])<<16|uint32(gw[2])<<8|uint32(gw[3]))
		data = append(data, make([]byte, 8)...)         // no name servers
		data = append(le16(data, 11), "plant.local"...) // domain name, padded to an even length
		data = append(data, 0)
		t += between(rng, 2*time.Millisecond, 20*time.Millisecond)
		s.event(t, name, "get-attribute-single", hmi, "reads the TCP/IP interface configuration of "+plc.dev.n.Name)
		t = e.rr(t, cipRequest(polCIPGetAttrSingle, path, nil), cipReply(polCIPGetAttrSingle, data))
		e.unregister(t + between(rng, 100*time.Millisecond, 500*time.Millisecond))
	})
}

// IEC 60870-5-104 (IEC 60870-5-104:2006 clause 5, IEC 60870-5-101 clause
// 7): APCI formats and the ASDU types the substation scenario uses.
const (
	polIEC104Port     = 2404
	polIECStartDTAct  = 0x07
	polIECStartDTCon  = 0x0b
	polIECTestFRAct   = 0x43
	polIECTestFRCon   = 0x83
	polIECMSPNA1      = 1   // single-point information
	polIECMMENC1      = 13  // measured value, short floating point
	polIECCSCNA1      = 45  // single command
	polIECCICNA1      = 100 // interrogation command
	polIECCOTSpont    = 3
	polIECCOTAct      = 6
	polIECCOTActCon   = 7
	polIECCOTActTerm  = 10
	polIECCOTInrogen  = 20
	polIECCommonAddr  = 7
	polIECOriginator  = 0
	polIECNumSingle   = 4
	polIECNumMeasured = 3
)

// polIEC104 is an IEC 104 connection between a controlling station and a
// controlled station, with the send and receive counts of each side.
type polIEC104 struct {
	c            *conn
	rng          *rand.Rand
	cliNS, srvNS uint16 // I-frames sent by each side
	single       [polIECNumSingle]bool
	measured     [polIECNumMeasured]float32
}

func (x *polIEC104) apdu(control [4]byte, asdu []byte) []byte {
	b := []byte{0x68, byte(4 + len(asdu))}
	b = append(b, control[:]...)
	return append(b, asdu...)
}

// iframe sends an ASDU from the client (or the station) at t.
func (x *polIEC104) iframe(t time.Duration, fromClient bool, asdu []byte) {
	ns, nr := &x.cliNS, x.srvNS
	if !fromClient {
		ns, nr = &x.srvNS, x.cliNS
	}
	ctl := [4]byte{byte(*ns << 1), byte(*ns >> 7), byte(nr << 1), byte(nr >> 7)}
	*ns++
	x.c.send(t, fromClient, flagPSH|flagACK, x.apdu(ctl, asdu), nil)
}

// sframe acknowledges the station's I-frames from the client.
func (x *polIEC104) sframe(t time.Duration) {
	ctl := [4]byte{0x01, 0x00, byte(x.srvNS << 1), byte(x.srvNS >> 7)}
	x.c.send(t, true, flagPSH|flagACK, x.apdu(ctl, nil), nil)
}

func (x *polIEC104) uframe(t time.Duration, fromClient bool, code byte) {
	x.c.send(t, fromClient, flagPSH|flagACK, x.apdu([4]byte{code, 0, 0, 0}, nil), nil)
}

// asdu returns an ASDU header (type, VSQ, cause, originator, common
// address) followed by objects.
func polIECASDU(typ, vsq, cause byte, objs []byte) []byte {
	b := []byte{typ, vsq, cause, polIECOriginator}
	b = le16(b, polIECCommonAddr)
	return append(b, objs...)
}

func polIECIOA(b []byte, a uint32) []byte { return append(b, byte(a), byte(a>>8), byte(a>>16)) }

// interrogation runs a station interrogation from t: activation,
// confirmation, the station's points and measured values, termination and
// the client's acknowledgement.
func (x *polIEC104) interrogation(t time.Duration) time.Duration {
	d := func() time.Duration { return between(x.rng, 5*time.Millisecond, 25*time.Millisecond) }
	x.iframe(t, true, polIECASDU(polIECCICNA1, 1, polIECCOTAct, append(polIECIOA(nil, 0), 20)))
	t += d()
	x.iframe(t, false, polIECASDU(polIECCICNA1, 1, polIECCOTActCon, append(polIECIOA(nil, 0), 20)))
	var sp []byte
	for i, v := range x.single {
		sp = polIECIOA(sp, uint32(1001+i))
		sp = append(sp, polBool(v))
	}
	t += d()
	x.iframe(t, false, polIECASDU(polIECMSPNA1, polIECNumSingle, polIECCOTInrogen, sp))
	t += d()
	x.iframe(t, false, polIECASDU(polIECMMENC1, polIECNumMeasured, polIECCOTInrogen, x.measuredObjects()))
	t += d()
	x.iframe(t, false, polIECASDU(polIECCICNA1, 1, polIECCOTActTerm, append(polIECIOA(nil, 0), 20)))
	t += between(x.rng, 20*time.Millisecond, 80*time.Millisecond)
	x.sframe(t)
	return t
}

func (x *polIEC104) measuredObjects() []byte {
	var b []byte
	for i := range x.measured {
		x.measured[i] += float32(x.rng.Float64()-0.5) * 0.4
		b = polIECIOA(b, uint32(2001+i))
		b = le32(b, math.Float32bits(x.measured[i]))
		b = append(b, 0) // quality: good
	}
	return b
}

func polBool(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func runPolIEC104(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "policy-new-function"
	rtu := p.add(polRTU104Spec(), rng)
	scada := p.byName["hmi02"]
	x := &polIEC104{rng: rng, single: [polIECNumSingle]bool{true, false, true, true}, measured: [polIECNumMeasured]float32{231.4, 49.98, 12.7}}
	// The SCADA master is connected to the substation RTU from the start:
	// start data transfer, interrogate, then spontaneous measured values
	// and a test frame when the line is idle, until the end.
	start := between(rng, 2*time.Second, 6*time.Second)
	s.at(start, func() {
		t := s.arpExchange(start, rtu.gw, rtu, false, serverDelay(rng, rtu))
		x.c = newConn(s, rng, scada, rtu, polIEC104Port)
		t = x.c.handshake(t + between(rng, 50*time.Millisecond, 200*time.Millisecond))
		t += between(rng, 5*time.Millisecond, 20*time.Millisecond)
		x.uframe(t, true, polIECStartDTAct)
		t += serverDelay(rng, rtu)
		x.uframe(t, false, polIECStartDTCon)
		t = x.interrogation(t + between(rng, 20*time.Millisecond, 100*time.Millisecond))
		var cycle func()
		n := 0
		cycle = func() {
			now := s.now
			if now+3*time.Second > s.end {
				return
			}
			if now+time.Second > t0 && now < t0+2*time.Second {
				s.at(t0+2*time.Second, cycle) // the command's exchange is on the line
				return
			}
			n++
			if n%3 == 0 {
				x.uframe(now, true, polIECTestFRAct)
				x.uframe(now+serverDelay(rng, rtu), false, polIECTestFRCon)
			} else {
				x.iframe(now, false, polIECASDU(polIECMMENC1, polIECNumMeasured, polIECCOTSpont, x.measuredObjects()))
				x.sframe(now + between(rng, 50*time.Millisecond, 200*time.Millisecond))
			}
			s.at(now+between(rng, 8*time.Second, 12*time.Second), cycle)
		}
		s.at(t+between(rng, 5*time.Second, 10*time.Second), cycle)
	})
	s.at(t0, func() {
		t := t0
		s.event(t, name, "polIEC104-command", scada, "sends a single command to "+rtu.Name)
		sco := append(polIECIOA(nil, 3001), 0x01) // execute, ON
		d := func() time.Duration { return between(rng, 5*time.Millisecond, 25*time.Millisecond) }
		x.iframe(t, true, polIECASDU(polIECCSCNA1, 1, polIECCOTAct, sco))
		t += d()
		x.iframe(t, false, polIECASDU(polIECCSCNA1, 1, polIECCOTActCon, sco))
		t += d()
		x.iframe(t, false, polIECASDU(polIECCSCNA1, 1, polIECCOTActTerm, sco))
		x.sframe(t + between(rng, 20*time.Millisecond, 80*time.Millisecond))
	})
}

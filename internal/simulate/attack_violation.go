package simulate

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// The protocol violation scenarios: a plant host sends messages that break
// their protocol's specification, over the connections the plant already
// has (the HMIs' Modbus, S7comm and EtherNet/IP sessions, the DNP3
// master's connection) or to devices it has talked to since the capture
// began (a BACnet air handler, an IEC 60870-5-104 substation RTU).
func init() {
	addScenarios(
		vioScenario("modbus-illegal-function", "modbus.illegal_function", "hmi01", "plc02", 5*time.Second,
			"an HMI sends the Modbus PLC a request with function code 0, which the specification does not define; the PLC answers exception 01", runVioModbusIllegalFunction),
		vioScenario("modbus-master-exception", "modbus.master_exception", "hmi01", "plc02", 5*time.Second,
			"an HMI sends the Modbus PLC a request whose function code carries the exception bit (129), which only servers send", runVioModbusMasterException),
		vioScenario("modbus-malformed", "modbus.malformed", "hmi01", "plc02", 5*time.Second,
			"an HMI sends the Modbus PLC an ADU whose MBAP length (1) leaves no room for a function code", runVioModbusMalformed),
		vioScenario("protocol-reserved-function", "protocol.reserved_function", "hmi01", "plc02", 5*time.Second,
			"an HMI sends the Modbus PLC function code 41, reserved by the specification's annex A; the PLC answers exception 01", runVioReservedFunction),
		vioScenario("protocol-response-without-request", "protocol.response_without_request", "plc02", "hmi01", 5*time.Second,
			"a Modbus read response with a transaction id the HMI never used is injected into its connection to the PLC, as a host in the middle forging process values does", runVioResponseWithoutRequest),
		vioScenario("dnp3-malformed", "dnp3.malformed", "hmi02", "rtu01", 10*time.Second,
			"the DNP3 master sends the RTU a link frame whose data block CRC is wrong", runVioDNP3Malformed),
		vioScenario("dnp3-illegal-function", "dnp3.illegal_function", "hmi02", "rtu01", 10*time.Second,
			"the DNP3 master sends the RTU the obsolete function Initialize Data (15); the RTU answers that it does not support it", runVioDNP3IllegalFunction),
		vioScenario("dnp3-function-not-supported", "dnp3.function_not_supported", "hmi02", "rtu01", 10*time.Second,
			"the DNP3 master asks the RTU for an immediate freeze of its counters, a function the RTU does not implement (IIN2.0)", runVioDNP3NotSupported),
		vioScenario("dnp3-reserved-iin", "dnp3.reserved_iin", "rtu01", "hmi02", 10*time.Second,
			"the RTU answers a DNP3 event poll with the reserved internal indication IIN2.6 set", runVioDNP3ReservedIIN),
		vioScenario("s7comm-malformed", "s7comm.malformed", "hmi01", "plc01", 5*time.Second,
			"an HMI opens an S7comm session to the Siemens PLC and sends a job whose parameter length runs past the end of the PDU", runVioS7Malformed),
		vioScenario("enip-malformed", "enip.malformed", "hmi01", "plc03", 5*time.Second,
			"an HMI registers an EtherNet/IP session with the Rockwell PLC and sends an encapsulation message with an undefined command", runVioENIPMalformed),
		vioScenario("bacnet-malformed", "bacnet.malformed", "hmi01", "ahu01", 5*time.Second,
			"an HMI that reads a BACnet air handler every ten seconds sends it a ReadProperty request in an NPDU of version 2, which the standard does not define", runVioBACnetMalformed),
		vioScenario("iec104-malformed", "iec104.malformed", "hmi02", "rtu02", 15*time.Second,
			"the IEC 104 controlling station sends the substation RTU a TESTFR U-format APDU carrying six extra octets; the RTU drops the connection and the station reconnects", runVioIEC104Malformed),
		vioScenario("iec104-sequence-error", "iec104.sequence_error", "hmi02", "rtu02", 15*time.Second,
			"an I-format APDU with a send sequence number three ahead of the expected one reaches the substation RTU on the controlling station's connection; the RTU drops the connection and the station reconnects", runVioIEC104Sequence),
		vioScenario("tcp-port-zero", "tcp.port_zero", "ews01", "plc02", 5*time.Second,
			"the engineering workstation sends TCP SYNs to port 0 of a PLC, as stack fingerprinting tools do; the PLC resets them", runVioPortZero),
	)
}

// vioScenario defines a scenario that starts at 75 % of the capture, or
// early enough to end before the capture does.
func vioScenario(name, typ, src, dst string, span time.Duration, desc string, run func(s *sim, p *plant, t0 time.Duration, rng *rand.Rand)) scenarioDef {
	return scenarioDef{
		Scenario: Scenario{Name: name, Description: desc, Alert: typ, Source: src, Destination: dst},
		offset:   func(d time.Duration) time.Duration { return max(warmup, min(d*3/4, d-warmup-span)) },
		span:     span,
		run:      run,
	}
}

// Modbus/TCP (MODBUS Application Protocol Specification V1.1b3).

// vioModbus is a Modbus/TCP connection the scenario opens from an HMI to a
// PLC it polls anyway.
type vioModbus struct {
	c   *conn
	dev *device
	rng *rand.Rand
	tid uint16
}

// vioModbusOpen connects cli to dev at t and reads the holding registers
// once, as the HMI's driver does on a new connection; it returns the
// connection and the time of the response.
func vioModbusOpen(s *sim, rng *rand.Rand, cli *node, dev *device, t time.Duration) (*vioModbus, time.Duration) {
	m := &vioModbus{c: newConn(s, rng, cli, dev.n, modbusPort), dev: dev, rng: rng, tid: uint16(rng.IntN(0x4000))}
	t = m.c.handshake(t) + between(rng, 20*time.Millisecond, 200*time.Millisecond)
	m.tid++
	return m, dev.transact(m.c, t, m.tid, readRequest(fcReadHolding, 0, 12))
}

// exchange sends an ADU from the client and, unless resp is nil, the
// PLC's response PDU with the same transaction id.
func (m *vioModbus) exchange(t time.Duration, adu []byte, resp []byte) time.Duration {
	f := m.c.send(t, true, flagPSH|flagACK, adu, nil)
	if len(adu) > 7 {
		f.mark, f.fc = markModbusRequest, adu[7]
	}
	if resp == nil {
		return t
	}
	t += between(m.rng, m.dev.minDelay, m.dev.maxDelay)
	tid := binary.BigEndian.Uint16(adu)
	f = m.c.send(t, false, flagPSH|flagACK, mbap(tid, m.dev.unit, resp), nil)
	f.mark, f.fc = markModbusResponse, resp[0]
	return t
}

// finish reads once more, acknowledges and closes the connection.
func (m *vioModbus) finish(t time.Duration) {
	t += between(m.rng, 200*time.Millisecond, 800*time.Millisecond)
	m.tid++
	t = m.dev.transact(m.c, t, m.tid, readRequest(fcReadHolding, 0, 12))
	t += delayedACK(m.rng, m.c.cli)
	m.c.send(t, true, flagACK, nil, nil)
	m.c.close(t + between(m.rng, 300*time.Millisecond, 1*time.Second))
}

// vioModbusRun opens a connection from hmi01 to plc02 at t0 and runs step
// on it after the first read.
func vioModbusRun(s *sim, p *plant, t0 time.Duration, rng *rand.Rand, name string, step func(m *vioModbus, t time.Duration) time.Duration) {
	hmi, dev := p.byName["hmi01"], p.devices[p.byName["plc02"]]
	s.at(t0, func() {
		s.event(t0, name, "modbus-connect", hmi, fmt.Sprintf("connects to %s %s:%d", dev.n.Name, dev.n.IP, modbusPort))
		m, t := vioModbusOpen(s, rng, hmi, dev, t0)
		t = step(m, t+between(rng, 50*time.Millisecond, 300*time.Millisecond))
		m.finish(t)
	})
}

func runVioModbusIllegalFunction(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "modbus-illegal-function"
	vioModbusRun(s, p, t0, rng, name, func(m *vioModbus, t time.Duration) time.Duration {
		s.event(t, name, "function-zero", m.c.cli, "sends function code 0")
		m.tid++
		return m.exchange(t, mbap(m.tid, m.dev.unit, []byte{0x00}), []byte{0x80, excIllegalFunction})
	})
}

func runVioModbusMasterException(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "modbus-master-exception"
	vioModbusRun(s, p, t0, rng, name, func(m *vioModbus, t time.Duration) time.Duration {
		s.event(t, name, "exception-code", m.c.cli, "sends function code 129 (exception to read coils)")
		m.tid++
		// The request repeats a read coils request with the exception bit
		// set; the PLC rejects the code with exception 01.
		req := readRequest(0x80|fcReadCoils, 0, numCoils)
		return m.exchange(t, mbap(m.tid, m.dev.unit, req), []byte{0x80 | fcReadCoils, excIllegalFunction})
	})
}

func runVioModbusMalformed(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "modbus-malformed"
	vioModbusRun(s, p, t0, rng, name, func(m *vioModbus, t time.Duration) time.Duration {
		s.event(t, name, "short-mbap", m.c.cli, "sends an ADU with MBAP length 1")
		m.tid++
		// Transaction id, protocol 0, length 1: the unit id alone, no PDU
		// (implementation guide 3.1.3). The PLC drops it without answer.
		adu := be16(be16(be16(nil, m.tid), 0), 1)
		adu = append(adu, m.dev.unit)
		t = m.exchange(t, adu, nil)
		t += delayedACK(m.rng, m.dev.n)
		m.c.send(t, false, flagACK, nil, nil)
		return t + between(m.rng, 500*time.Millisecond, 1500*time.Millisecond) // the HMI's response timeout
	})
}

func runVioReservedFunction(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "protocol-reserved-function"
	vioModbusRun(s, p, t0, rng, name, func(m *vioModbus, t time.Duration) time.Duration {
		s.event(t, name, "reserved-function", m.c.cli, "sends reserved function code 41")
		m.tid++
		return m.exchange(t, mbap(m.tid, m.dev.unit, []byte{41, 0x00, 0x00}), []byte{0x80 | 41, excIllegalFunction})
	})
}

func runVioResponseWithoutRequest(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "protocol-response-without-request"
	vioModbusRun(s, p, t0, rng, name, func(m *vioModbus, t time.Duration) time.Duration {
		// A response nobody asked for, with the PLC's addresses: the
		// temperature register read as if it held 850.0 °C.
		s.event(t, name, "injected-response", m.dev.n, "a read response with transaction id 0x7fff appears")
		resp := be16([]byte{fcReadHolding, 2}, 8500)
		f := m.c.send(t, false, flagPSH|flagACK, mbap(0x7fff, m.dev.unit, resp), nil)
		f.mark, f.fc = markModbusResponse, fcReadHolding
		t += delayedACK(m.rng, m.c.cli)
		m.c.send(t, true, flagACK, nil, nil)
		return t
	})
}

// DNP3 (IEEE 1815-2012) on the connection of the plant's master.

// vioDNP3 runs step on the master's connection at the first quiet moment
// from t0: step returns when its exchange is over, and the master's polls
// wait for it.
func vioDNP3(s *sim, p *plant, t0 time.Duration, step func(m *dnpMaster, t time.Duration) time.Duration) {
	var try func()
	try = func() {
		m := p.master
		switch {
		case m.c == nil: // not connected yet
			s.at(s.now+time.Second, try)
		case !m.wait(try):
			m.busy = step(m, s.now)
		}
	}
	s.at(t0, try)
}

// vioDNPResponse emits a response fragment from the outstation with the
// given internal indications.
func vioDNPResponse(m *dnpMaster, t time.Duration, ac, iin1, iin2 uint8, objs []byte) {
	o := m.o
	app := append([]byte{ac, dnpResponse, iin1, iin2}, objs...)
	seg := append([]byte{0xc0 | o.tseq&0x3f}, app...)
	o.tseq++
	f := m.c.send(t, false, flagPSH|flagACK, dnpFrame(dnpCtlOutstation, dnpMasterAddr, dnpOutstationAddr, seg), nil)
	f.mark, f.fc = markDNP3Outstation, dnpResponse
}

// vioDNPExchange sends request fc with objs and the outstation's response
// with IIN2 set to iin2, then the master's delayed ACK; it returns when
// the exchange is over.
func vioDNPExchange(m *dnpMaster, t time.Duration, fc uint8, objs []byte, iin2 uint8, respObjs []byte) time.Duration {
	m.o.advance(t)
	seq := m.aseq & 0x0f
	m.aseq++
	m.request(t, dnpAppFIR|dnpAppFIN|seq, fc, objs)
	t += between(m.rng, m.o.dev.minDelay, m.o.dev.maxDelay)
	iin1, _ := m.o.iin(true)
	vioDNPResponse(m, t, dnpAppFIR|dnpAppFIN|seq, iin1, iin2, respObjs)
	t += delayedACK(m.rng, m.cli)
	m.c.send(t, true, flagACK, nil, nil)
	return t + between(m.rng, 5*time.Millisecond, 30*time.Millisecond)
}

// IIN2 bits (clause 5.2.2.7).
const (
	vioIIN2NoFuncSupport = 0x01 // IIN2.0
	vioIIN2Reserved2     = 0x40 // IIN2.6
)

func runVioDNP3Malformed(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "dnp3-malformed"
	vioDNP3(s, p, t0, func(m *dnpMaster, t time.Duration) time.Duration {
		s.event(t, name, "bad-crc", m.cli, "sends a DNP3 frame with a bad data CRC to "+m.o.dev.n.Name)
		// An event poll whose first data block is damaged after its CRC was
		// computed; the outstation discards the frame and the master's
		// application timeout passes without a response.
		seq := m.aseq & 0x0f
		m.aseq++
		seg := append([]byte{0xc0 | m.tseq&0x3f, dnpAppFIR | dnpAppFIN | seq, dnpRead}, dnpClass123...)
		frame := dnpFrame(dnpCtlMaster, dnpOutstationAddr, dnpMasterAddr, seg)
		frame[12] ^= 0x04
		f := m.c.send(t, true, flagPSH|flagACK, frame, nil)
		f.mark, f.fc = markDNP3Master, dnpRead
		t += delayedACK(rng, m.o.dev.n)
		m.c.send(t, false, flagACK, nil, nil)
		return t + between(rng, 2*time.Second, 3*time.Second)
	})
}

func runVioDNP3IllegalFunction(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "dnp3-illegal-function"
	vioDNP3(s, p, t0, func(m *dnpMaster, t time.Duration) time.Duration {
		s.event(t, name, "initialize-data", m.cli, "sends Initialize Data (15) to "+m.o.dev.n.Name)
		return vioDNPExchange(m, t, 15, nil, vioIIN2NoFuncSupport, nil)
	})
}

func runVioDNP3NotSupported(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "dnp3-function-not-supported"
	vioDNP3(s, p, t0, func(m *dnpMaster, t time.Duration) time.Duration {
		s.event(t, name, "immediate-freeze", m.cli, "asks "+m.o.dev.n.Name+" for an immediate freeze of all counters")
		// Immediate Freeze (7) of group 20 variation 0, all points.
		return vioDNPExchange(m, t, 7, []byte{20, 0, 0x06}, vioIIN2NoFuncSupport, nil)
	})
}

func runVioDNP3ReservedIIN(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "dnp3-reserved-iin"
	vioDNP3(s, p, t0, func(m *dnpMaster, t time.Duration) time.Duration {
		s.event(t, name, "reserved-iin", m.o.dev.n, "answers an event poll with IIN2.6 set")
		var objs []byte
		if len(m.o.events) > 0 {
			objs = m.o.eventObjects()
		}
		t = vioDNPExchange(m, t, dnpRead, dnpClass123, vioIIN2Reserved2, objs)
		m.o.events = m.o.events[:0]
		return t
	})
}

// S7comm and EtherNet/IP sessions from the first HMI.

func runVioS7Malformed(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "s7comm-malformed"
	hmi, plc := p.byName["hmi01"], p.s7
	s.at(t0, func() {
		s.event(t0, name, "s7-connect", hmi, fmt.Sprintf("connects to %s %s:%d", plc.dev.n.Name, plc.dev.n.IP, s7Port))
		k, t := openS7(s, rng, hmi, plc, t0, tsapOP, tsapPLCOP)
		t += between(rng, 20*time.Millisecond, 200*time.Millisecond)
		s.event(t, name, "bad-lengths", hmi, "sends an S7 job whose parameter length is 255 in a 2-octet parameter")
		// A read-var job header (protocol id 0x32, ROSCTR 1) declaring 255
		// octets of parameters where the TPDU holds two.
		k.ref++
		pdu := []byte{0x32, rosctrJob, 0, 0}
		pdu = be16(pdu, k.ref)
		pdu = be16(be16(pdu, 0x00ff), 0)
		pdu = append(pdu, s7ReadVar, 0x01)
		f := k.c.send(t, true, flagPSH|flagACK, tpkt(append([]byte{0x02, 0xf0, 0x80}, pdu...)), nil)
		f.mark, f.fc = markS7Job, s7ReadVar
		// The CPU does not answer; the HMI gives up and closes.
		t += delayedACK(rng, plc.dev.n)
		k.c.send(t, false, flagACK, nil, nil)
		k.c.close(t + between(rng, 1*time.Second, 2*time.Second))
	})
}

func runVioENIPMalformed(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "enip-malformed"
	hmi, plc := p.byName["hmi01"], p.enip
	s.at(t0, func() {
		s.event(t0, name, "enip-connect", hmi, fmt.Sprintf("registers a session with %s %s:%d", plc.dev.n.Name, plc.dev.n.IP, enipPort))
		e, t := openENIP(s, rng, hmi, plc, t0)
		t += between(rng, 20*time.Millisecond, 200*time.Millisecond)
		s.event(t, name, "undefined-command", hmi, "sends encapsulation command 0x00a5")
		// Command 0x00a5 is not defined (Volume 2, table 2-3.2); the target
		// replies with status 0x0001, invalid or unsupported command.
		const cmd = 0x00a5
		e.ctx++
		f := e.c.send(t, true, flagPSH|flagACK, encap(cmd, e.handle, e.ctx, le32(nil, 0)), nil)
		f.mark, f.cmd = markENIP, cmd
		t += e.delay()
		reply := encap(cmd, e.handle, e.ctx, nil)
		binary.LittleEndian.PutUint32(reply[8:], 0x0001)
		f = e.c.send(t, false, flagPSH|flagACK, reply, nil)
		f.mark, f.cmd = markENIP, cmd
		e.last = t
		t = e.ack()
		e.unregister(t + between(rng, 50*time.Millisecond, 300*time.Millisecond))
	})
}

// BACnet/IP (ANSI/ASHRAE 135): an air handler the first HMI reads.

// vioRoleBuilding is the role of a building automation controller.
const vioRoleBuilding Role = "building-controller"

// vioAHU adds the air handling unit's BACnet controller on the control
// network and has hmi01 read two of its analog inputs every ten seconds
// from the start of the capture until its end.
func vioAHU(s *sim, p *plant, rng *rand.Rand) (*node, *node) {
	hmi := p.byName["hmi01"]
	ahu := p.add(hostSpec{Host: Host{Name: "ahu01", Role: vioRoleBuilding, Vendor: "DELTA CONTROLS, INC.", MAC: mac("00:40:ae:31:0c:57"),
		IP: ip("10.10.1.60"), Subnet: control, TTL: 64}, stack: stackEmbedded, window: 4096, synWindow: 4096}, rng)
	var invoke uint8
	var poll func()
	temp := 180.0
	poll = func() {
		t := s.now
		if t+2*time.Second >= s.end {
			return
		}
		for inst := uint32(1); inst <= 2; inst++ {
			invoke++
			temp += rng.Float64() - 0.5
			req := vioReadProperty(invoke, vioObjectID(0, inst), 85)
			t = vioBACnet(s, hmi, ahu, t, req)
			t += between(rng, 5*time.Millisecond, 40*time.Millisecond)
			t = vioBACnet(s, ahu, hmi, t, vioReadPropertyAck(invoke, vioObjectID(0, inst), 85, float32(temp/10)+float32(inst)))
			t += between(rng, 20*time.Millisecond, 100*time.Millisecond)
		}
		s.at(s.now+jitter(rng, 10*time.Second, 200*time.Millisecond), poll)
	}
	first := between(rng, warmup, warmup+3*time.Second)
	s.at(first, func() {
		t := s.arpExchange(s.now, hmi, ahu, false, serverDelay(rng, ahu))
		s.at(t+between(rng, 5*time.Millisecond, 20*time.Millisecond), poll)
	})
	return hmi, ahu
}

// vioBACnet emits one BACnet/IP datagram (UDP 47808 both ways) carrying an
// Original-Unicast-NPDU with apdu; it returns its time.
func vioBACnet(s *sim, from, to *node, t time.Duration, apdu []byte) time.Duration {
	expect := byte(0)
	if len(apdu) > 0 && apdu[0]>>4 == 0 {
		expect = 0x04 // a confirmed request expects a reply (clause 6.2.2)
	}
	npdu := append([]byte{0x01, expect}, apdu...)
	bvlc := be16([]byte{0x81, 0x0a}, uint16(4+len(npdu)))
	s.emit(&frame{at: t, src: from, ethSrc: from.MAC, ethDst: from.nextHop(to), ip: from.ipv4(to.IP, layers.IPProtocolUDP),
		udp: &layers.UDP{SrcPort: 47808, DstPort: 47808}, data: append(bvlc, npdu...)})
	return t
}

// vioObjectID encodes a BACnetObjectIdentifier: type in the top 10 bits,
// instance in the low 22 (clause 20.2.14).
func vioObjectID(typ uint16, inst uint32) uint32 { return uint32(typ)<<22 | inst&0x3fffff }

// vioReadProperty is a confirmed ReadProperty request (clause 15.5):
// context tag 0 object identifier, context tag 1 property identifier.
func vioReadProperty(invoke uint8, obj uint32, prop uint8) []byte {
	b := []byte{0x00, 0x05, invoke, 0x0c, 0x0c}
	b = be32(b, obj)
	return append(b, 0x19, prop)
}

// vioReadPropertyAck is the ComplexACK of ReadProperty with a REAL value
// in context tag 3.
func vioReadPropertyAck(invoke uint8, obj uint32, prop uint8, v float32) []byte {
	b := []byte{0x30, invoke, 0x0c, 0x0c}
	b = be32(b, obj)
	b = append(b, 0x19, prop, 0x3e, 0x44)
	b = be32(b, math.Float32bits(v))
	return append(b, 0x3f)
}

func runVioBACnetMalformed(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "bacnet-malformed"
	hmi, ahu := vioAHU(s, p, rng)
	s.at(t0, func() {
		s.event(t0, name, "npdu-version", hmi, "sends "+ahu.Name+" a ReadProperty in an NPDU of version 2")
		// Clause 6.2.1: the NPDU version is 1; a device discards a message
		// of any other version, so the controller does not answer.
		npdu := append([]byte{0x02, 0x04}, vioReadProperty(0xf1, vioObjectID(0, 1), 85)...)
		bvlc := be16([]byte{0x81, 0x0a}, uint16(4+len(npdu)))
		s.emit(&frame{at: t0, src: hmi, ethSrc: hmi.MAC, ethDst: hmi.nextHop(ahu), ip: hmi.ipv4(ahu.IP, layers.IPProtocolUDP),
			udp: &layers.UDP{SrcPort: 47808, DstPort: 47808}, data: append(bvlc, npdu...)})
	})
}

// IEC 60870-5-104: a substation RTU whose controlling station is hmi02.

// vio104 is an IEC 104 connection with the sequence state of both sides.
type vio104 struct {
	s        *sim
	rng      *rand.Rand
	c        *conn
	cli, srv *node
	vs, vr   uint16 // controlling station's next N(S), and the RTU's
	unacked  int    // I-format APDUs from the RTU not yet acknowledged
	busy     time.Duration
	gen      int
	value    [4]float32
	closed   bool
	stopAt   time.Duration
}

// IEC 104 type identifications and causes (IEC 60870-5-101 7.2.1, 7.2.3).
const (
	vio104Port         = 2404
	vio104MSPNA1       = 1   // single-point information
	vio104MMENC1       = 13  // measured value, short floating point
	vio104CICNA1       = 100 // interrogation command
	vio104CauseSpont   = 3
	vio104CauseAct     = 6
	vio104CauseActCon  = 7
	vio104CauseActTrm  = 10
	vio104CauseInrogen = 20
	vio104CommonAddr   = 1
)

// vio104APDU returns an APDU: start 0x68, length, four control octets, ASDU.
func vio104APDU(ctrl [4]byte, asdu []byte) []byte {
	b := []byte{0x68, byte(4 + len(asdu)), ctrl[0], ctrl[1], ctrl[2], ctrl[3]}
	return append(b, asdu...)
}

// vio104I returns the control field of an I-format APDU.
func vio104I(ns, nr uint16) [4]byte {
	return [4]byte{byte(ns << 1), byte(ns >> 7), byte(nr << 1), byte(nr >> 7)}
}

// vio104ASDU returns an ASDU header (type, one object or n with SQ=0,
// cause, originator 0, common address) followed by objs.
func vio104ASDU(typ byte, n int, cause byte, objs []byte) []byte {
	b := []byte{typ, byte(n), cause, 0}
	b = le16(b, vio104CommonAddr)
	return append(b, objs...)
}

// U-format functions (clause 5.3).
const (
	vio104StartAct = 0x07
	vio104StartCon = 0x0b
	vio104TestAct  = 0x43
	vio104TestCon  = 0x83
)

// vio104U returns a U-format APDU with function octet f.
func vio104U(f byte) []byte { return vio104APDU([4]byte{f, 0, 0, 0}, nil) }

// fromCli sends an I-format ASDU from the controlling station.
func (v *vio104) fromCli(t time.Duration, asdu []byte) {
	v.c.send(t, true, flagPSH|flagACK, vio104APDU(vio104I(v.vs, v.vr), asdu), nil)
	v.vs = (v.vs + 1) & 0x7fff
	v.unacked = 0
}

// fromSrv sends an I-format ASDU from the RTU.
func (v *vio104) fromSrv(t time.Duration, asdu []byte) {
	v.c.send(t, false, flagPSH|flagACK, vio104APDU(vio104I(v.vr, v.vs), asdu), nil)
	v.vr = (v.vr + 1) & 0x7fff
	v.unacked++
}

// ack sends the controlling station's S-format acknowledgement.
func (v *vio104) ack(t time.Duration) {
	v.c.send(t, true, flagPSH|flagACK, vio104APDU([4]byte{0x01, 0, byte(v.vr << 1), byte(v.vr >> 7)}, nil), nil)
	v.unacked = 0
}

// measurements returns n M_ME_NC_1 objects: IOA, short float, quality.
func (v *vio104) measurements() []byte {
	var b []byte
	for i := range v.value {
		v.value[i] += float32(v.rng.Float64()-0.5) * 0.2
		b = append(b, byte(4001+i), 0x0f, 0)
		b = le32(b, math.Float32bits(v.value[i]))
		b = append(b, 0)
	}
	return b
}

// connect opens the connection, starts data transfer and runs a general
// interrogation; periodic reports follow until stop.
func (v *vio104) connect() {
	v.gen++
	v.closed = false
	v.vs, v.vr, v.unacked = 0, 0, 0
	v.c = newConn(v.s, v.rng, v.cli, v.srv, vio104Port)
	t := v.c.handshake(v.s.now)
	gap := func() time.Duration { return between(v.rng, 2*time.Millisecond, 15*time.Millisecond) }
	t += gap()
	v.c.send(t, true, flagPSH|flagACK, vio104U(vio104StartAct), nil)
	t += serverDelay(v.rng, v.srv)
	v.c.send(t, false, flagPSH|flagACK, vio104U(vio104StartCon), nil)
	t = v.interrogate(t + gap())
	v.busy = t
	gen := v.gen
	v.s.at(t+between(v.rng, 2*time.Second, 4*time.Second), func() { v.report(gen) })
}

// interrogate runs a general interrogation from t: act, actcon, the
// station's data with cause inrogen, actterm, and the acknowledgement.
func (v *vio104) interrogate(t time.Duration) time.Duration {
	gi := []byte{0, 0, 0, 20} // IOA 0, QOI 20 (station interrogation)
	v.fromCli(t, vio104ASDU(vio104CICNA1, 1, vio104CauseAct, gi))
	t += serverDelay(v.rng, v.srv)
	v.fromSrv(t, vio104ASDU(vio104CICNA1, 1, vio104CauseActCon, gi))
	t += between(v.rng, 2*time.Millisecond, 10*time.Millisecond)
	v.fromSrv(t, vio104ASDU(vio104MMENC1, len(v.value), vio104CauseInrogen, v.measurements()))
	t += between(v.rng, 1*time.Millisecond, 5*time.Millisecond)
	sp := []byte{0x01, 0x0f, 0, 0x01, 0x02, 0x0f, 0, 0x00} // two single points: on, off
	v.fromSrv(t, vio104ASDU(vio104MSPNA1, 2, vio104CauseInrogen, sp))
	t += between(v.rng, 1*time.Millisecond, 5*time.Millisecond)
	v.fromSrv(t, vio104ASDU(vio104CICNA1, 1, vio104CauseActTrm, gi))
	t += between(v.rng, 10*time.Millisecond, 50*time.Millisecond)
	v.ack(t)
	return t
}

// report has the RTU send spontaneous measurements every few seconds; the
// station acknowledges every fourth, and interrogates every two minutes.
func (v *vio104) report(gen int) {
	if gen != v.gen || v.closed {
		return
	}
	now := v.s.now
	if now < v.busy {
		v.s.at(v.busy+between(v.rng, 10*time.Millisecond, 50*time.Millisecond), func() { v.report(gen) })
		return
	}
	if now >= v.stopAt {
		v.closed = true
		v.c.close(now)
		return
	}
	t := now
	v.fromSrv(t, vio104ASDU(vio104MMENC1, len(v.value), vio104CauseSpont, v.measurements()))
	if v.unacked >= 4 {
		t += between(v.rng, 20*time.Millisecond, 100*time.Millisecond)
		v.ack(t)
	} else {
		t += delayedACK(v.rng, v.cli)
		v.c.send(t, true, flagACK, nil, nil)
	}
	if v.rng.IntN(30) == 0 {
		t = v.interrogate(t + between(v.rng, 50*time.Millisecond, 200*time.Millisecond))
	}
	v.busy = t
	v.s.at(now+jitter(v.rng, 4*time.Second, 500*time.Millisecond), func() { v.report(gen) })
}

// drop has the RTU close the connection after a protocol error, and the
// station reconnect a few seconds later.
func (v *vio104) drop(t time.Duration) time.Duration {
	v.closed = true
	v.gen++
	v.c.send(t, false, flagFIN|flagACK, nil, nil)
	t += between(v.rng, 60*time.Microsecond, 250*time.Microsecond)
	v.c.send(t, true, flagFIN|flagACK, nil, nil)
	t += serverDelay(v.rng, v.srv)
	v.c.send(t, false, flagACK, nil, nil)
	if t+10*time.Second < v.stopAt {
		v.s.at(t+between(v.rng, 4*time.Second, 8*time.Second), v.connect)
	}
	return t
}

// vioRTU104 adds the substation RTU on the field network and has hmi02
// connect to it shortly after the capture starts.
func vioRTU104(s *sim, p *plant, rng *rand.Rand) *vio104 {
	hmi := p.byName["hmi02"]
	rtu := p.add(hostSpec{Host: Host{Name: "rtu02", Role: RoleRTU, Vendor: "SCHWEITZER ENGINEERING", MAC: mac("00:30:a7:1d:42:6e"),
		IP: ip("10.10.2.21"), Subnet: field, TTL: 64}, stack: stackEmbedded, window: 8192, synWindow: 8192, arpEvery: 150}, rng)
	v := &vio104{s: s, rng: rng, cli: hmi, srv: rtu, value: [4]float32{132.4, 131.9, 50.01, 0.98},
		stopAt: s.end - between(rng, 1500*time.Millisecond, 2500*time.Millisecond)}
	first := between(rng, warmup, warmup+3*time.Second)
	s.at(first-time.Second, func() {
		t := s.arpExchange(s.now, rtu.gw, rtu, false, serverDelay(rng, rtu))
		s.refreshARP(rtu, t, rng)
	})
	s.at(first, v.connect)
	return v
}

// vio104Attack runs step on the connection at the first quiet moment from
// t0, then the RTU drops the connection.
func vio104Attack(s *sim, v *vio104, t0 time.Duration, step func(t time.Duration) time.Duration) {
	var try func()
	try = func() {
		if v.closed || s.now < v.busy {
			s.at(max(v.busy, s.now)+between(v.rng, 10*time.Millisecond, 50*time.Millisecond), try)
			return
		}
		t := step(s.now)
		t += serverDelay(v.rng, v.srv)
		v.busy = v.drop(t)
	}
	s.at(t0, try)
}

func runVioIEC104Malformed(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "iec104-malformed"
	v := vioRTU104(s, p, rng)
	vio104Attack(s, v, t0, func(t time.Duration) time.Duration {
		s.event(t, name, "long-u-format", v.cli, "sends a TESTFR act with six extra octets to "+v.srv.Name)
		apdu := vio104APDU([4]byte{vio104TestAct, 0, 0, 0}, []byte{0x41, 0x41, 0x41, 0x41, 0x41, 0x41})
		v.c.send(t, true, flagPSH|flagACK, apdu, nil)
		return t
	})
}

func runVioIEC104Sequence(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "iec104-sequence-error"
	v := vioRTU104(s, p, rng)
	vio104Attack(s, v, t0, func(t time.Duration) time.Duration {
		s.event(t, name, "sequence-gap", v.cli, fmt.Sprintf("an interrogation with N(S) %d, where %d is due, reaches %s", v.vs+3, v.vs, v.srv.Name))
		v.vs = (v.vs + 3) & 0x7fff
		v.fromCli(t, vio104ASDU(vio104CICNA1, 1, vio104CauseAct, []byte{0, 0, 0, 20}))
		return t
	})
}

// Port 0.

func runVioPortZero(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "tcp-port-zero"
	ews, plc := p.byName["ews01"], p.byName["plc02"]
	s.at(t0, func() {
		s.event(t0, name, "syn-port-0", ews, "sends TCP SYNs to "+plc.IP.String()+":0")
		t := t0
		sport := ews.ephemeralPort(rng)
		iss := rng.Uint32()
		for range 2 { // the first SYN and its retransmission by the tool
			syn := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: 0, Seq: iss, SYN: true, Window: 1024,
				Options: []layers.TCPOption{optMSS(1460)}}
			s.emit(&frame{at: t, src: ews, ethSrc: ews.MAC, ethDst: ews.nextHop(plc), ip: ews.ipv4(plc.IP, layers.IPProtocolTCP), tcp: syn})
			rt := t + serverDelay(rng, plc)
			rst := &layers.TCP{SrcPort: 0, DstPort: layers.TCPPort(sport), Ack: iss + 1, ACK: true, RST: true}
			s.emit(&frame{at: rt, src: plc, ethSrc: plc.MAC, ethDst: plc.nextHop(ews), ip: plc.ipv4(ews.IP, layers.IPProtocolTCP), tcp: rst})
			t = rt + between(rng, 900*time.Millisecond, 1100*time.Millisecond)
		}
	})
}

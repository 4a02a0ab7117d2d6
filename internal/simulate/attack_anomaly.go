package simulate

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// The anomaly scenarios: scans, industrial discovery, ARP attacks, floods,
// a changed polling rate, an out-of-range setpoint and password guessing.
func init() {
	addScenarios(
		scenarioDef{
			Scenario: Scenario{Name: "scan-port", Alert: "scan.port", Source: "ews01", Destination: "plc02",
				Description: "the engineering workstation runs a TCP SYN scan of 40 ports of the Schneider PLC"},
			offset: anoOffset, span: 5 * time.Second, run: runAnoPortScan,
		},
		scenarioDef{
			Scenario: Scenario{Name: "scan-address", Alert: "scan.address", Source: "hist01",
				Description: "the historian sends ICMP echo requests to every address of the field network, one after another"},
			offset: anoOffset, span: 5 * time.Second, run: runAnoAddressScan,
		},
		scenarioDef{
			Scenario: Scenario{Name: "scan-plc", Alert: "scan.plc", Source: "hmi02",
				Description: "an HMI probes the Modbus, S7, EtherNet/IP and DNP3 ports of the field network's first 24 addresses"},
			offset: anoOffset, span: 5 * time.Second, run: runAnoPLCScan,
		},
		scenarioDef{
			Scenario: Scenario{Name: "modbus-unit_id_sweep", Alert: "modbus.unit_id_sweep", Source: "ews01", Destination: "plc02",
				Description: "the engineering workstation reads two holding registers of the Schneider PLC with unit ids 2 to 31, one after another"},
			offset: anoOffset, span: 10 * time.Second, run: runAnoUnitSweep,
		},
		scenarioDef{
			Scenario: Scenario{Name: "enip-list_identity_broadcast", Alert: "enip.list_identity_broadcast", Source: "ews01",
				Description: "the engineering workstation broadcasts an EtherNet/IP List Identity request on the control network, then asks the Rockwell PLC directly"},
			offset: anoOffset, span: 5 * time.Second, run: runAnoListIdentity,
		},
		scenarioDef{
			Scenario: Scenario{Name: "s7comm-szl_enumeration", Alert: "s7comm.szl_enumeration", Source: "ews01", Destination: "plc01",
				Description: "the engineering workstation reads a dozen system status lists of the Siemens PLC in a row, as an S7 fingerprinting tool does"},
			offset: anoOffset, span: 10 * time.Second, run: runAnoSZL,
		},
		scenarioDef{
			Scenario: Scenario{Name: "arp-spoofing", Alert: "arp.spoofing", Source: "hmi02", Destination: "rtr01-ctl",
				Description: "an HMI sends unsolicited ARP replies to the other HMI every two seconds, claiming the gateway's address for its own MAC"},
			offset: anoOffset, span: 35 * time.Second, run: runAnoARPSpoof,
		},
		scenarioDef{
			Scenario: Scenario{Name: "arp-duplicate_ip", Alert: "arp.duplicate_ip", Source: anoRogueName, Destination: "plc02",
				Description: "a device configured with the Schneider PLC's address joins the field network and announces it; both answer the router's ARP request"},
			offset: anoOffset, span: 10 * time.Second, run: runAnoDuplicate,
		},
		scenarioDef{
			Scenario: Scenario{Name: "flood-icmp", Alert: "flood.icmp", Source: "hist01", Destination: "plc01",
				Description: "the historian sends 2000 ICMP echo requests to the Siemens PLC in two seconds"},
			offset: anoOffset, span: 5 * time.Second, run: runAnoICMPFlood,
		},
		scenarioDef{
			Scenario: Scenario{Name: "flood-syn", Alert: "flood.syn", Source: "hmi02", Destination: "plc02",
				Description: "an HMI sends 1500 TCP SYNs to the Modbus port of the Schneider PLC in one and a half seconds; the PLC answers the first ones"},
			offset: anoOffset, span: 5 * time.Second, run: runAnoSYNFlood,
		},
		scenarioDef{
			Scenario: Scenario{Name: "anomaly-polling_rate_change", Alert: "anomaly.polling_rate_change", Source: "hist01", Destination: "plc02",
				Description: "the historian opens a second Modbus connection to the Schneider PLC and reads its input registers four times a second for 100 seconds"},
			offset: anoOffset, span: 105 * time.Second, run: runAnoPolling,
		},
		scenarioDef{
			Scenario: Scenario{Name: "anomaly-value_out_of_range", Alert: "anomaly.value_out_of_range", Source: "hmi02", Destination: "plc02",
				Description: "an HMI writes 2500 (250.0 °C) to the temperature setpoint of the Schneider PLC, whose operators write values around 65.0 °C"},
			offset: anoOffset, span: 5 * time.Second, run: runAnoValue,
		},
		scenarioDef{
			Scenario: Scenario{Name: "auth-excessive_login_attempts", Alert: "auth.excessive_login_attempts", Source: "ews01", Destination: "rtr01-ctl",
				Description: "the engineering workstation guesses the router's Telnet password: four connections of three failed logins each"},
			offset: anoOffset, span: 20 * time.Second, run: runAnoTelnetGuess,
		},
	)
}

func anoOffset(d time.Duration) time.Duration { return d * 3 / 4 }

// anoSYN emits a SYN from src to dst:port at t and, when dst exists, its
// answer: SYN-ACK (and the scanner's kernel RST) on an open port, RST
// otherwise. A missing host makes the router ask for it once (in arped).
func anoSYN(s *sim, p *plant, rng *rand.Rand, src *node, dst netip.Addr, sport, port uint16, t time.Duration, open map[string][]uint16, arped map[netip.Addr]bool) {
	iss := rng.Uint32()
	syn := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(port), Seq: iss, SYN: true,
		Window: 1024, Options: []layers.TCPOption{optMSS(1460)}}
	h := src.ipv4(dst, layers.IPProtocolTCP)
	h.Flags = 0
	target := p.byIP(dst)
	hop := src.gw.MAC
	if target != nil {
		hop = src.nextHop(target)
	}
	s.emit(&frame{at: t, src: src, ethSrc: src.MAC, ethDst: hop, ip: h, id: idRandom, tcp: syn})
	if target == nil {
		if !arped[dst] {
			arped[dst] = true
			s.arpRequest(t+between(rng, 50*time.Microsecond, 200*time.Microsecond), anoGateway(p, dst), dst, nil)
		}
		return
	}
	rt := t + serverDelay(rng, target)
	back := &layers.TCP{SrcPort: layers.TCPPort(port), DstPort: layers.TCPPort(sport), Ack: iss + 1, ACK: true}
	if slices.Contains(open[target.Name], port) {
		back.SYN, back.Seq, back.Window = true, rng.Uint32(), target.synWindow
		back.Options = synOptions(target, rng)
	} else {
		back.RST = true
	}
	s.emit(&frame{at: rt, src: target, ethSrc: target.MAC, ethDst: target.nextHop(src), ip: target.ipv4(src.IP, layers.IPProtocolTCP), tcp: back})
	if back.SYN {
		rst := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(port), Seq: iss + 1, RST: true}
		s.emit(&frame{at: rt + between(rng, 30*time.Microsecond, 120*time.Microsecond), src: src, ethSrc: src.MAC,
			ethDst: src.nextHop(target), ip: src.ipv4(target.IP, layers.IPProtocolTCP), id: idZero, tcp: rst})
	}
}

// anoGateway returns the router interface of the subnet of a.
func anoGateway(p *plant, a netip.Addr) *node {
	for _, n := range p.nodes {
		if n.Role == RoleRouter && n.Subnet.Contains(a) {
			return n
		}
	}
	return p.byName["rtr01-fld"]
}

// anoScanPorts are the ports of the port scan: well-known IT ports and the
// industrial ones.
var anoScanPorts = []uint16{7, 9, 13, 21, 22, 23, 25, 37, 53, 69, 79, 80, 81, 88, 102, 110, 111, 123, 135, 137,
	139, 143, 161, 389, 443, 445, 502, 515, 554, 631, 993, 1433, 1911, 2404, 3389, 4840, 5900, 8080, 20000, 44818}

func runAnoPortScan(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "scan-port"
	ews, plc := p.byName["ews01"], p.byName["plc02"]
	s.at(t0, func() {
		ports := slices.Clone(anoScanPorts)
		rng.Shuffle(len(ports), func(i, j int) { ports[i], ports[j] = ports[j], ports[i] })
		sport := uint16(40000 + rng.IntN(20000))
		s.event(t0, name, "scan-start", ews, fmt.Sprintf("SYN scan of %d ports of %s from port %d", len(ports), plc.Name, sport))
		t := t0
		arped := map[netip.Addr]bool{}
		for _, port := range ports {
			anoSYN(s, p, rng, ews, plc.IP, sport, port, t, scanOpen, arped)
			t += between(rng, 5*time.Millisecond, 20*time.Millisecond)
		}
		s.event(t, name, "scan-end", ews, fmt.Sprintf("%d SYN probes sent", len(ports)))
	})
}

// anoICMP returns an ICMP echo message (RFC 792): type, code 0, checksum,
// identifier, sequence number and data.
func anoICMP(typ uint8, id, seq uint16, data []byte) []byte {
	b := []byte{typ, 0, 0, 0}
	b = be16(b, id)
	b = be16(b, seq)
	b = append(b, data...)
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(b[2:], ^uint16(sum))
	return b
}

// anoPing emits an echo request from src to dst at t and, if dst exists,
// its reply; it returns whether dst answered.
func anoPing(s *sim, p *plant, rng *rand.Rand, src *node, dst netip.Addr, id, seq uint16, t time.Duration, arped map[netip.Addr]bool) bool {
	data := make([]byte, 56)
	for i := range data {
		data[i] = byte(0x10 + i)
	}
	target := p.byIP(dst)
	hop := src.gw.MAC
	if target != nil {
		hop = src.nextHop(target)
	}
	s.emit(&frame{at: t, src: src, ethSrc: src.MAC, ethDst: hop, ip: src.ipv4(dst, layers.IPProtocolICMPv4), data: anoICMP(8, id, seq, data)})
	if target == nil {
		if arped != nil && !arped[dst] {
			arped[dst] = true
			s.arpRequest(t+between(rng, 50*time.Microsecond, 200*time.Microsecond), anoGateway(p, dst), dst, nil)
		}
		return false
	}
	s.emit(&frame{at: t + serverDelay(rng, target), src: target, ethSrc: target.MAC, ethDst: target.nextHop(src),
		ip: target.ipv4(src.IP, layers.IPProtocolICMPv4), data: anoICMP(0, id, seq, data)})
	return true
}

func runAnoAddressScan(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "scan-address"
	hist := p.byName["hist01"]
	s.at(t0, func() {
		s.event(t0, name, "sweep-start", hist, "echo requests to 10.10.2.1 to 10.10.2.254")
		id := uint16(rng.Uint32())
		arped := map[netip.Addr]bool{}
		t, up := t0, 0
		for i := 1; i <= 254; i++ {
			if anoPing(s, p, rng, hist, netip.AddrFrom4([4]byte{10, 10, 2, byte(i)}), id, 1, t, arped) {
				up++
			}
			t += between(rng, 2*time.Millisecond, 8*time.Millisecond)
		}
		s.event(t, name, "sweep-end", hist, fmt.Sprintf("254 addresses, %d answered", up))
	})
}

// anoPLCPorts are the industrial ports of the PLC scan.
var anoPLCPorts = []uint16{102, 502, 20000, 44818}

func runAnoPLCScan(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "scan-plc"
	hmi := p.byName["hmi02"]
	s.at(t0, func() {
		sport := uint16(40000 + rng.IntN(20000))
		s.event(t0, name, "scan-start", hmi, fmt.Sprintf("SYN probes of ports %v on 10.10.2.1 to 10.10.2.24", anoPLCPorts))
		t := t0
		arped := map[netip.Addr]bool{}
		for i := 1; i <= 24; i++ {
			for _, port := range anoPLCPorts {
				anoSYN(s, p, rng, hmi, netip.AddrFrom4([4]byte{10, 10, 2, byte(i)}), sport, port, t, scanOpen, arped)
				t += between(rng, 2*time.Millisecond, 10*time.Millisecond)
			}
		}
		s.event(t, name, "scan-end", hmi, fmt.Sprintf("%d SYN probes sent", 24*len(anoPLCPorts)))
	})
}

// anoTransact is device.transact with the unit id the client chose: the
// device answers whatever unit id it is sent, as many PLCs do on TCP.
func anoTransact(dev *device, c *conn, t time.Duration, tid uint16, unit uint8, req []byte) time.Duration {
	dev.advance(t)
	resp := dev.respond(req)
	f := c.send(t, true, flagPSH|flagACK, mbap(tid, unit, req), nil)
	f.mark, f.fc = markModbusRequest, req[0]
	t += between(dev.rng, dev.minDelay, dev.maxDelay)
	f = c.send(t, false, flagPSH|flagACK, mbap(tid, unit, resp), nil)
	f.mark, f.fc = markModbusResponse, resp[0]
	return t
}

func runAnoUnitSweep(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "modbus-unit_id_sweep"
	ews := p.byName["ews01"]
	dev := p.devices[p.byName["plc02"]]
	s.at(t0, func() {
		c := newConn(s, rng, ews, dev.n, modbusPort)
		s.event(t0, name, "modbus-connect", ews, fmt.Sprintf("connects to %s %s:%d", dev.n.Name, dev.n.IP, modbusPort))
		t := c.handshake(t0) + between(rng, 20*time.Millisecond, 100*time.Millisecond)
		s.event(t, name, "unit-sweep", ews, "reads holding registers 0-1 with unit ids 2 to 31")
		tid := uint16(rng.IntN(1000))
		for unit := uint8(2); unit <= 31; unit++ {
			tid++
			t = anoTransact(dev, c, t, tid, unit, readRequest(fcReadHolding, 0, 2))
			t += between(rng, 20*time.Millisecond, 80*time.Millisecond)
		}
		c.send(t, true, flagACK, nil, nil)
		c.close(t + between(rng, 100*time.Millisecond, 400*time.Millisecond))
	})
}

func runAnoListIdentity(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "enip-list_identity_broadcast"
	ews := p.byName["ews01"]
	s.at(t0, func() {
		s.event(t0, name, "list-identity", ews, "broadcasts an EtherNet/IP List Identity request, then asks "+p.enip.dev.n.Name)
		s.listIdentity(t0, ews, p.enip, rng)
	})
}

// anoSZLs are the system status lists an S7 fingerprinting tool reads:
// the list of lists, module and component identification, the CPU's
// characteristics, LEDs, communication and protection state, and the
// operating mode (id, index).
var anoSZLs = [][2]uint16{
	{0x0000, 0x0000}, {0x0011, 0x0000}, {0x001c, 0x0000}, {0x0013, 0x0000}, {0x0014, 0x0000}, {0x0019, 0x0000},
	{0x0022, 0x0000}, {0x0037, 0x0000}, {0x0074, 0x0000}, {0x0131, 0x0001}, {0x0132, 0x0004}, {0x0232, 0x0004},
	{0x0424, 0x0000},
}

// anoSZLLen is the length of one record of each list (System Software for
// S7-300/400, System and Standard Functions, "System Status Lists").
var anoSZLLen = map[uint16]int{0x0013: 36, 0x0014: 8, 0x0019: 4, 0x0022: 28, 0x0037: 48, 0x0074: 4,
	0x0131: 40, 0x0132: 40, 0x0232: 40, 0x0424: 20}

func runAnoSZL(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "s7comm-szl_enumeration"
	ews := p.byName["ews01"]
	plc := p.s7
	s.at(t0, func() {
		s.event(t0, name, "s7-connect", ews, fmt.Sprintf("connects to %s %s:%d", plc.dev.n.Name, plc.dev.n.IP, s7Port))
		k, t := openS7(s, rng, ews, plc, t0, tsapPG, tsapPLCPG)
		s.event(t, name, "szl-reads", ews, fmt.Sprintf("reads %d system status lists", len(anoSZLs)))
		for _, z := range anoSZLs {
			t += between(rng, 5*time.Millisecond, 40*time.Millisecond)
			req := octets(be16(be16(nil, z[0]), z[1]))
			var resp []byte
			switch z[0] {
			case 0x0011:
				resp = plc.szlModuleID()
			case 0x001c:
				resp = plc.szlComponentID()
			case 0x0000:
				var recs [][]byte
				for _, id := range anoSZLs {
					recs = append(recs, be16(nil, id[0]))
				}
				resp = szl(z[0], z[1], 2, recs...)
			default:
				rec := make([]byte, anoSZLLen[z[0]])
				binary.BigEndian.PutUint16(rec, z[1]) // most records start with their index
				resp = szl(z[0], z[1], len(rec), rec)
			}
			t = k.userdata(t, s7GroupCPU, s7SubReadSZL, req, resp)
		}
		t = k.ack()
		k.c.close(t + between(rng, 200*time.Millisecond, 1*time.Second))
	})
}

func runAnoARPSpoof(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "arp-spoofing"
	hmi1, hmi2, gw := p.byName["hmi01"], p.byName["hmi02"], p.byName["rtr01-ctl"]
	s.at(t0, func() {
		s.event(t0, name, "arp-poison", hmi2, fmt.Sprintf("tells %s that %s is at %s", hmi1.Name, gw.IP, hmi2.MAC))
		t := t0
		for range 15 {
			s.emit(&frame{at: t, ethSrc: hmi2.MAC, ethDst: hmi1.MAC, arp: arpLayer(layers.ARPReply, hmi2.MAC, gw.IP, hmi1.MAC, hmi1.IP)})
			t += jitter(rng, 2*time.Second, 20*time.Millisecond)
		}
	})
}

// anoRogueName is the host of the duplicate address scenario.
const anoRogueName = "unknown-dca632"

func runAnoDuplicate(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "arp-duplicate_ip"
	plc := p.byName["plc02"]
	rogue := p.add(hostSpec{Host: Host{anoRogueName, RolePLC, "Raspberry Pi Trading Ltd", mac("dc:a6:32:4e:0b:71"), plc.IP, field, 64, Identity{}},
		stack: stackLinux, df: true}, rng)
	s.at(t0, func() {
		s.event(t0, name, "arp-announce", rogue, "announces "+plc.IP.String()+" from "+rogue.MAC.String())
		s.arpAnnounce(t0, rogue)
		t := t0 + between(rng, 1*time.Second, 3*time.Second)
		s.event(t, name, "arp-request", rogue.gw, "the router asks for "+plc.IP.String()+"; both devices answer")
		s.arpRequest(t, rogue.gw, plc.IP, nil)
		for _, n := range []*node{plc, rogue} {
			s.emit(&frame{at: t + serverDelay(rng, n), ethSrc: n.MAC, ethDst: n.gw.MAC,
				arp: arpLayer(layers.ARPReply, n.MAC, n.IP, n.gw.MAC, n.gw.IP)})
		}
		t += between(rng, 2*time.Second, 4*time.Second)
		s.arpExchange(t, rogue, rogue.gw, false, serverDelay(rng, rogue.gw))
	})
}

func runAnoICMPFlood(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "flood-icmp"
	hist, plc := p.byName["hist01"], p.byName["plc01"]
	s.at(t0, func() {
		s.event(t0, name, "flood-start", hist, "2000 echo requests to "+plc.Name)
		id := uint16(rng.Uint32())
		t := t0
		for seq := range uint16(2000) {
			anoPing(s, p, rng, hist, plc.IP, id, seq, t, nil)
			t += between(rng, 800*time.Microsecond, 1200*time.Microsecond)
		}
		s.event(t, name, "flood-end", hist, "2000 echo requests sent")
	})
}

func runAnoSYNFlood(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "flood-syn"
	hmi, plc := p.byName["hmi02"], p.byName["plc02"]
	s.at(t0, func() {
		s.event(t0, name, "flood-start", hmi, fmt.Sprintf("1500 SYNs to %s:%d", plc.Name, modbusPort))
		t := t0
		open := map[string][]uint16{plc.Name: {modbusPort}}
		for i := range 1500 {
			if i == 40 { // the PLC's backlog is full: it answers no more
				open = nil
			}
			anoSYN(s, p, rng, hmi, plc.IP, uint16(1024+rng.IntN(64000)), modbusPort, t, open, nil)
			t += between(rng, 700*time.Microsecond, 1300*time.Microsecond)
		}
		s.event(t, name, "flood-end", hmi, "1500 SYNs sent")
	})
}

func runAnoPolling(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "anomaly-polling_rate_change"
	hist := p.byName["hist01"]
	dev := p.devices[p.byName["plc02"]]
	pr := &poller{s: s, rng: rng, cli: hist, dev: dev, kind: pollHistorian, period: 250 * time.Millisecond,
		spread: 5 * time.Millisecond, stop: t0 + 100*time.Second, tid: uint16(rng.IntN(1000))}
	s.at(t0, func() {
		s.event(t0, name, "fast-poll", hist, fmt.Sprintf("reads the input registers of %s every 250 ms for 100 s", dev.n.Name))
		pr.connect()
	})
}

func runAnoValue(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "anomaly-value_out_of_range"
	hmi := p.byName["hmi02"]
	dev := p.devices[p.byName["plc02"]]
	s.at(t0, func() {
		c := newConn(s, rng, hmi, dev.n, modbusPort)
		t := c.handshake(t0) + between(rng, 20*time.Millisecond, 100*time.Millisecond)
		s.event(t, name, "modbus-write", hmi, fmt.Sprintf("writes 2500 to register %d of %s", regTempSetpoint, dev.n.Name))
		// The PLC accepts the value; the process model keeps its setpoint,
		// so that the plant's own writes stay where they were.
		req := writeRequest(regTempSetpoint, 2500)
		tid := uint16(rng.IntN(1000))
		f := c.send(t, true, flagPSH|flagACK, mbap(tid, dev.unit, req), nil)
		f.mark, f.fc = markModbusRequest, req[0]
		t += between(rng, dev.minDelay, dev.maxDelay)
		f = c.send(t, false, flagPSH|flagACK, mbap(tid, dev.unit, req), nil)
		f.mark, f.fc = markModbusResponse, req[0]
		t += delayedACK(rng, hmi)
		c.send(t, true, flagACK, nil, nil)
		c.close(t + between(rng, 100*time.Millisecond, 500*time.Millisecond))
	})
}

// anoPasswords are the passwords the guessing tool tries.
var anoPasswords = []string{"cisco", "admin", "password", "Cisco123", "router", "12345", "changeme", "letmein", "default", "secret", "enable", "admin123"}

func runAnoTelnetGuess(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = "auth-excessive_login_attempts"
	ews, rtr := p.byName["ews01"], p.byName["rtr01-ctl"]
	s.at(t0, func() {
		s.event(t0, name, "telnet-guess", ews, fmt.Sprintf("guesses the Telnet password of %s: %d attempts", rtr.Name, len(anoPasswords)))
		t := t0
		for conn := range len(anoPasswords) / 3 {
			c := newConn(s, rng, ews, rtr, 23)
			t = c.handshake(t)
			step := func(fromClient bool, b string) {
				t += between(rng, 5*time.Millisecond, 60*time.Millisecond)
				c.send(t, fromClient, flagPSH|flagACK, []byte(b), nil)
			}
			step(false, "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f")
			step(true, "\xff\xfd\x01\xff\xfd\x03\xff\xfc\x18\xff\xfc\x1f")
			step(false, "\r\n\r\nUser Access Verification\r\n\r\nUsername: ")
			for i := range 3 {
				step(true, "admin\r\n")
				step(false, "Password: ")
				step(true, anoPasswords[3*conn+i]+"\r\n")
				if i < 2 {
					step(false, "% Login invalid\r\n\r\nUsername: ")
				} else {
					step(false, "% Login invalid\r\n\r\n% Bad passwords\r\n")
				}
			}
			t = anoCloseFromServer(c, t+between(rng, 5*time.Millisecond, 30*time.Millisecond))
			t += between(rng, 50*time.Millisecond, 300*time.Millisecond)
		}
	})
}

// anoCloseFromServer emits the server's FIN, the client's FIN-ACK and the last
// ACK from t and returns the time of the last ACK.
func anoCloseFromServer(c *conn, t time.Duration) time.Duration {
	c.send(t, false, flagFIN|flagACK, nil, nil)
	t += between(c.rng, 60*time.Microsecond, 250*time.Microsecond)
	c.send(t, true, flagFIN|flagACK, nil, nil)
	t += serverDelay(c.rng, c.srv)
	c.send(t, false, flagACK, nil, nil)
	return t
}

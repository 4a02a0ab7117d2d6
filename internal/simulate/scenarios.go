package simulate

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Scenario is an incident that Generate can inject into the plant's traffic.
type Scenario struct {
	Name        string // the name Options.Scenarios uses
	Description string // one sentence for users
	// Alert is the alert type the scenario is built to raise, for attack
	// scenarios ("" for the plant incidents that raise several).
	Alert string
	// Source and Destination name the hosts the alert is between ("" when
	// the alert has no such party).
	Source, Destination string
}

// Event is something a scenario did, for tests to check detections against.
type Event struct {
	Time     time.Time // when the first packet of the event was sent
	Scenario string    // the scenario's name
	Kind     string    // what happened, e.g. "scan-start", "dhcp-discover"
	Host     string    // the scenario host's name
	Detail   string    // a human-readable detail
}

type scenarioDef struct {
	Scenario
	offset func(d time.Duration) time.Duration // default start for a capture of d
	span   time.Duration                       // upper bound of the scenario's length
	run    func(s *sim, p *plant, t0 time.Duration, rng *rand.Rand)
}

// Scenario names.
const (
	ScenarioPortScan       = "portscan"
	ScenarioNewDevice      = "new-device"
	ScenarioPLCProgram     = "plc-program"
	ScenarioPLCStop        = "plc-stop"
	ScenarioFirmwareUpdate = "firmware-update"
	ScenarioRestart        = "restart"
)

// addScenarios adds scenario definitions; the attack scenario files call it
// from init. A duplicate name is a programming error.
func addScenarios(defs ...scenarioDef) {
	for _, d := range defs {
		if _, err := lookupScenario(d.Name); err == nil {
			panic("simulate: scenario " + d.Name + " defined twice")
		}
		scenarioDefs = append(scenarioDefs, d)
	}
}

var scenarioDefs = []scenarioDef{
	{
		Scenario: Scenario{Name: ScenarioPortScan, Description: "an unknown host on the control network runs a TCP SYN scan of the field network's first 30 addresses on 14 ICS and IT ports"},
		offset:   func(d time.Duration) time.Duration { return min(d*2/5, d-warmup-3*time.Second) },
		span:     3 * time.Second,
		run:      runPortScan,
	},
	{
		Scenario: Scenario{Name: ScenarioNewDevice, Description: "an unknown laptop joins the control network (DHCP, ARP), reads a PLC over Modbus/TCP and writes one of its registers"},
		offset:   func(d time.Duration) time.Duration { return min(d*3/5, d-warmup-25*time.Second) },
		span:     25 * time.Second,
		run:      runNewDevice,
	},
	{
		Scenario: Scenario{Name: ScenarioPLCProgram, Description: "the engineering workstation uploads OB1 from the Siemens PLC, stops it, downloads and inserts a new OB1 and starts it again over S7comm"},
		offset:   func(d time.Duration) time.Duration { return max(warmup, min(d*3/20, d-warmup-20*time.Second)) },
		span:     20 * time.Second,
		run:      runPLCProgram,
	},
	{
		Scenario: Scenario{Name: ScenarioPLCStop, Description: "an HMI that never programs the plant opens an S7comm session to the Siemens PLC and stops its CPU"},
		offset:   func(d time.Duration) time.Duration { return min(d*17/20, d-warmup-5*time.Second) },
		span:     5 * time.Second,
		run:      runPLCStop,
	},
	{
		Scenario: Scenario{Name: ScenarioFirmwareUpdate, Description: "the engineering workstation writes a new firmware image to the Rockwell PLC's file object over CIP and resets it"},
		offset:   func(d time.Duration) time.Duration { return min(d/4, d-warmup-20*time.Second) },
		span:     20 * time.Second,
		run:      runFirmwareUpdate,
	},
	{
		Scenario: Scenario{Name: ScenarioRestart, Description: "the SCADA master cold-restarts the RTU over DNP3 and the workstation resets the Rockwell PLC with CIP"},
		offset:   func(d time.Duration) time.Duration { return min(d*7/10, d-warmup-15*time.Second) },
		span:     15 * time.Second,
		run:      runRestart,
	},
}

// Scenarios returns the scenarios Generate knows, in a fixed order.
func Scenarios() []Scenario {
	out := make([]Scenario, len(scenarioDefs))
	for i := range scenarioDefs {
		out[i] = scenarioDefs[i].Scenario
	}
	return out
}

func lookupScenario(name string) (*scenarioDef, error) {
	for i := range scenarioDefs {
		if scenarioDefs[i].Name == name {
			return &scenarioDefs[i], nil
		}
	}
	return nil, fmt.Errorf("simulate: unknown scenario %q", name)
}

func (s *sim) event(t time.Duration, scenario, kind string, n *node, detail string) {
	s.sum.Events = append(s.sum.Events, Event{Time: s.start.Add(t), Scenario: scenario, Kind: kind, Host: n.Name, Detail: detail})
}

// scanPorts are the ports the scanner probes; scanOpen says which answer
// SYN-ACK on each target.
var (
	scanPorts = []uint16{21, 22, 23, 25, 80, 102, 443, 502, 1911, 2404, 4840, 8080, 20000, 44818}
	scanOpen  = map[string][]uint16{
		"rtr01-fld": {22},
		"plc01":     {80, 102, 443, 502},
		"plc02":     {21, 80, 502},
		"plc03":     {80, 502, 44818},
		"rtu01":     {22, 80, 502, 20000},
	}
)

const scanHosts = 30 // the scan covers 10.10.2.1 to 10.10.2.30

func runPortScan(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	sc := p.add(scannerSpec(), rng)
	rtr := p.byName["rtr01-fld"]
	s.at(t0, func() {
		const name = ScenarioPortScan
		t := s.arpExchange(t0, sc, sc.gw, false, serverDelay(rng, sc.gw))
		s.event(t0, name, "arp", sc, "resolves its gateway "+sc.gw.IP.String())
		t += between(rng, 50*time.Millisecond, 300*time.Millisecond)

		type probe struct {
			ip   netip.Addr
			port uint16
		}
		var probes []probe
		for i := 1; i <= scanHosts; i++ {
			for _, port := range scanPorts {
				probes = append(probes, probe{netip.AddrFrom4([4]byte{10, 10, 2, byte(i)}), port})
			}
		}
		rng.Shuffle(len(probes), func(i, j int) { probes[i], probes[j] = probes[j], probes[i] })
		sport := uint16(32768 + rng.IntN(28000))
		ttl := uint8(37 + rng.IntN(23))
		arped := map[netip.Addr]bool{}
		for i, pr := range probes {
			t += between(rng, 200*time.Microsecond, 1200*time.Microsecond)
			if i == 0 {
				s.event(t, name, "scan-start", sc, fmt.Sprintf("SYN scan of %d hosts x %d ports from port %d", scanHosts, len(scanPorts), sport))
			}
			iss := rng.Uint32()
			syn := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(pr.port), Seq: iss, SYN: true,
				Window: 1024, Options: []layers.TCPOption{optMSS(1460)}}
			h := sc.ipv4(pr.ip, layers.IPProtocolTCP)
			h.TTL, h.Flags = ttl, 0
			s.emit(&frame{at: t, src: sc, ethSrc: sc.MAC, ethDst: sc.gw.MAC, ip: h, id: idRandom, tcp: syn, mark: markScanSYN})

			target := p.byIP(pr.ip)
			if target == nil {
				if !arped[pr.ip] { // the router asks for the address once, in vain
					arped[pr.ip] = true
					s.arpRequest(t+between(rng, 50*time.Microsecond, 200*time.Microsecond), rtr, pr.ip, nil)
				}
				continue
			}
			rt := t + serverDelay(rng, target)
			back := &layers.TCP{SrcPort: layers.TCPPort(pr.port), DstPort: layers.TCPPort(sport), Ack: iss + 1, ACK: true}
			if slices.Contains(scanOpen[target.Name], pr.port) {
				back.SYN, back.Seq, back.Window = true, rng.Uint32(), target.synWindow
				back.Options = synOptions(target, rng)
			} else {
				back.RST = true
			}
			s.emit(&frame{at: rt, src: target, ethSrc: target.MAC, ethDst: target.nextHop(sc),
				ip: target.ipv4(sc.IP, layers.IPProtocolTCP), tcp: back})
			if back.SYN { // the scanner's kernel knows no such connection and resets it
				rst := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(pr.port), Seq: iss + 1, RST: true}
				s.emit(&frame{at: rt + between(rng, 30*time.Microsecond, 120*time.Microsecond), src: sc, ethSrc: sc.MAC,
					ethDst: sc.gw.MAC, ip: sc.ipv4(target.IP, layers.IPProtocolTCP), id: idZero, tcp: rst})
			}
		}
		s.event(t, name, "scan-end", sc, fmt.Sprintf("%d SYN probes sent", len(probes)))
	})
}

// byIP returns the plant node with address a, or nil.
func (p *plant) byIP(a netip.Addr) *node {
	for _, n := range p.nodes {
		if n.IP == a {
			return n
		}
	}
	return nil
}

// chain runs steps one after another, each as a task at the time the
// previous one returned, so that the devices see them in time order.
func (s *sim) chain(t time.Duration, steps ...func(t time.Duration) time.Duration) {
	if len(steps) == 0 {
		return
	}
	s.at(t, func() { s.chain(steps[0](s.now), steps[1:]...) })
}

func runNewDevice(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = ScenarioNewDevice
	lp := p.add(laptopSpec(), rng)
	dev := p.devices[p.byName["plc02"]]
	var c *conn
	var tid uint16
	read := func(req []byte) func(time.Duration) time.Duration {
		return func(t time.Duration) time.Duration {
			tid++
			t = dev.transact(c, t, tid, req)
			c.send(t+delayedACK(rng, lp), true, flagACK, nil, nil)
			return t + between(rng, 700*time.Millisecond, 1300*time.Millisecond)
		}
	}
	s.chain(t0,
		func(t time.Duration) time.Duration {
			s.event(t, name, "dhcp-discover", lp, "DHCP DISCOVER from "+lp.MAC.String())
			t = s.dhcpExchange(t, lp, lp.gw, rng.Uint32(), rng)
			s.event(t, name, "dhcp-ack", lp, "leased "+lp.IP.String())
			t += between(rng, 100*time.Millisecond, 400*time.Millisecond)
			s.arpProbe(t, lp)
			s.event(t, name, "arp-probe", lp, "probes "+lp.IP.String())
			t += between(rng, 1*time.Second, 2*time.Second)
			s.arpAnnounce(t, lp)
			s.event(t, name, "arp-announce", lp, "announces "+lp.IP.String())
			t += between(rng, 200*time.Millisecond, 800*time.Millisecond)
			s.event(t, name, "arp", lp, "resolves its gateway "+lp.gw.IP.String())
			t = s.arpExchange(t, lp, lp.gw, false, serverDelay(rng, lp.gw))
			return t + between(rng, 2*time.Second, 6*time.Second)
		},
		func(t time.Duration) time.Duration {
			c = newConn(s, rng, lp, dev.n, modbusPort)
			s.event(t, name, "modbus-connect", lp, fmt.Sprintf("connects to %s %s:%d", dev.n.Name, dev.n.IP, modbusPort))
			return c.handshake(t) + between(rng, 100*time.Millisecond, 500*time.Millisecond)
		},
		read(readRequest(fcReadHolding, 0, 10)),
		read(readRequest(fcReadHolding, 0, 10)),
		read(readRequest(fcReadCoils, 0, numCoils)),
		func(t time.Duration) time.Duration {
			s.event(t, name, "modbus-write", lp, fmt.Sprintf("writes register %d of %s", regMode, dev.n.Name))
			return read(writeRequest(regMode, 2))(t)
		},
		read(readRequest(fcReadHolding, 0, 10)),
		func(t time.Duration) time.Duration {
			s.event(t, name, "disconnect", lp, "closes the connection to "+dev.n.Name)
			return c.close(t)
		},
	)
}

package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// The attack scenarios of the cells. Each needs its cell, and naming the
// scenario in Options.Scenarios enables the cell as if Options.Cells had
// named it, so that its normal traffic runs from the start of the capture.

// Scenario names of the cells' attacks.
const (
	ScenarioBACnetDCCDisable      = "bacnet-dcc-disable"
	ScenarioIEC104UnauthorizedCmd = "iec104-unauthorized-command"
	ScenarioGOOSEStNumJump        = "goose-stnum-jump"
	ScenarioOPCUAUnknownWrite     = "opcua-unknown-write"
)

// What the cells' attacks do, and the upper bounds of their lengths.
const (
	cellSpanDCC           = 3 * time.Second
	cellSpan104           = 10 * time.Second
	cellSpanGOOSE         = 6 * time.Second
	cellSpanOPCUA         = 6 * time.Second
	cellGOOSEJump         = 10 // stNum above the relay's
	cellAttackDCCPassword = "delta"
	cellAttackOPCUANode   = "MAIN.fFlowSetpoint"
	cellAttackOPCUAValue  = 480.0
	cellAttack104Double   = 3001 // first IOA of the double commands
	cellAttack104Single   = 3101 // first IOA of the single commands
)

// cellScenarioCell names the cell each scenario needs.
var cellScenarioCell = map[string]string{
	ScenarioBACnetDCCDisable:      CellBuilding,
	ScenarioIEC104UnauthorizedCmd: CellSubstation,
	ScenarioGOOSEStNumJump:        CellSubstation,
	ScenarioOPCUAUnknownWrite:     CellOPCUA,
}

// cellOffset returns the default start of a scenario of the given span:
// three quarters into the capture, earlier if it would not fit.
func cellOffset(span time.Duration) func(d time.Duration) time.Duration {
	return func(d time.Duration) time.Duration { return min(d*3/4, d-warmup-span) }
}

func init() {
	addScenarios(
		scenarioDef{
			Scenario: Scenario{Name: ScenarioBACnetDCCDisable, Alert: "bacnet.dcc_disable", Source: "ews01", Destination: "bac02",
				Description: "the engineering workstation, which never speaks BACnet, sends DeviceCommunicationControl (disable) to a building controller, which acknowledges and falls silent (enables the building cell)"},
			offset: cellOffset(cellSpanDCC), span: cellSpanDCC, run: runCellDCC,
		},
		scenarioDef{
			Scenario: Scenario{Name: ScenarioIEC104UnauthorizedCmd, Alert: "malware.iec104_command_sequence", Source: "ews01", Destination: "gw01",
				Description: "the engineering workstation opens IEC 104 to the substation gateway and sends select-and-execute double and single commands to six breaker points in a few seconds, as Industroyer did (enables the substation cell)"},
			offset: cellOffset(cellSpan104), span: cellSpan104, run: runCell104Commands,
		},
		scenarioDef{
			Scenario: Scenario{Name: ScenarioGOOSEStNumJump, Alert: "goose.stnum_jump", Source: "unknown-e45f01",
				Description: "an unknown device on the substation network publishes GOOSE with a protection relay's control block and data set, stNum jumped by 10 and a trip, not flagged as test (enables the substation cell)"},
			offset: cellOffset(cellSpanGOOSE), span: cellSpanGOOSE, run: runCellGOOSEJump,
		},
		scenarioDef{
			Scenario: Scenario{Name: ScenarioOPCUAUnknownWrite, Alert: "opcua.unknown_client_write", Source: "unknown-3c7c3f", Destination: "opcua01",
				Description: "an unknown laptop on the control network opens an anonymous OPC UA session to the field controller's server and writes a flow setpoint (enables the opcua cell)"},
			offset: cellOffset(cellSpanOPCUA), span: cellSpanOPCUA, run: runCellOPCUAWrite,
		},
	)
}

// runCellDCC: the workstation disables bac02's communication.
func runCellDCC(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = ScenarioBACnetDCCDisable
	ews := p.byName["ews01"]
	var d *cellBACDevice
	for _, x := range p.cells.bms.devs {
		if x.n.Name == "bac02" {
			d = x
		}
	}
	s.at(t0, func() {
		s.event(t0, name, "bacnet-dcc", ews, fmt.Sprintf("DeviceCommunicationControl disable to %s (device %d)", d.n.Name, d.instance))
		req := cellBACDCCRequest(0, 1, cellAttackDCCPassword)
		t := s.cellBACConfirm(t0, ews, d, rng, uint8(rng.IntN(256)), cellBACDCC, req, nil, false)
		d.silentForever = true
		s.event(t, name, "bacnet-dcc-ack", d.n, "acknowledges and stops communicating")
	})
}

// runCell104Commands: the workstation opens IEC 104 to the gateway and
// opens four breakers and operates two single points, select before
// execute; the gateway reports the breakers to the SCADA front end.
func runCell104Commands(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = ScenarioIEC104UnauthorizedCmd
	ews := p.byName["ews01"]
	sub := p.cells.sub
	s.at(t0, func() {
		s.event(t0, name, "iec104-connect", ews, fmt.Sprintf("connects to %s %s:%d", sub.rtu.n.Name, sub.rtu.n.IP, cell104Port))
		l := openCell104(s, rng, ews, sub.rtu, t0, s.end)
		t := l.line.free + between(rng, 100*time.Millisecond, 400*time.Millisecond)
		gap := func() time.Duration { return between(rng, 30*time.Millisecond, 250*time.Millisecond) }
		type cmd struct {
			typ uint8
			ioa uint32
			val uint8 // DCS 1 (off) or SCS 1 (on)
		}
		var cmds []cmd
		for i := range 4 {
			cmds = append(cmds, cmd{cell104DC, cellAttack104Double + uint32(i), 1})
		}
		for i := range 2 {
			cmds = append(cmds, cmd{cell104SC, cellAttack104Single + uint32(i), 1})
		}
		for i, c := range cmds {
			if i == 0 {
				s.event(t, name, "iec104-command", ews, fmt.Sprintf("select and execute of %d commands from IOA %d", len(cmds), c.ioa))
			}
			obj := func(sel bool) []byte {
				v := c.val
				if sel {
					v |= 0x80
				}
				return append(cell104IOA(nil, c.ioa), v)
			}
			t = l.command(t, cell104ASDU(c.typ, cell104Act, false, obj(true)), false) + gap()
			t = l.command(t, cell104ASDU(c.typ, cell104Act, false, obj(false)), true)
			if c.typ == cell104DC {
				i := int(c.ioa - cellAttack104Double)
				sub.rtu.dp[i] = 1
				if sub.link != nil && sub.link.started {
					sub.rtu.reportBreaker(t, sub.link, i)
				}
			}
			t += gap()
		}
		t = cellAck(l.c, t, true) + between(rng, 100*time.Millisecond, 300*time.Millisecond)
		l.sFrame(t, true)
		t = cellAck(l.c, t, false) + between(rng, 50*time.Millisecond, 200*time.Millisecond)
		l.started = false
		t = l.uExchange(t, true, cell104StopAct)
		t = l.c.close(t + between(rng, 10*time.Millisecond, 50*time.Millisecond))
		s.event(t, name, "iec104-disconnect", ews, "closes the connection to "+sub.rtu.n.Name)
		l.line.free = t
	})
}

// reportBreaker sends a double point's new position to a link as a
// spontaneous M_DP_TB_1.
func (r *cell104RTU) reportBreaker(t time.Duration, l *cell104Link, i int) {
	at := t + between(r.rng, 5*time.Millisecond, 40*time.Millisecond)
	dp := cell104Time(append(cell104IOA(nil, 2001+uint32(i)), r.dp[i]), l.s.start.Add(at))
	l.line.do(at, func(t time.Duration) time.Duration {
		if !l.started {
			return t
		}
		return l.clientAck(l.iFrame(t, false, cell104ASDU(cell104DPTime, cell104Spont, false, dp)))
	})
}

// runCellGOOSEJump: a rogue device announces itself and publishes the
// first relay's control block with a trip and stNum jumped.
func runCellGOOSEJump(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = ScenarioGOOSEStNumJump
	rogue := p.add(hostSpec{Host: Host{"unknown-e45f01", RoleLaptop, "Raspberry Pi Trading Ltd", mac("e4:5f:01:6a:3d:92"), ip("10.10.4.66"), cellSubstationNet, 64, Identity{}},
		stack: stackLinux, df: true}, rng)
	ied := p.cells.sub.ieds[0]
	s.at(t0, func() {
		s.arpAnnounce(t0, rogue)
		s.event(t0, name, "arp-announce", rogue, "announces "+rogue.IP.String())
		t := t0 + between(rng, 500*time.Millisecond, 1500*time.Millisecond)
		g := cellGOOSEPDU{gocbRef: ied.cfg.gocbRef, datSet: ied.cfg.datSet, goID: ied.cfg.goID, t: s.start.Add(t),
			stNum: ied.stNum + cellGOOSEJump, confRev: ied.confRev, flag: true, pos: 1}
		s.event(t, name, "goose-spoof", rogue, fmt.Sprintf("publishes %s with stNum %d (the relay's is %d)", g.gocbRef, g.stNum, ied.stNum))
		// sqNum 0 and fast retransmissions, as after a real change
		iv := 4 * time.Millisecond
		for end := t + 3*time.Second; t < end; {
			g.ttl = uint32(2 * iv / time.Millisecond)
			s.cellEmitGOOSE(t, rogue, rogue.MAC, ied.cfg, g)
			g.sqNum++
			t += iv
			iv = min(2*iv, time.Second)
		}
	})
}

// runCellOPCUAWrite: an unknown laptop opens an anonymous session to the
// OPC UA server, writes a setpoint and closes the session.
func runCellOPCUAWrite(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = ScenarioOPCUAUnknownWrite
	lp := p.add(hostSpec{Host: Host{"unknown-3c7c3f", RoleLaptop, "ASUSTek COMPUTER INC.", mac("3c:7c:3f:5a:19:e2"), ip("10.10.1.183"), control, 128, Identity{}},
		stack: stackWindows, df: true}, rng)
	ua := p.cells.ua
	s.at(t0, func() {
		s.arpAnnounce(t0, lp)
		s.event(t0, name, "arp-announce", lp, "announces "+lp.IP.String())
		t := t0 + between(rng, 200*time.Millisecond, 600*time.Millisecond)
		t = s.arpExchange(t, lp, lp.gw, false, serverDelay(rng, lp.gw)) + between(rng, 50*time.Millisecond, 300*time.Millisecond)
		u := &cellUASession{s: s, rng: rng, srv: ua, cli: lp, uri: "urn:unknown-3c7c3f:UaExpert", app: "UaExpert"}
		s.event(t, name, "opcua-connect", lp, fmt.Sprintf("connects to %s %s:%d", ua.n.Name, ua.n.IP, cellUAPort))
		t = u.connect(t)
		t = u.createSession(t + between(rng, 2*time.Millisecond, 10*time.Millisecond))
		t += between(rng, 300*time.Millisecond, 1200*time.Millisecond)
		s.event(t, name, "opcua-write", lp, fmt.Sprintf("writes %g to ns=4;s=%s", cellAttackOPCUAValue, cellAttackOPCUANode))
		t = u.write(t, cellAttackOPCUANode, cellUADoubleValue(cellAttackOPCUAValue))
		t = cellAck(u.c, t, true) + between(rng, 200*time.Millisecond, 800*time.Millisecond)
		u.close(t)
	})
}

package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// The operational scenarios: what engineers (or an attacker with their
// tools) do to controllers over the plant's own connections. Each reuses
// a client/server pair the plant already has where one fits.
func init() {
	addScenarios(
		opsScenario("s7comm.plc_stop", "ews01", "plc01", 5*time.Second, runOpsS7Stop,
			"the engineering workstation goes online with the Siemens PLC and stops its CPU"),
		opsScenario("s7comm.plc_start", "ews01", "plc01", 5*time.Second, runOpsS7Start,
			"the engineering workstation goes online with the Siemens PLC and starts its CPU (warm restart)"),
		opsEarly(opsScenario("s7comm.program_upload", "ews01", "plc01", 5*time.Second, runOpsS7Upload,
			"early in the capture, the engineering workstation uploads OB1 from the Siemens PLC over S7comm")),
		opsEarly(opsScenario("s7comm.program_download", "ews01", "plc01", 5*time.Second, runOpsS7Download,
			"early in the capture, the engineering workstation downloads a new FC12 into the Siemens PLC and inserts it into the program")),
		opsScenario("s7comm.time_set", "ews01", "plc01", 5*time.Second, runOpsS7SetClock,
			"the engineering workstation sets the Siemens PLC's clock a day and a half back"),
		opsScenario("cip.reset", "hmi01", "plc03", 5*time.Second, runOpsCIPReset,
			"the HMI sends a CIP Reset to the identity object of the Rockwell PLC"),
		opsScenario("cip.firmware_update", "ews01", "plc03", 10*time.Second, runOpsCIPFirmware,
			"the engineering workstation writes a firmware image to the Rockwell PLC's File object over CIP"),
		opsScenario("cip.mode_change", "hmi01", "plc03", 5*time.Second, runOpsCIPMode,
			"the HMI sends a PCCC Change Mode command to the Rockwell PLC in an Execute_PCCC request"),
		opsScenario("dnp3.cold_restart", "hmi02", "rtu01", 20*time.Second, runOpsDNPCold,
			"the SCADA master cold-restarts the RTU over DNP3; the RTU comes back and the master reconnects"),
		opsScenario("dnp3.warm_restart", "hmi02", "rtu01", 10*time.Second, runOpsDNPWarm,
			"the SCADA master warm-restarts the RTU over DNP3"),
		opsScenario("dnp3.stop_application", "hmi02", "rtu01", 10*time.Second, runOpsDNPStopApp,
			"the SCADA master stops every application of the RTU over DNP3"),
		opsScenario("dnp3.time_set", "hmi02", "rtu01", 10*time.Second, runOpsDNPTime,
			"the SCADA master writes a time two hours off into the RTU although the RTU did not ask for time"),
		opsScenario("dnp3.unsolicited_disabled", "hmi02", "rtu01", 10*time.Second, runOpsDNPDisableUnsol,
			"the SCADA master disables the RTU's unsolicited responses for event classes 1 to 3"),
		opsScenario("dnp3.outstation_restarted", "hmi02", "rtu01", 20*time.Second, runOpsDNPReboot,
			"the RTU reboots on its own (its TCP connection resets); the master reconnects and sees the restart indication"),
		opsScenario("modbus.exception_burst", "hmi01", "plc02", 15*time.Second, runOpsModbusExceptions,
			"the HMI polls a tag past the Modbus PLC's register map 25 times in a few seconds and gets an exception for each"),
		opsScenario("device.not_responding", "hmi02", "rtu01", 20*time.Second, runOpsDNPHang,
			"the RTU's DNP3 application hangs for sixteen seconds: its TCP stack acknowledges the master's poll and eight retries, none answered"),
	)
}

// opsScenario defines the scenario of an operational alert type: named
// after the type, starting at three quarters of the capture.
func opsScenario(alert, src, dst string, span time.Duration, run func(*sim, *plant, time.Duration, *rand.Rand), desc string) scenarioDef {
	return scenarioDef{
		Scenario: Scenario{Name: opsName(alert), Description: desc, Alert: alert, Source: src, Destination: dst},
		offset:   func(d time.Duration) time.Duration { return min(d*3/4, d-warmup-span) },
		span:     span,
		run:      run,
	}
}

// opsEarly moves a scenario to a quarter of the capture, while a sensor
// that learns on the first half still learns: programming by a station
// that never programmed is the policy engine's stronger alert later on,
// while the operational engine reports programming at any time.
func opsEarly(d scenarioDef) scenarioDef {
	d.offset = func(c time.Duration) time.Duration { return max(warmup, c/4) }
	return d
}

// opsName is the scenario name of an alert type: its id with dots and
// underscores as dashes.
func opsName(alert string) string {
	b := []byte(alert)
	for i, c := range b {
		if c == '.' || c == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}

// opsS7 opens a programming-device session from ews01 to the Siemens PLC at
// t0, runs step on it and closes it.
func opsS7(s *sim, p *plant, t0 time.Duration, rng *rand.Rand, alert, what string, step func(k *s7session, t time.Duration) time.Duration) {
	name := opsName(alert)
	ews := p.byName["ews01"]
	plc := p.s7
	s.at(t0, func() {
		s.event(t0, name, "s7-connect", ews, fmt.Sprintf("connects to %s %s:%d as a programming device", plc.dev.n.Name, plc.dev.n.IP, s7Port))
		k, t := openS7(s, rng, ews, plc, t0, tsapPG, tsapPLCPG)
		t += between(rng, 50*time.Millisecond, 400*time.Millisecond)
		s.event(t, name, opsName(alert[len("s7comm."):]), ews, what+" "+plc.dev.n.Name)
		t = step(k, t)
		t = k.ack()
		k.c.close(t + between(rng, 300*time.Millisecond, 1500*time.Millisecond))
	})
}

func runOpsS7Stop(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsS7(s, p, t0, rng, "s7comm.plc_stop", "stops the CPU of", (*s7session).stopPLC)
}

// runOpsS7Start starts the CPU with P_PROGRAM and no argument: a warm
// restart (the cold restart argument is "C ").
func runOpsS7Start(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsS7(s, p, t0, rng, "s7comm.plc_start", "warm-restarts the CPU of", func(k *s7session, t time.Duration) time.Duration {
		k.plc.running = true
		return k.pi(t, nil, "P_PROGRAM")
	})
}

func runOpsS7Upload(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsS7(s, p, t0, rng, "s7comm.program_upload", "uploads OB1 from", func(k *s7session, t time.Duration) time.Duration {
		return k.upload(t, uint32(7+rng.IntN(50)))
	})
}

func runOpsS7Download(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsS7(s, p, t0, rng, "s7comm.program_download", "downloads FC12 to", func(k *s7session, t time.Duration) time.Duration {
		return opsDownload(k, t, 'C', 0x0c, 12, 148)
	})
}

// opsDownload loads one block into the PLC as download does for OB1: the
// workstation requests the download, the PLC pulls the block and ends the
// download, and the workstation inserts the block with PI "_INSE". typ is
// the file name's block type character ('8' OB, 'A' DB, 'C' FC, 'E' FB),
// mc7 the MC7 header's block type (0x08 OB, 0x0a DB, 0x0c FC, 0x0e FB).
func opsDownload(k *s7session, t time.Duration, typ, mc7 byte, num uint16, size int) time.Duration {
	gap := func() time.Duration { return between(k.rng, 2*time.Millisecond, 15*time.Millisecond) }
	p := be32([]byte{s7RequestDownload, 0x00, 0x01, 0x00}, 0)
	p = append(p, fileName(typ, int(num), 'P')...)
	p = append(p, 13, '1')
	p = append(p, fmt.Sprintf("%06d%06d", size+36, size)...)
	t = k.job(t, p, nil, []byte{s7RequestDownload}, nil)
	t += between(k.rng, 1*time.Millisecond, 4*time.Millisecond)
	body := mc7Block(k.rng, num, size)
	body[5] = mc7
	db := be32([]byte{s7DownloadBlock, 0x00, 0x01, 0x00}, 0)
	db = append(db, fileName(typ, int(num), 'P')...)
	t = k.plcJob(t, db, []byte{s7DownloadBlock, 0x00}, append(be16(nil, uint16(size)), append([]byte{0x00, 0xfb}, body...)...))
	t += gap()
	de := be32([]byte{s7DownloadEnded, 0x00, 0x00, 0x00}, 0)
	de = append(de, fileName(typ, int(num), 'P')...)
	t = k.plcJob(t, de, []byte{s7DownloadEnded}, nil)
	return k.pi(t+gap(), append([]byte{1, 0, '0', typ}, fmt.Sprintf("%05dP", num)...), "_INSE")
}

// s7GroupTime and s7SubSetClock are the userdata time functions group and
// its Set Clock subfunction.
const (
	s7GroupTime   = 0x7
	s7SubSetClock = 0x02
)

// runOpsS7SetClock sets the PLC's clock with a userdata Set Clock request:
// the data item holds the time as ten BCD octets (reserved, year high and
// low, month, day, hour, minute, second, milliseconds and weekday).
func runOpsS7SetClock(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsS7(s, p, t0, rng, "s7comm.time_set", "sets the clock of", func(k *s7session, t time.Duration) time.Duration {
		at := s.start.Add(t - 36*time.Hour).UTC()
		bcd := func(v int) byte { return byte(v/10<<4 | v%10) }
		ms := at.Nanosecond() / int(time.Millisecond)
		b := []byte{0x00, bcd(at.Year() / 100), bcd(at.Year() % 100), bcd(int(at.Month())), bcd(at.Day()),
			bcd(at.Hour()), bcd(at.Minute()), bcd(at.Second()), bcd(ms / 10), byte(ms%10<<4) | byte(at.Weekday()+1)}
		return k.userdata(t, s7GroupTime, s7SubSetClock, octets(b), []byte{0xff, 0x09, 0x00, 0x00})
	})
}

// opsENIP opens an EtherNet/IP session from the named client to the
// Rockwell PLC at t0, runs step on it and ends the session. step returns
// the time of its last packet, or a negative time when the PLC dropped the
// connection and there is no session left to end.
func opsENIP(s *sim, p *plant, t0 time.Duration, rng *rand.Rand, alert, client string, step func(e *enipSession, t time.Duration) time.Duration) {
	name := opsName(alert)
	cli := p.byName[client]
	plc := p.enip
	s.at(t0, func() {
		s.event(t0, name, "enip-session", cli, fmt.Sprintf("registers a session with %s %s:%d", plc.dev.n.Name, plc.dev.n.IP, enipPort))
		e, t := openENIP(s, rng, cli, plc, t0)
		t = step(e, t+between(rng, 5*time.Millisecond, 40*time.Millisecond))
		if t >= 0 {
			e.unregister(t + between(rng, 100*time.Millisecond, 500*time.Millisecond))
		}
	})
}

// runOpsCIPReset resets the PLC, which replies and drops the connection.
func runOpsCIPReset(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsENIP(s, p, t0, rng, "cip.reset", "hmi01", func(e *enipSession, t time.Duration) time.Duration {
		s.event(t, opsName("cip.reset"), "cip-reset", e.cli, "resets the identity object of "+e.plc.dev.n.Name)
		e.reset(t)
		return -1
	})
}

// runOpsCIPFirmware writes a firmware image to the File object as the
// firmware-update scenario does, without the reset that would activate it.
func runOpsCIPFirmware(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsENIP(s, p, t0, rng, "cip.firmware_update", "ews01", func(e *enipSession, t time.Duration) time.Duration {
		plc := e.plc
		gap := func() time.Duration { return between(rng, 2*time.Millisecond, 15*time.Millisecond) }
		t = e.rr(t, cipRequest(cipGetAttrAll, logicalPath(cipClassIdentity, 1), nil), cipReply(cipGetAttrAll, plc.identity()))
		const chunks = 24
		size := chunks * firmwareChunk
		file := fmt.Sprintf("PN-%d_%03d.bin", plc.major, plc.minor+1)
		d := le32(nil, uint32(size))
		d = append(d, plc.major, plc.minor+1)
		d = append(d, 1, 'e', 'n', 'g', 0xda)
		d = le16(d, 4)
		d = append(d, byte(len(file)))
		d = append(d, file...)
		path := logicalPath(cipClassFile, 0xc8)
		t += gap()
		s.event(t, opsName("cip.firmware_update"), "firmware-download-start", e.cli,
			fmt.Sprintf("initiates a download of %s (%d octets) to %s", file, size, plc.dev.n.Name))
		t = e.rr(t, cipRequest(cipInitDownload, path, d), cipReply(cipInitDownload, append(le16(le32(nil, 0), 0), firmwareChunk)))
		var sum uint16
		for i := range chunks {
			typ := byte(1) // first 0, middle 1, last 2
			switch i {
			case 0:
				typ = 0
			case chunks - 1:
				typ = 2
			}
			data := []byte{byte(i), typ}
			for range firmwareChunk {
				b := byte(rng.Uint32())
				sum += uint16(b)
				data = append(data, b)
			}
			if typ == 2 {
				data = le16(data, -sum)
			}
			t = e.rr(t+gap(), cipRequest(cipDownloadXfer, path, data), cipReply(cipDownloadXfer, []byte{byte(i)}))
		}
		return e.ack()
	})
}

// CIP PCCC object and its Execute_PCCC service.
const (
	opsClassPCCC   = 0x67
	opsExecutePCCC = 0x4b
)

// runOpsCIPMode sends a PCCC Change Mode command (CMD 0x0F, FNC 0x80) in
// an Execute_PCCC request: the requester id (length, vendor id, serial
// number), then command, status, transaction number, function and the
// mode byte. The reply carries the requester id and the command with its
// reply bit.
func runOpsCIPMode(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsENIP(s, p, t0, rng, "cip.mode_change", "hmi01", func(e *enipSession, t time.Duration) time.Duration {
		s.event(t, opsName("cip.mode_change"), "pccc-change-mode", e.cli, "changes the CPU mode of "+e.plc.dev.n.Name)
		id := le32(le16([]byte{7}, originatorVendor), originatorSerial)
		tns := uint16(rng.Uint32())
		req := le16(append(append([]byte(nil), id...), 0x0f, 0x00), tns)
		req = append(req, 0x80, 0x01)
		rep := le16(append(append([]byte(nil), id...), 0x4f, 0x00), tns)
		t = e.rr(t, cipRequest(opsExecutePCCC, logicalPath(opsClassPCCC, 1), req), cipReply(opsExecutePCCC, rep))
		return e.ack()
	})
}

// DNP3 functions the scenarios send besides those of the plant.
const (
	opsDNPWarmRestart     = 14
	opsDNPStopApplication = 18
	opsDNPDisableUnsol    = 21
)

// opsDNP runs fn on the plant's SCADA master at the first quiet moment
// from t0, and records the event when it starts.
func opsDNP(s *sim, p *plant, t0 time.Duration, alert, kind, what string, fn func(m *dnpMaster, t time.Duration) time.Duration) {
	m := p.master
	var run func()
	run = func() {
		if m.wait(run) {
			return
		}
		t := s.now
		s.event(t, opsName(alert), kind, m.cli, what+" "+m.o.dev.n.Name)
		m.busy = fn(m, t)
	}
	s.at(t0, run)
}

// opsExchange is transact with the outstation's response objects given:
// the request at t, the response with resp, and the master's delayed ACK.
func opsExchange(m *dnpMaster, t time.Duration, fc uint8, objs, resp []byte) time.Duration {
	o := m.o
	o.advance(t)
	seq := m.aseq & 0x0f
	m.aseq++
	m.request(t, dnpAppFIR|dnpAppFIN|seq, fc, objs)
	t += between(m.rng, o.dev.minDelay, o.dev.maxDelay)
	o.response(m.c, t, dnpAppFIR|dnpAppFIN|seq, dnpResponse, resp, true)
	t += delayedACK(m.rng, m.cli)
	m.c.send(t, true, flagACK, nil, nil)
	return t + between(m.rng, 5*time.Millisecond, 30*time.Millisecond)
}

func runOpsDNPCold(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	m := p.master
	s.at(t0, func() {
		m.coldRestart(func(t time.Duration) {
			s.event(t, opsName("dnp3.cold_restart"), "dnp3-cold-restart", m.cli, "cold-restarts "+m.o.dev.n.Name)
		})
	})
}

// runOpsDNPWarm warm-restarts the outstation: it answers with the time it
// needs (group 52 variation 2) and restarts its application, which sets
// its restart indication; the connection stays up.
func runOpsDNPWarm(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsDNP(s, p, t0, "dnp3.warm_restart", "dnp3-warm-restart", "warm-restarts", func(m *dnpMaster, t time.Duration) time.Duration {
		t = opsExchange(m, t, opsDNPWarmRestart, nil, le16([]byte{52, 2, 0x07, 1}, 5000))
		m.o.restart = true
		m.o.events = m.o.events[:0]
		return t
	})
}

// runOpsDNPStopApp stops every application of the outstation: an
// application identifier object (group 90 variation 1) with qualifier
// 0x06, all.
func runOpsDNPStopApp(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsDNP(s, p, t0, "dnp3.stop_application", "dnp3-stop-application", "stops every application of", func(m *dnpMaster, t time.Duration) time.Duration {
		return opsExchange(m, t, opsDNPStopApplication, []byte{90, 1, 0x06}, nil)
	})
}

func runOpsDNPTime(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsDNP(s, p, t0, "dnp3.time_set", "dnp3-write-time", "writes a wrong time into", func(m *dnpMaster, t time.Duration) time.Duration {
		return m.transact(t, dnpWrite, dnpTime([]byte{50, 1, 0x07, 1}, s.start.Add(t+2*time.Hour)))
	})
}

func runOpsDNPDisableUnsol(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsDNP(s, p, t0, "dnp3.unsolicited_disabled", "dnp3-disable-unsolicited", "disables the unsolicited responses of", func(m *dnpMaster, t time.Duration) time.Duration {
		t = opsExchange(m, t, opsDNPDisableUnsol, dnpClass123, nil)
		m.o.unsol = false
		return t
	})
}

// runOpsDNPReboot has the outstation restart on its own: it resets the
// master's connection and comes back with its restart and need-time
// indications set; the master reconnects and runs its start-up sequence.
func runOpsDNPReboot(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	opsDNP(s, p, t0, "dnp3.outstation_restarted", "dnp3-outstation-reboot", "power-cycles", func(m *dnpMaster, t time.Duration) time.Duration {
		m.c.send(t, false, flagRST|flagACK, nil, nil)
		m.gen++
		m.o.restart, m.o.needTime, m.o.unsol = true, true, false
		m.o.events = m.o.events[:0]
		m.s.at(t+between(m.rng, 8*time.Second, 12*time.Second), m.connect)
		return t
	})
}

// runOpsDNPHang has the outstation's application hang: the master's poll
// of the event classes gets no response, and the master retries it every
// two seconds with the same application sequence number, as a retried
// request keeps it; the outstation's TCP stack acknowledges each. The ninth attempt is answered: the
// application recovered, and the master resumes its polling.
func runOpsDNPHang(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const attempts, retry = 9, 2 * time.Second
	opsDNP(s, p, t0, "device.not_responding", "dnp3-outstation-hangs", "gets no answer from", func(m *dnpMaster, t time.Duration) time.Duration {
		m.gen++ // the master's own poll and unsolicited tasks stop
		o, c := m.o, m.c
		seq := m.aseq & 0x0f
		m.aseq++
		for i := range attempts {
			at := t + time.Duration(i)*retry
			s.at(at, func() {
				m.request(at, dnpAppFIR|dnpAppFIN|seq, dnpRead, dnpClass123)
				if i < attempts-1 {
					c.send(at+delayedACK(rng, o.dev.n), false, flagACK, nil, nil)
					return
				}
				o.advance(at)
				rt := at + between(rng, o.dev.minDelay, o.dev.maxDelay)
				o.response(c, rt, dnpAppFIR|dnpAppFIN|seq, dnpResponse, nil, true)
				rt += delayedACK(rng, m.cli)
				c.send(rt, true, flagACK, nil, nil)
				s.event(rt, opsName("device.not_responding"), "dnp3-outstation-recovers", m.cli, "gets an answer again from "+o.dev.n.Name)
				m.busy = rt
				gen := m.gen
				s.at(rt+jitter(rng, m.period, m.period/20), func() { m.poll(gen) })
				s.at(rt+between(rng, 2*time.Second, 6*time.Second), func() { m.unsolicited(gen) })
			})
		}
		return t + attempts*retry
	})
}

// runOpsModbusExceptions polls the register the HMI's tag list has past
// the PLC's map, over a second connection, four times a second.
func runOpsModbusExceptions(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name, reads = "modbus-exception-burst", 25
	hmi := p.byName["hmi01"]
	dev := p.devices[p.byName["plc02"]]
	s.at(t0, func() {
		s.event(t0, name, "modbus-connect", hmi, fmt.Sprintf("connects to %s %s:%d", dev.n.Name, dev.n.IP, modbusPort))
		c := newConn(s, rng, hmi, dev.n, modbusPort)
		t := c.handshake(t0) + between(rng, 20*time.Millisecond, 100*time.Millisecond)
		tid := uint16(rng.IntN(1000))
		s.event(t, name, "modbus-exceptions", hmi, fmt.Sprintf("reads holding register %d of %s %d times", badAddress, dev.n.Name, reads))
		for range reads {
			tid++
			t = dev.transact(c, t, tid, readRequest(fcReadHolding, badAddress, 2))
			t += between(rng, 200*time.Millisecond, 300*time.Millisecond)
		}
		c.close(t)
	})
}

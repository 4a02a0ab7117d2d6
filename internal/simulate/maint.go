package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"
)

func runPLCProgram(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = ScenarioPLCProgram
	ews := p.byName["ews01"]
	plc := p.s7
	gap := func() time.Duration { return between(rng, 20*time.Millisecond, 200*time.Millisecond) }
	s.at(t0, func() {
		s.event(t0, name, "s7-connect", ews, fmt.Sprintf("connects to %s %s:%d as a programming device", plc.dev.n.Name, plc.dev.n.IP, s7Port))
		k, t := openS7(s, rng, ews, plc, t0, tsapPG, tsapPLCPG)
		t += gap()
		s.event(t, name, "upload", ews, "uploads OB1 from "+plc.dev.n.Name)
		t = k.upload(t, uint32(7+rng.IntN(50)))
		t = k.ack()
		t += between(rng, 3*time.Second, 8*time.Second) // the engineer edits the block
		s.event(t, name, "plc-stop", ews, "stops the CPU of "+plc.dev.n.Name)
		t = k.stopPLC(t)
		t += between(rng, 300*time.Millisecond, 1*time.Second)
		s.event(t, name, "download", ews, "downloads OB1 to "+plc.dev.n.Name)
		t = k.download(t, 196)
		t += between(rng, 500*time.Millisecond, 2*time.Second)
		s.event(t, name, "plc-start", ews, "starts the CPU of "+plc.dev.n.Name+" (cold restart)")
		t = k.startPLC(t)
		t = k.ack()
		k.c.close(t + between(rng, 1*time.Second, 3*time.Second))
	})
}

func runPLCStop(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = ScenarioPLCStop
	hmi := p.byName["hmi02"]
	plc := p.s7
	s.at(t0, func() {
		s.event(t0, name, "s7-connect", hmi, fmt.Sprintf("connects to %s %s:%d as a programming device", plc.dev.n.Name, plc.dev.n.IP, s7Port))
		k, t := openS7(s, rng, hmi, plc, t0, tsapPG, tsapPLCPG)
		t += between(rng, 50*time.Millisecond, 400*time.Millisecond)
		s.event(t, name, "plc-stop", hmi, "stops the CPU of "+plc.dev.n.Name)
		t = k.stopPLC(t)
		t = k.ack()
		k.c.close(t + between(rng, 200*time.Millisecond, 1*time.Second))
	})
}

// firmwareChunk is the size of a File object download transfer.
const firmwareChunk = 200

func runFirmwareUpdate(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = ScenarioFirmwareUpdate
	ews := p.byName["ews01"]
	plc := p.enip
	gap := func() time.Duration { return between(rng, 2*time.Millisecond, 15*time.Millisecond) }
	s.at(t0, func() {
		s.event(t0, name, "enip-session", ews, fmt.Sprintf("registers a session with %s %s:%d", plc.dev.n.Name, plc.dev.n.IP, enipPort))
		e, t := openENIP(s, rng, ews, plc, t0)
		t = e.rr(t+gap(), cipRequest(cipGetAttrAll, logicalPath(cipClassIdentity, 1), nil), cipReply(cipGetAttrAll, plc.identity()))
		// Initiate Download to the File object (class 0x37, instance
		// 0xc8): file size, file revision, file name as a STRINGI.
		const chunks = 40
		size := chunks * firmwareChunk
		newMinor := plc.minor + 2
		file := "PN-" + fmt.Sprintf("%d_%03d", plc.major, newMinor) + ".bin"
		d := le32(nil, uint32(size))
		d = append(d, plc.major, newMinor)
		d = append(d, 1, 'e', 'n', 'g', 0xda)
		d = le16(d, 4)
		d = append(d, byte(len(file)))
		d = append(d, file...)
		path := logicalPath(cipClassFile, 0xc8)
		t += gap()
		s.event(t, name, "firmware-download-start", ews, fmt.Sprintf("initiates a download of %s (%d octets) to %s", file, size, plc.dev.n.Name))
		r := le16(le32(nil, 0), 0) // incremental burn, burn time
		t = e.rr(t, cipRequest(cipInitDownload, path, d), cipReply(cipInitDownload, append(r, firmwareChunk)))
		var sum uint16
		for i := range chunks {
			typ := byte(1) // middle
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
		s.event(t, name, "firmware-download-end", ews, fmt.Sprintf("%d transfers written", chunks))
		t += between(rng, 500*time.Millisecond, 2*time.Second)
		s.event(t, name, "reset", ews, "resets "+plc.dev.n.Name+" to activate the firmware")
		t = e.reset(t)
		t += between(rng, 8*time.Second, 12*time.Second)
		plc.minor = newMinor
		s.event(t, name, "enip-session", ews, fmt.Sprintf("registers a new session with %s", plc.dev.n.Name))
		e, t = openENIP(s, rng, ews, plc, t)
		t = e.rr(t+gap(), cipRequest(cipGetAttrAll, logicalPath(cipClassIdentity, 1), nil), cipReply(cipGetAttrAll, plc.identity()))
		e.unregister(t + between(rng, 100*time.Millisecond, 500*time.Millisecond))
	})
}

// reset sends a Reset (0x05) to the identity object; the PLC replies and
// then drops the connection as it restarts.
func (e *enipSession) reset(t time.Duration) time.Duration {
	t = e.rr(t, cipRequest(cipReset, logicalPath(cipClassIdentity, 1), nil), cipReply(cipReset, nil))
	t += between(e.rng, 50*time.Millisecond, 200*time.Millisecond)
	e.c.send(t, false, flagRST|flagACK, nil, nil)
	return t
}

func runRestart(s *sim, p *plant, t0 time.Duration, rng *rand.Rand) {
	const name = ScenarioRestart
	m := p.master
	s.at(t0, func() {
		m.coldRestart(func(t time.Duration) {
			s.event(t, name, "dnp3-cold-restart", m.cli, fmt.Sprintf("cold restart of %s (DNP3 address %d)", m.o.dev.n.Name, dnpOutstationAddr))
		})
	})
	ews := p.byName["ews01"]
	plc := p.enip
	t1 := t0 + between(rng, 3*time.Second, 6*time.Second)
	s.at(t1, func() {
		s.event(t1, name, "enip-session", ews, fmt.Sprintf("registers a session with %s %s:%d", plc.dev.n.Name, plc.dev.n.IP, enipPort))
		e, t := openENIP(s, rng, ews, plc, t1)
		t += between(rng, 20*time.Millisecond, 200*time.Millisecond)
		s.event(t, name, "cip-reset", ews, "resets the identity object of "+plc.dev.n.Name)
		e.reset(t)
	})
}

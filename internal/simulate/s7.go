package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// S7comm over ISO-on-TCP: TPKT (RFC 1006), COTP (ISO 8073 class 0) and the
// S7 PDUs as Wireshark's s7comm dissector describes them.
const (
	s7Port = 102

	rosctrJob      = 0x01
	rosctrAckData  = 0x03
	rosctrUserdata = 0x07

	s7ReadVar         = 0x04
	s7WriteVar        = 0x05
	s7RequestDownload = 0x1a
	s7DownloadBlock   = 0x1b
	s7DownloadEnded   = 0x1c
	s7StartUpload     = 0x1d
	s7Upload          = 0x1e
	s7EndUpload       = 0x1f
	s7PIService       = 0x28
	s7PLCStop         = 0x29
	s7SetupComm       = 0xf0

	s7GroupBlock = 0x3
	s7GroupCPU   = 0x4
	s7SubReadSZL = 0x01
	s7SubList    = 0x01
	s7SubListTyp = 0x02
	s7SubInfo    = 0x03

	s7AreaM  = 0x83
	s7AreaDB = 0x84

	tsapPG = 0x0100 // client TSAP of a programming device
	tsapOP = 0x0200 // client TSAP of an operator panel
	// Server TSAPs: connection type in the high byte, rack 0 slot 2.
	tsapPLCPG = 0x0102
	tsapPLCOP = 0x0202

	s7PDUSize = 240
)

// tpkt wraps a COTP TPDU in an RFC 1006 header.
func tpkt(tpdu []byte) []byte {
	b := make([]byte, 0, 4+len(tpdu))
	b = append(b, 3, 0)
	b = be16(b, uint16(4+len(tpdu)))
	return append(b, tpdu...)
}

// cotpConnect returns a CR (0xe0) or CC (0xd0) TPDU with the calling and
// called TSAPs and a TPDU size of 1024 octets.
func cotpConnect(code uint8, dstRef, srcRef, callingTSAP, calledTSAP uint16) []byte {
	b := []byte{17, code}
	b = be16(b, dstRef)
	b = be16(b, srcRef)
	b = append(b, 0x00, 0xc0, 1, 0x0a, 0xc1, 2)
	b = be16(b, callingTSAP)
	b = append(b, 0xc2, 2)
	return be16(b, calledTSAP)
}

// s7pdu returns an S7 PDU in a COTP DT TPDU (last data unit) in TPKT.
func s7pdu(rosctr uint8, ref uint16, param, data []byte) []byte {
	hl := 10
	if rosctr == rosctrAckData {
		hl = 12
	}
	b := make([]byte, 0, 7+hl+len(param)+len(data))
	b = append(b, 3, 0)
	b = be16(b, uint16(7+hl+len(param)+len(data)))
	b = append(b, 2, 0xf0, 0x80, 0x32, rosctr, 0, 0)
	b = be16(b, ref)
	b = be16(b, uint16(len(param)))
	b = be16(b, uint16(len(data)))
	if rosctr == rosctrAckData {
		b = append(b, 0, 0) // error class and code: none
	}
	b = append(b, param...)
	return append(b, data...)
}

// s7plc is the S7 side of the Siemens PLC.
type s7plc struct {
	dev     *device
	id      Identity
	running bool
	ref     uint16 // PDU reference of the jobs the PLC sends itself
	mw      uint32 // a flag double word the program counts up in
}

// s7session is one ISO-on-TCP connection to the PLC.
type s7session struct {
	s    *sim
	rng  *rand.Rand
	plc  *s7plc
	c    *conn
	ref  uint16 // the client's next PDU reference
	seq  uint8  // userdata sequence number
	last time.Duration
}

// open connects from cli with the given client TSAP, negotiates COTP and
// the S7 PDU size, and returns the session and the time it is ready.
func openS7(s *sim, rng *rand.Rand, cli *node, plc *s7plc, t time.Duration, clientTSAP, serverTSAP uint16) (*s7session, time.Duration) {
	k := &s7session{s: s, rng: rng, plc: plc, c: newConn(s, rng, cli, plc.dev.n, s7Port), ref: uint16(rng.IntN(0x400))}
	t = k.c.handshake(t)
	t += between(rng, 1*time.Millisecond, 5*time.Millisecond)
	srcRef := uint16(rng.Uint32()) | 1
	k.c.send(t, true, flagPSH|flagACK, tpkt(cotpConnect(0xe0, 0, srcRef, clientTSAP, serverTSAP)), nil)
	t += k.delay()
	k.c.send(t, false, flagPSH|flagACK, tpkt(cotpConnect(0xd0, srcRef, uint16(rng.Uint32())|0x4000, clientTSAP, serverTSAP)), nil)
	t += between(rng, 1*time.Millisecond, 3*time.Millisecond)
	setup := be16(be16(be16([]byte{s7SetupComm, 0}, 1), 1), 480)
	t = k.job(t, setup, nil, be16(be16(be16([]byte{s7SetupComm, 0}, 1), 1), s7PDUSize), nil)
	return k, t
}

func (k *s7session) delay() time.Duration {
	return between(k.rng, k.plc.dev.minDelay, k.plc.dev.maxDelay)
}

// job emits a job from the client at t and the PLC's ack_data with the
// same PDU reference; it returns the time of the ack_data.
func (k *s7session) job(t time.Duration, param, data, ackParam, ackData []byte) time.Duration {
	k.ref++
	f := k.c.send(t, true, flagPSH|flagACK, s7pdu(rosctrJob, k.ref, param, data), nil)
	f.mark, f.fc = markS7Job, param[0]
	t += k.delay()
	f = k.c.send(t, false, flagPSH|flagACK, s7pdu(rosctrAckData, k.ref, ackParam, ackData), nil)
	f.mark, f.fc = markS7AckData, ackParam[0]
	k.last = t
	return t
}

// plcJob emits a job the PLC sends to the client (the download protocol
// has the PLC pull the block) and the client's ack_data.
func (k *s7session) plcJob(t time.Duration, param, ackParam, ackData []byte) time.Duration {
	k.plc.ref++
	f := k.c.send(t, false, flagPSH|flagACK, s7pdu(rosctrJob, k.plc.ref, param, nil), nil)
	f.mark, f.fc = markS7Job, param[0]
	t += between(k.rng, 1*time.Millisecond, 6*time.Millisecond)
	f = k.c.send(t, true, flagPSH|flagACK, s7pdu(rosctrAckData, k.plc.ref, ackParam, ackData), nil)
	f.mark, f.fc = markS7AckData, ackParam[0]
	k.last = t
	return t
}

// userdata emits a userdata request of group and subfunction with its data
// and the PLC's response with respData; it returns the time of the
// response.
func (k *s7session) userdata(t time.Duration, group, sub uint8, reqData, respData []byte) time.Duration {
	k.ref++
	k.seq++
	param := []byte{0x00, 0x01, 0x12, 0x04, 0x11, 0x40 | group, sub, 0x00}
	f := k.c.send(t, true, flagPSH|flagACK, s7pdu(rosctrUserdata, k.ref, param, reqData), nil)
	f.mark, f.fc, f.sub = markS7UDRequest, group, sub
	t += k.delay()
	rparam := []byte{0x00, 0x01, 0x12, 0x08, 0x12, 0x80 | group, sub, k.seq, 0x00, 0x00, 0x00, 0x00}
	f = k.c.send(t, false, flagPSH|flagACK, s7pdu(rosctrUserdata, k.ref, rparam, respData), nil)
	f.mark, f.fc, f.sub = markS7UDResponse, group, sub
	k.last = t
	return t
}

// ack emits the client's delayed ACK after the last response and returns
// its time.
func (k *s7session) ack() time.Duration {
	t := k.last + delayedACK(k.rng, k.c.cli)
	k.c.send(t, true, flagACK, nil, nil)
	return t
}

// octets returns a userdata or read data item: return code 0xff (success),
// transport size 0x09 (octet string), length in octets.
func octets(b []byte) []byte {
	return append(be16([]byte{0xff, 0x09}, uint16(len(b))), b...)
}

// padded returns s in n octets, space-padded.
func padded(s string, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	copy(b, s)
	return b
}

// szl returns the SZL response data of id and index: id, index, record
// length, record count and the records.
func szl(id, index uint16, recLen int, recs ...[]byte) []byte {
	b := be16(be16(be16(be16(nil, id), index), uint16(recLen)), uint16(len(recs)))
	for _, r := range recs {
		b = append(b, r...)
	}
	return octets(b)
}

// szlModuleID returns SZL 0x0011 (module identification): the module's
// order number (index 1), the hardware (6) and the firmware (7), whose
// Ausbg and Ausbe hold 'V' and the three version numbers.
func (p *s7plc) szlModuleID() []byte {
	rec := func(index uint16, mlfb string, ausbg, ausbe uint16) []byte {
		b := be16(nil, index)
		b = append(b, padded(mlfb, 20)...)
		b = be16(b, 0) // BGTyp
		b = be16(b, ausbg)
		return be16(b, ausbe)
	}
	var maj, mnr, pat uint16
	fmt.Sscanf(p.id.Firmware, "V %d.%d.%d", &maj, &mnr, &pat)
	return szl(0x0011, 0x0000, 28,
		rec(0x0001, p.id.OrderNumber, 0, 0x0001),
		rec(0x0006, p.id.OrderNumber, 0, 0x0001),
		rec(0x0007, "", 'V'<<8|maj, mnr<<8|pat))
}

// szlComponentID returns SZL 0x001C (component identification): station
// name, module name, plant designation, copyright, serial number and
// module type name, each 32 characters after a two-octet index.
func (p *s7plc) szlComponentID() []byte {
	rec := func(index uint16, s string) []byte {
		b := make([]byte, 32) // NUL-padded
		copy(b, s)
		return append(be16(nil, index), b...)
	}
	return szl(0x001c, 0x0000, 34,
		rec(1, p.id.Name),
		rec(2, "CPU 315-2 PN/DP"),
		rec(3, "Mixing line 1"),
		rec(4, "Original Siemens Equipment"),
		rec(5, p.id.Serial),
		rec(7, p.id.Product))
}

// s7Blocks are the PLC program's blocks: type code (OB 0x38, DB 0x41, SDB
// 0x42, FC 0x43, SFC 0x44, FB 0x45, SFB 0x46) and count.
var s7Blocks = []struct {
	typ   uint8
	count uint16
}{{0x38, 4}, {0x45, 3}, {0x43, 12}, {0x41, 9}, {0x42, 11}, {0x44, 58}, {0x46, 22}}

func blockList() []byte {
	var b []byte
	for _, bl := range s7Blocks {
		b = be16(append(b, 0x30, bl.typ), bl.count)
	}
	return octets(b)
}

// blockListOB lists the organisation blocks: number, flags, language (STL).
func blockListOB() []byte {
	var b []byte
	for _, n := range []uint16{1, 35, 82, 100} {
		b = append(be16(b, n), 0x22, 0x01)
	}
	return octets(b)
}

// s7Time appends an S7 timestamp: milliseconds since midnight and days
// since 1984-01-01.
func s7Time(b []byte, t time.Time) []byte {
	day := t.Truncate(24 * time.Hour)
	b = be32(b, uint32(t.Sub(day)/time.Millisecond))
	return be16(b, uint16(day.Sub(time.Date(1984, 1, 1, 0, 0, 0, 0, time.UTC))/(24*time.Hour)))
}

// blockInfo returns the block information of OB1 in the layout of the
// Get Block Info response (0x4a octets after the first four).
func (p *s7plc) blockInfo(modified time.Time) []byte {
	b := []byte{0x30, 0x38, 0x00, 0x4a, 0x00, 0x00, 'p', 'p', 0x01, 0x01, 0x01, 0x08}
	b = be16(b, 1)   // OB1
	b = be32(b, 372) // load memory length
	b = be32(b, 0)   // block security: none
	b = s7Time(b, modified)
	b = s7Time(b, modified.Add(-48*time.Hour))
	b = be16(b, 0)  // SSB length
	b = be16(b, 0)  // ADD length
	b = be16(b, 20) // local data
	b = be16(b, 264)
	b = append(b, padded("PLANT", 8)...)
	b = append(b, padded("MIXING", 8)...)
	b = append(b, padded("MAIN", 8)...)
	b = append(b, 0x12, 0x00)
	b = be16(b, 0x6c3e) // checksum
	b = be32(b, 0)
	b = be32(b, 0)
	return octets(b)
}

// fileName returns the S7 file name of a block: '_', type, five-digit
// number, file system ('A' active, 'P' passive).
func fileName(typ uint8, num int, fs byte) []byte {
	return append([]byte{9, '_', '0', typ}, append([]byte(fmt.Sprintf("%05d", num)), fs)...)
}

// mc7Block returns the bytes of a block as an upload returns it: the MC7
// header ("pp", version, attributes, language, type, number, lengths) and
// a body of STL code.
func mc7Block(rng *rand.Rand, num uint16, n int) []byte {
	b := []byte{'p', 'p', 0x01, 0x01, 0x01, 0x08}
	b = be16(b, num)
	b = be32(b, uint32(n))
	for len(b) < n {
		b = append(b, 0x70, 0x0b, 0x02, byte(rng.IntN(256)), 0xfb, 0x7c, 0x41, byte(rng.IntN(32)))
	}
	return b[:n]
}

// s7Poller is an HMI reading tags from the PLC once a period: a data
// block with the process values and a few flag bytes, with an occasional
// operator write.
type s7Poller struct {
	k      *s7session
	period time.Duration
	stop   time.Duration
}

// readItem returns a read-var item: variable specification 0x12, length
// 10, syntax id 0x10 (S7ANY), transport size BYTE, count, DB, area,
// bit address.
func readItem(area uint8, db uint16, byteAddr, count int) []byte {
	b := []byte{0x12, 0x0a, 0x10, 0x02}
	b = be16(b, uint16(count))
	b = be16(b, db)
	addr := byteAddr * 8
	return append(b, area, byte(addr>>16), byte(addr>>8), byte(addr))
}

func (sp *s7Poller) poll() {
	k := sp.k
	now := k.s.now
	if now >= sp.stop {
		k.c.close(now)
		return
	}
	dev := k.plc.dev
	dev.advance(now)
	t := now
	if k.rng.IntN(120) == 0 { // an operator writes a setpoint: DB1.DBW0
		v := dev.hr[regTempSetpoint] + uint16(10*k.rng.IntN(5)) - 20
		dev.hr[regTempSetpoint] = v
		param := append([]byte{s7WriteVar, 1}, readItem(s7AreaDB, 1, 0, 2)...)
		data := be16([]byte{0x00, 0x04, 0x00, 0x10}, v) // transport size BYTE/WORD, 16 bits
		t = k.job(t, param, data, []byte{s7WriteVar, 1}, []byte{0xff})
		t += between(k.rng, 2*time.Millisecond, 10*time.Millisecond)
	}
	param := []byte{s7ReadVar, 3}
	param = append(param, readItem(s7AreaDB, 1, 0, 16)...)
	param = append(param, readItem(s7AreaM, 0, 10, 4)...)
	param = append(param, readItem(s7AreaDB, 2, 4, 2)...)
	var db1 []byte
	for i := range 8 {
		db1 = be16(db1, dev.hr[i])
	}
	k.plc.mw += uint32(sp.period / time.Millisecond)
	var mb []byte
	mb = be32(mb, k.plc.mw)
	item := func(b []byte) []byte { return append(be16([]byte{0xff, 0x04}, uint16(8*len(b))), b...) }
	data := item(db1)
	data = append(data, item(mb)...)
	data = append(data, item(be16(nil, dev.hr[regBatches]))...)
	t = k.job(t, param, nil, []byte{s7ReadVar, 3}, data)
	t = k.ack()
	next := now + jitter(k.rng, sp.period, sp.period/25)
	if next > sp.stop {
		next = max(sp.stop, t+50*time.Millisecond)
	}
	k.s.at(next, sp.poll)
}

// s7Online is an engineering session: the workstation reads the module
// and component identification, lists the blocks and reads OB1's
// information, then disconnects.
func (k *s7session) online(t time.Duration) time.Duration {
	gap := func() time.Duration { return between(k.rng, 5*time.Millisecond, 60*time.Millisecond) }
	szlReq := func(id, index uint16) []byte { return octets(be16(be16(nil, id), index)) }
	t = k.userdata(t+gap(), s7GroupCPU, s7SubReadSZL, szlReq(0x0011, 0x0000), k.plc.szlModuleID())
	t = k.userdata(t+gap(), s7GroupCPU, s7SubReadSZL, szlReq(0x001c, 0x0000), k.plc.szlComponentID())
	t = k.userdata(t+gap(), s7GroupBlock, s7SubList, []byte{0x0a, 0x00, 0x00, 0x00}, blockList())
	t = k.userdata(t+gap(), s7GroupBlock, s7SubListTyp, octets([]byte{0x30, 0x38}), blockListOB())
	t = k.userdata(t+gap(), s7GroupBlock, s7SubInfo, octets(append([]byte{0x30, 0x38}, "00001A"...)),
		k.plc.blockInfo(k.s.start.Add(-90*24*time.Hour)))
	return t
}

// upload reads block OB1 from the PLC: start upload, upload, end upload.
func (k *s7session) upload(t time.Duration, id uint32) time.Duration {
	const size = 180
	gap := func() time.Duration { return between(k.rng, 2*time.Millisecond, 15*time.Millisecond) }
	p := be32([]byte{s7StartUpload, 0x00, 0x00, 0x00}, 0)
	p = append(p, fileName('8', 1, 'A')...)
	ack := be32([]byte{s7StartUpload, 0x00, 0x01, 0x00}, id)
	ack = append(ack, 7)
	ack = append(ack, fmt.Sprintf("%07d", size)...)
	t = k.job(t, p, nil, ack, nil)
	up := be32([]byte{s7Upload, 0x00, 0x00, 0x00}, id)
	body := mc7Block(k.rng, 1, size)
	t = k.job(t+gap(), up, nil, []byte{s7Upload, 0x00}, append(be16(nil, size), append([]byte{0x00, 0xfb}, body...)...))
	end := be32([]byte{s7EndUpload, 0x00, 0x00, 0x00}, id)
	return k.job(t+gap(), end, nil, []byte{s7EndUpload}, nil)
}

// download loads block OB1 into the PLC: the workstation requests the
// download, the PLC pulls the block and ends the download, and the
// workstation inserts the block into the program with PI "_INSE".
func (k *s7session) download(t time.Duration, size int) time.Duration {
	gap := func() time.Duration { return between(k.rng, 2*time.Millisecond, 15*time.Millisecond) }
	p := be32([]byte{s7RequestDownload, 0x00, 0x01, 0x00}, 0)
	p = append(p, fileName('8', 1, 'P')...)
	p = append(p, 13, '1')
	p = append(p, fmt.Sprintf("%06d%06d", size+36, size)...)
	t = k.job(t, p, nil, []byte{s7RequestDownload}, nil)
	t += between(k.rng, 1*time.Millisecond, 4*time.Millisecond)
	body := mc7Block(k.rng, 1, size)
	db := be32([]byte{s7DownloadBlock, 0x00, 0x01, 0x00}, 0)
	db = append(db, fileName('8', 1, 'P')...)
	t = k.plcJob(t, db, []byte{s7DownloadBlock, 0x00}, append(be16(nil, uint16(size)), append([]byte{0x00, 0xfb}, body...)...))
	t += gap()
	de := be32([]byte{s7DownloadEnded, 0x00, 0x00, 0x00}, 0)
	de = append(de, fileName('8', 1, 'P')...)
	t = k.plcJob(t, de, []byte{s7DownloadEnded}, nil)
	return k.pi(t+gap(), append([]byte{1, 0, '0', '8'}, "00001P"...), "_INSE")
}

// pi emits a PI service job (0x28) with a parameter block and a service
// name, and its ack_data.
func (k *s7session) pi(t time.Duration, params []byte, service string) time.Duration {
	p := []byte{s7PIService, 0, 0, 0, 0, 0, 0, 0xfd}
	p = be16(p, uint16(len(params)))
	p = append(p, params...)
	p = append(p, byte(len(service)))
	p = append(p, service...)
	return k.job(t, p, nil, []byte{s7PIService}, nil)
}

// stopPLC emits a PLC stop job (0x29, "P_PROGRAM") and its ack_data.
func (k *s7session) stopPLC(t time.Duration) time.Duration {
	p := append([]byte{s7PLCStop, 0, 0, 0, 0, 0, 9}, "P_PROGRAM"...)
	k.plc.running = false
	return k.job(t, p, nil, []byte{s7PLCStop}, nil)
}

// startPLC emits a PLC control job (0x28) "P_PROGRAM" with the argument
// "C " (cold restart) and its ack_data.
func (k *s7session) startPLC(t time.Duration) time.Duration {
	k.plc.running = true
	return k.pi(t, []byte("C "), "P_PROGRAM")
}

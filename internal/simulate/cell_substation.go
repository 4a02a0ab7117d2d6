package simulate

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"net"
	"time"
)

// The substation cell: a SCADA front end on the control network is the
// IEC 60870-5-104 client of the substation gateway and reads one
// protection relay over MMS (IEC 61850-8-1); two relays publish GOOSE.

// cellSubstationSpecs returns the substation cell's hosts. OUIs checked
// against Wireshark's manuf file.
func cellSubstationSpecs() []hostSpec {
	return []hostSpec{
		{Host: Host{"scada01", RoleSCADA, "Hewlett Packard Enterprise", mac("00:14:38:9d:20:5b"), ip("10.10.1.40"), control, 128, Identity{}}, stack: stackWindows, df: true, arpEvery: 50},
		{Host: Host{"gw01", RoleRTU, "Hitachi Energy Switzerland Ltd", mac("00:02:a3:6b:14:c8"), ip("10.10.4.10"), cellSubstationNet, 64,
			Identity{Vendor: "Hitachi Energy", Product: "RTU560", Firmware: "13.4.2"}}, stack: stackEmbedded, window: 8192, synWindow: 8192, arpEvery: 120},
		{Host: Host{"ied01", RoleIED, "ABB Oy / Medium Voltage Products", mac("00:21:c1:3e:70:19"), ip("10.10.4.21"), cellSubstationNet, 64,
			Identity{Vendor: "ABB", Product: "REF615", Firmware: "5.0 FP1", Name: "AA1J1Q01A1"}}, stack: stackEmbedded, window: 5840, synWindow: 5840, arpEvery: 180},
		{Host: Host{"ied02", RoleIED, "Siemens AG", mac("00:0e:8c:a4:52:6f"), ip("10.10.4.22"), cellSubstationNet, 64,
			Identity{Vendor: "Siemens", Product: "SIPROTEC 5 7SJ85", Firmware: "V09.10", Name: "AA1J1Q02A1"}}, stack: stackEmbedded, window: 8192, synWindow: 8192, arpEvery: 150},
	}
}

// cellSubstation is the state of the substation cell.
type cellSubstation struct {
	s     *sim
	scada *node
	rtu   *cell104RTU
	link  *cell104Link // the SCADA front end's link to the gateway
	ieds  []*cellIED
	mms   *cellMMSClient
}

// cellSubstation adds the substation network, the SCADA front end, the
// gateway and the relays, and starts their traffic.
func (s *sim) cellSubstation(p *plant, streams func(uint64) *rand.Rand) *cellSubstation {
	rng := streams(520)
	cellRouter(p, "rtr01-sub", cellSubstationNet, rng)
	stop := s.cellStop(rng)
	sub := &cellSubstation{s: s}
	var nodes []*node
	for i, spec := range cellSubstationSpecs() {
		n := p.add(spec, rng)
		nodes = append(nodes, n)
		s.cellResolve(n, n.Subnet == cellSubstationNet, streams(530+uint64(i)))
	}
	sub.scada = nodes[0]
	sub.rtu = newCell104RTU(nodes[1], streams(521))
	for i, cfg := range cellIEDConfigs {
		ied := newCellIED(s, nodes[2+i], cfg, streams(522+uint64(i)))
		sub.ieds = append(sub.ieds, ied)
		point := i
		ied.onChange = func(t time.Duration) { sub.rtu.indicate(t, point, ied) }
		s.at(between(ied.rng, 100*time.Millisecond, ied.heartbeat), ied.publish)
		s.at(between(ied.rng, 30*time.Second, 100*time.Second), ied.changeLoop)
	}
	lrng := streams(524)
	s.at(between(lrng, 1*time.Second, 2500*time.Millisecond), func() {
		sub.link = openCell104(s, lrng, sub.scada, sub.rtu, s.now, stop)
		sub.link.interrogateLoop()
		sub.link.spontaneousLoop()
	})
	mrng := streams(525)
	sub.mms = &cellMMSClient{s: s, rng: mrng, cli: sub.scada, ied: sub.ieds[0], period: 4 * time.Second, stop: stop}
	s.at(between(mrng, 1500*time.Millisecond, 3*time.Second), sub.mms.connect)
	return sub
}

// IEC 60870-5-104 (edition 2): APCI (clause 5) and the ASDU of
// IEC 60870-5-101 clause 7 with the sizes of 104 clause 8.
const (
	cell104Port = 2404

	cell104StartAct = 0x07 // U-format control octets
	cell104StartCon = 0x0b
	cell104StopAct  = 0x13
	cell104StopCon  = 0x23
	cell104TestAct  = 0x43
	cell104TestCon  = 0x83

	cell104SP      = 1   // M_SP_NA_1 single point
	cell104DP      = 3   // M_DP_NA_1 double point
	cell104MEFloat = 13  // M_ME_NC_1 short float measurement
	cell104SPTime  = 30  // M_SP_TB_1 single point with CP56Time2a
	cell104DPTime  = 31  // M_DP_TB_1 double point with CP56Time2a
	cell104METime  = 36  // M_ME_TF_1 short float with CP56Time2a
	cell104SC      = 45  // C_SC_NA_1 single command
	cell104DC      = 46  // C_DC_NA_1 double command
	cell104GI      = 100 // C_IC_NA_1 interrogation

	cell104Spont   = 3 // causes of transmission
	cell104Act     = 6
	cell104ActCon  = 7
	cell104ActTerm = 10
	cell104Inrogen = 20

	cell104W  = 8                // acknowledge after at most w I-format APDUs
	cell104T2 = 10 * time.Second // acknowledge at the latest after t2
	cell104T3 = 20 * time.Second // the SCADA front end tests an idle link after t3
	// cell104T3Gateway is the gateway's t3, longer than the front end's:
	// the front end's S-format APDUs and tests keep the gateway from
	// ever finding the link idle.
	cell104T3Gateway = 30 * time.Second
	cell104CA        = 11 // the gateway's common address
)

// cell104IFormat returns an I-format APDU (clause 5.1): start 0x68,
// length, send and receive sequence numbers (15 bits each, shifted left
// by one, low octet first) and the ASDU.
func cell104IFormat(ns, nr uint16, asdu []byte) []byte {
	b := []byte{0x68, byte(4 + len(asdu)), byte(ns << 1), byte(ns >> 7), byte(nr << 1), byte(nr >> 7)}
	return append(b, asdu...)
}

// cell104SFormat returns an S-format APDU acknowledging up to nr.
func cell104SFormat(nr uint16) []byte {
	return []byte{0x68, 4, 0x01, 0x00, byte(nr << 1), byte(nr >> 7)}
}

// cell104UFormat returns a U-format APDU with one function bit set.
func cell104UFormat(fn uint8) []byte { return []byte{0x68, 4, fn, 0, 0, 0} }

// cell104Con returns the U-format confirmation of an act (clause 5.3).
func cell104Con(act uint8) uint8 { return (act&^3)<<1 | 3 }

// cell104IOA appends an information object address (3 octets, LE).
func cell104IOA(b []byte, ioa uint32) []byte {
	return append(b, byte(ioa), byte(ioa>>8), byte(ioa>>16))
}

// cell104ASDU returns an ASDU: type, variable structure qualifier (SQ 0,
// number of objects), cause of transmission (cause, P/N; originator 0),
// common address and the objects (address and element each).
func cell104ASDU(typ, cause uint8, negative bool, objs ...[]byte) []byte {
	cot := cause
	if negative {
		cot |= 0x40
	}
	b := []byte{typ, uint8(len(objs)), cot, 0}
	b = le16(b, cell104CA)
	for _, o := range objs {
		b = append(b, o...)
	}
	return b
}

// cell104Time appends a CP56Time2a (101 clause 7.2.6.18): milliseconds
// of the minute, minutes, hours, day of month and of week, month, year.
func cell104Time(b []byte, t time.Time) []byte {
	t = t.UTC()
	b = le16(b, uint16(t.Second()*1000+t.Nanosecond()/1e6))
	wd := int(t.Weekday())
	if wd == 0 {
		wd = 7
	}
	return append(b, byte(t.Minute()), byte(t.Hour()), byte(wd<<5|t.Day()), byte(t.Month()), byte(t.Year()-2000))
}

// cell104RTU is the substation gateway's process image.
type cell104RTU struct {
	n     *node
	rng   *rand.Rand
	sp    [8]bool    // single points, IOA 1001..1008
	dp    [4]uint8   // double points, IOA 2001..2004: 1 off, 2 on
	me    [8]float64 // measurements, IOA 4001..4008
	links []*cell104Link
}

// cell104Nominal are the measurements' nominal values: bus voltage kV,
// three phase currents A, active and reactive power MW and Mvar,
// frequency Hz, transformer temperature °C.
var cell104Nominal = [8]float64{110, 412, 405, 418, 78.5, 12.4, 50, 61}

func newCell104RTU(n *node, rng *rand.Rand) *cell104RTU {
	r := &cell104RTU{n: n, rng: rng, dp: [4]uint8{2, 2, 2, 1}}
	r.sp[5] = true // a local/remote switch in remote
	r.me = cell104Nominal
	return r
}

// step moves the measurements on and returns the indexes that moved by
// more than their deadband.
func (r *cell104RTU) step() []int {
	var moved []int
	for i := range r.me {
		old := r.me[i]
		span := cell104Nominal[i] * 0.01
		if i == 6 {
			span = 0.02
		}
		r.me[i] += (cell104Nominal[i]-r.me[i])/5 + span*(r.rng.Float64()-0.5)
		if math.Abs(r.me[i]-old) > span*0.4 {
			moved = append(moved, i)
		}
	}
	return moved
}

func cell104Float(b []byte, v float64) []byte {
	return append(le32(b, math.Float32bits(float32(v))), 0) // QDS: good
}

// interrogation returns the gateway's answer to a general interrogation:
// every single point, double point and measurement, cause inrogen.
func (r *cell104RTU) interrogation() [][]byte {
	var sp, dp, me [][]byte
	for i, v := range r.sp {
		o := cell104IOA(nil, 1001+uint32(i))
		if v {
			sp = append(sp, append(o, 1))
		} else {
			sp = append(sp, append(o, 0))
		}
	}
	for i, v := range r.dp {
		dp = append(dp, append(cell104IOA(nil, 2001+uint32(i)), v))
	}
	for i, v := range r.me {
		me = append(me, cell104Float(cell104IOA(nil, 4001+uint32(i)), v))
	}
	return [][]byte{
		cell104ASDU(cell104SP, cell104Inrogen, false, sp...),
		cell104ASDU(cell104DP, cell104Inrogen, false, dp...),
		cell104ASDU(cell104MEFloat, cell104Inrogen, false, me...),
	}
}

// indicate reports a relay's state change to the started links: the
// relay's GOOSE also drives a double point (breaker position) and a
// single point (its trip or interlock indication).
func (r *cell104RTU) indicate(t time.Duration, i int, ied *cellIED) {
	r.dp[i] = ied.pos
	r.sp[i] = ied.flag
	for _, l := range r.links {
		at := t + between(r.rng, 5*time.Millisecond, 40*time.Millisecond)
		now := l.s.start.Add(at)
		dp := cell104Time(append(cell104IOA(nil, 2001+uint32(i)), ied.pos), now)
		sp := []byte{0}
		if ied.flag {
			sp[0] = 1
		}
		spo := cell104Time(append(cell104IOA(nil, 1001+uint32(i)), sp...), now)
		l.line.do(at, func(t time.Duration) time.Duration {
			if !l.started {
				return t
			}
			t = l.iFrame(t, false, cell104ASDU(cell104DPTime, cell104Spont, false, dp))
			t = l.iFrame(t+between(l.rng, 200*time.Microsecond, 2*time.Millisecond), false, cell104ASDU(cell104SPTime, cell104Spont, false, spo))
			return l.clientAck(t)
		})
	}
}

// cell104Link is one IEC 104 connection; index 0 of its arrays is the
// client (controlling station), 1 the gateway.
type cell104Link struct {
	s       *sim
	rng     *rand.Rand
	rtu     *cell104RTU
	c       *conn
	line    cellLine
	vs      [2]uint16        // next send sequence number N(S)
	unacked [2]int           // I-format APDUs received and not acknowledged
	lastRx  [2]time.Duration // last APDU received
	stop    time.Duration
	started bool
}

func cellSide(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

// openCell104 connects cli to the gateway and starts data transfer.
func openCell104(s *sim, rng *rand.Rand, cli *node, rtu *cell104RTU, t time.Duration, stop time.Duration) *cell104Link {
	l := &cell104Link{s: s, rng: rng, rtu: rtu, c: cellConn(s, rng, cli, rtu.n, cell104Port), stop: stop}
	l.line = cellLine{s: s}
	t = l.c.handshake(t)
	t = l.uExchange(t+between(rng, 1*time.Millisecond, 10*time.Millisecond), true, cell104StartAct)
	l.line.free = t
	l.started = true
	rtu.links = append(rtu.links, l)
	l.idleCheck(0)
	l.idleCheck(1)
	return l
}

func (l *cell104Link) delay() time.Duration {
	return between(l.rng, 2*time.Millisecond, 15*time.Millisecond)
}

// iFrame sends an I-format APDU from one side; it acknowledges every
// APDU received.
func (l *cell104Link) iFrame(t time.Duration, fromClient bool, asdu []byte) time.Duration {
	x := cellSide(fromClient)
	ns, nr := l.vs[x], l.vs[1-x]
	cellData(l.c, t, fromClient, cell104IFormat(ns, nr, asdu), cellMarkIEC104I, asdu[0], 0, 0)
	l.vs[x] = (ns + 1) & 0x7fff
	l.unacked[x] = 0
	l.unacked[1-x]++
	l.lastRx[1-x] = t
	return t
}

// sFrame sends an S-format APDU acknowledging every I-format APDU
// received.
func (l *cell104Link) sFrame(t time.Duration, fromClient bool) time.Duration {
	x := cellSide(fromClient)
	cellData(l.c, t, fromClient, cell104SFormat(l.vs[1-x]), cellMarkIEC104S, 0, 0, 0)
	l.unacked[x] = 0
	l.lastRx[1-x] = t
	return t
}

func (l *cell104Link) uFrame(t time.Duration, fromClient bool, fn uint8) time.Duration {
	cellData(l.c, t, fromClient, cell104UFormat(fn), cellMarkIEC104U, fn, 0, 0)
	l.lastRx[1-cellSide(fromClient)] = t
	return t
}

// uExchange sends a U-format act from one side and its con from the
// other, then the TCP acknowledgement.
func (l *cell104Link) uExchange(t time.Duration, fromClient bool, act uint8) time.Duration {
	l.uFrame(t, fromClient, act)
	t += l.delay()
	l.uFrame(t, !fromClient, cell104Con(act))
	return cellAck(l.c, t, fromClient)
}

// clientAck ends an exchange that the gateway's I-format APDUs ended: the
// client acknowledges at once with an S-format APDU when w are
// outstanding, otherwise its TCP stack acknowledges the segment and an
// S-format APDU follows within t2.
func (l *cell104Link) clientAck(t time.Duration) time.Duration {
	if l.unacked[0] >= cell104W {
		t += between(l.rng, 1*time.Millisecond, 5*time.Millisecond)
		l.sFrame(t, true)
		return cellAck(l.c, t, false)
	}
	t = cellAck(l.c, t, true)
	if l.unacked[0] > 0 {
		l.line.do(t+cell104T2-between(l.rng, 0, time.Second), func(t time.Duration) time.Duration {
			if l.unacked[0] == 0 || !l.started {
				return t
			}
			l.sFrame(t, true)
			return cellAck(l.c, t, false)
		})
	}
	return t
}

// idleCheck sends a TESTFR act from side x when it has received nothing
// for its t3 (104 clause 5.2), and checks again later.
func (l *cell104Link) idleCheck(x int) {
	t3 := cell104T3
	if x == 1 {
		t3 = cell104T3Gateway
	}
	at := max(l.lastRx[x]+t3, l.s.now+time.Second)
	l.line.do(at, func(t time.Duration) time.Duration {
		if !l.started {
			return t
		}
		if t-l.lastRx[x] >= t3 && t < l.stop {
			t = l.uExchange(t, x == 0, cell104TestAct)
		}
		l.idleCheck(x)
		return t
	})
}

// command sends a command activation from the client and the gateway's
// confirmation (and termination for an execute); it returns the time of
// the gateway's last APDU.
func (l *cell104Link) command(t time.Duration, asdu []byte, execute bool) time.Duration {
	l.iFrame(t, true, asdu)
	t += l.delay()
	con := append([]byte(nil), asdu...)
	con[2] = cell104ActCon
	l.iFrame(t, false, con)
	if execute {
		t += between(l.rng, 20*time.Millisecond, 120*time.Millisecond)
		term := append([]byte(nil), asdu...)
		term[2] = cell104ActTerm
		l.iFrame(t, false, term)
	}
	return t
}

// interrogate runs a general interrogation (station, QOI 20): activation,
// confirmation, the gateway's data with cause inrogen, termination.
func (l *cell104Link) interrogate(t time.Duration) time.Duration {
	gi := cell104ASDU(cell104GI, cell104Act, false, append(cell104IOA(nil, 0), 20))
	l.iFrame(t, true, gi)
	t += l.delay()
	con := append([]byte(nil), gi...)
	con[2] = cell104ActCon
	l.iFrame(t, false, con)
	for _, a := range l.rtu.interrogation() {
		t += between(l.rng, 300*time.Microsecond, 3*time.Millisecond)
		l.iFrame(t, false, a)
	}
	t += between(l.rng, 300*time.Microsecond, 3*time.Millisecond)
	term := append([]byte(nil), gi...)
	term[2] = cell104ActTerm
	l.iFrame(t, false, term)
	return l.clientAck(t)
}

// interrogateLoop interrogates the gateway at once and then every minute
// until stop. The link stays open: a SCADA front end never ends data
// transfer on its own.
func (l *cell104Link) interrogateLoop() {
	l.line.do(l.s.now, func(t time.Duration) time.Duration {
		if t >= l.stop {
			return t
		}
		t = l.interrogate(t)
		l.s.at(l.s.now+jitter(l.rng, time.Minute, 200*time.Millisecond), l.interrogateLoop)
		return t
	})
}

// spontaneousLoop has the gateway send the measurements that moved past
// their deadband (M_ME_TF_1, cause spontaneous) every few seconds.
func (l *cell104Link) spontaneousLoop() {
	at := l.s.now + between(l.rng, 4*time.Second, 40*time.Second)
	if at >= l.stop {
		return
	}
	l.s.at(at, func() {
		moved := l.rtu.step()
		if len(moved) > 0 {
			now := l.s.start.Add(l.s.now)
			var objs [][]byte
			for _, i := range moved {
				objs = append(objs, cell104Time(cell104Float(cell104IOA(nil, 4001+uint32(i)), l.rtu.me[i]), now))
			}
			asdu := cell104ASDU(cell104METime, cell104Spont, false, objs...)
			l.line.do(l.s.now, func(t time.Duration) time.Duration {
				if !l.started {
					return t
				}
				return l.clientAck(l.iFrame(t, false, asdu))
			})
		}
		l.spontaneousLoop()
	})
}

// IEC 61850-8-1 GOOSE: Ethernet multicast, 802.1Q priority tagged,
// EtherType 0x88B8, APPID, length, two reserved words and the goosePdu
// (Annex A, BER).
const (
	cellGOOSEType     = 0x88b8
	cellGOOSEVLAN     = 10
	cellGOOSEPriority = 4
)

// cellBER returns a BER element with a one-octet tag and definite length.
func cellBER(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n+4)
	b = append(b, tag)
	switch {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	default:
		b = append(b, 0x82, byte(n>>8), byte(n))
	}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// cellBERUint returns the content of a BER INTEGER holding v: the fewest
// octets, a leading zero where the top bit would read as a sign.
func cellBERUint(v uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, v)
	for len(b) > 1 && b[0] == 0 && b[1]&0x80 == 0 {
		b = b[1:]
	}
	if b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

// cellUtcTime returns an IEC 61850 UtcTime: seconds since 1970, a 24-bit
// binary fraction of the second and the time quality (10 bits accurate).
func cellUtcTime(t time.Time) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(t.Unix()))
	frac := uint32(uint64(t.Nanosecond()) << 24 / 1e9)
	return append(b, byte(frac>>16), byte(frac>>8), byte(frac), 0x0a)
}

// cellIEDConfig is what a relay publishes.
type cellIEDConfig struct {
	appID     uint16
	dst       net.HardwareAddr
	gocbRef   string
	datSet    string
	goID      string
	heartbeat time.Duration
}

var cellIEDConfigs = []cellIEDConfig{
	{0x0101, net.HardwareAddr{0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01}, "AA1J1Q01A1LD0/LLN0$GO$gcbTrip", "AA1J1Q01A1LD0/LLN0$DSTrip", "AA1J1Q01A1_Trip", time.Second},
	{0x0102, net.HardwareAddr{0x01, 0x0c, 0xcd, 0x01, 0x00, 0x02}, "AA1J1Q02A1CTRL/LLN0$GO$gcbInterlock", "AA1J1Q02A1CTRL/LLN0$DSInterlock", "AA1J1Q02A1_Interlock", 2 * time.Second},
}

// cellIED is a protection relay's GOOSE publisher: four data set members
// (a flag and its quality, a breaker position and its quality).
type cellIED struct {
	s         *sim
	n         *node
	rng       *rand.Rand
	cfg       cellIEDConfig
	heartbeat time.Duration
	stNum     uint32
	sqNum     uint32
	confRev   uint32
	changed   time.Time // the last state change (the PDU's t)
	flag      bool      // trip or interlock release
	pos       uint8     // 1 off, 2 on
	retrans   time.Duration
	gen       int // invalidates a scheduled retransmission after a change
	onChange  func(t time.Duration)
}

func newCellIED(s *sim, n *node, cfg cellIEDConfig, rng *rand.Rand) *cellIED {
	ied := &cellIED{s: s, n: n, rng: rng, cfg: cfg, heartbeat: cfg.heartbeat, confRev: 1 + uint32(rng.IntN(3)),
		stNum: 1 + uint32(rng.IntN(40)), sqNum: uint32(rng.IntN(20000)), pos: 2, retrans: cfg.heartbeat}
	ied.changed = s.start.Add(-time.Duration(ied.sqNum) * ied.heartbeat)
	return ied
}

// cellGOOSEFrame returns a GOOSE frame: destination, source, 802.1Q tag
// (priority, VLAN), EtherType, APPID, length (from the APPID on),
// reserved words and the PDU.
func cellGOOSEFrame(dst, src net.HardwareAddr, appID uint16, pdu []byte) []byte {
	b := make([]byte, 0, 26+len(pdu))
	b = append(b, dst...)
	b = append(b, src...)
	b = be16(b, 0x8100)
	b = be16(b, cellGOOSEPriority<<13|cellGOOSEVLAN)
	b = be16(b, cellGOOSEType)
	b = be16(b, appID)
	b = be16(b, uint16(8+len(pdu)))
	b = append(b, 0, 0, 0, 0)
	b = append(b, pdu...)
	for len(b) < 60 {
		b = append(b, 0)
	}
	return b
}

// cellGOOSEPDU is the content of one goosePdu.
type cellGOOSEPDU struct {
	gocbRef, datSet, goID string
	ttl                   uint32 // ms
	t                     time.Time
	stNum, sqNum, confRev uint32
	test                  bool
	flag                  bool
	pos                   uint8
}

// bytes encodes the goosePdu (IEC 61850-8-1 Annex A): [APPLICATION 1]
// with its fields context-tagged 0 to 11 and allData as MMS Data
// (boolean [3], bit-string [4], utc-time [17]).
func (g cellGOOSEPDU) bytes() []byte {
	boolean := func(tag byte, v bool) []byte {
		if v {
			return cellBER(tag, []byte{1})
		}
		return cellBER(tag, []byte{0})
	}
	quality := cellBER(0x84, []byte{0x03, 0x00, 0x00}) // 13 bits, all good
	dbpos := cellBER(0x84, []byte{0x06, g.pos << 6})   // 2 bits, first bit first
	all := cellBER(0xab, boolean(0x83, g.flag), quality, dbpos, quality)
	return cellBER(0x61,
		cellBER(0x80, []byte(g.gocbRef)),
		cellBER(0x81, cellBERUint(g.ttl)),
		cellBER(0x82, []byte(g.datSet)),
		cellBER(0x83, []byte(g.goID)),
		cellBER(0x84, cellUtcTime(g.t)),
		cellBER(0x85, cellBERUint(g.stNum)),
		cellBER(0x86, cellBERUint(g.sqNum)),
		boolean(0x87, g.test),
		cellBER(0x88, cellBERUint(g.confRev)),
		boolean(0x89, false),
		cellBER(0x8a, cellBERUint(4)),
		all)
}

// cellEmitGOOSE emits a raw GOOSE frame from src.
func (s *sim) cellEmitGOOSE(t time.Duration, src *node, srcMAC net.HardwareAddr, cfg cellIEDConfig, g cellGOOSEPDU) {
	f := &frame{at: t, src: src, raw: cellGOOSEFrame(cfg.dst, srcMAC, cfg.appID, g.bytes()), mark: cellMarkGOOSE}
	if g.sqNum == 0 {
		f.sub = 1
	}
	s.emit(f)
}

// nextRetransmission returns the time to the next frame after one sent
// retrans after the last change: it doubles from 4 ms up to the
// heartbeat (IEC 61850-8-1 clause 18.1).
func (ied *cellIED) nextRetransmission() time.Duration {
	return min(ied.retrans*2, ied.heartbeat)
}

// publish sends the current state and schedules the next retransmission.
func (ied *cellIED) publish() {
	s := ied.s
	next := ied.nextRetransmission()
	s.cellEmitGOOSE(s.now, ied.n, ied.n.MAC, ied.cfg, cellGOOSEPDU{gocbRef: ied.cfg.gocbRef, datSet: ied.cfg.datSet, goID: ied.cfg.goID,
		ttl: uint32(2 * next / time.Millisecond), t: ied.changed, stNum: ied.stNum, sqNum: ied.sqNum, confRev: ied.confRev,
		flag: ied.flag, pos: ied.pos})
	ied.sqNum++
	ied.retrans = next
	gen := ied.gen
	s.at(s.now+next, func() {
		if gen == ied.gen {
			ied.publish()
		}
	})
}

// change changes the state: stNum up by one, sqNum back to 0, fast
// retransmissions.
func (ied *cellIED) change() {
	ied.gen++
	ied.stNum++
	ied.sqNum = 0
	ied.retrans = 2 * time.Millisecond
	ied.changed = ied.s.start.Add(ied.s.now)
	ied.flag = !ied.flag
	if ied.flag {
		ied.pos = 1
	} else {
		ied.pos = 2
	}
	ied.publish()
	if ied.onChange != nil {
		ied.onChange(ied.s.now)
	}
}

// changeLoop changes the relay's state every two minutes or so.
func (ied *cellIED) changeLoop() {
	ied.change()
	ied.s.at(ied.s.now+between(ied.rng, 90*time.Second, 150*time.Second), ied.changeLoop)
}

// MMS over ISO-on-TCP (IEC 61850-8-1): TPKT, COTP class 0, ISO session
// (X.225), presentation (X.226), ACSE (X.227) and MMS (ISO 9506-2).
const (
	cellMMSTSAP     = 0x0001
	cellMMSRequest  = 1
	cellMMSResponse = 2
	cellMMSInitiate = 3

	cellMMSIdentify = 2 // confirmed service tags
	cellMMSRead     = 4
)

// Object identifiers, BER-encoded contents.
var (
	cellOIDACSE    = []byte{0x52, 0x01, 0x00, 0x01}       // 2.2.1.0.1 ACSE abstract syntax
	cellOIDMMS     = []byte{0x28, 0xca, 0x22, 0x02, 0x01} // 1.0.9506.2.1 MMS abstract syntax
	cellOIDBER     = []byte{0x51, 0x01}                   // 2.1.1 basic encoding
	cellOIDMMSCtx  = []byte{0x28, 0xca, 0x22, 0x02, 0x03} // 1.0.9506.2.3 MMS application context
	cellOIDAPTitle = []byte{0x29, 0x01, 0x87, 0x67, 0x01} // 1.1.1.999.1
)

// cellMMSServices is the services-supported bit string both sides
// announce in initiate (ISO 9506-2 clause 8.2): read, write, identify,
// get name list and the other services of an IEC 61850 server.
var cellMMSServices = []byte{0x03, 0xee, 0x1c, 0x00, 0x00, 0x04, 0x08, 0x00, 0x00, 0x79, 0xef, 0x18}

// cellMMSInit returns an initiate-RequestPDU [8] or initiate-ResponsePDU
// [9]: local detail, outstanding requests, nesting level and the detail
// (version 1, parameter CBB, services supported).
func cellMMSInit(tag byte) []byte {
	return cellBER(tag,
		cellBER(0x80, []byte{0x00, 0xfd, 0xe8}),
		cellBER(0x81, []byte{5}),
		cellBER(0x82, []byte{5}),
		cellBER(0x83, []byte{10}),
		cellBER(0xa4,
			cellBER(0x80, []byte{1}),
			cellBER(0x81, []byte{0x05, 0xf1, 0x00}),
			cellBER(0x82, cellMMSServices)))
}

// cellSessionParams returns the session parameters of CONNECT and ACCEPT
// (X.225 clause 8.3): connect/accept item (protocol options, version 2),
// session requirement (duplex) and the session selectors.
func cellSessionParams(selectors ...byte) []byte {
	b := []byte{0x05, 0x06, 0x13, 0x01, 0x00, 0x16, 0x01, 0x02, 0x14, 0x02, 0x00, 0x02}
	for _, pi := range selectors {
		b = append(b, pi, 2, 0, 1)
	}
	return b
}

// cellSPDU returns an SPDU: SI, LI (one octet, or 0xff and two) and the
// parameters, the last of them user data (PGI 193).
func cellSPDU(si byte, params, user []byte) []byte {
	ud := []byte{0xc1}
	ud = cellSPDULen(ud, len(user))
	ud = append(ud, user...)
	b := []byte{si}
	b = cellSPDULen(b, len(params)+len(ud))
	return append(append(b, params...), ud...)
}

func cellSPDULen(b []byte, n int) []byte {
	if n < 255 {
		return append(b, byte(n))
	}
	return append(b, 0xff, byte(n>>8), byte(n))
}

// cellPresData returns presentation fully encoded data (X.226 clause
// 8.4.2): one PDV list with the context id and a single ASN.1 value.
func cellPresData(ctx byte, v []byte) []byte {
	return cellBER(0x61, cellBER(0x30, cellBER(0x02, []byte{ctx}), cellBER(0xa0, v)))
}

// cellMMSConnect returns the CONNECT SPDU of an MMS association: CP-type
// (presentation selectors 1, the ACSE and MMS contexts) carrying an AARQ
// with the MMS initiate request.
func cellMMSConnect() []byte {
	aarq := cellBER(0x60,
		cellBER(0xa1, cellBER(0x06, cellOIDMMSCtx)),
		cellBER(0xa2, cellBER(0x06, cellOIDAPTitle)),
		cellBER(0xa3, cellBER(0x02, []byte{12})),
		cellBER(0xa6, cellBER(0x06, cellOIDAPTitle[:4])),
		cellBER(0xa7, cellBER(0x02, []byte{12})),
		cellBER(0xbe, cellBER(0x28, cellBER(0x02, []byte{3}), cellBER(0xa0, cellMMSInit(0xa8)))))
	ctxList := cellBER(0xa4,
		cellBER(0x30, cellBER(0x02, []byte{1}), cellBER(0x06, cellOIDACSE), cellBER(0x30, cellBER(0x06, cellOIDBER))),
		cellBER(0x30, cellBER(0x02, []byte{3}), cellBER(0x06, cellOIDMMS), cellBER(0x30, cellBER(0x06, cellOIDBER))))
	cp := cellBER(0x31,
		cellBER(0xa0, cellBER(0x80, []byte{1})),
		cellBER(0xa2,
			cellBER(0x81, []byte{0, 0, 0, 1}),
			cellBER(0x82, []byte{0, 0, 0, 1}),
			ctxList,
			cellPresData(1, aarq)))
	return cellSPDU(0x0d, cellSessionParams(0x33, 0x34), cp)
}

// cellMMSAccept returns the ACCEPT SPDU: CPA-PPDU (both contexts
// accepted) carrying an AARE (accepted) with the initiate response.
func cellMMSAccept() []byte {
	aare := cellBER(0x61,
		cellBER(0xa1, cellBER(0x06, cellOIDMMSCtx)),
		cellBER(0xa2, cellBER(0x02, []byte{0})),
		cellBER(0xa3, cellBER(0xa1, cellBER(0x02, []byte{0}))),
		cellBER(0xa4, cellBER(0x06, cellOIDAPTitle)),
		cellBER(0xa5, cellBER(0x02, []byte{12})),
		cellBER(0xbe, cellBER(0x28, cellBER(0x02, []byte{3}), cellBER(0xa0, cellMMSInit(0xa9)))))
	result := func() []byte { return cellBER(0x30, cellBER(0x80, []byte{0}), cellBER(0x81, cellOIDBER)) }
	cpa := cellBER(0x31,
		cellBER(0xa0, cellBER(0x80, []byte{1})),
		cellBER(0xa2,
			cellBER(0x83, []byte{0, 0, 0, 1}),
			cellBER(0xa5, result(), result()),
			cellPresData(1, aare)))
	return cellSPDU(0x0e, cellSessionParams(0x34), cpa)
}

// cellMMSData returns a data TPDU carrying an MMS PDU: COTP DT (last
// unit), session GIVE TOKENS and DATA TRANSFER, presentation data of the
// MMS context (3).
func cellMMSData(pdu []byte) []byte {
	b := []byte{0x02, 0xf0, 0x80, 0x01, 0x00, 0x01, 0x00}
	return tpkt(append(b, cellPresData(3, pdu)...))
}

// cellMMSConfirmed returns a confirmed-RequestPDU [0] or -ResponsePDU [1]
// with its invoke id and service element.
func cellMMSConfirmed(tag byte, invoke uint32, service []byte) []byte {
	return cellBER(tag, cellBER(0x02, cellBERUint(invoke)), service)
}

// cellMMSVar is an IEC 61850 data attribute as an MMS domain-specific
// variable.
type cellMMSVar struct{ domain, item string }

// cellMMSReadRequest returns a Read-Request [4]: a list of variables,
// each named domain-specific.
func cellMMSReadRequest(vars []cellMMSVar) []byte {
	var list [][]byte
	for _, v := range vars {
		list = append(list, cellBER(0x30, cellBER(0xa0, cellBER(0xa1, cellBER(0x1a, []byte(v.domain)), cellBER(0x1a, []byte(v.item))))))
	}
	return cellBER(0xa4, cellBER(0xa1, cellBER(0xa0, list...)))
}

// cellMMSClient is the SCADA front end's MMS association with a relay:
// identify once, then read a few data attributes every period.
type cellMMSClient struct {
	s      *sim
	rng    *rand.Rand
	cli    *node
	ied    *cellIED
	c      *conn
	invoke uint32
	period time.Duration
	stop   time.Duration
}

// cellMMSVars are the data attributes the client reads.
var cellMMSVars = []cellMMSVar{
	{"AA1J1Q01A1LD0", "LLN0$ST$Mod$stVal"},
	{"AA1J1Q01A1LD0", "CMMXU1$MX$A$phsA$cVal$mag$f"},
	{"AA1J1Q01A1LD0", "CMMXU1$MX$A$phsB$cVal$mag$f"},
	{"AA1J1Q01A1LD0", "CMMXU1$MX$A$phsC$cVal$mag$f"},
	{"AA1J1Q01A1LD0", "XCBR1$ST$Pos$stVal"},
}

func (m *cellMMSClient) delay() time.Duration {
	return between(m.rng, 2*time.Millisecond, 12*time.Millisecond)
}

// exchange sends one MMS request and the relay's response and returns
// the time of the response.
func (m *cellMMSClient) exchange(t time.Duration, service uint8, req, resp []byte) time.Duration {
	m.invoke++
	cellData(m.c, t, true, cellMMSData(cellMMSConfirmed(0xa0, m.invoke, req)), cellMarkMMS, service, cellMMSRequest, 0)
	t += m.delay()
	cellData(m.c, t, false, cellMMSData(cellMMSConfirmed(0xa1, m.invoke, resp)), cellMarkMMS, service, cellMMSResponse, 0)
	return t
}

// connect opens the association: TCP, COTP connection (TSAPs 0x0001),
// session CONNECT and ACCEPT with the presentation and ACSE PDUs and the
// MMS initiate, then identify.
func (m *cellMMSClient) connect() {
	s, rng := m.s, m.rng
	m.c = cellConn(s, rng, m.cli, m.ied.n, s7Port)
	t := m.c.handshake(s.now)
	t += between(rng, 1*time.Millisecond, 5*time.Millisecond)
	ref := uint16(rng.Uint32()) | 1
	m.c.send(t, true, flagPSH|flagACK, tpkt(cotpConnect(0xe0, 0, ref, cellMMSTSAP, cellMMSTSAP)), nil)
	t += m.delay()
	m.c.send(t, false, flagPSH|flagACK, tpkt(cotpConnect(0xd0, ref, uint16(rng.Uint32())|1, cellMMSTSAP, cellMMSTSAP)), nil)
	t += between(rng, 1*time.Millisecond, 3*time.Millisecond)
	dt := []byte{0x02, 0xf0, 0x80}
	cellData(m.c, t, true, tpkt(append(append([]byte(nil), dt...), cellMMSConnect()...)), cellMarkMMS, 0, cellMMSInitiate, 0)
	t += m.delay()
	m.c.send(t, false, flagPSH|flagACK, tpkt(append(append([]byte(nil), dt...), cellMMSAccept()...)), nil)
	t += between(rng, 1*time.Millisecond, 5*time.Millisecond)
	id := m.ied.n.Identity
	t = m.exchange(t, cellMMSIdentify, cellBER(0x82), cellBER(0xa2,
		cellBER(0x80, []byte(id.Vendor)), cellBER(0x81, []byte(id.Product)), cellBER(0x82, []byte(id.Firmware))))
	t = cellAck(m.c, t, true)
	s.at(t+between(rng, 200*time.Millisecond, 1*time.Second), m.poll)
}

// poll reads the data attributes: mode (integer), phase currents
// (floating point) and breaker position (bit string).
func (m *cellMMSClient) poll() {
	s, rng := m.s, m.rng
	if s.now >= m.stop {
		m.c.close(s.now)
		return
	}
	float := func(v float64) []byte {
		return cellBER(0x87, append([]byte{8}, binary.BigEndian.AppendUint32(nil, math.Float32bits(float32(v)))...))
	}
	data := [][]byte{cellBER(0x85, []byte{1})}
	for i := range 3 {
		v := 0.0
		if m.ied.pos == 2 {
			v = 410 + 12*rng.Float64() - 4*float64(i)
		}
		data = append(data, float(math.Round(v*10)/10))
	}
	data = append(data, cellBER(0x84, []byte{0x06, m.ied.pos << 6}))
	t := m.exchange(s.now, cellMMSRead, cellMMSReadRequest(cellMMSVars), cellBER(0xa4, cellBER(0xa1, data...)))
	t = cellAck(m.c, t, true)
	next := max(s.now+jitter(rng, m.period, m.period/40), t+time.Millisecond)
	if next > m.stop {
		next = max(m.stop, t+time.Millisecond)
	}
	s.at(next, m.poll)
}

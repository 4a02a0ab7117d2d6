package simulate

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Cells are optional parts of the plant that Options.Cells adds: a
// building automation network, an electrical substation and an OPC UA
// server. Each has its own hosts and periodic traffic, and repeats every
// kind of exchange within the first minutes, so that a sensor that learns
// on the first half of a capture has seen all of it.
const (
	// CellBuilding is a BACnet/IP network (10.10.3.0/24): a BMS
	// workstation polls three building controllers.
	CellBuilding = "building"
	// CellSubstation is a substation (10.10.4.0/24): a SCADA front end on
	// the control network talks IEC 60870-5-104 to the substation gateway
	// and MMS to a protection relay; two relays publish GOOSE.
	CellSubstation = "substation"
	// CellOPCUA is an OPC UA server on the field network read by hmi02
	// and the historian.
	CellOPCUA = "opcua"
	// CellAll names every cell.
	CellAll = "all"
)

// Cells returns the cell names Options.Cells takes (besides CellAll), in
// a fixed order.
func Cells() []string { return []string{CellBuilding, CellSubstation, CellOPCUA} }

// The roles of the cells' hosts.
const (
	RoleBMS                Role = "bms-workstation"
	RoleBuildingController Role = "building-controller"
	RoleSCADA              Role = "scada-server"
	RoleIED                Role = "ied"
)

// The cells' subnets; each is joined to the others by the plant's router.
var (
	cellBuildingNet   = netip.MustParsePrefix("10.10.3.0/24")
	cellSubstationNet = netip.MustParsePrefix("10.10.4.0/24")
)

// cellEnabled returns the cells to simulate: those named in cells (CellAll
// for every one) and those the scenarios need (cellScenarioCell). An
// unknown name is an error; a name given twice counts once.
func cellEnabled(cells, scenarios []string) (map[string]bool, error) {
	on := map[string]bool{}
	for _, c := range cells {
		switch {
		case c == CellAll:
			for _, n := range Cells() {
				on[n] = true
			}
		case slices.Contains(Cells(), c):
			on[c] = true
		default:
			return nil, fmt.Errorf("simulate: unknown cell %q (want one of %v or %q)", c, Cells(), CellAll)
		}
	}
	for _, sc := range scenarios {
		if c, ok := cellScenarioCell[sc]; ok {
			on[c] = true
		}
	}
	return on, nil
}

// cellPlant holds the state of the enabled cells (nil members for the
// others), for the scenarios that act on them.
type cellPlant struct {
	bms *cellBMS        // building
	sub *cellSubstation // substation
	ua  *cellUAServer   // opcua
}

// cellSchedule adds the enabled cells' hosts to the plant and schedules
// their traffic. Their random streams are numbered from 500, so that the
// plant's own traffic draws what it drew without them.
func (s *sim) cellSchedule(p *plant, o *Options, streams func(uint64) *rand.Rand) {
	s.sum.BACnet = BACnetCounts{Confirmed: map[uint8]int{}, Unconfirmed: map[uint8]int{}, SimpleACK: map[uint8]int{}, ComplexACK: map[uint8]int{}}
	s.sum.IEC104 = IEC104Counts{ASDUs: map[uint8]int{}, UFrames: map[uint8]int{}}
	s.sum.MMS = MMSCounts{Requests: map[uint8]int{}, Responses: map[uint8]int{}}
	s.sum.OPCUA = OPCUACounts{Messages: map[string]int{}, Requests: map[uint16]int{}, Responses: map[uint16]int{}}
	on, err := cellEnabled(o.Cells, o.Scenarios)
	if err != nil || len(on) == 0 {
		return
	}
	p.cells = &cellPlant{}
	if on[CellBuilding] {
		p.cells.bms = s.cellBuilding(p, streams)
	}
	if on[CellSubstation] {
		p.cells.sub = s.cellSubstation(p, streams)
	}
	if on[CellOPCUA] {
		p.cells.ua = s.cellOPCUA(p, streams)
	}
}

// cellRouter adds the router's interface on subnet (the router's one MAC,
// address .1).
func cellRouter(p *plant, name string, subnet netip.Prefix, rng *rand.Rand) *node {
	a := subnet.Addr().As4()
	a[3] = 1
	return p.add(hostSpec{Host: Host{name, RoleRouter, "Cisco Systems, Inc", routerMAC, netip.AddrFrom4(a), subnet, 255, Identity{}},
		stack: stackRouter, window: 4128, synWindow: 4128}, rng)
}

// cellResolve has the router resolve n (a host that routed traffic
// reaches) or n resolve its gateway, early in the capture, and n refresh
// its gateway entry from then on.
func (s *sim) cellResolve(n *node, byRouter bool, rng *rand.Rand) {
	t := between(rng, 20*time.Millisecond, 200*time.Millisecond)
	s.at(t, func() {
		if byRouter {
			s.arpExchange(t, n.gw, n, false, serverDelay(rng, n))
		} else {
			s.arpExchange(t, n, n.gw, false, serverDelay(rng, n.gw))
		}
	})
	s.refreshARP(n, t, rng)
}

// cellStop returns the time a cell's sessions end, shortly before the
// capture does.
func (s *sim) cellStop(rng *rand.Rand) time.Duration {
	return s.end - between(rng, 1500*time.Millisecond, 2500*time.Millisecond)
}

// cellLine runs the exchanges of one TCP connection one after another:
// an exchange starts when the previous one has sent its last segment, so
// that the connection's segments are emitted in time order whatever task
// asks for them.
type cellLine struct {
	s    *sim
	free time.Duration
}

// do runs fn at t, or when the connection is free if it is busy then; fn
// gets its start time and returns the time of its last segment.
func (l *cellLine) do(t time.Duration, fn func(t time.Duration) time.Duration) {
	l.s.at(t, func() {
		if l.free > l.s.now {
			l.do(l.free, fn)
			return
		}
		l.free = fn(l.s.now)
	})
}

// cellConn opens a TCP connection like newConn; a Linux host's IPv4 id
// counter for the flow starts at a value from rng, not from the capture's
// shared stream.
func cellConn(s *sim, rng *rand.Rand, cli, srv *node, port uint16) *conn {
	c := newConn(s, rng, cli, srv, port)
	seed := func(n *node, dst netip.Addr, sp, dp uint16) {
		k := flowKey{dst: dst, proto: layers.IPProtocolTCP, sport: sp, dport: dp}
		if _, ok := n.flowIDs[k]; !ok && n.stack == stackLinux {
			n.flowIDs[k] = uint16(rng.Uint32())
		}
	}
	seed(cli, srv.IP, c.cport, c.sport)
	seed(srv, cli.IP, c.sport, c.cport)
	return c
}

// cellData sends one data segment and returns its frame, marked.
func cellData(c *conn, t time.Duration, fromClient bool, data []byte, m mark, fc, sub uint8, cmd uint16) *frame {
	f := c.send(t, fromClient, flagPSH|flagACK, data, nil)
	f.mark, f.fc, f.sub, f.cmd = m, fc, sub, cmd
	return f
}

// cellAck sends the delayed ACK of the side that received the last data
// and returns its time.
func cellAck(c *conn, t time.Duration, fromClient bool) time.Duration {
	n := c.srv
	if fromClient {
		n = c.cli
	}
	t += delayedACK(c.rng, n)
	c.send(t, fromClient, flagACK, nil, nil)
	return t
}

// Marks of the cells' frames, counted by cellCount.
const (
	cellMarkBACnet  mark = 200 + iota // fc: APDU type, sub: service choice
	cellMarkIEC104I                   // fc: ASDU type id
	cellMarkIEC104S                   // an S-format APDU
	cellMarkIEC104U                   // fc: the U-format control octet
	cellMarkGOOSE                     // sub: 1 when sqNum is 0
	cellMarkMMS                       // fc: confirmed service, sub: cellMMSRequest, cellMMSResponse or cellMMSInitiate
	cellMarkOPCUA                     // fc: message type index, cmd: service encoding id, sub: 1 request, 2 response
)

// BACnetCounts counts the BACnet/IP APDUs of a capture by type and service
// choice (ANSI/ASHRAE 135 clause 21).
type BACnetCounts struct {
	Confirmed   map[uint8]int // BACnet-Confirmed-Request-PDUs by service choice
	Unconfirmed map[uint8]int // BACnet-Unconfirmed-Request-PDUs by service choice
	SimpleACK   map[uint8]int // BACnet-SimpleACK-PDUs by service choice
	ComplexACK  map[uint8]int // BACnet-ComplexACK-PDUs by service choice
}

// IEC104Counts counts the IEC 60870-5-104 APDUs of a capture.
type IEC104Counts struct {
	ASDUs   map[uint8]int // I-format APDUs by ASDU type id, both directions
	UFrames map[uint8]int // U-format APDUs by control octet (0x07 STARTDT act, 0x0b con, 0x43 TESTFR act, ...)
	SFrames int           // S-format APDUs
}

// GOOSECounts counts the IEC 61850 GOOSE frames of a capture.
type GOOSECounts struct {
	Frames       int // GOOSE frames
	StateChanges int // frames with sqNum 0: the first of a new state
}

// MMSCounts counts the MMS PDUs of a capture by confirmed service (the
// ConfirmedServiceRequest and -Response tags of ISO 9506-2).
type MMSCounts struct {
	Initiates int           // initiate-RequestPDUs (each answered by an initiate-ResponsePDU)
	Requests  map[uint8]int // confirmed-RequestPDUs by service
	Responses map[uint8]int // confirmed-ResponsePDUs by service
}

// OPCUACounts counts the OPC UA binary messages of a capture.
type OPCUACounts struct {
	Messages  map[string]int // messages by type: HEL, ACK, OPN, MSG, CLO
	Requests  map[uint16]int // service requests by binary encoding id (631 Read, ...), OPN and CLO included
	Responses map[uint16]int // service responses by binary encoding id
}

// cellUATypes are the message types of cellMarkOPCUA frames, by index.
var cellUATypes = [...]string{"HEL", "ACK", "OPN", "MSG", "CLO"}

// cellCount counts a frame of a cell in Summary.
func (s *sim) cellCount(f *frame) {
	sum := s.sum
	switch f.mark {
	case cellMarkBACnet:
		switch f.fc {
		case cellBACConfirmed:
			sum.BACnet.Confirmed[f.sub]++
		case cellBACUnconfirmed:
			sum.BACnet.Unconfirmed[f.sub]++
		case cellBACSimpleACK:
			sum.BACnet.SimpleACK[f.sub]++
		case cellBACComplexACK:
			sum.BACnet.ComplexACK[f.sub]++
		}
	case cellMarkIEC104I:
		sum.IEC104.ASDUs[f.fc]++
	case cellMarkIEC104S:
		sum.IEC104.SFrames++
	case cellMarkIEC104U:
		sum.IEC104.UFrames[f.fc]++
	case cellMarkGOOSE:
		sum.GOOSE.Frames++
		if f.sub == 1 {
			sum.GOOSE.StateChanges++
		}
	case cellMarkMMS:
		switch f.sub {
		case cellMMSInitiate:
			sum.MMS.Initiates++
		case cellMMSRequest:
			sum.MMS.Requests[f.fc]++
		case cellMMSResponse:
			sum.MMS.Responses[f.fc]++
		}
	case cellMarkOPCUA:
		sum.OPCUA.Messages[cellUATypes[f.fc]]++
		switch f.sub {
		case 1:
			sum.OPCUA.Requests[f.cmd]++
		case 2:
			sum.OPCUA.Responses[f.cmd]++
		}
	}
}

// BACnet/IP (ANSI/ASHRAE 135-2020): Annex J (BVLL), clause 6 (NPDU),
// clause 20 (APDU and tag encoding), clauses 13 to 16 (services).
const (
	cellBACPort = 47808

	cellBVLCUnicast   = 0x0a // Original-Unicast-NPDU
	cellBVLCBroadcast = 0x0b // Original-Broadcast-NPDU

	cellBACConfirmed   = 0 // APDU types
	cellBACUnconfirmed = 1
	cellBACSimpleACK   = 2
	cellBACComplexACK  = 3

	cellBACSubscribeCOV        = 5 // confirmed services
	cellBACReadPropertyService = 12
	cellBACReadPropMulti       = 14
	cellBACWriteProperty       = 15
	cellBACDCC                 = 17

	cellBACIAm          = 0 // unconfirmed services
	cellBACCOVNotify    = 2
	cellBACWhoIs        = 8
	cellBACObjAI        = 0 // object types
	cellBACObjAV        = 2
	cellBACObjBI        = 3
	cellBACObjBO        = 4
	cellBACObjDevice    = 8
	cellBACPropPV       = 85 // property identifiers
	cellBACPropStatus   = 111
	cellBACPropName     = 77
	cellBACPropVendor   = 121
	cellBACPropVendorID = 120
	cellBACPropModel    = 70
	cellBACPropFirmware = 44
	cellBACPropAppSW    = 12

	cellBACMaxAPDU        = 1476
	cellBACNoSegmentation = 3   // segmentation supported: none
	cellBACCOVLife        = 300 // seconds a COV subscription lasts
	cellBACCOVRenew       = 240 * time.Second
	cellBACPollEvery      = 10 * time.Second
)

// cellBACTag appends a tag (clause 20.2.1) and its content: number,
// class (context or application) and length; lengths up to 253 octets.
func cellBACTag(b []byte, num uint8, context bool, v []byte) []byte {
	t := num << 4
	if context {
		t |= 0x08
	}
	if len(v) <= 4 {
		b = append(b, t|uint8(len(v)))
	} else {
		b = append(b, t|5, uint8(len(v)))
	}
	return append(b, v...)
}

// cellBACUint returns an unsigned value in the fewest octets (20.2.4).
func cellBACUint(v uint32) []byte {
	switch {
	case v < 1<<8:
		return []byte{byte(v)}
	case v < 1<<16:
		return be16(nil, uint16(v))
	case v < 1<<24:
		return []byte{byte(v >> 16), byte(v >> 8), byte(v)}
	}
	return be32(nil, v)
}

// cellBACObject returns an object identifier (20.2.14): type in the top
// 10 bits, instance in the low 22.
func cellBACObject(typ uint16, inst uint32) []byte {
	return be32(nil, uint32(typ)<<22|inst&0x3fffff)
}

func cellBACReal(v float64) []byte { return be32(nil, math.Float32bits(float32(v))) }

// cellBACString returns a character string's content: character set 0
// (ISO 10646 UTF-8) and the octets.
func cellBACString(s string) []byte { return append([]byte{0}, s...) }

// cellBACOpen and cellBACClose append an opening or closing context tag.
func cellBACOpen(b []byte, num uint8) []byte  { return append(b, num<<4|0x0e) }
func cellBACClose(b []byte, num uint8) []byte { return append(b, num<<4|0x0f) }

// cellBACValue is an application-tagged property value.
type cellBACValue []byte

func cellBACRealValue(v float64) cellBACValue { return cellBACTag(nil, 4, false, cellBACReal(v)) }
func cellBACEnum(v uint32) cellBACValue       { return cellBACTag(nil, 9, false, cellBACUint(v)) }
func cellBACUnsignedValue(v uint32) cellBACValue {
	return cellBACTag(nil, 2, false, cellBACUint(v))
}
func cellBACStringValue(s string) cellBACValue { return cellBACTag(nil, 7, false, cellBACString(s)) }

// cellBACStatusOK is a status-flags bit string (in-alarm, fault,
// overridden, out-of-service) with no flag set: 4 unused bits.
var cellBACStatusOK = cellBACValue{0x82, 0x04, 0x00}

// cellBACObjectRef names an object of a device.
type cellBACObjectRef struct {
	typ  uint16
	inst uint32
}

// cellBACDevice is a BACnet controller of the building cell: a device
// object and a few points of an air-handling unit.
type cellBACDevice struct {
	n                *node
	rng              *rand.Rand
	instance         uint32
	vendorID         uint16
	vendor           string
	model, firmware  string
	software, name   string
	minDelay         time.Duration
	maxDelay         time.Duration
	ai               [3]float64 // supply air °C, return air °C, duct static pressure Pa
	setpoint         float64    // AV1, supply air setpoint °C
	fan              bool       // BI1 status and BO1 command of the supply fan
	covPID           uint32     // subscriber process of the COV subscription (0: none)
	covUntil         time.Duration
	covValue         float64 // AI1 value last notified
	silentUntil      time.Duration
	silentForever    bool
	resolvedByClient map[*node]bool
}

// silent says whether the device's communication is disabled at t
// (DeviceCommunicationControl, clause 16.1).
func (d *cellBACDevice) silent(t time.Duration) bool {
	return d.silentForever || t < d.silentUntil
}

func (d *cellBACDevice) delay() time.Duration { return between(d.rng, d.minDelay, d.maxDelay) }

// step moves the device's process values on by one poll period.
func (d *cellBACDevice) step() {
	r := d.rng
	d.ai[0] += (d.setpoint-d.ai[0])/4 + 0.3*(r.Float64()-0.5)
	d.ai[1] += (22.0-d.ai[1])/8 + 0.2*(r.Float64()-0.5)
	d.ai[2] += (250.0-d.ai[2])/5 + 6*(r.Float64()-0.5)
	if r.IntN(200) == 0 {
		d.fan = !d.fan
	}
}

func (d *cellBACDevice) value(o cellBACObjectRef, prop uint32) cellBACValue {
	if prop == cellBACPropStatus {
		return cellBACStatusOK
	}
	switch o.typ {
	case cellBACObjAI:
		return cellBACRealValue(math.Round(d.ai[o.inst-1]*100) / 100)
	case cellBACObjAV:
		return cellBACRealValue(d.setpoint)
	case cellBACObjBI, cellBACObjBO:
		if d.fan {
			return cellBACEnum(1)
		}
		return cellBACEnum(0)
	case cellBACObjDevice:
		switch prop {
		case cellBACPropName:
			return cellBACStringValue(d.name)
		case cellBACPropVendor:
			return cellBACStringValue(d.vendor)
		case cellBACPropVendorID:
			return cellBACUnsignedValue(uint32(d.vendorID))
		case cellBACPropModel:
			return cellBACStringValue(d.model)
		case cellBACPropFirmware:
			return cellBACStringValue(d.firmware)
		case cellBACPropAppSW:
			return cellBACStringValue(d.software)
		}
	}
	return cellBACEnum(0)
}

// cellBMS is the building management workstation: the BACnet client that
// discovers, polls, subscribes to and commands the controllers.
type cellBMS struct {
	s      *sim
	rng    *rand.Rand
	n      *node
	devs   []*cellBACDevice
	invoke uint8
	stop   time.Duration
}

// cellBuildingSpecs returns the building cell's hosts. OUIs checked
// against Wireshark's manuf file, vendor ids against the ASHRAE BACnet
// vendor id registry.
func cellBuildingSpecs() []hostSpec {
	return []hostSpec{
		{Host: Host{"bms01", RoleBMS, "Dell Inc.", mac("00:14:22:5e:a1:07"), ip("10.10.3.10"), cellBuildingNet, 128, Identity{}}, stack: stackWindows, df: true, arpEvery: 45},
		{Host: Host{"bac01", RoleBuildingController, "Johnson Controls, Inc.", mac("00:10:8d:2c:51:3a"), ip("10.10.3.21"), cellBuildingNet, 64,
			Identity{Vendor: "Johnson Controls, Inc.", Product: "FAC2611", Firmware: "10.1.0.31", Name: "AHU-01", VendorID: 5}},
			stack: stackEmbedded, arpEvery: 120},
		{Host: Host{"bac02", RoleBuildingController, "Delta Controls, Inc.", mac("00:40:ae:0b:7e:42"), ip("10.10.3.22"), cellBuildingNet, 255,
			Identity{Vendor: "Delta Controls", Product: "eBCON", Firmware: "4.40", Name: "AHU-02", VendorID: 8}},
			stack: stackEmbedded, arpEvery: 150},
		{Host: Host{"bac03", RoleBuildingController, "AutomatedLogic Corporation", mac("00:e0:c9:41:09:d6"), ip("10.10.3.23"), cellBuildingNet, 64,
			Identity{Vendor: "Automated Logic Corporation", Product: "OF683-E2", Firmware: "drv_fwex_101-01-2070", Name: "CHW-PLANT", VendorID: 24}},
			stack: stackEmbedded, arpEvery: 90},
	}
}

// cellBACInstances are the controllers' device instances.
var cellBACInstances = map[string]uint32{"bac01": 100021, "bac02": 100022, "bac03": 100023}

// cellBuilding adds the building network, its workstation and
// controllers, and starts the workstation.
func (s *sim) cellBuilding(p *plant, streams func(uint64) *rand.Rand) *cellBMS {
	rng := streams(500)
	cellRouter(p, "rtr01-bld", cellBuildingNet, rng)
	b := &cellBMS{s: s, rng: streams(501), stop: s.cellStop(rng)}
	for i, spec := range cellBuildingSpecs() {
		n := p.add(spec, rng)
		s.cellResolve(n, false, streams(510+uint64(i)))
		if n.Role == RoleBMS {
			b.n = n
			continue
		}
		drng := streams(502 + uint64(i))
		d := &cellBACDevice{n: n, rng: drng, instance: cellBACInstances[n.Name], vendorID: n.Identity.VendorID,
			vendor: n.Identity.Vendor, model: n.Identity.Product, firmware: n.Identity.Firmware,
			software: fmt.Sprintf("AHU v%d.%d", 2+drng.IntN(3), drng.IntN(10)), name: n.Identity.Name,
			minDelay: 3 * time.Millisecond, maxDelay: 25 * time.Millisecond, resolvedByClient: map[*node]bool{}}
		d.setpoint = 13 + float64(drng.IntN(5))/2
		d.ai = [3]float64{d.setpoint + drng.Float64(), 21 + drng.Float64()*2, 240 + drng.Float64()*20}
		d.fan = true
		b.devs = append(b.devs, d)
	}
	b.invoke = uint8(b.rng.IntN(256))
	s.at(between(b.rng, 800*time.Millisecond, 1500*time.Millisecond), b.start)
	return b
}

// cellBACFrame emits a BACnet/IP message from one host to another (or, if
// to is nil, to from's subnet broadcast): BVLC, NPDU and APDU, UDP
// 47808 to 47808.
func (s *sim) cellBACFrame(t time.Duration, from, to *node, apdu []byte, expectReply bool) *frame {
	npdu := []byte{0x01, 0x00}
	if expectReply {
		npdu[1] = 0x04
	}
	fn := byte(cellBVLCUnicast)
	var dst netip.Addr
	dmac := broadcastMAC
	if to == nil {
		// a global broadcast: DNET 65535, DLEN 0, hop count 255
		npdu = []byte{0x01, 0x20, 0xff, 0xff, 0x00, 0xff}
		fn = cellBVLCBroadcast
		a := from.Subnet.Addr().As4()
		bits := from.Subnet.Bits()
		v := binary.BigEndian.Uint32(a[:]) | (1<<(32-bits) - 1)
		binary.BigEndian.PutUint32(a[:], v)
		dst = netip.AddrFrom4(a)
	} else {
		dst = to.IP
		dmac = from.nextHop(to)
	}
	msg := []byte{0x81, fn}
	msg = be16(msg, uint16(4+len(npdu)+len(apdu)))
	msg = append(msg, npdu...)
	msg = append(msg, apdu...)
	f := &frame{at: t, src: from, ethSrc: from.MAC, ethDst: dmac, ip: from.ipv4(dst, layers.IPProtocolUDP),
		udp: &layers.UDP{SrcPort: cellBACPort, DstPort: cellBACPort}, data: msg, mark: cellMarkBACnet}
	f.fc = apdu[0] >> 4
	switch f.fc {
	case cellBACConfirmed:
		f.sub = apdu[3]
	case cellBACUnconfirmed:
		f.sub = apdu[1]
	default:
		f.sub = apdu[2]
	}
	s.emit(f)
	return f
}

// cellBACRequest returns a confirmed request APDU (20.1.2): no
// segmentation, responses up to 1476 octets.
func cellBACRequest(invoke, service uint8, body []byte) []byte {
	return append([]byte{cellBACConfirmed << 4, 0x05, invoke, service}, body...)
}

func cellBACSimple(invoke, service uint8) []byte {
	return []byte{cellBACSimpleACK << 4, invoke, service}
}

func cellBACComplex(invoke, service uint8, body []byte) []byte {
	return append([]byte{cellBACComplexACK << 4, invoke, service}, body...)
}

// cellBACConfirm emits a confirmed request from cli to d and, unless d's
// communication is disabled, d's answer; it returns the time of the last
// message. cli resolves d's address first if it never did.
func (s *sim) cellBACConfirm(t time.Duration, cli *node, d *cellBACDevice, rng *rand.Rand, invoke, service uint8, req, ack []byte, complex bool) time.Duration {
	if !d.resolvedByClient[cli] && cli.Subnet.Contains(d.n.IP) {
		d.resolvedByClient[cli] = true
		t = s.arpExchange(t, cli, d.n, false, serverDelay(rng, d.n)) + between(rng, 100*time.Microsecond, 400*time.Microsecond)
	}
	s.cellBACFrame(t, cli, d.n, cellBACRequest(invoke, service, req), true)
	if d.silent(t) && service != cellBACDCC {
		return t
	}
	t += d.delay()
	if complex {
		s.cellBACFrame(t, d.n, cli, cellBACComplex(invoke, service, ack), false)
	} else {
		s.cellBACFrame(t, d.n, cli, cellBACSimple(invoke, service), false)
	}
	return t
}

func (b *cellBMS) nextInvoke() uint8 {
	b.invoke++
	return b.invoke
}

// start has the workstation discover the controllers, read their
// identity, subscribe to their supply air temperature and begin polling.
func (b *cellBMS) start() {
	s, rng := b.s, b.rng
	t := b.whoIs(s.now)
	gap := func() time.Duration { return between(rng, 20*time.Millisecond, 120*time.Millisecond) }
	t += between(rng, 300*time.Millisecond, 800*time.Millisecond)
	for _, d := range b.devs {
		t = b.readIdentity(t, d) + gap()
	}
	for _, d := range b.devs {
		t = b.subscribe(t, d) + gap()
	}
	s.at(t+between(rng, 1*time.Second, 3*time.Second), b.poll)
	s.at(between(rng, 4*time.Minute, 6*time.Minute), b.rediscover)
	s.at(t+between(rng, 30*time.Second, 60*time.Second), b.write)
	s.at(t+cellBACCOVRenew, b.renew)
	for _, d := range b.devs {
		s.at(t+between(d.rng, 5*time.Second, 20*time.Second), func() { b.notifyLoop(d) })
	}
}

// whoIs broadcasts a Who-Is without a range; every controller answers
// with a broadcast I-Am. It returns the time of the last I-Am.
func (b *cellBMS) whoIs(t time.Duration) time.Duration {
	s := b.s
	s.cellBACFrame(t, b.n, nil, []byte{cellBACUnconfirmed << 4, cellBACWhoIs}, false)
	last := t
	for _, d := range b.devs {
		if d.silent(t) {
			continue
		}
		at := t + between(d.rng, 5*time.Millisecond, 300*time.Millisecond)
		s.cellBACFrame(at, d.n, nil, cellBACIAmAPDU(d.instance, cellBACMaxAPDU, cellBACNoSegmentation, d.vendorID), false)
		last = max(last, at)
	}
	return last
}

// cellBACIAmAPDU returns an I-Am (clause 16.10): device identifier, max
// APDU length accepted, segmentation supported and vendor id.
func cellBACIAmAPDU(instance, maxAPDU uint32, segmentation uint8, vendorID uint16) []byte {
	b := []byte{cellBACUnconfirmed << 4, cellBACIAm}
	b = cellBACTag(b, 12, false, cellBACObject(cellBACObjDevice, instance))
	b = cellBACTag(b, 2, false, cellBACUint(maxAPDU))
	b = cellBACTag(b, 9, false, []byte{segmentation})
	return cellBACTag(b, 2, false, cellBACUint(uint32(vendorID)))
}

// cellBACReadProperty returns ReadProperty request data (clause 15.5):
// object identifier and property identifier, context tags 0 and 1.
func cellBACReadProperty(o cellBACObjectRef, prop uint32) []byte {
	b := cellBACTag(nil, 0, true, cellBACObject(o.typ, o.inst))
	return cellBACTag(b, 1, true, cellBACUint(prop))
}

// cellBACReadPropertyAck returns the ReadProperty-ACK data: the request's
// and the value between opening and closing tags 3.
func cellBACReadPropertyAck(o cellBACObjectRef, prop uint32, v cellBACValue) []byte {
	b := cellBACOpen(cellBACReadProperty(o, prop), 3)
	return cellBACClose(append(b, v...), 3)
}

// cellBACRPMRequest returns ReadPropertyMultiple request data (15.7):
// per object, its identifier and a list of property references.
func cellBACRPMRequest(objs []cellBACObjectRef, props [][]uint32) []byte {
	var b []byte
	for i, o := range objs {
		b = cellBACTag(b, 0, true, cellBACObject(o.typ, o.inst))
		b = cellBACOpen(b, 1)
		for _, p := range props[i] {
			b = cellBACTag(b, 0, true, cellBACUint(p))
		}
		b = cellBACClose(b, 1)
	}
	return b
}

// rpmAck returns the ReadPropertyMultiple-ACK data (15.7) of d for
// the same objects and properties.
func (d *cellBACDevice) rpmAck(objs []cellBACObjectRef, props [][]uint32) []byte {
	var b []byte
	for i, o := range objs {
		b = cellBACTag(b, 0, true, cellBACObject(o.typ, o.inst))
		b = cellBACOpen(b, 1)
		for _, p := range props[i] {
			b = cellBACTag(b, 2, true, cellBACUint(p))
			b = cellBACOpen(b, 4)
			b = append(b, d.value(o, p)...)
			b = cellBACClose(b, 4)
		}
		b = cellBACClose(b, 1)
	}
	return b
}

// readIdentity reads the device object's name, vendor, model and
// firmware with ReadPropertyMultiple.
func (b *cellBMS) readIdentity(t time.Duration, d *cellBACDevice) time.Duration {
	objs := []cellBACObjectRef{{cellBACObjDevice, d.instance}}
	props := [][]uint32{{cellBACPropName, cellBACPropVendor, cellBACPropVendorID, cellBACPropModel, cellBACPropFirmware, cellBACPropAppSW}}
	return b.s.cellBACConfirm(t, b.n, d, b.rng, b.nextInvoke(), cellBACReadPropMulti, cellBACRPMRequest(objs, props), d.rpmAck(objs, props), true)
}

// subscribe subscribes to COV notifications of AI1 (SubscribeCOV, clause
// 13.14): process id, object, unconfirmed notifications, lifetime.
func (b *cellBMS) subscribe(t time.Duration, d *cellBACDevice) time.Duration {
	const pid = 7
	req := cellBACTag(nil, 0, true, cellBACUint(pid))
	req = cellBACTag(req, 1, true, cellBACObject(cellBACObjAI, 1))
	req = cellBACTag(req, 2, true, []byte{0})
	req = cellBACTag(req, 3, true, cellBACUint(cellBACCOVLife))
	end := b.s.cellBACConfirm(t, b.n, d, b.rng, b.nextInvoke(), cellBACSubscribeCOV, req, nil, false)
	if !d.silent(t) {
		d.covPID, d.covUntil = pid, end+cellBACCOVLife*time.Second
		// A new subscription is answered with a first notification
		// (clause 13.1).
		end += between(d.rng, 2*time.Millisecond, 20*time.Millisecond)
		b.s.cellBACFrame(end, d.n, b.n, d.covNotification(end), false)
	}
	return end
}

// covNotification returns an UnconfirmedCOVNotification (clause 13.7)
// of AI1: present value and status flags.
func (d *cellBACDevice) covNotification(t time.Duration) []byte {
	d.covValue = math.Round(d.ai[0]*100) / 100
	b := []byte{cellBACUnconfirmed << 4, cellBACCOVNotify}
	b = cellBACTag(b, 0, true, cellBACUint(d.covPID))
	b = cellBACTag(b, 1, true, cellBACObject(cellBACObjDevice, d.instance))
	b = cellBACTag(b, 2, true, cellBACObject(cellBACObjAI, 1))
	b = cellBACTag(b, 3, true, cellBACUint(uint32(max(0, (d.covUntil-t)/time.Second))))
	b = cellBACOpen(b, 4)
	b = cellBACTag(b, 0, true, cellBACUint(cellBACPropPV))
	b = cellBACOpen(b, 2)
	b = append(b, cellBACRealValue(d.covValue)...)
	b = cellBACClose(b, 2)
	b = cellBACTag(b, 0, true, cellBACUint(cellBACPropStatus))
	b = cellBACOpen(b, 2)
	b = append(b, cellBACStatusOK...)
	b = cellBACClose(b, 2)
	return cellBACClose(b, 4)
}

// notifyLoop has d notify its subscriber when AI1 moves by its COV
// increment (0.1 °C), checked every few seconds.
func (b *cellBMS) notifyLoop(d *cellBACDevice) {
	s := b.s
	if d.covPID != 0 && s.now < d.covUntil && !d.silent(s.now) && math.Abs(d.ai[0]-d.covValue) >= 0.1 {
		s.cellBACFrame(s.now, d.n, b.n, d.covNotification(s.now), false)
	}
	s.at(s.now+between(d.rng, 8*time.Second, 30*time.Second), func() { b.notifyLoop(d) })
}

// poll reads each controller every ten seconds: ReadPropertyMultiple of
// the analog inputs (value and status), the fan status and command, and
// ReadProperty of the setpoint.
func (b *cellBMS) poll() {
	s, rng := b.s, b.rng
	if s.now >= b.stop {
		return
	}
	t := s.now
	objs := []cellBACObjectRef{{cellBACObjAI, 1}, {cellBACObjAI, 2}, {cellBACObjAI, 3}, {cellBACObjBI, 1}, {cellBACObjBO, 1}}
	props := [][]uint32{{cellBACPropPV, cellBACPropStatus}, {cellBACPropPV, cellBACPropStatus}, {cellBACPropPV, cellBACPropStatus}, {cellBACPropPV}, {cellBACPropPV}}
	for _, d := range b.devs {
		d.step()
		t = s.cellBACConfirm(t, b.n, d, rng, b.nextInvoke(), cellBACReadPropMulti, cellBACRPMRequest(objs, props), d.rpmAck(objs, props), true)
		t += between(rng, 5*time.Millisecond, 40*time.Millisecond)
		av := cellBACObjectRef{cellBACObjAV, 1}
		t = s.cellBACConfirm(t, b.n, d, rng, b.nextInvoke(), cellBACReadPropertyService, cellBACReadProperty(av, cellBACPropPV),
			cellBACReadPropertyAck(av, cellBACPropPV, d.value(av, cellBACPropPV)), true)
		t += between(rng, 20*time.Millisecond, 150*time.Millisecond)
	}
	s.at(s.now+jitter(rng, cellBACPollEvery, 200*time.Millisecond), b.poll)
}

// rediscover repeats the Who-Is every four to six minutes.
func (b *cellBMS) rediscover() {
	if b.s.now >= b.stop {
		return
	}
	b.whoIs(b.s.now)
	b.s.at(b.s.now+between(b.rng, 4*time.Minute, 6*time.Minute), b.rediscover)
}

// renew renews the COV subscriptions before they lapse.
func (b *cellBMS) renew() {
	if b.s.now >= b.stop {
		return
	}
	t := b.s.now
	for _, d := range b.devs {
		t = b.subscribe(t, d) + between(b.rng, 20*time.Millisecond, 120*time.Millisecond)
	}
	b.s.at(b.s.now+cellBACCOVRenew, b.renew)
}

// write has an operator change one controller's supply air setpoint
// (WriteProperty of AV1 at priority 8) every two to four minutes.
func (b *cellBMS) write() {
	s, rng := b.s, b.rng
	if s.now >= b.stop {
		return
	}
	d := b.devs[rng.IntN(len(b.devs))]
	v := d.setpoint + float64(rng.IntN(5)-2)/2
	if v < 12 || v > 16 {
		v = 14
	}
	req := cellBACReadPropertyAck(cellBACObjectRef{cellBACObjAV, 1}, cellBACPropPV, cellBACRealValue(v))
	req = cellBACTag(req, 4, true, cellBACUint(8)) // priority
	s.cellBACConfirm(s.now, b.n, d, rng, b.nextInvoke(), cellBACWriteProperty, req, nil, false)
	if !d.silent(s.now) {
		d.setpoint = v
	}
	s.at(s.now+between(rng, 2*time.Minute, 4*time.Minute), b.write)
}

// cellBACDCCRequest returns DeviceCommunicationControl request data
// (clause 16.1): duration in minutes (0: indefinite, left out), enable-disable
// (0 enable, 1 disable, 2 disable initiation) and a password.
func cellBACDCCRequest(minutes uint32, state uint8, password string) []byte {
	var b []byte
	if minutes > 0 {
		b = cellBACTag(b, 0, true, cellBACUint(minutes))
	}
	b = cellBACTag(b, 1, true, []byte{state})
	if password != "" {
		b = cellBACTag(b, 2, true, cellBACString(password))
	}
	return b
}

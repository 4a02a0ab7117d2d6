package simulate

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"time"
)

// The OPC UA cell: an embedded controller on the field network runs an
// OPC UA server (binary protocol, TCP 4840, security policy None); hmi02
// and the historian each open a session, browse once, read every five
// seconds and keep a subscription published.
//
// Encodings follow OPC 10000-6 (UA Connection Protocol section 7.1, UA
// Secure Conversation 6.7, the binary encoding of section 5.2); services
// and their parameters OPC 10000-4; type ids are the DefaultBinary
// encoding ids of the specification's NodeIds.csv.
const (
	cellUAPort = 4840

	cellUAOpenReq       = 446 // OpenSecureChannelRequest
	cellUAOpenResp      = 449
	cellUACloseChannel  = 452
	cellUACreateSession = 461
	cellUACreateResp    = 464
	cellUAActivate      = 467
	cellUAActivateResp  = 470
	cellUACloseSession  = 473
	cellUACloseResp     = 476
	cellUABrowse        = 527
	cellUABrowseResp    = 530
	cellUARead          = 631
	cellUAReadResp      = 634
	cellUAWrite         = 673
	cellUAWriteResp     = 676
	cellUACreateMon     = 751
	cellUACreateMonResp = 754
	cellUACreateSub     = 787
	cellUACreateSubResp = 790
	cellUAPublish       = 826
	cellUAPublishResp   = 829
	cellUADataChange    = 811 // DataChangeNotification
	cellUAAnonymous     = 321 // AnonymousIdentityToken

	cellUAPolicyNone = "http://opcfoundation.org/UA/SecurityPolicy#None"
	cellUAEndpoint   = "opc.tcp://10.10.2.40:4840"
)

// cellUAMsgIndex gives the cellUATypes index of a message type.
var cellUAMsgIndex = map[string]uint8{"HEL": 0, "ACK": 1, "OPN": 2, "MSG": 3, "CLO": 4}

func cellUAU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func cellUAU16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }

func cellUADouble(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

func cellUABool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// cellUAString appends a String (Int32 length, UTF-8); "" is the null
// string (length -1).
func cellUAString(b []byte, s string) []byte {
	if s == "" {
		return cellUAU32(b, 0xffffffff)
	}
	return append(cellUAU32(b, uint32(len(s))), s...)
}

// cellUABytes appends a ByteString; nil is the null string.
func cellUABytes(b, v []byte) []byte {
	if v == nil {
		return cellUAU32(b, 0xffffffff)
	}
	return append(cellUAU32(b, uint32(len(v))), v...)
}

// cellUATime appends a DateTime: 100 ns intervals since 1601-01-01.
func cellUATime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	return binary.LittleEndian.AppendUint64(b, uint64(t.UnixNano()/100+116444736000000000))
}

// cellUANode appends a numeric NodeId in the shortest encoding: two-byte,
// four-byte or numeric.
func cellUANode(b []byte, ns uint16, id uint32) []byte {
	switch {
	case ns == 0 && id < 256:
		return append(b, 0x00, byte(id))
	case ns < 256 && id < 65536:
		return cellUAU16(append(b, 0x01, byte(ns)), uint16(id))
	}
	return cellUAU32(cellUAU16(append(b, 0x02), ns), id)
}

// cellUAStringNode appends a string NodeId.
func cellUAStringNode(b []byte, ns uint16, s string) []byte {
	return cellUAString(cellUAU16(append(b, 0x03), ns), s)
}

// cellUAText appends a LocalizedText with only its text.
func cellUAText(b []byte, s string) []byte { return cellUAString(append(b, 0x02), s) }

// cellUANoExtension is a null ExtensionObject (no type, no body).
var cellUANoExtension = []byte{0x00, 0x00, 0x00}

// cellUAExtension appends an ExtensionObject with a binary body.
func cellUAExtension(b []byte, typ uint32, body []byte) []byte {
	b = append(cellUANode(b, 0, typ), 0x01)
	return append(cellUAU32(b, uint32(len(body))), body...)
}

// cellUAArray appends an array length (-1 for a null array).
func cellUAArray(b []byte, n int) []byte { return cellUAU32(b, uint32(int32(n))) }

// cellUAVariant is a Variant's built-in type and value encoding.
type cellUAVariant []byte

func cellUADoubleValue(v float64) cellUAVariant { return cellUADouble([]byte{11}, v) }
func cellUABoolValue(v bool) cellUAVariant      { return cellUABool([]byte{1}, v) }
func cellUAInt32Value(v int32) cellUAVariant    { return cellUAU32([]byte{6}, uint32(v)) }

// cellUADataValue appends a DataValue with a value and, if t is set, its
// source timestamp.
func cellUADataValue(b []byte, v cellUAVariant, t time.Time) []byte {
	if t.IsZero() {
		return append(append(b, 0x01), v...)
	}
	return cellUATime(append(append(b, 0x05), v...), t)
}

// cellUAHeader returns a message: type, chunk F, size and body.
func cellUAHeader(typ string, body []byte) []byte {
	b := append([]byte(typ), 'F')
	b = cellUAU32(b, uint32(8+len(body)))
	return append(b, body...)
}

// cellUAPoint is a variable of the server's address space.
type cellUAPoint struct {
	node  string // s= identifier in namespace 4
	value func(rng *rand.Rand) cellUAVariant
}

// cellUAServer is the OPC UA server of the field controller.
type cellUAServer struct {
	s       *sim
	n       *node
	rng     *rand.Rand
	channel uint32
	session uint32
	level   float64
	flow    float64
	pump    bool
	batches int32
	points  []cellUAPoint
}

// cellOPCUASpec returns the OPC UA server's host (OUI checked against
// Wireshark's manuf file).
func cellOPCUASpec() hostSpec {
	return hostSpec{Host: Host{"opcua01", RolePLC, "Beckhoff Automation GmbH", mac("00:01:05:1f:3c:88"), ip("10.10.2.40"), field, 128,
		Identity{Vendor: "Beckhoff Automation GmbH", Product: "CX5130 TwinCAT OPC UA Server", Firmware: "4.3.2"}},
		stack: stackWindows, df: true, arpEvery: 60}
}

// cellOPCUA adds the OPC UA server and starts its two clients.
func (s *sim) cellOPCUA(p *plant, streams func(uint64) *rand.Rand) *cellUAServer {
	rng := streams(540)
	n := p.add(cellOPCUASpec(), rng)
	s.cellResolve(n, true, streams(541))
	ua := &cellUAServer{s: s, n: n, rng: streams(542), channel: 1 + uint32(rng.IntN(1000)), session: 1 + uint32(rng.IntN(1e6)),
		level: 60, flow: 120, pump: true, batches: int32(rng.IntN(3000))}
	ua.points = []cellUAPoint{
		{"MAIN.fTankLevel", func(r *rand.Rand) cellUAVariant {
			ua.level += (60-ua.level)/10 + r.Float64() - 0.5
			return cellUADoubleValue(math.Round(ua.level*100) / 100)
		}},
		{"MAIN.fFlowRate", func(r *rand.Rand) cellUAVariant {
			ua.flow += (120-ua.flow)/5 + 2*(r.Float64()-0.5)
			return cellUADoubleValue(math.Round(ua.flow*10) / 10)
		}},
		{"MAIN.bPumpRunning", func(r *rand.Rand) cellUAVariant {
			if r.IntN(300) == 0 {
				ua.pump = !ua.pump
			}
			return cellUABoolValue(ua.pump)
		}},
		{"MAIN.nBatchCount", func(r *rand.Rand) cellUAVariant {
			if r.IntN(40) == 0 {
				ua.batches++
			}
			return cellUAInt32Value(ua.batches)
		}},
	}
	stop := s.cellStop(rng)
	for i, c := range []struct {
		name     string
		uri      string
		app      string
		interval time.Duration
		reopen   [2]time.Duration // the window of the one reconnection, as fractions of the capture
	}{
		{"hmi02", "urn:hmi02:OperatorStation:UaClient", "Operator Station OPC UA Client", time.Second, [2]time.Duration{25, 35}},
		{"hist01", "urn:hist01:Historian:OpcUaCollector", "Historian OPC UA Collector", 5 * time.Second, [2]time.Duration{10, 20}},
	} {
		crng := streams(543 + uint64(i))
		u := &cellUASession{s: s, rng: crng, srv: ua, cli: p.byName[c.name], uri: c.uri, app: c.app,
			interval: c.interval, readEvery: 5 * time.Second, stop: stop}
		// Each client reconnects once in the first half of the capture
		// (a configuration reload), so that closing a session is part of
		// what the plant normally does.
		if r := between(crng, s.end*c.reopen[0]/100, s.end*c.reopen[1]/100); r > 15*time.Second && r < stop-10*time.Second {
			u.reopen = r
		}
		s.at(between(crng, 2*time.Second, 4*time.Second), u.open)
	}
	return ua
}

// cellUASession is one client's connection, secure channel and session.
type cellUASession struct {
	s         *sim
	rng       *rand.Rand
	srv       *cellUAServer
	cli       *node
	uri, app  string
	c         *conn
	line      cellLine
	channel   uint32
	token     uint32
	seq       [2]uint32 // next sequence number: client, server
	reqID     uint32
	handle    uint32
	auth      []byte // the session's authentication token, an encoded NodeId
	sub       uint32
	notifySeq uint32
	pending   uint32 // request id of the Publish the server holds (0: none)
	pendingH  uint32
	pendAcks  int // notifications the held Publish acknowledges
	acks      []uint32
	idle      int
	interval  time.Duration
	readEvery time.Duration
	stop      time.Duration
	reopen    time.Duration // when the client closes and reopens everything once (0: never)
	closed    bool
	gen       int // the connection's generation; tasks of an older one stop
}

func (u *cellUASession) delay() time.Duration {
	return between(u.rng, 500*time.Microsecond, 4*time.Millisecond)
}

// send emits one message and marks it.
func (u *cellUASession) send(t time.Duration, fromClient bool, typ string, body []byte, service uint16) {
	dir := uint8(2)
	if fromClient {
		dir = 1
	}
	if typ == "HEL" || typ == "ACK" {
		dir = 0
	}
	cellData(u.c, t, fromClient, cellUAHeader(typ, body), cellMarkOPCUA, cellUAMsgIndex[typ], dir, service)
}

// requestHeader returns a RequestHeader: authentication token, time,
// handle, no diagnostics, no audit id, timeout hint, no extension.
func (u *cellUASession) requestHeader(t time.Duration, handle uint32, timeout uint32) []byte {
	b := append([]byte(nil), u.auth...)
	if b == nil {
		b = []byte{0x00, 0x00}
	}
	b = cellUATime(b, u.s.start.Add(t))
	b = cellUAU32(b, handle)
	b = cellUAU32(b, 0)
	b = cellUAString(b, "")
	b = cellUAU32(b, timeout)
	return append(b, cellUANoExtension...)
}

// responseHeader returns a ResponseHeader: time, handle, Good, no
// diagnostics, empty string table, no extension.
func (u *cellUASession) responseHeader(t time.Duration, handle uint32) []byte {
	b := cellUATime(nil, u.s.start.Add(t))
	b = cellUAU32(b, handle)
	b = cellUAU32(b, 0)
	b = append(b, 0x00)
	b = cellUAArray(b, 0)
	return append(b, cellUANoExtension...)
}

// symmetric returns the header of a MSG or CLO chunk: channel, token,
// sequence number and request id.
func (u *cellUASession) symmetric(x int, reqID uint32) []byte {
	b := cellUAU32(cellUAU32(nil, u.channel), u.token)
	b = cellUAU32(b, u.seq[x])
	u.seq[x]++
	return cellUAU32(b, reqID)
}

// request sends a service request from the client and returns its
// request id and handle.
func (u *cellUASession) request(t time.Duration, typ uint16, params []byte, timeout uint32) (uint32, uint32) {
	u.reqID++
	u.handle++
	b := u.symmetric(0, u.reqID)
	b = cellUANode(b, 0, uint32(typ))
	b = append(b, u.requestHeader(t, u.handle, timeout)...)
	u.send(t, true, "MSG", append(b, params...), typ)
	return u.reqID, u.handle
}

// respond sends the server's response to a request.
func (u *cellUASession) respond(t time.Duration, reqID, handle uint32, typ uint16, params []byte) {
	b := u.symmetric(1, reqID)
	b = cellUANode(b, 0, uint32(typ))
	b = append(b, u.responseHeader(t, handle)...)
	u.send(t, false, "MSG", append(b, params...), typ)
}

// call sends a request and its response and returns the time of the
// response.
func (u *cellUASession) call(t time.Duration, typ uint16, params []byte, respTyp uint16, resp []byte) time.Duration {
	id, h := u.request(t, typ, params, 10000)
	t += u.delay()
	u.respond(t, id, h, respTyp, resp)
	return t
}

// cellUANonce returns n random octets.
func cellUANonce(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// cellUAApplication appends an ApplicationDescription: URIs, name, type
// (0 server, 1 client) and discovery URLs.
func cellUAApplication(b []byte, uri, product, name string, typ uint32, discovery []string) []byte {
	b = cellUAString(b, uri)
	b = cellUAString(b, product)
	b = cellUAText(b, name)
	b = cellUAU32(b, typ)
	b = cellUAString(b, "")
	b = cellUAString(b, "")
	if discovery == nil {
		return cellUAArray(b, -1)
	}
	b = cellUAArray(b, len(discovery))
	for _, d := range discovery {
		b = cellUAString(b, d)
	}
	return b
}

// connect opens TCP, exchanges Hello and Acknowledge and opens a secure
// channel with policy None; it returns the time of the last message.
func (u *cellUASession) connect(t time.Duration) time.Duration {
	s, rng := u.s, u.rng
	u.c = cellConn(s, rng, u.cli, u.srv.n, cellUAPort)
	u.line.s = s
	t = u.c.handshake(t)
	t += between(rng, 500*time.Microsecond, 3*time.Millisecond)
	hel := cellUAU32(nil, 0)
	hel = cellUAU32(hel, 65535)
	hel = cellUAU32(hel, 65535)
	hel = cellUAU32(hel, 0)
	hel = cellUAU32(hel, 0)
	u.send(t, true, "HEL", cellUAString(hel, cellUAEndpoint), 0)
	t += u.delay()
	ack := cellUAU32(nil, 0)
	ack = cellUAU32(ack, 65535)
	ack = cellUAU32(ack, 65535)
	ack = cellUAU32(ack, 16777216)
	ack = cellUAU32(ack, 256)
	u.send(t, false, "ACK", ack, 0)
	t += between(rng, 500*time.Microsecond, 3*time.Millisecond)

	// OpenSecureChannel: asymmetric security header (policy, no
	// certificates), sequence header, then the request.
	asym := func(channel uint32, x int, reqID uint32) []byte {
		b := cellUAU32(nil, channel)
		b = cellUAString(b, cellUAPolicyNone)
		b = cellUABytes(b, nil)
		b = cellUABytes(b, nil)
		b = cellUAU32(b, u.seq[x])
		u.seq[x]++
		return cellUAU32(b, reqID)
	}
	u.seq = [2]uint32{1, 1}
	u.reqID++
	u.handle++
	opn := asym(0, 0, u.reqID)
	opn = cellUANode(opn, 0, cellUAOpenReq)
	opn = append(opn, u.requestHeader(t, u.handle, 10000)...)
	opn = cellUAU32(opn, 0)          // client protocol version
	opn = cellUAU32(opn, 0)          // request type: issue
	opn = cellUAU32(opn, 1)          // security mode: None
	opn = cellUABytes(opn, []byte{}) // client nonce
	opn = cellUAU32(opn, 3600000)    // requested lifetime, ms
	u.send(t, true, "OPN", opn, cellUAOpenReq)
	t += u.delay()
	u.srv.channel++
	u.channel, u.token = u.srv.channel, 1
	resp := asym(u.channel, 1, u.reqID)
	resp = cellUANode(resp, 0, cellUAOpenResp)
	resp = append(resp, u.responseHeader(t, u.handle)...)
	resp = cellUAU32(resp, 0)
	resp = cellUAU32(cellUAU32(resp, u.channel), u.token)
	resp = cellUATime(resp, s.start.Add(t))
	resp = cellUAU32(resp, 3600000)
	resp = cellUABytes(resp, []byte{})
	u.send(t, false, "OPN", resp, cellUAOpenResp)
	return t
}

// createSession creates and activates an anonymous session.
func (u *cellUASession) createSession(t time.Duration) time.Duration {
	rng := u.rng
	req := cellUAApplication(nil, u.uri, "urn:"+u.cli.Name+":UaClient", u.app, 1, nil)
	req = cellUAString(req, "")
	req = cellUAString(req, cellUAEndpoint)
	req = cellUAString(req, u.app+" session")
	req = cellUABytes(req, cellUANonce(rng, 32))
	req = cellUABytes(req, nil)
	req = cellUADouble(req, 600000)
	req = cellUAU32(req, 0)

	u.srv.session++
	sid := cellUANode(nil, 1, 0x10000+u.srv.session)
	auth := cellUAU16([]byte{0x05}, 1)
	auth = cellUABytes(auth, cellUANonce(rng, 32))
	resp := append(sid, auth...)
	resp = cellUADouble(resp, 600000)
	resp = cellUABytes(resp, cellUANonce(rng, 32))
	resp = cellUABytes(resp, nil)
	resp = cellUAArray(resp, 1)
	resp = cellUAString(resp, cellUAEndpoint)
	resp = cellUAApplication(resp, "urn:BeckhoffAutomation:TcOpcUaServer", "http://www.beckhoff.com/TwinCAT/OpcUaServer", "TwinCAT OPC UA Server", 0, []string{cellUAEndpoint})
	resp = cellUABytes(resp, nil)
	resp = cellUAU32(resp, 1) // security mode None
	resp = cellUAString(resp, cellUAPolicyNone)
	resp = cellUAArray(resp, 1) // user identity tokens
	resp = cellUAString(resp, "Anonymous")
	resp = cellUAU32(resp, 0) // anonymous
	resp = cellUAString(resp, "")
	resp = cellUAString(resp, "")
	resp = cellUAString(resp, "")
	resp = cellUAString(resp, "http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary")
	resp = append(resp, 0)      // security level
	resp = cellUAArray(resp, 0) // server software certificates
	resp = cellUAString(resp, "")
	resp = cellUABytes(resp, nil)
	resp = cellUAU32(resp, 4194304)
	t = u.call(t, cellUACreateSession, req, cellUACreateResp, resp)
	u.auth = auth
	t += between(rng, 1*time.Millisecond, 5*time.Millisecond)

	act := cellUAString(nil, "")
	act = cellUABytes(act, nil)
	act = cellUAArray(act, 0)
	act = cellUAArray(act, 1)
	act = cellUAString(act, "en-US")
	act = cellUAExtension(act, cellUAAnonymous, cellUAString(nil, "Anonymous"))
	act = cellUAString(act, "")
	act = cellUABytes(act, nil)
	aresp := cellUABytes(nil, cellUANonce(rng, 32))
	aresp = cellUAArray(aresp, 0)
	aresp = cellUAArray(aresp, 0)
	return u.call(t, cellUAActivate, act, cellUAActivateResp, aresp)
}

// browse browses the Objects folder (i=85) for hierarchical references.
func (u *cellUASession) browse(t time.Duration) time.Duration {
	req := cellUANode(nil, 0, 0)
	req = cellUATime(req, time.Time{})
	req = cellUAU32(req, 0)
	req = cellUAU32(req, 0)
	req = cellUAArray(req, 1)
	req = cellUANode(req, 0, 85)
	req = cellUAU32(req, 0) // forward
	req = cellUANode(req, 0, 33)
	req = cellUABool(req, true)
	req = cellUAU32(req, 0)
	req = cellUAU32(req, 63)
	type ref struct {
		node     []byte
		name     string
		ns       uint16
		typeDef  uint32
		refType  uint32
		category uint32
	}
	refs := []ref{
		{cellUANode(nil, 0, 2253), "Server", 0, 2004, 35, 1},
		{cellUAStringNode(nil, 4, "MAIN"), "MAIN", 4, 58, 35, 1},
		{cellUAStringNode(nil, 4, "GVL"), "GVL", 4, 58, 35, 1},
	}
	resp := cellUAArray(nil, 1)
	resp = cellUAU32(resp, 0)
	resp = cellUABytes(resp, nil)
	resp = cellUAArray(resp, len(refs))
	for _, r := range refs {
		resp = cellUANode(resp, 0, r.refType)
		resp = cellUABool(resp, true)
		resp = append(resp, r.node...)
		resp = cellUAString(cellUAU16(resp, r.ns), r.name)
		resp = cellUAText(resp, r.name)
		resp = cellUAU32(resp, r.category)
		resp = cellUANode(resp, 0, r.typeDef)
	}
	resp = cellUAArray(resp, 0)
	return u.call(t, cellUABrowse, req, cellUABrowseResp, resp)
}

// cellUAReadValueID appends a ReadValueId of a point's Value attribute (13).
func cellUAReadValueID(b []byte, node string) []byte {
	b = cellUAStringNode(b, 4, node)
	b = cellUAU32(b, 13)
	b = cellUAString(b, "")
	return cellUAString(cellUAU16(b, 0), "")
}

// read reads every point's value with source timestamps.
func (u *cellUASession) read(t time.Duration) time.Duration {
	req := cellUADouble(nil, 0)
	req = cellUAU32(req, 0) // timestamps: source
	req = cellUAArray(req, len(u.srv.points))
	for _, p := range u.srv.points {
		req = cellUAReadValueID(req, p.node)
	}
	at := u.s.start.Add(t)
	resp := cellUAArray(nil, len(u.srv.points))
	for _, p := range u.srv.points {
		resp = cellUADataValue(resp, p.value(u.srv.rng), at.Add(-time.Duration(u.rng.IntN(200))*time.Millisecond))
	}
	resp = cellUAArray(resp, 0)
	return u.call(t, cellUARead, req, cellUAReadResp, resp)
}

// subscribe creates a subscription with one monitored item per point and
// sends the first Publish request.
func (u *cellUASession) subscribe(t time.Duration) time.Duration {
	ms := float64(u.interval / time.Millisecond)
	req := cellUADouble(nil, ms)
	req = cellUAU32(req, 30)
	req = cellUAU32(req, 10)
	req = cellUAU32(req, 0)
	req = cellUABool(req, true)
	req = append(req, 0)
	u.sub = 1 + uint32(u.rng.IntN(1000))
	resp := cellUAU32(nil, u.sub)
	resp = cellUADouble(resp, ms)
	resp = cellUAU32(resp, 30)
	resp = cellUAU32(resp, 10)
	t = u.call(t, cellUACreateSub, req, cellUACreateSubResp, resp)
	t += between(u.rng, 1*time.Millisecond, 5*time.Millisecond)

	mreq := cellUAU32(nil, u.sub)
	mreq = cellUAU32(mreq, 0)
	mreq = cellUAArray(mreq, len(u.srv.points))
	mresp := cellUAArray(nil, len(u.srv.points))
	for i, p := range u.srv.points {
		mreq = cellUAReadValueID(mreq, p.node)
		mreq = cellUAU32(mreq, 2) // reporting
		mreq = cellUAU32(mreq, uint32(i+1))
		mreq = cellUADouble(mreq, ms/2)
		mreq = append(mreq, cellUANoExtension...)
		mreq = cellUAU32(mreq, 1)
		mreq = cellUABool(mreq, true)
		mresp = cellUAU32(mresp, 0)
		mresp = cellUAU32(mresp, uint32(i+1))
		mresp = cellUADouble(mresp, ms/2)
		mresp = cellUAU32(mresp, 1)
		mresp = append(mresp, cellUANoExtension...)
	}
	mresp = cellUAArray(mresp, 0)
	t = u.call(t, cellUACreateMon, mreq, cellUACreateMonResp, mresp)
	u.notifySeq = 1
	return u.publishRequest(t + between(u.rng, 1*time.Millisecond, 5*time.Millisecond))
}

// publishRequest sends a Publish request acknowledging the notifications
// received; the server holds it, and its TCP stack acknowledges it.
func (u *cellUASession) publishRequest(t time.Duration) time.Duration {
	req := cellUAArray(nil, len(u.acks))
	for _, a := range u.acks {
		req = cellUAU32(cellUAU32(req, u.sub), a)
	}
	n := len(u.acks)
	u.acks = u.acks[:0]
	u.pending, u.pendingH = u.request(t, cellUAPublish, req, 60000)
	u.pendAcks = n
	return cellAck(u.c, t, false)
}

// publishResponse answers the held Publish request with a data change
// notification of the points that changed, or a keep-alive.
func (u *cellUASession) publishResponse(t time.Duration, values []int) {
	at := u.s.start.Add(t)
	resp := cellUAU32(nil, u.sub)
	if len(values) > 0 {
		resp = cellUAU32(cellUAArray(resp, 1), u.notifySeq)
	} else {
		resp = cellUAArray(resp, 0)
	}
	resp = cellUABool(resp, false)
	resp = cellUAU32(resp, u.notifySeq)
	resp = cellUATime(resp, at)
	if len(values) > 0 {
		dc := cellUAArray(nil, len(values))
		for _, i := range values {
			dc = cellUAU32(dc, uint32(i+1))
			dc = cellUADataValue(dc, u.srv.points[i].value(u.srv.rng), at.Add(-time.Duration(u.rng.IntN(500))*time.Millisecond))
		}
		dc = cellUAArray(dc, 0)
		resp = cellUAExtension(cellUAArray(resp, 1), cellUADataChange, dc)
		u.acks = append(u.acks, u.notifySeq)
		u.notifySeq++
	} else {
		resp = cellUAArray(resp, 0)
	}
	resp = cellUAArray(resp, u.pendAcks)
	for range u.pendAcks {
		resp = cellUAU32(resp, 0)
	}
	resp = cellUAArray(resp, 0)
	u.respond(t, u.pending, u.pendingH, cellUAPublishResp, resp)
	u.pending = 0
}

// open runs the session's start: connect, session, browse, subscription;
// then the read and publish cycles.
func (u *cellUASession) open() {
	u.gen++
	gen := u.gen
	u.closed, u.acks, u.pending = false, nil, 0
	t := u.connect(u.s.now)
	t = u.createSession(t + between(u.rng, 1*time.Millisecond, 5*time.Millisecond))
	t = u.browse(t + between(u.rng, 5*time.Millisecond, 50*time.Millisecond))
	t = u.read(t + between(u.rng, 5*time.Millisecond, 50*time.Millisecond))
	t = u.subscribe(t + between(u.rng, 5*time.Millisecond, 50*time.Millisecond))
	u.line.free = t
	u.s.at(t+u.readEvery, func() { u.readLoop(gen) })
	u.s.at(t+u.interval, func() { u.publishLoop(gen) })
}

// readLoop reads the points every readEvery until stop, then closes the
// session, the secure channel and the connection. At reopen the client
// closes everything once and opens it again a few seconds later.
func (u *cellUASession) readLoop(gen int) {
	u.line.do(u.s.now, func(t time.Duration) time.Duration {
		if u.closed || gen != u.gen {
			return t
		}
		if t >= u.stop {
			return u.close(t)
		}
		if u.reopen > 0 && t >= u.reopen {
			u.reopen = 0
			t = u.close(t)
			u.s.at(t+between(u.rng, 2*time.Second, 5*time.Second), u.open)
			return t
		}
		t = cellAck(u.c, u.read(t), true)
		next := u.s.now + jitter(u.rng, u.readEvery, u.readEvery/50)
		u.s.at(min(next, max(u.stop, t+time.Millisecond)), func() { u.readLoop(gen) })
		return t
	})
}

// publishLoop runs the subscription: every publishing interval the points
// are sampled, and changes (or, after ten quiet intervals, a keep-alive)
// answer the held Publish request, which the client renews at once.
func (u *cellUASession) publishLoop(gen int) {
	if gen != u.gen || u.closed {
		return
	}
	var changed []int
	for i := range u.srv.points {
		if u.rng.IntN(3) == 0 {
			changed = append(changed, i)
		}
	}
	u.idle++
	if len(changed) > 0 || u.idle >= 10 {
		u.idle = 0
		u.line.do(u.s.now, func(t time.Duration) time.Duration {
			if u.closed || gen != u.gen || u.pending == 0 {
				return t
			}
			u.publishResponse(t, changed)
			return u.publishRequest(t + between(u.rng, 200*time.Microsecond, 2*time.Millisecond))
		})
	}
	if next := u.s.now + u.interval; next < u.stop {
		u.s.at(next, func() { u.publishLoop(gen) })
	}
}

// close answers the held Publish with a keep-alive, closes the session
// (deleting its subscription), then the secure channel and the TCP
// connection.
func (u *cellUASession) close(t time.Duration) time.Duration {
	u.closed = true
	if u.pending != 0 {
		u.publishResponse(t, nil)
		t += between(u.rng, 1*time.Millisecond, 20*time.Millisecond)
	}
	t = u.call(t, cellUACloseSession, cellUABool(nil, true), cellUACloseResp, nil)
	t += between(u.rng, 500*time.Microsecond, 3*time.Millisecond)
	u.reqID++
	u.handle++
	b := u.symmetric(0, u.reqID)
	b = cellUANode(b, 0, cellUACloseChannel)
	u.auth = nil
	b = append(b, u.requestHeader(t, u.handle, 10000)...)
	u.send(t, true, "CLO", b, cellUACloseChannel)
	return u.c.close(t + between(u.rng, 200*time.Microsecond, 2*time.Millisecond))
}

// write writes a value to a point (Value attribute, no timestamps).
func (u *cellUASession) write(t time.Duration, node string, v cellUAVariant) time.Duration {
	req := cellUAArray(nil, 1)
	req = cellUAStringNode(req, 4, node)
	req = cellUAU32(req, 13)
	req = cellUAString(req, "")
	req = cellUADataValue(req, v, time.Time{})
	resp := cellUAU32(cellUAArray(nil, 1), 0)
	resp = cellUAArray(resp, 0)
	return u.call(t, cellUAWrite, req, cellUAWriteResp, resp)
}

package opcua

import (
	"errors"
	"slices"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// run feeds messages alternately as the test lists them and returns the
// operations, the session having been closed.
type step struct {
	dir dissect.Direction
	b   []byte
}

func run(t *testing.T, steps ...step) ([]*dissect.Operation, error) {
	t.Helper()
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	for i, s := range steps {
		f.Ctx.Packet.Index = uint64(i)
		f.Feed(s.dir, s.b)
	}
	f.Session.Close(f.Ctx)
	return c.Ops, f.Err
}

func up(b []byte) step   { return step{dissect.ToServer, b} }
func down(b []byte) step { return step{dissect.ToClient, b} }

func haveAttr(op *dissect.Operation, key, value string) bool {
	return slices.Contains(op.Attrs, dissect.Attr{Key: key, Value: value})
}

// TestHello: Hello and Acknowledge (OPC 10000-6 section 7.1.2.3-4) make
// one operation carrying the Hello's fields; an Error (section 7.1.2.5)
// answers it with a status code of section 7.1.5.
func TestHello(t *testing.T) {
	ops, err := run(t, up(hello("opc.tcp://plc:4840")), down(ack()))
	if err != nil || len(ops) != 1 {
		t.Fatalf("err %v ops %d", err, len(ops))
	}
	op := ops[0]
	if op.FunctionName != "hello" || !op.Request || !op.Response || op.Result.Status != dissect.StatusOK {
		t.Errorf("op %+v", op)
	}
	for _, a := range []dissect.Attr{kv(attrEndpoint, "opc.tcp://plc:4840"), kv(attrProtocolVersion, "0"), kv(attrRecvBuffer, "65535")} {
		if !haveAttr(op, a.Key, a.Value) {
			t.Errorf("missing %v in %v", a, op.Attrs)
		}
	}
	if len(op.Packets) != 2 || op.Packets[0].Index != 1 || op.Packets[1].Index != 0 {
		t.Errorf("packets %v", op.Packets)
	}

	ops, _ = run(t, up(hello("opc.tcp://plc:4840")), down(errMsg(0x807E0000, "bad type")))
	if len(ops) != 1 || ops[0].Result.Status != dissect.StatusError || ops[0].Result.Code != 0x807E0000 ||
		ops[0].Result.Text != "BadTcpMessageTypeInvalid" || !haveAttr(ops[0], attrReason, "bad type") {
		t.Errorf("error answer %+v", ops)
	}
}

// TestOpenSecureChannel: the policy URI of the asymmetric security header
// (section 6.7.2.3) and the security mode of the request (OPC 10000-4
// section 5.5.2) are attributes; the response header's Good is ok.
func TestOpenSecureChannel(t *testing.T) {
	const none = "http://opcfoundation.org/UA/SecurityPolicy#None"
	ops, err := run(t, up(opn(none, 1, opnRequest(1))), down(opn(none, 1, opnResponse())))
	if err != nil || len(ops) != 1 {
		t.Fatalf("err %v ops %d", err, len(ops))
	}
	op := ops[0]
	if op.FunctionName != "open_secure_channel" || op.FunctionCode != 446 || op.Result.Status != dissect.StatusOK ||
		!haveAttr(op, attrPolicy, "None") || !haveAttr(op, attrMode, "None") || !haveAttr(op, attrRequestType, "issue") {
		t.Errorf("op %+v", op)
	}
}

// TestServices: service requests and responses of OPC 10000-4, identified
// by the binary encoding ids of NodeIds.csv, paired by request id.
func TestServices(t *testing.T) {
	getEndpoints := enc(nil).numeric(431).responseHeader(7, 0).i32(2).
		endpoint("opc.tcp://plc:4840", "urn:acme:plc", "urn:acme:product", "ACME PLC").
		endpoint("opc.tcp://plc:4841", "urn:acme:plc", "urn:acme:product", "ACME PLC")
	createSession := enc(nil).numeric(461).requestHeader(3).
		appDescription("urn:hmi:client", "urn:hmi:product", "HMI", 1).null().str("opc.tcp://plc:4840").str("s").null().null().zero(8).u32(0)
	tests := []struct {
		name   string
		req    enc
		resp   enc
		fn     string
		code   int
		class  dissect.Class
		status dissect.Status
		text   string
		target *dissect.Target
		attrs  []dissect.Attr
		facts  []dissect.Fact
	}{
		{
			name: "read", req: readRequest(5, 3), resp: readResponse(5, 0, 3),
			fn: "read", code: 631, class: dissect.ClassRead, status: dissect.StatusOK, text: "Good",
			target: &dissect.Target{Kind: "node", Count: 3},
		},
		{
			name: "read bad", req: readRequest(5, 1), resp: readResponse(5, 0x80100000, 0),
			fn: "read", code: 631, class: dissect.ClassRead, status: dissect.StatusError, text: "BadTooManyOperations",
			target: &dissect.Target{Kind: "node", Count: 1},
		},
		{
			name: "write",
			req: enc(nil).numeric(673).requestHeader(9).i32(1).
				u8(3).u16(1).str("Tank.Level").u32(13).null().u8(0x01).u8(11).raw(0, 0, 0, 0, 0, 0, 0x59, 0x40),
			resp: enc(nil).numeric(676).responseHeader(9, 0).i32(1).u32(0).i32(-1),
			fn:   "write", code: 673, class: dissect.ClassWrite, status: dissect.StatusOK, text: "Good",
			target: &dissect.Target{Kind: "node", Name: "ns=1;s=Tank.Level", Count: 1},
			attrs:  []dissect.Attr{kv(attrAttributeID, "13")},
		},
		{
			name: "call",
			req: enc(nil).numeric(712).requestHeader(4).i32(1).
				u8(1).u8(1).u16(5000).u8(2).u16(1).u32(62541).i32(0),
			resp: enc(nil).numeric(715).responseHeader(4, 0).i32(0).i32(-1),
			fn:   "call", code: 712, class: dissect.ClassControl, status: dissect.StatusOK, text: "Good",
			target: &dissect.Target{Kind: "method", Name: "ns=1;i=62541", Count: 1},
		},
		{
			name: "browse",
			req: enc(nil).numeric(527).requestHeader(2).u8(0).u8(0).zero(8).u32(0).u32(0).i32(1).
				u8(0).u8(85).u32(0).u8(0).u8(33).u8(1).u32(0).u32(63),
			resp: enc(nil).numeric(530).responseHeader(2, 0).i32(0).i32(-1),
			fn:   "browse", code: 527, class: dissect.ClassRead, status: dissect.StatusOK, text: "Good",
			target: &dissect.Target{Kind: "node", Count: 1},
		},
		{
			name: "get endpoints", req: enc(nil).numeric(428).requestHeader(7).str("opc.tcp://plc:4840").i32(-1).i32(-1),
			resp: getEndpoints,
			fn:   "get_endpoints", code: 428, class: dissect.ClassDiscovery, status: dissect.StatusOK, text: "Good",
			attrs: []dissect.Attr{kv(attrAppURI, "urn:acme:plc"), kv(attrAppName, "ACME PLC")},
			facts: []dissect.Fact{{Key: dissect.FactProduct, Value: "urn:acme:product", Server: true}},
		},
		{
			name: "create session", req: createSession,
			resp: enc(nil).numeric(464).responseHeader(3, 0).u8(0).u8(1).u8(0).u8(2).zero(8).null().null().i32(1).
				endpoint("opc.tcp://plc:4840", "urn:acme:plc", "urn:acme:product", "").i32(-1).null().null().u32(0),
			fn: "create_session", code: 461, class: dissect.ClassAuthentication, status: dissect.StatusOK, text: "Good",
			attrs: []dissect.Attr{kv(attrClientAppURI, "urn:hmi:client"), kv(attrClientAppName, "HMI"), kv(attrAppURI, "urn:acme:plc")},
			facts: []dissect.Fact{
				{Key: dissect.FactProduct, Value: "urn:hmi:product"},
				{Key: dissect.FactProduct, Value: "urn:acme:product", Server: true},
			},
		},
		{
			name: "publish fault", req: enc(nil).numeric(826).requestHeader(11).i32(0),
			resp: enc(nil).numeric(397).responseHeader(11, 0x80790000),
			fn:   "publish", code: 826, class: dissect.ClassRead, status: dissect.StatusError, text: "BadNoSubscription",
			attrs: []dissect.Attr{kv(attrResponseType, "service_fault")},
		},
		{
			name: "full numeric encoding", req: enc(nil).u8(2).u16(0).u32(847).requestHeader(1).i32(0),
			resp: enc(nil).u8(2).u16(0).u32(850).responseHeader(1, 0).i32(0).i32(-1),
			fn:   "delete_subscriptions", code: 847, class: dissect.ClassRead, status: dissect.StatusOK, text: "Good",
		},
		{
			name: "two-byte encoding", req: enc(nil).u8(0).u8(42).requestHeader(1),
			fn: "unknown_service", code: 42, class: dissect.ClassOther, status: dissect.StatusUnknown,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const none = "http://opcfoundation.org/UA/SecurityPolicy#None"
			steps := []step{up(opn(none, 1, opnRequest(1))), down(opn(none, 1, opnResponse())), up(msg(21, tt.req))}
			if tt.resp != nil {
				steps = append(steps, down(msg(21, tt.resp)))
			}
			ops, err := run(t, steps...)
			if err != nil || len(ops) != 2 {
				t.Fatalf("err %v ops %+v", err, ops)
			}
			op := ops[1]
			if op.FunctionName != tt.fn || op.FunctionCode != tt.code || op.Class != tt.class ||
				op.Result.Status != tt.status || op.Result.Text != tt.text {
				t.Errorf("got %s %d %s %s %q", op.FunctionName, op.FunctionCode, op.Class, op.Result.Status, op.Result.Text)
			}
			if !op.Request || op.Response != (tt.resp != nil) {
				t.Errorf("request %v response %v", op.Request, op.Response)
			}
			if tt.target != nil && (len(op.Targets) != 1 || op.Targets[0] != *tt.target) {
				t.Errorf("targets %+v, want %+v", op.Targets, *tt.target)
			}
			for _, a := range tt.attrs {
				if !haveAttr(op, a.Key, a.Value) {
					t.Errorf("missing attr %v in %v", a, op.Attrs)
				}
			}
			if !slices.Equal(op.Identity, tt.facts) {
				t.Errorf("identity %v, want %v", op.Identity, tt.facts)
			}
		})
	}
}

// TestActivateSession: the user identity token's ExtensionObject type id
// names the token (OPC 10000-4 section 7.41); a UserNameIdentityToken
// without an encryption algorithm carries the password in clear.
func TestActivateSession(t *testing.T) {
	activate := func(token enc) enc {
		return enc(nil).numeric(467).requestHeader(1).null().null().i32(-1).i32(-1).raw(token...).null().null()
	}
	user := enc(nil).str("user-pw").str("operator").str("secret").null()
	tests := []struct {
		name  string
		token enc
		attrs []dissect.Attr
	}{
		{"anonymous", enc(nil).numeric(321).u8(1).i32(8).str("anon"), []dissect.Attr{kv(attrUserToken, "anonymous")}},
		{"username", append(enc(nil).numeric(324).u8(1).i32(int32(len(user))), user...),
			[]dissect.Attr{kv(attrUserToken, "username"), kv(attrUsername, "operator"), kv(attrCleartext, "password")}},
		{"x509", enc(nil).numeric(327).u8(1).i32(8).str("cert"), []dissect.Attr{kv(attrUserToken, "x509")}},
		{"issued", enc(nil).numeric(940).u8(1).i32(8).str("jwt!"), []dissect.Attr{kv(attrUserToken, "issued")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, _ := run(t, up(msg(3, activate(tt.token))), down(msg(3, enc(nil).numeric(470).responseHeader(1, 0).null().i32(-1).i32(-1))))
			if len(ops) != 1 || ops[0].FunctionName != "activate_session" || ops[0].Class != dissect.ClassAuthentication {
				t.Fatalf("ops %+v", ops)
			}
			if !slices.Equal(ops[0].Attrs, tt.attrs) {
				t.Errorf("attrs %v, want %v", ops[0].Attrs, tt.attrs)
			}
		})
	}
}

// TestEncrypted: with a security policy other than None the bodies are
// not decoded (section 6.7.2); each MSG is one "encrypted" operation.
func TestEncrypted(t *testing.T) {
	const policy = "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"
	opaque := enc(nil).zero(64)
	ops, err := run(t,
		up(opn(policy, 0xdeadbeef, opaque)), down(opn(policy, 0x12345678, opaque)),
		up(chunk("MSG", 'F', 0xaaaa, opaque)), down(chunk("MSG", 'F', 0xbbbb, opaque)),
		up(chunk("CLO", 'F', 0xcccc, opaque)))
	if err != nil || len(ops) != 4 {
		t.Fatalf("err %v ops %d", err, len(ops))
	}
	if ops[0].FunctionName != "open_secure_channel" || !ops[0].Request || !ops[0].Response || !haveAttr(ops[0], attrPolicy, "Basic256Sha256") {
		t.Errorf("open %+v", ops[0])
	}
	for i, wantReq := range []bool{true, false} {
		op := ops[1+i]
		if op.FunctionName != "encrypted" || op.Class != dissect.ClassOther || op.Request != wantReq || op.Response == wantReq {
			t.Errorf("message %d: %+v", i, op)
		}
	}
	if ops[3].FunctionName != "close_secure_channel" || ops[3].Result.Status != dissect.StatusOK {
		t.Errorf("close %+v", ops[3])
	}
}

// TestChunks: a message split in intermediate chunks ('C') and a final one
// ('F') is one message (section 6.7.2.4); an abort chunk ('A') ends the
// message with its error (section 6.7.3).
func TestChunks(t *testing.T) {
	resp := readResponse(5, 0, 40)
	ops, err := run(t, up(msg(9, readRequest(5, 40))),
		down(chunk("MSG", 'C', 9, resp[:30])), down(chunk("MSG", 'C', 9, resp[30:100])), down(chunk("MSG", 'F', 9, resp[100:])))
	if err != nil || len(ops) != 1 {
		t.Fatalf("err %v ops %+v", err, ops)
	}
	if op := ops[0]; op.FunctionName != "read" || op.Result.Status != dissect.StatusOK || !haveAttr(op, attrResponseChunks, "3") {
		t.Errorf("op %+v", op)
	}
	abort := enc(nil).u32(0x80080000).str("too large")
	ops, _ = run(t, up(msg(9, readRequest(5, 40))), down(chunk("MSG", 'C', 9, resp[:30])), down(chunk("MSG", 'A', 9, abort)))
	if len(ops) != 1 || ops[0].FunctionName != "read" || ops[0].Result.Text != "BadEncodingLimitsExceeded" || !haveAttr(ops[0], attrAborted, "true") {
		t.Errorf("abort %+v", ops)
	}
}

// TestPairing: responses find their request by request id whatever the
// order; requests never answered are emitted at Close.
func TestPairing(t *testing.T) {
	ops, _ := run(t,
		up(msg(1, enc(nil).numeric(826).requestHeader(1).i32(0))),
		up(msg(2, enc(nil).numeric(826).requestHeader(2).i32(0))),
		up(msg(3, readRequest(3, 1))),
		down(msg(3, readResponse(3, 0, 1))),
		down(msg(1, enc(nil).numeric(829).responseHeader(1, 0))),
		down(msg(7, readResponse(7, 0, 1))))
	var got []string
	for _, op := range ops {
		s := op.FunctionName
		if op.Request {
			s += "+req"
		}
		if op.Response {
			s += "+resp"
		}
		got = append(got, s)
	}
	want := []string{"read+req+resp", "publish+req+resp", "read+resp", "publish+req"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestMalformed: a header of no message type stops the session; a body
// whose type id cannot be read is a malformed operation.
func TestMalformed(t *testing.T) {
	ops, err := run(t, up([]byte("GET / HTTP/1.1\r\n\r\n")))
	if !errors.Is(err, errFrame) || len(ops) != 1 || ops[0].Result.Status != dissect.StatusMalformed {
		t.Errorf("err %v ops %+v", err, ops)
	}
	none := opn("http://opcfoundation.org/UA/SecurityPolicy#None", 1, opnRequest(1))
	ops, err = run(t, up(none), up(msg(1, enc(nil).u8(0x3f))))
	if err != nil || len(ops) != 2 || ops[0].Result.Text != reasonTypeID {
		t.Errorf("err %v ops %+v", err, ops)
	}
	ops, _ = run(t, up(msg(1, enc(nil).numeric(631).u8(1))), down(msg(1, readResponse(0, 0, 0))))
	if len(ops) != 1 || ops[0].Result.Text != reasonRequestHeader {
		t.Errorf("truncated request header: %+v", ops)
	}
	// Without an OpenSecureChannel, a body that starts with no service
	// type id is taken for a secured channel's.
	ops, _ = run(t, up(msg(1, enc(nil).zero(40).raw(0xff))))
	if len(ops) != 1 || ops[0].FunctionName != "encrypted" || !haveAttr(ops[0], attrPolicy, "unknown") {
		t.Errorf("truncated request header: %+v", ops)
	}
}

// TestGap: after lost bytes (the reassembler drops what the session had
// not consumed) the session resumes at the next header.
func TestGap(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	// The tail of a lost request precedes the next one.
	req := msg(4, readRequest(1, 2))
	f.Session.Gap(dissect.ToServer, 100, f.Ctx)
	f.Feed(dissect.ToServer, append(req[30:], msg(5, readRequest(2, 1))...))
	f.Feed(dissect.ToClient, msg(5, readResponse(2, 0, 1)))
	f.Session.Close(f.Ctx)
	if f.Err != nil || len(c.Ops) != 1 || c.Ops[0].FunctionName != "read" || !c.Ops[0].Request || !c.Ops[0].Response {
		t.Errorf("err %v ops %s", f.Err, c.JSONL())
	}
}

// TestProbe: every message type of sections 7.1.2 and 6.7.2 with a sane
// size is recognised; other protocols are not.
func TestProbe(t *testing.T) {
	for _, p := range [][]byte{hello("opc.tcp://x"), ack(), errMsg(0x80820000, ""), msg(1, readRequest(1, 1)),
		opn("http://opcfoundation.org/UA/SecurityPolicy#None", 1, opnRequest(1)), chunk("CLO", 'F', 1, enc(nil).numeric(452))} {
		if !(Dissector{}).Probe(p) {
			t.Errorf("Probe(%q) = false", p[:8])
		}
	}
	for _, p := range [][]byte{[]byte("GET / HTTP/1.1\r\n"), []byte("HELX\x20\x00\x00\x00"), []byte("MSGF\x04\x00\x00\x00"),
		[]byte("HELF\x20\x00\x00\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00"), {0, 0, 0, 0, 0, 6, 1, 3}} {
		if (Dissector{}).Probe(p) {
			t.Errorf("Probe(%q) = true", p)
		}
	}
}

// TestReverseConnect: with reverse connect the server opens the TCP
// connection and sends ReverseHello (section 7.1.3); the operation's
// server is then the flow's client.
func TestReverseConnect(t *testing.T) {
	rhe := enc(nil).str("urn:acme:plc").str("opc.tcp://plc:4840")
	ops, _ := run(t, up(append(enc("RHEF").u32(uint32(8+len(rhe))), rhe...)), down(hello("opc.tcp://plc:4840")), up(ack()),
		down(msg(1, readRequest(1, 1))), up(msg(1, readResponse(1, 0, 1))))
	if len(ops) != 3 || ops[0].FunctionName != "reverse_hello" || !haveAttr(ops[0], attrServerURI, "urn:acme:plc") {
		t.Fatalf("ops %+v", ops)
	}
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	for _, op := range ops {
		if op.Server.IP != flow.Client.IP {
			t.Errorf("%s: server %v, want the flow's client", op.FunctionName, op.Server)
		}
	}
	if !ops[2].Request || !ops[2].Response || ops[2].FunctionName != "read" {
		t.Errorf("read %+v", ops[2])
	}
}

func kv(key, value string) dissect.Attr { return dissect.Attr{Key: key, Value: value} }

// TestLargeChunk: a chunk larger than the reassembly buffer is decoded
// from its head and the rest skipped, in any segmentation.
func TestLargeChunk(t *testing.T) {
	resp := msg(9, readResponse(5, 0, 20000))
	if len(resp) <= streamAbove {
		t.Fatalf("response of %d bytes is not large", len(resp))
	}
	steps := []step{up(msg(9, readRequest(5, 20000)))}
	for i := 0; i < len(resp); i += 1000 {
		steps = append(steps, down(resp[i:min(i+1000, len(resp))]))
	}
	steps = append(steps, up(msg(10, readRequest(6, 1))), down(msg(10, readResponse(6, 0, 1))))
	ops, err := run(t, steps...)
	if err != nil || len(ops) != 2 {
		t.Fatalf("err %v ops %+v", err, ops)
	}
	for _, op := range ops {
		if op.FunctionName != "read" || !op.Request || !op.Response || op.Result.Status != dissect.StatusOK {
			t.Errorf("op %+v", op)
		}
	}
	if ops[0].Targets[0].Count != 20000 {
		t.Errorf("targets %+v", ops[0].Targets)
	}
	for _, cut := range []int{0, 7, 30000, 49000, len(resp) - 3} {
		dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.ToClient, resp, cut)
	}
}

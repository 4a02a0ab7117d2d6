package mqtt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// pdu is one packet of a conversation and its direction.
type pdu struct {
	dir dissect.Direction
	hex string
}

const (
	up   = dissect.ToServer
	down = dissect.ToClient
)

// run feeds a conversation to a new session, one Feed per packet, and
// returns the operations, the session closed.
func run(t *testing.T, pdus ...pdu) []*dissect.Operation {
	t.Helper()
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	for i, p := range pdus {
		f.Ctx.Packet.Index = uint64(i)
		f.Feed(p.dir, dissecttest.Hex(t, p.hex))
	}
	if f.Err != nil {
		t.Fatalf("Feed: %v", f.Err)
	}
	f.Session.Close(f.Ctx)
	return c.Ops
}

// want is what a test expects of one operation; empty fields are not
// checked, attrs must all be present.
type want struct {
	code      int
	name      string
	class     dissect.Class
	req, resp bool
	status    dissect.Status
	rcode     int
	text      string
	targets   []dissect.Target
	attrs     map[string]string
	noAttrs   []string
	identity  []dissect.Fact
	packets   int
}

func check(t *testing.T, op *dissect.Operation, w want) {
	t.Helper()
	j, _ := json.Marshal(op)
	if op.FunctionCode != w.code || op.FunctionName != w.name || op.Class != w.class {
		t.Errorf("function %d %s %s, want %d %s %s: %s", op.FunctionCode, op.FunctionName, op.Class, w.code, w.name, w.class, j)
	}
	if op.Request != w.req || op.Response != w.resp {
		t.Errorf("request %v response %v, want %v %v: %s", op.Request, op.Response, w.req, w.resp, j)
	}
	if op.Result.Status != w.status || op.Result.Code != w.rcode || (w.text != "" && op.Result.Text != w.text) {
		t.Errorf("result %+v, want %s %d %q: %s", op.Result, w.status, w.rcode, w.text, j)
	}
	if w.targets != nil && !equalTargets(op.Targets, w.targets) {
		t.Errorf("targets %+v, want %+v", op.Targets, w.targets)
	}
	for k, v := range w.attrs {
		if got := op.Attr(k); got != v {
			t.Errorf("attr %s = %q, want %q: %s", k, got, v, j)
		}
	}
	for _, k := range w.noAttrs {
		if got := op.Attr(k); got != "" {
			t.Errorf("attr %s = %q, want none", k, got)
		}
	}
	if len(op.Identity) != len(w.identity) {
		t.Errorf("identity %+v, want %+v", op.Identity, w.identity)
	} else {
		for i := range w.identity {
			if op.Identity[i] != w.identity[i] {
				t.Errorf("identity %+v, want %+v", op.Identity, w.identity)
			}
		}
	}
	if w.packets != 0 && len(op.Packets) != w.packets {
		t.Errorf("%d packets, want %d", len(op.Packets), w.packets)
	}
}

func equalTargets(a, b []dissect.Target) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// CONNECT 3.1.1 (section 3.1): "MQTT" level 4, flags 0xc2 (user name,
// password, clean session), keep alive 60, client id "abc", user "user",
// password "pass"; remaining length 10 + 5 + 6 + 6 = 27.
const connect311 = "10 1b 0004 4d515454 04 c2 003c 0003 616263 0004 75736572 0004 70617373"

func TestVarint(t *testing.T) {
	// 3.1.1 section 2.2.3, table 2.4: the bounds of each encoded size.
	for _, c := range []struct {
		hex  string
		v, n int
		st   int
	}{
		{"00", 0, 1, varOK},
		{"7f", 127, 1, varOK},
		{"8001", 128, 2, varOK},
		{"ff7f", 16383, 2, varOK},
		{"808001", 16384, 3, varOK},
		{"ffff7f", 2097151, 3, varOK},
		{"80808001", 2097152, 4, varOK},
		{"ffffff7f", 268435455, 4, varOK},
		{"ffffffff01", 0, 0, varLong},
		{"ff", 0, 0, varShort},
		{"", 0, 0, varShort},
	} {
		v, n, st := varint(dissecttest.Hex(t, c.hex))
		if v != c.v || n != c.n || st != c.st {
			t.Errorf("varint(%s) = %d, %d, %d; want %d, %d, %d", c.hex, v, n, st, c.v, c.n, c.st)
		}
	}
}

func TestConnect(t *testing.T) {
	tests := []struct {
		name string
		pdus []pdu
		want want
	}{{
		name: "3.1.1 accepted (3.2.2.3 return code 0)",
		pdus: []pdu{{up, connect311}, {down, "20 02 00 00"}},
		want: want{code: 1, name: "connect", class: dissect.ClassAuthentication, req: true, resp: true,
			status: dissect.StatusOK, packets: 2,
			attrs: map[string]string{"version": "3.1.1", "clean_session": "true", "keep_alive": "60",
				"client_id": "abc", "user": "user", "cleartext_credentials": "true"}},
	}, {
		name: "3.1.1 refused, return code 5 not authorized",
		pdus: []pdu{{up, connect311}, {down, "20 02 01 05"}},
		want: want{code: 1, name: "connect", class: dissect.ClassAuthentication, req: true, resp: true,
			status: dissect.StatusError, rcode: 5, text: "not_authorized",
			attrs: map[string]string{"session_present": "true"}},
	}, {
		// 3.1: "MQIsdp" level 3, clean session, will flag with QoS 1 and
		// retain (0x2e), keep alive 10, client id "dev.plant.local", will
		// topic "t/w" and message "x"; no user name, no password.
		name: "3.1 with will, host name client id",
		pdus: []pdu{{up, "10 25 0006 4d5149736470 03 2e 000a 000f 6465762e706c616e742e6c6f63616c 0003 742f77 0001 78"}, {down, "20 02 00 00"}},
		want: want{code: 1, name: "connect", class: dissect.ClassAuthentication, req: true, resp: true,
			status: dissect.StatusOK,
			attrs: map[string]string{"version": "3.1", "client_id": "dev.plant.local", "will_topic": "t/w",
				"will_qos": "1", "will_retain": "true", "keep_alive": "10"},
			noAttrs:  []string{"user", "cleartext_credentials"},
			identity: []dissect.Fact{{Key: dissect.FactHostname, Value: "dev.plant.local"}}},
	}, {
		// 5.0 section 3.1.2.11: properties length 3, Receive Maximum (0x21)
		// 20; client id "abc". CONNACK (3.2.2.2) reason 0x86, no properties.
		name: "5.0 refused, reason 0x86",
		pdus: []pdu{{up, "10 13 0004 4d515454 05 02 003c 03 210014 0003 616263"}, {down, "20 03 00 86 00"}},
		want: want{code: 1, name: "connect", class: dissect.ClassAuthentication, req: true, resp: true,
			status: dissect.StatusError, rcode: 0x86, text: "bad_user_name_or_password",
			attrs: map[string]string{"version": "5.0", "client_id": "abc"}},
	}, {
		name: "CONNACK without CONNECT",
		pdus: []pdu{{down, "20 02 00 00"}},
		want: want{code: 1, name: "connect", class: dissect.ClassAuthentication, resp: true, status: dissect.StatusOK},
	}, {
		name: "CONNECT never answered",
		pdus: []pdu{{up, connect311}},
		want: want{code: 1, name: "connect", class: dissect.ClassAuthentication, req: true},
	}, {
		// 3.1.1 section 3.1.2.3: the reserved connect flag must be 0.
		name: "reserved connect flag",
		pdus: []pdu{{up, "10 0f 0004 4d515454 04 03 003c 0003 616263"}, {down, "20 02 00 00"}},
		want: want{code: 1, name: "connect", class: dissect.ClassAuthentication, req: true, resp: true,
			status: dissect.StatusMalformed, text: reasonConnectFlags},
	}, {
		name: "unknown protocol name",
		pdus: []pdu{{up, "10 0f 0004 4d515458 04 02 003c 0003 616263"}},
		want: want{code: 1, name: "connect", class: dissect.ClassAuthentication, req: true,
			status: dissect.StatusMalformed, text: reasonProtocol},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops := run(t, tc.pdus...)
			if len(ops) != 1 {
				t.Fatalf("%d operations, want 1", len(ops))
			}
			check(t, ops[0], tc.want)
			j, _ := json.Marshal(ops[0])
			if strings.Contains(string(j), "pass\"") || strings.Contains(string(j), "70617373") {
				t.Errorf("the password leaks: %s", j)
			}
		})
	}
}

func TestPublish(t *testing.T) {
	topic := []dissect.Target{{Kind: "topic", Name: "a/b"}}
	tests := []struct {
		name string
		pdus []pdu
		want want
	}{{
		// 3.3: QoS 0, topic "a/b", payload "hello"; 2+3+5 = 10.
		name: "QoS 0 from the client",
		pdus: []pdu{{up, "30 0a 0003 612f62 68656c6c6f"}},
		want: want{code: 3, name: "publish", class: dissect.ClassWrite, req: true, status: dissect.StatusOK,
			targets: topic, attrs: map[string]string{"qos": "0", "messages": "publish"}, noAttrs: []string{"packet_id"}},
	}, {
		name: "QoS 0 retained, delivered by the broker",
		pdus: []pdu{{down, "31 0a 0003 612f62 68656c6c6f"}},
		want: want{code: 3, name: "publish", class: dissect.ClassRead, resp: true, status: dissect.StatusOK,
			targets: topic, attrs: map[string]string{"qos": "0", "retain": "true"}},
	}, {
		// 3.3 and 3.4: QoS 1, packet id 7, acknowledged by PUBACK 7.
		name: "QoS 1 with PUBACK",
		pdus: []pdu{{up, "32 0c 0003 612f62 0007 68656c6c6f"}, {down, "40 02 0007"}},
		want: want{code: 3, name: "publish", class: dissect.ClassWrite, req: true, resp: true, status: dissect.StatusOK,
			targets: topic, packets: 2, attrs: map[string]string{"qos": "1", "packet_id": "7", "messages": "publish+puback"}},
	}, {
		// 4.3.3: PUBLISH, PUBREC, PUBREL (flags 0010), PUBCOMP.
		name: "QoS 2 flow",
		pdus: []pdu{{up, "34 0c 0003 612f62 0009 68656c6c6f"}, {down, "50 02 0009"}, {up, "62 02 0009"}, {down, "70 02 0009"}},
		want: want{code: 3, name: "publish", class: dissect.ClassWrite, req: true, resp: true, status: dissect.StatusOK,
			targets: topic, packets: 4, attrs: map[string]string{"qos": "2", "packet_id": "9", "messages": "publish+pubrec+pubrel+pubcomp"}},
	}, {
		name: "QoS 1 delivered by the broker, acknowledged by the subscriber",
		pdus: []pdu{{down, "32 0c 0003 612f62 0101 68656c6c6f"}, {up, "40 02 0101"}},
		want: want{code: 3, name: "publish", class: dissect.ClassRead, resp: true, status: dissect.StatusOK,
			targets: topic, attrs: map[string]string{"packet_id": "257"}},
	}, {
		name: "PUBACK whose PUBLISH was not seen",
		pdus: []pdu{{down, "40 02 0007"}},
		want: want{code: 3, name: "publish", class: dissect.ClassWrite, resp: true, status: dissect.StatusOK,
			attrs: map[string]string{"qos": "1", "packet_id": "7", "messages": "puback"}},
	}, {
		name: "QoS 1 never acknowledged",
		pdus: []pdu{{up, "32 0c 0003 612f62 0007 68656c6c6f"}},
		want: want{code: 3, name: "publish", class: dissect.ClassWrite, req: true, targets: topic},
	}, {
		// 3.3.1.2: QoS 3 is a protocol violation.
		name: "QoS 3",
		pdus: []pdu{{up, "36 0c 0003 612f62 0007 68656c6c6f"}},
		want: want{code: 3, name: "publish", class: dissect.ClassWrite, req: true,
			status: dissect.StatusMalformed, text: reasonQoS, targets: topic},
	}, {
		// 2.3.1: a QoS 1 PUBLISH needs a non-zero packet identifier.
		name: "packet id 0",
		pdus: []pdu{{up, "32 0c 0003 612f62 0000 68656c6c6f"}},
		want: want{code: 3, name: "publish", class: dissect.ClassWrite, req: true,
			status: dissect.StatusMalformed, text: reasonPacketID, targets: topic},
	}, {
		name: "topic longer than the packet",
		pdus: []pdu{{up, "30 04 0009 612f"}},
		want: want{code: 3, name: "publish", class: dissect.ClassWrite, req: true,
			status: dissect.StatusMalformed, text: reasonShort},
	}, {
		// 5.0 section 3.4.2.1: PUBACK reason 0x87 not authorized.
		name: "5.0 PUBACK not authorized",
		pdus: []pdu{{up, "10 13 0004 4d515454 05 02 003c 03 210014 0003 616263"}, {down, "20 03 00 00 00"},
			{up, "32 0d 0003 612f62 0007 00 68656c6c6f"}, {down, "40 04 0007 87 00"}},
		want: want{code: 3, name: "publish", class: dissect.ClassWrite, req: true, resp: true,
			status: dissect.StatusError, rcode: 0x87, text: "not_authorized", attrs: map[string]string{"version": "5.0"}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops := run(t, tc.pdus...)
			last := ops[len(ops)-1]
			check(t, last, tc.want)
		})
	}
}

func TestSubscribePingDisconnect(t *testing.T) {
	tests := []struct {
		name string
		pdus []pdu
		want want
	}{{
		// 3.8 / 3.9: SUBSCRIBE id 10, "a/b" QoS 1 and "c/#" QoS 2; SUBACK
		// grants 1 and refuses the second (0x80, section 3.9.3).
		name: "SUBSCRIBE partly refused",
		pdus: []pdu{{up, "82 0e 000a 0003 612f62 01 0003 632f23 02"}, {down, "90 04 000a 01 80"}},
		want: want{code: 8, name: "subscribe", class: dissect.ClassRead, req: true, resp: true,
			status: dissect.StatusError, rcode: 0x80, text: "failure", packets: 2,
			targets: []dissect.Target{{Kind: "topic_filter", Name: "a/b"}, {Kind: "topic_filter", Name: "c/#"}},
			attrs:   map[string]string{"packet_id": "10", "requested_qos": "1", "granted": "1"}},
	}, {
		name: "UNSUBSCRIBE",
		pdus: []pdu{{up, "a2 07 000b 0003 612f62"}, {down, "b0 02 000b"}},
		want: want{code: 10, name: "unsubscribe", class: dissect.ClassRead, req: true, resp: true,
			status: dissect.StatusOK, targets: []dissect.Target{{Kind: "topic_filter", Name: "a/b"}}},
	}, {
		// 3.8.1: SUBSCRIBE fixed header flags must be 0010 in 3.1.1.
		name: "SUBSCRIBE with flags 0000",
		pdus: []pdu{{up, connect311}, {down, "20 02 00 00"}, {up, "80 08 000a 0003 612f62 01"}},
		want: want{code: 8, name: "subscribe", class: dissect.ClassRead, req: true, status: dissect.StatusMalformed, text: reasonFlags},
	}, {
		name: "PINGREQ and PINGRESP",
		pdus: []pdu{{up, "c0 00"}, {down, "d0 00"}},
		want: want{code: 12, name: "pingreq", class: dissect.ClassDiagnostics, req: true, resp: true, status: dissect.StatusOK},
	}, {
		name: "DISCONNECT",
		pdus: []pdu{{up, "e0 00"}},
		want: want{code: 14, name: "disconnect", class: dissect.ClassOther, req: true, status: dissect.StatusOK},
	}, {
		// 5.0 section 3.14.2.1: the broker disconnects with 0x8e session
		// taken over.
		name: "5.0 DISCONNECT from the broker",
		pdus: []pdu{{up, "10 13 0004 4d515454 05 02 003c 03 210014 0003 616263"}, {down, "20 03 00 00 00"}, {down, "e0 01 8e"}},
		want: want{code: 14, name: "disconnect", class: dissect.ClassOther, resp: true,
			status: dissect.StatusError, rcode: 0x8e, text: "session_taken_over"},
	}, {
		// 2.2.1: packet type 0 is reserved.
		name: "reserved packet type",
		pdus: []pdu{{up, "00 00"}},
		want: want{code: 0, name: "reserved", req: true, status: dissect.StatusMalformed, text: reasonReservedType},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops := run(t, tc.pdus...)
			check(t, ops[len(ops)-1], tc.want)
		})
	}
}

func TestFraming(t *testing.T) {
	// Several packets in one segment, one split over two.
	whole := dissecttest.Hex(t, "c000 e000 300a0003612f6268656c6c6f")
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	f.Feed(up, whole[:7])
	f.Feed(up, whole[7:])
	f.Session.Close(f.Ctx)
	var names []string
	for _, op := range c.Ops {
		names = append(names, op.FunctionName)
	}
	if got := strings.Join(names, " "); got != "disconnect publish pingreq" {
		t.Errorf("operations %q, want disconnect publish pingreq (the unanswered PINGREQ at close)", got)
	}

	// 2.2.3: a fifth remaining-length byte cannot be framed.
	c.Ops = nil
	f = &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	f.Feed(up, dissecttest.Hex(t, "30 ffffffff01 00"))
	if f.Err == nil || len(c.Ops) != 1 || c.Ops[0].Result.Text != reasonVarint {
		t.Errorf("err %v, ops %d, want an error and one malformed operation", f.Err, len(c.Ops))
	}
}

func TestLargePublish(t *testing.T) {
	// A 100000-byte PUBLISH is decoded from its header and its payload
	// skipped, however it is split; a PINGREQ follows.
	payload := strings.Repeat("00", 100000-5)
	data := dissecttest.Hex(t, "30 a08d06 0003 612f62"+payload+"c000")
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	for i := 0; i < len(data); i += 1460 {
		f.Feed(up, data[i:min(i+1460, len(data))])
	}
	f.Session.Close(f.Ctx)
	if f.Err != nil || len(c.Ops) != 2 || c.Ops[0].Targets[0].Name != "a/b" || c.Ops[1].FunctionName != "pingreq" {
		t.Fatalf("err %v, ops:\n%s", f.Err, c.JSONL())
	}
	// Bytes lost inside the payload keep the framing.
	c.Ops = nil
	f = &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	f.Feed(up, data[:1460])
	f.Session.Gap(up, 5000, f.Ctx)
	f.Feed(up, data[1460+5000:])
	f.Session.Close(f.Ctx)
	if len(c.Ops) != 2 || c.Ops[1].FunctionName != "pingreq" {
		t.Fatalf("after a gap inside the payload:\n%s", c.JSONL())
	}
}

func TestGap(t *testing.T) {
	// After a gap, the session finds the next whole packet.
	ops := func() []*dissect.Operation {
		flow := dissecttest.Flow(dissect.TransportTCP, Port)
		var c dissecttest.Collector
		f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
		f.Session.Gap(up, 10, f.Ctx)
		f.Feed(up, dissecttest.Hex(t, "6c6c6f 300a0003612f6268656c6c6f e000"))
		f.Session.Close(f.Ctx)
		return c.Ops
	}()
	if len(ops) != 2 || ops[0].FunctionName != "publish" || ops[1].FunctionName != "disconnect" {
		t.Errorf("got %d operations, want publish and disconnect", len(ops))
	}
}

func TestReversedRoles(t *testing.T) {
	// The flow table took the broker for the client: CONNECT arrives
	// towards the flow's client.
	flow := dissecttest.Flow(dissect.TransportTCP, 50000)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	f.Feed(down, dissecttest.Hex(t, connect311))
	f.Feed(up, dissecttest.Hex(t, "20020000"))
	f.Feed(down, dissecttest.Hex(t, "300a0003612f6268656c6c6f"))
	f.Session.Close(f.Ctx)
	if len(c.Ops) != 2 || !c.Ops[0].Request || !c.Ops[0].Response || c.Ops[1].Class != dissect.ClassWrite {
		t.Fatalf("ops:\n%s", c.JSONL())
	}
	if c.Ops[0].Client.IP != flow.Server.IP {
		t.Errorf("client %v, want the flow's server %v", c.Ops[0].Client.IP, flow.Server.IP)
	}
}

func TestProbe(t *testing.T) {
	for _, c := range []struct {
		hex string
		ok  bool
	}{
		{connect311, true},
		{"10 29 0006 4d5149736470 03 2e", true},
		{"10 1b 0004 4d515458 04", false},
		{"20 02 0000", false},
		{"10 ffffffff01 0004 4d515454", false},
		{"10", false},
	} {
		if got := (Dissector{}).Probe(dissecttest.Hex(t, c.hex)); got != c.ok {
			t.Errorf("Probe(%s) = %v, want %v", c.hex, got, c.ok)
		}
	}
}

func TestHostname(t *testing.T) {
	for id, ok := range map[string]bool{
		"plc1.plant.local": true, "gw-7.example.com": true,
		"myvoiceismypassport": false, "mosq-dRkAMvJQvimi16jz72": false, "a..b": false,
		"host.123": false, "-a.b": false, "a_b.c": false, "": false,
	} {
		if got := isHostname([]byte(id)); got != ok {
			t.Errorf("isHostname(%q) = %v, want %v", id, got, ok)
		}
	}
}

func TestDecimal(t *testing.T) {
	for v, s := range map[uint16]string{0: "0", 9: "9", 10: "10", 257: "257", 65535: "65535"} {
		if got := decimal(v); got != s {
			t.Errorf("decimal(%d) = %q", v, got)
		}
	}
}

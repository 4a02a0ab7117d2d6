package snmp

import (
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// BER encoders written from X.690 (8.3 INTEGER, 8.19 OBJECT IDENTIFIER;
// dissecttest.BER for identifier and definite length), independent of the
// decoder.
func berInt(v int64) []byte {
	b := []byte{byte(v)}
	for v >= 0x80 || v < -0x80 {
		v >>= 8
		b = append([]byte{byte(v)}, b...)
	}
	return dissecttest.BER(0x02, b)
}

func oid(s string) []byte {
	var arcs []uint64
	for _, p := range strings.Split(s, ".") {
		n, _ := strconv.ParseUint(p, 10, 32)
		arcs = append(arcs, n)
	}
	subs := append([]uint64{arcs[0]*40 + arcs[1]}, arcs[2:]...)
	var v []byte
	for _, sub := range subs {
		enc := []byte{byte(sub & 0x7f)}
		for sub >>= 7; sub > 0; sub >>= 7 {
			enc = append([]byte{byte(sub&0x7f) | 0x80}, enc...)
		}
		v = append(v, enc...)
	}
	return dissecttest.BER(0x06, v)
}

func str(s string) []byte { return dissecttest.BER(0x04, []byte(s)) }

var null = []byte{0x05, 0x00}

// usm is msgSecurityParameters holding UsmSecurityParameters (RFC 3414
// 2.4): engine id, boots, time, user name, authentication and privacy
// parameters.
func usm(engine, user string) []byte {
	return str(string(dissecttest.BER(0x30, str(engine), berInt(1), berInt(100), str(user), str(""), str(""))))
}

func varbind(name string, value []byte) []byte { return dissecttest.BER(0x30, oid(name), value) }

// message is an SNMPv1/v2c Message (RFC 1157 4, RFC 1901 3): version,
// community, PDU (RFC 3416 3: request-id, error-status, error-index,
// variable-bindings).
func message(version int64, community string, pdu byte, reqID, status, index int64, vbs ...[]byte) []byte {
	return dissecttest.BER(0x30, berInt(version), str(community),
		dissecttest.BER(0xa0+pdu, berInt(reqID), berInt(status), berInt(index), dissecttest.BER(0x30, vbs...)))
}

const (
	sysDescr    = "1.3.6.1.2.1.1.1.0"
	sysObjectID = "1.3.6.1.2.1.1.2.0"
	sysName     = "1.3.6.1.2.1.1.5.0"
)

var (
	getSystem = message(1, "public", PDUGet, 0x1234, 0, 0, varbind(sysDescr, null), varbind(sysName, null),
		varbind(sysObjectID, null))
	respSystem = message(1, "public", PDUResponse, 0x1234, 0, 0,
		varbind(sysDescr, str("Linux rtu-7 4.14.0 #1 armv7l")), varbind(sysName, str("rtu-7")),
		varbind(sysObjectID, oid("1.3.6.1.4.1.8072.3.2.10")))
	setName = message(0, "private", PDUSet, 77, 0, 0, varbind(sysName, str("pwned")))
	respRO  = message(0, "private", PDUResponse, 77, 4, 1, varbind(sysName, str("pwned")))
	bulk    = message(1, "s3cret", PDUGetBulk, 5, 0, 10, varbind("1.3.6.1.2.1.2.2.1", null))
	trapV2  = message(1, "public", PDUTrapV2, 9, 0, 0, varbind("1.3.6.1.2.1.1.3.0", dissecttest.BER(0x43, []byte{1})), varbind("1.3.6.1.6.3.1.1.4.1.0", oid("1.3.6.1.6.3.1.1.5.3")))
	trapV1  = dissecttest.BER(0x30, berInt(0), str("public"), dissecttest.BER(0xa4, oid("1.3.6.1.4.1.311"), dissecttest.BER(0x40, []byte{10, 10, 1, 7}),
		berInt(2), berInt(0), dissecttest.BER(0x43, []byte{0x10}), dissecttest.BER(0x30, varbind(sysName, str("plc-7")))))
	// SNMPv3 (RFC 3412 6): version 3, msgGlobalData (msgID, msgMaxSize,
	// msgFlags, msgSecurityModel 3 USM), msgSecurityParameters, data.
	v3Get = dissecttest.BER(0x30, berInt(3), dissecttest.BER(0x30, berInt(100), berInt(65507), str("\x04"), berInt(3)),
		usm("", ""), dissecttest.BER(0x30, str(""), str(""), dissecttest.BER(0xa0, berInt(200), berInt(0), berInt(0), dissecttest.BER(0x30))))
	v3Priv = dissecttest.BER(0x30, berInt(3), dissecttest.BER(0x30, berInt(101), berInt(65507), str("\x07"), berInt(3)),
		usm("\x80\x00\x1f\x88\x04engine", "operator"), str("\x8f\x12\x33 ciphertext"))
)

func TestMessages(t *testing.T) {
	tests := []struct {
		name      string
		msgs      [][]byte // alternately to server, to client
		fn        string
		code      int
		class     dissect.Class
		status    dissect.Status
		errCode   int
		errText   string
		req, resp bool
		targets   string
		facts     string
		attrs     string
	}{
		{"get system group (RFC 3416 4.2.1) and response", [][]byte{getSystem, respSystem}, "get", 0, dissect.ClassRead,
			dissect.StatusOK, 0, "", true, true, sysDescr + "," + sysName + "," + sysObjectID,
			"os=Linux rtu-7 4.14.0 #1 armv7l(server) hostname=rtu-7(server)",
			"version=v2c community=public cleartext_credentials=true sys_object_id=1.3.6.1.4.1.8072.3.2.10"},
		{"set refused readOnly (RFC 1157 4.1.5)", [][]byte{setName, respRO}, "set", 3, dissect.ClassWrite,
			dissect.StatusError, 4, "read_only", true, true, sysName, "",
			"version=v1 community=private cleartext_credentials=true"},
		{"getbulk unanswered, other community", [][]byte{bulk}, "getbulk", 5, dissect.ClassRead,
			dissect.StatusUnknown, 0, "", true, false, "1.3.6.1.2.1.2.2.1", "", ""},
		{"response without request", [][]byte{nil, respSystem}, "response", 2, dissect.ClassOther,
			dissect.StatusOK, 0, "", false, true, sysDescr + "," + sysName + "," + sysObjectID,
			"os=Linux rtu-7 4.14.0 #1 armv7l(server) hostname=rtu-7(server)", ""},
		{"SNMPv2 trap (RFC 3416 4.2.6)", [][]byte{trapV2}, "trap", 7, dissect.ClassOther,
			dissect.StatusOK, 0, "", true, false, "1.3.6.1.2.1.1.3.0,1.3.6.1.6.3.1.1.4.1.0", "",
			"version=v2c community=public cleartext_credentials=true trap_oid=1.3.6.1.6.3.1.1.5.3"},
		{"SNMPv1 trap linkDown (RFC 1157 4.1.6)", [][]byte{trapV1}, "trap", 4, dissect.ClassOther,
			dissect.StatusOK, 0, "", true, false, sysName, "ip=10.10.1.7 hostname=plc-7",
			"version=v1 community=public cleartext_credentials=true enterprise=1.3.6.1.4.1.311 generic_trap=link_down"},
		{"SNMPv3 discovery get, plaintext", [][]byte{v3Get}, "get", 0, dissect.ClassRead,
			dissect.StatusUnknown, 0, "", true, false, "", "", "version=v3 security_level=noAuthNoPriv"},
		{"SNMPv3 encrypted", [][]byte{v3Priv}, "encrypted", -1, dissect.ClassOther,
			dissect.StatusUnknown, 0, "", true, false, "", "", "version=v3 security_level=authPriv"},
		{"version 2", [][]byte{dissecttest.BER(0x30, berInt(2), str("public"))}, "malformed", 0, dissect.ClassOther,
			dissect.StatusMalformed, 0, "", false, false, "", "", ""},
		{"truncated", [][]byte{getSystem[:20]}, "malformed", 0, dissect.ClassOther,
			dissect.StatusMalformed, 0, "", false, false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c dissecttest.Collector
			flow := dissecttest.Flow(dissect.TransportUDP, AgentPort)
			s := Dissector{}.NewSession(flow)
			ctx := dissecttest.Context(flow, &c)
			for i, m := range tt.msgs {
				if m == nil {
					continue
				}
				ctx.Packet.Index = uint64(i)
				s.Feed(dissect.Direction(i%2), m, ctx)
			}
			s.Close(ctx)
			if len(c.Ops) != 1 {
				t.Fatalf("%d operations:\n%s", len(c.Ops), c.JSONL())
			}
			op := c.Ops[0]
			if op.FunctionName != tt.fn || op.FunctionCode != tt.code || op.Class != tt.class {
				t.Errorf("function %s %d %v, want %s %d %v", op.FunctionName, op.FunctionCode, op.Class, tt.fn, tt.code, tt.class)
			}
			if op.Result.Status != tt.status || op.Result.Code != tt.errCode || (tt.errText != "" && op.Result.Text != tt.errText) {
				t.Errorf("result %+v, want %v %d %s", op.Result, tt.status, tt.errCode, tt.errText)
			}
			if op.Request != tt.req || op.Response != tt.resp {
				t.Errorf("request %v response %v", op.Request, op.Response)
			}
			if tt.status == dissect.StatusMalformed {
				return
			}
			var tg, fs, as []string
			for _, x := range op.Targets {
				if x.Kind != "oid" {
					t.Errorf("target kind %q", x.Kind)
				}
				tg = append(tg, x.Name)
			}
			for _, f := range op.Identity {
				s := f.Key + "=" + f.Value
				if f.Server {
					s += "(server)"
				}
				fs = append(fs, s)
			}
			for _, a := range op.Attrs {
				as = append(as, a.Key+"="+a.Value)
			}
			if got := strings.Join(tg, ","); got != tt.targets {
				t.Errorf("targets %q, want %q", got, tt.targets)
			}
			if got := strings.Join(fs, " "); got != tt.facts {
				t.Errorf("facts %q, want %q", got, tt.facts)
			}
			if got := strings.Join(as, " "); tt.attrs != "" && got != tt.attrs {
				t.Errorf("attrs %q, want %q", got, tt.attrs)
			}
			if strings.Contains(c.JSONL(), "s3cret") || strings.Contains(c.JSONL(), "private\"}") && tt.fn == "getbulk" {
				t.Error("community string kept")
			}
		})
	}
}

func TestCommunityNeverKept(t *testing.T) {
	var c dissecttest.Collector
	flow := dissecttest.Flow(dissect.TransportUDP, AgentPort)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, &c)
	s.Feed(dissect.ToServer, bulk, ctx)
	s.Close(ctx)
	if out := c.JSONL(); strings.Contains(out, "s3cret") || !strings.Contains(out, `"community","value":"other"`) {
		t.Errorf("operation %s", out)
	}
}

func TestTCP(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportTCP, AgentPort)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	f.Feed(dissect.ToServer, getSystem[:3])
	f.Feed(dissect.ToServer, getSystem[3:])
	f.Feed(dissect.ToClient, respSystem)
	if len(c.Ops) != 1 || !c.Ops[0].Response || !c.Ops[0].Request {
		t.Fatalf("operations %s", c.JSONL())
	}
	f.Feed(dissect.ToServer, []byte("GET / HTTP/1.1\r\n"))
	if f.Err == nil {
		t.Error("no error for a stream that is not BER")
	}
	for _, m := range [][]byte{getSystem, respSystem, trapV1, v3Get, v3Priv, getSystem[:30]} {
		if !(Dissector{}).Probe(m) {
			t.Errorf("Probe(% x) = false", m)
		}
	}
	// An LDAP bindRequest (RFC 4511 4.2: SEQUENCE, messageID 1,
	// [APPLICATION 0]) also starts with a SEQUENCE and INTEGER 1.
	ldap := dissecttest.BER(0x30, berInt(1), dissecttest.BER(0x60, berInt(3), str("cn=admin"), dissecttest.BER(0x80, []byte("pw"))))
	for _, m := range [][]byte{[]byte("GET / HTTP/1.1\r\n"), ldap} {
		if (Dissector{}).Probe(m) {
			t.Errorf("Probe(% x) = true", m)
		}
	}
}

func TestNoAllocation(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportUDP, AgentPort)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	poll := func() {
		s.Feed(dissect.ToServer, getSystem, ctx)
		s.Feed(dissect.ToClient, respSystem, ctx)
	}
	poll()
	if n := testing.AllocsPerRun(100, poll); n != 0 {
		t.Errorf("%v allocations per poll, want 0", n)
	}
}

func BenchmarkPoll(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportUDP, AgentPort)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	b.ReportAllocs()
	b.SetBytes(int64(len(getSystem) + len(respSystem)))
	for b.Loop() {
		s.Feed(dissect.ToServer, getSystem, ctx)
		s.Feed(dissect.ToClient, respSystem, ctx)
	}
}

package mms_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/dissect/mms"
	"github.com/otwatch/otwatch/internal/dissect/s7comm"
)

// step is the bytes one side sends, as the front end on port 102 sees
// them (TPKT frames).
type step struct {
	toServer bool
	data     []byte
}

func c2s(tsdu []byte) step { return step{true, frames(tsdu, 1017)} }
func s2c(tsdu []byte) step { return step{false, frames(tsdu, 1017)} }

// opening is COTP CR/CC, CONNECT/ACCEPT with an accepted association.
var opening = []step{{true, crFrame}, {false, ccFrame}, c2s(connectTSDU), s2c(acceptTSDU)}

func run(t *testing.T, steps []step) []*dissect.Operation {
	t.Helper()
	flow := dissecttest.Flow(dissect.TransportTCP, s7comm.Port)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: s7comm.Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	for i, s := range steps {
		dir := dissect.ToServer
		if !s.toServer {
			dir = dissect.ToClient
		}
		f.Ctx.Packet.Index = uint64(i)
		f.Feed(dir, s.data)
	}
	f.Session.Close(f.Ctx)
	if f.Err != nil {
		t.Fatalf("Feed: %v", f.Err)
	}
	return c.Ops
}

type want struct {
	fn        string
	code      int
	class     dissect.Class
	status    dissect.Status
	errCode   int
	text      string
	req, resp bool
	attrs     map[string]string
	targets   []string // kind:name
	facts     map[string]string
	packets   int
}

func check(t *testing.T, ops []*dissect.Operation, wants []want) {
	t.Helper()
	var mmsOps []*dissect.Operation
	for _, op := range ops {
		if op.Protocol == mms.Protocol {
			mmsOps = append(mmsOps, op)
		}
	}
	if len(mmsOps) != len(wants) {
		for _, op := range ops {
			t.Logf("%s %s %+v %v %v", op.Protocol, op.FunctionName, op.Result, op.Targets, op.Attrs)
		}
		t.Fatalf("%d mms operations, want %d", len(mmsOps), len(wants))
	}
	for i, w := range wants {
		op := mmsOps[i]
		if op.FunctionName != w.fn || op.FunctionCode != w.code || op.Class != w.class {
			t.Errorf("op %d: %s(%#x) %v, want %s(%#x) %v", i, op.FunctionName, op.FunctionCode, op.Class, w.fn, w.code, w.class)
		}
		if op.Result.Status != w.status || op.Result.Code != w.errCode || w.text != "" && op.Result.Text != w.text {
			t.Errorf("op %d %s: result %+v, want %v %#x %q", i, w.fn, op.Result, w.status, w.errCode, w.text)
		}
		if op.Request != w.req || op.Response != w.resp {
			t.Errorf("op %d %s: request %v response %v, want %v %v", i, w.fn, op.Request, op.Response, w.req, w.resp)
		}
		for k, v := range w.attrs {
			if got := op.Attr(k); got != v {
				t.Errorf("op %d %s: attr %s = %q, want %q", i, w.fn, k, got, v)
			}
		}
		var tg []string
		for _, x := range op.Targets {
			tg = append(tg, x.Kind+":"+x.Name)
		}
		if strings.Join(tg, " ") != strings.Join(w.targets, " ") {
			t.Errorf("op %d %s: targets %v, want %v", i, w.fn, tg, w.targets)
		}
		for k, v := range w.facts {
			if got := dissecttest.Fact(op, k); got != v {
				t.Errorf("op %d %s: fact %s = %q, want %q", i, w.fn, k, got, v)
			}
		}
		if w.packets != 0 && len(op.Packets) != w.packets {
			t.Errorf("op %d %s: %d packets, want %d", i, w.fn, len(op.Packets), w.packets)
		}
	}
}

var initiateOK = want{fn: "initiate", code: 0x108, class: dissect.ClassOther, status: dissect.StatusOK, req: true, resp: true}

const ld = "IED1LD0"

func readReq(id int64, items ...string) []byte {
	var names [][2]string
	for _, it := range items {
		names = append(names, [2]string{ld, it})
	}
	return dataTSDU(confReq(id, enc("a4", enc("a1", listOfVariable(names...)))))
}

// Cases follow ISO 9506-2 (MMS), ISO 8650-1 (ACSE), ISO 8823-1
// (presentation) and ISO 8327-1 (session); the PDUs are built by the
// helpers of build_test.go from their ASN.1.
func TestOperations(t *testing.T) {
	readOK := dataTSDU(confResp(5, enc("a4", enc("a1", h("85 01 01")))))
	tests := []struct {
		name  string
		steps []step
		want  []want
	}{
		{"association: initiate parameters, negotiated values replace proposed ones", opening, []want{{
			fn: "initiate", code: 0x108, class: dissect.ClassOther, status: dissect.StatusOK, req: true, resp: true,
			attrs: map[string]string{
				"calling_tsap": "0x0001", "called_tsap": "0x0001", "calling_ssel": "0x0001", "called_psel": "0x00000001",
				"application_context": "1.0.9506.2.3", "calling_ap_title": "1.1.1.999", "called_ap_title": "1.1.1.999.1",
				"calling_ae_qualifier": "12", "responding_ap_title": "1.1.1.999.1",
				"local_detail": "65000", "max_serv_outstanding_calling": "5", "max_serv_outstanding_called": "5",
				"nesting_level": "4", "version": "1", "parameter_cbb": "str1,str2,vnam,valt,vlis",
				"services_supported_calling": "0xee1c00000408000079ef18", "services_supported_called": "0xee1c00000408000079ef18",
			}}}},
		{"association refused: authentication failure (AARE result 1, diagnostic 13)", []step{
			{true, crFrame}, {false, ccFrame},
			c2s(connectSPDU(cp(aarq(initiateRequest(), "s3cret")))),
			s2c(acceptSPDU(cpa(aare(1, 13, nil)))),
		}, []want{{fn: "initiate", code: 0x108, class: dissect.ClassOther, status: dissect.StatusError, errCode: 13, text: "authentication-failure",
			req: true, resp: true, attrs: map[string]string{"authentication": "password", "authentication_value": "charstring", "acse_result": "rejected-permanent"}}}},
		{"initiate-ErrorPDU: initiate (8) version-incompatible (1)", []step{
			c2s(connectTSDU),
			s2c(acceptSPDU(cpa(aare(1, 1, enc("aa", enc("a0", integer("88", 1))))))),
		}, []want{{fn: "initiate", code: 0x108, class: dissect.ClassOther, status: dissect.StatusError, errCode: 0x0801,
			text: "initiate: version-incompatible", req: true, resp: true}}},
		{"session REFUSE, reason 132", []step{
			c2s(connectTSDU),
			s2c(spdu(12, param(20, h("0002")), param(50, h("84")))),
		}, []want{{fn: "initiate", code: 0x108, class: dissect.ClassOther, status: dissect.StatusError, errCode: 132,
			text: "proposed protocol versions not supported", req: true, resp: true}}},
		{"identify: vendor, model, revision of the server", append(opening[:4:4],
			c2s(dataTSDU(confReq(1, h("82 00")))),
			s2c(dataTSDU(confResp(1, enc("a2", str("80", "ACME"), str("81", "IED 9"), str("82", "V2.01")))))),
			[]want{initiateOK, {fn: "identify", code: 2, class: dissect.ClassDiscovery, status: dissect.StatusOK, req: true, resp: true,
				facts: map[string]string{dissect.FactVendor: "ACME", dissect.FactModel: "IED 9", dissect.FactFirmware: "V2.01"}}}},
		{"capture starting mid-connection: GT+DT decides", []step{
			c2s(readReq(5, "LLN0$ST$Mod$stVal")), s2c(readOK),
		}, []want{{fn: "read", code: 4, class: dissect.ClassRead, status: dissect.StatusOK, req: true, resp: true,
			targets: []string{"variable:IED1LD0/LLN0$ST$Mod$stVal"}}}},
		{"confirmed-ErrorPDU: access (7) object-non-existent (2)", []step{
			c2s(readReq(5, "X$Y")), s2c(dataTSDU(confErr(5, 7, 2))),
		}, []want{{fn: "read", code: 4, class: dissect.ClassRead, status: dissect.StatusError, errCode: 0x0702, text: "access: object-non-existent",
			req: true, resp: true, attrs: map[string]string{"error_class": "access"}, targets: []string{"variable:IED1LD0/X$Y"}}}},
		{"write failure: DataAccessError object-access-denied (3)", []step{
			c2s(dataTSDU(confReq(9, enc("a5", listOfVariable([2]string{ld, "CSWI1$CO$Pos$Oper"}, [2]string{ld, "CSWI2$CO$Pos$Oper"}),
				enc("a0", h("83 01 ff"), h("83 01 ff")))))),
			s2c(dataTSDU(confResp(9, enc("a5", h("81 00"), h("80 01 03"))))),
		}, []want{{fn: "write", code: 5, class: dissect.ClassWrite, status: dissect.StatusError, errCode: 3, text: "object-access-denied",
			req: true, resp: true, attrs: map[string]string{"variables": "2", "failures": "1"},
			targets: []string{"variable:IED1LD0/CSWI1$CO$Pos$Oper", "variable:IED1LD0/CSWI2$CO$Pos$Oper"}}}},
		{"response without its request", []step{s2c(readOK)},
			[]want{{fn: "read", code: 4, class: dissect.ClassRead, status: dissect.StatusOK, resp: true}}},
		{"request unanswered at close", []step{c2s(readReq(5, "A$B"))},
			[]want{{fn: "read", code: 4, class: dissect.ClassRead, status: dissect.StatusUnknown, req: true, targets: []string{"variable:IED1LD0/A$B"}}}},
		{"invokeID reused before the answer", []step{
			c2s(readReq(5, "A$B")), c2s(readReq(5, "C$D")), s2c(readOK),
		}, []want{
			{fn: "read", code: 4, class: dissect.ClassRead, status: dissect.StatusUnknown, req: true, targets: []string{"variable:IED1LD0/A$B"}},
			{fn: "read", code: 4, class: dissect.ClassRead, status: dissect.StatusOK, req: true, resp: true, targets: []string{"variable:IED1LD0/C$D"}},
		}},
		{"answer of another service does not pair", []step{
			c2s(readReq(5, "A$B")), s2c(dataTSDU(confResp(5, enc("a5", h("81 00"))))),
		}, []want{
			{fn: "write", code: 5, class: dissect.ClassWrite, status: dissect.StatusOK, resp: true},
			{fn: "read", code: 4, class: dissect.ClassRead, status: dissect.StatusUnknown, req: true, targets: []string{"variable:IED1LD0/A$B"}},
		}},
		{"reject of an unknown invokeID: pdu-error invalid-pdu", []step{
			s2c(dataTSDU(enc("a4", integer("80", 99), integer("85", 1)))),
		}, []want{{fn: "reject", code: 0x104, class: dissect.ClassOther, status: dissect.StatusError, errCode: 0x501, text: "invalid-pdu",
			resp: true, attrs: map[string]string{"reject": "pdu-error"}}}},
		{"information report of LastApplError (vmd-specific variable)", []step{
			s2c(dataTSDU(enc("a3", enc("a0", listOfVariable([2]string{"", "LastApplError"}), enc("a0", enc("a2", str("8a", "x"), h("85 01 03"))))))),
		}, []want{{fn: "information_report", code: 0x200, class: dissect.ClassRead, status: dissect.StatusOK, resp: true,
			targets: []string{"variable:LastApplError"}}}},
		{"unsolicited status", []step{
			s2c(dataTSDU(enc("a3", enc("a1", h("80 01 01"), h("81 01 02"))))),
		}, []want{{fn: "unsolicited_status", code: 0x201, class: dissect.ClassDiagnostics, status: dissect.StatusOK, resp: true,
			attrs: map[string]string{"vmd_logical_status": "no-state-changes-allowed", "vmd_physical_status": "inoperable"}}}},
		{"getNameList continuing after a name, in a domain", []step{
			c2s(dataTSDU(confReq(3, enc("a1", enc("a0", integer("80", 2)), enc("a1", str("81", ld)), str("82", "LLN0$DS1"))))),
			s2c(dataTSDU(confResp(3, enc("a1", enc("a0", str("1a", "LLN0$DS2")))))),
		}, []want{{fn: "get_name_list", code: 1, class: dissect.ClassDiscovery, status: dissect.StatusOK, req: true, resp: true,
			attrs:   map[string]string{"object_class": "named_variable_list", "scope": "domain", "continue_after": "LLN0$DS1", "names": "1", "more_follows": "true"},
			targets: []string{"domain:IED1LD0"}}}},
		{"domain download and program invocation kill", []step{
			c2s(dataTSDU(confReq(4, enc("ba", str("80", "PROG"), enc("a1"), h("82 01 00"))))),
			s2c(dataTSDU(confResp(4, h("9a 00")))),
			c2s(dataTSDU(confReq(6, enc("bf2c", str("80", "PI1"))))),
		}, []want{
			{fn: "initiate_download_sequence", code: 26, class: dissect.ClassProgram, status: dissect.StatusOK, req: true, resp: true,
				attrs: map[string]string{"direction": "download"}, targets: []string{"domain:PROG"}},
			{fn: "kill", code: 44, class: dissect.ClassControl, status: dissect.StatusUnknown, req: true,
				attrs: map[string]string{"plc_state": "stop"}, targets: []string{"program_invocation:PI1"}},
		}},
		{"ACSE abort in an ABORT SPDU", append(opening[:4:4],
			c2s(spdu(25, param(17, h("09")), param(193, enc("a0", enc("a0", integer("02", 3)), pdv(1, enc("64", integer("80", 0))))))),
		), []want{initiateOK, {fn: "abort", code: 0x304, class: dissect.ClassOther, status: dissect.StatusError, text: "aborted by the ACSE service user", req: true}}},
		{"conclude and release", []step{c2s(concludeReq), s2c(concludeResp), c2s(finishTSDU), s2c(disconnectTSDU)}, []want{
			{fn: "conclude", code: 0x10b, class: dissect.ClassOther, status: dissect.StatusOK, req: true, resp: true},
			{fn: "release", code: 0x302, class: dissect.ClassOther, status: dissect.StatusOK, req: true, resp: true, attrs: map[string]string{"release_reason": "normal"}},
		}},
		{"request spread over three DT TPDUs names its first packet", []step{
			// Three TPKT frames of 97, 97 and 67 octets, one packet each.
			{true, frames(readReq(5, strings.Repeat("A", 100), strings.Repeat("B", 100)), 90)[:97]},
			{true, frames(readReq(5, strings.Repeat("A", 100), strings.Repeat("B", 100)), 90)[97:194]},
			{true, frames(readReq(5, strings.Repeat("A", 100), strings.Repeat("B", 100)), 90)[194:]},
			s2c(readOK),
		}, []want{{fn: "read", code: 4, class: dissect.ClassRead, status: dissect.StatusOK, req: true, resp: true, packets: 3,
			targets: []string{"variable:IED1LD0/" + strings.Repeat("A", 100), "variable:IED1LD0/" + strings.Repeat("B", 100)}}}},
		{"malformed: BER length past the PDU", []step{c2s(cat(h("01 00 01 00"), pdv(3, h("a0 10 02 01 05"))))},
			[]want{{fn: "malformed", status: dissect.StatusMalformed, text: "invalid BER encoding of the MMS PDU", attrs: map[string]string{"violation": "invalid BER encoding of the MMS PDU"}}}},
		{"malformed: unknown MMS PDU type [14]", []step{c2s(dataTSDU(h("ae 00")))},
			[]want{{fn: "malformed", status: dissect.StatusMalformed, text: "unknown MMS PDU type"}}},
		{"malformed: invokeID missing", []step{c2s(dataTSDU(enc("a0", h("82 00"))))},
			[]want{{fn: "malformed", status: dissect.StatusMalformed, text: "missing or invalid invokeID"}}},
		{"malformed: SPDU length past the TSDU", append(opening[:4:4], c2s(h("0d 30 05 06 13 01 00"))),
			[]want{initiateOK, {fn: "malformed", status: dissect.StatusMalformed, text: "invalid session SPDU"}}},
		{"malformed: TSDU longer than 64 KiB", append(opening[:4:4], step{true, frames(dataTSDU(bytes.Repeat([]byte{0}, 70000)), 8000)}),
			[]want{initiateOK, {fn: "malformed", status: dissect.StatusMalformed, text: "TSDU longer than 64 KiB"}}},
		{"framing errors of an MMS connection are MMS operations", append(opening[:4:4], step{true, h("ff ff 00 11")}),
			[]want{initiateOK, {fn: "malformed", status: dissect.StatusMalformed, text: "not a TPKT frame"}}},
		{"an S7 connection ignores ISO session data", []step{
			{true, h("03 00 0016 11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102")},
			{true, h("03 00 0019 02 f0 80 32 01 0000 0100 0008 0000 f0 00 0001 0001 01e0")},
			c2s(readReq(5, "A$B")),
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, run(t, tt.steps), tt.want)
		})
	}
}

// TestNoSecrets checks that a password of the AARQ reaches no operation.
func TestNoSecrets(t *testing.T) {
	var c dissecttest.Collector
	flow := dissecttest.Flow(dissect.TransportTCP, s7comm.Port)
	f := &dissecttest.Feeder{Session: s7comm.Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	f.Feed(dissect.ToServer, frames(connectSPDU(cp(aarq(initiateRequest(), "s3cret-pw"))), 1017))
	f.Feed(dissect.ToClient, frames(acceptTSDU, 1017))
	if len(c.Ops) == 0 || strings.Contains(c.JSONL(), "s3cret-pw") {
		t.Errorf("operations %s", c.JSONL())
	}
}

// TestPendingBound checks that the pending table holds 32 requests: the
// 33rd reports the oldest unanswered at once.
func TestPendingBound(t *testing.T) {
	var steps []step
	for i := range 33 {
		steps = append(steps, c2s(readReq(int64(i), "A$B")))
	}
	flow := dissecttest.Flow(dissect.TransportTCP, s7comm.Port)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: s7comm.Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	for _, s := range steps {
		f.Feed(dissect.ToServer, s.data)
	}
	if len(c.Ops) != 1 || c.Ops[0].Request != true || c.Ops[0].Response {
		t.Fatalf("after 33 requests: %d operations", len(c.Ops))
	}
	f.Session.Close(f.Ctx)
	if len(c.Ops) != 33 {
		t.Errorf("after close: %d operations, want 33", len(c.Ops))
	}
}

// ISO 8327-1 section 8.3: CONNECT (13) and ACCEPT (14) parameter fields,
// and the GIVE TOKENS + DATA TRANSFER concatenation (6.3.7).
func TestIsSPDU(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"connect", connectTSDU, true},
		{"accept", acceptTSDU, true},
		{"connect cut inside its user data", connectTSDU[:40], true},
		{"GT and DT with fully encoded data", dataTSDU(h("8b 00")), true},
		{"GT and DT without presentation data", h("01 00 01 00 30 00"), false},
		{"connect with an unknown parameter", h("0d 02 03 04"), false},
		{"connect without parameters", h("0d 00 00 00"), false},
		{"S7comm", h("32 01 0000 0100 0008 0000"), false},
		{"short", h("0d 02"), false},
	}
	for _, tt := range tests {
		if got := mms.IsSPDU(tt.in); got != tt.want {
			t.Errorf("%s: IsSPDU = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The port 102 front end's probe finds MMS on other ports by its first
// DT.
func TestProbe(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"CONNECT in a DT", frames(connectTSDU, 1017), true},
		{"GT+DT in a DT", frames(dataTSDU(h("8b 00")), 1017), true},
		{"CR with ISO TSAPs (RFC 1006 alone says nothing)", crFrame, false},
		{"DT of another protocol", h("03 00 000b 02 f0 80 0d 02 0304"), false},
	}
	for _, tt := range tests {
		if got := (s7comm.Dissector{}).Probe(tt.in); got != tt.want {
			t.Errorf("%s: Probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestServiceName checks what the front end's session reports for the
// flow's service operation: the CR's transport selectors before data,
// the data after.
func TestServiceName(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		want  string
	}{
		{"CR with IEC 61850 TSAPs", []step{{true, crFrame}}, "mms"},
		{"CR with S7 TSAPs", []step{{true, h("03 00 0016 11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102")}}, "s7comm"},
		{"ISO session data after S7 TSAPs", []step{{true, h("03 00 0016 11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102")}, c2s(connectTSDU)}, "mms"},
		{"S7 data after ISO TSAPs", []step{{true, crFrame}, {true, h("03 00 0019 02 f0 80 32 01 0000 0100 0008 0000 f0 00 0001 0001 01e0")}}, "s7comm"},
		{"nothing seen", nil, "s7comm"},
	}
	for _, tt := range tests {
		flow := dissecttest.Flow(dissect.TransportTCP, s7comm.Port)
		sess := s7comm.Dissector{}.NewSession(flow)
		ctx := dissecttest.Context(flow, dissecttest.Discard)
		for _, st := range tt.steps {
			sess.Feed(dissect.ToServer, st.data, ctx)
		}
		named, ok := sess.(interface{ ServiceName() string })
		if !ok {
			t.Fatal("the port 102 session has no ServiceName")
		}
		if got := named.ServiceName(); got != tt.want {
			t.Errorf("%s: ServiceName = %q, want %q", tt.name, got, tt.want)
		}
	}
}

package iec104

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

const (
	c2s = dissect.ToServer
	s2c = dissect.ToClient
)

// msg is one chunk of a conversation.
type msg struct {
	dir dissect.Direction
	hex string
}

func run(t *testing.T, msgs []msg) []*dissect.Operation {
	t.Helper()
	var c dissecttest.Collector
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	for i, m := range msgs {
		f.Ctx.Packet.Index = uint64(i)
		f.Feed(m.dir, dissecttest.Hex(t, m.hex))
	}
	f.Session.Close(f.Ctx)
	if f.Err != nil {
		t.Fatalf("feed: %v", f.Err)
	}
	return c.Ops
}

// want is what a test expects of one operation.
type want struct {
	fn       string
	code     int
	class    dissect.Class
	req, rsp bool
	status   dissect.Status
	text     string
	attrs    map[string]string
	targets  []dissect.Target
	packets  int
}

func expect(t *testing.T, ops []*dissect.Operation, wants []want) {
	t.Helper()
	if len(ops) != len(wants) {
		for _, op := range ops {
			t.Logf("%s %d %v %q %v", op.FunctionName, op.FunctionCode, op.Result.Status, op.Result.Text, op.Attrs)
		}
		t.Fatalf("%d operations, want %d", len(ops), len(wants))
	}
	for i, w := range wants {
		op := ops[i]
		if op.FunctionName != w.fn || op.FunctionCode != w.code || op.Class != w.class {
			t.Errorf("op %d: %s (%d) %v, want %s (%d) %v", i, op.FunctionName, op.FunctionCode, op.Class, w.fn, w.code, w.class)
		}
		if op.Request != w.req || op.Response != w.rsp {
			t.Errorf("op %d %s: request %v response %v, want %v %v", i, w.fn, op.Request, op.Response, w.req, w.rsp)
		}
		if op.Result.Status != w.status || op.Result.Text != w.text {
			t.Errorf("op %d %s: result %v %q, want %v %q", i, w.fn, op.Result.Status, op.Result.Text, w.status, w.text)
		}
		for k, v := range w.attrs {
			if got := op.Attr(k); got != v {
				t.Errorf("op %d %s: attr %s = %q, want %q", i, w.fn, k, got, v)
			}
		}
		if w.targets != nil {
			if len(op.Targets) != len(w.targets) {
				t.Errorf("op %d %s: targets %v, want %v", i, w.fn, op.Targets, w.targets)
			} else {
				for j := range w.targets {
					if op.Targets[j] != w.targets[j] {
						t.Errorf("op %d %s: targets %v, want %v", i, w.fn, op.Targets, w.targets)
					}
				}
			}
		}
		if w.packets != 0 && len(op.Packets) != w.packets {
			t.Errorf("op %d %s: packets %v, want %d", i, w.fn, op.Packets, w.packets)
		}
	}
}

func ioa(addr, count uint32) dissect.Target {
	return dissect.Target{Kind: "ioa", Address: addr, Count: count}
}

// The APDUs are written from IEC 60870-5-104 clause 5 (APCI: 0x68, length,
// four control octets: I-format N(S)<<1 and N(R)<<1 little endian, S-format
// 0x01 0x00 N(R)<<1, U-format 0x07/0x0b STARTDT, 0x13/0x23 STOPDT,
// 0x43/0x83 TESTFR act/con) and clause 9 with IEC 60870-5-101 clause 7
// (ASDU: type, VSQ, COT, originator, common address, 3-octet IOAs).
func TestSession(t *testing.T) {
	ok, mal, er := dissect.StatusOK, dissect.StatusMalformed, dissect.StatusError
	tests := []struct {
		name string
		msgs []msg
		want []want
	}{
		{"startdt act/con", []msg{{c2s, "68 04 07 00 00 00"}, {s2c, "68 04 0b 00 00 00"}},
			[]want{{fn: "startdt", code: 0x07, req: true, rsp: true, status: ok, attrs: map[string]string{"initiator": "client"}, packets: 2}}},
		{"testfr from the server", []msg{{s2c, "68 04 43 00 00 00"}, {c2s, "68 04 83 00 00 00"}},
			[]want{{fn: "testfr", code: 0x43, class: dissect.ClassDiagnostics, req: true, rsp: true, status: ok, attrs: map[string]string{"initiator": "server"}}}},
		{"stopdt act unanswered", []msg{{c2s, "68 04 13 00 00 00"}},
			[]want{{fn: "stopdt", code: 0x13, req: true}}},
		{"testfr con without act", []msg{{c2s, "68 04 83 00 00 00"}},
			[]want{{fn: "testfr", code: 0x43, class: dissect.ClassDiagnostics, rsp: true, status: ok, attrs: map[string]string{"initiator": "server"}}}},
		{"invalid U function", []msg{{c2s, "68 04 0f 00 00 00"}},
			[]want{{fn: "u_format", req: true, status: mal, text: errUControl}}},
		{"S-format with ASDU", []msg{{c2s, "68 06 01 00 00 00 01 01"}},
			[]want{{fn: "s_format", req: true, status: mal, text: errSLength}}},
		// Single command select then execute (101 clause 7.2.6.15: SCO bit 7
		// S/E, bit 0 SCS; clause 7.4.3: the execute ends with ACTTERM).
		{"single command select before operate", []msg{
			{c2s, "68 0e 00 00 00 00 2d 01 06 00 0a 00 02 00 00 81"},
			{s2c, "68 0e 00 00 02 00 2d 01 07 00 0a 00 02 00 00 81"},
			{c2s, "68 0e 02 00 02 00 2d 01 06 00 0a 00 02 00 00 01"},
			{s2c, "68 0e 02 00 04 00 2d 01 07 00 0a 00 02 00 00 01"},
			{s2c, "68 0e 04 00 04 00 2d 01 0a 00 0a 00 02 00 00 01"},
		}, []want{
			{fn: "c_sc_na_1", code: 45, class: dissect.ClassControl, req: true, rsp: true, status: ok, packets: 2, targets: []dissect.Target{ioa(2, 1)},
				attrs: map[string]string{"select_execute": "select", "state": "on", "cause": "activation", "confirmation": "positive", "termination": ""}},
			{fn: "c_sc_na_1", code: 45, class: dissect.ClassControl, req: true, rsp: true, status: ok, packets: 3,
				attrs: map[string]string{"select_execute": "execute", "state": "on", "confirmation": "positive", "termination": "activation_termination"}},
		}},
		// Double command with a negative confirmation (P/N bit 0x40).
		{"double command refused", []msg{
			{c2s, "68 0e 00 00 00 00 2e 01 06 00 0a 00 05 00 00 06"},
			{s2c, "68 0e 00 00 02 00 2e 01 47 00 0a 00 05 00 00 06"},
		}, []want{{fn: "c_dc_na_1", code: 46, class: dissect.ClassControl, req: true, rsp: true, status: er, text: "negative_confirmation",
			attrs: map[string]string{"state": "on", "select_execute": "execute", "confirmation": "negative"}}}},
		{"command to an unknown IOA", []msg{
			{c2s, "68 0e 00 00 00 00 2d 01 06 00 0a 00 09 00 00 01"},
			{s2c, "68 0e 00 00 02 00 2d 01 6f 00 0a 00 09 00 00 01"},
		}, []want{{fn: "c_sc_na_1", code: 45, class: dissect.ClassControl, req: true, rsp: true, status: er, text: "unknown_ioa"}}},
		// Set point, short floating point 1.5 = 0x3fc00000, QOS 0.
		{"set point float", []msg{{c2s, "68 12 00 00 00 00 32 01 06 00 0a 00 01 00 00 00 00 c0 3f 00"}},
			[]want{{fn: "c_se_nc_1", code: 50, class: dissect.ClassControl, req: true, attrs: map[string]string{"value": "1.5", "qualifier": "0", "select_execute": "execute"}}}},
		// Set point, normalized -0.5 = 0xc000.
		{"set point normalized select", []msg{{c2s, "68 10 00 00 00 00 30 01 06 00 0a 00 01 00 00 00 c0 80"}},
			[]want{{fn: "c_se_na_1", code: 48, class: dissect.ClassControl, req: true, attrs: map[string]string{"value": "-0.5", "select_execute": "select"}}}},
		// Clock synchronisation: CP56Time2a 2013-07-04 06:23:16.788 (ms 16788 = 0x4194).
		{"clock synchronisation", []msg{
			{c2s, "68 14 00 00 00 00 67 01 06 00 0a 00 00 00 00 94 41 17 06 04 07 0d"},
			{s2c, "68 14 00 00 02 00 67 01 07 00 0a 00 00 00 00 94 41 17 06 04 07 0d"},
		}, []want{{fn: "c_cs_na_1", code: 103, class: dissect.ClassTime, req: true, rsp: true, status: ok, attrs: map[string]string{"time": "2013-07-04T06:23:16.788"}}}},
		{"reset process", []msg{{c2s, "68 0e 00 00 00 00 69 01 06 00 0a 00 00 00 00 01"}, {s2c, "68 0e 00 00 02 00 69 01 07 00 0a 00 00 00 00 01"}},
			[]want{{fn: "c_rp_na_1", code: 105, class: dissect.ClassRestart, req: true, rsp: true, status: ok, attrs: map[string]string{"qualifier": "general_reset"}}}},
		// Read command (cause 5, request) answered by the data (cause 5).
		{"read command", []msg{
			{c2s, "68 0d 00 00 00 00 66 01 05 00 0a 00 01 00 00"},
			{s2c, "68 12 00 00 02 00 0d 01 05 00 0a 00 01 00 00 00 00 80 3f 00"},
		}, []want{{fn: "c_rd_na_1", code: 102, class: dissect.ClassRead, req: true, rsp: true, status: ok, attrs: map[string]string{"response_type": "m_me_nc_1"}}}},
		// Two identical interrogations outstanding are answered in order
		// (101 clause 7.4.5: ACTCON, data, ACTTERM).
		{"interrogations in order", []msg{
			{c2s, "68 0e 00 00 00 00 64 01 06 00 0a 00 00 00 00 14"},
			{c2s, "68 0e 02 00 00 00 64 01 06 00 0a 00 00 00 00 14"},
			{s2c, "68 0e 00 00 04 00 64 01 07 00 0a 00 00 00 00 14"},
			{s2c, "68 0e 02 00 04 00 64 01 0a 00 0a 00 00 00 00 14"},
			{s2c, "68 0e 04 00 04 00 64 01 07 00 0a 00 00 00 00 14"},
			{s2c, "68 0e 06 00 04 00 64 01 0a 00 0a 00 00 00 00 14"},
		}, []want{
			{fn: "c_ic_na_1", code: 100, class: dissect.ClassRead, req: true, rsp: true, status: ok, packets: 3, attrs: map[string]string{"qualifier": "station", "termination": "activation_termination"}},
			{fn: "c_ic_na_1", code: 100, class: dissect.ClassRead, req: true, rsp: true, status: ok, packets: 3, attrs: map[string]string{"qualifier": "station", "termination": "activation_termination"}},
		}},
		// Measured values, short floating point, two objects (SQ=0).
		{"monitoring SQ=0", []msg{{s2c, "68 1a 00 00 00 00 0d 02 03 00 0a 00 01 00 00 00 00 80 3f 00 02 00 00 00 00 00 40 00"}},
			[]want{{fn: "m_me_nc_1", code: 13, class: dissect.ClassRead, rsp: true, targets: []dissect.Target{ioa(1, 1), ioa(2, 1)},
				attrs: map[string]string{"cause": "spontaneous", "objects": "2", "originator": "0"}}}},
		// Single points, SQ=1, three elements from IOA 100, originator 9.
		{"monitoring SQ=1", []msg{{s2c, "68 10 00 00 00 00 01 83 14 09 0a 00 64 00 00 01 00 01"}},
			[]want{{fn: "m_sp_na_1", code: 1, class: dissect.ClassRead, rsp: true, targets: []dissect.Target{ioa(100, 3)},
				attrs: map[string]string{"cause": "interrogated_by_station", "objects": "3", "originator": "9"}}}},
		{"end of initialisation", []msg{{s2c, "68 0e 00 00 00 00 46 01 04 00 0a 00 00 00 00 00"}},
			[]want{{fn: "m_ei_na_1", code: 70, class: dissect.ClassRestart, rsp: true, attrs: map[string]string{"cause": "initialized"}}}},
		{"truncated object", []msg{{s2c, "68 12 00 00 00 00 0d 02 03 00 0a 00 01 00 00 00 00 80 3f 00"}},
			[]want{{fn: "m_me_nc_1", code: 13, class: dissect.ClassRead, rsp: true, status: mal, text: errTruncated}}},
		{"trailing octets", []msg{{s2c, "68 13 00 00 00 00 0d 01 03 00 0a 00 01 00 00 00 00 80 3f 00 ff"}},
			[]want{{fn: "m_me_nc_1", code: 13, class: dissect.ClassRead, rsp: true, status: mal, text: errTrailing}}},
		{"reserved type", []msg{{s2c, "68 0e 00 00 00 00 16 01 03 00 0a 00 01 00 00 00"}},
			[]want{{fn: "reserved", code: 22, rsp: true, status: mal, text: errReserved}}},
		{"short ASDU", []msg{{s2c, "68 08 00 00 00 00 01 01 03 00"}},
			[]want{{fn: "asdu", rsp: true, status: mal, text: errShortASDU}}},
		// Sequence numbers (104 clause 5.1): N(S) counts up by one per
		// I-format APDU; N(R) acknowledges up to N(R)-1.
		{"sequence gap", []msg{
			{s2c, "68 0e 00 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
			{s2c, "68 0e 04 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
		}, []want{
			{fn: "m_ei_na_1", code: 70, class: dissect.ClassRestart, rsp: true},
			{fn: "i_format", rsp: true, status: mal, text: "sequence gap: expected 1 got 2"},
			{fn: "m_ei_na_1", code: 70, class: dissect.ClassRestart, rsp: true},
		}},
		{"sequence repeat", []msg{
			{s2c, "68 0e 0a 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
			{s2c, "68 0e 0a 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
		}, []want{
			{fn: "m_ei_na_1", code: 70, class: dissect.ClassRestart, rsp: true},
			{fn: "i_format", rsp: true, status: mal, text: "sequence repeat: expected 6 got 5"},
			{fn: "m_ei_na_1", code: 70, class: dissect.ClassRestart, rsp: true},
		}},
		{"sequence wraps at 32767", []msg{
			{s2c, "68 0e fe ff 00 00 46 01 04 00 0a 00 00 00 00 00"},
			{s2c, "68 0e 00 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
			{c2s, "68 04 01 00 02 00"},
		}, []want{
			{fn: "m_ei_na_1", code: 70, class: dissect.ClassRestart, rsp: true},
			{fn: "m_ei_na_1", code: 70, class: dissect.ClassRestart, rsp: true},
		}},
		{"acknowledgement beyond sent", []msg{
			{s2c, "68 0e 00 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
			{c2s, "68 04 01 00 02 00"},
			{c2s, "68 04 01 00 0a 00"},
		}, []want{
			{fn: "m_ei_na_1", code: 70, class: dissect.ClassRestart, rsp: true},
			{fn: "s_format", req: true, status: mal, text: "acknowledgement beyond sent: next unsent 1 got 5"},
		}},
		{"junk before an APDU", []msg{{c2s, "00 01 02 68 04 07 00 00 00"}}, []want{
			{fn: "apdu", req: true, status: mal, text: errOutside},
			{fn: "startdt", code: 0x07, req: true},
		}},
		{"bad length", []msg{{c2s, "68 02 68 04 43 00 00 00"}}, []want{
			{fn: "apdu", req: true, status: mal, text: errLength},
			{fn: "testfr", code: 0x43, class: dissect.ClassDiagnostics, req: true},
		}},
		{"command unanswered at close", []msg{{c2s, "68 0e 00 00 00 00 2f 01 06 00 0a 00 03 00 00 02"}},
			[]want{{fn: "c_rc_na_1", code: 47, class: dissect.ClassControl, req: true, attrs: map[string]string{"state": "higher"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { expect(t, run(t, tt.msgs), tt.want) })
	}
}

func TestCommonAddressFact(t *testing.T) {
	ops := run(t, []msg{{s2c, "68 0e 00 00 00 00 46 01 04 00 14 29 00 00 00 00"}})
	if len(ops) != 1 || len(ops[0].Identity) != 1 {
		t.Fatalf("operations %v", ops)
	}
	// Common address 0x2914 = 10516, as tshark prints iec60870_asdu.addr.
	if f := ops[0].Identity[0]; f.Key != dissect.FactAddress || f.Value != "10516" || !f.Server {
		t.Errorf("fact %+v", f)
	}
	// The global address 0xffff names no station.
	ops = run(t, []msg{{c2s, "68 0e 00 00 00 00 64 01 06 00 ff ff 00 00 00 14"}})
	if len(ops) != 1 || len(ops[0].Identity) != 0 {
		t.Errorf("broadcast interrogation identity %v", ops[0].Identity)
	}
}

func TestPairWindow(t *testing.T) {
	var c dissecttest.Collector
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	f.Feed(c2s, dissecttest.Hex(t, "68 0e 00 00 00 00 2d 01 06 00 0a 00 02 00 00 01"))
	f.Ctx.Time = f.Ctx.Time.Add(pairWindow + 1)
	f.Feed(c2s, dissecttest.Hex(t, "68 0e 02 00 00 00 2d 01 06 00 0a 00 03 00 00 01"))
	if len(c.Ops) != 1 || c.Ops[0].Response || c.Ops[0].Targets[0].Address != 2 {
		t.Fatalf("expired command not emitted: %s", c.JSONL())
	}
}

func TestProbe(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"68 04 07 00 00 00", true},
		{"68 04 43 00 00 00", true},
		{"68 04 01 00 0a 00", true},
		{"68 0e 00 00 00 00 64 01 06 00 0a 00 00 00 00 14", true},
		{"68 04 0f 00 00 00", false}, // two U functions
		{"68 04 07 01 00 00", false}, // U-format with non-zero octet
		{"68 06 07 00 00 00 00 00", false},
		{"68 03 07 00 00", false},
		{"68 fe 00 00 00 00", false},
		{"05 64 05 c0 01 00", false},
		{"68 0e 00 00 00 00 00 01", false}, // type 0 is not used
	} {
		if got := (Dissector{}).Probe(dissecttest.Hex(t, tt.in)); got != tt.ok {
			t.Errorf("Probe(%s) = %v, want %v", tt.in, got, tt.ok)
		}
	}
}

func TestNames(t *testing.T) {
	// IEC 60870-5-101 table 8/9 and 104 table 1; table 14 for causes.
	for id, name := range map[uint8]string{1: "m_sp_na_1", 36: "m_me_tf_1", 45: "c_sc_na_1", 58: "c_sc_ta_1",
		100: "c_ic_na_1", 107: "c_ts_ta_1", 120: "f_fr_na_1", 2: "m_sp_ta_1", 22: "reserved", 85: "s_ks_na_1", 200: "private"} {
		if got := TypeName(id); got != name {
			t.Errorf("TypeName(%d) = %s, want %s", id, got, name)
		}
	}
	for cot, name := range map[uint8]string{3: "spontaneous", 7: "activation_confirmation", 10: "activation_termination",
		20: "interrogated_by_station", 44: "unknown_type_id", 47: "unknown_ioa", 14: "authentication", 18: "reserved", 50: "private"} {
		if got := CauseName(cot); got != name {
			t.Errorf("CauseName(%d) = %s, want %s", cot, got, name)
		}
	}
}

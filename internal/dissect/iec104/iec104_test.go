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
		msgs []dissecttest.Chunk
		want []dissecttest.Want
	}{
		{"startdt act/con", []dissecttest.Chunk{{Dir: c2s, Hex: "68 04 07 00 00 00"}, {Dir: s2c, Hex: "68 04 0b 00 00 00"}},
			[]dissecttest.Want{{Fn: "startdt", Code: 0x07, Req: true, Rsp: true, Status: ok, Attrs: map[string]string{"initiator": "client"}, Packets: 2}}},
		{"testfr from the server", []dissecttest.Chunk{{Dir: s2c, Hex: "68 04 43 00 00 00"}, {Dir: c2s, Hex: "68 04 83 00 00 00"}},
			[]dissecttest.Want{{Fn: "testfr", Code: 0x43, Class: dissect.ClassDiagnostics, Req: true, Rsp: true, Status: ok, Attrs: map[string]string{"initiator": "server"}}}},
		{"stopdt act unanswered", []dissecttest.Chunk{{Dir: c2s, Hex: "68 04 13 00 00 00"}},
			[]dissecttest.Want{{Fn: "stopdt", Code: 0x13, Req: true}}},
		{"testfr con without act", []dissecttest.Chunk{{Dir: c2s, Hex: "68 04 83 00 00 00"}},
			[]dissecttest.Want{{Fn: "testfr", Code: 0x43, Class: dissect.ClassDiagnostics, Rsp: true, Status: ok, Attrs: map[string]string{"initiator": "server"}}}},
		{"invalid U function", []dissecttest.Chunk{{Dir: c2s, Hex: "68 04 0f 00 00 00"}},
			[]dissecttest.Want{{Fn: "u_format", Req: true, Status: mal, Text: errUControl}}},
		{"S-format with ASDU", []dissecttest.Chunk{{Dir: c2s, Hex: "68 06 01 00 00 00 01 01"}},
			[]dissecttest.Want{{Fn: "s_format", Req: true, Status: mal, Text: errSLength}}},
		// Single command select then execute (101 clause 7.2.6.15: SCO bit 7
		// S/E, bit 0 SCS; clause 7.4.3: the execute ends with ACTTERM).
		{"single command select before operate", []dissecttest.Chunk{
			{Dir: c2s, Hex: "68 0e 00 00 00 00 2d 01 06 00 0a 00 02 00 00 81"},
			{Dir: s2c, Hex: "68 0e 00 00 02 00 2d 01 07 00 0a 00 02 00 00 81"},
			{Dir: c2s, Hex: "68 0e 02 00 02 00 2d 01 06 00 0a 00 02 00 00 01"},
			{Dir: s2c, Hex: "68 0e 02 00 04 00 2d 01 07 00 0a 00 02 00 00 01"},
			{Dir: s2c, Hex: "68 0e 04 00 04 00 2d 01 0a 00 0a 00 02 00 00 01"},
		}, []dissecttest.Want{
			{Fn: "c_sc_na_1", Code: 45, Class: dissect.ClassControl, Req: true, Rsp: true, Status: ok, Packets: 2, Targets: []dissect.Target{ioa(2, 1)},
				Attrs: map[string]string{"select_execute": "select", "state": "on", "cause": "activation", "confirmation": "positive", "termination": ""}},
			{Fn: "c_sc_na_1", Code: 45, Class: dissect.ClassControl, Req: true, Rsp: true, Status: ok, Packets: 3,
				Attrs: map[string]string{"select_execute": "execute", "state": "on", "confirmation": "positive", "termination": "activation_termination"}},
		}},
		// Double command with a negative confirmation (P/N bit 0x40).
		{"double command refused", []dissecttest.Chunk{
			{Dir: c2s, Hex: "68 0e 00 00 00 00 2e 01 06 00 0a 00 05 00 00 06"},
			{Dir: s2c, Hex: "68 0e 00 00 02 00 2e 01 47 00 0a 00 05 00 00 06"},
		}, []dissecttest.Want{{Fn: "c_dc_na_1", Code: 46, Class: dissect.ClassControl, Req: true, Rsp: true, Status: er, RCode: 7, Text: "negative_confirmation",
			Attrs: map[string]string{"state": "on", "select_execute": "execute", "confirmation": "negative"}}}},
		{"command to an unknown IOA", []dissecttest.Chunk{
			{Dir: c2s, Hex: "68 0e 00 00 00 00 2d 01 06 00 0a 00 09 00 00 01"},
			{Dir: s2c, Hex: "68 0e 00 00 02 00 2d 01 6f 00 0a 00 09 00 00 01"},
		}, []dissecttest.Want{{Fn: "c_sc_na_1", Code: 45, Class: dissect.ClassControl, Req: true, Rsp: true, Status: er, RCode: 47, Text: "unknown_ioa"}}},
		// Set point, short floating point 1.5 = 0x3fc00000, QOS 0.
		{"set point float", []dissecttest.Chunk{{Dir: c2s, Hex: "68 12 00 00 00 00 32 01 06 00 0a 00 01 00 00 00 00 c0 3f 00"}},
			[]dissecttest.Want{{Fn: "c_se_nc_1", Code: 50, Class: dissect.ClassControl, Req: true, Attrs: map[string]string{"value": "1.5", "qualifier": "0", "select_execute": "execute"}}}},
		// Set point, normalized -0.5 = 0xc000.
		{"set point normalized select", []dissecttest.Chunk{{Dir: c2s, Hex: "68 10 00 00 00 00 30 01 06 00 0a 00 01 00 00 00 c0 80"}},
			[]dissecttest.Want{{Fn: "c_se_na_1", Code: 48, Class: dissect.ClassControl, Req: true, Attrs: map[string]string{"value": "-0.5", "select_execute": "select"}}}},
		// Clock synchronisation: CP56Time2a 2013-07-04 06:23:16.788 (ms 16788 = 0x4194).
		{"clock synchronisation", []dissecttest.Chunk{
			{Dir: c2s, Hex: "68 14 00 00 00 00 67 01 06 00 0a 00 00 00 00 94 41 17 06 04 07 0d"},
			{Dir: s2c, Hex: "68 14 00 00 02 00 67 01 07 00 0a 00 00 00 00 94 41 17 06 04 07 0d"},
		}, []dissecttest.Want{{Fn: "c_cs_na_1", Code: 103, Class: dissect.ClassTime, Req: true, Rsp: true, Status: ok, Attrs: map[string]string{"time": "2013-07-04T06:23:16.788"}}}},
		{"reset process", []dissecttest.Chunk{{Dir: c2s, Hex: "68 0e 00 00 00 00 69 01 06 00 0a 00 00 00 00 01"}, {Dir: s2c, Hex: "68 0e 00 00 02 00 69 01 07 00 0a 00 00 00 00 01"}},
			[]dissecttest.Want{{Fn: "c_rp_na_1", Code: 105, Class: dissect.ClassRestart, Req: true, Rsp: true, Status: ok, Attrs: map[string]string{"qualifier": "general_reset"}}}},
		// Read command (cause 5, request) answered by the data (cause 5).
		{"read command", []dissecttest.Chunk{
			{Dir: c2s, Hex: "68 0d 00 00 00 00 66 01 05 00 0a 00 01 00 00"},
			{Dir: s2c, Hex: "68 12 00 00 02 00 0d 01 05 00 0a 00 01 00 00 00 00 80 3f 00"},
		}, []dissecttest.Want{{Fn: "c_rd_na_1", Code: 102, Class: dissect.ClassRead, Req: true, Rsp: true, Status: ok, Attrs: map[string]string{"response_type": "m_me_nc_1"}}}},
		// Two identical interrogations outstanding are answered in order
		// (101 clause 7.4.5: ACTCON, data, ACTTERM).
		{"interrogations in order", []dissecttest.Chunk{
			{Dir: c2s, Hex: "68 0e 00 00 00 00 64 01 06 00 0a 00 00 00 00 14"},
			{Dir: c2s, Hex: "68 0e 02 00 00 00 64 01 06 00 0a 00 00 00 00 14"},
			{Dir: s2c, Hex: "68 0e 00 00 04 00 64 01 07 00 0a 00 00 00 00 14"},
			{Dir: s2c, Hex: "68 0e 02 00 04 00 64 01 0a 00 0a 00 00 00 00 14"},
			{Dir: s2c, Hex: "68 0e 04 00 04 00 64 01 07 00 0a 00 00 00 00 14"},
			{Dir: s2c, Hex: "68 0e 06 00 04 00 64 01 0a 00 0a 00 00 00 00 14"},
		}, []dissecttest.Want{
			{Fn: "c_ic_na_1", Code: 100, Class: dissect.ClassRead, Req: true, Rsp: true, Status: ok, Packets: 3, Attrs: map[string]string{"qualifier": "station", "termination": "activation_termination"}},
			{Fn: "c_ic_na_1", Code: 100, Class: dissect.ClassRead, Req: true, Rsp: true, Status: ok, Packets: 3, Attrs: map[string]string{"qualifier": "station", "termination": "activation_termination"}},
		}},
		// Measured values, short floating point, two objects (SQ=0).
		{"monitoring SQ=0", []dissecttest.Chunk{{Dir: s2c, Hex: "68 1a 00 00 00 00 0d 02 03 00 0a 00 01 00 00 00 00 80 3f 00 02 00 00 00 00 00 40 00"}},
			[]dissecttest.Want{{Fn: "m_me_nc_1", Code: 13, Class: dissect.ClassRead, Rsp: true, Targets: []dissect.Target{ioa(1, 1), ioa(2, 1)},
				Attrs: map[string]string{"cause": "spontaneous", "objects": "2", "originator": "0"}}}},
		// Single points, SQ=1, three elements from IOA 100, originator 9.
		{"monitoring SQ=1", []dissecttest.Chunk{{Dir: s2c, Hex: "68 10 00 00 00 00 01 83 14 09 0a 00 64 00 00 01 00 01"}},
			[]dissecttest.Want{{Fn: "m_sp_na_1", Code: 1, Class: dissect.ClassRead, Rsp: true, Targets: []dissect.Target{ioa(100, 3)},
				Attrs: map[string]string{"cause": "interrogated_by_station", "objects": "3", "originator": "9"}}}},
		{"end of initialisation", []dissecttest.Chunk{{Dir: s2c, Hex: "68 0e 00 00 00 00 46 01 04 00 0a 00 00 00 00 00"}},
			[]dissecttest.Want{{Fn: "m_ei_na_1", Code: 70, Class: dissect.ClassRestart, Rsp: true, Attrs: map[string]string{"cause": "initialized"}}}},
		{"truncated object", []dissecttest.Chunk{{Dir: s2c, Hex: "68 12 00 00 00 00 0d 02 03 00 0a 00 01 00 00 00 00 80 3f 00"}},
			[]dissecttest.Want{{Fn: "m_me_nc_1", Code: 13, Class: dissect.ClassRead, Rsp: true, Status: mal, Text: errTruncated}}},
		{"trailing octets", []dissecttest.Chunk{{Dir: s2c, Hex: "68 13 00 00 00 00 0d 01 03 00 0a 00 01 00 00 00 00 80 3f 00 ff"}},
			[]dissecttest.Want{{Fn: "m_me_nc_1", Code: 13, Class: dissect.ClassRead, Rsp: true, Status: mal, Text: errTrailing}}},
		{"reserved type", []dissecttest.Chunk{{Dir: s2c, Hex: "68 0e 00 00 00 00 16 01 03 00 0a 00 01 00 00 00"}},
			[]dissecttest.Want{{Fn: "reserved", Code: 22, Rsp: true, Status: mal, Text: errReserved}}},
		{"short ASDU", []dissecttest.Chunk{{Dir: s2c, Hex: "68 08 00 00 00 00 01 01 03 00"}},
			[]dissecttest.Want{{Fn: "asdu", Rsp: true, Status: mal, Text: errShortASDU}}},
		// Sequence numbers (104 clause 5.1): N(S) counts up by one per
		// I-format APDU; N(R) acknowledges up to N(R)-1.
		{"sequence gap", []dissecttest.Chunk{
			{Dir: s2c, Hex: "68 0e 00 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
			{Dir: s2c, Hex: "68 0e 04 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
		}, []dissecttest.Want{
			{Fn: "m_ei_na_1", Code: 70, Class: dissect.ClassRestart, Rsp: true},
			{Fn: "i_format", Rsp: true, Status: mal, Text: "sequence gap: expected 1 got 2"},
			{Fn: "m_ei_na_1", Code: 70, Class: dissect.ClassRestart, Rsp: true},
		}},
		{"sequence repeat", []dissecttest.Chunk{
			{Dir: s2c, Hex: "68 0e 0a 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
			{Dir: s2c, Hex: "68 0e 0a 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
		}, []dissecttest.Want{
			{Fn: "m_ei_na_1", Code: 70, Class: dissect.ClassRestart, Rsp: true},
			{Fn: "i_format", Rsp: true, Status: mal, Text: "sequence repeat: expected 6 got 5"},
			{Fn: "m_ei_na_1", Code: 70, Class: dissect.ClassRestart, Rsp: true},
		}},
		{"sequence wraps at 32767", []dissecttest.Chunk{
			{Dir: s2c, Hex: "68 0e fe ff 00 00 46 01 04 00 0a 00 00 00 00 00"},
			{Dir: s2c, Hex: "68 0e 00 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
			{Dir: c2s, Hex: "68 04 01 00 02 00"},
		}, []dissecttest.Want{
			{Fn: "m_ei_na_1", Code: 70, Class: dissect.ClassRestart, Rsp: true},
			{Fn: "m_ei_na_1", Code: 70, Class: dissect.ClassRestart, Rsp: true},
		}},
		{"acknowledgement beyond sent", []dissecttest.Chunk{
			{Dir: s2c, Hex: "68 0e 00 00 00 00 46 01 04 00 0a 00 00 00 00 00"},
			{Dir: c2s, Hex: "68 04 01 00 02 00"},
			{Dir: c2s, Hex: "68 04 01 00 0a 00"},
		}, []dissecttest.Want{
			{Fn: "m_ei_na_1", Code: 70, Class: dissect.ClassRestart, Rsp: true},
			{Fn: "s_format", Req: true, Status: mal, Text: "acknowledgement beyond sent: next unsent 1 got 5"},
		}},
		{"junk before an APDU", []dissecttest.Chunk{{Dir: c2s, Hex: "00 01 02 68 04 07 00 00 00"}}, []dissecttest.Want{
			{Fn: "apdu", Req: true, Status: mal, Text: errOutside},
			{Fn: "startdt", Code: 0x07, Req: true},
		}},
		{"bad length", []dissecttest.Chunk{{Dir: c2s, Hex: "68 02 68 04 43 00 00 00"}}, []dissecttest.Want{
			{Fn: "apdu", Req: true, Status: mal, Text: errLength},
			{Fn: "testfr", Code: 0x43, Class: dissect.ClassDiagnostics, Req: true},
		}},
		{"command unanswered at close", []dissecttest.Chunk{{Dir: c2s, Hex: "68 0e 00 00 00 00 2f 01 06 00 0a 00 03 00 00 02"}},
			[]dissecttest.Want{{Fn: "c_rc_na_1", Code: 47, Class: dissect.ClassControl, Req: true, Attrs: map[string]string{"state": "higher"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dissecttest.Expect(t, "iec104", dissecttest.Run(t, Dissector{}, dissect.TransportTCP, Port, tt.msgs), tt.want)
		})
	}
}

func TestCommonAddressFact(t *testing.T) {
	ops := dissecttest.Run(t, Dissector{}, dissect.TransportTCP, Port, []dissecttest.Chunk{{Dir: s2c, Hex: "68 0e 00 00 00 00 46 01 04 00 14 29 00 00 00 00"}})
	if len(ops) != 1 || len(ops[0].Identity) != 1 {
		t.Fatalf("operations %v", ops)
	}
	// Common address 0x2914 = 10516, as tshark prints iec60870_asdu.addr.
	if f := ops[0].Identity[0]; f.Key != dissect.FactAddress || f.Value != "10516" || !f.Server {
		t.Errorf("fact %+v", f)
	}
	// The global address 0xffff names no station.
	ops = dissecttest.Run(t, Dissector{}, dissect.TransportTCP, Port, []dissecttest.Chunk{{Dir: c2s, Hex: "68 0e 00 00 00 00 64 01 06 00 ff ff 00 00 00 14"}})
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

package s7comm

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// step is one chunk of bytes in one direction.
type step struct {
	dir dissect.Direction
	hex string
}

func run(t *testing.T, steps []step) []*dissect.Operation {
	t.Helper()
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	for _, s := range steps {
		f.Feed(s.dir, dissecttest.Hex(t, s.hex))
	}
	f.Session.Close(f.Ctx)
	if f.Err != nil {
		t.Fatalf("Feed: %v", f.Err)
	}
	return c.Ops
}

const (
	c2s = dissect.ToServer
	s2c = dissect.ToClient
)

// Frames are written field by field. TPKT (RFC 1006 section 6): 03 00
// length. COTP DT class 0 (ISO 8073 13.7): LI 02, F0, EOT|number 80.
// S7comm header: 32, ROSCTR, redundancy id (2), PDU reference (2),
// parameter length (2), data length (2), and for ack_data error class and
// code. Layouts of parameters and data follow the Wireshark S7comm
// dissector (packet-s7comm.c), the public description of the protocol.
func TestOperations(t *testing.T) {
	type want struct {
		proto, fn string
		code      int
		class     dissect.Class
		status    dissect.Status
		errCode   int
		req, resp bool
		attrs     map[string]string
		target    *dissect.Target
		facts     map[string]string
	}
	tests := []struct {
		name  string
		steps []step
		want  []want
	}{
		{"cotp connect and setup communication", []step{
			// CR: LI 0x11, E0, dst-ref 0, src-ref 1, class 0, TPDU size 2^10,
			// calling TSAP 0x0100, called TSAP 0x0102.
			{c2s, "03 00 0016 | 11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102"},
			{s2c, "03 00 0016 | 11 d0 0001 0044 00 c0 01 0a c1 02 0100 c2 02 0102"},
			// Setup communication: F0, reserved, AMQ calling 1, AMQ called
			// 1, PDU size 480; the answer negotiates 240.
			{c2s, "03 00 0019 | 02 f0 80 | 32 01 0000 0100 0008 0000 | f0 00 0001 0001 01e0"},
			{s2c, "03 00 001b | 02 f0 80 | 32 03 0000 0100 0008 0000 00 00 | f0 00 0001 0001 00f0"},
		}, []want{
			{proto: ProtoCOTP, fn: "connection_request", code: 0x0e, class: dissect.ClassOther, status: dissect.StatusOK, req: true, resp: true,
				attrs: map[string]string{"calling_tsap": "0x0100", "called_tsap": "0x0102", "tpdu_size": "1024"}},
			{proto: ProtoS7comm, fn: "setup_communication", code: 0xf0, class: dissect.ClassOther, status: dissect.StatusOK, req: true, resp: true,
				attrs: map[string]string{"pdu_size": "240", "amq_calling": "1", "calling_tsap": "0x0100", "called_tsap": "0x0102"}},
		}},
		{"read var DB1.DBW4", []step{
			// Item: 12, length 0a, S7ANY 10, transport size WORD 04, count 1,
			// DB 1, area 84, address 4*8 = 0x000020.
			{c2s, "03 00 001f | 02 f0 80 | 32 01 0000 0200 000e 0000 | 04 01 12 0a 10 04 0001 0001 84 000020"},
			// Data item: success ff, transport size BYTE/WORD 04, 16 bits, 2 bytes.
			{s2c, "03 00 001b | 02 f0 80 | 32 03 0000 0200 0002 0006 00 00 | 04 01 | ff 04 0010 1234"},
		}, []want{
			{proto: ProtoS7comm, fn: "read_var", code: 4, class: dissect.ClassRead, status: dissect.StatusOK, req: true, resp: true,
				attrs: map[string]string{"items": "1"}, target: &dissect.Target{Kind: "db", Name: "DB1", Address: 4, Count: 1}},
		}},
		{"write var M10.3 refused", []step{
			// BIT transport size 01, count 1, DB 0, area 83 (M), address
			// 10*8+3 = 0x000053; data: reserved 00, BIT 03, 1 bit, value 01.
			{c2s, "03 00 0024 | 02 f0 80 | 32 01 0000 0300 000e 0005 | 05 01 12 0a 10 01 0001 0000 83 000053 | 00 03 0001 01"},
			// Return code 05: address out of range.
			{s2c, "03 00 0016 | 02 f0 80 | 32 03 0000 0300 0002 0001 00 00 | 05 01 | 05"},
		}, []want{
			{proto: ProtoS7comm, fn: "write_var", code: 5, class: dissect.ClassWrite, status: dissect.StatusError, errCode: 5, req: true, resp: true,
				target: &dissect.Target{Kind: "marker", Name: "M10.3", Address: 10, Count: 1}},
		}},
		{"plc stop", []step{
			// 29, five reserved bytes, name length 9, "P_PROGRAM".
			{c2s, "03 00 0021 | 02 f0 80 | 32 01 0000 0400 0010 0000 | 29 0000000000 09 505f50524f4752414d"},
			{s2c, "03 00 0014 | 02 f0 80 | 32 03 0000 0400 0001 0000 00 00 | 29"},
		}, []want{
			{proto: ProtoS7comm, fn: "plc_stop", code: 0x29, class: dissect.ClassControl, status: dissect.StatusOK, req: true, resp: true,
				attrs: map[string]string{"plc_state": "stop"}},
		}},
		{"insert block DB1 refused by header error", []step{
			// 28, seven unknown bytes, parameter block 000a: 1 block,
			// reserved, "0A" "00001" "P"; service "_INSE".
			{c2s, "03 00 002b | 02 f0 80 | 32 01 0000 0500 001a 0000 | 28 000000000000fd 000a 01 00 3041 3030303031 50 05 5f494e5345"},
			// Ack without data, error class 0xd2 code 0x09: block not found.
			{s2c, "03 00 0013 | 02 f0 80 | 32 02 0000 0500 0000 0000 d2 09"},
		}, []want{
			{proto: ProtoS7comm, fn: "insert_block", code: 0x28, class: dissect.ClassProgram, status: dissect.StatusError, errCode: 0xd209, req: true, resp: true,
				attrs: map[string]string{"pi_service": "_INSE"}, target: &dissect.Target{Kind: "block", Name: "DB1", Address: 1, Count: 1}},
		}},
		{"start upload OB1 unanswered", []step{
			// 1d, status, 2 unknown, upload id 0, file name "_0800001A".
			{c2s, "03 00 0023 | 02 f0 80 | 32 01 0000 0600 0012 0000 | 1d 00 0000 00000000 09 5f3038303030303141"},
		}, []want{
			{proto: ProtoS7comm, fn: "start_upload", code: 0x1d, class: dissect.ClassProgram, status: dissect.StatusUnknown, req: true,
				attrs: map[string]string{"direction": "upload"}, target: &dissect.Target{Kind: "block", Name: "OB1", Address: 1, Count: 1}},
		}},
		{"read SZL 0x0011 in one answer", []step{
			// Userdata parameter: 00 01 12, length 4, method 11, request 4 |
			// CPU group 4, subfunction 01 read SZL, sequence 0. Data: ff 09
			// length 4, SZL id 0x0011, index 0.
			{c2s, "03 00 0021 | 02 f0 80 | 32 07 0000 0700 0008 0008 | 000112 04 11 44 01 00 | ff 09 0004 0011 0000"},
			// Answer: long parameter (data unit 0, last unit 00, error 0);
			// data: SZL 0x0011 index 0, record length 28, 2 records:
			// index 1 "6ES7 315-2EH14-0AB0 " type 00c0 version 0003 0001;
			// index 7 blanks, version 'V' 3, release 2.7.
			{s2c, "03 00 0061 | 02 f0 80 | 32 07 0000 0700 000c 0044 | 000112 08 12 84 01 01 00 00 0000 | ff 09 0040 0011 0000 001c 0002 " +
				"0001 36455337203331352d32454831342d30414230 20 00c0 0003 0001 " +
				"0007 2020202020202020202020202020202020202020 00c0 5603 0207"},
		}, []want{
			{proto: ProtoS7comm, fn: "read_szl", code: 0x0401, class: dissect.ClassDiscovery, status: dissect.StatusOK, req: true, resp: true,
				attrs: map[string]string{"szl_id": "0x0011", "szl_index": "0x0000"},
				facts: map[string]string{dissect.FactModel: "6ES7 315-2EH14-0AB0", dissect.FactFirmware: "V3.2.7", dissect.FactHardware: "3"}},
		}},
		{"plc password wrong", []step{
			// Security group 5, subfunction 01; data: 8 obfuscated bytes.
			{c2s, "03 00 0025 | 02 f0 80 | 32 07 0000 0800 0008 000c | 000112 04 11 45 01 00 | ff 09 0008 0102030405060708"},
			// Error code 0xd602 in the long parameter.
			{s2c, "03 00 0021 | 02 f0 80 | 32 07 0000 0800 000c 0004 | 000112 08 12 85 01 01 00 00 d602 | 0a 00 0000"},
		}, []want{
			{proto: ProtoS7comm, fn: "plc_password", code: 0x0501, class: dissect.ClassAuthentication, status: dissect.StatusError, errCode: 0xd602, req: true, resp: true},
		}},
		{"set clock", []step{
			{c2s, "03 00 0027 | 02 f0 80 | 32 07 0000 0900 0008 000e | 000112 04 11 47 02 00 | ff 09 000a 0019 1602 0814 5137 9162"},
			{s2c, "03 00 0021 | 02 f0 80 | 32 07 0000 0900 000c 0004 | 000112 08 12 87 02 01 00 00 0000 | 0a 00 0000"},
		}, []want{
			{proto: ProtoS7comm, fn: "set_clock", code: 0x0702, class: dissect.ClassTime, status: dissect.StatusError, errCode: 0x0a, req: true, resp: true},
		}},
		{"s7comm-plus create object and explore", []step{
			// 72, version 1, data length, opcode 31, reserved, function
			// 04ca, reserved, sequence 1, session id, transport flags; then
			// the trailer 72 01 0000.
			{c2s, "03 00 001e | 02 f0 80 | 72 01 000f 31 0000 04ca 0000 0001 00000120 36 00 | 72 01 0000"},
			{s2c, "03 00 001d | 02 f0 80 | 72 01 000e 32 0000 04ca 0000 0001 00000120 36 | 72 01 0000"},
			// Version 3 explore: digest length 0x20 and 32 digest bytes first.
			{c2s, "03 00 003f | 02 f0 80 | 72 03 0030 20 " + "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" +
				" 31 0000 04bb 0000 0002 00000120 34 00 | 72 03 0000"},
		}, []want{
			{proto: ProtoS7commPlus, fn: "create_object", code: 0x04ca, class: dissect.ClassOther, status: dissect.StatusOK, req: true, resp: true,
				attrs: map[string]string{"protocol_version": "1"}},
			{proto: ProtoS7commPlus, fn: "explore", code: 0x04bb, class: dissect.ClassDiscovery, status: dissect.StatusUnknown, req: true,
				attrs: map[string]string{"protocol_version": "3", "integrity": "true"}},
		}},
		{"read var split over two DT TPDUs", []step{
			// The same read as above, its TSDU cut after 8 bytes: the first
			// DT has EOT clear (00), the second EOT set (81).
			{c2s, "03 00 000f | 02 f0 00 | 32 01 0000 0a00 000e"},
			{c2s, "03 00 0017 | 02 f0 81 | 0000 | 04 01 12 0a 10 04 0001 0001 84 000020"},
			{s2c, "03 00 001b | 02 f0 80 | 32 03 0000 0a00 0002 0006 00 00 | 04 01 | ff 04 0010 1234"},
		}, []want{
			{proto: ProtoS7comm, fn: "read_var", code: 4, class: dissect.ClassRead, status: dissect.StatusOK, req: true, resp: true,
				target: &dissect.Target{Kind: "db", Name: "DB1", Address: 4, Count: 1}},
		}},
		{"garbage then a frame", []step{
			{c2s, "ff ff 00 11 22 | 03 00 0021 | 02 f0 80 | 32 01 0000 0400 0010 0000 | 29 0000000000 09 505f50524f4752414d"},
		}, []want{
			{proto: ProtoS7comm, fn: "malformed", status: dissect.StatusMalformed},
			{proto: ProtoS7comm, fn: "plc_stop", code: 0x29, class: dissect.ClassControl, status: dissect.StatusUnknown, req: true},
		}},
		{"mode transition push", []step{
			// Parameter head 01 00 10, push type 0, group 0, mode 0 (STOP).
			{s2c, "03 00 0019 | 02 f0 80 | 32 07 0000 0000 0008 0000 | 010010 10 00 00 00 00"},
		}, []want{
			{proto: ProtoS7comm, fn: "mode_transition", code: 0, class: dissect.ClassDiagnostics, status: dissect.StatusOK, resp: true,
				attrs: map[string]string{"plc_state": "stop"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := run(t, tt.steps)
			if len(ops) != len(tt.want) {
				for _, op := range ops {
					t.Logf("%+v", op)
				}
				t.Fatalf("%d operations, want %d", len(ops), len(tt.want))
			}
			for i, w := range tt.want {
				op := ops[i]
				if op.Protocol != w.proto || op.FunctionName != w.fn || op.FunctionCode != w.code || op.Class != w.class {
					t.Errorf("op %d: %s %s(%#x) %v, want %s %s(%#x) %v", i, op.Protocol, op.FunctionName, op.FunctionCode, op.Class, w.proto, w.fn, w.code, w.class)
				}
				if op.Result.Status != w.status || op.Result.Code != w.errCode {
					t.Errorf("op %d: result %+v, want %v code %#x", i, op.Result, w.status, w.errCode)
				}
				if op.Request != w.req || op.Response != w.resp {
					t.Errorf("op %d: request %v response %v, want %v %v", i, op.Request, op.Response, w.req, w.resp)
				}
				for k, v := range w.attrs {
					if got := op.Attr(k); got != v {
						t.Errorf("op %d: attr %s = %q, want %q", i, k, got, v)
					}
				}
				if w.target != nil && (len(op.Targets) != 1 || op.Targets[0] != *w.target) {
					t.Errorf("op %d: targets %+v, want %+v", i, op.Targets, *w.target)
				}
				for k, v := range w.facts {
					if got := dissecttest.Fact(op, k); got != v {
						t.Errorf("op %d: fact %s = %q, want %q", i, k, got, v)
					}
				}
			}
		})
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name, hex string
		want      bool
	}{
		{"S7 CR", "03 00 0016 11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102", true},
		{"S7comm-plus CR", "03 00 0024 1f e0 0000 0001 00 c1 02 0620 c2 10 53494d415449432d524f4f542d484d49 c0 01 0a", true},
		{"S7 job DT", "03 00 0019 02 f0 80 32 01 0000 0100 0008 0000 f0 00 0001 0001 01e0", true},
		// An RDP connection request (MS-RDPBCGR 2.2.1.1): TPKT and COTP CR
		// but no TSAP parameters.
		{"RDP CR", "03 00 0013 0e e0 0000 0000 00 01 00 08 00 03 000000", false},
		{"HTTP", "474554202f20485454502f312e31", false},
		{"DT of another protocol", "03 00 000b 02 f0 80 0d 02 0304", false},
	}
	for _, tt := range tests {
		if got := (Dissector{}).Probe(dissecttest.Hex(t, tt.hex)); got != tt.want {
			t.Errorf("%s: Probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

package dnp3

import (
	"encoding/binary"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// The CRC-16/DNP catalogue check value: the CRC of "123456789" is 0xEA82
// (Greg Cook's CRC catalogue, CRC-16/DNP: poly 0x3d65, init 0, refin,
// refout, xorout 0xffff). The two frame CRCs are tshark's, which reports
// them "[correct]" for the select request of the corpus case
// select_operate_and_responses.
func TestCRC(t *testing.T) {
	tests := []struct {
		name, in string
		want     uint16
	}{
		{"check value", "313233343536373839", 0xEA82},
		{"link header", "0564 1a c4 0a00 0100", 0x1c8a},
		{"data block", "c0c0030c012801000000030164000000", 0x6bfd},
	}
	for _, tt := range tests {
		if got := crc16(dissecttest.Hex(t, tt.in)); got != tt.want {
			t.Errorf("%s: crc16 = %#04x, want %#04x", tt.name, got, tt.want)
		}
	}
}

// frame builds a link frame (clause 9.2.4) with CRCs from TestCRC's crc16.
func frame(ctrl byte, dst, src uint16, user []byte) []byte {
	h := []byte{0x05, 0x64, byte(5 + len(user)), ctrl, 0, 0, 0, 0}
	binary.LittleEndian.PutUint16(h[4:], dst)
	binary.LittleEndian.PutUint16(h[6:], src)
	out := binary.LittleEndian.AppendUint16(h, crc16(h))
	for len(user) > 0 {
		n := min(16, len(user))
		out = append(out, user[:n]...)
		out = binary.LittleEndian.AppendUint16(out, crc16(user[:n]))
		user = user[n:]
	}
	return out
}

// Link addresses of the test master and outstation.
const (
	master  = 1
	outstat = 10
)

// req is a one-segment request from the master: transport header FIR|FIN
// with sequence tseq, then the application fragment given in hex.
func req(t testing.TB, tseq byte, app string) []byte {
	return frame(0xc4, outstat, master, append([]byte{0xc0 | tseq}, dissecttest.Hex(t, app)...))
}

// rsp is a one-segment response from the outstation.
func rsp(t testing.TB, tseq byte, app string) []byte {
	return frame(0x44, master, outstat, append([]byte{0xc0 | tseq}, dissecttest.Hex(t, app)...))
}

type step struct {
	dir  dissect.Direction
	data []byte
}

func toS(b []byte) step { return step{dissect.ToServer, b} }
func toC(b []byte) step { return step{dissect.ToClient, b} }

func run(t *testing.T, steps ...step) []*dissect.Operation {
	t.Helper()
	var c dissecttest.Collector
	flow := dissecttest.Flow(dissect.TransportTCP, Port)
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	for i, s := range steps {
		f.Ctx.Packet.Index = uint64(i)
		f.Feed(s.dir, s.data)
	}
	f.Session.Close(f.Ctx)
	if f.Err != nil {
		t.Fatalf("Feed: %v", f.Err)
	}
	return c.Ops
}

func attrs(op *dissect.Operation) map[string]string {
	m := map[string]string{}
	for _, a := range op.Attrs {
		if m[a.Key] != "" {
			m[a.Key] += ","
		}
		m[a.Key] += a.Value
	}
	return m
}

func targetNames(op *dissect.Operation) string {
	s := ""
	for i, t := range op.Targets {
		if i > 0 {
			s += " "
		}
		s += t.Name
	}
	return s
}

// want is what one operation should look like; empty fields are not
// checked.
type want struct {
	fn       string
	code     int
	class    dissect.Class
	req, rsp bool
	status   dissect.Status
	text     string
	targets  string
	attrs    map[string]string
}

func check(t *testing.T, op *dissect.Operation, w want) {
	t.Helper()
	if op.FunctionName != w.fn || op.FunctionCode != w.code || op.Class != w.class {
		t.Errorf("function %s (%d) class %v, want %s (%d) %v", op.FunctionName, op.FunctionCode, op.Class, w.fn, w.code, w.class)
	}
	if op.Request != w.req || op.Response != w.rsp {
		t.Errorf("request %v response %v, want %v %v", op.Request, op.Response, w.req, w.rsp)
	}
	if op.Result.Status != w.status || op.Result.Text != w.text {
		t.Errorf("result %v %q, want %v %q", op.Result.Status, op.Result.Text, w.status, w.text)
	}
	if w.targets != "" && targetNames(op) != w.targets {
		t.Errorf("targets %q, want %q", targetNames(op), w.targets)
	}
	got := attrs(op)
	for k, v := range w.attrs {
		if got[k] != v {
			t.Errorf("attr %s = %q, want %q (all %v)", k, got[k], v, got)
		}
	}
}

// Application fragments are written field by field from IEEE 1815-2012:
// application control (4.2.2.4), function code (table 4-1), IIN in
// responses (5.2.2.7), object headers group/variation/qualifier/range
// (4.2.2.7) and object encodings from Annex A.
func TestOperations(t *testing.T) {
	crob := "0c01 28 0100 0300 03 01 64000000 64000000 00" // g12v1, index prefix 2 bytes, count 1: index 3, latch on, 100/100 ms
	tests := []struct {
		name  string
		steps func(t *testing.T) []step
		want  []want
	}{
		{"read class 0, analog inputs answered", func(t *testing.T) []step {
			return []step{toS(req(t, 0, "c0 01 3c01 06")),
				toC(rsp(t, 0, "c0 81 0000 1e01 00 00 01 01 0a000000 01 0b000000"))} // g30v1 start 0 stop 1
		}, []want{{fn: "read", code: 1, class: dissect.ClassRead, req: true, rsp: true, status: dissect.StatusOK,
			targets: "g60v1 g30v1", attrs: map[string]string{"request_objects": "1"}}}},
		{"write time is class time", func(t *testing.T) []step {
			return []step{toS(req(t, 1, "c1 02 3201 07 01 000000000000")), toC(rsp(t, 1, "c1 81 0000"))}
		}, []want{{fn: "write", code: 2, class: dissect.ClassTime, req: true, rsp: true, status: dissect.StatusOK, targets: "g50v1"}}},
		{"write IIN is class write", func(t *testing.T) []step {
			return []step{toS(req(t, 1, "c1 02 5001 00 07 07 00")), toC(rsp(t, 1, "c1 81 0000"))} // g80v1 clear IIN1.7
		}, []want{{fn: "write", code: 2, class: dissect.ClassWrite, req: true, rsp: true, status: dissect.StatusOK, targets: "g80v1"}}},
		{"cold restart", func(t *testing.T) []step {
			return []step{toS(req(t, 2, "c2 0d")), toC(rsp(t, 2, "c2 81 8000 3402 07 01 e803"))} // g52v2 1000 ms
		}, []want{{fn: "cold_restart", code: 13, class: dissect.ClassRestart, req: true, rsp: true, status: dissect.StatusOK,
			targets: "g52v2", attrs: map[string]string{"iin": "device_restart"}}}},
		{"select before operate, matched then mismatched", func(t *testing.T) []step {
			other := "0c01 28 0100 0400 03 01 64000000 64000000 00"
			return []step{
				toS(req(t, 3, "c3 03 "+crob)), toC(rsp(t, 3, "c3 81 0000 "+crob)),
				toS(req(t, 4, "c4 04 "+crob)), toC(rsp(t, 4, "c4 81 0000 "+crob)),
				toS(req(t, 5, "c5 03 "+crob)), toC(rsp(t, 5, "c5 81 0000 "+crob)),
				toS(req(t, 6, "c6 04 "+other)), toC(rsp(t, 6, "c6 81 0000 "+other)),
			}
		}, []want{
			{fn: "select", code: 3, class: dissect.ClassControl, req: true, rsp: true, status: dissect.StatusOK,
				attrs: map[string]string{"crob_op": "latch_on", "crob_index": "3", "crob_count": "1", "crob_on_ms": "100"}},
			{fn: "operate", code: 4, class: dissect.ClassControl, req: true, rsp: true, status: dissect.StatusOK, attrs: map[string]string{"sbo": "matched"}},
			{fn: "select", code: 3, class: dissect.ClassControl, req: true, rsp: true, status: dissect.StatusOK},
			{fn: "operate", code: 4, class: dissect.ClassControl, req: true, rsp: true, status: dissect.StatusOK, attrs: map[string]string{"sbo": "mismatch"}},
		}},
		{"direct operate refused with control status", func(t *testing.T) []step {
			refused := "0c01 28 0100 0300 03 01 64000000 64000000 04" // status 4 not supported
			return []step{toS(req(t, 7, "c7 05 "+crob)), toC(rsp(t, 7, "c7 81 0000 "+refused))}
		}, []want{{fn: "direct_operate", code: 5, class: dissect.ClassControl, req: true, rsp: true, status: dissect.StatusError, text: "not_supported"}}},
		{"object unknown in IIN2", func(t *testing.T) []step {
			return []step{toS(req(t, 8, "c8 01 ff00 06")), toC(rsp(t, 8, "c8 81 0002"))}
		}, []want{{fn: "read", code: 1, class: dissect.ClassRead, req: true, rsp: true, status: dissect.StatusError, text: "object_unknown",
			attrs: map[string]string{"iin": "object_unknown"}}}},
		{"unsolicited response and its confirm", func(t *testing.T) []step {
			return []step{toC(rsp(t, 9, "f0 82 0000 0201 17 01 05 81")), toS(req(t, 9, "d0 00"))} // g2v1 index 5
		}, []want{
			{fn: "unsolicited_response", code: 130, class: dissect.ClassRead, rsp: true, status: dissect.StatusOK, targets: "g2v1"},
			{fn: "confirm", code: 0, class: dissect.ClassOther, req: true},
		}},
		{"enable unsolicited, delay measure, freeze", func(t *testing.T) []step {
			return []step{
				toS(req(t, 10, "c1 14 3c02 06 3c03 06")), toC(rsp(t, 10, "c1 81 0000")),
				toS(req(t, 11, "c2 17")), toC(rsp(t, 11, "c2 81 0000 3402 07 01 0500")),
				toS(req(t, 12, "c3 07 1400 06")), toC(rsp(t, 12, "c3 81 0000")),
				toS(req(t, 13, "c4 16 3c02 06 0100 00 00 03")), toC(rsp(t, 13, "c4 81 0000")),
			}
		}, []want{
			{fn: "enable_unsolicited", code: 20, class: dissect.ClassControl, req: true, rsp: true, status: dissect.StatusOK, targets: "g60v2 g60v3"},
			{fn: "delay_measure", code: 23, class: dissect.ClassTime, req: true, rsp: true, status: dissect.StatusOK},
			{fn: "immediate_freeze", code: 7, class: dissect.ClassControl, req: true, rsp: true, status: dissect.StatusOK, targets: "g20v0"},
			{fn: "assign_class", code: 22, class: dissect.ClassWrite, req: true, rsp: true, status: dissect.StatusOK, targets: "g60v2 g1v0"},
		}},
		{"analog output direct operate", func(t *testing.T) []step {
			return []step{toS(req(t, 14, "c5 05 2901 17 01 02 e8030000 00"))} // g41v1 index 2 value 1000
		}, []want{{fn: "direct_operate", code: 5, class: dissect.ClassControl, req: true,
			attrs: map[string]string{"ao_index": "2", "ao_value": "1000"}}}},
		{"open file", func(t *testing.T) []step {
			// g70v3 file command: name offset 26, name size 4, then fields, then "a.db".
			cmd := "1a00 0400 000000000000 0000 00000000 00000000 0100 0001 0000 612e6462"
			return []step{toS(req(t, 15, "c6 19 4603 5b 01 1e00 "+cmd)), toC(rsp(t, 15, "c6 81 0000"))}
		}, []want{{fn: "open_file", code: 25, class: dissect.ClassFile, req: true, rsp: true, status: dissect.StatusOK, targets: "g70v3 a.db"}}},
		{"truncated CROB (count 2, one object)", func(t *testing.T) []step {
			return []step{toS(req(t, 16, "ca 05 0c01 28 0200 0100 02 01 64000000 64000000 00"))}
		}, []want{{fn: "direct_operate", code: 5, class: dissect.ClassControl, req: true, status: dissect.StatusMalformed, text: errData}}},
		{"authentication request answered", func(t *testing.T) []step {
			return []step{toS(req(t, 17, "c1 20 7804 07 01 0100")), toC(rsp(t, 17, "c1 83 0000"))} // g120v4 user 1
		}, []want{{fn: "authenticate_req", code: 32, class: dissect.ClassAuthentication, req: true, rsp: true, status: dissect.StatusOK,
			attrs: map[string]string{"response_function": "authenticate_resp"}}}},
		{"request link status answered by link status", func(t *testing.T) []step {
			return []step{toS(frame(0xc9, outstat, master, nil)), toC(frame(0x0b, master, outstat, nil))}
		}, []want{{fn: "request_link_status", code: 9, class: dissect.ClassDiagnostics, req: true, rsp: true, status: dissect.StatusOK,
			attrs: map[string]string{"layer": "link", "link_response": "link_status"}}}},
		{"bad header CRC, then a good frame", func(t *testing.T) []step {
			bad := req(t, 18, "c1 01 3c01 06")
			bad[8] ^= 0xff
			return []step{toS(bad), toS(req(t, 19, "c2 17"))}
		}, []want{
			{fn: "malformed", class: dissect.ClassOther, req: true, status: dissect.StatusMalformed, text: errHeaderCRC},
			{fn: "delay_measure", code: 23, class: dissect.ClassTime, req: true},
		}},
		{"bad data CRC skips the frame", func(t *testing.T) []step {
			bad := req(t, 20, "c1 01 3c01 06")
			bad[len(bad)-1] ^= 0xff
			return []step{toS(bad), toS(req(t, 21, "c2 17"))}
		}, []want{
			{fn: "malformed", class: dissect.ClassOther, req: true, status: dissect.StatusMalformed, text: errDataCRC},
			{fn: "delay_measure", code: 23, class: dissect.ClassTime, req: true},
		}},
		{"fragment in two transport segments", func(t *testing.T) []step {
			app := dissecttest.Hex(t, "c1 02 3201 07 01 000000000000")
			s1 := frame(0xc4, outstat, master, append([]byte{0x40 | 5}, app[:4]...)) // FIR, seq 5
			s2 := frame(0xc4, outstat, master, append([]byte{0x80 | 6}, app[4:]...)) // FIN, seq 6
			return []step{toS(s1), toS(s2)}
		}, []want{{fn: "write", code: 2, class: dissect.ClassTime, req: true, targets: "g50v1"}}},
		{"transport sequence error", func(t *testing.T) []step {
			app := dissecttest.Hex(t, "c1 02 3201 07 01 000000000000")
			s1 := frame(0xc4, outstat, master, append([]byte{0x40 | 5}, app[:4]...))
			s2 := frame(0xc4, outstat, master, append([]byte{0x80 | 9}, app[4:]...)) // 9, not 6
			return []step{toS(s1), toS(s2)}
		}, []want{{fn: "malformed", code: 4, class: dissect.ClassOther, req: true, status: dissect.StatusMalformed, text: errTpSeq,
			attrs: map[string]string{"layer": "transport"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := run(t, tt.steps(t)...)
			if len(ops) != len(tt.want) {
				for _, op := range ops {
					t.Log(summary(op))
				}
				t.Fatalf("%d operations, want %d", len(ops), len(tt.want))
			}
			for i, w := range tt.want {
				check(t, ops[i], w)
			}
		})
	}
}

// TestIdentityAndOrientation checks that the master is the operation's
// client and that both link addresses become identity facts, also when
// the outstation opened the connection.
func TestIdentityAndOrientation(t *testing.T) {
	for _, masterDir := range []dissect.Direction{dissect.ToServer, dissect.ToClient} {
		ops := run(t, step{masterDir, req(t, 0, "c0 01 3c01 06")}, step{masterDir ^ 1, rsp(t, 0, "c0 81 0000")})
		if len(ops) != 1 {
			t.Fatalf("%d operations", len(ops))
		}
		op := ops[0]
		flow := dissecttest.Flow(dissect.TransportTCP, Port)
		wantClient := flow.Client
		if masterDir == dissect.ToClient {
			wantClient = flow.Server
		}
		if op.Client != wantClient {
			t.Errorf("master sending %v: client %v, want %v", masterDir, op.Client, wantClient)
		}
		want := []dissect.Fact{{Key: dissect.FactAddress, Value: "1"}, {Key: dissect.FactAddress, Value: "10", Server: true}}
		if len(op.Identity) != 2 || op.Identity[0] != want[0] || op.Identity[1] != want[1] {
			t.Errorf("identity %v, want %v", op.Identity, want)
		}
	}
}

func TestProbe(t *testing.T) {
	good := req(t, 0, "c0 01 3c01 06")
	bad := append([]byte(nil), good...)
	bad[9] ^= 1
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"request", good, true},
		{"link status request", frame(0xc9, 10, 1, nil), true},
		{"bad header CRC", bad, false},
		{"short", good[:9], false},
		{"modbus", dissecttest.Hex(t, "0001 0000 0006 11 03 006b 0003"), false},
	}
	for _, tt := range tests {
		if got := (Dissector{}).Probe(tt.in); got != tt.want {
			t.Errorf("%s: Probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRegistered(t *testing.T) {
	for _, p := range []dissect.Port{dissect.TCP(Port), dissect.UDP(Port)} {
		if d := dissect.ByPort(p); d == nil || d.Name() != "dnp3" {
			t.Errorf("%v: %v", p, d)
		}
	}
}

// TestFragmentBound checks the bound of maxSegments: a fragment that
// does not end within 64 segments is a violation, as in the corpus case
// dnp3-too-long-reassembly-request (Suricata raises its too-long event).
func TestFragmentBound(t *testing.T) {
	var steps []step
	for i := range maxSegments + 1 {
		th := byte(i) & tpSeq
		if i == 0 {
			th |= tpFIR
		}
		steps = append(steps, toS(frame(0xc4, outstat, master, append([]byte{th}, make([]byte, 249)...))))
	}
	ops := run(t, steps...)
	if len(ops) != 1 || ops[0].Result.Text != errTpTooLong {
		t.Fatalf("operations %d, want one %q", len(ops), errTpTooLong)
	}
}

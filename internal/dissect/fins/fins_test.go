package fins

import (
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

const (
	c2s = dissect.ToServer
	s2c = dissect.ToClient
)

// msg is one datagram or stream chunk.
type msg struct {
	dir dissect.Direction
	hex string
}

func run(t *testing.T, transport dissect.Transport, msgs []msg) []*dissect.Operation {
	t.Helper()
	var c dissecttest.Collector
	flow := dissecttest.Flow(transport, Port)
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
	rcode    int
	text     string
	attrs    map[string]string
	targets  []dissect.Target
	facts    []dissect.Fact
}

func expect(t *testing.T, ops []*dissect.Operation, wants []want) {
	t.Helper()
	if len(ops) != len(wants) {
		for _, op := range ops {
			t.Logf("%s %#x %v %q %v", op.FunctionName, op.FunctionCode, op.Result.Status, op.Result.Text, op.Attrs)
		}
		t.Fatalf("%d operations, want %d", len(ops), len(wants))
	}
	for i, w := range wants {
		op := ops[i]
		if op.Protocol != "fins" || op.FunctionName != w.fn || op.FunctionCode != w.code || op.Class != w.class {
			t.Errorf("op %d: %s %s (%#x) %v, want %s (%#x) %v", i, op.Protocol, op.FunctionName, op.FunctionCode, op.Class, w.fn, w.code, w.class)
		}
		if op.Request != w.req || op.Response != w.rsp {
			t.Errorf("op %d %s: request %v response %v, want %v %v", i, w.fn, op.Request, op.Response, w.req, w.rsp)
		}
		if op.Result.Status != w.status || op.Result.Code != w.rcode || op.Result.Text != w.text {
			t.Errorf("op %d %s: result %+v, want %v %#x %q", i, w.fn, op.Result, w.status, w.rcode, w.text)
		}
		for k, v := range w.attrs {
			if got := op.Attr(k); got != v {
				t.Errorf("op %d %s: attr %s = %q, want %q", i, w.fn, k, got, v)
			}
		}
		if w.targets != nil && !equalTargets(op.Targets, w.targets) {
			t.Errorf("op %d %s: targets %+v, want %+v", i, w.fn, op.Targets, w.targets)
		}
		if w.facts != nil && !equalFacts(op.Identity, w.facts) {
			t.Errorf("op %d %s: identity %+v, want %+v", i, w.fn, op.Identity, w.facts)
		}
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

func equalFacts(a, b []dissect.Fact) bool {
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

// The frames below follow the command and response formats of W342
// FINS command reference: header ICF RSV GCT DNA DA1 DA2 SNA SA1 SA2
// SID, command code, then parameters; a response repeats the command code
// and adds the end code. The PLC is node 10 (0x0a) of the local network,
// the computer node 20 (0x14).
func TestCommands(t *testing.T) {
	tests := []struct {
		name string
		msgs []msg
		want []want
	}{
		{
			// MEMORY AREA READ of 10 DM words from D100: area 82, address
			// 0064 00, 000a items; the response carries 20 bytes.
			name: "memory area read",
			msgs: []msg{
				{c2s, "80 00 02 00 0a 00 00 14 00 01 | 01 01 | 82 0064 00 000a"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 01 | 01 01 | 00 00 | 0001 0002 0003 0004 0005 0006 0007 0008 0009 000a"},
			},
			want: []want{{fn: "memory_area_read", code: 0x0101, class: dissect.ClassRead, req: true, rsp: true,
				status: dissect.StatusOK, targets: []dissect.Target{{Kind: "dm", Address: 100, Count: 10}}}},
		},
		{
			// MEMORY AREA WRITE of one CIO bit (area 30, word 10 bit 3)
			// refused with end code 2101 (read-only area).
			name: "memory area write refused",
			msgs: []msg{
				{c2s, "80 00 02 00 0a 00 00 14 00 02 | 01 02 | 30 000a 03 0001 | 01"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 02 | 01 02 | 21 01"},
			},
			want: []want{{fn: "memory_area_write", code: 0x0102, class: dissect.ClassWrite, req: true, rsp: true,
				status: dissect.StatusError, rcode: 0x2101, text: "read_only", attrs: map[string]string{"bit": "3"},
				targets: []dissect.Target{{Kind: "cio_bit", Address: 10, Count: 1}}}},
		},
		{
			// MEMORY AREA FILL of EM bank 2 words, and MULTIPLE MEMORY AREA
			// READ of a DM word and a holding word.
			name: "fill and multiple read",
			msgs: []msg{
				{c2s, "80 00 02 00 0a 00 00 14 00 03 | 01 03 | a2 0010 00 0004 | 1234"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 03 | 01 03 | 00 00"},
				{c2s, "80 00 02 00 0a 00 00 14 00 04 | 01 04 | 82 0001 00 | b2 0002 00"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 04 | 01 04 | 00 00 | 82 1111 | b2 2222"},
			},
			want: []want{
				{fn: "memory_area_fill", code: 0x0103, class: dissect.ClassWrite, req: true, rsp: true, status: dissect.StatusOK,
					targets: []dissect.Target{{Kind: "em", Name: "E2", Address: 16, Count: 4}}},
				{fn: "multiple_memory_area_read", code: 0x0104, class: dissect.ClassRead, req: true, rsp: true, status: dissect.StatusOK,
					attrs:   map[string]string{"items": "2"},
					targets: []dissect.Target{{Kind: "dm", Address: 1, Count: 1}, {Kind: "holding", Address: 2, Count: 1}}},
			},
		},
		{
			// RUN with program number FFFF and mode code 04 (RUN), and STOP
			// (no parameters).
			name: "run and stop",
			msgs: []msg{
				{c2s, "80 00 02 00 0a 00 00 14 00 05 | 04 01 | ffff 04"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 05 | 04 01 | 00 00"},
				{c2s, "80 00 02 00 0a 00 00 14 00 06 | 04 02"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 06 | 04 02 | 00 00"},
				{c2s, "80 00 02 00 0a 00 00 14 00 07 | 04 01 | ffff"},
			},
			want: []want{
				{fn: "run", code: 0x0401, class: dissect.ClassControl, req: true, rsp: true, status: dissect.StatusOK,
					attrs: map[string]string{"plc_mode": "run", "run_mode": "run"}},
				{fn: "stop", code: 0x0402, class: dissect.ClassControl, req: true, rsp: true, status: dissect.StatusOK,
					attrs: map[string]string{"plc_mode": "stop"}},
				// Without a mode code the PLC goes to MONITOR mode.
				{fn: "run", code: 0x0401, class: dissect.ClassControl, req: true, status: dissect.StatusUnknown,
					attrs: map[string]string{"plc_mode": "run", "run_mode": "monitor"}},
			},
		},
		{
			// PROGRAM AREA WRITE: program number FFFF, beginning word
			// 00000000, 0x0010 bytes; the PLC is running (end code 2201).
			name: "program area write",
			msgs: []msg{
				{c2s, "80 00 02 00 0a 00 00 14 00 08 | 03 07 | ffff 00000000 0010 | 00112233445566778899aabbccddeeff"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 08 | 03 07 | 22 01"},
				{c2s, "80 00 02 00 0a 00 00 14 00 09 | 03 06 | ffff 00000100 0020"},
			},
			want: []want{
				{fn: "program_area_write", code: 0x0307, class: dissect.ClassProgram, req: true, rsp: true,
					status: dissect.StatusError, rcode: 0x2201, text: "not_possible_during_execution",
					targets: []dissect.Target{{Kind: "program", Address: 0, Count: 16}}},
				{fn: "program_area_read", code: 0x0306, class: dissect.ClassProgram, req: true,
					targets: []dissect.Target{{Kind: "program", Address: 256, Count: 32}}},
			},
		},
		{
			// CLOCK WRITE 2026-01-05 08:30:15 (BCD), CLOCK READ.
			name: "clock",
			msgs: []msg{
				{c2s, "80 00 02 00 0a 00 00 14 00 0a | 07 02 | 26 01 05 08 30 15 01"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 0a | 07 02 | 00 00"},
				{c2s, "80 00 02 00 0a 00 00 14 00 0b | 07 01"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 0b | 07 01 | 00 00 | 26 01 05 08 30 16 01"},
			},
			want: []want{
				{fn: "clock_write", code: 0x0702, class: dissect.ClassTime, req: true, rsp: true, status: dissect.StatusOK,
					attrs: map[string]string{"time": "2026-01-05T08:30:15"}},
				{fn: "clock_read", code: 0x0701, class: dissect.ClassRead, req: true, rsp: true, status: dissect.StatusOK,
					attrs: map[string]string{"clock": "2026-01-05T08:30:16"}},
			},
		},
		{
			// CONTROLLER DATA READ: model (20 bytes), version (20 bytes),
			// system use (40 bytes), area data (12 bytes); CONTROLLER STATUS
			// READ: status 01 (run), mode 02 (monitor); NAME READ.
			name: "identity and status",
			msgs: []msg{
				{c2s, "80 00 02 00 0a 00 00 14 00 0c | 05 01"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 0c | 05 01 | 00 00 |" +
					"434a324d2d4350553331202020202020 20202020" + // "CJ2M-CPU31"
					"30322e3031202020202020202020202020202020" + // "02.01"
					"0000000000000000000000000000000000000000 0000000000000000000000000000000000000000" +
					"000000000000000000000000"},
				{c2s, "80 00 02 00 0a 00 00 14 00 0d | 06 01"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 0d | 06 01 | 00 00 | 01 02 0000 0000 0000 0000"},
				{c2s, "80 00 02 00 0a 00 00 14 00 0e | 26 03"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 0e | 26 03 | 00 00 | 4c494e45 31000000"},
			},
			want: []want{
				{fn: "controller_data_read", code: 0x0501, class: dissect.ClassDiscovery, req: true, rsp: true, status: dissect.StatusOK,
					facts: []dissect.Fact{{Key: dissect.FactVendor, Value: "OMRON", Server: true},
						{Key: dissect.FactModel, Value: "CJ2M-CPU31", Server: true}, {Key: dissect.FactFirmware, Value: "02.01", Server: true}}},
				{fn: "controller_status_read", code: 0x0601, class: dissect.ClassDiagnostics, req: true, rsp: true, status: dissect.StatusOK,
					attrs: map[string]string{"status": "run", "mode": "monitor"}},
				{fn: "name_read", code: 0x2603, class: dissect.ClassRead, req: true, rsp: true, status: dissect.StatusOK,
					facts: []dissect.Fact{{Key: dissect.FactHostname, Value: "LINE1", Server: true}}},
			},
		},
		{
			// SINGLE FILE WRITE: disk 8000 (memory card), parameter 0001
			// (overwrite), file name "PROG    .OBJ", position, length;
			// ERROR LOG READ; an undefined command.
			name: "file, error log, unknown",
			msgs: []msg{
				{c2s, "80 00 02 00 0a 00 00 14 00 0f | 22 03 | 8000 0001 50524f47202020202e4f424a 00000000 0002 | abcd"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 0f | 22 03 | 00 00"},
				{c2s, "80 00 02 00 0a 00 00 14 00 10 | 21 02 | 0000 0014"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 10 | 21 02 | 00 00 | 0014 0001 0001"},
				{c2s, "80 00 02 00 0a 00 00 14 00 11 | 22 7f"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 11 | 22 7f | 04 01"},
			},
			want: []want{
				{fn: "single_file_write", code: 0x2203, class: dissect.ClassFile, req: true, rsp: true, status: dissect.StatusOK,
					targets: []dissect.Target{{Kind: "file", Name: "PROG    .OBJ"}}},
				{fn: "error_log_read", code: 0x2102, class: dissect.ClassDiagnostics, req: true, rsp: true, status: dissect.StatusOK},
				{fn: "unknown", code: 0x227f, class: dissect.ClassFile, req: true, rsp: true, status: dissect.StatusError,
					rcode: 0x0401, text: "undefined_command"},
			},
		},
		{
			// End code 0040: normal completion with the non-fatal PLC error
			// bit; 8101 with the relay error bit set is 0101.
			name: "end code flags",
			msgs: []msg{
				{c2s, "80 00 02 00 0a 00 00 14 00 12 | 01 01 | 82 0000 00 0001"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 12 | 01 01 | 00 40 | 0000"},
				{c2s, "80 00 02 00 0a 00 00 14 00 13 | 01 01 | 82 0000 00 0001"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 13 | 01 01 | 81 01"},
			},
			want: []want{
				{fn: "memory_area_read", code: 0x0101, class: dissect.ClassRead, req: true, rsp: true, status: dissect.StatusOK,
					attrs: map[string]string{"plc_non_fatal_error": "true"}},
				{fn: "memory_area_read", code: 0x0101, class: dissect.ClassRead, req: true, rsp: true, status: dissect.StatusError,
					rcode: 0x0101, text: "local_node_not_in_network", attrs: map[string]string{"relay_error": "true"}},
			},
		},
		{
			// ICF bit 0: no response required; a response whose command was
			// not seen; responses paired out of order by service ID.
			name: "pairing",
			msgs: []msg{
				{c2s, "81 00 02 00 0a 00 00 14 00 20 | 01 02 | 82 0000 00 0001 | 0005"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 21 | 01 01 | 00 00 | 0001"},
				{c2s, "80 00 02 00 0a 00 00 14 00 22 | 01 01 | 82 0001 00 0001"},
				{c2s, "80 00 02 00 0a 00 00 14 00 23 | 01 01 | 82 0002 00 0001"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 23 | 01 01 | 00 00 | 0002"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 22 | 01 01 | 00 00 | 0001"},
			},
			want: []want{
				{fn: "memory_area_write", code: 0x0102, class: dissect.ClassWrite, req: true,
					attrs:   map[string]string{"response": "not_required"},
					targets: []dissect.Target{{Kind: "dm", Address: 0, Count: 1}}},
				{fn: "memory_area_read", code: 0x0101, class: dissect.ClassRead, rsp: true, status: dissect.StatusOK},
				{fn: "memory_area_read", code: 0x0101, class: dissect.ClassRead, req: true, rsp: true, status: dissect.StatusOK,
					targets: []dissect.Target{{Kind: "dm", Address: 2, Count: 1}}},
				{fn: "memory_area_read", code: 0x0101, class: dissect.ClassRead, req: true, rsp: true, status: dissect.StatusOK,
					targets: []dissect.Target{{Kind: "dm", Address: 1, Count: 1}}},
			},
		},
		{
			name: "malformed",
			msgs: []msg{
				{c2s, "80 00 02 00 0a"},
				{c2s, "84 00 02 00 0a 00 00 14 00 01 01 01"},
				{c2s, "80 01 02 00 0a 00 00 14 00 01 01 01"},
				{s2c, "c0 00 02 00 14 00 00 0a 00 01 01 01"},
			},
			want: []want{
				{fn: "malformed", req: true, status: dissect.StatusMalformed, text: errShortHeader, attrs: map[string]string{"violation": errShortHeader}},
				{fn: "malformed", req: true, status: dissect.StatusMalformed, text: errICF},
				{fn: "malformed", req: true, status: dissect.StatusMalformed, text: errRSV},
				{fn: "malformed", rsp: true, status: dissect.StatusMalformed, text: errShortResp},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, run(t, dissect.TransportUDP, tt.msgs), tt.want)
		})
	}
}

// FINS/TCP (W421): the client sends its node address (0: let the server
// assign one), the server answers with the client's and its own node
// address, then FINS frames travel in "frame send" (command 2) frames.
func TestTCP(t *testing.T) {
	tests := []struct {
		name string
		msgs []msg
		want []want
	}{
		{
			name: "handshake and read",
			msgs: []msg{
				{c2s, "46494e53 0000000c 00000000 00000000 00000000"},
				{s2c, "46494e53 00000010 00000001 00000000 000000ef 0000000a"},
				{c2s, "46494e53 0000001a 00000002 00000000 | 80 00 02 00 0a 00 00 ef 00 01 | 01 01 | 82 0064 00 0001"},
				{s2c, "46494e53 00000018 00000002 00000000 | c0 00 02 00 ef 00 00 0a 00 01 | 01 01 | 00 00 | 1234"},
			},
			want: []want{
				{fn: "node_address_data_send", class: dissect.ClassOther, req: true, rsp: true, status: dissect.StatusOK,
					attrs: map[string]string{"layer": "fins_tcp", "client_node": "239", "server_node": "10"},
					facts: []dissect.Fact{{Key: dissect.FactAddress, Value: "10", Server: true}}},
				{fn: "memory_area_read", code: 0x0101, class: dissect.ClassRead, req: true, rsp: true, status: dissect.StatusOK,
					attrs:   map[string]string{"layer": "fins_tcp"},
					targets: []dissect.Target{{Kind: "dm", Address: 100, Count: 1}}},
			},
		},
		{
			// Two frames in one chunk, one split over two chunks, garbage
			// before a frame (reported once), and an error notification.
			name: "framing",
			msgs: []msg{
				{c2s, "46494e53 00000014 00000002 00000000 | 80 00 02 00 0a 00 00 ef 00 01 | 04 02 " +
					"46494e53 00000014 00000002 00000000 | 80 00 02 00 0a 00 00 ef 00 02 | 04 01"},
				{s2c, "46494e53 00000016 00000002"},
				{s2c, "00000000 | c0 00 02 00 ef 00 00 0a 00 01 | 04 02 | 00 00"},
				{c2s, "00 01 02 46 49 46494e53 00000014 00000002 00000000 | 80 00 02 00 0a 00 00 ef 00 03 | 06 01"},
				{s2c, "46494e53 00000008 00000003 00000021"},
			},
			want: []want{
				{fn: "stop", code: 0x0402, class: dissect.ClassControl, req: true, rsp: true, status: dissect.StatusOK,
					attrs: map[string]string{"plc_mode": "stop"}},
				{fn: "malformed", req: true, status: dissect.StatusMalformed, text: errOutside},
				{fn: "frame_send_error_notification", code: 3, class: dissect.ClassOther, rsp: true,
					status: dissect.StatusError, rcode: 0x21, text: "node_already_connected"},
				{fn: "run", code: 0x0401, class: dissect.ClassControl, req: true, attrs: map[string]string{"run_mode": "monitor"}},
				{fn: "controller_status_read", code: 0x0601, class: dissect.ClassDiagnostics, req: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, run(t, dissect.TransportTCP, tt.msgs), tt.want)
		})
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want bool
	}{
		{"command", "80 00 02 00 0a 00 00 14 00 01 01 01 82 0064 00 000a", true},
		{"response", "c0 00 02 00 14 00 00 0a 00 01 01 01 00 00", true},
		{"fins/tcp", "46494e53 0000000c 00000000 00000000 00000000", true},
		{"fins/tcp unknown command", "46494e53 0000000c 00000009 00000000 00000000", false},
		{"fins/tcp huge length", "46494e53 00100000 00000002 00000000 00000000", false},
		{"unknown command code", "80 00 02 00 0a 00 00 14 00 01 7e 01", false},
		{"gateway bit clear", "00 00 02 00 0a 00 00 14 00 01 01 01", false},
		{"reserved bits", "82 00 02 00 0a 00 00 14 00 01 01 01", false},
		{"short response", "c0 00 02 00 14 00 00 0a 00 01 01 01", false},
		{"dns query", "1234 0100 0001 0000 0000 0000 03777777 00 0001 0001", false},
		{"http", "474554202f20485454502f312e310d0a", false},
		{"short", "80 00 02", false},
	}
	for _, tt := range tests {
		if got := (Dissector{}).Probe(dissecttest.Hex(t, tt.hex)); got != tt.want {
			t.Errorf("%s: Probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRegistered(t *testing.T) {
	for _, p := range []dissect.Port{dissect.UDP(Port), dissect.TCP(Port)} {
		if d := dissect.ByPort(p); d == nil || d.Name() != "fins" {
			t.Errorf("%v %d: %v", p.Transport, p.Number, d)
		}
	}
}

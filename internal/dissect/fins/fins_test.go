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

// The frames below follow the command and response formats of W342
// FINS command reference: header ICF RSV GCT DNA DA1 DA2 SNA SA1 SA2
// SID, command code, then parameters; a response repeats the command code
// and adds the end code. The PLC is node 10 (0x0a) of the local network,
// the computer node 20 (0x14).
func TestCommands(t *testing.T) {
	tests := []struct {
		name string
		msgs []dissecttest.Chunk
		want []dissecttest.Want
	}{
		{
			// MEMORY AREA READ of 10 DM words from D100: area 82, address
			// 0064 00, 000a items; the response carries 20 bytes.
			name: "memory area read",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 01 | 01 01 | 82 0064 00 000a"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 01 | 01 01 | 00 00 | 0001 0002 0003 0004 0005 0006 0007 0008 0009 000a"},
			},
			want: []dissecttest.Want{{Fn: "memory_area_read", Code: 0x0101, Class: dissect.ClassRead, Req: true, Rsp: true,
				Status: dissect.StatusOK, Targets: []dissect.Target{{Kind: "dm", Address: 100, Count: 10}}}},
		},
		{
			// MEMORY AREA WRITE of one CIO bit (area 30, word 10 bit 3)
			// refused with end code 2101 (read-only area).
			name: "memory area write refused",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 02 | 01 02 | 30 000a 03 0001 | 01"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 02 | 01 02 | 21 01"},
			},
			want: []dissecttest.Want{{Fn: "memory_area_write", Code: 0x0102, Class: dissect.ClassWrite, Req: true, Rsp: true,
				Status: dissect.StatusError, RCode: 0x2101, Text: "read_only", Attrs: map[string]string{"bit": "3"},
				Targets: []dissect.Target{{Kind: "cio_bit", Address: 10, Count: 1}}}},
		},
		{
			// MEMORY AREA FILL of EM bank 2 words, and MULTIPLE MEMORY AREA
			// READ of a DM word and a holding word.
			name: "fill and multiple read",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 03 | 01 03 | a2 0010 00 0004 | 1234"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 03 | 01 03 | 00 00"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 04 | 01 04 | 82 0001 00 | b2 0002 00"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 04 | 01 04 | 00 00 | 82 1111 | b2 2222"},
			},
			want: []dissecttest.Want{
				{Fn: "memory_area_fill", Code: 0x0103, Class: dissect.ClassWrite, Req: true, Rsp: true, Status: dissect.StatusOK,
					Targets: []dissect.Target{{Kind: "em", Name: "E2", Address: 16, Count: 4}}},
				{Fn: "multiple_memory_area_read", Code: 0x0104, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs:   map[string]string{"items": "2"},
					Targets: []dissect.Target{{Kind: "dm", Address: 1, Count: 1}, {Kind: "holding", Address: 2, Count: 1}}},
			},
		},
		{
			// RUN with program number FFFF and mode code 04 (RUN), and STOP
			// (no parameters).
			name: "run and stop",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 05 | 04 01 | ffff 04"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 05 | 04 01 | 00 00"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 06 | 04 02"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 06 | 04 02 | 00 00"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 07 | 04 01 | ffff"},
			},
			want: []dissecttest.Want{
				{Fn: "run", Code: 0x0401, Class: dissect.ClassControl, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"plc_mode": "run", "run_mode": "run"}},
				{Fn: "stop", Code: 0x0402, Class: dissect.ClassControl, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"plc_mode": "stop"}},
				// Without a mode code the PLC goes to MONITOR mode.
				{Fn: "run", Code: 0x0401, Class: dissect.ClassControl, Req: true, Status: dissect.StatusUnknown,
					Attrs: map[string]string{"plc_mode": "run", "run_mode": "monitor"}},
			},
		},
		{
			// PROGRAM AREA WRITE: program number FFFF, beginning word
			// 00000000, 0x0010 bytes; the PLC is running (end code 2201).
			name: "program area write",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 08 | 03 07 | ffff 00000000 0010 | 00112233445566778899aabbccddeeff"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 08 | 03 07 | 22 01"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 09 | 03 06 | ffff 00000100 0020"},
			},
			want: []dissecttest.Want{
				{Fn: "program_area_write", Code: 0x0307, Class: dissect.ClassProgram, Req: true, Rsp: true,
					Status: dissect.StatusError, RCode: 0x2201, Text: "not_possible_during_execution",
					Targets: []dissect.Target{{Kind: "program", Address: 0, Count: 16}}},
				{Fn: "program_area_read", Code: 0x0306, Class: dissect.ClassProgram, Req: true,
					Targets: []dissect.Target{{Kind: "program", Address: 256, Count: 32}}},
			},
		},
		{
			// CLOCK WRITE 2026-01-05 08:30:15 (BCD), CLOCK READ.
			name: "clock",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 0a | 07 02 | 26 01 05 08 30 15 01"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 0a | 07 02 | 00 00"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 0b | 07 01"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 0b | 07 01 | 00 00 | 26 01 05 08 30 16 01"},
			},
			want: []dissecttest.Want{
				{Fn: "clock_write", Code: 0x0702, Class: dissect.ClassTime, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"time": "2026-01-05T08:30:15"}},
				{Fn: "clock_read", Code: 0x0701, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"clock": "2026-01-05T08:30:16"}},
			},
		},
		{
			// CONTROLLER DATA READ: model (20 bytes), version (20 bytes),
			// system use (40 bytes), area data (12 bytes); CONTROLLER STATUS
			// READ: status 01 (run), mode 02 (monitor); NAME READ.
			name: "identity and status",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 0c | 05 01"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 0c | 05 01 | 00 00 |" +
					"434a324d2d4350553331202020202020 20202020" + // "CJ2M-CPU31"
					"30322e3031202020202020202020202020202020" + // "02.01"
					"0000000000000000000000000000000000000000 0000000000000000000000000000000000000000" +
					"000000000000000000000000"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 0d | 06 01"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 0d | 06 01 | 00 00 | 01 02 0000 0000 0000 0000"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 0e | 26 03"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 0e | 26 03 | 00 00 | 4c494e45 31000000"},
			},
			want: []dissecttest.Want{
				{Fn: "controller_data_read", Code: 0x0501, Class: dissect.ClassDiscovery, Req: true, Rsp: true, Status: dissect.StatusOK,
					Facts: []dissect.Fact{{Key: dissect.FactVendor, Value: "OMRON", Server: true},
						{Key: dissect.FactModel, Value: "CJ2M-CPU31", Server: true}, {Key: dissect.FactFirmware, Value: "02.01", Server: true}}},
				{Fn: "controller_status_read", Code: 0x0601, Class: dissect.ClassDiagnostics, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"status": "run", "mode": "monitor"}},
				{Fn: "name_read", Code: 0x2603, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Facts: []dissect.Fact{{Key: dissect.FactHostname, Value: "LINE1", Server: true}}},
			},
		},
		{
			// SINGLE FILE WRITE: disk 8000 (memory card), parameter 0001
			// (overwrite), file name "PROG    .OBJ", position, length;
			// ERROR LOG READ; an undefined command.
			name: "file, error log, unknown",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 0f | 22 03 | 8000 0001 50524f47202020202e4f424a 00000000 0002 | abcd"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 0f | 22 03 | 00 00"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 10 | 21 02 | 0000 0014"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 10 | 21 02 | 00 00 | 0014 0001 0001"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 11 | 22 7f"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 11 | 22 7f | 04 01"},
			},
			want: []dissecttest.Want{
				{Fn: "single_file_write", Code: 0x2203, Class: dissect.ClassFile, Req: true, Rsp: true, Status: dissect.StatusOK,
					Targets: []dissect.Target{{Kind: "file", Name: "PROG    .OBJ"}}},
				{Fn: "error_log_read", Code: 0x2102, Class: dissect.ClassDiagnostics, Req: true, Rsp: true, Status: dissect.StatusOK},
				{Fn: "unknown", Code: 0x227f, Class: dissect.ClassFile, Req: true, Rsp: true, Status: dissect.StatusError,
					RCode: 0x0401, Text: "undefined_command"},
			},
		},
		{
			// End code 0040: normal completion with the non-fatal PLC error
			// bit; 8101 with the relay error bit set is 0101.
			name: "end code flags",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 12 | 01 01 | 82 0000 00 0001"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 12 | 01 01 | 00 40 | 0000"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 13 | 01 01 | 82 0000 00 0001"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 13 | 01 01 | 81 01"},
			},
			want: []dissecttest.Want{
				{Fn: "memory_area_read", Code: 0x0101, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"plc_non_fatal_error": "true"}},
				{Fn: "memory_area_read", Code: 0x0101, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusError,
					RCode: 0x0101, Text: "local_node_not_in_network", Attrs: map[string]string{"relay_error": "true"}},
			},
		},
		{
			// ICF bit 0: no response required; a response whose command was
			// not seen; responses paired out of order by service ID.
			name: "pairing",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "81 00 02 00 0a 00 00 14 00 20 | 01 02 | 82 0000 00 0001 | 0005"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 21 | 01 01 | 00 00 | 0001"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 22 | 01 01 | 82 0001 00 0001"},
				{Dir: c2s, Hex: "80 00 02 00 0a 00 00 14 00 23 | 01 01 | 82 0002 00 0001"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 23 | 01 01 | 00 00 | 0002"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 22 | 01 01 | 00 00 | 0001"},
			},
			want: []dissecttest.Want{
				{Fn: "memory_area_write", Code: 0x0102, Class: dissect.ClassWrite, Req: true,
					Attrs:   map[string]string{"response": "not_required"},
					Targets: []dissect.Target{{Kind: "dm", Address: 0, Count: 1}}},
				{Fn: "memory_area_read", Code: 0x0101, Class: dissect.ClassRead, Rsp: true, Status: dissect.StatusOK},
				{Fn: "memory_area_read", Code: 0x0101, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Targets: []dissect.Target{{Kind: "dm", Address: 2, Count: 1}}},
				{Fn: "memory_area_read", Code: 0x0101, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Targets: []dissect.Target{{Kind: "dm", Address: 1, Count: 1}}},
			},
		},
		{
			name: "malformed",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "80 00 02 00 0a"},
				{Dir: c2s, Hex: "84 00 02 00 0a 00 00 14 00 01 01 01"},
				{Dir: c2s, Hex: "80 01 02 00 0a 00 00 14 00 01 01 01"},
				{Dir: s2c, Hex: "c0 00 02 00 14 00 00 0a 00 01 01 01"},
			},
			want: []dissecttest.Want{
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errShortHeader, Attrs: map[string]string{"violation": errShortHeader}},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errICF},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errRSV},
				{Fn: "malformed", Rsp: true, Status: dissect.StatusMalformed, Text: errShortResp},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dissecttest.Expect(t, "fins", dissecttest.Run(t, Dissector{}, dissect.TransportUDP, Port, tt.msgs), tt.want)
		})
	}
}

// FINS/TCP (W421): the client sends its node address (0: let the server
// assign one), the server answers with the client's and its own node
// address, then FINS frames travel in "frame send" (command 2) frames.
func TestTCP(t *testing.T) {
	tests := []struct {
		name string
		msgs []dissecttest.Chunk
		want []dissecttest.Want
	}{
		{
			name: "handshake and read",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "46494e53 0000000c 00000000 00000000 00000000"},
				{Dir: s2c, Hex: "46494e53 00000010 00000001 00000000 000000ef 0000000a"},
				{Dir: c2s, Hex: "46494e53 0000001a 00000002 00000000 | 80 00 02 00 0a 00 00 ef 00 01 | 01 01 | 82 0064 00 0001"},
				{Dir: s2c, Hex: "46494e53 00000018 00000002 00000000 | c0 00 02 00 ef 00 00 0a 00 01 | 01 01 | 00 00 | 1234"},
			},
			want: []dissecttest.Want{
				{Fn: "node_address_data_send", Class: dissect.ClassOther, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"layer": "fins_tcp", "client_node": "239", "server_node": "10"},
					Facts: []dissect.Fact{{Key: dissect.FactAddress, Value: "10", Server: true}}},
				{Fn: "memory_area_read", Code: 0x0101, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs:   map[string]string{"layer": "fins_tcp"},
					Targets: []dissect.Target{{Kind: "dm", Address: 100, Count: 1}}},
			},
		},
		{
			// Two frames in one chunk, one split over two chunks, garbage
			// before a frame (reported once), and an error notification.
			name: "framing",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: "46494e53 00000014 00000002 00000000 | 80 00 02 00 0a 00 00 ef 00 01 | 04 02 " +
					"46494e53 00000014 00000002 00000000 | 80 00 02 00 0a 00 00 ef 00 02 | 04 01"},
				{Dir: s2c, Hex: "46494e53 00000016 00000002"},
				{Dir: s2c, Hex: "00000000 | c0 00 02 00 ef 00 00 0a 00 01 | 04 02 | 00 00"},
				{Dir: c2s, Hex: "00 01 02 46 49 46494e53 00000014 00000002 00000000 | 80 00 02 00 0a 00 00 ef 00 03 | 06 01"},
				{Dir: s2c, Hex: "46494e53 00000008 00000003 00000021"},
			},
			want: []dissecttest.Want{
				{Fn: "stop", Code: 0x0402, Class: dissect.ClassControl, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"plc_mode": "stop"}},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errOutside},
				{Fn: "frame_send_error_notification", Code: 3, Class: dissect.ClassOther, Rsp: true,
					Status: dissect.StatusError, RCode: 0x21, Text: "node_already_connected"},
				{Fn: "run", Code: 0x0401, Class: dissect.ClassControl, Req: true, Attrs: map[string]string{"run_mode": "monitor"}},
				{Fn: "controller_status_read", Code: 0x0601, Class: dissect.ClassDiagnostics, Req: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dissecttest.Expect(t, "fins", dissecttest.Run(t, Dissector{}, dissect.TransportTCP, Port, tt.msgs), tt.want)
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

package hartip

import (
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

const (
	c2s = dissect.ToServer
	s2c = dissect.ToClient
)

// tp builds a token-passing frame (HCF_SPEC-081): delimiter, address,
// command, byte count, data and the check byte, the XOR of all of them.
func tp(t testing.TB, delim byte, addr string, cmd byte, data string) string {
	t.Helper()
	b := []byte{delim}
	b = append(b, dissecttest.Hex(t, addr)...)
	d := dissecttest.Hex(t, data)
	b = append(b, cmd, byte(len(d)))
	b = append(b, d...)
	var x byte
	for _, c := range b {
		x ^= c
	}
	return hex.EncodeToString(append(b, x))
}

// hip builds a HART-IP message (HCF_SPEC-085): version 1, message type,
// message ID, status, sequence number, byte count (header included).
func hip(t testing.TB, typ, id, status byte, seq uint16, body string) string {
	t.Helper()
	n := headerLen + len(dissecttest.Hex(t, body))
	return fmt.Sprintf("01 %02x %02x %02x %04x %04x %s", typ, id, status, seq, n, body)
}

// cmd0 is the data of a HART 7 command 0 response (HCF_SPEC-127 table
// for command 0): 254, expanded device type 0x2605, 5 preambles, universal
// revision 7, device revision 1, software revision 10, hardware revision
// 1 with physical signaling 4 (0x0c), flags 0, device ID 3a1b2c, 5
// response preambles, 4 device variables, configuration change counter
// 3, extended status 0, manufacturer ID 0x0026, private label 0x0026,
// device profile 1.
const cmd0 = "fe 2605 05 07 01 0a 0c 00 3a1b2c 05 04 0003 00 0026 0026 01"

func TestSession(t *testing.T) {
	tests := []struct {
		name string
		msgs []dissecttest.Chunk
		want []dissecttest.Want
	}{
		{
			// Session Initiate: host type 1 (primary), inactivity close
			// timer 60000 ms; Keep Alive; Session Close.
			name: "session",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: hip(t, 0, 0, 0, 1, "01 0000ea60")},
				{Dir: s2c, Hex: hip(t, 1, 0, 0, 1, "01 0000ea60")},
				{Dir: c2s, Hex: hip(t, 0, 2, 0, 2, "")},
				{Dir: s2c, Hex: hip(t, 1, 2, 0, 2, "")},
				{Dir: c2s, Hex: hip(t, 0, 1, 0, 3, "")},
				{Dir: s2c, Hex: hip(t, 1, 1, 0, 3, "")},
			},
			want: []dissecttest.Want{
				{Fn: "session_initiate", Class: dissect.ClassOther, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"host_type": "primary", "inactivity_timer_ms": "60000", "layer": "hart_ip"}},
				{Fn: "keep_alive", Code: 2, Class: dissect.ClassOther, Req: true, Rsp: true, Status: dissect.StatusOK},
				{Fn: "session_close", Code: 1, Class: dissect.ClassOther, Req: true, Rsp: true, Status: dissect.StatusOK},
			},
		},
		{
			// Session Initiate refused: status 15, all sessions in use;
			// status 8: the server set another timer (a warning).
			name: "session refused",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: hip(t, 0, 0, 0, 1, "00 00001388")},
				{Dir: s2c, Hex: hip(t, 1, 0, 15, 1, "00 00001388")},
				{Dir: c2s, Hex: hip(t, 0, 0, 0, 2, "01 ffffffff")},
				{Dir: s2c, Hex: hip(t, 1, 0, 8, 2, "01 001b7740")},
			},
			want: []dissecttest.Want{
				{Fn: "session_initiate", Class: dissect.ClassOther, Req: true, Rsp: true, Status: dissect.StatusError,
					RCode: 15, Text: "all_sessions_in_use", Attrs: map[string]string{"host_type": "secondary"}},
				{Fn: "session_initiate", Class: dissect.ClassOther, Req: true, Rsp: true, Status: dissect.StatusOK,
					RCode: 8, Text: "set_to_nearest_possible_value", Attrs: map[string]string{"warning": "true"}},
			},
		},
		{
			// Command 0 to polling address 0 (short frame, primary master
			// bit set: 0x80), answered by an ACK frame.
			name: "read unique identifier",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 5, "02 80 00 00 82")},
				{Dir: s2c, Hex: hip(t, 1, 3, 0, 5, tp(t, 0x06, "80", 0, "00 00"+cmd0))},
			},
			want: []dissecttest.Want{{Fn: "read_unique_identifier", Class: dissect.ClassDiscovery, Req: true, Rsp: true, Status: dissect.StatusOK,
				Attrs:   map[string]string{"layer": "hart", "frame": "stx", "hart_revision": "7", "device_revision": "1"},
				Targets: []dissect.Target{{Kind: "polling_address"}},
				Facts: []dissect.Fact{
					{Key: dissect.FactVendorID, Value: "38", Server: true},
					{Key: dissect.FactDeviceType, Value: "0x2605", Server: true},
					{Key: dissect.FactSerial, Value: "3a1b2c", Server: true},
					{Key: dissect.FactFirmware, Value: "10", Server: true},
					{Key: dissect.FactHardware, Value: "1", Server: true},
				}}},
		},
		{
			// Long frames (delimiter 0x82/0x86) to the device 26 05 3a1b2c:
			// command 20 (long tag, 32 ISO Latin-1 characters), command 42
			// (device reset) answered with the cold start flag, command 6.
			name: "long tag, reset, polling address",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 6, tp(t, 0x82, "a6053a1b2c", 20, ""))},
				{Dir: s2c, Hex: hip(t, 1, 3, 0, 6, tp(t, 0x86, "a6053a1b2c", 20, "00 00 "+hex.EncodeToString([]byte("FT-101 FLOW TRANSMITTER\x00\x00\x00\x00\x00\x00\x00\x00\x00"))))},
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 7, tp(t, 0x82, "a6053a1b2c", 42, ""))},
				{Dir: s2c, Hex: hip(t, 1, 3, 0, 7, tp(t, 0x86, "a6053a1b2c", 42, "00 20"))},
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 8, tp(t, 0x02, "80", 6, "03 00"))},
				{Dir: s2c, Hex: hip(t, 1, 3, 0, 8, tp(t, 0x06, "80", 6, "00 00 03 00"))},
			},
			want: []dissecttest.Want{
				{Fn: "read_long_tag", Code: 20, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Targets: []dissect.Target{{Kind: "unique_id", Address: 0x3a1b2c}},
					Facts:   []dissect.Fact{{Key: dissect.FactHostname, Value: "FT-101 FLOW TRANSMITTER", Server: true}}},
				{Fn: "perform_device_reset", Code: 42, Class: dissect.ClassRestart, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"cold_start": "true"}},
				{Fn: "write_polling_address", Code: 6, Class: dissect.ClassWrite, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"polling_address": "3"}},
			},
		},
		{
			// Response codes: 64 command not implemented (error), 8 set to
			// nearest possible value (warning), 0x88 a communication error;
			// command 31 carrying extended command 768 (write join key).
			name: "response codes",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 9, tp(t, 0x02, "80", 1, ""))},
				{Dir: s2c, Hex: hip(t, 1, 3, 0, 9, tp(t, 0x06, "80", 1, "40 00"))},
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 10, tp(t, 0x02, "80", 35, "20 42c80000 00000000"))},
				{Dir: s2c, Hex: hip(t, 1, 3, 0, 10, tp(t, 0x06, "80", 35, "08 40 20 42c80000 00000000"))},
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 11, tp(t, 0x02, "80", 3, ""))},
				{Dir: s2c, Hex: hip(t, 1, 3, 0, 11, tp(t, 0x06, "80", 3, "88 00"))},
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 12, tp(t, 0x02, "80", 31, "0300 00112233445566778899aabbccddeeff"))},
				{Dir: s2c, Hex: hip(t, 1, 3, 0, 12, tp(t, 0x06, "80", 31, "00 00 0300 00112233445566778899aabbccddeeff"))},
			},
			want: []dissecttest.Want{
				{Fn: "read_primary_variable", Code: 1, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusError,
					RCode: 64, Text: "command_not_implemented"},
				{Fn: "write_primary_variable_range_values", Code: 35, Class: dissect.ClassWrite, Req: true, Rsp: true,
					Status: dissect.StatusOK, RCode: 8, Text: "set_to_nearest_possible_value",
					Attrs: map[string]string{"warning": "true", "configuration_changed": "true"}},
				{Fn: "read_dynamic_variables_and_loop_current", Code: 3, Class: dissect.ClassRead, Req: true, Rsp: true,
					Status: dissect.StatusError, RCode: 0x88, Text: "communication_error"},
				{Fn: "write_join_key", Code: 768, Class: dissect.ClassAuthentication, Req: true, Rsp: true, Status: dissect.StatusOK},
			},
		},
		{
			// An error message (type 3, body 1: primary session
			// unavailable) answers a pass-through request; a burst frame
			// (BACK, delimiter 0x01) published without a request.
			name: "error and publish",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 13, tp(t, 0x02, "80", 48, ""))},
				{Dir: s2c, Hex: hip(t, 3, 3, 0, 13, "01")},
				{Dir: s2c, Hex: hip(t, 2, 3, 0, 14, tp(t, 0x01, "80", 1, "00 00 20 42c80000"))},
			},
			want: []dissecttest.Want{
				{Fn: "read_additional_device_status", Code: 48, Class: dissect.ClassDiagnostics, Req: true, Rsp: true,
					Status: dissect.StatusError, RCode: 1, Text: "primary_session_unavailable", Attrs: map[string]string{"message_type": "error"}},
				{Fn: "read_primary_variable", Code: 1, Class: dissect.ClassRead, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"frame": "back", "message_type": "publish"}},
			},
		},
		{
			// A Direct PDU (message ID 4): device status, extended status,
			// then commands 1 and 48 with their byte counts; the response
			// starts each command's data with its response code.
			name: "direct pdu",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: hip(t, 0, 4, 0, 15, "00 00 | 0001 00 | 0030 00")},
				{Dir: s2c, Hex: hip(t, 1, 4, 0, 15, "40 00 | 0001 06 00 20 42c80000 | 0030 02 40 00")},
			},
			want: []dissecttest.Want{
				{Fn: "read_primary_variable", Code: 1, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"pdu": "direct", "configuration_changed": "true"}},
				{Fn: "read_additional_device_status", Code: 48, Class: dissect.ClassDiagnostics, Req: true, Rsp: true,
					Status: dissect.StatusError, RCode: 64, Text: "command_not_implemented"},
			},
		},
		{
			name: "malformed",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 20, "02 80 00 00 83")},
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 21, "02 80 00 00 82 00")},
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 22, "02 80 00 05 82")},
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 23, "05 80 00 00 85")},
				{Dir: c2s, Hex: hip(t, 0, 3, 0, 24, tp(t, 0x06, "80", 0, "00 00"))},
				{Dir: c2s, Hex: "01 00 03 00 0019 0020 02 80 00 00 82"},
				{Dir: c2s, Hex: hip(t, 0, 0, 0, 25, "01")},
			},
			want: []dissecttest.Want{
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errChecksum, Attrs: map[string]string{"layer": "hart"}},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errTrailing},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errByteCount},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errFrameType},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errDirection},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errTruncated, Attrs: map[string]string{"layer": "hart_ip"}},
				{Fn: "session_initiate", Class: dissect.ClassOther, Req: true, Status: dissect.StatusMalformed, Text: errSessionInit},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dissecttest.Expect(t, "hartip", dissecttest.Run(t, Dissector{}, dissect.TransportUDP, Port, tt.msgs), tt.want)
		})
	}
}

// Over TCP messages are framed by their byte count: two in one segment,
// one split, garbage before a header (reported once).
func TestStream(t *testing.T) {
	req := hip(t, 0, 3, 0, 1, "02 80 00 00 82")
	rsp := hip(t, 1, 3, 0, 1, tp(t, 0x06, "80", 0, "00 00"+cmd0))
	r := dissecttest.Hex(t, rsp)
	ops := dissecttest.Run(t, Dissector{}, dissect.TransportTCP, Port, []dissecttest.Chunk{
		{Dir: c2s, Hex: hip(t, 0, 2, 0, 0, "") + req},
		{Dir: s2c, Hex: hex.EncodeToString(r[:11])},
		{Dir: s2c, Hex: hex.EncodeToString(r[11:]) + hip(t, 1, 2, 0, 0, "")},
		{Dir: c2s, Hex: "ff ff 00 09 " + hip(t, 0, 1, 0, 2, "")},
	})
	dissecttest.Expect(t, "hartip", ops, []dissecttest.Want{
		{Fn: "read_unique_identifier", Class: dissect.ClassDiscovery, Req: true, Rsp: true, Status: dissect.StatusOK},
		{Fn: "keep_alive", Code: 2, Class: dissect.ClassOther, Req: true, Rsp: true, Status: dissect.StatusOK},
		{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errHeader},
		{Fn: "session_close", Code: 1, Class: dissect.ClassOther, Req: true},
	})
}

func TestUnpackASCII(t *testing.T) {
	// HART Packed ASCII (Command Summary Specification): "ABCD" is 0x01 0x02 0x03 0x04 in six
	// bits each: 000001 000010 000011 000100 = 04 20 c4.
	if got := unpackASCII(dissecttest.Hex(t, "04 20 c4")); got != "ABCD" {
		t.Errorf("unpackASCII = %q, want ABCD", got)
	}
	// " 09" and '@': 100000 110000 111001 000000 = 83 0e 40.
	if got := unpackASCII(dissecttest.Hex(t, "83 0e 40")); got != " 09@" {
		t.Errorf("unpackASCII = %q, want \" 09@\"", got)
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want bool
	}{
		{"session initiate", hip(t, 0, 0, 0, 1, "01 0000ea60"), true},
		{"keep alive", hip(t, 0, 2, 0, 1, ""), true},
		{"pass-through", hip(t, 0, 3, 0, 1, "02 80 00 00 82"), true},
		{"pass-through response", hip(t, 1, 3, 0, 1, tp(t, 0x06, "80", 0, "00 00"+cmd0)), true},
		{"version 9", "09 00 00 00 0001 000d 01 0000ea60", false},
		{"unknown type", "01 07 00 00 0001 000d 01 0000ea60", false},
		{"initiate body 4", "01 00 00 00 0001 000c 01 0000ea", false},
		{"count beyond", "01 00 02 00 0001 0010", false},
		{"unknown id", hip(t, 0, 9, 0, 1, ""), false},
		{"bad delimiter", hip(t, 0, 3, 0, 1, "07 80 00 00 87"), false},
		{"dns", "1234 0100 0001 0000 0000 0000", false},
	}
	for _, tt := range tests {
		if got := (Dissector{}).Probe(dissecttest.Hex(t, tt.hex)); got != tt.want {
			t.Errorf("%s: Probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

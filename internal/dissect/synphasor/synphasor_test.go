package synphasor

import (
	"encoding/hex"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

const (
	c2s = dissect.ToServer
	s2c = dissect.ToClient
)

// Frames that pypmu (a C37.118 implementation in Python, BSD-3) expects
// its frame encoders to produce, in its tests/test_frame.py: IDCODE 7734
// (0x1e36), the C37.118 example time stamps (SOC 1149580800 is
// 2006-06-06T08:00:00Z).
const (
	// pypmuConfig2 is a CFG-2 frame with one PMU, "Station A", 4
	// phasors, 3 analog values, 1 digital word, FNOM 60 Hz, CFGCNT 22,
	// DATA_RATE 30.
	pypmuConfig2 = "aa3101c61e36448527f056071098000f4240000153746174696f6e2041202020" +
		"202020201e360004000400030001564120202020202020202020202020205642" +
		"2020202020202020202020202020564320202020202020202020202020204931" +
		"2020202020202020202020202020414e414c4f4731202020202020202020414e" +
		"414c4f4732202020202020202020414e414c4f47332020202020202020204252" +
		"45414b4552203120535441545553425245414b45522032205354415455534252" +
		"45414b4552203320535441545553425245414b45522034205354415455534252" +
		"45414b4552203520535441545553425245414b45522036205354415455534252" +
		"45414b4552203720535441545553425245414b45522038205354415455534252" +
		"45414b4552203920535441545553425245414b45522041205354415455534252" +
		"45414b4552204220535441545553425245414b45522043205354415455534252" +
		"45414b4552204420535441545553425245414b45522045205354415455534252" +
		"45414b4552204620535441545553425245414b4552204720535441545553000d" +
		"f847000df847000df8470100b2d00000000101000001020000010000ffff0000" +
		"0016001ed5d1"
	// pypmuData is the data frame of that configuration.
	pypmuData = "aa0100341e3644853600000041b10000392b0000e36ace7ce36a318304440000" +
		"09c4000042c80000447a0000461c40003c12d43f"
	// pypmuHeader is a header frame: "Hello I'm Header Frame.".
	pypmuHeader = "aa1100271e36448560300f0bbfd048656c6c6f2049276d204865616465722046" +
		"72616d652e17cc"
	// pypmuStart is the command frame "start": CMD 2, turn on transmission.
	pypmuStart = "aa4100121e36448560300f0bbfd00002ce00"
)

// frame builds a frame (clause 6.2): SYNC for type and version 1,
// FRAMESIZE, IDCODE, SOC 1149580800, FRACSEC 0, the payload and the CRC.
func frame(t testing.TB, typ byte, id uint16, payload string) string {
	t.Helper()
	p := dissecttest.Hex(t, payload)
	n := headerLen + len(p) + 2
	b := []byte{syncByte, typ<<4 | 1, byte(n >> 8), byte(n), byte(id >> 8), byte(id), 0x44, 0x85, 0x36, 0x00, 0, 0, 0, 0}
	b = append(b, p...)
	c := CRC(b)
	return hex.EncodeToString(append(b, byte(c>>8), byte(c)))
}

func TestCRC(t *testing.T) {
	// The CRC-16/CCITT (poly 0x1021, init 0xFFFF, no reflection, no final
	// XOR) check value of "123456789" is 0x29B1.
	if got := CRC([]byte("123456789")); got != 0x29b1 {
		t.Errorf("CRC(123456789) = %#04x, want 0x29b1", got)
	}
	for _, f := range []string{pypmuConfig2, pypmuData, pypmuHeader, pypmuStart} {
		if !crcOK(dissecttest.Hex(t, f)) {
			t.Errorf("CRC of %s... does not match", f[:16])
		}
	}
	// The table-driven CRC agrees with the bitwise algorithm of annex B at
	// every length and alignment.
	bitwise := func(b []byte) uint16 {
		crc := uint16(0xffff)
		for _, c := range b {
			crc ^= uint16(c) << 8
			for range 8 {
				if crc&0x8000 != 0 {
					crc = crc<<1 ^ 0x1021
				} else {
					crc <<= 1
				}
			}
		}
		return crc
	}
	buf := make([]byte, 70)
	for i := range buf {
		buf[i] = byte(i*151 + 7)
	}
	for n := range len(buf) {
		if got, want := CRC(buf[:n]), bitwise(buf[:n]); got != want {
			t.Errorf("CRC of %d bytes = %#04x, bitwise %#04x", n, got, want)
		}
	}
}

func TestSession(t *testing.T) {
	pmu := dissect.Fact{Key: dissect.FactAddress, Value: "7734", Server: true}
	tests := []struct {
		name string
		msgs []dissecttest.Chunk
		want []dissecttest.Want
	}{
		{
			// The PDC asks for CFG-2 (CMD 5), the PMU sends pypmu's CFG-2,
			// the PDC turns transmission on and data frames follow.
			name: "config and data",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, At: 0, Hex: frame(t, typeCommand, 7734, "0005")},
				{Dir: s2c, At: 10 * time.Millisecond, Hex: pypmuConfig2},
				{Dir: c2s, At: 20 * time.Millisecond, Hex: pypmuStart},
				{Dir: s2c, At: 40 * time.Millisecond, Hex: pypmuData},
			},
			want: []dissecttest.Want{
				{Fn: "send_config_2", Code: 5, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"frame": "config_2", "pmus": "1", "data_rate": "30", "nominal_frequency": "60",
						"soc": "2006-06-06T08:00:00Z+0"},
					Targets: []dissect.Target{{Kind: "pmu", Address: 7734}, {Kind: "pmu", Name: "Station A", Address: 7734}},
					Facts:   []dissect.Fact{pmu, pmu, {Key: dissect.FactHostname, Value: "Station A", Server: true}}},
				{Fn: "turn_on_transmission", Code: 2, Class: dissect.ClassControl, Req: true, Status: dissect.StatusUnknown,
					Attrs: map[string]string{"transmission": "on", "soc": "2006-06-06T11:00:00.770000Z"},
					Facts: []dissect.Fact{pmu}},
				{Fn: "data", Code: 0xaa00, Class: dissect.ClassRead, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"frames": "1"}, Targets: []dissect.Target{{Kind: "pmu", Address: 7734}},
					Facts: []dissect.Fact{pmu}},
			},
		},
		{
			// Data frames at 50 per second for 2.5 s: one operation per
			// second, counting the frames since the previous one; the third
			// reports STAT bits 15-14 = 10 (test mode), 13 (sync lost) and
			// 11 (trigger).
			name: "data rate limit",
			msgs: func() []dissecttest.Chunk {
				var m []dissecttest.Chunk
				for i := range 125 {
					stat := "0000"
					if i >= 100 {
						stat = "a800"
					}
					m = append(m, dissecttest.Chunk{Dir: s2c, At: time.Duration(i) * 20 * time.Millisecond, Hex: frame(t, typeData, 60, stat+"00000000")})
				}
				return m
			}(),
			want: []dissecttest.Want{
				{Fn: "data", Code: 0xaa00, Class: dissect.ClassRead, Rsp: true, Status: dissect.StatusOK, Attrs: map[string]string{"frames": "1"}},
				{Fn: "data", Code: 0xaa00, Class: dissect.ClassRead, Rsp: true, Status: dissect.StatusOK, Attrs: map[string]string{"frames": "50"}},
				{Fn: "data", Code: 0xaa00, Class: dissect.ClassRead, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"frames": "50", "data_error": "test_mode", "time_sync": "lost", "trigger": "true"}},
			},
		},
		{
			// Header frame on request (CMD 3), CFG-1 without a request,
			// turn off (CMD 1), a user-defined command, an unanswered send
			// CFG-3.
			name: "commands",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, At: 0, Hex: frame(t, typeCommand, 7734, "0003")},
				{Dir: s2c, At: 0, Hex: pypmuHeader},
				{Dir: s2c, At: 0, Hex: frame(t, typeConfig1, 60, "000f4240 0001 "+hex.EncodeToString([]byte("PMU 60 FEEDER 3 "))+" 003c 0000 0000 0000 0000 0001 0000 001e")},
				{Dir: c2s, At: 0, Hex: frame(t, typeCommand, 7734, "0001")},
				{Dir: c2s, At: 0, Hex: frame(t, typeCommand, 7734, "0123")},
				{Dir: c2s, At: 0, Hex: frame(t, typeCommand, 7734, "0006")},
			},
			want: []dissecttest.Want{
				{Fn: "send_header_frame", Code: 3, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"frame": "header", "header": "Hello I'm Header Frame."}},
				{Fn: "config_1", Code: 0xaa20, Class: dissect.ClassRead, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"nominal_frequency": "50", "data_rate": "30"},
					Facts: []dissect.Fact{{Key: dissect.FactAddress, Value: "60", Server: true}, {Key: dissect.FactHostname, Value: "PMU 60 FEEDER 3", Server: true}}},
				{Fn: "turn_off_transmission", Code: 1, Class: dissect.ClassControl, Req: true, Attrs: map[string]string{"transmission": "off"}},
				{Fn: "user_defined", Code: 0x123, Class: dissect.ClassOther, Req: true},
				{Fn: "send_config_3", Code: 6, Class: dissect.ClassRead, Req: true},
			},
		},
		{
			// CFG-3 (clause 6.4): CONT_IDX 0, TIME_BASE, one PMU block with a
			// length-prefixed station name "SUB7-PMU2", IDCODE 12, G_PMU_ID,
			// FORMAT, one phasor named "VA", PHSCALE, PMU_LAT/LON/ELEV,
			// SVC_CLASS "M", WINDOW, GRP_DLY, FNOM, CFGCNT; DATA_RATE 60.
			name: "config 3",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, At: 0, Hex: frame(t, typeCommand, 12, "0006")},
				{Dir: s2c, At: 0, Hex: frame(t, typeConfig3, 12, "0000 000f4240 0001 09"+hex.EncodeToString([]byte("SUB7-PMU2"))+
					" 000c 00112233445566778899aabbccddeeff 000f 0001 0000 0000 02 5641"+
					" 01000000 3f800000 00000000 7f800000 7f800000 7f800000 4d 00000000 00000000 0000 0001 003c")},
			},
			want: []dissecttest.Want{
				{Fn: "send_config_3", Code: 6, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"frame": "config_3", "data_rate": "60", "nominal_frequency": "60"},
					Facts: []dissect.Fact{{Key: dissect.FactAddress, Value: "12", Server: true}, {Key: dissect.FactAddress, Value: "12", Server: true},
						{Key: dissect.FactHostname, Value: "SUB7-PMU2", Server: true}}},
			},
		},
		{
			// pypmu's CFG-2 with two PMU blocks: a PDC, whose blocks are
			// modules, not its host name.
			name: "pdc config",
			msgs: []dissecttest.Chunk{{Dir: s2c, At: 0, Hex: "aa3103741e36448527f056071098000f4240000253746174696f6e2041202020" +
				"202020201e360004000400030001564120202020202020202020202020205642" +
				"2020202020202020202020202020564320202020202020202020202020204931" +
				"2020202020202020202020202020414e414c4f4731202020202020202020414e" +
				"414c4f4732202020202020202020414e414c4f47332020202020202020204252" +
				"45414b4552203120535441545553425245414b45522032205354415455534252" +
				"45414b4552203320535441545553425245414b45522034205354415455534252" +
				"45414b4552203520535441545553425245414b45522036205354415455534252" +
				"45414b4552203720535441545553425245414b45522038205354415455534252" +
				"45414b4552203920535441545553425245414b45522041205354415455534252" +
				"45414b4552204220535441545553425245414b45522043205354415455534252" +
				"45414b4552204420535441545553425245414b45522045205354415455534252" +
				"45414b4552204620535441545553425245414b4552204720535441545553000d" +
				"f847000df847000df8470100b2d00000000101000001020000010000ffff0000" +
				"001653746174696f6e2041202020202020201e36000400040003000156412020" +
				"2020202020202020202020205642202020202020202020202020202056432020" +
				"20202020202020202020202049312020202020202020202020202020414e414c" +
				"4f4731202020202020202020414e414c4f4732202020202020202020414e414c" +
				"4f4733202020202020202020425245414b455220312053544154555342524541" +
				"4b4552203220535441545553425245414b455220332053544154555342524541" +
				"4b4552203420535441545553425245414b455220352053544154555342524541" +
				"4b4552203620535441545553425245414b455220372053544154555342524541" +
				"4b4552203820535441545553425245414b455220392053544154555342524541" +
				"4b4552204120535441545553425245414b455220422053544154555342524541" +
				"4b4552204320535441545553425245414b455220442053544154555342524541" +
				"4b4552204520535441545553425245414b455220462053544154555342524541" +
				"4b4552204720535441545553000df847000df847000df8470100b2d000000001" +
				"01000001020000010000ffff00000016001e20e8"}},
			want: []dissecttest.Want{
				{Fn: "config_2", Code: 0xaa30, Class: dissect.ClassRead, Rsp: true, Status: dissect.StatusOK,
					Attrs: map[string]string{"pmus": "2"},
					Facts: []dissect.Fact{pmu, {Key: dissect.FactModule, Value: "Station A", Server: true}, {Key: dissect.FactModule, Value: "Station A", Server: true}}},
			},
		},
		{
			name: "malformed",
			msgs: []dissecttest.Chunk{
				{Dir: c2s, At: 0, Hex: pypmuStart[:len(pypmuStart)-2] + "01"},
				{Dir: c2s, At: 0, Hex: "aa 41 00 0a 1e36"},
				{Dir: s2c, At: 0, Hex: frame(t, typeConfig2, 1, "000f4240 0001 00")},
				{Dir: c2s, At: 0, Hex: "ab 41 00 12"},
				{Dir: c2s, At: 0, Hex: frame(t, typeCommand, 1, "")},
			},
			want: []dissecttest.Want{
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errCRC, Attrs: map[string]string{"violation": errCRC}},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errSize},
				{Fn: "config_2", Code: 0xaa30, Class: dissect.ClassRead, Rsp: true, Status: dissect.StatusMalformed, Text: errConfig},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errSync},
				{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errCommand},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dissecttest.Expect(t, "synphasor", dissecttest.Run(t, Dissector{}, dissect.TransportUDP, TCPPort, tt.msgs), tt.want)
		})
	}
}

// On TCP frames are found by SYNC, FRAMESIZE and CRC: two in one chunk,
// one split, garbage and a frame with a bad CRC (one violation) before a
// good one.
func TestStream(t *testing.T) {
	start := dissecttest.Hex(t, pypmuStart)
	ops := dissecttest.Run(t, Dissector{}, dissect.TransportTCP, TCPPort, []dissecttest.Chunk{
		{Dir: c2s, At: 0, Hex: frame(t, typeCommand, 7734, "0005") + hex.EncodeToString(start[:7])},
		{Dir: c2s, At: 0, Hex: hex.EncodeToString(start[7:])},
		{Dir: s2c, At: 0, Hex: pypmuConfig2[:100]},
		{Dir: s2c, At: 0, Hex: pypmuConfig2[100:] + pypmuData},
		{Dir: c2s, At: 0, Hex: "00 01 aa ff aa 41 00 12 00 00" + pypmuStart[:len(pypmuStart)-2] + "01" + frame(t, typeCommand, 7734, "0001")},
	})
	dissecttest.Expect(t, "synphasor", ops, []dissecttest.Want{
		{Fn: "turn_on_transmission", Code: 2, Class: dissect.ClassControl, Req: true},
		{Fn: "send_config_2", Code: 5, Class: dissect.ClassRead, Req: true, Rsp: true, Status: dissect.StatusOK},
		{Fn: "data", Code: 0xaa00, Class: dissect.ClassRead, Rsp: true, Status: dissect.StatusOK},
		{Fn: "malformed", Req: true, Status: dissect.StatusMalformed, Text: errSync},
		{Fn: "turn_off_transmission", Code: 1, Class: dissect.ClassControl, Req: true},
	})
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name, hex string
		want      bool
	}{
		{"command", pypmuStart, true},
		{"config", pypmuConfig2, true},
		{"data", pypmuData, true},
		{"bad crc", pypmuStart[:len(pypmuStart)-2] + "01", false},
		{"version 0", frame(t, typeCommand, 1, "0002")[:2] + "40" + frame(t, typeCommand, 1, "0002")[4:], false},
		{"short", "aa41", false},
		{"tls", "160301020001", false},
	}
	for _, tt := range tests {
		if got := (Dissector{}).Probe(dissecttest.Hex(t, tt.hex)); got != tt.want {
			t.Errorf("%s: Probe = %v, want %v", tt.name, got, tt.want)
		}
	}
}

package fins

import (
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// exchange is a command and its response, as hex, written by the oracle
// tests into captures of their own.
var exchanges = [][2]string{
	{"80 00 02 00 0a 00 00 14 00 01 | 01 01 | 82 0064 00 000a",
		"c0 00 02 00 14 00 00 0a 00 01 | 01 01 | 00 00 | 0001 0002 0003 0004 0005 0006 0007 0008 0009 000a"},
	{"80 00 02 00 0a 00 00 14 00 02 | 01 02 | 30 000a 03 0001 | 01", "c0 00 02 00 14 00 00 0a 00 02 | 01 02 | 21 01"},
	{"80 00 02 00 0a 00 00 14 00 03 | 01 03 | a2 0010 00 0004 | 1234", "c0 00 02 00 14 00 00 0a 00 03 | 01 03 | 00 00"},
	{"80 00 02 00 0a 00 00 14 00 04 | 04 01 | ffff 04", "c0 00 02 00 14 00 00 0a 00 04 | 04 01 | 00 00"},
	{"80 00 02 00 0a 00 00 14 00 05 | 04 02", "c0 00 02 00 14 00 00 0a 00 05 | 04 02 | 22 03"},
	{"80 00 02 00 0a 00 00 14 00 06 | 03 07 | ffff 00000000 0004 | 00112233", "c0 00 02 00 14 00 00 0a 00 06 | 03 07 | 00 00 | ffff 00000000 0004"},
	{"80 00 02 00 0a 00 00 14 00 07 | 07 02 | 26 01 05 08 30 15 01", "c0 00 02 00 14 00 00 0a 00 07 | 07 02 | 00 00"},
	{"80 00 02 00 0a 00 00 14 00 08 | 05 01",
		"c0 00 02 00 14 00 00 0a 00 08 | 05 01 | 00 00 |" +
			"434a324d2d4350553331202020202020 20202020 30322e3031202020202020202020202020202020" +
			"0000000000000000000000000000000000000000 0000000000000000000000000000000000000000 000000000000000000000000"},
	{"80 00 02 00 0a 00 00 14 00 09 | 21 02 | 0000 0001", "c0 00 02 00 14 00 00 0a 00 09 | 21 02 | 00 00 | 0014 0001 0001 | 0001 0000 0000 0000 0000"},
	{"80 00 02 00 0a 00 00 14 00 0a | 22 05 | 8000 0001 50524f47202020202e4f424a", "c0 00 02 00 14 00 00 0a 00 0a | 22 05 | 00 00"},
	{"80 00 02 00 0a 00 00 14 00 0b | 06 01", "c0 00 02 00 14 00 00 0a 00 0b | 06 01 | 00 00 | 01 02 0000 0000 0000 0000 0000 00000000000000000000000000000000"},
	{"80 00 02 00 0a 00 00 14 00 0c | 04 03", "c0 00 02 00 14 00 00 0a 00 0c | 04 03 | 00 00"},
}

// hexField formats v as tshark prints a BASE_HEX 16-bit field.
func hexField(v int) string {
	return "0x" + strings.Repeat("0", 4-len(strconv.FormatInt(int64(v), 16))) + strconv.FormatInt(int64(v), 16)
}

// compareFrames checks, frame by frame, the command code, the direction
// (ICF data type bit) and the end code tshark decodes against the
// operation that carries the frame.
func compareFrames(t *testing.T, path string, ops []*dissect.Operation) {
	t.Helper()
	rows := dissecttest.TsharkFrames(t, path, "omron", "omron.command", "omron.icf.dtb", "omron.response.code",
		"omron.controller.model", "omron.controller.version", "omron.tcp.command")
	byFrame := dissecttest.FrameOps(ops)
	checked, codes, models := 0, 0, 0
	for _, frame := range slices.Sorted(maps.Keys(rows)) {
		row := rows[frame]
		cmd, dtb, rc, model, version, tcpCmd := row[0], row[1], row[2], row[3], row[4], row[5]
		fops := byFrame[frame]
		if len(fops) == 0 {
			t.Errorf("frame %d: tshark decodes command %s, no operation carries it", frame, cmd)
			continue
		}
		fo := fops[0]
		if cmd == "" {
			// A FINS/TCP frame without a FINS frame: the node address
			// exchange (tshark's command 0 and 1 are one operation, code 0)
			// or an error notification.
			want := fo.Op.FunctionCode
			if fo.Response && want == 0 {
				want = 1
			}
			if tcpCmd != hexField32(want) {
				t.Errorf("frame %d: FINS/TCP command %s, operation %s (%d)", frame, tcpCmd, fo.Op.FunctionName, want)
			}
			checked++
			continue
		}
		if got := hexField(fo.Op.FunctionCode); got != cmd {
			t.Errorf("frame %d: command %s, operation %s %s", frame, cmd, got, fo.Op.FunctionName)
		}
		if wantDTB := map[bool]string{false: "0x00", true: "0x01"}[fo.Response]; dtb != wantDTB {
			t.Errorf("frame %d: data type bit %s, operation response=%v", frame, dtb, fo.Response)
		}
		if rc != "" && fo.Response {
			// tshark shows the end code masked with 0x7f3f, where it
			// decodes the command's response data.
			if got := hexField(fo.Op.Result.Code); got != rc {
				t.Errorf("frame %d: end code %s, operation %s", frame, rc, got)
			}
			codes++
		}
		if model != "" {
			if got := dissecttest.Fact(fo.Op, dissect.FactModel); got != strings.TrimRight(model, " ") {
				t.Errorf("frame %d: model %q, fact %q", frame, model, got)
			}
			if got := dissecttest.Fact(fo.Op, dissect.FactFirmware); got != strings.TrimRight(version, " ") {
				t.Errorf("frame %d: version %q, fact %q", frame, version, got)
			}
			models++
		}
		checked++
	}
	for frame, fops := range byFrame {
		if _, ok := rows[frame]; !ok && fops[0].Op.Result.Status != dissect.StatusMalformed {
			t.Errorf("frame %d: operation %s, tshark decodes no FINS", frame, fops[0].Op.FunctionName)
		}
	}
	if checked == 0 || codes == 0 || models == 0 {
		t.Fatalf("tshark decoded %d FINS frames, %d end codes, %d controller models", checked, codes, models)
	}
	t.Logf("%d frames agree (%d end codes, %d controller models)", checked, codes, models)
}

func hexField32(v int) string {
	s := strconv.FormatInt(int64(v), 16)
	return "0x" + strings.Repeat("0", 8-len(s)) + s
}

func TestTsharkUDP(t *testing.T) {
	conv := dissecttest.Conversation{
		Client: netip.MustParseAddrPort("10.10.1.20:50001"),
		Server: netip.MustParseAddrPort("10.10.2.10:9600"),
		Msgs:   dissecttest.HexExchanges(t, exchanges),
	}
	path := dissecttest.WriteUDP(t, conv.Datagrams(net.HardwareAddr{0, 0x1b, 0x1b, 0, 0, 1}, net.HardwareAddr{0, 0, 0x0a, 0, 0, 2})...)
	ops := dissecttest.Operations(t, path, "fins").Ops
	if len(ops) != len(exchanges) {
		t.Fatalf("%d operations, want %d", len(ops), len(exchanges))
	}
	compareFrames(t, path, ops)
}

// tcpFrame wraps a FINS frame in a FINS/TCP frame send.
func tcpFrame(t testing.TB, fins string) string {
	b := dissecttest.Hex(t, fins)
	n := 8 + len(b)
	return "FINS" + string([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + "\x00\x00\x00\x02\x00\x00\x00\x00" + string(b)
}

func TestTsharkTCP(t *testing.T) {
	conv := dissecttest.Conversation{
		Client: netip.MustParseAddrPort("10.10.1.20:50002"),
		Server: netip.MustParseAddrPort("10.10.2.10:9600"),
		Msgs: []dissecttest.Message{
			dissecttest.C2S(string(dissecttest.Hex(t, "46494e53 0000000c 00000000 00000000 00000000"))),
			dissecttest.S2C(string(dissecttest.Hex(t, "46494e53 00000010 00000001 00000000 00000014 0000000a"))),
		},
	}
	for _, e := range exchanges {
		conv.Msgs = append(conv.Msgs, dissecttest.C2S(tcpFrame(t, e[0])), dissecttest.S2C(tcpFrame(t, e[1])))
	}
	path := dissecttest.WriteTCP(t, conv)
	ops := dissecttest.Operations(t, path, "fins").Ops
	if len(ops) != len(exchanges)+1 {
		t.Fatalf("%d operations, want %d", len(ops), len(exchanges)+1)
	}
	compareFrames(t, path, ops)
}

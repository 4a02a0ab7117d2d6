package hartip

import (
	"encoding/hex"
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

// exchanges are request/response pairs written into the oracle tests'
// own captures.
func exchanges(t testing.TB) [][2]string {
	longTag := hex.EncodeToString([]byte("PT-7 DISCHARGE PRESSURE\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	return [][2]string{
		{hip(t, 0, 0, 0, 1, "01 0000ea60"), hip(t, 1, 0, 0, 1, "01 0000ea60")},
		{hip(t, 0, 3, 0, 2, "02 80 00 00 82"), hip(t, 1, 3, 0, 2, tp(t, 0x06, "80", 0, "00 00"+cmd0))},
		{hip(t, 0, 3, 0, 3, tp(t, 0x82, "a6053a1b2c", 20, "")), hip(t, 1, 3, 0, 3, tp(t, 0x86, "a6053a1b2c", 20, "00 00 "+longTag))},
		{hip(t, 0, 3, 0, 4, tp(t, 0x82, "a6053a1b2c", 3, "")),
			hip(t, 1, 3, 0, 4, tp(t, 0x86, "a6053a1b2c", 3, "00 00 40a00000 20 42c80000 20 41200000 20 3f800000 20 00000000"))},
		{hip(t, 0, 3, 0, 5, tp(t, 0x02, "80", 6, "03 00")), hip(t, 1, 3, 0, 5, tp(t, 0x06, "80", 6, "00 00 03 00"))},
		{hip(t, 0, 3, 0, 6, tp(t, 0x02, "80", 42, "")), hip(t, 1, 3, 0, 6, tp(t, 0x06, "80", 42, "00 20"))},
		{hip(t, 0, 3, 0, 7, tp(t, 0x02, "80", 1, "")), hip(t, 1, 3, 0, 7, tp(t, 0x06, "80", 1, "40 00"))},
		{hip(t, 0, 3, 0, 8, tp(t, 0x02, "80", 38, "")), hip(t, 1, 3, 0, 8, tp(t, 0x06, "80", 38, "00 40 0004"))},
		{hip(t, 0, 2, 0, 9, ""), hip(t, 1, 2, 0, 9, "")},
		{hip(t, 0, 1, 0, 10, ""), hip(t, 1, 1, 0, 10, "")},
	}
}

// compareFrames checks, frame by frame, what tshark decodes (message type
// and ID, HART command and response code, the command 0 identity and the
// long tag) against the operation that carries the frame.
func compareFrames(t *testing.T, path string, ops []*dissect.Operation) {
	t.Helper()
	fields := []string{"hart_ip.message_type", "hart_ip.message_id", "hart_ip.pt.command", "hart_ip.pt.response_code",
		"hart_ip.pt.rsp.manufacturer_Id", "hart_ip.pt.rsp.expanded_device_type", "hart_ip.pt.rsp.device_id",
		"hart_ip.pt.rsp.software_rev", "hart_ip.pt.rsp.tag"}
	rows := dissecttest.TsharkFrames(t, path, "hart_ip", fields...)
	byFrame := dissecttest.FrameOps(ops)
	checked, idents := 0, 0
	for _, frame := range slices.Sorted(maps.Keys(rows)) {
		row := rows[frame]
		typ, id, cmd, rc := row[0], row[1], row[2], row[3]
		fops := byFrame[frame]
		if len(fops) == 0 {
			t.Errorf("frame %d: tshark decodes message %s type %s, no operation carries it", frame, id, typ)
			continue
		}
		fo := fops[0]
		if want := map[bool]string{false: "0", true: "1"}[fo.Response]; typ != want {
			t.Errorf("frame %d: message type %s, operation %s response=%v", frame, typ, fo.Op.FunctionName, fo.Response)
		}
		switch {
		case id == "3":
			if fo.Op.Attr(attrLayer) != "hart" || strconv.Itoa(fo.Op.FunctionCode) != cmd {
				t.Errorf("frame %d: HART command %s, operation %s (%d)", frame, cmd, fo.Op.FunctionName, fo.Op.FunctionCode)
			}
			if fo.Response && rc != strconv.Itoa(fo.Op.Result.Code) {
				t.Errorf("frame %d: response code %s, operation %d", frame, rc, fo.Op.Result.Code)
			}
		case strconv.Itoa(fo.Op.FunctionCode) != id:
			t.Errorf("frame %d: message ID %s, operation %s (%d)", frame, id, fo.Op.FunctionName, fo.Op.FunctionCode)
		}
		if row[4] != "" {
			want := map[string]string{
				dissect.FactVendorID:   row[4],
				dissect.FactDeviceType: row[5],
				dissect.FactSerial:     strings.ReplaceAll(row[6], ":", ""),
				dissect.FactFirmware:   row[7],
			}
			for k, v := range want {
				if got := dissecttest.Fact(fo.Op, k); got != v {
					t.Errorf("frame %d: %s %q, tshark %q", frame, k, got, v)
				}
			}
			idents++
		}
		if row[8] != "" {
			if got := dissecttest.Fact(fo.Op, dissect.FactHostname); got != strings.TrimRight(row[8], " ") {
				t.Errorf("frame %d: host name %q, tshark tag %q", frame, got, row[8])
			}
			idents++
		}
		checked++
	}
	for frame, fops := range byFrame {
		if _, ok := rows[frame]; !ok {
			t.Errorf("frame %d: operation %s, tshark decodes no HART-IP", frame, fops[0].Op.FunctionName)
		}
	}
	if checked == 0 || idents < 2 {
		t.Fatalf("tshark decoded %d HART-IP frames, %d identities", checked, idents)
	}
	t.Logf("%d frames agree (%d identities)", checked, idents)
}

func TestTsharkUDP(t *testing.T) {
	ex := exchanges(t)
	conv := dissecttest.Conversation{
		Client: netip.MustParseAddrPort("10.10.1.20:50001"),
		Server: netip.MustParseAddrPort("10.10.2.10:5094"),
		Msgs:   dissecttest.HexExchanges(t, ex),
	}
	path := dissecttest.WriteUDP(t, conv.Datagrams(net.HardwareAddr{0, 0x1b, 0x1b, 0, 0, 1}, net.HardwareAddr{0, 0x10, 0x26, 0, 0, 2})...)
	ops := dissecttest.Operations(t, path, "hartip").Ops
	if len(ops) != len(ex) {
		t.Fatalf("%d operations, want %d", len(ops), len(ex))
	}
	compareFrames(t, path, ops)
}

func TestTsharkTCP(t *testing.T) {
	ex := exchanges(t)
	conv := dissecttest.Conversation{
		Client: netip.MustParseAddrPort("10.10.1.20:50002"),
		Server: netip.MustParseAddrPort("10.10.2.10:5094"),
		Msgs:   dissecttest.HexExchanges(t, ex),
	}
	path := dissecttest.WriteTCP(t, conv)
	ops := dissecttest.Operations(t, path, "hartip").Ops
	if len(ops) != len(ex) {
		t.Fatalf("%d operations, want %d", len(ops), len(ex))
	}
	compareFrames(t, path, ops)
}

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

	"github.com/gopacket/gopacket"

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

// frameOp is an operation that carries a frame, and whether the frame is
// its response.
type frameOp struct {
	op       *dissect.Operation
	response bool
}

func frameOps(ops []*dissect.Operation) map[uint64][]frameOp {
	out := map[uint64][]frameOp{}
	for _, op := range ops {
		for i, p := range op.Packets {
			rsp := op.Response && i == len(op.Packets)-1 && (!op.Request || len(op.Packets) > 1)
			out[p.Frame] = append(out[p.Frame], frameOp{op, rsp})
		}
	}
	return out
}

func fact(op *dissect.Operation, key string) string {
	for _, f := range op.Identity {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
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
	byFrame := frameOps(ops)
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
		if want := map[bool]string{false: "0", true: "1"}[fo.response]; typ != want {
			t.Errorf("frame %d: message type %s, operation %s response=%v", frame, typ, fo.op.FunctionName, fo.response)
		}
		switch {
		case id == "3":
			if fo.op.Attr(attrLayer) != "hart" || strconv.Itoa(fo.op.FunctionCode) != cmd {
				t.Errorf("frame %d: HART command %s, operation %s (%d)", frame, cmd, fo.op.FunctionName, fo.op.FunctionCode)
			}
			if fo.response && rc != strconv.Itoa(fo.op.Result.Code) {
				t.Errorf("frame %d: response code %s, operation %d", frame, rc, fo.op.Result.Code)
			}
		case strconv.Itoa(fo.op.FunctionCode) != id:
			t.Errorf("frame %d: message ID %s, operation %s (%d)", frame, id, fo.op.FunctionName, fo.op.FunctionCode)
		}
		if row[4] != "" {
			want := map[string]string{
				dissect.FactVendorID:   row[4],
				dissect.FactDeviceType: row[5],
				dissect.FactSerial:     strings.ReplaceAll(row[6], ":", ""),
				dissect.FactFirmware:   row[7],
			}
			for k, v := range want {
				if got := fact(fo.op, k); got != v {
					t.Errorf("frame %d: %s %q, tshark %q", frame, k, got, v)
				}
			}
			idents++
		}
		if row[8] != "" {
			if got := fact(fo.op, dissect.FactHostname); got != strings.TrimRight(row[8], " ") {
				t.Errorf("frame %d: host name %q, tshark tag %q", frame, got, row[8])
			}
			idents++
		}
		checked++
	}
	for frame, fops := range byFrame {
		if _, ok := rows[frame]; !ok {
			t.Errorf("frame %d: operation %s, tshark decodes no HART-IP", frame, fops[0].op.FunctionName)
		}
	}
	if checked == 0 || idents < 2 {
		t.Fatalf("tshark decoded %d HART-IP frames, %d identities", checked, idents)
	}
	t.Logf("%d frames agree (%d identities)", checked, idents)
}

func TestTsharkUDP(t *testing.T) {
	client := netip.MustParseAddrPort("10.10.1.20:50001")
	dev := netip.MustParseAddrPort("10.10.2.10:5094")
	cmac, dmac := net.HardwareAddr{0, 0x1b, 0x1b, 0, 0, 1}, net.HardwareAddr{0, 0x10, 0x26, 0, 0, 2}
	var grams []dissecttest.Datagram
	ex := exchanges(t)
	for _, e := range ex {
		grams = append(grams,
			dissecttest.Datagram{Src: client, Dst: dev, SrcMAC: cmac, DstMAC: dmac, Payload: gopacket.Payload(dissecttest.Hex(t, e[0]))},
			dissecttest.Datagram{Src: dev, Dst: client, SrcMAC: dmac, DstMAC: cmac, Payload: gopacket.Payload(dissecttest.Hex(t, e[1]))})
	}
	path := dissecttest.WriteUDP(t, grams...)
	ops := dissecttest.Operations(t, path, "hartip").Ops
	if len(ops) != len(ex) {
		t.Fatalf("%d operations, want %d", len(ops), len(ex))
	}
	compareFrames(t, path, ops)
}

func TestTsharkTCP(t *testing.T) {
	conv := dissecttest.Conversation{
		Client: netip.MustParseAddrPort("10.10.1.20:50002"),
		Server: netip.MustParseAddrPort("10.10.2.10:5094"),
	}
	ex := exchanges(t)
	for _, e := range ex {
		conv.Msgs = append(conv.Msgs, dissecttest.C2S(string(dissecttest.Hex(t, e[0]))), dissecttest.S2C(string(dissecttest.Hex(t, e[1]))))
	}
	path := dissecttest.WriteTCP(t, conv)
	ops := dissecttest.Operations(t, path, "hartip").Ops
	if len(ops) != len(ex) {
		t.Fatalf("%d operations, want %d", len(ops), len(ex))
	}
	compareFrames(t, path, ops)
}

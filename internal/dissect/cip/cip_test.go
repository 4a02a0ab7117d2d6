package cip

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/testenv"
)

// Segments from Volume 1 appendix C-1.4 (encodings written from the
// segment type and format bits).
func TestNextSegment(t *testing.T) {
	tests := []struct {
		name, in string
		kind     SegmentKind
		value    uint32
		port     uint16
		text     string // symbol or link address
		n        int
		err      error
	}{
		{"8-bit class", "20 01", SegClass, 1, 0, "", 2, nil},
		{"16-bit class", "21 00 f5 00", SegClass, 0xF5, 0, "", 4, nil},
		{"32-bit instance", "26 00 01 02 03 04", SegInstance, 0x04030201, 0, "", 6, nil},
		{"8-bit attribute", "30 05", SegAttribute, 5, 0, "", 2, nil},
		{"member", "28 02", SegMember, 2, 0, "", 2, nil},
		{"connection point", "2c 66", SegConnectionPoint, 0x66, 0, "", 2, nil},
		{"electronic key", "34 04 01 00 0e 00 36 00 10 14", SegElectronicKey, 0, 0, "", 10, nil},
		{"ANSI symbol, odd length padded", "91 05 61 62 2e 63 64 00", SegSymbol, 0, 0, "ab.cd", 8, nil},
		{"ANSI symbol, even length", "91 04 54 61 67 31", SegSymbol, 0, 0, "Tag1", 6, nil},
		{"port 1 (backplane) slot 0", "01 00", SegPort, 1, 1, "\x00", 2, nil},
		{"port 2 extended link address", "12 09 31 30 2e 31 2e 31 2e 31 30 00", SegPort, 0, 2, "10.1.1.10", 12, nil},
		{"short 16-bit class", "21 00 f5", SegClass, 0, 0, "", 0, ErrShort},
		{"reserved logical format", "23 00", SegClass, 0, 0, "", 0, ErrBadSegment},
		{"data type segment", "c3", SegOther, 0, 0, "", 0, ErrBadSegment},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, n, err := NextSegment(dissecttest.Hex(t, tt.in))
			if err != tt.err {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			text := string(s.Symbol)
			if s.Kind == SegPort {
				text = string(s.Link)
				tt.value = 0
			}
			if s.Kind != tt.kind || s.Value != tt.value || s.Port != tt.port || text != tt.text || n != tt.n {
				t.Errorf("got %+v n=%d", s, n)
			}
		})
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		class uint32
		sc    byte
		sym   bool
		name  string
		cls   dissect.Class
		cfg   string
	}{
		{ClassIdentity, 0x01, false, "get_attributes_all", dissect.ClassDiscovery, ""},
		{ClassIdentity, 0x05, false, "reset", dissect.ClassRestart, ""},
		{ClassIdentity, 0x10, false, "set_attribute_single", dissect.ClassWrite, ConfigIdentity},
		{ClassTCPIPInterface, 0x10, false, "set_attribute_single", dissect.ClassWrite, ConfigNetwork},
		{ClassTimeSync, 0x04, false, "set_attribute_list", dissect.ClassTime, ConfigTime},
		{ClassWallClockTime, 0x04, false, "set_attribute_list", dissect.ClassTime, ConfigTime},
		{0x8E, 0x06, false, "start", dissect.ClassControl, ""},
		{0x8E, 0x07, false, "stop", dissect.ClassControl, ""},
		{0, 0x4C, true, "read_tag", dissect.ClassRead, ""},
		{0, 0x4D, true, "write_tag", dissect.ClassWrite, ""},
		{0, 0x52, true, "read_tag_fragmented", dissect.ClassRead, ""},
		{0, 0x53, true, "write_tag_fragmented", dissect.ClassWrite, ""},
		{ClassConnectionManager, 0x52, false, "unconnected_send", dissect.ClassOther, ""},
		{ClassConnectionManager, 0x54, false, "forward_open", dissect.ClassOther, ""},
		{ClassConnectionManager, 0x5B, false, "large_forward_open", dissect.ClassOther, ""},
		{ClassConnectionManager, 0x4E, false, "forward_close", dissect.ClassOther, ""},
		{ClassPCCC, 0x4B, false, "execute_pccc", dissect.ClassOther, ""},
		{ClassFile, 0x4C, false, "initiate_download", dissect.ClassFile, ""},
		{ClassNonVolatileStore, 0x4D, false, "service_0x4d", dissect.ClassFirmware, ""},
		{0x72, 0x4C, false, "service_0x4c", dissect.ClassOther, ""},
		{ClassMessageRouter, 0x0A | ReplyBit, false, "multiple_service_packet", dissect.ClassOther, ""},
	}
	for _, tt := range tests {
		name := ServiceName(tt.class, tt.sc, tt.sym)
		cls, cfg := Classify(tt.class, tt.sc, tt.sym)
		if name != tt.name || cls != tt.cls || cfg != tt.cfg {
			t.Errorf("class %#x service %#x: %s %v %q, want %s %v %q", tt.class, tt.sc, name, cls, cfg, tt.name, tt.cls, tt.cfg)
		}
	}
	if ClassName(0xF5) != "tcpip_interface" || ClassName(0x43) != "time_sync" || ClassName(0x37) != "file" || ClassName(0x9999) != "" {
		t.Error("class names")
	}
	if StatusName(0x08) != "service_not_supported" || StatusName(0x0F) != "privilege_violation" || StatusName(0xFF) != "still_processing" {
		t.Error("status names")
	}
	if DeviceTypeName(0x0E) != "Programmable Logic Controller" || DeviceTypeName(0x0C) != "Communications Adapter" || DeviceTypeName(0x2B) != "Generic Device (keyable)" {
		t.Error("device types")
	}
}

// TestVendorTable checks the generated table against its source TSV.
func TestVendorTable(t *testing.T) {
	f, err := os.Open(testenv.Data(t, "vendor-ids/cip-vendor-ids.tsv", "CIP vendor ids"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		id, name, _ := strings.Cut(sc.Text(), "\t")
		v, err := strconv.Atoi(id)
		if err != nil {
			continue // header
		}
		n++
		if got := VendorName(uint16(v)); got != strings.TrimSpace(name) {
			t.Errorf("vendor %d: %q, want %q", v, got, name)
		}
	}
	if n != len(vendorNames) || VendorName(1) != "Rockwell Automation/Allen-Bradley" {
		t.Errorf("%d vendors in the TSV, %d in the table", n, len(vendorNames))
	}
}

func TestMessages(t *testing.T) {
	// Get_Attribute_Single identity instance 1 attribute 7 (Volume 1 ).
	req, err := ParseRequest(dissecttest.Hex(t, "0e 03 20 01 24 01 30 07"))
	if err != nil || req.Service != 0x0E || len(req.Path) != 6 || len(req.Data) != 0 {
		t.Errorf("request %+v %v", req, err)
	}
	// Error reply: general status 0x05, one word of additional status.
	rep, err := ParseReply(dissecttest.Hex(t, "8e 00 05 01 04 01"))
	if err != nil || rep.Service != 0x0E || rep.GeneralStatus != 5 || rep.ExtWords != 1 || rep.ExtStatus != 0x0104 {
		t.Errorf("reply %+v %v", rep, err)
	}
	if _, err := ParseReply([]byte{0x8e, 0, 0, 2, 0}); err != ErrShort {
		t.Errorf("short additional status: %v", err)
	}
	// Multiple_Service_Packet data: count 2, offsets 6 and 12.
	msp := dissecttest.Hex(t, "02 00 06 00 0c 00 0e 02 20 01 24 01 0e 02 20 f5 24 01")
	n, err := MultipleCount(msp)
	if err != nil || n != 2 {
		t.Fatalf("count %d %v", n, err)
	}
	a, _ := MultipleItem(msp, n, 0)
	b, _ := MultipleItem(msp, n, 1)
	if len(a) != 6 || len(b) != 6 || b[3] != 0xf5 {
		t.Errorf("items %x %x", a, b)
	}
	if _, err := MultipleItem(dissecttest.Hex(t, "02 00 30 00 0c 00"), 2, 0); err != ErrBadCount {
		t.Errorf("offset past end: %v", err)
	}
	// Unconnected_Send: tick, timeout, size 6, message, route: port 1 slot 0 (3-5.5.2).
	msg, route, err := UnconnectedSend(dissecttest.Hex(t, "07 f9 06 00 01 02 20 01 24 01 01 00 01 00"))
	if err != nil || len(msg) != 6 || msg[0] != 0x01 || len(route) != 2 || route[0] != 0x01 {
		t.Errorf("unconnected send %x %x %v", msg, route, err)
	}
}

// The identity attributes of a 1756-ENBT/A as in the corpus's ListIdentity
// (tshark: vendor 0x0001, device type 12, product code 58, revision
// 1027 = 4.3, serial 0x00524d8e).
func TestParseIdentity(t *testing.T) {
	b := dissecttest.Hex(t, "0100 0c00 3a00 04 03 3000 8e4d5200 0b 313735362d454e42542f41 03")
	id, err := ParseIdentity(b)
	if err != nil {
		t.Fatal(err)
	}
	if id.VendorID != 1 || id.DeviceType != 12 || id.ProductCode != 58 || id.Major != 4 || id.Minor != 3 ||
		id.Serial != 0x00524d8e || string(id.ProductName) != "1756-ENBT/A" || !id.HasState || id.State != 3 {
		t.Errorf("%+v", id)
	}
	if _, err := ParseIdentity(b[:20]); err != ErrShort {
		t.Errorf("truncated name: %v", err)
	}
}

func TestPCCC(t *testing.T) {
	// Requester id (7 bytes), CMD 0x0F, STS 0, TNS 0xc562, FNC 0xA2
	// (protected typed logical read with three address fields).
	p, err := ParsePCCC(dissecttest.Hex(t, "07 4d00 e0312b3d 0f 00 62c5 a2 04 07 89 00 00"))
	if err != nil || p.Command != 0x0F || p.Function != 0xA2 || p.TNS != 0xc562 || p.Class() != dissect.ClassRead {
		t.Errorf("%+v %v", p, err)
	}
}

func FuzzPath(f *testing.F) {
	for _, s := range []string{"20 01 24 01 30 07", "91 05 61 62 2e 63 64 00 28 02", "12 09 31 30 2e 31 2e 31 2e 31 30 00 01 00", "34 04 01 00 0e 00 36 00 10 14"} {
		f.Add(dissecttest.Hex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for len(b) > 0 {
			_, n, err := NextSegment(b)
			if err != nil {
				return
			}
			if n <= 0 || n > len(b) {
				t.Fatalf("length %d of %d bytes", n, len(b))
			}
			b = b[n:]
		}
		_, _ = ParseIdentity(b)
		_, _, _ = UnconnectedSend(b)
	})
}

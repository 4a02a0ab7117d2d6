package enip

import (
	"encoding/binary"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// encap builds an encapsulation message (Volume 2 section 2-3.1: command,
// length, session handle, status, sender context, options; little-endian).
func encap(cmd uint16, session, status uint32, context uint64, body []byte) []byte {
	b := make([]byte, HeaderLen, HeaderLen+len(body))
	binary.LittleEndian.PutUint16(b[0:], cmd)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(body)))
	binary.LittleEndian.PutUint32(b[4:], session)
	binary.LittleEndian.PutUint32(b[8:], status)
	binary.LittleEndian.PutUint64(b[12:], context)
	return append(b, body...)
}

// rrData wraps a CIP message in SendRRData's common packet format: interface
// handle 0, timeout, two items: null address and unconnected data (2-6).
func rrData(msg []byte) []byte {
	b := []byte{0, 0, 0, 0, 10, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0, byte(len(msg)), byte(len(msg) >> 8)}
	return append(b, msg...)
}

// unitData wraps a CIP message in SendUnitData's common packet format:
// connected address item (connection id) and connected data item starting
// with the sequence count (Volume 2 3-2.2).
func unitData(conn uint32, seq uint16, msg []byte) []byte {
	b := []byte{0, 0, 0, 0, 0, 0, 2, 0, 0xa1, 0, 4, 0, 0, 0, 0, 0, 0xb1, 0, 0, 0, byte(seq), byte(seq >> 8)}
	binary.LittleEndian.PutUint32(b[12:], conn)
	binary.LittleEndian.PutUint16(b[18:], uint16(len(msg)+2))
	return append(b, msg...)
}

type step struct {
	dir  dissect.Direction
	data []byte
}

func run(t *testing.T, transport dissect.Transport, port uint16, steps ...step) ([]*dissect.Operation, *Session) {
	t.Helper()
	flow := dissecttest.Flow(transport, port)
	var c dissecttest.Collector
	sess := Dissector{}.NewSession(flow)
	f := &dissecttest.Feeder{Session: sess, Ctx: dissecttest.Context(flow, &c)}
	for i, s := range steps {
		f.Ctx.Packet.Index = uint64(i)
		if transport == dissect.TransportUDP {
			if _, err := sess.Feed(s.dir, s.data, f.Ctx); err != nil {
				t.Fatal(err)
			}
			continue
		}
		f.Feed(s.dir, s.data)
	}
	if f.Err != nil {
		t.Fatal(f.Err)
	}
	sess.Close(f.Ctx)
	return c.Ops, sess.(*Session)
}

func fact(op *dissect.Operation, key string) string {
	for _, f := range op.Identity {
		if f.Key == key && f.Server {
			return f.Value
		}
	}
	return ""
}

func target(op *dissect.Operation, kind string) (dissect.Target, bool) {
	for _, tg := range op.Targets {
		if tg.Kind == kind {
			return tg, true
		}
	}
	return dissect.Target{}, false
}

// List Identity reply of a ControlLogix L61 (Volume 2 2-4.3.2: item 0x0C
// with protocol version, socket address in network order, identity).
func TestListIdentity(t *testing.T) {
	item := dissecttest.Hex(t, `0100 0002af12 0a0a020a 0000000000000000
		0100 0e00 3600 10 14 6030 3f825100 14 313735362d4c36312f42204c4f47495835353631 03`)
	body := append([]byte{1, 0, 0x0c, 0, byte(len(item)), 0}, item...)
	ops, _ := run(t, dissect.TransportTCP, PortExplicit,
		step{dissect.ToServer, encap(CmdListIdentity, 0, 0, 7, nil)},
		step{dissect.ToClient, encap(CmdListIdentity, 0, 0, 7, body)})
	if len(ops) != 1 {
		t.Fatalf("%d operations", len(ops))
	}
	op := ops[0]
	if op.FunctionName != "list_identity" || op.FunctionCode != 0x63 || op.Class != dissect.ClassDiscovery ||
		!op.Request || !op.Response || len(op.Packets) != 2 || op.Result.Status != dissect.StatusOK {
		t.Errorf("%+v", *op)
	}
	want := map[string]string{
		dissect.FactVendor: "Rockwell Automation/Allen-Bradley", dissect.FactVendorID: "1",
		dissect.FactDeviceType: "Programmable Logic Controller", dissect.FactProductCode: "54",
		dissect.FactFirmware: "16.20", dissect.FactSerial: "0x0051823f",
		dissect.FactProduct: "1756-L61/B LOGIX5561", "state": "0x03", dissect.FactIP: "10.10.2.10",
	}
	for k, v := range want {
		if got := fact(op, k); got != v {
			t.Errorf("fact %s = %q, want %q", k, got, v)
		}
	}
}

func TestRegisterSession(t *testing.T) {
	// Request and reply: protocol version 1, options 0 (2-4.4).
	ops, _ := run(t, dissect.TransportTCP, PortExplicit,
		step{dissect.ToServer, encap(CmdRegisterSession, 0, 0, 1, []byte{1, 0, 0, 0})},
		step{dissect.ToClient, encap(CmdRegisterSession, 0x12020100, 0, 1, []byte{1, 0, 0, 0})},
		step{dissect.ToServer, encap(CmdUnRegisterSession, 0x12020100, 0, 0, nil)})
	if len(ops) != 2 || ops[0].FunctionName != "register_session" || !ops[0].Response ||
		ops[0].Attr("session") != "0x12020100" || ops[1].FunctionName != "unregister_session" {
		t.Fatalf("%v", ops)
	}
	// Encapsulation status 0x69, unsupported protocol version (table 2-3.3).
	ops, _ = run(t, dissect.TransportTCP, PortExplicit,
		step{dissect.ToServer, encap(CmdRegisterSession, 0, 0, 1, []byte{2, 0, 0, 0})},
		step{dissect.ToClient, encap(CmdRegisterSession, 0, 0x69, 1, []byte{1, 0, 0, 0})})
	if len(ops) != 1 || ops[0].Result.Status != dissect.StatusError || ops[0].Result.Code != 0x69 ||
		ops[0].Result.Text != "unsupported_protocol_version" {
		t.Fatalf("%v", ops)
	}
}

func TestCIPRequests(t *testing.T) {
	tests := []struct {
		name, req, rep string
		code           int
		fn             string
		class          dissect.Class
		status         dissect.Status
		tkind, tname   string
		addr, count    uint32
		attrKey, attrV string
	}{
		// Read_Tag "Tag1", one element; reply DINT 42.
		{"read tag", "4c 03 91 04 54616731 0100", "cc 00 00 00 c400 2a000000",
			0x4c, "read_tag", dissect.ClassRead, dissect.StatusOK, "tag", "Tag1", 0, 1, "", ""},
		// Write_Tag "ab.cd" (padded), DINT, 3 elements.
		{"write tag", "4d 04 91 05 61622e636400 c400 0300 010000000200000003000000", "cd 00 00 00",
			0x4d, "write_tag", dissect.ClassWrite, dissect.StatusOK, "tag", "ab.cd", 0, 3, "", ""},
		// Set_Attribute_Single TCP/IP interface attribute 5 (interface configuration).
		{"set tcpip", "10 03 20 f5 24 01 30 05 0a0a020a", "90 00 00 00",
			0x10, "set_attribute_single", dissect.ClassWrite, dissect.StatusOK, "class", "tcpip_interface", 0xf5, 0, "config", "network"},
		// Set_Attribute_Single on Time Sync; the device refuses: 0x0E attribute not settable.
		{"set time sync", "10 03 20 43 24 01 30 01 01", "90 00 0e 00",
			0x10, "set_attribute_single", dissect.ClassTime, dissect.StatusError, "class", "time_sync", 0x43, 0, "config", "time"},
		// Set_Attribute_Single identity attribute 7 (product name).
		{"set identity", "10 03 20 01 24 01 30 07 0441424344", "90 00 00 00",
			0x10, "set_attribute_single", dissect.ClassWrite, dissect.StatusOK, "class", "identity", 1, 0, "config", "identity"},
		// Reset identity; privilege violation (0x0F) with no additional status.
		{"reset", "05 02 20 01 24 01 00", "85 00 0f 00",
			0x05, "reset", dissect.ClassRestart, dissect.StatusError, "class", "identity", 1, 0, "", ""},
		// Stop on a vendor class.
		{"stop", "07 02 20 8e 24 01", "87 00 00 00",
			0x07, "stop", dissect.ClassControl, dissect.StatusOK, "class", "", 0x8e, 0, "", ""},
		// Forward_Open (3-5.5.2): O->T 0, T->O 0x00076b01, serial 0x1234, vendor 1,
		// path 20 02 24 01; reply assigns O->T 0x12345678.
		{"forward open", `54 02 20 06 24 01 0a 0e 00000000 016b0700 3412 0100 78563412 03 000000
			40420f00 f443 40420f00 f443 a3 02 20 02 24 01`,
			"d4 00 00 00 78563412 016b0700 3412 0100 78563412 40420f00 40420f00 00 00",
			0x54, "forward_open", dissect.ClassOther, dissect.StatusOK, "class", "connection_manager", 6, 0, "o_t_connection_id", "0x12345678"},
		// Execute PCCC: protected typed logical read (CMD 0x0F FNC 0xA2).
		{"pccc", "4b 02 20 67 24 01 07 4d00 e0312b3d 0f 00 62c5 a2 04 07 89 00 00", "cb 00 00 00 07 4d00 e0312b3d 4f 00 62c5 0000",
			0x4b, "execute_pccc", dissect.ClassRead, dissect.StatusOK, "class", "pccc", 0x67, 0, "pccc_function", "0xa2"},
		// File object: Initiate_Download (5-42.4).
		{"file download", "4c 03 20 37 24 c8 00 00 1000000001000000", "cc 00 00 00",
			0x4c, "initiate_download", dissect.ClassFile, dissect.StatusOK, "class", "file", 0x37, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, _ := run(t, dissect.TransportTCP, PortExplicit,
				step{dissect.ToServer, encap(CmdSendRRData, 0x11, 0, 42, rrData(dissecttest.Hex(t, tt.req)))},
				step{dissect.ToClient, encap(CmdSendRRData, 0x11, 0, 42, rrData(dissecttest.Hex(t, tt.rep)))})
			if len(ops) != 1 {
				t.Fatalf("%d operations: %v", len(ops), ops)
			}
			op := ops[0]
			if op.FunctionCode != tt.code || op.FunctionName != tt.fn || op.Class != tt.class || op.Result.Status != tt.status ||
				!op.Request || !op.Response || len(op.Packets) != 2 || op.Attr("enip_command") != "send_rr_data" {
				t.Errorf("%+v", *op)
			}
			tg, ok := target(op, tt.tkind)
			if !ok || tg.Name != tt.tname || tg.Address != tt.addr || tg.Count != tt.count {
				t.Errorf("target %+v in %+v", tg, op.Targets)
			}
			if tt.attrKey != "" && op.Attr(tt.attrKey) != tt.attrV {
				t.Errorf("attr %s = %q in %+v", tt.attrKey, op.Attr(tt.attrKey), op.Attrs)
			}
		})
	}
}

// Multiple_Service_Packet to the message router with two
// Get_Attribute_Single requests; the second reply is an error.
func TestMultipleServicePacket(t *testing.T) {
	req := dissecttest.Hex(t, "0a 02 20 02 24 01  02 00 06 00 0e 00  0e 03 20 01 24 01 30 07  0e 03 20 f5 24 01 30 05")
	rep := dissecttest.Hex(t, "8a 00 1e 00  02 00 06 00 0b 00  8e 00 00 00 41  8e 00 14 00")
	ops, _ := run(t, dissect.TransportTCP, PortExplicit,
		step{dissect.ToServer, encap(CmdSendUnitData, 1, 0, 0, unitData(0x100, 9, req))},
		step{dissect.ToClient, encap(CmdSendUnitData, 1, 0, 0, unitData(0x200, 9, rep))})
	if len(ops) != 3 {
		t.Fatalf("%d operations", len(ops))
	}
	if ops[0].FunctionName != "multiple_service_packet" || ops[0].Result.Code != 0x1e || ops[0].Attr("embedded_in") != "" {
		t.Errorf("container %+v", *ops[0])
	}
	if ops[1].FunctionName != "get_attribute_single" || ops[1].Class != dissect.ClassDiscovery || ops[1].Result.Status != dissect.StatusOK ||
		ops[1].Attr("embedded_in") != "multiple_service_packet" || !ops[1].Response {
		t.Errorf("first %+v", *ops[1])
	}
	if ops[2].Class != dissect.ClassRead || ops[2].Result.Text != "attribute_not_supported" || ops[2].Targets[0].Name != "tcpip_interface" {
		t.Errorf("second %+v", *ops[2])
	}
}

// Unconnected_Send wrapping Get_Attributes_All on the identity object,
// routed to backplane slot 0; the reply is the target's.
func TestUnconnectedSendIdentity(t *testing.T) {
	req := dissecttest.Hex(t, "52 02 20 06 24 01  07 f9 0600  01 02 20 01 24 01  01 00 01 00")
	rep := dissecttest.Hex(t, "81 00 00 00  0100 0c00 3a00 04 03 3000 8e4d5200 0b 313735362d454e42542f41")
	ops, _ := run(t, dissect.TransportTCP, PortExplicit,
		step{dissect.ToServer, encap(CmdSendRRData, 1, 0, 5, rrData(req))},
		step{dissect.ToClient, encap(CmdSendRRData, 1, 0, 5, rrData(rep))})
	if len(ops) != 1 {
		t.Fatalf("%d operations", len(ops))
	}
	op := ops[0]
	if op.FunctionName != "get_attributes_all" || op.Class != dissect.ClassDiscovery || op.Attr("routed") != "unconnected_send" {
		t.Errorf("%+v", *op)
	}
	if tg, ok := target(op, "route_port"); !ok || tg.Address != 1<<8 {
		t.Errorf("route %+v", op.Targets)
	}
	if fact(op, dissect.FactProduct) != "1756-ENBT/A" || fact(op, dissect.FactFirmware) != "4.3" || fact(op, dissect.FactSerial) != "0x00524d8e" ||
		fact(op, dissect.FactDeviceType) != "Communications Adapter" {
		t.Errorf("facts %+v", op.Identity)
	}
}

// Connected requests pair by sequence count even when replies come out of
// order; an unanswered request is emitted at Close.
func TestConnectedPairing(t *testing.T) {
	r1 := dissecttest.Hex(t, "4c 03 91 04 54616731 0100")
	r2 := dissecttest.Hex(t, "4c 03 91 04 54616732 0100")
	r3 := dissecttest.Hex(t, "4c 03 91 04 54616733 0100")
	ok := dissecttest.Hex(t, "cc 00 00 00 c400 2a000000")
	ops, _ := run(t, dissect.TransportTCP, PortExplicit,
		step{dissect.ToServer, encap(CmdSendUnitData, 1, 0, 0, unitData(1, 1, r1))},
		step{dissect.ToServer, encap(CmdSendUnitData, 1, 0, 0, unitData(1, 2, r2))},
		step{dissect.ToServer, encap(CmdSendUnitData, 1, 0, 0, unitData(1, 3, r3))},
		step{dissect.ToClient, encap(CmdSendUnitData, 1, 0, 0, unitData(2, 2, ok))},
		step{dissect.ToClient, encap(CmdSendUnitData, 1, 0, 0, unitData(2, 1, ok))})
	if len(ops) != 3 {
		t.Fatalf("%d operations", len(ops))
	}
	names := []string{ops[0].Targets[0].Name, ops[1].Targets[0].Name, ops[2].Targets[0].Name}
	if names[0] != "Tag2" || names[1] != "Tag1" || names[2] != "Tag3" || ops[2].Response || ops[2].Result.Status != dissect.StatusUnknown {
		t.Errorf("%v %+v", names, *ops[2])
	}
}

// Class 1 I/O datagrams (Volume 2 3-3.2): sequenced address item and
// connected data item. One operation per connection, the rest counted.
func TestIO(t *testing.T) {
	dgram := func(conn uint32, seq uint32) []byte {
		b := dissecttest.Hex(t, "0200 0280 0800 00000000 00000000 b100 0600 0100 00000000")
		binary.LittleEndian.PutUint32(b[6:], conn)
		binary.LittleEndian.PutUint32(b[10:], seq)
		return b
	}
	ops, s := run(t, dissect.TransportUDP, PortIO,
		step{dissect.ToServer, dgram(0x004b0201, 1)},
		step{dissect.ToServer, dgram(0x004b0201, 2)},
		step{dissect.ToClient, dgram(0x000e4003, 1)},
		step{dissect.ToServer, dgram(0x004b0201, 3)},
		step{dissect.ToServer, []byte{1}})
	if len(ops) != 3 || ops[0].FunctionName != "io" || ops[0].Attr("connection_id") != "0x004b0201" ||
		ops[1].Attr("connection_id") != "0x000e4003" || ops[2].Result.Status != dissect.StatusMalformed {
		t.Fatalf("%v", ops)
	}
	if n, ok := s.IOPackets(0x004b0201); !ok || n != 3 {
		t.Errorf("IOPackets = %d %v", n, ok)
	}
}

func TestMalformed(t *testing.T) {
	// A SendRRData whose item length runs past the message.
	bad := encap(CmdSendRRData, 1, 0, 0, []byte{0, 0, 0, 0, 0, 0, 1, 0, 0xb2, 0, 9, 0, 1})
	ops, _ := run(t, dissect.TransportTCP, PortExplicit, step{dissect.ToServer, bad})
	if len(ops) != 1 || ops[0].Result.Status != dissect.StatusMalformed || ops[0].Result.Text != reasonCPF {
		t.Fatalf("%v", ops)
	}
	// A header with an undefined command loses the framing: Feed fails.
	flow := dissecttest.Flow(dissect.TransportTCP, PortExplicit)
	s := Dissector{}.NewSession(flow)
	if _, err := s.Feed(dissect.ToServer, encap(0x0999, 0, 0, 0, nil), dissecttest.Context(flow, dissecttest.Discard)); err == nil {
		t.Error("undefined command accepted")
	}
}

func TestProbe(t *testing.T) {
	d := Dissector{}
	if !d.Probe(encap(CmdListIdentity, 0, 0, 0, nil)) || !d.Probe(encap(CmdRegisterSession, 0, 0, 0, []byte{1, 0, 0, 0})) {
		t.Error("encapsulation not recognised")
	}
	if d.Probe([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")) || d.Probe(encap(CmdRegisterSession, 0, 0, 0, []byte{1, 0, 0, 0})[:26]) {
		t.Error("accepted non-ENIP payload")
	}
}

// readTagExchange is a connected Read_Tag request and reply, the common
// polling path of Logix HMIs.
func readTagExchange(t testing.TB) (req, rep []byte) {
	req = encap(CmdSendUnitData, 1, 0, 0, unitData(0x100, 7, dissecttest.Hex(t, "4c 03 91 04 54616731 0100")))
	rep = encap(CmdSendUnitData, 1, 0, 0, unitData(0x200, 7, dissecttest.Hex(t, "cc 00 00 00 c400 2a000000")))
	return req, rep
}

func TestAllocs(t *testing.T) {
	req, rep := readTagExchange(t)
	flow := dissecttest.Flow(dissect.TransportTCP, PortExplicit)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s.Feed(dissect.ToServer, req, ctx)
	s.Feed(dissect.ToClient, rep, ctx)
	if n := testing.AllocsPerRun(200, func() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, rep, ctx)
	}); n != 0 {
		t.Errorf("%v allocations per read_tag exchange", n)
	}
	io := dissecttest.Hex(t, "0200 0280 0800 01024b00 01000000 b100 0600 0100 00000000")
	iflow := dissecttest.Flow(dissect.TransportUDP, PortIO)
	is := Dissector{}.NewSession(iflow)
	is.Feed(dissect.ToServer, io, ctx)
	if n := testing.AllocsPerRun(200, func() { is.Feed(dissect.ToServer, io, ctx) }); n != 0 {
		t.Errorf("%v allocations per I/O datagram", n)
	}
}

func BenchmarkReadTag(b *testing.B) {
	req, rep := readTagExchange(b)
	flow := dissecttest.Flow(dissect.TransportTCP, PortExplicit)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	b.SetBytes(int64(len(req) + len(rep)))
	b.ReportAllocs()
	for b.Loop() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, rep, ctx)
	}
}

func BenchmarkIO(b *testing.B) {
	io := dissecttest.Hex(b, "0200 0280 0800 01024b00 01000000 b100 0600 0100 00000000")
	flow := dissecttest.Flow(dissect.TransportUDP, PortIO)
	s := Dissector{}.NewSession(flow)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	b.SetBytes(int64(len(io)))
	b.ReportAllocs()
	for b.Loop() {
		s.Feed(dissect.ToServer, io, ctx)
	}
}

func FuzzSession(f *testing.F) {
	req, rep := readTagExchange(f)
	f.Add(req)
	f.Add(append(append([]byte(nil), req...), rep...))
	f.Add(encap(CmdSendRRData, 1, 0, 5, rrData(dissecttest.Hex(f, "52 02 20 06 24 01  07 f9 0600  01 02 20 01 24 01  01 00 01 00"))))
	f.Add(encap(CmdSendUnitData, 1, 0, 0, unitData(1, 9, dissecttest.Hex(f, "0a 02 20 02 24 01  02 00 06 00 0e 00  0e 03 20 01 24 01 30 07  0e 03 20 f5 24 01 30 05"))))
	dissecttest.SeedFromCorpus(f, "enip", 40)
	f.Fuzz(func(t *testing.T, data []byte) {
		for cut := range []int{0, 1} {
			dissecttest.FeedWholeAndSplit(t, Dissector{}, dissect.Direction(cut), data, len(data)/2+cut)
		}
		// The same bytes as I/O and UDP datagrams must not panic either.
		for _, port := range []uint16{PortIO, PortExplicit} {
			flow := dissecttest.Flow(dissect.TransportUDP, port)
			s := Dissector{}.NewSession(flow)
			ctx := dissecttest.Context(flow, dissecttest.Discard)
			s.Feed(dissect.ToServer, data, ctx)
			s.Close(ctx)
		}
	})
}

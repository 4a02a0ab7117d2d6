package profinet

import (
	"fmt"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

var (
	controller = dissect.MAC{0x00, 0x80, 0xc8, 0x38, 0xa4, 0x8b}
	device     = dissect.MAC{0x00, 0x02, 0xe3, 0x17, 0xc7, 0x50}
	identMC    = dissect.MAC{0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00}
)

// DCP PDUs written from IEC 61158-6-10 (DCP PDU: FrameID, ServiceID,
// ServiceType, Xid, ResponseDelay/reserved, DCPDataLength, blocks of
// Option, Suboption, DCPBlockLength, BlockInfo/BlockQualifier, value,
// padding to an even length).
const (
	// Identify request, filter All Selector (0xFF/0xFF, length 0), padded
	// by Ethernet to 46 bytes.
	identifyAll = "fefe 05 00 00000001 0001 0004 | ffff 0000 | 0000000000000000000000000000000000000000000000000000000000"
	// Identify response: NameOfStation "plc-1" (odd: one padding byte),
	// DeviceID vendor 0x002A device 0x0101, DeviceRole 0x02 (IO
	// controller), IP parameter 192.168.0.11/255.255.255.0 gateway
	// 192.168.0.1, DeviceVendorValue "S7-300EC".
	identifyRes = "feff 05 01 00000001 0000 003e" +
		"| 0202 0007 0000 706c632d31 00" +
		"| 0203 0006 0000 002a 0101" +
		"| 0204 0004 0000 02 00" +
		"| 0102 000e 0001 c0a8000b ffffff00 c0a80001" +
		"| 0201 000a 0000 53372d3330304543"
	// Set request: NameOfStation "io-dev" (qualifier 1: permanent), then
	// Control/End Transaction.
	setName = "fefd 04 00 00000002 0000 0012 | 0202 0008 0001 696f2d646576 | 0502 0002 0000"
	// Set response: Control/Response for 2/2 and 5/2, BlockError 0.
	setNameOK = "fefd 04 01 00000002 0000 0010 | 0504 0003 0202 00 00 | 0504 0003 0502 00 00"
	// Set response: BlockError 3 (suboption not set) for 2/2.
	setNameErr = "fefd 04 01 00000002 0000 0008 | 0504 0003 0202 03 00"
	// Set request: Control/Signal (flash once, 0x0100).
	setSignal = "fefd 04 00 00000003 0000 0008 | 0503 0004 0000 0100"
	// Set request: IP parameter 10.0.0.5/255.0.0.0 gateway 10.0.0.1.
	setIP = "fefd 04 00 00000005 0000 0012 | 0102 000e 0001 0a000005 ff000000 0a000001"
	// Get request for NameOfStation and DeviceID, and its response.
	getReq = "fefd 03 00 00000004 0000 0004 | 0202 0203"
	getRes = "fefd 03 01 00000004 0000 0016 | 0202 0007 0000 706c632d31 00 | 0203 0006 0000 002a 0101"
	// Identify response with ServiceType 5 (request not supported).
	identifyUnsup = "feff 05 05 00000009 0000 0000"
)

type frameIn struct {
	src, dst dissect.MAC
	hex      string
}

func dissectAll(t *testing.T, d *Dissector, in []frameIn) []*dissect.Operation {
	t.Helper()
	var c dissecttest.Collector
	for i, f := range in {
		ctx := &dissect.Context{Emitter: &c, Time: dissecttest.Start.Add(time.Duration(i) * time.Millisecond),
			Packet: dissect.PacketRef{Frame: uint64(i + 1)}}
		d.Dissect(&dissect.Frame{Time: ctx.Time, SrcMAC: f.src, DstMAC: f.dst, EtherType: EtherType,
			Payload: dissecttest.Hex(t, f.hex), Packet: ctx.Packet}, ctx)
	}
	return c.Ops
}

func facts(op *dissect.Operation) string {
	s := ""
	for _, f := range op.Identity {
		s += fmt.Sprintf("%s=%s/%v ", f.Key, f.Value, f.Server)
	}
	return s
}

func targets(op *dissect.Operation) string {
	s := ""
	for _, tg := range op.Targets {
		s += fmt.Sprintf("%s:%s:%#x ", tg.Kind, tg.Name, tg.Address)
	}
	return s
}

func TestDCP(t *testing.T) {
	tests := []struct {
		name    string
		in      []frameIn
		fn      string
		code    int
		class   dissect.Class
		req     bool
		res     bool
		status  dissect.Status
		facts   string
		targets string
		attrs   map[string]string
		frames  int
		client  dissect.MAC
		server  dissect.MAC
	}{
		{name: "identify request", in: []frameIn{{controller, identMC, identifyAll}},
			fn: "identify", code: 5, class: dissect.ClassDiscovery, req: true, status: dissect.StatusOK,
			targets: "all_selector::0xffff ", attrs: map[string]string{"xid": "0x00000001"}, frames: 1,
			client: controller, server: identMC},
		{name: "identify response", in: []frameIn{{device, controller, identifyRes}},
			fn: "identify", code: 5, class: dissect.ClassDiscovery, res: true, status: dissect.StatusOK,
			facts: "hostname=plc-1/true vendor_id=42/true product_code=257/true device_type=io_controller/true " +
				"ip=192.168.0.11/true product=S7-300EC/true ",
			attrs: map[string]string{"vendor_id": "0x002a", "device_id": "0x0101", "device_role": "0x02",
				"ip": "192.168.0.11", "netmask": "255.255.255.0", "gateway": "192.168.0.1", "device_vendor_value": "S7-300EC"},
			frames: 1, client: controller, server: device},
		{name: "identify not supported", in: []frameIn{{device, controller, identifyUnsup}},
			fn: "identify", code: 5, class: dissect.ClassDiscovery, res: true, status: dissect.StatusError, frames: 1,
			client: controller, server: device},
		{name: "set name paired", in: []frameIn{{controller, device, setName}, {device, controller, setNameOK}},
			fn: "set", code: 4, class: dissect.ClassWrite, req: true, res: true, status: dissect.StatusOK,
			targets: "name_of_station:io-dev:0x202 control_end_transaction::0x502 ", frames: 2,
			client: controller, server: device},
		{name: "set name refused", in: []frameIn{{controller, device, setName}, {device, controller, setNameErr}},
			fn: "set", code: 4, class: dissect.ClassWrite, req: true, res: true, status: dissect.StatusError,
			targets: "name_of_station:io-dev:0x202 control_end_transaction::0x502 ", frames: 2,
			client: controller, server: device},
		{name: "set signal", in: []frameIn{{controller, device, setSignal}, {device, controller, "fefd 04 01 00000003 0000 0008 | 0504 0003 0503 00 00"}},
			fn: "set", code: 4, class: dissect.ClassControl, req: true, res: true, status: dissect.StatusOK,
			targets: "control_signal::0x503 ", frames: 2, client: controller, server: device},
		{name: "set ip", in: []frameIn{{controller, device, setIP}, {device, controller, "fefd 04 01 00000005 0000 0008 | 0504 0003 0102 00 00"}},
			fn: "set", code: 4, class: dissect.ClassWrite, req: true, res: true, status: dissect.StatusOK,
			targets: "ip_parameter:10.0.0.5:0x102 ", attrs: map[string]string{"netmask": "255.0.0.0", "gateway": "10.0.0.1"},
			frames: 2, client: controller, server: device},
		{name: "get", in: []frameIn{{controller, device, getReq}, {device, controller, getRes}},
			fn: "get", code: 3, class: dissect.ClassRead, req: true, res: true, status: dissect.StatusOK,
			targets: "name_of_station::0x202 device_id::0x203 ",
			facts:   "hostname=plc-1/true vendor_id=42/true product_code=257/true ", frames: 2,
			client: controller, server: device},
		{name: "set response without request", in: []frameIn{{device, controller, setNameOK}},
			fn: "set", code: 4, class: dissect.ClassWrite, res: true, status: dissect.StatusOK, frames: 1,
			client: controller, server: device},
		{name: "dcp length past frame", in: []frameIn{{device, controller, "feff 05 01 00000001 0000 0040 | 0202 0007 0000 706c632d31 00"}},
			fn: "dcp", class: dissect.ClassDiscovery, res: true, status: dissect.StatusMalformed, frames: 1,
			client: device, server: controller},
		{name: "block past dcp data", in: []frameIn{{device, controller, "feff 05 01 00000001 0000 0006 | 0202 0007 0000"}},
			fn: "identify", code: 5, class: dissect.ClassDiscovery, res: true, status: dissect.StatusMalformed, frames: 1,
			client: controller, server: device},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops := dissectAll(t, &Dissector{}, tc.in)
			if len(ops) != 1 {
				t.Fatalf("%d operations, want 1", len(ops))
			}
			op := ops[0]
			if op.FunctionName != tc.fn || op.FunctionCode != tc.code || op.Class != tc.class ||
				op.Request != tc.req || op.Response != tc.res || op.Result.Status != tc.status {
				t.Errorf("got %s/%d %v req=%v res=%v %v (%s)", op.FunctionName, op.FunctionCode, op.Class,
					op.Request, op.Response, op.Result.Status, op.Result.Text)
			}
			if op.Client.MAC != tc.client || op.Server.MAC != tc.server {
				t.Errorf("client %v server %v", op.Client.MAC, op.Server.MAC)
			}
			if got := facts(op); got != tc.facts {
				t.Errorf("facts %q, want %q", got, tc.facts)
			}
			if got := targets(op); got != tc.targets {
				t.Errorf("targets %q, want %q", got, tc.targets)
			}
			for k, v := range tc.attrs {
				if got := attr(op, k); got != v {
					t.Errorf("attr %s = %q, want %q", k, got, v)
				}
			}
			if len(op.Packets) != tc.frames {
				t.Errorf("packets %v", op.Packets)
			}
		})
	}
}

func TestSetRefusedCode(t *testing.T) {
	ops := dissectAll(t, &Dissector{}, []frameIn{{controller, device, setName}, {device, controller, setNameErr}})
	if r := ops[0].Result; r.Code != 3 || r.Text != "suboption_not_set" {
		t.Errorf("result %+v, want BlockError 3 suboption_not_set", r)
	}
}

func TestUnansweredSet(t *testing.T) {
	d := &Dissector{}
	if ops := dissectAll(t, d, []frameIn{{controller, device, setName}}); len(ops) != 0 {
		t.Fatalf("request emitted before its response: %d", len(ops))
	}
	var c dissecttest.Collector
	d.Flush(&dissect.Context{Emitter: &c})
	if len(c.Ops) != 1 || !c.Ops[0].Request || c.Ops[0].Response || c.Ops[0].Result.Status != dissect.StatusUnknown ||
		c.Ops[0].Packets[0].Frame != 1 || targets(c.Ops[0]) != "name_of_station:io-dev:0x202 control_end_transaction::0x502 " {
		t.Errorf("flushed %s", c.JSONL())
	}
	// An unanswered request also goes out once the pairing window passes.
	d = &Dissector{}
	c = dissecttest.Collector{}
	d.Dissect(&dissect.Frame{Time: dissecttest.Start, SrcMAC: controller, DstMAC: device, Payload: dissecttest.Hex(t, setName)},
		&dissect.Context{Emitter: &c})
	d.Dissect(&dissect.Frame{Time: dissecttest.Start.Add(time.Minute), SrcMAC: controller, DstMAC: identMC, Payload: dissecttest.Hex(t, identifyAll)},
		&dissect.Context{Emitter: &c})
	if len(c.Ops) != 2 || c.Ops[0].FunctionName != "set" || c.Ops[1].FunctionName != "identify" {
		t.Errorf("after the window: %s", c.JSONL())
	}
}

// Cyclic RT class 1 frame (FrameID 0xC000): IO data, then APDU status
// (CycleCounter, DataStatus, TransferStatus) as IEC 61158-6-10 lays it out.
const cyclic = "c000 | 80808080808080808080808080808080808080808080808080808080808080808080808080 | 1234 35 00"

func TestCyclicRelations(t *testing.T) {
	d := &Dissector{}
	in := []frameIn{{device, controller, cyclic}, {device, controller, cyclic}, {device, controller, cyclic},
		{controller, device, "c001 00"}, {device, controller, "ff40 00"}, {device, controller, "0100 00"},
		{device, controller, "8000 00"}, {device, controller, "ff83 00"}}
	ops := dissectAll(t, d, in)
	want := []struct {
		fn    string
		class dissect.Class
		kind  string
	}{
		{"cyclic_data", dissect.ClassRead, "rt_class_1"},
		{"cyclic_data", dissect.ClassRead, "rt_class_1"},
		{"ptcp_delay", dissect.ClassTime, "ptcp"},
		{"cyclic_data", dissect.ClassRead, "rt_class_3"},
		{"cyclic_data", dissect.ClassRead, "rt_class_2"},
		{"fragment", dissect.ClassOther, "fragment"},
	}
	if len(ops) != len(want) {
		t.Fatalf("%d operations, want %d: one per new relation", len(ops), len(want))
	}
	for i, w := range want {
		if ops[i].FunctionName != w.fn || ops[i].Class != w.class || attr(ops[i], "frame_kind") != w.kind {
			t.Errorf("op %d: %s %v %s, want %+v", i, ops[i].FunctionName, ops[i].Class, attr(ops[i], "frame_kind"), w)
		}
	}
	rels := d.Relations(nil)
	found := false
	for _, r := range rels {
		if r.FrameID == 0xc000 {
			found = true
			if r.Frames != 3 || r.Src != device || r.Dst != controller || r.Kind() != "rt_class_1" ||
				!r.First.Equal(dissecttest.Start) || !r.Last.Equal(dissecttest.Start.Add(2*time.Millisecond)) {
				t.Errorf("relation %+v", r)
			}
		}
	}
	if !found || len(rels) != 6 {
		t.Errorf("relations %+v", rels)
	}
}

func TestRelationTableFull(t *testing.T) {
	d := &Dissector{}
	ctx := &dissect.Context{Emitter: dissecttest.Discard}
	p := dissecttest.Hex(t, "c000 00")
	for i := range 2 * relSize {
		src := dissect.MAC{0, 0, 0, 0, byte(i >> 8), byte(i)}
		d.Dissect(&dissect.Frame{SrcMAC: src, DstMAC: controller, Payload: p}, ctx)
	}
	if n := len(d.Relations(nil)); n != relSize*3/4 {
		t.Errorf("%d relations kept, want %d", n, relSize*3/4)
	}
	if d.Dropped() != 2*relSize-relSize*3/4 {
		t.Errorf("dropped %d", d.Dropped())
	}
}

// RTA PDUs (IEC 61158-6-10, RTA-PDU and AlarmNotification block).
func TestAlarm(t *testing.T) {
	tests := []struct {
		name, hex, fn, alarmType, prio, targets string
		status                                  dissect.Status
	}{
		{"diagnosis notification",
			"fe01 | 0001 8001 | 11 01 | 0000 ffff | 0020 | 0002 001c 0100 0001 00000000 0001 0001 0000 0000 0000 0000 0000 0000 0000 0000",
			"alarm_notification", "diagnosis", "alarm_low", "slot::0x1 subslot::0x1 ", dissect.StatusOK},
		{"ack", "fc01 | 8001 0001 | 13 01 | ffff 0000 | 0000", "alarm_ack", "", "alarm_high", "", dissect.StatusOK},
		{"error", "fe01 | 8001 8001 | 14 01 | ffff fffe | 0004 | cf 81 fd 0f", "alarm_error", "", "alarm_low", "", dissect.StatusError},
		{"short", "fe01 8001", "alarm", "", "alarm_low", "", dissect.StatusMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops := dissectAll(t, &Dissector{}, []frameIn{{device, controller, tc.hex}})
			if len(ops) != 1 {
				t.Fatalf("%d ops", len(ops))
			}
			op := ops[0]
			if op.FunctionName != tc.fn || attr(op, "alarm_type") != tc.alarmType || attr(op, "alarm_priority") != tc.prio ||
				targets(op) != tc.targets || op.Result.Status != tc.status || op.Class != dissect.ClassOther {
				t.Errorf("got %s %q %q %q %v", op.FunctionName, attr(op, "alarm_type"), attr(op, "alarm_priority"), targets(op), op.Result)
			}
		})
	}
	ops := dissectAll(t, &Dissector{}, []frameIn{{device, controller, "fe01 | 8001 8001 | 14 01 | ffff fffe | 0004 | cf 81 fd 0f"}})
	if r := ops[0].Result; r.Code != 0xcf81fd0f || r.Text != "rta_error" {
		t.Errorf("error status %+v, want 0xcf81fd0f rta_error", r)
	}
}

func TestCyclicNoAlloc(t *testing.T) {
	d := &Dissector{}
	ctx := &dissect.Context{Emitter: dissecttest.Discard}
	f := &dissect.Frame{SrcMAC: device, DstMAC: controller, Payload: dissecttest.Hex(t, cyclic)}
	d.Dissect(f, ctx)
	if n := testing.AllocsPerRun(1000, func() { d.Dissect(f, ctx) }); n != 0 {
		t.Errorf("cyclic frame: %v allocations, want 0", n)
	}
}

func BenchmarkCyclic(b *testing.B) {
	d := &Dissector{}
	ctx := &dissect.Context{Emitter: dissecttest.Discard}
	f := &dissect.Frame{SrcMAC: device, DstMAC: controller, Payload: dissecttest.Hex(b, cyclic)}
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Payload)))
	for b.Loop() {
		d.Dissect(f, ctx)
	}
}

func BenchmarkIdentifyResponse(b *testing.B) {
	d := &Dissector{}
	ctx := &dissect.Context{Emitter: dissecttest.Discard}
	f := &dissect.Frame{SrcMAC: device, DstMAC: controller, Payload: dissecttest.Hex(b, identifyRes)}
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Payload)))
	for b.Loop() {
		d.Dissect(f, ctx)
	}
}

func FuzzDissect(f *testing.F) {
	for _, h := range []string{identifyAll, identifyRes, setName, setNameOK, setSignal, setIP, getReq, getRes, cyclic,
		"fe01 | 0001 8001 | 11 01 | 0000 ffff | 0020 | 0002 001c 0100 0001 00000000 0001 0001 0000 0000 0000 0000 0000 0000 0000 0000"} {
		f.Add(dissecttest.Hex(f, h))
	}
	for _, b := range rtFrames(f, 20) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := &Dissector{}
		ctx := &dissect.Context{Emitter: dissecttest.Discard}
		d.Dissect(&dissect.Frame{SrcMAC: controller, DstMAC: device, Payload: b}, ctx)
		d.Dissect(&dissect.Frame{SrcMAC: device, DstMAC: controller, Payload: b}, ctx)
		d.Flush(ctx)
	})
}

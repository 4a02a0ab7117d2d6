package bacnet

import (
	"slices"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

var (
	ethA = dissect.MAC{0x00, 0xe0, 0xc9, 0x00, 0x10, 0xa5}
	ethB = dissect.MAC{0x00, 0x30, 0xbd, 0xc5, 0xb2, 0xb6}
)

// llcFrame returns a BACnet/Ethernet frame from src to dst whose payload
// after the LLC header (clause 7.1) is the NPDU npdu.
func llcFrame(t testing.TB, src, dst dissect.MAC, npdu string) *dissect.Frame {
	return &dissect.Frame{SrcMAC: src, DstMAC: dst, LLC: true, DSAP: SAP, SSAP: SAP, Payload: dissecttest.Hex(t, npdu)}
}

func TestFrameDissector(t *testing.T) {
	if d := dissect.ByLLC(SAP); d == nil || d.Name() != "bacnet_eth" {
		t.Fatalf("ByLLC(0x82) = %v", d)
	}
	for _, tc := range []struct {
		name     string
		src, dst dissect.MAC
		ssap     byte
		npdu     string
		fn       string
		code     int
		req, rsp bool
		status   dissect.Status
		client   dissect.MAC
		server   dissect.MAC
		facts    map[string]string
		attrs    map[string]string
		targets  []dissect.Target
	}{
		{
			// Clause 16.10 via a router (clause 6.2.2: SNET 3, SADR one
			// octet 10, an MS/TP station): I-Am of device 10, max APDU
			// 480, no segmentation (3), vendor 42.
			name: "routed_i_am", src: ethA, dst: dissect.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ssap: SAP,
			npdu: "0108 0003010a 1000 c40200000a 2201e0 9103 212a",
			fn:   "i_am", code: 0, rsp: true, status: dissect.StatusOK, server: ethA, client: dissect.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			facts:   map[string]string{dissect.FactAddress: "device:10", dissect.FactVendorID: "42"},
			attrs:   map[string]string{"snet": "3", "sadr": "10", "apdu": "unconfirmed_request", "bvlc": ""},
			targets: []dissect.Target{{Kind: "device", Address: 10, Count: 1}},
		},
		{
			// Clause 16.10: Who-Is without a range.
			name: "who_is", src: ethA, dst: ethB, ssap: SAP, npdu: "0100 1008",
			fn: "who_is", code: 8, req: true, status: dissect.StatusOK, client: ethA, server: ethB,
		},
		{
			// Clause 15.5: ReadProperty of Analog Input 5, Present_Value;
			// emitted at once, without its ack.
			name: "read_property", src: ethB, dst: ethA, ssap: SAP, npdu: "0104 0005010c 0c00000005 1955",
			fn: "read_property", code: 12, req: true, client: ethB, server: ethA,
			attrs:   map[string]string{"invoke_id": "1", "apdu": "confirmed_request"},
			targets: []dissect.Target{{Kind: "analog_input", Address: 5, Count: 1}, {Kind: "property", Name: "present_value", Address: 85, Count: 1}},
		},
		{
			// Clause 15.5.1.3.1: its complex ack, sent by the server.
			name: "read_property_ack", src: ethA, dst: ethB, ssap: SAP, npdu: "0100 30010c 0c00000005 1955 3e 444290999a 3f",
			fn: "read_property", code: 12, rsp: true, status: dissect.StatusOK, client: ethB, server: ethA,
			attrs: map[string]string{"invoke_id": "1", "apdu": "complex_ack"},
		},
		{
			// Clause 6.2.2: version 1 is the only one.
			name: "npdu_version", src: ethA, dst: ethB, ssap: SAP, npdu: "0200 1008",
			fn: "malformed", req: true, status: dissect.StatusMalformed, client: ethA, server: ethB,
		},
		{
			// Clause 7.1: the source SAP is 0x82 too.
			name: "ssap", src: ethA, dst: ethB, ssap: 0x42, npdu: "0100 1008",
			fn: "malformed", req: true, status: dissect.StatusMalformed, client: ethA, server: ethB,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c dissecttest.Collector
			ctx := frameCtx(&c)
			f := llcFrame(t, tc.src, tc.dst, tc.npdu)
			f.SSAP = tc.ssap
			(&FrameDissector{}).Dissect(f, ctx)
			if len(c.Ops) != 1 {
				t.Fatalf("%d operations, want 1", len(c.Ops))
			}
			op := c.Ops[0]
			if op.Protocol != "bacnet" || op.Transport != "ethernet" || op.FunctionName != tc.fn || op.FunctionCode != tc.code ||
				op.Request != tc.req || op.Response != tc.rsp || op.Result.Status != tc.status {
				t.Errorf("got %s/%s %s %d req=%v rsp=%v %v (%s)", op.Protocol, op.Transport, op.FunctionName, op.FunctionCode,
					op.Request, op.Response, op.Result.Status, op.Result.Text)
			}
			if op.Client.MAC != tc.client || op.Server.MAC != tc.server {
				t.Errorf("client %v server %v, want %v %v", op.Client.MAC, op.Server.MAC, tc.client, tc.server)
			}
			for k, v := range tc.facts {
				i := slices.IndexFunc(op.Identity, func(f dissect.Fact) bool { return f.Key == k })
				if i < 0 || op.Identity[i].Value != v || !op.Identity[i].Server {
					t.Errorf("fact %s: %+v, want %q (server)", k, op.Identity, v)
				}
			}
			for k, v := range tc.attrs {
				if got := op.Attr(k); got != v {
					t.Errorf("attr %s = %q, want %q", k, got, v)
				}
			}
			if tc.targets != nil && !slices.Equal(op.Targets, tc.targets) {
				t.Errorf("targets %+v, want %+v", op.Targets, tc.targets)
			}
		})
	}
}

// iAmFrame is a routed I-Am as BACnet/Ethernet routers relay them.
const iAmFrame = "0108 0003010a 1000 c40200000a 2201e0 9103 212a"

// TestFrameAllocations pins the common poll over BACnet/Ethernet, a
// ReadProperty request and its complex ack (clause 15.5), at no
// allocation. (An I-Am builds its "device:N" fact, as on BACnet/IP.)
func TestFrameAllocations(t *testing.T) {
	req := llcFrame(t, ethB, ethA, "0104 0005010c 0c00000005 1955")
	ack := llcFrame(t, ethA, ethB, "0100 30010c 0c00000005 1955 3e 444290999a 3f")
	ops := 0
	ctx := frameCtx(dissect.EmitterFunc(func(*dissect.Operation) { ops++ }))
	d := &FrameDissector{}
	poll := func() {
		d.Dissect(req, ctx)
		d.Dissect(ack, ctx)
	}
	poll() // warm the pool and the scratch operation
	// sync.Pool may drop its content at a garbage collection; a steady
	// state without one reuses a single session.
	if n := testing.AllocsPerRun(1000, poll); n > 0 {
		t.Errorf("ReadProperty poll allocates %.1f times, want 0", n)
	}
	if ops != 2004 {
		t.Errorf("%d operations, want 2004", ops)
	}
}

func BenchmarkFramePoll(b *testing.B) {
	req := llcFrame(b, ethB, ethA, "0104 0005010c 0c00000005 1955")
	ack := llcFrame(b, ethA, ethB, "0100 30010c 0c00000005 1955 3e 444290999a 3f")
	ctx := frameCtx(dissecttest.Discard)
	d := &FrameDissector{}
	b.ReportAllocs()
	b.SetBytes(int64(len(req.Payload) + len(ack.Payload)))
	for b.Loop() {
		d.Dissect(req, ctx)
		d.Dissect(ack, ctx)
	}
}

func BenchmarkFrameIAm(b *testing.B) {
	f := llcFrame(b, ethA, ethB, iAmFrame)
	ctx := frameCtx(dissecttest.Discard)
	d := &FrameDissector{}
	b.ReportAllocs()
	b.SetBytes(int64(len(f.Payload)))
	for b.Loop() {
		d.Dissect(f, ctx)
	}
}

// frameCtx is the context the pipeline hands a frame dissector: no flow.
func frameCtx(emit dissect.Emitter) *dissect.Context {
	return &dissect.Context{Time: dissecttest.Start, Emitter: emit}
}

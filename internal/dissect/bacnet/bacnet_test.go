package bacnet

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// step is one datagram of a table test.
type step struct {
	dir dissect.Direction
	hex string
}

// want is the expected operation, with values from ANSI/ASHRAE 135.
type want struct {
	name      string
	code      int
	class     dissect.Class
	request   bool
	response  bool
	status    dissect.Status
	resCode   int
	resText   string
	targets   []dissect.Target
	attrs     map[string]string
	facts     map[string]string
	server    string // IP of the operation's server, when checked
	nPackets  int
	noAttrKey []string
}

func run(t *testing.T, steps []step) []*dissect.Operation {
	t.Helper()
	var c dissecttest.Collector
	flow := dissecttest.Flow(dissect.TransportUDP, Port)
	ctx := dissecttest.Context(flow, &c)
	s := Dissector{}.NewSession(flow)
	for i, st := range steps {
		ctx.Packet = dissect.PacketRef{Flow: flow.ID, Index: uint64(i), Frame: uint64(i + 1)}
		b := dissecttest.Hex(t, st.hex)
		n, err := s.Feed(st.dir, b, ctx)
		if err != nil || n != len(b) {
			t.Fatalf("step %d: Feed = %d, %v", i, n, err)
		}
	}
	s.Close(ctx)
	return c.Ops
}

func check(t *testing.T, op *dissect.Operation, w want) {
	t.Helper()
	if op.Protocol != "bacnet" || op.FunctionName != w.name || op.FunctionCode != w.code || op.Class != w.class {
		t.Errorf("function %s %d %s, want %s %d %s", op.FunctionName, op.FunctionCode, op.Class, w.name, w.code, w.class)
	}
	if op.Request != w.request || op.Response != w.response {
		t.Errorf("%s: request %v response %v, want %v %v", w.name, op.Request, op.Response, w.request, w.response)
	}
	if op.Result.Status != w.status || op.Result.Code != w.resCode || (w.resText != "" && op.Result.Text != w.resText) {
		t.Errorf("%s: result %+v, want %s %d %q", w.name, op.Result, w.status, w.resCode, w.resText)
	}
	if w.targets != nil && !slices.Equal(op.Targets, w.targets) {
		t.Errorf("%s: targets %+v, want %+v", w.name, op.Targets, w.targets)
	}
	for k, v := range w.attrs {
		if got := op.Attr(k); got != v {
			t.Errorf("%s: attr %s = %q, want %q", w.name, k, got, v)
		}
	}
	for _, k := range w.noAttrKey {
		if got := op.Attr(k); got != "" {
			t.Errorf("%s: attr %s = %q, want none", w.name, k, got)
		}
	}
	for k, v := range w.facts {
		found := false
		for _, f := range op.Identity {
			if f.Key == k && f.Value == v && f.Server {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no server fact %s=%q in %+v", w.name, k, v, op.Identity)
		}
	}
	if w.facts == nil && len(op.Identity) > 0 {
		t.Errorf("%s: unexpected facts %+v", w.name, op.Identity)
	}
	if w.server != "" && op.Server.IP != netip.MustParseAddr(w.server) {
		t.Errorf("%s: server %s, want %s", w.name, op.Server.IP, w.server)
	}
	if w.nPackets != 0 && len(op.Packets) != w.nPackets {
		t.Errorf("%s: packets %+v, want %d", w.name, op.Packets, w.nPackets)
	}
}

const (
	client = "10.10.1.20" // dissecttest.Flow's client
	server = "10.10.2.10" // and server
)

func TestOperations(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
		want  []want
	}{
		{
			// Clause 15.5 and Annex F.3.5: ReadProperty of Analog Input 5,
			// Present_Value (85); the ack carries REAL 72.3.
			name: "read_property",
			steps: []step{
				{dissect.ToServer, "810a0011 0104 0005010c 0c00000005 1955"},
				{dissect.ToClient, "810a0017 0100 30010c 0c00000005 1955 3e 444290999a 3f"},
			},
			want: []want{{
				name: "read_property", code: 12, class: dissect.ClassRead, request: true, response: true,
				status: dissect.StatusOK, server: server, nPackets: 2,
				targets: []dissect.Target{{Kind: "analog_input", Address: 5, Count: 1}, {Kind: "property", Name: "present_value", Address: 85, Count: 1}},
				attrs: map[string]string{"bvlc": "original_unicast_npdu", "apdu": "confirmed_request",
					"response_apdu": "complex_ack", "invoke_id": "1"},
			}},
		},
		{
			// Clause 16.10: I-Am of device 3, max APDU 480, segmented
			// transmit, vendor 99, broadcast to the global network
			// (DNET 0xffff, hop count 255, clause 6.2.2). The sender is the
			// device: the operation's server.
			name: "i_am",
			steps: []step{
				{dissect.ToServer, "810b0018 0120ffff00ff 1000 c402000003 2201e0 9101 2163"},
			},
			want: []want{{
				name: "i_am", code: 0, class: dissect.ClassDiscovery, response: true, status: dissect.StatusOK,
				server: client, nPackets: 1,
				targets: []dissect.Target{{Kind: "device", Address: 3, Count: 1}},
				attrs:   map[string]string{"max_apdu": "480", "segmentation": "segmented_transmit", "dnet": "65535", "apdu": "unconfirmed_request"},
				facts: map[string]string{dissect.FactAddress: "device:3", dissect.FactVendorID: "99",
					dissect.FactVendor: "Mitsubishi Electric Corporation Air Conditioning & Refrigeration Systems Works"},
			}},
		},
		{
			// Clause 16.10: Who-Is for device instances 3 to 3.
			name:  "who_is",
			steps: []step{{dissect.ToServer, "810b0010 0120ffff00ff 1008 0903 1903"}},
			want: []want{{
				name: "who_is", code: 8, class: dissect.ClassDiscovery, request: true, status: dissect.StatusOK, server: server,
				targets: []dissect.Target{{Kind: "device", Address: 3, Count: 1}},
			}},
		},
		{
			// Clauses 18 and 20.1.7: Error PDU, class object (1), code
			// unknown-object (31); clause 20.1.8: Reject, reason
			// unrecognized-service (9); clause 20.1.9: Abort from the
			// server, reason segmentation-not-supported (4).
			name: "error_reject_abort",
			steps: []step{
				{dissect.ToServer, "810a0011 0104 0005020c 0c00000005 1955"},
				{dissect.ToClient, "810a000d 0100 50020c 9101 911f"},
				{dissect.ToServer, "810a0011 0104 0005030c 0c00000005 1955"},
				{dissect.ToClient, "810a0009 0100 600309"},
				{dissect.ToServer, "810a0011 0104 0005040c 0c00000005 1955"},
				{dissect.ToClient, "810a0009 0100 710404"},
			},
			want: []want{
				{name: "read_property", code: 12, class: dissect.ClassRead, request: true, response: true,
					status: dissect.StatusError, resCode: 31, resText: "unknown_object", attrs: map[string]string{"error_class": "object"}},
				{name: "read_property", code: 12, class: dissect.ClassRead, request: true, response: true,
					status: dissect.StatusError, resCode: 9, resText: "unrecognized_service", attrs: map[string]string{"response_apdu": "reject"}},
				{name: "read_property", code: 12, class: dissect.ClassRead, request: true, response: true,
					status: dissect.StatusError, resCode: 4, resText: "segmentation_not_supported", attrs: map[string]string{"response_apdu": "abort"}},
			},
		},
		{
			// Clause 15.9: WriteProperty of Analog Value 1 Present_Value,
			// REAL 180.0, priority 8; Simple-ACK (clause 20.1.4).
			name: "write_property",
			steps: []step{
				{dissect.ToClient, "810a001a 0104 0004590f 0c00800001 1955 3e4443340000 3f 4908"},
				{dissect.ToServer, "810a0009 0100 20590f"},
			},
			want: []want{{
				name: "write_property", code: 15, class: dissect.ClassWrite, request: true, response: true,
				status: dissect.StatusOK, server: client, nPackets: 2,
				targets: []dissect.Target{{Kind: "analog_value", Address: 1, Count: 1}, {Kind: "property", Name: "present_value", Address: 85, Count: 1}},
				attrs:   map[string]string{"priority": "8", "invoke_id": "89"},
			}},
		},
		{
			// Clause 16.1: DeviceCommunicationControl, 5 minutes, disable,
			// password "abc"; never answered. Clause 16.4:
			// ReinitializeDevice warmstart, Simple-ACK.
			name: "control_restart",
			steps: []step{
				{dissect.ToServer, "810a0013 0104 00050411 0905 1901 2c00616263"},
				{dissect.ToServer, "810a000c 0104 00050514 0901"},
				{dissect.ToClient, "810a0009 0100 200514"},
			},
			want: []want{
				{name: "reinitialize_device", code: 20, class: dissect.ClassRestart, request: true, response: true,
					status: dissect.StatusOK, attrs: map[string]string{"state": "warmstart"}},
				{name: "device_communication_control", code: 17, class: dissect.ClassControl, request: true,
					status: dissect.StatusUnknown, nPackets: 1,
					attrs: map[string]string{"enable_disable": "disable", "duration": "5", "password": "present"}},
			},
		},
		{
			// Annex J.2.2: Forwarded-NPDU from 192.168.0.16:47808 carrying a
			// Who-Is without limits; J.2.6 and J.2.1: Register-Foreign-
			// Device (TTL 60 s) and a successful BVLC-Result.
			name: "bvll",
			steps: []step{
				{dissect.ToServer, "81040012 c0a80010bac0 0120ffff00ff 1008"},
				{dissect.ToServer, "81050006 003c"},
				{dissect.ToClient, "81000006 0000"},
			},
			want: []want{
				{name: "who_is", code: 8, class: dissect.ClassDiscovery, request: true, status: dissect.StatusOK,
					targets: []dissect.Target{}, attrs: map[string]string{"bvlc": "forwarded_npdu", "origin": "192.168.0.16:47808"}},
				{name: "register_foreign_device", code: 5, class: dissect.ClassControl, request: true, response: true,
					status: dissect.StatusOK, nPackets: 2,
					attrs: map[string]string{"bvlc_result": "successful_completion", "response_bvlc": "bvlc_result"}},
			},
		},
		{
			// Clause 6.4.1: Who-Is-Router-To-Network, a network layer
			// message.
			name:  "network_message",
			steps: []step{{dissect.ToServer, "810b0007 018000"}},
			want: []want{{name: "who_is_router_to_network", code: 0, class: dissect.ClassDiscovery, request: true,
				status: dissect.StatusOK, noAttrKey: []string{"apdu"}}},
		},
		{
			// A ReadProperty of Device 10's Object_Name routed to MS/TP
			// network 3, station 10 (clause 6.2.2: DNET/DADR on the request,
			// SNET/SADR on the ack); the value is a CharacterString in
			// UTF-8 (clause 20.2.9), "PLC1".
			name: "routed_identity",
			steps: []step{
				{dissect.ToServer, "810a0016 0124 0003010a ff 0005070c 0c0200000a 194d"},
				{dissect.ToClient, "810a001d 0108 0003010a 30070c 0c0200000a 194d 3e 7505 00504c4331 3f"},
			},
			want: []want{{
				name: "read_property", code: 12, class: dissect.ClassRead, request: true, response: true, status: dissect.StatusOK,
				targets: []dissect.Target{{Kind: "device", Address: 10, Count: 1}, {Kind: "property", Name: "object_name", Address: 77, Count: 1}},
				attrs:   map[string]string{"dnet": "3", "dadr": "10", "response_snet": "3", "response_sadr": "10"},
				facts:   map[string]string{dissect.FactHostname: "PLC1"},
			}},
		},
		{
			// Clause 20.1.5 and 20.1.6: a segmented ReadPropertyMultiple ack
			// (SEG and MOR set, sequence 0, window 4), its Segment-ACK from
			// the client, and the last segment (sequence 1).
			name: "segmented",
			steps: []step{
				{dissect.ToServer, "810a0014 0104 0205010e 0c02000001 1e094c1f"},
				{dissect.ToClient, "810a000d 0100 3c0100040e 0c"},
				{dissect.ToServer, "810a000a 0100 40010004"},
				{dissect.ToClient, "810a000d 0100 380101040e 02"},
			},
			want: []want{
				{name: "read_property_multiple", code: 14, class: dissect.ClassRead, request: true, response: true,
					status: dissect.StatusOK, attrs: map[string]string{"segmented": "response"},
					targets: []dissect.Target{{Kind: "device", Address: 1, Count: 1}, {Kind: "property", Name: "object_list", Address: 76, Count: 1}}},
				{name: "segment_ack", code: 1, class: dissect.ClassOther, request: true, status: dissect.StatusOK,
					attrs: map[string]string{"sequence": "0", "apdu": "segment_ack"}},
				{name: "read_property_multiple", code: 14, class: dissect.ClassRead, response: true, status: dissect.StatusOK,
					attrs: map[string]string{"segmented": "continuation", "sequence": "1"}},
			},
		},
		{
			// Annex J.2: the BVLC type must be 0x81; a datagram shorter
			// than the header; an undefined function.
			name: "malformed",
			steps: []step{
				{dissect.ToServer, "820a0004"},
				{dissect.ToServer, "810a"},
				{dissect.ToServer, "81200004"},
				{dissect.ToServer, "810a0006 0200"},
			},
			want: []want{
				{name: "malformed", request: true, status: dissect.StatusMalformed, resText: reasonBVLCType},
				{name: "malformed", request: true, status: dissect.StatusMalformed, resText: reasonBVLCLength},
				{name: "unknown", code: 0x20, request: true, status: dissect.StatusMalformed, resText: reasonBVLCFunction},
				{name: "original_unicast_npdu", code: 0x0a, request: true, status: dissect.StatusMalformed, resText: reasonNPDUVersion},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := run(t, tc.steps)
			if len(ops) != len(tc.want) {
				for _, op := range ops {
					t.Logf("%+v", op)
				}
				t.Fatalf("%d operations, want %d", len(ops), len(tc.want))
			}
			for i, w := range tc.want {
				check(t, ops[i], w)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		want bool
	}{
		{"810a0011 0104 0005010c 0c00000005 1955", true},  // ReadProperty
		{"81040012 c0a80010bac0 0120ffff00ff 1008", true}, // Forwarded-NPDU
		{"81000006 0000", true},                           // BVLC-Result
		{"810a0012 0104 0005010c 0c00000005 1955", false}, // length is not the datagram's
		{"810a0011 0204 0005010c 0c00000005 1955", false}, // NPDU version 2
		{"820a0011 0104 0005010c 0c00000005 1955", false}, // BVLC type
		{"81200004", false},                               // undefined function
		{"8100", false},
	} {
		if got := (Dissector{}).Probe(dissecttest.Hex(t, tc.hex)); got != tc.want {
			t.Errorf("Probe(%s) = %v, want %v", tc.hex, got, tc.want)
		}
	}
}

// TestCharacterString checks the character sets of clause 20.2.9.
func TestCharacterString(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		want string
		ok   bool
	}{
		{"00 504c4331", "PLC1", true},
		{"04 0050004c00430031", "PLC1", true}, // UCS-2
		{"05 e9", "é", true},                  // ISO 8859-1
		{"03 000000e9", "é", true},            // UCS-4
		{"00 41074200", "A\ufffdB", true},     // control character replaced
		{"01 4142", "", false},                // DBCS: not decoded
		{"", "", false},
	} {
		got, ok := characterString(dissecttest.Hex(t, tc.hex))
		if got != tc.want || ok != tc.ok {
			t.Errorf("characterString(%s) = %q %v, want %q %v", tc.hex, got, ok, tc.want, tc.ok)
		}
	}
}

// TestTags checks tag headers against clause 20.2.1: extended tag
// numbers, extended lengths, opening and closing tags.
func TestTags(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		want tag
	}{
		{"c4", tag{num: 12, length: 4, hdr: 1}},
		{"75 05", tag{num: 7, length: 5, hdr: 2}},
		{"75 fe 0100", tag{num: 7, length: 256, hdr: 4}},
		{"75 ff 00010000", tag{num: 7, length: 65536, hdr: 6}},
		{"f9 20", tag{num: 32, context: true, length: 1, hdr: 2}},
		{"3e", tag{num: 3, context: true, open: true, hdr: 1}},
		{"3f", tag{num: 3, context: true, close: true, hdr: 1}},
		{"11", tag{num: 1, length: 1, hdr: 1}}, // application boolean true
	} {
		got, ok := readTag(dissecttest.Hex(t, tc.hex))
		if !ok || got != tc.want {
			t.Errorf("readTag(%s) = %+v %v, want %+v", tc.hex, got, ok, tc.want)
		}
	}
	for _, short := range []string{"", "75", "75fe01", "75ff000100", "f9"} {
		if _, ok := readTag(dissecttest.Hex(t, short)); ok {
			t.Errorf("readTag(%s) accepted a short header", short)
		}
	}
}

// TestMalformedRequestAnswered: a ReadProperty whose object identifier is
// cut short (clause 20.2.14 gives it four octets) stays a protocol violation
// when the device answers it with a Reject (clause 20.1.8).
func TestMalformedRequestAnswered(t *testing.T) {
	ops := run(t, []step{
		{dissect.ToServer, "810a000d 0104 0005010c 0c0000"},
		{dissect.ToClient, "810a0009 0100 600102"},
	})
	if len(ops) == 0 {
		t.Fatal("no operation")
	}
	for _, op := range ops {
		if op.Result.Status != dissect.StatusMalformed {
			t.Errorf("%s: status %v, want malformed", op.FunctionName, op.Result.Status)
		}
	}
}

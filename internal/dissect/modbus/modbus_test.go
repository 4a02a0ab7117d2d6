package modbus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// adu wraps a PDU given in hex in an MBAP header (implementation guide,
// section 3.1.3): transaction id, protocol id 0, length = 1 + PDU length,
// unit id.
func adu(t testing.TB, tid uint16, unit byte, pdu string) []byte {
	t.Helper()
	p := dissecttest.Hex(t, pdu)
	b := binary.BigEndian.AppendUint16(nil, tid)
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(1+len(p)))
	b = append(b, unit)
	return append(b, p...)
}

// run feeds client and server bytes, alternately by step, to a new
// session and returns the operations, closing the session at the end.
type step struct {
	dir  dissect.Direction
	data []byte
}

func run(t testing.TB, flow *dissect.Flow, steps ...step) ([]*dissect.Operation, error) {
	t.Helper()
	var c dissecttest.Collector
	f := &dissecttest.Feeder{Session: Dissector{}.NewSession(flow), Ctx: dissecttest.Context(flow, &c)}
	for _, s := range steps {
		f.Feed(s.dir, s.data)
	}
	f.Session.Close(f.Ctx)
	return c.Ops, f.Err
}

func toServer(b []byte) step { return step{dissect.ToServer, b} }
func toClient(b []byte) step { return step{dissect.ToClient, b} }

func flow502() *dissect.Flow { return dissecttest.Flow(dissect.TransportTCP, Port) }

func targets(op *dissect.Operation) string {
	var s []string
	for _, tg := range op.Targets {
		n := tg.Kind
		if tg.Name != "" {
			n += "(" + tg.Name + ")"
		}
		s = append(s, fmt.Sprintf("%s@%d+%d", n, tg.Address, tg.Count))
	}
	return strings.Join(s, " ")
}

func attrs(op *dissect.Operation) string {
	var s []string
	for _, a := range op.Attrs {
		if a.Key != attrUnit {
			s = append(s, a.Key+"="+a.Value)
		}
	}
	return strings.Join(s, " ")
}

func facts(op *dissect.Operation) string {
	var s []string
	for _, f := range op.Identity {
		if !f.Server {
			s = append(s, "client:")
		}
		s = append(s, f.Key+"="+f.Value)
	}
	return strings.Join(s, " ")
}

// TestPairs checks request/response pairs built from the examples of the
// application protocol specification (the section is in each name).
func TestPairs(t *testing.T) {
	tests := []struct {
		name, req, resp string
		fc              int
		fn              string
		class           dissect.Class
		status          dissect.Status
		code            int
		text            string
		targets         string
		attrs           string
		facts           string
	}{
		{"6.1 read coils", "01 0013 0013", "01 03 CD6B05", 1, "read_coils", dissect.ClassRead, dissect.StatusOK, 0, "",
			"coil@19+19", "", ""},
		{"6.2 read discrete inputs", "02 00C4 0016", "02 03 ACDB35", 2, "read_discrete_inputs", dissect.ClassRead, dissect.StatusOK, 0, "",
			"discrete_input@196+22", "", ""},
		{"6.3 read holding registers", "03 006B 0003", "03 06 022B 0000 0064", 3, "read_holding_registers", dissect.ClassRead, dissect.StatusOK, 0, "",
			"holding_register@107+3", "", ""},
		{"6.4 read input registers", "04 0008 0001", "04 02 000A", 4, "read_input_registers", dissect.ClassRead, dissect.StatusOK, 0, "",
			"input_register@8+1", "", ""},
		{"6.5 write single coil", "05 00AC FF00", "05 00AC FF00", 5, "write_single_coil", dissect.ClassWrite, dissect.StatusOK, 0, "",
			"coil@172+1", "value=on", ""},
		{"6.6 write single register", "06 0001 0003", "06 0001 0003", 6, "write_single_register", dissect.ClassWrite, dissect.StatusOK, 0, "",
			"holding_register@1+1", "value=3", ""},
		{"6.7 read exception status", "07", "07 6D", 7, "read_exception_status", dissect.ClassDiagnostics, dissect.StatusOK, 0, "",
			"", "", ""},
		{"6.8.1 return query data", "08 0000 A537", "08 0000 A537", 8, "diagnostics", dissect.ClassDiagnostics, dissect.StatusOK, 0, "",
			"", "sub_function=return_query_data", ""},
		{"6.8.1 restart communications option", "08 0001 FF00", "08 0001 FF00", 8, "diagnostics", dissect.ClassRestart, dissect.StatusOK, 0, "",
			"", "sub_function=restart_communications_option", ""},
		{"6.8.1 force listen only mode", "08 0004 0000", "", 8, "diagnostics", dissect.ClassControl, dissect.StatusUnknown, 0, "",
			"", "sub_function=force_listen_only_mode", ""},
		{"6.9 get comm event counter", "0B", "0B FFFF 0108", 11, "get_comm_event_counter", dissect.ClassDiagnostics, dissect.StatusOK, 0, "",
			"", "", ""},
		{"6.10 get comm event log", "0C", "0C 08 0000 0108 0121 20 00", 12, "get_comm_event_log", dissect.ClassDiagnostics, dissect.StatusOK, 0, "",
			"", "", ""},
		// CD 01: coils 20..27 are 1,0,1,1,0,0,1,1 (LSB first), 28..29 are 1,0.
		{"6.11 write multiple coils", "0F 0013 000A 02 CD01", "0F 0013 000A", 15, "write_multiple_coils", dissect.ClassWrite, dissect.StatusOK, 0, "",
			"coil@19+10", "values=1,0,1,1,0,0,1,1,1,0", ""},
		{"6.12 write multiple registers", "10 0001 0002 04 000A 0102", "10 0001 0002", 16, "write_multiple_registers", dissect.ClassWrite, dissect.StatusOK, 0, "",
			"holding_register@1+2", "values=10,258", ""},
		{"6.13 report server id", "11", "11 12 00 FF 57696e6770617468204c696d69746564", 17, "report_server_id", dissect.ClassDiscovery, dissect.StatusOK, 0, "",
			"", "", "server_id=Wingpath Limited"},
		{"6.14 read file record", "14 0E 06 0004 0001 0002 06 0003 0009 0002", "14 0C 05 06 0DFE 0020 05 06 33CD 0040", 20, "read_file_record", dissect.ClassFile, dissect.StatusOK, 0, "",
			"file_record(file 4)@1+2 file_record(file 3)@9+2", "", ""},
		{"6.15 write file record", "15 0D 06 0004 0007 0003 06AF 04BE 100D", "15 0D 06 0004 0007 0003 06AF 04BE 100D", 21, "write_file_record", dissect.ClassFile, dissect.StatusOK, 0, "",
			"file_record(file 4)@7+3", "", ""},
		{"6.16 mask write register", "16 0004 00F2 0025", "16 0004 00F2 0025", 22, "mask_write_register", dissect.ClassWrite, dissect.StatusOK, 0, "",
			"holding_register@4+1", "and_mask=0x00f2 or_mask=0x0025", ""},
		{"6.17 read/write multiple registers", "17 0003 0006 000E 0003 06 00FF 00FF 00FF", "17 0C 00FE 0ACD 0001 0003 000D 00FF", 23, "read_write_multiple_registers", dissect.ClassWrite, dissect.StatusOK, 0, "",
			"holding_register@3+6 holding_register@14+3", "values=255,255,255", ""},
		{"6.18 read fifo queue", "18 04DE", "18 0006 0002 01B8 1284", 24, "read_fifo_queue", dissect.ClassRead, dissect.StatusOK, 0, "",
			"holding_register@1246+2", "", ""},
		{"6.21 read device identification", "2B 0E 01 00",
			"2B 0E 01 01 00 00 03 00 16" + hexText("Company identification") + "01 0F" + hexText("Product code XX") + "02 05" + hexText("V2.11"),
			43, "read_device_identification", dissect.ClassDiscovery, dissect.StatusOK, 0, "",
			"", "mei_type=read_device_identification device_id_code=basic", "vendor=Company identification product_code=Product code XX firmware=V2.11"},
		{"6.21 regular and private objects", "2B 0E 04 03",
			"2B 0E 04 02 00 00 04 03 03" + hexText("x.y") + "04 01" + hexText("P") + "05 01" + hexText("M") + "80 02" + hexText("ab"),
			43, "read_device_identification", dissect.ClassDiscovery, dissect.StatusOK, 0, "",
			"", "mei_type=read_device_identification device_id_code=specific vendor_url=x.y object_0x80=ab", "product=P model=M"},
		{"6.19 canopen general reference", "2B 0D 00 01", "2B 0D 00 01", 43, "canopen_general_reference", dissect.ClassOther, dissect.StatusOK, 0, "",
			"", "mei_type=canopen_general_reference", ""},
		{"7 exception", "01 04A1 0001", "81 02", 1, "read_coils", dissect.ClassRead, dissect.StatusError, 2, "illegal_data_address",
			"coil@1185+1", "", ""},
		{"7 gateway exception", "03 0000 0001", "83 0B", 3, "read_holding_registers", dissect.ClassRead, dissect.StatusError, 11, "gateway_target_device_failed_to_respond",
			"holding_register@0+1", "", ""},
		{"5.1 user-defined", "41 0102", "41 00", 65, "user_defined", dissect.ClassOther, dissect.StatusOK, 0, "",
			"", "", ""},
		{"annex A reserved", "09 00", "89 01", 9, "reserved", dissect.ClassOther, dissect.StatusError, 1, "illegal_function",
			"", "", ""},
		{"unknown", "30", "B0 01", 48, "unknown", dissect.ClassOther, dissect.StatusError, 1, "illegal_function",
			"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := []step{toServer(adu(t, 7, 1, tt.req))}
			if tt.resp != "" {
				steps = append(steps, toClient(adu(t, 7, 1, tt.resp)))
			}
			ops, err := run(t, flow502(), steps...)
			if err != nil || len(ops) != 1 {
				t.Fatalf("%d operations, error %v, want 1", len(ops), err)
			}
			op := ops[0]
			if op.FunctionCode != tt.fc || op.FunctionName != tt.fn || op.Class != tt.class {
				t.Errorf("function %d %s %s, want %d %s %s", op.FunctionCode, op.FunctionName, op.Class, tt.fc, tt.fn, tt.class)
			}
			if op.Result.Status != tt.status || op.Result.Code != tt.code || op.Result.Text != tt.text {
				t.Errorf("result %+v, want %v %d %q", op.Result, tt.status, tt.code, tt.text)
			}
			if !op.Request || op.Response != (tt.resp != "") {
				t.Errorf("request %v response %v", op.Request, op.Response)
			}
			if got := targets(op); got != tt.targets {
				t.Errorf("targets %q, want %q", got, tt.targets)
			}
			if got := attrs(op); got != tt.attrs {
				t.Errorf("attrs %q, want %q", got, tt.attrs)
			}
			if got := facts(op); got != tt.facts {
				t.Errorf("identity %q, want %q", got, tt.facts)
			}
			if op.Attr(attrUnit) != "1" {
				t.Errorf("unit_id %q, want 1", op.Attr(attrUnit))
			}
		})
	}
}

func hexText(s string) string { return fmt.Sprintf("%x", s) }

// TestUMAS checks function 90: the UMAS function byte after the session
// key names the operation and sets its class; 0xFD in the response is an
// error. Bytes from the corpus's umas capture (read_plc_info) and built for
// stop_plc.
func TestUMAS(t *testing.T) {
	tests := []struct {
		name, req, resp string
		umas            string
		class           dissect.Class
		status          dissect.Status
	}{
		{"read plc info", "5a 00 04", "5a 00 fe 02 8280", "read_plc_info", dissect.ClassDiscovery, dissect.StatusOK},
		{"stop plc", "5a 01 41 ff00", "5a 01 fe", "stop_plc", dissect.ClassControl, dissect.StatusOK},
		{"start plc refused", "5a 01 40 ff00", "5a 01 fd 00", "start_plc", dissect.ClassControl, dissect.StatusError},
		{"download block", "5a 00 34 0100 0200", "5a 00 fe", "download_block", dissect.ClassProgram, dissect.StatusOK},
		{"unknown function", "5a 00 99", "5a 00 fe", "0x99", dissect.ClassProgram, dissect.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := run(t, flow502(), toServer(adu(t, 3, 0, tt.req)), toClient(adu(t, 3, 0, tt.resp)))
			if err != nil || len(ops) != 1 {
				t.Fatalf("%d operations, error %v", len(ops), err)
			}
			op := ops[0]
			if op.FunctionCode != 90 || op.FunctionName != "umas" || op.Class != tt.class || op.Attr(attrUMAS) != tt.umas || op.Result.Status != tt.status {
				t.Errorf("got %d %s %s %s %v, want umas %s %s %v", op.FunctionCode, op.FunctionName, op.Class, op.Attr(attrUMAS), op.Result.Status, tt.class, tt.umas, tt.status)
			}
		})
	}
	// Schneider sends 261-byte ADUs (length 255) for function 90; they are
	// not malformed, while a public function that long is.
	long := "5a 00 0a 00" + strings.Repeat("54", 250)
	ops, _ := run(t, flow502(), toServer(adu(t, 1, 0, long)), toClient(adu(t, 1, 0, "5a 00 fe 00"+strings.Repeat("54", 250))))
	if len(ops) != 1 || ops[0].Result.Status != dissect.StatusOK {
		t.Errorf("UMAS ADU of 261 bytes: %+v", ops)
	}
	ops, _ = run(t, flow502(), toServer(adu(t, 1, 0, "10 0000 007D FA"+strings.Repeat("00", 250))))
	if len(ops) != 1 || ops[0].Result.Text != reasonOversize {
		t.Errorf("write multiple registers ADU of 263 bytes: %+v", ops[0].Result)
	}
}

// TestMalformed checks PDUs that violate the specification: each is one
// operation with a constant reason, and the session carries on where the
// framing allows.
func TestMalformed(t *testing.T) {
	tests := []struct {
		name   string
		steps  []step
		fn     string
		reason string
		err    error
	}{
		{"protocol id not 0 (implementation guide 3.1.3)", []step{toServer(dissecttest.Hex(t, "0001 0001 0006 01 03 0000 0001"))},
			"malformed", reasonProtocolID, errProtocolID},
		{"length over the frame limit", []step{toServer(dissecttest.Hex(t, "0001 0000 8804 05 07"))},
			"malformed", reasonFrame, errFrame},
		{"length without a function code", []step{toServer(dissecttest.Hex(t, "0001 0000 0001 01"))},
			"malformed", reasonLength, nil},
		{"read request too short (6.3)", []step{toServer(adu(t, 1, 1, "03 0000"))},
			"read_holding_registers", reasonPDULength, nil},
		{"read request too long (6.3)", []step{toServer(adu(t, 1, 1, "03 0000 0001 00"))},
			"read_holding_registers", reasonPDULength, nil},
		{"function code 0 (4.1)", []step{toServer(adu(t, 1, 1, "00 0000"))},
			"unknown", reasonFunction, nil},
		{"exception bit in a request (4.1)", []step{toServer(adu(t, 1, 1, "83 0000 0001"))},
			"unknown", reasonFunction, nil},
		{"byte count differs from data (6.12)", []step{toServer(adu(t, 1, 1, "10 0001 0002 06 000A 0102"))},
			"write_multiple_registers", reasonByteCount, nil},
		{"byte count differs from quantity (6.11)", []step{toServer(adu(t, 1, 1, "0F 0013 0011 02 CD01"))},
			"write_multiple_coils", reasonQuantity, nil},
		{"response count differs from quantity (6.3)", []step{toServer(adu(t, 1, 1, "03 0000 0002")), toClient(adu(t, 1, 1, "03 02 0001"))},
			"read_holding_registers", reasonQuantity, nil},
		{"odd register byte count (6.4)", []step{toClient(adu(t, 1, 1, "04 03 000102"))},
			"read_input_registers", reasonByteCount, nil},
		{"file reference type (6.14)", []step{toServer(adu(t, 1, 1, "14 07 05 0004 0001 0002"))},
			"read_file_record", reasonReference, nil},
		{"device id objects overrun (6.21)", []step{toClient(adu(t, 1, 1, "2B 0E 01 01 00 00 02 00 05 414243"))},
			"read_device_identification", reasonObjects, nil},
		{"mask write too short (6.16)", []step{toServer(adu(t, 1, 1, "16 0000 0000"))},
			"mask_write_register", reasonPDULength, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := run(t, flow502(), tt.steps...)
			if !errors.Is(err, tt.err) {
				t.Errorf("error %v, want %v", err, tt.err)
			}
			if len(ops) != 1 {
				t.Fatalf("%d operations, want 1", len(ops))
			}
			op := ops[0]
			if op.FunctionName != tt.fn || op.Result.Status != dissect.StatusMalformed || op.Result.Text != tt.reason {
				t.Errorf("%s %v %q, want %s malformed %q", op.FunctionName, op.Result.Status, op.Result.Text, tt.fn, tt.reason)
			}
		})
	}

	// A malformed request answered by an exception keeps the exception.
	ops, _ := run(t, flow502(), toServer(adu(t, 1, 1, "06 0000 0000 0000")), toClient(adu(t, 1, 1, "86 03")))
	if len(ops) != 1 || ops[0].Result.Code != 3 || ops[0].Attr(attrException) != "illegal_data_value" || ops[0].Result.Status != dissect.StatusMalformed {
		t.Errorf("malformed request with exception: %+v", ops)
	}
	// After an ADU whose length holds no PDU, the next one is decoded.
	ops, err := run(t, flow502(), toServer(append(dissecttest.Hex(t, "0001 0000 0000"), adu(t, 2, 1, "03 0000 0001")...)), toClient(adu(t, 2, 1, "03 02 0001")))
	if err != nil || len(ops) != 2 || ops[1].FunctionName != "read_holding_registers" || ops[1].Result.Status != dissect.StatusOK {
		t.Errorf("after a short ADU: %v %v", ops, err)
	}
}

// TestFraming checks the Feed contract: several ADUs in one segment, an
// ADU split across segments, pipelined requests answered out of order
// (implementation guide 4.2.1: responses are matched by transaction id).
func TestFraming(t *testing.T) {
	reqs := slices.Concat(adu(t, 1, 1, "03 0000 0001"), adu(t, 2, 1, "04 0010 0002"), adu(t, 3, 1, "01 0000 0008"))
	resps := slices.Concat(adu(t, 3, 1, "01 01 FF"), adu(t, 1, 1, "03 02 0001"), adu(t, 2, 1, "84 02"))
	check := func(t *testing.T, ops []*dissect.Operation, err error) {
		t.Helper()
		if err != nil || len(ops) != 3 {
			t.Fatalf("%d operations, error %v", len(ops), err)
		}
		want := []string{"read_coils ok coil@0+8", "read_holding_registers ok holding_register@0+1", "read_input_registers error input_register@16+2"}
		for i, op := range ops {
			if got := op.FunctionName + " " + op.Result.Status.String() + " " + targets(op); got != want[i] || !op.Request || !op.Response {
				t.Errorf("operation %d: %s, want %s", i, got, want[i])
			}
		}
	}
	t.Run("whole segments", func(t *testing.T) {
		ops, err := run(t, flow502(), toServer(reqs), toClient(resps))
		check(t, ops, err)
	})
	t.Run("byte by byte", func(t *testing.T) {
		var steps []step
		for i := range reqs {
			steps = append(steps, toServer(reqs[i:i+1]))
		}
		for i := range resps {
			steps = append(steps, toClient(resps[i:i+1]))
		}
		ops, err := run(t, flow502(), steps...)
		check(t, ops, err)
	})
}

// TestPairing checks requests without a response: emitted at Close, when
// their transaction id is reused, when the table of outstanding requests
// is full and when the pairing window has passed; and a response without
// its request, whose echo names the target.
func TestPairing(t *testing.T) {
	t.Run("close", func(t *testing.T) {
		ops, _ := run(t, flow502(), toServer(adu(t, 1, 1, "03 0000 0001")))
		if len(ops) != 1 || !ops[0].Request || ops[0].Response || ops[0].Result.Status != dissect.StatusUnknown {
			t.Errorf("%+v", ops)
		}
	})
	t.Run("transaction id reused", func(t *testing.T) {
		ops, _ := run(t, flow502(), toServer(adu(t, 0, 1, "03 0000 0001")), toServer(adu(t, 0, 1, "03 0005 0001")), toClient(adu(t, 0, 1, "03 02 0001")))
		if len(ops) != 2 || ops[0].Response || ops[0].Targets[0].Address != 0 || !ops[1].Response || ops[1].Targets[0].Address != 5 {
			t.Errorf("%+v", ops)
		}
	})
	t.Run("table full", func(t *testing.T) {
		var steps []step
		for i := range maxPending + 1 {
			steps = append(steps, toServer(adu(t, uint16(i), 1, "03 0000 0001")))
		}
		steps = append(steps, toClient(adu(t, 0, 1, "03 02 0001")))
		ops, _ := run(t, flow502(), steps...)
		// Request 0 leaves the table for request 16, so the response to
		// transaction 0 finds no request.
		if len(ops) != maxPending+2 || ops[0].Response || ops[1].Request || !ops[1].Response {
			t.Fatalf("%d operations: %+v %+v", len(ops), ops[0], ops[1])
		}
	})
	t.Run("pairing window", func(t *testing.T) {
		var c dissecttest.Collector
		f := flow502()
		ctx := dissecttest.Context(f, &c)
		s := Dissector{}.NewSession(f)
		s.Feed(dissect.ToServer, adu(t, 1, 1, "03 0000 0001"), ctx)
		ctx.Time = ctx.Time.Add(pairTimeout + time.Second)
		s.Feed(dissect.ToServer, adu(t, 2, 1, "03 0000 0001"), ctx)
		if len(c.Ops) != 1 || c.Ops[0].Response || !c.Ops[0].Time.Equal(dissecttest.Start) {
			t.Errorf("%+v", c.Ops)
		}
	})
	t.Run("response without request", func(t *testing.T) {
		ops, _ := run(t, flow502(), toClient(adu(t, 9, 1, "06 0001 0003")))
		if len(ops) != 1 || ops[0].Request || !ops[0].Response || targets(ops[0]) != "holding_register@1+1" || ops[0].Attr(attrValue) != "3" {
			t.Errorf("%+v", ops)
		}
	})
	t.Run("packets", func(t *testing.T) {
		var c dissecttest.Collector
		f := flow502()
		ctx := dissecttest.Context(f, &c)
		s := Dissector{}.NewSession(f)
		ctx.Packet = dissect.PacketRef{Flow: 1, Index: 3, Frame: 10}
		s.Feed(dissect.ToServer, adu(t, 1, 1, "03 0000 0001"), ctx)
		ctx.Packet = dissect.PacketRef{Flow: 1, Index: 4, Frame: 11}
		s.Feed(dissect.ToClient, adu(t, 1, 1, "03 02 0001"), ctx)
		if len(c.Ops) != 1 || !slices.Equal(c.Ops[0].Packets, []dissect.PacketRef{{Flow: 1, Index: 4, Frame: 11}, {Flow: 1, Index: 3, Frame: 10}}) {
			t.Errorf("%+v", c.Ops)
		}
	})
}

// TestReversedRoles checks a connection opened from port 502: the side on
// 502 is still the Modbus server, so its bytes are responses and the
// operation's endpoints name it as the server.
func TestReversedRoles(t *testing.T) {
	f := flow502()
	f.Client, f.Server = f.Server, f.Client // the 502 side sent the SYN
	ops, err := run(t, f, toClient(adu(t, 1, 10, "01 0000 0001")), toServer(adu(t, 1, 10, "81 06")))
	if err != nil || len(ops) != 1 {
		t.Fatalf("%d operations, error %v", len(ops), err)
	}
	op := ops[0]
	if !op.Request || !op.Response || op.Result.Text != "server_device_busy" || op.Server.Port != Port || op.Client.Port == Port {
		t.Errorf("%+v", op)
	}
}

// TestGap checks resynchronisation after lost bytes: the partial ADU is
// dropped and decoding resumes at the next plausible MBAP header.
func TestGap(t *testing.T) {
	var c dissecttest.Collector
	f := flow502()
	ctx := dissecttest.Context(f, &c)
	s := Dissector{}.NewSession(f)
	s.Feed(dissect.ToServer, adu(t, 1, 1, "03 0000 0001"), ctx)
	s.Gap(dissect.ToClient, 5, ctx)
	// The tail of a lost response, then a whole one.
	data := append(dissecttest.Hex(t, "0102 0304"), adu(t, 1, 1, "03 02 0007")...)
	n, err := s.Feed(dissect.ToClient, data, ctx)
	if err != nil || n != len(data) || len(c.Ops) != 1 || c.Ops[0].Result.Status != dissect.StatusOK {
		t.Errorf("n %d err %v ops %+v", n, err, c.Ops)
	}
}

// TestProbe checks the content probe used on ports nobody claims.
func TestProbe(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"read holding registers", adu(t, 1, 1, "03 0000 0001"), true},
		{"umas", adu(t, 1, 0, "5a 00 02"), true},
		{"exception response", adu(t, 1, 10, "81 06"), true},
		{"unknown exception code", adu(t, 1, 10, "81 07"), false},
		{"protocol id not 0", dissecttest.Hex(t, "0001 0001 0006 01 03 0000 0001"), false},
		{"length beyond payload", dissecttest.Hex(t, "0001 0000 0009 01 03 0000 0001"), false},
		{"length 1", dissecttest.Hex(t, "0001 0000 0001 01 03"), false},
		{"reserved unit id", adu(t, 1, 250, "03 0000 0001"), false},
		{"user-defined function", adu(t, 1, 1, "41 00"), false},
		{"short", dissecttest.Hex(t, "0001 0000 0002"), false},
		{"http", []byte("GET / HTTP/1.1\r\n\r\n"), false},
	}
	for _, tt := range tests {
		if got := (Dissector{}).Probe(tt.in); got != tt.want {
			t.Errorf("%s: Probe = %v, want %v", tt.name, got, tt.want)
		}
	}
	if d := dissect.ByPort(dissect.TCP(Port)); d == nil || d.Name() != "modbus" {
		t.Errorf("TCP 502 is not registered to modbus: %v", d)
	}
}

// TestAllocations pins the polling path: a read request and its response
// allocate nothing once the session and the scratch operation exist.
func TestAllocations(t *testing.T) {
	f := flow502()
	ctx := dissecttest.Context(f, dissecttest.Discard)
	s := Dissector{}.NewSession(f)
	req, resp := adu(t, 1, 1, "03 0000 000A"), adu(t, 1, 1, "03 14"+strings.Repeat("0001", 10))
	exc := adu(t, 1, 1, "83 02")
	s.Feed(dissect.ToServer, req, ctx)
	s.Feed(dissect.ToClient, resp, ctx)
	if n := testing.AllocsPerRun(100, func() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, resp, ctx)
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, exc, ctx)
	}); n != 0 {
		t.Errorf("%v allocations per read pair, want 0", n)
	}
}

// BenchmarkFeed measures a Read Holding Registers poll of 10 registers:
// request and response, one ADU per Feed as reassembly delivers them.
func BenchmarkFeed(b *testing.B) {
	f := flow502()
	ctx := dissecttest.Context(f, dissecttest.Discard)
	s := Dissector{}.NewSession(f)
	req, resp := adu(b, 1, 1, "03 0000 000A"), adu(b, 1, 1, "03 14"+strings.Repeat("0001", 10))
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, resp, ctx)
	}
}

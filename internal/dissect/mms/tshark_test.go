package mms_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
	"github.com/otwatch/otwatch/internal/dissect/mms"
	_ "github.com/otwatch/otwatch/internal/dissect/s7comm" // the port 102 front end
	"github.com/otwatch/otwatch/internal/testenv"
)

// conversation turns TSDUs into a TCP conversation on port 102: COTP CR
// and CC, then each TSDU in DT TPDUs of at most dtMax octets.
func conversation(clientPort uint16, dtMax int, ex []exchange) dissecttest.Conversation {
	msgs := []dissecttest.Message{dissecttest.C2S(string(crFrame)), dissecttest.S2C(string(ccFrame))}
	for _, e := range ex {
		msgs = append(msgs, dissecttest.Message{ToServer: e.toServer, Data: string(frames(e.tsdu, dtMax))})
	}
	return dissecttest.Conversation{
		Client: netip.AddrPortFrom(netip.MustParseAddr("10.10.1.20"), clientPort),
		Server: netip.MustParseAddrPort("10.10.2.10:102"),
		Msgs:   msgs,
	}
}

// s7Conversation is an S7comm connection on the same port: CR/CC with
// S7 TSAPs, setup communication and a read var (frames as in the s7comm
// package's tests, after the Wireshark S7comm dissector's layouts).
func s7Conversation(clientPort uint16) dissecttest.Conversation {
	return dissecttest.Conversation{
		Client: netip.AddrPortFrom(netip.MustParseAddr("10.10.1.20"), clientPort),
		Server: netip.MustParseAddrPort("10.10.2.10:102"),
		Msgs: []dissecttest.Message{
			dissecttest.C2S(string(h("03 00 0016 11 e0 0000 0001 00 c0 01 0a c1 02 0100 c2 02 0102"))),
			dissecttest.S2C(string(h("03 00 0016 11 d0 0001 0044 00 c0 01 0a c1 02 0100 c2 02 0102"))),
			dissecttest.C2S(string(h("03 00 0019 02 f0 80 32 01 0000 0100 0008 0000 f0 00 0001 0001 01e0"))),
			dissecttest.S2C(string(h("03 00 001b 02 f0 80 32 03 0000 0100 0008 0000 00 00 f0 00 0001 0001 00f0"))),
			dissecttest.C2S(string(h("03 00 001f 02 f0 80 32 01 0000 0200 000e 0000 04 01 12 0a 10 04 0001 0001 84 000020"))),
			dissecttest.S2C(string(h("03 00 001b 02 f0 80 32 03 0000 0200 0002 0006 00 00 04 01 ff 04 0010 1234"))),
		},
	}
}

// seen is one MMS PDU as the decoder reported it.
type seen struct {
	pdu      int
	invokeID uint32
	service  uint32
}

// TestTshark writes an IEC 61850 client session (every service of
// scenario, a getNameList answer spread over three DT TPDUs and two TCP
// segments) and an S7comm connection on the same port into a capture, and
// compares what tshark's mms dissector says frame by frame with the
// operations: confirmedServiceRequest/Response, invokeID (the request and
// the answer folded into one operation carry the same), domainId/itemId
// of the targets, identify strings, error classes, unconfirmed services.
func TestTshark(t *testing.T) {
	testenv.Program(t, "tshark", "tshark")
	path := dissecttest.WriteTCP(t, conversation(50000, 1017, scenario()), s7Conversation(50001))

	var decoded []seen
	defer mms.SetPDUSeen(func(pdu int, id, svc uint32) {
		decoded = append(decoded, seen{pdu: pdu, invokeID: id, service: svc})
	})()
	ops := dissecttest.Operations(t, path, mms.Protocol, "s7comm", "cotp").Ops

	fields := []string{"frame.number", "mms.confirmedServiceRequest", "mms.confirmedServiceResponse", "mms.invokeID",
		"mms.domainId", "mms.itemId", "mms.vendorName", "mms.modelName", "mms.revision", "mms.unconfirmedService",
		"mms.errorClass", "mms.rejectReason", "s7comm.param.func"}
	rows := dissecttest.TsharkFields(t, path, []string{"-Y", "mms || s7comm"}, fields...)
	byFrame := map[uint64]map[string][]string{}
	for _, r := range rows {
		n, _ := strconv.ParseUint(r["frame.number"][0], 10, 64)
		byFrame[n] = r
	}
	first := func(r map[string][]string, f string) string {
		if len(r[f]) == 0 {
			return ""
		}
		return r[f][0]
	}

	// 1. The invokeIDs and services decoded, in order, are tshark's.
	var want []string
	for _, r := range rows {
		switch {
		case first(r, "mms.confirmedServiceRequest") != "":
			want = append(want, "req "+first(r, "mms.invokeID")+" "+first(r, "mms.confirmedServiceRequest"))
		case first(r, "mms.confirmedServiceResponse") != "":
			want = append(want, "resp "+first(r, "mms.invokeID")+" "+first(r, "mms.confirmedServiceResponse"))
		case first(r, "mms.errorClass") != "":
			want = append(want, "err "+first(r, "mms.invokeID"))
		case first(r, "mms.unconfirmedService") != "":
			want = append(want, "unconfirmed "+first(r, "mms.unconfirmedService"))
		}
	}
	var got []string
	for _, d := range decoded {
		switch d.pdu {
		case 0:
			got = append(got, fmt.Sprintf("req %d %d", d.invokeID, d.service))
		case 1:
			got = append(got, fmt.Sprintf("resp %d %d", d.invokeID, d.service))
		case 2:
			got = append(got, fmt.Sprintf("err %d", d.invokeID))
		case 3:
			got = append(got, fmt.Sprintf("unconfirmed %d", d.service))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("PDUs decoded:\n%s\ntshark:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// 2. Each operation against the frames it names.
	covered := map[uint64]bool{}
	nmms, ns7 := 0, 0
	for _, op := range ops {
		switch op.Protocol {
		case "s7comm":
			ns7++
			for _, p := range op.Packets {
				if f := first(byFrame[p.Frame], "s7comm.param.func"); f != fmt.Sprintf("0x%02x", op.FunctionCode) {
					t.Errorf("s7comm %s in frame %d: tshark func %q", op.FunctionName, p.Frame, f)
				}
			}
			continue
		case "cotp":
			continue
		}
		nmms++
		if op.Result.Status == dissect.StatusMalformed {
			t.Errorf("malformed operation where tshark saw none: %+v", op)
			continue
		}
		var reqRow, respRow map[string][]string
		for _, p := range op.Packets {
			r := byFrame[p.Frame]
			switch {
			case first(r, "mms.confirmedServiceRequest") != "":
				reqRow = r
				covered[p.Frame] = true
			case r != nil:
				respRow = r
				covered[p.Frame] = true
			}
		}
		code := strconv.Itoa(op.FunctionCode)
		if op.FunctionCode < 0x100 {
			if reqRow == nil || first(reqRow, "mms.confirmedServiceRequest") != code {
				t.Errorf("%s (%d): request frame %v", op.FunctionName, op.FunctionCode, reqRow)
				continue
			}
			switch {
			case op.Attr("reject") != "":
				// tshark names the reject's choice, 1 = confirmed-requestPDU.
				if first(respRow, "mms.rejectReason") != "1" || op.Result.Code>>8 != 1 {
					t.Errorf("%s: reject %v, result %+v", op.FunctionName, respRow, op.Result)
				}
			case op.Attr("error_class") != "":
				if first(respRow, "mms.errorClass") != strconv.Itoa(op.Result.Code>>8) ||
					first(respRow, "mms.invokeID") != first(reqRow, "mms.invokeID") {
					t.Errorf("%s: error frame %v, result %+v", op.FunctionName, respRow, op.Result)
				}
			default:
				if first(respRow, "mms.confirmedServiceResponse") != code ||
					first(respRow, "mms.invokeID") != first(reqRow, "mms.invokeID") {
					t.Errorf("%s: request %v paired with response %v", op.FunctionName, reqRow, respRow)
				}
			}
			// Variable and list names: tshark's domainId/itemId pairs.
			var names []string
			for i, item := range reqRow["mms.itemId"] {
				if i < len(reqRow["mms.domainId"]) {
					names = append(names, reqRow["mms.domainId"][i]+"/"+item)
				}
			}
			var tnames []string
			for _, tg := range op.Targets {
				if tg.Kind == "variable" || tg.Kind == "variable_list" {
					tnames = append(tnames, tg.Name)
				}
			}
			if !slices.Equal(names, tnames) {
				t.Errorf("%s: targets %v, tshark %v", op.FunctionName, tnames, names)
			}
			if op.FunctionName == "identify" {
				for f, k := range map[string]string{"mms.vendorName": dissect.FactVendor, "mms.modelName": dissect.FactModel, "mms.revision": dissect.FactFirmware} {
					if v := dissecttest.Fact(op, k); v != first(respRow, f) || v == "" {
						t.Errorf("identify: %s %q, tshark %s %q", k, v, f, first(respRow, f))
					}
				}
			}
		}
		if op.FunctionCode >= 0x200 && op.FunctionCode < 0x300 {
			if respRow == nil || first(respRow, "mms.unconfirmedService") != strconv.Itoa(op.FunctionCode-0x200) {
				t.Errorf("%s: frame %v", op.FunctionName, respRow)
			}
		}
	}
	for _, r := range rows {
		n, _ := strconv.ParseUint(r["frame.number"][0], 10, 64)
		if (first(r, "mms.confirmedServiceRequest") != "" || first(r, "mms.confirmedServiceResponse") != "") && !covered[n] {
			t.Errorf("frame %d (%v) is in no operation", n, r)
		}
	}
	// 21 confirmed services, the initiate, the report, conclude and
	// release; the S7 connection keeps its two S7comm operations.
	if nmms != 25 || ns7 != 2 {
		t.Errorf("%d mms and %d s7comm operations, want 25 and 2", nmms, ns7)
	}
}

package profinet

import (
	"strings"
	"testing"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/dissecttest"
)

// rpcHeader returns a connectionless DCE/RPC header (DCE 1.1 RPC, 12.5.1)
// in little-endian data representation (drep 0x10): ptype, flags1, the
// PNIO device interface DEA00001-6C97-11D1-8271-00A02442DF7D, activity
// 11..11, sequence number seq, opnum and a body of bodyLen bytes.
func rpcHdr(ptype, flags1, seq, opnum, bodyLen, fragNum string) string {
	return "04 " + ptype + " " + flags1 + " 00 | 10 00 00 | 00" +
		"| 00000000000000000000000000000000" + // object UUID
		"| 0100a0de 976c d111 8271 00a02442df7d" + // interface UUID, NDR little-endian
		"| 11111111111111111111111111111111" + // activity UUID
		"| 00000000 | 01000000 | " + seq + " | " + opnum + " | ffff ffff | " + bodyLen + " | " + fragNum + " | 00 00"
}

// Read request for I&M0 (index 0xAFF0) of slot 0 subslot 1: NDR header
// (ArgsMaximum, ArgsLength, MaximumCount, Offset, ActualCount) and an
// IODReadReqHeader block (0x0009, length 60, version 1.0; SeqNumber,
// ARUUID, API, Slot, Subslot, padding, Index, RecordDataLength,
// RWPadding) (IEC 61158-6-10).
var (
	readIM0Req = rpcHdr("00", "20", "07000000", "0200", "5400", "0000") +
		"| 00100000 40000000 00100000 00000000 40000000" +
		"| 0009 003c 0100 0001 00000000000000000000000000000000 00000000 0000 0001 0000 aff0 00001000" +
		"| 000000000000000000000000000000000000000000000000"
	// Read response: PNIOStatus 0, NDR lengths, IODReadResHeader (0x8009,
	// RecordDataLength 60, AdditionalValue1/2, RWPadding), then the I&M0
	// block (0x0020, length 56): VendorID 0x002A, OrderID
	// "6ES7 315-2EH14-0AB0 ", IM_Serial_Number "S C-X4U421302009",
	// IM_Hardware_Revision 5, IM_Software_Revision V3.2.1,
	// IM_Revision_Counter, IM_Profile_ID, IM_Profile_Specific_Type,
	// IM_Version 1.1, IM_Supported 0x001E.
	readIM0Res = rpcHdr("02", "0a", "07000000", "0200", "9000", "0000") +
		"| 00000000 7c000000 00100000 00000000 7c000000" +
		"| 8009 003c 0100 0001 00000000000000000000000000000000 00000000 0000 0001 0000 aff0 0000003c 0000 0000" +
		"| 0000000000000000000000000000000000000000" +
		"| 0020 0038 0100 002a 36455337203331352d32454831342d3041423020 5320432d583455343231333032303039" +
		"| 0005 56 03 02 01 0000 0000 0000 0101 001e"
	// Write request of record 0x8071 with 4 bytes of data, and an error
	// response (PNIOStatus DF 80 B0 00: IODWriteRes, access, invalid
	// index).
	writeReq = rpcHdr("00", "20", "08000000", "0300", "5800", "0000") +
		"| 00100000 44000000 00100000 00000000 44000000" +
		"| 0008 003c 0100 0002 00000000000000000000000000000000 00000000 0000 8000 0000 8071 00000004" +
		"| 000000000000000000000000000000000000000000000000 | 01020304"
	writeErr = rpcHdr("02", "0a", "08000000", "0300", "1400", "0000") +
		"| df80b000 00000000 00100000 00000000 00000000"
	// Connect request whose body is not decoded further.
	connectReq = rpcHdr("00", "20", "09000000", "0000", "1400", "0000") +
		"| 00100000 00000000 00100000 00000000 00000000"
)

func cmOps(t *testing.T, in ...struct {
	dir dissect.Direction
	hex string
}) []*dissect.Operation {
	t.Helper()
	flow := dissecttest.Flow(dissect.TransportUDP, CMPort)
	var c dissecttest.Collector
	ctx := dissecttest.Context(flow, &c)
	s := CMDissector{}.NewSession(flow)
	for i, p := range in {
		ctx.Packet.Frame = uint64(i + 1)
		if _, err := s.Feed(p.dir, dissecttest.Hex(t, p.hex), ctx); err != nil {
			t.Fatal(err)
		}
	}
	s.Close(ctx)
	return c.Ops
}

type pdu = struct {
	dir dissect.Direction
	hex string
}

func TestCMRead(t *testing.T) {
	ops := cmOps(t, pdu{dissect.ToServer, readIM0Req}, pdu{dissect.ToClient, readIM0Res})
	if len(ops) != 1 {
		t.Fatalf("%d ops", len(ops))
	}
	op := ops[0]
	if op.FunctionName != "read" || op.FunctionCode != 2 || op.Class != dissect.ClassRead || !op.Request || !op.Response ||
		op.Result.Status != dissect.StatusOK || len(op.Packets) != 2 {
		t.Errorf("op %+v", op)
	}
	if got := targets(op); got != "record:im0:0xaff0 " {
		t.Errorf("targets %q", got)
	}
	want := "vendor_id=42/true model=6ES7 315-2EH14-0AB0/true serial=S C-X4U421302009/true hardware=5/true firmware=V3.2.1/true "
	if got := facts(op); got != want {
		t.Errorf("facts %q, want %q", got, want)
	}
}

func TestCMWriteError(t *testing.T) {
	ops := cmOps(t, pdu{dissect.ToServer, writeReq}, pdu{dissect.ToClient, writeErr})
	if len(ops) != 1 {
		t.Fatalf("%d ops", len(ops))
	}
	op := ops[0]
	if op.FunctionName != "write" || op.Class != dissect.ClassWrite || op.Result.Status != dissect.StatusError ||
		op.Result.Code != 0xdf80b000 || op.Result.Text != "iod_write_res" || targets(op) != "record:subslot_record:0x8071 " {
		t.Errorf("op %s %v %+v %s", op.FunctionName, op.Class, op.Result, targets(op))
	}
}

func TestCMUnansweredAndSwapped(t *testing.T) {
	// An unanswered connect is reported at Close; a response arriving in
	// the direction of the flow's server (the RPC server answered from
	// another port, so it opened this flow) has its endpoints swapped.
	ops := cmOps(t, pdu{dissect.ToServer, connectReq}, pdu{dissect.ToServer, readIM0Res})
	if len(ops) != 2 {
		t.Fatalf("%d ops", len(ops))
	}
	if ops[0].FunctionName != "read" || ops[0].Request || !ops[0].Response || ops[0].Server.Port != 50000 {
		t.Errorf("response %+v", ops[0])
	}
	if ops[1].FunctionName != "connect" || ops[1].Class != dissect.ClassControl || !ops[1].Request || ops[1].Response ||
		ops[1].Server.Port != CMPort {
		t.Errorf("connect %+v", ops[1])
	}
}

func TestCMFragments(t *testing.T) {
	// The read request split in two fragments (flags1 0x04 fragment,
	// 0x02 last fragment) decodes as the whole request.
	whole := dissecttest.Hex(t, readIM0Req)[80:]
	h := func(flags, n, frag string, body []byte) string {
		return rpcHdr("00", flags, "07000000", "0200", n, frag) + "|" + hexOf(body)
	}
	ops := cmOps(t, pdu{dissect.ToServer, h("24", "2a00", "0000", whole[:42])},
		pdu{dissect.ToServer, h("26", "2a00", "0100", whole[42:])}, pdu{dissect.ToClient, readIM0Res})
	if len(ops) != 1 || !ops[0].Request || targets(ops[0]) != "record:im0:0xaff0 " || len(ops[0].Packets) != 2 {
		t.Errorf("ops %v", ops)
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

func TestCMProbe(t *testing.T) {
	d := CMDissector{}
	if !d.Probe(dissecttest.Hex(t, readIM0Req)) || !d.Probe(dissecttest.Hex(t, readIM0Res)) {
		t.Error("PNIO request/response not recognised")
	}
	epm := strings.Replace(readIM0Req, "0100a0de 976c d111 8271 00a02442df7d", "0883afe1 1f5d c911 91a4 08002b14a0fa", 1)
	if d.Probe(dissecttest.Hex(t, epm)) || d.Probe(dissecttest.Hex(t, "05000b03")) || d.Probe(nil) {
		t.Error("non-PNIO payload accepted")
	}
}

func TestCMMalformed(t *testing.T) {
	ops := cmOps(t, pdu{dissect.ToServer, "0400"}, pdu{dissect.ToServer, "05000b0310000000"},
		pdu{dissect.ToServer, rpcHdr("00", "20", "07000000", "0200", "5400", "0000")})
	if len(ops) != 3 {
		t.Fatalf("%d ops", len(ops))
	}
	for i, want := range []error{errRPCShort, errRPCVersion, errRPCBody} {
		if ops[i].Result.Status != dissect.StatusMalformed || ops[i].Result.Text != want.Error() {
			t.Errorf("op %d: %+v, want %v", i, ops[i].Result, want)
		}
	}
}

func TestCMNoAlloc(t *testing.T) {
	flow := dissecttest.Flow(dissect.TransportUDP, CMPort)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := CMDissector{}.NewSession(flow)
	req, res := dissecttest.Hex(t, writeReq), dissecttest.Hex(t, writeErr)
	s.Feed(dissect.ToServer, req, ctx)
	s.Feed(dissect.ToClient, res, ctx)
	if n := testing.AllocsPerRun(1000, func() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, res, ctx)
	}); n != 0 {
		t.Errorf("write request/response: %v allocations, want 0", n)
	}
}

func BenchmarkCMWrite(b *testing.B) {
	flow := dissecttest.Flow(dissect.TransportUDP, CMPort)
	ctx := dissecttest.Context(flow, dissecttest.Discard)
	s := CMDissector{}.NewSession(flow)
	req, res := dissecttest.Hex(b, writeReq), dissecttest.Hex(b, writeErr)
	b.ReportAllocs()
	b.SetBytes(int64(len(req) + len(res)))
	for b.Loop() {
		s.Feed(dissect.ToServer, req, ctx)
		s.Feed(dissect.ToClient, res, ctx)
	}
}

func FuzzSession(f *testing.F) {
	dissecttest.SeedFromCorpus(f, "profinet", 40)
	for _, h := range []string{readIM0Req, readIM0Res, writeReq, writeErr, connectReq} {
		f.Add(dissecttest.Hex(f, h))
	}
	f.Add(append(dissecttest.Hex(f, readIM0Req), dissecttest.Hex(f, readIM0Res)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, cut := range []int{0, 1, 80, len(b) / 2} {
			dissecttest.FeedWholeAndSplit(t, CMDissector{}, dissect.ToServer, b, cut)
			dissecttest.FeedWholeAndSplit(t, CMDissector{}, dissect.ToClient, b, cut)
		}
		// As UDP: each input is one datagram.
		flow := dissecttest.Flow(dissect.TransportUDP, CMPort)
		ctx := dissecttest.Context(flow, dissecttest.Discard)
		s := CMDissector{}.NewSession(flow)
		s.Feed(dissect.ToServer, b, ctx)
		s.Feed(dissect.ToClient, b, ctx)
		s.Close(ctx)
	})
}

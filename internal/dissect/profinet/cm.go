package profinet

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"github.com/otwatch/otwatch/internal/dissect"
)

// DCE/RPC connectionless header (DCE 1.1 RPC, 12.5.1): 80 bytes.
const rpcHeaderLen = 80

// DCE/RPC connectionless packet types (DCE 1.1 RPC, 12.5.3.2).
const (
	ptRequest  = 0
	ptResponse = 2
	ptFault    = 3
	ptReject   = 6
)

// Connectionless flags1 bits.
const (
	flagLastFrag = 0x02
	flagFrag     = 0x04
)

// PNIO interface UUIDs (IEC 61158-6-10, "RPC interface UUID"): device,
// controller, supervisor and parameter server, DEA0000x-6C97-11D1-8271-
// 00A02442DF7D, as big-endian bytes.
var pnioUUIDSuffix = [...]byte{0x6c, 0x97, 0x11, 0xd1, 0x82, 0x71, 0x00, 0xa0, 0x24, 0x42, 0xdf, 0x7d}

var pnioInterfaceNames = [...]string{1: "pn_io_device", 2: "pn_io_controller", 3: "pn_io_supervisor", 4: "pn_io_parameter_server"}

// PNIO opnums (IEC 61158-6-10, "RPC operations").
const (
	opConnect      = 0
	opRelease      = 1
	opRead         = 2
	opWrite        = 3
	opControl      = 4
	opReadImplicit = 5
)

var opInfo = [...]struct {
	name  string
	class dissect.Class
}{
	opConnect:      {"connect", dissect.ClassControl},
	opRelease:      {"release", dissect.ClassControl},
	opRead:         {"read", dissect.ClassRead},
	opWrite:        {"write", dissect.ClassWrite},
	opControl:      {"control", dissect.ClassControl},
	opReadImplicit: {"read_implicit", dissect.ClassRead},
}

// Malformed DCE/RPC reasons.
var (
	errRPCShort   = errors.New("pn_io_cm: datagram shorter than the DCE/RPC header")
	errRPCVersion = errors.New("pn_io_cm: not DCE/RPC version 4")
	errRPCBody    = errors.New("pn_io_cm: fragment length past the end of the datagram")
	errNDR        = errors.New("pn_io_cm: PNIO arguments shorter than the NDR header")
)

// rpcHeader is the part of a connectionless DCE/RPC header in use here.
type rpcHeader struct {
	ptype    byte
	flags1   byte
	le       bool
	iface    [16]byte // interface UUID, big-endian byte order
	activity [16]byte // activity UUID, big-endian byte order
	seq      uint32
	opnum    uint16
	fragLen  int
	fragNum  uint16
}

// uuidBE returns a UUID in big-endian byte order from its NDR encoding.
func uuidBE(b []byte, le bool) [16]byte {
	var u [16]byte
	copy(u[:], b[:16])
	if le {
		u[0], u[1], u[2], u[3] = b[3], b[2], b[1], b[0]
		u[4], u[5] = b[5], b[4]
		u[6], u[7] = b[7], b[6]
	}
	return u
}

// parseRPC decodes a connectionless DCE/RPC header.
func parseRPC(b []byte) (rpcHeader, error) {
	var h rpcHeader
	if len(b) < 1 {
		return h, errRPCShort
	}
	if b[0] != 4 {
		return h, errRPCVersion
	}
	if len(b) < rpcHeaderLen {
		return h, errRPCShort
	}
	h.ptype = b[1] & 0x1f
	h.flags1 = b[2]
	h.le = b[4]&0x10 != 0
	var bo binary.ByteOrder = binary.BigEndian
	if h.le {
		bo = binary.LittleEndian
	}
	h.iface = uuidBE(b[24:40], h.le)
	h.activity = uuidBE(b[40:56], h.le)
	h.seq = bo.Uint32(b[64:])
	h.opnum = bo.Uint16(b[68:])
	h.fragLen = int(bo.Uint16(b[74:]))
	h.fragNum = bo.Uint16(b[76:])
	return h, nil
}

// pnioInterface returns 1..4 for a PNIO interface UUID, 0 otherwise.
func pnioInterface(u *[16]byte) int {
	if u[0] != 0xde || u[1] != 0xa0 || u[2] != 0 || u[3] < 1 || u[3] > 4 || [12]byte(u[4:]) != pnioUUIDSuffix {
		return 0
	}
	return int(u[3])
}

// CMDissector is the PROFINET IO context manager dissector (DCE/RPC over
// UDP).
type CMDissector struct{}

// Name returns "pn_io_cm".
func (CMDissector) Name() string { return "pn_io_cm" }

// Probe accepts a DCE/RPC version 4 request or response for a PNIO
// interface.
func (CMDissector) Probe(b []byte) bool {
	if len(b) < rpcHeaderLen || b[0] != 4 {
		return false
	}
	h, err := parseRPC(b)
	return err == nil && (h.ptype == ptRequest || h.ptype == ptResponse) && pnioInterface(&h.iface) != 0
}

// NewSession returns a session for one UDP flow.
func (CMDissector) NewSession(f *dissect.Flow) dissect.Session {
	return &cmSession{udp: f == nil || f.Transport == dissect.TransportUDP}
}

const cmPending = 16

// maxTargets is the number of record indices kept per call (a multiple
// write carries one per sub-write).
const maxTargets = 16

// cmRequest is a request waiting for its response.
type cmRequest struct {
	used     bool
	activity [16]byte
	seq      uint32
	opnum    uint16
	dir      dissect.Direction
	ref      dissect.PacketRef
	targets  [maxTargets]dissect.Target
	nTargets int
}

// maxReassembly bounds the body of a fragmented call kept for reassembly.
const maxReassembly = 64 << 10

// fragments reassembles the fragments of one call (DCE 1.1 RPC, 12.5.3.1:
// fragment numbers count up from 0, the last one carries lastfrag).
type fragments struct {
	on       bool
	activity [16]byte
	seq      uint32
	next     uint16
	body     []byte
}

// cmSession pairs the requests and responses of one flow.
type cmSession struct {
	udp  bool
	pend [cmPending]cmRequest
	next int
	frag [2]fragments
}

// Feed decodes DCE/RPC PDUs. Over UDP data is one datagram; over a stream
// (used by tests) whole PDUs are consumed and the rest left for later.
func (s *cmSession) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	used := 0
	for len(data) > 0 {
		h, err := parseRPC(data)
		if err == errRPCShort && !s.udp {
			return used, nil
		}
		if err == nil && rpcHeaderLen+h.fragLen > len(data) {
			if !s.udp {
				return used, nil
			}
			err = errRPCBody
		}
		if err != nil {
			op := s.op(ctx, dir, false)
			op.FunctionName = "dcerpc"
			op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
			ctx.Emit(op)
			if s.udp {
				return len(data) + used, nil
			}
			return used, err
		}
		n := rpcHeaderLen + h.fragLen
		s.pdu(dir, &h, data[rpcHeaderLen:n], ctx)
		used += n
		data = data[n:]
		if s.udp {
			break
		}
	}
	return used, nil
}

// op returns the scratch operation with client and server set for a PDU
// travelling in dir; a response travelling to the server means the flow's
// first sender was the RPC server.
func (s *cmSession) op(ctx *dissect.Context, dir dissect.Direction, fromServer bool) *dissect.Operation {
	op := ctx.Op("pn_io_cm")
	if fromServer == (dir == dissect.ToServer) {
		op.Client, op.Server = op.Server, op.Client
	}
	return op
}

// pdu handles one DCE/RPC PDU whose body is body.
func (s *cmSession) pdu(dir dissect.Direction, h *rpcHeader, body []byte, ctx *dissect.Context) {
	iface := pnioInterface(&h.iface)
	if iface == 0 {
		return // another interface (endpoint mapper lookups and the like)
	}
	if h.flags1&flagFrag != 0 {
		f := &s.frag[dir]
		switch {
		case h.fragNum == 0:
			f.on, f.activity, f.seq, f.next = true, h.activity, h.seq, 1
			f.body = append(f.body[:0], body...)
		case f.on && f.activity == h.activity && f.seq == h.seq && f.next == h.fragNum && len(f.body)+len(body) <= maxReassembly:
			f.next++
			f.body = append(f.body, body...)
		default:
			f.on = false // a fragment missing or out of order: the call is lost
			return
		}
		if h.flags1&flagLastFrag == 0 {
			return
		}
		f.on = false
		body = f.body
	}
	switch h.ptype {
	case ptRequest:
		s.request(dir, h, body, ctx)
	case ptResponse, ptFault, ptReject:
		s.response(dir, h, body, ctx)
	}
}

func (s *cmSession) request(dir dissect.Direction, h *rpcHeader, body []byte, ctx *dissect.Context) {
	r := &s.pend[s.next]
	if r.used {
		s.emitRequest(r, ctx) // the table is full: the oldest goes out unanswered
	}
	s.next = (s.next + 1) % cmPending
	*r = cmRequest{used: true, activity: h.activity, seq: h.seq, opnum: h.opnum, dir: dir, ref: ctx.Packet}
	if len(body) >= 20 {
		r.nTargets = recordTargets(r.targets[:], body[20:], h.opnum)
	}
}

func (s *cmSession) emitRequest(r *cmRequest, ctx *dissect.Context) {
	r.used = false
	op := s.op(ctx, r.dir, false)
	op.Packets = append(op.Packets[:0], r.ref)
	op.Request = true
	setOpnum(op, r.opnum)
	op.Targets = append(op.Targets, r.targets[:r.nTargets]...)
	ctx.Emit(op)
}

func (s *cmSession) response(dir dissect.Direction, h *rpcHeader, body []byte, ctx *dissect.Context) {
	op := s.op(ctx, dir, true)
	op.Response = true
	opnum := h.opnum
	for i := range s.pend {
		r := &s.pend[i]
		if r.used && r.seq == h.seq && r.activity == h.activity {
			r.used = false
			op.Request = true
			op.Packets = append(op.Packets, r.ref)
			op.Targets = append(op.Targets, r.targets[:r.nTargets]...)
			opnum = r.opnum
			break
		}
	}
	setOpnum(op, opnum)
	switch h.ptype {
	case ptFault, ptReject:
		op.Result = dissect.Result{Status: dissect.StatusError, Text: "rpc_fault"}
		if h.ptype == ptReject {
			op.Result.Text = "rpc_reject"
		}
		if len(body) >= 4 {
			op.Result.Code = int(binary.LittleEndian.Uint32(body))
			if !h.le {
				op.Result.Code = int(binary.BigEndian.Uint32(body))
			}
		}
		ctx.Emit(op)
		return
	}
	if len(body) < 20 {
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: errNDR.Error()}
		ctx.Emit(op)
		return
	}
	op.Result = pnioStatus(body)
	if !op.Request {
		var t [maxTargets]dissect.Target
		n := recordTargets(t[:], body[20:], opnum)
		op.Targets = append(op.Targets, t[:n]...)
	}
	if opnum == opRead || opnum == opReadImplicit {
		readFacts(op, body[20:])
	}
	ctx.Emit(op)
}

// setOpnum names the operation after its opnum.
func setOpnum(op *dissect.Operation, opnum uint16) {
	op.FunctionCode = int(opnum)
	if int(opnum) < len(opInfo) {
		op.FunctionName = opInfo[opnum].name
		op.Class = opInfo[opnum].class
		return
	}
	op.FunctionName = "reserved"
	op.Class = dissect.ClassOther
}

// Gap is a no-op: each datagram stands alone.
func (s *cmSession) Gap(dissect.Direction, int, *dissect.Context) {}

// Close reports requests never answered.
func (s *cmSession) Close(ctx *dissect.Context) {
	for i := range s.pend {
		j := (s.next + i) % cmPending
		if s.pend[j].used {
			s.emitRequest(&s.pend[j], ctx)
		}
	}
}

// PNIO block types of record headers (IEC 61158-6-10, "BlockType").
const (
	blockWriteReq = 0x0008
	blockReadReq  = 0x0009
	blockWriteRes = 0x8008
	blockReadRes  = 0x8009
	blockIM0      = 0x0020
)

// recordTargets puts the record index of each IODReadReqHeader or
// IODWriteReqHeader block (and the 0x8008/0x8009 response headers) of a
// PNIO argument list into t and returns how many it filled. The index is
// at offset 28 of the block body: SeqNumber, ARUUID, API, SlotNumber,
// SubslotNumber, padding, Index.
func recordTargets(t []dissect.Target, b []byte, opnum uint16) int {
	if opnum != opRead && opnum != opWrite && opnum != opReadImplicit {
		return 0
	}
	n := 0
	for len(b) >= 6 && n < len(t) {
		typ := binary.BigEndian.Uint16(b)
		l := int(binary.BigEndian.Uint16(b[2:]))
		if l < 2 || 4+l > len(b) {
			break
		}
		body := b[6 : 4+l]
		switch typ {
		case blockWriteReq, blockReadReq, blockWriteRes, blockReadRes:
			if len(body) < 36 {
				return n
			}
			idx := binary.BigEndian.Uint16(body[28:])
			t[n] = dissect.Target{Kind: "record", Name: indexName(idx), Address: uint32(idx)}
			n++
			if typ == blockReadReq || typ == blockReadRes {
				return n // one record per read; the record data follows
			}
			b = b[4+l:]
			if typ == blockWriteRes || idx == 0xe040 {
				// A write response carries no data; a multiple write
				// header is followed by its sub-writes.
				continue
			}
			// Skip the record data and the padding to a multiple of four.
			dl := int(binary.BigEndian.Uint32(body[30:]))
			if dl > len(b) {
				return n
			}
			b = b[dl:]
			if pad := (4 + l + dl) & 3; pad != 0 && len(b) >= 4-pad {
				b = b[4-pad:]
			}
		default:
			return n
		}
	}
	return n
}

// indexName names well-known record indices (IEC 61158-6-10, "Index").
func indexName(idx uint16) string {
	switch {
	case idx >= 0xaff0 && idx <= 0xafff:
		return [...]string{"im0", "im1", "im2", "im3", "im4", "im5", "im6", "im7", "im8", "im9",
			"im10", "im11", "im12", "im13", "im14", "im15"}[idx-0xaff0]
	case idx == 0xe040:
		return "write_multiple"
	case idx == 0xf840:
		return "im0_filter_data"
	case idx == 0xf841:
		return "pd_real_data"
	case idx == 0xf842:
		return "pd_expected_data"
	case idx == 0x800c:
		return "diagnosis_subslot"
	case idx >= 0xe000 && idx <= 0xe0ff, idx >= 0xf000 && idx <= 0xf0ff:
		return "ar_record"
	case idx >= 0x8000 && idx <= 0xbfff:
		return "subslot_record"
	case idx >= 0xc000 && idx <= 0xcfff:
		return "slot_record"
	case idx >= 0xf800 && idx <= 0xffff:
		return "device_record"
	case idx < 0x8000:
		return "user_record"
	}
	return "api_record"
}

// pnioErrorCodes names the ErrorCode byte of a PNIOStatus.
func pnioErrorCode(c byte) string {
	switch c {
	case 0x81:
		return "pnio"
	case 0xcf:
		return "rta_error"
	case 0xda:
		return "alarm_ack"
	case 0xdb:
		return "iod_connect_res"
	case 0xdc:
		return "iod_release_res"
	case 0xdd:
		return "iod_control_res"
	case 0xde:
		return "iod_read_res"
	case 0xdf:
		return "iod_write_res"
	}
	return "error"
}

// pnioStatus reads a PNIOStatus (ErrorCode, ErrorDecode, ErrorCode1,
// ErrorCode2, big-endian in this order).
func pnioStatus(b []byte) dissect.Result {
	v := binary.BigEndian.Uint32(b)
	if v == 0 {
		return dissect.Result{Status: dissect.StatusOK}
	}
	return dissect.Result{Status: dissect.StatusError, Code: int(v), Text: pnioErrorCode(b[0])}
}

// readFacts decodes an I&M0 record (index 0xAFF0) returned by a read:
// the IODReadResHeader block, then the I&M0 block (BlockType 0x0020):
// VendorID, OrderID (20 visible characters), IM_Serial_Number (16),
// IM_Hardware_Revision (2), IM_Software_Revision (prefix character and
// functional enhancement, bug fix, internal change bytes), ...
func readFacts(op *dissect.Operation, b []byte) {
	if len(b) < 6 || binary.BigEndian.Uint16(b) != blockReadRes {
		return
	}
	l := int(binary.BigEndian.Uint16(b[2:]))
	if l < 2 || 4+l > len(b) {
		return
	}
	hdr := b[6 : 4+l]
	if len(hdr) < 36 || binary.BigEndian.Uint16(hdr[28:]) != 0xaff0 {
		return
	}
	rec := b[4+l:]
	if len(rec) < 6+2+20+16+2+4 || binary.BigEndian.Uint16(rec) != blockIM0 {
		return
	}
	v := rec[6:]
	fact := func(k, val string) {
		if val != "" {
			op.Identity = append(op.Identity, dissect.Fact{Key: k, Value: val, Server: true})
		}
	}
	fact(dissect.FactVendorID, strconv.Itoa(int(binary.BigEndian.Uint16(v))))
	fact(dissect.FactModel, visible(v[2:22]))
	fact(dissect.FactSerial, visible(v[22:38]))
	fact(dissect.FactHardware, strconv.Itoa(int(binary.BigEndian.Uint16(v[38:]))))
	sw := v[40:44]
	if sw[0] >= 0x20 && sw[0] < 0x7f {
		fact(dissect.FactFirmware, string(rune(sw[0]))+strconv.Itoa(int(sw[1]))+"."+strconv.Itoa(int(sw[2]))+"."+strconv.Itoa(int(sw[3])))
	}
}

// visible returns a VisibleString field without its trailing blanks.
func visible(b []byte) string {
	for i, c := range b {
		if c < 0x20 || c >= 0x7f {
			b = b[:i]
			break
		}
	}
	return strings.TrimRight(string(b), " ")
}

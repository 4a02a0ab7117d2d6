package s7comm

import (
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/mms"
	"github.com/otwatch/otwatch/internal/dissect/tpkt"
)

const (
	// maxPending bounds the requests awaiting an answer. S7 connections
	// negotiate at most a few parallel jobs (AMQ), usually 1 to 8.
	maxPending = 16
	// pairWindow is how long a request waits for its answer before it is
	// reported unanswered.
	pairWindow = 60 * time.Second
	// maxTSDU bounds a transport service data unit reassembled from COTP
	// DT TPDUs without end-of-TSDU. S7comm PDUs are at most 960 bytes
	// (the largest negotiated PDU size); an S7comm-plus PDU longer than
	// this is kept truncated, which its header recognition tolerates.
	maxTSDU = 16 << 10
	// maxItems bounds the variable items kept per request as targets.
	maxItems = 32
	// maxBlocks bounds the blocks kept per PLC control request.
	maxBlocks = 8
	// maxSZL bounds a reassembled SZL answer.
	maxSZL = 16 << 10
)

// Short constant reasons of malformed operations.
const (
	reasonFraming     = "not a TPKT frame"
	reasonCOTP        = "invalid COTP TPDU"
	reasonTSDU        = "TSDU longer than 16 KiB"
	reasonS7Header    = "short S7comm header"
	reasonS7Lengths   = "S7comm parameter and data lengths exceed the PDU"
	reasonROSCTR      = "unknown S7comm ROSCTR"
	reasonNoParam     = "S7comm job without parameter"
	reasonItems       = "invalid variable item list"
	reasonUserdata    = "invalid userdata parameter"
	reasonPlusHeader  = "short S7comm-plus header"
	reasonPlusOpcode  = "unknown S7comm-plus opcode"
	reasonUnsupported = "unknown protocol in COTP data"
)

// item is one S7ANY variable specification of a read/write var request.
type item struct {
	area, tsize byte
	count, db   uint16
	addr        uint32 // bit address: byte*8 + bit
}

// block is a PLC block named in a block transfer or PLC control request.
type block struct {
	typ string // "DB", "OB", ...
	num uint32
}

// pending is a request waiting for its answer.
type pending struct {
	used     bool
	dir      dissect.Direction
	userdata bool
	ref      uint16
	fn       byte
	group    byte
	sub      byte
	time     time.Time
	pkt      dissect.PacketRef
	nitems   int
	items    [maxItems]item
	nblocks  int
	blocks   [maxBlocks]block
	pi       int  // index in piServices, -1 if none or unknown
	coldRun  bool // P_PROGRAM with the cold start argument
	hasSZL   bool
	szlID    uint16
	szlIndex uint16
	followUp bool // a userdata request for the next fragment of an answer
	setup    [3]uint16
}

// plusPending is an S7comm-plus request waiting for its answer.
type plusPending struct {
	used    bool
	dir     dissect.Direction
	seq     uint16
	fn      uint16
	version byte
	time    time.Time
	pkt     dissect.PacketRef
}

// dirState is the COTP reassembly state of one direction.
type dirState struct {
	tsdu      tpkt.Reassembler
	resyncing bool
	fragPkt   dissect.PacketRef
}

// connMode is what a connection carries above COTP, decided on the first
// DT user data (and guessed from the CR's transport selectors before).
type connMode uint8

const (
	modeUnknown connMode = iota
	modeS7               // S7comm or S7comm-plus
	modeMMS              // ISO session, presentation, ACSE and MMS
)

// nameEntry caches a formatted target name.
type nameEntry struct {
	key uint64
	s   string
}

type session struct {
	flow *dissect.Flow
	dirs [2]dirState
	pend [maxPending]pending
	plus [maxPending]plusPending

	// COTP connection.
	crSeen          bool
	crTime          time.Time
	crPkt           dissect.PacketRef
	calling, called string
	tpduSize        int

	// Block of the last start_upload, for the upload and end_upload that
	// follow it.
	uploadBlock block
	uploadOK    bool

	// SZL answer spread over several userdata responses.
	szlBuf   []byte
	szlMore  bool
	szlID    uint16
	szlIndex uint16

	tls   bool
	names [16]nameEntry
	nextN int

	// mode and, for ISO session connections, the MMS decoder they are
	// handed to.
	mode connMode
	mms  *mms.Session
	// isoGuess is set when the CR/CC transport selectors are not S7-style.
	isoGuess bool
}

// ServiceName names what the connection carries, for its service
// operation: "mms" once its data showed the ISO session layer, or before
// any data when its transport selectors are not S7-style; "s7comm"
// otherwise.
func (s *session) ServiceName() string {
	if s.mode == modeMMS || s.mode == modeUnknown && s.isoGuess {
		return mms.Protocol
	}
	return ProtoS7comm
}

// tpduSeen, when set, is told the type of every COTP TPDU parsed; the
// corpus test counts TPDUs with it to compare with tshark's cotp.type.
var tpduSeen func(tpkt.Type)

// Feed consumes whole TPKT frames of one direction.
func (s *session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	n := 0
	d := &s.dirs[dir]
	for n < len(data) {
		b := data[n:]
		if d.resyncing {
			// Accept only what tpkt.Resync accepts, judged on the same
			// bytes however the stream was cut.
			if len(b) < tpkt.HeaderLen+2 {
				if b[0] == tpkt.Version && (len(b) < 2 || b[1] == 0) {
					break
				}
				n += tpkt.Resync(b)
				continue
			}
			if !tpkt.Plausible(b) {
				n += tpkt.Resync(b)
				continue
			}
		}
		tpdu, fl, err := tpkt.Next(b)
		if err == tpkt.ErrIncomplete {
			break
		}
		if err != nil {
			if !d.resyncing {
				d.resyncing = true
				proto := ProtoS7comm
				if s.mode == modeMMS {
					proto = mms.Protocol
				}
				s.malformed(ctx, proto, reasonFraming)
			}
			n += tpkt.Resync(b)
			continue
		}
		d.resyncing = false
		n += fl
		s.tpdu(dir, tpdu, ctx)
	}
	return n, nil
}

// Gap drops a partial TSDU of direction dir.
func (s *session) Gap(dir dissect.Direction, lost int, ctx *dissect.Context) {
	d := &s.dirs[dir]
	d.tsdu.Reset()
	d.resyncing = true
	if dir == dissect.ToClient {
		s.szlMore = false
	}
	if s.mms != nil {
		s.mms.Gap(dir, ctx)
	}
}

// Close reports the requests still waiting for an answer.
func (s *session) Close(ctx *dissect.Context) {
	if s.crSeen {
		s.crSeen = false
		op := ctx.Op(ProtoCOTP)
		op.Time = s.crTime
		op.Packets[0] = s.crPkt
		s.cotpOp(op)
		op.Request = true
		ctx.Emit(op)
	}
	for {
		oldest := -1
		for i := range s.pend {
			if s.pend[i].used && (oldest < 0 || s.pend[i].time.Before(s.pend[oldest].time)) {
				oldest = i
			}
		}
		if oldest < 0 {
			break
		}
		s.unanswered(&s.pend[oldest], ctx)
	}
	for {
		oldest := -1
		for i := range s.plus {
			if s.plus[i].used && (oldest < 0 || s.plus[i].time.Before(s.plus[oldest].time)) {
				oldest = i
			}
		}
		if oldest < 0 {
			break
		}
		s.plusUnanswered(&s.plus[oldest], ctx)
	}
	if s.mms != nil {
		s.mms.Close(ctx)
	}
}

func (s *session) malformed(ctx *dissect.Context, proto, reason string) {
	op := ctx.Op(proto)
	op.FunctionName = "malformed"
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	ctx.Emit(op)
}

// tpdu handles one COTP TPDU.
func (s *session) tpdu(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var t tpkt.TPDU
	if err := tpkt.Parse(b, &t); err != nil {
		s.malformed(ctx, ProtoCOTP, reasonCOTP)
		return
	}
	if tpduSeen != nil {
		tpduSeen(t.Type)
	}
	switch t.Type {
	case tpkt.TypeCR:
		if s.crSeen {
			// A repeated CR: report the first one unanswered.
			op := ctx.Op(ProtoCOTP)
			op.Time = s.crTime
			op.Packets[0] = s.crPkt
			s.cotpOp(op)
			op.Request = true
			ctx.Emit(op)
		}
		s.crSeen, s.crTime, s.crPkt = true, ctx.Time, ctx.Packet
		s.setTSAPs(&t)
		s.guessMode(&t)
	case tpkt.TypeCC:
		s.setTSAPs(&t)
		s.guessMode(&t)
		op := ctx.Op(ProtoCOTP)
		if s.crSeen {
			op.Request = true
			op.Packets = append(op.Packets, s.crPkt)
			s.crSeen = false
		}
		s.cotpOp(op)
		op.Response = true
		op.Result.Status = dissect.StatusOK
		ctx.Emit(op)
	case tpkt.TypeDR:
		op := ctx.Op(ProtoCOTP)
		if s.crSeen && dir == dissect.ToClient {
			// The connection request was refused.
			s.crSeen = false
			op.Packets = append(op.Packets, s.crPkt)
			s.cotpOp(op)
			op.Request, op.Response = true, true
		} else {
			op.FunctionCode = int(tpkt.TypeDR)
			op.FunctionName = tpkt.TypeDR.String()
			op.Class = dissect.ClassOther
			if dir == dissect.ToServer {
				op.Request = true
			} else {
				op.Response = true
			}
		}
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(t.Reason), Text: tpkt.DisconnectReason(t.Reason)}
		if t.Reason == 0x80 {
			op.Result.Status = dissect.StatusOK
		}
		ctx.Emit(op)
	case tpkt.TypeER:
		op := ctx.Op(ProtoCOTP)
		op.FunctionCode = int(tpkt.TypeER)
		op.FunctionName = tpkt.TypeER.String()
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(t.Reason), Text: tpkt.RejectCause(t.Reason)}
		if dir == dissect.ToServer {
			op.Request = true
		} else {
			op.Response = true
		}
		ctx.Emit(op)
	case tpkt.TypeDT:
		s.dt(dir, &t, ctx)
	}
}

// setTSAPs keeps the transport selectors of a CR or CC.
func (s *session) setTSAPs(t *tpkt.TPDU) {
	if len(t.CallingTSAP) > 0 {
		s.calling = tpkt.TSAPString(t.CallingTSAP)
	}
	if len(t.CalledTSAP) > 0 {
		s.called = tpkt.TSAPString(t.CalledTSAP)
	}
	if t.TPDUSize > 0 {
		s.tpduSize = t.TPDUSize
	}
	if s.mms != nil {
		s.mms.SetTSAPs(s.calling, s.called)
	}
}

// cotpOp fills a connection_request operation.
func (s *session) cotpOp(op *dissect.Operation) {
	op.FunctionCode = int(tpkt.TypeCR)
	op.FunctionName = tpkt.TypeCR.String()
	op.Class = dissect.ClassOther
	s.tsapAttrs(op)
	if s.tpduSize > 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "tpdu_size", Value: itoa(uint32(s.tpduSize))})
	}
}

func (s *session) tsapAttrs(op *dissect.Operation) {
	if s.calling != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "calling_tsap", Value: s.calling})
	}
	if s.called != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "called_tsap", Value: s.called})
	}
}

// dt reassembles DT TPDUs into a TSDU and dispatches it by protocol id.
func (s *session) dt(dir dissect.Direction, t *tpkt.TPDU, ctx *dissect.Context) {
	d := &s.dirs[dir]
	if !d.tsdu.Pending() {
		s.decide(t.Data)
	}
	if !t.EOT {
		if !d.tsdu.Pending() {
			d.fragPkt = ctx.Packet
		}
		d.tsdu.Add(t.Data, false)
		return
	}
	pdu, _ := d.tsdu.Add(t.Data, true)
	var first dissect.PacketRef
	multi := d.tsdu.Joined()
	if multi {
		first = d.fragPkt
	}
	if s.mode == modeMMS {
		s.mms.TSDU(dir, pdu, d.tsdu.Truncated(), first, multi, ctx)
		return
	}
	if multi && d.tsdu.Truncated() && (len(pdu) == 0 || pdu[0] != protoS7Plus) {
		s.malformed(ctx, ProtoS7comm, reasonTSDU)
		return
	}
	if len(pdu) == 0 {
		return // an empty DT: S7comm-plus sends them as keep-alives
	}
	switch pdu[0] {
	case protoS7:
		s.s7(dir, pdu, ctx, first, multi)
	case protoS7Plus:
		s.s7plus(dir, pdu, ctx)
	case 0x16, 0x17, 0x15, 0x14:
		// TLS records inside COTP: S7comm-plus of newer S7-1500 firmware.
		if len(pdu) >= 3 && pdu[1] == 3 && !s.tls {
			s.tls = true
			op := ctx.Op(ProtoS7commPlus)
			op.FunctionName = "tls"
			op.Class = dissect.ClassOther
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "encrypted", Value: "tls"})
			op.Request = dir == dissect.ToServer
			op.Response = dir == dissect.ToClient
			ctx.Emit(op)
		}
	}
}

// guessMode sizes TSDU reassembly from the transport selectors of a CR or
// CC before any data: S7-style selectors mean S7comm, others (IEC 61850
// stacks use 0x0001) an ISO session. The first DT decides.
func (s *session) guessMode(t *tpkt.TPDU) {
	if s.mode != modeUnknown || len(t.CallingTSAP) == 0 && len(t.CalledTSAP) == 0 {
		return
	}
	max := maxTSDU
	s.isoGuess = !s7TSAP(t.CalledTSAP) && !s7TSAP(t.CallingTSAP)
	if s.isoGuess {
		max = mms.MaxTSDU
	}
	for i := range s.dirs {
		if !s.dirs[i].tsdu.Pending() {
			s.dirs[i].tsdu.Max = max
		}
	}
}

// decide chooses, on the start of the first TSDU that tells, between
// S7comm and the ISO session layer of MMS. S7 connections keep their
// per-PDU dispatch by protocol id; an ISO session connection hands every
// TSDU to the MMS decoder from then on.
func (s *session) decide(data []byte) {
	for i := range s.dirs {
		if s.dirs[i].tsdu.Max == 0 {
			s.dirs[i].tsdu.Max = maxTSDU
		}
	}
	if s.mode != modeUnknown || len(data) == 0 {
		return
	}
	switch data[0] {
	case protoS7, protoS7Plus, 0x16, 0x17, 0x15, 0x14:
		s.mode = modeS7
		for i := range s.dirs {
			if !s.dirs[i].tsdu.Pending() {
				s.dirs[i].tsdu.Max = maxTSDU
			}
		}
		return
	}
	if !mms.IsSPDU(data) {
		return
	}
	s.mode = modeMMS
	s.mms = mms.NewSession(s.flow)
	s.mms.SetTSAPs(s.calling, s.called)
	for i := range s.dirs {
		if s.dirs[i].tsdu.Max < mms.MaxTSDU {
			s.dirs[i].tsdu.Max = mms.MaxTSDU
		}
	}
}

package mms

import (
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Protocol is the Protocol of every operation this package emits.
const Protocol = "mms"

// MaxTSDU bounds a TSDU the front end reassembles for an ISO session
// connection: MMS PDUs are at most the negotiated localDetail size (65000
// octets in the common IEC 61850 stacks) plus the session and
// presentation headers.
const MaxTSDU = 64 << 10

const (
	// maxPending bounds the confirmed requests awaiting an answer. The
	// initiate exchange negotiates the outstanding requests allowed,
	// usually 5 to 10 in IEC 61850.
	maxPending = 32
	// pairWindow is how long a request waits for its answer before it
	// is reported unanswered.
	pairWindow = 60 * time.Second
	// maxTargets bounds the object names kept per operation.
	maxTargets = 16
	// maxAttrs bounds the attributes kept with a pending request.
	maxAttrs = 4
	// maxFiles bounds the open files remembered by FRSM id.
	maxFiles = 4
	// maxPDVs bounds the presentation data values read from one user
	// data field.
	maxPDVs = 4
)

// Short constant reasons of malformed operations.
const (
	reasonTSDU        = "TSDU longer than 64 KiB"
	reasonSPDU        = "invalid session SPDU"
	reasonSPDUParams  = "invalid session SPDU parameters"
	reasonPPDU        = "invalid presentation PPDU"
	reasonUserData    = "invalid presentation user data"
	reasonACSE        = "invalid ACSE APDU"
	reasonBER         = "invalid BER encoding of the MMS PDU"
	reasonPDUType     = "unknown MMS PDU type"
	reasonInvokeID    = "missing or invalid invokeID"
	reasonService     = "missing confirmed service"
	reasonUnconfirmed = "missing unconfirmed service"
	reasonInitiate    = "invalid initiate PDU"
	reasonReject      = "invalid reject PDU"
	reasonServiceErr  = "invalid service error"
)

// pending is a confirmed request waiting for its answer.
type pending struct {
	used     bool
	dir      dissect.Direction
	invokeID uint32
	service  uint32
	time     time.Time
	pkt      dissect.PacketRef
	first    dissect.PacketRef // first packet of a TSDU spread over several
	multi    bool
	nt       int
	targets  [maxTargets]dissect.Target
	na       int
	attrs    [maxAttrs]dissect.Attr
	frsm     int64 // file read state machine of a fileRead or fileClose
	hasFRSM  bool
}

// exchange is a request without invokeID (initiate, conclude, release)
// waiting for its answer.
type exchange struct {
	used  bool
	dir   dissect.Direction
	time  time.Time
	pkt   dissect.PacketRef
	attrs []dissect.Attr
}

// openFile maps a file-read state machine id to the file it reads.
type openFile struct {
	used bool
	frsm int64
	name string
}

// Session decodes the layers above COTP of one ISO-on-TCP connection: the
// ISO 8327-1 session SPDUs, the ISO 8823-1 presentation PPDUs, the ACSE
// APDUs and the MMS PDUs they carry. The TPKT/COTP front end that owns the
// connection hands it whole TSDUs; it is not a dissect.Session itself.
type Session struct {
	flow *dissect.Flow

	calling, called string // transport selectors from the COTP CR/CC

	pend     [maxPending]pending
	initiate exchange
	conclude exchange
	release  exchange
	files    [maxFiles]openFile
	nextFile int

	// Presentation context identifiers of ACSE and MMS from the CP PPDU
	// (-1 until seen).
	ctxACSE, ctxMMS int64

	// Packets of the TSDU being decoded.
	first dissect.PacketRef
	multi bool

	scratch []byte
}

// NewSession returns the decoder of one connection.
func NewSession(f *dissect.Flow) *Session {
	return &Session{flow: f, ctxACSE: -1, ctxMMS: -1}
}

// SetTSAPs records the transport selectors of the connection, as the
// front end formats them, for the initiate operation.
func (s *Session) SetTSAPs(calling, called string) {
	s.calling, s.called = calling, called
}

// TSDU decodes one transport service data unit of direction dir.
// truncated says the front end dropped its bytes past MaxTSDU; first and
// multi name the first packet of a TSDU spread over several DT TPDUs.
func (s *Session) TSDU(dir dissect.Direction, b []byte, truncated bool, first dissect.PacketRef, multi bool, ctx *dissect.Context) {
	s.first, s.multi = first, multi && first != ctx.Packet
	if truncated {
		s.malformed(ctx, reasonTSDU)
		return
	}
	if len(b) == 0 {
		return
	}
	s.spdu(dir, b, ctx)
}

// Gap is called after lost bytes of direction dir; requests stay pending
// since their answers may still come.
func (s *Session) Gap(dir dissect.Direction, ctx *dissect.Context) {}

// Close reports the requests still waiting for an answer, oldest first.
func (s *Session) Close(ctx *dissect.Context) {
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
	s.flushExchange(&s.initiate, codeInitiate, "initiate", ctx)
	s.flushExchange(&s.conclude, codeConclude, "conclude", ctx)
	s.flushExchange(&s.release, codeRelease, "release", ctx)
}

// op returns the scratch operation with the packets of the current TSDU.
func (s *Session) op(ctx *dissect.Context) *dissect.Operation {
	op := ctx.Op(Protocol)
	if s.multi {
		op.Packets = append(op.Packets, s.first)
	}
	return op
}

func (s *Session) malformed(ctx *dissect.Context, reason string) {
	op := s.op(ctx)
	op.FunctionName = "malformed"
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "violation", Value: reason})
	ctx.Emit(op)
}

// direction sets the Request/Response flags of a message that is not
// paired: what the client sends is a request.
func direction(op *dissect.Operation, dir dissect.Direction) {
	op.Request = dir == dissect.ToServer
	op.Response = dir == dissect.ToClient
}

// flushExchange reports an exchange whose answer never came.
func (s *Session) flushExchange(e *exchange, code int, name string, ctx *dissect.Context) {
	if !e.used {
		return
	}
	e.used = false
	op := ctx.Op(Protocol)
	op.Time = e.time
	op.Packets[0] = e.pkt
	op.FunctionCode, op.FunctionName, op.Class = code, name, dissect.ClassOther
	op.Request = true
	op.Attrs = append(op.Attrs, e.attrs...)
	ctx.Emit(op)
}

// startExchange keeps a request without invokeID, reporting an earlier
// one still unanswered.
func (s *Session) startExchange(e *exchange, code int, name string, dir dissect.Direction, ctx *dissect.Context) {
	s.flushExchange(e, code, name, ctx)
	*e = exchange{used: true, dir: dir, time: ctx.Time, pkt: ctx.Packet, attrs: e.attrs[:0]}
}

// answer fills op with the request of exchange e when dir answers it.
func (s *Session) answer(e *exchange, dir dissect.Direction, op *dissect.Operation) {
	op.Response = true
	if e.used && e.dir != dir {
		e.used = false
		op.Request = true
		op.Packets = append(op.Packets, e.pkt)
		op.Attrs = append(op.Attrs, e.attrs...)
	}
}

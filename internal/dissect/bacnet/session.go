package bacnet

import (
	"encoding/binary"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

const (
	// maxPending bounds the outstanding confirmed requests tracked per
	// flow. A BACnet device may have up to 256 transactions open towards
	// one peer (one per invoke id); in practice a handful are.
	maxPending = 32
	// pairTimeout is the pairing window: BACnet clients retry after the
	// APDU timeout (default 3 s, at most a few retries; clause 12.11.27).
	pairTimeout = 30 * time.Second
)

// session is the state of one BACnet/IP flow (one pair of UDP endpoints).
type session struct {
	pending [maxPending]record
	n       int
	seq     uint64
	// bvll is an outstanding BVLL management request per direction of
	// its sender (Register-Foreign-Device, Read-BDT, ...).
	bvll   [2]record
	resync [2]bool
	single record // scratch for operations of one PDU
	p      pdu
	// llc is set for the session of a BACnet/Ethernet frame (clause 7):
	// every frame goes ToServer from src to dst, and no request waits for
	// its response.
	llc      bool
	src, dst dissect.MAC
}

func newSession() *session { return &session{} }

// Feed frames the bytes of one direction into BVLL messages. For UDP it
// receives one datagram, which normally holds exactly one message.
func (s *session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	if dir > dissect.ToClient {
		return len(data), nil
	}
	s.expire(ctx)
	if ctx.Flow != nil && ctx.Flow.Transport == dissect.TransportUDP {
		s.datagram(dir, data, ctx)
		return len(data), nil
	}
	off := 0
	for off < len(data) {
		m := data[off:]
		if s.resync[dir] {
			i := 0
			for i < len(m) && m[i] != bvlcTypeBACnetIP {
				i++
			}
			off += i
			if i == len(m) {
				break
			}
			s.resync[dir] = false
			continue
		}
		if m[0] != bvlcTypeBACnetIP {
			s.malformedFrame(dir, ctx, reasonBVLCType)
			s.resync[dir] = true
			off++
			continue
		}
		if len(m) < bvlcHeaderLen {
			break
		}
		n := int(binary.BigEndian.Uint16(m[2:4]))
		if n < bvlcHeaderLen || n > maxFrame {
			s.malformedFrame(dir, ctx, reasonBVLCLength)
			s.resync[dir] = true
			off++
			continue
		}
		if len(m) < n {
			break
		}
		s.message(dir, m[:n], ctx)
		off += n
	}
	return off, nil
}

// datagram handles one UDP datagram, which carries one BVLL message
// (Annex J.2). The datagram bounds the message: a BVLC length that
// disagrees with it is recorded, not trusted.
func (s *session) datagram(dir dissect.Direction, d []byte, ctx *dissect.Context) {
	if len(d) == 0 {
		return // an empty datagram carries no BVLL message
	}
	if len(d) < bvlcHeaderLen || d[0] != bvlcTypeBACnetIP {
		if len(d) > 0 && d[0] != bvlcTypeBACnetIP {
			s.malformedFrame(dir, ctx, reasonBVLCType)
		} else {
			s.malformedFrame(dir, ctx, reasonBVLCLength)
		}
		return
	}
	s.message(dir, d, ctx)
}

// Gap makes a stream resynchronise on the next BVLC type octet. UDP
// datagrams stand alone and never have gaps.
func (s *session) Gap(dir dissect.Direction, lost int, ctx *dissect.Context) {
	if dir <= dissect.ToClient {
		s.resync[dir] = true
	}
}

// Close emits the requests that were never answered, oldest first.
func (s *session) Close(ctx *dissect.Context) {
	for s.n > 0 {
		s.emit(s.oldest(), false, ctx)
	}
	for d := range s.bvll {
		if s.bvll[d].used {
			s.emitRecord(&s.bvll[d], false, ctx)
			s.bvll[d].used = false
		}
	}
}

// expire emits the requests older than the pairing window.
func (s *session) expire(ctx *dissect.Context) {
	if s.n == 0 {
		return
	}
	limit := ctx.Time.Add(-pairTimeout)
	for i := range s.pending {
		if r := &s.pending[i]; r.used && r.time.Before(limit) {
			s.emit(r, false, ctx)
		}
	}
}

// oldest returns the pending request that arrived first.
func (s *session) oldest() *record {
	var o *record
	for i := range s.pending {
		if r := &s.pending[i]; r.used && (o == nil || r.seq < o.seq) {
			o = r
		}
	}
	return o
}

// emit emits a pending request (with the response in progress, if
// response) and frees its slot.
func (s *session) emit(r *record, response bool, ctx *dissect.Context) {
	s.emitRecord(r, response, ctx)
	r.used = false
	s.n--
}

func (s *session) malformedFrame(dir dissect.Direction, ctx *dissect.Context, reason string) {
	r := &s.single
	s.start(r, dir, ctx)
	r.name = "malformed"
	r.request = true
	r.malformed(reason)
	s.emitRecord(r, false, ctx)
}

// start clears r for a PDU sent in direction dir.
func (s *session) start(r *record, dir dissect.Direction, ctx *dissect.Context) {
	r.used, r.nt, r.na, r.nf = false, 0, 0, 0
	r.result = dissect.Result{}
	r.request, r.response = false, false
	r.clientDir = dir
	r.code, r.name, r.class = 0, "", dissect.ClassOther
	r.packet = ctx.Packet
	r.time = ctx.Time
}

// emitRecord builds the operation of r. When response is set the current
// packet carries the response and r's packet the request.
func (s *session) emitRecord(r *record, response bool, ctx *dissect.Context) {
	op := ctx.Op("bacnet")
	if s.llc {
		op.Transport = "ethernet"
		op.Client = dissect.Endpoint{MAC: s.src}
		op.Server = dissect.Endpoint{MAC: s.dst}
	}
	if r.clientDir == dissect.ToClient {
		op.Client, op.Server = op.Server, op.Client
	}
	op.Packets = append(op.Packets[:0], r.packet)
	if response {
		op.Packets = append(op.Packets, ctx.Packet)
	} else {
		op.Time = r.time
	}
	op.FunctionCode = r.code
	op.FunctionName = r.name
	op.Class = r.class
	op.Request = r.request
	op.Response = r.response
	op.Result = r.result
	op.Targets = append(op.Targets, r.targets[:r.nt]...)
	op.Attrs = append(op.Attrs, r.attrs[:r.na]...)
	op.Identity = append(op.Identity, r.facts[:r.nf]...)
	ctx.Emit(op)
}

// message handles one whole BVLL message m sent in direction dir.
func (s *session) message(dir dissect.Direction, m []byte, ctx *dissect.Context) {
	p := &s.p
	p.parse(m)
	if !p.npdu || p.malformed != "" && !p.apdu {
		s.bvllMessage(dir, p, ctx)
		return
	}
	s.npdu(dir, p, ctx)
}

// npdu handles a decoded NPDU that carries a network layer message or an
// APDU.
func (s *session) npdu(dir dissect.Direction, p *pdu, ctx *dissect.Context) {
	if p.netMsg {
		r := &s.single
		s.start(r, dir, ctx)
		r.code, r.name, r.class = int(p.msgType), networkMessageName(p.msgType), networkMessageClass(p.msgType)
		r.request = true
		r.result.Status = dissect.StatusOK
		r.bvlc(attrBVLC, p)
		r.network(p, false)
		s.emitRecord(r, false, ctx)
		return
	}
	switch p.apduType {
	case apduConfirmed:
		s.confirmed(dir, p, ctx)
	case apduUnconfirmed:
		s.unconfirmed(dir, p, ctx)
	case apduSimpleAck, apduComplexAck, apduError, apduReject, apduAbort:
		s.response(dir, p, ctx)
	default: // segment ack
		s.segmentAck(dir, p, ctx)
	}
}

// bvllMessage handles a BVLL message without an NPDU (Annex J.2), or one
// whose NPDU does not decode.
func (s *session) bvllMessage(dir dissect.Direction, p *pdu, ctx *dissect.Context) {
	f := p.function
	switch {
	case p.malformed == "" && (f == bvlcWriteBDT || f == bvlcReadBDT || f == bvlcRegisterFD ||
		f == bvlcReadFDT || f == bvlcDeleteFDTEntry):
		r := &s.bvll[dir]
		if r.used {
			s.emitRecord(r, false, ctx)
		}
		s.start(r, dir, ctx)
		r.used = true
		r.code, r.name, r.class = int(f), bvlcName(f), bvlcClass(f)
		r.request = true
		r.attr(attrBVLC, bvlcName(f))
		r.network(p, false)
		return
	case p.malformed == "" && (f == bvlcResult || f == bvlcReadBDTAck || f == bvlcReadFDTAck):
		r := &s.bvll[1-dir]
		if r.used {
			r.used = false
			r.response = true
			s.bvllResult(r, p)
			s.emitRecord(r, true, ctx)
			return
		}
		r = &s.single
		s.start(r, 1-dir, ctx)
		r.code, r.name = int(f), bvlcName(f)
		r.response = true
		r.attr(attrBVLC, bvlcName(f))
		r.network(p, false)
		s.bvllResult(r, p)
		s.emitRecord(r, false, ctx)
		return
	}
	r := &s.single
	s.start(r, dir, ctx)
	r.code, r.name = int(f), bvlcName(f)
	r.request = true
	r.attr(attrBVLC, bvlcName(f))
	r.network(p, false)
	r.result.Status = dissect.StatusOK
	if p.malformed != "" {
		r.malformed(p.malformed)
	}
	s.emitRecord(r, false, ctx)
}

// bvlc records the BVLC function of p under key; a PDU of BACnet over LLC
// has no BVLC header.
func (r *record) bvlc(key string, p *pdu) {
	if !p.llc {
		r.attr(key, bvlcName(p.function))
	}
}

// bvllResult records the BVLL response p into r.
func (s *session) bvllResult(r *record, p *pdu) {
	if r.request {
		r.attr(attrRespBVLC, bvlcName(p.function))
	}
	r.result.Status = dissect.StatusOK
	if p.function == bvlcResult {
		name := bvlcResultName(p.result)
		r.attr(attrResult, name)
		if p.result != 0 {
			r.result = dissect.Result{Status: dissect.StatusError, Code: int(p.result), Text: name}
		}
	}
}

// confirmed handles a confirmed request (clause 20.1.2).
func (s *session) confirmed(dir dissect.Direction, p *pdu, ctx *dissect.Context) {
	svc := confirmedService(p.service)
	if p.malformed != "" || (p.segmented && p.seq != 0) {
		// A later segment (or a header that does not decode) is an
		// operation of its own.
		r := &s.single
		s.start(r, dir, ctx)
		s.fillRequest(r, p, svc)
		if p.malformed != "" {
			r.name = "malformed"
			r.malformed(p.malformed)
		} else {
			r.attr(attrSegmented, "continuation")
			r.attr(attrSequence, decimal[p.seq])
		}
		s.emitRecord(r, false, ctx)
		return
	}
	if s.llc {
		// Over LLC a request is emitted alone, as the frame carries it.
		r := &s.single
		s.start(r, dir, ctx)
		s.fillRequest(r, p, svc)
		r.attr(attrInvokeID, decimal[p.invoke])
		if p.segmented {
			r.attr(attrSegmented, "request")
		} else {
			r.confirmedRequest(p.service, p.body)
		}
		s.emitRecord(r, false, ctx)
		return
	}
	// A retransmission or a reused invoke id replaces the older request.
	if old := s.find(dir, p.invoke); old != nil {
		s.emit(old, false, ctx)
	}
	if s.n == len(s.pending) {
		s.emit(s.oldest(), false, ctx)
	}
	var r *record
	for i := range s.pending {
		if !s.pending[i].used {
			r = &s.pending[i]
			break
		}
	}
	s.start(r, dir, ctx)
	r.used = true
	s.seq++
	r.seq = s.seq
	s.n++
	s.fillRequest(r, p, svc)
	r.attr(attrInvokeID, decimal[p.invoke])
	if p.segmented {
		r.attr(attrSegmented, "request")
		return
	}
	r.confirmedRequest(p.service, p.body)
}

func (s *session) fillRequest(r *record, p *pdu, svc service) {
	r.invoke, r.function, r.apduType, r.service = p.invoke, p.function, p.apduType, p.service
	r.code, r.name, r.class = int(p.service), svc.name, svc.class
	r.request = true
	r.bvlc(attrBVLC, p)
	r.attr(attrAPDU, apduName(p.apduType))
	r.network(p, false)
}

// find returns the pending request with invoke id sent in direction dir.
func (s *session) find(dir dissect.Direction, invoke byte) *record {
	if s.n == 0 {
		return nil
	}
	for i := range s.pending {
		if r := &s.pending[i]; r.used && r.clientDir == dir && r.invoke == invoke {
			return r
		}
	}
	return nil
}

// unconfirmed handles an unconfirmed request (clause 20.1.3). I-Am and
// I-Have describe their sender, which is the operation's server.
func (s *session) unconfirmed(dir dissect.Direction, p *pdu, ctx *dissect.Context) {
	svc := unconfirmedService(p.service)
	r := &s.single
	s.start(r, dir, ctx)
	s.fillRequest(r, p, svc)
	r.result.Status = dissect.StatusOK
	if p.service == svcIAm || p.service == svcIHave {
		r.clientDir = 1 - dir
		r.request, r.response = false, true
	}
	if p.malformed != "" {
		r.name = "malformed"
		r.malformed(p.malformed)
	} else {
		r.unconfirmedRequest(p.service, p.body)
	}
	s.emitRecord(r, false, ctx)
}

// response handles a simple ack, complex ack, error, reject or abort
// (clauses 20.1.4 to 20.1.9). An abort sent by the client (SRV clear)
// ends its own request.
func (s *session) response(dir dissect.Direction, p *pdu, ctx *dissect.Context) {
	reqDir := 1 - dir
	if p.apduType == apduAbort && p.flags&flagSRV == 0 {
		reqDir = dir
	}
	var r *record
	if p.malformed == "" && !(p.segmented && p.seq != 0) {
		r = s.find(reqDir, p.invoke)
		if r != nil && (p.apduType == apduSimpleAck || p.apduType == apduComplexAck || p.apduType == apduError) && r.service != p.service {
			r = nil
		}
	}
	paired := r != nil
	if !paired {
		r = &s.single
		s.start(r, reqDir, ctx)
		r.invoke, r.function, r.apduType, r.service = p.invoke, p.function, p.apduType, p.service
		if p.apduType == apduSimpleAck || p.apduType == apduComplexAck || p.apduType == apduError {
			svc := confirmedService(p.service)
			r.code, r.name, r.class = int(p.service), svc.name, svc.class
		} else {
			r.name = apduName(p.apduType)
		}
		r.bvlc(attrBVLC, p)
		r.attr(attrAPDU, apduName(p.apduType))
		r.attr(attrInvokeID, decimal[p.invoke])
		r.network(p, false)
	} else {
		r.bvlc(attrRespBVLC, p)
		r.attr(attrRespAPDU, apduName(p.apduType))
		r.network(p, true)
	}
	r.response = true
	switch {
	case p.malformed != "":
		r.name = "malformed"
		r.malformed(p.malformed)
	case r.result.Status == dissect.StatusMalformed:
		// A malformed request stays malformed whatever the answer: the
		// violation is the request's.
	case p.segmented && p.seq != 0:
		r.result.Status = dissect.StatusOK
		r.attr(attrSegmented, "continuation")
		r.attr(attrSequence, decimal[p.seq])
	case p.apduType == apduSimpleAck:
		r.result.Status = dissect.StatusOK
	case p.apduType == apduComplexAck:
		r.result.Status = dissect.StatusOK
		if p.segmented {
			r.attr(attrSegmented, "response")
		} else {
			r.complexAck(p.service, p.body)
		}
	case p.apduType == apduError:
		r.errorPDU(p.body)
	case p.apduType == apduReject:
		r.result = dissect.Result{Status: dissect.StatusError, Code: int(p.reason), Text: rejectReasonName(p.reason)}
	case p.apduType == apduAbort:
		r.result = dissect.Result{Status: dissect.StatusError, Code: int(p.reason), Text: abortReasonName(p.reason)}
	}
	if paired {
		s.emit(r, true, ctx)
		return
	}
	s.emitRecord(r, false, ctx)
}

// segmentAck handles a Segment-ACK (clause 20.1.6): an operation of its
// own, sent by the server when SRV is set.
func (s *session) segmentAck(dir dissect.Direction, p *pdu, ctx *dissect.Context) {
	r := &s.single
	clientDir := dir
	if p.flags&flagSRV != 0 {
		clientDir = 1 - dir
	}
	s.start(r, clientDir, ctx)
	r.name = apduName(apduSegmentAck)
	r.code = int(p.invoke)
	if p.flags&flagSRV != 0 {
		r.response = true
	} else {
		r.request = true
	}
	r.bvlc(attrBVLC, p)
	r.attr(attrAPDU, apduName(p.apduType))
	r.attr(attrInvokeID, decimal[p.invoke])
	r.attr(attrSequence, decimal[p.seq])
	r.network(p, false)
	r.result.Status = dissect.StatusOK
	if p.malformed != "" {
		r.malformed(p.malformed)
	} else if p.flags&flagNAK != 0 {
		r.attr("nak", "true")
	}
	s.emitRecord(r, false, ctx)
}

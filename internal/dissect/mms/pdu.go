package mms

import (
	"github.com/otwatch/otwatch/internal/dissect"
)

// MMSpdu choices (ISO 9506-2, MMSpdu ::= CHOICE { confirmed-RequestPDU
// [0] IMPLICIT, confirmed-ResponsePDU [1], confirmed-ErrorPDU [2],
// unconfirmed-PDU [3], rejectPDU [4], cancel-RequestPDU [5],
// cancel-ResponsePDU [6], cancel-ErrorPDU [7], initiate-RequestPDU [8],
// initiate-ResponsePDU [9], initiate-ErrorPDU [10], conclude-RequestPDU
// [11], conclude-ResponsePDU [12], conclude-ErrorPDU [13] }).
const (
	pduConfirmedRequest  = 0
	pduConfirmedResponse = 1
	pduConfirmedError    = 2
	pduUnconfirmed       = 3
	pduReject            = 4
	pduCancelRequest     = 5
	pduCancelResponse    = 6
	pduCancelError       = 7
	pduInitiateRequest   = 8
	pduInitiateResponse  = 9
	pduInitiateError     = 10
	pduConcludeRequest   = 11
	pduConcludeResponse  = 12
	pduConcludeError     = 13
)

// pduSeen, when set, is told the kind, invokeID and service of every MMS
// PDU decoded; the tshark agreement test compares them with
// mms.invokeID and mms.confirmedServiceRequest/Response.
var pduSeen func(pdu int, invokeID uint32, service uint32)

// mmsPDU handles one MMS PDU.
func (s *Session) mmsPDU(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var p tlv
	if !one(b, &p) {
		s.malformed(ctx, reasonBER)
		return
	}
	if p.class != classContext || p.tag > pduConcludeError {
		s.malformed(ctx, reasonPDUType)
		return
	}
	switch p.tag {
	case pduConfirmedRequest:
		s.confirmedRequest(dir, p.val, ctx)
	case pduConfirmedResponse:
		s.confirmedResponse(dir, p.val, ctx)
	case pduConfirmedError:
		s.confirmedError(dir, p.val, ctx)
	case pduUnconfirmed:
		s.unconfirmed(dir, p.val, ctx)
	case pduReject:
		s.reject(dir, p.val, ctx)
	case pduCancelRequest, pduCancelResponse, pduCancelError:
		s.cancel(dir, p.tag, p.val, ctx)
	case pduInitiateRequest:
		// Outside ACSE (not IEC 61850, but allowed by ISO 9506-2 with
		// other mappings): an initiate of its own.
		s.startExchange(&s.initiate, codeInitiate, "initiate", dir, ctx)
		s.initiate.attrs = initiateAttrs(s.initiate.attrs, p.val, false)
	case pduInitiateResponse, pduInitiateError:
		op := s.op(ctx)
		op.FunctionCode, op.FunctionName, op.Class = codeInitiate, "initiate", dissect.ClassOther
		s.answer(&s.initiate, dir, op)
		op.Result.Status = dissect.StatusOK
		if p.tag == pduInitiateResponse {
			op.Attrs = initiateAttrs(op.Attrs, p.val, true)
		} else if cls, code, ok := serviceError(p.val); ok {
			op.Result = dissect.Result{Status: dissect.StatusError, Code: int(cls<<8 | code), Text: errorText(cls, code)}
		}
		ctx.Emit(op)
	case pduConcludeRequest:
		s.startExchange(&s.conclude, codeConclude, "conclude", dir, ctx)
	case pduConcludeResponse, pduConcludeError:
		op := s.op(ctx)
		op.FunctionCode, op.FunctionName, op.Class = codeConclude, "conclude", dissect.ClassOther
		s.answer(&s.conclude, dir, op)
		op.Result.Status = dissect.StatusOK
		if p.tag == pduConcludeError {
			op.Result = dissect.Result{Status: dissect.StatusError, Text: "conclude refused"}
			if cls, code, ok := serviceError(p.val); ok {
				op.Result.Code, op.Result.Text = int(cls<<8|code), errorText(cls, code)
			}
		}
		ctx.Emit(op)
	}
}

// invokeHeader reads the invokeID that starts a Confirmed-RequestPDU or
// Confirmed-ResponsePDU (Unsigned32, universal INTEGER) and the service
// choice after it, skipping a listOfModifier.
func invokeHeader(b []byte, svc *tlv) (id uint32, ok bool, reason string) {
	var f tlv
	b, ok = next(b, &f)
	if !ok || !f.is(classUniversal, false, tagInteger) {
		return 0, false, reasonInvokeID
	}
	if id, ok = uintVal(f.val); !ok {
		return 0, false, reasonInvokeID
	}
	for {
		if len(b) == 0 {
			return id, false, reasonService
		}
		if b, ok = next(b, svc); !ok {
			return id, false, reasonBER
		}
		if svc.class == classContext {
			return id, true, ""
		}
		// listOfModifier SEQUENCE OF Modifier OPTIONAL
		if !svc.is(classUniversal, true, tagSequence) {
			return id, false, reasonService
		}
	}
}

// confirmedRequest handles Confirmed-RequestPDU ::= SEQUENCE { invokeID
// Unsigned32, listOfModifier OPTIONAL, confirmedServiceRequest
// ConfirmedServiceRequest, ... }.
func (s *Session) confirmedRequest(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var svc tlv
	id, ok, reason := invokeHeader(b, &svc)
	if !ok {
		s.malformed(ctx, reason)
		return
	}
	if pduSeen != nil {
		pduSeen(pduConfirmedRequest, id, svc.tag)
	}
	p := s.newPending(dir, id, ctx)
	p.service = svc.tag
	if !s.requestDetail(p, &svc) {
		p.used = false
		s.malformed(ctx, reasonBER)
	}
}

// newPending returns a cleared pending slot for a request, reporting as
// unanswered an older request with the same invokeID, requests older than
// pairWindow and, when the table is full, the oldest request.
func (s *Session) newPending(dir dissect.Direction, id uint32, ctx *dissect.Context) *pending {
	free, oldest := -1, -1
	for i := range s.pend {
		p := &s.pend[i]
		if p.used && (p.dir == dir && p.invokeID == id || ctx.Time.Sub(p.time) > pairWindow) {
			s.unanswered(p, ctx)
		}
		if !p.used {
			if free < 0 {
				free = i
			}
		} else if oldest < 0 || p.time.Before(s.pend[oldest].time) {
			oldest = i
		}
	}
	if free < 0 {
		s.unanswered(&s.pend[oldest], ctx)
		free = oldest
	}
	p := &s.pend[free]
	p.used, p.dir, p.invokeID, p.time, p.pkt = true, dir, id, ctx.Time, ctx.Packet
	p.first, p.multi = s.first, s.multi
	p.nt, p.na, p.hasFRSM = 0, 0, false
	return p
}

func (s *Session) findPending(dir dissect.Direction, id uint32) *pending {
	for i := range s.pend {
		p := &s.pend[i]
		if p.used && p.dir == dir && p.invokeID == id {
			return p
		}
	}
	return nil
}

// fillRequest copies a pending request into op.
func fillRequest(op *dissect.Operation, p *pending) {
	sv := serviceOf(p.service)
	op.FunctionCode, op.FunctionName, op.Class = int(p.service), sv.name, sv.class
	op.Targets = append(op.Targets, p.targets[:p.nt]...)
	op.Attrs = append(op.Attrs, p.attrs[:p.na]...)
}

// unanswered emits a request that got no answer and frees its slot.
func (s *Session) unanswered(p *pending, ctx *dissect.Context) {
	op := ctx.Op(Protocol)
	op.Time = p.time
	op.Packets[0] = p.pkt
	if p.multi {
		op.Packets = append(op.Packets, p.first)
	}
	op.Request = true
	fillRequest(op, p)
	p.used = false
	ctx.Emit(op)
}

// pairedOp returns the operation of an answer from dir to invokeID id: the
// pending request it answers folded in when there is one (and when its
// service matches svc, unless svc is negative).
func (s *Session) pairedOp(dir dissect.Direction, id uint32, svc int64, ctx *dissect.Context) (*dissect.Operation, *pending) {
	op := s.op(ctx)
	op.Response = true
	p := s.findPending(1-dir, id)
	if p != nil && svc >= 0 && int64(p.service) != svc {
		p = nil // not the answer to that request: a reused invokeID
	}
	if p != nil {
		op.Request = true
		op.Packets = append(op.Packets, p.pkt)
		if p.multi {
			op.Packets = append(op.Packets, p.first)
		}
		fillRequest(op, p)
		p.used = false
	} else if svc >= 0 {
		sv := serviceOf(uint32(svc))
		op.FunctionCode, op.FunctionName, op.Class = int(svc), sv.name, sv.class
	}
	return op, p
}

// confirmedResponse handles Confirmed-ResponsePDU ::= SEQUENCE { invokeID
// Unsigned32, confirmedServiceResponse ConfirmedServiceResponse, ... }.
func (s *Session) confirmedResponse(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var svc tlv
	id, ok, reason := invokeHeader(b, &svc)
	if !ok {
		s.malformed(ctx, reason)
		return
	}
	if pduSeen != nil {
		pduSeen(pduConfirmedResponse, id, svc.tag)
	}
	op, p := s.pairedOp(dir, id, int64(svc.tag), ctx)
	op.Result.Status = dissect.StatusOK
	s.responseDetail(dir, op, p, &svc)
	ctx.Emit(op)
}

// confirmedError handles Confirmed-ErrorPDU ::= SEQUENCE { invokeID [0]
// IMPLICIT Unsigned32, modifierPosition [1] IMPLICIT OPTIONAL,
// serviceError [2] IMPLICIT ServiceError }.
func (s *Session) confirmedError(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var f tlv
	var id uint32
	haveID := false
	var se []byte
	for len(b) > 0 {
		var ok bool
		if b, ok = next(b, &f); !ok {
			s.malformed(ctx, reasonBER)
			return
		}
		switch {
		case f.is(classContext, false, 0):
			id, haveID = uintVal(f.val)
		case f.is(classContext, true, 2):
			se = f.val
		}
	}
	if !haveID {
		s.malformed(ctx, reasonInvokeID)
		return
	}
	if pduSeen != nil {
		pduSeen(pduConfirmedError, id, 0)
	}
	cls, code, ok := serviceError(se)
	if !ok {
		s.malformed(ctx, reasonServiceErr)
		return
	}
	op, _ := s.pairedOp(dir, id, -1, ctx)
	if !op.Request {
		op.FunctionName = "error"
	}
	op.Result = dissect.Result{Status: dissect.StatusError, Code: int(cls<<8 | code), Text: errorText(cls, code)}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "error_class", Value: errorClassName(cls)})
	ctx.Emit(op)
}

func errorClassName(cls uint32) string {
	if cls < uint32(len(errorClasses)) {
		return errorClasses[cls].name
	}
	return "unknown"
}

// serviceError reads ServiceError ::= SEQUENCE { errorClass [0] CHOICE {
// vmd-state [0] IMPLICIT INTEGER, ..., others [12] IMPLICIT INTEGER },
// additionalCode [1] OPTIONAL, additionalDescription [2] OPTIONAL,
// serviceSpecificInformation [3] OPTIONAL }.
func serviceError(b []byte) (class, code uint32, ok bool) {
	var f, c tlv
	if _, ok = next(b, &f); !ok || !f.is(classContext, true, 0) {
		return 0, 0, false
	}
	if !one(f.val, &c) || c.class != classContext || c.cons || c.tag > 12 {
		return 0, 0, false
	}
	v, ok := intVal(c.val)
	if !ok || v < 0 || v > 0xff {
		return 0, 0, false
	}
	return c.tag, uint32(v), true
}

// reject handles RejectPDU ::= SEQUENCE { originalInvokeID [0] IMPLICIT
// Unsigned32 OPTIONAL, rejectReason CHOICE { confirmed-requestPDU [1]
// IMPLICIT INTEGER, ..., conclude-errorPDU [11] IMPLICIT INTEGER } }. A
// reject of a confirmed request answers it.
func (s *Session) reject(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var f tlv
	var id uint32
	haveID := false
	typ, val := uint32(0), int64(0)
	for len(b) > 0 {
		var ok bool
		if b, ok = next(b, &f); !ok || f.class != classContext || f.cons {
			s.malformed(ctx, reasonReject)
			return
		}
		if f.tag == 0 {
			id, haveID = uintVal(f.val)
			continue
		}
		typ = f.tag
		val, _ = intVal(f.val)
	}
	if typ == 0 {
		s.malformed(ctx, reasonReject)
		return
	}
	kind, reason := rejectReason(typ, val)
	var op *dissect.Operation
	if haveID && typ == 1 {
		op, _ = s.pairedOp(dir, id, -1, ctx)
	}
	if op == nil || !op.Request {
		if op == nil {
			op = s.op(ctx)
		}
		op.FunctionCode, op.FunctionName, op.Class = codeReject, "reject", dissect.ClassOther
		direction(op, dir)
	}
	op.Result = dissect.Result{Status: dissect.StatusError, Code: int(typ<<8) | int(val&0xff), Text: reason}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "reject", Value: kind})
	ctx.Emit(op)
}

// cancel handles Cancel-RequestPDU ::= Unsigned32, Cancel-ResponsePDU ::=
// Unsigned32 and Cancel-ErrorPDU ::= SEQUENCE { originalInvokeID [0],
// serviceError [1] }. A cancel is an operation of its own; the request it
// cancels stays pending for the error the server answers it with.
func (s *Session) cancel(dir dissect.Direction, tag uint32, b []byte, ctx *dissect.Context) {
	op := s.op(ctx)
	op.FunctionCode, op.FunctionName, op.Class = codeCancel, "cancel", dissect.ClassOther
	direction(op, dir)
	switch tag {
	case pduCancelRequest:
	case pduCancelResponse:
		op.Result.Status = dissect.StatusOK
	default:
		op.Result = dissect.Result{Status: dissect.StatusError, Text: "cancel refused"}
		var f tlv
		for len(b) > 0 {
			var ok bool
			if b, ok = next(b, &f); !ok {
				break
			}
			if f.is(classContext, true, 1) {
				if cls, code, ok := serviceError(f.val); ok {
					op.Result.Code, op.Result.Text = int(cls<<8|code), errorText(cls, code)
				}
			}
		}
	}
	ctx.Emit(op)
}

// unconfirmed handles Unconfirmed-PDU ::= SEQUENCE { unconfirmedService
// CHOICE { informationReport [0] IMPLICIT, unsolicitedStatus [1]
// IMPLICIT, eventNotification [2] IMPLICIT }, ... }.
func (s *Session) unconfirmed(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var svc tlv
	if !one(b, &svc) {
		s.malformed(ctx, reasonBER)
		return
	}
	if svc.class != classContext {
		s.malformed(ctx, reasonUnconfirmed)
		return
	}
	if pduSeen != nil {
		pduSeen(pduUnconfirmed, 0, svc.tag)
	}
	op := s.op(ctx)
	direction(op, dir)
	op.FunctionCode = codeUnconfirmed + int(svc.tag)
	op.Result.Status = dissect.StatusOK
	switch svc.tag {
	case 0:
		op.FunctionName, op.Class = "information_report", dissect.ClassRead
		if !s.informationReport(op, svc.val) {
			s.malformed(ctx, reasonBER)
			return
		}
	case 1:
		op.FunctionName, op.Class = "unsolicited_status", dissect.ClassDiagnostics
		statusAttrs(op, svc.val)
	case 2:
		op.FunctionName, op.Class = "event_notification", dissect.ClassOther
		// EventNotification ::= SEQUENCE { eventEnrollmentName [0]
		// ObjectName, ... }
		var f tlv
		if one(svc.val, &f) && f.is(classContext, true, 0) {
			var n tlv
			if one(f.val, &n) {
				var t dissect.Target
				if s.objectName(&n, "event_enrollment", &t) {
					op.Targets = append(op.Targets, t)
				}
			}
		}
	default:
		op.FunctionName, op.Class = "unknown_unconfirmed_service", dissect.ClassOther
	}
	ctx.Emit(op)
}

// informationReport reads InformationReport ::= SEQUENCE {
// variableAccessSpecification, listOfAccessResult [0] IMPLICIT SEQUENCE OF
// AccessResult }. IEC 61850-8-1 reports name the list "RPT" and carry the
// report identifier as the first value, a visible-string.
func (s *Session) informationReport(op *dissect.Operation, b []byte) bool {
	var vas, list tlv
	rest, ok := next(b, &vas)
	if !ok {
		return false
	}
	if op.Targets, _, ok = s.variableAccess(&vas, op.Targets); !ok {
		return false
	}
	if _, ok := next(rest, &list); ok && list.is(classContext, true, 0) {
		var first tlv
		if _, ok := next(list.val, &first); ok && first.is(classContext, false, 10) {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "report_id", Value: dissect.Intern(first.val)})
		}
	}
	return true
}

// statusAttrs reads Status-Response ::= SEQUENCE { vmdLogicalStatus [0]
// IMPLICIT INTEGER, vmdPhysicalStatus [1] IMPLICIT INTEGER, localDetail
// [2] OPTIONAL }.
func statusAttrs(op *dissect.Operation, b []byte) {
	var f tlv
	for len(b) > 0 {
		var ok bool
		if b, ok = next(b, &f); !ok {
			return
		}
		v, ok := intVal(f.val)
		if !ok || v < 0 {
			continue
		}
		switch {
		case f.is(classContext, false, 0) && v < int64(len(vmdLogical)):
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "vmd_logical_status", Value: vmdLogical[v]})
		case f.is(classContext, false, 1) && v < int64(len(vmdPhysical)):
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "vmd_physical_status", Value: vmdPhysical[v]})
		}
	}
}

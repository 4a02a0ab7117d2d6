package mms

import (
	"github.com/otwatch/otwatch/internal/dissect"
)

// ACSE APDUs (ISO 8650-1 / ITU-T X.227 section 10): [APPLICATION n].
const (
	apduAARQ = 0
	apduAARE = 1
	apduRLRQ = 2
	apduRLRE = 3
	apduABRT = 4
)

// oidPassword is the mechanism name of password authentication,
// 2.2.3.1 (ISO 8650-1 annex B, used by IEC 61850-8-1).
var oidPassword = []byte{0x52, 0x03, 0x01}

// acse handles one ACSE APDU.
func (s *Session) acse(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var a tlv
	if !one(b, &a) || !a.cons {
		s.malformed(ctx, reasonACSE)
		return
	}
	switch a.tag {
	case apduAARQ:
		s.aarq(dir, a.val, ctx)
	case apduAARE:
		s.aare(dir, a.val, ctx)
	case apduRLRQ:
		s.startExchange(&s.release, codeRelease, "release", dir, ctx)
		if v, ok := releaseReason(a.val); ok {
			s.release.attrs = append(s.release.attrs, dissect.Attr{Key: "release_reason", Value: v})
		}
	case apduRLRE:
		op := s.op(ctx)
		op.FunctionCode, op.FunctionName, op.Class = codeRelease, "release", dissect.ClassOther
		s.answer(&s.release, dir, op)
		op.Result.Status = dissect.StatusOK
		if v, ok := releaseReason(a.val); ok && v != "normal" {
			op.Result = dissect.Result{Status: dissect.StatusError, Text: v}
		}
		ctx.Emit(op)
	case apduABRT:
		// ABRT-apdu ::= [APPLICATION 4] IMPLICIT SEQUENCE { abort-source
		// [0] IMPLICIT ABRT-source { acse-service-user (0), acse-service-
		// provider (1) }, ... }.
		op := s.op(ctx)
		op.FunctionCode, op.FunctionName, op.Class = codeAbort, "abort", dissect.ClassOther
		direction(op, dir)
		op.Result = dissect.Result{Status: dissect.StatusError, Text: "aborted"}
		var f tlv
		if one(a.val, &f) && f.is(classContext, false, 0) {
			if v, ok := intVal(f.val); ok && v == 0 {
				op.Result.Text = "aborted by the ACSE service user"
			} else if ok && v == 1 {
				op.Result.Text = "aborted by the ACSE service provider"
			}
		}
		ctx.Emit(op)
	default:
		s.malformed(ctx, reasonACSE)
	}
}

// releaseReason reads the reason [0] of an RLRQ (normal 0, urgent 1,
// user-defined 30) or RLRE (normal 0, not-finished 1, user-defined 30).
func releaseReason(b []byte) (string, bool) {
	var f tlv
	if !one(b, &f) || !f.is(classContext, false, 0) {
		return "", false
	}
	switch v, _ := intVal(f.val); v {
	case 0:
		return "normal", true
	case 1:
		return "urgent_or_not_finished", true
	case 30:
		return "user_defined", true
	}
	return "", false
}

// aarq handles an A-ASSOCIATE request: AARQ-apdu ::= [APPLICATION 0]
// IMPLICIT SEQUENCE { protocol-version [0], application-context-name [1],
// called-AP-title [2], called-AE-qualifier [3], ..., calling-AP-title [6],
// calling-AE-qualifier [7], ..., mechanism-name [11] IMPLICIT, calling-
// authentication-value [12], ..., user-information [30] IMPLICIT
// Association-information }.
func (s *Session) aarq(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	e := &s.initiate
	if !e.used || e.dir != dir {
		s.startExchange(e, codeInitiate, "initiate", dir, ctx)
	}
	var f tlv
	var user []byte
	for len(b) > 0 {
		var ok bool
		if b, ok = next(b, &f); !ok {
			s.malformedExchange(e, ctx, reasonACSE)
			return
		}
		if f.class != classContext {
			continue
		}
		switch f.tag {
		case 1:
			s.oidAttr(e, "application_context", f.val)
		case 2:
			s.apTitle(e, "called_ap_title", f.val)
		case 3:
			s.aeQualifier(e, "called_ae_qualifier", f.val)
		case 6:
			s.apTitle(e, "calling_ap_title", f.val)
		case 7:
			s.aeQualifier(e, "calling_ae_qualifier", f.val)
		case 11:
			if string(f.val) == string(oidPassword) {
				e.attrs = append(e.attrs, dissect.Attr{Key: "authentication", Value: "password"})
			} else if o, ok := appendOID(nil, f.val); ok {
				e.attrs = append(e.attrs, dissect.Attr{Key: "authentication_mechanism", Value: string(o)})
			}
		case 12:
			// Authentication-value ::= CHOICE { charstring [0], bitstring
			// [1], external [2], other [3] }: only its form is kept.
			var v tlv
			if one(f.val, &v) && v.class == classContext {
				form := "other"
				switch v.tag {
				case 0:
					form = "charstring"
				case 1:
					form = "bitstring"
				case 2:
					form = "external"
				}
				e.attrs = append(e.attrs, dissect.Attr{Key: "authentication_value", Value: form})
			}
		case 30:
			user = f.val
		}
	}
	pdu, ok := associationData(user)
	if !ok {
		s.malformedExchange(e, ctx, reasonACSE)
		return
	}
	var p tlv
	if !one(pdu, &p) || !p.is(classContext, true, 8) {
		s.malformedExchange(e, ctx, reasonInitiate)
		return
	}
	e.attrs = initiateAttrs(e.attrs, p.val, false)
}

// associationData returns the single-ASN1-type (or octet-aligned) value
// of the first EXTERNAL of an Association-information (SEQUENCE OF
// EXTERNAL; X.690 8.18: EXTERNAL ::= [UNIVERSAL 8] IMPLICIT SEQUENCE {
// direct-reference OID OPTIONAL, indirect-reference INTEGER OPTIONAL, ...,
// encoding CHOICE { single-ASN1-type [0], octet-aligned [1] IMPLICIT,
// arbitrary [2] IMPLICIT } }).
func associationData(b []byte) ([]byte, bool) {
	var ext, f tlv
	if _, ok := next(b, &ext); !ok || !ext.is(classUniversal, true, tagExternal) {
		return nil, false
	}
	for c := ext.val; len(c) > 0; {
		var ok bool
		if c, ok = next(c, &f); !ok {
			return nil, false
		}
		if f.is(classContext, true, 0) || f.is(classContext, false, 1) {
			return f.val, true
		}
	}
	return nil, false
}

// aare handles an A-ASSOCIATE response: AARE-apdu ::= [APPLICATION 1]
// IMPLICIT SEQUENCE { protocol-version [0], application-context-name [1],
// result [2] Associate-result, result-source-diagnostic [3], responding-
// AP-title [4], responding-AE-qualifier [5], ..., user-information [30] }.
func (s *Session) aare(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	op := s.op(ctx)
	op.FunctionCode, op.FunctionName, op.Class = codeInitiate, "initiate", dissect.ClassOther
	s.answer(&s.initiate, dir, op)
	op.Result.Status = dissect.StatusOK
	var f, v tlv
	result, diag := int64(0), ""
	diagCode := int64(0)
	var user []byte
	for len(b) > 0 {
		var ok bool
		if b, ok = next(b, &f); !ok {
			op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reasonACSE}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "violation", Value: reasonACSE})
			ctx.Emit(op)
			return
		}
		if f.class != classContext {
			continue
		}
		switch f.tag {
		case 2:
			if one(f.val, &v) && v.is(classUniversal, false, tagInteger) {
				result, _ = intVal(v.val)
			}
		case 3:
			// Associate-source-diagnostic ::= CHOICE { service-user [1]
			// INTEGER, service-provider [2] INTEGER }
			if one(f.val, &v) && v.class == classContext {
				var i tlv
				if one(v.val, &i) && i.is(classUniversal, false, tagInteger) {
					diagCode, _ = intVal(i.val)
					switch {
					case v.tag == 1 && diagCode >= 0 && diagCode < int64(len(acseUserDiagnostics)):
						diag = acseUserDiagnostics[diagCode]
					case v.tag == 2 && diagCode >= 0 && diagCode < int64(len(acseProviderDiagnostics)):
						diag = acseProviderDiagnostics[diagCode]
					}
				}
			}
		case 4:
			op.Attrs = s.apTitleOp(op.Attrs, "responding_ap_title", f.val)
		case 5:
			op.Attrs = aeQualifierAttrs(op.Attrs, "responding_ae_qualifier", f.val)
		case 30:
			user = f.val
		}
	}
	if result != 0 {
		text := diag
		if text == "" {
			text = "association rejected"
		}
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(diagCode), Text: text}
		res := "rejected-transient"
		if result == 1 {
			res = "rejected-permanent"
		}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "acse_result", Value: res})
	}
	if pdu, ok := associationData(user); ok {
		var p tlv
		switch {
		case !one(pdu, &p):
			op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reasonInitiate}
		case p.is(classContext, true, 9):
			op.Attrs = initiateAttrs(op.Attrs, p.val, true)
		case p.is(classContext, true, 10):
			// Initiate-ErrorPDU ::= ServiceError
			cls, code, ok := serviceError(p.val)
			if !ok {
				op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reasonServiceErr}
			} else {
				op.Result = dissect.Result{Status: dissect.StatusError, Code: int(cls<<8 | code), Text: errorText(cls, code)}
			}
		}
	}
	if op.Result.Status == dissect.StatusMalformed {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "violation", Value: op.Result.Text})
	}
	ctx.Emit(op)
}

// oidAttr adds an OBJECT IDENTIFIER (EXPLICIT) as a dotted attribute.
func (s *Session) oidAttr(e *exchange, key string, b []byte) {
	var o tlv
	if !one(b, &o) || !o.is(classUniversal, false, tagOID) {
		return
	}
	if v, ok := appendOID(nil, o.val); ok {
		e.attrs = append(e.attrs, dissect.Attr{Key: key, Value: string(v)})
	}
}

// apTitle adds an AP-title: CHOICE { ap-title-form1 Name, ap-title-form2
// OBJECT IDENTIFIER, ... }; only form 2, the one IEC 61850 uses, is kept.
func (s *Session) apTitle(e *exchange, key string, b []byte) {
	e.attrs = s.apTitleOp(e.attrs, key, b)
}

func (s *Session) apTitleOp(attrs []dissect.Attr, key string, b []byte) []dissect.Attr {
	var o tlv
	if !one(b, &o) || !o.is(classUniversal, false, tagOID) {
		return attrs
	}
	if v, ok := appendOID(nil, o.val); ok {
		attrs = append(attrs, dissect.Attr{Key: key, Value: string(v)})
	}
	return attrs
}

// aeQualifier adds an AE-qualifier of form 2 (INTEGER).
func (s *Session) aeQualifier(e *exchange, key string, b []byte) {
	e.attrs = aeQualifierAttrs(e.attrs, key, b)
}

func aeQualifierAttrs(attrs []dissect.Attr, key string, b []byte) []dissect.Attr {
	var i tlv
	if one(b, &i) && i.is(classUniversal, false, tagInteger) {
		if v, ok := intVal(i.val); ok {
			attrs = append(attrs, dissect.Attr{Key: key, Value: num(v)})
		}
	}
	return attrs
}

// initiateAttrs adds the parameters of an Initiate-RequestPDU or
// Initiate-ResponsePDU (ISO 9506-2, Initiate-RequestPDU ::= SEQUENCE {
// localDetailCalling [0] IMPLICIT Integer32 OPTIONAL,
// proposedMaxServOutstandingCalling [1], proposedMaxServOutstandingCalled
// [2], proposedDataStructureNestingLevel [3] OPTIONAL,
// mmsInitRequestDetail [4] IMPLICIT SEQUENCE { proposedVersionNumber [0],
// proposedParameterCBB [1] IMPLICIT BIT STRING, servicesSupportedCalling
// [2] IMPLICIT BIT STRING } }; the response has the same layout with the
// negotiated values, which replace the proposed ones.
func initiateAttrs(attrs []dissect.Attr, b []byte, response bool) []dissect.Attr {
	var f tlv
	for len(b) > 0 {
		var ok bool
		if b, ok = next(b, &f); !ok || f.class != classContext {
			return attrs
		}
		switch {
		case f.tag <= 3 && !f.cons:
			v, ok := intVal(f.val)
			if !ok {
				continue
			}
			key := [...]string{"local_detail", "max_serv_outstanding_calling", "max_serv_outstanding_called", "nesting_level"}[f.tag]
			attrs = setAttr(attrs, key, num(v))
		case f.tag == 4 && f.cons:
			var d tlv
			for c := f.val; len(c) > 0; {
				if c, ok = next(c, &d); !ok || d.class != classContext {
					break
				}
				switch d.tag {
				case 0:
					if v, ok := intVal(d.val); ok {
						attrs = setAttr(attrs, "version", num(v))
					}
				case 1:
					attrs = setAttr(attrs, "parameter_cbb", cbbNames(d.val))
				case 2:
					key := "services_supported_calling"
					if response {
						key = "services_supported_called"
					}
					if len(d.val) > 1 {
						attrs = setAttr(attrs, key, hexString(d.val[1:]))
					}
				}
			}
		}
	}
	return attrs
}

// cbbNames lists the ParameterSupportOptions bits set, comma-separated.
// X.690 8.6: the first contents octet counts the unused bits of the last.
func cbbNames(v []byte) string {
	if len(v) < 2 {
		return ""
	}
	var out []byte
	for i, c := range v[1:] {
		for bit := 0; bit < 8; bit++ {
			n := i*8 + bit
			if c&(0x80>>bit) == 0 || n >= len(parameterCBBs) || parameterCBBs[n] == "" {
				continue
			}
			if len(out) > 0 {
				out = append(out, ',')
			}
			out = append(out, parameterCBBs[n]...)
		}
	}
	return string(out)
}

// setAttr replaces the value of key, or appends it.
func setAttr(attrs []dissect.Attr, key, value string) []dissect.Attr {
	for i := range attrs {
		if attrs[i].Key == key {
			attrs[i].Value = value
			return attrs
		}
	}
	return append(attrs, dissect.Attr{Key: key, Value: value})
}

package mms

import (
	"github.com/otwatch/otwatch/internal/dissect"
)

// Abstract syntax names of the presentation contexts MMS connections
// define (contents octets of the OBJECT IDENTIFIERs): ACSE 2.2.1.0.1
// (ISO 8650-1) and MMS 1.0.9506.2.1 (ISO 9506-2, mms-abstract-syntax).
var (
	oidACSE = []byte{0x52, 0x01, 0x00, 0x01}
	oidMMS  = []byte{0x28, 0xca, 0x22, 0x02, 0x01}
)

// spdu dispatches one TSDU by its first SPDU.
func (s *Session) spdu(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	si, params, rest, ok := spduHeader(b)
	if !ok {
		s.malformed(ctx, reasonSPDU)
		return
	}
	switch si {
	case spduGT, spduPT:
		// A category 0 SPDU (GT or PT) and the DT it is concatenated
		// with, whose user information runs to the end of the TSDU. A
		// lone DT is taken as it is.
		if len(rest) >= 2 && rest[0] == spduDT {
			_, _, ui, ok := spduHeader(rest)
			if !ok {
				s.malformed(ctx, reasonSPDU)
				return
			}
			rest = ui
		}
		if len(rest) == 0 {
			return
		}
		s.userData(dir, rest, ctx)
		return
	case spduCN, spduAC, spduRF, spduFN, spduDN, spduAB:
	default:
		return // NF, AA, expedited and activity SPDUs carry no MMS
	}
	var p spduParams
	if !parseParams(params, &p) {
		s.malformed(ctx, reasonSPDUParams)
		return
	}
	switch si {
	case spduCN:
		s.connect(dir, &p, ctx)
	case spduAC:
		s.accept(dir, &p, ctx)
	case spduRF:
		s.refuse(dir, &p, ctx)
	case spduFN, spduDN:
		if len(p.userData) > 0 {
			s.userData(dir, p.userData, ctx)
		}
	case spduAB:
		s.abortSPDU(dir, &p, ctx)
	}
}

// connect handles a CONNECT SPDU: its user data is a CP-type PPDU (ISO
// 8823-1 section 8.2) whose user data is an ACSE AARQ.
func (s *Session) connect(dir dissect.Direction, p *spduParams, ctx *dissect.Context) {
	s.startExchange(&s.initiate, codeInitiate, "initiate", dir, ctx)
	e := &s.initiate
	if s.calling != "" {
		e.attrs = append(e.attrs, dissect.Attr{Key: "calling_tsap", Value: s.calling})
	}
	if s.called != "" {
		e.attrs = append(e.attrs, dissect.Attr{Key: "called_tsap", Value: s.called})
	}
	if len(p.calling) > 0 {
		e.attrs = append(e.attrs, dissect.Attr{Key: "calling_ssel", Value: hexString(p.calling)})
	}
	if len(p.calld) > 0 {
		e.attrs = append(e.attrs, dissect.Attr{Key: "called_ssel", Value: hexString(p.calld)})
	}
	// CP-type ::= SET { mode-selector [0], normal-mode-parameters [2]
	// IMPLICIT SEQUENCE { ..., calling-presentation-selector [1],
	// called-presentation-selector [2], presentation-context-definition-
	// list [4], ..., user-data } }.
	var cp, f tlv
	if !one(p.userData, &cp) || !cp.is(classUniversal, true, tagSet) {
		s.malformedExchange(e, ctx, reasonPPDU)
		return
	}
	var ud []byte
	for b := cp.val; len(b) > 0; {
		var ok bool
		if b, ok = next(b, &f); !ok {
			s.malformedExchange(e, ctx, reasonPPDU)
			return
		}
		if !f.is(classContext, true, 2) {
			continue
		}
		var g tlv
		for n := f.val; len(n) > 0; {
			if n, ok = next(n, &g); !ok {
				s.malformedExchange(e, ctx, reasonPPDU)
				return
			}
			switch {
			case g.is(classContext, false, 1):
				e.attrs = append(e.attrs, dissect.Attr{Key: "calling_psel", Value: hexString(g.val)})
			case g.is(classContext, false, 2):
				e.attrs = append(e.attrs, dissect.Attr{Key: "called_psel", Value: hexString(g.val)})
			case g.is(classContext, true, 4):
				s.contextList(g.val)
			case g.is(classApplication, true, 1):
				ud = g.val
			}
		}
	}
	if ud == nil {
		s.malformedExchange(e, ctx, reasonPPDU)
		return
	}
	s.fullyEncoded(dir, ud, ctx)
}

// malformedExchange reports a malformed request, dropping the exchange it
// started.
func (s *Session) malformedExchange(e *exchange, ctx *dissect.Context, reason string) {
	e.used = false
	s.malformed(ctx, reason)
}

// contextList records the context identifiers of the ACSE and MMS
// abstract syntaxes from a presentation-context-definition-list:
// SEQUENCE OF SEQUENCE { presentation-context-identifier INTEGER,
// abstract-syntax-name OBJECT IDENTIFIER, transfer-syntax-name-list }.
func (s *Session) contextList(b []byte) {
	var item, f tlv
	for len(b) > 0 {
		var ok bool
		if b, ok = next(b, &item); !ok {
			return
		}
		id := int64(-1)
		for c := item.val; len(c) > 0; {
			if c, ok = next(c, &f); !ok {
				break
			}
			switch {
			case f.is(classUniversal, false, tagInteger):
				id, _ = intVal(f.val)
			case f.is(classUniversal, false, tagOID) && id >= 0:
				switch string(f.val) {
				case string(oidACSE):
					s.ctxACSE = id
				case string(oidMMS):
					s.ctxMMS = id
				}
			}
		}
	}
}

// accept handles an ACCEPT SPDU: a CPA-PPDU whose user data is an AARE.
func (s *Session) accept(dir dissect.Direction, p *spduParams, ctx *dissect.Context) {
	// CPA-PPDU ::= SET { mode-selector [0], normal-mode-parameters [2]
	// IMPLICIT SEQUENCE { ..., responding-presentation-selector [3],
	// presentation-context-definition-result-list [5], ..., user-data } }.
	var cpa, f, g tlv
	if !one(p.userData, &cpa) || !cpa.is(classUniversal, true, tagSet) {
		s.malformed(ctx, reasonPPDU)
		return
	}
	for b := cpa.val; len(b) > 0; {
		var ok bool
		if b, ok = next(b, &f); !ok {
			s.malformed(ctx, reasonPPDU)
			return
		}
		if !f.is(classContext, true, 2) {
			continue
		}
		for n := f.val; len(n) > 0; {
			if n, ok = next(n, &g); !ok {
				s.malformed(ctx, reasonPPDU)
				return
			}
			if g.is(classApplication, true, 1) {
				s.fullyEncoded(dir, g.val, ctx)
				return
			}
		}
	}
	s.malformed(ctx, reasonPPDU)
}

// refuse handles a REFUSE SPDU: the connection (and the association it
// carried) was refused, by the session entity or, with a CPR-PPDU in the
// user data, by the presentation entity.
func (s *Session) refuse(dir dissect.Direction, p *spduParams, ctx *dissect.Context) {
	op := s.op(ctx)
	op.FunctionCode, op.FunctionName, op.Class = codeInitiate, "initiate", dissect.ClassOther
	s.answer(&s.initiate, dir, op)
	op.Result = dissect.Result{Status: dissect.StatusError, Text: "refused"}
	if p.hasReason && len(p.reason) > 0 {
		r := p.reason[0]
		op.Result.Code, op.Result.Text = int(r), refuseReason(r)
		if r == 2 && len(p.reason) > 1 {
			// CPR-PPDU ::= CHOICE { ..., normal-mode-parameters SEQUENCE
			// { ..., provider-reason [10] IMPLICIT Provider-reason, ... } }
			var cpr, f tlv
			if one(p.reason[1:], &cpr) && cpr.is(classUniversal, true, tagSequence) {
				for b := cpr.val; len(b) > 0; {
					var ok bool
					if b, ok = next(b, &f); !ok {
						break
					}
					if f.is(classContext, false, 10) {
						if v, ok := intVal(f.val); ok && v >= 0 && v < int64(len(presProviderReasons)) {
							op.Result.Text = presProviderReasons[v]
						}
					}
				}
			}
		}
	}
	ctx.Emit(op)
}

// abortSPDU handles an ABORT SPDU: an ARU-PPDU in its user data carries
// the ACSE ABRT; without one the session or presentation entity aborted.
func (s *Session) abortSPDU(dir dissect.Direction, p *spduParams, ctx *dissect.Context) {
	// ARU-PPDU ::= CHOICE { x400-mode-parameters SET, normal-mode-
	// parameters [0] IMPLICIT SEQUENCE { presentation-context-identifier-
	// list [0], user-data } }.
	var aru, f tlv
	if len(p.userData) > 0 && one(p.userData, &aru) && aru.is(classContext, true, 0) {
		for b := aru.val; len(b) > 0; {
			var ok bool
			if b, ok = next(b, &f); !ok {
				break
			}
			if f.is(classApplication, true, 1) {
				s.fullyEncoded(dir, f.val, ctx)
				return
			}
		}
	}
	op := s.op(ctx)
	op.FunctionCode, op.FunctionName, op.Class = codeAbort, "abort", dissect.ClassOther
	direction(op, dir)
	op.Result = dissect.Result{Status: dissect.StatusError, Text: "aborted by the session or presentation provider"}
	ctx.Emit(op)
}

// userData decodes presentation user data outside connection set-up: the
// fully encoded data (0x61) of DT, FINISH and DISCONNECT SPDUs. Simply
// encoded data ([APPLICATION 0]) carries no presentation context and is
// not used with ACSE.
func (s *Session) userData(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var ud tlv
	if !one(b, &ud) || !ud.is(classApplication, true, 1) {
		s.malformed(ctx, reasonUserData)
		return
	}
	s.fullyEncoded(dir, ud.val, ctx)
}

// fullyEncoded decodes Fully-encoded-data ::= SEQUENCE OF PDV-list, PDV-
// list ::= SEQUENCE { transfer-syntax-name OPTIONAL, presentation-context-
// identifier INTEGER, presentation-data-values CHOICE { single-ASN1-type
// [0] ANY, octet-aligned [1] IMPLICIT OCTET STRING, arbitrary [2] } } (ISO
// 8823-1 section 8.4), and hands each value to ACSE or MMS. ACSE APDUs are
// [APPLICATION 0..4] and MMS PDUs context-specific, so the value's tag
// tells them apart when the context definition was not seen.
func (s *Session) fullyEncoded(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var pdv, f tlv
	for n := 0; len(b) > 0 && n < maxPDVs; n++ {
		var ok bool
		if b, ok = next(b, &pdv); !ok || !pdv.is(classUniversal, true, tagSequence) {
			s.malformed(ctx, reasonUserData)
			return
		}
		id := int64(-1)
		var value []byte
		for c := pdv.val; len(c) > 0; {
			if c, ok = next(c, &f); !ok {
				s.malformed(ctx, reasonUserData)
				return
			}
			switch {
			case f.is(classUniversal, false, tagInteger):
				id, _ = intVal(f.val)
			case f.is(classContext, true, 0), f.is(classContext, false, 1):
				value = f.val
			}
		}
		if id < 0 || value == nil {
			s.malformed(ctx, reasonUserData)
			return
		}
		if id != s.ctxACSE && id != s.ctxMMS && s.ctxACSE >= 0 && s.ctxMMS >= 0 {
			continue // a context of another abstract syntax
		}
		if len(value) > 0 && value[0]>>6 == classApplication {
			s.acse(dir, value, ctx)
		} else {
			s.mmsPDU(dir, value, ctx)
		}
	}
}

// hexString formats a selector as hexadecimal ("0x0001"), as tshark
// prints the presentation and session selectors. It allocates; connection
// set-up only.
func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2, 2+2*len(b))
	out[0], out[1] = '0', 'x'
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0x0f])
	}
	return string(out)
}

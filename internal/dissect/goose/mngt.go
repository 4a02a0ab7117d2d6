package goose

import (
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

// GSE management (IEC 61850-8-1 Annex A, GSEMngtPdu): a subscriber asks a
// publisher which data set members a GOOSE control block carries.
//
//	GSEMngtPdu ::= [APPLICATION 0] SEQUENCE { stateID [0] INTEGER,
//	    requestResp CHOICE { requests [1] ..., responses [2] ... } }
//
// Requests and responses carry a CHOICE whose tag is the service (names
// below); a response may instead be gseMngtNotSupported [0] NULL.
var mngtNames = [...]string{1: "get_go_reference", 2: "get_goose_element_number",
	3: "get_gs_reference", 4: "get_gsse_data_offset"}

// glbErrorNames are the GlbErrors of a negative response.
var glbErrorNames = [...]string{"other", "unknown_control_block", "response_too_large",
	"control_block_configuration_error"}

// Violations of GSE management PDUs.
var (
	errMngt = &violation{code: "bad_gse_management", text: "goose: gseMngtPdu without stateID and a known request or response"}
)

// management fills op from a gseMngtPdu: function the service name, class
// read, request from the sender, response (client and server swapped) for
// a response. Attributes: state_id, ident, confRev, items (offsets,
// references or results listed); targets: the control block (ident) and
// the data set of a positive response.
func management(f *dissect.Frame, apdu []byte, op *dissect.Operation) {
	op.FunctionName = "gse_management"
	op.Class = dissect.ClassRead
	if err := parseManagement(f, apdu, op); err != nil {
		v, _ := err.(*violation)
		malformed(op, v)
	}
}

func parseManagement(f *dissect.Frame, apdu []byte, op *dissect.Operation) error {
	e, _, err := next(apdu)
	if err != nil {
		return err
	}
	b := e.val
	st, b, err := next(b)
	if err != nil {
		return err
	}
	id, ok := integer(st.val)
	if !st.context(0) || st.constructed() || !ok {
		return errMngt
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "state_id", Value: strconv.FormatInt(id, 10)})
	rr, _, err := next(b)
	if err != nil {
		return err
	}
	if rr.class() != classContext || (rr.tag != 1 && rr.tag != 2) || !rr.constructed() {
		return errMngt
	}
	svc, _, err := next(rr.val)
	if err != nil {
		return err
	}
	if svc.class() != classContext || svc.tag > 4 {
		return errMngt
	}
	if rr.tag == 2 {
		op.Request, op.Response = false, true
		op.Client.MAC, op.Server.MAC = f.DstMAC, f.SrcMAC
	}
	if svc.tag == 0 {
		if rr.tag == 1 {
			return errMngt
		}
		op.Result = dissect.Result{Status: dissect.StatusError, Text: "not_supported"}
		return nil
	}
	if !svc.constructed() {
		return errMngt
	}
	op.FunctionCode = int(svc.tag)
	op.FunctionName = mngtNames[svc.tag]
	op.Result.Status = dissect.StatusOK
	if rr.tag == 1 {
		op.Result.Status = dissect.StatusUnknown
	}
	for b := svc.val; len(b) > 0; {
		fl, rest, err := next(b)
		if err != nil {
			return err
		}
		b = rest
		if fl.class() != classContext {
			return errMngt
		}
		switch {
		case fl.tag == 0 && !fl.constructed(): // ident
			op.Targets = append(op.Targets, dissect.Target{Kind: "control_block", Name: dissect.Intern(fl.val)})
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "ident", Value: dissect.Intern(fl.val)})
		case fl.tag == 1 && rr.tag == 1 && fl.constructed(): // offset or references
			n, err := count(fl.val)
			if err != nil {
				return err
			}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "items", Value: decimal(uint32(n))})
		case fl.tag == 1 && rr.tag == 2 && !fl.constructed(): // confRev
			v, err := unsigned32(fl.val)
			if err != nil {
				return err
			}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "confRev", Value: decimal(v)})
		case fl.tag == 2 && rr.tag == 2 && fl.constructed(): // responsePositive
			for p := fl.val; len(p) > 0; {
				x, rest, err := next(p)
				if err != nil {
					return err
				}
				p = rest
				switch {
				case x.context(0):
					op.Targets = append(op.Targets, dissect.Target{Kind: "dataset", Name: dissect.Intern(x.val)})
				case x.context(1):
					n, err := count(x.val)
					if err != nil {
						return err
					}
					op.Attrs = append(op.Attrs, dissect.Attr{Key: "items", Value: decimal(uint32(n))})
				}
			}
		case fl.tag == 3 && rr.tag == 2: // responseNegative
			n, ok := integer(fl.val)
			if !ok {
				return errFieldSize
			}
			op.Result = dissect.Result{Status: dissect.StatusError, Code: int(n), Text: "unknown"}
			if n >= 0 && n < int64(len(glbErrorNames)) {
				op.Result.Text = glbErrorNames[n]
			}
		}
	}
	return nil
}

// count returns the number of elements in the contents of a SEQUENCE OF.
func count(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		_, rest, err := next(b)
		if err != nil {
			return n, err
		}
		b, n = rest, n+1
	}
	return n, nil
}

package mms

import (
	"github.com/otwatch/otwatch/internal/dissect"
)

// Target kinds.
const (
	kindVariable          = "variable"
	kindVariableList      = "variable_list"
	kindAddress           = "address"
	kindDomain            = "domain"
	kindFile              = "file"
	kindProgramInvocation = "program_invocation"
	kindJournal           = "journal"
)

// addTarget appends t unless ts already holds maxTargets.
func addTarget(ts []dissect.Target, t dissect.Target) []dissect.Target {
	if len(ts) >= maxTargets {
		return ts
	}
	return append(ts, t)
}

// name interns the bytes of a name made of one or two parts joined by sep.
func (s *Session) name(a []byte, sep byte, b []byte) string {
	if b == nil {
		return dissect.Intern(a)
	}
	s.scratch = append(append(append(s.scratch[:0], a...), sep), b...)
	return dissect.Intern(s.scratch)
}

// objectName reads ObjectName ::= CHOICE { vmd-specific [0] IMPLICIT
// Identifier, domain-specific [1] IMPLICIT SEQUENCE { domainId
// Identifier, itemId Identifier }, aa-specific [2] IMPLICIT Identifier }
// (ISO 9506-2, ObjectName) into a target of the given kind. A
// domain-specific name reads "domainId/itemId", the IEC 61850-8-1 object
// reference ("LD0/LLN0$ST$Mod").
func (s *Session) objectName(n *tlv, kind string, t *dissect.Target) bool {
	if n.class != classContext {
		return false
	}
	*t = dissect.Target{Kind: kind}
	switch {
	case n.tag == 0 && !n.cons, n.tag == 2 && !n.cons:
		t.Name = s.name(n.val, 0, nil)
	case n.tag == 1 && n.cons:
		var d, i tlv
		rest, ok := next(n.val, &d)
		if !ok || !d.is(classUniversal, false, tagVisible) || !one(rest, &i) || !i.is(classUniversal, false, tagVisible) {
			return false
		}
		t.Name = s.name(d.val, '/', i.val)
	default:
		return false
	}
	return true
}

// explicitName reads an ObjectName under an explicit tag.
func (s *Session) explicitName(f *tlv, kind string, ts []dissect.Target) ([]dissect.Target, bool) {
	var n tlv
	var t dissect.Target
	if !one(f.val, &n) || !s.objectName(&n, kind, &t) {
		return ts, false
	}
	return addTarget(ts, t), true
}

// variableSpec reads VariableSpecification ::= CHOICE { name [0]
// ObjectName, address [1] Address, variableDescription [2] IMPLICIT
// SEQUENCE { address Address, ... }, scatteredAccessDescription [3],
// invalidated [4] }.
func (s *Session) variableSpec(v *tlv, ts []dissect.Target) ([]dissect.Target, bool) {
	if v.class != classContext {
		return ts, false
	}
	switch {
	case v.tag == 0 && v.cons:
		return s.explicitName(v, kindVariable, ts)
	case v.tag == 1 && v.cons:
		var a tlv
		if !one(v.val, &a) {
			return ts, false
		}
		return s.address(&a, ts), true
	case v.tag == 2 && v.cons:
		var a tlv
		if _, ok := next(v.val, &a); !ok {
			return ts, false
		}
		return s.address(&a, ts), true
	}
	return ts, true // scattered access or invalidated: no name
}

// address reads Address ::= CHOICE { numericAddress [0] IMPLICIT
// Unsigned32, symbolicAddress [1] IMPLICIT VisibleString,
// unconstrainedAddress [2] IMPLICIT OCTET STRING }.
func (s *Session) address(a *tlv, ts []dissect.Target) []dissect.Target {
	switch {
	case a.is(classContext, false, 0):
		if v, ok := uintVal(a.val); ok {
			ts = addTarget(ts, dissect.Target{Kind: kindAddress, Address: v})
		}
	case a.is(classContext, false, 1):
		ts = addTarget(ts, dissect.Target{Kind: kindAddress, Name: s.name(a.val, 0, nil)})
	}
	return ts
}

// variableAccess reads VariableAccessSpecification ::= CHOICE {
// listOfVariable [0] IMPLICIT SEQUENCE OF SEQUENCE { variableSpecification,
// alternateAccess [5] IMPLICIT OPTIONAL }, variableListName [1] ObjectName
// }. It returns the targets and the number of variables listed.
func (s *Session) variableAccess(vas *tlv, ts []dissect.Target) ([]dissect.Target, int, bool) {
	switch {
	case vas.is(classContext, true, 0):
		n := 0
		var item, spec tlv
		for b := vas.val; len(b) > 0; n++ {
			var ok bool
			if b, ok = next(b, &item); !ok || !item.is(classUniversal, true, tagSequence) {
				return ts, n, false
			}
			if _, ok = next(item.val, &spec); !ok {
				return ts, n, false
			}
			if ts, ok = s.variableSpec(&spec, ts); !ok {
				return ts, n, false
			}
		}
		return ts, n, true
	case vas.is(classContext, true, 1):
		ts, ok := s.explicitName(vas, kindVariableList, ts)
		return ts, 0, ok
	}
	return ts, 0, false
}

// fileName reads FileName ::= SEQUENCE OF GraphicString (the contents of
// an IMPLICIT tag), joining several components with '/'.
func (s *Session) fileName(b []byte, ts []dissect.Target) ([]dissect.Target, bool) {
	var g tlv
	s.scratch = s.scratch[:0]
	for len(b) > 0 {
		var ok bool
		if b, ok = next(b, &g); !ok || !g.is(classUniversal, false, tagGraphic) {
			return ts, false
		}
		if len(s.scratch) > 0 {
			s.scratch = append(s.scratch, '/')
		}
		s.scratch = append(s.scratch, g.val...)
	}
	if len(s.scratch) == 0 {
		return ts, true
	}
	return addTarget(ts, dissect.Target{Kind: kindFile, Name: dissect.Intern(s.scratch)}), true
}

// addAttr appends a constant attribute to a pending request.
func (p *pending) addAttr(key, value string) {
	if p.na < maxAttrs {
		p.attrs[p.na] = dissect.Attr{Key: key, Value: value}
		p.na++
	}
}

// requestDetail reads what a confirmed request acts on into p. It returns
// false when the request's encoding is broken.
func (s *Session) requestDetail(p *pending, svc *tlv) bool {
	ts := p.targets[:0]
	defer func() { p.nt = len(ts) }()
	var f tlv
	var ok bool
	b := svc.val
	switch svc.tag {
	case svcRead:
		// Read-Request ::= SEQUENCE { specificationWithResult [0]
		// IMPLICIT BOOLEAN DEFAULT FALSE, variableAccessSpecificatn [1]
		// VariableAccessSpecification }
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				return false
			}
			if f.is(classContext, true, 1) {
				var vas tlv
				if !one(f.val, &vas) {
					return false
				}
				var n int
				if ts, n, ok = s.variableAccess(&vas, ts); !ok {
					return false
				}
				if n > 1 {
					p.addAttr("variables", num(int64(n)))
				}
			}
		}
	case svcWrite:
		// Write-Request ::= SEQUENCE { variableAccessSpecificatn,
		// listOfData [0] IMPLICIT SEQUENCE OF Data }
		if _, ok = next(b, &f); !ok {
			return false
		}
		var n int
		if ts, n, ok = s.variableAccess(&f, ts); !ok {
			return false
		}
		if n > 1 {
			p.addAttr("variables", num(int64(n)))
		}
	case svcGetNameList:
		// GetNameList-Request ::= SEQUENCE { extendedObjectClass [0]
		// CHOICE { objectClass [0] IMPLICIT ObjectClass }, objectScope
		// [1] CHOICE { vmdSpecific [0] NULL, domainSpecific [1]
		// Identifier, aaSpecific [2] NULL }, continueAfter [2] OPTIONAL }
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				return false
			}
			var c tlv
			switch {
			case f.is(classContext, true, 0):
				if one(f.val, &c) && c.is(classContext, false, 0) {
					if v, ok := intVal(c.val); ok {
						p.addAttr("object_class", objectClass(v))
					}
				}
			case f.is(classContext, true, 1):
				if !one(f.val, &c) || c.class != classContext {
					return false
				}
				switch c.tag {
				case 0:
					p.addAttr("scope", "vmd")
				case 1:
					p.addAttr("scope", "domain")
					ts = addTarget(ts, dissect.Target{Kind: kindDomain, Name: s.name(c.val, 0, nil)})
				case 2:
					p.addAttr("scope", "association")
				}
			case f.is(classContext, false, 2):
				p.addAttr("continue_after", s.name(f.val, 0, nil))
			}
		}
	case svcGetVariableAccessAttributes:
		// GetVariableAccessAttributes-Request ::= CHOICE { name [0]
		// ObjectName, address [1] Address }
		if !one(b, &f) {
			return false
		}
		if ts, ok = s.variableSpec(&f, ts); !ok {
			return false
		}
	case svcDefineNamedVariable, svcRename:
		// DefineNamedVariable-Request ::= SEQUENCE { variableName [0]
		// ObjectName, ... }; Rename-Request ::= SEQUENCE {
		// extendedObjectClass [0], currentName [1] ObjectName, ... }
		want := uint32(0)
		if svc.tag == svcRename {
			want = 1
		}
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				return false
			}
			if f.is(classContext, true, want) {
				if ts, ok = s.explicitName(&f, kindVariable, ts); !ok {
					return false
				}
			}
		}
	case svcDefineNamedVariableList:
		// DefineNamedVariableList-Request ::= SEQUENCE { variableListName
		// ObjectName, listOfVariable [0] IMPLICIT SEQUENCE OF SEQUENCE {
		// variableSpecification, alternateAccess [5] OPTIONAL } }
		if b, ok = next(b, &f); !ok {
			return false
		}
		var t dissect.Target
		if !s.objectName(&f, kindVariableList, &t) {
			return false
		}
		ts = addTarget(ts, t)
		if len(b) > 0 {
			if !one(b, &f) || !f.is(classContext, true, 0) {
				return false
			}
			var n int
			if ts, n, ok = s.variableAccess(&f, ts); !ok {
				return false
			}
			p.addAttr("variables", num(int64(n)))
		}
	case svcGetNamedVariableListAttributes:
		// GetNamedVariableListAttributes-Request ::= ObjectName: the
		// [12] tag cannot be implicit on a CHOICE, so it wraps it.
		var t dissect.Target
		if !one(b, &f) || !s.objectName(&f, kindVariableList, &t) {
			return false
		}
		ts = addTarget(ts, t)
	case svcDeleteNamedVariableList:
		// DeleteNamedVariableList-Request ::= SEQUENCE { scopeOfDelete
		// [0], listOfVariableListName [1] IMPLICIT SEQUENCE OF ObjectName,
		// domainName [2] IMPLICIT Identifier }
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				return false
			}
			switch {
			case f.is(classContext, true, 1):
				var n tlv
				for c := f.val; len(c) > 0; {
					if c, ok = next(c, &n); !ok {
						return false
					}
					var t dissect.Target
					if s.objectName(&n, kindVariableList, &t) {
						ts = addTarget(ts, t)
					}
				}
			case f.is(classContext, false, 2):
				ts = addTarget(ts, dissect.Target{Kind: kindDomain, Name: s.name(f.val, 0, nil)})
			}
		}
	case svcDownloadSegment, svcInitiateUploadSequence, svcDeleteDomain, svcGetDomainAttributes:
		// An Identifier: the domain name.
		if svc.cons {
			return false
		}
		ts = addTarget(ts, dissect.Target{Kind: kindDomain, Name: s.name(b, 0, nil)})
		s.transferAttr(p, svc.tag)
	case svcDeleteProgramInvocation, svcGetProgramInvocationAttributes:
		if svc.cons {
			return false
		}
		ts = addTarget(ts, dissect.Target{Kind: kindProgramInvocation, Name: s.name(b, 0, nil)})
	case svcInitiateDownloadSequence, svcTerminateDownloadSequence, svcRequestDomainDownload, svcRequestDomainUpload,
		svcLoadDomainContent, svcStoreDomainContent:
		// SEQUENCE { domainName [0] IMPLICIT Identifier, ..., fileName
		// [4] (download, load) or [1] (upload, store) IMPLICIT FileName }
		fileTag := uint32(4)
		if svc.tag == svcRequestDomainUpload || svc.tag == svcStoreDomainContent {
			fileTag = 1
		}
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				return false
			}
			switch {
			case f.is(classContext, false, 0):
				ts = addTarget(ts, dissect.Target{Kind: kindDomain, Name: s.name(f.val, 0, nil)})
			case f.is(classContext, true, fileTag) && svc.tag != svcInitiateDownloadSequence && svc.tag != svcTerminateDownloadSequence:
				if ts, ok = s.fileName(f.val, ts); !ok {
					return false
				}
			}
		}
		s.transferAttr(p, svc.tag)
	case svcCreateProgramInvocation:
		// CreateProgramInvocation-Request ::= SEQUENCE {
		// programInvocationName [0] IMPLICIT Identifier, listOfDomainName
		// [1] IMPLICIT SEQUENCE OF Identifier, ... }
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				return false
			}
			switch {
			case f.is(classContext, false, 0):
				ts = addTarget(ts, dissect.Target{Kind: kindProgramInvocation, Name: s.name(f.val, 0, nil)})
			case f.is(classContext, true, 1):
				var d tlv
				for c := f.val; len(c) > 0; {
					if c, ok = next(c, &d); !ok {
						return false
					}
					ts = addTarget(ts, dissect.Target{Kind: kindDomain, Name: s.name(d.val, 0, nil)})
				}
			}
		}
	case svcStart, svcStop, svcResume, svcReset, svcKill:
		// SEQUENCE { programInvocationName [0] IMPLICIT Identifier, ... }
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				return false
			}
			if f.is(classContext, false, 0) {
				ts = addTarget(ts, dissect.Target{Kind: kindProgramInvocation, Name: s.name(f.val, 0, nil)})
			}
		}
		switch svc.tag {
		case svcStart, svcResume:
			p.addAttr("plc_state", "run")
		case svcStop, svcKill:
			p.addAttr("plc_state", "stop")
		case svcReset:
			p.addAttr("plc_state", "idle")
		}
	case svcObtainFile, svcFileRename:
		// ObtainFile-Request ::= SEQUENCE { sourceFileServer [0]
		// OPTIONAL, sourceFile [1] IMPLICIT FileName, destinationFile
		// [2] IMPLICIT FileName }; FileRename-Request ::= SEQUENCE {
		// currentFileName [0] IMPLICIT FileName, newFileName [1] }
		lo := uint32(1)
		if svc.tag == svcFileRename {
			lo = 0
		}
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				return false
			}
			if f.class == classContext && f.cons && (f.tag == lo || f.tag == lo+1) {
				if ts, ok = s.fileName(f.val, ts); !ok {
					return false
				}
			}
		}
	case svcFileOpen, svcFileDirectory:
		// FileOpen-Request ::= SEQUENCE { fileName [0] IMPLICIT FileName,
		// initialPosition [1] }; FileDirectory-Request ::= SEQUENCE {
		// fileSpecification [0] IMPLICIT FileName OPTIONAL, continueAfter
		// [1] OPTIONAL }
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				return false
			}
			if f.is(classContext, true, 0) {
				if ts, ok = s.fileName(f.val, ts); !ok {
					return false
				}
			}
		}
	case svcFileDelete:
		// FileDelete-Request ::= FileName
		if ts, ok = s.fileName(b, ts); !ok {
			return false
		}
	case svcFileRead, svcFileClose:
		// FileRead-Request ::= Integer32 (the FRSM id of a FileOpen)
		v, ok := intVal(b)
		if svc.cons || !ok {
			return false
		}
		p.frsm, p.hasFRSM = v, true
		p.addAttr("frsm_id", num(v))
		if name := s.fileOf(v); name != "" {
			ts = addTarget(ts, dissect.Target{Kind: kindFile, Name: name})
		}
	case svcReadJournal, svcWriteJournal, svcInitializeJournal:
		// SEQUENCE { journalName [0] ObjectName, ... }
		if _, ok = next(b, &f); ok && f.is(classContext, true, 0) {
			ts, _ = s.explicitName(&f, kindJournal, ts)
		}
	}
	return true
}

// transferAttr marks the direction of a domain transfer service.
func (s *Session) transferAttr(p *pending, tag uint32) {
	switch tag {
	case svcInitiateDownloadSequence, svcDownloadSegment, svcTerminateDownloadSequence, svcRequestDomainDownload, svcLoadDomainContent:
		p.addAttr("direction", "download")
	case svcInitiateUploadSequence, svcRequestDomainUpload, svcStoreDomainContent:
		p.addAttr("direction", "upload")
	}
}

// fileOf returns the file a FileOpen answered with FRSM id frsm.
func (s *Session) fileOf(frsm int64) string {
	for i := range s.files {
		if s.files[i].used && s.files[i].frsm == frsm {
			return s.files[i].name
		}
	}
	return ""
}

// responseDetail reads the result of a confirmed response into op; p is
// its request, or nil.
func (s *Session) responseDetail(dir dissect.Direction, op *dissect.Operation, p *pending, svc *tlv) {
	var f tlv
	var ok bool
	b := svc.val
	switch svc.tag {
	case svcRead:
		// Read-Response ::= SEQUENCE { variableAccessSpecificatn [0]
		// OPTIONAL, listOfAccessResult [1] IMPLICIT SEQUENCE OF
		// AccessResult }; AccessResult ::= CHOICE { failure [0]
		// IMPLICIT DataAccessError, success Data }
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				break
			}
			switch {
			case f.is(classContext, true, 0) && p == nil:
				var vas tlv
				if one(f.val, &vas) {
					op.Targets, _, _ = s.variableAccess(&vas, op.Targets)
				}
			case f.is(classContext, true, 1):
				accessResults(op, f.val)
			}
		}
	case svcWrite:
		// Write-Response ::= SEQUENCE OF CHOICE { failure [0] IMPLICIT
		// DataAccessError, success [1] IMPLICIT NULL }
		accessResults(op, b)
	case svcIdentify:
		// Identify-Response ::= SEQUENCE { vendorName [0] IMPLICIT
		// VisibleString, modelName [1], revision [2], ... }
		server := dir == dissect.ToClient
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				break
			}
			if f.class != classContext || f.cons || len(f.val) == 0 {
				continue
			}
			key := ""
			switch f.tag {
			case 0:
				key = dissect.FactVendor
			case 1:
				key = dissect.FactModel
			case 2:
				key = dissect.FactFirmware
			}
			if key != "" {
				op.Identity = append(op.Identity, dissect.Fact{Key: key, Value: dissect.Intern(f.val), Server: server})
			}
		}
	case svcGetNameList:
		// GetNameList-Response ::= SEQUENCE { listOfIdentifier [0]
		// IMPLICIT SEQUENCE OF Identifier, moreFollows [1] IMPLICIT
		// BOOLEAN DEFAULT TRUE }
		domains := p != nil && op.Attr("object_class") == "domain"
		more := "true"
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				break
			}
			switch {
			case f.is(classContext, true, 0):
				n := 0
				var id tlv
				for c := f.val; len(c) > 0; n++ {
					if c, ok = next(c, &id); !ok {
						break
					}
					if domains {
						op.Targets = addTarget(op.Targets, dissect.Target{Kind: kindDomain, Name: s.name(id.val, 0, nil)})
					}
				}
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "names", Value: num(int64(n))})
			case f.is(classContext, false, 1):
				if len(f.val) == 1 && f.val[0] == 0 {
					more = "false"
				}
			}
		}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "more_follows", Value: more})
	case svcStatus:
		statusAttrs(op, b)
	case svcFileOpen:
		// FileOpen-Response ::= SEQUENCE { frsmID [0] IMPLICIT Integer32,
		// fileAttributes [1] IMPLICIT SEQUENCE { sizeOfFile [0], ... } }
		for len(b) > 0 {
			if b, ok = next(b, &f); !ok {
				break
			}
			switch {
			case f.is(classContext, false, 0):
				if v, ok := intVal(f.val); ok {
					op.Attrs = append(op.Attrs, dissect.Attr{Key: "frsm_id", Value: num(v)})
					if len(op.Targets) > 0 && op.Targets[0].Kind == kindFile {
						s.files[s.nextFile] = openFile{used: true, frsm: v, name: op.Targets[0].Name}
						s.nextFile = (s.nextFile + 1) % maxFiles
					}
				}
			case f.is(classContext, true, 1):
				var size tlv
				if one(f.val, &size) && size.is(classContext, false, 0) {
					if v, ok := intVal(size.val); ok {
						op.Attrs = append(op.Attrs, dissect.Attr{Key: "file_size", Value: num(v)})
					}
				}
			}
		}
	case svcFileClose:
		if p != nil && p.hasFRSM {
			for i := range s.files {
				if s.files[i].used && s.files[i].frsm == p.frsm {
					s.files[i] = openFile{}
				}
			}
		}
	}
}

// accessResults checks the results of a read (AccessResult ::= CHOICE {
// failure [0] IMPLICIT DataAccessError, success Data }) or a write
// (CHOICE { failure [0] IMPLICIT DataAccessError, success [1] IMPLICIT
// NULL }): the first failure makes the operation an error with its
// DataAccessError, and attribute failures counts them.
func accessResults(op *dissect.Operation, b []byte) {
	var r tlv
	failures := 0
	for len(b) > 0 {
		var ok bool
		if b, ok = next(b, &r); !ok {
			return
		}
		if !r.is(classContext, false, 0) {
			continue
		}
		failures++
		if failures == 1 {
			v, _ := intVal(r.val)
			op.Result = dissect.Result{Status: dissect.StatusError, Code: int(v), Text: dataAccessError(v)}
		}
	}
	if failures > 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "failures", Value: num(int64(failures))})
	}
}

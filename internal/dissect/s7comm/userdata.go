package s7comm

import (
	"bytes"
	"strings"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Userdata parameter types (high nibble of parameter byte 5).
const (
	udPush      = 0x0
	udNCPush    = 0x3
	udRequest   = 0x4
	udNCRequest = 0x7
	udResponse  = 0x8
	udNCResp    = 0xb
)

// userdata handles a userdata PDU. Parameter: head 00 01 12, parameter
// length, method, type and function group, subfunction, sequence number
// and, in answers, data unit reference, last data unit and error code.
// Data: return code, transport size, length, data.
func (s *session) userdata(dir dissect.Direction, ref uint16, param, data []byte, ctx *dissect.Context) {
	// The parameter head is 00 01 12 for most groups, 01 00 10 for mode
	// transition pushes; it is not checked.
	if len(param) < 8 {
		s.malformed(ctx, ProtoS7comm, reasonUserdata)
		return
	}
	typ, group, sub := param[5]>>4, param[5]&0x0f, param[6]
	var last byte
	var errCode uint16
	if param[3] >= 8 && len(param) >= 12 {
		last, errCode = param[9], be16(param[10:12])
	}
	var payload []byte
	rc := byte(0)
	if len(data) >= 4 {
		rc = data[0]
		payload = data[4:]
		if l := int(be16(data[2:4])); l < len(payload) {
			payload = payload[:l]
		}
	}
	switch typ {
	case udRequest, udNCRequest:
		p := s.newPending(dir, true, ref, ctx)
		p.group, p.sub = group, sub
		// A request with the long parameter form asks for the next
		// fragment of an answer (data unit reference set).
		p.followUp = param[3] >= 8 && rc == 0x0a && len(payload) == 0
		if group == groupCPU && sub == subReadSZL && rc == 0xff && len(payload) >= 4 {
			p.hasSZL, p.szlID, p.szlIndex = true, be16(payload[0:2]), be16(payload[2:4])
		}
		if group == groupBlock && rc == 0xff {
			if sub == 0x03 && len(payload) >= 8 {
				if blk, ok := blockName(payload[:8]); ok {
					p.blocks[0], p.nblocks = blk, 1
				}
			}
		}
	case udResponse, udNCResp:
		op := ctx.Op(ProtoS7comm)
		op.Response = true
		p := s.findPending(1-dir, true, ref)
		if p != nil && (p.group != group || p.sub != sub) {
			p = nil // not the answer to that request: a reused reference
		}
		if p != nil {
			op.Request = true
			op.Packets = append(op.Packets, p.pkt)
			s.fillUserdata(op, p, group, sub)
			p.used = false
		} else {
			s.fillUserdata(op, nil, group, sub)
		}
		op.Result.Status = dissect.StatusOK
		if errCode != 0 {
			op.Result = dissect.Result{Status: dissect.StatusError, Code: int(errCode), Text: errorText(errCode)}
		} else if len(data) >= 1 && rc != 0xff && rc != 0x00 {
			op.Result = dissect.Result{Status: dissect.StatusError, Code: int(rc), Text: returnCode(rc)}
		}
		if group == groupCPU && sub == subReadSZL && errCode == 0 && rc == 0xff {
			s.szlAnswer(op, p, payload, last != 0)
		}
		ctx.Emit(op)
	default:
		// Push and indication: unsolicited messages, one operation each.
		op := ctx.Op(ProtoS7comm)
		s.fillUserdata(op, nil, group, sub)
		op.Request = dir == dissect.ToServer
		op.Response = dir == dissect.ToClient
		op.Result.Status = dissect.StatusOK
		if group == groupModeTransition {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "plc_state", Value: modeName(sub)})
		}
		ctx.Emit(op)
	}
}

// fillUserdata sets function, class and attributes of a userdata
// operation. FunctionCode is the function group and subfunction,
// group<<8 | subfunction.
func (s *session) fillUserdata(op *dissect.Operation, p *pending, group, sub byte) {
	name, class := userdataFunc(group, sub)
	op.FunctionCode = int(group)<<8 | int(sub)
	op.FunctionName, op.Class = name, class
	op.Attrs = append(op.Attrs,
		dissect.Attr{Key: "rosctr", Value: "userdata"},
		dissect.Attr{Key: "function_group", Value: groupName(group)})
	if p == nil {
		return
	}
	if p.followUp {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "follow_up", Value: "true"})
	}
	if p.hasSZL {
		op.Attrs = append(op.Attrs,
			dissect.Attr{Key: "szl_id", Value: hex16(p.szlID)},
			dissect.Attr{Key: "szl_index", Value: hex16(p.szlIndex)})
	}
	for i := 0; i < p.nblocks; i++ {
		b := p.blocks[i]
		op.Targets = append(op.Targets, dissect.Target{Kind: "block", Name: s.blockLabel(b), Address: b.num, Count: 1})
	}
}

// szlAnswer handles the data of a read SZL answer: the SZL header (id,
// index, record length, record count) and records, possibly spread over
// several answers when more is set.
func (s *session) szlAnswer(op *dissect.Operation, p *pending, payload []byte, more bool) {
	if p != nil && p.followUp && s.szlMore {
		if len(s.szlBuf)+len(payload) <= maxSZL {
			s.szlBuf = append(s.szlBuf, payload...)
		}
	} else {
		if len(payload) < 4 {
			return
		}
		s.szlID, s.szlIndex = be16(payload[0:2]), be16(payload[2:4])
		s.szlBuf = append(s.szlBuf[:0], payload...)
		if p == nil || !p.hasSZL {
			op.Attrs = append(op.Attrs,
				dissect.Attr{Key: "szl_id", Value: hex16(s.szlID)},
				dissect.Attr{Key: "szl_index", Value: hex16(s.szlIndex)})
		}
	}
	s.szlMore = more
	if more {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "more_data", Value: "true"})
		return
	}
	szlIdentity(op, s.szlBuf)
	s.szlBuf = s.szlBuf[:0]
}

// szlIdentity turns the records of SZL 0xXX11 (module identification) and
// 0xXX1C (component identification) into identity facts of the server.
func szlIdentity(op *dissect.Operation, b []byte) {
	if len(b) < 8 {
		return
	}
	id := be16(b[0:2])
	rl, count := int(be16(b[4:6])), int(be16(b[6:8]))
	recs := b[8:]
	switch id & 0xff {
	case 0x11:
		if rl < 28 {
			return
		}
		for i := 0; i < count && len(recs) >= rl; i, recs = i+1, recs[rl:] {
			moduleRecord(op, recs[:rl])
		}
	case 0x1c:
		if rl < 2 {
			return
		}
		for i := 0; i < count && len(recs) >= rl; i, recs = i+1, recs[rl:] {
			componentRecord(op, recs[:rl])
		}
	}
}

// moduleRecord reads one SZL 0x0011 record: index, order number (20
// chars), module type, version (Ausbg) and release (Ausbe). Index 1 is the
// module, 6 its basic hardware, 7 its basic firmware, whose version is
// 'V' and the major number, the release the minor and patch numbers.
func moduleRecord(op *dissect.Operation, r []byte) {
	index := be16(r[0:2])
	order := text(r[2:22])
	ausbg, ausbe := be16(r[24:26]), be16(r[26:28])
	switch index {
	case 0x0001:
		addFact(op, dissect.FactModel, order)
		if ausbg>>8 != 'V' && ausbg != 0 {
			addFact(op, dissect.FactHardware, itoa(uint32(ausbg)))
		}
	case 0x0006:
		if ausbg>>8 == 'V' {
			addFact(op, dissect.FactFirmware, version(ausbg, ausbe))
		} else if ausbg != 0 {
			addFact(op, dissect.FactHardware, itoa(uint32(ausbg)))
		}
	case 0x0007:
		if ausbg>>8 == 'V' {
			addFact(op, dissect.FactFirmware, version(ausbg, ausbe))
		}
	}
}

func version(ausbg, ausbe uint16) string {
	return "V" + itoa(uint32(ausbg&0xff)) + "." + itoa(uint32(ausbe>>8)) + "." + itoa(uint32(ausbe&0xff))
}

// componentRecord reads one SZL 0x001C record: index and a text.
func componentRecord(op *dissect.Operation, r []byte) {
	v := text(r[2:])
	switch be16(r[0:2]) {
	case 0x0001:
		addFact(op, dissect.FactHostname, v)
	case 0x0002:
		addFact(op, dissect.FactModule, v)
	case 0x0003:
		addAttr(op, "plant_id", v)
	case 0x0004:
		addAttr(op, "copyright", v)
		if strings.Contains(v, "Siemens") {
			addFact(op, dissect.FactVendor, "Siemens")
		}
	case 0x0005:
		addFact(op, dissect.FactSerial, v)
	case 0x0007:
		addFact(op, dissect.FactProduct, v)
	case 0x0008:
		addAttr(op, "memory_card_serial", v)
	}
}

// addFact adds a server fact once; empty values are dropped.
func addFact(op *dissect.Operation, key, value string) {
	if value == "" {
		return
	}
	for _, f := range op.Identity {
		if f.Key == key && f.Value == value {
			return
		}
	}
	op.Identity = append(op.Identity, dissect.Fact{Key: key, Value: value, Server: true})
}

func addAttr(op *dissect.Operation, key, value string) {
	if value != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: key, Value: value})
	}
}

// text returns a fixed-width SZL string without its NUL padding and
// surrounding blanks.
func text(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	b = bytes.TrimSpace(b)
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return ""
		}
	}
	return string(b)
}

// hex16 formats an SZL id or index as tshark does ("0x0011"), without
// allocating.
func hex16(v uint16) string { return hex16Table(v) }

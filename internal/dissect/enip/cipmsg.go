package enip

import (
	"encoding/binary"
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/cip"
)

// Attribute keys of CIP operations.
const (
	attrCommand  = "enip_command" // encapsulation command carrying the message
	attrSession  = "session"      // encapsulation session handle
	attrEmbedded = "embedded_in"  // "multiple_service_packet" for its services
	attrRouted   = "routed"       // "unconnected_send" for unwrapped requests
	attrConfig   = "config"       // identity|network|time
)

// sendData handles SendRRData and SendUnitData: the common packet format
// with an address item and a data item carrying a CIP message (Volume 2
// sections 2-6 and 3-2).
func (s *Session) sendData(dir dissect.Direction, h *Header, body []byte, ctx *dissect.Context) {
	if h.Status != 0 && len(body) < 8 {
		op := ctx.Op(protocol)
		op.FunctionCode = int(h.Command)
		op.FunctionName = CommandName(h.Command)
		op.Response = true
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(h.Status), Text: StatusName(h.Status)}
		ctx.Emit(op)
		return
	}
	if len(body) < 8 {
		s.malformed(dir, int(h.Command), reasonCPF, ctx)
		return
	}
	n := int(binary.LittleEndian.Uint16(body[6:]))
	b := body[8:]
	var data []byte
	var dataType uint16
	found := false
	for range n {
		if len(b) < 4 {
			s.malformed(dir, int(h.Command), reasonCPF, ctx)
			return
		}
		typ := binary.LittleEndian.Uint16(b)
		l := int(binary.LittleEndian.Uint16(b[2:]))
		if len(b) < 4+l {
			s.malformed(dir, int(h.Command), reasonCPF, ctx)
			return
		}
		if !found && (typ == ItemConnectedData || typ == ItemUnconnectedData) {
			data, dataType, found = b[4:4+l], typ, true
		}
		b = b[4+l:]
	}
	if !found {
		s.malformed(dir, int(h.Command), reasonNoCIP, ctx)
		return
	}
	kind, key := uint8(kindUnconnected), h.Context
	if dataType == ItemConnectedData {
		if len(data) < 2 {
			s.malformed(dir, int(h.Command), reasonNoCIP, ctx)
			return
		}
		kind, key = kindConnected, uint64(binary.LittleEndian.Uint16(data))
		data = data[2:]
	}
	if len(data) == 0 {
		s.malformed(dir, int(h.Command), reasonNoCIP, ctx)
		return
	}
	cmd := CommandName(h.Command)
	sess := s.sessionAttr(h.Session)
	if cip.IsReply(data) {
		s.reply(dir, kind, key, cmd, sess, data, ctx)
		return
	}
	p := s.begin(dir, kind, key, ctx)
	p.addAttr(attrCommand, cmd)
	if sess != "" {
		p.addAttr(attrSession, sess)
	}
	s.request(p, data, 0, ctx)
}

// request decodes a CIP request into p and stores it (several entries for
// a multiple service packet). depth counts unwrapped Unconnected_Sends.
func (s *Session) request(p *pending, msg []byte, depth int, ctx *dissect.Context) {
	req, err := cip.ParseRequest(msg)
	if err != nil {
		s.malformedReq(p, 0, reasonCIP, ctx)
		return
	}
	class, symbolic, ok := s.path(p, req.Path)
	if !ok {
		s.malformedReq(p, int(req.Service), reasonPath, ctx)
		return
	}
	if req.Service == cip.SvcUnconnectedSend && class == cip.ClassConnectionManager && depth < 2 {
		inner, route, err := cip.UnconnectedSend(req.Data)
		if err != nil || len(inner) == 0 {
			s.malformedReq(p, int(req.Service), reasonUnconnected, ctx)
			return
		}
		p.nt = 0
		p.addAttr(attrRouted, "unconnected_send")
		s.route(p, route)
		s.request(p, inner, depth+1, ctx)
		return
	}
	s.describe(p, req, class, symbolic)
	if req.Service != cip.SvcMultipleServicePacket {
		s.store(p, ctx)
		return
	}
	n, err := cip.MultipleCount(req.Data)
	if err != nil {
		s.malformedReq(p, int(req.Service), reasonMultiple, ctx)
		return
	}
	container := *p
	container.nt, container.na = 0, 0
	q := s.store(p, ctx)
	group := q.seq
	for i := range n {
		item, err := cip.MultipleItem(req.Data, n, i)
		c := container
		c.idx = uint8(min(i+1, 255))
		c.group = group
		for _, a := range p.attrs[:p.na] {
			c.addAttr(a.Key, a.Value)
		}
		c.addAttr(attrEmbedded, "multiple_service_packet")
		if err != nil {
			s.malformedReq(&c, 0, reasonMultiple, ctx)
			continue
		}
		r, err := cip.ParseRequest(item)
		if err != nil {
			s.malformedReq(&c, 0, reasonCIP, ctx)
			continue
		}
		cls, sym, ok := s.path(&c, r.Path)
		if !ok {
			s.malformedReq(&c, int(r.Service), reasonPath, ctx)
			continue
		}
		s.describe(&c, r, cls, sym)
		s.store(&c, ctx)
	}
}

// malformedReq emits a malformed request at once.
func (s *Session) malformedReq(p *pending, code int, reason string, ctx *dissect.Context) {
	op := s.opFrom(p, ctx)
	op.FunctionCode = code
	op.FunctionName = "malformed"
	op.Class = dissect.ClassOther
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	ctx.Emit(op)
}

// path adds the request path's segments as targets and returns the first
// class id (0 if none) and whether the path names a tag.
func (s *Session) path(p *pending, path []byte) (class uint32, symbolic, ok bool) {
	haveClass := false
	for len(path) > 0 {
		seg, n, err := cip.NextSegment(path)
		if err != nil || n <= 0 {
			return class, symbolic, false
		}
		path = path[n:]
		switch seg.Kind {
		case cip.SegClass:
			if !haveClass {
				class, haveClass = seg.Value, true
			}
			p.addTarget(dissect.Target{Kind: "class", Name: cip.ClassName(seg.Value), Address: seg.Value})
		case cip.SegInstance:
			p.addTarget(dissect.Target{Kind: "instance", Address: seg.Value})
		case cip.SegAttribute:
			p.addTarget(dissect.Target{Kind: "attribute", Address: seg.Value})
		case cip.SegMember:
			p.addTarget(dissect.Target{Kind: "member", Address: seg.Value})
		case cip.SegConnectionPoint:
			p.addTarget(dissect.Target{Kind: "connection_point", Address: seg.Value})
		case cip.SegSymbol:
			symbolic = true
			p.addTarget(dissect.Target{Kind: "tag", Name: s.intern(seg.Symbol)})
		case cip.SegPort:
			p.addTarget(dissect.Target{Kind: "port", Address: uint32(seg.Port)})
		}
	}
	return class, symbolic, true
}

// route adds the port segments of an Unconnected_Send route path.
func (s *Session) route(p *pending, route []byte) {
	for len(route) > 0 {
		seg, n, err := cip.NextSegment(route)
		if err != nil || n <= 0 {
			return
		}
		route = route[n:]
		if seg.Kind == cip.SegPort {
			addr := uint32(0)
			if len(seg.Link) == 1 {
				addr = uint32(seg.Link[0])
			}
			p.addTarget(dissect.Target{Kind: "route_port", Name: "", Address: uint32(seg.Port)<<8 | addr})
		}
	}
}

// intern returns a string for a tag name, allocating once per name.
func (s *Session) intern(b []byte) string {
	if v, ok := s.tags[string(b)]; ok {
		return v
	}
	v := string(b)
	if s.tags == nil {
		s.tags = make(map[string]string)
	}
	if len(s.tags) < maxTags {
		s.tags[v] = v
	}
	return v
}

// describe names and classifies request req addressed to class.
func (s *Session) describe(p *pending, req cip.Request, class uint32, symbolic bool) {
	p.code = int(req.Service)
	p.name = cip.ServiceName(class, req.Service, symbolic)
	var cfg string
	p.class, cfg = cip.Classify(class, req.Service, symbolic)
	if cfg != "" {
		p.addAttr(attrConfig, cfg)
	}
	p.identity = class == cip.ClassIdentity && req.Service == cip.SvcGetAttributesAll
	switch {
	case class == cip.ClassPCCC && req.Service == cip.SvcExecutePCCC:
		if pc, err := cip.ParsePCCC(req.Data); err == nil {
			p.class = pc.Class()
			p.addAttr("pccc_command", cip.HexByte(pc.Command))
			if pc.Command == 0x06 || pc.Command == 0x07 || pc.Command == 0x0F {
				p.addAttr("pccc_function", cip.HexByte(pc.Function))
			}
		}
	case class == cip.ClassConnectionManager && (req.Service == cip.SvcForwardOpen || req.Service == cip.SvcLargeForwardOpen):
		if f, err := cip.ParseForwardOpenRequest(req.Data, req.Service == cip.SvcLargeForwardOpen); err == nil {
			p.fwdOpen = true
			p.addAttr("connection_serial", strconv.Itoa(int(f.Serial)))
			p.addAttr("transport_class", strconv.Itoa(int(f.TransportClass&0x0F)))
		}
	case class == cip.ClassConnectionManager && req.Service == cip.SvcForwardClose:
		if f, err := cip.ParseForwardClose(req.Data); err == nil {
			p.addAttr("connection_serial", strconv.Itoa(int(f.Serial)))
		}
	case symbolic && len(req.Data) >= 2 && p.nt > 0:
		// Read_Tag: element count; Write_Tag: data type then count.
		var count uint16
		switch p.name {
		case "read_tag", "read_tag_fragmented":
			count = binary.LittleEndian.Uint16(req.Data)
		case "write_tag", "write_tag_fragmented", "read_modify_write_tag":
			if len(req.Data) >= 4 {
				count = binary.LittleEndian.Uint16(req.Data[2:])
			}
		}
		for i := int(p.nt) - 1; i >= 0; i-- {
			if p.targets[i].Kind == "tag" {
				p.targets[i].Count = uint32(count)
				break
			}
		}
	}
}

// reply matches a CIP reply with its request and emits the operation(s).
func (s *Session) reply(dir dissect.Direction, kind uint8, key uint64, cmd, sess string, msg []byte, ctx *dissect.Context) {
	rep, err := cip.ParseReply(msg)
	if err != nil {
		s.malformed(dir, int(msg[0]&0x7F), reasonCIP, ctx)
		return
	}
	p := s.find(kind, key, 0, 0)
	if p != nil && p.code != int(rep.Service) && !(routed(p) && rep.Service == cip.SvcUnconnectedSend) {
		p = nil
	}
	group := uint64(0)
	if p != nil {
		group = p.group
	}
	s.emitReply(dir, p, &rep, cmd, sess, "", ctx)
	if rep.Service != cip.SvcMultipleServicePacket || (p != nil && p.idx != 0) {
		return
	}
	if n, err := cip.MultipleCount(rep.Data); err == nil {
		for i := range n {
			item, err := cip.MultipleItem(rep.Data, n, i)
			if err != nil {
				break
			}
			r, err := cip.ParseReply(item)
			if err != nil {
				break
			}
			var c *pending
			if group != 0 {
				c = s.find(kind, key, uint8(min(i+1, 255)), group)
				if c != nil && c.code != int(r.Service) {
					c = nil
				}
			}
			s.emitReply(dir, c, &r, cmd, sess, "multiple_service_packet", ctx)
		}
	}
	if group != 0 {
		for i := range s.pend {
			if q := &s.pend[i]; q.used && q.group == group {
				s.emitPending(q, ctx)
			}
		}
	}
}

func routed(p *pending) bool {
	for _, a := range p.attrs[:p.na] {
		if a.Key == attrRouted {
			return true
		}
	}
	return false
}

// emitReply emits the operation of reply rep to request p (nil if unseen).
func (s *Session) emitReply(dir dissect.Direction, p *pending, rep *cip.Reply, cmd, sess, embedded string, ctx *dissect.Context) {
	op := s.opFrom(p, ctx)
	if p == nil {
		op.FunctionCode = int(rep.Service)
		op.FunctionName = cip.ServiceName(0, rep.Service, false)
		op.Class, _ = cip.Classify(0, rep.Service, false)
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrCommand, Value: cmd})
		if sess != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrSession, Value: sess})
		}
		if embedded != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrEmbedded, Value: embedded})
		}
	}
	answered(op, p, ctx, dir)
	switch rep.GeneralStatus {
	case 0x00:
		op.Result.Status = dissect.StatusOK
	case 0x06: // partial transfer: the normal reply of fragmented services
		op.Result = dissect.Result{Status: dissect.StatusOK, Code: 0x06, Text: cip.StatusName(0x06)}
	default:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(rep.GeneralStatus), Text: cip.StatusName(rep.GeneralStatus)}
		if rep.ExtWords > 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "extended_status", Value: "0x" + strconv.FormatUint(uint64(rep.ExtStatus), 16)})
		}
	}
	if p != nil && rep.GeneralStatus == 0 {
		if p.identity {
			if id, err := cip.ParseIdentity(rep.Data); err == nil {
				identityFacts(op, &id, false)
			}
		}
		if p.fwdOpen {
			if f, err := cip.ParseForwardOpenReply(rep.Data); err == nil {
				op.Attrs = append(op.Attrs,
					dissect.Attr{Key: "o_t_connection_id", Value: hex32(f.OTConnID)},
					dissect.Attr{Key: "t_o_connection_id", Value: hex32(f.TOConnID)})
			}
		}
	}
	ctx.Emit(op)
}

package dns

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

const (
	// maxPending bounds the queries of one flow waiting for an answer; a
	// new query beyond it reports the oldest as unanswered.
	maxPending = 16
	// pairWindow is how long a query waits for its response (resolvers
	// retry after a few seconds).
	pairWindow = 10 * time.Second
)

// pending is a DNS query waiting for its response.
type pending struct {
	used   bool
	dir    dissect.Direction
	id     uint16
	opcode uint8
	qtype  uint16
	qname  string
	ref    dissect.PacketRef
	time   time.Time
}

// session decodes the messages of one flow. DNS queries and responses
// are paired by message id (RFC 1035 4.1.1) and reported when the
// response arrives; mDNS and LLMNR answers travel on other flows than
// their queries (multicast queries, answers from the responder's own
// address), so each of their messages is one operation.
type session struct {
	v       variant
	flow    *dissect.Flow
	stream  bool
	pending [maxPending]pending
	name    [maxNameText]byte
}

// Feed decodes whole messages: one datagram over UDP, length-prefixed
// messages over TCP (RFC 1035 4.2.2).
func (s *session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	s.expire(ctx)
	if !s.stream {
		s.message(dir, data, ctx)
		return len(data), nil
	}
	n := 0
	for len(data)-n >= 2 {
		size := int(binary.BigEndian.Uint16(data[n:]))
		if size == 0 {
			s.malformed(nil, errEmptyFrame, ctx)
			n += 2
			continue
		}
		if len(data)-n-2 < size {
			break
		}
		s.message(dir, data[n+2:n+2+size], ctx)
		n += 2 + size
	}
	return n, nil
}

// Gap needs no work: the length prefix of the next whole message
// resynchronises the stream.
func (s *session) Gap(dissect.Direction, int, *dissect.Context) {}

// Close reports the queries never answered.
func (s *session) Close(ctx *dissect.Context) {
	for i := range s.pending {
		if s.pending[i].used {
			s.unanswered(&s.pending[i], ctx)
		}
	}
}

// expire reports queries older than pairWindow.
func (s *session) expire(ctx *dissect.Context) {
	for i := range s.pending {
		p := &s.pending[i]
		if p.used && ctx.Time.Sub(p.time) > pairWindow {
			s.unanswered(p, ctx)
		}
	}
}

func (s *session) unanswered(p *pending, ctx *dissect.Context) {
	op := ctx.Op(variantNames[s.v])
	op.Time = p.time
	op.Packets = append(op.Packets[:0], p.ref)
	op.Request = true
	op.FunctionCode = int(p.opcode)
	op.FunctionName = opcodeName(p.opcode)
	op.Class = opcodeClass(p.opcode)
	if p.qname != "" {
		op.Targets = append(op.Targets, dissect.Target{Kind: "name", Name: p.qname})
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "qtype", Value: typeName(p.qtype)})
	}
	p.used = false
	ctx.Emit(op)
}

// opcodeClass is the operation class of an opcode: a query looks names
// up (discovery), an update changes a zone.
func opcodeClass(op uint8) dissect.Class {
	switch op {
	case 0, 1:
		return dissect.ClassDiscovery
	case 2:
		return dissect.ClassDiagnostics
	case 5:
		return dissect.ClassWrite
	}
	return dissect.ClassOther
}

func (s *session) malformed(h *header, err error, ctx *dissect.Context) {
	op := ctx.Op(variantNames[s.v])
	op.FunctionName = "malformed"
	if h != nil {
		op.FunctionCode = int(h.opcode)
		op.FunctionName = opcodeName(h.opcode)
		op.Request, op.Response = !h.response, h.response
	}
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	ctx.Emit(op)
}

// message decodes one message and emits an operation for it, or keeps a
// DNS query until its response.
func (s *session) message(dir dissect.Direction, b []byte, ctx *dissect.Context) {
	var h header
	if err := h.parse(b); err != nil {
		s.malformed(nil, err, ctx)
		return
	}
	op := ctx.Op(variantNames[s.v])
	op.FunctionCode = int(h.opcode)
	op.FunctionName = opcodeName(h.opcode)
	op.Class = opcodeClass(h.opcode)
	off := headerLen
	var qname string
	var qtype uint16
	for i := 0; i < int(h.qd); i++ {
		name, next, err := readName(b, off, s.name[:0])
		if err != nil {
			s.malformed(&h, err, ctx)
			return
		}
		if next+4 > len(b) {
			s.malformed(&h, errQuestion, ctx)
			return
		}
		t := binary.BigEndian.Uint16(b[next:])
		off = next + 4
		if i < maxRecords {
			n := dissect.Intern(name)
			if i == 0 {
				qname, qtype = n, t
			}
			op.Targets = append(op.Targets, dissect.Target{Kind: "name", Name: n})
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "qtype", Value: typeName(t)})
		}
	}
	if err := s.records(op, &h, b, off, dir); err != nil {
		s.malformed(&h, err, ctx)
		return
	}

	if !h.response {
		op.Request = true
		if s.v == variantDNS {
			s.keep(&h, dir, qname, qtype, ctx)
			return
		}
		ctx.Emit(op)
		return
	}
	op.Response = true
	if h.rcode == 0 {
		op.Result.Status = dissect.StatusOK
	} else {
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(h.rcode), Text: rcodeName(h.rcode)}
	}
	if s.v == variantDNS {
		if p := s.match(h.id, dir); p != nil {
			op.Request = true
			op.Packets = append(op.Packets, p.ref)
			if h.qd == 0 && p.qname != "" {
				op.Targets = append(op.Targets, dissect.Target{Kind: "name", Name: p.qname})
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "qtype", Value: typeName(p.qtype)})
			}
			p.used = false
		}
	}
	ctx.Emit(op)
}

// keep stores a query until its response, reporting the oldest waiting
// query when the table is full.
func (s *session) keep(h *header, dir dissect.Direction, qname string, qtype uint16, ctx *dissect.Context) {
	slot := -1
	for i := range s.pending {
		p := &s.pending[i]
		if !p.used {
			if slot < 0 {
				slot = i
			}
			continue
		}
		if p.id == h.id && p.dir == dir {
			// A repeated query: the earlier one went unanswered.
			s.unanswered(p, ctx)
			if slot < 0 {
				slot = i
			}
		}
	}
	if slot < 0 {
		slot = 0
		for i := range s.pending {
			if s.pending[i].time.Before(s.pending[slot].time) {
				slot = i
			}
		}
		s.unanswered(&s.pending[slot], ctx)
	}
	s.pending[slot] = pending{used: true, dir: dir, id: h.id, opcode: h.opcode, qtype: qtype, qname: qname,
		ref: ctx.Packet, time: ctx.Time}
}

// match returns the waiting query a response in direction dir answers.
func (s *session) match(id uint16, dir dissect.Direction) *pending {
	for i := range s.pending {
		p := &s.pending[i]
		if p.used && p.id == id && p.dir != dir {
			return p
		}
	}
	return nil
}

// records walks the answer, authority and additional sections. A, AAAA
// and reverse PTR records become a hostname fact and an "ip" attribute
// each, in the same order; CNAME records a "cname" attribute. A fact is
// marked Server when the address is the flow server's own.
func (s *session) records(op *dissect.Operation, h *header, b []byte, off int, dir dissect.Direction) error {
	n := int(h.an) + int(h.ns) + int(h.ar)
	facts := 0
	for range n {
		owner, next, err := readName(b, off, s.name[:0])
		if err != nil {
			return err
		}
		if next+10 > len(b) {
			return errRecord
		}
		t := binary.BigEndian.Uint16(b[next:])
		rdlen := int(binary.BigEndian.Uint16(b[next+8:]))
		rdata := next + 10
		if rdata+rdlen > len(b) {
			return errRecord
		}
		off = rdata + rdlen
		if facts >= maxRecords {
			continue
		}
		var addr netip.Addr
		var host []byte
		switch {
		case t == typeA && rdlen == 4:
			addr, host = netip.AddrFrom4([4]byte(b[rdata:])), owner
		case t == typeAAAA && rdlen == 16:
			addr, host = netip.AddrFrom16([16]byte(b[rdata:])), owner
		case t == typePTR && rdlen > 0:
			a, ok := reverseAddr(owner)
			if !ok {
				continue
			}
			target, _, err := readName(b[:rdata+rdlen], rdata, s.name[:0])
			if err != nil {
				return err
			}
			addr, host = a, target
		case t == typeCNAME && rdlen > 0:
			target, _, err := readName(b[:rdata+rdlen], rdata, s.name[:0])
			if err != nil {
				return err
			}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "cname", Value: dissect.Intern(target)})
			facts++
			continue
		default:
			continue
		}
		var ab [64]byte
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: dissect.Intern(host),
			Server: addr == s.flow.Server.IP})
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "ip", Value: dissect.Intern(addr.AppendTo(ab[:0]))})
		facts++
	}
	return nil
}

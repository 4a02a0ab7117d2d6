package smb

import (
	"bytes"
	"encoding/binary"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

const maxPending = 32

// request is a request waiting for its response, with what it said.
type request struct {
	used     bool
	v2       bool
	cmd      uint16
	key      uint64 // SMB2 MessageId, SMB1 MID, 1<<32 for a session request
	pkt      dissect.PacketRef
	time     time.Time
	seq      uint64
	kind     string // target kind
	target   string // share, file or NetBIOS name
	dialects string // negotiate request (SMB1: comma-separated names)
	auth     ntlm
	os       string // SMB1 NativeOS of the client
	calling  string // NetBIOS session request: the client's name
}

// response is what a response adds.
type response struct {
	status   uint32
	dialect  string
	auth     ntlm
	os       string
	nbssFail int // negative session response error code + 1
}

// Session dissects one SMB connection.
type Session struct {
	skip    [2]int // bytes of an over-long message still to skip
	pending [maxPending]request
	seq     uint64
	framed  [2]bool
	done    bool
	resp    response
}

// Feed consumes whole NetBIOS session messages; large ones are parsed from
// their first bytes and skipped.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	n := 0
	for !s.done && n < len(data) {
		d := data[n:]
		if k := s.skip[dir]; k > 0 {
			c := min(k, len(d))
			s.skip[dir] -= c
			n += c
			continue
		}
		if len(d) < nbssHeaderLen {
			break
		}
		typ := d[0]
		length := int(d[1])<<16 | int(d[2])<<8 | int(d[3])
		if typ != nbssMessage {
			length = int(d[1]&1)<<16 | int(binary.BigEndian.Uint16(d[2:4]))
		}
		switch typ {
		case nbssMessage, nbssRequest, nbssPositive, nbssNegative, nbssRetarget, nbssKeepAlive:
		default:
			if s.framed[dir] {
				s.malformed(dir, errNBSS, ctx)
			}
			s.done = true // framing lost or not SMB: stop
			continue
		}
		total := nbssHeaderLen + length
		if total > maxWhole+nbssHeaderLen {
			// Parse a fixed prefix so that the result does not depend on
			// how the bytes arrive, then skip the rest.
			if len(d) < nbssHeaderLen+prefixLen {
				break
			}
			s.message(dir, typ, d[nbssHeaderLen:nbssHeaderLen+prefixLen], true, ctx)
			s.skip[dir] = total - (nbssHeaderLen + prefixLen)
			n += nbssHeaderLen + prefixLen
			continue
		}
		if len(d) < total {
			break
		}
		s.message(dir, typ, d[nbssHeaderLen:total], false, ctx)
		n += total
	}
	if s.done {
		return len(data), nil
	}
	return n, nil
}

// message handles one NetBIOS session packet.
func (s *Session) message(dir dissect.Direction, typ byte, b []byte, partial bool, ctx *dissect.Context) {
	switch typ {
	case nbssKeepAlive, nbssRetarget:
		s.framed[dir] = true
		return
	case nbssRequest:
		s.framed[dir] = true
		called, ok1 := netbiosName(b)
		calling, ok2 := netbiosName(b[min(len(b), 34):])
		if !ok1 || !ok2 {
			s.malformed(dir, errNBSS, ctx)
			return
		}
		r := s.add(false, nbssRequest, 1<<32, ctx)
		r.kind, r.target, r.calling = "netbios_name", called, calling
		return
	case nbssPositive, nbssNegative:
		s.framed[dir] = true
		s.resp = response{}
		if typ == nbssNegative && len(b) > 0 {
			s.resp.nbssFail = int(b[0]) + 1
		}
		s.complete(false, nbssRequest, 1<<32, ctx)
		return
	}
	if len(b) < 4 {
		s.malformed(dir, errHeader, ctx)
		return
	}
	switch {
	case bytes.Equal(b[:4], smb1ID):
		s.framed[dir] = true
		s.smb1(dir, b, ctx)
	case bytes.Equal(b[:4], smb2ID):
		s.framed[dir] = true
		for len(b) >= smb2HeaderLen {
			next := int(binary.LittleEndian.Uint32(b[20:]))
			msg := b
			if next > 0 && next < len(b) {
				msg = b[:next]
			}
			s.smb2(dir, msg, ctx)
			if next < smb2HeaderLen || next >= len(b) || !bytes.Equal(b[next:min(len(b), next+4)], smb2ID) {
				break
			}
			b = b[next:]
		}
	case bytes.Equal(b[:4], transformID), bytes.Equal(b[:4], compressID):
		s.framed[dir] = true // encrypted or compressed SMB3: not decoded
	default:
		if s.framed[dir] {
			s.malformed(dir, errProtocol, ctx)
		} else {
			s.done = true
		}
	}
}

// smb1 handles one SMB1 message ([MS-CIFS] 2.2.3.1).
func (s *Session) smb1(dir dissect.Direction, m []byte, ctx *dissect.Context) {
	if len(m) < smb1HeaderLen+3 {
		s.malformed(dir, errHeader, ctx)
		return
	}
	cmd := m[4]
	status := binary.LittleEndian.Uint32(m[5:])
	reply := m[9]&0x80 != 0
	flags2 := binary.LittleEndian.Uint16(m[10:])
	unicode := flags2&0x8000 != 0
	mid := uint64(binary.LittleEndian.Uint16(m[30:]))
	wc := int(m[32])
	words := m[33:min(len(m), 33+2*wc)]
	bstart := 33 + 2*wc + 2
	var bcount int
	if bstart <= len(m) {
		bcount = int(binary.LittleEndian.Uint16(m[bstart-2:]))
	}
	bend := min(len(m), bstart+bcount)
	bstart = min(bstart, len(m))
	data := m[bstart:bend]
	if !reply {
		r := s.add(false, uint16(cmd), mid, ctx)
		switch cmd {
		case smb1Negotiate:
			var names []string
			for _, d := range bytes.Split(data, []byte{0}) {
				if len(d) > 1 && d[0] == 2 {
					names = append(names, string(d[1:]))
				}
			}
			r.dialects = strings.Join(names, ",")
		case smb1SessionSetup:
			switch {
			case wc == 12 && len(words) >= 16: // extended security
				blobLen := int(binary.LittleEndian.Uint16(words[14:]))
				parseNTLM(data[:min(blobLen, len(data))], &r.auth)
				r.os, _ = smbString(m[:bend], bstart+blobLen, unicode)
			case wc == 13 && len(words) >= 18:
				oem, uni := int(binary.LittleEndian.Uint16(words[14:])), int(binary.LittleEndian.Uint16(words[16:]))
				off := bstart + oem + uni
				r.auth.typ = 3
				r.auth.user, off = smbString(m[:bend], off, unicode)
				r.auth.domain, off = smbString(m[:bend], off, unicode)
				r.os, _ = smbString(m[:bend], off, unicode)
			}
		case smb1TreeConnect:
			if len(words) >= 8 {
				pw := int(binary.LittleEndian.Uint16(words[6:]))
				r.kind = "share"
				r.target, _ = smbString(m[:bend], bstart+pw, unicode)
			}
		case smb1NTCreate:
			if len(words) >= 7 {
				r.kind = "file"
				r.target, _ = smbString(m[:bend], bstart, unicode)
			}
		}
		return
	}
	s.resp = response{status: status}
	if flags2&0x4000 == 0 && status != 0 {
		s.resp.status = 0xc0000000 | status // DOS error class/code: an error
	}
	if cmd == smb1SessionSetup {
		switch {
		case wc == 4 && len(words) >= 8:
			blobLen := int(binary.LittleEndian.Uint16(words[6:]))
			parseNTLM(data[:min(blobLen, len(data))], &s.resp.auth)
			s.resp.os, _ = smbString(m[:bend], bstart+blobLen, unicode)
		case wc == 3:
			s.resp.os, _ = smbString(m[:bend], bstart, unicode)
		}
	}
	if cmd == smb1Negotiate && len(words) >= 2 {
		// The response names the dialect by its index in the request's list.
		if r := s.find(false, uint16(cmd), mid); r != nil {
			idx := int(binary.LittleEndian.Uint16(words))
			if names := strings.Split(r.dialects, ","); idx < len(names) {
				s.resp.dialect = names[idx]
			}
		}
	}
	s.complete(false, uint16(cmd), mid, ctx)
}

// smb2 handles one SMB2 message of a (possibly compounded) packet.
func (s *Session) smb2(dir dissect.Direction, m []byte, ctx *dissect.Context) {
	if len(m) < smb2HeaderLen {
		s.malformed(dir, errHeader, ctx)
		return
	}
	status := binary.LittleEndian.Uint32(m[8:])
	cmd := binary.LittleEndian.Uint16(m[12:])
	flags := binary.LittleEndian.Uint32(m[16:])
	mid := binary.LittleEndian.Uint64(m[24:])
	u16 := func(at int) int {
		if at+2 > len(m) {
			return 0
		}
		return int(binary.LittleEndian.Uint16(m[at:]))
	}
	if flags&1 == 0 { // request
		r := s.add(true, cmd, mid, ctx)
		switch cmd {
		case smb2Negotiate:
			count := u16(66)
			var names []string
			for i := 0; i < count && 100+2*i+2 <= len(m); i++ {
				names = append(names, dialectName(uint16(u16(100+2*i))))
			}
			r.dialects = strings.Join(names, ",")
		case smb2SessionSetup:
			parseNTLM(field(m, u16(78), u16(76)), &r.auth)
		case smb2TreeConnect:
			r.kind, r.target = "share", utf16String(field(m, u16(70), u16(68)))
		case smb2Create:
			r.kind, r.target = "file", utf16String(field(m, u16(110), u16(108)))
		}
		return
	}
	if status == statusPending && flags&2 != 0 {
		return // interim response: the final one follows ([MS-SMB2] 3.3.4.2)
	}
	s.resp = response{status: status}
	switch cmd {
	case smb2Negotiate:
		if len(m) >= 70 {
			s.resp.dialect = dialectName(uint16(u16(68)))
		}
	case smb2SessionSetup:
		parseNTLM(field(m, u16(70), u16(68)), &s.resp.auth)
	}
	s.complete(true, cmd, mid, ctx)
}

// add records a request, evicting (and reporting) the oldest when the
// table is full.
func (s *Session) add(v2 bool, cmd uint16, key uint64, ctx *dissect.Context) *request {
	slot := -1
	oldest := 0
	for i := range s.pending {
		if !s.pending[i].used {
			slot = i
			break
		}
		if s.pending[i].seq < s.pending[oldest].seq {
			oldest = i
		}
	}
	if slot < 0 {
		s.emit(&s.pending[oldest], false, ctx)
		slot = oldest
	}
	s.seq++
	s.pending[slot] = request{used: true, v2: v2, cmd: cmd, key: key, pkt: ctx.Packet, time: ctx.Time, seq: s.seq}
	return &s.pending[slot]
}

func (s *Session) find(v2 bool, cmd uint16, key uint64) *request {
	for i := range s.pending {
		r := &s.pending[i]
		if r.used && r.v2 == v2 && r.key == key && r.cmd == cmd {
			return r
		}
	}
	return nil
}

// complete pairs the parsed response (s.resp) with its request.
func (s *Session) complete(v2 bool, cmd uint16, key uint64, ctx *dissect.Context) {
	if r := s.find(v2, cmd, key); r != nil {
		s.emit(r, true, ctx)
		return
	}
	r := request{v2: v2, cmd: cmd, key: key}
	s.emit(&r, true, ctx)
}

// emit reports request r (when r.used) with the parsed response (when
// answered) and frees r.
func (s *Session) emit(r *request, answered bool, ctx *dissect.Context) {
	op := ctx.Op("smb")
	op.Request, op.Response = r.used, answered
	if r.used && answered {
		op.Packets = append(op.Packets, r.pkt)
	} else if r.used {
		op.Packets[0], op.Time = r.pkt, r.time
	}
	op.FunctionCode = int(r.cmd)
	if !r.v2 && r.cmd == nbssRequest && r.key == 1<<32 {
		op.FunctionName, op.Class = "session_request", dissect.ClassOther
	} else {
		c := lookupCommand(r.v2, r.cmd)
		op.FunctionName = c.name
		switch c.class {
		case clAuth:
			op.Class = dissect.ClassAuthentication
		case clFile:
			op.Class = dissect.ClassFile
		}
	}
	if r.target != "" {
		op.Targets = append(op.Targets, dissect.Target{Kind: r.kind, Name: r.target})
		if r.kind == "netbios_name" {
			op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: r.target, Server: true})
		}
	}
	if r.calling != "" {
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: r.calling})
	}
	if r.dialects != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "dialects", Value: r.dialects})
	}
	a := &r.auth
	if a.user != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "user", Value: a.user})
	}
	if a.domain != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "domain", Value: a.domain})
	}
	if a.workstation != "" {
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: a.workstation})
	}
	if a.version != "" {
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactOS, Value: a.version})
	}
	if r.os != "" {
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactOS, Value: r.os})
	}
	if answered {
		p := &s.resp
		st := p.status
		op.Result = dissect.Result{Status: dissect.StatusOK, Code: int(st), Text: statusName(st)}
		if st>>30 == 3 && st != statusMoreProcessingRequired {
			op.Result.Status = dissect.StatusError
		}
		if p.nbssFail != 0 {
			op.Result = dissect.Result{Status: dissect.StatusError, Code: p.nbssFail - 1, Text: "negative_session_response"}
		}
		if p.dialect != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "dialect", Value: p.dialect})
		}
		b := &p.auth
		for _, h := range [...]string{b.computer, b.dnsComputer} {
			if h != "" {
				op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: h, Server: true})
			}
		}
		if b.targetDomain != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "server_domain", Value: b.targetDomain})
		}
		if b.version != "" {
			op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactOS, Value: b.version, Server: true})
		}
		if p.os != "" {
			op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactOS, Value: p.os, Server: true})
		}
	}
	*r = request{}
	ctx.Emit(op)
}

// malformed reports a message that violates the protocol.
func (s *Session) malformed(dir dissect.Direction, err error, ctx *dissect.Context) {
	op := ctx.Op("smb")
	op.FunctionName = "malformed"
	op.Request, op.Response = dir == dissect.ToServer, dir == dissect.ToClient
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	ctx.Emit(op)
}

// Gap loses the message framing of a direction: decoding stops, the
// requests seen are reported at Close.
func (s *Session) Gap(dissect.Direction, int, *dissect.Context) { s.done = true }

// Close reports the requests never answered, oldest first.
func (s *Session) Close(ctx *dissect.Context) {
	for {
		oldest := -1
		for i := range s.pending {
			if s.pending[i].used && (oldest < 0 || s.pending[i].seq < s.pending[oldest].seq) {
				oldest = i
			}
		}
		if oldest < 0 {
			return
		}
		s.emit(&s.pending[oldest], false, ctx)
	}
}

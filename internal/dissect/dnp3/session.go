package dnp3

import (
	"bytes"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Transport function (IEEE 1815-2012 clause 8.2): one header octet.
const (
	tpFIN = 0x80
	tpFIR = 0x40
	tpSeq = 0x3f
	// maxSegments bounds a fragment: more segments than sequence numbers
	// (64) reuse a number inside one fragment, so lost or repeated segments
	// can no longer be told apart. 64 full segments hold 15936 bytes, well
	// above the 2048-byte default fragment size of clause 8.
	maxSegments = 64
)

// Application control octet (clause 4.2.2.4).
const (
	acFIR = 0x80
	acFIN = 0x40
	acCON = 0x20
	acUNS = 0x10
	acSeq = 0x0f
)

// Pairing limits.
const (
	pairWindow = 2 * time.Minute
	maxRefs    = 8
	// maxSelect bounds the select objects kept to check the operate.
	maxSelect = 2048
)

// Layers named in the "layer" attribute of link and transport operations.
const (
	layerLink      = "link"
	layerTransport = "transport"
)

// Malformed reasons of the link and transport layers.
const (
	errHeaderCRC   = "bad link header CRC"
	errDataCRC     = "bad link data CRC"
	errLength      = "link length below 5"
	errOutside     = "bytes outside a link frame"
	errTruncFrame  = "truncated link frame"
	errNoUserData  = "user data frame without data"
	errLinkFunc    = "reserved link function code"
	errTpSeq       = "transport sequence error"
	errTpNoFIR     = "transport segment without FIR"
	errTpRestart   = "transport fragment restarted before FIN"
	errTpTooLong   = "fragment exceeds 64 transport segments"
	errAppShort    = "short application header"
	errRespShort   = "short response header"
	errReservedRsp = "reserved response function code"
)

var startBytes = []byte{startByte0, startByte1}

// half is the state of one direction of a flow.
type half struct {
	seen   bool // a valid link frame was seen since the start or a gap
	resync bool // a violation was reported; quiet until the next good frame

	user [maxUserData]byte

	// Transport reassembly.
	frag       []byte
	assembling bool
	segs       int
	haveSeq    bool
	firSeen    bool // a FIR segment was seen since the start or a gap
	tpQuiet    bool // a transport violation was reported; quiet until FIR
	lastSeq    uint8
	src, dst   uint16
	master     bool // DIR bit of the fragment's frames
	refs       [maxRefs]dissect.PacketRef
	nrefs      int
	time       time.Time
	confirmOut bool // a confirmed user data frame awaits its link ACK
}

func (h *half) addRef(r dissect.PacketRef) {
	if h.nrefs > 0 && h.refs[h.nrefs-1] == r {
		return
	}
	if h.nrefs < maxRefs {
		h.refs[h.nrefs] = r
		h.nrefs++
	} else {
		h.refs[maxRefs-1] = r
	}
}

// pending is a request waiting for its response, or a response being
// assembled from several fragments.
type pending struct {
	used   bool
	order  uint64
	seq    uint8
	fc     uint8
	dir    dissect.Direction // direction in which the master sends
	time   time.Time
	master uint16
	outst  uint16
	nreq   int  // targets that came from the request
	inResp bool // response fragments seen, FIN not yet
	frags  int  // response fragments merged
	op     dissect.Operation
}

// Session decodes one DNP3 flow (TCP byte stream or UDP datagrams).
type Session struct {
	udp    bool
	halves [2]half
	order  uint64

	req  [16]pending // by application sequence number
	auth pending     // authenticate_req awaiting authenticate_resp
	orph pending     // response without a request, while it is assembled
	resp *pending    // the response being assembled (multi-fragment)
	link [2]pending  // link-layer request per direction

	scratch dissect.Operation
	info    objInfo

	selObjs  []byte
	selValid bool

	addrs [4]struct {
		a uint16
		s string
	}
	naddr int
}

func newSession(f *dissect.Flow) *Session {
	return &Session{udp: f != nil && f.Transport == dissect.TransportUDP}
}

// Feed decodes the link frames in data and returns the bytes consumed. On
// TCP an incomplete frame at the end is left for the next call; on UDP a
// datagram holds whole frames, so a short one is a violation.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	h := &s.halves[dir&1]
	i := 0
	for i < len(data) {
		b := data[i:]
		if b[0] != startByte0 || (len(b) > 1 && b[1] != startByte1) {
			j := bytes.Index(b[1:], startBytes)
			skip := len(b)
			if j >= 0 {
				skip = j + 1
			} else if b[len(b)-1] == startByte0 {
				skip = len(b) - 1
			}
			s.outside(h, dir, ctx)
			i += skip
			continue
		}
		if len(b) < linkHeaderLen {
			break
		}
		if !crcOK(b[:8], b[8:10]) {
			s.violation(h, dir, ctx, layerLink, errHeaderCRC)
			i++
			continue
		}
		lh := parseLinkHeader(b)
		if lh.length < minLength {
			s.violation(h, dir, ctx, layerLink, errLength)
			i++
			continue
		}
		n := frameLen(lh.length)
		if len(b) < n {
			break
		}
		if !userData(b[:n], &h.user, lh.userLen()) {
			s.violation(h, dir, ctx, layerLink, errDataCRC)
			i += n
			continue
		}
		h.seen, h.resync = true, false
		s.frame(h, dir, lh, h.user[:lh.userLen()], ctx)
		i += n
	}
	if s.udp && i < len(data) {
		s.violation(h, dir, ctx, layerLink, errTruncFrame)
		i = len(data)
	}
	return i, nil
}

// Gap drops the partial fragment of direction dir and resynchronises on
// the next start bytes.
func (s *Session) Gap(dir dissect.Direction, lost int, ctx *dissect.Context) {
	h := &s.halves[dir&1]
	h.assembling, h.haveSeq, h.seen, h.resync = false, false, false, false
	h.firSeen, h.tpQuiet, h.confirmOut = false, false, false
	h.frag = h.frag[:0]
	if s.resp != nil && s.resp.dir != dir {
		s.flush(s.resp, ctx)
	}
}

// Close emits the requests still waiting for a response, oldest first.
func (s *Session) Close(ctx *dissect.Context) {
	for {
		var p *pending
		for _, c := range s.all() {
			if c.used && (p == nil || c.order < p.order) {
				p = c
			}
		}
		if p == nil {
			return
		}
		s.flush(p, ctx)
	}
}

func (s *Session) all() [20]*pending {
	var a [20]*pending
	for i := range s.req {
		a[i] = &s.req[i]
	}
	a[16], a[17], a[18], a[19] = &s.auth, &s.orph, &s.link[0], &s.link[1]
	return a
}

// outside reports bytes between link frames once per resynchronisation,
// and only after a valid frame was seen (a capture may start mid-stream).
func (s *Session) outside(h *half, dir dissect.Direction, ctx *dissect.Context) {
	if h.seen && !h.resync {
		s.violation(h, dir, ctx, layerLink, errOutside)
	}
	h.resync = true
}

// violation emits a malformed operation of the link layer, once per
// resynchronisation. The frame's addresses are not trusted (bad CRC), so
// the operation keeps the flow's orientation and has no identity facts.
func (s *Session) violation(h *half, dir dissect.Direction, ctx *dissect.Context, layer, reason string) {
	if h.resync {
		return
	}
	h.resync = true
	op := ctx.Op("dnp3")
	op.FunctionName = "malformed"
	op.Class = dissect.ClassOther
	op.Request = dir == dissect.ToServer
	op.Response = dir == dissect.ToClient
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "layer", Value: layer})
	ctx.Emit(op)
}

// tpViolation emits a malformed operation of the transport function for
// a link frame with good CRCs, once until the next FIR segment, and not
// before the first FIR (a capture may start inside a fragment).
func (s *Session) tpViolation(h *half, dir dissect.Direction, lh linkHeader, ctx *dissect.Context, reason string) {
	if !h.firSeen || h.tpQuiet {
		return
	}
	h.tpQuiet = true
	op := ctx.Op("dnp3")
	op.FunctionCode = int(lh.fc())
	op.FunctionName = "malformed"
	op.Class = dissect.ClassOther
	op.Request = lh.dir()
	op.Response = !lh.dir()
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "layer", Value: layerTransport})
	s.orientFrame(op, dir, lh)
	ctx.Emit(op)
}

// orientFrame orients an operation about one frame by its DIR bit.
func (s *Session) orientFrame(op *dissect.Operation, dir dissect.Direction, lh linkHeader) {
	if lh.dir() {
		s.orient(op, dir, lh.src, lh.dst)
	} else {
		s.orient(op, dir^1, lh.dst, lh.src)
	}
}

// frame handles one link frame with good CRCs.
func (s *Session) frame(h *half, dir dissect.Direction, lh linkHeader, user []byte, ctx *dissect.Context) {
	fc := lh.fc()
	if lh.prm() && (fc == linkConfirmedUserData || fc == linkUnconfirmedUserData) {
		if len(user) == 0 {
			s.linkViolation(dir, lh, ctx, errNoUserData)
			return
		}
		if fc == linkConfirmedUserData {
			h.confirmOut = true
		}
		s.transport(h, dir, lh, user, ctx)
		return
	}
	s.linkFrame(dir, lh, ctx)
}

// linkFrame pairs link-layer-only frames: a primary request (reset link
// states, test link states, request link status) with the secondary frame
// answering it from the other direction.
func (s *Session) linkFrame(dir dissect.Direction, lh linkHeader, ctx *dissect.Context) {
	fc := lh.fc()
	name := linkFuncName(lh.prm(), fc)
	if name == "" {
		s.linkViolation(dir, lh, ctx, errLinkFunc)
		return
	}
	if lh.prm() {
		p := &s.link[dir&1]
		if p.used {
			s.flush(p, ctx)
		}
		s.order++
		// A link request may come from either side; dir is the master's.
		*p = pending{used: true, order: s.order, fc: fc, dir: dir, time: ctx.Time, op: p.op}
		p.master, p.outst = lh.src, lh.dst
		if !lh.dir() {
			p.master, p.outst, p.dir = lh.dst, lh.src, dir^1
		}
		op := &p.op
		op.Reset()
		op.Time = ctx.Time
		op.FunctionCode = int(fc)
		op.FunctionName = name
		op.Class = linkClass(true, fc)
		op.Request = true
		op.Packets = append(op.Packets, ctx.Packet)
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "layer", Value: layerLink})
		return
	}
	other := &s.halves[(dir^1)&1]
	p := &s.link[(dir^1)&1]
	if !p.used {
		if fc == linkAck && other.confirmOut {
			// The link acknowledgement of confirmed user data.
			other.confirmOut = false
			return
		}
		// A secondary frame answering nothing seen: emit it alone.
		op := ctx.Op("dnp3")
		op.FunctionCode = int(fc)
		op.FunctionName = name
		op.Class = linkClass(false, fc)
		op.Response = true
		op.Result = linkResult(fc)
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "layer", Value: layerLink})
		s.orientFrame(op, dir, lh)
		ctx.Emit(op)
		return
	}
	op := ctx.Op("dnp3")
	op.Time = p.time
	op.Packets = append(append(op.Packets[:0], p.op.Packets...), ctx.Packet)
	op.FunctionCode = p.op.FunctionCode
	op.FunctionName = p.op.FunctionName
	op.Class = p.op.Class
	op.Request, op.Response = true, true
	op.Result = linkResult(fc)
	op.Attrs = append(op.Attrs, p.op.Attrs...)
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "link_response", Value: name})
	s.orient(op, p.dir, p.master, p.outst)
	p.used = false
	ctx.Emit(op)
}

func (s *Session) linkViolation(dir dissect.Direction, lh linkHeader, ctx *dissect.Context, reason string) {
	op := ctx.Op("dnp3")
	op.FunctionCode = int(lh.fc())
	op.FunctionName = "malformed"
	op.Request = lh.prm()
	op.Response = !lh.prm()
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "layer", Value: layerLink})
	s.orientFrame(op, dir, lh)
	ctx.Emit(op)
}

func linkClass(prm bool, fc uint8) dissect.Class {
	if (prm && (fc == linkTestLinkStates || fc == linkRequestLinkStatus)) || (!prm && fc == linkStatus) {
		return dissect.ClassDiagnostics
	}
	return dissect.ClassOther
}

func linkResult(fc uint8) dissect.Result {
	switch fc {
	case linkAck, linkStatus:
		return dissect.Result{Status: dissect.StatusOK}
	}
	return dissect.Result{Status: dissect.StatusError, Code: int(fc), Text: secondaryNames[fc&ctrlFC]}
}

// transport reassembles application fragments from transport segments
// (clause 8.2): FIR starts a fragment, FIN ends it, sequence numbers
// increase by one (mod 64) in between; a repeated segment is dropped.
func (s *Session) transport(h *half, dir dissect.Direction, lh linkHeader, user []byte, ctx *dissect.Context) {
	th := user[0]
	seq := th & tpSeq
	if th&tpFIR != 0 {
		if h.assembling {
			s.tpViolation(h, dir, lh, ctx, errTpRestart)
		}
		h.assembling, h.firSeen, h.tpQuiet = true, true, false
		h.frag = h.frag[:0]
		h.segs = 0
		h.nrefs = 0
		h.src, h.dst, h.master = lh.src, lh.dst, lh.dir()
		h.time = ctx.Time
	} else {
		if h.haveSeq && seq == h.lastSeq {
			return // a repeated segment
		}
		if !h.assembling {
			h.haveSeq = true
			h.lastSeq = seq
			s.tpViolation(h, dir, lh, ctx, errTpNoFIR)
			return
		}
		if !h.haveSeq || seq != (h.lastSeq+1)&tpSeq {
			h.assembling = false
			h.lastSeq = seq
			s.tpViolation(h, dir, lh, ctx, errTpSeq)
			return
		}
	}
	h.haveSeq = true
	h.lastSeq = seq
	if h.segs == maxSegments {
		h.assembling = false
		s.tpViolation(h, dir, lh, ctx, errTpTooLong)
		return
	}
	h.segs++
	h.frag = append(h.frag, user[1:]...)
	h.addRef(ctx.Packet)
	if th&tpFIN != 0 {
		h.assembling = false
		s.application(h, dir, h.frag, ctx)
	}
}

// application handles one reassembled application fragment.
func (s *Session) application(h *half, dir dissect.Direction, b []byte, ctx *dissect.Context) {
	if len(b) < 2 {
		op := ctx.Op("dnp3")
		op.FunctionName = "malformed"
		op.Request = dir == dissect.ToServer
		op.Response = dir == dissect.ToClient
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: errAppShort}
		if h.master {
			s.orient(op, dir, h.src, h.dst)
		} else {
			s.orient(op, dir^1, h.dst, h.src)
		}
		ctx.Emit(op)
		return
	}
	if b[1] >= 128 {
		s.response(h, dir, b, ctx)
		return
	}
	s.request(h, dir, b, ctx)
}

// request handles a fragment from the master.
func (s *Session) request(h *half, dir dissect.Direction, b []byte, ctx *dissect.Context) {
	ac, fc := b[0], b[1]
	seq := ac & acSeq
	s.expire(ctx)
	r := &s.scratch
	r.Reset()
	r.Time = ctx.Time
	r.FunctionCode = int(fc)
	r.FunctionName = FuncName(fc)
	r.Class = funcClass(fc)
	r.Request = true
	for _, ref := range h.refs[:h.nrefs] {
		r.Packets = append(r.Packets, ref)
	}
	info := &s.info
	*info = objInfo{}
	objs := b[2:]
	if reason := parseObjects(objs, requestCarriesData(fc), &r.Targets, info); reason != "" {
		r.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	}
	if fc == FuncWrite && info.time {
		r.Class = dissect.ClassTime
	}
	s.requestAttrs(r, fc, objs, info)
	master, outst := h.src, h.dst

	if noResponse(fc) || broadcast(outst) {
		op := ctx.Op("dnp3")
		copyOp(op, r)
		if broadcast(outst) {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "broadcast", Value: "true"})
		}
		s.orient(op, dir, master, outst)
		ctx.Emit(op)
		return
	}
	p := &s.req[seq]
	if fc == FuncAuthenticateReq {
		p = &s.auth
	}
	if p.used {
		s.flush(p, ctx)
	}
	s.order++
	*p = pending{used: true, order: s.order, seq: seq, fc: fc, dir: dir, time: ctx.Time,
		master: master, outst: outst, nreq: len(r.Targets), op: p.op}
	copyOp(&p.op, r)
}

// requestAttrs adds the attributes of a request: select-before-operate
// matching, CROB and analog output values, file names, authentication.
func (s *Session) requestAttrs(r *dissect.Operation, fc uint8, objs []byte, info *objInfo) {
	switch fc {
	case FuncSelect:
		s.selValid = len(objs) <= maxSelect
		if s.selValid {
			s.selObjs = append(s.selObjs[:0], objs...)
		}
	case FuncOperate:
		// Clause 4.4.3.2: the operate repeats the select's objects exactly.
		v := "mismatch"
		if s.selValid && bytes.Equal(s.selObjs, objs) {
			v = "matched"
		}
		s.selValid = false
		r.Attrs = append(r.Attrs, dissect.Attr{Key: "sbo", Value: v})
	}
	if info.aggressive {
		r.Attrs = append(r.Attrs, dissect.Attr{Key: "auth", Value: "aggressive_mode"})
	}
	if info.truncated {
		r.Attrs = append(r.Attrs, dissect.Attr{Key: "objects_truncated", Value: "true"})
	}
	if info.unknown {
		r.Attrs = append(r.Attrs, dissect.Attr{Key: "objects", Value: "unknown_object"})
	}
	if info.crob {
		r.Attrs = append(r.Attrs,
			dissect.Attr{Key: "crob_op", Value: crobOpNames[info.crobCode&0x0f]},
			dissect.Attr{Key: "crob_tcc", Value: crobTCCNames[info.crobCode>>6]},
			dissect.Attr{Key: "crob_index", Value: strconv.FormatUint(uint64(info.crobIndex), 10)},
			dissect.Attr{Key: "crob_count", Value: decimal[info.crobCount]},
			dissect.Attr{Key: "crob_on_ms", Value: strconv.FormatUint(uint64(info.crobOn), 10)},
			dissect.Attr{Key: "crob_off_ms", Value: strconv.FormatUint(uint64(info.crobOff), 10)})
		if info.crobCode&0x10 != 0 {
			r.Attrs = append(r.Attrs, dissect.Attr{Key: "crob_queue", Value: "true"})
		}
		if info.crobCode&0x20 != 0 {
			r.Attrs = append(r.Attrs, dissect.Attr{Key: "crob_clear", Value: "true"})
		}
	}
	if info.ao {
		r.Attrs = append(r.Attrs,
			dissect.Attr{Key: "ao_index", Value: strconv.FormatUint(uint64(info.aoIndex), 10)},
			dissect.Attr{Key: "ao_value", Value: aoValueString(info.aoVar, info.aoValue)})
	}
	if len(info.fileName) > 0 {
		r.Targets = append(r.Targets, dissect.Target{Kind: "file", Name: string(info.fileName)})
	}
}

// response handles a fragment from the outstation.
func (s *Session) response(h *half, dir dissect.Direction, b []byte, ctx *dissect.Context) {
	ac, fc := b[0], b[1]
	seq := ac & acSeq
	if len(b) < 4 || (fc != FuncResponse && fc != FuncUnsolicitedResponse && fc != FuncAuthenticateResp) {
		op := ctx.Op("dnp3")
		op.FunctionCode = int(fc)
		op.FunctionName = FuncName(fc)
		op.Class = funcClass(fc)
		op.Response = true
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: errReservedRsp}
		if len(b) < 4 {
			op.Result.Text = errRespShort
		}
		s.orient(op, dir^1, h.dst, h.src)
		ctx.Emit(op)
		return
	}
	var p *pending
	switch {
	case ac&acFIR == 0:
		if s.resp != nil && s.resp.dir != dir {
			p = s.resp
		}
	case fc == FuncUnsolicitedResponse:
	case fc == FuncAuthenticateResp:
		if s.auth.used && s.auth.seq == seq && !s.auth.inResp {
			p = &s.auth
		}
	default:
		if q := &s.req[seq]; q.used && q.dir != dir && !q.inResp {
			p = q
		} else if s.auth.used && s.auth.seq == seq && s.auth.dir != dir && !s.auth.inResp {
			p = &s.auth
		}
	}
	if ac&acFIR != 0 && s.resp != nil && s.resp != p {
		// A new response starts before the last one ended.
		s.flush(s.resp, ctx)
	}
	if p == nil {
		// Unsolicited, or a response whose request was not seen.
		p = &s.orph
		if p.used {
			s.flush(p, ctx)
		}
		s.order++
		*p = pending{used: true, order: s.order, seq: seq, fc: fc, dir: dir ^ 1, time: ctx.Time,
			master: h.dst, outst: h.src, op: p.op}
		p.op.Reset()
		p.op.Time = ctx.Time
		p.op.FunctionCode = int(fc)
		p.op.FunctionName = FuncName(fc)
		p.op.Class = funcClass(fc)
	} else if p.fc == FuncAuthenticateReq && fc == FuncResponse && p != s.resp {
		// The response to the request an authentication challenge
		// interrupted: the authenticate_req itself is answered by nothing.
		s.flush(p, ctx)
		s.response(h, dir, b, ctx)
		return
	}
	s.mergeResponse(p, h, b, ctx)
	if ac&acFIN == 0 {
		p.inResp = true
		s.resp = p
		return
	}
	if s.resp == p {
		s.resp = nil
	}
	s.emit(p, ctx)
	// The authenticate_req that answered a challenge to this request.
	if p != &s.auth && s.auth.used && s.auth.seq == p.seq && fc == FuncResponse {
		s.flush(&s.auth, ctx)
	}
}

// mergeResponse adds one response fragment to the pending operation.
func (s *Session) mergeResponse(p *pending, h *half, b []byte, ctx *dissect.Context) {
	op := &p.op
	fc := b[1]
	op.Response = true
	p.frags++
	for _, ref := range h.refs[:h.nrefs] {
		op.Packets = append(op.Packets, ref)
	}
	p.outst = h.src
	if p.fc < 128 && fc != FuncResponse {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "response_function", Value: FuncName(fc)})
	}
	info := &s.info
	*info = objInfo{}
	reason := parseObjects(b[4:], true, &op.Targets, info)
	if info.truncated {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "objects_truncated", Value: "true"})
	}
	if info.unknown {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "objects", Value: "unknown_object"})
	}
	if b[0]&acFIN == 0 {
		return
	}
	iin1, iin2 := b[2], b[3]
	for i := range 16 {
		bit := iin1 >> i
		if i >= 8 {
			bit = iin2 >> (i - 8)
		}
		if bit&1 != 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "iin", Value: iinNames[i]})
		}
	}
	switch {
	case op.Result.Status == dissect.StatusMalformed:
	case reason != "":
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	case iin2&iin2Errors != 0:
		bit := iin2 & -iin2 & iin2Errors
		name := iinNames[8]
		switch bit {
		case 2:
			name = iinNames[9]
		case 4:
			name = iinNames[10]
		}
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(bit) << 8, Text: name}
	case info.ctlStatus != 0:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(info.ctlStatus), Text: controlStatusName(info.ctlStatus)}
	default:
		op.Result = dissect.Result{Status: dissect.StatusOK}
	}
}

// flush emits a pending operation as it stands (a request never answered,
// a response cut short).
func (s *Session) flush(p *pending, ctx *dissect.Context) {
	if s.resp == p {
		s.resp = nil
	}
	s.emit(p, ctx)
}

// emit hands a pending operation to ctx and frees its slot. The
// operation's time is that of its first fragment; its packets are those
// that carried the request and the response.
func (s *Session) emit(p *pending, ctx *dissect.Context) {
	if !p.used {
		return
	}
	p.used = false
	op := ctx.Op("dnp3")
	copyOp(op, &p.op)
	op.Time = p.time
	if p.frags > 1 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "response_fragments", Value: decimal[min(p.frags, 255)]})
	}
	if p.nreq > 0 && len(op.Targets) > p.nreq {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "request_objects", Value: decimal[min(p.nreq, 255)]})
	}
	s.orient(op, p.dir, p.master, p.outst)
	ctx.Emit(op)
}

// expire emits requests left unanswered longer than the pairing window.
func (s *Session) expire(ctx *dissect.Context) {
	for i := range s.req {
		if p := &s.req[i]; p.used && !p.inResp && ctx.Time.Sub(p.time) > pairWindow {
			s.flush(p, ctx)
		}
	}
}

// orient sets the operation's client to the master and its server to the
// outstation: reqDir is the direction in which requests travel. It also
// adds the link addresses of both as identity facts.
func (s *Session) orient(op *dissect.Operation, reqDir dissect.Direction, master, outst uint16) {
	if reqDir == dissect.ToClient {
		op.Client, op.Server = op.Server, op.Client
	}
	if !broadcast(master) {
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactAddress, Value: s.addr(master)})
	}
	if !broadcast(outst) {
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactAddress, Value: s.addr(outst), Server: true})
	}
}

// addr returns the decimal form of a link address, cached.
func (s *Session) addr(a uint16) string {
	for i := range s.naddr {
		if s.addrs[i].a == a {
			return s.addrs[i].s
		}
	}
	i := s.naddr
	if i == len(s.addrs) {
		i = int(a) % len(s.addrs)
	} else {
		s.naddr++
	}
	s.addrs[i].a, s.addrs[i].s = a, strconv.Itoa(int(a))
	return s.addrs[i].s
}

// copyOp copies what a session decides about an operation (function,
// class, targets, result, flags, attributes, packets) from src into dst,
// reusing dst's slices; dst keeps its endpoints and identity.
func copyOp(dst, src *dissect.Operation) {
	dst.FunctionCode = src.FunctionCode
	dst.FunctionName = src.FunctionName
	dst.Class = src.Class
	dst.Result = src.Result
	dst.Request = src.Request
	dst.Response = src.Response
	dst.Detail = src.Detail
	dst.Targets = append(dst.Targets[:0], src.Targets...)
	dst.Attrs = append(dst.Attrs[:0], src.Attrs...)
	dst.Packets = append(dst.Packets[:0], src.Packets...)
}

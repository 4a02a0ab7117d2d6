package opcua

import (
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/internal/pairing"
	"github.com/otwatch/otwatch/internal/dissect/internal/stream"
)

const (
	// maxPending is the number of outstanding requests a session tracks.
	// Clients keep several Publish requests queued at the server (OPC
	// 10000-4 section 5.13.5), so the table is larger than one per service.
	maxPending = 32
	maxAttrs   = 8
	maxFacts   = 2
	// pairTimeout is the pairing window. Publish requests legitimately wait
	// for a keep-alive interval; anything older is reported unanswered.
	pairTimeout = 5 * time.Minute
	// maxChunks and maxReassembly bound a multi-chunk message: chunks past
	// maxChunks make it malformed, body bytes past maxReassembly are
	// counted but not kept (the service header is in the first chunk).
	maxChunks     = 4096
	maxReassembly = 64 << 10
	// streamAbove is the chunk size above which a MSG chunk is decoded
	// from its first streamKeep bytes and the rest skipped, so that chunks
	// larger than the reassembly buffer (negotiated buffer sizes may reach
	// megabytes) are still seen. Other message types never come close.
	streamAbove = 60 << 10
	streamKeep  = 48 << 10
)

// Sentinel error that stops a session: the stream cannot be framed.
var errFrame = errors.New("opcua: bad message header")

// Malformed reasons.
const (
	reasonHeader        = "bad message header"
	reasonShort         = "message too short"
	reasonTypeID        = "bad service type id"
	reasonRequestHeader = "bad request header"
	reasonResponse      = "bad response header"
	reasonChunks        = "too many chunks"
	reasonInterleaved   = "interleaved chunks"
	reasonBody          = "bad message body"
)

// Attribute keys.
const (
	attrEndpoint        = "endpoint_url"
	attrProtocolVersion = "protocol_version"
	attrRecvBuffer      = "receive_buffer_size"
	attrSendBuffer      = "send_buffer_size"
	attrMaxMessage      = "max_message_size"
	attrMaxChunks       = "max_chunk_count"
	attrServerURI       = "server_uri"
	attrPolicy          = "security_policy"
	attrMode            = "security_mode"
	attrRequestType     = "request_type"
	attrUserToken       = "user_token"
	attrUsername        = "username"
	attrCleartext       = "cleartext_credential"
	attrAppURI          = "application_uri"
	attrAppName         = "application_name"
	attrClientAppURI    = "client_application_uri"
	attrClientAppName   = "client_application_name"
	attrResponseType    = "response_type"
	attrRequestChunks   = "request_chunks"
	attrResponseChunks  = "response_chunks"
	attrAborted         = "aborted"
	attrReason          = "reason"
	attrAttributeID     = "attribute_id"
)

// Operation kinds.
const (
	kindService = iota
	kindHello
	kindOpen
)

// request is an outstanding request, kept by value in the session's fixed
// table until its response arrives.
type request struct {
	pairing.Request
	kind    uint8
	id      uint32 // request id of the sequence header
	chunks  uint32
	reason  string
	na, nf  uint8
	hasTgt  bool
	target  dissect.Target
	attrs   [maxAttrs]dissect.Attr
	facts   [maxFacts]dissect.Fact
	packet  dissect.PacketRef
	fnName  string
	fnClass dissect.Class
	fnCode  int
}

func (r *request) attr(key, value string) {
	if int(r.na) < len(r.attrs) {
		r.attrs[r.na] = dissect.Attr{Key: key, Value: value}
		r.na++
	}
}

func (r *request) fact(key, value string, server bool) {
	if int(r.nf) < len(r.facts) && value != "" {
		r.facts[r.nf] = dissect.Fact{Key: key, Value: value, Server: server}
		r.nf++
	}
}

// partial is a multi-chunk message being reassembled in one direction.
type partial struct {
	active    bool
	id        uint32
	chunks    uint32
	truncated bool
	buf       []byte
}

// add appends the body of a chunk (only its head when cut) within
// maxReassembly; once a body is cut, later ones are not contiguous with
// it and are only counted.
func (p *partial) add(body []byte, cut bool) {
	if p.truncated {
		return
	}
	n := min(len(body), maxReassembly-len(p.buf))
	p.buf = append(p.buf, body[:n]...)
	p.truncated = cut || n < len(body)
}

// session is the state of one OPC UA TCP connection.
type session struct {
	pending [maxPending]request
	reqs    pairing.Requests // the outstanding entries of pending
	resync  stream.Resync
	skip    [2]int // bytes of a large chunk still to skip
	partial [2]partial
	// roles is reversed when the OPC UA server opened the TCP connection
	// (reverse connect, OPC 10000-6 section 7.1.3), so requests travel
	// towards the flow's client; the first message that tells settles it.
	roles stream.Roles
	// policy is the security policy of the secure channel ("" until an
	// OpenSecureChannel is seen). A policy other than None means the
	// service messages are signed or encrypted.
	policy string
}

func newSession(f *dissect.Flow) *session {
	return &session{roles: stream.NewRoles(f, Port)}
}

// secured reports whether the channel's messages are signed or encrypted.
func (s *session) secured() bool { return s.policy != "" && s.policy != policyNone }

func (s *session) op(ctx *dissect.Context) *dissect.Operation {
	return s.roles.Op(ctx, "opcua")
}

// Feed frames the bytes of one direction into messages and handles each
// whole one.
func (s *session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	if dir > dissect.ToClient {
		return len(data), nil
	}
	off, ok := s.resync.Find(dir, data, 0, resync, headerLen)
	if !ok {
		return off, nil
	}
	s.expire(ctx)
	for {
		if s.skip[dir] > 0 {
			n := min(s.skip[dir], len(data)-off)
			off += n
			s.skip[dir] -= n
			if s.skip[dir] > 0 {
				return off, nil
			}
		}
		if len(data)-off < headerLen {
			return off, nil
		}
		b := data[off:]
		mt, size, ok := header(b)
		if !ok || (size > streamAbove && mt != mtMSG) {
			s.malformed(dir, reasonHeader, ctx)
			return off, errFrame
		}
		if size > streamAbove {
			// Decode the head of a large chunk and skip the rest as it
			// arrives, whatever the reassembly buffer holds.
			if len(b) < streamKeep {
				return off, nil
			}
			off += streamKeep
			s.skip[dir] = size - streamKeep
			s.msg(dir, b[:streamKeep], true, ctx)
			continue
		}
		if len(b) < size {
			return off, nil
		}
		off += size
		s.message(dir, mt, b[:size], ctx)
	}
}

// Gap drops the partial message of direction dir; the session looks for
// the next plausible message header.
func (s *session) Gap(dir dissect.Direction, _ int, _ *dissect.Context) {
	if dir <= dissect.ToClient {
		s.resync[dir] = true
		s.skip[dir] = 0
		s.partial[dir].active = false
	}
}

// Close emits the requests still waiting for a response, oldest first.
func (s *session) Close(ctx *dissect.Context) {
	pairing.Close(&s.reqs, s.pending[:], func(r *request) { s.unanswered(r, ctx) })
}

// resync returns the offset of the first plausible message header in
// data, or -1.
func resync(data []byte) int {
	for i := 0; i+headerLen <= len(data); i++ {
		if _, _, ok := header(data[i:]); ok {
			return i
		}
	}
	return -1
}

// message handles one whole message m of type mt.
func (s *session) message(dir dissect.Direction, mt int, m []byte, ctx *dissect.Context) {
	switch mt {
	case mtHEL:
		s.hello(dir, m, ctx)
	case mtACK:
		s.roles.Settle(dir, false)
		s.helloAnswer(m, false, ctx)
	case mtERR:
		s.roles.Settle(dir, false)
		s.helloAnswer(m, true, ctx)
	case mtRHE:
		s.reverseHello(dir, m, ctx)
	case mtOPN:
		s.open(dir, m, ctx)
	case mtCLO:
		s.close(dir, m, ctx)
	case mtMSG:
		s.msg(dir, m, false, ctx)
	}
}

// hello records a Hello (section 7.1.2.3) until its Acknowledge.
func (s *session) hello(dir dissect.Direction, m []byte, ctx *dissect.Context) {
	s.roles.Settle(dir, true)
	r := s.slot(kindHello, 0, ctx)
	s.fill(r, kindHello, 0, ctx)
	r.fnName, r.fnClass = "hello", dissect.ClassOther
	rd := reader{b: m, off: headerLen}
	r.attr(attrProtocolVersion, strconv.FormatUint(uint64(rd.u32()), 10))
	r.attr(attrRecvBuffer, strconv.FormatUint(uint64(rd.u32()), 10))
	r.attr(attrSendBuffer, strconv.FormatUint(uint64(rd.u32()), 10))
	r.attr(attrMaxMessage, strconv.FormatUint(uint64(rd.u32()), 10))
	r.attr(attrMaxChunks, strconv.FormatUint(uint64(rd.u32()), 10))
	if url := rd.bytes(); len(url) > 0 {
		r.attr(attrEndpoint, string(url))
	}
	if rd.bad || rd.off != len(m) {
		r.reason = reasonBody
	}
}

// helloAnswer completes the Hello with an Acknowledge or, when isErr, an
// Error (section 7.1.2.5: a status code and a reason). An Error without a
// pending Hello is an operation of its own.
func (s *session) helloAnswer(m []byte, isErr bool, ctx *dissect.Context) {
	r := s.find(kindHello, 0)
	op := s.op(ctx)
	op.Response = true
	if r != nil {
		op.Request = true
		op.Packets = append(op.Packets, r.packet)
		s.emitFill(op, r)
	} else if !isErr {
		op.FunctionName = "hello"
	} else {
		op.FunctionName = "error"
	}
	if isErr {
		rd := reader{b: m, off: headerLen}
		code := rd.u32()
		reason := rd.bytes()
		if len(reason) > 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrReason, Value: string(reason)})
		}
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(code), Text: statusName(code)}
		if rd.bad {
			setMalformed(op, reasonBody)
		}
	} else if op.Result.Status != dissect.StatusMalformed {
		op.Result.Status = dissect.StatusOK
	}
	ctx.Emit(op)
	if r != nil {
		s.free(r)
	}
}

// reverseHello emits a ReverseHello (section 7.1.2.6): the server opened
// the connection and offers itself to the client.
func (s *session) reverseHello(dir dissect.Direction, m []byte, ctx *dissect.Context) {
	s.roles.Settle(dir, false)
	op := s.op(ctx)
	op.FunctionName = "reverse_hello"
	op.Request = true
	op.Result.Status = dissect.StatusOK
	rd := reader{b: m, off: headerLen}
	if uri := rd.bytes(); len(uri) > 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrServerURI, Value: string(uri)})
	}
	if url := rd.bytes(); len(url) > 0 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrEndpoint, Value: string(url)})
	}
	if rd.bad || rd.off != len(m) {
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reasonBody}
	}
	ctx.Emit(op)
}

// open handles an OpenSecureChannel chunk (section 6.7.2): the asymmetric
// security header names the policy; with policy None the body is clear.
func (s *session) open(dir dissect.Direction, m []byte, ctx *dissect.Context) {
	rd := reader{b: m, off: headerLen + 4}
	uri := rd.bytes()
	rd.bytes() // senderCertificate
	rd.bytes() // receiverCertificateThumbprint
	rd.skip(4) // sequenceNumber
	reqID := rd.u32()
	if rd.bad {
		s.malformed(dir, reasonShort, ctx)
		return
	}
	policy := policyName(uri)
	if s.policy == "" || s.roles.FromClient(dir) {
		s.policy = policy
	}
	if policy != policyNone {
		// The sequence header is encrypted with the body: pair the
		// request and response of the channel by kind alone.
		reqID = 0
	}
	if m[3] != 'F' {
		// OpenSecureChannel messages fit one chunk in practice; a chunked
		// or aborted one is reported as it is, without body decoding.
		s.malformed(dir, reasonChunks, ctx)
		return
	}
	body := m[rd.off:]
	var t nodeID
	br := reader{b: body}
	if policy == policyNone {
		t = br.nodeID(false)
	}
	request := s.roles.FromClient(dir)
	if policy == policyNone && !br.bad && t.ns == 0 && (t.id == idOpenChannelReq || t.id == idOpenChannelResp) {
		request = t.id == idOpenChannelReq
		s.roles.Settle(dir, request)
	}
	if request {
		r := s.slot(kindOpen, reqID, ctx)
		s.fill(r, kindOpen, reqID, ctx)
		r.fnName, r.fnClass, r.fnCode = "open_secure_channel", dissect.ClassOther, idOpenChannelReq
		r.attr(attrPolicy, policy)
		if policy != policyNone {
			return
		}
		if br.bad || t.ns != 0 || t.id != idOpenChannelReq {
			r.reason = reasonTypeID
			return
		}
		br.requestHeader()
		br.skip(4) // clientProtocolVersion
		rt := br.u32()
		mode := br.u32()
		if br.bad {
			r.reason = reasonRequestHeader
			return
		}
		if rt == 0 {
			r.attr(attrRequestType, "issue")
		} else {
			r.attr(attrRequestType, "renew")
		}
		r.attr(attrMode, securityModeName(mode))
		return
	}
	r := s.find(kindOpen, reqID)
	op := s.op(ctx)
	op.Response = true
	if r != nil {
		op.Request = true
		op.Packets = append(op.Packets, r.packet)
		s.emitFill(op, r)
	} else {
		op.FunctionName, op.FunctionCode = "open_secure_channel", idOpenChannelReq
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrPolicy, Value: policy})
	}
	if policy != policyNone {
		op.Result.Status = dissect.StatusOK
	} else if br.bad || t.ns != 0 || t.id != idOpenChannelResp {
		setMalformed(op, reasonTypeID)
	} else {
		_, result := br.responseHeader()
		if br.bad {
			setMalformed(op, reasonResponse)
		} else {
			setResult(op, result)
		}
	}
	ctx.Emit(op)
	if r != nil {
		s.free(r)
	}
}

// close emits a CloseSecureChannel (section 6.7.6): a request without a
// response.
func (s *session) close(dir dissect.Direction, m []byte, ctx *dissect.Context) {
	s.roles.Settle(dir, true)
	op := s.op(ctx)
	op.FunctionName, op.FunctionCode = "close_secure_channel", idCloseChannelReq
	op.Request = true
	op.Result.Status = dissect.StatusOK
	if s.secured() {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrPolicy, Value: s.policy})
	} else {
		rd := reader{b: m, off: headerLen + 16}
		t := rd.nodeID(false)
		if rd.bad || t.ns != 0 || t.id != idCloseChannelReq {
			setMalformed(op, reasonTypeID)
		}
	}
	ctx.Emit(op)
}

// msg handles a MSG chunk (section 6.7.2): symmetric security header,
// sequence header, then a part of the service message. cut says m is
// only the head of the chunk.
func (s *session) msg(dir dissect.Direction, m []byte, cut bool, ctx *dissect.Context) {
	reqID := binary.LittleEndian.Uint32(m[20:24])
	body := m[24:]
	p := &s.partial[dir]
	chunks, truncated := uint32(1), cut
	switch m[3] {
	case 'C':
		if p.active && p.id != reqID {
			p.active = false
			s.malformed(dir, reasonInterleaved, ctx)
		}
		if !p.active {
			*p = partial{active: true, id: reqID, buf: p.buf[:0]}
		}
		p.chunks++
		if p.chunks > maxChunks {
			p.active = false
			s.malformed(dir, reasonChunks, ctx)
			return
		}
		if !s.secured() {
			p.add(body, cut)
		}
		return
	case 'A':
		if p.active && p.id == reqID {
			chunks = p.chunks + 1
			p.active = false
		}
		s.abort(dir, reqID, body, chunks, ctx)
		return
	}
	if p.active && p.id == reqID {
		chunks = p.chunks + 1
		if !s.secured() {
			p.add(body, cut)
		}
		body, truncated = p.buf, p.truncated
		p.active = false
	}
	if s.secured() {
		s.encrypted(dir, chunks, ctx)
		return
	}
	s.service(dir, reqID, body, chunks, truncated, ctx)
}

// encrypted emits one message of a signed or encrypted channel.
func (s *session) encrypted(dir dissect.Direction, chunks uint32, ctx *dissect.Context) {
	op := s.op(ctx)
	op.FunctionName = "encrypted"
	op.Request = s.roles.FromClient(dir)
	op.Response = !op.Request
	policy := s.policy
	if policy == "" {
		policy = "unknown"
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: attrPolicy, Value: policy})
	if chunks > 1 {
		key := attrRequestChunks
		if op.Response {
			key = attrResponseChunks
		}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: key, Value: strconv.FormatUint(uint64(chunks), 10)})
	}
	ctx.Emit(op)
}

// abort handles an abort chunk (section 6.7.3): the sender gave up the
// message; the body holds an error code and a reason.
func (s *session) abort(dir dissect.Direction, reqID uint32, body []byte, chunks uint32, ctx *dissect.Context) {
	rd := reader{b: body}
	code := rd.u32()
	op := s.op(ctx)
	var r *request
	if !s.roles.FromClient(dir) {
		r = s.find(kindService, reqID)
	}
	if r != nil {
		op.Request = true
		op.Packets = append(op.Packets, r.packet)
		s.emitFill(op, r)
		op.Response = true
	} else {
		op.FunctionName = "abort"
		op.Request = s.roles.FromClient(dir)
		op.Response = !op.Request
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: attrAborted, Value: "true"})
	if chunks > 1 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrResponseChunks, Value: strconv.FormatUint(uint64(chunks), 10)})
	}
	if rd.bad {
		setMalformed(op, reasonBody)
	} else {
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(code), Text: statusName(code)}
	}
	ctx.Emit(op)
	if r != nil {
		s.free(r)
	}
}

// service decodes the service message body of a channel with security
// policy None: the type id of the encoded request or response, its header
// and, for some services, what they say about identities.
func (s *session) service(dir dissect.Direction, reqID uint32, body []byte, chunks uint32, truncated bool, ctx *dissect.Context) {
	rd := reader{b: body, cut: truncated}
	t := rd.nodeID(false)
	var svc *service
	response, known := false, false
	if !rd.bad && t.numeric && t.ns == 0 {
		svc, response, known = lookup(t.id)
	}
	fault := !rd.bad && t.numeric && t.ns == 0 && t.id == idServiceFault
	if !known && !fault && s.policy == "" {
		// No OpenSecureChannel was seen (the capture started later) and
		// the body does not start with a service type id: the channel is
		// most likely secured.
		s.encrypted(dir, chunks, ctx)
		return
	}
	if rd.bad {
		s.malformed(dir, reasonTypeID, ctx)
		return
	}
	switch {
	case known:
		s.roles.Settle(dir, !response)
	case fault:
		s.roles.Settle(dir, false)
		response = true
	default:
		response = !s.roles.FromClient(dir)
	}
	if !response {
		s.request(reqID, t, svc, &rd, chunks, truncated, ctx)
		return
	}
	s.response(reqID, t, svc, fault, &rd, chunks, truncated, ctx)
}

// request records a service request until its response arrives.
func (s *session) request(reqID uint32, t nodeID, svc *service, rd *reader, chunks uint32, truncated bool, ctx *dissect.Context) {
	r := s.slot(kindService, reqID, ctx)
	s.fill(r, kindService, reqID, ctx)
	r.chunks = chunks
	if svc == nil {
		r.fnName, r.fnClass, r.fnCode = "unknown_service", dissect.ClassOther, int(t.id)
		return
	}
	r.fnName, r.fnClass, r.fnCode = svc.name, svc.class, int(svc.req)
	rd.requestHeader()
	if rd.bad {
		if !truncated {
			r.reason = reasonRequestHeader
		}
		return
	}
	switch svc.req {
	case idReadReq:
		rd.skip(12) // maxAge, timestampsToReturn
		if n := rd.array(16); !rd.bad {
			r.hasTgt, r.target = true, dissect.Target{Kind: "node", Count: uint32(n)}
		}
	case idBrowseReq:
		rd.nodeID(false)
		rd.skip(16) // view timestamp and version, requestedMaxReferencesPerNode
		if n := rd.array(17); !rd.bad {
			r.hasTgt, r.target = true, dissect.Target{Kind: "node", Count: uint32(n)}
		}
	case idWriteReq:
		n := rd.array(11)
		if n > 0 {
			node := rd.nodeID(false)
			attr := rd.u32()
			if !rd.bad {
				r.hasTgt, r.target = true, dissect.Target{Kind: "node", Name: node.String(), Count: uint32(n)}
				r.attr(attrAttributeID, strconv.FormatUint(uint64(attr), 10))
			}
		}
	case idCallReq:
		n := rd.array(8)
		if n > 0 {
			rd.nodeID(false)
			method := rd.nodeID(false)
			if !rd.bad {
				r.hasTgt, r.target = true, dissect.Target{Kind: "method", Name: method.String(), Count: uint32(n)}
			}
		}
	case idCreateSessionReq:
		a := rd.applicationDescription()
		if len(a.uri) > 0 {
			r.attr(attrClientAppURI, string(a.uri))
		}
		if len(a.name) > 0 {
			r.attr(attrClientAppName, string(a.name))
		}
		r.fact(dissect.FactProduct, string(a.product), false)
	case idActivateSessionReq:
		s.activate(r, rd)
	}
}

// activate reads the user identity token of an ActivateSession request
// (OPC 10000-4 section 5.6.3).
func (s *session) activate(r *request, rd *reader) {
	rd.bytes() // clientSignature.algorithm
	rd.bytes() // clientSignature.signature
	for n := rd.array(8); n > 0 && !rd.bad; n-- {
		rd.bytes()
		rd.bytes()
	}
	for n := rd.array(4); n > 0 && !rd.bad; n-- {
		rd.bytes()
	}
	t, body := rd.extensionObject()
	if rd.bad {
		return
	}
	if !t.numeric || t.ns != 0 {
		r.attr(attrUserToken, "unknown")
		return
	}
	r.attr(attrUserToken, tokenName(t.id))
	if t.id != idUserNameToken {
		return
	}
	tr := reader{b: body}
	tr.bytes() // policyId
	user := tr.bytes()
	tr.bytes() // password
	alg := tr.bytes()
	if tr.bad {
		return
	}
	r.attr(attrUsername, string(user))
	if len(alg) == 0 {
		// The password travels unencrypted on a channel without security.
		r.attr(attrCleartext, "password")
	}
}

// response completes the operation of the request it answers, or emits
// the response alone when its request was not seen.
func (s *session) response(reqID uint32, t nodeID, svc *service, fault bool, rd *reader, chunks uint32, truncated bool, ctx *dissect.Context) {
	r := s.find(kindService, reqID)
	op := s.op(ctx)
	op.Response = true
	if r != nil {
		op.Request = true
		op.Packets = append(op.Packets, r.packet)
		s.emitFill(op, r)
	} else {
		switch {
		case svc != nil:
			op.FunctionName, op.Class, op.FunctionCode = svc.name, svc.class, int(svc.req)
		case fault:
			op.FunctionName, op.FunctionCode = "service_fault", idServiceFault
		default:
			op.FunctionName, op.FunctionCode = "unknown_service", int(t.id)
		}
	}
	if fault {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrResponseType, Value: "service_fault"})
	}
	if chunks > 1 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrResponseChunks, Value: strconv.FormatUint(uint64(chunks), 10)})
	}
	if svc == nil && !fault {
		op.Result.Status = dissect.StatusUnknown
	} else {
		_, result := rd.responseHeader()
		switch {
		case rd.bad && !truncated:
			setMalformed(op, reasonResponse)
		case !rd.bad:
			setResult(op, result)
			if svc != nil && !fault {
				switch svc.resp {
				case idGetEndpointsResp:
					endpoints(op, rd)
				case idCreateSessionResp:
					rd.nodeID(false) // sessionId
					rd.nodeID(false) // authenticationToken
					rd.skip(8)       // revisedSessionTimeout
					rd.bytes()       // serverNonce
					rd.bytes()       // serverCertificate
					endpoints(op, rd)
				}
			}
		}
	}
	if r != nil && r.reason != "" {
		setMalformed(op, r.reason)
	}
	ctx.Emit(op)
	if r != nil {
		s.free(r)
	}
}

// endpoints adds the server descriptions of an EndpointDescription array
// to op: the product URI as the product fact, the application URI and
// name as attributes, each distinct value once.
func endpoints(op *dissect.Operation, rd *reader) {
	for n := rd.array(40); n > 0 && !rd.bad; n-- {
		a := rd.endpointDescription()
		if rd.bad {
			return
		}
		if len(a.product) > 0 && !hasFact(op, a.product) {
			op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactProduct, Value: string(a.product), Server: true})
		}
		if len(a.uri) > 0 && !hasAttr(op, attrAppURI, a.uri) {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrAppURI, Value: string(a.uri)})
		}
		if len(a.name) > 0 && !hasAttr(op, attrAppName, a.name) {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrAppName, Value: string(a.name)})
		}
	}
}

func hasFact(op *dissect.Operation, v []byte) bool {
	for _, f := range op.Identity {
		if f.Key == dissect.FactProduct && f.Server && f.Value == string(v) {
			return true
		}
	}
	return false
}

func hasAttr(op *dissect.Operation, key string, v []byte) bool {
	for _, a := range op.Attrs {
		if a.Key == key && a.Value == string(v) {
			return true
		}
	}
	return false
}

// setResult sets op's result from a service result status code (OPC
// 10000-4 section 7.34: the top two bits are the severity).
func setResult(op *dissect.Operation, code uint32) {
	if op.Result.Status == dissect.StatusMalformed {
		return
	}
	if code>>31 == 1 {
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(code), Text: statusName(code)}
		return
	}
	op.Result = dissect.Result{Status: dissect.StatusOK, Code: int(code), Text: statusName(code)}
}

// setMalformed marks op malformed with reason, keeping a status code the
// server returned in Result.Code.
func setMalformed(op *dissect.Operation, reason string) {
	if op.Result.Status == dissect.StatusMalformed {
		return
	}
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Code: op.Result.Code, Text: reason}
}

// malformed emits a message that violates the protocol.
func (s *session) malformed(dir dissect.Direction, reason string, ctx *dissect.Context) {
	op := s.op(ctx)
	op.FunctionName = "malformed"
	op.Request = s.roles.FromClient(dir)
	op.Response = !op.Request
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: reason}
	ctx.Emit(op)
}

// fill resets table entry r for a new request.
func (s *session) fill(r *request, kind uint8, id uint32, ctx *dissect.Context) {
	*r = request{kind: kind, id: id, packet: ctx.Packet}
	s.reqs.Add(&r.Request, ctx.Time)
}

// emitFill copies what request r says into op.
func (s *session) emitFill(op *dissect.Operation, r *request) {
	op.FunctionName, op.Class, op.FunctionCode = r.fnName, r.fnClass, r.fnCode
	if r.hasTgt {
		op.Targets = append(op.Targets, r.target)
	}
	op.Attrs = append(op.Attrs, r.attrs[:r.na]...)
	op.Identity = append(op.Identity, r.facts[:r.nf]...)
	if r.chunks > 1 {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrRequestChunks, Value: strconv.FormatUint(uint64(r.chunks), 10)})
	}
	if r.reason != "" {
		op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: r.reason}
	}
}

func (s *session) free(r *request) {
	s.reqs.Free(&r.Request)
}

// find returns the outstanding request of kind with request id id, or nil.
func (s *session) find(kind uint8, id uint32) *request {
	if s.reqs.Len() == 0 {
		return nil
	}
	for i := range s.pending {
		r := &s.pending[i]
		if r.Used && r.kind == kind && r.id == id {
			return r
		}
	}
	return nil
}

// slot returns the table entry for a new request. An outstanding request
// with the same kind and id will never be answered; when the table is full
// the oldest request is given up. Either is emitted without a response.
func (s *session) slot(kind uint8, id uint32, ctx *dissect.Context) *request {
	if r := s.find(kind, id); r != nil {
		s.unanswered(r, ctx)
		return r
	}
	for i := range s.pending {
		if !s.pending[i].Used {
			return &s.pending[i]
		}
	}
	r := pairing.Oldest(s.pending[:], time.Time{})
	s.unanswered(r, ctx)
	return r
}

// expire emits the requests that have waited longer than the pairing
// window.
func (s *session) expire(ctx *dissect.Context) {
	if s.reqs.Len() > 0 {
		pairing.Expire(&s.reqs, s.pending[:], ctx.Time, pairTimeout, func(r *request) { s.unanswered(r, ctx) })
	}
}

// unanswered emits an outstanding request without a response and frees
// its entry.
func (s *session) unanswered(r *request, ctx *dissect.Context) {
	op := s.op(ctx)
	op.Time = r.Time
	op.Packets[0] = r.packet
	op.Request = true
	s.emitFill(op, r)
	ctx.Emit(op)
	s.free(r)
}

package http

import (
	"bytes"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// mode is where a direction's parser is within the message stream.
type mode uint8

const (
	modeStart      mode = iota // expecting a request or status line
	modeHeaders                // within the header section
	modeBody                   // skipping remain bytes of a sized body
	modeChunkSize              // expecting a chunk-size line
	modeChunkData              // skipping remain bytes of chunk data
	modeChunkEnd               // expecting the CRLF after chunk data
	modeTrailers               // within the trailer section
	modeUntilClose             // a response body delimited by the close
	modeTunnel                 // no longer HTTP (101, CONNECT, HTTP/2)
	modeResync                 // framing lost: skip to the next start line
	modeSkipLine               // skipping the rest of an over-long line
)

// request is a parsed request waiting for its response.
type request struct {
	method    int
	target    string
	host      string
	userAgent string
	user      string
	scheme    string // authorization scheme, "" when none
	cleartext bool   // Basic credentials were sent
	pkt       dissect.PacketRef
	time      time.Time
}

// response is the response being parsed.
type response struct {
	code      int
	server    string
	challenge bool // WWW-Authenticate present
}

// half is one direction's parser state.
type half struct {
	mode      mode
	afterSkip mode  // mode to return to after an over-long line
	remain    int64 // body or chunk bytes still to skip
	length    int64 // Content-Length of the message being parsed, -1 if none
	chunked   bool
	upgrade   bool
}

// Session dissects one HTTP connection.
type Session struct {
	half      [2]half
	req       request // request being parsed
	resp      response
	pending   [maxPending]request
	head      int               // index of the oldest pending request
	count     int               // pending requests
	reqDir    dissect.Direction // direction of requests
	roleKnown bool              // reqDir was learnt from a start line

	targets, hosts, agents, users, servers interner
	lastServer                             string // Server value whose facts were emitted
	authBuf                                [256]byte
}

// Feed consumes whole lines of the header sections and any body bytes,
// and emits an operation when a response's header section ends.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	h := &s.half[dir&1]
	n := 0
	for n < len(data) {
		d := data[n:]
		switch h.mode {
		case modeTunnel, modeUntilClose:
			return len(data), nil
		case modeBody, modeChunkData:
			k := int(min(h.remain, int64(len(d))))
			h.remain -= int64(k)
			n += k
			if h.remain == 0 {
				if h.mode == modeBody {
					h.mode = modeStart
				} else {
					h.mode = modeChunkEnd
				}
			}
			continue
		case modeSkipLine:
			i := bytes.IndexByte(d, '\n')
			if i < 0 {
				return len(data), nil
			}
			n += i + 1
			h.mode = h.afterSkip
			continue
		}
		line, adv, ok, long := nextLine(d)
		if long {
			n += maxLine
			h.afterSkip = h.mode
			switch h.mode {
			case modeStart, modeChunkSize, modeChunkEnd:
				s.malformed(dir, errLongLine, ctx)
				h.afterSkip = modeResync
			case modeResync:
			default:
				// An over-long header or trailer line is skipped whole.
			}
			h.mode = modeSkipLine
			continue
		}
		if !ok {
			break
		}
		n += adv
		s.line(dir, h, line, ctx)
	}
	return n, nil
}

// line handles one complete line of direction dir.
func (s *Session) line(dir dissect.Direction, h *half, line []byte, ctx *dissect.Context) {
	switch h.mode {
	case modeStart, modeResync:
		if len(line) == 0 && h.mode == modeStart {
			return // RFC 9112 section 2.2: ignore empty lines before a request
		}
		if s.startLine(dir, h, line, ctx) {
			h.mode = modeHeaders
		} else if h.mode == modeStart {
			s.malformed(dir, errStartLine, ctx)
			h.mode = modeResync
		}
	case modeHeaders:
		if len(line) == 0 {
			s.endHeaders(dir, h, ctx)
			return
		}
		if line[0] == ' ' || line[0] == '\t' {
			return // obsolete line folding (RFC 9112 section 5.2)
		}
		name, value, ok := headerField(line)
		if !ok {
			// The header section is broken: report it, complete the
			// message with what was parsed and look for the next one.
			s.malformed(dir, errHeaderField, ctx)
			s.endHeaders(dir, h, ctx)
			if h.mode != modeTunnel {
				h.mode = modeResync
			}
			return
		}
		s.header(dir, h, name, value, ctx)
	case modeChunkSize:
		size, ok := parseChunkSize(line)
		switch {
		case !ok:
			s.malformed(dir, errChunkSize, ctx)
			h.mode = modeResync
		case size == 0:
			h.mode = modeTrailers
		default:
			h.remain = size
			h.mode = modeChunkData
		}
	case modeChunkEnd:
		if len(line) != 0 {
			s.malformed(dir, errChunkEnd, ctx)
			h.mode = modeResync
			return
		}
		h.mode = modeChunkSize
	case modeTrailers:
		if len(line) == 0 {
			h.mode = modeStart
		}
	}
}

// startLine parses a request line (to the server) or a status line (to the
// client) and starts a new message.
func (s *Session) startLine(dir dissect.Direction, h *half, line []byte, ctx *dissect.Context) bool {
	h.length, h.chunked, h.upgrade = -1, false, false
	if !s.roleKnown {
		// A capture that starts mid-connection may have the roles the
		// wrong way round: the side that sends requests is the client.
		if _, _, ok := requestLine(line); ok {
			s.reqDir, s.roleKnown = dir, true
		} else if _, ok := statusLine(line); ok {
			s.reqDir, s.roleKnown = dir^1, true
		}
	}
	if dir == s.reqDir {
		m, target, ok := requestLine(line)
		if !ok {
			return false
		}
		s.req = request{method: m, pkt: ctx.Packet, time: ctx.Time}
		if len(target) > maxTarget {
			target = target[:maxTarget]
		}
		s.req.target = s.targets.get(target)
		return true
	}
	code, ok := statusLine(line)
	if !ok {
		return false
	}
	s.resp = response{code: code}
	return true
}

var (
	hdrContentLength    = []byte("Content-Length")
	hdrTransferEncoding = []byte("Transfer-Encoding")
	hdrHost             = []byte("Host")
	hdrUserAgent        = []byte("User-Agent")
	hdrAuthorization    = []byte("Authorization")
	hdrServer           = []byte("Server")
	hdrWWWAuthenticate  = []byte("WWW-Authenticate")
	hdrUpgrade          = []byte("Upgrade")
)

// header records one header field of the message being parsed.
func (s *Session) header(dir dissect.Direction, h *half, name, value []byte, ctx *dissect.Context) {
	switch {
	case bytes.EqualFold(name, hdrContentLength):
		n, ok := parseLength(value)
		if !ok {
			s.malformed(dir, errLength, ctx)
			n = -2
		}
		h.length = n
	case bytes.EqualFold(name, hdrTransferEncoding):
		// RFC 9112 section 6.3: chunked, when last, frames the body.
		h.chunked = hasToken(value, "chunked")
	case bytes.EqualFold(name, hdrUpgrade):
		h.upgrade = true
	case dir == s.reqDir && bytes.EqualFold(name, hdrHost):
		s.req.host = s.hosts.get(value[:min(len(value), maxValue)])
	case dir == s.reqDir && bytes.EqualFold(name, hdrUserAgent):
		s.req.userAgent = s.agents.get(value[:min(len(value), maxValue)])
	case dir == s.reqDir && bytes.EqualFold(name, hdrAuthorization):
		scheme, rest := authScheme(value)
		s.req.scheme = scheme
		if scheme == "basic" {
			s.req.cleartext = true
			if u, ok := basicUser(rest, s.authBuf[:]); ok {
				s.req.user = s.users.get(u[:min(len(u), maxValue)])
			}
		}
	case dir != s.reqDir && bytes.EqualFold(name, hdrServer):
		s.resp.server = s.servers.get(value[:min(len(value), maxValue)])
	case dir != s.reqDir && bytes.EqualFold(name, hdrWWWAuthenticate):
		s.resp.challenge = true
	}
}

// endHeaders completes a message at the empty line after its header
// section: a request is queued, a response is paired and emitted, and the
// body framing of RFC 9112 section 6.3 is set up.
func (s *Session) endHeaders(dir dissect.Direction, h *half, ctx *dissect.Context) {
	if dir == s.reqDir {
		s.push(ctx)
		switch {
		case s.req.method == methodPri:
			h.mode = modeTunnel // HTTP/2 with prior knowledge
		case h.length == -2:
			h.mode = modeResync
		case h.chunked:
			h.mode = modeChunkSize
		case h.length > 0:
			h.mode, h.remain = modeBody, h.length
		default:
			h.mode = modeStart
		}
		return
	}
	code := s.resp.code
	if code >= 100 && code < 200 && code != 101 {
		h.mode = modeStart // interim response: the final one follows
		return
	}
	req, ok := s.pop()
	s.emit(req, ok, true, ctx)
	switch {
	case code == 101 || (ok && req.method == methodConnect && code < 300 && code >= 200):
		h.mode = modeTunnel
		s.half[s.reqDir].mode = modeTunnel
	case (ok && req.method == methodHead) || code == 204 || code == 304:
		h.mode = modeStart
	case h.length == -2:
		h.mode = modeResync
	case h.chunked:
		h.mode = modeChunkSize
	case h.length >= 0:
		h.mode, h.remain = modeBody, h.length
		if h.length == 0 {
			h.mode = modeStart
		}
	default:
		h.mode = modeUntilClose
	}
}

// push queues the parsed request; when the table is full the oldest
// request is emitted unanswered.
func (s *Session) push(ctx *dissect.Context) {
	if s.count == maxPending {
		old, _ := s.pop()
		s.emit(old, true, false, ctx)
	}
	s.pending[(s.head+s.count)%maxPending] = s.req
	s.count++
}

func (s *Session) pop() (request, bool) {
	if s.count == 0 {
		return request{}, false
	}
	r := s.pending[s.head]
	s.pending[s.head] = request{}
	s.head = (s.head + 1) % maxPending
	s.count--
	return r, true
}

// emit reports one exchange: req when hasReq, the parsed response when
// hasResp.
func (s *Session) emit(req request, hasReq, hasResp bool, ctx *dissect.Context) {
	op := ctx.Op("http")
	s.roles(op)
	op.Request, op.Response = hasReq, hasResp
	op.FunctionName = "response"
	op.Class = dissect.ClassOther
	if hasReq {
		op.FunctionName = methodTable[req.method].name
		switch req.method {
		case methodGet, methodHead:
			op.Class = dissect.ClassRead
		case methodPost, methodPut, methodDelete, methodPatch:
			op.Class = dissect.ClassWrite
		}
		if req.target != "" {
			op.Targets = append(op.Targets, dissect.Target{Kind: "url", Name: req.target})
		}
		if req.host != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "host", Value: req.host})
		}
		if req.userAgent != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "user_agent", Value: req.userAgent})
		}
		if req.scheme != "" {
			op.Class = dissect.ClassAuthentication
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "auth_scheme", Value: req.scheme})
		}
		if req.user != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "user", Value: req.user})
		}
		if req.cleartext {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "cleartext_credentials", Value: "true"})
		}
		if hasResp {
			op.Packets = append(op.Packets, req.pkt)
		} else {
			op.Packets[0] = req.pkt
			op.Time = req.time
		}
	}
	if !hasResp {
		ctx.Emit(op)
		return
	}
	r := &s.resp
	op.Result.Code = r.code
	op.Result.Text = reasonName(r.code)
	op.Result.Status = dissect.StatusOK
	if r.code >= 400 {
		op.Result.Status = dissect.StatusError
	}
	if r.code == 401 || r.code == 407 || r.challenge {
		op.Class = dissect.ClassAuthentication
	}
	if r.server != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "server", Value: r.server})
		if r.server != s.lastServer {
			s.lastServer = r.server
			product, version := serverProduct(r.server)
			if product != "" {
				op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactProduct, Value: product, Server: true})
			}
			if version != "" {
				op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactFirmware, Value: version, Server: true})
			}
		}
	}
	ctx.Emit(op)
}

// roles swaps the operation's endpoints when the flow's client is the
// side that answers requests.
func (s *Session) roles(op *dissect.Operation) {
	if s.reqDir == dissect.ToClient {
		op.Client, op.Server = op.Server, op.Client
	}
}

// malformed emits a malformed operation for direction dir.
func (s *Session) malformed(dir dissect.Direction, err error, ctx *dissect.Context) {
	op := ctx.Op("http")
	op.FunctionName = "malformed"
	op.Request = dir == s.reqDir
	op.Response = !op.Request
	s.roles(op)
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	ctx.Emit(op)
}

// Gap drops the partial message of direction dir and waits for the next
// start line.
func (s *Session) Gap(dir dissect.Direction, _ int, _ *dissect.Context) {
	h := &s.half[dir&1]
	if h.mode != modeTunnel && h.mode != modeUntilClose {
		h.mode = modeResync
	}
}

// Close emits the requests that were never answered.
func (s *Session) Close(ctx *dissect.Context) {
	for s.count > 0 {
		r, _ := s.pop()
		s.emit(r, true, false, ctx)
	}
}

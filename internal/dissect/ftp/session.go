package ftp

import (
	"bytes"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// pending is a command waiting for its final reply.
type pending struct {
	cmd      *command
	arg      string // file, directory or user name; never a password
	dataPort string
	pkt      dissect.PacketRef
	time     time.Time
}

// Session dissects one FTP control connection.
type Session struct {
	skip    [2]bool // skipping the rest of an over-long line
	multi   int     // code of the multi-line reply being read, 0 if none
	first   []byte  // first line's text of a multi-line reply (bounded)
	queue   [maxPending]pending
	head    int
	count   int
	user    string // last user name sent
	greeted bool
	secure  bool // AUTH accepted: the control connection is encrypted
	args    interner
}

// Feed consumes whole lines.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	n := 0
	for n < len(data) && !s.secure {
		d := data[n:]
		i := bytes.IndexByte(d[:min(len(d), maxLine)], '\n')
		if i < 0 {
			if len(d) >= maxLine {
				if !s.skip[dir] {
					s.malformed(dir, errLongLine, ctx)
				}
				s.skip[dir] = true
				n += maxLine
				continue
			}
			break
		}
		n += i + 1
		if s.skip[dir] {
			s.skip[dir] = false
			continue
		}
		line := bytes.TrimRight(d[:i], "\r")
		if dir == dissect.ToServer {
			s.command(line, ctx)
		} else {
			s.reply(line, ctx)
		}
	}
	if s.secure {
		return len(data), nil
	}
	return n, nil
}

// command handles one command line (RFC 959 section 5.3).
func (s *Session) command(line []byte, ctx *dissect.Context) {
	// Telnet IP and Synch sequences may precede ABOR (RFC 959 section 4.1.3).
	for len(line) >= 2 && line[0] == 0xff {
		line = line[2:]
	}
	if len(line) == 0 {
		return
	}
	verb, arg, _ := bytes.Cut(line, []byte(" "))
	cmd, ok := lookup(verb)
	if !ok {
		s.malformed(dissect.ToServer, errCommand, ctx)
		return
	}
	p := pending{cmd: cmd, pkt: ctx.Packet, time: ctx.Time}
	arg = bytes.TrimSpace(arg)
	switch cmd.arg {
	case argFile, argDirectory, argUser:
		p.arg = s.args.get(arg[:min(len(arg), maxArg)])
		if cmd.arg == argUser {
			s.user = p.arg
		}
	case argPassword:
		p.arg = s.user
	case argPort:
		if cmd.verb == "PORT" {
			p.dataPort, _ = hostPort(arg)
		} else {
			p.dataPort, _ = extendedPort(arg)
		}
	}
	if s.count == maxPending {
		s.emit(s.pop(), true, false, 0, nil, ctx)
	}
	s.queue[(s.head+s.count)%maxPending] = p
	s.count++
}

func (s *Session) pop() pending {
	p := s.queue[s.head]
	s.queue[s.head] = pending{}
	s.head = (s.head + 1) % maxPending
	s.count--
	return p
}

// reply handles one reply line; a multi-line reply completes at its last
// line (RFC 959 section 4.2).
func (s *Session) reply(line []byte, ctx *dissect.Context) {
	code, sep, ok := replyCode(line)
	if s.multi != 0 {
		if !ok || code != s.multi || sep != ' ' {
			return // a text line of the multi-line reply
		}
		s.multi = 0
		s.final(code, s.first, ctx)
		return
	}
	if !ok {
		s.malformed(dissect.ToClient, errReply, ctx)
		return
	}
	text := line[min(len(line), 4):]
	if sep == '-' {
		s.multi = code
		s.first = append(s.first[:0], text[:min(len(text), maxArg)]...)
		return
	}
	s.final(code, text, ctx)
}

// final handles a complete reply: preliminary 1xx replies wait for the
// final one; others complete the oldest command.
func (s *Session) final(code int, text []byte, ctx *dissect.Context) {
	if code < 200 {
		return
	}
	if s.count == 0 {
		s.emit(pending{}, false, true, code, text, ctx)
		return
	}
	p := s.pop()
	s.emit(p, true, true, code, text, ctx)
	if p.cmd.verb == "AUTH" && code == 234 {
		s.secure = true // TLS follows on the control connection (RFC 4217)
	}
}

// emit reports one command and/or reply.
func (s *Session) emit(p pending, hasCmd, hasReply bool, code int, text []byte, ctx *dissect.Context) {
	op := ctx.Op("ftp")
	op.Request, op.Response = hasCmd, hasReply
	op.Class = dissect.ClassOther
	if hasCmd {
		c := p.cmd
		op.FunctionName, op.Class = c.name, c.class
		switch c.arg {
		case argFile:
			if p.arg != "" {
				op.Targets = append(op.Targets, dissect.Target{Kind: "file", Name: p.arg})
			}
		case argDirectory:
			if p.arg != "" {
				op.Targets = append(op.Targets, dissect.Target{Kind: "directory", Name: p.arg})
			}
		case argUser:
			if p.arg != "" {
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "user", Value: p.arg})
			}
		case argPassword:
			if p.arg != "" {
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "user", Value: p.arg})
			}
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "cleartext_credentials", Value: "true"})
		}
		if p.dataPort != "" {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "data_port", Value: p.dataPort})
		}
		if hasReply {
			op.Packets = append(op.Packets, p.pkt)
		} else {
			op.Packets[0], op.Time = p.pkt, p.time
		}
	}
	if hasReply {
		op.Result = dissect.Result{Status: dissect.StatusOK, Code: code, Text: replyName(code)}
		if code >= 400 {
			op.Result.Status = dissect.StatusError
		}
		switch {
		case !hasCmd && code == 220 && !s.greeted:
			s.greeted = true
			op.FunctionName = "greeting"
			banner := string(text)
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "banner", Value: banner})
			if product, version := bannerProduct(banner); product != "" {
				op.Identity = append(op.Identity,
					dissect.Fact{Key: dissect.FactProduct, Value: product, Server: true},
					dissect.Fact{Key: dissect.FactFirmware, Value: version, Server: true})
			}
		case !hasCmd:
			op.FunctionName = "reply"
		case code == 227 || code == 229:
			if dp, ok := passivePort(code, text); ok {
				op.Attrs = append(op.Attrs, dissect.Attr{Key: "data_port", Value: dp})
			}
		}
	}
	ctx.Emit(op)
}

// malformed reports a line that is neither a command nor a reply.
func (s *Session) malformed(dir dissect.Direction, err error, ctx *dissect.Context) {
	op := ctx.Op("ftp")
	op.FunctionName = "malformed"
	op.Request, op.Response = dir == dissect.ToServer, dir == dissect.ToClient
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	ctx.Emit(op)
}

// Gap drops the partial line of direction dir; a partial multi-line reply
// is abandoned.
func (s *Session) Gap(dir dissect.Direction, _ int, _ *dissect.Context) {
	s.skip[dir] = true
	if dir == dissect.ToClient {
		s.multi = 0
	}
}

// Close reports the commands never answered.
func (s *Session) Close(ctx *dissect.Context) {
	for s.count > 0 {
		s.emit(s.pop(), true, false, 0, nil, ctx)
	}
}

// interner turns short byte strings into strings, reusing the last few so
// that a connection repeating the same names allocates nothing.
type interner struct {
	s    [4]string
	next int
}

func (in *interner) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	for _, s := range in.s {
		if s == string(b) {
			return s
		}
	}
	s := string(b)
	in.s[in.next] = s
	in.next = (in.next + 1) % len(in.s)
	return s
}

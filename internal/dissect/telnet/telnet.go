package telnet

import (
	"bytes"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.Register(Dissector{}, dissect.TCP(23)) }

// Dissector decodes Telnet sessions.
type Dissector struct{}

// Name returns "telnet".
func (Dissector) Name() string { return "telnet" }

// Probe returns false: Telnet has no signature reliable enough for other
// ports (a session may start with plain text).
func (Dissector) Probe([]byte) bool { return false }

// NewSession returns a session for one Telnet connection.
func (Dissector) NewSession(*dissect.Flow) dissect.Session { return &Session{} }

// Telnet commands (RFC 854 page 14).
const (
	cmdSE   = 240
	cmdSB   = 250
	cmdWILL = 251
	cmdDONT = 254
	cmdIAC  = 255
)

// IAC parser states.
const (
	iacData   = iota
	iacCmd    // after IAC
	iacOption // after WILL/WONT/DO/DONT: the option byte
	iacSub    // within SB ... IAC SE
	iacSubIAC // IAC within a subnegotiation
)

// Login states.
const (
	loginIdle   = iota
	loginUser   // a login prompt was shown: the client types the user name
	loginPass   // a password prompt was shown: the client types the password
	loginResult // the password was sent: the server's next words tell
)

const (
	promptLen = 32 // server text kept to match prompts
	maxUser   = 64
)

var (
	userPrompts = [...][]byte{[]byte("login:"), []byte("username:"), []byte("user name:"), []byte("user:")}
	passPrompt  = []byte("password:")
	failWords   = [...][]byte{[]byte("incorrect"), []byte("failed"), []byte("denied"), []byte("invalid"), []byte("bad password")}
	shellEnds   = [...][]byte{[]byte("$"), []byte("#"), []byte(">")}
	lastLogin   = []byte("last login:")
)

// Session dissects one Telnet connection.
type Session struct {
	iac    [2]uint8
	text   [promptLen]byte // current server line, lower case, last promptLen bytes
	tlen   int
	state  uint8
	user   [maxUser]byte
	ulen   int
	typed  string // user name of the current attempt
	pass   bool   // a password was sent in the current attempt
	seen   bool   // any data
	ops    int    // operations emitted
	pkt    dissect.PacketRef
	failed bool // the current result line reports a failure
}

// Feed consumes everything: the parser is a byte-wise state machine.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	st := &s.iac[dir&1]
	for _, c := range data {
		switch *st {
		case iacData:
			if c == cmdIAC {
				*st = iacCmd
				continue
			}
		case iacCmd:
			switch {
			case c == cmdIAC:
				*st = iacData // escaped 255: a data byte
			case c == cmdSB:
				*st = iacSub
				continue
			case c >= cmdWILL && c <= cmdDONT:
				*st = iacOption
				continue
			default:
				*st = iacData
				continue
			}
		case iacOption:
			*st = iacData
			continue
		case iacSub:
			if c == cmdIAC {
				*st = iacSubIAC
			}
			continue
		case iacSubIAC:
			if c == cmdSE {
				*st = iacData
			} else {
				*st = iacSub
			}
			continue
		}
		s.seen = true
		if dir == dissect.ToClient {
			s.server(c, ctx)
		} else {
			s.client(c, ctx)
		}
	}
	return len(data), nil
}

// server handles one data byte from the server.
func (s *Session) server(c byte, ctx *dissect.Context) {
	if c == '\r' || c == '\n' || c == 0 {
		if s.state == loginResult && s.tlen > 0 {
			s.result(!s.failed, ctx)
		}
		s.tlen = 0
		return
	}
	if c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	if s.tlen == promptLen {
		copy(s.text[:], s.text[1:])
		s.tlen--
	}
	s.text[s.tlen] = c
	s.tlen++
	line := s.text[:s.tlen]
	if s.state == loginResult {
		for _, w := range failWords {
			if bytes.HasSuffix(line, w) {
				s.failed = true
			}
		}
		for _, e := range shellEnds {
			if bytes.HasSuffix(bytes.TrimRight(line, " "), e) && !s.failed {
				s.result(true, ctx)
				return
			}
		}
	}
	if c != ':' && c != ' ' {
		return // every prompt ends in a colon, perhaps followed by spaces
	}
	trimmed := bytes.TrimRight(line, " ")
	if bytes.HasSuffix(trimmed, passPrompt) {
		if s.state == loginResult {
			s.result(false, ctx)
		}
		s.state, s.pass = loginPass, false
		return
	}
	for _, p := range userPrompts {
		if bytes.HasSuffix(trimmed, p) && !bytes.HasSuffix(trimmed, lastLogin) {
			if s.state == loginResult {
				s.result(false, ctx) // asked again: the attempt failed
			}
			s.state, s.ulen, s.typed, s.pass = loginUser, 0, "", false
			return
		}
	}
}

// client handles one data byte from the client.
func (s *Session) client(c byte, ctx *dissect.Context) {
	switch s.state {
	case loginUser:
		switch {
		case c == '\r' || c == '\n':
			if s.ulen > 0 {
				s.typed = string(s.user[:s.ulen])
				s.pkt = ctx.Packet
			}
			s.ulen = 0
		case c == 0x08 || c == 0x7f: // backspace, delete
			if s.ulen > 0 {
				s.ulen--
			}
		case c >= 0x20 && s.ulen < maxUser:
			s.user[s.ulen] = c
			s.ulen++
		}
	case loginPass:
		if c == '\r' || c == '\n' {
			s.pass = true
			s.state, s.failed, s.tlen = loginResult, false, 0
			if s.typed == "" {
				s.pkt = ctx.Packet
			}
		}
	}
}

// result reports one login attempt.
func (s *Session) result(ok bool, ctx *dissect.Context) {
	s.emit(true, ok, ctx)
	s.state, s.typed, s.pass, s.failed = loginIdle, "", false, false
}

// emit reports a login attempt (answered: the server's reaction was seen)
// or, at the end, a session without one.
func (s *Session) emit(answered, ok bool, ctx *dissect.Context) {
	s.ops++
	op := ctx.Op("telnet")
	op.FunctionName = "session"
	op.Class = dissect.ClassAuthentication
	op.Request = s.pass || s.typed != ""
	op.Response = answered
	if op.Request && answered {
		op.Packets = append(op.Packets, s.pkt)
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "remote_access", Value: "true"})
	if s.typed != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "user", Value: s.typed})
	}
	if s.pass {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "cleartext_credentials", Value: "true"})
	}
	if answered {
		op.Result.Status = dissect.StatusOK
		if !ok {
			op.Result = dissect.Result{Status: dissect.StatusError, Text: "login_failed"}
		}
	}
	ctx.Emit(op)
}

// Gap loses the bytes of a direction: a partial user name is dropped.
func (s *Session) Gap(dir dissect.Direction, _ int, _ *dissect.Context) {
	s.iac[dir&1] = iacData
	s.ulen = 0
	if dir == dissect.ToClient {
		s.tlen = 0
	}
}

// Close reports a login attempt still waiting for its outcome, or the
// session itself when no attempt was seen.
func (s *Session) Close(ctx *dissect.Context) {
	switch {
	case s.pass || s.typed != "":
		s.emit(false, false, ctx)
	case s.ops == 0 && s.seen:
		s.emit(false, false, ctx)
	}
}

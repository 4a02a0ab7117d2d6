package ssh

import (
	"bytes"
	"errors"
	"strings"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.Register(Dissector{}, dissect.TCP(22)) }

// Dissector decodes SSH version banners.
type Dissector struct{}

// Name returns "ssh".
func (Dissector) Name() string { return "ssh" }

// Probe accepts a payload that starts with an SSH 2 identification string
// ("SSH-2.0-", or "SSH-1.99-" from a server that also speaks SSH 1).
func (Dissector) Probe(b []byte) bool {
	return bytes.HasPrefix(b, []byte("SSH-2.0-")) || bytes.HasPrefix(b, []byte("SSH-1.99-"))
}

// NewSession returns a session for one SSH connection.
func (Dissector) NewSession(*dissect.Flow) dissect.Session { return &Session{} }

const (
	maxLine     = 1024 // RFC 4253 section 4.2 allows 255 bytes; be lenient
	maxPreLines = 32   // lines a server may send before its identification
)

// Errors for malformed identification exchanges.
var (
	errLongLine = errors.New("ssh: identification line too long")
	errNoIdent  = errors.New("ssh: no identification string")
)

// Session dissects the version exchange of one SSH connection.
type Session struct {
	banner  [2]string // identification strings, without CR LF
	seen    [2]bool
	lines   [2]int // lines before the identification string
	done    bool
	emitted bool
	pkt     dissect.PacketRef // packet of the client's identification
}

// Feed reads lines until the direction's identification string, then
// skips the binary packet protocol.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	n := 0
	for !s.done && !s.seen[dir] && n < len(data) {
		d := data[n:]
		i := bytes.IndexByte(d[:min(len(d), maxLine)], '\n')
		if i < 0 {
			if len(d) >= maxLine {
				s.malformed(dir, errLongLine, ctx)
			}
			break
		}
		n += i + 1
		line := bytes.TrimSuffix(d[:i], []byte("\r"))
		if !bytes.HasPrefix(line, []byte("SSH-")) {
			// RFC 4253 section 4.2: the server may send other lines first.
			s.lines[dir]++
			if dir == dissect.ToServer || s.lines[dir] > maxPreLines {
				s.malformed(dir, errNoIdent, ctx)
			}
			continue
		}
		s.banner[dir], s.seen[dir] = string(line), true
		if dir == dissect.ToServer {
			s.pkt = ctx.Packet
		}
		if s.seen[0] && s.seen[1] {
			s.emit(ctx)
		}
	}
	if s.done || s.seen[dir] {
		return len(data), nil
	}
	return n, nil
}

// emit reports the session once.
func (s *Session) emit(ctx *dissect.Context) {
	if s.emitted || (!s.seen[0] && !s.seen[1]) {
		return
	}
	s.emitted, s.done = true, true
	op := ctx.Op("ssh")
	op.FunctionName = "session"
	op.Class = dissect.ClassAuthentication
	op.Request, op.Response = s.seen[dissect.ToServer], s.seen[dissect.ToClient]
	if op.Request && op.Response {
		op.Packets = append(op.Packets, s.pkt)
		op.Result.Status = dissect.StatusOK
	}
	op.Attrs = append(op.Attrs, dissect.Attr{Key: "remote_access", Value: "true"})
	for _, dir := range [2]dissect.Direction{dissect.ToServer, dissect.ToClient} {
		if !s.seen[dir] {
			continue
		}
		key := "client_version"
		if dir == dissect.ToClient {
			key = "server_version"
		}
		op.Attrs = append(op.Attrs, dissect.Attr{Key: key, Value: s.banner[dir]})
		product, version, os := parseBanner(s.banner[dir])
		for _, f := range [...]dissect.Fact{
			{Key: dissect.FactProduct, Value: product},
			{Key: dissect.FactFirmware, Value: version},
			{Key: dissect.FactOS, Value: os},
		} {
			if f.Value != "" {
				f.Server = dir == dissect.ToClient
				op.Identity = append(op.Identity, f)
			}
		}
	}
	ctx.Emit(op)
}

// parseBanner splits "SSH-protoversion-softwareversion SP comments" (RFC
// 4253 section 4.2) into a product name, its version and, from the
// comment, the operating system distribution where one is named
// ("OpenSSH_8.9p1 Ubuntu-3ubuntu0.1" → OpenSSH, 8.9p1, Ubuntu).
func parseBanner(b string) (product, version, os string) {
	rest, ok := strings.CutPrefix(b, "SSH-")
	if !ok {
		return "", "", ""
	}
	_, rest, _ = strings.Cut(rest, "-") // protoversion
	software, comment, _ := strings.Cut(rest, " ")
	product = software
	if i := strings.LastIndexAny(software, "_-"); i > 0 && i+1 < len(software) && software[i+1] >= '0' && software[i+1] <= '9' {
		product, version = software[:i], software[i+1:]
		product = strings.TrimSuffix(product, "_Release") // PuTTY_Release_0.76
	}
	if word, _, _ := strings.Cut(comment, " "); word != "" {
		name, _, _ := strings.Cut(word, "-")
		for _, known := range []string{"Ubuntu", "Debian", "FreeBSD", "Raspbian", "NetBSD", "OpenBSD", "Fedora", "RHEL", "CentOS"} {
			if strings.EqualFold(name, known) {
				os = known
			}
		}
	}
	if strings.Contains(software, "Windows") {
		os = "Windows"
	}
	return product, version, os
}

// malformed reports a broken identification exchange and stops decoding.
func (s *Session) malformed(dir dissect.Direction, err error, ctx *dissect.Context) {
	s.emit(ctx)
	s.done = true
	op := ctx.Op("ssh")
	op.FunctionName = "malformed"
	op.Request, op.Response = dir == dissect.ToServer, dir == dissect.ToClient
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	ctx.Emit(op)
}

// Gap stops decoding: the banners are at the start of the connection.
func (s *Session) Gap(_ dissect.Direction, _ int, ctx *dissect.Context) {
	s.emit(ctx)
	s.done = true
}

// Close reports a version exchange that was seen only in part.
func (s *Session) Close(ctx *dissect.Context) { s.emit(ctx) }

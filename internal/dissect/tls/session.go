package tls

import (
	ctls "crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Session dissects the handshake of one TLS connection and then skips the
// encrypted rest.
type Session struct {
	hs        [2][]byte // handshake bytes not yet parsed, per direction
	encrypted [2]bool   // ChangeCipherSpec seen in that direction
	done      bool      // handshake reported or given up: skip everything
	framed    [2]bool   // a valid record header was seen in that direction

	hello     clientHello
	helloSeen bool
	server    serverHello
	srvSeen   bool
	clientDir dissect.Direction // direction the ClientHello travelled
	roleKnown bool
	pkt       dissect.PacketRef
	time      time.Time

	sni, alpn, certCN, certIssuer string
	alert                         int // alert description + 1, 0 if none
}

// Feed parses whole records; after the handshake it consumes everything.
func (s *Session) Feed(dir dissect.Direction, data []byte, ctx *dissect.Context) (int, error) {
	n := 0
	for !s.done {
		d := data[n:]
		if len(d) < recordHeaderLen {
			break
		}
		typ, length := d[0], int(binary.BigEndian.Uint16(d[3:5]))
		if typ < recordChangeCipherSpec || typ > recordApplicationData || d[1] != 3 || length > maxRecord {
			if !s.framed[dir] {
				// A capture that starts inside a record: nothing can be
				// learnt from this connection.
				s.done = true
				break
			}
			s.malformed(dir, errRecord, ctx)
			break
		}
		s.framed[dir] = true
		if len(d) < recordHeaderLen+length {
			break
		}
		n += recordHeaderLen + length
		s.record(dir, typ, d[recordHeaderLen:recordHeaderLen+length], ctx)
	}
	if s.done {
		return len(data), nil
	}
	return n, nil
}

// record handles one record's fragment.
func (s *Session) record(dir dissect.Direction, typ byte, frag []byte, ctx *dissect.Context) {
	switch typ {
	case recordChangeCipherSpec:
		s.encrypted[dir] = true
		if s.isServer(dir) && s.srvSeen {
			s.emit(ctx) // resumed TLS 1.2 session, or 1.3 compatibility mode
		}
	case recordAlert:
		if !s.encrypted[dir] && len(frag) >= 2 {
			s.alert = int(frag[1]) + 1
			s.emit(ctx)
		}
	case recordApplicationData:
		s.emit(ctx)
	case recordHandshake:
		if s.encrypted[dir] {
			return // Finished, encrypted
		}
		if len(s.hs[dir])+len(frag) > maxHandshake {
			s.malformed(dir, errTooLarge, ctx)
			return
		}
		s.hs[dir] = append(s.hs[dir], frag...)
		b := s.hs[dir]
		for !s.done && len(b) >= 4 {
			mlen := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
			if mlen > maxHandshake {
				s.malformed(dir, errTooLarge, ctx)
				return
			}
			if len(b) < 4+mlen {
				break
			}
			s.message(dir, b[0], b[4:4+mlen], ctx)
			b = b[4+mlen:]
		}
		s.hs[dir] = append(s.hs[dir][:0], b...)
	}
}

// isServer reports whether dir is the server's direction: the one that
// did not send the ClientHello.
func (s *Session) isServer(dir dissect.Direction) bool {
	if s.roleKnown {
		return dir != s.clientDir
	}
	return dir == dissect.ToClient
}

// message handles one handshake message.
func (s *Session) message(dir dissect.Direction, typ byte, body []byte, ctx *dissect.Context) {
	switch typ {
	case msgClientHello:
		if s.helloSeen {
			return // a second ClientHello after HelloRetryRequest
		}
		if err := parseClientHello(body, &s.hello); err != nil {
			s.malformed(dir, err, ctx)
			return
		}
		s.helloSeen = true
		if !s.roleKnown {
			s.clientDir, s.roleKnown = dir, true
		}
		s.pkt, s.time = ctx.Packet, ctx.Time
		s.sni = string(s.hello.serverName)
		if len(s.hello.alpn) > 0 {
			var b strings.Builder
			for i, p := range s.hello.alpn {
				if i > 0 {
					b.WriteByte(',')
				}
				b.Write(p)
			}
			s.alpn = b.String()
		}
	case msgServerHello:
		if err := parseServerHello(body, &s.server); err != nil {
			s.malformed(dir, err, ctx)
			return
		}
		s.srvSeen = true
		if !s.roleKnown {
			s.clientDir, s.roleKnown = dir^1, true
		}
		if s.server.version >= version13 {
			s.emit(ctx) // everything after ServerHello is encrypted
		}
	case msgCertificate:
		if s.certCN != "" || s.certIssuer != "" {
			return
		}
		if der := firstCertificate(body); der != nil {
			if c, err := x509.ParseCertificate(der); err == nil {
				s.certCN = c.Subject.CommonName
				s.certIssuer = c.Issuer.CommonName
				if s.certIssuer == "" {
					s.certIssuer = c.Issuer.String()
				}
			}
		}
	case msgServerHelloDone:
		s.emit(ctx)
	}
}

// emit reports the handshake once and stops decoding.
func (s *Session) emit(ctx *dissect.Context) {
	if s.done {
		return
	}
	s.done = true
	s.hs = [2][]byte{}
	if !s.helloSeen && !s.srvSeen && s.alert == 0 {
		return // only encrypted records: nothing to report
	}
	op := ctx.Op("tls")
	if s.roleKnown && s.clientDir == dissect.ToClient {
		op.Client, op.Server = op.Server, op.Client
	}
	op.FunctionName = "handshake"
	op.Class = dissect.ClassAuthentication
	op.Request, op.Response = s.helloSeen, s.srvSeen || s.alert != 0
	if s.helloSeen && op.Response {
		op.Packets = append(op.Packets, s.pkt)
	} else if s.helloSeen {
		op.Packets[0], op.Time = s.pkt, s.time
	}
	if s.sni != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "server_name", Value: s.sni})
	}
	if s.alpn != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "alpn", Value: s.alpn})
	}
	if s.helloSeen {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "client_version", Value: ctls.VersionName(uint16(s.hello.version))})
	}
	if s.srvSeen {
		op.Attrs = append(op.Attrs,
			dissect.Attr{Key: "version", Value: ctls.VersionName(uint16(s.server.version))},
			dissect.Attr{Key: "cipher", Value: ctls.CipherSuiteName(uint16(s.server.cipher))})
		if len(s.server.alpn) > 0 {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: "alpn_selected", Value: string(s.server.alpn)})
		}
	}
	if s.certCN != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "certificate_subject", Value: s.certCN})
		op.Identity = append(op.Identity, dissect.Fact{Key: dissect.FactHostname, Value: s.certCN, Server: true})
	}
	if s.certIssuer != "" {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: "certificate_issuer", Value: s.certIssuer})
	}
	switch {
	case s.alert != 0:
		op.Result = dissect.Result{Status: dissect.StatusError, Code: s.alert - 1, Text: alertName(s.alert - 1)}
	case s.srvSeen:
		op.Result.Status = dissect.StatusOK
	}
	ctx.Emit(op)
}

// malformed reports a protocol violation and stops decoding: without
// trustworthy record framing nothing after it can be parsed.
func (s *Session) malformed(dir dissect.Direction, err error, ctx *dissect.Context) {
	s.emit(ctx) // what the handshake showed before the violation
	op := ctx.Op("tls")
	op.FunctionName = "malformed"
	op.Request = !s.isServer(dir)
	op.Response = !op.Request
	op.Result = dissect.Result{Status: dissect.StatusMalformed, Text: err.Error()}
	ctx.Emit(op)
	s.done = true
	s.hs = [2][]byte{}
}

// Gap loses the record framing of a direction: the handshake is reported
// with what was seen.
func (s *Session) Gap(_ dissect.Direction, _ int, ctx *dissect.Context) { s.emit(ctx) }

// Close reports a handshake that did not complete.
func (s *Session) Close(ctx *dissect.Context) { s.emit(ctx) }

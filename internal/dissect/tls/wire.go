package tls

import (
	"encoding/binary"
	"errors"
)

// Record content types (RFC 8446 section 5.1).
const (
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
)

// Handshake message types (RFC 8446 section 4, RFC 5246 section 7.4).
const (
	msgClientHello     = 1
	msgServerHello     = 2
	msgCertificate     = 11
	msgServerHelloDone = 14
)

// Extensions (IANA TLS ExtensionType registry).
const (
	extServerName        = 0
	extALPN              = 16
	extSupportedVersions = 43
)

const (
	recordHeaderLen = 5
	maxRecord       = 1<<14 + 2048 // TLSCiphertext limit (RFC 8446 section 5.2)
	maxHandshake    = 64 << 10     // handshake bytes buffered per direction
	version13       = 0x0304
)

// Errors for malformed records and messages.
var (
	errRecord   = errors.New("tls: bad record header")
	errHello    = errors.New("tls: truncated hello")
	errTooLarge = errors.New("tls: handshake message too large")
)

// reader reads big-endian fields from a message, remembering a short read.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() int {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return int(v)
}

func (r *reader) u16() int {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) vec8() []byte  { return r.bytes(r.u8()) }
func (r *reader) vec16() []byte { return r.bytes(r.u16()) }

// clientHello holds what the dissector reports of a ClientHello.
type clientHello struct {
	version    int    // highest version offered (supported_versions or legacy_version)
	serverName []byte // first host_name of server_name
	alpn       [][]byte
}

// isGREASE reports whether v is a GREASE value (RFC 8701).
func isGREASE(v int) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// parseClientHello parses a ClientHello body (RFC 8446 section 4.1.2).
func parseClientHello(b []byte, ch *clientHello) error {
	r := reader{b: b}
	ch.version = r.u16()
	r.bytes(32) // random
	r.vec8()    // legacy_session_id
	r.vec16()   // cipher_suites
	r.vec8()    // legacy_compression_methods
	if r.bad {
		return errHello
	}
	if len(r.b) == 0 {
		return nil // no extensions (SSL 3.0 style)
	}
	exts := reader{b: r.vec16()}
	for len(exts.b) > 0 && !exts.bad {
		typ := exts.u16()
		body := reader{b: exts.vec16()}
		switch typ {
		case extServerName:
			list := reader{b: body.vec16()}
			for len(list.b) > 0 && !list.bad {
				nameType := list.u8()
				name := list.vec16()
				if nameType == 0 && ch.serverName == nil && !list.bad {
					ch.serverName = name
				}
			}
		case extALPN:
			list := reader{b: body.vec16()}
			for len(list.b) > 0 && !list.bad {
				if p := list.vec8(); !list.bad {
					ch.alpn = append(ch.alpn, p)
				}
			}
		case extSupportedVersions:
			list := reader{b: body.vec8()}
			for len(list.b) > 0 && !list.bad {
				if v := list.u16(); !list.bad && !isGREASE(v) && v > ch.version {
					ch.version = v
				}
			}
		}
	}
	if r.bad || exts.bad {
		return errHello
	}
	return nil
}

// serverHello holds what the dissector reports of a ServerHello.
type serverHello struct {
	version int // negotiated version (supported_versions or legacy_version)
	cipher  int
	alpn    []byte
}

// parseServerHello parses a ServerHello body (RFC 8446 section 4.1.3).
func parseServerHello(b []byte, sh *serverHello) error {
	r := reader{b: b}
	sh.version = r.u16()
	r.bytes(32) // random
	r.vec8()    // legacy_session_id_echo
	sh.cipher = r.u16()
	r.u8() // legacy_compression_method
	if r.bad {
		return errHello
	}
	if len(r.b) == 0 {
		return nil
	}
	exts := reader{b: r.vec16()}
	for len(exts.b) > 0 && !exts.bad {
		typ := exts.u16()
		body := reader{b: exts.vec16()}
		switch typ {
		case extSupportedVersions:
			if v := body.u16(); !body.bad {
				sh.version = v
			}
		case extALPN:
			list := reader{b: body.vec16()}
			if p := list.vec8(); !list.bad {
				sh.alpn = p
			}
		}
	}
	if exts.bad {
		return errHello
	}
	return nil
}

// firstCertificate returns the DER bytes of the first certificate of a
// TLS 1.2 Certificate message (RFC 5246 section 7.4.2).
func firstCertificate(b []byte) []byte {
	if len(b) < 6 {
		return nil
	}
	n := int(b[3])<<16 | int(b[4])<<8 | int(b[5])
	if n > len(b)-6 {
		return nil
	}
	return b[6 : 6+n]
}

// alertName returns the name of an alert description (RFC 8446 section 6).
func alertName(d int) string {
	switch d {
	case 0:
		return "close_notify"
	case 10:
		return "unexpected_message"
	case 20:
		return "bad_record_mac"
	case 40:
		return "handshake_failure"
	case 42:
		return "bad_certificate"
	case 43:
		return "unsupported_certificate"
	case 44:
		return "certificate_revoked"
	case 45:
		return "certificate_expired"
	case 46:
		return "certificate_unknown"
	case 47:
		return "illegal_parameter"
	case 48:
		return "unknown_ca"
	case 49:
		return "access_denied"
	case 50:
		return "decode_error"
	case 51:
		return "decrypt_error"
	case 70:
		return "protocol_version"
	case 71:
		return "insufficient_security"
	case 80:
		return "internal_error"
	case 86:
		return "inappropriate_fallback"
	case 90:
		return "user_canceled"
	case 109:
		return "missing_extension"
	case 110:
		return "unsupported_extension"
	case 112:
		return "unrecognized_name"
	case 116:
		return "certificate_required"
	case 120:
		return "no_application_protocol"
	}
	return "unknown"
}

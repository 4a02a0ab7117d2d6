package http

import (
	"bytes"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() {
	dissect.Register(Dissector{}, dissect.TCP(80), dissect.TCP(8080), dissect.TCP(8000))
}

// Dissector decodes HTTP/1.x.
type Dissector struct{}

// Name returns "http".
func (Dissector) Name() string { return "http" }

// Probe accepts a payload that starts with an HTTP/1.x request line (a
// known method followed by a space) or a status line ("HTTP/1.").
func (Dissector) Probe(b []byte) bool {
	if bytes.HasPrefix(b, []byte("HTTP/1.")) {
		return true
	}
	sp := bytes.IndexByte(b[:min(len(b), 9)], ' ')
	if sp <= 0 {
		return false
	}
	m, _ := lookupMethod(b[:sp])
	return m != methodOther && len(b) > sp+1 && (b[sp+1] == '/' || b[sp+1] == '*' || isAlpha(b[sp+1]))
}

// NewSession returns a session for one HTTP connection.
func (Dissector) NewSession(*dissect.Flow) dissect.Session { return &Session{} }

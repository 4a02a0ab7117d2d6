package ftp

import "github.com/otwatch/otwatch/internal/dissect"

func init() { dissect.Register(Dissector{}, dissect.TCP(21)) }

// Dissector decodes FTP control connections.
type Dissector struct{}

// Name returns "ftp".
func (Dissector) Name() string { return "ftp" }

// Probe returns false: an FTP greeting ("220 ...") is too generic to
// recognise FTP on other ports without claiming SMTP and others.
func (Dissector) Probe([]byte) bool { return false }

// NewSession returns a session for one FTP control connection.
func (Dissector) NewSession(*dissect.Flow) dissect.Session { return &Session{} }

package smb

import (
	"bytes"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { dissect.Register(Dissector{}, dissect.TCP(445), dissect.TCP(139)) }

// Dissector decodes SMB over TCP.
type Dissector struct{}

// Name returns "smb".
func (Dissector) Name() string { return "smb" }

// Probe accepts a NetBIOS session message (type 0) whose payload starts
// with an SMB1, SMB2 or SMB3 transform protocol id, or a NetBIOS session
// request (type 0x81) with its two 34-byte encoded names.
func (Dissector) Probe(b []byte) bool {
	if len(b) >= 8 && b[0] == nbssMessage {
		id := b[4:8]
		return bytes.Equal(id, smb1ID) || bytes.Equal(id, smb2ID) || bytes.Equal(id, transformID)
	}
	return len(b) == 4+68 && b[0] == nbssRequest && b[4] == 0x20 && b[4+34] == 0x20
}

// NewSession returns a session for one SMB connection.
func (Dissector) NewSession(*dissect.Flow) dissect.Session { return &Session{} }

package enip

import (
	"encoding/binary"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() {
	dissect.Register(Dissector{}, dissect.TCP(PortExplicit), dissect.UDP(PortExplicit), dissect.UDP(PortIO))
}

// Ports of EtherNet/IP (Volume 2 section 2-2 and 3-3).
const (
	PortExplicit = 44818 // encapsulation over TCP and UDP
	PortIO       = 2222  // class 0/1 implicit messages over UDP
)

// Encapsulation commands (Volume 2 table 2-3.2).
const (
	CmdNOP               = 0x0001
	CmdListServices      = 0x0004
	CmdListIdentity      = 0x0063
	CmdListInterfaces    = 0x0064
	CmdRegisterSession   = 0x0065
	CmdUnRegisterSession = 0x0066
	CmdSendRRData        = 0x006F
	CmdSendUnitData      = 0x0070
	CmdIndicateStatus    = 0x0072
	CmdCancel            = 0x0073
)

// HeaderLen is the size of the encapsulation header (Volume 2 2-3.1).
const HeaderLen = 24

// Common packet format item type ids (Volume 2 table 2-6.3).
const (
	ItemNullAddress      = 0x0000
	ItemListIdentity     = 0x000C
	ItemConnectedAddress = 0x00A1
	ItemConnectedData    = 0x00B1
	ItemUnconnectedData  = 0x00B2
	ItemListServices     = 0x0100
	ItemSockaddrOT       = 0x8000
	ItemSockaddrTO       = 0x8001
	ItemSequencedAddress = 0x8002
)

// CommandName returns the snake_case name of an encapsulation command, or
// "" when the command is not defined.
func CommandName(cmd uint16) string {
	switch cmd {
	case CmdNOP:
		return "nop"
	case CmdListServices:
		return "list_services"
	case CmdListIdentity:
		return "list_identity"
	case CmdListInterfaces:
		return "list_interfaces"
	case CmdRegisterSession:
		return "register_session"
	case CmdUnRegisterSession:
		return "unregister_session"
	case CmdSendRRData:
		return "send_rr_data"
	case CmdSendUnitData:
		return "send_unit_data"
	case CmdIndicateStatus:
		return "indicate_status"
	case CmdCancel:
		return "cancel"
	}
	return ""
}

// StatusName returns the name of an encapsulation status code (Volume 2
// table 2-3.3).
func StatusName(st uint32) string {
	switch st {
	case 0x0000:
		return "success"
	case 0x0001:
		return "invalid_command"
	case 0x0002:
		return "insufficient_memory"
	case 0x0003:
		return "incorrect_data"
	case 0x0064:
		return "invalid_session_handle"
	case 0x0065:
		return "invalid_length"
	case 0x0069:
		return "unsupported_protocol_version"
	case 0x006A:
		return "encapsulated_cip_service_not_allowed"
	}
	return "unknown_status"
}

// ItemName returns the snake_case name of a common packet format item id.
func ItemName(id uint16) string {
	switch id {
	case ItemNullAddress:
		return "null_address"
	case ItemListIdentity:
		return "cip_identity"
	case ItemConnectedAddress:
		return "connected_address"
	case ItemConnectedData:
		return "connected_data"
	case ItemUnconnectedData:
		return "unconnected_data"
	case ItemListServices:
		return "list_services_response"
	case ItemSockaddrOT:
		return "sockaddr_info_o_t"
	case ItemSockaddrTO:
		return "sockaddr_info_t_o"
	case ItemSequencedAddress:
		return "sequenced_address"
	}
	return ""
}

// Header is the encapsulation header.
type Header struct {
	Command uint16
	Length  uint16
	Session uint32
	Status  uint32
	Context uint64 // sender context, as a little-endian number
	Options uint32
}

// ParseHeader decodes the first HeaderLen bytes of b.
func ParseHeader(b []byte) (Header, bool) {
	if len(b) < HeaderLen {
		return Header{}, false
	}
	return Header{
		Command: binary.LittleEndian.Uint16(b[0:]),
		Length:  binary.LittleEndian.Uint16(b[2:]),
		Session: binary.LittleEndian.Uint32(b[4:]),
		Status:  binary.LittleEndian.Uint32(b[8:]),
		Context: binary.LittleEndian.Uint64(b[12:]),
		Options: binary.LittleEndian.Uint32(b[20:]),
	}, true
}

// plausible reports whether h looks like an encapsulation header: a
// defined command, zero options (Volume 2 2-3.1: a receiver discards
// messages with non-zero options) and a status a device would send.
func (h Header) plausible() bool {
	return CommandName(h.Command) != "" && h.Options == 0 && h.Status <= 0xFFFF
}

// Dissector is the EtherNet/IP dissector ("enip").
type Dissector struct{}

// Name returns "enip".
func (Dissector) Name() string { return "enip" }

// Probe accepts a payload that starts with a plausible encapsulation
// header whose length fits the payload.
func (Dissector) Probe(payload []byte) bool {
	h, ok := ParseHeader(payload)
	if !ok || !h.plausible() || h.Status != 0 {
		return false
	}
	return HeaderLen+int(h.Length) <= len(payload)
}

// NewSession returns a session for flow f: an I/O session for UDP flows
// on port 2222, an encapsulation session otherwise.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session {
	s := &Session{flow: f}
	if f != nil && f.Transport == dissect.TransportUDP {
		s.udp = true
		s.io = f.Server.Port == PortIO || (f.Client.Port == PortIO && f.Server.Port != PortExplicit)
	}
	return s
}

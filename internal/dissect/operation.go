package dissect

import (
	"fmt"
	"net"
	"net/netip"
	"time"
)

// Class is the kind of thing an operation does, the same across protocols.
type Class uint8

// Operation classes.
const (
	ClassOther Class = iota
	ClassRead
	ClassWrite
	ClassProgram
	ClassControl
	ClassFirmware
	ClassDiagnostics
	ClassTime
	ClassRestart
	ClassDiscovery
	ClassAuthentication
	ClassFile
)

var classNames = [...]string{
	ClassOther:          "other",
	ClassRead:           "read",
	ClassWrite:          "write",
	ClassProgram:        "program",
	ClassControl:        "control",
	ClassFirmware:       "firmware",
	ClassDiagnostics:    "diagnostics",
	ClassTime:           "time",
	ClassRestart:        "restart",
	ClassDiscovery:      "discovery",
	ClassAuthentication: "authentication",
	ClassFile:           "file",
}

// String returns the class name as used in the API ("read", "program", ...).
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return "other"
}

// MarshalText encodes the class by name.
func (c Class) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText decodes a class name; an unknown name is an error.
func (c *Class) UnmarshalText(b []byte) error {
	for i, n := range classNames {
		if n == string(b) {
			*c = Class(i)
			return nil
		}
	}
	return fmt.Errorf("dissect: unknown operation class %q", b)
}

// MAC is an Ethernet address. Its JSON form is "00:1b:1b:8a:22:11".
type MAC [6]byte

// String returns the address in colon-separated hex.
func (m MAC) String() string { return net.HardwareAddr(m[:]).String() }

// MarshalText encodes the address as String does.
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText decodes an address in any form net.ParseMAC accepts with
// six octets.
func (m *MAC) UnmarshalText(b []byte) error {
	hw, err := net.ParseMAC(string(b))
	if err != nil || len(hw) != 6 {
		return fmt.Errorf("dissect: %q is not an Ethernet address", b)
	}
	copy(m[:], hw)
	return nil
}

// IsZero reports whether the address is all zeros (not seen).
func (m MAC) IsZero() bool { return m == MAC{} }

// Endpoint is one side of an operation as seen on the wire.
type Endpoint struct {
	MAC  MAC        `json:"mac,omitzero"`
	IP   netip.Addr `json:"ip,omitzero"`
	Port uint16     `json:"port,omitempty"`
}

// Target is one thing an operation acts on: a register range, a DNP3 point
// range, a CIP path, a tag, a PLC block.
type Target struct {
	Kind    string `json:"kind"`              // "holding_register", "coil", "block", "tag", ...
	Name    string `json:"name,omitempty"`    // symbolic name where the protocol has one
	Address uint32 `json:"address,omitempty"` // first address
	Count   uint32 `json:"count,omitempty"`   // number of items from Address
}

// Result is how the server answered.
type Result struct {
	Status Status `json:"status"`
	Code   int    `json:"code,omitempty"` // protocol exception / status code
	Text   string `json:"text,omitempty"` // its name
}

// Status summarises a Result.
type Status uint8

// Result statuses.
const (
	StatusUnknown   Status = iota // no response seen (yet)
	StatusOK                      // the server accepted the request
	StatusError                   // the server answered with an exception or error
	StatusMalformed               // the PDU violates the protocol
)

var statusNames = [...]string{"unknown", "ok", "error", "malformed"}

// String returns the status name.
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// MarshalText encodes the status by name.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a status name; an unknown name is an error.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if n == string(b) {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("dissect: unknown result status %q", b)
}

// Fact keys shared by all dissectors, so the inventory can merge what
// different protocols say about one device.
const (
	FactVendor      = "vendor"       // vendor name
	FactVendorID    = "vendor_id"    // protocol's numeric vendor id, decimal
	FactProduct     = "product"      // product name
	FactProductCode = "product_code" // vendor's product code, decimal
	FactDeviceType  = "device_type"  // protocol's device type/profile name
	FactModel       = "model"        // model or order number
	FactFirmware    = "firmware"     // firmware or software revision
	FactHardware    = "hardware"     // hardware revision
	FactSerial      = "serial"       // serial number
	FactHostname    = "hostname"     // host or station name
	FactModule      = "module"       // module name or type (one fact per module)
	FactIP          = "ip"           // an IP address the device uses
	FactOS          = "os"           // operating system description
	FactAddress     = "address"      // protocol link/station address (DNP3, IEC 104, BACnet)
)

// Fact is one thing the traffic says about a device's identity.
type Fact struct {
	Key   string `json:"key"` // "vendor", "product", "model", "firmware", "serial", "hostname", ...
	Value string `json:"value"`
	// Server is true when the fact describes the operation's server, false
	// when it describes the client.
	Server bool `json:"server"`
}

// PacketRef points at a packet kept in the evidence ring.
type PacketRef struct {
	Flow  uint64 `json:"flow"`  // flow id from the flow table
	Index uint64 `json:"index"` // packet number within the flow, from 0
	// Frame is the packet's number in the capture, from 1, as tshark's
	// frame.number counts (0 when unknown).
	Frame uint64 `json:"frame,omitempty"`
}

// Attr is a protocol-specific detail of an operation ("szl_id": "0x0011",
// "iin": "device_restart"). Keep values constant strings on hot paths.
type Attr struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Operation is one normalized request/response (or unsolicited message)
// between two devices, in any protocol. A request and its response make
// one operation; Request and Response say which of the two were seen (an
// unanswered request, a response whose request was missed, an unsolicited
// message).
type Operation struct {
	Time         time.Time   `json:"time"`
	Protocol     string      `json:"protocol"` // dissector name: "modbus", "arp", ...
	Transport    string      `json:"transport,omitempty"`
	Client       Endpoint    `json:"client"`
	Server       Endpoint    `json:"server"`
	FunctionCode int         `json:"function_code"`
	FunctionName string      `json:"function"`
	Class        Class       `json:"class"`
	Targets      []Target    `json:"targets,omitempty"`
	Result       Result      `json:"result"`
	Request      bool        `json:"request"`
	Response     bool        `json:"response"`
	Identity     []Fact      `json:"identity,omitempty"`
	Attrs        []Attr      `json:"attrs,omitempty"`
	Packets      []PacketRef `json:"packets,omitempty"`
	// Detail is a short human summary of what was seen, for the console.
	Detail string `json:"detail,omitempty"`
}

// Reset clears op for reuse, keeping the capacity of its slices.
func (op *Operation) Reset() {
	*op = Operation{
		Targets:  op.Targets[:0],
		Identity: op.Identity[:0],
		Attrs:    op.Attrs[:0],
		Packets:  op.Packets[:0],
	}
}

// Emitter receives operations. The *Operation and everything it points to
// are valid only during the call: an Emitter that keeps one copies it
// (Operation.Clone).
type Emitter interface {
	Emit(op *Operation)
}

// EmitterFunc adapts a function to the Emitter interface.
type EmitterFunc func(op *Operation)

// Emit calls f(op).
func (f EmitterFunc) Emit(op *Operation) { f(op) }

// Clone returns a deep copy of op that the caller may keep.
func (op *Operation) Clone() *Operation {
	c := *op
	c.Targets = append([]Target(nil), op.Targets...)
	c.Identity = append([]Fact(nil), op.Identity...)
	c.Attrs = append([]Attr(nil), op.Attrs...)
	c.Packets = append([]PacketRef(nil), op.Packets...)
	return &c
}

// Attr returns the value of the first attribute called key, or "".
func (op *Operation) Attr(key string) string {
	for _, a := range op.Attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return ""
}

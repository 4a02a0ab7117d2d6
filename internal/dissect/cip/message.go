package cip

import "encoding/binary"

// Request is a Message Router request (Volume 1 section 2-4.1). Path and
// Data point into the parsed bytes.
type Request struct {
	Service byte // without the reply bit
	Path    []byte
	Data    []byte
}

// Reply is a Message Router response (Volume 1 section 2-4.2).
type Reply struct {
	Service       byte // without the reply bit
	GeneralStatus byte
	// ExtStatus is the first word of additional status, valid when
	// ExtWords > 0 (for most errors it is the extended status code).
	ExtStatus uint16
	ExtWords  int
	Data      []byte
}

// IsReply reports whether a message router PDU is a reply (bit 7 of the
// service code).
func IsReply(b []byte) bool { return len(b) > 0 && b[0]&ReplyBit != 0 }

// ParseRequest parses a Message Router request.
func ParseRequest(b []byte) (Request, error) {
	if len(b) < 2 {
		return Request{}, ErrShort
	}
	n := 2 + 2*int(b[1])
	if len(b) < n {
		return Request{}, ErrShort
	}
	return Request{Service: b[0] & serviceMask, Path: b[2:n], Data: b[n:]}, nil
}

// ParseReply parses a Message Router response.
func ParseReply(b []byte) (Reply, error) {
	if len(b) < 4 {
		return Reply{}, ErrShort
	}
	r := Reply{Service: b[0] & serviceMask, GeneralStatus: b[2], ExtWords: int(b[3])}
	n := 4 + 2*r.ExtWords
	if len(b) < n {
		return Reply{}, ErrShort
	}
	if r.ExtWords > 0 {
		r.ExtStatus = binary.LittleEndian.Uint16(b[4:])
	}
	r.Data = b[n:]
	return r, nil
}

// MultipleCount returns the number of services in the data of a
// Multiple_Service_Packet request or reply (Volume 1 appendix ).
func MultipleCount(data []byte) (int, error) {
	if len(data) < 2 {
		return 0, ErrShort
	}
	n := int(binary.LittleEndian.Uint16(data))
	if len(data) < 2+2*n {
		return 0, ErrBadCount
	}
	return n, nil
}

// MultipleItem returns service i of a Multiple_Service_Packet's data
// (offsets count from the start of the data); n is MultipleCount's result.
func MultipleItem(data []byte, n, i int) ([]byte, error) {
	if i < 0 || i >= n || len(data) < 2+2*n {
		return nil, ErrBadCount
	}
	start := int(binary.LittleEndian.Uint16(data[2+2*i:]))
	end := len(data)
	if i+1 < n {
		end = int(binary.LittleEndian.Uint16(data[2+2*(i+1):]))
	}
	if start < 2+2*n || start > end || end > len(data) {
		return nil, ErrBadCount
	}
	return data[start:end], nil
}

// UnconnectedSend returns the embedded message request and the route path
// of an Unconnected_Send request's data (Volume 1 section 3-5.5.2).
func UnconnectedSend(data []byte) (msg, route []byte, err error) {
	if len(data) < 4 {
		return nil, nil, ErrShort
	}
	size := int(binary.LittleEndian.Uint16(data[2:]))
	end := 4 + size
	if len(data) < end {
		return nil, nil, ErrShort
	}
	msg = data[4:end]
	if size%2 == 1 {
		end++
	}
	if len(data) >= end+2 {
		r := end + 2 + 2*int(data[end])
		if r <= len(data) {
			route = data[end+2 : r]
		}
	}
	return msg, route, nil
}

// ForwardOpen holds the fields of a Forward_Open or Large_Forward_Open
// request or successful reply that identify the connection (Volume 1
// section 3-5.5.2).
type ForwardOpen struct {
	OTConnID, TOConnID uint32 // originator→target and target→originator ids
	Serial             uint16 // connection serial number
	Vendor             uint16 // originator vendor id
	OrigSerial         uint32 // originator serial number
	TransportClass     byte   // transport class and trigger byte (requests)
	Path               []byte // connection path (requests)
}

// ParseForwardOpenRequest parses a (Large_)Forward_Open request's data;
// large selects the 32-bit network connection parameters.
func ParseForwardOpenRequest(data []byte, large bool) (ForwardOpen, error) {
	var f ForwardOpen
	params := 2
	if large {
		params = 4
	}
	fixed := 2 + 4 + 4 + 2 + 2 + 4 + 4 + 4 + params + 4 + params + 1 + 1
	if len(data) < fixed {
		return f, ErrShort
	}
	f.OTConnID = binary.LittleEndian.Uint32(data[2:])
	f.TOConnID = binary.LittleEndian.Uint32(data[6:])
	f.Serial = binary.LittleEndian.Uint16(data[10:])
	f.Vendor = binary.LittleEndian.Uint16(data[12:])
	f.OrigSerial = binary.LittleEndian.Uint32(data[14:])
	f.TransportClass = data[fixed-2]
	end := fixed + 2*int(data[fixed-1])
	if end > len(data) {
		return f, ErrShort
	}
	f.Path = data[fixed:end]
	return f, nil
}

// ParseForwardOpenReply parses a successful Forward_Open reply's data.
func ParseForwardOpenReply(data []byte) (ForwardOpen, error) {
	var f ForwardOpen
	if len(data) < 16 {
		return f, ErrShort
	}
	f.OTConnID = binary.LittleEndian.Uint32(data[0:])
	f.TOConnID = binary.LittleEndian.Uint32(data[4:])
	f.Serial = binary.LittleEndian.Uint16(data[8:])
	f.Vendor = binary.LittleEndian.Uint16(data[10:])
	f.OrigSerial = binary.LittleEndian.Uint32(data[12:])
	return f, nil
}

// ParseForwardClose parses a Forward_Close request's data (the
// connection triad and the connection path).
func ParseForwardClose(data []byte) (ForwardOpen, error) {
	var f ForwardOpen
	if len(data) < 12 {
		return f, ErrShort
	}
	f.Serial = binary.LittleEndian.Uint16(data[2:])
	f.Vendor = binary.LittleEndian.Uint16(data[4:])
	f.OrigSerial = binary.LittleEndian.Uint32(data[6:])
	end := 12 + 2*int(data[10])
	if end > len(data) {
		return f, ErrShort
	}
	f.Path = data[12:end]
	return f, nil
}

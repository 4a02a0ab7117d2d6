package cip

import "encoding/binary"

// Identity holds the Identity object's attributes 1 to 7 (and 8, state,
// where present) as Get_Attributes_All returns them and as the CIP
// Identity item of a List Identity reply carries them (Volume 1 section
// 5-2; Volume 2 section 2-4.3.2). ProductName points into the input.
type Identity struct {
	VendorID    uint16
	DeviceType  uint16
	ProductCode uint16
	Major       uint8
	Minor       uint8
	Status      uint16
	Serial      uint32
	ProductName []byte
	State       uint8
	HasState    bool
}

// ParseIdentity parses identity attributes 1..7 and, if present, 8.
func ParseIdentity(b []byte) (Identity, error) {
	var id Identity
	if len(b) < 15 {
		return id, ErrShort
	}
	id.VendorID = binary.LittleEndian.Uint16(b[0:])
	id.DeviceType = binary.LittleEndian.Uint16(b[2:])
	id.ProductCode = binary.LittleEndian.Uint16(b[4:])
	id.Major = b[6]
	id.Minor = b[7]
	id.Status = binary.LittleEndian.Uint16(b[8:])
	id.Serial = binary.LittleEndian.Uint32(b[10:])
	n := int(b[14])
	if len(b) < 15+n {
		return id, ErrShort
	}
	id.ProductName = b[15 : 15+n]
	if len(b) > 15+n {
		id.State = b[15+n]
		id.HasState = true
	}
	return id, nil
}

package cip

import "github.com/otwatch/otwatch/internal/dissect"

// Config values of the "config" attribute: what a write reconfigures.
const (
	ConfigIdentity = "identity"
	ConfigNetwork  = "network"
	ConfigTime     = "time"
)

// Classify returns the operation class of service sc on class (0 when
// the path names none), and for writes of device configuration which
// configuration is written ("" otherwise):
//
//	Reset on identity                        restart
//	Start, Stop, Reset elsewhere             control
//	Get* on identity                         discovery
//	Get*, Read_Tag*, Get_Member              read
//	Set*, Write_Tag*, Create, Delete, ...    write (config identity|network)
//	Set* on time sync / wall clock           time (config time)
//	file object services                     file
//	any service on Rockwell NVS (0xA1)       firmware (ControlFLASH update)
//	Execute_PCCC                             by the PCCC command (see PCCCClass)
//	Forward_Open/Close, Multiple_Service     other
func Classify(class uint32, sc byte, symbolic bool) (dissect.Class, string) {
	sc &= serviceMask
	switch class {
	case ClassNonVolatileStore:
		return dissect.ClassFirmware, ""
	case ClassFile:
		if sc >= 0x4B && sc <= 0x51 {
			return dissect.ClassFile, ""
		}
	case ClassConnectionManager:
		if sc >= 0x4B {
			return dissect.ClassOther, ""
		}
	}
	switch sc {
	case SvcReset:
		if class == ClassIdentity {
			return dissect.ClassRestart, ""
		}
		return dissect.ClassControl, ""
	case SvcStart, SvcStop:
		return dissect.ClassControl, ""
	case SvcGetAttributesAll, SvcGetAttributeList, SvcGetAttributeSingle, SvcGetMember, SvcFindNextObjectInst:
		if class == ClassIdentity {
			return dissect.ClassDiscovery, ""
		}
		return dissect.ClassRead, ""
	case SvcSetAttributesAll, SvcSetAttributeList, SvcSetAttributeSingle, SvcSetMember, SvcApplyAttributes, SvcRestore:
		switch class {
		case ClassIdentity:
			return dissect.ClassWrite, ConfigIdentity
		case ClassTCPIPInterface, ClassEthernetLink:
			return dissect.ClassWrite, ConfigNetwork
		case ClassTimeSync, ClassWallClockTime:
			return dissect.ClassTime, ConfigTime
		}
		return dissect.ClassWrite, ""
	case SvcCreate, SvcDelete, SvcInsertMember, SvcRemoveMember, SvcSave:
		return dissect.ClassWrite, ""
	}
	if class == ClassPCCC || class == ClassConnectionManager {
		return dissect.ClassOther, ""
	}
	if symbolic || class == ClassSymbol || class == ClassTemplate {
		switch sc {
		case SvcReadTag, SvcReadTagFragmented, SvcGetInstanceAttrList:
			return dissect.ClassRead, ""
		case SvcWriteTag, SvcReadModifyWriteTag, SvcWriteTagFragmented:
			return dissect.ClassWrite, ""
		}
	}
	return dissect.ClassOther, ""
}

// PCCC holds the command of an Execute_PCCC request (Rockwell publication
// 1770-6.5.16, DF1 protocol and command set).
type PCCC struct {
	Command  byte // CMD, without the reply bit 0x40
	Function byte // FNC for commands 0x06, 0x07 and 0x0F
	TNS      uint16
}

// ParsePCCC parses an Execute_PCCC request's data: the requester id
// (length byte counting itself, vendor id, serial number, optional bytes)
// and the PCCC command header.
func ParsePCCC(data []byte) (PCCC, error) {
	var p PCCC
	if len(data) < 1 || data[0] < 7 || len(data) < int(data[0])+4 {
		return p, ErrShort
	}
	b := data[data[0]:]
	p.Command = b[0] &^ 0x40
	p.TNS = uint16(b[2]) | uint16(b[3])<<8
	if (p.Command == 0x06 || p.Command == 0x07 || p.Command == 0x0F) && len(b) > 4 {
		p.Function = b[4]
	}
	return p, nil
}

// Class returns the operation class of a PCCC command: typed and word
// range reads and writes, CPU mode changes (control), edit resource
// handling used by program download (program), diagnostics.
func (p PCCC) Class() dissect.Class {
	switch p.Command {
	case 0x01, 0x04: // unprotected read, physical read
		return dissect.ClassRead
	case 0x02, 0x05, 0x08: // protected/unprotected bit and word writes
		return dissect.ClassWrite
	case 0x06:
		return dissect.ClassDiagnostics
	case 0x0F:
		switch p.Function {
		case 0x01, 0x17, 0x68, 0xA1, 0xA2, 0xA3:
			return dissect.ClassRead
		case 0x00, 0x02, 0x67, 0xA9, 0xAA, 0xAB:
			return dissect.ClassWrite
		case 0x3A, 0x80:
			return dissect.ClassControl
		case 0x11, 0x12:
			return dissect.ClassProgram
		}
	}
	return dissect.ClassOther
}

var hexBytes [256]string

func init() {
	const digits = "0123456789abcdef"
	for i := range hexBytes {
		hexBytes[i] = "0x" + string([]byte{digits[i>>4], digits[i&15]})
	}
}

// HexByte returns "0xNN" for b as a constant string (no allocation).
func HexByte(b byte) string { return hexBytes[b] }

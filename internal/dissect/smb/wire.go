package smb

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
)

// NetBIOS session service packet types (RFC 1002 section 4.3.1).
const (
	nbssMessage   = 0x00
	nbssRequest   = 0x81
	nbssPositive  = 0x82
	nbssNegative  = 0x83
	nbssRetarget  = 0x84
	nbssKeepAlive = 0x85
)

// Protocol ids.
var (
	smb1ID      = []byte("\xffSMB")
	smb2ID      = []byte("\xfeSMB")
	transformID = []byte("\xfdSMB")
	compressID  = []byte("\xfcSMB")
	ntlmsspID   = []byte("NTLMSSP\x00")
)

const (
	nbssHeaderLen = 4
	smb1HeaderLen = 32
	smb2HeaderLen = 64
	maxWhole      = 32 << 10 // larger messages: parse a prefix, skip the rest
	prefixLen     = 256      // bytes of a large message that are parsed
	maxName       = 256      // characters kept of share and file names
)

// Errors for malformed messages.
var (
	errNBSS     = errors.New("smb: bad NetBIOS session header")
	errProtocol = errors.New("smb: unknown protocol id")
	errHeader   = errors.New("smb: short header")
)

// SMB1 commands ([MS-CIFS] 2.2.2.1).
const (
	smb1Negotiate    = 0x72
	smb1SessionSetup = 0x73
	smb1TreeConnect  = 0x75
	smb1NTCreate     = 0xa2
)

// SMB2 commands ([MS-SMB2] 2.2.1).
const (
	smb2Negotiate    = 0
	smb2SessionSetup = 1
	smb2TreeConnect  = 3
	smb2Create       = 5
)

// cmdInfo is a command's name and class.
type cmdInfo struct {
	name  string
	class uint8 // index into classes
}

const (
	clOther = iota
	clAuth
	clFile
)

var smb1Commands = map[uint8]cmdInfo{
	0x04: {"close", clFile}, 0x06: {"delete", clFile}, 0x07: {"rename", clFile},
	0x08: {"query_information", clFile}, 0x24: {"locking_andx", clFile}, 0x25: {"transaction", clOther},
	0x2b: {"echo", clOther}, 0x2d: {"open_andx", clFile}, 0x2e: {"read_andx", clFile},
	0x2f: {"write_andx", clFile}, 0x32: {"transaction2", clFile}, 0x34: {"find_close2", clFile},
	0x71: {"tree_disconnect", clFile}, 0x72: {"negotiate", clAuth}, 0x73: {"session_setup_andx", clAuth},
	0x74: {"logoff_andx", clAuth}, 0x75: {"tree_connect_andx", clFile}, 0xa0: {"nt_transact", clFile},
	0xa2: {"nt_create_andx", clFile}, 0xa4: {"nt_cancel", clOther},
}

var smb2Commands = [...]cmdInfo{
	{"negotiate", clAuth}, {"session_setup", clAuth}, {"logoff", clAuth}, {"tree_connect", clFile},
	{"tree_disconnect", clFile}, {"create", clFile}, {"close", clFile}, {"flush", clFile},
	{"read", clFile}, {"write", clFile}, {"lock", clFile}, {"ioctl", clOther},
	{"cancel", clOther}, {"echo", clOther}, {"query_directory", clFile}, {"change_notify", clFile},
	{"query_info", clFile}, {"set_info", clFile}, {"oplock_break", clOther},
}

func lookupCommand(v2 bool, cmd uint16) cmdInfo {
	if v2 {
		if int(cmd) < len(smb2Commands) {
			return smb2Commands[cmd]
		}
		return cmdInfo{"unknown", clOther}
	}
	if c, ok := smb1Commands[uint8(cmd)]; ok {
		return c
	}
	return cmdInfo{"unknown", clOther}
}

// NTSTATUS values ([MS-ERREF] 2.3.1).
const (
	statusPending                = 0x00000103
	statusMoreProcessingRequired = 0xc0000016
)

func statusName(s uint32) string {
	switch s {
	case 0:
		return ""
	case statusMoreProcessingRequired:
		return "more_processing_required"
	case 0x80000005:
		return "buffer_overflow"
	case 0x80000006:
		return "no_more_files"
	case 0xc0000008:
		return "invalid_handle"
	case 0xc000000d:
		return "invalid_parameter"
	case 0xc0000010:
		return "invalid_device_request"
	case 0xc0000011:
		return "end_of_file"
	case 0xc0000022:
		return "access_denied"
	case 0xc0000034:
		return "object_name_not_found"
	case 0xc000003a:
		return "object_path_not_found"
	case 0xc0000043:
		return "sharing_violation"
	case 0xc0000064:
		return "no_such_user"
	case 0xc000006d:
		return "logon_failure"
	case 0xc000006e:
		return "account_restriction"
	case 0xc0000071:
		return "password_expired"
	case 0xc0000072:
		return "account_disabled"
	case 0xc00000bb:
		return "not_supported"
	case 0xc00000cc:
		return "bad_network_name"
	case 0xc0000120:
		return "cancelled"
	case 0xc0000203:
		return "user_session_deleted"
	case 0xc000035c:
		return "network_session_expired"
	}
	return "unknown"
}

// dialectName names an SMB2 dialect revision ([MS-SMB2] 2.2.3).
func dialectName(d uint16) string {
	switch d {
	case 0x0202:
		return "2.0.2"
	case 0x0210:
		return "2.1"
	case 0x02ff:
		return "2.???"
	case 0x0300:
		return "3.0"
	case 0x0302:
		return "3.0.2"
	case 0x0311:
		return "3.1.1"
	}
	return "0x" + strconv.FormatUint(uint64(d), 16)
}

// netbiosName decodes a first-level encoded NetBIOS name (RFC 1001
// section 14.1): a length byte 0x20, 32 letters 'A'+nibble, a zero label.
// It returns the 15-character name without trailing spaces.
func netbiosName(b []byte) (string, bool) {
	if len(b) < 34 || b[0] != 0x20 {
		return "", false
	}
	var n [16]byte
	for i := range 16 {
		hi, lo := b[1+2*i]-'A', b[2+2*i]-'A'
		if hi > 15 || lo > 15 {
			return "", false
		}
		n[i] = hi<<4 | lo
	}
	return strings.TrimRight(string(n[:15]), " \x00"), true
}

// utf16String decodes little-endian UTF-16 up to a NUL or maxName
// characters.
func utf16String(b []byte) string {
	u := make([]uint16, 0, min(len(b)/2, maxName))
	for i := 0; i+1 < len(b) && len(u) < maxName; i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u))
}

// oemString returns the bytes up to a NUL as a string.
func oemString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return string(b[:min(len(b), maxName)])
}

// smbString reads a NUL-terminated string at off of msg (an SMB1 message
// from its header), aligned for Unicode ([MS-CIFS] 2.2.1.1), and returns
// it and the offset after it.
func smbString(msg []byte, off int, unicode bool) (string, int) {
	if off >= len(msg) {
		return "", len(msg)
	}
	if !unicode {
		end := off
		for end < len(msg) && msg[end] != 0 {
			end++
		}
		return oemString(msg[off:end]), end + 1
	}
	if off%2 == 1 {
		off++
	}
	end := off
	for end+1 < len(msg) && (msg[end] != 0 || msg[end+1] != 0) {
		end += 2
	}
	if off >= len(msg) {
		return "", len(msg)
	}
	return utf16String(msg[off:min(end, len(msg))]), end + 2
}

// field returns the bytes of a (length, offset) pair within b, or nil.
func field(b []byte, length, offset int) []byte {
	if length == 0 || offset < 0 || length < 0 || offset > len(b) || length > len(b)-offset {
		return nil
	}
	return b[offset : offset+length]
}

// ntlm holds what an NTLMSSP message says ([MS-NLMP] 2.2.1).
type ntlm struct {
	typ                                 uint32
	user, domain, workstation           string // AUTHENTICATE
	computer, dnsComputer, targetDomain string // CHALLENGE target info
	version                             string // OS version, "Windows 10.0 build 19041"
}

// parseNTLM finds an NTLMSSP message in a security blob (raw or wrapped in
// SPNEGO) and decodes the CHALLENGE or AUTHENTICATE fields.
func parseNTLM(blob []byte, n *ntlm) bool {
	i := indexBytes(blob, ntlmsspID)
	if i < 0 {
		return false
	}
	m := blob[i:]
	if len(m) < 12 {
		return false
	}
	n.typ = binary.LittleEndian.Uint32(m[8:])
	str := func(at int, unicode bool) string {
		if len(m) < at+8 {
			return ""
		}
		b := field(m, int(binary.LittleEndian.Uint16(m[at:])), int(binary.LittleEndian.Uint32(m[at+4:])))
		if unicode {
			return utf16String(b)
		}
		return oemString(b)
	}
	version := func(at int, flags uint32) string {
		if flags&0x02000000 == 0 || len(m) < at+8 {
			return ""
		}
		v := m[at:]
		if v[0] == 0 {
			return ""
		}
		return "Windows " + strconv.Itoa(int(v[0])) + "." + strconv.Itoa(int(v[1])) + " build " + strconv.Itoa(int(binary.LittleEndian.Uint16(v[2:])))
	}
	switch n.typ {
	case 2: // CHALLENGE
		if len(m) < 48 {
			return false
		}
		flags := binary.LittleEndian.Uint32(m[20:])
		info := field(m, int(binary.LittleEndian.Uint16(m[40:])), int(binary.LittleEndian.Uint32(m[44:])))
		for len(info) >= 4 {
			id, l := binary.LittleEndian.Uint16(info), int(binary.LittleEndian.Uint16(info[2:]))
			if id == 0 || l > len(info)-4 {
				break
			}
			v := info[4 : 4+l]
			switch id {
			case 1:
				n.computer = utf16String(v)
			case 2:
				n.targetDomain = utf16String(v)
			case 3:
				n.dnsComputer = utf16String(v)
			}
			info = info[4+l:]
		}
		n.version = version(48, flags)
	case 3: // AUTHENTICATE
		if len(m) < 64 {
			return false
		}
		flags := binary.LittleEndian.Uint32(m[60:])
		unicode := flags&1 != 0
		n.domain = str(28, unicode)
		n.user = str(36, unicode)
		n.workstation = str(44, unicode)
		n.version = version(64, flags)
	}
	return true
}

func indexBytes(b, sep []byte) int {
	for i := 0; i+len(sep) <= len(b); i++ {
		if string(b[i:i+len(sep)]) == string(sep) {
			return i
		}
	}
	return -1
}

package dnp3

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Object sizes (Annex A). A positive size is the fixed number of bytes of
// one object; the negative values below describe the other encodings.
const (
	sizeUnknown  = 0  // not known here: parsing stops at this header
	sizeBits1    = -1 // packed, one bit per point
	sizeBits2    = -2 // packed, two bits per point (double-bit input)
	sizeNone     = -3 // no data (class objects, "any variation" requests)
	sizeVariable = -4 // free format: needs an object-size prefix
	sizeAttr     = -5 // device attribute: type, length, value
	sizeByVar    = -6 // octet strings: the variation is the length
)

// fixedSizes lists, per group, the sizes of variations 1, 2, ... in bytes.
var fixedSizes = map[uint8][]int8{
	1:   {sizeBits1, 1},
	2:   {1, 7, 3},
	3:   {sizeBits2, 1},
	4:   {1, 7, 3},
	10:  {sizeBits1, 1},
	11:  {1, 7},
	12:  {11, 11, sizeBits1},
	13:  {1, 7},
	20:  {5, 3, 5, 3, 4, 2, 4, 2},
	21:  {5, 3, 5, 3, 11, 9, 11, 9, 4, 2, 4, 2},
	22:  {5, 3, 5, 3, 11, 9, 11, 9},
	23:  {5, 3, 5, 3, 11, 9, 11, 9},
	30:  {5, 3, 4, 2, 5, 9},
	31:  {5, 3, 11, 9, 4, 2, 5, 9},
	32:  {5, 3, 11, 9, 5, 9, 11, 15},
	33:  {5, 3, 11, 9, 5, 9, 11, 15},
	34:  {2, 4, 4},
	40:  {5, 3, 5, 9},
	41:  {5, 3, 5, 9},
	42:  {5, 3, 5, 9, 11, 9, 11, 15},
	43:  {5, 3, 11, 9, 5, 9, 11, 15},
	50:  {6, 10, 6, 11},
	51:  {6, 6},
	52:  {2, 2},
	60:  {sizeNone, sizeNone, sizeNone, sizeNone},
	70:  {sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable},
	80:  {sizeBits1},
	81:  {3},
	82:  {sizeVariable},
	83:  {sizeVariable, sizeVariable},
	85:  {sizeVariable},
	86:  {sizeVariable, sizeVariable, sizeVariable},
	87:  {sizeVariable},
	88:  {sizeVariable},
	90:  {sizeVariable},
	91:  {sizeVariable},
	101: {2, 4, 8},
	102: {1},
	120: {sizeVariable, sizeVariable, 6, 2, sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable, sizeVariable},
	121: {7},
	122: {7, 13},
}

// objSize returns the encoding of group g variation v (Annex A).
func objSize(g, v uint8) int {
	switch {
	case v == 0:
		return sizeNone // "any variation", only in requests
	case g == 0:
		return sizeAttr
	case g >= 110 && g <= 113:
		return sizeByVar
	}
	s := fixedSizes[g]
	if int(v) > len(s) {
		return sizeUnknown
	}
	return int(s[v-1])
}

// groupKinds names the data type of each object group (Annex A titles).
var groupKinds = map[uint8]string{
	0: "device_attribute", 1: "binary_input", 2: "binary_input_event",
	3: "double_bit_input", 4: "double_bit_input_event", 10: "binary_output",
	11: "binary_output_event", 12: "binary_output_command", 13: "binary_output_command_event",
	20: "counter", 21: "frozen_counter", 22: "counter_event", 23: "frozen_counter_event",
	30: "analog_input", 31: "frozen_analog_input", 32: "analog_input_event",
	33: "frozen_analog_input_event", 34: "analog_input_deadband", 40: "analog_output_status",
	41: "analog_output", 42: "analog_output_event", 43: "analog_output_command_event",
	50: "time", 51: "common_time_of_occurrence", 52: "time_delay", 60: "class",
	70: "file", 80: "internal_indications", 81: "device_storage", 82: "device_profile",
	83: "data_set_registration", 85: "data_set_prototype", 86: "data_set_descriptor",
	87: "data_set", 88: "data_set_event", 90: "application", 91: "status_of_requested_operation",
	100: "floating_point", 101: "bcd", 102: "unsigned_integer", 110: "octet_string",
	111: "octet_string_event", 112: "virtual_terminal_output", 113: "virtual_terminal_event",
	120: "authentication", 121: "security_statistic", 122: "security_statistic_event",
}

// objNames holds "g<group>v<variation>" for every group and variations
// 0-15, and objNamesHigh for the higher variations of the groups that have
// them (device attributes, octet strings), built once so that targets need
// no allocation.
var objNames, objNamesHigh = func() (low [256][16]string, high map[uint16]string) {
	name := func(g, v int) string { return "g" + strconv.Itoa(g) + "v" + strconv.Itoa(v) }
	for g := range low {
		for v := range low[g] {
			low[g][v] = name(g, v)
		}
	}
	high = make(map[uint16]string)
	for _, g := range []int{0, 110, 111, 112, 113} {
		for v := 16; v < 256; v++ {
			high[uint16(g)<<8|uint16(v)] = name(g, v)
		}
	}
	return low, high
}()

// objName returns "g12v1" for group 12 variation 1, or "unknown".
func objName(g, v uint8) string {
	if v < 16 {
		return objNames[g][v]
	}
	if s, ok := objNamesHigh[uint16(g)<<8|uint16(v)]; ok {
		return s
	}
	return "unknown"
}

func groupKind(g uint8) string {
	if k, ok := groupKinds[g]; ok {
		return k
	}
	return "unknown_object"
}

// Object parsing errors, as malformed-operation reasons.
const (
	errHeader    = "truncated object header"
	errRange     = "truncated object range"
	errQualifier = "reserved object qualifier"
	errStop      = "object range stop before start"
	errData      = "truncated object data"
	errPacked    = "index prefix on packed object"
)

// maxTargets bounds the object headers kept per operation.
const maxTargets = 250

// objInfo collects what the operation needs from the objects besides
// their headers. Byte slices point into the parsed fragment.
type objInfo struct {
	headers   int  // object headers parsed
	truncated bool // more than maxTargets headers
	unknown   bool // parsing stopped at an object of unknown size
	time      bool // group 50
	file      bool // group 70
	auth      bool // group 120
	iin       bool // group 80

	crob       bool // first group 12 variation 1 object
	crobIndex  uint32
	crobCode   uint8
	crobCount  uint8
	crobOn     uint32
	crobOff    uint32
	ao         bool // first group 41 object
	aoIndex    uint32
	aoVar      uint8
	aoValue    []byte
	ctlStatus  uint8 // first non-zero control status of g12/g41 objects
	fileName   []byte
	aggressive bool // group 120 variation 3: aggressive mode request
}

// parseObjects walks the object headers of b (clause 4.2.2.7) and appends
// one target per header to *targets. data says whether objects carry
// values after their headers (responses, writes, controls); otherwise only
// index or size prefixes follow a header. It returns a malformed reason or
// "".
func parseObjects(b []byte, data bool, targets *[]dissect.Target, info *objInfo) string {
	for len(b) > 0 {
		if len(b) < 3 {
			return errHeader
		}
		g, v, q := b[0], b[1], b[2]
		b = b[3:]
		prefix, rc := (q>>4)&7, q&0x0f
		if q&0x80 != 0 || prefix == 7 {
			appendTarget(targets, info, g, v, 0, 0)
			return errQualifier
		}
		var start, count uint64
		switch rc {
		case 0, 1, 2, 3, 4, 5:
			w := 1 << (rc % 3) // 1, 2 or 4 bytes each for start and stop
			if len(b) < 2*w {
				return errRange
			}
			start, stop := uintLE(b[:w]), uintLE(b[w:2*w])
			b = b[2*w:]
			if stop < start {
				return errStop
			}
			count = stop - start + 1
		case 6:
		case 7, 8, 9, 0x0b:
			w := 1 << (rc - 7)
			if rc == 0x0b {
				w = 1
			}
			if len(b) < w {
				return errRange
			}
			count = uintLE(b[:w])
			b = b[w:]
		default:
			appendTarget(targets, info, g, v, 0, 0)
			return errQualifier
		}
		t := appendTarget(targets, info, g, v, start, count)
		switch g {
		case 50:
			info.time = true
		case 70:
			info.file = true
		case 80:
			info.iin = true
		case 120:
			info.auth = true
			if v == 3 {
				info.aggressive = true
			}
		}
		if count == 0 {
			continue
		}
		pw := prefixLen(prefix)
		size := objSize(g, v)
		if prefix >= 4 {
			size = sizeVariable
		} else if !data {
			size = 0
		}
		switch size {
		case sizeNone, 0:
			if size == 0 && data {
				info.unknown = true
				return ""
			}
			// Only index prefixes follow the header.
			if uint64(len(b)) < count*uint64(pw) {
				return errData
			}
			if pw > 0 && t != nil {
				t.Address = uint32(uintLE(b[:pw]))
			}
			b = b[count*uint64(pw):]
		case sizeBits1, sizeBits2:
			if pw != 0 {
				return errPacked
			}
			n := (count*uint64(-size) + 7) / 8
			if uint64(len(b)) < n {
				return errData
			}
			b = b[n:]
		case sizeVariable, sizeAttr, sizeByVar:
			for i := uint64(0); i < count; i++ {
				if len(b) < pw {
					return errData
				}
				var n int
				switch {
				case prefix >= 4:
					n = int(uintLE(b[:pw]))
				case size == sizeAttr:
					if len(b) < pw+2 {
						return errData
					}
					n = 2 + int(b[pw+1])
				case size == sizeByVar:
					n = int(v)
				default:
					info.unknown = true // free format without a size prefix
					return ""
				}
				if i == 0 && t != nil && prefix >= 1 && prefix <= 3 {
					t.Address = uint32(uintLE(b[:pw]))
				}
				if len(b)-pw < n {
					return errData
				}
				obj := b[pw : pw+n]
				if g == 70 && v == 3 && info.fileName == nil {
					info.fileName = fileCommandName(obj)
				}
				b = b[pw+n:]
			}
		default:
			per := uint64(pw + size)
			if uint64(len(b)) < count*per {
				return errData
			}
			for i := uint64(0); i < count; i++ {
				o := b[i*per : (i+1)*per]
				idx := uint32(start + i)
				if pw > 0 {
					idx = uint32(uintLE(o[:pw]))
				}
				if i == 0 && t != nil {
					t.Address = idx
				}
				objectDetail(g, v, idx, o[pw:], info)
			}
			b = b[count*per:]
		}
	}
	return ""
}

// appendTarget adds the target of one object header, or notes that there
// are too many. It returns the new target or nil.
func appendTarget(targets *[]dissect.Target, info *objInfo, g, v uint8, start, count uint64) *dissect.Target {
	info.headers++
	if len(*targets) >= maxTargets {
		info.truncated = true
		return nil
	}
	*targets = append(*targets, dissect.Target{Kind: groupKind(g), Name: objName(g, v),
		Address: uint32(start), Count: uint32(min(count, math.MaxUint32))})
	return &(*targets)[len(*targets)-1]
}

// objectDetail records the command details of control objects.
func objectDetail(g, v uint8, idx uint32, o []byte, info *objInfo) {
	var status uint8
	switch {
	case g == 12 && (v == 1 || v == 2):
		// code, count, on-time, off-time, status (Annex A, g12v1).
		status = o[10] & 0x7f
		if v == 1 && !info.crob {
			info.crob = true
			info.crobIndex = idx
			info.crobCode = o[0]
			info.crobCount = o[1]
			info.crobOn = binary.LittleEndian.Uint32(o[2:6])
			info.crobOff = binary.LittleEndian.Uint32(o[6:10])
		}
	case g == 41:
		// value then status (Annex A, g41v1-v4).
		status = o[len(o)-1] & 0x7f
		if !info.ao {
			info.ao = true
			info.aoIndex = idx
			info.aoVar = v
			info.aoValue = o[:len(o)-1]
		}
	default:
		return
	}
	if status != 0 && info.ctlStatus == 0 {
		info.ctlStatus = status
	}
}

// fileCommandName returns the file name of a g70v3 file command object:
// name offset (2), name size (2), creation time (6), permissions (2),
// authentication key (4), file size (4), operational mode (2), maximum
// block size (2), request id (2), then the name (Annex A, g70v3).
func fileCommandName(o []byte) []byte {
	if len(o) < 26 {
		return nil
	}
	off := int(binary.LittleEndian.Uint16(o[0:2]))
	n := int(binary.LittleEndian.Uint16(o[2:4]))
	if off < 26 || off > len(o) || n > len(o)-off {
		return nil
	}
	return o[off : off+n]
}

// aoValueString formats the value of an analog output object.
func aoValueString(v uint8, b []byte) string {
	switch {
	case v == 1 && len(b) == 4:
		return strconv.FormatInt(int64(int32(binary.LittleEndian.Uint32(b))), 10)
	case v == 2 && len(b) == 2:
		return strconv.FormatInt(int64(int16(binary.LittleEndian.Uint16(b))), 10)
	case v == 3 && len(b) == 4:
		return strconv.FormatFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 'g', -1, 32)
	case v == 4 && len(b) == 8:
		return strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)), 'g', -1, 64)
	}
	return ""
}

// prefixLen returns the bytes of an index (codes 1-3) or object-size
// (codes 4-6) prefix (clause 4.2.2.7.3.2, table 4-5).
func prefixLen(code uint8) int {
	switch code {
	case 1, 4:
		return 1
	case 2, 5:
		return 2
	case 3, 6:
		return 4
	}
	return 0
}

func uintLE(b []byte) uint64 {
	var x uint64
	for i := len(b) - 1; i >= 0; i-- {
		x = x<<8 | uint64(b[i])
	}
	return x
}

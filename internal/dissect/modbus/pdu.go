package modbus

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Malformed reasons (constant strings: no allocation per bad PDU).
const (
	reasonProtocolID = "protocol id is not 0"
	reasonFrame      = "MBAP length over the frame limit"
	reasonLength     = "MBAP length too short for a PDU"
	reasonOversize   = "ADU longer than 260 bytes"
	reasonFunction   = "invalid function code"
	reasonPDULength  = "PDU length does not fit the function"
	reasonByteCount  = "byte count does not match the data"
	reasonQuantity   = "byte count does not match the quantity"
	reasonReference  = "file record reference type is not 6"
	reasonObjects    = "device identification objects overrun the PDU"
)

// umasError is the result text of a UMAS response with status 0xFD.
const umasError = "umas_error"

// maxValues is the number of written values listed in a "values" attribute.
const maxValues = 16

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// parseRequest decodes a request PDU (chapter 6) into r.
func parseRequest(r *request, pdu []byte) {
	fc, d := pdu[0], pdu[1:]
	if fc == 0 || fc&0x80 != 0 {
		// Section 4.1: 0 is not a function code; 128-255 are exception
		// responses.
		r.fn = function{"unknown", dissect.ClassOther}
		r.malformed(reasonFunction)
		return
	}
	r.fn = functions[fc]
	exact := func(n int) bool {
		if len(d) != n {
			r.malformed(reasonPDULength)
		}
		return len(d) >= n
	}
	switch fc {
	case fcReadCoils, fcReadDiscreteInputs, fcReadHoldingRegisters, fcReadInputRegisters:
		// 6.1-6.4: starting address, quantity.
		if exact(4) {
			r.target(readKind(fc), be16(d), be16(d[2:]))
			r.qty = be16(d[2:])
		}
	case fcWriteSingleCoil:
		// 6.5: output address, value 0xFF00 (on) or 0x0000 (off).
		if exact(4) {
			r.target(kindCoil, be16(d), 1)
			r.attr(attrValue, coilValue(be16(d[2:])))
		}
	case fcWriteSingleRegister:
		// 6.6: register address, value.
		if exact(4) {
			r.target(kindHoldingRegister, be16(d), 1)
			r.attr(attrValue, strconv.Itoa(int(be16(d[2:]))))
		}
	case fcReadExceptionStatus, fcGetCommEventCounter, fcGetCommEventLog, fcReportServerID:
		exact(0)
	case fcDiagnostics:
		// 6.8: sub-function, data.
		if len(d) < 2 {
			r.malformed(reasonPDULength)
			return
		}
		diagnostic(&r.fn, r.attr, be16(d))
	case fcWriteMultipleCoils, fcWriteMultipleRegisters:
		// 6.11, 6.12: starting address, quantity, byte count, values.
		if len(d) < 5 {
			r.malformed(reasonPDULength)
			return
		}
		addr, qty, n := be16(d), be16(d[2:]), int(d[4])
		kind, want := kindHoldingRegister, 2*int(qty)
		if fc == fcWriteMultipleCoils {
			kind, want = kindCoil, (int(qty)+7)/8
		}
		r.target(kind, addr, qty)
		switch {
		case n != len(d)-5:
			r.malformed(reasonByteCount)
		case n != want:
			r.malformed(reasonQuantity)
		case fc == fcWriteMultipleCoils:
			r.attr(attrValues, coilValues(d[5:], int(qty)))
		default:
			r.attr(attrValues, registerValues(d[5:]))
		}
	case fcReadFileRecord, fcWriteFileRecord:
		fileRecords(r, fc, d)
	case fcMaskWriteRegister:
		// 6.16: reference address, AND mask, OR mask.
		if exact(6) {
			r.target(kindHoldingRegister, be16(d), 1)
			r.attr(attrAndMask, hex16(be16(d[2:])))
			r.attr(attrOrMask, hex16(be16(d[4:])))
		}
	case fcReadWriteRegisters:
		// 6.17: read address, read quantity, write address, write
		// quantity, write byte count, values. The read target comes first,
		// as on the wire.
		if len(d) < 9 {
			r.malformed(reasonPDULength)
			return
		}
		r.target(kindHoldingRegister, be16(d), be16(d[2:]))
		r.target(kindHoldingRegister, be16(d[4:]), be16(d[6:]))
		r.qty = be16(d[2:])
		switch n := int(d[8]); {
		case n != len(d)-9:
			r.malformed(reasonByteCount)
		case n != 2*int(be16(d[6:])):
			r.malformed(reasonQuantity)
		default:
			r.attr(attrValues, registerValues(d[9:]))
		}
	case fcReadFIFOQueue:
		// 6.18: FIFO pointer address; the count comes with the response.
		if exact(2) {
			r.target(kindHoldingRegister, be16(d), 0)
		}
	case fcEncapsulated:
		// 6.19-6.21: MEI type, then type-specific data; 43/14 carries the
		// Read Device ID code and an object id.
		if len(d) < 1 {
			r.malformed(reasonPDULength)
			return
		}
		encapsulated(&r.fn, r.attr, d[0])
		if d[0] == meiReadDeviceIdent && exact(3) {
			r.attr(attrDeviceIDCode, deviceIDCodeName(d[1]))
		}
	case fcUMAS:
		// Session key, UMAS function, data.
		if len(d) < 2 {
			r.malformed(reasonPDULength)
			return
		}
		u := umasFunction(d[1])
		r.fn.class = u.class
		r.attr(attrUMAS, u.name)
	}
}

// readKind returns the data table a read function addresses.
func readKind(fc byte) string {
	switch fc {
	case fcReadCoils:
		return kindCoil
	case fcReadDiscreteInputs:
		return kindDiscreteInput
	case fcReadInputRegisters:
		return kindInputRegister
	}
	return kindHoldingRegister
}

// diagnostic names a Diagnostics sub-function and refines the class:
// Restart Communications Option restarts the server's port (and clears
// listen-only mode); Force Listen Only Mode silences the server until
// restarted (section 6.8.1), a change of operating mode.
func diagnostic(fn *function, attr func(k, v string), sub uint16) {
	attr(attrSubFunction, diagnosticName(sub))
	switch sub {
	case diagRestartComm:
		fn.class = dissect.ClassRestart
	case diagForceListenOnly:
		fn.class = dissect.ClassControl
	}
}

// encapsulated names the MEI type of function 43; the two the
// specification defines (sections 6.19, 6.21) also name the operation.
func encapsulated(fn *function, attr func(k, v string), mei byte) {
	attr(attrMEIType, meiName(mei))
	switch mei {
	case meiReadDeviceIdent:
		*fn = function{"read_device_identification", dissect.ClassDiscovery}
	case meiCANopen:
		fn.name = "canopen_general_reference"
	}
}

// fileRecords decodes the sub-requests of Read (6.14) and Write (6.15)
// File Record: reference type 6, file number, record number, record
// length, and for a write the record data.
func fileRecords(r *request, fc byte, d []byte) {
	if len(d) < 1 {
		r.malformed(reasonPDULength)
		return
	}
	n := int(d[0])
	if n != len(d)-1 {
		r.malformed(reasonByteCount)
		return
	}
	for d = d[1:]; len(d) > 0; {
		if len(d) < 7 {
			r.malformed(reasonByteCount)
			return
		}
		if d[0] != 6 {
			r.malformed(reasonReference)
		}
		file, record, length := be16(d[1:]), be16(d[3:]), be16(d[5:])
		if int(r.nt) < len(r.targets) {
			r.targets[r.nt] = dissect.Target{Kind: kindFileRecord, Name: "file " + strconv.Itoa(int(file)), Address: uint32(record), Count: uint32(length)}
			r.nt++
		} else {
			r.attr(attrTruncated, "true")
		}
		d = d[7:]
		if fc == fcWriteFileRecord {
			if len(d) < 2*int(length) {
				r.malformed(reasonByteCount)
				return
			}
			d = d[2*int(length):]
		}
	}
}

// parseResponse decodes a response PDU into op. r is the request it
// answers (op.Request) or a scratch request holding only the function.
func parseResponse(op *dissect.Operation, r *request, pdu []byte) {
	fc, d := pdu[0], pdu[1:]
	bad := func(reason string) { malformed(op, reason) }
	if fc&0x80 != 0 {
		// Chapter 7: function code | 0x80, exception code.
		if len(d) < 1 {
			bad(reasonPDULength)
			return
		}
		op.Result = dissect.Result{Status: dissect.StatusError, Code: int(d[0]), Text: exceptionName(d[0])}
		if len(d) != 1 {
			bad(reasonPDULength)
		}
		return
	}
	if fc == 0 {
		bad(reasonFunction)
		return
	}
	op.Result.Status = dissect.StatusOK
	paired := op.Request
	exact := func(n int) bool {
		if len(d) != n {
			bad(reasonPDULength)
		}
		return len(d) >= n
	}
	// counted checks a byte count in d[0] against the data after it and,
	// when the request is known, against the quantity it asked for.
	counted := func(want int) {
		switch {
		case len(d) < 1:
			bad(reasonPDULength)
		case int(d[0]) != len(d)-1:
			bad(reasonByteCount)
		case want > 0 && int(d[0]) != want:
			bad(reasonQuantity)
		}
	}
	switch fc {
	case fcReadCoils, fcReadDiscreteInputs:
		counted((int(r.qty) + 7) / 8)
	case fcReadHoldingRegisters, fcReadInputRegisters, fcReadWriteRegisters:
		counted(2 * int(r.qty))
		if op.Result.Status == dissect.StatusOK && d[0]%2 != 0 {
			bad(reasonByteCount)
		}
	case fcWriteSingleCoil, fcWriteSingleRegister, fcWriteMultipleCoils, fcWriteMultipleRegisters, fcMaskWriteRegister:
		// 6.5, 6.6, 6.11, 6.12, 6.16: the response echoes the address (and
		// value, quantity or masks), which names the target when the
		// request was missed.
		n := 4
		if fc == fcMaskWriteRegister {
			n = 6
		}
		if !exact(n) || paired {
			return
		}
		switch fc {
		case fcWriteSingleCoil:
			op.Targets = append(op.Targets, dissect.Target{Kind: kindCoil, Address: uint32(be16(d)), Count: 1})
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrValue, Value: coilValue(be16(d[2:]))})
		case fcWriteSingleRegister:
			op.Targets = append(op.Targets, dissect.Target{Kind: kindHoldingRegister, Address: uint32(be16(d)), Count: 1})
			op.Attrs = append(op.Attrs, dissect.Attr{Key: attrValue, Value: strconv.Itoa(int(be16(d[2:])))})
		case fcWriteMultipleCoils:
			op.Targets = append(op.Targets, dissect.Target{Kind: kindCoil, Address: uint32(be16(d)), Count: uint32(be16(d[2:]))})
		case fcWriteMultipleRegisters:
			op.Targets = append(op.Targets, dissect.Target{Kind: kindHoldingRegister, Address: uint32(be16(d)), Count: uint32(be16(d[2:]))})
		case fcMaskWriteRegister:
			op.Targets = append(op.Targets, dissect.Target{Kind: kindHoldingRegister, Address: uint32(be16(d)), Count: 1})
			op.Attrs = append(op.Attrs,
				dissect.Attr{Key: attrAndMask, Value: hex16(be16(d[2:]))},
				dissect.Attr{Key: attrOrMask, Value: hex16(be16(d[4:]))})
		}
	case fcReadExceptionStatus:
		exact(1)
	case fcGetCommEventCounter:
		exact(4)
	case fcGetCommEventLog, fcReadFileRecord, fcWriteFileRecord:
		counted(0)
	case fcDiagnostics:
		if len(d) < 2 {
			bad(reasonPDULength)
			return
		}
		if !paired {
			diagnostic(&r.fn, func(k, v string) { op.Attrs = append(op.Attrs, dissect.Attr{Key: k, Value: v}) }, be16(d))
			op.Class = r.fn.class
		}
	case fcReportServerID:
		// 6.13: byte count, server id, run indicator, additional data. The
		// layout of the id is device specific; its printable text is the
		// server's own description.
		counted(0)
		if op.Result.Status == dissect.StatusOK {
			if t := printableText(d[1:]); t != "" {
				op.Identity = append(op.Identity, dissect.Fact{Key: FactServerID, Value: t, Server: true})
			}
		}
	case fcReadFIFOQueue:
		// 6.18: byte count (2 bytes), FIFO count (2 bytes), values.
		if len(d) < 4 {
			bad(reasonPDULength)
			return
		}
		n, count := int(be16(d)), be16(d[2:])
		switch {
		case n != len(d)-2:
			bad(reasonByteCount)
		case n != 2+2*int(count):
			bad(reasonQuantity)
		}
		if paired && len(op.Targets) > 0 {
			op.Targets[0].Count = uint32(count)
		}
	case fcEncapsulated:
		if len(d) < 1 {
			bad(reasonPDULength)
			return
		}
		if !paired {
			encapsulated(&r.fn, func(k, v string) { op.Attrs = append(op.Attrs, dissect.Attr{Key: k, Value: v}) }, d[0])
			op.FunctionName, op.Class = r.fn.name, r.fn.class
		}
		if d[0] == meiReadDeviceIdent {
			deviceIdentification(op, d, !paired, bad)
		}
	case fcUMAS:
		// Session key, then 0xFE (success) or 0xFD (error).
		if len(d) < 2 {
			bad(reasonPDULength)
			return
		}
		if d[1] == 0xfd {
			op.Result = dissect.Result{Status: dissect.StatusError, Code: 0xfd, Text: umasError}
		}
	}
}

// deviceIdentification decodes a Read Device Identification response
// (6.21): MEI type, Read Device ID code, conformity level, more follows,
// next object id, number of objects, then id, length and value of each.
// The basic and regular objects become identity facts of the server; code
// says whether to record the Read Device ID code (when the request was
// missed).
func deviceIdentification(op *dissect.Operation, d []byte, code bool, bad func(string)) {
	if len(d) < 6 {
		bad(reasonPDULength)
		return
	}
	if code {
		op.Attrs = append(op.Attrs, dissect.Attr{Key: attrDeviceIDCode, Value: deviceIDCodeName(d[1])})
	}
	n := int(d[5])
	b := d[6:]
	for range n {
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			bad(reasonObjects)
			return
		}
		id, value := b[0], b[2:2+int(b[1])]
		b = b[2+int(b[1]):]
		key, fact := objectKey(id)
		if fact {
			op.Identity = append(op.Identity, dissect.Fact{Key: key, Value: text(value), Server: true})
		} else {
			op.Attrs = append(op.Attrs, dissect.Attr{Key: key, Value: text(value)})
		}
	}
	if len(b) != 0 {
		bad(reasonPDULength)
	}
}

// objectKey maps a device identification object id (6.21, table of
// objects) to a fact key, or to an attribute key when no fact fits.
func objectKey(id byte) (key string, fact bool) {
	switch id {
	case 0x00: // VendorName
		return dissect.FactVendor, true
	case 0x01: // ProductCode
		return dissect.FactProductCode, true
	case 0x02: // MajorMinorRevision
		return dissect.FactFirmware, true
	case 0x03: // VendorUrl
		return attrVendorURL, false
	case 0x04: // ProductName
		return dissect.FactProduct, true
	case 0x05: // ModelName
		return dissect.FactModel, true
	case 0x06: // UserApplicationName
		return attrUserAppName, false
	}
	return objectNames[id], false
}

// coilValue names the value of Write Single Coil (6.5).
func coilValue(v uint16) string {
	switch v {
	case 0xff00:
		return "on"
	case 0x0000:
		return "off"
	}
	return hex16(v)
}

func hex16(v uint16) string {
	return hex8[v>>8] + hex8[v&0xff][2:]
}

// registerValues lists register values in decimal, at most maxValues.
func registerValues(b []byte) string {
	var buf [8 * (maxValues + 1)]byte
	out := buf[:0]
	for i := 0; i+1 < len(b); i += 2 {
		if i/2 == maxValues {
			out = append(out, ",..."...)
			break
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = strconv.AppendUint(out, uint64(be16(b[i:])), 10)
	}
	return string(out)
}

// coilValues lists the first n coil values (LSB of the first byte first,
// section 6.11), at most maxValues.
func coilValues(b []byte, n int) string {
	var buf [2*maxValues + 4]byte
	out := buf[:0]
	for i := 0; i < n && i/8 < len(b); i++ {
		if i == maxValues {
			out = append(out, ",..."...)
			break
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '0'+(b[i/8]>>(i%8))&1)
	}
	return string(out)
}

// text returns an object value as valid UTF-8 without control characters
// or trailing padding.
func text(b []byte) string {
	s := strings.TrimRight(strings.ToValidUTF8(string(b), "?"), "\x00 ")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// printableText returns the runs of at least four printable ASCII
// characters in b, joined by spaces.
func printableText(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] >= 0x20 && b[j] < 0x7f {
			j++
		}
		if j-i >= 4 {
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(strings.TrimSpace(string(b[i:j])))
		}
		i = max(j, i+1)
	}
	return sb.String()
}

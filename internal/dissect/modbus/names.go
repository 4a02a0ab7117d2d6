package modbus

import (
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Public function codes (application protocol specification, section 5.1
// and chapter 6) and the Schneider UMAS function.
const (
	fcReadCoils              = 1
	fcReadDiscreteInputs     = 2
	fcReadHoldingRegisters   = 3
	fcReadInputRegisters     = 4
	fcWriteSingleCoil        = 5
	fcWriteSingleRegister    = 6
	fcReadExceptionStatus    = 7
	fcDiagnostics            = 8
	fcGetCommEventCounter    = 11
	fcGetCommEventLog        = 12
	fcWriteMultipleCoils     = 15
	fcWriteMultipleRegisters = 16
	fcReportServerID         = 17
	fcReadFileRecord         = 20
	fcWriteFileRecord        = 21
	fcMaskWriteRegister      = 22
	fcReadWriteRegisters     = 23
	fcReadFIFOQueue          = 24
	fcEncapsulated           = 43
	fcUMAS                   = 90
)

// MEI types of function 43 (sections 6.19 to 6.21).
const (
	meiCANopen          = 13
	meiReadDeviceIdent  = 14
	diagRestartComm     = 1
	diagForceListenOnly = 4
)

// Target kinds: the four data tables of the Modbus data model (section 4.3)
// and the records of extended memory files (section 6.14).
const (
	kindCoil            = "coil"
	kindDiscreteInput   = "discrete_input"
	kindHoldingRegister = "holding_register"
	kindInputRegister   = "input_register"
	kindFileRecord      = "file_record"
)

// Attribute keys.
const (
	attrUnit         = "unit_id"
	attrValue        = "value"
	attrValues       = "values"
	attrAndMask      = "and_mask"
	attrOrMask       = "or_mask"
	attrSubFunction  = "sub_function"
	attrMEIType      = "mei_type"
	attrDeviceIDCode = "device_id_code"
	attrUMAS         = "umas_function"
	attrException    = "exception"
	attrTruncated    = "targets_truncated"
	attrVendorURL    = "vendor_url"
	attrUserAppName  = "user_application_name"
)

// FactServerID is the identity fact key of the printable text a server
// returns to Report Server ID (function 17). Its content is device specific
// (section 6.17): often a vendor or product name, sometimes both.
const FactServerID = "server_id"

// function is the name and class of a function code.
type function struct {
	name  string
	class dissect.Class
}

// functions is indexed by function code without the exception bit.
var functions [128]function

func init() {
	public := []struct {
		fc byte
		f  function
	}{
		{fcReadCoils, function{"read_coils", dissect.ClassRead}},
		{fcReadDiscreteInputs, function{"read_discrete_inputs", dissect.ClassRead}},
		{fcReadHoldingRegisters, function{"read_holding_registers", dissect.ClassRead}},
		{fcReadInputRegisters, function{"read_input_registers", dissect.ClassRead}},
		{fcWriteSingleCoil, function{"write_single_coil", dissect.ClassWrite}},
		{fcWriteSingleRegister, function{"write_single_register", dissect.ClassWrite}},
		// Section 5.1 files 7, 11, 12, 17 and 43/14 under "Diagnostics"
		// (serial line); 17 and 43/14 identify the device, hence discovery.
		{fcReadExceptionStatus, function{"read_exception_status", dissect.ClassDiagnostics}},
		{fcDiagnostics, function{"diagnostics", dissect.ClassDiagnostics}},
		{fcGetCommEventCounter, function{"get_comm_event_counter", dissect.ClassDiagnostics}},
		{fcGetCommEventLog, function{"get_comm_event_log", dissect.ClassDiagnostics}},
		{fcWriteMultipleCoils, function{"write_multiple_coils", dissect.ClassWrite}},
		{fcWriteMultipleRegisters, function{"write_multiple_registers", dissect.ClassWrite}},
		{fcReportServerID, function{"report_server_id", dissect.ClassDiscovery}},
		{fcReadFileRecord, function{"read_file_record", dissect.ClassFile}},
		{fcWriteFileRecord, function{"write_file_record", dissect.ClassFile}},
		{fcMaskWriteRegister, function{"mask_write_register", dissect.ClassWrite}},
		{fcReadWriteRegisters, function{"read_write_multiple_registers", dissect.ClassWrite}},
		{fcReadFIFOQueue, function{"read_fifo_queue", dissect.ClassRead}},
		{fcEncapsulated, function{"encapsulated_interface_transport", dissect.ClassOther}},
		// UMAS carries Unity/EcoStruxure engineering: program transfer,
		// start/stop, reservation. Its sub-function refines the class.
		{fcUMAS, function{"umas", dissect.ClassProgram}},
	}
	for i := range functions {
		functions[i] = function{"unknown", dissect.ClassOther}
	}
	// Annex A: codes reserved for legacy products.
	for _, fc := range []byte{9, 10, 13, 14, 41, 42, 91, 125, 126, 127} {
		functions[fc] = function{"reserved", dissect.ClassOther}
	}
	// Section 5.1: user-defined function codes.
	for fc := 65; fc <= 72; fc++ {
		functions[fc] = function{"user_defined", dissect.ClassOther}
	}
	for fc := 100; fc <= 110; fc++ {
		functions[fc] = function{"user_defined", dissect.ClassOther}
	}
	for _, p := range public {
		functions[p.fc] = p.f
	}
	for i := range decimal {
		decimal[i] = strconv.Itoa(i)
		hex8[i] = "0x" + strconv.FormatUint(uint64(i)|0x100, 16)[1:]
		objectNames[i] = "object_" + hex8[i]
	}
}

// isPublic reports whether fc is a public function code of section 5.1
// (one the specification defines).
func isPublic(fc byte) bool {
	switch fc {
	case 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 15, 16, 17, 20, 21, 22, 23, 24, 43:
		return true
	}
	return false
}

// decimal and hex8 hold the text of every byte value, so that attributes
// carry constant strings.
var (
	decimal     [256]string
	hex8        [256]string
	objectNames [256]string
)

// exceptionName names an exception code (chapter 7).
func exceptionName(code byte) string {
	switch code {
	case 1:
		return "illegal_function"
	case 2:
		return "illegal_data_address"
	case 3:
		return "illegal_data_value"
	case 4:
		return "server_device_failure"
	case 5:
		return "acknowledge"
	case 6:
		return "server_device_busy"
	case 8:
		return "memory_parity_error"
	case 10:
		return "gateway_path_unavailable"
	case 11:
		return "gateway_target_device_failed_to_respond"
	}
	return "unknown"
}

// diagnosticName names a Diagnostics (8) sub-function (section 6.8.1).
func diagnosticName(sub uint16) string {
	switch sub {
	case 0:
		return "return_query_data"
	case 1:
		return "restart_communications_option"
	case 2:
		return "return_diagnostic_register"
	case 3:
		return "change_ascii_input_delimiter"
	case 4:
		return "force_listen_only_mode"
	case 10:
		return "clear_counters_and_diagnostic_register"
	case 11:
		return "return_bus_message_count"
	case 12:
		return "return_bus_communication_error_count"
	case 13:
		return "return_bus_exception_error_count"
	case 14:
		return "return_server_message_count"
	case 15:
		return "return_server_no_response_count"
	case 16:
		return "return_server_nak_count"
	case 17:
		return "return_server_busy_count"
	case 18:
		return "return_bus_character_overrun_count"
	case 20:
		return "clear_overrun_counter_and_flag"
	}
	return "reserved"
}

// meiName names an MEI type of function 43 (sections 6.19 to 6.21, annex A).
func meiName(mei byte) string {
	switch mei {
	case meiCANopen:
		return "canopen_general_reference"
	case meiReadDeviceIdent:
		return "read_device_identification"
	}
	return "reserved"
}

// deviceIDCodeName names the Read Device ID code of 43/14 (section 6.21).
func deviceIDCodeName(code byte) string {
	switch code {
	case 1:
		return "basic"
	case 2:
		return "regular"
	case 3:
		return "extended"
	case 4:
		return "specific"
	}
	return "reserved"
}

// umasFunctions names the UMAS function byte (the third byte of a function
// 90 PDU, after the session key). UMAS is not publicly specified; the names
// follow published analyses of Unity Pro traffic. Unknown ones stay
// "program", the class of UMAS as a whole.
var umasFunctions = map[byte]function{
	0x01: {"init_comm", dissect.ClassOther},
	0x02: {"read_id", dissect.ClassDiscovery},
	0x03: {"read_project_info", dissect.ClassDiscovery},
	0x04: {"read_plc_info", dissect.ClassDiscovery},
	0x06: {"read_card_info", dissect.ClassDiscovery},
	0x0a: {"repeat", dissect.ClassOther},
	0x10: {"take_plc_reservation", dissect.ClassAuthentication},
	0x11: {"release_plc_reservation", dissect.ClassAuthentication},
	0x12: {"keep_alive", dissect.ClassOther},
	0x20: {"read_memory_block", dissect.ClassRead},
	0x22: {"read_variables", dissect.ClassRead},
	0x23: {"write_variables", dissect.ClassWrite},
	0x24: {"read_coils_registers", dissect.ClassRead},
	0x25: {"write_coils_registers", dissect.ClassWrite},
	0x30: {"initialize_upload", dissect.ClassProgram},
	0x31: {"upload_block", dissect.ClassProgram},
	0x32: {"end_strategy_upload", dissect.ClassProgram},
	0x33: {"initialize_download", dissect.ClassProgram},
	0x34: {"download_block", dissect.ClassProgram},
	0x35: {"end_strategy_download", dissect.ClassProgram},
	0x39: {"read_ethernet_master_data", dissect.ClassRead},
	0x40: {"start_plc", dissect.ClassControl},
	0x41: {"stop_plc", dissect.ClassControl},
	0x50: {"monitor_plc", dissect.ClassRead},
	0x58: {"check_plc", dissect.ClassDiagnostics},
	0x70: {"read_io_object", dissect.ClassRead},
	0x71: {"write_io_object", dissect.ClassWrite},
	0x73: {"get_status_module", dissect.ClassDiagnostics},
}

// umasFunction returns the name and class of UMAS function code c; an
// unknown code is named by its hex value.
func umasFunction(c byte) function {
	if f, ok := umasFunctions[c]; ok {
		return f
	}
	return function{hex8[c], dissect.ClassProgram}
}

package s7comm

import "github.com/otwatch/otwatch/internal/dissect"

// Protocol identifiers (first byte of the PDU after COTP DT).
const (
	protoS7     = 0x32 // S7comm (S7-300/400, classic S7-1200/1500 access)
	protoS7Plus = 0x72 // S7comm-plus (S7-1200/1500 TIA portal protocol)
)

// ROSCTR: the PDU type of the S7comm header.
const (
	rosctrJob      = 1
	rosctrAck      = 2
	rosctrAckData  = 3
	rosctrUserdata = 7
)

// Job and ack_data function codes (parameter byte 0).
const (
	fnCPUServices    = 0x00
	fnReadVar        = 0x04
	fnWriteVar       = 0x05
	fnRequestDownld  = 0x1a
	fnDownloadBlock  = 0x1b
	fnDownloadEnded  = 0x1c
	fnStartUpload    = 0x1d
	fnUpload         = 0x1e
	fnEndUpload      = 0x1f
	fnPLCControl     = 0x28
	fnPLCStop        = 0x29
	fnSetupComm      = 0xf0
	syntaxS7Any      = 0x10
	itemSpecVariable = 0x12
)

// jobFunction describes one job function: its name and class.
type jobFunction struct {
	name      string
	class     dissect.Class
	direction string // "upload"/"download" for block transfers
}

func jobFunc(fn byte) jobFunction {
	switch fn {
	case fnCPUServices:
		return jobFunction{"cpu_services", dissect.ClassOther, ""}
	case fnReadVar:
		return jobFunction{"read_var", dissect.ClassRead, ""}
	case fnWriteVar:
		return jobFunction{"write_var", dissect.ClassWrite, ""}
	case fnRequestDownld:
		return jobFunction{"request_download", dissect.ClassProgram, "download"}
	case fnDownloadBlock:
		return jobFunction{"download_block", dissect.ClassProgram, "download"}
	case fnDownloadEnded:
		return jobFunction{"download_ended", dissect.ClassProgram, "download"}
	case fnStartUpload:
		return jobFunction{"start_upload", dissect.ClassProgram, "upload"}
	case fnUpload:
		return jobFunction{"upload", dissect.ClassProgram, "upload"}
	case fnEndUpload:
		return jobFunction{"end_upload", dissect.ClassProgram, "upload"}
	case fnPLCControl:
		return jobFunction{"plc_control", dissect.ClassControl, ""}
	case fnPLCStop:
		return jobFunction{"plc_stop", dissect.ClassControl, ""}
	case fnSetupComm:
		return jobFunction{"setup_communication", dissect.ClassOther, ""}
	}
	return jobFunction{"unknown", dissect.ClassOther, ""}
}

// piService is a program invocation service of PLC control (function
// 0x28), by its name on the wire.
type piService struct {
	wire, name string
	class      dissect.Class
	state      string // plc_state attribute
}

var piServices = [...]piService{
	{"_INSE", "insert_block", dissect.ClassProgram, ""},
	{"_DELE", "delete_block", dissect.ClassProgram, ""},
	{"P_PROGRAM", "plc_start", dissect.ClassControl, "run"},
	{"_GARB", "compress_memory", dissect.ClassControl, ""},
	{"_MODU", "copy_ram_to_rom", dissect.ClassProgram, ""},
	{"_EXEC", "execute", dissect.ClassControl, ""},
	{"_N_LOGIN_", "nc_login", dissect.ClassAuthentication, ""},
	{"_N_LOGOUT", "nc_logout", dissect.ClassAuthentication, ""},
	{"_N_F_DELE", "nc_delete_file", dissect.ClassFile, ""},
	{"_N_F_OPER", "nc_open_file", dissect.ClassFile, ""},
	{"_N_SELECT", "nc_select_program", dissect.ClassControl, ""},
}

func findPI(name []byte) int {
	for i := range piServices {
		if string(name) == piServices[i].wire {
			return i
		}
	}
	return -1
}

// areaName returns the target kind of an S7ANY memory area.
func areaName(a byte) string {
	switch a {
	case 0x01:
		return "data_record"
	case 0x03:
		return "system_info_200"
	case 0x05:
		return "system_flags_200"
	case 0x06:
		return "analog_input_200"
	case 0x07:
		return "analog_output_200"
	case 0x1c:
		return "counter"
	case 0x1d:
		return "timer"
	case 0x1e:
		return "iec_counter_200"
	case 0x1f:
		return "iec_timer_200"
	case 0x80:
		return "peripheral"
	case 0x81:
		return "input"
	case 0x82:
		return "output"
	case 0x83:
		return "marker"
	case 0x84:
		return "db"
	case 0x85:
		return "instance_db"
	case 0x86:
		return "local"
	case 0x87:
		return "previous_local"
	}
	return "area_unknown"
}

// returnCode names the return code of a data item (S7comm data part).
func returnCode(c byte) string {
	switch c {
	case 0x00:
		return "reserved"
	case 0x01:
		return "hardware_fault"
	case 0x03:
		return "access_denied"
	case 0x05:
		return "address_out_of_range"
	case 0x06:
		return "data_type_not_supported"
	case 0x07:
		return "data_type_inconsistent"
	case 0x0a:
		return "object_does_not_exist"
	case 0xff:
		return "success"
	}
	return "unknown_return_code"
}

// errorClass names the error class of an ack/ack_data header.
func errorClass(c byte) string {
	switch c {
	case 0x00:
		return "no_error"
	case 0x81:
		return "application_relationship"
	case 0x82:
		return "object_definition"
	case 0x83:
		return "no_resources_available"
	case 0x84:
		return "error_on_service_processing"
	case 0x85:
		return "error_on_supplies"
	case 0x87:
		return "access_error"
	}
	return "unknown_error_class"
}

// errorText names an error class and code (class<<8 | code), as listed by
// the Wireshark S7comm dissector's parameter error codes; codes without a
// name fall back to the class name.
func errorText(e uint16) string {
	switch e {
	case 0x0110, 0x0118, 0xd210:
		return "invalid_block_number"
	case 0x0111:
		return "invalid_request_length"
	case 0x0112:
		return "invalid_parameter"
	case 0x0113:
		return "invalid_block_type"
	case 0x0114:
		return "block_not_found"
	case 0x0115:
		return "block_already_exists"
	case 0x0116:
		return "block_write_protected"
	case 0x0117:
		return "block_too_large"
	case 0x0119, 0xd602:
		return "incorrect_password"
	case 0x011a:
		return "pg_resource_error"
	case 0x011b:
		return "plc_resource_error"
	case 0x011c:
		return "protocol_error"
	case 0x011d:
		return "too_many_blocks"
	case 0x0120:
		return "end_of_block_list"
	case 0x0140:
		return "insufficient_memory"
	case 0x0141:
		return "job_lacks_resources"
	case 0x8001:
		return "block_in_wrong_state"
	case 0x8003:
		return "block_transfer_error"
	case 0x8100:
		return "service_unknown"
	case 0x8104:
		return "service_not_implemented"
	case 0x8204:
		return "object_type_inconsistent"
	case 0x8205:
		return "copied_block_exists"
	case 0x8301:
		return "insufficient_memory"
	case 0x8302:
		return "too_few_resources"
	case 0x8304:
		return "no_parallel_upload"
	case 0x8305:
		return "function_not_available"
	case 0x8401:
		return "invalid_service_sequence"
	case 0x8402:
		return "object_state_prevents_service"
	case 0x8404:
		return "function_cannot_be_performed"
	case 0x8500:
		return "wrong_frames"
	case 0x8503:
		return "service_cancelled"
	case 0x8701:
		return "object_addressing_error"
	case 0x8702:
		return "service_not_supported"
	case 0x8703:
		return "access_refused"
	case 0x8704:
		return "object_damaged"
	case 0xd081:
		return "function_not_permitted_in_mode"
	case 0xd0a1:
		return "function_not_permitted_at_protection_level"
	case 0xd0ad:
		return "operating_mode_already_set"
	case 0xd201:
		return "block_name_syntax_error"
	case 0xd202:
		return "function_parameter_syntax_error"
	case 0xd209:
		return "block_not_found"
	case 0xd20c:
		return "ob_priority_class_missing"
	case 0xd20e:
		return "no_further_block"
	case 0xd401:
		return "information_function_unavailable"
	case 0xd603:
		return "connection_already_legitimized"
	case 0xd605:
		return "no_password_configured"
	case 0xdc01:
		return "invalid_date_time"
	}
	if c := errorClass(byte(e >> 8)); c != "unknown_error_class" {
		return c
	}
	return "unknown_error"
}

// Userdata function groups (parameter byte 5, low nibble).
const (
	groupModeTransition = 0x0
	groupProgrammer     = 0x1
	groupCyclic         = 0x2
	groupBlock          = 0x3
	groupCPU            = 0x4
	groupSecurity       = 0x5
	groupPBC            = 0x6
	groupTime           = 0x7
)

var groupNames = [16]string{
	groupModeTransition: "mode_transition",
	groupProgrammer:     "programmer_commands",
	groupCyclic:         "cyclic_data",
	groupBlock:          "block_functions",
	groupCPU:            "cpu_functions",
	groupSecurity:       "security",
	groupPBC:            "pbc_bsend",
	groupTime:           "time_functions",
	0xf:                 "nc_programming",
}

func groupName(g byte) string {
	if n := groupNames[g&0x0f]; n != "" {
		return n
	}
	return "unknown_group"
}

// Userdata subfunctions of the CPU functions group.
const (
	subReadSZL = 0x01
	subSetTime = 0x02
)

// userdataFunc returns the name and class of a userdata subfunction.
func userdataFunc(group, sub byte) (string, dissect.Class) {
	switch group {
	case groupModeTransition:
		return "mode_transition", dissect.ClassDiagnostics
	case groupProgrammer:
		switch sub {
		case 0x01:
			return "block_status", dissect.ClassDiagnostics
		case 0x02:
			return "variable_status", dissect.ClassRead
		case 0x03:
			return "output_istack", dissect.ClassDiagnostics
		case 0x04:
			return "output_bstack", dissect.ClassDiagnostics
		case 0x05:
			return "output_lstack", dissect.ClassDiagnostics
		case 0x06:
			return "time_measurement", dissect.ClassDiagnostics
		case 0x07:
			return "force_selection", dissect.ClassWrite
		case 0x08:
			return "modify_variable", dissect.ClassWrite
		case 0x09:
			return "force", dissect.ClassWrite
		case 0x0a:
			return "breakpoint", dissect.ClassControl
		case 0x0b:
			return "exit_hold", dissect.ClassControl
		case 0x0c:
			return "memory_reset", dissect.ClassControl
		case 0x0d:
			return "disable_job", dissect.ClassDiagnostics
		case 0x0e:
			return "enable_job", dissect.ClassDiagnostics
		case 0x0f:
			return "delete_job", dissect.ClassDiagnostics
		case 0x10:
			return "read_job_list", dissect.ClassDiagnostics
		case 0x11:
			return "read_job", dissect.ClassDiagnostics
		case 0x12:
			return "replace_job", dissect.ClassDiagnostics
		case 0x13:
			return "block_status_v2", dissect.ClassDiagnostics
		case 0x16:
			return "flash_led", dissect.ClassDiagnostics
		}
	case groupCyclic:
		switch sub {
		case 0x01:
			return "cyclic_transfer", dissect.ClassRead
		case 0x04:
			return "unsubscribe", dissect.ClassRead
		case 0x05:
			return "change_driven_transfer", dissect.ClassRead
		case 0x07:
			return "change_driven_transfer_modify", dissect.ClassRead
		case 0x08:
			return "rdrec", dissect.ClassRead
		}
	case groupBlock:
		switch sub {
		case 0x01:
			return "list_blocks", dissect.ClassDiscovery
		case 0x02:
			return "list_blocks_of_type", dissect.ClassDiscovery
		case 0x03:
			return "get_block_info", dissect.ClassDiscovery
		}
	case groupCPU:
		switch sub {
		case subReadSZL:
			return "read_szl", dissect.ClassDiscovery
		case 0x02:
			return "message_service", dissect.ClassOther
		case 0x03:
			return "diagnostic_message", dissect.ClassDiagnostics
		case 0x05:
			return "alarm8_indication", dissect.ClassDiagnostics
		case 0x06:
			return "notify_indication", dissect.ClassDiagnostics
		case 0x07:
			return "alarm8_lock", dissect.ClassOther
		case 0x08:
			return "alarm8_unlock", dissect.ClassOther
		case 0x09:
			return "scan_indication", dissect.ClassDiagnostics
		case 0x0b:
			return "alarm_ack", dissect.ClassOther
		case 0x0c:
			return "alarm_ack_indication", dissect.ClassDiagnostics
		case 0x0d:
			return "alarm_lock_indication", dissect.ClassDiagnostics
		case 0x0e:
			return "alarm_unlock_indication", dissect.ClassDiagnostics
		case 0x10:
			return "ar_send_indication", dissect.ClassDiagnostics
		case 0x11:
			return "alarm_sq_indication", dissect.ClassDiagnostics
		case 0x12:
			return "alarm_s_indication", dissect.ClassDiagnostics
		case 0x13:
			return "alarm_query", dissect.ClassDiagnostics
		case 0x16:
			return "notify8_indication", dissect.ClassDiagnostics
		}
	case groupSecurity:
		switch sub {
		case 0x01:
			return "plc_password", dissect.ClassAuthentication
		}
		return "security_unknown", dissect.ClassAuthentication
	case groupPBC:
		return "pbc_bsend", dissect.ClassOther
	case groupTime:
		switch sub {
		case 0x01:
			return "read_clock", dissect.ClassTime
		case subSetTime, 0x04:
			return "set_clock", dissect.ClassTime
		case 0x03:
			return "read_clock_following", dissect.ClassTime
		}
		return "time_unknown", dissect.ClassTime
	}
	return "userdata_unknown", dissect.ClassOther
}

// modeName names the CPU mode reported by a mode-transition push (its
// subfunction).
func modeName(m byte) string {
	switch m {
	case 0:
		return "stop"
	case 1:
		return "warm_restart"
	case 2:
		return "run"
	case 3:
		return "hot_restart"
	case 4:
		return "hold"
	case 6:
		return "cold_restart"
	case 9:
		return "run_r"
	case 11:
		return "link_up"
	case 12:
		return "update"
	}
	return "unknown"
}

// blockTypeName names a block type given as two ASCII characters in file
// names ("0A" is a DB).
func blockTypeName(hi, lo byte) string {
	if hi != '0' {
		return ""
	}
	switch lo {
	case '8':
		return "OB"
	case '9':
		return "CMod"
	case 'A':
		return "DB"
	case 'B':
		return "SDB"
	case 'C':
		return "FC"
	case 'D':
		return "SFC"
	case 'E':
		return "FB"
	case 'F':
		return "SFB"
	}
	return ""
}

// decimal holds the decimal strings of 0..255 so that small numbers
// become attribute values without allocating.
var decimal [256]string

func init() {
	for i := range decimal {
		decimal[i] = itoa(uint32(i))
	}
	for i := range dbNames {
		dbNames[i] = "DB" + itoa(uint32(i))
	}
}

// dbNames holds "DB0".."DB1023" for the common data block numbers.
var dbNames [1024]string

func itoa(v uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}

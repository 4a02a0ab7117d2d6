package fins

import (
	"fmt"
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

// command is what the manuals say about one command code.
type command struct {
	name  string
	class dissect.Class
}

// commands are the FINS command codes of W227 and W342, with the names
// Wireshark's omron dissector gives them turned into identifiers.
var commands = map[uint16]command{
	0x0101: {"memory_area_read", dissect.ClassRead},
	0x0102: {"memory_area_write", dissect.ClassWrite},
	0x0103: {"memory_area_fill", dissect.ClassWrite},
	0x0104: {"multiple_memory_area_read", dissect.ClassRead},
	0x0105: {"memory_area_transfer", dissect.ClassWrite},
	0x0201: {"parameter_area_read", dissect.ClassRead},
	0x0202: {"parameter_area_write", dissect.ClassWrite},
	0x0203: {"parameter_area_clear", dissect.ClassWrite},
	0x0220: {"data_link_table_read", dissect.ClassRead},
	0x0221: {"data_link_table_write", dissect.ClassWrite},
	0x0304: {"program_area_protect", dissect.ClassProgram},
	0x0305: {"program_area_protect_clear", dissect.ClassProgram},
	0x0306: {"program_area_read", dissect.ClassProgram},
	0x0307: {"program_area_write", dissect.ClassProgram},
	0x0308: {"program_area_clear", dissect.ClassProgram},
	0x0401: {"run", dissect.ClassControl},
	0x0402: {"stop", dissect.ClassControl},
	0x0403: {"reset", dissect.ClassRestart},
	0x0501: {"controller_data_read", dissect.ClassDiscovery},
	0x0502: {"connection_data_read", dissect.ClassDiscovery},
	0x0601: {"controller_status_read", dissect.ClassDiagnostics},
	0x0602: {"network_status_read", dissect.ClassDiagnostics},
	0x0603: {"data_link_status_read", dissect.ClassDiagnostics},
	0x0620: {"cycle_time_read", dissect.ClassDiagnostics},
	0x0701: {"clock_read", dissect.ClassRead},
	0x0702: {"clock_write", dissect.ClassTime},
	0x0801: {"loopback_test", dissect.ClassDiagnostics},
	0x0802: {"broadcast_test_results_read", dissect.ClassDiagnostics},
	0x0803: {"broadcast_test_data_send", dissect.ClassDiagnostics},
	0x0920: {"message_read", dissect.ClassDiagnostics},
	0x0c01: {"access_right_acquire", dissect.ClassAuthentication},
	0x0c02: {"access_right_forced_acquire", dissect.ClassAuthentication},
	0x0c03: {"access_right_release", dissect.ClassAuthentication},
	0x2101: {"error_clear", dissect.ClassControl},
	0x2102: {"error_log_read", dissect.ClassDiagnostics},
	0x2103: {"error_log_clear", dissect.ClassDiagnostics},
	0x2201: {"file_name_read", dissect.ClassFile},
	0x2202: {"single_file_read", dissect.ClassFile},
	0x2203: {"single_file_write", dissect.ClassFile},
	0x2204: {"file_memory_format", dissect.ClassFile},
	0x2205: {"file_delete", dissect.ClassFile},
	0x2206: {"volume_label_create_delete", dissect.ClassFile},
	0x2207: {"file_copy", dissect.ClassFile},
	0x2208: {"file_name_change", dissect.ClassFile},
	0x2209: {"file_data_check", dissect.ClassFile},
	0x220a: {"memory_area_file_transfer", dissect.ClassFile},
	0x220b: {"parameter_area_file_transfer", dissect.ClassFile},
	0x220c: {"program_area_file_transfer", dissect.ClassFile},
	0x220f: {"file_memory_index_read", dissect.ClassFile},
	0x2210: {"file_memory_read", dissect.ClassFile},
	0x2211: {"file_memory_write", dissect.ClassFile},
	0x2215: {"directory_create_delete", dissect.ClassFile},
	0x2301: {"forced_set_reset", dissect.ClassWrite},
	0x2302: {"forced_set_reset_cancel", dissect.ClassWrite},
	0x230a: {"multiple_forced_status_read", dissect.ClassRead},
	0x2601: {"name_set", dissect.ClassWrite},
	0x2602: {"name_delete", dissect.ClassWrite},
	0x2603: {"name_read", dissect.ClassRead},
}

// lookup returns the command of code: an unknown one in the file memory
// group (22xx) is still a file operation.
func lookup(code uint16) command {
	if c, ok := commands[code]; ok {
		return c
	}
	if code>>8 == 0x22 {
		return command{"unknown", dissect.ClassFile}
	}
	return command{"unknown", dissect.ClassOther}
}

// CommandName returns the identifier of a command code ("memory_area_read"),
// or "unknown".
func CommandName(code uint16) string { return lookup(code).name }

// area describes a memory area code (W342 "Memory Area Designations",
// W227 for the CV-mode codes).
type area struct {
	kind string // target kind
	bank string // EM bank, as the target's name
	bit  bool   // addressed by bit: the address carries a bit number
}

// areas maps every memory area code to its target; undefined codes get
// "area_0xNN".
var areas [256]area

func init() {
	set := func(code byte, kind string, bit bool) { areas[code] = area{kind: kind, bit: bit} }
	// CS/CJ mode.
	set(0x30, "cio_bit", true)
	set(0x31, "work_bit", true)
	set(0x32, "holding_bit", true)
	set(0x33, "auxiliary_bit", true)
	set(0x70, "cio_bit_forced", true)
	set(0x71, "work_bit_forced", true)
	set(0x72, "holding_bit_forced", true)
	set(0xb0, "cio", false)
	set(0xb1, "work", false)
	set(0xb2, "holding", false)
	set(0xb3, "auxiliary", false)
	set(0xf0, "cio_forced", false)
	set(0xf1, "work_forced", false)
	set(0xf2, "holding_forced", false)
	set(0x09, "timer_counter_flag", true)
	set(0x49, "timer_counter_flag_forced", true)
	set(0x89, "timer_counter_pv", false)
	set(0x02, "dm_bit", true)
	set(0x82, "dm", false)
	set(0x06, "task_flag", true)
	set(0x46, "task_status", false)
	set(0xbc, "data_register", false)
	set(0xdc, "index_register", false)
	set(0x07, "clock_pulse_bit", true)
	for b := byte(0); b <= 0x0c; b++ {
		bank := "E" + string("0123456789ABC"[b])
		areas[0x20+b] = area{kind: "em_bit", bank: bank, bit: true}
		areas[0xa0+b] = area{kind: "em", bank: bank}
	}
	areas[0x98] = area{kind: "em", bank: "current"}
	// CV mode.
	set(0x00, "cio_bit", true)
	set(0x40, "cio_bit_forced", true)
	set(0x80, "cio", false)
	set(0xc0, "cio_forced", false)
	set(0x01, "timer_counter_flag", true)
	set(0x41, "timer_counter_flag_forced", true)
	set(0x81, "timer_counter_pv", false)
	set(0x03, "transition_flag", true)
	set(0x43, "transition_flag_forced", true)
	set(0x04, "step_flag", true)
	set(0x44, "step_status", false)
	set(0x84, "step_timer_pv", false)
	set(0x05, "forced_status_bit", true)
	set(0x85, "forced_status", false)
	for b := byte(0); b <= 7; b++ {
		areas[0x90+b] = area{kind: "em", bank: "E" + string('0'+b)}
	}
	set(0x9c, "register", false)
	set(0x1b, "action_flag", true)
	set(0xdd, "interrupt_status", false)
	for i := range areas {
		if areas[i].kind == "" {
			areas[i].kind = fmt.Sprintf("area_0x%02x", i)
		}
	}
}

// endCodes names the main and sub response codes (W342 "End Codes"),
// with the relay and PLC error bits masked off.
var endCodes = map[uint16]string{
	0x0000: "normal_completion",
	0x0001: "service_canceled",
	0x0101: "local_node_not_in_network",
	0x0102: "token_timeout",
	0x0103: "retries_failed",
	0x0104: "too_many_send_frames",
	0x0105: "node_address_range_error",
	0x0106: "node_address_duplication",
	0x0201: "destination_node_not_in_network",
	0x0202: "unit_missing",
	0x0203: "third_node_missing",
	0x0204: "destination_node_busy",
	0x0205: "response_timeout",
	0x0301: "communications_controller_error",
	0x0302: "cpu_unit_error",
	0x0303: "controller_error",
	0x0304: "unit_number_error",
	0x0401: "undefined_command",
	0x0402: "not_supported_by_model_version",
	0x0501: "destination_address_setting_error",
	0x0502: "no_routing_tables",
	0x0503: "routing_table_error",
	0x0504: "too_many_relays",
	0x1001: "command_too_long",
	0x1002: "command_too_short",
	0x1003: "elements_data_mismatch",
	0x1004: "command_format_error",
	0x1005: "header_error",
	0x1101: "area_classification_missing",
	0x1102: "access_size_error",
	0x1103: "address_range_error",
	0x1104: "address_range_exceeded",
	0x1106: "program_missing",
	0x1109: "relational_error",
	0x110a: "duplicate_data_access",
	0x110b: "response_too_long",
	0x110c: "parameter_error",
	0x2002: "protected",
	0x2003: "table_missing",
	0x2004: "data_missing",
	0x2005: "program_missing",
	0x2006: "file_missing",
	0x2007: "data_mismatch",
	0x2101: "read_only",
	0x2102: "write_protected",
	0x2103: "cannot_register",
	0x2105: "program_missing",
	0x2106: "file_missing",
	0x2107: "file_name_already_exists",
	0x2108: "cannot_change",
	0x2201: "not_possible_during_execution",
	0x2202: "not_possible_while_running",
	0x2203: "wrong_plc_mode_program",
	0x2204: "wrong_plc_mode_debug",
	0x2205: "wrong_plc_mode_monitor",
	0x2206: "wrong_plc_mode_run",
	0x2207: "not_polling_node",
	0x2208: "step_cannot_be_executed",
	0x2301: "file_device_missing",
	0x2302: "memory_missing",
	0x2303: "clock_missing",
	0x2401: "data_link_table_error",
	0x2502: "memory_error",
	0x2503: "io_setting_error",
	0x2504: "too_many_io_points",
	0x2505: "cpu_bus_error",
	0x2506: "io_duplication",
	0x2507: "io_bus_error",
	0x2509: "sysmac_bus2_error",
	0x250a: "cpu_bus_unit_error",
	0x250d: "sysmac_bus_number_duplication",
	0x250f: "memory_error",
	0x2510: "sysmac_bus_terminator_missing",
	0x2601: "no_protection",
	0x2602: "incorrect_password",
	0x2604: "protected",
	0x2605: "service_already_executing",
	0x2606: "service_stopped",
	0x2607: "no_execution_right",
	0x2608: "settings_not_complete",
	0x2609: "necessary_items_not_set",
	0x260a: "number_already_defined",
	0x260b: "error_will_not_clear",
	0x3001: "no_access_right",
	0x4001: "service_aborted",
}

// EndCodeName returns the identifier of an end code (relay and PLC error
// bits ignored), or "unknown".
func EndCodeName(code uint16) string {
	if n, ok := endCodes[code&endCodeMask]; ok {
		return n
	}
	return "unknown"
}

// endCodeMask keeps the main and sub response codes of an end code: bit 15
// flags a relay error, bits 7 and 6 a fatal and a non-fatal PLC error.
const endCodeMask = 0x7f3f

// tcpCommands are the FINS/TCP header commands (W421).
var tcpCommands = map[uint32]string{
	0: "node_address_data_send",
	1: "node_address_data_send",
	2: "frame_send",
	3: "frame_send_error_notification",
	6: "connection_confirmation",
}

// tcpErrors are the FINS/TCP error codes (W421).
var tcpErrors = map[uint32]string{
	0x00: "normal",
	0x01: "header_not_fins",
	0x02: "data_length_too_long",
	0x03: "command_not_supported",
	0x20: "all_connections_in_use",
	0x21: "node_already_connected",
	0x22: "protected_node_unspecified_ip",
	0x23: "client_node_out_of_range",
	0x24: "same_node_address",
	0x25: "no_node_address_available",
}

func tcpErrorName(code uint32) string {
	if n, ok := tcpErrors[code]; ok {
		return n
	}
	return "unknown"
}

// Mode codes of Run (0401) and Controller Status Read (0601).
var modeNames = [5]string{0: "program", 1: "debug", 2: "monitor", 4: "run"}

func modeName(m byte) string {
	if int(m) < len(modeNames) && modeNames[m] != "" {
		return modeNames[m]
	}
	return "0x" + hex2(m)
}

// decimal holds the decimal strings of 0..255, so that byte-sized values
// become attributes without allocating.
var decimal [256]string

func init() {
	for i := range decimal {
		decimal[i] = strconv.Itoa(i)
	}
}

const hexDigits = "0123456789abcdef"

func hex2(b byte) string { return string([]byte{hexDigits[b>>4], hexDigits[b&15]}) }

package hartip

import (
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

// command is what the HART specifications say about one command number.
type command struct {
	name  string
	class dissect.Class
}

// commands are the universal (HCF_SPEC-127), common practice
// (HCF_SPEC-151), HART-IP server (HCF_SPEC-085) and wireless
// (HCF_SPEC-155) commands.
var commands = map[uint16]command{
	0:   {"read_unique_identifier", dissect.ClassDiscovery},
	1:   {"read_primary_variable", dissect.ClassRead},
	2:   {"read_loop_current_and_percent_of_range", dissect.ClassRead},
	3:   {"read_dynamic_variables_and_loop_current", dissect.ClassRead},
	6:   {"write_polling_address", dissect.ClassWrite},
	7:   {"read_loop_configuration", dissect.ClassRead},
	8:   {"read_dynamic_variable_classifications", dissect.ClassRead},
	9:   {"read_device_variables_with_status", dissect.ClassRead},
	11:  {"read_unique_identifier_associated_with_tag", dissect.ClassDiscovery},
	12:  {"read_message", dissect.ClassRead},
	13:  {"read_tag_descriptor_date", dissect.ClassRead},
	14:  {"read_primary_variable_transducer_information", dissect.ClassRead},
	15:  {"read_device_information", dissect.ClassRead},
	16:  {"read_final_assembly_number", dissect.ClassRead},
	17:  {"write_message", dissect.ClassWrite},
	18:  {"write_tag_descriptor_date", dissect.ClassWrite},
	19:  {"write_final_assembly_number", dissect.ClassWrite},
	20:  {"read_long_tag", dissect.ClassRead},
	21:  {"read_unique_identifier_associated_with_long_tag", dissect.ClassDiscovery},
	22:  {"write_long_tag", dissect.ClassWrite},
	31:  {"extended_command", dissect.ClassOther},
	33:  {"read_device_variables", dissect.ClassRead},
	34:  {"write_primary_variable_damping_value", dissect.ClassWrite},
	35:  {"write_primary_variable_range_values", dissect.ClassWrite},
	36:  {"set_primary_variable_upper_range_value", dissect.ClassWrite},
	37:  {"set_primary_variable_lower_range_value", dissect.ClassWrite},
	38:  {"reset_configuration_changed_flag", dissect.ClassWrite},
	39:  {"eeprom_control", dissect.ClassWrite},
	40:  {"enter_exit_fixed_current_mode", dissect.ClassControl},
	41:  {"perform_self_test", dissect.ClassDiagnostics},
	42:  {"perform_device_reset", dissect.ClassRestart},
	43:  {"set_primary_variable_zero", dissect.ClassWrite},
	44:  {"write_primary_variable_units", dissect.ClassWrite},
	45:  {"trim_loop_current_zero", dissect.ClassWrite},
	46:  {"trim_loop_current_gain", dissect.ClassWrite},
	47:  {"write_primary_variable_transfer_function", dissect.ClassWrite},
	48:  {"read_additional_device_status", dissect.ClassDiagnostics},
	49:  {"write_primary_variable_transducer_serial_number", dissect.ClassWrite},
	50:  {"read_dynamic_variable_assignments", dissect.ClassRead},
	51:  {"write_dynamic_variable_assignments", dissect.ClassWrite},
	52:  {"set_device_variable_zero", dissect.ClassWrite},
	53:  {"write_device_variable_units", dissect.ClassWrite},
	54:  {"read_device_variable_information", dissect.ClassRead},
	55:  {"write_device_variable_damping_value", dissect.ClassWrite},
	56:  {"write_device_variable_transducer_serial_number", dissect.ClassWrite},
	57:  {"read_unit_tag_descriptor_date", dissect.ClassRead},
	58:  {"write_unit_tag_descriptor_date", dissect.ClassWrite},
	59:  {"write_number_of_response_preambles", dissect.ClassWrite},
	60:  {"read_analog_channel_and_percent_of_range", dissect.ClassRead},
	61:  {"read_dynamic_variables_and_primary_variable_analog_channel", dissect.ClassRead},
	62:  {"read_analog_channels", dissect.ClassRead},
	63:  {"read_analog_channel_information", dissect.ClassRead},
	64:  {"write_analog_channel_additional_damping_value", dissect.ClassWrite},
	65:  {"write_analog_channel_range_values", dissect.ClassWrite},
	66:  {"enter_exit_fixed_analog_channel_mode", dissect.ClassControl},
	67:  {"trim_analog_channel_zero", dissect.ClassWrite},
	68:  {"trim_analog_channel_gain", dissect.ClassWrite},
	69:  {"write_analog_channel_transfer_function", dissect.ClassWrite},
	70:  {"read_analog_channel_endpoint_values", dissect.ClassRead},
	71:  {"lock_device", dissect.ClassControl},
	72:  {"squawk", dissect.ClassDiagnostics},
	73:  {"find_device", dissect.ClassDiscovery},
	74:  {"read_io_system_capabilities", dissect.ClassRead},
	75:  {"poll_sub_device", dissect.ClassDiscovery},
	76:  {"read_lock_device_state", dissect.ClassRead},
	77:  {"send_command_to_sub_device", dissect.ClassOther},
	78:  {"read_aggregated_commands", dissect.ClassRead},
	79:  {"write_device_variable", dissect.ClassWrite},
	80:  {"read_device_variable_trim_points", dissect.ClassRead},
	81:  {"read_device_variable_trim_guidelines", dissect.ClassRead},
	82:  {"write_device_variable_trim_point", dissect.ClassWrite},
	83:  {"reset_device_variable_trim", dissect.ClassWrite},
	84:  {"read_sub_device_identity_summary", dissect.ClassDiscovery},
	85:  {"read_io_channel_statistics", dissect.ClassDiagnostics},
	86:  {"read_sub_device_statistics", dissect.ClassDiagnostics},
	87:  {"write_io_system_master_mode", dissect.ClassWrite},
	88:  {"write_io_system_retry_count", dissect.ClassWrite},
	89:  {"set_real_time_clock", dissect.ClassTime},
	90:  {"read_real_time_clock", dissect.ClassRead},
	91:  {"read_trend_configuration", dissect.ClassRead},
	92:  {"write_trend_configuration", dissect.ClassWrite},
	93:  {"read_trend", dissect.ClassRead},
	94:  {"read_io_system_client_side_communication_statistics", dissect.ClassDiagnostics},
	95:  {"read_device_communications_statistics", dissect.ClassDiagnostics},
	96:  {"read_synchronous_action", dissect.ClassRead},
	97:  {"configure_synchronous_action", dissect.ClassWrite},
	98:  {"read_command_action", dissect.ClassRead},
	99:  {"configure_command_action", dissect.ClassWrite},
	100: {"write_primary_variable_alarm_code", dissect.ClassWrite},
	101: {"read_sub_device_to_burst_message_map", dissect.ClassRead},
	102: {"map_sub_device_to_burst_message", dissect.ClassWrite},
	103: {"write_burst_period", dissect.ClassWrite},
	104: {"write_burst_trigger", dissect.ClassWrite},
	105: {"read_burst_mode_configuration", dissect.ClassRead},
	106: {"flush_delayed_responses", dissect.ClassOther},
	107: {"write_burst_device_variables", dissect.ClassWrite},
	108: {"write_burst_mode_command_number", dissect.ClassWrite},
	109: {"burst_mode_control", dissect.ClassControl},
	110: {"read_all_dynamic_variables", dissect.ClassRead},
	111: {"transfer_service_control", dissect.ClassFile},
	112: {"transfer_service", dissect.ClassFile},
	113: {"catch_device_variable", dissect.ClassWrite},
	114: {"read_caught_device_variable", dissect.ClassRead},
	115: {"read_event_notification_summary", dissect.ClassRead},
	116: {"write_event_notification_bit_mask", dissect.ClassWrite},
	117: {"write_event_notification_timing", dissect.ClassWrite},
	118: {"event_notification_control", dissect.ClassControl},
	119: {"acknowledge_event_notification", dissect.ClassOther},
	512: {"read_country_code", dissect.ClassRead},
	513: {"write_country_code", dissect.ClassWrite},
	520: {"read_process_unit_tag", dissect.ClassRead},
	521: {"write_process_unit_tag", dissect.ClassWrite},
	532: {"read_client_subscription_summary", dissect.ClassRead},
	533: {"write_client_subscription_flags", dissect.ClassWrite},
	538: {"read_hart_ip_server_ports", dissect.ClassRead},
	539: {"write_hart_ip_udp_port", dissect.ClassWrite},
	540: {"write_hart_ip_tcp_port", dissect.ClassWrite},
	541: {"write_client_pake_password", dissect.ClassAuthentication},
	542: {"write_client_pre_shared_key", dissect.ClassAuthentication},
	543: {"read_syslog_server_hostname_and_port", dissect.ClassRead},
	544: {"write_syslog_port", dissect.ClassWrite},
	545: {"write_syslog_server_hostname", dissect.ClassWrite},
	546: {"write_syslog_server_pre_shared_key", dissect.ClassAuthentication},
	547: {"write_syslog_server_pake_password", dissect.ClassAuthentication},
	768: {"write_join_key", dissect.ClassAuthentication},
	769: {"read_join_status", dissect.ClassRead},
	770: {"request_active_advertising", dissect.ClassOther},
	771: {"force_join_mode", dissect.ClassControl},
	772: {"read_join_mode_configuration", dissect.ClassRead},
	773: {"write_network_id", dissect.ClassWrite},
	774: {"read_network_id", dissect.ClassRead},
	775: {"write_network_tag", dissect.ClassWrite},
	776: {"read_network_tag", dissect.ClassRead},
}

// lookup returns the command of number n: 128..253 are device-specific.
func lookup(n uint16) command {
	if c, ok := commands[n]; ok {
		return c
	}
	if n >= 128 && n <= 253 {
		return command{"device_specific", dissect.ClassOther}
	}
	return command{"unknown", dissect.ClassOther}
}

// CommandName returns the identifier of a HART command number
// ("read_unique_identifier"), "device_specific" or "unknown".
func CommandName(n uint16) string { return lookup(n).name }

// messages names the HART-IP message IDs.
var messages = map[byte]command{
	idSessionInitiate: {"session_initiate", dissect.ClassOther},
	idSessionClose:    {"session_close", dissect.ClassOther},
	idKeepAlive:       {"keep_alive", dissect.ClassOther},
	idPassThrough:     {"pass_through", dissect.ClassOther},
	idDirectPDU:       {"direct_pdu", dissect.ClassOther},
	idReadAuditLog:    {"read_audit_log", dissect.ClassDiagnostics},
	idDiscovery:       {"discovery", dissect.ClassDiscovery},
}

func message(id byte) command {
	if m, ok := messages[id]; ok {
		return m
	}
	return command{"unknown", dissect.ClassOther}
}

var typeNames = [16]string{
	typeRequest:  "request",
	typeResponse: "response",
	typePublish:  "publish",
	typeError:    "error",
	typeNAK:      "nak",
}

// frameTypes names the frame types of a HART delimiter (bits 0-2).
var frameTypes = [8]string{1: "back", 2: "stx", 6: "ack"}

// responseCodes are the single-definition command response codes (HCF_SPEC-307)
// and the common multi-definition ones.
var responseCodes [128]string

func init() {
	for i := range responseCodes {
		responseCodes[i] = "response_code_" + strconv.Itoa(i)
	}
	for c, n := range map[int]string{
		0: "success", 1: "undefined", 2: "invalid_selection", 3: "passed_parameter_too_large",
		4: "passed_parameter_too_small", 5: "too_few_data_bytes", 6: "device_specific_command_error",
		7: "in_write_protect_mode", 8: "set_to_nearest_possible_value", 16: "access_restricted",
		32: "busy", 33: "delayed_response_initiated", 34: "delayed_response_running",
		35: "delayed_response_dead", 36: "delayed_response_conflict", 64: "command_not_implemented",
	} {
		responseCodes[c] = n
	}
}

// warning reports whether a response code is a warning: the command was
// carried out (HCF_SPEC-307: 8, 14, 24-27, 30, 31 and 96-111).
func warning(rc byte) bool {
	switch {
	case rc == 8, rc == 14, rc >= 24 && rc <= 27, rc == 30, rc == 31, rc >= 96 && rc <= 111:
		return true
	}
	return false
}

// sessionStatus names the status of a Session Initiate response
// (HCF_SPEC-085).
func sessionStatus(s byte) string {
	switch s {
	case 2:
		return "invalid_host_type"
	case 5:
		return "too_few_data_bytes"
	case 8:
		return "set_to_nearest_possible_value"
	case 14:
		return "version_not_supported"
	case 15:
		return "all_sessions_in_use"
	case 16:
		return "session_already_established"
	}
	return responseCodes[s&0x7f]
}

// errorCodes name the body of an error message.
var errorCodes = [3]string{"session_closed", "primary_session_unavailable", "service_unavailable"}

// decimal holds the decimal strings of 0..255.
var decimal [256]string

func init() {
	for i := range decimal {
		decimal[i] = strconv.Itoa(i)
	}
}

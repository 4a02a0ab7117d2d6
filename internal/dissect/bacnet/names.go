package bacnet

import "github.com/otwatch/otwatch/internal/dissect"

// BVLC functions (Annex J.2).
const (
	bvlcResult                 = 0x00
	bvlcWriteBDT               = 0x01
	bvlcReadBDT                = 0x02
	bvlcReadBDTAck             = 0x03
	bvlcForwardedNPDU          = 0x04
	bvlcRegisterFD             = 0x05
	bvlcReadFDT                = 0x06
	bvlcReadFDTAck             = 0x07
	bvlcDeleteFDTEntry         = 0x08
	bvlcDistributeBcast        = 0x09
	bvlcOriginalUnicast        = 0x0a
	bvlcOriginalBroadcast      = 0x0b
	bvlcSecureBVLL             = 0x0c
	bvlcMaxFunction            = bvlcSecureBVLL
	bvlcTypeBACnetIP      byte = 0x81
)

var bvlcNames = [...]string{
	bvlcResult:            "bvlc_result",
	bvlcWriteBDT:          "write_broadcast_distribution_table",
	bvlcReadBDT:           "read_broadcast_distribution_table",
	bvlcReadBDTAck:        "read_broadcast_distribution_table_ack",
	bvlcForwardedNPDU:     "forwarded_npdu",
	bvlcRegisterFD:        "register_foreign_device",
	bvlcReadFDT:           "read_foreign_device_table",
	bvlcReadFDTAck:        "read_foreign_device_table_ack",
	bvlcDeleteFDTEntry:    "delete_foreign_device_table_entry",
	bvlcDistributeBcast:   "distribute_broadcast_to_network",
	bvlcOriginalUnicast:   "original_unicast_npdu",
	bvlcOriginalBroadcast: "original_broadcast_npdu",
	bvlcSecureBVLL:        "secure_bvll",
}

func bvlcName(f byte) string {
	if int(f) < len(bvlcNames) {
		return bvlcNames[f]
	}
	return "unknown"
}

// bvlcClass is the class of a BVLL management request.
func bvlcClass(f byte) dissect.Class {
	switch f {
	case bvlcReadBDT, bvlcReadFDT:
		return dissect.ClassRead
	case bvlcWriteBDT, bvlcDeleteFDTEntry:
		return dissect.ClassWrite
	case bvlcRegisterFD:
		return dissect.ClassControl
	}
	return dissect.ClassOther
}

// bvlcResultName names a BVLC-Result code (Annex J.2.1.1).
func bvlcResultName(code uint16) string {
	switch code {
	case 0x0000:
		return "successful_completion"
	case 0x0010:
		return "write_broadcast_distribution_table_nak"
	case 0x0020:
		return "read_broadcast_distribution_table_nak"
	case 0x0030:
		return "register_foreign_device_nak"
	case 0x0040:
		return "read_foreign_device_table_nak"
	case 0x0050:
		return "delete_foreign_device_table_entry_nak"
	case 0x0060:
		return "distribute_broadcast_to_network_nak"
	}
	return "unknown"
}

// Network layer message types (clause 6.2.4).
var networkMessageNames = [...]string{
	0x00: "who_is_router_to_network",
	0x01: "i_am_router_to_network",
	0x02: "i_could_be_router_to_network",
	0x03: "reject_message_to_network",
	0x04: "router_busy_to_network",
	0x05: "router_available_to_network",
	0x06: "initialize_routing_table",
	0x07: "initialize_routing_table_ack",
	0x08: "establish_connection_to_network",
	0x09: "disconnect_connection_to_network",
	0x0a: "challenge_request",
	0x0b: "security_payload",
	0x0c: "security_response",
	0x0d: "request_key_update",
	0x0e: "update_key_set",
	0x0f: "update_distribution_key",
	0x10: "request_master_key",
	0x11: "set_master_key",
	0x12: "what_is_network_number",
	0x13: "network_number_is",
}

func networkMessageName(t byte) string {
	if int(t) < len(networkMessageNames) {
		return networkMessageNames[t]
	}
	if t >= 0x80 {
		return "proprietary_network_message"
	}
	return "unknown"
}

func networkMessageClass(t byte) dissect.Class {
	switch t {
	case 0x00, 0x01, 0x02, 0x12, 0x13:
		return dissect.ClassDiscovery
	case 0x06, 0x07, 0x08, 0x09:
		return dissect.ClassControl
	case 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11:
		return dissect.ClassAuthentication
	}
	return dissect.ClassOther
}

// APDU types (clause 20.1.1).
const (
	apduConfirmed   = 0
	apduUnconfirmed = 1
	apduSimpleAck   = 2
	apduComplexAck  = 3
	apduSegmentAck  = 4
	apduError       = 5
	apduReject      = 6
	apduAbort       = 7
)

var apduNames = [...]string{
	apduConfirmed:   "confirmed_request",
	apduUnconfirmed: "unconfirmed_request",
	apduSimpleAck:   "simple_ack",
	apduComplexAck:  "complex_ack",
	apduSegmentAck:  "segment_ack",
	apduError:       "error",
	apduReject:      "reject",
	apduAbort:       "abort",
}

func apduName(t byte) string {
	if int(t) < len(apduNames) {
		return apduNames[t]
	}
	return "unknown"
}

// service describes one confirmed or unconfirmed service.
type service struct {
	name  string
	class dissect.Class
}

// Confirmed services (clause 21, BACnetConfirmedServiceChoice).
const (
	svcSubscribeCOV      = 5
	svcAtomicReadFile    = 6
	svcAtomicWriteFile   = 7
	svcReadProperty      = 12
	svcReadPropertyMulti = 14
	svcWriteProperty     = 15
	svcWritePropertyMult = 16
	svcDeviceCommControl = 17
	svcReinitialize      = 20
	svcReadRange         = 26
)

var confirmedServices = [...]service{
	0:  {"acknowledge_alarm", dissect.ClassControl},
	1:  {"confirmed_cov_notification", dissect.ClassOther},
	2:  {"confirmed_event_notification", dissect.ClassOther},
	3:  {"get_alarm_summary", dissect.ClassRead},
	4:  {"get_enrollment_summary", dissect.ClassRead},
	5:  {"subscribe_cov", dissect.ClassRead},
	6:  {"atomic_read_file", dissect.ClassFile},
	7:  {"atomic_write_file", dissect.ClassFile},
	8:  {"add_list_element", dissect.ClassWrite},
	9:  {"remove_list_element", dissect.ClassWrite},
	10: {"create_object", dissect.ClassWrite},
	11: {"delete_object", dissect.ClassWrite},
	12: {"read_property", dissect.ClassRead},
	13: {"read_property_conditional", dissect.ClassRead},
	14: {"read_property_multiple", dissect.ClassRead},
	15: {"write_property", dissect.ClassWrite},
	16: {"write_property_multiple", dissect.ClassWrite},
	17: {"device_communication_control", dissect.ClassControl},
	18: {"confirmed_private_transfer", dissect.ClassOther},
	19: {"confirmed_text_message", dissect.ClassOther},
	20: {"reinitialize_device", dissect.ClassRestart},
	21: {"vt_open", dissect.ClassOther},
	22: {"vt_close", dissect.ClassOther},
	23: {"vt_data", dissect.ClassOther},
	24: {"authenticate", dissect.ClassAuthentication},
	25: {"request_key", dissect.ClassAuthentication},
	26: {"read_range", dissect.ClassRead},
	27: {"life_safety_operation", dissect.ClassControl},
	28: {"subscribe_cov_property", dissect.ClassRead},
	29: {"get_event_information", dissect.ClassRead},
	30: {"subscribe_cov_property_multiple", dissect.ClassRead},
	31: {"confirmed_cov_notification_multiple", dissect.ClassOther},
	32: {"confirmed_audit_notification", dissect.ClassOther},
	33: {"audit_log_query", dissect.ClassRead},
}

func confirmedService(c byte) service {
	if int(c) < len(confirmedServices) {
		return confirmedServices[c]
	}
	return service{"unknown_confirmed_service", dissect.ClassOther}
}

// Unconfirmed services (clause 21, BACnetUnconfirmedServiceChoice).
const (
	svcIAm     = 0
	svcIHave   = 1
	svcTimeSyn = 6
	svcWhoHas  = 7
	svcWhoIs   = 8
	svcUTCSync = 9
)

var unconfirmedServices = [...]service{
	0:  {"i_am", dissect.ClassDiscovery},
	1:  {"i_have", dissect.ClassDiscovery},
	2:  {"unconfirmed_cov_notification", dissect.ClassOther},
	3:  {"unconfirmed_event_notification", dissect.ClassOther},
	4:  {"unconfirmed_private_transfer", dissect.ClassOther},
	5:  {"unconfirmed_text_message", dissect.ClassOther},
	6:  {"time_synchronization", dissect.ClassTime},
	7:  {"who_has", dissect.ClassDiscovery},
	8:  {"who_is", dissect.ClassDiscovery},
	9:  {"utc_time_synchronization", dissect.ClassTime},
	10: {"write_group", dissect.ClassWrite},
	11: {"unconfirmed_cov_notification_multiple", dissect.ClassOther},
	12: {"unconfirmed_audit_notification", dissect.ClassOther},
	13: {"who_am_i", dissect.ClassDiscovery},
	14: {"you_are", dissect.ClassControl},
}

func unconfirmedService(c byte) service {
	if int(c) < len(unconfirmedServices) {
		return unconfirmedServices[c]
	}
	return service{"unknown_unconfirmed_service", dissect.ClassOther}
}

// Object types (clause 21, BACnetObjectType).
const objectTypeDevice = 8

var objectTypeNames = [...]string{
	"analog_input", "analog_output", "analog_value", "binary_input", "binary_output",
	"binary_value", "calendar", "command", "device", "event_enrollment",
	"file", "group", "loop", "multi_state_input", "multi_state_output",
	"notification_class", "program", "schedule", "averaging", "multi_state_value",
	"trend_log", "life_safety_point", "life_safety_zone", "accumulator", "pulse_converter",
	"event_log", "global_group", "trend_log_multiple", "load_control", "structured_view",
	"access_door", "timer", "access_credential", "access_point", "access_rights",
	"access_user", "access_zone", "credential_data_input", "network_security", "bitstring_value",
	"characterstring_value", "date_pattern_value", "date_value", "datetime_pattern_value", "datetime_value",
	"integer_value", "large_analog_value", "octetstring_value", "positive_integer_value", "time_pattern_value",
	"time_value", "notification_forwarder", "alert_enrollment", "channel", "lighting_output",
	"binary_lighting_output", "network_port", "elevator_group", "escalator", "lift",
	"staging", "audit_log", "audit_reporter",
}

func objectTypeName(t uint16) string {
	if int(t) < len(objectTypeNames) {
		return objectTypeNames[t]
	}
	if t >= 128 {
		return "proprietary_object"
	}
	return "unknown_object"
}

// Property identifiers (clause 21, BACnetPropertyIdentifier): the common
// ones, by value.
const (
	propAppSoftwareVersion = 12
	propFirmwareRevision   = 44
	propModelName          = 70
	propObjectName         = 77
	propVendorIdentifier   = 120
	propVendorName         = 121
)

var propertyNames = map[uint32]string{
	0: "acked_transitions", 1: "ack_required", 2: "action", 3: "action_text", 4: "active_text",
	5: "active_vt_sessions", 6: "alarm_value", 7: "alarm_values", 8: "all", 9: "all_writes_successful",
	10: "apdu_segment_timeout", 11: "apdu_timeout", 12: "application_software_version", 13: "archive",
	14: "bias", 15: "change_of_state_count", 16: "change_of_state_time", 17: "notification_class",
	19: "controlled_variable_reference", 20: "controlled_variable_units", 21: "controlled_variable_value",
	22: "cov_increment", 23: "date_list", 24: "daylight_savings_status", 25: "deadband",
	26: "derivative_constant", 27: "derivative_constant_units", 28: "description", 29: "description_of_halt",
	30: "device_address_binding", 31: "device_type", 32: "effective_period", 33: "elapsed_active_time",
	34: "error_limit", 35: "event_enable", 36: "event_state", 37: "event_type", 38: "exception_schedule",
	39: "fault_values", 40: "feedback_value", 41: "file_access_method", 42: "file_size", 43: "file_type",
	44: "firmware_revision", 45: "high_limit", 46: "inactive_text", 47: "in_process", 48: "instance_of",
	49: "integral_constant", 50: "integral_constant_units", 52: "limit_enable", 53: "list_of_group_members",
	54: "list_of_object_property_references", 56: "local_date", 57: "local_time", 58: "location",
	59: "low_limit", 60: "manipulated_variable_reference", 61: "maximum_output",
	62: "max_apdu_length_accepted", 63: "max_info_frames", 64: "max_master", 65: "max_pres_value",
	66: "minimum_off_time", 67: "minimum_on_time", 68: "minimum_output", 69: "min_pres_value",
	70: "model_name", 71: "modification_date", 72: "notify_type", 73: "number_of_apdu_retries",
	74: "number_of_states", 75: "object_identifier", 76: "object_list", 77: "object_name",
	78: "object_property_reference", 79: "object_type", 80: "optional", 81: "out_of_service",
	82: "output_units", 83: "event_parameters", 84: "polarity", 85: "present_value", 86: "priority",
	87: "priority_array", 88: "priority_for_writing", 89: "process_identifier", 90: "program_change",
	91: "program_location", 92: "program_state", 93: "proportional_constant",
	94: "proportional_constant_units", 95: "protocol_conformance_class", 96: "protocol_object_types_supported",
	97: "protocol_services_supported", 98: "protocol_version", 99: "read_only", 100: "reason_for_halt",
	102: "recipient_list", 103: "reliability", 104: "relinquish_default", 105: "required",
	106: "resolution", 107: "segmentation_supported", 108: "setpoint", 109: "setpoint_reference",
	110: "state_text", 111: "status_flags", 112: "system_status", 113: "time_delay",
	114: "time_of_active_time_reset", 115: "time_of_state_count_reset",
	116: "time_synchronization_recipients", 117: "units", 118: "update_interval", 119: "utc_offset",
	120: "vendor_identifier", 121: "vendor_name", 122: "vt_classes_supported", 123: "weekly_schedule",
	124: "attempted_samples", 125: "average_value", 126: "buffer_size", 127: "client_cov_increment",
	128: "cov_resubscription_interval", 130: "event_time_stamps", 131: "log_buffer",
	132: "log_device_object_property", 133: "enable", 134: "log_interval", 135: "maximum_value",
	136: "minimum_value", 137: "notification_threshold", 139: "protocol_revision",
	140: "records_since_notification", 141: "record_count", 142: "start_time", 143: "stop_time",
	144: "stop_when_full", 145: "total_record_count", 146: "valid_samples", 147: "window_interval",
	148: "window_samples", 152: "active_cov_subscriptions", 155: "database_revision",
	167: "max_segments_accepted", 168: "profile_name", 371: "property_list",
}

func propertyName(p uint32) string {
	if n, ok := propertyNames[p]; ok {
		return n
	}
	if p >= 512 {
		return "proprietary_property"
	}
	return "unknown_property"
}

// Error classes (clause 18, BACnetErrorClass).
var errorClassNames = [...]string{
	"device", "object", "property", "resources", "security", "services", "vt", "communication",
}

func errorClassName(c uint32) string {
	if c < uint32(len(errorClassNames)) {
		return errorClassNames[c]
	}
	return "unknown"
}

// Error codes (clause 18, BACnetErrorCode): codes 0 to 50.
var errorCodeNames = [...]string{
	"other", "authentication_failed", "configuration_in_progress", "device_busy",
	"dynamic_creation_not_supported", "file_access_denied", "incompatible_security_levels",
	"inconsistent_parameters", "inconsistent_selection_criterion", "invalid_data_type",
	"invalid_file_access_method", "invalid_file_start_position", "invalid_operator_name",
	"invalid_parameter_data_type", "invalid_time_stamp", "key_generation_error",
	"missing_required_parameter", "no_objects_of_specified_type", "no_space_for_object",
	"no_space_to_add_list_element", "no_space_to_write_property", "no_vt_sessions_available",
	"property_is_not_a_list", "object_deletion_not_permitted", "object_identifier_already_exists",
	"operational_problem", "password_failure", "read_access_denied", "security_not_supported",
	"service_request_denied", "timeout", "unknown_object", "unknown_property", "reserved",
	"unknown_vt_class", "unknown_vt_session", "unsupported_object_type", "value_out_of_range",
	"vt_session_already_closed", "vt_session_termination_failure", "write_access_denied",
	"character_set_not_supported", "invalid_array_index", "cov_subscription_failed",
	"not_cov_property", "optional_functionality_not_supported", "invalid_configuration_data",
	"datatype_not_supported", "duplicate_name", "duplicate_object_id", "property_is_not_an_array",
}

func errorCodeName(c uint32) string {
	if c < uint32(len(errorCodeNames)) {
		return errorCodeNames[c]
	}
	return "unknown"
}

// Reject reasons (clause 18.8, BACnetRejectReason).
var rejectReasonNames = [...]string{
	"other", "buffer_overflow", "inconsistent_parameters", "invalid_parameter_data_type",
	"invalid_tag", "missing_required_parameter", "parameter_out_of_range", "too_many_arguments",
	"undefined_enumeration", "unrecognized_service",
}

func rejectReasonName(r byte) string {
	if int(r) < len(rejectReasonNames) {
		return rejectReasonNames[r]
	}
	return "proprietary"
}

// Abort reasons (clause 18.9, BACnetAbortReason).
var abortReasonNames = [...]string{
	"other", "buffer_overflow", "invalid_apdu_in_this_state", "preempted_by_higher_priority_task",
	"segmentation_not_supported", "security_error", "insufficient_security", "window_size_out_of_range",
	"application_exceeded_reply_time", "out_of_resources", "tsm_timeout", "apdu_too_long",
}

func abortReasonName(r byte) string {
	if int(r) < len(abortReasonNames) {
		return abortReasonNames[r]
	}
	return "proprietary"
}

// Segmentation (clause 21, BACnetSegmentation).
var segmentationNames = [...]string{"segmented_both", "segmented_transmit", "segmented_receive", "no_segmentation"}

func segmentationName(v uint32) string {
	if v < uint32(len(segmentationNames)) {
		return segmentationNames[v]
	}
	return "unknown"
}

// ReinitializeDevice states (clause 16.4.1.1.1).
var reinitStateNames = [...]string{
	"coldstart", "warmstart", "start_backup", "end_backup", "start_restore", "end_restore",
	"abort_restore", "activate_changes",
}

func reinitStateName(v uint32) string {
	if v < uint32(len(reinitStateNames)) {
		return reinitStateNames[v]
	}
	return "unknown"
}

// DeviceCommunicationControl enable-disable (clause 16.1.1.1.2).
var enableDisableNames = [...]string{"enable", "disable", "disable_initiation"}

func enableDisableName(v uint32) string {
	if v < uint32(len(enableDisableNames)) {
		return enableDisableNames[v]
	}
	return "unknown"
}

// vendorName returns the registered name of a BACnet vendor identifier.
func vendorName(id uint32) string {
	if id <= 0xffff {
		if n, ok := vendorNames[uint16(id)]; ok {
			return n
		}
	}
	return ""
}

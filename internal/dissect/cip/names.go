package cip

// Common services (Volume 1, appendix A, table ). Codes 0x4B..0x63
// are object-specific: their meaning depends on the class addressed.
const (
	SvcGetAttributesAll      = 0x01
	SvcSetAttributesAll      = 0x02
	SvcGetAttributeList      = 0x03
	SvcSetAttributeList      = 0x04
	SvcReset                 = 0x05
	SvcStart                 = 0x06
	SvcStop                  = 0x07
	SvcCreate                = 0x08
	SvcDelete                = 0x09
	SvcMultipleServicePacket = 0x0A
	SvcApplyAttributes       = 0x0D
	SvcGetAttributeSingle    = 0x0E
	SvcSetAttributeSingle    = 0x10
	SvcFindNextObjectInst    = 0x11
	SvcRestore               = 0x15
	SvcSave                  = 0x16
	SvcNop                   = 0x17
	SvcGetMember             = 0x18
	SvcSetMember             = 0x19
	SvcInsertMember          = 0x1A
	SvcRemoveMember          = 0x1B
	SvcGroupSync             = 0x1C

	// Connection Manager object (class 0x06), Volume 1 section 3-5.5.
	SvcForwardClose         = 0x4E
	SvcUnconnectedSend      = 0x52
	SvcForwardOpen          = 0x54
	SvcGetConnectionData    = 0x56
	SvcSearchConnectionData = 0x57
	SvcGetConnectionOwner   = 0x5A
	SvcLargeForwardOpen     = 0x5B
	SvcExecutePCCC          = 0x4B // PCCC object (class 0x67)
	SvcReadTag              = 0x4C // Rockwell Logix symbolic services
	SvcWriteTag             = 0x4D
	SvcReadModifyWriteTag   = 0x4E
	SvcReadTagFragmented    = 0x52
	SvcWriteTagFragmented   = 0x53
	SvcGetInstanceAttrList  = 0x55
	ReplyBit                = 0x80
	SvcUnconnectedSendReply = SvcUnconnectedSend | ReplyBit
	serviceMask             = 0x7F
)

// Class ids of objects the dissectors name (Volume 1 chapter 5, Volume 2
// chapter 5; 0x67, 0x6B, 0x6C, 0x8B, 0xA1 are Rockwell vendor-specific).
const (
	ClassIdentity          = 0x01
	ClassMessageRouter     = 0x02
	ClassAssembly          = 0x04
	ClassConnection        = 0x05
	ClassConnectionManager = 0x06
	ClassParameter         = 0x0F
	ClassFile              = 0x37
	ClassTimeSync          = 0x43
	ClassPCCC              = 0x67
	ClassSymbol            = 0x6B
	ClassTemplate          = 0x6C
	ClassWallClockTime     = 0x8B
	ClassNonVolatileStore  = 0xA1
	ClassPort              = 0xF4
	ClassTCPIPInterface    = 0xF5
	ClassEthernetLink      = 0xF6
)

var commonServices = [...]string{
	SvcGetAttributesAll:      "get_attributes_all",
	SvcSetAttributesAll:      "set_attributes_all",
	SvcGetAttributeList:      "get_attribute_list",
	SvcSetAttributeList:      "set_attribute_list",
	SvcReset:                 "reset",
	SvcStart:                 "start",
	SvcStop:                  "stop",
	SvcCreate:                "create",
	SvcDelete:                "delete",
	SvcMultipleServicePacket: "multiple_service_packet",
	SvcApplyAttributes:       "apply_attributes",
	SvcGetAttributeSingle:    "get_attribute_single",
	SvcSetAttributeSingle:    "set_attribute_single",
	SvcFindNextObjectInst:    "find_next_object_instance",
	0x14:                     "error_response",
	SvcRestore:               "restore",
	SvcSave:                  "save",
	SvcNop:                   "no_operation",
	SvcGetMember:             "get_member",
	SvcSetMember:             "set_member",
	SvcInsertMember:          "insert_member",
	SvcRemoveMember:          "remove_member",
	SvcGroupSync:             "group_sync",
	0x1D:                     "get_connection_point_member_list",
}

// genericNames holds "service_0xNN" for every 7-bit service code, so a
// service without a name still gets a constant string.
var genericNames [128]string

func init() {
	const hexdigits = "0123456789abcdef"
	for i := range genericNames {
		genericNames[i] = "service_0x" + string([]byte{hexdigits[i>>4], hexdigits[i&15]})
	}
}

// ServiceName returns the snake_case name of service sc (the reply bit is
// ignored) addressed to class (0 when the path names no class); symbolic
// says the request path addresses a tag by name. Object-specific codes are
// named only for the objects that define them; otherwise the name is
// "service_0xNN".
func ServiceName(class uint32, sc byte, symbolic bool) string {
	sc &= serviceMask
	if int(sc) < len(commonServices) && commonServices[sc] != "" {
		return commonServices[sc]
	}
	switch class {
	case ClassConnectionManager:
		switch sc {
		case SvcForwardClose:
			return "forward_close"
		case SvcUnconnectedSend:
			return "unconnected_send"
		case SvcForwardOpen:
			return "forward_open"
		case SvcGetConnectionData:
			return "get_connection_data"
		case SvcSearchConnectionData:
			return "search_connection_data"
		case SvcGetConnectionOwner:
			return "get_connection_owner"
		case SvcLargeForwardOpen:
			return "large_forward_open"
		}
	case ClassPCCC:
		switch sc {
		case SvcExecutePCCC:
			return "execute_pccc"
		case 0x4C:
			return "execute_dh_plus"
		case 0x4D:
			return "execute_local_pccc"
		}
	case ClassFile: // Volume 1 section 5-42.4
		switch sc {
		case 0x4B:
			return "initiate_upload"
		case 0x4C:
			return "initiate_download"
		case 0x4D:
			return "initiate_partial_read"
		case 0x4E:
			return "initiate_partial_write"
		case 0x4F:
			return "upload_transfer"
		case 0x50:
			return "download_transfer"
		case 0x51:
			return "clear_file"
		}
	default:
		if symbolic || class == ClassSymbol || class == ClassTemplate {
			switch sc {
			case SvcReadTag:
				return "read_tag"
			case SvcWriteTag:
				return "write_tag"
			case SvcReadModifyWriteTag:
				return "read_modify_write_tag"
			case SvcReadTagFragmented:
				return "read_tag_fragmented"
			case SvcWriteTagFragmented:
				return "write_tag_fragmented"
			case SvcGetInstanceAttrList:
				return "get_instance_attribute_list"
			}
		}
	}
	return genericNames[sc]
}

var classNames = map[uint32]string{
	0x01: "identity", 0x02: "message_router", 0x03: "devicenet", 0x04: "assembly",
	0x05: "connection", 0x06: "connection_manager", 0x07: "register",
	0x08: "discrete_input_point", 0x09: "discrete_output_point",
	0x0A: "analog_input_point", 0x0B: "analog_output_point", 0x0E: "presence_sensing",
	0x0F: "parameter", 0x10: "parameter_group", 0x12: "group",
	0x1D: "discrete_input_group", 0x1E: "discrete_output_group", 0x1F: "discrete_group",
	0x20: "analog_input_group", 0x21: "analog_output_group", 0x22: "analog_group",
	0x23: "position_sensor", 0x24: "position_controller_supervisor",
	0x25: "position_controller", 0x26: "block_sequencer", 0x27: "command_block",
	0x28: "motor_data", 0x29: "control_supervisor", 0x2A: "ac_dc_drive",
	0x2B: "acknowledge_handler", 0x2C: "overload", 0x2D: "softstart", 0x2E: "selection",
	0x30: "s_device_supervisor", 0x31: "s_analog_sensor", 0x32: "s_analog_actuator",
	0x33: "s_single_stage_controller", 0x34: "s_gas_calibration", 0x35: "trip_point",
	0x37: "file", 0x38: "s_partial_pressure", 0x39: "safety_supervisor",
	0x3A: "safety_validator", 0x3B: "safety_discrete_output_point",
	0x3C: "safety_discrete_output_group", 0x3D: "safety_discrete_input_point",
	0x3E: "safety_discrete_input_group", 0x3F: "safety_dual_channel_output",
	0x40: "s_sensor_calibration", 0x41: "event_log", 0x42: "motion_device_axis",
	0x43: "time_sync", 0x44: "modbus", 0x45: "originator_connection_list",
	0x46: "modbus_serial_link", 0x47: "device_level_ring", 0x48: "qos",
	0x49: "safety_analog_input_point", 0x4A: "safety_analog_input_group",
	0x4B: "safety_dual_channel_analog_input", 0x4C: "sercos_iii_link",
	0x4D: "target_connection_list", 0x4E: "base_energy", 0x4F: "electrical_energy",
	0x50: "non_electrical_energy", 0x51: "base_switch", 0x52: "snmp",
	0x53: "power_management", 0x54: "rstp_bridge", 0x55: "rstp_port",
	0x56: "prp_hsr_protocol", 0x57: "prp_hsr_nodes_table", 0x58: "safety_feedback",
	0x59: "safety_dual_channel_feedback", 0x5A: "safety_stop_functions",
	0x5B: "safety_limit_functions", 0x5C: "power_curtailment", 0x5D: "cip_security",
	0x5E: "ethernetip_security", 0x5F: "certificate_management",
	0x67: "pccc", 0x6B: "symbol", 0x6C: "template", 0x8B: "wall_clock_time",
	0xA1: "non_volatile_storage",
	0xF0: "controlnet", 0xF1: "controlnet_keeper", 0xF2: "controlnet_scheduling",
	0xF3: "connection_configuration", 0xF4: "port", 0xF5: "tcpip_interface",
	0xF6: "ethernet_link", 0xF7: "componet_link", 0xF8: "componet_repeater",
}

// ClassName returns the snake_case name of object class id ("identity",
// "tcpip_interface"), or "" for a class without a public definition.
func ClassName(id uint32) string { return classNames[id] }

var generalStatus = [...]string{
	0x00: "success",
	0x01: "connection_failure",
	0x02: "resource_unavailable",
	0x03: "invalid_parameter_value",
	0x04: "path_segment_error",
	0x05: "path_destination_unknown",
	0x06: "partial_transfer",
	0x07: "connection_lost",
	0x08: "service_not_supported",
	0x09: "invalid_attribute_value",
	0x0A: "attribute_list_error",
	0x0B: "already_in_requested_mode",
	0x0C: "object_state_conflict",
	0x0D: "object_already_exists",
	0x0E: "attribute_not_settable",
	0x0F: "privilege_violation",
	0x10: "device_state_conflict",
	0x11: "reply_data_too_large",
	0x12: "fragmentation_of_a_primitive_value",
	0x13: "not_enough_data",
	0x14: "attribute_not_supported",
	0x15: "too_much_data",
	0x16: "object_does_not_exist",
	0x17: "service_fragmentation_sequence_not_in_progress",
	0x18: "no_stored_attribute_data",
	0x19: "store_operation_failure",
	0x1A: "routing_failure_request_too_large",
	0x1B: "routing_failure_response_too_large",
	0x1C: "missing_attribute_list_entry_data",
	0x1D: "invalid_attribute_value_list",
	0x1E: "embedded_service_error",
	0x1F: "vendor_specific_error",
	0x20: "invalid_parameter",
	0x21: "write_once_value_already_written",
	0x22: "invalid_reply_received",
	0x23: "buffer_overflow",
	0x24: "message_format_error",
	0x25: "key_failure_in_path",
	0x26: "path_size_invalid",
	0x27: "unexpected_attribute_in_list",
	0x28: "invalid_member_id",
	0x29: "member_not_settable",
	0x2A: "group_2_only_server_general_failure",
	0x2B: "unknown_modbus_error",
	0x2C: "attribute_not_gettable",
}

// StatusName returns the snake_case name of general status code gs
// (Volume 1 appendix B, table B-1.1), "still_processing" for 0xFF
// (Rockwell), or "unknown_status".
func StatusName(gs byte) string {
	if int(gs) < len(generalStatus) {
		return generalStatus[gs]
	}
	if gs == 0xFF {
		return "still_processing"
	}
	return "unknown_status"
}

var deviceTypes = map[uint16]string{
	0x00: "Generic Device (deprecated)",
	0x02: "AC Drive",
	0x03: "Motor Overload",
	0x04: "Limit Switch",
	0x05: "Inductive Proximity Switch",
	0x06: "Photoelectric Sensor",
	0x07: "General Purpose Discrete I/O",
	0x09: "Resolver",
	0x0C: "Communications Adapter",
	0x0E: "Programmable Logic Controller",
	0x10: "Position Controller",
	0x13: "DC Drive",
	0x15: "Contactor",
	0x16: "Motor Starter",
	0x17: "Soft Start",
	0x18: "Human-Machine Interface",
	0x1A: "Mass Flow Controller",
	0x1B: "Pneumatic Valve",
	0x1C: "Vacuum Pressure Gauge",
	0x1D: "Process Control Value",
	0x1E: "Residual Gas Analyzer",
	0x1F: "DC Power Generator",
	0x20: "RF Power Generator",
	0x21: "Turbomolecular Vacuum Pump",
	0x22: "Encoder",
	0x23: "Safety Discrete I/O Device",
	0x24: "Fluid Flow Controller",
	0x25: "CIP Motion Drive",
	0x26: "CompoNet Repeater",
	0x27: "Mass Flow Controller, Enhanced",
	0x28: "CIP Modbus Device",
	0x29: "CIP Modbus Translator",
	0x2A: "Safety Analog I/O Device",
	0x2B: "Generic Device (keyable)",
	0x2C: "Managed Ethernet Switch",
	0x2D: "CIP Motion Safety Drive Device",
	0x2E: "Safety Drive Device",
	0x2F: "CIP Motion Encoder",
	0x30: "CIP Motion Converter",
	0x31: "CIP Motion I/O",
	0x32: "ControlNet Physical Layer Component",
	0xC8: "Embedded Component",
}

// DeviceTypeName returns the name of a device profile (Volume 1 chapter 6,
// table 6-7.1), e.g. 0x0E "Programmable Logic Controller", or "" when
// unknown (vendor-specific profiles are 0x64..0xC7).
func DeviceTypeName(t uint16) string { return deviceTypes[t] }

// VendorName returns the name of ODVA vendor id, or "" when the table does
// not list it.
func VendorName(id uint16) string { return vendorNames[id] }

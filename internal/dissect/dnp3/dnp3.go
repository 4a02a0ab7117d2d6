package dnp3

import (
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

func init() {
	dissect.Register(Dissector{}, dissect.TCP(Port), dissect.UDP(Port))
}

// Port is the TCP and UDP port assigned to DNP3 (IEEE 1815 Annex C).
const Port = 20000

// Dissector decodes DNP3 over TCP and UDP.
type Dissector struct{}

// Name returns "dnp3".
func (Dissector) Name() string { return "dnp3" }

// Probe reports whether payload starts with a DNP3 link header: the start
// bytes 0x05 0x64, a length of at least 5 and a correct header CRC.
func (Dissector) Probe(payload []byte) bool {
	if len(payload) < linkHeaderLen {
		return false
	}
	return payload[0] == startByte0 && payload[1] == startByte1 && payload[2] >= minLength &&
		crcOK(payload[:linkHeaderLen-2], payload[linkHeaderLen-2:])
}

// NewSession returns a Session for flow f.
func (Dissector) NewSession(f *dissect.Flow) dissect.Session { return newSession(f) }

// Application layer function codes (IEEE 1815-2012 clause 4.2.2.5, table 4-1).
const (
	FuncConfirm             = 0
	FuncRead                = 1
	FuncWrite               = 2
	FuncSelect              = 3
	FuncOperate             = 4
	FuncDirectOperate       = 5
	FuncDirectOperateNR     = 6
	FuncImmediateFreeze     = 7
	FuncImmediateFreezeNR   = 8
	FuncFreezeClear         = 9
	FuncFreezeClearNR       = 10
	FuncFreezeAtTime        = 11
	FuncFreezeAtTimeNR      = 12
	FuncColdRestart         = 13
	FuncWarmRestart         = 14
	FuncEnableUnsolicited   = 20
	FuncDisableUnsolicited  = 21
	FuncAssignClass         = 22
	FuncDelayMeasure        = 23
	FuncRecordCurrentTime   = 24
	FuncOpenFile            = 25
	FuncAbortFile           = 30
	FuncActivateConfig      = 31
	FuncAuthenticateReq     = 32
	FuncAuthenticateErr     = 33
	FuncResponse            = 129
	FuncUnsolicitedResponse = 130
	FuncAuthenticateResp    = 131
)

var funcNames = [...]string{
	0: "confirm", 1: "read", 2: "write", 3: "select", 4: "operate",
	5: "direct_operate", 6: "direct_operate_nr", 7: "immediate_freeze",
	8: "immediate_freeze_nr", 9: "freeze_clear", 10: "freeze_clear_nr",
	11: "freeze_at_time", 12: "freeze_at_time_nr", 13: "cold_restart",
	14: "warm_restart", 15: "initialize_data", 16: "initialize_application",
	17: "start_application", 18: "stop_application", 19: "save_configuration",
	20: "enable_unsolicited", 21: "disable_unsolicited", 22: "assign_class",
	23: "delay_measure", 24: "record_current_time", 25: "open_file",
	26: "close_file", 27: "delete_file", 28: "get_file_info",
	29: "authenticate_file", 30: "abort_file", 31: "activate_config",
	32: "authenticate_req", 33: "authenticate_err",
}

// FuncName returns the specification's name of application function code
// fc in snake_case ("direct_operate"), or "reserved".
func FuncName(fc uint8) string {
	switch {
	case int(fc) < len(funcNames):
		return funcNames[fc]
	case fc == FuncResponse:
		return "response"
	case fc == FuncUnsolicitedResponse:
		return "unsolicited_response"
	case fc == FuncAuthenticateResp:
		return "authenticate_resp"
	}
	return "reserved"
}

var funcClasses = [...]dissect.Class{
	0: dissect.ClassOther, 1: dissect.ClassRead, 2: dissect.ClassWrite,
	3: dissect.ClassControl, 4: dissect.ClassControl, 5: dissect.ClassControl, 6: dissect.ClassControl,
	7: dissect.ClassControl, 8: dissect.ClassControl, 9: dissect.ClassControl, 10: dissect.ClassControl,
	11: dissect.ClassControl, 12: dissect.ClassControl,
	13: dissect.ClassRestart, 14: dissect.ClassRestart,
	15: dissect.ClassWrite, 16: dissect.ClassControl, 17: dissect.ClassControl, 18: dissect.ClassControl,
	19: dissect.ClassWrite, 20: dissect.ClassControl, 21: dissect.ClassControl, 22: dissect.ClassWrite,
	23: dissect.ClassTime, 24: dissect.ClassTime,
	25: dissect.ClassFile, 26: dissect.ClassFile, 27: dissect.ClassFile, 28: dissect.ClassFile,
	29: dissect.ClassFile, 30: dissect.ClassFile, 31: dissect.ClassProgram,
	32: dissect.ClassAuthentication, 33: dissect.ClassAuthentication,
}

// funcClass returns the operation class of application function fc.
// A write of time objects (group 50) is refined to ClassTime by the caller.
func funcClass(fc uint8) dissect.Class {
	switch {
	case int(fc) < len(funcClasses):
		return funcClasses[fc]
	case fc == FuncUnsolicitedResponse:
		return dissect.ClassRead // reports process data, as a read's response does
	case fc == FuncAuthenticateResp:
		return dissect.ClassAuthentication
	}
	return dissect.ClassOther
}

// noResponse reports whether the specification says the outstation does
// not answer function fc (clause 4.2.2.5: confirm, the "no ack" variants
// and the authentication error).
func noResponse(fc uint8) bool {
	switch fc {
	case FuncConfirm, FuncDirectOperateNR, FuncImmediateFreezeNR, FuncFreezeClearNR,
		FuncFreezeAtTimeNR, FuncAuthenticateErr:
		return true
	}
	return false
}

// requestCarriesData reports whether the objects of request fc carry
// values after their headers (write, controls, freeze-at-time, file and
// authentication functions); the others list headers only.
func requestCarriesData(fc uint8) bool {
	switch {
	case fc >= FuncWrite && fc <= FuncDirectOperateNR, fc == FuncFreezeAtTime, fc == FuncFreezeAtTimeNR:
		return true
	case fc >= FuncOpenFile && fc <= FuncAuthenticateErr:
		return true
	}
	return false
}

// Internal indication names, IIN1.0 to IIN2.7 (clause 5.2.2.7, table 5-2).
var iinNames = [16]string{
	"all_stations", "class_1_events", "class_2_events", "class_3_events",
	"need_time", "local_control", "device_trouble", "device_restart",
	"no_func_code_support", "object_unknown", "parameter_error", "event_buffer_overflow",
	"already_executing", "config_corrupt", "reserved_2", "reserved_1",
}

// IIN2 bits that report the request as rejected (clause 5.2.2.7).
const iin2Errors = 0x07

// Control status codes returned in CROB and analog output objects (Annex
// A, group 12 variation 1 "Control relay output block", status field).
var controlStatusNames = [...]string{
	0: "success", 1: "timeout", 2: "no_select", 3: "format_error", 4: "not_supported",
	5: "already_active", 6: "hardware_error", 7: "local", 8: "too_many_objs",
	9: "not_authorized", 10: "automation_inhibit", 11: "processing_limited",
	12: "out_of_range", 13: "downstream_local", 14: "already_complete", 15: "blocked",
	16: "canceled", 17: "blocked_other_master", 18: "downstream_fail",
}

func controlStatusName(st uint8) string {
	switch {
	case int(st) < len(controlStatusNames):
		return controlStatusNames[st]
	case st == 126:
		return "non_participating"
	}
	return "undefined"
}

// CROB operation types (control code bits 0-3) and trip-close codes (bits
// 6-7), Annex A.8.1 (group 12 variation 1).
var crobOpNames = [16]string{
	"nul", "pulse_on", "pulse_off", "latch_on", "latch_off",
	"undefined", "undefined", "undefined", "undefined", "undefined",
	"undefined", "undefined", "undefined", "undefined", "undefined", "undefined",
}

var crobTCCNames = [4]string{"nul", "close", "trip", "reserved"}

// decimal holds the decimal strings of 0..255, for attributes on hot paths.
var decimal [256]string

func init() {
	for i := range decimal {
		decimal[i] = strconv.Itoa(i)
	}
}

package iec104

import (
	"strconv"

	"github.com/otwatch/otwatch/internal/dissect"
)

// typeInfo describes one type identification (IEC 60870-5-101 clause
// 7.2.1.1, table 8 and 9; IEC 60870-5-104 clause 8, table 1).
type typeInfo struct {
	name  string        // the standard's name in lower case ("m_sp_na_1")
	size  int8          // octets of one information element set; varSegment, unsized
	class dissect.Class // operation class
	ok    bool          // defined for IEC 60870-5-104
}

// Type identifications named in the code.
const (
	tMEINA  = 70  // M_EI_NA_1 end of initialization
	tCSCNA  = 45  // C_SC_NA_1 single command
	tCDCNA  = 46  // C_DC_NA_1 double command
	tCRCNA  = 47  // C_RC_NA_1 regulating step command
	tCSENA  = 48  // C_SE_NA_1 set point, normalized
	tCSENB  = 49  // C_SE_NB_1 set point, scaled
	tCSENC  = 50  // C_SE_NC_1 set point, short floating point
	tCBONA  = 51  // C_BO_NA_1 bitstring of 32 bit
	tCSCTA  = 58  // C_SC_TA_1
	tCDCTA  = 59  // C_DC_TA_1
	tCRCTA  = 60  // C_RC_TA_1
	tCSETA  = 61  // C_SE_TA_1
	tCSETB  = 62  // C_SE_TB_1
	tCSETC  = 63  // C_SE_TC_1
	tCBOTA  = 64  // C_BO_TA_1
	tCICNA  = 100 // C_IC_NA_1 interrogation command
	tCCINA  = 101 // C_CI_NA_1 counter interrogation command
	tCRDNA  = 102 // C_RD_NA_1 read command
	tCCSNA  = 103 // C_CS_NA_1 clock synchronization command
	tCRPNA  = 105 // C_RP_NA_1 reset process command
	tCTSTA  = 107 // C_TS_TA_1 test command with time tag
	tFSGNA  = 125 // F_SG_NA_1 segment
	firstCT = 45  // first type of the control direction
)

// Element sizes that are not a fixed octet count.
const (
	varSegment = -1 // F_SG_NA_1: NOF, NOS, LOS and LOS octets of segment
	unsized    = -2 // IEC 62351-5 secure authentication ASDUs (IEC 60870-5-7)
)

var types [256]typeInfo

func def(id int, name string, size int8, class dissect.Class) {
	types[id] = typeInfo{name: name, size: size, class: class, ok: true}
}

func init() {
	r := dissect.ClassRead
	// Process information in monitor direction (101 table 8, 104 table 1).
	def(1, "m_sp_na_1", 1, r)  // single-point information
	def(3, "m_dp_na_1", 1, r)  // double-point information
	def(5, "m_st_na_1", 2, r)  // step position information
	def(7, "m_bo_na_1", 5, r)  // bitstring of 32 bit
	def(9, "m_me_na_1", 3, r)  // measured value, normalized
	def(11, "m_me_nb_1", 3, r) // measured value, scaled
	def(13, "m_me_nc_1", 5, r) // measured value, short floating point
	def(15, "m_it_na_1", 5, r) // integrated totals
	def(20, "m_ps_na_1", 5, r) // packed single-point with status change detection
	def(21, "m_me_nd_1", 2, r) // measured value, normalized, no quality descriptor
	// With CP24Time2a: defined by IEC 60870-5-101; IEC 60870-5-104 clause 8
	// does not use them, yet they are decoded as 101 sizes them.
	def(2, "m_sp_ta_1", 4, r)
	def(4, "m_dp_ta_1", 4, r)
	def(6, "m_st_ta_1", 5, r)
	def(8, "m_bo_ta_1", 8, r)
	def(10, "m_me_ta_1", 6, r)
	def(12, "m_me_tb_1", 6, r)
	def(14, "m_me_tc_1", 8, r)
	def(16, "m_it_ta_1", 8, r)
	// With CP56Time2a (104 clause 8: the CP24Time2a types of 101 are not used).
	def(30, "m_sp_tb_1", 8, r)
	def(31, "m_dp_tb_1", 8, r)
	def(32, "m_st_tb_1", 9, r)
	def(33, "m_bo_tb_1", 12, r)
	def(34, "m_me_td_1", 10, r)
	def(35, "m_me_te_1", 10, r)
	def(36, "m_me_tf_1", 12, r)
	def(37, "m_it_tb_1", 12, r)
	def(38, "m_ep_td_1", 10, r) // event of protection equipment
	def(39, "m_ep_te_1", 11, r) // packed start events of protection equipment
	def(40, "m_ep_tf_1", 11, r) // packed output circuit information
	// Process information in control direction.
	c := dissect.ClassControl
	def(tCSCNA, "c_sc_na_1", 1, c)
	def(tCDCNA, "c_dc_na_1", 1, c)
	def(tCRCNA, "c_rc_na_1", 1, c)
	def(tCSENA, "c_se_na_1", 3, c)
	def(tCSENB, "c_se_nb_1", 3, c)
	def(tCSENC, "c_se_nc_1", 5, c)
	def(tCBONA, "c_bo_na_1", 4, c)
	def(tCSCTA, "c_sc_ta_1", 8, c)
	def(tCDCTA, "c_dc_ta_1", 8, c)
	def(tCRCTA, "c_rc_ta_1", 8, c)
	def(tCSETA, "c_se_ta_1", 10, c)
	def(tCSETB, "c_se_tb_1", 10, c)
	def(tCSETC, "c_se_tc_1", 12, c)
	def(tCBOTA, "c_bo_ta_1", 11, c)
	// System information in monitor direction.
	def(tMEINA, "m_ei_na_1", 1, dissect.ClassRestart)
	// System information in control direction.
	def(tCICNA, "c_ic_na_1", 1, r)
	def(tCCINA, "c_ci_na_1", 1, r)
	def(tCRDNA, "c_rd_na_1", 0, r)
	def(tCCSNA, "c_cs_na_1", 7, dissect.ClassTime)
	def(tCRPNA, "c_rp_na_1", 1, dissect.ClassRestart)
	def(tCTSTA, "c_ts_ta_1", 9, dissect.ClassDiagnostics)
	// Parameter in control direction.
	w := dissect.ClassWrite
	def(110, "p_me_na_1", 3, w)
	def(111, "p_me_nb_1", 3, w)
	def(112, "p_me_nc_1", 5, w)
	def(113, "p_ac_na_1", 1, w)
	// File transfer.
	f := dissect.ClassFile
	def(120, "f_fr_na_1", 6, f)             // file ready
	def(121, "f_sr_na_1", 7, f)             // section ready
	def(122, "f_sc_na_1", 4, f)             // call directory, select file, call file, call section
	def(123, "f_ls_na_1", 5, f)             // last section, last segment
	def(124, "f_af_na_1", 4, f)             // ack file, ack section
	def(tFSGNA, "f_sg_na_1", varSegment, f) // segment
	def(126, "f_dr_ta_1", 13, f)            // directory
	def(127, "f_sc_nb_1", 16, f)            // query log, request archive file
	// Secure authentication (IEC 60870-5-7, IEC 62351-5): recognised by
	// type, their contents are not decoded.
	a := dissect.ClassAuthentication
	def(41, "s_it_tc_1", 13, r) // integrated totals with security statistics
	for id, name := range map[int]string{81: "s_ch_na_1", 82: "s_rp_na_1", 83: "s_ar_na_1",
		84: "s_kr_na_1", 85: "s_ks_na_1", 86: "s_kc_na_1", 87: "s_er_na_1", 88: "s_uc_na_1",
		90: "s_us_na_1", 91: "s_uq_na_1", 92: "s_ur_na_1", 93: "s_uk_na_1", 94: "s_ua_na_1", 95: "s_uf_na_1"} {
		def(id, name, unsized, a)
	}
	for i := range decimal {
		decimal[i] = strconv.Itoa(i)
	}
}

// TypeName returns the lower-case name of type identification id
// ("c_sc_na_1"), "private" for 128..255 and "reserved" for the others.
func TypeName(id uint8) string {
	switch {
	case types[id].ok:
		return types[id].name
	case id >= 128:
		return "private"
	}
	return "reserved"
}

// Causes of transmission (IEC 60870-5-101 clause 7.2.3, table 14).
const (
	cotRequest   = 5
	cotAct       = 6
	cotActCon    = 7
	cotDeact     = 8
	cotDeactCon  = 9
	cotActTerm   = 10
	cotFile      = 13
	cotUnknownTI = 44
	cotUnknownIO = 47
)

var causeNames = [64]string{
	0: "not_used", 1: "periodic", 2: "background_scan", 3: "spontaneous",
	4: "initialized", 5: "request", 6: "activation", 7: "activation_confirmation",
	8: "deactivation", 9: "deactivation_confirmation", 10: "activation_termination",
	11: "return_remote_command", 12: "return_local_command", 13: "file_transfer",
	14: "authentication", 15: "session_key_maintenance", 16: "update_key_maintenance",
	20: "interrogated_by_station",
	21: "interrogated_by_group_1", 22: "interrogated_by_group_2", 23: "interrogated_by_group_3",
	24: "interrogated_by_group_4", 25: "interrogated_by_group_5", 26: "interrogated_by_group_6",
	27: "interrogated_by_group_7", 28: "interrogated_by_group_8", 29: "interrogated_by_group_9",
	30: "interrogated_by_group_10", 31: "interrogated_by_group_11", 32: "interrogated_by_group_12",
	33: "interrogated_by_group_13", 34: "interrogated_by_group_14", 35: "interrogated_by_group_15",
	36: "interrogated_by_group_16",
	37: "requested_by_general_counter", 38: "requested_by_group_1_counter",
	39: "requested_by_group_2_counter", 40: "requested_by_group_3_counter",
	41: "requested_by_group_4_counter",
	44: "unknown_type_id", 45: "unknown_cause", 46: "unknown_common_address",
	47: "unknown_ioa",
}

// CauseName returns the snake_case name of cause of transmission cot
// (6 bits), or "reserved".
func CauseName(cot uint8) string {
	if n := causeNames[cot&0x3f]; n != "" {
		return n
	}
	if cot >= 48 {
		return "private"
	}
	return "reserved"
}

// U-format functions (IEC 60870-5-104 clause 5.3): the act bit of each
// pair; the con bit is the next one up.
const (
	uStartAct = 0x04
	uStopAct  = 0x10
	uTestAct  = 0x40
)

var uNames = [3]string{"startdt", "stopdt", "testfr"}

// uClasses: STARTDT/STOPDT switch data transfer on and off; TESTFR tests
// the link.
var uClasses = [3]dissect.Class{dissect.ClassOther, dissect.ClassOther, dissect.ClassDiagnostics}

// uCodes are the first control octets of the act frames, as on the wire.
var uCodes = [3]int{uStartAct | 3, uStopAct | 3, uTestAct | 3}

// Qualifier of command (101 clause 7.2.6.26, QU of SCO/DCO/RCO).
func quName(qu uint8) string {
	switch qu {
	case 0:
		return "no_additional_definition"
	case 1:
		return "short_pulse"
	case 2:
		return "long_pulse"
	case 3:
		return "persistent"
	}
	return decimal[qu]
}

// decimal holds the decimal strings of 0..255, for attributes on hot paths.
var decimal [256]string

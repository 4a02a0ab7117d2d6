package mms

import "github.com/otwatch/otwatch/internal/dissect"

// Confirmed services: the tag of ConfirmedServiceRequest and
// ConfirmedServiceResponse (ISO 9506-2 section 7, the MMSpdu module;
// tshark prints it as mms.confirmedServiceRequest and
// mms.confirmedServiceResponse).
const (
	svcStatus                         = 0
	svcGetNameList                    = 1
	svcIdentify                       = 2
	svcRename                         = 3
	svcRead                           = 4
	svcWrite                          = 5
	svcGetVariableAccessAttributes    = 6
	svcDefineNamedVariable            = 7
	svcDefineScatteredAccess          = 8
	svcGetScatteredAccessAttributes   = 9
	svcDeleteVariableAccess           = 10
	svcDefineNamedVariableList        = 11
	svcGetNamedVariableListAttributes = 12
	svcDeleteNamedVariableList        = 13
	svcDefineNamedType                = 14
	svcGetNamedTypeAttributes         = 15
	svcDeleteNamedType                = 16
	svcInitiateDownloadSequence       = 26
	svcDownloadSegment                = 27
	svcTerminateDownloadSequence      = 28
	svcInitiateUploadSequence         = 29
	svcUploadSegment                  = 30
	svcTerminateUploadSequence        = 31
	svcRequestDomainDownload          = 32
	svcRequestDomainUpload            = 33
	svcLoadDomainContent              = 34
	svcStoreDomainContent             = 35
	svcDeleteDomain                   = 36
	svcGetDomainAttributes            = 37
	svcCreateProgramInvocation        = 38
	svcDeleteProgramInvocation        = 39
	svcStart                          = 40
	svcStop                           = 41
	svcResume                         = 42
	svcReset                          = 43
	svcKill                           = 44
	svcGetProgramInvocationAttributes = 45
	svcObtainFile                     = 46
	svcReadJournal                    = 65
	svcWriteJournal                   = 66
	svcInitializeJournal              = 67
	svcReportJournalStatus            = 68
	svcGetCapabilityList              = 71
	svcFileOpen                       = 72
	svcFileRead                       = 73
	svcFileClose                      = 74
	svcFileRename                     = 75
	svcFileDelete                     = 76
	svcFileDirectory                  = 77
	numServices                       = 78
)

// Function codes of the operations that are not confirmed services: 0x100
// plus the MMSpdu choice (ISO 9506-2, MMSpdu), 0x200 plus the
// UnconfirmedService choice, 0x300 plus the ACSE APDU (ISO 8650-1
// [APPLICATION n]).
const (
	codeReject        = 0x100 + 4
	codeCancel        = 0x100 + 5
	codeInitiate      = 0x100 + 8
	codeConclude      = 0x100 + 11
	codeUnconfirmed   = 0x200
	codeRelease       = 0x300 + 2
	codeAbort         = 0x300 + 4
	codeInfoReport    = codeUnconfirmed + 0
	codeUnsolStatus   = codeUnconfirmed + 1
	codeEventNotifica = codeUnconfirmed + 2
)

// service is what is known of one confirmed service.
type service struct {
	name  string
	class dissect.Class
}

// services names every confirmed service by its tag, with its operation
// class.
var services = [numServices]service{
	0:  {"status", dissect.ClassDiagnostics},
	1:  {"get_name_list", dissect.ClassDiscovery},
	2:  {"identify", dissect.ClassDiscovery},
	3:  {"rename", dissect.ClassOther},
	4:  {"read", dissect.ClassRead},
	5:  {"write", dissect.ClassWrite},
	6:  {"get_variable_access_attributes", dissect.ClassDiscovery},
	7:  {"define_named_variable", dissect.ClassOther},
	8:  {"define_scattered_access", dissect.ClassOther},
	9:  {"get_scattered_access_attributes", dissect.ClassDiscovery},
	10: {"delete_variable_access", dissect.ClassOther},
	11: {"define_named_variable_list", dissect.ClassOther},
	12: {"get_named_variable_list_attributes", dissect.ClassDiscovery},
	13: {"delete_named_variable_list", dissect.ClassOther},
	14: {"define_named_type", dissect.ClassOther},
	15: {"get_named_type_attributes", dissect.ClassDiscovery},
	16: {"delete_named_type", dissect.ClassOther},
	17: {"input", dissect.ClassOther},
	18: {"output", dissect.ClassOther},
	19: {"take_control", dissect.ClassOther},
	20: {"relinquish_control", dissect.ClassOther},
	21: {"define_semaphore", dissect.ClassOther},
	22: {"delete_semaphore", dissect.ClassOther},
	23: {"report_semaphore_status", dissect.ClassDiscovery},
	24: {"report_pool_semaphore_status", dissect.ClassDiscovery},
	25: {"report_semaphore_entry_status", dissect.ClassDiscovery},
	26: {"initiate_download_sequence", dissect.ClassProgram},
	27: {"download_segment", dissect.ClassProgram},
	28: {"terminate_download_sequence", dissect.ClassProgram},
	29: {"initiate_upload_sequence", dissect.ClassProgram},
	30: {"upload_segment", dissect.ClassProgram},
	31: {"terminate_upload_sequence", dissect.ClassProgram},
	32: {"request_domain_download", dissect.ClassProgram},
	33: {"request_domain_upload", dissect.ClassProgram},
	34: {"load_domain_content", dissect.ClassProgram},
	35: {"store_domain_content", dissect.ClassProgram},
	36: {"delete_domain", dissect.ClassProgram},
	37: {"get_domain_attributes", dissect.ClassDiscovery},
	38: {"create_program_invocation", dissect.ClassProgram},
	39: {"delete_program_invocation", dissect.ClassProgram},
	40: {"start", dissect.ClassControl},
	41: {"stop", dissect.ClassControl},
	42: {"resume", dissect.ClassControl},
	43: {"reset", dissect.ClassRestart},
	44: {"kill", dissect.ClassControl},
	45: {"get_program_invocation_attributes", dissect.ClassDiscovery},
	46: {"obtain_file", dissect.ClassFile},
	47: {"define_event_condition", dissect.ClassOther},
	48: {"delete_event_condition", dissect.ClassOther},
	49: {"get_event_condition_attributes", dissect.ClassDiscovery},
	50: {"report_event_condition_status", dissect.ClassDiscovery},
	51: {"alter_event_condition_monitoring", dissect.ClassOther},
	52: {"trigger_event", dissect.ClassOther},
	53: {"define_event_action", dissect.ClassOther},
	54: {"delete_event_action", dissect.ClassOther},
	55: {"get_event_action_attributes", dissect.ClassDiscovery},
	56: {"report_event_action_status", dissect.ClassDiscovery},
	57: {"define_event_enrollment", dissect.ClassOther},
	58: {"delete_event_enrollment", dissect.ClassOther},
	59: {"alter_event_enrollment", dissect.ClassOther},
	60: {"report_event_enrollment_status", dissect.ClassDiscovery},
	61: {"get_event_enrollment_attributes", dissect.ClassDiscovery},
	62: {"acknowledge_event_notification", dissect.ClassOther},
	63: {"get_alarm_summary", dissect.ClassDiscovery},
	64: {"get_alarm_enrollment_summary", dissect.ClassDiscovery},
	65: {"read_journal", dissect.ClassRead},
	66: {"write_journal", dissect.ClassWrite},
	67: {"initialize_journal", dissect.ClassWrite},
	68: {"report_journal_status", dissect.ClassDiscovery},
	69: {"create_journal", dissect.ClassOther},
	70: {"delete_journal", dissect.ClassOther},
	71: {"get_capability_list", dissect.ClassDiscovery},
	72: {"file_open", dissect.ClassFile},
	73: {"file_read", dissect.ClassFile},
	74: {"file_close", dissect.ClassFile},
	75: {"file_rename", dissect.ClassFile},
	76: {"file_delete", dissect.ClassFile},
	77: {"file_directory", dissect.ClassFile},
}

// serviceOf returns the name and class of a confirmed service tag.
func serviceOf(tag uint32) service {
	if tag < numServices {
		return services[tag]
	}
	return service{"unknown_service", dissect.ClassOther}
}

// errorClasses names ServiceError.errorClass choices and their codes
// (ISO 9506-2, ServiceError), with the spelling slips of the published
// ASN.1 ("aplication-unreachable", "object-sate-conflict",
// "file-acces-denied") corrected.
var errorClasses = [13]struct {
	name  string
	codes []string
}{
	{"vmd-state", []string{"other", "vmd-state-conflict", "vmd-operational-problem", "domain-transfer-problem", "state-machine-id-invalid"}},
	{"application-reference", []string{"other", "application-unreachable", "connection-lost", "application-reference-invalid", "context-unsupported"}},
	{"definition", []string{"other", "object-undefined", "invalid-address", "type-unsupported", "type-inconsistent", "object-exists", "object-attribute-inconsistent"}},
	{"resource", []string{"other", "memory-unavailable", "processor-resource-unavailable", "mass-storage-unavailable", "capability-unavailable", "capability-unknown"}},
	{"service", []string{"other", "primitives-out-of-sequence", "object-state-conflict", "pdu-size", "continuation-invalid", "object-constraint-conflict"}},
	{"service-preempt", []string{"other", "timeout", "deadlock", "cancel"}},
	{"time-resolution", []string{"other", "unsupportable-time-resolution"}},
	{"access", []string{"other", "object-access-unsupported", "object-non-existent", "object-access-denied", "object-invalidated"}},
	{"initiate", []string{"other", "version-incompatible", "max-segment-insufficient", "max-services-outstanding-calling-insufficient",
		"max-services-outstanding-called-insufficient", "service-CBB-insufficient", "parameter-CBB-insufficient", "nesting-level-insufficient"}},
	{"conclude", []string{"other", "further-communication-required"}},
	{"cancel", []string{"other", "invoke-id-unknown", "cancel-not-possible"}},
	{"file", []string{"other", "filename-ambiguous", "file-busy", "filename-syntax-error", "content-type-invalid", "position-invalid",
		"file-access-denied", "file-non-existent", "duplicate-filename", "insufficient-space-in-filestore"}},
	{"others", nil},
}

// errorTexts holds "class: code" for every named error, so that results
// need no allocation.
var errorTexts [13][]string

func init() {
	for c, ec := range errorClasses {
		errorTexts[c] = make([]string, len(ec.codes))
		for i, n := range ec.codes {
			errorTexts[c][i] = ec.name + ": " + n
		}
	}
}

// errorText names a ServiceError class and code.
func errorText(class, code uint32) string {
	if class >= uint32(len(errorClasses)) {
		return "unknown error class"
	}
	if code < uint32(len(errorTexts[class])) {
		return errorTexts[class][code]
	}
	return errorClasses[class].name
}

// dataAccessErrors names DataAccessError values (ISO 9506-2, read and
// write results).
var dataAccessErrors = [...]string{
	"object-invalidated", "hardware-fault", "temporarily-unavailable", "object-access-denied", "object-undefined",
	"invalid-address", "type-unsupported", "type-inconsistent", "object-attribute-inconsistent",
	"object-access-unsupported", "object-non-existent", "object-value-invalid",
}

func dataAccessError(v int64) string {
	if v >= 0 && v < int64(len(dataAccessErrors)) {
		return dataAccessErrors[v]
	}
	return "unknown data access error"
}

// rejectTypes names RejectPDU.rejectReason choices [1]..[11] and their
// values (ISO 9506-2, RejectPDU).
var rejectTypes = [12]struct {
	name    string
	reasons []string
}{
	{},
	{"confirmed-requestPDU", []string{"other", "unrecognized-service", "unrecognized-modifier", "invalid-invokeID", "invalid-argument",
		"invalid-modifier", "max-serv-outstanding-exceeded", "", "max-recursion-exceeded", "value-out-of-range"}},
	{"confirmed-responsePDU", []string{"other", "unrecognized-service", "invalid-invokeID", "invalid-result", "", "max-recursion-exceeded", "value-out-of-range"}},
	{"confirmed-errorPDU", []string{"other", "unrecognized-service", "invalid-invokeID", "invalid-serviceError", "value-out-of-range"}},
	{"unconfirmedPDU", []string{"other", "unrecognized-service", "invalid-argument", "max-recursion-exceeded", "value-out-of-range"}},
	{"pdu-error", []string{"unknown-pdu-type", "invalid-pdu", "illegal-acse-mapping"}},
	{"cancel-requestPDU", []string{"other", "invalid-invokeID"}},
	{"cancel-responsePDU", []string{"other", "invalid-invokeID"}},
	{"cancel-errorPDU", []string{"other", "invalid-invokeID", "invalid-serviceError", "value-out-of-range"}},
	{"conclude-requestPDU", []string{"other", "invalid-argument"}},
	{"conclude-responsePDU", []string{"other", "invalid-result"}},
	{"conclude-errorPDU", []string{"other", "invalid-serviceError", "value-out-of-range"}},
}

func rejectReason(typ uint32, v int64) (kind, reason string) {
	if typ == 0 || typ >= uint32(len(rejectTypes)) {
		return "unknown", "unknown reject reason"
	}
	rt := &rejectTypes[typ]
	if v >= 0 && v < int64(len(rt.reasons)) && rt.reasons[v] != "" {
		return rt.name, rt.reasons[v]
	}
	return rt.name, "unknown reject reason"
}

// objectClasses names GetNameList object classes (ISO 9506-2,
// ObjectClass).
var objectClasses = [...]string{
	"named_variable", "scattered_access", "named_variable_list", "named_type", "semaphore", "event_condition",
	"event_action", "event_enrollment", "journal", "domain", "program_invocation", "operator_station",
}

func objectClass(v int64) string {
	if v >= 0 && v < int64(len(objectClasses)) {
		return objectClasses[v]
	}
	return "unknown"
}

// parameterCBBs names the ParameterSupportOptions bits (ISO 9506-2).
var parameterCBBs = [...]string{0: "str1", 1: "str2", 2: "vnam", 3: "valt", 4: "vadr", 5: "vsca", 6: "tpy", 7: "vlis", 8: "real", 10: "cei"}

// vmdLogical and vmdPhysical name the Status-Response values.
var (
	vmdLogical  = [...]string{"state-changes-allowed", "no-state-changes-allowed", "limited-services-allowed", "support-services-allowed"}
	vmdPhysical = [...]string{"operational", "partially-operational", "inoperable", "needs-commissioning"}
)

// acseUserDiagnostics names the AARE service-user diagnostics (ISO 8650-1,
// Associate-source-diagnostic).
var acseUserDiagnostics = [...]string{
	"null", "no-reason-given", "application-context-name-not-supported", "calling-AP-title-not-recognized",
	"calling-AP-invocation-identifier-not-recognized", "calling-AE-qualifier-not-recognized",
	"calling-AE-invocation-identifier-not-recognized", "called-AP-title-not-recognized",
	"called-AP-invocation-identifier-not-recognized", "called-AE-qualifier-not-recognized",
	"called-AE-invocation-identifier-not-recognized", "authentication-mechanism-name-not-recognized",
	"authentication-mechanism-name-required", "authentication-failure", "authentication-required",
}

// acseProviderDiagnostics names the AARE service-provider diagnostics.
var acseProviderDiagnostics = [...]string{"null", "no-reason-given", "no-common-acse-version"}

// presProviderReasons names the CPR-PPDU provider reasons (ISO 8823-1,
// Provider-reason).
var presProviderReasons = [...]string{
	"reason-not-specified", "temporary-congestion", "local-limit-exceeded", "called-presentation-address-unknown",
	"protocol-version-not-supported", "default-context-not-supported", "user-data-not-readable", "no-PSAP-available",
}

// refuseReason names the REFUSE SPDU reason code (ISO 8327-1 section
// 8.3.4, Reason Code parameter).
func refuseReason(r byte) string {
	switch r {
	case 0:
		return "rejection by called SS-user"
	case 1:
		return "rejection by called SS-user due to temporary congestion"
	case 2:
		return "rejection by called SS-user; reason in user data"
	case 129:
		return "session selector unknown"
	case 130:
		return "SS-user not attached to SSAP"
	case 131:
		return "SPM congestion at connect time"
	case 132:
		return "proposed protocol versions not supported"
	case 133:
		return "rejection by the SPM; reason not specified"
	case 134:
		return "rejection by the SPM; implementation restriction"
	}
	return "refused"
}

// smallNums holds the decimal strings of 0..1023 for attributes.
var smallNums [1024]string

func init() {
	for i := range smallNums {
		smallNums[i] = string(appendUint(nil, uint64(i)))
	}
}

// num formats n, without allocating below 1024.
func num(n int64) string {
	if n >= 0 && n < int64(len(smallNums)) {
		return smallNums[n]
	}
	var buf [24]byte
	b := buf[:0]
	if n < 0 {
		b = append(b, '-')
		return string(appendUint(b, uint64(-n)))
	}
	return dissect.Intern(appendUint(b, uint64(n)))
}

package opcua

import "github.com/otwatch/otwatch/internal/dissect"

// service is one OPC UA service: the numeric ids (namespace 0) of the
// DefaultBinary encodings of its request and response (NodeIds.csv), its
// name and its class.
type service struct {
	req, resp uint32
	name      string
	class     dissect.Class
}

// Binary encoding ids used by the decoder (NodeIds.csv).
const (
	idServiceFault       = 397
	idGetEndpointsResp   = 431
	idOpenChannelReq     = 446
	idOpenChannelResp    = 449
	idCloseChannelReq    = 452
	idCreateSessionReq   = 461
	idCreateSessionResp  = 464
	idActivateSessionReq = 467
	idReadReq            = 631
	idWriteReq           = 673
	idCallReq            = 712
	idBrowseReq          = 527
	idAnonymousToken     = 321
	idUserNameToken      = 324
	idX509Token          = 327
	idIssuedToken        = 940
)

// services lists the services of OPC 10000-4 section 5 with their binary
// encoding ids. Classes: discovery services find servers and endpoints;
// session services authenticate; attribute reads, view browsing,
// subscriptions and publishing read; Write, HistoryUpdate and the node
// management services change the address space (write); Call runs methods
// on the server (control).
var services = [...]service{
	{422, 425, "find_servers", dissect.ClassDiscovery},
	{12208, 12209, "find_servers_on_network", dissect.ClassDiscovery},
	{428, 431, "get_endpoints", dissect.ClassDiscovery},
	{437, 440, "register_server", dissect.ClassDiscovery},
	{12211, 12212, "register_server2", dissect.ClassDiscovery},
	{446, 449, "open_secure_channel", dissect.ClassOther},
	{452, 455, "close_secure_channel", dissect.ClassOther},
	{461, 464, "create_session", dissect.ClassAuthentication},
	{467, 470, "activate_session", dissect.ClassAuthentication},
	{473, 476, "close_session", dissect.ClassAuthentication},
	{479, 482, "cancel", dissect.ClassOther},
	{488, 491, "add_nodes", dissect.ClassWrite},
	{494, 497, "add_references", dissect.ClassWrite},
	{500, 503, "delete_nodes", dissect.ClassWrite},
	{506, 509, "delete_references", dissect.ClassWrite},
	{527, 530, "browse", dissect.ClassRead},
	{533, 536, "browse_next", dissect.ClassRead},
	{554, 557, "translate_browse_paths_to_node_ids", dissect.ClassRead},
	{560, 563, "register_nodes", dissect.ClassRead},
	{566, 569, "unregister_nodes", dissect.ClassRead},
	{615, 618, "query_first", dissect.ClassRead},
	{621, 624, "query_next", dissect.ClassRead},
	{631, 634, "read", dissect.ClassRead},
	{664, 667, "history_read", dissect.ClassRead},
	{673, 676, "write", dissect.ClassWrite},
	{700, 703, "history_update", dissect.ClassWrite},
	{712, 715, "call", dissect.ClassControl},
	{751, 754, "create_monitored_items", dissect.ClassRead},
	{763, 766, "modify_monitored_items", dissect.ClassRead},
	{769, 772, "set_monitoring_mode", dissect.ClassRead},
	{775, 778, "set_triggering", dissect.ClassRead},
	{781, 784, "delete_monitored_items", dissect.ClassRead},
	{787, 790, "create_subscription", dissect.ClassRead},
	{793, 796, "modify_subscription", dissect.ClassRead},
	{799, 802, "set_publishing_mode", dissect.ClassRead},
	{826, 829, "publish", dissect.ClassRead},
	{832, 835, "republish", dissect.ClassRead},
	{841, 844, "transfer_subscriptions", dissect.ClassRead},
	{847, 850, "delete_subscriptions", dissect.ClassRead},
}

// byID maps a request or response encoding id to its service's index in
// services; a response's index is offset by len(services).
var byID = func() map[uint32]int {
	m := make(map[uint32]int, 2*len(services))
	for i, s := range services {
		m[s.req] = i
		m[s.resp] = i + len(services)
	}
	return m
}()

// lookup returns the service a type id encodes, whether it is the
// response, and whether it is known.
func lookup(id uint32) (svc *service, response, ok bool) {
	i, ok := byID[id]
	if !ok {
		return nil, false, false
	}
	if i >= len(services) {
		return &services[i-len(services)], true, true
	}
	return &services[i], false, true
}

// Security policies of OPC 10000-7 by URI, named as in the URI fragment.
var policies = [...]struct{ uri, name string }{
	{"http://opcfoundation.org/UA/SecurityPolicy#None", "None"},
	{"http://opcfoundation.org/UA/SecurityPolicy#Basic128Rsa15", "Basic128Rsa15"},
	{"http://opcfoundation.org/UA/SecurityPolicy#Basic256", "Basic256"},
	{"http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256", "Basic256Sha256"},
	{"http://opcfoundation.org/UA/SecurityPolicy#Aes128_Sha256_RsaOaep", "Aes128_Sha256_RsaOaep"},
	{"http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss", "Aes256_Sha256_RsaPss"},
}

const policyNone = "None"

// policyName returns the short name of a security policy URI, or "other".
func policyName(uri []byte) string {
	for _, p := range policies {
		if string(uri) == p.uri {
			return p.name
		}
	}
	return "other"
}

// securityModeName names MessageSecurityMode (OPC 10000-4 section 7.20).
func securityModeName(m uint32) string {
	switch m {
	case 0:
		return "Invalid"
	case 1:
		return "None"
	case 2:
		return "Sign"
	case 3:
		return "SignAndEncrypt"
	}
	return "unknown"
}

// statusNames holds the common status codes of OPC 10000-4 section 7.34
// and OPC 10000-6 section 7.1.5 by their names in StatusCode.csv.
var statusNames = map[uint32]string{
	0x00000000: "Good",
	0x80010000: "BadUnexpectedError",
	0x80020000: "BadInternalError",
	0x80030000: "BadOutOfMemory",
	0x80040000: "BadResourceUnavailable",
	0x80050000: "BadCommunicationError",
	0x80060000: "BadEncodingError",
	0x80070000: "BadDecodingError",
	0x80080000: "BadEncodingLimitsExceeded",
	0x80090000: "BadUnknownResponse",
	0x800A0000: "BadTimeout",
	0x800B0000: "BadServiceUnsupported",
	0x800C0000: "BadShutdown",
	0x800D0000: "BadServerNotConnected",
	0x800E0000: "BadServerHalted",
	0x800F0000: "BadNothingToDo",
	0x80100000: "BadTooManyOperations",
	0x80110000: "BadDataTypeIdUnknown",
	0x80120000: "BadCertificateInvalid",
	0x80130000: "BadSecurityChecksFailed",
	0x801A0000: "BadCertificateUntrusted",
	0x801F0000: "BadUserAccessDenied",
	0x80200000: "BadIdentityTokenInvalid",
	0x80210000: "BadIdentityTokenRejected",
	0x80220000: "BadSecureChannelIdInvalid",
	0x80230000: "BadInvalidTimestamp",
	0x80240000: "BadNonceInvalid",
	0x80250000: "BadSessionIdInvalid",
	0x80260000: "BadSessionClosed",
	0x80270000: "BadSessionNotActivated",
	0x80280000: "BadSubscriptionIdInvalid",
	0x802A0000: "BadRequestHeaderInvalid",
	0x802B0000: "BadTimestampsToReturnInvalid",
	0x802C0000: "BadRequestCancelledByClient",
	0x80330000: "BadNodeIdInvalid",
	0x80340000: "BadNodeIdUnknown",
	0x80350000: "BadAttributeIdInvalid",
	0x80360000: "BadIndexRangeInvalid",
	0x803A0000: "BadNotReadable",
	0x803B0000: "BadNotWritable",
	0x803C0000: "BadOutOfRange",
	0x803D0000: "BadNotSupported",
	0x803E0000: "BadNotFound",
	0x80540000: "BadSecurityModeRejected",
	0x80550000: "BadSecurityPolicyRejected",
	0x80560000: "BadTooManySessions",
	0x80740000: "BadTypeMismatch",
	0x80750000: "BadMethodInvalid",
	0x80760000: "BadArgumentsMissing",
	0x80780000: "BadTooManyPublishRequests",
	0x80790000: "BadNoSubscription",
	0x807E0000: "BadTcpMessageTypeInvalid",
	0x807F0000: "BadTcpSecureChannelUnknown",
	0x80800000: "BadTcpMessageTooLarge",
	0x80810000: "BadTcpNotEnoughResources",
	0x80820000: "BadTcpInternalError",
	0x80830000: "BadTcpEndpointUrlInvalid",
	0x80840000: "BadRequestInterrupted",
	0x80850000: "BadRequestTimeout",
	0x80860000: "BadSecureChannelClosed",
	0x80870000: "BadSecureChannelTokenUnknown",
	0x80880000: "BadSequenceNumberInvalid",
	0x80AB0000: "BadInvalidArgument",
	0x80B80000: "BadRequestTooLarge",
	0x80B90000: "BadResponseTooLarge",
	0x80BE0000: "BadProtocolVersionUnsupported",
}

// statusName names a status code by its code bits (the top 16 bits; the
// low bits are info flags), or by its severity when the code is not listed.
func statusName(code uint32) string {
	if n, ok := statusNames[code&0xffff0000]; ok {
		return n
	}
	switch code >> 30 {
	case 0:
		return "Good"
	case 1:
		return "Uncertain"
	}
	return "Bad"
}

// tokenName names a user identity token by the encoding id of its
// ExtensionObject (OPC 10000-4 section 7.41).
func tokenName(id uint32) string {
	switch id {
	case idAnonymousToken:
		return "anonymous"
	case idUserNameToken:
		return "username"
	case idX509Token:
		return "x509"
	case idIssuedToken:
		return "issued"
	}
	return "unknown"
}

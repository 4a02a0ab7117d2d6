package violation

import "github.com/otwatch/otwatch/internal/alert"

// Categories of the protocol violation alert types (DESIGN.md).
const (
	catIllegal  = "Illegal commands"
	catAbnormal = "Abnormal communication"
)

// Techniques shared by the malformed-traffic types: a PDU that breaks its
// protocol is how exploits and fuzzers reach a device's parser (T0866),
// and how controllers are crashed (T0814).
var malformedTechniques = []string{"T0866", "T0814"}

// Modbus/TCP.
var (
	// ModbusIllegalFunction is a Modbus request with function code 0 or a
	// code the specification does not assign (section 5.1), or any
	// request the server rejected with exception 01 Illegal Function.
	ModbusIllegalFunction = &alert.Type{
		ID: "modbus.illegal_function", Engine: alert.Protocol, Name: "Illegal Modbus function code",
		Title:       "{src} sent an illegal Modbus function to {dst} ({detail})",
		Description: "{src} sent {dst} a Modbus request with a function code that the MODBUS Application Protocol Specification does not define, or that {dst} rejected with exception 01 Illegal Function ({detail}). Masters configured for a device only send the functions it implements; undefined codes come from scanners and fuzzers probing which functions a controller accepts, or from exploits that target its parser.",
		Severity:    alert.Medium, Category: catIllegal, Protocol: "modbus",
		Techniques: []string{"T0855", "T0866"},
		Remediation: []string{
			"Find the program on {src} that sent the request (engineering tool, scanner, script) and whether it was meant to talk to {dst}.",
			"If the function is a vendor extension that {src} uses on purpose, learn the alert; otherwise examine {src} for unauthorised tools.",
			"Restrict which hosts may reach Modbus/TCP port 502 of {dst}, and which function codes they may use, at the firewall or an industrial protocol gateway.",
		},
		Learnable: true,
	}
	// ModbusMasterException is a request whose function code carries the
	// exception bit: only servers send codes 128-255 (section 7).
	ModbusMasterException = &alert.Type{
		ID: "modbus.master_exception", Engine: alert.Protocol, Name: "Modbus exception raised by master",
		Title:       "{src} sent an exception function code to {dst} ({detail})",
		Description: "{src} sent {dst} a Modbus request whose function code has the exception bit set ({detail}). Codes 128 to 255 are exception responses, which only a server sends; a master that sends one is not a conforming Modbus client. This is how fuzzers and exploits test a controller's error handling, and some controllers crash on it.",
		Severity:    alert.Medium, Category: catIllegal, Protocol: "modbus",
		Techniques: []string{"T0866"},
		Remediation: []string{
			"Identify the software on {src} that sent the request; an HMI or SCADA driver never sends exception codes.",
			"Check that {dst} still runs and answers its usual masters.",
			"Block Modbus/TCP to {dst} from hosts other than its configured masters.",
		},
	}
	// ModbusMalformed is a Modbus ADU that violates the framing or the
	// layout of its function: MBAP protocol id or length, PDU length,
	// byte counts.
	ModbusMalformed = &alert.Type{
		ID: "modbus.malformed", Engine: alert.Protocol, Name: "Malformed Modbus message",
		Title:       "Malformed Modbus message between {src} and {dst}: {detail}",
		Description: "A Modbus/TCP message from {src} to {dst} breaks the protocol: {detail}. Conforming masters and servers never send such frames; they come from fuzzers, exploits aimed at the server's parser, broken drivers, or traffic that is not Modbus at all on port 502.",
		Severity:    alert.Medium, Category: catIllegal, Protocol: "modbus",
		Techniques: malformedTechniques,
		Remediation: []string{
			"Identify the program on {src} that produced the message; compare its version with the drivers the plant approved.",
			"Check that {dst} still answers its usual masters and did not restart.",
			"Restrict which hosts may reach Modbus/TCP on {dst}.",
		},
	}
)

// DNP3.
var (
	// DNP3Malformed is a DNP3 frame that violates the link layer (CRCs,
	// length, function), the transport function (sequence, FIR/FIN) or the
	// application layer (short headers, object headers).
	DNP3Malformed = &alert.Type{
		ID: "dnp3.malformed", Engine: alert.Protocol, Name: "Malformed DNP3 message",
		Title:       "Malformed DNP3 message between {src} and {dst}: {detail}",
		Description: "A DNP3 message from {src} to {dst} violates IEEE 1815: {detail}. Bad CRCs, broken transport sequences and unreadable object headers are what fuzzers and parser exploits send, and what a faulty serial-to-IP converter produces; outstations may discard the traffic or fail on it.",
		Severity:    alert.Medium, Category: catIllegal, Protocol: "dnp3",
		Techniques: malformedTechniques,
		Remediation: []string{
			"Identify what on {src} sent the message: the SCADA master's driver, a protocol converter or an unknown tool.",
			"Check that the outstation still answers its master and that its points are current.",
			"Restrict DNP3 (TCP/UDP 20000) on {dst} to the configured masters; enable DNP3 Secure Authentication where the devices support it.",
		},
	}
	// DNP3IllegalFunction is a request with an application function that
	// IEEE 1815-2012 declares obsolete or deprecated: Initialize Data (15)
	// and Save Configuration (19).
	DNP3IllegalFunction = &alert.Type{
		ID: "dnp3.illegal_function", Engine: alert.Protocol, Name: "Obsolete DNP3 function code",
		Title:       "{src} sent obsolete DNP3 function {detail} to {dst}",
		Description: "{src} sent {dst} the DNP3 function {detail}, which IEEE 1815-2012 marks obsolete (Initialize Data) or deprecated (Save Configuration): new designs must not use it. Initialize Data resets an outstation's data to its initial values and Save Configuration makes it store its settings; old masters may still send them, but in a modern system the request comes from a tool probing or tampering with the outstation.",
		Severity:    alert.Medium, Category: catIllegal, Protocol: "dnp3",
		Techniques: []string{"T0855"},
		Remediation: []string{
			"Confirm whether {src} is a DNP3 master of {dst} and which software sent the function.",
			"Check the outstation's data and configuration for unexpected changes.",
			"If a legacy master sends it on purpose, learn the alert; otherwise block DNP3 to {dst} from {src}.",
		},
		Learnable: true,
	}
	// DNP3FunctionNotSupported is a response with IIN2.0 set: the
	// outstation does not implement the requested function.
	DNP3FunctionNotSupported = &alert.Type{
		ID: "dnp3.function_not_supported", Engine: alert.Protocol, Name: "Function code not supported by outstation",
		Title:       "DNP3 outstation {dst} does not support function {detail} sent by {src}",
		Description: "{dst} answered the DNP3 function {detail} from {src} with IIN2.0 (function code not supported). A master configured for the outstation only uses the functions it implements; requests for others come from tools that probe what the device accepts.",
		Severity:    alert.Medium, Category: catIllegal, Protocol: "dnp3",
		Techniques: []string{"T0855"},
		Remediation: []string{
			"Find the software on {src} that sent the request and whether its DNP3 configuration matches {dst}.",
			"If the master retries a function the outstation lacks by design, learn the alert.",
			"Restrict DNP3 on {dst} to the configured masters.",
		},
		Learnable: true,
	}
	// DNP3ReservedIIN is a response whose internal indications set one of
	// the two reserved bits, IIN2.6 or IIN2.7.
	DNP3ReservedIIN = &alert.Type{
		ID: "dnp3.reserved_iin", Engine: alert.Protocol, Name: "Reserved DNP3 internal indication",
		Title:       "DNP3 outstation {src} set reserved internal indication {detail}",
		Description: "{src} answered {dst} with internal indication bits that IEEE 1815-2012 reserves ({detail}); a conforming outstation always sends them as zero. The response comes from a non-conforming or tampered device, or was forged by a host impersonating the outstation.",
		Severity:    alert.Low, Category: catIllegal, Protocol: "dnp3",
		Techniques: []string{"T0856", "T0830"},
		Remediation: []string{
			"Check that the responses really come from the outstation {src} (MAC address, switch port).",
			"Ask the vendor whether the device's firmware sets the bit; update it if so.",
		},
	}
)

// Siemens S7comm, EtherNet/IP, BACnet and IEC 60870-5-104.
var (
	// S7Malformed is a TPKT, COTP, S7comm or S7comm-plus PDU that violates
	// its framing or header layout.
	S7Malformed = &alert.Type{
		ID: "s7comm.malformed", Engine: alert.Protocol, Name: "Malformed S7comm message",
		Title:       "Malformed S7comm message between {src} and {dst}: {detail}",
		Description: "A message from {src} to {dst} on ISO-on-TCP (port 102) breaks the TPKT, COTP or S7comm layout: {detail}. Siemens engineering tools and HMIs never send such PDUs; malformed S7 packets are how several published denial-of-service flaws of S7 CPUs are triggered, and what fuzzers send.",
		Severity:    alert.Medium, Category: catIllegal, Protocol: "s7comm",
		Techniques: malformedTechniques,
		Remediation: []string{
			"Identify the program on {src} that sent the message.",
			"Check that {dst} is still in RUN and that its diagnostic buffer shows no communication fault.",
			"Restrict TCP 102 on {dst} to the engineering stations and HMIs, and keep the CPU firmware current with Siemens advisories.",
		},
	}
	// ENIPMalformed is an EtherNet/IP encapsulation message or CIP message
	// that violates its layout.
	ENIPMalformed = &alert.Type{
		ID: "enip.malformed", Engine: alert.Protocol, Name: "Malformed EtherNet/IP message",
		Title:       "Malformed EtherNet/IP message between {src} and {dst}: {detail}",
		Description: "An EtherNet/IP or CIP message from {src} to {dst} breaks the ODVA encapsulation or CIP layout: {detail}. Unknown encapsulation commands, lengths that overrun the message and broken common packet format items are what fuzzers and exploits of EtherNet/IP stacks send; several controllers fault on them.",
		Severity:    alert.Medium, Category: catIllegal, Protocol: "enip",
		Techniques: malformedTechniques,
		Remediation: []string{
			"Identify the program on {src} that sent the message.",
			"Check that {dst} has not faulted (module status, controller fault log).",
			"Restrict TCP/UDP 44818 and UDP 2222 on {dst} to its scanners and HMIs, and apply the vendor's firmware fixes.",
		},
	}
	// BACnetMalformed is a BACnet/IP message that violates ASHRAE 135:
	// BVLC, NPDU or APDU layout, or a service that does not decode.
	BACnetMalformed = &alert.Type{
		ID: "bacnet.malformed", Engine: alert.Protocol, Name: "Illegal BACnet message",
		Title:       "Illegal BACnet message between {src} and {dst}: {detail}",
		Description: "A BACnet message from {src} to {dst} violates ANSI/ASHRAE 135: {detail}. Building controllers and workstations do not send such messages; they come from fuzzers, exploits of BACnet stacks, or misconfigured routers, and may crash the controllers that receive them.",
		Severity:    alert.Medium, Category: catIllegal, Protocol: "bacnet",
		Techniques: []string{"T0855", "T0866"},
		Remediation: []string{
			"Identify the program on {src} that sent the message.",
			"Check that {dst} still answers its workstation.",
			"Restrict UDP 47808 to the building management hosts and keep BACnet off the plant's control network where it is not needed.",
		},
	}
	// IEC104Malformed is an IEC 60870-5-104 APDU or ASDU that violates
	// the standard's framing or ASDU layout.
	IEC104Malformed = &alert.Type{
		ID: "iec104.malformed", Engine: alert.Protocol, Name: "Malformed IEC 60870-5-104 message",
		Title:       "Malformed IEC 104 message between {src} and {dst}: {detail}",
		Description: "An IEC 60870-5-104 message from {src} to {dst} breaks the standard: {detail}. Controlling and controlled stations never send such APDUs; they come from fuzzers, exploits of the station's parser, or a broken gateway.",
		Severity:    alert.Medium, Category: catIllegal, Protocol: "iec104",
		Techniques: malformedTechniques,
		Remediation: []string{
			"Identify the program on {src} that sent the message.",
			"Check that the station still answers its controlling station and that its data is current.",
			"Restrict TCP 2404 on {dst} to the configured controlling stations.",
		},
	}
	// IEC104SequenceError is an I-format APDU whose send sequence number
	// skips or repeats, or an acknowledgement of APDUs never sent.
	IEC104SequenceError = &alert.Type{
		ID: "iec104.sequence_error", Engine: alert.Protocol, Name: "IEC 60870-5-104 sequence number error",
		Title:       "IEC 104 sequence error between {src} and {dst}: {detail}",
		Description: "The send or receive sequence numbers of IEC 60870-5-104 APDUs from {src} to {dst} do not follow on ({detail}). Each side counts the I-format APDUs it sends; a jump, a repeat or an acknowledgement of APDUs that were never sent means that APDUs were injected into the connection or replayed, or that the stations lost track of each other.",
		Severity:    alert.Medium, Category: catAbnormal, Protocol: "iec104",
		Techniques: []string{"T0830", "T0855"},
		Remediation: []string{
			"Check whether a host other than {src} is injecting traffic into the connection (ARP tables, MAC addresses on the switch ports).",
			"Check that the commands the controlled station executed around this time were all sent by its controlling station.",
			"Enable IEC 62351 protection where the stations support it.",
		},
	}
)

// Cross-protocol types.
var (
	// ReservedFunction is a function code, message type or type
	// identification that the protocol's specification reserves.
	ReservedFunction = &alert.Type{
		ID: "protocol.reserved_function", Engine: alert.Protocol, Name: "Usage of a reserved function code",
		Title:       "{src} used a reserved {protocol} code with {dst} ({detail})",
		Description: "{src} sent {dst} a {protocol} message with a code that the protocol's specification reserves ({detail}). Conforming devices do not send reserved codes; legacy products and proprietary extensions sometimes do, and so do scanners looking for undocumented functions.",
		Severity:    alert.Medium, Category: catIllegal,
		Techniques: []string{"T0855", "T0836"},
		Remediation: []string{
			"Identify the software on {src} that sent the message, and whether the vendor documents the code.",
			"If a legacy device uses it on purpose, learn the alert; otherwise examine {src} for unauthorised tools.",
			"Restrict which hosts may reach {dst} over {protocol}.",
		},
		Learnable: true,
	}
	// ResponseWithoutRequest is a response on a connection whose requests
	// and responses were paired before, answering no request that was seen.
	ResponseWithoutRequest = &alert.Type{
		ID: "protocol.response_without_request", Engine: alert.Protocol, Name: "Response without request",
		Title:       "{src} sent {dst} a {protocol} response to no request ({detail})",
		Description: "{src} sent {dst} a {protocol} response that answers no request seen on the connection ({detail}), although the connection's earlier requests and responses matched. A response nobody asked for is how a host in the middle injects false process values into an HMI or SCADA master.",
		Severity:    alert.Medium, Category: catAbnormal,
		Techniques: []string{"T0856", "T0830"},
		Remediation: []string{
			"Check whether the response really came from {src}: compare the MAC address with the device's, and look for ARP spoofing on the segment.",
			"Verify the values the operators saw around this time against the field instruments.",
			"Protect the path between {dst} and {src} (port security, static ARP entries, a protocol with integrity such as DNP3 Secure Authentication).",
		},
	}
	// PortZero is a TCP or UDP packet to or from port 0, which no service
	// can use.
	PortZero = &alert.Type{
		ID: "tcp.port_zero", Engine: alert.Protocol, Name: "Illegal connection attempt on port 0",
		Title:       "{src} attempted a {protocol} connection on port 0 of {dst}",
		Description: "{src} sent {dst} a {protocol} packet with port 0 ({detail}). Port 0 is reserved: no service listens on it and no operating system picks it as a source port, so such packets are crafted, typically to fingerprint the target's TCP/IP stack or to probe firewalls.",
		Severity:    alert.Low, Category: catIllegal,
		Techniques: []string{"T0846", "T0840"},
		Remediation: []string{
			"Find the tool on {src} that crafted the packet (scanner, fingerprinting tool).",
			"Drop packets with port 0 at the firewalls between the plant's networks.",
		},
	}
)

// types lists every type the engine raises.
var types = []*alert.Type{
	ModbusIllegalFunction, ModbusMasterException, ModbusMalformed,
	DNP3Malformed, DNP3IllegalFunction, DNP3FunctionNotSupported, DNP3ReservedIIN,
	S7Malformed, ENIPMalformed, BACnetMalformed, IEC104Malformed, IEC104SequenceError,
	ReservedFunction, ResponseWithoutRequest, PortZero,
}

package policy

import "github.com/otwatch/otwatch/internal/alert"

// Categories of the policy engine's alert types.
const (
	categoryDiscovery     = "Device discovery"
	categoryUnauthorized  = "Unauthorized communication behavior"
	categoryProgramming   = "PLC programming"
	categoryInternet      = "Internet access"
	categoryUnauthAccess  = "Unauthorized access"
	remediationLearnFirst = "If the activity is legitimate, use Learn so that the baseline includes it."
)

// The policy engine's alert types. Every one is learnable: the alert's
// Learn entry is the baseline entry whose absence raised it.
var (
	NewDevice = &alert.Type{
		ID: "policy.new_device", Engine: alert.Policy, Name: "New device on the network",
		Title:       "New device {src} appeared on the network",
		Description: "{src} was not on the network while the sensor learned it. {detail} A device that nobody expected can be a contractor's laptop, a rogue access point, or an attacker's foothold in the plant.",
		Severity:    alert.Medium, Category: categoryDiscovery,
		Techniques: []string{"T0842", "T0848"},
		Remediation: []string{
			"Identify the device: find its switch port from its MAC address and ask who connected it.",
			"If nobody owns it, disconnect it and examine what it talked to in the event timeline.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	NewConnection = &alert.Type{
		ID: "policy.new_connection", Engine: alert.Policy, Name: "New connection between known devices",
		Title:       "{src} connected to {dst} for the first time ({detail})",
		Description: "{src} opened a {detail} connection to {dst}. The two devices never communicated while the sensor learned the network. A new communication path in an OT network is how an intruder moves laterally from one foothold to the controllers.",
		Severity:    alert.Medium, Category: categoryUnauthorized,
		Techniques: []string{"T0886", "T0846"},
		Remediation: []string{
			"Ask the owners of {src} and {dst} whether the connection is expected (new project, maintenance).",
			"If not, block the path at the firewall or switch ACL between the two zones and examine {src}.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	NewProtocol = &alert.Type{
		ID: "policy.new_protocol", Engine: alert.Policy, Name: "New protocol between known devices",
		Title:       "{src} used {protocol} with {dst} for the first time",
		Description: "{src} and {dst} communicated while the sensor learned, but never over {protocol} ({detail}). A second protocol on a known path can be an engineering tool, or an attacker reusing a trusted host to reach a service it never used.",
		Severity:    alert.Medium, Category: categoryUnauthorized,
		Techniques: []string{"T0869", "T0886"},
		Remediation: []string{
			"Confirm with the owner of {src} which application opened the {protocol} session.",
			"If it is not expected, restrict {dst} to the protocols in its baseline at the firewall.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	NewWrite = &alert.Type{
		ID: "policy.new_write", Engine: alert.Policy, Name: "Write from a host that never wrote",
		Title:       "{src} wrote to {dst} over {protocol} for the first time",
		Description: "{src} sent a write ({detail}) to {dst}, and never wrote to any device while the sensor learned: until now it only read. Writes change setpoints, outputs and configuration; a reading host that starts writing is how process manipulation begins.",
		Severity:    alert.High, Category: categoryUnauthorized,
		Techniques: []string{"T0836", "T0855"},
		Remediation: []string{
			"Check with the operators whether the value written to {dst} was intended, and restore it if not.",
			"Find the application on {src} that wrote; disable write access in it if it should only read.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	UnauthorizedProgramming = &alert.Type{
		ID: "policy.unauthorized_programming", Engine: alert.Policy, Name: "Unauthorized PLC programming",
		Title:       "{src} changed the program or firmware of {dst} over {protocol}",
		Description: "{src} sent {detail} to {dst}. While the sensor learned, {src} never programmed this controller nor went online with it as an engineering tool: it is not one of its programming stations. Changing a controller's logic or firmware is the most direct way to take over a process.",
		Severity:    alert.Critical, Category: categoryProgramming,
		Techniques: []string{"T0839", "T0843", "T0889"},
		Remediation: []string{
			"Confirm with the automation engineers whether a change of {dst} was planned and made from {src}.",
			"Compare the controller's program with the approved version and restore it if they differ.",
			"Put the controller's key switch in RUN and allow programming only from the engineering workstation.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	AddressRange = &alert.Type{
		ID: "modbus.address_range_violation", Engine: alert.Policy, Name: "Modbus address range violation",
		Title:       "{src} accessed {detail} on {dst} outside its learned ranges",
		Description: "{src} accessed {detail} on Modbus server {dst}, a register range it never used while the sensor learned. Reading new ranges maps a controller's points; writing them changes values nobody configured the HMI to touch.",
		Severity:    alert.Medium, Category: categoryUnauthorized, Protocol: "modbus",
		Techniques: []string{"T0861", "T0836"},
		Remediation: []string{
			"Check whether a new tag or screen was configured on {src} that reads {detail}.",
			"If not, find the application on {src} that sent the request.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	InternetAccess = &alert.Type{
		ID: "policy.internet_access", Engine: alert.Policy, Name: "OT device communicated with the internet",
		Title:       "{src} communicated with {dst} across the internet boundary",
		Description: "{src} and {dst} exchanged traffic ({detail}); one of them is an OT device and the other a public internet address that was not seen while the sensor learned. OT devices should not reach the internet, nor be reachable from it.",
		Severity:    alert.High, Category: categoryInternet,
		Techniques: []string{"T0883", "T0822"},
		Remediation: []string{
			"Block the address at the plant's perimeter firewall and check why the rule set allowed it.",
			"Find the application on the OT device that made or accepted the connection.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	ITOTCrossing = &alert.Type{
		ID: "policy.it_ot_crossing", Engine: alert.Policy, Name: "IT host reached an industrial service",
		Title:       "IT host {src} connected to industrial service {detail} of {dst}",
		Description: "{src}, which never spoke an industrial protocol while the sensor learned, connected to {detail} on OT device {dst}. Industrial services should be reached only from OT hosts; an IT host crossing into them is a typical step from a compromised office network into the plant.",
		Severity:    alert.High, Category: categoryUnauthAccess,
		Techniques: []string{"T0886", "T0822"},
		Remediation: []string{
			"Confirm with the owner of {src} why it connected to {dst}.",
			"Enforce the IT/OT boundary: allow industrial protocols only between OT zones at the firewall.",
			"Examine {src} for remote access tools or malware.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	ModbusFunction = &alert.Type{
		ID: "modbus.unauthorized_function", Engine: alert.Policy, Name: "Unpermitted usage of a Modbus function code",
		Title:       "{src} used Modbus function {detail} on {dst} for the first time",
		Description: "{src} sent Modbus function {detail} to {dst}, a function it never used with this server while the sensor learned. A new function code on a known Modbus path is how diagnostics abuse, device identification and unexpected writes show up.",
		Severity:    alert.Medium, Category: categoryUnauthorized, Protocol: "modbus",
		Techniques: []string{"T0836", "T0855"},
		Remediation: []string{
			"Check with the owner of {src} which application sent the function and whether it was configured recently.",
			"Restrict the function codes {dst} accepts from {src} (Modbus firewall or the device's access list).",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	DNP3Function = &alert.Type{
		ID: "dnp3.unauthorized_function", Engine: alert.Policy, Name: "Unpermitted usage of a DNP3 function code",
		Title:       "{src} used DNP3 function {detail} on {dst} for the first time",
		Description: "{src} sent DNP3 function {detail} to outstation {dst}, which it never used while the sensor learned. Functions such as disabling unsolicited reporting, freezing counters or stopping applications change how the outstation reports to SCADA.",
		Severity:    alert.Medium, Category: categoryUnauthorized, Protocol: "dnp3",
		Techniques: []string{"T0836", "T0855"},
		Remediation: []string{
			"Check with the SCADA engineers whether the function was sent on purpose.",
			"Verify the outstation's configuration (unsolicited reporting, event classes) and restore it if needed.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	S7Function = &alert.Type{
		ID: "s7comm.unauthorized_function", Engine: alert.Policy, Name: "Unpermitted S7comm function",
		Title:       "{src} used S7comm function {detail} on {dst} for the first time",
		Description: "{src} sent S7comm function {detail} to Siemens PLC {dst}, which it never used with this PLC while the sensor learned. Reading system status lists, block listings or calling control functions is how attackers identify a controller before changing it.",
		Severity:    alert.Medium, Category: categoryUnauthorized, Protocol: "s7comm",
		Techniques: []string{"T0855", "T0836"},
		Remediation: []string{
			"Check with the automation engineers whether an engineering or diagnostic tool on {src} was used.",
			"Enable the CPU's access protection so that only authorised stations can use these functions.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	CIPService = &alert.Type{
		ID: "enip.unauthorized_service", Engine: alert.Policy, Name: "Unpermitted EtherNet/IP CIP service",
		Title:       "{src} used CIP service {detail} on {dst} for the first time",
		Description: "{src} sent the EtherNet/IP CIP service {detail} to {dst}, which it never used with this device while the sensor learned. New CIP services on a known path read device configuration or change object attributes that the plant's applications never touch.",
		Severity:    alert.Medium, Category: categoryUnauthorized, Protocol: "enip",
		Techniques: []string{"T0836", "T0888"},
		Remediation: []string{
			"Check with the owner of {src} which tool sent the service.",
			"Restrict which hosts may open explicit messaging sessions with {dst}.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
	NewFunction = &alert.Type{
		ID: "policy.new_function", Engine: alert.Policy, Name: "Unpermitted industrial function",
		Title:       "{src} used {protocol} function {detail} on {dst} for the first time",
		Description: "{src} sent the {protocol} function {detail} to {dst}, which it never used with this device while the sensor learned. A new command on a known industrial path can change the device's behaviour or reveal its configuration.",
		Severity:    alert.Medium, Category: categoryUnauthorized,
		Techniques: []string{"T0855", "T0836"},
		Remediation: []string{
			"Check with the owner of {src} which application sent the function.",
			"Restrict the commands {dst} accepts from {src} where the device or a protocol firewall allows it.",
			remediationLearnFirst,
		},
		Learnable: true,
	}
)

// types lists the engine's alert types for registration.
var types = []*alert.Type{NewDevice, NewConnection, NewProtocol, NewWrite, UnauthorizedProgramming,
	AddressRange, InternetAccess, ITOTCrossing, ModbusFunction, DNP3Function,
	S7Function, CIPService, NewFunction}

// functionType returns the unpermitted-function type of an operation
// protocol.
func functionType(protocol string) *alert.Type {
	switch protocol {
	case "modbus":
		return ModbusFunction
	case "dnp3":
		return DNP3Function
	case "s7comm":
		return S7Function
	case "enip", "cip":
		return CIPService
	}
	return NewFunction
}

package anomaly

import (
	"time"

	"github.com/otwatch/otwatch/internal/alert"
)

// The anomaly engine's alert types.
var (
	ScanPort = &alert.Type{
		ID: "scan.port", Engine: alert.Anomaly, Name: "Port scan",
		Title:       "{src} scanned the ports of {dst}",
		Description: "{src} tried to connect to {detail} of {dst} within a short time, as a port scanner does to learn which services a device offers before attacking them. OT devices seldom need more than a few ports from any one peer.",
		Severity:    alert.High, Category: "Scan",
		Techniques: []string{"T0846", "T0888"},
		Remediation: []string{
			"Identify who runs {src} and whether a scan of {dst} was authorised (a planned vulnerability assessment).",
			"If it was not, isolate {src} and examine it for malware or an intruder's tools.",
			"Restrict which hosts may reach {dst} at the firewall or switch, and close the services it does not need.",
		},
		Learnable: true,
		Threshold: alert.Threshold{Count: 25, Window: 2 * time.Minute},
	}
	ScanAddress = &alert.Type{
		ID: "scan.address", Engine: alert.Anomaly, Name: "Address scan",
		Title:       "{src} swept the addresses of {detail}",
		Description: "{src} sent connection attempts or echo requests to many addresses of one network ({detail}) within a short time, as a host discovery sweep does to map the plant before an attack.",
		Severity:    alert.High, Category: "Scan",
		Techniques: []string{"T0846"},
		Remediation: []string{
			"Identify who runs {src} and whether the sweep was authorised (an asset inventory or assessment tool).",
			"If it was not, isolate {src} and examine it for malware or an intruder's tools.",
			"Mark an authorised scanner with Learn so that its sweeps no longer alert, and limit the networks it may reach.",
		},
		Learnable: true,
		Threshold: alert.Threshold{Count: 50, Window: 2 * time.Minute},
	}
	ScanPLC = &alert.Type{
		ID: "scan.plc", Engine: alert.Anomaly, Name: "PLC scan (industrial ports on many hosts)",
		Title:       "{src} probed industrial protocol ports on {detail}",
		Description: "{src} tried to reach industrial protocol ports (Modbus, S7, EtherNet/IP, DNP3, IEC 104, OPC UA ...) on {detail} within a short time. Controllers answer there, so such a sweep finds every PLC and RTU an attacker could command.",
		Severity:    alert.High, Category: "Scan",
		Techniques: []string{"T0846", "T0888"},
		Remediation: []string{
			"Identify who runs {src} and whether the sweep was authorised.",
			"If it was not, isolate {src} and examine it for malware or an intruder's tools.",
			"Allow industrial protocols only from the HMIs, historians and engineering stations that need them.",
		},
		Learnable: true,
		Threshold: alert.Threshold{Count: 10, Window: 2 * time.Minute},
	}
	UnitIDSweep = &alert.Type{
		ID: "modbus.unit_id_sweep", Engine: alert.Anomaly, Name: "Modbus unit id sweep",
		Title:       "{src} swept the Modbus unit ids of {dst}",
		Description: "{src} addressed {detail} on Modbus server {dst} that it did not use while the sensor learned. Tools that look for the devices behind a Modbus gateway try one unit id after another.",
		Severity:    alert.High, Category: "Scan", Protocol: "modbus",
		Techniques: []string{"T0846", "T0888"},
		Remediation: []string{
			"Confirm with the owner of {src} whether it was commissioning or diagnosing devices behind {dst}.",
			"If not, isolate {src} and examine it.",
			"Limit which clients may reach {dst} on TCP 502; a gateway can often restrict the unit ids each client may use.",
		},
		Learnable: true,
		Threshold: alert.Threshold{Count: 10, Window: 2 * time.Minute},
	}
	ListIdentity = &alert.Type{
		ID: "enip.list_identity_broadcast", Engine: alert.Anomaly, Name: "EtherNet/IP List Identity broadcast or sweep",
		Title:       "{src} searched for EtherNet/IP devices ({detail})",
		Description: "{src} sent an EtherNet/IP List Identity request {detail}, which it did not do while the sensor learned. Every EtherNet/IP device that receives it answers with its vendor, product, revision and serial number: it is how tools and malware inventory Rockwell and other CIP controllers.",
		Severity:    alert.Medium, Category: "Scan", Protocol: "enip",
		Techniques: []string{"T0846", "T0888"},
		Remediation: []string{
			"Confirm with the owner of {src} whether an engineering tool (RSLinx, a commissioning tool) browsed the network.",
			"If not, isolate {src} and examine it for malware.",
			"Block UDP 44818 broadcasts between cells at the switch or firewall.",
		},
		Learnable: true,
		Threshold: alert.Threshold{Count: 10, Window: 2 * time.Minute},
	}
	SZLEnumeration = &alert.Type{
		ID: "s7comm.szl_enumeration", Engine: alert.Anomaly, Name: "S7 system status list enumeration",
		Title:       "{src} enumerated the system status lists of {dst}",
		Description: "{src} read {detail} from Siemens PLC {dst} that it did not read while the sensor learned. The system status lists describe the CPU, its modules, its operating mode, protection level and diagnostic buffer; reading many of them is how scanners fingerprint a PLC before attacking it.",
		Severity:    alert.Medium, Category: "Scan", Protocol: "s7comm",
		Techniques: []string{"T0888", "T0868"},
		Remediation: []string{
			"Confirm with the automation engineers whether {src} ran a diagnostic or engineering tool against {dst}.",
			"If not, isolate {src} and examine it.",
			"Set the CPU's protection level so that only authorised stations may read its diagnostics.",
		},
		Learnable: true,
		Threshold: alert.Threshold{Count: 8, Window: 2 * time.Minute},
	}
	ARPSpoofing = &alert.Type{
		ID: "arp.spoofing", Engine: alert.Anomaly, Name: "ARP spoofing (man in the middle)",
		Title:       "{src} claimed the address of {dst} in ARP",
		Description: "{src} sent ARP packets claiming that {detail}. Hosts that believe it send their traffic for {dst} to {src}, which can read and change it in transit: the classic man-in-the-middle attack on a LAN.",
		Severity:    alert.High, Category: "Abnormal communication", Protocol: "arp",
		Techniques: []string{"T0830"},
		Remediation: []string{
			"Find the switch port of the MAC address of {src} and disconnect it if the device is not known.",
			"Check the ARP caches of the hosts that talk to {dst} and clear the poisoned entries.",
			"Enable dynamic ARP inspection or static ARP entries for the controllers and their gateway.",
		},
		Learnable: true,
	}
	DuplicateIP = &alert.Type{
		ID: "arp.duplicate_ip", Engine: alert.Anomaly, Name: "Duplicate IP address",
		Title:       "Two devices use the address {detail}",
		Description: "Two MAC addresses answer for {detail}: {src} started using an address that {dst} still uses. Traffic for the address goes to one or the other, so commands and data may be lost; a rogue device can also take a controller's address to receive its commands.",
		Severity:    alert.Medium, Category: "Abnormal communication", Protocol: "arp",
		Techniques: []string{"T0830", "T0814"},
		Remediation: []string{
			"Find the switch ports of both MAC addresses and identify the two devices.",
			"Give one of them another address, or remove the device that should not be on the network.",
			"Keep an address plan for the OT network and reserve controller addresses in DHCP.",
		},
		Learnable: true,
	}
	FloodICMP = &alert.Type{
		ID: "flood.icmp", Engine: alert.Anomaly, Name: "ICMP echo flood",
		Title:       "ICMP echo flood against {dst}",
		Description: "{dst} received {detail}. Embedded controllers answer every echo request from a small CPU budget; a flood slows or stops their communication with HMIs and I/O.",
		Severity:    alert.Low, Category: "Abnormal communication", Protocol: "icmp",
		Techniques: []string{"T0814"},
		Remediation: []string{
			"Identify the sender ({src}) and stop the tool or device that floods.",
			"Rate-limit or block ICMP echo to controllers at the firewall or switch.",
		},
		Learnable: true,
		Threshold: alert.Threshold{Count: 500, Window: 10 * time.Second},
	}
	FloodSYN = &alert.Type{
		ID: "flood.syn", Engine: alert.Anomaly, Name: "TCP SYN flood",
		Title:       "TCP SYN flood against {dst}",
		Description: "{dst} received {detail}. A SYN flood fills a device's small table of half-open connections, so that HMIs and engineering stations can no longer connect: a denial of service against the controller.",
		Severity:    alert.High, Category: "Abnormal communication", Protocol: "tcp",
		Techniques: []string{"T0814"},
		Remediation: []string{
			"Identify the sender ({src}) and disconnect it.",
			"Check that {dst} still answers its HMIs and I/O; restart its communication module if it does not.",
			"Enable SYN flood protection on the firewall in front of the controllers.",
		},
		Learnable: true,
		Threshold: alert.Threshold{Count: 1000, Window: 10 * time.Second},
	}
	PollingRate = &alert.Type{
		ID: "anomaly.polling_rate_change", Engine: alert.Anomaly, Name: "Polling rate changed",
		Title:       "{src} changed how often it polls {dst} over {protocol}",
		Description: "{src} polled {dst} over {protocol} at a steady rate while the sensor learned; {detail}. A much faster poll can be a second master or a tool reading the process; a poll that slows down or stops can be a failing HMI or a denial of service.",
		Severity:    alert.Low, Category: "Abnormal communication",
		Techniques: []string{"T0801", "T0814"},
		Remediation: []string{
			"Ask the owner of {src} whether its configuration changed (a new screen, a changed scan class).",
			"If the rate went up, look for another process or tool on {src} that reads {dst}.",
			"If it went down or stopped, check that {src} and {dst} are healthy and still communicate.",
		},
		Learnable: true,
	}
	ValueOutOfRange = &alert.Type{
		ID: "anomaly.value_out_of_range", Engine: alert.Anomaly, Name: "Written value outside its learned range",
		Title:       "{src} wrote an unusual value to {dst}",
		Description: "{src} wrote {detail} on {dst}, outside the range of values written there while the sensor learned. A setpoint far outside its usual range can drive the process beyond its safe limits.",
		Severity:    alert.High, Category: "Abnormal communication", Protocol: "modbus",
		Techniques: []string{"T0836", "T0831"},
		Remediation: []string{
			"Ask the operators whether the value was entered on purpose and check the process on {dst}.",
			"Restore the previous value if it was not.",
			"Check who may write to {dst}, and set limits on the HMI's input fields and in the controller program.",
		},
		Learnable: true,
	}
	LoginAttempts = &alert.Type{
		ID: "auth.excessive_login_attempts", Engine: alert.Anomaly, Name: "Excessive failed login attempts",
		Title:       "{src} failed to log in to {dst} many times over {protocol}",
		Description: "{src} failed {detail} to log in to {dst} over {protocol}. So many failures in a short time come from password guessing, not from a person mistyping.",
		Severity:    alert.High, Category: "Authentication",
		Techniques: []string{"T0812", "T0859"},
		Remediation: []string{
			"Identify who runs {src} and stop the guessing tool.",
			"Check whether a later login from {src} to {dst} succeeded; if so, change the account's password.",
			"Replace default passwords on {dst} and lock accounts after repeated failures.",
		},
		Learnable: true,
		Threshold: alert.Threshold{Count: 10, Window: 5 * time.Minute},
	}
)

// types lists the engine's alert types for registration.
var types = []*alert.Type{
	ScanPort, ScanAddress, ScanPLC, UnitIDSweep, ListIdentity, SZLEnumeration,
	ARPSpoofing, DuplicateIP, FloodICMP, FloodSYN, PollingRate, ValueOutOfRange, LoginAttempts,
	GOOSESpoofing, OPCUAUnknownWrite,
}

// Package service names the service behind a TCP or UDP port, for flows
// that no protocol dissector claims. The sensor emits one "service"
// operation per flow (who offered which port, and whether it answered), so
// the inventory learns what every device serves and detection sees scans,
// even before a protocol has its own dissector.
package service

import "github.com/otwatch/otwatch/internal/dissect"

// Name returns the conventional name of the service on port (IANA service
// names, and the registered ports of industrial protocols), or "" if the
// port has none.
func Name(t dissect.Transport, port uint16) string {
	if t == dissect.TransportUDP {
		if n, ok := udp[port]; ok {
			return n
		}
	} else if n, ok := tcp[port]; ok {
		return n
	}
	return both[port]
}

// Industrial is reports whether the named service is an industrial protocol.
func Industrial(name string) bool { return industrial[name] }

var both = map[uint16]string{
	53:    "dns",
	123:   "ntp",
	161:   "snmp",
	162:   "snmptrap",
	502:   "modbus",
	2222:  "enip-io",
	2404:  "iec104",
	4840:  "opcua",
	20000: "dnp3",
	44818: "enip",
	47808: "bacnet",
	1911:  "fox",
	4911:  "fox-tls",
	18245: "ge-srtp",
	5007:  "melsec",
	9600:  "omron-fins",
	1962:  "pcworx",
	2455:  "codesys",
	1200:  "codesys-gateway",
	11740: "codesys-v3",
	34962: "profinet-rt-unicast",
	34963: "profinet-rt-multicast",
	34964: "profinet-cm",
	102:   "iso-tsap",
	789:   "crimson",
	1883:  "mqtt",
	8883:  "mqtt-tls",
	5094:  "hart-ip",
	20547: "proconos",
	2540:  "lonworks",
	2541:  "lonworks2",
	10001: "atg",
	5450:  "pi-server",
	5457:  "pi-server",
	4000:  "emerson-roc",
	38000: "abb-ranger",
	38001: "abb-ranger",
	38011: "abb-ranger",
	38012: "abb-ranger",
	38014: "abb-ranger",
	38015: "abb-ranger",
	38200: "abb-ranger",
	38210: "abb-ranger",
	38301: "abb-ranger",
	38400: "abb-ranger",
	38589: "abb-800xa",
	38593: "abb-800xa",
	38600: "abb-800xa",
	38971: "abb-800xa",
	39129: "abb-800xa",
	39278: "abb-800xa",
}

var tcp = map[uint16]string{
	20:   "ftp-data",
	21:   "ftp",
	22:   "ssh",
	23:   "telnet",
	25:   "smtp",
	80:   "http",
	88:   "kerberos",
	110:  "pop3",
	135:  "msrpc",
	139:  "netbios-ssn",
	143:  "imap",
	389:  "ldap",
	443:  "https",
	445:  "smb",
	636:  "ldaps",
	1433: "mssql",
	1521: "oracle",
	3306: "mysql",
	3389: "rdp",
	5432: "postgresql",
	5900: "vnc",
	5985: "winrm",
	5986: "winrm-tls",
	8080: "http-alt",
	8443: "https-alt",
}

var udp = map[uint16]string{
	67:   "dhcp",
	68:   "dhcp",
	69:   "tftp",
	137:  "netbios-ns",
	138:  "netbios-dgm",
	514:  "syslog",
	546:  "dhcpv6",
	547:  "dhcpv6",
	1900: "ssdp",
	5353: "mdns",
	5355: "llmnr",
	319:  "ptp-event",
	320:  "ptp-general",
}

var industrial = map[string]bool{
	"modbus": true, "enip": true, "enip-io": true, "iec104": true, "opcua": true, "dnp3": true,
	"bacnet": true, "fox": true, "fox-tls": true, "ge-srtp": true, "melsec": true, "omron-fins": true,
	"pcworx": true, "codesys": true, "codesys-gateway": true, "codesys-v3": true,
	"profinet-rt-unicast": true, "profinet-rt-multicast": true, "profinet-cm": true, "iso-tsap": true,
	"crimson": true, "hart-ip": true, "proconos": true, "lonworks": true, "lonworks2": true, "atg": true,
	"pi-server": true, "emerson-roc": true, "abb-ranger": true, "abb-800xa": true, "mqtt": true, "mqtt-tls": true,
}

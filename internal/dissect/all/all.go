// Package all links every built-in dissector into the binary. It is the one
// list of them: a protocol package registers itself from init, and a blank
// import here makes it part of otwatch.
package all

import (
	_ "github.com/otwatch/otwatch/internal/dissect/arp"       // register arp
	_ "github.com/otwatch/otwatch/internal/dissect/bacnet"    // register bacnet (BACnet/IP)
	_ "github.com/otwatch/otwatch/internal/dissect/cdp"       // register cdp (Cisco Discovery Protocol)
	_ "github.com/otwatch/otwatch/internal/dissect/dhcp"      // register dhcp
	_ "github.com/otwatch/otwatch/internal/dissect/dnp3"      // register dnp3 (TCP and UDP)
	_ "github.com/otwatch/otwatch/internal/dissect/dns"       // register dns, mdns and llmnr
	_ "github.com/otwatch/otwatch/internal/dissect/enip"      // register enip (EtherNet/IP + CIP)
	_ "github.com/otwatch/otwatch/internal/dissect/fins"      // register fins (Omron FINS/UDP and FINS/TCP)
	_ "github.com/otwatch/otwatch/internal/dissect/ftp"       // register ftp
	_ "github.com/otwatch/otwatch/internal/dissect/goose"     // register goose (GOOSE, GSE management) and sv (Sampled Values)
	_ "github.com/otwatch/otwatch/internal/dissect/hartip"    // register hartip (HART-IP and HART commands)
	_ "github.com/otwatch/otwatch/internal/dissect/http"      // register http
	_ "github.com/otwatch/otwatch/internal/dissect/iec104"    // register iec104 (IEC 60870-5-104)
	_ "github.com/otwatch/otwatch/internal/dissect/lldp"      // register lldp
	_ "github.com/otwatch/otwatch/internal/dissect/mms"       // mms (IEC 61850 MMS), decoded by s7comm's port 102 front end
	_ "github.com/otwatch/otwatch/internal/dissect/modbus"    // register modbus (Modbus/TCP)
	_ "github.com/otwatch/otwatch/internal/dissect/mqtt"      // register mqtt
	_ "github.com/otwatch/otwatch/internal/dissect/netbios"   // register netbios (name and datagram service)
	_ "github.com/otwatch/otwatch/internal/dissect/opcua"     // register opcua (OPC UA binary)
	_ "github.com/otwatch/otwatch/internal/dissect/profinet"  // register profinet (DCP, RT, alarms, PN-IO CM)
	_ "github.com/otwatch/otwatch/internal/dissect/rdp"       // register rdp
	_ "github.com/otwatch/otwatch/internal/dissect/s7comm"    // register s7comm (TCP 102 front end: TPKT/COTP, S7comm, S7comm-plus, hands MMS to mms)
	_ "github.com/otwatch/otwatch/internal/dissect/smb"       // register smb (SMB1, SMB2/3, NTLMSSP)
	_ "github.com/otwatch/otwatch/internal/dissect/snmp"      // register snmp (v1/v2c, v3 recognised)
	_ "github.com/otwatch/otwatch/internal/dissect/ssh"       // register ssh
	_ "github.com/otwatch/otwatch/internal/dissect/synphasor" // register synphasor (IEEE C37.118 synchrophasor)
	_ "github.com/otwatch/otwatch/internal/dissect/telnet"    // register telnet
	_ "github.com/otwatch/otwatch/internal/dissect/tls"       // register tls (handshake: SNI, certificate)
	_ "github.com/otwatch/otwatch/internal/dissect/vnc"       // register vnc (RFB)
)

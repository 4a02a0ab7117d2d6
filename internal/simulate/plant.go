package simulate

import (
	"net"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

// Role says what a host does in the plant.
type Role string

// The roles of the plant's hosts and of the hosts the scenarios add.
const (
	RoleRouter      Role = "router"
	RoleEngineering Role = "engineering-workstation"
	RoleHMI         Role = "hmi"
	RoleHistorian   Role = "historian"
	RolePLC         Role = "plc"
	RoleRTU         Role = "rtu"
	RoleScanner     Role = "scanner"
	RoleLaptop      Role = "laptop"
)

// Host is one network interface of a simulated machine. The router has one
// Host per subnet; both share its MAC.
type Host struct {
	Name   string           // short host name, unique per interface
	Role   Role             // what the host does
	Vendor string           // organisation that owns the MAC's OUI
	MAC    net.HardwareAddr // Ethernet address
	IP     netip.Addr       // IPv4 address
	Subnet netip.Prefix     // the subnet IP lies in
	TTL    uint8            // initial IP TTL of the host's stack
	// Identity is what a controller reports about itself over its
	// industrial protocols (zero for other hosts).
	Identity Identity
}

// Identity is the identification a controller returns to an engineering
// tool: S7comm SZL 0x0011 and 0x001C, or an EtherNet/IP ListIdentity reply.
type Identity struct {
	Vendor      string // manufacturer
	Product     string // product name or module type name
	OrderNumber string // catalogue number
	Firmware    string // firmware revision as the vendor writes it
	Serial      string // serial number
	Name        string // configured station name
	VendorID    uint16 // ODVA vendor id (EtherNet/IP only)
	DeviceType  uint16 // CIP device type (EtherNet/IP only)
	ProductCode uint16 // CIP product code (EtherNet/IP only)
}

// stack is the TCP/IP behaviour of a host's operating system.
type stack int

const (
	stackWindows stack = iota
	stackLinux
	stackEmbedded
	stackRouter
)

// idMode says how a stack chooses IPv4 identification values.
type idMode int

const (
	idGlobal  idMode = iota // one counter for all packets (Windows, embedded)
	idPerFlow               // one counter per flow from a random start (Linux)
	idRandom                // a random value per packet (raw-socket scanners)
	idZero                  // always zero (Linux kernel resets)
)

// hostSpec is a host with the stack parameters the simulator needs.
type hostSpec struct {
	Host
	stack  stack
	df     bool   // sets Don't Fragment on TCP
	window uint16 // receive window after the handshake
	// synWindow and synOpts are what the host sends in SYN or SYN-ACK.
	synWindow uint16
	synOpts   []layers.TCPOption
	arpEvery  int // seconds between gateway ARP refreshes (0: never)
}

var (
	control = netip.MustParsePrefix("10.10.1.0/24")
	field   = netip.MustParsePrefix("10.10.2.0/24")
	// routerMAC is the router's one MAC, on both subnets.
	routerMAC = mac("00:1e:bd:4a:17:c1")
)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err) // only called on the constants below
	}
	return m
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// plantSpecs lists the plant's hosts. Each OUI was checked against the IEEE
// registry (Wireshark's manuf file).
func plantSpecs() []hostSpec {
	return []hostSpec{
		{Host: Host{"rtr01-ctl", RoleRouter, "Cisco Systems, Inc", routerMAC, ip("10.10.1.1"), control, 255, Identity{}}, stack: stackRouter, window: 4128, synWindow: 4128},
		{Host: Host{"rtr01-fld", RoleRouter, "Cisco Systems, Inc", routerMAC, ip("10.10.2.1"), field, 255, Identity{}}, stack: stackRouter, window: 4128, synWindow: 4128},
		{Host: Host{"ews01", RoleEngineering, "Dell Inc.", mac("f8:b1:56:d3:2e:08"), ip("10.10.1.10"), control, 128, Identity{}}, stack: stackWindows, df: true, arpEvery: 45},
		{Host: Host{"hmi01", RoleHMI, "Hewlett Packard", mac("3c:d9:2b:71:5a:e4"), ip("10.10.1.21"), control, 128, Identity{}}, stack: stackWindows, df: true, arpEvery: 40},
		{Host: Host{"hmi02", RoleHMI, "Hewlett Packard", mac("3c:52:82:0f:9b:33"), ip("10.10.1.22"), control, 128, Identity{}}, stack: stackWindows, df: true, arpEvery: 50},
		{Host: Host{"hist01", RoleHistorian, "Dell Inc.", mac("b8:ac:6f:82:c4:50"), ip("10.10.1.30"), control, 64, Identity{}}, stack: stackLinux, df: true, arpEvery: 60},
		{Host: Host{"plc01", RolePLC, "Siemens AG", mac("00:1b:1b:6e:42:a9"), ip("10.10.2.11"), field, 30, siemensIdentity}, stack: stackEmbedded, window: 8192, synWindow: 8192, arpEvery: 120},
		{Host: Host{"plc02", RolePLC, "Telemechanique Electrique", mac("00:80:f4:0c:7d:12"), ip("10.10.2.12"), field, 64, Identity{}}, stack: stackEmbedded, window: 2920, synWindow: 2920, arpEvery: 180},
		{Host: Host{"plc03", RolePLC, "Rockwell Automation", mac("00:00:bc:5e:91:2f"), ip("10.10.2.13"), field, 64, rockwellIdentity}, stack: stackEmbedded, df: true, window: 4096, synWindow: 4096, arpEvery: 90},
		{Host: Host{"rtu01", RoleRTU, "Moxa Technologies Corp., Ltd.", mac("00:90:e8:3a:b6:04"), ip("10.10.2.20"), field, 255, Identity{}}, stack: stackEmbedded, window: 5840, synWindow: 5840, arpEvery: 150},
	}
}

// The identities of the PLCs that speak S7comm and EtherNet/IP.
var (
	siemensIdentity = Identity{
		Vendor: "Siemens AG", Product: "CPU 315-2 PN/DP", OrderNumber: "6ES7 315-2EH14-0AB0",
		Firmware: "V 3.2.6", Serial: "S C-H4N381192013", Name: "PLC01 Mixing",
	}
	rockwellIdentity = Identity{
		Vendor: "Rockwell Automation/Allen-Bradley", Product: "1756-L73/B LOGIX5573", OrderNumber: "1756-L73",
		Firmware: "20.11", Serial: "60a3b41c", Name: "PLC03_Packaging",
		VendorID: 1, DeviceType: 0x0e, ProductCode: 55,
	}
)

// scannerSpec is the unknown host of the portscan scenario: a Raspberry Pi
// on the control network running a SYN scanner.
func scannerSpec() hostSpec {
	return hostSpec{Host: Host{"unknown-b8279c", RoleScanner, "Raspberry Pi Foundation", mac("b8:27:eb:9c:01:5e"), ip("10.10.1.77"), control, 64, Identity{}}, stack: stackLinux, df: true}
}

// laptopSpec is the unknown laptop of the new-device scenario; it takes its
// address by DHCP.
func laptopSpec() hostSpec {
	return hostSpec{Host: Host{"unknown-54e1ad", RoleLaptop, "LCFC(Hefei) Electronics Technology co., ltd", mac("54:e1:ad:2b:88:f0"), ip("10.10.1.150"), control, 128, Identity{}}, stack: stackWindows, df: true}
}

// Plant returns the plant's hosts, the router once per subnet. The hosts the
// scenarios add are listed in Summary.Hosts.
func Plant() []Host {
	specs := plantSpecs()
	hs := make([]Host, len(specs))
	for i := range specs {
		hs[i] = specs[i].Host
		hs[i].MAC = append(net.HardwareAddr(nil), specs[i].MAC...)
	}
	return hs
}

// finish fills in the stack defaults of a spec.
func (h *hostSpec) finish() {
	switch h.stack {
	case stackWindows:
		h.synWindow, h.window = 64240, 64240
		h.synOpts = []layers.TCPOption{optMSS(1460), optNOP, optWS(8), optNOP, optNOP, optSACKPerm}
	case stackLinux:
		h.synWindow, h.window = 64240, 64240
		h.synOpts = []layers.TCPOption{optMSS(1460), optSACKPerm, optTS(0, 0), optNOP, optWS(7)}
	default:
		h.synOpts = []layers.TCPOption{optMSS(1460)}
	}
}

var (
	optNOP      = layers.TCPOption{OptionType: layers.TCPOptionKindNop}
	optSACKPerm = layers.TCPOption{OptionType: layers.TCPOptionKindSACKPermitted}
)

func optMSS(v uint16) layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindMSS, OptionData: []byte{byte(v >> 8), byte(v)}}
}

func optWS(shift uint8) layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionData: []byte{shift}}
}

func optTS(val, echo uint32) layers.TCPOption {
	return layers.TCPOption{OptionType: layers.TCPOptionKindTimestamps, OptionData: []byte{
		byte(val >> 24), byte(val >> 16), byte(val >> 8), byte(val),
		byte(echo >> 24), byte(echo >> 16), byte(echo >> 8), byte(echo)}}
}

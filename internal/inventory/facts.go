package inventory

import (
	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/dissect/service"
)

// Source reliability ranks: a fact from a higher rank wins a conflict; at
// equal rank the most recently seen value wins.
const (
	rankARP      uint8 = 10 // an IP address claimed in ARP against its holder
	rankOUI      uint8 = 20 // the MAC's registered organisation
	rankName     uint8 = 40 // name services: DNS, NetBIOS, mDNS, LLMNR
	rankBanner   uint8 = 50 // IT banners and headers: HTTP, TLS, SSH, SMB
	rankDHCP     uint8 = 60 // what the host says of itself to DHCP
	rankDiscover uint8 = 70 // link-layer discovery: LLDP, CDP, SSDP
	rankManage   uint8 = 80 // management protocols: SNMP
	rankICS      uint8 = 90 // industrial identity services: ENIP, S7 SZL, Modbus MEI, PROFINET DCP, BACnet
	rankUser     uint8 = 100
)

// rankOf returns the reliability of a fact key from a protocol.
func rankOf(protocol, key string) uint8 {
	switch protocol {
	case "dns", "mdns", "llmnr", "netbios", "netbios-ns", "nbns":
		return rankName
	case "http", "tls", "ssh", "smb", "ftp", "telnet", "rdp", "vnc":
		return rankBanner
	case "dhcp", "dhcpv6":
		return rankDHCP
	case "lldp", "cdp", "ssdp":
		return rankDiscover
	case "snmp":
		return rankManage
	}
	if service.Industrial(protocol) || protocol == "s7comm" || protocol == "cip" || protocol == "profinet" || protocol == "profinet-dcp" || protocol == "goose" || protocol == "mms" {
		if key == dissect.FactHostname {
			return rankDiscover
		}
		return rankICS
	}
	return rankBanner
}

// bestFacts returns, for each key, the value that wins: highest rank, then
// most recently seen.
func (inv *Inventory) bestFacts(d *device) map[string]string {
	type pick struct {
		v    sym
		rank uint8
		last int64
	}
	best := map[sym]pick{}
	visit := func(fs []fact) {
		for _, f := range fs {
			b, ok := best[f.key]
			if !ok || f.rank > b.rank || f.rank == b.rank && f.last > b.last {
				best[f.key] = pick{f.value, f.rank, f.last}
			}
		}
	}
	if d.mac != 0 {
		visit(inv.macs[d.mac-1].facts)
	}
	if d.routed != 0 {
		visit(inv.routed[d.routed-1].facts)
	}
	for _, a := range d.addrs {
		visit(inv.addrs[a-1].facts)
	}
	out := make(map[string]string, len(best))
	for k, p := range best {
		out[inv.names.str(k)] = inv.names.str(p.v)
	}
	return out
}

// serviceName is the conventional name of a transport port.
func serviceName(t uint8, port uint16) string {
	if t != 6 && t != 17 {
		return ""
	}
	return service.Name(dissect.Transport(t), port)
}

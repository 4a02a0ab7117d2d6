package simulate

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

var (
	broadcastMAC = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	zeroMAC      = net.HardwareAddr{0, 0, 0, 0, 0, 0}
	ipZero       = netip.IPv4Unspecified()
	ipBroadcast  = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

func arpLayer(op uint16, srcMAC net.HardwareAddr, srcIP netip.Addr, dstMAC net.HardwareAddr, dstIP netip.Addr) *layers.ARP {
	return &layers.ARP{
		AddrType:          layers.LinkTypeEthernet,
		Protocol:          layers.EthernetTypeIPv4,
		HwAddressSize:     6,
		ProtAddressSize:   4,
		Operation:         op,
		SourceHwAddress:   srcMAC,
		SourceProtAddress: srcIP.AsSlice(),
		DstHwAddress:      dstMAC,
		DstProtAddress:    dstIP.AsSlice(),
	}
}

// arpRequest emits an ARP request from n for target at t, broadcast or, to
// refresh a cache entry, unicast to dst.
func (s *sim) arpRequest(t time.Duration, n *node, target netip.Addr, dst net.HardwareAddr) {
	if dst == nil {
		dst = broadcastMAC
	}
	s.emit(&frame{at: t, ethSrc: n.MAC, ethDst: dst, arp: arpLayer(layers.ARPRequest, n.MAC, n.IP, zeroMAC, target)})
}

// arpExchange emits a request from asker for target's address and target's
// reply; it returns the time of the reply.
func (s *sim) arpExchange(t time.Duration, asker, target *node, unicast bool, d time.Duration) time.Duration {
	var dst net.HardwareAddr
	if unicast {
		dst = target.MAC
	}
	s.arpRequest(t, asker, target.IP, dst)
	t += d
	s.emit(&frame{at: t, ethSrc: target.MAC, ethDst: asker.MAC, arp: arpLayer(layers.ARPReply, target.MAC, target.IP, asker.MAC, asker.IP)})
	return t
}

// arpProbe emits an RFC 5227 probe (sender address 0.0.0.0) for n's address.
func (s *sim) arpProbe(t time.Duration, n *node) {
	s.emit(&frame{at: t, ethSrc: n.MAC, ethDst: broadcastMAC, arp: arpLayer(layers.ARPRequest, n.MAC, ipZero, zeroMAC, n.IP)})
}

// arpAnnounce emits a gratuitous ARP request announcing n's address.
func (s *sim) arpAnnounce(t time.Duration, n *node) {
	s.emit(&frame{at: t, ethSrc: n.MAC, ethDst: broadcastMAC, arp: arpLayer(layers.ARPRequest, n.MAC, n.IP, zeroMAC, n.IP)})
}

// dhcpExchange emits a DHCP DISCOVER, OFFER, REQUEST and ACK between a
// Windows client and the router's DHCP server, which leases client.IP. It
// returns the time of the ACK and the transaction id.
func (s *sim) dhcpExchange(t time.Duration, client, server *node, xid uint32, rng *rand.Rand) time.Duration {
	clientID := append([]byte{1}, client.MAC...)
	params := []byte{1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252}
	yiaddr := client.IP.AsSlice()
	clientMsg := func(typ layers.DHCPMsgType, extra ...layers.DHCPOption) *layers.DHCPv4 {
		opts := []layers.DHCPOption{
			layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(typ)}),
			layers.NewDHCPOption(layers.DHCPOptClientID, clientID),
		}
		opts = append(opts, extra...)
		opts = append(opts,
			layers.NewDHCPOption(layers.DHCPOptHostname, []byte(client.Name)),
			layers.NewDHCPOption(layers.DHCPOptClassID, []byte("MSFT 5.0")),
			layers.NewDHCPOption(layers.DHCPOptParamsRequest, params),
		)
		return &layers.DHCPv4{Operation: layers.DHCPOpRequest, HardwareType: layers.LinkTypeEthernet, Xid: xid, ClientHWAddr: client.MAC, Options: opts}
	}
	serverMsg := func(typ layers.DHCPMsgType) *layers.DHCPv4 {
		opts := []layers.DHCPOption{
			layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(typ)}),
			layers.NewDHCPOption(layers.DHCPOptServerID, server.IP.AsSlice()),
			layers.NewDHCPOption(layers.DHCPOptLeaseTime, []byte{0, 1, 0x51, 0x80}),
			layers.NewDHCPOption(layers.DHCPOptT1, []byte{0, 0, 0xa8, 0xc0}),
			layers.NewDHCPOption(layers.DHCPOptT2, []byte{0, 1, 0x27, 0x50}),
			layers.NewDHCPOption(layers.DHCPOptSubnetMask, []byte{255, 255, 255, 0}),
			layers.NewDHCPOption(layers.DHCPOptRouter, server.IP.AsSlice()),
			layers.NewDHCPOption(layers.DHCPOptDNS, server.IP.AsSlice()),
			layers.NewDHCPOption(layers.DHCPOptDomainName, []byte("plant.local")),
		}
		return &layers.DHCPv4{Operation: layers.DHCPOpReply, HardwareType: layers.LinkTypeEthernet, Xid: xid,
			YourClientIP: yiaddr, NextServerIP: net.IPv4zero.To4(), ClientHWAddr: client.MAC, Options: opts}
	}
	fromClient := func(t time.Duration, m *layers.DHCPv4) {
		h := layers.IPv4{TTL: client.TTL, Protocol: layers.IPProtocolUDP, SrcIP: ipZero.AsSlice(), DstIP: ipBroadcast.AsSlice()}
		s.emit(&frame{at: t, src: client, ethSrc: client.MAC, ethDst: broadcastMAC, ip: h,
			udp: &layers.UDP{SrcPort: 68, DstPort: 67}, dhcp: m, pad: bootpPad(m)})
	}
	fromServer := func(t time.Duration, m *layers.DHCPv4) {
		h := server.ipv4(client.IP, layers.IPProtocolUDP)
		s.emit(&frame{at: t, src: server, ethSrc: server.MAC, ethDst: client.MAC, ip: h,
			udp: &layers.UDP{SrcPort: 67, DstPort: 68}, dhcp: m, pad: bootpPad(m)})
	}
	serverID := layers.NewDHCPOption(layers.DHCPOptServerID, server.IP.AsSlice())
	requested := layers.NewDHCPOption(layers.DHCPOptRequestIP, yiaddr)

	fromClient(t, clientMsg(layers.DHCPMsgTypeDiscover))
	t += between(rng, 2*time.Millisecond, 8*time.Millisecond)
	fromServer(t, serverMsg(layers.DHCPMsgTypeOffer))
	t += between(rng, 1*time.Millisecond, 4*time.Millisecond)
	fromClient(t, clientMsg(layers.DHCPMsgTypeRequest, requested, serverID))
	t += between(rng, 1*time.Millisecond, 5*time.Millisecond)
	fromServer(t, serverMsg(layers.DHCPMsgTypeAck))
	return t
}

// bootpPad returns the zero bytes that bring a DHCP message to the 300-byte
// BOOTP minimum (RFC 1542, section 3.3), as most stacks send it.
func bootpPad(m *layers.DHCPv4) int {
	return max(0, 300-int(m.Len()))
}

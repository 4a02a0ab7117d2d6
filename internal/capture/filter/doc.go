// Package filter compiles capture filter expressions, written in the
// pcap-filter language that tcpdump users type, into classic BPF programs
// for the Linux kernel's socket filter, in pure Go.
//
// The supported subset is what a passive sensor on a SPAN port needs:
//
//	ether host|src|dst MAC     ether proto N
//	vlan [ID]                  arp  rarp  ip  ip6  tcp  udp  sctp  icmp  icmp6
//	[src|dst] host ADDR        (IPv4 or IPv6; ip, ip6, arp, rarp may qualify)
//	[src|dst] net CIDR         (also "net ADDR mask MASK" for IPv4)
//	[tcp|udp|sctp] [src|dst] port N
//	[tcp|udp|sctp] [src|dst] portrange A-B
//	proto N   ip proto N   ip6 proto N
//	greater N   less N
//
// combined with and/&&, or/||, not/! and parentheses. As in tcpdump, not
// binds tightest while and and or have equal precedence and associate from
// left to right, so "a or b and c" means "(a or b) and c". A bare address,
// network or number after and/or reuses the qualifiers of the primitive
// before it ("port 502 or 503", "host 10.0.0.1 or 10.0.0.2"); as in
// tcpdump, an unqualified address at the start and a MAC address without
// "ether" are errors. Names are not resolved: hosts and ports are numeric.
// Direction may also be "src or dst" (the default) or "src and dst".
//
// The generated code follows libpcap's: "port" and "portrange" on IPv4 test
// only the first fragment of a datagram and find the transport header from
// the IHL field; on IPv6 they look at the fixed header's next-header field;
// "host" and "net" without a protocol also match ARP and RARP sender and
// target addresses; "tcp", "udp" and "proto N" on IPv6 also accept one
// fragment header before the transport header.
//
// VLAN caveat: "vlan" checks for an 802.1Q, 802.1ad or QinQ (0x9100) tag in
// the frame itself and shifts the offsets of every primitive after it by
// four bytes, as tcpdump does for capture files. On a live Linux AF_PACKET
// socket the kernel removes the outer tag from the frame before the socket
// filter runs and reports it out of band (packet auxdata), so there the
// filter sees the untagged frame: "vlan" never matches the outer tag, and
// "tcp port 502" also matches tagged frames. Offline, with Match on frames
// that carry the tag, the tag is visible.
package filter

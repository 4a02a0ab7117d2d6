// Package decode turns captured frames into the fields the sensor needs:
// link layer (Ethernet, 802.1Q/QinQ, Linux cooked capture v1/v2, BSD null
// loopback, raw IP), ARP, IPv4 with bounded fragment reassembly, IPv6 with
// extension headers, TCP, UDP, ICMP and ICMPv6.
//
// It follows gopacket's DecodingLayer approach: every header is decoded in
// place into a Packet the caller owns and reuses, so decoding allocates
// nothing per packet. Headers are read with our own bounds-checked views
// rather than gopacket's layer types so that hostile input costs no
// allocation either: malformed headers return package sentinel errors,
// never formatted ones. gopacket serves the tests as an independent oracle.
//
// Buffer ownership: Packet.Payload and the link-layer slices point into the
// frame passed to Decode, or into the Decoder's reassembly buffer for a
// datagram completed from fragments; both are valid until the next call to
// Decode.
package decode

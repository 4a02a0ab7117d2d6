// Package dns decodes the Domain Name System (RFC 1035; UDP and TCP port
// 53, TCP messages behind a two-octet length, section 4.2.2) and the two
// link-local resolvers that share its message format: multicast DNS (RFC
// 6762, UDP 5353) and LLMNR (RFC 4795, UDP and TCP 5355). Each protocol is
// a separate registered Dissector value (DNS, MDNS, LLMNR).
//
// Questions become targets; answers that bind a name to an address (A,
// AAAA, and PTR records under in-addr.arpa and ip6.arpa) become hostname
// facts, each paired with an "ip" attribute naming the address it
// describes, which may belong to neither endpoint of the operation.
package dns

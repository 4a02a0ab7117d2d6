// Package netbios decodes the NetBIOS over TCP/UDP name and datagram
// services (RFC 1001, RFC 1002): the name service on UDP 137 (queries,
// registrations, releases, refreshes, node status) and the datagram
// service on UDP 138. Names are decoded from the first-level encoding
// (RFC 1001 14.1) and shown as tshark does, "NAME<20>", the last octet
// being the suffix type (<00> workstation, <20> file server, <1C> domain
// controllers, <1B> domain master browser, <1D> master browser).
//
// Unique workstation and server names (suffixes <00> and <20>) become
// hostname facts, each paired with an "ip" attribute naming the address
// it is bound to.
package netbios

// Package arp turns ARP frames (RFC 826, Ethernet/IPv4) into operations:
// requests as discovery, replies and gratuitous announcements as identity
// facts binding a MAC address to an IPv4 address. ARP spoofing detection
// reads these operations.
package arp

// Package dhcp turns DHCPv4 messages (RFC 2131, options from RFC 2132,
// UDP ports 67 and 68) into operations that tell the inventory who a
// device is: the client's hardware address, the host name it asks for
// (option 12), its vendor class (option 60), client identifier (option 61)
// and parameter request list (option 55, a fingerprint of the DHCP
// implementation), and the address a server binds to it (yiaddr of a
// DHCPACK). Each message is one operation (see README.md for why
// messages are not paired). DHCP over TCP (bulk leasequery, RFC 6926
// section 6.1) is framed by a two-octet message size.
package dhcp

// Package lldp decodes the Link Layer Discovery Protocol (IEEE 802.1AB,
// EtherType 0x88CC). Every LLDPDU is one discovery operation whose client
// is the sending station; its system name, description and management
// addresses become identity facts, its chassis and port identifiers,
// capabilities and time to live attributes.
package lldp

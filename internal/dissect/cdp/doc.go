// Package cdp decodes the Cisco Discovery Protocol (versions 1 and 2,
// IEEE 802.3 frames with LLC/SNAP OUI 00:00:0c, protocol id 0x2000), as
// documented by Cisco and implemented by public dissectors (Wireshark's
// packet-cdp.c). Every advertisement is one discovery operation whose
// client is the sender: device id → hostname, software version →
// firmware, platform → model, addresses → ip facts; port id, capabilities,
// VTP domain and native VLAN are attributes.
package cdp

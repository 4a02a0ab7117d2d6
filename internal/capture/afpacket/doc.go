// Package afpacket captures frames live from a Linux interface through a
// memory-mapped AF_PACKET socket with a TPACKET_V3 ring (pure Go, on
// github.com/gopacket/gopacket/afpacket), and sends raw frames with an
// Injector.
//
// Frames are handed out without copying: Packet.Data points into the
// kernel's ring and is valid only until the next ReadPacket or Close.
//
// The Linux receive path removes the outer 802.1Q/802.1ad tag of every
// frame and passes it beside the frame (packet auxdata). The Source puts
// the tag back between the MAC addresses and the EtherType, with the TPID
// and the whole TCI (priority, DEI, VLAN ID) the kernel reported, so that
// decoders see the frame as it was on the wire; for those frames Data is a
// copy. A tag whose TCI is zero (priority 0, VLAN 0) cannot be told from
// no tag and is not restored. The kernel runs the capture filter before
// the tag is restored: see package filter for what "vlan" means there.
package afpacket

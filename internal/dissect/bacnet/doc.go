// Package bacnet decodes BACnet/IP: the BACnet Virtual Link Control layer
// of ANSI/ASHRAE 135 Annex J (UDP port 47808), the network layer (clause 6:
// NPDU control, DNET/DADR, SNET/SADR, hop count, network layer messages)
// and the application layer (clause 20: the eight APDU types, invoke id
// pairing of confirmed requests with their acks, errors, rejects and
// aborts; clauses 13 to 17 and 21: the common confirmed and unconfirmed
// services). Identity facts come from I-Am (clause 16.10) and from
// ReadProperty acks of Device object properties (clause 12.11).
//
// BACnet over ISO 8802-2 LLC on Ethernet (clause 7, SAP 0x82) is decoded by
// FrameDissector from the NPDU on, one operation per frame.
//
// Segmented messages (clause 5.2) are recognised and counted, not
// reassembled.
package bacnet

//go:generate go run ../internal/vendorgen -registry bacnet -pkg bacnet -what "ASHRAE BACnet vendor identifiers (ANSI/ASHRAE 135, clause 23; the list ASHRAE keeps)" -o vendors_gen.go

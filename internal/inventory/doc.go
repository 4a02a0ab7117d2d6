// Package inventory builds the device inventory from the sensor's traffic:
// it observes every decoded frame (pipeline.Observer) and every operation
// (dissect.Emitter) and keeps devices, the facts known about them with
// their provenance, their classification (device type and Purdue level,
// with the evidence for it) and the connections between them. Changes
// become typed events handed to a Sink.
//
// Identity. A device on the monitored segment is keyed by its MAC address
// and may hold several IP addresses. An IP address is given to the MAC
// that claims it in ARP, else to the one non-forwarding MAC that sends from
// it. Once bound, an address is held by its MAC while that MAC keeps
// talking (Options.Hold): another MAC's ARP claim on it, the spoofing of a
// man in the middle or a duplicate address, does not move it but stays a
// conflict, shown as the claimant's FactClaimedIP fact and an
// EventIPConflict, and the claimant remains a device of its own. A MAC
// that sends from more than a few IPs, or from IPs other MACs own, forwards
// for others (a router): it keeps only the IPs it claims itself, and the
// hosts behind it become devices keyed by IP. Group addresses, 0.0.0.0,
// broadcast IPs, addresses that never sent anything and the sensor's own
// addresses never become devices.
//
// A BACnet router forwards the messages of devices on BACnet networks the
// sensor does not see (MS/TP, ARCNET, other B/IP or Ethernet segments),
// naming their origin in the NPDU (SNET, SADR). The identity such a
// message carries (I-Am, ReadProperty of the Device object) makes a device
// of its own, keyed by the router's device, the network number and the MAC
// address on that network (Device.Address "bacnet:<snet>:<sadr>"), linked
// to the router by a Connection whose Relation is RelationRoutedBy. The
// router's MAC (BACnet/Ethernet) and IP (BACnet/IP) lead to one routed
// device once both are bound to the router's device.
//
// Binding decisions are made on a periodic resolution step (Options.Tick of
// capture time, and Flush), after an address has been seen for
// Options.Settle, so that the early frames of a capture do not give a
// router's MAC the IPs it forwards for. Events are dispatched from the same
// step.
//
// An Inventory is not safe for concurrent use; feed it from the pipeline's
// goroutine and take snapshots between frames.
package inventory

// Package pipeline is the sensor's packet path: decode → flow table →
// evidence ring → TCP reassembly → dissector dispatch → operations. One
// Pipeline runs on one goroutine; the sensor runs one per capture worker.
//
// Dispatch picks a dissector for a flow by the server's TCP/UDP port, then
// by content probe on the first payload for ports no dissector claims, and
// layer-2 frames by EtherType. Every TCP and UDP flow also yields one
// "service" operation saying which port the client asked for and whether
// the server answered, so the path is exercised end to end for protocols
// without a dissector of their own.
package pipeline

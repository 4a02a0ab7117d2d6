// Package evidence keeps the last packets of every flow so that, when an
// alert fires, the packets around its trigger can be cut into a pcapng file
// that Wireshark opens.
//
// A Ring holds packet records back to back in one circular byte arena that is
// allocated once. Each record is a 40-byte header followed by the captured
// bytes, padded to 8 bytes. Every flow keeps a singly linked list of its
// records, oldest first, bounded by Options.PerFlowPackets and
// Options.PerFlowBytes; the flows themselves sit in a fixed table of
// Options.MaxFlows entries found through an open-addressing index. Memory is
// therefore fixed at New: the arena, about 48 bytes per flow entry and 8
// bytes per flow of index.
//
// Records are addressed by their absolute byte position in the arena's
// history, a number that only grows and so never names two records. When the
// arena wraps, the records about to be overwritten are reclaimed first, oldest
// first, and removed from their flows; a position outside the live window, or
// a header naming another flow, is never read as a packet. A flow can thus
// never return bytes that were overwritten by another flow.
//
// WritePcapng writes packets from one or several flows into a pcapng file
// with nanosecond timestamps, one interface per link type and optional
// comments.
package evidence

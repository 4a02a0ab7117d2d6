// Package goose decodes the IEC 61850 layer-2 publish/subscribe messages:
// GOOSE (IEC 61850-8-1 clause 18 and Annex A, EtherType 0x88B8), GSE
// management (EtherType 0x88B9) and, as a recogniser, Sampled Values
// (IEC 61850-9-2, EtherType 0x88BA).
//
// Every GOOSE frame is one operation whose client is the publishing IED and
// whose server is the destination multicast address. The dissector keeps a
// bounded table of the last state of each publisher's control block
// (source MAC and gocbRef) so that it can tell a retransmission ("publish")
// from a new state ("state_change") and flag what breaks the stNum/sqNum
// rules of IEC 61850-7-2 (18.2.3) or changes the control block's
// configuration: the "sequence" attribute, which detection engines read.
// Sampled Values streams are reported at most once per second per svID.
package goose

// Package dnp3 decodes DNP3 (IEEE Std 1815-2012, "IEEE Standard for Electric
// Power Systems Communications - Distributed Network Protocol (DNP3)") carried
// over TCP and UDP as described in its Annex C (IP networking, port 20000).
//
// The three layers are decoded in turn: the data link layer (clause 9: start
// bytes 0x0564, length, control, destination, source, header CRC and 16-byte
// data blocks each followed by a CRC-16/DNP), the transport function
// (clause 8: FIR/FIN/sequence, fragment reassembly) and the application layer
// (clauses 4 and 5: application control, function code, internal
// indications and object headers; object sizes from Annex A).
//
// A Session pairs each master request with the outstation's response by
// application sequence number and emits one dissect.Operation per pair;
// unsolicited responses, confirmations, link-layer-only exchanges and
// protocol violations (bad CRCs, transport sequence errors, truncated
// objects) are operations of their own.
package dnp3

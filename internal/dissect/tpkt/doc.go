// Package tpkt parses the ISO transport stack that industrial protocols
// carry over TCP port 102: TPKT framing (RFC 1006, "ISO Transport Service
// on top of the TCP", section 6) and the COTP transport protocol data units
// of ISO 8073 / ITU-T X.224 (connection request CR, connection confirm CC,
// data DT, disconnect request DR, disconnect confirm DC, TPDU error ER),
// with the TSAP and TPDU-size parameters of connection set-up (X.224
// section 13.3.4), and the reassembly of DT TPDUs into TSDUs.
//
// It is a library for dissectors (S7comm, IEC 61850 MMS), not a dissector:
// it registers nothing. Parsing allocates nothing; parsed values point into
// the input.
package tpkt

// Package iec104 decodes IEC 60870-5-104 ("Telecontrol equipment and
// systems - Part 5-104: Transmission protocols - Network access for IEC
// 60870-5-101 using standard transport profiles", edition 2, 2006) carried
// over TCP port 2404.
//
// The APCI (clause 5: start byte 0x68, APDU length 4..253, four control
// octets) is decoded in its three formats: I-format (numbered information
// transfer with send and receive sequence numbers), S-format (numbered
// supervisory acknowledgement) and U-format (unnumbered STARTDT, STOPDT and
// TESTFR, act and con). Send sequence numbers are tracked per direction and
// acknowledgements are checked against what the other side sent (clause
// 5.1); a gap, a repeat or an acknowledgement of frames never sent is a
// protocol violation.
//
// The ASDU of every I-format APDU is decoded as IEC 60870-5-101 (clause 7)
// with the 104 field sizes (clause 9): type identification, variable
// structure qualifier, two-octet cause of transmission (test bit, P/N bit,
// cause, originator address), two-octet common address and three-octet
// information object addresses. Information element sizes come from
// IEC 60870-5-101 clause 7.3 and IEC 60870-5-104 clause 8.
//
// A Session pairs each command (activation or deactivation) with its
// confirmation and, where the standard sends one, its activation
// termination, and emits one dissect.Operation per command. Monitoring
// ASDUs (process information in the monitor direction) are one operation
// each with a few of their information object addresses; U-format
// act/con pairs are operations of their own.
package iec104

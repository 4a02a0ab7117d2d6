// Package enip dissects EtherNet/IP (ODVA "The CIP Networks Library,
// Volume 2: EtherNet/IP Adaptation of CIP", chapter 2: encapsulation, the
// common packet format, class 0/1 I/O over UDP) and the CIP messages it
// carries (Volume 1; decoded by package cip).
//
// TCP and UDP port 44818 carry encapsulation messages: session management,
// List Identity / List Services / List Interfaces, and explicit CIP
// messages in SendRRData (unconnected) and SendUnitData (connected). UDP
// port 2222 carries cyclic implicit (I/O) data. See README.md for the
// operations emitted.
package enip

// Package s7comm decodes Siemens S7 communication (S7comm, protocol id
// 0x32) and recognises S7comm-plus (protocol id 0x72) over ISO-on-TCP: TPKT
// (RFC 1006) and COTP class 0 (ISO 8073), parsed by package tpkt, on TCP
// port 102.
//
// Siemens publishes no specification of either protocol. The layouts here
// follow the public descriptions of the Wireshark S7comm dissector
// (epan/dissectors/packet-s7comm.c, Thomas Wiens), the S7comm-plus
// Wireshark plugin and S7CommPlusDriver (function codes), and Siemens'
// "System Software for S7-300/400 System and Standard Functions" manual
// for the system status lists (SZL/SSL) 0x0011 and 0x001C.
//
// One operation is emitted per request and answer, paired by PDU
// reference (S7comm) or sequence number (S7comm-plus); COTP connection set-
// up is an operation of protocol "cotp". See README.md for the functions,
// classes and what is not decoded.
//
// The dissector is the one front end of TCP port 102: a connection whose
// first data is the ISO session layer rather than S7 is handed, TSDU by
// TSDU, to package mms (IEC 61850 MMS).
package s7comm

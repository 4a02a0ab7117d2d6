// Package profinet decodes PROFINET IO (IEC 61158-5-10 and IEC 61158-6-10,
// PROFINET IO application layer protocol and service definitions, as
// published by PROFIBUS & PROFINET International).
//
// Two dissectors are registered:
//
//   - "profinet", a layer-2 dissector for EtherType 0x8892 (PROFINET
//     real-time frames). The FrameID (IEC 61158-6-10, table "FrameID
//     range") selects the frame kind: cyclic RT class 1/2/3 data, PTCP
//     time synchronisation, fragments, alarms (RTA PDUs) and the Discovery
//     and Configuration Protocol (DCP: identify, hello, get, set).
//     Cyclic and synchronisation frames are counted per relation (source
//     MAC, destination MAC, FrameID) in a fixed table and announced by
//     one operation when a relation is first seen; DCP and alarms give
//     an operation per exchange.
//   - "pn_io_cm", the PROFINET IO context manager over connectionless
//     DCE/RPC (DCE 1.1 RPC, chapter 12 "Connectionless RPC Protocol
//     Machines", and IEC 61158-6-10 "RPC" and "Record data" clauses) on
//     UDP 34964: connect, release, read, write, control and implicit
//     read, paired by activity UUID and sequence number, with the I&M0
//     record (index 0xAFF0) decoded into identity facts.
package profinet

// Package snmp decodes the Simple Network Management Protocol: SNMPv1
// (RFC 1157) and SNMPv2c (RFC 1901, PDUs of RFC 3416) in BER (X.690), on
// UDP 161 (agents) and 162 (notification receivers), and over TCP (RFC
// 3430) when found by content. SNMPv3 (RFC 3412) messages are recognised
// and their plaintext scoped PDUs decoded; encrypted ones are not.
//
// Requests and responses are paired by request-id. Object identifiers
// become targets; sysDescr, sysName and sysObjectID in responses and
// notifications become identity facts. The community string is never
// kept: only whether it is one of the well-known defaults.
package snmp

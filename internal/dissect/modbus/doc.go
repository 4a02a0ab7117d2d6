// Package modbus decodes Modbus/TCP ("MODBUS Messaging on TCP/IP
// Implementation Guide V1.0b") carrying the PDUs of the "MODBUS Application
// Protocol Specification V1.1b3", and Schneider Electric's UMAS (function
// 90) as far as its function byte.
//
// A session frames the byte stream by the MBAP header (transaction id,
// protocol id 0, length, unit id), pairs each request with its response by
// transaction id in a fixed table of outstanding requests, and emits one
// operation per pair: the function by name and class, the coils, inputs,
// registers or file records it addresses as targets, written values as
// attributes, exception responses as errors, and the objects of Read Device
// Identification (43/14) and the text of Report Server ID (17) as identity
// facts of the server. The steady polling path allocates nothing.
package modbus

// Package hartip decodes HART-IP (FieldComm Group HCF_SPEC-085) carried
// over UDP and TCP port 5094, and the HART commands it carries (universal
// commands, HCF_SPEC-127; common practice commands, HCF_SPEC-151).
//
// A HART-IP message is an eight-byte header (version, message type,
// message ID, status, sequence number, byte count) and a body. Session
// Initiate, Session Close and Keep Alive manage the session; a
// Token-Passing PDU (the "pass-through" message) carries one HART frame
// (delimiter, short or long address, command, byte count, response code
// and device status in a response, data, check byte) and a Direct PDU
// carries a list of commands without HART framing.
//
// A Session pairs each request with the response (or error) of the same
// message ID and sequence number and emits one dissect.Operation per
// session message and per HART command: the command's name and class,
// the device it addresses, the response code as the result, the device
// status flags and, from the responses to command 0 (and 11, 21: Read
// Unique Identifier), the manufacturer ID, device type, device ID and
// revisions as identity facts, and from command 20 and 22 the long tag
// as the device's host name.
package hartip

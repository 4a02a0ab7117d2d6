// Package dissect is where protocol dissectors plug into the sensor.
//
// A protocol package registers itself from init with Register (TCP and UDP
// ports plus a content probe for non-standard ports) or RegisterEtherType
// (layer-2 protocols such as ARP). The pipeline creates one Session per flow
// that a dissector claims and feeds it ordered bytes; the session emits
// Operations: normalized records of what one device asked another to do and
// what came back.
//
// Buffer ownership: every []byte handed to a dissector and every *Operation
// handed to an Emitter is valid only during the call. Keep nothing without
// copying it.
package dissect

package detect

import (
	"unsafe"

	"github.com/otwatch/otwatch/internal/dissect"
)

// Proto is an operation protocol that engines tell apart, as a number.
// The Detector looks the protocol of an operation up once for every
// engine (Detector.Proto), so that each engine switches on a number
// rather than comparing the name with every case of its own.
type Proto uint8

// Protos. The industrial control protocols (Industrial) come last.
const (
	ProtoOther Proto = iota // a protocol no engine names
	ProtoService
	ProtoARP
	ProtoDNS
	ProtoTLS
	ProtoHTTP
	ProtoModbus
	ProtoDNP3
	ProtoS7comm
	ProtoS7commPlus
	ProtoCOTP
	ProtoENIP
	ProtoCIP
	ProtoBACnet
	ProtoIEC104
	ProtoOPCUA
	ProtoGOOSE
	// ProtoIndustrial is another industrial control protocol: PROFINET
	// (profinet, pn_io_cm), IEC 61850 (sv, mms), FINS, HART-IP and
	// C37.118 (synphasor).
	ProtoIndustrial
)

// ProtoOf returns the Proto of an operation protocol name (an
// operation's Protocol). It is not inlined, so that Detector.Proto is.
//
//go:noinline
func ProtoOf(protocol string) Proto {
	switch protocol {
	case "service":
		return ProtoService
	case "arp":
		return ProtoARP
	case "dns":
		return ProtoDNS
	case "tls":
		return ProtoTLS
	case "http":
		return ProtoHTTP
	case "modbus":
		return ProtoModbus
	case "dnp3":
		return ProtoDNP3
	case "s7comm":
		return ProtoS7comm
	case "s7comm_plus":
		return ProtoS7commPlus
	case "cotp":
		return ProtoCOTP
	case "enip":
		return ProtoENIP
	case "cip":
		return ProtoCIP
	case "bacnet":
		return ProtoBACnet
	case "iec104":
		return ProtoIEC104
	case "opcua":
		return ProtoOPCUA
	case "goose":
		return ProtoGOOSE
	case "profinet", "pn_io_cm", "sv", "mms", "fins", "hartip", "synphasor":
		return ProtoIndustrial
	}
	return ProtoOther
}

// Industrial reports whether p is an industrial control protocol.
func (p Proto) Industrial() bool { return p >= ProtoModbus }

// Proto returns the Proto of op's protocol. For the operation being
// dispatched it is the one the Detector looked up for every engine.
func (d *Detector) Proto(op *dissect.Operation) Proto {
	if op == d.inOp {
		return d.proto
	}
	return ProtoOf(op.Protocol)
}

// protoOf is ProtoOf for the operation about to be dispatched. Dissectors
// name protocols with constant strings, so that the name is most often the
// previous operation's, at the same address: then the answer is too.
func (d *Detector) protoOf(protocol string) Proto {
	if len(protocol) != len(d.protoName) || unsafe.StringData(protocol) != unsafe.StringData(d.protoName) {
		d.protoName, d.protoLast = protocol, ProtoOf(protocol)
	}
	return d.protoLast
}

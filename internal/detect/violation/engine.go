package violation

import (
	"strconv"
	"strings"
	"time"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

func init() { detect.Register("violation", newEngine, types...) }

// Malformed reasons and result texts of the dissectors that select an
// alert type other than the protocol's malformed one. They are the
// dissectors' constant strings (their packages keep them unexported).
const (
	modbusReasonFunction  = "invalid function code"           // modbus: function code 0 or 128-255 in a request
	modbusIllegalFunction = "illegal_function"                // modbus: exception 01
	dnp3ReservedResponse  = "reserved response function code" // dnp3: a reserved code from the outstation
	dnp3ReservedLink      = "reserved link function code"     // dnp3: link control with an undefined function
	dnp3NoFuncSupport     = "no_func_code_support"            // dnp3: IIN2.0
	bacnetReservedAPDU    = "reserved apdu type"              // bacnet: APDU type 8-15
	iec104ReservedType    = "reserved type identification"    // iec104: type id the standard reserves
	iec104SeqGap          = "sequence gap"                    // iec104: reason prefixes of sequence errors
	iec104SeqRepeat       = "sequence repeat"
	iec104AckBeyond       = "acknowledgement beyond sent"
)

// DNP3 application functions that IEEE 1815-2012 declares obsolete or
// deprecated.
const (
	dnp3InitializeData    = "initialize_data"
	dnp3SaveConfiguration = "save_configuration"
)

// Bounds of the engine's state.
const (
	// maxFlows bounds the flows the engine remembers; past it one is
	// forgotten for each new one.
	maxFlows = 8192
	// maxPending bounds the flows with responses without request waiting
	// for their verdict.
	maxPending = 256
)

// Grace periods before a response without request is judged: the longest
// a dissector may take to report a request it gave up on (Modbus: 30 s
// pairing window; DNP3: 2 minutes), plus a margin.
const (
	modbusGrace = 40 * time.Second
	dnp3Grace   = 130 * time.Second
)

// Keys: the kind of violation, so that a sweep of function codes is one
// alert whose count grows and whose detail names the first code.
const (
	keyModbusZero       = "modbus function code 0"
	keyModbusUndefined  = "modbus undefined function code"
	keyModbusRejected   = "modbus function rejected with exception 01"
	keyModbusException  = "modbus exception code sent by the master"
	keyModbusReserved   = "modbus reserved function code"
	keyDNP3Reserved     = "dnp3 reserved function code"
	keyDNP3ReservedResp = "dnp3 reserved response function code"
	keyDNP3ReservedLink = "dnp3 reserved link function code"
	keyDNP3NotSupported = "dnp3 function code not supported"
	keyIEC104Reserved   = "iec104 reserved type identification"
	keyBACnetReserved   = "bacnet reserved apdu type"
	keyModbusOrphan     = "modbus response without request"
	keyDNP3Orphan       = "dnp3 response without request"
)

// Precomputed texts, so that a finding formats nothing per message.
var (
	fcDetail  [256]string // "function code N"
	dnp3Key   [256]string // "dnp3 fc=N"
	typDetail [256]string // "type identification N"
	decimal   [256]string
)

func init() {
	for i := range 256 {
		n := strconv.Itoa(i)
		decimal[i] = n
		fcDetail[i] = "function code " + n
		dnp3Key[i] = "dnp3 fc=" + n
		typDetail[i] = "type identification " + n
	}
}

// engine is the violation engine's state in one Detector.
type engine struct {
	// flows holds the flows on which a request and its response were
	// matched (a response without request there is not an artefact of a
	// capture that started mid-connection) or a request went unanswered.
	flows map[uint64]flowState
	// paired is set in a conversation once its flow is known to be
	// paired, so that its next requests and responses skip the lookup.
	paired detect.ConvSlot[bool]
	// d is the engine's Detector, told when a flow is forgotten: the
	// engine was quiet on its paired operations (detect.Detector.Quiet).
	d *detect.Detector
	// pending lists the flows with responses without request awaiting
	// their verdict.
	pending []uint64
}

// flowState is what the engine knows of one flow. Every response
// answers a request: a response without request is reported only when
// more of them arrived than requests went unanswered around them (a
// master that reuses transaction ids or sequence numbers makes the
// dissector give up on requests whose responses then arrive alone).
type flowState struct {
	paired      bool      // a request and its response were matched
	unanswered  uint32    // requests given up on since lastUnans - grace
	lastUnans   time.Time // time of the last request given up on
	orphans     uint32    // responses without request awaiting a verdict
	firstOrphan time.Time
	op          *dissect.Operation // the first of them (a copy)
}

func newEngine(d *detect.Detector) detect.Engine {
	return &engine{flows: make(map[uint64]flowState, 256), paired: detect.NewConvSlot[bool](d), d: d}
}

// Engine implements detect.Engine.
func (e *engine) Engine() alert.Engine { return alert.Protocol }

// finding is what the engine decides about one operation.
type finding struct {
	t          *alert.Type
	key        string
	detail     string
	fc         int  // function code named in the details, -1 for none
	fromServer bool // the violating message came from the operation's server
}

// An operation that violates nothing has the zero finding (t nil):
// classifiers return finding{}, which costs nothing to make, on their
// common path.

// Operation implements detect.OperationHandler.
func (e *engine) Operation(d *detect.Detector, op *dissect.Operation) {
	var f finding
	switch d.Proto(op) {
	case detect.ProtoModbus:
		if op.Request && op.Response && op.Result.Status == dissect.StatusOK &&
			op.FunctionName != "reserved" && op.FunctionName != "unknown" {
			// The bulk of Modbus traffic, as modbus would judge it: once
			// the flow is paired, operations like this one change nothing
			// until the flow is forgotten.
			e.pair(op)
			d.Quiet()
			return
		}
		f = e.modbus(op)
	case detect.ProtoDNP3:
		f = e.dnp3(op)
	case detect.ProtoS7comm, detect.ProtoS7commPlus, detect.ProtoCOTP:
		f = malformed(op, S7Malformed)
	case detect.ProtoENIP, detect.ProtoCIP:
		f = malformed(op, ENIPMalformed)
	case detect.ProtoBACnet:
		f = bacnet(op)
	case detect.ProtoIEC104:
		f = iec104(op)
	case detect.ProtoService:
		f = portZero(op)
	default:
		return
	}
	if f.t == nil {
		return
	}
	src, dst := detect.Party(op.Client), detect.Party(op.Server)
	if f.fromServer {
		src, dst = dst, src
	}
	proto := op.Protocol
	if f.t == PortZero {
		proto = op.Transport
	}
	var details []dissect.Attr
	if f.fc >= 0 {
		details = []dissect.Attr{{Key: "function_code", Value: decimal[f.fc&0xff]}}
	}
	d.Raise(detect.Finding{Type: f.t, Protocol: proto, Source: src, Destination: dst, Key: f.key, Detail: f.detail, Details: details, Op: op})
}

// Tick implements detect.Ticker: responses without request whose grace
// period is over are judged.
func (e *engine) Tick(d *detect.Detector, final bool) {
	if len(e.pending) == 0 {
		return
	}
	now := d.Now()
	keep := e.pending[:0]
	for _, id := range e.pending {
		st, ok := e.flows[id]
		if !ok || st.op == nil {
			continue
		}
		grace := modbusGrace
		if st.op.Protocol == "dnp3" {
			grace = dnp3Grace
		}
		if !final && now.Sub(st.firstOrphan) < grace {
			keep = append(keep, id)
			continue
		}
		unanswered := st.unanswered
		if st.lastUnans.Before(st.firstOrphan.Add(-grace)) {
			unanswered = 0
		}
		if st.orphans > unanswered {
			e.raiseOrphans(d, st.op, st.firstOrphan, st.orphans-unanswered)
			st.unanswered = 0
		} else {
			st.unanswered -= st.orphans
		}
		st.orphans, st.op = 0, nil
		e.flows[id] = st
	}
	clear(e.pending[len(keep):])
	e.pending = keep
}

// raiseOrphans reports n responses without request like op.
func (e *engine) raiseOrphans(d *detect.Detector, op *dissect.Operation, at time.Time, n uint32) {
	key, detail := keyModbusOrphan, fcDetail[op.FunctionCode&0xff]
	if op.Protocol == "dnp3" {
		key, detail = keyDNP3Orphan, "response with an application sequence number that was not requested"
	}
	f := detect.Finding{Type: ResponseWithoutRequest, Time: at, Protocol: op.Protocol,
		Source: detect.Party(op.Server), Destination: detect.Party(op.Client), Key: key, Detail: detail, Op: op}
	for range n {
		d.Raise(f)
	}
}

// fromServer reports whether op carries only the server's message.
func fromServer(op *dissect.Operation) bool { return op.Response && !op.Request }

// malformed returns a finding of type t for a malformed op, keyed by the
// dissector's reason.
func malformed(op *dissect.Operation, t *alert.Type) finding {
	if op.Result.Status != dissect.StatusMalformed {
		return finding{}
	}
	return finding{t: t, key: op.Result.Text, detail: op.Result.Text, fc: -1, fromServer: fromServer(op)}
}

// fcFinding returns a finding about function code fc of a request.
func fcFinding(t *alert.Type, key string, fc int) finding {
	return finding{t: t, key: key, detail: fcDetail[fc&0xff], fc: fc}
}

// modbus classifies a Modbus operation.
func (e *engine) modbus(op *dissect.Operation) finding {
	fc := op.FunctionCode & 0xff
	switch {
	case op.Result.Status == dissect.StatusMalformed && op.Result.Text == modbusReasonFunction && op.Request:
		if fc&0x80 != 0 {
			return fcFinding(ModbusMasterException, keyModbusException, fc)
		}
		return fcFinding(ModbusIllegalFunction, keyModbusZero, fc)
	case op.Result.Status == dissect.StatusMalformed:
		return malformed(op, ModbusMalformed)
	case !op.Request:
		// A response alone. An exception is what a request with an
		// invalid function code gets back, and the dissector cannot pair
		// it: only data responses count.
		if op.Response && op.Result.Status == dissect.StatusOK {
			e.orphan(op)
		}
		return finding{}
	case op.FunctionName == "reserved":
		return fcFinding(ReservedFunction, keyModbusReserved, fc)
	case op.FunctionName == "unknown" && fc < 128:
		return fcFinding(ModbusIllegalFunction, keyModbusUndefined, fc)
	case op.Result.Status == dissect.StatusError && op.Result.Text == modbusIllegalFunction && op.FunctionName != "user_defined":
		f := fcFinding(ModbusIllegalFunction, keyModbusRejected, fc)
		f.detail += " (" + op.FunctionName + "), rejected with exception 01"
		return f
	case !op.Response:
		if op.Result.Status == dissect.StatusUnknown {
			e.unanswered(op)
		}
		return finding{}
	}
	e.pair(op)
	return finding{}
}

// dnp3 classifies a DNP3 operation.
func (e *engine) dnp3(op *dissect.Operation) finding {
	fc := op.FunctionCode & 0xff
	switch {
	case op.Result.Status == dissect.StatusMalformed:
		switch op.Result.Text {
		case dnp3ReservedResponse:
			f := fcFinding(ReservedFunction, keyDNP3ReservedResp, fc)
			f.fromServer = true
			return f
		case dnp3ReservedLink:
			f := fcFinding(ReservedFunction, keyDNP3ReservedLink, fc&0x0f)
			f.detail, f.fromServer = "link "+f.detail, fromServer(op)
			return f
		}
		return malformed(op, DNP3Malformed)
	case isLowerLayer(op):
		return finding{}
	case op.Request && (op.FunctionName == dnp3InitializeData || op.FunctionName == dnp3SaveConfiguration):
		f := fcFinding(DNP3IllegalFunction, dnp3Key[fc], fc)
		f.detail = op.FunctionName + " (" + decimal[fc] + ")"
		return f
	case op.Request && op.FunctionName == "reserved":
		return fcFinding(ReservedFunction, keyDNP3Reserved, fc)
	case op.Request && op.Response && op.Result.Status == dissect.StatusError && op.Result.Text == dnp3NoFuncSupport:
		f := fcFinding(DNP3FunctionNotSupported, keyDNP3NotSupported, fc)
		f.detail = op.FunctionName + " (" + decimal[fc] + ")"
		return f
	case !op.Response:
		if op.Request && op.Result.Status == dissect.StatusUnknown && dnp3Answered(fc) {
			e.unanswered(op)
		}
		return finding{}
	}
	if bits := reservedIIN(op); bits != "" {
		return finding{t: DNP3ReservedIIN, key: bits, detail: bits, fc: -1, fromServer: true}
	}
	switch {
	case op.Request:
		e.pair(op)
	case fc == dnp3Response:
		e.orphan(op)
	}
	return finding{}
}

// dnp3Response is the DNP3 function code of a solicited response.
const dnp3Response = 129

// dnp3Answered reports whether the outstation answers DNP3 request fc
// (IEEE 1815-2012 4.2.2.5: confirm, the no-ack variants and
// authenticate_err get no response).
func dnp3Answered(fc int) bool {
	switch fc {
	case 0, 6, 8, 10, 12, 33:
		return false
	}
	return true
}

// isLowerLayer reports whether a DNP3 operation is about the link layer
// or the transport function (its function code is not an application
// function).
func isLowerLayer(op *dissect.Operation) bool {
	for i := range op.Attrs {
		if op.Attrs[i].Key == "layer" {
			return true
		}
	}
	return false
}

// reservedIIN returns the reserved IIN bits a DNP3 response sets, or "".
// The dissector names IIN2.6 "reserved_2" and IIN2.7 "reserved_1", as
// Wireshark does.
func reservedIIN(op *dissect.Operation) string {
	var r1, r2 bool
	for i := range op.Attrs {
		if op.Attrs[i].Key != "iin" {
			continue
		}
		switch op.Attrs[i].Value {
		case "reserved_1":
			r1 = true
		case "reserved_2":
			r2 = true
		}
	}
	switch {
	case r1 && r2:
		return "IIN2.6 and IIN2.7"
	case r2:
		return "IIN2.6"
	case r1:
		return "IIN2.7"
	}
	return ""
}

// bacnet classifies a BACnet operation.
func bacnet(op *dissect.Operation) finding {
	if op.Result.Status == dissect.StatusMalformed && op.Result.Text == bacnetReservedAPDU {
		return finding{t: ReservedFunction, key: keyBACnetReserved, detail: "APDU type 8-15", fc: -1, fromServer: fromServer(op)}
	}
	return malformed(op, BACnetMalformed)
}

// iec104 classifies an IEC 60870-5-104 operation.
func iec104(op *dissect.Operation) finding {
	if op.Result.Status != dissect.StatusMalformed {
		return finding{}
	}
	text := op.Result.Text
	seq := func(key string) finding {
		return finding{t: IEC104SequenceError, key: key, detail: text, fc: -1, fromServer: fromServer(op)}
	}
	switch {
	case text == iec104ReservedType:
		fc := op.FunctionCode & 0xff
		return finding{t: ReservedFunction, key: keyIEC104Reserved, detail: typDetail[fc], fc: fc, fromServer: fromServer(op)}
	case strings.HasPrefix(text, iec104SeqGap):
		return seq(iec104SeqGap)
	case strings.HasPrefix(text, iec104SeqRepeat):
		return seq(iec104SeqRepeat)
	case strings.HasPrefix(text, iec104AckBeyond):
		return seq(iec104AckBeyond)
	}
	return malformed(op, IEC104Malformed)
}

// portZero raises on a flow to or from port 0.
func portZero(op *dissect.Operation) finding {
	switch {
	case op.Server.Port == 0:
		return finding{t: PortZero, key: "destination port 0", detail: "destination port 0", fc: -1}
	case op.Client.Port == 0:
		return finding{t: PortZero, key: "source port 0", detail: "source port 0", fc: -1}
	}
	return finding{}
}

// flow returns the flow of op's first packet (0 when op has none).
func flow(op *dissect.Operation) uint64 {
	if len(op.Packets) == 0 {
		return 0
	}
	return op.Packets[0].Flow
}

// state returns the state of op's flow, adding it (evicting one without
// pending responses when full); ok is false for an operation without
// packets.
func (e *engine) state(op *dissect.Operation) (id uint64, st flowState, ok bool) {
	id = flow(op)
	if id == 0 {
		return 0, flowState{}, false
	}
	if st, ok := e.flows[id]; ok {
		return id, st, true
	}
	if len(e.flows) >= maxFlows {
		for k, st := range e.flows {
			if st.op == nil {
				delete(e.flows, k)
				e.paired.Invalidate()
				e.d.Unquiet()
				break
			}
		}
	}
	return id, flowState{}, true
}

// pair records that op's flow had a request paired with its response.
func (e *engine) pair(op *dissect.Operation) {
	if paired, _ := e.paired.Get(); !paired {
		e.pairFlow(op)
	}
}

// pairFlow is pair for a conversation not known to be paired yet.
func (e *engine) pairFlow(op *dissect.Operation) {
	id, st, ok := e.state(op)
	if !ok {
		return
	}
	if !st.paired {
		st.paired = true
		e.flows[id] = st
	}
	e.paired.Set(true)
}

// unanswered counts a request that the dissector gave up on.
func (e *engine) unanswered(op *dissect.Operation) {
	id, st, ok := e.state(op)
	if !ok {
		return
	}
	grace := modbusGrace
	if op.Protocol == "dnp3" {
		grace = dnp3Grace
	}
	if op.Time.Sub(st.lastUnans) > grace {
		st.unanswered = 0
	}
	st.unanswered++
	if op.Time.After(st.lastUnans) {
		st.lastUnans = op.Time
	}
	e.flows[id] = st
}

// orphan holds a response without request on a paired flow for its
// verdict.
func (e *engine) orphan(op *dissect.Operation) {
	id := flow(op)
	st, ok := e.flows[id]
	if !ok || !st.paired {
		return
	}
	if st.op == nil {
		if len(e.pending) >= maxPending {
			return
		}
		st.op, st.firstOrphan = op.Clone(), op.Time
		e.pending = append(e.pending, id)
	}
	st.orphans++
	e.flows[id] = st
}

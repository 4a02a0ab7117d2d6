package anomaly

import (
	"strconv"
	"strings"

	"github.com/otwatch/otwatch/internal/alert"
	"github.com/otwatch/otwatch/internal/baseline"
	"github.com/otwatch/otwatch/internal/detect"
	"github.com/otwatch/otwatch/internal/dissect"
)

// GOOSESpoofing is a GOOSE message for a known control block that breaks
// the block's state sequence (IEC 61850-8-1 clause 18.1: stNum grows by
// one per state change) or comes from another publisher.
var GOOSESpoofing = &alert.Type{
	ID: "goose.stnum_jump", Engine: alert.Anomaly, Name: "GOOSE state number jump or publisher change",
	Title:       "GOOSE control block {detail}",
	Description: "A GOOSE message for a control block that {src} published broke the block's state sequence: {detail}. Protection relays act on the newest state number they see, so an injected message with a higher stNum overrides the real relay's trip or interlock signal: the attack shown against IEC 61850 substations.",
	Severity:    alert.High, Category: "Abnormal communication", Protocol: "goose",
	Techniques: []string{"T0856", "T0830", "T0855"},
	Remediation: []string{
		"Find the port the publisher {src} is connected to and disconnect it if it is not the relay that owns the control block.",
		"Check the state of the breakers and interlocks the block's dataset controls.",
		"Restrict which ports may publish on the process bus (VLANs, port security) and consider IEC 62351-6 GOOSE authentication.",
	},
}

// OPCUAUnknownWrite is an OPC UA Write from a client the baseline does not
// know.
var OPCUAUnknownWrite = &alert.Type{
	ID: "opcua.unknown_client_write", Engine: alert.Anomaly, Name: "OPC UA write from an unknown client",
	Title:       "Unknown client {src} wrote to OPC UA server {dst}",
	Description: "{src}, a host the sensor did not see while it learned, opened a session to OPC UA server {dst} and wrote {detail}. Writes change setpoints and parameters of the process the server exposes.",
	Severity:    alert.High, Category: "Unauthorized access", Protocol: "opcua",
	Techniques: []string{"T0855", "T0836"},
	Remediation: []string{
		"Identify {src} and the person who used it; check the values written on {dst} and restore them.",
		"Require signed and encrypted sessions with user authentication on the OPC UA server; disable anonymous access.",
		"Allow only the known OPC UA clients to reach the server.",
	},
	Learnable: true,
}

// gooseBlock is what the engine knows of one control block.
type gooseBlock struct {
	publisher dissect.MAC
	stNum     uint64
}

// maxGOOSEBlocks bounds the control blocks tracked.
const maxGOOSEBlocks = 4096

// goose learns each control block's publisher and follows its state
// number.
func (e *engine) goose(d *detect.Detector, op *dissect.Operation) {
	ref := op.Attr("gocbRef")
	st, err := strconv.ParseUint(op.Attr("stNum"), 10, 32)
	if ref == "" || err != nil {
		return
	}
	b, ok := e.gooseBlocks[ref]
	if !ok {
		if e.gooseBlocks == nil {
			e.gooseBlocks = map[string]*gooseBlock{}
		}
		if !e.learningOp(d, op) || len(e.gooseBlocks) >= maxGOOSEBlocks {
			return // a block first seen after learning has no reference
		}
		e.gooseBlocks[strings.Clone(ref)] = &gooseBlock{publisher: op.Client.MAC, stNum: st}
		return
	}
	var detail string
	switch {
	case op.Client.MAC != b.publisher:
		detail = ref + " published by " + op.Client.MAC.String() + " instead of " + b.publisher.String() +
			" (stNum " + strconv.FormatUint(b.stNum, 10) + " → " + strconv.FormatUint(st, 10) + ")"
	case st > b.stNum+1:
		detail = ref + " stNum jumped from " + strconv.FormatUint(b.stNum, 10) + " to " + strconv.FormatUint(st, 10)
	}
	if op.Client.MAC == b.publisher {
		b.stNum = st
	}
	if detail == "" || e.learningOp(d, op) {
		return
	}
	src := detect.Party(op.Client)
	src.IP = d.AddrOf(op.Client.MAC) // the publisher's IP, if it has one
	d.Raise(detect.Finding{Type: GOOSESpoofing, Protocol: "goose", Source: src,
		Destination: detect.Party(op.Server), Key: ref, Detail: detail, Op: op})
}

// opcuaWrite raises writes from clients outside the baseline.
func (e *engine) opcuaWrite(d *detect.Detector, op *dissect.Operation) {
	if op.Class != dissect.ClassWrite || !op.Request || e.learningOp(d, op) {
		return
	}
	if d.Baseline().Has(baseline.Entry{Kind: baseline.KindDevice, Client: op.Client.IP}) {
		return
	}
	what := "a value"
	if len(op.Targets) > 0 && op.Targets[0].Name != "" {
		what = op.Targets[0].Name
	}
	d.Raise(detect.Finding{Type: OPCUAUnknownWrite, Protocol: "opcua", Source: detect.Party(op.Client),
		Destination: detect.Party(op.Server), Detail: what, Op: op})
}

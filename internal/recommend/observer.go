package recommend

import (
	"net/netip"
	"slices"
	"time"

	"github.com/otwatch/otwatch/internal/dissect"
	"github.com/otwatch/otwatch/internal/inventory"
)

// Fact keys an Observer adds to the devices of a snapshot (see Annotate).
const (
	// FactSNMPVersion is an SNMP version an agent was reached with: "v1",
	// "v2c" or "v3".
	FactSNMPVersion = "snmp_version"
	// FactCleartextCredentials is a protocol over which a password was
	// sent to the device in clear ("telnet", "ftp", "http", ...). SNMP
	// community strings count under FactSNMPVersion instead.
	FactCleartextCredentials = "cleartext_credentials"
	// FactPLCMode is an operating mode a controller was put in or
	// reported: "run", "stop", "program", "monitor" or "debug".
	FactPLCMode = "plc_mode"
)

// An Observer collects from operations what recommendations need and the
// inventory does not keep: the SNMP versions agents answer, the protocols
// passwords travel over in clear, and the operating modes controllers are
// put in (S7comm PLC STOP and start services and mode transitions, FINS
// RUN and STOP commands and controller status). Feed it every operation
// (it is a dissect.Emitter) from the pipeline's goroutine; it is not safe
// for concurrent use.
type Observer struct {
	byAddr map[netip.Addr][]seenFact
}

// seenFact is one key and value seen for an address.
type seenFact struct {
	key, value, source string
	first, last        time.Time
}

// NewObserver returns an empty Observer.
func NewObserver() *Observer { return &Observer{byAddr: map[netip.Addr][]seenFact{}} }

// Emit implements dissect.Emitter. It does not keep op.
func (o *Observer) Emit(op *dissect.Operation) {
	if op.Result.Status == dissect.StatusError || op.Result.Status == dissect.StatusMalformed {
		return
	}
	switch op.Protocol {
	case "snmp":
		agent := op.Server
		if op.Server.Port == 162 { // a notification: the agent is the sender
			agent = op.Client
		}
		if v := op.Attr("version"); v != "" {
			o.record(agent.IP, FactSNMPVersion, v, op)
		}
		return
	case "s7comm":
		switch op.Attr("plc_state") {
		case "stop":
			o.record(op.Server.IP, FactPLCMode, "stop", op)
		case "run", "run_r", "warm_restart", "hot_restart", "cold_restart":
			o.record(op.Server.IP, FactPLCMode, "run", op)
		}
	case "fins":
		switch op.Attr("plc_mode") {
		case "stop":
			o.record(op.Server.IP, FactPLCMode, "program", op) // FINS STOP puts the PLC in PROGRAM mode
		case "run":
			if m := op.Attr("run_mode"); m != "" {
				o.record(op.Server.IP, FactPLCMode, m, op)
			}
		}
		if m := op.Attr("mode"); m != "" && op.Response {
			o.record(op.Server.IP, FactPLCMode, m, op)
		}
	}
	if op.Attr("cleartext_credentials") == "true" {
		o.record(op.Server.IP, FactCleartextCredentials, op.Protocol, op)
	}
}

// record notes that key had value for address a at op's time.
func (o *Observer) record(a netip.Addr, key, value string, op *dissect.Operation) {
	if !a.IsValid() {
		return
	}
	fs := o.byAddr[a]
	for i := range fs {
		f := &fs[i]
		if f.key == key && f.value == value {
			if op.Time.Before(f.first) {
				f.first = op.Time
			}
			if op.Time.After(f.last) {
				f.last = op.Time
			}
			return
		}
	}
	src := op.Protocol
	if op.FunctionName != "" {
		src += "." + op.FunctionName
	}
	o.byAddr[a] = append(fs, seenFact{key: key, value: value, source: src, first: op.Time, last: op.Time})
}

// Annotate adds what the Observer saw to the devices of snap as facts
// (FactSNMPVersion, FactCleartextCredentials, FactPLCMode), each on the
// device that holds the address. For each key, the value seen last is
// Best. Facts already present are not added twice.
func (o *Observer) Annotate(snap *inventory.Snapshot) {
	if o == nil || snap == nil {
		return
	}
	for i := range snap.Devices {
		d := &snap.Devices[i]
		added := false
		for _, s := range d.IPs {
			a, err := netip.ParseAddr(s)
			if err != nil {
				continue
			}
			for _, f := range o.byAddr[a] {
				if slices.ContainsFunc(d.Facts, func(x inventory.Fact) bool {
					return x.Key == f.key && x.Value == f.value && x.Source == f.source
				}) {
					continue
				}
				d.Facts = append(d.Facts, inventory.Fact{Key: f.key, Value: f.value, Source: f.source, First: f.first, Last: f.last})
				added = true
			}
		}
		if !added {
			continue
		}
		for _, key := range []string{FactSNMPVersion, FactCleartextCredentials, FactPLCMode} {
			best := -1
			for j, f := range d.Facts {
				if f.Key == key && (best < 0 || f.Last.After(d.Facts[best].Last)) {
					best = j
				}
			}
			for j := range d.Facts {
				if d.Facts[j].Key == key {
					d.Facts[j].Best = j == best
				}
			}
		}
	}
}
